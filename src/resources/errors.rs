//! GitLab API errors as Terraform diagnostics: attached to the attribute GitLab names, and
//! saying what to do about it.

use crate::gitlab::Error;
use crate::protocol::diag::{Diagnostic, Diagnostics};

/// The body GitLab sends for every cluster endpoint when certificate-based clusters are
/// switched off on the instance (`not_found!` without a resource name).
pub const CLUSTERS_DISABLED_MESSAGE: &str = "404 Not Found";

/// The resource attribute for a field name GitLab uses in errors and parameters.
pub fn attribute_for(field: &str) -> Option<&'static str> {
    let f = field.trim_start_matches("platform_kubernetes_attributes");
    Some(match f {
        "name" => "name",
        "domain" => "domain",
        "enabled" => "enabled",
        "managed" => "managed",
        "environment_scope" => "environment_scope",
        "namespace_per_environment" => "namespace_per_environment",
        "management_project_id" | "management_project" => "management_project_id",
        "platform_kubernetes.api_url" | "platform_kubernetes_api_url" | "[api_url]" => {
            "kubernetes_api_url"
        }
        "platform_kubernetes.token" | "platform_kubernetes_token" | "[token]" => "kubernetes_token",
        "platform_kubernetes.ca_cert" | "platform_kubernetes_ca_cert" | "[ca_cert]" => {
            "kubernetes_ca_cert"
        }
        "platform_kubernetes.namespace" | "platform_kubernetes_namespace" | "[namespace]" => {
            "kubernetes_namespace"
        }
        "platform_kubernetes.authorization_type"
        | "platform_kubernetes_authorization_type"
        | "[authorization_type]" => "kubernetes_authorization_type",
        _ => return None,
    })
}

/// Diagnostics for a failed call. `what` says what was being done ("create the cluster").
pub fn diagnostics(e: &Error, what: &str, group: &str) -> Diagnostics {
    let summary = format!("Could not {what}");
    match e {
        Error::Validation { fields } => fields
            .iter()
            .map(|(field, msgs)| {
                let text = msgs.join(", ");
                if field == "platform_kubernetes.base" || text.contains("Cannot modify managed Kubernetes cluster") {
                    return Diagnostic::error(
                        summary.clone(),
                        format!(
                            "GitLab answered: {text}. Only clusters added through the API (provider_type \"user\") \
                             accept changes to name, API URL, token and CA certificate. Change this cluster in GitLab, \
                             or stop managing those attributes here."
                        ),
                    );
                }
                let d = Diagnostic::error(summary.clone(), format!("GitLab rejected {field}: {text}."));
                match attribute_for(field) {
                    Some(a) => d.at_attr(a),
                    None => d,
                }
            })
            .collect::<Vec<_>>()
            .into(),
        Error::BadRequest { message } => {
            let d = Diagnostic::error(summary, format!("GitLab rejected the request: {message}."));
            match message.split_whitespace().next().and_then(attribute_for) {
                Some(a) => d.at_attr(a).into(),
                None => d.into(),
            }
        }
        Error::Unauthorized { message } => Diagnostic::error(
            summary,
            format!(
                "GitLab refused the token ({message}). Check the provider's `token` (or GITLAB_TOKEN): it must be a \
                 valid, unexpired access token with the `api` scope."
            ),
        )
        .into(),
        Error::Forbidden { message } => Diagnostic::error(
            summary,
            format!(
                "GitLab denied access to the clusters of group {group:?} ({message}). {}",
                role_needed(what)
            ),
        )
        .at_attr("group")
        .into(),
        Error::NotFound { message } => not_found(&summary, message, group),
        Error::RateLimited { .. } => Diagnostic::error(
            summary,
            format!("{e}. The provider retried with backoff and gave up; raise `retries`, or lower -parallelism."),
        )
        .into(),
        Error::OutcomeUnknown { detail } => Diagnostic::error(
            summary,
            format!(
                "The request reached GitLab but its answer was lost ({detail}), and the cluster could not be found \
                 afterwards. Run `terraform apply` again: an existing cluster with the same environment scope will \
                 be reported, not duplicated."
            ),
        )
        .into(),
        Error::Cancelled => Diagnostic::error(summary, "Terraform is stopping; the operation was cancelled.").into(),
        Error::Decode { .. } => Diagnostic::error(
            summary,
            format!("{e}. Is base_url pointing at a GitLab API (…/api/v4)? Nothing was recorded from this response."),
        )
        .into(),
        Error::Transport { .. } | Error::Timeout { .. } | Error::Http { .. } => {
            Diagnostic::error(summary, format!("{e}. The provider retried transient failures; try again later.")).into()
        }
    }
}

