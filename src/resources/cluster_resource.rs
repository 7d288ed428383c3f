//! The cluster resources `gitlab_group_cluster`, `gitlab_project_cluster` and
//! `gitlab_instance_cluster`, written once: a certificate-based Kubernetes cluster of the
//! owner its [`Family`] names. Create → POST, read → GET, update → PUT of the changed fields
//! only, delete → DELETE; the owner (`group`, `project`) and
//! `kubernetes_authorization_type` force replacement.

use std::marker::PhantomData;

use async_trait::async_trait;

use super::cluster::{Remote, desc};
use super::errors::diagnostics;
use super::family::{Family, Owned, Place, WithOwner};
use super::provider::ProviderData;
use crate::framework::prelude::*;
use crate::gitlab::error::Missing;
use crate::gitlab::types::{CreateCluster, CreatePlatform, UpdateCluster, UpdatePlatform};
use crate::gitlab::{Created, Error};

pub const AUTHORIZATION_TYPES: &[&str] = &["rbac", "abac", "unknown_authorization"];

/// GitLab's `ClusterNameValidator`: a user-provided cluster's name, when set or changed,
/// has at most 2048 characters (longer names stored earlier stay valid while unchanged).
pub const MAX_NAME_CHARS: usize = 2048;

// What GitLab normalises (Clusters::Cluster, Clusters::Platforms::Kubernetes and the API's
// parameter coercion), so that its spelling and the configuration's compare equal.
/// An empty domain is stored and returned as no domain.
const DOMAIN_NORM: &[Normalize] = &[Normalize::BlankAsNull];
/// A non-blank API URL is stripped.
const API_URL_NORM: &[Normalize] = &[Normalize::TrimSpace];
/// The CA certificate is stripped; PEM parsing ignores CRLF versus LF.
const CA_CERT_NORM: &[Normalize] = &[
    Normalize::LineEndings,
    Normalize::TrimSpace,
    Normalize::BlankAsNull,
];
/// `enforce_namespace_to_lower_case`, and a blank namespace is none.
const NAMESPACE_NORM: &[Normalize] = &[Normalize::Lowercase, Normalize::BlankAsNull];
/// Grape coerces `management_project_id` with `Integer(s, 10)`.
const PROJECT_ID_NORM: &[Normalize] = &[Normalize::BlankAsNull, Normalize::DecimalInteger];

const API_URL_HINT: &str =
    "Give the full URL of the Kubernetes API server, for example \"https://k8s.example.com:6443\".";
const CA_CERT_HINT: &str = "Give the cluster's CA certificate in PEM form (\"-----BEGIN CERTIFICATE-----\" ...), \
                            for example with file(\"ca.crt\").";

/// `Gitlab::Regex.kubernetes_namespace_regex` (`\A[a-z0-9]([-a-z0-9]*[a-z0-9])?\z`), 1 to 63
/// characters, checked after GitLab lower-cases the namespace; `gitlab-managed-apps` is reserved.
fn namespace_ok(s: &str) -> bool {
    let ns = s.to_lowercase();
    let b = ns.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len())
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || *c == b'-')
        && ns != "gitlab-managed-apps"
}

/// `Gitlab::Regex.environment_scope_regex`: `\A[a-zA-Z0-9_/${}. \-*]+\z`.
fn environment_scope_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_/${}. -*".contains(c))
}

