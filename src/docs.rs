//! Terraform Registry documentation, generated from the schemas the provider serves.
//!
//! Every page under `docs/` is rendered from a template in `src/docs/templates/` (the
//! hand-written prose: guides, migration, import notes) filled with what the provider
//! itself declares: descriptions, required/optional/computed, sensitivity, force-new,
//! defaults, validators, deprecations, nested attributes (the reference tfplugin's
//! `docs::schema_markdown` writes), and the files of `examples/`.
//! Guides (`src/docs/templates/guides/<name>.md` → `docs/guides/<name>.md`) are prose
//! pages with the same directives; their title is their first `# ` heading.
//! `cargo run --bin gen-docs` writes the pages; `--check` reports drift.
//!
//! Templates use a small subset of tfplugindocs' syntax:
//!
//! | directive | replaced by |
//! | --- | --- |
//! | `{{ .Name }}` | the type name (`gitlab_group_cluster`), or `gitlab` for the provider |
//! | `{{ .Description }}` | the schema's description |
//! | `{{ .SchemaMarkdown }}` | the argument and attribute reference |
//! | `{{ .Source }}` | the provider's source address (`gitlab-rs/gitlab`) |
//! | `{{ tffile "examples/…" }}` | that file in a `terraform` code block |
//! | `{{ codefile "shell" "examples/…" }}` | that file in a code block of that language |
//!
//! An unknown directive is an error, so a typo cannot silently reach the Registry.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::framework::schema::{ProviderSchemas, Schema};
use crate::protocol::logging::Redactor;
use crate::resources::PROVIDER_ADDRESS;
use tfplugin::docs::one_line;

/// Where the templates live, relative to the repository root.
pub const TEMPLATE_DIR: &str = "src/docs/templates";
/// Where the pages go, relative to the repository root.
pub const DOCS_DIR: &str = "docs";
/// The schema-backed page directories: one page per resource and data source.
const KINDS: [Kind; 2] = [Kind::Resource, Kind::DataSource];
/// The page directories the generator owns: any other `.md` file in them is stale.
const OWNED: [Kind; 3] = [Kind::Resource, Kind::DataSource, Kind::Guide];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Template { path: PathBuf, message: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One generated file, its path relative to the repository root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub content: String,
}

/// How a committed file differs from the generated one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    /// Generated but not on disk.
    Missing(PathBuf),
    /// On disk with other content; the first differing line (1-based) and both texts of it.
    Differs {
        path: PathBuf,
        line: usize,
        expected: String,
        found: String,
    },
    /// On disk in a generated directory, but nothing generates it any more.
    Stale(PathBuf),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(p) => write!(f, "{}: missing", p.display()),
            Drift::Differs {
                path,
                line,
                expected,
                found,
            } => write!(
                f,
                "{}: differs from the generated text at line {line}\n  generated: {expected:?}\n  committed: {found:?}",
                path.display()
            ),
            Drift::Stale(p) => write!(
                f,
                "{}: stale (no resource or data source generates it)",
                p.display()
            ),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Provider,
    Resource,
    DataSource,
    Guide,
}

impl Kind {
    /// The directory under `docs/` (and under the templates) of this kind's pages.
    fn dir(self) -> &'static str {
        match self {
            Kind::Provider => "",
            Kind::Resource => "resources",
            Kind::DataSource => "data-sources",
            Kind::Guide => "guides",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Kind::Provider => "Provider",
            Kind::Resource => "Resource",
            Kind::DataSource => "Data Source",
            Kind::Guide => "Guide",
        }
    }
}

/// The provider's local name (`gitlab`), the last part of its source address.
pub fn provider_name() -> &'static str {
    PROVIDER_ADDRESS
        .rsplit('/')
        .next()
        .unwrap_or(PROVIDER_ADDRESS)
}

/// The short source address users write in `required_providers` (`gitlab-rs/gitlab`).
pub fn short_source() -> &'static str {
    PROVIDER_ADDRESS
        .split_once('/')
        .map_or(PROVIDER_ADDRESS, |(_, rest)| rest)
}

/// The provider's schemas with their behaviour; Terraform is served their wire form.
pub fn provider_schemas() -> ProviderSchemas {
    crate::provider_stack(Redactor::default())
        .inner()
        .framework_schemas()
        .clone()
}

/// Renders every page from the provider's schemas and the templates and examples under `root`.
pub fn generate(root: &Path) -> Result<Vec<Page>, Error> {
    render(&provider_schemas(), root)
}

