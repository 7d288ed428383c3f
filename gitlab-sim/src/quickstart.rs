//! Ready for a module test without a seed file: the groups named with `--group` are added to
//! the loaded data (with the built-in `maintainer` user as their Maintainer), and the token of
//! that user is what the startup lines print.

use crate::seed::{GroupRef, Role, SeedFile, SeedGroup, SeedMembership, Visibility};

/// The built-in seed's user whose token the startup lines print.
pub const MAINTAINER: &str = "maintainer";

/// Checks one `--group` value: a full path of one or more segments, each a GitLab namespace
/// path (`Gitlab::PathRegex.namespace_format_regex`: letters, digits, `_`, `-` and `.`, not
/// starting with `-`, not ending with `.` or `-`, not ending in `.git` or `.atom`).
pub fn check_group_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("--group needs a group path such as `qa` or `platform/infra`".into());
    }
    for segment in path.split('/') {
        let ok_chars = segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        let bad_start = segment.starts_with('-');
        let bad_end = segment.ends_with('.') || segment.ends_with('-');
        let lower = segment.to_ascii_lowercase();
        if segment.is_empty()
            || !ok_chars
            || bad_start
            || bad_end
            || lower.ends_with(".git")
            || lower.ends_with(".atom")
        {
            return Err(format!(
                "--group {path:?}: {segment:?} is not a GitLab group path (letters, digits, '_', '-' \
                 and '.'; not starting with '-', not ending with '.', '-', '.git' or '.atom'), \
                 segments separated by '/'"
            ));
        }
    }
    Ok(())
}

/// Adds every group of `paths` (and its missing ancestors) to `seed`, private, named after
/// their path segment, with new ids above the highest namespace id (groups' and users'
/// personal namespaces', which GitLab numbers in one sequence). A path that exists already (in
/// any letter case, as GitLab's paths are case-insensitive) is left as it is. The
/// [`MAINTAINER`] user becomes Maintainer of each new top-level group, so of all the new ones.
pub fn add_groups(seed: &mut SeedFile, paths: &[String]) -> Result<(), String> {
    for path in paths {
        check_group_path(path)?;
        let mut parent: Option<u64> = None;
        let mut full = String::new();
        for segment in path.split('/') {
            if !full.is_empty() {
                full.push('/');
            }
            full.push_str(segment);
            if let Some(id) = find_group(seed, &full) {
                parent = Some(id);
                continue;
            }
            let id = seed
                .groups
                .iter()
                .map(|g| g.id)
                .chain(seed.users.iter().filter_map(|u| u.namespace_id))
                .max()
                .unwrap_or(0)
                + 1;
            seed.groups.push(SeedGroup {
                id,
                name: segment.to_string(),
                path: segment.to_string(),
                parent_id: parent,
                full_path: None,
                visibility: Visibility::Private,
                description: None,
            });
            if parent.is_none() {
                let user = seed
                    .users
                    .iter_mut()
                    .find(|u| u.username == MAINTAINER)
                    .ok_or_else(|| {
                        format!("--group {path:?}: no user `{MAINTAINER}` to make its Maintainer")
                    })?;
                user.memberships.push(SeedMembership {
                    group: Some(GroupRef::Id(id)),
                    project: None,
                    role: Role::Maintainer,
                });
            }
            parent = Some(id);
        }
    }
    Ok(())
}

/// The id of the group whose full path is `full` (case-insensitive), from the parent chain.
fn find_group(seed: &SeedFile, full: &str) -> Option<u64> {
    seed.groups
        .iter()
        .find(|g| full_path(seed, g).is_some_and(|p| p.eq_ignore_ascii_case(full)))
        .map(|g| g.id)
}

fn full_path(seed: &SeedFile, group: &SeedGroup) -> Option<String> {
    let mut segments = vec![group.path.as_str()];
    let mut parent = group.parent_id;
    while let Some(id) = parent {
        if segments.len() > 64 {
            return None;
        }
        let g = seed.groups.iter().find(|g| g.id == id)?;
        segments.push(&g.path);
        parent = g.parent_id;
    }
    segments.reverse();
    Some(segments.join("/"))
}

/// The token of the [`MAINTAINER`] user, if the data has that user with a token.
pub fn maintainer_token(seed: &SeedFile) -> Option<String> {
    seed.users
        .iter()
        .find(|u| u.username == MAINTAINER && u.state == "active")
        .and_then(|u| u.token.clone().or_else(|| u.tokens.first().cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn builtin() -> SeedFile {
        crate::seed::parse(crate::seed::DEFAULT_SEED).expect("built-in seed")
    }

    #[test]
    fn new_groups_and_their_ancestors_are_created_once_with_the_maintainer_as_member() {
        let mut seed = builtin();
        let before = seed.groups.len();
        add_groups(
            &mut seed,
            &[
                "platform/infra".into(),
                "Platform".into(),
                "qa/platform/k8s".into(),
            ],
        )
        .expect("groups");
        assert_eq!(seed.groups.len(), before + 3);
        let db = Db::from_seed(seed.clone()).expect("valid data");
        drop(db);
        let infra = find_group(&seed, "platform/infra").expect("infra");
        let platform = find_group(&seed, "platform").expect("platform");
        let k8s = find_group(&seed, "qa/platform/k8s").expect("k8s");
        assert_eq!(
            seed.groups
                .iter()
                .find(|g| g.id == infra)
                .and_then(|g| g.parent_id),
            Some(platform)
        );
        assert_eq!(
            seed.groups
                .iter()
                .find(|g| g.id == k8s)
                .and_then(|g| g.parent_id),
            find_group(&seed, "qa/platform")
        );
        let maintainer = seed
            .users
            .iter()
            .find(|u| u.username == MAINTAINER)
            .expect("maintainer");
        // Only the new top-level group needs a membership; `qa` already had one.
        let groups: Vec<_> = maintainer
            .memberships
            .iter()
            .filter_map(|m| match &m.group {
                Some(GroupRef::Id(id)) => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(groups, vec![platform]);
    }

    #[test]
    fn existing_groups_are_left_alone() {
        let mut seed = builtin();
        let before = serde_json::to_string(&seed).expect("json");
        add_groups(&mut seed, &["qa".into(), "QA/Platform".into()]).expect("groups");
        assert_eq!(serde_json::to_string(&seed).expect("json"), before);
    }

    #[test]
    fn group_paths_gitlab_would_refuse_are_errors_naming_the_segment() {
        for bad in [
            "",
            "qa//x",
            "-qa",
            "qa.",
            "a b",
            "x/repo.git",
            "x/feed.ATOM",
            "qa/é",
        ] {
            let err = check_group_path(bad).expect_err(bad);
            assert!(err.contains("--group"), "{err}");
        }
        for good in ["qa", "platform/infra", "_x", "a.b", "v1.2_x-y"] {
            check_group_path(good).expect(good);
        }
    }

    #[test]
    fn the_token_printed_is_the_built_in_maintainers() {
        assert_eq!(
            maintainer_token(&builtin()).as_deref(),
            Some("sim-maintainer-token")
        );
    }
}