/// `Clusters::Cluster#domain`: the `valid_hostname` gem's HostnameValidator with
/// `allow_numeric_hostname` — labels of letters, digits and `-` (not at either end), no
/// empty label and no trailing dot; the gem also holds the whole value to 63 characters.
fn domain_ok(s: &str) -> bool {
    let n = s.chars().count();
    (1..=63).contains(&n)
        && !s.ends_with('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

/// Whether two spellings of an attribute are the same value under `rules`.
fn same(rules: &[Normalize], a: &Val<String>, b: &Val<String>) -> bool {
    equivalent(rules, &a.to_value(), &b.to_value())
}

crate::tf_model! {
    /// Every attribute of a cluster resource but its owner.
    pub struct ClusterAttrs {
        id: Val<String>,
        name: Val<String>,
        domain: Val<String>,
        enabled: Val<bool>,
        managed: Val<bool>,
        kubernetes_api_url: Val<String>,
        kubernetes_token: Val<Sensitive>,
        kubernetes_token_wo: Val<Sensitive>,
        kubernetes_token_wo_version: Val<i64>,
        kubernetes_ca_cert: Val<String>,
        kubernetes_authorization_type: Val<String>,
        kubernetes_namespace: Val<String>,
        environment_scope: Val<String>,
        namespace_per_environment: Val<bool>,
        management_project_id: Val<String>,
        cluster_id: Val<i64>,
        cluster_type: Val<String>,
        created_at: Val<String>,
        provider_type: Val<String>,
        platform_type: Val<String>,
    }
}

/// A cluster resource's state: the family's owner attribute plus [`ClusterAttrs`].
pub type ClusterState<F> = WithOwner<F, ClusterAttrs>;

/// The resource of family `F` (`ClusterResource::<OfGroup>` is `gitlab_group_cluster`).
pub struct ClusterResource<F>(PhantomData<F>);

impl<F> Default for ClusterResource<F> {
    fn default() -> Self {
        ClusterResource(PhantomData)
    }
}

/// Where the clusters of `owner` (as spelled; `""` for the instance) are, in family `F`.
fn at<F: Owned>(owner: &str) -> Place<'_> {
    Place {
        family: F::FAMILY,
        owner,
    }
}

fn known(v: &Val<String>) -> Option<String> {
    v.known().cloned()
}

fn parse_project_id(v: &Val<String>) -> Option<i64> {
    v.known().and_then(|s| s.trim().parse().ok())
}

impl<F: Owned> ClusterState<F> {
    /// Takes every GitLab-side value from `remote`; the token, which GitLab never returns,
    /// stays as this state has it. (Where GitLab answers another spelling of the same value,
    /// the framework keeps Terraform's, from the schema's `normalize` rules.)
    fn merge_remote(&mut self, r: &Remote) {
        self.inner.id = Val::Known(F::FAMILY.state_id(&self.owner_str(), r.cluster_id));
        self.cluster_id = Val::Known(r.cluster_id);
        self.name = Val::Known(r.name.clone());
        self.domain = r.domain.clone().into();
        self.kubernetes_api_url = r.api_url.clone().into();
        self.kubernetes_ca_cert = r.ca_cert.clone().into();
        self.kubernetes_namespace = r.namespace.clone().into();
        if let Some(b) = r.enabled {
            self.enabled = Val::Known(b);
        }
        if let Some(b) = r.managed {
            self.managed = Val::Known(b);
        }
        if let Some(b) = r.namespace_per_environment {
            self.namespace_per_environment = Val::Known(b);
        }
        if let Some(a) = &r.authorization_type {
            self.kubernetes_authorization_type = Val::Known(a.clone());
        }
        if let Some(s) = &r.environment_scope {
            self.environment_scope = Val::Known(s.clone());
        }
        self.management_project_id = r.management_project_id.clone().into();
        self.cluster_type = r.cluster_type.clone().into();
        self.created_at = r.created_at.clone().into();
        self.provider_type = r.provider_type.clone().into();
        self.platform_type = r.platform_type.clone().into();
        if self.kubernetes_token.is_unknown() {
            self.kubernetes_token = Val::Null;
        }
    }

    /// Where the cluster lives: its owner as spelled (`""` for the instance) and numeric id.
    /// State written by the official provider has no `cluster_id`; its `id`
    /// (`<group>:<cluster_id>`, or the bare id for the instance) says the same.
    fn location(&self) -> Result<(String, i64), Diagnostics> {
        let missing = || -> Diagnostics {
            Diagnostic::error(
                "Missing cluster id",
                format!(
                    "The state has neither a cluster_id nor an id of the form {}; import the cluster again.",
                    F::FAMILY
                        .owner_attr
                        .map_or("<cluster_id>".to_string(), |a| format!("<{a}>:<cluster_id>"))
                ),
            )
            .into()
        };
        let from_id = self
            .id
            .known()
            .and_then(|id| F::FAMILY.parse_state_id(id).ok());
        let group = match F::FAMILY.owner_attr {
            None => Some(String::new()),
            Some(_) => self
                .owner
                .known()
                .cloned()
                .or_else(|| from_id.as_ref().map(|(g, _)| g.clone())),
        };
        let id = self
            .cluster_id
            .known()
            .copied()
            .or_else(|| from_id.map(|(_, i)| i));
        match (group, id) {
            (Some(g), Some(i)) => Ok((g, i)),
            _ => Err(missing()),
        }
    }
}

/// The PUT body: exactly the fields whose planned value differs from the prior state —
/// plus `namespace_per_environment = false` whenever that is the planned value: GitLab's
/// PUT declares it with `default: true`, so any update that omits it turns it back on.
fn update_body(prior: &ClusterAttrs, planned: &ClusterAttrs) -> UpdateCluster {
    let mut body = changed_fields(prior, planned);
    if !body.is_empty() && planned.namespace_per_environment == Val::Known(false) {
        body.namespace_per_environment = Some(false);
    }
    body
}

fn changed_fields(prior: &ClusterAttrs, planned: &ClusterAttrs) -> UpdateCluster {
    fn changed<T: PartialEq + Clone>(a: &Val<T>, b: &Val<T>) -> Option<T> {
        (a != b).then(|| b.known().cloned()).flatten()
    }
    fn changed_nullable(
        rules: &[Normalize],
        a: &Val<String>,
        b: &Val<String>,
    ) -> Option<Option<String>> {
        (!same(rules, a, b)).then(|| b.known().cloned())
    }
    UpdateCluster {
        name: changed(&prior.name, &planned.name),
        domain: changed_nullable(DOMAIN_NORM, &prior.domain, &planned.domain),
        management_project_id: (!same(
            PROJECT_ID_NORM,
            &prior.management_project_id,
            &planned.management_project_id,
        ))
        .then(|| parse_project_id(&planned.management_project_id)),
        enabled: changed(&prior.enabled, &planned.enabled),
        managed: changed(&prior.managed, &planned.managed),
        environment_scope: changed(&prior.environment_scope, &planned.environment_scope),
        namespace_per_environment: changed(
            &prior.namespace_per_environment,
            &planned.namespace_per_environment,
        ),
        platform_kubernetes_attributes: UpdatePlatform {
            api_url: (!same(
                API_URL_NORM,
                &prior.kubernetes_api_url,
                &planned.kubernetes_api_url,
            ))
            .then(|| known(&planned.kubernetes_api_url))
            .flatten(),
            token: changed(&prior.kubernetes_token, &planned.kubernetes_token)
                .or_else(|| write_only_token(prior, planned)),
            ca_cert: changed_nullable(
                CA_CERT_NORM,
                &prior.kubernetes_ca_cert,
                &planned.kubernetes_ca_cert,
            ),
            namespace: changed_nullable(
                NAMESPACE_NORM,
                &prior.kubernetes_namespace,
                &planned.kubernetes_namespace,
            ),
        },
    }
}

/// The resource's description: whose cluster, through which API.
fn resource_description(f: &Family) -> String {
    let whose = match f.owner_attr {
        Some(_) => format!("a GitLab {}", f.noun),
        None => "the GitLab instance, for administrators".to_string(),
    };
    format!(
        "Manages a certificate-based Kubernetes cluster of {whose} (API: `{}`). Certificate-based clusters are \
         deprecated since GitLab 14.5 and switched off by default on new instances since 15.0.",
        f.api
    )
}

/// The attributes after `id` and the owner, the same in every family but for its words.
fn cluster_attributes(f: &Family) -> Vec<Attribute> {
    vec![
        Attribute::string("name")
            .required()
            .validate(NotBlank)
            .describe(desc::NAME),
        Attribute::string("domain")
            .optional()
            .normalize(DOMAIN_NORM)
            .validate(Rule {
                test: domain_ok,
                rule: "A host name of at most 63 characters: labels of letters, digits and `-` (not at \
                       either end of a label), separated by single dots, no trailing dot (GitLab's \
                       hostname check). Empty means no domain.",
            })
            .describe(desc::DOMAIN),
        Attribute::bool("enabled")
            .default(true)
            .describe(desc::ENABLED),
        Attribute::bool("managed")
            .default(true)
            .describe(desc::MANAGED),
        Attribute::string("kubernetes_api_url")
            .required()
            .normalize(API_URL_NORM)
            .validate(HttpUrl { hint: API_URL_HINT })
            .describe(desc::API_URL),
        Attribute::string("kubernetes_token")
            .optional()
            .sensitive()
            .validate(NotBlank)
            .describe(desc::TOKEN),
        Attribute::string("kubernetes_token_wo")
            .optional()
            .sensitive()
            .write_only("kubernetes_token")
            .validate(NotBlank)
            .describe(desc::TOKEN_WO),
        Attribute::number("kubernetes_token_wo_version")
            .optional()
            .describe(desc::TOKEN_WO_VERSION),
        Attribute::string("kubernetes_ca_cert")
            .optional()
            .normalize(CA_CERT_NORM)
            .validate(PemCertificate { hint: CA_CERT_HINT })
            .describe(desc::CA_CERT),
        Attribute::string("kubernetes_authorization_type")
            .default("rbac")
            .force_new()
            .validate(OneOf(AUTHORIZATION_TYPES))
            .describe(desc::AUTH_TYPE),
        Attribute::string("kubernetes_namespace")
            .optional()
            .normalize(NAMESPACE_NORM)
            .validate(Rule {
                test: namespace_ok,
                rule: "A Kubernetes namespace name: 1 to 63 letters, digits and `-`, starting and ending \
                       with a letter or digit (GitLab lower-cases it); not `gitlab-managed-apps`.",
            })
            .describe(&desc::namespace(f)),
        Attribute::string("environment_scope")
            .default("*")
            .validate(NotBlank)
            .validate(Rule {
                test: environment_scope_ok,
                rule: "Letters, digits, spaces and `_ / $ { } . - *` only (GitLab's environment scope \
                       format).",
            })
            .describe(&desc::env_scope(f)),
        Attribute::bool("namespace_per_environment")
            .default(true)
            .describe(desc::NAMESPACE_PER_ENV),
        Attribute::string("management_project_id")
            .optional()
            .normalize(PROJECT_ID_NORM)
            .validate(PositiveIntegerString)
            .describe(&desc::mgmt_project(f)),
        Attribute::number("cluster_id")
            .computed()
            .stable()
            .describe(desc::CLUSTER_ID),
        Attribute::string("cluster_type")
            .computed()
            .always(f.cluster_type())
            .describe(&desc::cluster_type(f)),
        Attribute::string("created_at")
            .computed()
            .stable()
            .describe(desc::CREATED_AT),
        Attribute::string("provider_type")
            .computed()
            .always("user")
            .describe(desc::PROVIDER_TYPE),
        Attribute::string("platform_type")
            .computed()
            .always("kubernetes")
            .describe(desc::PLATFORM_TYPE),
    ]
}

#[async_trait]
impl<F: Owned> Resource<ProviderData> for ClusterResource<F> {
    type State = ClusterState<F>;

    fn type_name(&self) -> &'static str {
        F::FAMILY.resource
    }

    fn schema(&self) -> Schema {
        let f = F::FAMILY;
        let mut attrs = vec![
            Attribute::string("id")
                .computed()
                .stable()
                .describe(&desc::id(f)),
        ];
        attrs.extend(f.owner_attribute(true));
        attrs.extend(cluster_attributes(f));
        Schema::new(&resource_description(f), attrs)
    }

    fn validate(&self, c: &ClusterState<F>) -> Diagnostics {
        let mut d = Diagnostics::new();
        let managed = match &c.managed {
            Val::Known(b) => Some(*b),
            Val::Null => Some(true),
            Val::Unknown => None,
        };
        let namespace_set = c
            .kubernetes_namespace
            .known()
            .is_some_and(|ns| !ns.trim().is_empty());
        if F::FAMILY.namespace_needs_unmanaged && namespace_set && managed == Some(true) {
            d.push(
                Diagnostic::error(
                    "kubernetes_namespace needs managed = false",
                    "GitLab creates namespaces itself for managed clusters and rejects a fixed namespace. \
                     Set managed = false to use kubernetes_namespace, or remove kubernetes_namespace.",
                )
                .at_attr("kubernetes_namespace"),
            );
        }
        d.extend(token_rules(c));
        d
    }

    /// State from the official gitlabhq/gitlab provider (recognised by its lack of
    /// `cluster_id`) is brought to this provider's conventions and completed, so that
    /// switching `source` plans no change, and a plan without a refresh holds only what the
    /// configuration changed: its `""` for unset strings becomes null, `cluster_id` comes
    /// from its id (`<group>:<cluster id>`), and what it did not store takes GitLab's
    /// default (`namespace_per_environment` true; no namespace, no write-only token). The CA
    /// certificate stays as GitLab holds it (the schema's PEM rules match it to a
    /// configuration that ends with a newline).
    fn migrate_state(&self, _version: i64, attrs: &mut serde_json::Map<String, serde_json::Value>) {
        use serde_json::Value as J;
        if attrs.contains_key("cluster_id") {
            return;
        }
        if let Some(cid) = attrs
            .get("id")
            .and_then(J::as_str)
            .and_then(|id| F::FAMILY.parse_state_id(id).ok())
            .map(|(_, cid)| cid)
        {
            attrs.insert("cluster_id".into(), J::from(cid));
        }
        for (key, default) in [
            ("namespace_per_environment", J::Bool(true)),
            ("kubernetes_namespace", J::Null),
            ("kubernetes_token_wo", J::Null),
            ("kubernetes_token_wo_version", J::Null),
        ] {
            if attrs.get(key).is_none_or(J::is_null) {
                attrs.insert(key.to_string(), default);
            }
        }
        for key in [
            "domain",
            "kubernetes_ca_cert",
            "management_project_id",
            "kubernetes_namespace",
        ] {
            if attrs
                .get(key)
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.trim().is_empty())
            {
                attrs.insert(key.to_string(), serde_json::Value::Null);
            }
        }
    }

    /// Checks what only the plan can (the name's length applies when it is set or changed;
    /// the token rules on the values known now; a create needs a token), and recognises
    /// `group` spelled as an id or as a path: when only the spelling changed (the cluster is
    /// found under the new spelling: group clusters belong to exactly one group), the change
    /// is cosmetic: no replacement, no API write, a new `id`. A lookup that fails is a plan
    /// error, never a replacement.
    async fn modify_plan(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        prior: Option<&ClusterState<F>>,
        planned: &mut ClusterState<F>,
        config: &ClusterState<F>,
    ) -> PlanNotes {
        let mut notes = PlanNotes::default();
        if let Val::Known(name) = &planned.name
            && prior.is_none_or(|p| p.name != planned.name)
        {
            let n = name.chars().count();
            if n > MAX_NAME_CHARS {
                notes.diags.push(
                    Diagnostic::error(
                        "Invalid value for name",
                        format!(
                            "The name has {n} characters; GitLab takes at most {MAX_NAME_CHARS} for a new or \
                             changed name."
                        ),
                    )
                    .at_attr("name"),
                );
            }
        }
        // Again with the values known now (validation may have seen them unknown).
        notes.diags.extend(token_rules(config));
        if notes.diags.has_errors() {
            return notes;
        }
        let Some(prior) = prior else {
            notes.diags.extend(create_needs_a_token(config));
            return notes;
        };
        let (Some(attr), Some(old), Some(new), Some(id)) = (
            F::FAMILY.owner_attr,
            prior.owner.known(),
            planned.owner.known(),
            prior.cluster_id.known(),
        ) else {
            return notes;
        };
        if old == new {
            return notes;
        }
        // The same owner spelled another way (id / path, letter case) has the same id; that,
        // not the absence of an answer, decides. A lookup that fails decides nothing.
        let noun = F::FAMILY.noun;
        let client = &ctx.data.client;
        let lookup = match client.owner(&F::FAMILY.client_owner(old)).await {
            Ok(a) => client
                .owner(&F::FAMILY.client_owner(new))
                .await
                .map(|b| (a, b))
                .map_err(|e| (e, new.as_str())),
            Err(e) => Err((e, old.as_str())),
        };
        match lookup {
            Ok((a, b)) if a.id == b.id => {
                notes.equivalent.push(attr);
                planned.inner.id = Val::Known(F::FAMILY.state_id(new, *id));
            }
            // Another owner: the cluster moves, which GitLab cannot do in place.
            Ok(_) => {}
            Err((e, which)) => {
                let mut d = diagnostics(
                    &e,
                    &format!(
                        "look up {noun} {which:?} to tell whether {new:?} is the {noun} {old:?} that holds cluster {id}"
                    ),
                    &at::<F>(which),
                );
                for diag in d.0.iter_mut() {
                    // The attribute whose plan could not be decided; the text names the cause.
                    diag.attribute = Some(AttributePath::attr(attr));
                    diag.detail.push_str(&format!(
                        " Nothing was planned: without this answer the provider cannot tell a new spelling of the \
                         same {noun} (no change) from another {noun} (a replacement). Run the plan again; if the \
                         {noun} was renamed or deleted in GitLab, see the provider documentation's \"Group or project \
                         renamed or deleted\"."
                    ));
                }
                notes.diags.extend(d);
            }
        }
        notes
    }

    async fn create(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        planned: ClusterState<F>,
    ) -> Outcome<ClusterState<F>> {
        let group = match (F::FAMILY.owner_attr, known(&planned.owner)) {
            (None, _) => String::new(),
            (Some(_), Some(g)) => g,
            (Some(attr), None) => {
                return Outcome::err(
                    Diagnostic::error(
                        format!("Missing {attr}"),
                        format!("The plan has no {attr}."),
                    )
                    .at_attr(attr),
                );
            }
        };
        let req = CreateCluster {
            name: known(&planned.name).unwrap_or_default(),
            domain: known(&planned.domain),
            management_project_id: parse_project_id(&planned.management_project_id),
            enabled: planned.enabled.known().copied(),
            managed: planned.managed.known().copied(),
            environment_scope: known(&planned.environment_scope),
            namespace_per_environment: planned.namespace_per_environment.known().copied(),
            platform_kubernetes_attributes: CreatePlatform {
                api_url: known(&planned.kubernetes_api_url).unwrap_or_default(),
                token: planned
                    .kubernetes_token
                    .known()
                    .or(planned.kubernetes_token_wo.known())
                    .cloned(),
                ca_cert: known(&planned.kubernetes_ca_cert),
                authorization_type: known(&planned.kubernetes_authorization_type),
                namespace: known(&planned.kubernetes_namespace),
            },
        };
        match ctx
            .data
            .client
            .create_cluster(&at::<F>(&group).client_owner(), &req)
            .await
        {
            Ok(Created { cluster, adopted }) => {
                let mut state = planned;
                state.merge_remote(&Remote::from(&cluster));
                let mut o = Outcome::ok(state);
                if adopted {
                    o.diags.push(Diagnostic::warning(
                        "Recovered a lost response",
                        format!(
                            "GitLab's answer to the create request was lost; the provider found the cluster it had \
                             created (id {}) and recorded it, so no duplicate was made.",
                            cluster.id
                        ),
                    ));
                }
                o
            }
            Err(e) => Outcome::err(create_error(ctx, &e, &at::<F>(&group), &req).await),
        }
    }

    async fn read(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        state: ClusterState<F>,
    ) -> Outcome<ClusterState<F>> {
        let (group, id) = match state.location() {
            Ok(x) => x,
            Err(d) => return Outcome::err(d),
        };
        let at = at::<F>(&group);
        match ctx.data.client.get_cluster(&at.client_owner(), id).await {
            Ok(c) => {
                let mut s = state;
                s.merge_remote(&Remote::from(&c));
                Outcome::ok(s)
            }
            Err(e @ Error::NotFound { .. }) => {
                let what = "read the cluster";
                match still_listed(ctx, &at, id, e, what).await {
                    Ok(false) => {
                        tracing::info!(
                            cluster_id = id,
                            "cluster no longer exists; removing it from state"
                        );
                        Outcome::none()
                    }
                    // Listed: the 404 was wrong. Asked once more, GitLab decides.
                    Ok(true) => match ctx.data.client.get_cluster(&at.client_owner(), id).await {
                        Ok(c) => {
                            let mut s = state;
                            s.merge_remote(&Remote::from(&c));
                            Outcome::ok(s)
                        }
                        Err(e) => Outcome::err(answers_disagree(what, &at, id, &e)),
                    },
                    Err(d) => Outcome::err(d),
                }
            }
            Err(e) => Outcome::err(diagnostics(&e, "read the cluster", &at)),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        prior: ClusterState<F>,
        planned: ClusterState<F>,
    ) -> Outcome<ClusterState<F>> {
        let (group, id) = match prior.location() {
            Ok(x) => x,
            Err(d) => return Outcome::err(d),
        };
        let body = update_body(&prior, &planned);
        if body.is_empty() {
            // Nothing GitLab stores is to change (the group spelled another way, a token kept
            // in Terraform only): GitLab's values stay as last read, never as planned, so a
            // value the plan wanted and no PUT can carry shows as not applied.
            let mut state = prior;
            state.inner.id =
                Val::Known(F::FAMILY.state_id(&known(&planned.owner).unwrap_or(group), id));
            state.cluster_id = Val::Known(id);
            state.owner = planned.owner;
            let planned = planned.inner;
            state.kubernetes_token = planned.kubernetes_token;
            state.kubernetes_token_wo = planned.kubernetes_token_wo;
            state.kubernetes_token_wo_version = planned.kubernetes_token_wo_version;
            return Outcome::ok(state);
        }
        let mut state = planned;
        match ctx
            .data
            .client
            .update_cluster(&at::<F>(&group).client_owner(), id, &body)
            .await
        {
            Ok(c) => {
                state.merge_remote(&Remote::from(&c));
                Outcome::ok(state)
            }
            Err(e) => Outcome::err(diagnostics(&e, "update the cluster", &at::<F>(&group))),
        }
    }

    async fn delete(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        prior: ClusterState<F>,
    ) -> Outcome<ClusterState<F>> {
        let (group, id) = match prior.location() {
            Ok(x) => x,
            Err(d) => return Outcome::err(d),
        };
        let at = at::<F>(&group);
        let owner = at.client_owner();
        match ctx.data.client.delete_cluster(&owner, id).await {
            Ok(()) => Outcome::none(),
            // GitLab says the owner is not there. If it says so twice (the owner itself
            // is not found either), the cluster went with it or is out of this token's
            // reach: the destroy ends, saying how to come back if it was the latter.
            Err(e) if e.is_owner_not_found(&owner) => {
                let noun = F::FAMILY.noun;
                match ctx.data.client.owner(&owner).await {
                    Err(g) if g.is_owner_not_found(&owner) => {
                        let mut o = Outcome::none();
                        o.diags.push(Diagnostic::warning(
                            format!("Cluster removed from state: its {noun} is not found"),
                            format!(
                                "GitLab has no {} visible to this token, both for the cluster and for the \
                                 {noun} itself: if the {noun} was deleted, cluster {id} went with it. If the token \
                                 only lost access, the cluster may still exist in GitLab: with access back, bring it \
                                 under Terraform again with\n  terraform import <resource address> {}",
                                at.describe(),
                                at.state_id(id)
                            ),
                        ));
                        o
                    }
                    // The owner is there: the first answer was wrong about it.
                    Ok(_) => delete_listed(ctx, &at, id, None).await,
                    Err(_) => Outcome::err(diagnostics(&e, "delete the cluster", &at)),
                }
            }
            Err(e @ (Error::NotFound { .. } | Error::WrongEntity { .. })) => {
                delete_listed(ctx, &at, id, Some(e)).await
            }
            Err(e) => Outcome::err(diagnostics(&e, "delete the cluster", &at)),
        }
    }

    async fn import(&self, ctx: &Ctx<'_, ProviderData>, id: &str) -> Outcome<ClusterState<F>> {
        let (group, cluster_id) = match F::FAMILY.parse_state_id(id) {
            Ok(x) => x,
            Err(detail) => return Outcome::err(Diagnostic::error("Invalid import id", detail)),
        };
        let at = at::<F>(&group);
        match ctx
            .data
            .client
            .get_cluster(&at.client_owner(), cluster_id)
            .await
        {
            Ok(c) => {
                let owner = match F::FAMILY.owner_attr {
                    Some(_) => Val::Known(group.clone()),
                    None => Val::Null,
                };
                let mut s = ClusterState::<F>::new(owner, ClusterAttrs::default());
                // What GitLab holds, as it holds it (the CA certificate stripped, as the
                // official provider imports it): the schema's PEM rules match it to a
                // configuration that ends with a newline, and `ImportStateVerify` against a
                // `trimspace()` configuration finds what was applied.
                s.merge_remote(&Remote::from(&c));
                Outcome::ok(s)
            }
            Err(e) => Outcome::err(diagnostics(
                &e,
                &format!("import cluster {cluster_id} of {}", at.describe()),
                &at,
            )),
        }
    }
}