/// Renders every page of `schemas`: `docs/index.md`, then one page per resource and data
/// source. Each needs its template; a template without a schema is an error too.
pub fn render(schemas: &ProviderSchemas, root: &Path) -> Result<Vec<Page>, Error> {
    let mut pages = vec![render_page(
        root,
        Kind::Provider,
        provider_name(),
        &schemas.provider,
    )?];
    let index = &pages[0];
    for var in schemas.provider.attributes.iter().flat_map(|a| &a.env) {
        if !index.content.contains(var) {
            return Err(Error::Template {
                path: page_file(TEMPLATE_DIR, Kind::Provider, provider_name()),
                message: format!("the provider reads {var} but the page never mentions it"),
            });
        }
    }
    for kind in KINDS {
        let types = match kind {
            Kind::Resource => &schemas.resources,
            _ => &schemas.data_sources,
        };
        let mut expected = BTreeSet::new();
        for (name, schema) in types {
            expected.insert(format!("{}.md", short_name(name)));
            pages.push(render_page(root, kind, name, schema)?);
        }
        let dir = root.join(TEMPLATE_DIR).join(kind.dir());
        for file in markdown_files(&dir)? {
            if !expected.contains(&file) {
                return Err(Error::Template {
                    path: Path::new(TEMPLATE_DIR).join(kind.dir()).join(&file),
                    message: format!(
                        "no {} of this provider has this name",
                        kind.title().to_lowercase()
                    ),
                });
            }
        }
    }
    let guides = Path::new(TEMPLATE_DIR).join(Kind::Guide.dir());
    for file in markdown_files(&root.join(&guides))? {
        pages.push(render_guide(root, &guides.join(&file), &schemas.provider)?);
    }
    Ok(pages)
}

/// A guide: its template expanded (directives name the provider), titled by its first
/// `# ` heading, described by its first paragraph.
fn render_guide(root: &Path, template: &Path, provider: &Schema) -> Result<Page, Error> {
    let text = std::fs::read_to_string(root.join(template)).map_err(io_error(template))?;
    let body = expand(&text, root, template, provider_name(), provider)?;
    let err = |message: &str| Error::Template {
        path: template.to_path_buf(),
        message: message.to_string(),
    };
    let mut lines = body.trim().lines();
    let title = lines
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .ok_or_else(|| err("a guide must start with its `# ` title"))?
        .trim()
        .to_string();
    let description: Vec<&str> = lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect();
    if description.is_empty() {
        return Err(err("a guide needs a first paragraph after its title"));
    }
    let mut out = String::new();
    out.push_str("---\n");
    let _ = writeln!(out, "page_title: {}", yaml_string(&title));
    out.push_str("subcategory: \"Guides\"\n");
    out.push_str("description: |-\n");
    let _ = writeln!(out, "  {}", one_line(&description.join(" ")));
    out.push_str("---\n\n");
    let _ = writeln!(
        out,
        "<!-- Generated by `cargo run --bin gen-docs` from {}. Edit that, not this file. -->\n",
        template.display()
    );
    out.push_str(body.trim());
    out.push('\n');
    let file = template.file_name().ok_or_else(|| err("no file name"))?;
    Ok(Page {
        path: Path::new(DOCS_DIR).join(Kind::Guide.dir()).join(file),
        content: out,
    })
}

/// `gitlab_group_cluster` → `group_cluster`, the Registry's page name.
fn short_name(type_name: &str) -> &str {
    type_name
        .strip_prefix(provider_name())
        .and_then(|s| s.strip_prefix('_'))
        .unwrap_or(type_name)
}

/// A page's path under `base` (the templates or `docs/`): `index.md` for the provider,
/// `<kind dir>/<short name>.md` otherwise — templates mirror the pages they make.
fn page_file(base: &str, kind: Kind, name: &str) -> PathBuf {
    match kind {
        Kind::Provider => Path::new(base).join("index.md"),
        _ => Path::new(base)
            .join(kind.dir())
            .join(format!("{}.md", short_name(name))),
    }
}

/// The names of the `.md` files directly in `dir` (none when it does not exist).
fn markdown_files(dir: &Path) -> Result<BTreeSet<String>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(io_error(dir)(e)),
    };
    let mut names = BTreeSet::new();
    for entry in entries {
        let name = entry.map_err(io_error(dir))?.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".md") {
            names.insert(name.into_owned());
        }
    }
    Ok(names)
}

