//! The Registry docs under docs/ are generated from the provider's schema, the templates in
//! src/docs/templates/ and examples/: the committed files must be what the generator makes,
//! and `gen-docs --check` must fail, naming the files, when they are not.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::repo_root;
use support::sim_launcher::guard;
use terraform_provider_gitlab::docs;
use terraform_provider_gitlab::framework::schema::{Attribute, Schema};

#[test]
fn committed_docs_are_the_generated_ones() {
    let root = repo_root();
    let pages = docs::generate(&root).unwrap_or_else(|e| panic!("gen-docs: {e}"));
    let drift = docs::check(&root, &pages).expect("check");
    assert!(
        drift.is_empty(),
        "docs/ differs from the generated docs; run `cargo run --bin gen-docs` and commit:\n{}",
        drift
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let paths: Vec<String> = pages.iter().map(|p| p.path.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "docs/index.md",
            "docs/resources/group_cluster.md",
            "docs/resources/instance_cluster.md",
            "docs/resources/project_cluster.md",
            "docs/data-sources/group_cluster.md",
            "docs/data-sources/group_clusters.md",
            "docs/data-sources/instance_cluster.md",
            "docs/data-sources/instance_clusters.md",
            "docs/data-sources/project_cluster.md",
            "docs/data-sources/project_clusters.md",
            "docs/guides/testing-modules-offline.md",
        ]
    );
}

/// The generated page at `path`, which must exist.
fn page(pages: &[docs::Page], path: &str) -> String {
    pages
        .iter()
        .find(|x| x.path == Path::new(path))
        .map(|x| x.content.clone())
        .unwrap_or_else(|| panic!("no page {path}"))
}

/// The line documenting `a` in `page`, which must exist.
fn line_of<'p>(page: &'p str, a: &Attribute, section: &str) -> &'p str {
    let marker = format!("- `{}` (", a.name);
    page[page
        .find(section)
        .unwrap_or_else(|| panic!("no {section:?}"))..]
        .lines()
        .find(|l| l.starts_with(&marker))
        .unwrap_or_else(|| panic!("`{}` is not documented after {section:?}", a.name))
}

fn assert_documented(page: &str, schema: &Schema, section: &str) {
    for a in &schema.attributes {
        let line = line_of(page, a, section);
        let description = a
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains(&description), "{line}");
        assert_eq!(line.contains(", Sensitive"), a.sensitive, "{line}");
        assert_eq!(line.contains("Forces replacement"), a.force_new, "{line}");
        if a.default.is_some() {
            assert!(line.contains("Defaults to `"), "{line}");
        }
        for v in &a.validators {
            assert!(line.contains(&v.description()), "{line}");
        }
        if !a.nested.is_empty() {
            let nested = format!("### Nested Schema for `{}`", a.name);
            assert_documented(page, &Schema::new("", a.nested.clone()), &nested);
        }
    }
}

#[test]
fn every_attribute_is_documented_with_its_behaviour() {
    let root = repo_root();
    let schemas = docs::provider_schemas();
    let pages = docs::generate(&root).expect("generate");
    let page = |p: &str| page(&pages, p);
    assert_documented(&page("docs/index.md"), &schemas.provider, "## Schema");
    assert_documented(
        &page("docs/resources/group_cluster.md"),
        &schemas.resources["gitlab_group_cluster"],
        "## Schema",
    );
    for name in ["group_cluster", "group_clusters"] {
        assert_documented(
            &page(&format!("docs/data-sources/{name}.md")),
            &schemas.data_sources[&format!("gitlab_{name}")],
            "## Schema",
        );
    }
    let resource = page("docs/resources/group_cluster.md");
    let token = schemas.resources["gitlab_group_cluster"]
        .attribute("kubernetes_token")
        .expect("kubernetes_token");
    let token = line_of(&resource, token, "### Required");
    assert!(
        token.starts_with("- `kubernetes_token` (String, Sensitive)"),
        "{token}"
    );
    assert!(resource.contains("- `kubernetes_authorization_type` (String, Forces replacement)"));
    assert!(resource.contains(
        "Defaults to `\"rbac\"`. Validation: One of `rbac`, `abac`, `unknown_authorization`."
    ));
}