/// The write-only token goes to GitLab when its version changes (first appearance
/// included); Terraform cannot see a new value under the same version.
fn write_only_token(prior: &ClusterAttrs, planned: &ClusterAttrs) -> Option<Sensitive> {
    (prior.kubernetes_token_wo_version != planned.kubernetes_token_wo_version)
        .then(|| planned.kubernetes_token_wo.known().cloned())
        .flatten()
}

/// `kubernetes_token` and `kubernetes_token_wo` exclude each other, and a version is
/// meaningless without the write-only token. Unknown values are checked once known.
fn token_rules(c: &ClusterAttrs) -> Diagnostics {
    let mut d = Diagnostics::new();
    let known = |v: &Val<Sensitive>| matches!(v, Val::Known(_));
    if known(&c.kubernetes_token) && known(&c.kubernetes_token_wo) {
        for (attr, other) in [
            ("kubernetes_token", "kubernetes_token_wo"),
            ("kubernetes_token_wo", "kubernetes_token"),
        ] {
            d.push(
                Diagnostic::error(
                    "Conflicting Kubernetes tokens",
                    format!(
                        "`kubernetes_token` and `kubernetes_token_wo` cannot both be set. Keep one: \
                 `kubernetes_token_wo` (Terraform / OpenTofu 1.11 or later) keeps the token out of state; \
                 remove `{other}`."
                    ),
                )
                .at_attr(attr),
            );
        }
    }
    if c.kubernetes_token_wo_version.known().is_some() && c.kubernetes_token_wo.is_null() {
        d.push(
            Diagnostic::error(
                "kubernetes_token_wo_version needs kubernetes_token_wo",
                "`kubernetes_token_wo_version` says when to send `kubernetes_token_wo` again, and \
                 `kubernetes_token_wo` is not set. Set `kubernetes_token_wo`, or remove `kubernetes_token_wo_version`.",
            )
            .at_attr("kubernetes_token_wo_version"),
        );
    }
    d
}