fn render_page(root: &Path, kind: Kind, name: &str, schema: &Schema) -> Result<Page, Error> {
    let template = page_file(TEMPLATE_DIR, kind, name);
    let text = std::fs::read_to_string(root.join(&template)).map_err(io_error(&template))?;
    let body = expand(&text, root, &template, name, schema)?;
    let title = match kind {
        Kind::Provider => format!("{name} Provider"),
        _ => format!(
            "{name} {} - terraform-provider-{}",
            kind.title(),
            provider_name()
        ),
    };
    let mut out = String::new();
    out.push_str("---\n");
    let _ = writeln!(out, "page_title: {}", yaml_string(&title));
    out.push_str("subcategory: \"\"\n");
    out.push_str("description: |-\n");
    for line in one_line(&schema.description).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str("---\n\n");
    let _ = writeln!(
        out,
        "<!-- Generated by `cargo run --bin gen-docs` from the provider's schema and {}. Edit those, not this file. -->\n",
        template.display()
    );
    out.push_str(body.trim());
    out.push('\n');
    Ok(Page {
        path: page_file(DOCS_DIR, kind, name),
        content: out,
    })
}

fn yaml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Replaces the `{{ … }}` directives of a template.
fn expand(
    text: &str,
    root: &Path,
    template: &Path,
    name: &str,
    schema: &Schema,
) -> Result<String, Error> {
    let err = |message: String| Error::Template {
        path: template.to_path_buf(),
        message,
    };
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            err(format!(
                "unclosed {{{{ at byte {}",
                text.len() - rest.len() + start
            ))
        })?;
        let directive = after[..end].trim();
        let words = split_directive(directive).map_err(&err)?;
        let replacement = match words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [".Name"] => name.to_string(),
            [".Description"] => one_line(&schema.description),
            [".Source"] => short_source().to_string(),
            [".SchemaMarkdown"] => schema_markdown(schema),
            ["tffile", file] => {
                code_block("terraform", root, file).map_err(|e| err(e.to_string()))?
            }
            ["codefile", lang, file] => {
                code_block(lang, root, file).map_err(|e| err(e.to_string()))?
            }
            _ => return Err(err(format!("unknown directive {{{{ {directive} }}}}"))),
        };
        out.push_str(&replacement);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `codefile "shell" "examples/x.sh"` into words, unquoting quoted ones.
fn split_directive(d: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = d.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut w = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => w.push(c),
                    None => return Err(format!("unclosed quote in {{{{ {d} }}}}")),
                }
            }
            words.push(w);
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
            words.push(w);
        }
    }
    Ok(words)
}

/// A file of the repository (an example) as a fenced code block.
fn code_block(lang: &str, root: &Path, file: &str) -> Result<String, Error> {
    let rel = Path::new(file);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::Template {
            path: rel.to_path_buf(),
            message: "included files must be relative paths inside the repository".into(),
        });
    }
    let text = std::fs::read_to_string(root.join(rel)).map_err(io_error(rel))?;
    Ok(format!("```{lang}\n{}\n```", text.trim_end()))
}

/// The argument and attribute reference of a schema (`{{ .SchemaMarkdown }}`), as
/// tfplugin writes it for objects that live in GitLab.
pub fn schema_markdown(schema: &Schema) -> String {
    tfplugin::docs::schema_markdown(schema, "GitLab")
}

// ---------------------------------------------------------------------------------------
// Writing and checking

/// Compares generated pages with the files under `root`, and finds stale pages in the
/// generated directories.
pub fn check(root: &Path, pages: &[Page]) -> Result<Vec<Drift>, Error> {
    let mut drift = Vec::new();
    for page in pages {
        let path = root.join(&page.path);
        match std::fs::read_to_string(&path) {
            Ok(found) if found == page.content => {}
            Ok(found) => drift.push(first_difference(&page.path, &page.content, &found)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                drift.push(Drift::Missing(page.path.clone()))
            }
            Err(e) => return Err(io_error(&page.path)(e)),
        }
    }
    drift.extend(stale(root, pages)?.into_iter().map(Drift::Stale));
    Ok(drift)
}