/// The role an operation needs (GitLab's GroupPolicy): `read_cluster` is a Developer's,
/// `create_cluster`, `update_cluster` and `admin_cluster` a Maintainer's. `what` starts
/// with the operation's verb ("create the cluster", "read the cluster").
fn role_needed(what: &str) -> &'static str {
    match what.split_whitespace().next() {
        Some("create" | "update" | "delete") => {
            "Creating, updating and deleting a group's clusters needs at least the Maintainer role on the group \
             (reading them needs Developer)."
        }
        _ => {
            "Reading a group's clusters needs at least the Developer role on the group (creating, updating and \
             deleting them needs Maintainer)."
        }
    }
}

fn not_found(summary: &str, message: &str, group: &str) -> Diagnostics {
    let detail = if message.contains("Group Not Found") {
        return Diagnostic::error(
            summary,
            format!(
                "GitLab has no group {group:?} visible to this token ({message}). Check `group`: its numeric id or \
                 full path, e.g. \"parent/child\"."
            ),
        )
        .at_attr("group")
        .into();
    } else if message == "404 Not found" {
        format!(
            "GitLab has no such cluster in group {group:?} ({message}). Check the cluster id, and that the \
             cluster belongs to this group (group clusters are not inherited by subgroups)."
        )
    } else if message == CLUSTERS_DISABLED_MESSAGE {
        "GitLab answers 404 for every certificate-based cluster endpoint: certificate-based Kubernetes clusters \
         are switched off on this instance (the default since GitLab 15.0). An administrator can enable them \
         (feature flag `certificate_based_clusters`), or use the GitLab agent for Kubernetes instead."
            .to_string()
    } else {
        format!("GitLab answered: {message}.")
    };
    Diagnostic::error(summary, detail).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn validation_errors_land_on_the_attribute_gitlab_names() {
        let mut fields = BTreeMap::new();
        fields.insert(
            "platform_kubernetes.api_url".to_string(),
            vec!["is blank".to_string()],
        );
        fields.insert("name".to_string(), vec!["is too long".to_string()]);
        let d = diagnostics(&Error::Validation { fields }, "create the cluster", "g");
        let attrs: Vec<String> = d
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(attrs, vec!["name", "kubernetes_api_url"]);
    }

    #[test]
    fn disabled_certificate_clusters_are_explained() {
        let e = Error::NotFound {
            message: CLUSTERS_DISABLED_MESSAGE.into(),
        };
        let d = diagnostics(&e, "read the cluster", "g");
        assert!(d.0[0].detail.contains("switched off"));
        let e = Error::NotFound {
            message: "404 Group Not Found".into(),
        };
        let d = diagnostics(&e, "read the cluster", "g");
        assert_eq!(d.0[0].attribute.as_ref().unwrap().to_string(), "group");
    }

    #[test]
    fn a_refused_read_names_the_developer_role_and_a_refused_write_the_maintainer_role() {
        let e = Error::Forbidden {
            message: "403 Forbidden".into(),
        };
        let read = diagnostics(&e, "read the cluster", "g");
        assert!(
            read.0[0]
                .detail
                .contains("Reading a group's clusters needs at least the Developer role")
        );
        for what in [
            "create the cluster",
            "update the cluster",
            "delete the cluster",
        ] {
            let d = diagnostics(&e, what, "g");
            assert!(
                d.0[0].detail.contains("needs at least the Maintainer role"),
                "{what}"
            );
        }
    }

    #[test]
    fn grape_parameter_errors_point_at_the_attribute() {
        let e = Error::BadRequest {
            message: "platform_kubernetes_attributes[api_url] is missing".into(),
        };
        let d = diagnostics(&e, "create the cluster", "g");
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "kubernetes_api_url"
        );
    }

    #[test]
    fn every_mapped_attribute_exists_in_the_resource_schema() {
        use crate::framework::Resource;
        let schema = super::super::group_cluster::GroupCluster.schema();
        for f in [
            "name",
            "domain",
            "enabled",
            "managed",
            "environment_scope",
            "namespace_per_environment",
            "management_project_id",
            "[api_url]",
            "[token]",
            "[ca_cert]",
            "[namespace]",
            "[authorization_type]",
        ] {
            let a = attribute_for(f).unwrap();
            assert!(schema.attribute(a).is_some(), "{a}");
        }
    }
}