/// GitLab needs a token to create a cluster (it holds it afterwards, so an existing or
/// imported cluster needs none). Said at plan time, before any request.
fn create_needs_a_token(config: &ClusterAttrs) -> Diagnostics {
    if !config.kubernetes_token.is_null() || !config.kubernetes_token_wo.is_null() {
        return Diagnostics::new();
    }
    Diagnostic::error(
        "Missing Kubernetes token",
        "Creating a cluster needs the service-account token GitLab will use: set `kubernetes_token`, or \
                 `kubernetes_token_wo` (write-only, Terraform / OpenTofu 1.11 or later). An existing cluster brought in \
                 with `terraform import` or an `import` block needs neither.",
    )
    .at_attr("kubernetes_token")
    .into()
}

/// Whether GitLab still lists cluster `id`, after a 404 for it. GitLab answers 404 alike
/// when the cluster is gone, when the group is not visible to the token and when
/// certificate-based clusters are switched off, and a proxy may answer 404 for anything: one
/// answer proves nothing. `Ok(false)`, gone, only when the group's whole list, read now, does
/// not hold it either; `Ok(true)`: it is listed, the 404 was wrong. A 404 naming the group,
/// or a list that cannot be read, is an error and the state stays.
async fn still_listed(
    ctx: &Ctx<'_, ProviderData>,
    at: &Place<'_>,
    id: i64,
    not_found: Error,
    what: &str,
) -> Result<bool, Diagnostics> {
    if not_found.missing() == Some(Missing::Owner) {
        return Err(diagnostics(&not_found, what, at));
    }
    listed(ctx, at, id, what).await
}