#[test]
fn pages_carry_the_examples_and_the_hand_written_guides() {
    let root = repo_root();
    let pages = docs::generate(&root).expect("generate");
    let text = |p: &str| page(&pages, p);
    let example =
        |p: &str| std::fs::read_to_string(root.join("examples").join(p)).expect("example");
    let index = text("docs/index.md");
    assert!(
        index.starts_with("---\npage_title: \"gitlab Provider\"\n"),
        "{index}"
    );
    assert!(index.contains(example("provider/provider.tf").trim_end()));
    assert!(index.contains(
        "terraform state replace-provider registry.terraform.io/gitlabhq/gitlab registry.terraform.io/gitlab-rs/gitlab"
    ));
    for needle in [
        "GITLAB_TOKEN",
        "GITLAB_BASE_URL",
        "Maintainer",
        "`api` scope",
        "cacert_file",
        "retries",
    ] {
        assert!(index.contains(needle), "index.md lacks {needle}");
    }
    let resource = text("docs/resources/group_cluster.md");
    assert!(resource.contains(example("resources/gitlab_group_cluster/resource.tf").trim_end()));
    assert!(resource.contains(&format!(
        "```shell\n{}\n```",
        example("resources/gitlab_group_cluster/import.sh").trim_end()
    )));
    assert!(resource.contains("trailing newline"));
    for (page, ex) in [
        (
            "docs/data-sources/group_cluster.md",
            "data-sources/gitlab_group_cluster/data-source.tf",
        ),
        (
            "docs/data-sources/group_clusters.md",
            "data-sources/gitlab_group_clusters/data-source.tf",
        ),
    ] {
        assert!(text(page).contains(example(ex).trim_end()), "{page}");
    }
}

/// Copies what the generator reads and writes into a scratch root.
fn scratch_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read_dir") {
            let e = e.expect("entry");
            let target = to.join(e.file_name());
            if e.file_type().expect("type").is_dir() {
                copy_tree(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), &target).expect("copy");
            }
        }
    }
    let root = repo_root();
    for d in ["docs", "examples", "src/docs/templates"] {
        copy_tree(&root.join(d), &dir.path().join(d));
    }
    dir
}

fn gen_docs(root: &Path, check: bool) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gen-docs"));
    cmd.arg("--root").arg(root);
    if check {
        cmd.arg("--check");
    }
    let out = guard::output(cmd, Duration::from_secs(120), "gen-docs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn gen_docs_check_lists_drifted_files_and_a_run_repairs_them() {
    let scratch = scratch_root();
    let root = scratch.path();
    let (code, stdout, stderr) = gen_docs(root, true);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let page = root.join("docs/resources/group_cluster.md");
    let edited = std::fs::read_to_string(&page)
        .expect("page")
        .replace("Forces replacement", "Forces nothing");
    std::fs::write(&page, edited).expect("edit");
    std::fs::remove_file(root.join("docs/index.md")).expect("remove");
    std::fs::write(root.join("docs/data-sources/old_thing.md"), "# gone\n").expect("stale");
    let (code, _, stderr) = gen_docs(root, true);
    assert_eq!(code, 1, "{stderr}");
    for needle in [
        "docs/resources/group_cluster.md: differs from the generated text at line",
        "docs/index.md: missing",
        "docs/data-sources/old_thing.md: stale",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
    }

    // A change to an example reaches the docs only through the generator.
    let example = root.join("examples/data-sources/gitlab_group_clusters/data-source.tf");
    let mut text = std::fs::read_to_string(&example).expect("example");
    text.push_str("\n# one more line\n");
    std::fs::write(&example, text).expect("edit example");

    let (code, stdout, stderr) = gen_docs(root, false);
    assert_eq!(code, 0, "{stderr}");
    for p in [
        "docs/index.md",
        "docs/resources/group_cluster.md",
        "docs/data-sources/group_clusters.md",
        "docs/data-sources/old_thing.md",
    ] {
        assert!(
            stdout.contains(&format!("updated {p}")),
            "{p} not in:\n{stdout}"
        );
    }
    assert!(!root.join("docs/data-sources/old_thing.md").exists());
    assert!(
        std::fs::read_to_string(root.join("docs/data-sources/group_clusters.md"))
            .expect("page")
            .contains("# one more line")
    );
    assert_eq!(gen_docs(root, true).0, 0);
}

#[test]
fn a_template_typo_or_a_missing_template_fails_generation() {
    let scratch = scratch_root();
    let root = scratch.path();
    let t = root.join("src/docs/templates/data-sources/group_cluster.md");
    let text = std::fs::read_to_string(&t).expect("template");
    std::fs::write(
        &t,
        text.replace("{{ .SchemaMarkdown }}", "{{ .SchemaMarkdwn }}"),
    )
    .expect("edit");
    let (code, _, stderr) = gen_docs(root, true);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown directive {{ .SchemaMarkdwn }}"),
        "{stderr}"
    );

    std::fs::remove_file(&t).expect("remove");
    let (code, _, stderr) = gen_docs(root, false);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("src/docs/templates/data-sources/group_cluster.md"),
        "{stderr}"
    );
}
