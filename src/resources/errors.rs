//! GitLab API errors as Terraform diagnostics: attached to the attribute GitLab names, and
//! saying what to do about it.

use super::family::Place;
use crate::framework::prelude::{Diagnostic, Diagnostics};
use crate::gitlab::Error;
use crate::gitlab::error::{Missing, is_managed_cluster_refusal};

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

/// The resource's sensitive attributes. A diagnostic about one names it but points at no
/// line: Terraform prints the line a diagnostic points at, and with it the value written
/// there (or the values of the expression it is).
const SENSITIVE: &[&str] = &["kubernetes_token", "kubernetes_token_wo"];

/// Diagnostics for a failed call on the clusters of `at`. `what` says what was being done
/// ("create the cluster").
pub fn diagnostics(e: &Error, what: &str, at: &Place) -> Diagnostics {
    let summary = format!("Could not {what}");
    match e {
        Error::Validation { fields } => fields
            .iter()
            .map(|(field, msgs)| {
                let text = msgs.join(", ");
                if is_managed_cluster_refusal(field, msgs) {
                    return Diagnostic::error(
                        summary.clone(),
                        format!(
                            "GitLab answered: {text}. Only clusters added through the API (provider_type \"user\") \
                             accept changes to name, API URL, token and CA certificate. Change this cluster in GitLab, \
                             or stop managing those attributes here."
                        ),
                    );
                }
                match attribute_for(field) {
                    Some(a) if SENSITIVE.contains(&a) => Diagnostic::error(
                        summary.clone(),
                        format!("GitLab rejected {field} ({a}): {text}."),
                    ),
                    Some(a) => Diagnostic::error(
                        summary.clone(),
                        format!("GitLab rejected {field}: {text}.{}", local_network_hint(a, &text)),
                    )
                    .at_attr(a),
                    None => Diagnostic::error(summary.clone(), format!("GitLab rejected {field}: {text}.")),
                }
            })
            .collect::<Vec<_>>()
            .into(),
        Error::BadRequest { message } => {
            let d = Diagnostic::error(summary, format!("GitLab rejected the request: {message}."));
            match e.rejected_parameter().and_then(attribute_for) {
                Some(a) if !SENSITIVE.contains(&a) => d.at_attr(a).into(),
                _ => d.into(),
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
        Error::Forbidden { message } => {
            let d = Diagnostic::error(
                summary,
                format!(
                    "GitLab denied access to the clusters of {} ({message}). {}",
                    at.describe(),
                    role_needed(what, at)
                ),
            );
            match at.family.owner_attr {
                Some(a) => d.at_attr(a).into(),
                None => d.into(),
            }
        }
        Error::NotFound { message } => not_found(&summary, message, e.missing(), at),
        Error::RateLimited { attempts, .. } => Diagnostic::error(
            summary,
            format!("{e}. {} Lower -parallelism, or try again later.", retried(*attempts)),
        )
        .into(),
        Error::Tls { .. } | Error::NotApi { .. } | Error::Unreachable { .. } => connection(&summary, e).into(),
        Error::OutcomeUnknown { detail } => Diagnostic::error(
            summary,
            format!(
                "The outcome of the request is unknown: {detail}. It may have gone through: GitLab may hold the \
                 cluster now. Look among the clusters of {} for one with this resource's name and \
                 environment_scope. If it is there, bring it under Terraform with\n  terraform import <resource \
                 address> {}\n(or an import block) and plan again. If it is not, run `terraform \
                 apply` again: a cluster already serving the environment scope is reported, never duplicated.",
                at.describe(),
                at.import_id_hint()
            ),
        )
        .into(),
        Error::TooLarge { .. } | Error::ListUnbounded { .. } | Error::WrongEntity { .. } => Diagnostic::error(
            summary,
            format!(
                "{e}. Nothing from that answer was recorded or acted on. GitLab never answers like this; something \
                 between the provider and GitLab (a proxy, a load balancer) may be at fault. Run the command again, \
                 and if this persists, check what answers at `base_url`."
            ),
        )
        .into(),
        Error::Cancelled => Diagnostic::error(summary, "Terraform is stopping; the operation was cancelled.").into(),
        Error::Decode { .. } => Diagnostic::error(
            summary,
            format!("{e}. Is base_url pointing at a GitLab API (…/api/v4)? Nothing was recorded from this response."),
        )
        .into(),
        Error::Http { status, attempts, .. } if !matches!(status, 502..=504) && *attempts <= 1 => {
            Diagnostic::error(summary, format!("{e}.")).into()
        }
        Error::Transport { attempts, .. } | Error::Timeout { attempts, .. } | Error::Http { attempts, .. } => {
            Diagnostic::error(summary, format!("{e}. {} Try again later.", retried(*attempts))).into()
        }
    }
}

/// The next step when GitLab refuses a Kubernetes API URL on the local network (GitLab's
/// `Gitlab::UrlBlocker`: localhost, loopback, private, link-local and shared addresses are
/// refused unless an administrator allows them).
fn local_network_hint(attr: &str, text: &str) -> &'static str {
    let local = [
        "Requests to localhost",
        "Requests to loopback",
        "Requests to the local network",
        "Requests to the link local network",
        "Requests to the shared address space",
    ];
    if attr == "kubernetes_api_url" && local.iter().any(|l| text.contains(l)) {
        " GitLab refuses addresses on the local network unless an administrator allows them: Admin Area > \
         Settings > Network > Outbound requests > \"Allow requests to the local network from webhooks and \
         integrations\" (application setting `allow_local_requests_from_web_hooks_and_services`). Or use an \
         address GitLab may reach that is not a local one."
    } else {
        ""
    }
}

/// How to leave a resource whose owner GitLab no longer shows, for the 404 that says so.
fn owner_gone_advice(at: &Place) -> String {
    let (noun, type_name) = (at.family.noun, at.family.resource);
    format!(
        "If the {noun} was deleted (or moved) in GitLab, the clusters it held are gone with it and Terraform cannot \
         read or delete them: stop managing this one here. For a `{type_name}`, replace its resource \
         block with a `removed` block (`from = <resource address>` and `lifecycle {{ destroy = false }}`, Terraform \
         1.7 or later), or run `terraform state rm <resource address>`; for a data source, remove its block. \
         `terraform destroy -refresh=false` also ends it without a state edit, once GitLab says the {noun} itself is \
         not found either. If the {noun} comes back, adopt the cluster again with `terraform import <resource address> \
         {}` (or an `import` block).",
        at.import_id_hint()
    )
}

/// The role an operation needs (GitLab's GroupPolicy and ProjectPolicy: `read_cluster` is a
/// Developer's, `create_cluster`, `update_cluster` and `admin_cluster` a Maintainer's; the
/// instance's are an administrator's). `what` starts with the operation's verb ("create the
/// cluster", "read the cluster").
fn role_needed(what: &str, at: &Place) -> &'static str {
    match what.split_whitespace().next() {
        Some("create" | "update" | "delete") => at.family.write_role,
        _ => at.family.read_role,
    }
}