/// Whether the owner's whole list, read now, holds cluster `id`.
async fn listed(
    ctx: &Ctx<'_, ProviderData>,
    at: &Place<'_>,
    id: i64,
    what: &str,
) -> Result<bool, Diagnostics> {
    match ctx.data.client.list_clusters(&at.client_owner()).await {
        Ok(list) => Ok(list.iter().any(|c| c.id == id)),
        Err(e) => Err(diagnostics(&e, what, at)),
    }
}

/// After a DELETE answered 404 for the cluster (or an answer that is not GitLab's 204;
/// `None`: a 404 for the group, which GitLab then showed): gone when the group's list
/// agrees; when GitLab still lists it, DELETE once more.
async fn delete_listed<S>(
    ctx: &Ctx<'_, ProviderData>,
    at: &Place<'_>,
    id: i64,
    first: Option<Error>,
) -> Outcome<S> {
    let what = "delete the cluster";
    let listed = match first {
        Some(e) => still_listed(ctx, at, id, e, what).await,
        None => listed(ctx, at, id, what).await,
    };
    match listed {
        Ok(false) => Outcome::none(),
        Ok(true) => match ctx.data.client.delete_cluster(&at.client_owner(), id).await {
            Ok(()) => Outcome::none(),
            Err(e) => Outcome::err(answers_disagree(what, at, id, &e)),
        },
        Err(d) => Outcome::err(d),
    }
}

