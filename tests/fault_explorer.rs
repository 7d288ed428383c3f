//! The fault explorer (issues 20 and 23; docs/testing.md, "The fault explorer"): every
//! scenario of `tests/explorer/scenarios.rs`, for each owner of `tests/explorer/owners.rs`
//! (`gitlab_group_cluster`, `gitlab_project_cluster`, `gitlab_instance_cluster`), replayed
//! with one fault at one recorded GitLab request, for every fault kind, and held to the
//! invariants of `tests/explorer/invariants.rs`.
//!
//! `cargo test --test fault_explorer` runs a deterministic subset: every scenario × every
//! fault kind at one request index and for one owner (rotating over scenarios, kinds and
//! owners, so every scenario and every kind runs for each owner). The whole grid, every owner
//! and every request index:
//!
//! ```sh
//! FAULT_EXPLORER=full cargo test --locked --test fault_explorer -- --nocapture
//! ```
//!
//! Knobs: `FAULT_EXPLORER_WORKERS` (jobs at once, default 4, each with its own simulator),
//! `FAULT_EXPLORER_ONLY` (scenarios whose name contains it), `FAULT_EXPLORER_OWNERS`
//! (comma-separated owners: `group`, `project`, `instance`). Either way the table is printed
//! and the test fails on any violation.

mod explorer;
mod grpc_support;
mod support;