/// What the provider did about a transient failure, from how often the request was sent.
pub fn retried(attempts: u32) -> String {
    if attempts > 1 {
        format!(
            "The provider sent the request {attempts} times, with backoff in between (`retries` = {}), and gave up; \
             raising `retries` waits longer.",
            attempts - 1
        )
    } else {
        "The provider did not retry it: `retries` is 0.".to_string()
    }
}

/// A failure to reach GitLab's API that configuration must fix: a refused TLS handshake
/// (named by its real cause, on the attribute that fixes it) or a `base_url` that is not
/// GitLab's REST API. Other errors get a generic "cannot reach" text.
pub fn connection(summary: &str, e: &Error) -> Diagnostic {
    use crate::gitlab::error::TlsFailure as T;
    let Error::Tls { kind, .. } = e else {
        if let Error::NotApi { status, .. } = e {
            let moved = if (300..=399).contains(status) {
                " If GitLab moved (or redirects http:// to https://), use the URL it redirects to."
            } else {
                ""
            };
            return Diagnostic::error(
                summary,
                format!(
                    "{e}. Set `base_url` to GitLab's address, e.g. https://gitlab.example.com/ (with /api/v4 or \
                     without, and with the path GitLab is served under, if any).{moved}"
                ),
            )
            .at_attr("base_url");
        }
        if let Error::Unreachable { .. } = e {
            return Diagnostic::error(
                summary,
                format!(
                    "{e}. A connection that does not come about is not retried (as with the official provider): \
                     waiting does not change it."
                ),
            )
            .at_attr("base_url");
        }
        return Diagnostic::error(
            summary,
            format!("{e}. Check `base_url` and that GitLab is reachable from here."),
        )
        .at_attr("base_url");
    };
    let (attr, hint) = match kind {
        T::UnknownIssuer { extra_roots: false } => (
            "base_url",
            "GitLab's TLS certificate is not trusted: set `cacert_file` to the PEM file of the CA that issued it \
             (or of the certificate itself, when it is self-signed), or, for a test instance only, `insecure = true`."
                .to_string(),
        ),
        T::UnknownIssuer { extra_roots: true } => (
            "cacert_file",
            "GitLab's TLS certificate is not trusted: no certificate in `cacert_file` issued it. Point `cacert_file` \
             at the CA certificate that did, or at GitLab's own certificate when it is self-signed."
                .to_string(),
        ),
        T::CaAsServerCert => (
            "base_url",
            "GitLab presents a CA certificate as its own certificate. Set `cacert_file` to exactly that \
             certificate (for example the file `openssl req -x509` wrote): a certificate present in \
             `cacert_file` is accepted as the server's own."
                .to_string(),
        ),
        T::HostMismatch { host, .. } => (
            "base_url",
            format!(
                "Use a host name in `base_url` that the certificate names, or have the certificate reissued with \
                 {host} in its subjectAltName. `cacert_file` and `insecure` are not the fix for a name mismatch."
            ),
        ),
        T::Expired { .. } | T::NotYetValid { .. } => (
            "base_url",
            "Renew GitLab's certificate (or, if it should be valid, check this machine's clock).".to_string(),
        ),
        T::Revoked | T::NotForServers | T::BadCertificate { .. } => (
            "base_url",
            "GitLab's certificate cannot be used for its TLS server: have it replaced.".to_string(),
        ),
        T::NoTrustedRoots => (
            "cacert_file",
            "Install the system's CA certificates (the ca-certificates package), or set `cacert_file` to the PEM \
             file of the CA that issued GitLab's certificate."
                .to_string(),
        ),
        T::ClientCertRequired => (
            "base_url",
            "GitLab (or a proxy in front of it) requires a TLS client certificate: set `client_cert` and \
             `client_key` to its PEM certificate and private key files."
                .to_string(),
        ),
        T::ClientCertRefused { .. } => (
            "client_cert",
            "GitLab (or a proxy in front of it) refused the TLS client certificate: check that `client_cert` is \
             signed by a CA it trusts, is valid now, and matches `client_key`."
                .to_string(),
        ),
        T::Incompatible { .. } => (
            "base_url",
            "GitLab's TLS settings and the provider's (TLS 1.2 or 1.3, modern cipher suites) do not meet.".to_string(),
        ),
        T::NotTls => (
            "base_url",
            "A handshake failure is not retried: waiting does not change what the server speaks.".to_string(),
        ),
    };
    Diagnostic::error(summary, format!("{e}. {hint}")).at_attr(attr)
}