/// The error when GitLab answered 404 for a cluster it lists, and asking again failed too.
fn answers_disagree(what: &str, at: &Place<'_>, id: i64, again: &Error) -> Diagnostics {
    Diagnostic::error(
        format!("Could not {what}"),
        format!(
            "GitLab answered 404 for cluster {id}, yet lists it among the clusters of {}, and asking \
             again failed too ({again}). Its answers disagree, so the provider concluded nothing: the cluster stays \
             in state, unchanged. Run the command again.",
            at.describe()
        ),
    )
    .into()
}

/// Create errors, with the clashing cluster named when the environment scope is taken.
async fn create_error(
    ctx: &Ctx<'_, ProviderData>,
    e: &Error,
    at: &Place<'_>,
    req: &CreateCluster,
) -> Diagnostics {
    let mut d = diagnostics(e, "create the cluster", at);
    if !e.is_duplicate_environment_scope() {
        return d;
    }
    let scope = req.environment_scope.clone().unwrap_or_else(|| "*".into());
    if let Ok(clusters) = ctx.data.client.list_clusters(&at.client_owner()).await
        && let Some(c) = clusters
            .iter()
            .find(|c| c.environment_scope.as_deref().unwrap_or("*") == scope)
    {
        d = Diagnostic::error(
                "Environment scope already taken",
                format!(
                    "Cluster {:?} (id {}) of {} already serves environment scope {scope:?}, and environment \
                     scopes are unique within {}. If this cluster replaces that one with create_before_destroy, \
                     create-before-destroy cannot work for this resource unless environment_scope changes too: change \
                     the scope in the same apply, or remove create_before_destroy. Otherwise choose another \
                     environment_scope, or bring that cluster under Terraform with:\n  terraform import <resource \
                     address> {}",
                    c.name,
                    c.id,
                    at.describe(),
                    at.family.scope_unique_within,
                    at.state_id(c.id)
                ),
            )
            .at_attr("environment_scope")
            .into();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::family::OfGroup;

    type GroupCluster = ClusterResource<OfGroup>;

    fn state() -> ClusterState<OfGroup> {
        ClusterState::new(Val::Known("g".into()), attrs())
    }

    fn attrs() -> ClusterAttrs {
        ClusterAttrs {
            name: Val::Known("n".into()),
            enabled: Val::Known(true),
            kubernetes_token: Val::Known(Sensitive::new("tok")),
            kubernetes_ca_cert: Val::Known("CERT\n".into()),
            environment_scope: Val::Known("*".into()),
            cluster_id: Val::Known(3),
            ..Default::default()
        }
    }

    #[test]
    fn put_body_holds_only_the_changed_fields() {
        let prior = state();
        let mut planned = state();
        planned.name = Val::Known("renamed".into());
        let body = update_body(&prior, &planned);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name": "renamed"})
        );

        let mut planned = state();
        planned.kubernetes_token = Val::Known(Sensitive::new("new"));
        planned.domain = Val::Known("example.com".into());
        let body = update_body(&prior, &planned);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"domain": "example.com", "platform_kubernetes_attributes": {"token": "new"}})
        );
    }

    #[test]
    fn every_put_keeps_namespace_per_environment_off_because_gitlab_defaults_it_on() {
        let mut prior = state();
        prior.namespace_per_environment = Val::Known(false);
        let mut planned = prior.clone();
        planned.enabled = Val::Known(false);
        assert_eq!(
            serde_json::to_value(update_body(&prior, &planned)).unwrap(),
            serde_json::json!({"enabled": false, "namespace_per_environment": false})
        );
        assert!(update_body(&prior, &prior).is_empty());
    }

    #[test]
    fn whitespace_only_ca_cert_change_sends_nothing() {
        let prior = state();
        let mut planned = state();
        planned.kubernetes_ca_cert = Val::Known("  CERT".into());
        assert!(update_body(&prior, &planned).is_empty());
    }

    #[test]
    fn refresh_takes_gitlabs_values_and_keeps_the_token() {
        let mut s = state();
        let remote = Remote {
            cluster_id: 3,
            name: "n".into(),
            ca_cert: Some("CERT".into()),
            environment_scope: Some("*".into()),
            enabled: Some(false),
            ..Default::default()
        };
        s.merge_remote(&remote);
        assert_eq!(s.kubernetes_ca_cert, Val::Known("CERT".into()));
        assert_eq!(s.kubernetes_token, Val::Known(Sensitive::new("tok")));
        assert_eq!(s.enabled, Val::Known(false), "drift on enabled is visible");
        assert_eq!(s.id, Val::Known("g:3".into()));
    }

    #[test]
    fn the_spellings_gitlab_normalises_are_the_same_value_in_the_schema() {
        let schema = GroupCluster::default().schema();
        let same = |attr: &str, a: &str, b: Option<&str>| {
            let a = Value::from(a);
            let b = b.map_or(Value::Null, Into::into);
            schema.attribute(attr).unwrap().equivalent(&a, &b)
        };
        assert!(same(
            "kubernetes_namespace",
            "MyNamespace",
            Some("mynamespace")
        ));
        assert!(same("kubernetes_namespace", "", None));
        assert!(same("domain", "", None));
        assert!(!same("domain", "Example.com", Some("example.com")));
        assert!(same("management_project_id", "007", Some("7")));
        assert!(same("management_project_id", " +7", Some("7")));
        assert!(!same("management_project_id", "70", Some("7")));
        assert!(same("kubernetes_ca_cert", "A\r\nB\r\n", Some("A\nB")));
        assert!(same("kubernetes_api_url", " https://k ", Some("https://k")));
        assert!(!same("name", "N", Some("n")));
        assert!(!same("environment_scope", " *", Some("*")));
    }

    #[test]
    fn namespace_and_environment_scope_follow_gitlabs_formats() {
        assert!(namespace_ok("MyNamespace"));
        assert!(namespace_ok("team-1"));
        assert!(!namespace_ok(" ns"));
        assert!(!namespace_ok("-ns"));
        assert!(!namespace_ok("gitlab-managed-apps"));
        assert!(!namespace_ok(&"a".repeat(64)));
        assert!(domain_ok("Apps.Example.com"));
        assert!(domain_ok("10.0.0.1"));
        assert!(!domain_ok(" example.com"));
        assert!(!domain_ok("example.com."));
        assert!(!domain_ok("a..b"));
        assert!(!domain_ok("-a.com"));
        assert!(!domain_ok(&format!("{}.com", "a".repeat(60))));
        assert!(environment_scope_ok("review/${CI_COMMIT_REF_SLUG}"));
        assert!(environment_scope_ok("staging *"));
        assert!(!environment_scope_ok("prod!"));
    }

    #[test]
    fn respelled_values_send_nothing() {
        let mut prior = state();
        prior.kubernetes_namespace = Val::Known("ops".into());
        prior.management_project_id = Val::Known("7".into());
        let mut planned = prior.clone();
        planned.kubernetes_namespace = Val::Known("OPS".into());
        planned.management_project_id = Val::Known("007".into());
        planned.kubernetes_ca_cert = Val::Known("CERT\r\n".into());
        planned.domain = Val::Known(String::new());
        assert!(update_body(&prior, &planned).is_empty());
    }

    #[test]
    fn a_write_only_token_is_sent_exactly_when_its_version_changes() {
        let mut prior = state();
        prior.kubernetes_token = Val::Null;
        prior.kubernetes_token_wo_version = Val::Known(1);
        // The framework hands the resource the configured write-only value.
        let mut planned = prior.clone();
        planned.kubernetes_token_wo = Val::Known(Sensitive::new("wo-2"));
        assert!(update_body(&prior, &planned).is_empty(), "same version");
        planned.kubernetes_token_wo_version = Val::Known(2);
        assert_eq!(
            serde_json::to_value(update_body(&prior, &planned)).unwrap(),
            serde_json::json!({"platform_kubernetes_attributes": {"token": "wo-2"}})
        );
        // Other changes under the same version leave the token alone.
        let mut renamed = prior.clone();
        renamed.kubernetes_token_wo = Val::Known(Sensitive::new("wo-2"));
        renamed.name = Val::Known("renamed".into());
        assert_eq!(
            serde_json::to_value(update_body(&prior, &renamed)).unwrap(),
            serde_json::json!({"name": "renamed"})
        );
    }

    #[test]
    fn switching_from_kubernetes_token_to_the_write_only_one_sends_only_the_token() {
        let prior = state();
        let mut planned = state();
        planned.kubernetes_token = Val::Null;
        planned.kubernetes_token_wo = Val::Known(Sensitive::new("wo-1"));
        planned.kubernetes_token_wo_version = Val::Known(1);
        assert_eq!(
            serde_json::to_value(update_body(&prior, &planned)).unwrap(),
            serde_json::json!({"platform_kubernetes_attributes": {"token": "wo-1"}})
        );
        // Dropping the token from the configuration sends nothing.
        let mut dropped = state();
        dropped.kubernetes_token = Val::Null;
        assert!(update_body(&prior, &dropped).is_empty());
    }

    #[test]
    fn both_tokens_are_an_error_at_each_and_a_version_needs_the_write_only_token() {
        let mut c = state();
        c.kubernetes_token_wo = Val::Known(Sensitive::new("wo"));
        let d = GroupCluster::default().validate(&c);
        let at: Vec<String> =
            d.0.iter()
                .map(|x| x.attribute.as_ref().unwrap().to_string())
                .collect();
        assert_eq!(at, ["kubernetes_token", "kubernetes_token_wo"]);
        assert!(!format!("{d:?}").contains("tok\""));
        c.kubernetes_token = Val::Unknown;
        assert!(
            GroupCluster::default().validate(&c).is_empty(),
            "unknown: checked later"
        );

        let mut v = state();
        v.kubernetes_token_wo_version = Val::Known(1);
        let d = GroupCluster::default().validate(&v);
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "kubernetes_token_wo_version"
        );
        v.kubernetes_token_wo = Val::Unknown;
        assert!(GroupCluster::default().validate(&v).is_empty());
    }

    #[test]
    fn creating_needs_one_of_the_tokens_and_says_both_names() {
        let mut c = state();
        c.kubernetes_token = Val::Null;
        let d = create_needs_a_token(&c.inner);
        assert!(d.has_errors());
        let text = format!("{} {}", d.0[0].summary, d.0[0].detail);
        assert!(
            text.contains("`kubernetes_token`") && text.contains("`kubernetes_token_wo`"),
            "{text}"
        );
        c.kubernetes_token_wo = Val::Known(Sensitive::new("wo"));
        assert!(create_needs_a_token(&c.inner).is_empty());
        c.kubernetes_token_wo = Val::Unknown;
        assert!(create_needs_a_token(&c.inner).is_empty());
        assert!(create_needs_a_token(&state()).is_empty());
    }

    #[test]
    fn the_token_attributes_follow_terraforms_write_only_rules() {
        let schema = GroupCluster::default().schema();
        let wo = schema.attribute("kubernetes_token_wo").unwrap();
        assert!(wo.write_only && wo.sensitive && wo.optional);
        assert!(!wo.computed && wo.default.is_none() && !wo.force_new);
        let token = schema.attribute("kubernetes_token").unwrap();
        assert!(token.optional && !token.required && !token.write_only);
        let only_wo: Vec<&str> = schema
            .attributes
            .iter()
            .filter(|a| a.write_only)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(only_wo, ["kubernetes_token_wo"]);
    }

    #[test]
    fn state_of_the_official_provider_migrates_in_every_family() {
        use crate::resources::family::{OfInstance, OfProject};
        use serde_json::json;
        let official = |id: &str| -> serde_json::Map<String, serde_json::Value> {
            let v = json!({"id": id, "name": "c", "domain": "", "kubernetes_namespace": "",
                           "management_project_id": "", "kubernetes_ca_cert": ""});
            v.as_object().cloned().unwrap()
        };
        let mut p = official("qa/app:12");
        ClusterResource::<OfProject>::default().migrate_state(0, &mut p);
        assert_eq!(p["cluster_id"], json!(12));
        assert_eq!(p["namespace_per_environment"], json!(true));
        for k in [
            "domain",
            "kubernetes_namespace",
            "management_project_id",
            "kubernetes_ca_cert",
        ] {
            assert_eq!(p[k], serde_json::Value::Null, "{k}");
        }
        let mut i = official("15");
        ClusterResource::<OfInstance>::default().migrate_state(0, &mut i);
        assert_eq!(i["cluster_id"], json!(15));
        // This provider's own state is left alone.
        let mut own = official("15");
        own.insert("cluster_id".into(), json!(3));
        ClusterResource::<OfInstance>::default().migrate_state(0, &mut own);
        assert_eq!(own["cluster_id"], json!(3));
        assert_eq!(own["domain"], json!(""));
    }

    #[test]
    fn each_family_serves_its_own_schema_with_its_owner_and_cluster_type() {
        use crate::resources::family::{OfInstance, OfProject};
        let p = ClusterResource::<OfProject>::default().schema();
        let owner = p.attribute("project").unwrap();
        assert!(owner.required && owner.force_new);
        assert!(p.attribute("group").is_none());
        assert_eq!(
            p.attribute("cluster_type").unwrap().known_on_create,
            Some(Value::from("project_type"))
        );
        let i = ClusterResource::<OfInstance>::default().schema();
        assert!(i.attribute("group").is_none() && i.attribute("project").is_none());
        assert_eq!(
            i.attribute("cluster_type").unwrap().known_on_create,
            Some(Value::from("instance_type"))
        );
        assert_eq!(
            ClusterResource::<OfInstance>::default().type_name(),
            "gitlab_instance_cluster"
        );
        // The same attributes otherwise, in the same order.
        let names = |s: &Schema| -> Vec<String> {
            s.attributes
                .iter()
                .map(|a| a.name.clone())
                .filter(|n| n != "group" && n != "project")
                .collect()
        };
        assert_eq!(names(&p), names(&i));
        assert_eq!(names(&GroupCluster::default().schema()), names(&i));
    }

    #[test]
    fn an_instance_cluster_is_located_by_its_bare_id() {
        use crate::resources::family::OfInstance;
        let s = ClusterState::<OfInstance>::new(
            Val::Null,
            ClusterAttrs {
                id: Val::Known("15".into()),
                ..Default::default()
            },
        );
        assert_eq!(s.location().unwrap(), (String::new(), 15));
        let mut r = s.clone();
        r.merge_remote(&Remote {
            cluster_id: 15,
            name: "c".into(),
            ..Default::default()
        });
        assert_eq!(r.id, Val::Known("15".into()));
        assert!(r.owner.is_null());
    }

    #[test]
    fn namespace_requires_unmanaged_cluster() {
        let mut c = state();
        c.kubernetes_namespace = Val::Known("ns".into());
        let d = GroupCluster::default().validate(&c);
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "kubernetes_namespace"
        );
        c.managed = Val::Known(false);
        assert!(GroupCluster::default().validate(&c).is_empty());
        c.managed = Val::Unknown;
        assert!(GroupCluster::default().validate(&c).is_empty());
        // Project clusters take a fixed namespace whether managed or not (GitLab's
        // `allow_user_defined_namespace?` is `project_type? || !managed?`).
        let p = ClusterState::<crate::resources::family::OfProject>::new(
            Val::Known("qa/app".into()),
            ClusterAttrs {
                kubernetes_namespace: Val::Known("ns".into()),
                managed: Val::Known(true),
                ..attrs()
            },
        );
        assert!(ClusterResource::default().validate(&p).is_empty());
    }
}