fn first_difference(path: &Path, expected: &str, found: &str) -> Drift {
    let mut e = expected.split('\n');
    let mut f = found.split('\n');
    let mut line = 1;
    loop {
        match (e.next(), f.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (a, b) => {
                return Drift::Differs {
                    path: path.to_path_buf(),
                    line,
                    expected: a.unwrap_or("<end of file>").to_string(),
                    found: b.unwrap_or("<end of file>").to_string(),
                };
            }
        }
    }
}

/// Pages in `docs/resources/`, `docs/data-sources/` and `docs/guides/` that nothing generates.
fn stale(root: &Path, pages: &[Page]) -> Result<Vec<PathBuf>, Error> {
    let generated: BTreeSet<&Path> = pages.iter().map(|p| p.path.as_path()).collect();
    let mut out = Vec::new();
    for kind in OWNED {
        let rel = Path::new(DOCS_DIR).join(kind.dir());
        for file in markdown_files(&root.join(&rel))? {
            let p = rel.join(file);
            if !generated.contains(p.as_path()) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Writes the pages that differ and removes stale ones; returns the paths changed.
pub fn write(root: &Path, pages: &[Page]) -> Result<Vec<PathBuf>, Error> {
    let mut changed = Vec::new();
    for page in pages {
        let path = root.join(&page.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(page.content.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        std::fs::write(&path, &page.content).map_err(io_error(&page.path))?;
        changed.push(page.path.clone());
    }
    for p in stale(root, pages)? {
        std::fs::remove_file(root.join(&p)).map_err(io_error(&p))?;
        changed.push(p);
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_split_with_quotes() {
        assert_eq!(
            split_directive(r#"codefile "shell" "examples/a b.sh""#),
            Ok(vec![
                "codefile".into(),
                "shell".into(),
                "examples/a b.sh".into()
            ])
        );
        assert!(split_directive(r#"tffile "x"#).is_err());
    }

    #[test]
    fn unknown_directives_and_escaping_includes_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Schema::new("D.", vec![]);
        let t = Path::new("t.md");
        let e = expand("{{ .Nmae }}", dir.path(), t, "x", &s).unwrap_err();
        assert!(
            e.to_string().contains("unknown directive {{ .Nmae }}"),
            "{e}"
        );
        let e = expand("{{ tffile \"../etc/passwd\" }}", dir.path(), t, "x", &s).unwrap_err();
        assert!(e.to_string().contains("inside the repository"), "{e}");
        assert!(expand("{{ .Name", dir.path(), t, "x", &s).is_err());
        assert_eq!(
            expand("# {{ .Name }}: {{.Description}}", dir.path(), t, "x", &s).ok(),
            Some("# x: D.".into())
        );
    }

    #[test]
    fn a_guide_is_titled_by_its_heading_and_described_by_its_first_paragraph() {
        let dir = tempfile::tempdir().expect("tempdir");
        let guides = dir.path().join(TEMPLATE_DIR).join("guides");
        std::fs::create_dir_all(&guides).expect("dir");
        std::fs::write(
            guides.join("g.md"),
            "# Doing things\n\nWith {{ .Source }},\nquickly.\n\n## Steps\n",
        )
        .expect("write");
        let s = Schema::new("P.", vec![]);
        let page = render_guide(dir.path(), &Path::new(TEMPLATE_DIR).join("guides/g.md"), &s)
            .expect("guide");
        assert_eq!(page.path, Path::new("docs/guides/g.md"));
        assert!(
            page.content.starts_with(
                "---\npage_title: \"Doing things\"\nsubcategory: \"Guides\"\ndescription: |-\n  With gitlab-rs/gitlab, quickly.\n---\n"
            ),
            "{}",
            page.content
        );
        assert!(page.content.ends_with("## Steps\n"), "{}", page.content);
        std::fs::write(guides.join("g.md"), "No title\n").expect("write");
        let e =
            render_guide(dir.path(), &Path::new(TEMPLATE_DIR).join("guides/g.md"), &s).unwrap_err();
        assert!(
            e.to_string().contains("must start with its `# ` title"),
            "{e}"
        );
    }

    #[test]
    fn drift_names_the_first_differing_line() {
        let d = first_difference(Path::new("p.md"), "a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            d,
            Drift::Differs {
                path: "p.md".into(),
                line: 2,
                expected: "b".into(),
                found: "B".into()
            }
        );
        let d = first_difference(Path::new("p.md"), "a\nb\n", "a\n");
        assert!(matches!(d, Drift::Differs { line: 2, .. }), "{d:?}");
    }
}