fn not_found(summary: &str, message: &str, missing: Option<Missing>, at: &Place) -> Diagnostics {
    let detail = if let (Some(Missing::Owner), Some(attr)) = (missing, at.family.owner_attr) {
        let noun = at.family.noun;
        return Diagnostic::error(
            summary,
            format!(
                "GitLab has no {} visible to this token ({message}). Check `{attr}` (its numeric id or full \
                 path) and that the token's user is still a member of the {noun}; GitLab answers the same when it \
                 hides a {noun} from a token. {}",
                at.describe(),
                owner_gone_advice(at)
            ),
        )
        .at_attr(attr)
        .into();
    } else if missing == Some(Missing::Cluster) {
        format!(
            "GitLab has no such cluster in {} ({message}). {}",
            at.describe(),
            at.family.cluster_not_found_hint
        )
    } else if missing == Some(Missing::ClustersDisabled) {
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
    use crate::gitlab::error::CLUSTERS_DISABLED_MESSAGE;
    use std::collections::BTreeMap;

    fn group(owner: &'static str) -> Place<'static> {
        Place {
            family: &super::super::family::GROUP,
            owner,
        }
    }

    #[test]
    fn validation_errors_land_on_the_attribute_gitlab_names() {
        let mut fields = BTreeMap::new();
        fields.insert(
            "platform_kubernetes.api_url".to_string(),
            vec!["is blank".to_string()],
        );
        fields.insert("name".to_string(), vec!["is too long".to_string()]);
        let d = diagnostics(
            &Error::Validation { fields },
            "create the cluster",
            &group("g"),
        );
        let attrs: Vec<String> = d
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(attrs, vec!["name", "kubernetes_api_url"]);
    }

    #[test]
    fn an_error_about_the_kubernetes_token_names_it_on_no_line() {
        let mut fields = BTreeMap::new();
        fields.insert(
            "platform_kubernetes.token".to_string(),
            vec!["is invalid".to_string()],
        );
        let d = diagnostics(
            &Error::Validation { fields },
            "create the cluster",
            &group("g"),
        );
        assert_eq!(d.0[0].attribute, None);
        assert!(
            d.0[0].detail.contains("kubernetes_token"),
            "{}",
            d.0[0].detail
        );
        let e = Error::BadRequest {
            message: "platform_kubernetes_attributes[token] is empty".into(),
        };
        let d = diagnostics(&e, "create the cluster", &group("g"));
        assert_eq!(d.0[0].attribute, None);
    }

    #[test]
    fn a_group_gitlab_does_not_show_says_how_to_leave_and_come_back() {
        let e = Error::NotFound {
            message: "404 Group Not Found".into(),
        };
        let d = &diagnostics(&e, "delete the cluster", &group("qa/gone")).0[0];
        for w in [
            "Check `group`",
            "`removed` block",
            "lifecycle { destroy = false }",
            "terraform state rm",
            "terraform import <resource address> qa/gone:<cluster id>",
        ] {
            assert!(d.detail.contains(w), "{w:?} missing: {}", d.detail);
        }
    }

    #[test]
    fn each_owner_is_named_in_its_own_words_and_at_its_own_attribute() {
        use super::super::family::{INSTANCE, PROJECT};
        let project = Place {
            family: &PROJECT,
            owner: "qa/app",
        };
        let gone = Error::NotFound {
            message: "404 Project Not Found".into(),
        };
        let d = &diagnostics(&gone, "read the cluster", &project).0[0];
        assert_eq!(d.attribute.as_ref().unwrap().to_string(), "project");
        for w in [
            "no project \"qa/app\"",
            "Check `project`",
            "`gitlab_project_cluster`",
            "terraform import <resource address> qa/app:<cluster id>",
        ] {
            assert!(d.detail.contains(w), "{w:?} missing: {}", d.detail);
        }
        let denied = Error::Forbidden {
            message: "403 Forbidden".into(),
        };
        let d = &diagnostics(&denied, "create the cluster", &project).0[0];
        assert!(
            d.detail.contains("Maintainer role on the project"),
            "{}",
            d.detail
        );
        let instance = Place {
            family: &INSTANCE,
            owner: "",
        };
        let d = &diagnostics(&denied, "create the cluster", &instance).0[0];
        assert!(d.attribute.is_none(), "the instance has no owner attribute");
        assert!(
            d.detail.contains("clusters of the instance") && d.detail.contains("administrator"),
            "{}",
            d.detail
        );
        let lost = Error::OutcomeUnknown {
            detail: "the answer was lost".into(),
        };
        let d = &diagnostics(&lost, "create the cluster", &instance).0[0];
        assert!(
            d.detail
                .contains("terraform import <resource address> <cluster id>"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn a_kubernetes_api_url_on_the_local_network_names_the_admin_setting() {
        let mut fields = BTreeMap::new();
        fields.insert(
            "platform_kubernetes.api_url".to_string(),
            vec!["is blocked: Requests to the local network are not allowed".to_string()],
        );
        let d = &diagnostics(
            &Error::Validation { fields },
            "create the cluster",
            &group("g"),
        )
        .0[0];
        assert_eq!(
            d.attribute.as_ref().unwrap().to_string(),
            "kubernetes_api_url"
        );
        assert!(
            d.detail
                .contains("\"Allow requests to the local network from webhooks and integrations\""),
            "{}",
            d.detail
        );
        let mut fields = BTreeMap::new();
        fields.insert("name".to_string(), vec!["is too long".to_string()]);
        let d = &diagnostics(
            &Error::Validation { fields },
            "create the cluster",
            &group("g"),
        )
        .0[0];
        assert!(!d.detail.contains("Admin Area"), "{}", d.detail);
    }

    #[test]
    fn disabled_certificate_clusters_are_explained() {
        let e = Error::NotFound {
            message: CLUSTERS_DISABLED_MESSAGE.into(),
        };
        let d = diagnostics(&e, "read the cluster", &group("g"));
        assert!(d.0[0].detail.contains("switched off"));
        let e = Error::NotFound {
            message: "404 Group Not Found".into(),
        };
        let d = diagnostics(&e, "read the cluster", &group("g"));
        assert_eq!(d.0[0].attribute.as_ref().unwrap().to_string(), "group");
    }

    #[test]
    fn a_refused_read_names_the_developer_role_and_a_refused_write_the_maintainer_role() {
        let e = Error::Forbidden {
            message: "403 Forbidden".into(),
        };
        let read = diagnostics(&e, "read the cluster", &group("g"));
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
            let d = diagnostics(&e, what, &group("g"));
            assert!(
                d.0[0].detail.contains("needs at least the Maintainer role"),
                "{what}"
            );
        }
    }

    #[test]
    fn a_wrong_base_url_is_not_mistaken_for_switched_off_clusters() {
        let e = Error::from_response(404, br#"{"error":"404 Not Found"}"#).requested(
            "GET",
            "https://h/sub/api/v4/groups/g/clusters?page=1",
            None,
        );
        let d = diagnostics(&e, "read the clusters", &group("g"));
        let d = &d.0[0];
        assert!(
            d.detail
                .contains("base_url does not point at GitLab's REST API"),
            "{}",
            d.detail
        );
        assert!(
            d.detail
                .contains("https://h/sub/api/v4/groups/g/clusters?page=1"),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains("switched off"), "{}", d.detail);
        assert_eq!(d.attribute.as_ref().unwrap().to_string(), "base_url");
    }

    #[test]
    fn tls_failures_name_their_cause_and_the_attribute_that_fixes_it() {
        use crate::gitlab::error::TlsFailure as T;
        let at = |kind: T| {
            let d = diagnostics(
                &Error::Tls {
                    host: "h:1".into(),
                    kind,
                },
                "read the cluster",
                &group("g"),
            );
            (
                d.0[0].attribute.as_ref().unwrap().to_string(),
                d.0[0].detail.clone(),
            )
        };
        let (attr, text) = at(T::HostMismatch {
            host: "h".into(),
            names: vec!["other".into()],
        });
        assert_eq!(attr, "base_url");
        assert!(
            text.contains("not valid for h: it is valid for other"),
            "{text}"
        );
        assert!(!text.contains("set `cacert_file`"), "{text}");
        let (attr, text) = at(T::UnknownIssuer { extra_roots: true });
        assert_eq!(attr, "cacert_file");
        assert!(text.contains("not trusted"), "{text}");
        let (attr, _) = at(T::ClientCertRefused {
            alert: "UnknownCA".into(),
        });
        assert_eq!(attr, "client_cert");
        let (_, text) = at(T::Expired {
            not_after: Some("2020-01-01T00:00:00Z".into()),
        });
        assert!(
            text.contains("expired at 2020-01-01T00:00:00Z") && text.contains("Renew"),
            "{text}"
        );
    }

    #[test]
    fn the_retry_advice_matches_what_the_provider_did() {
        let once = Error::from_response(503, b"x");
        let d = diagnostics(&once, "read the cluster", &group("g"));
        assert!(d.0[0].detail.contains("did not retry"), "{}", d.0[0].detail);
        let thrice = Error::from_response(503, b"x").after_attempts(3);
        let d = diagnostics(&thrice, "read the cluster", &group("g"));
        assert!(
            d.0[0].detail.contains("sent the request 3 times"),
            "{}",
            d.0[0].detail
        );
        // A 500 is not retried at all: no retry talk.
        let d = diagnostics(
            &Error::from_response(500, b"boom"),
            "read the cluster",
            &group("g"),
        );
        assert!(!d.0[0].detail.contains("retr"), "{}", d.0[0].detail);
    }

    #[test]
    fn grape_parameter_errors_point_at_the_attribute() {
        let e = Error::BadRequest {
            message: "platform_kubernetes_attributes[api_url] is missing".into(),
        };
        let d = diagnostics(&e, "create the cluster", &group("g"));
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "kubernetes_api_url"
        );
    }

    #[test]
    fn every_mapped_attribute_exists_in_the_resource_schema() {
        use crate::framework::Resource;
        let schema = super::super::cluster_resource::ClusterResource::<
            super::super::family::OfProject,
        >::default()
        .schema();
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