use explorer::grid::{self, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_single_gitlab_answer_breaks_an_invariant() {
    let mode = match std::env::var("FAULT_EXPLORER").as_deref() {
        Ok("full") => Mode::Full,
        Ok("") | Ok("subset") | Err(_) => Mode::Subset,
        Ok(other) => panic!("FAULT_EXPLORER={other}: use `full` or `subset`"),
    };
    let workers = std::env::var("FAULT_EXPLORER_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(4);
    let only = std::env::var("FAULT_EXPLORER_ONLY").ok();
    let owners = std::env::var("FAULT_EXPLORER_OWNERS").ok();
    let started = std::time::Instant::now();
    let results = grid::explore(mode, workers, only, owners).await;
    let runs: usize = results.iter().map(|r| r.cells.len() + 1).sum();
    println!(
        "fault explorer ({mode:?}): {runs} runs in {:.1} s\n\n{}",
        started.elapsed().as_secs_f64(),
        explorer::table::render(&results)
    );
    let violations = explorer::table::violations(&results);
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The checks themselves, on made-up states and clusters: each flags what it is for.
mod checks {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;
    use terraform_provider_gitlab::protocol::value::Value;

    use super::explorer::driver::{Action, Workspace};
    use super::explorer::invariants as inv;
    use super::explorer::owners::Owner::{Group, Instance, Project};

    fn ws(id: Option<i64>) -> Workspace {
        Workspace {
            state: id.map_or(Value::Null, |id| {
                Value::object([("cluster_id", Value::int(id)), ("group", "qa".into())])
            }),
            tainted: false,
        }
    }

    fn clusters(ids: &[i64]) -> inv::Clusters {
        ids.iter()
            .map(|id| {
                (
                    *id,
                    json!({"id": id, "name": format!("c{id}"), "group_id": 42}),
                )
            })
            .collect()
    }

    #[test]
    fn two_workspaces_holding_one_cluster_are_flagged() {
        assert!(inv::one_owner(&[ws(Some(100)), ws(Some(101))]).is_empty());
        let v = inv::one_owner(&[ws(Some(100)), ws(Some(100))]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].invariant, inv::ONE_OWNER);
    }

    #[test]
    fn more_new_clusters_than_the_clean_run_is_a_duplicate() {
        let snapshot = clusters(&[1, 100]);
        assert!(inv::no_duplicates(&snapshot, &clusters(&[1, 100, 101]), 1).is_empty());
        let v = inv::no_duplicates(&snapshot, &clusters(&[1, 100, 101, 102]), 1);
        assert_eq!(v[0].invariant, inv::DUPLICATE);
    }

    #[test]
    fn a_cluster_gitlab_has_and_no_state_holds_is_lost_unless_the_error_said_import() {
        let snapshot = clusters(&[1, 100]);
        let now = clusters(&[1, 100, 101]);
        let owned = BTreeSet::from([100]);
        let v = inv::none_lost(&owned, &snapshot, &now, &[ws(Some(101))], false);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].detail.contains("100"));
        assert!(inv::none_lost(&owned, &snapshot, &now, &[ws(None)], true).is_empty());
        let errors = vec![
            "bring it under Terraform with:\n  terraform import <resource address> qa:101"
                .to_string(),
        ];
        assert!(inv::import_advised(&errors));
        assert_eq!(inv::advised_import_ids(&errors), vec!["qa:101".to_string()]);
    }

    #[test]
    fn a_foreign_cluster_changed_or_held_is_flagged() {
        let snapshot = clusters(&[1, 100]);
        let mut now = snapshot.clone();
        now.insert(100, json!({"id": 100, "name": "renamed", "group_id": 42}));
        let foreign = BTreeSet::from([1, 100]);
        let v = inv::foreign_untouched(&snapshot, &foreign, &now, &[ws(Some(1))]);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(inv::foreign_untouched(&snapshot, &foreign, &snapshot, &[ws(None)]).is_empty());
    }

    #[test]
    fn a_destroy_the_clean_run_did_not_plan_is_flagged() {
        let clean = BTreeMap::from([(0, (0, Action::Update))]);
        assert!(inv::unexpected_destroys(&clean, &clean).is_empty());
        let run = BTreeMap::from([(0, (0, Action::Replace))]);
        assert_eq!(
            inv::unexpected_destroys(&run, &clean)[0].invariant,
            inv::DESTROY
        );
    }

    /// A cluster as `/-/sim/clusters` lists it, with its owner's key(s) (`{"group_id": 42}`).
    fn gitlab_cluster(owner: serde_json::Value, auth: &str) -> inv::Clusters {
        let mut c = json!({"id": 100, "name": "production", "environment_scope": "*",
            "domain": null, "enabled": true, "managed": true, "namespace_per_environment": true,
            "platform_kubernetes": {"api_url": "https://k8s", "namespace": null, "authorization_type": auth}});
        c.as_object_mut()
            .expect("object")
            .extend(owner.as_object().expect("object").clone());
        inv::Clusters::from([(100, c)])
    }

    /// A state of that cluster, with the owner attribute (none for the instance).
    fn state_of(owner: Option<(&str, &str)>, auth: &str) -> Value {
        let mut pairs = vec![
            ("cluster_id", Value::int(100)),
            ("name", "production".into()),
            ("environment_scope", "*".into()),
            ("enabled", true.into()),
            ("managed", true.into()),
            ("namespace_per_environment", true.into()),
            ("kubernetes_api_url", "https://k8s".into()),
            ("kubernetes_authorization_type", auth.into()),
        ];
        pairs.extend(owner.map(|(a, s)| (a, Value::from(s))));
        Value::object(pairs)
    }

    #[test]
    fn state_is_compared_with_what_gitlab_holds() {
        let now = gitlab_cluster(json!({"group_id": 42}), "abac");
        let state = |auth: &str| state_of(Some(("group", "qa")), auth);
        assert!(inv::state_matches(inv::STATE_EQ, Group, 0, &state("abac"), &now).is_empty());
        let v = inv::state_matches(inv::STATE_EQ, Group, 0, &state("rbac"), &now);
        assert!(
            v[0].detail.contains("kubernetes_authorization_type"),
            "{v:?}"
        );
    }

    #[test]
    fn a_state_holding_a_cluster_of_another_family_or_owner_is_flagged() {
        let cluster = |owner| gitlab_cluster(owner, "rbac");
        let state = |owner| state_of(owner, "rbac");
        let project = state(Some(("project", "qa/platform/apps")));
        let ok = |o, s: &Value, c| inv::state_matches(inv::STATE_EQ, o, 0, s, &c).is_empty();
        assert!(ok(Project, &project, cluster(json!({"project_id": 10}))));
        assert!(ok(
            Project,
            &state(Some(("project", "10"))),
            cluster(json!({"project_id": 10}))
        ));
        assert!(!ok(Project, &project, cluster(json!({"project_id": 7}))));
        assert!(!ok(Project, &project, cluster(json!({"group_id": 10}))));
        assert!(ok(
            Instance,
            &state(None),
            cluster(json!({"instance": true}))
        ));
        assert!(!ok(
            Instance,
            &state(None),
            cluster(json!({"project_id": 10}))
        ));
        assert!(!ok(
            Group,
            &state(Some(("group", "qa"))),
            cluster(json!({"instance": true}))
        ));
    }

    #[test]
    fn a_data_source_answering_another_familys_cluster_is_flagged() {
        let schema_free = |pairs: Vec<(&str, Value)>| Value::object(pairs);
        let now: inv::Clusters = BTreeMap::from([
            (
                100,
                json!({"id": 100, "name": "production", "project_id": 10}),
            ),
            (
                101,
                json!({"id": 101, "name": "production", "instance": true}),
            ),
        ]);
        let config = schema_free(vec![("name", "production".into())]);
        let answer = |id| {
            schema_free(vec![
                ("cluster_id", Value::int(id)),
                ("name", "production".into()),
            ])
        };
        let ty = Instance.resource();
        assert!(inv::data_matches(Instance, ty, &config, &answer(101), &now).is_empty());
        assert!(!inv::data_matches(Instance, ty, &config, &answer(100), &now).is_empty());
        let by_id = schema_free(vec![("cluster_id", Value::int(100))]);
        assert!(!inv::data_matches(Instance, ty, &by_id, &answer(100), &now).is_empty());
        let list = |ids: &[i64]| {
            schema_free(vec![(
                "clusters",
                Value::List(
                    ids.iter()
                        .map(|id| schema_free(vec![("cluster_id", Value::int(*id))]))
                        .collect(),
                ),
            )])
        };
        let ty = Project.list();
        assert!(inv::data_matches(Project, ty, &Value::Null, &list(&[100]), &now).is_empty());
        assert!(!inv::data_matches(Project, ty, &Value::Null, &list(&[100, 101]), &now).is_empty());
    }
}
