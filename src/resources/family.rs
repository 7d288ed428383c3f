//! The three owners of certificate-based clusters — a group, a project, the instance — as
//! data: what differs between `gitlab_group_cluster`, `gitlab_project_cluster` and
//! `gitlab_instance_cluster` (type names, the owner attribute, the id format, the texts
//! that name the owner and the role it takes), and the one typed wrapper that gives a
//! shared model its family's owner attribute. The resource and the data sources are written
//! once over these; nothing here talks to GitLab.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use crate::framework::prelude::*;
use crate::gitlab::ClusterOwner;

/// One family of cluster endpoints, and every word and rule that belongs to it.
#[derive(Debug)]
pub struct Family {
    /// The resource and single-cluster data source: `gitlab_group_cluster`.
    pub resource: &'static str,
    /// The list data source: `gitlab_group_clusters`.
    pub list_name: &'static str,
    /// The owner attribute (`group`, `project`); none for the instance.
    pub owner_attr: Option<&'static str>,
    /// The owner as a noun, for messages: `group`, `project`, `instance`.
    pub noun: &'static str,
    /// The API's path, for the documentation: `/groups/:id/clusters`.
    pub api: &'static str,
    /// The owner attribute's rule (an id or a full path without `.`/`..` segments).
    pub owner_rule: &'static str,
    /// The owner attribute's description in the resource and in the data sources.
    pub owner_desc_resource: &'static str,
    pub owner_desc: &'static str,
    /// What `environment_scope` is unique within.
    pub scope_unique_within: &'static str,
    /// Which projects GitLab accepts as the management project.
    pub management_project_scope: &'static str,
    /// Who may read and who may write this family's clusters.
    pub read_role: &'static str,
    pub write_role: &'static str,
    /// What to check when GitLab answers 404 for a cluster of an owner it shows.
    pub cluster_not_found_hint: &'static str,
    /// Whether a fixed `kubernetes_namespace` needs `managed = false`
    /// (`Clusters::Cluster#allow_user_defined_namespace?` is `project_type? || !managed?`).
    pub namespace_needs_unmanaged: bool,
}

pub static GROUP: Family = Family {
    resource: "gitlab_group_cluster",
    list_name: "gitlab_group_clusters",
    owner_attr: Some("group"),
    noun: "group",
    api: "/groups/:id/clusters",
    owner_rule: "A group's numeric id or full path (e.g. `parent/child`): segments separated by single `/`, none of \
                 them empty, `.` or `..` (GitLab's path rules).",
    owner_desc_resource: "The group the cluster belongs to: its numeric id or its full path (`parent/child`). \
                          Moving the cluster to another group replaces it; spelling the same group by id instead \
                          of path (or back) changes nothing in GitLab.",
    owner_desc: "The group the cluster belongs to: its numeric id or its full path (`parent/child`).",
    scope_unique_within: "a group",
    management_project_scope: "a project of the cluster's group or of its subgroups",
    read_role: "Reading a group's clusters needs at least the Developer role on the group (creating, updating \
                and deleting them needs Maintainer).",
    write_role: "Creating, updating and deleting a group's clusters needs at least the Maintainer role on the \
                 group (reading them needs Developer).",
    cluster_not_found_hint: "Check the cluster id, and that the cluster belongs to this group (group clusters \
                             are not inherited by subgroups).",
    namespace_needs_unmanaged: true,
};

pub static PROJECT: Family = Family {
    resource: "gitlab_project_cluster",
    list_name: "gitlab_project_clusters",
    owner_attr: Some("project"),
    noun: "project",
    api: "/projects/:id/clusters",
    owner_rule: "A project's numeric id or full path (e.g. `group/project`): segments separated by single `/`, \
                 none of them empty, `.` or `..` (GitLab's path rules).",
    owner_desc_resource: "The project the cluster belongs to: its numeric id or its full path \
                          (`namespace/project`). Moving the cluster to another project replaces it; spelling the \
                          same project by id instead of path (or back) changes nothing in GitLab.",
    owner_desc: "The project the cluster belongs to: its numeric id or its full path (`namespace/project`).",
    scope_unique_within: "a project",
    management_project_scope: "a project of the same namespace as the cluster's project",
    read_role: "Reading a project's clusters needs at least the Developer role on the project (creating, \
                updating and deleting them needs Maintainer).",
    write_role: "Creating, updating and deleting a project's clusters needs at least the Maintainer role on the \
                 project (reading them needs Developer).",
    cluster_not_found_hint: "Check the cluster id, and that the cluster belongs to this project (a project does \
                             not serve its group's clusters under its own clusters).",
    namespace_needs_unmanaged: false,
};

pub static INSTANCE: Family = Family {
    resource: "gitlab_instance_cluster",
    list_name: "gitlab_instance_clusters",
    owner_attr: None,
    noun: "instance",
    api: "/admin/clusters",
    owner_rule: "",
    owner_desc_resource: "",
    owner_desc: "",
    scope_unique_within: "the instance",
    management_project_scope: "any project",
    read_role: "The instance's clusters (`/admin/clusters`) are for administrators only: the provider's token \
                must belong to an administrator (with the `admin_mode` scope too, where Admin Mode is on).",
    write_role: "The instance's clusters (`/admin/clusters`) are for administrators only: the provider's token \
                 must belong to an administrator (with the `admin_mode` scope too, where Admin Mode is on).",
    cluster_not_found_hint: "Check the cluster id, and that it is an instance cluster (group and project \
                             clusters are not listed under /admin/clusters).",
    namespace_needs_unmanaged: true,
};

impl Family {
    /// The owner the client addresses, from the owner attribute as spelled.
    pub fn client_owner(&self, spelled: &str) -> ClusterOwner {
        match self.owner_attr {
            Some("project") => ClusterOwner::Project(spelled.to_string()),
            Some(_) => ClusterOwner::Group(spelled.to_string()),
            None => ClusterOwner::Instance,
        }
    }

    /// The owner in words: `group "qa"`, `the instance`.
    pub fn describe(&self, spelled: &str) -> String {
        self.client_owner(spelled).describe()
    }

    /// The `cluster_type` of this family's clusters (`group_type`).
    pub fn cluster_type(&self) -> &'static str {
        self.client_owner("").cluster_type()
    }

    /// The resource id and import id: `<owner>:<cluster_id>`, or the bare cluster id for
    /// the instance (the official provider's formats).
    pub fn state_id(&self, owner: &str, cluster_id: i64) -> String {
        match self.owner_attr {
            Some(_) => format!("{owner}:{cluster_id}"),
            None => cluster_id.to_string(),
        }
    }

    /// The import id with a placeholder for the cluster id, for messages.
    pub fn import_id_hint(&self, owner: &str) -> String {
        match self.owner_attr {
            Some(_) => format!("{owner}:<cluster id>"),
            None => "<cluster id>".to_string(),
        }
    }

    /// Parses a resource or import id into the owner as spelled (`""` for the instance) and
    /// the cluster id. An owner's path holds no `:`, but the id splits on the last one so that
    /// any spelling round-trips.
    pub fn parse_state_id(&self, id: &str) -> Result<(String, i64), String> {
        let Some(attr) = self.owner_attr else {
            let hint = "Expected the cluster's numeric id, for example \"7\".";
            return id
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| (String::new(), n))
                .ok_or_else(|| format!("{id:?} is not a cluster id. {hint}"));
        };
        let example = if attr == "group" {
            "\"42:7\" or \"parent/child:7\""
        } else {
            "\"42:7\" or \"group/project:7\""
        };
        let hint = format!(
            "Expected <{attr}>:<cluster_id>, where <{attr}> is the {attr}'s numeric id or full path, for example \
             {example}."
        );
        let (owner, cluster) = id
            .trim()
            .rsplit_once(':')
            .ok_or_else(|| format!("{id:?} has no ':'. {hint}"))?;
        if owner.is_empty() {
            return Err(format!("{id:?} has no {attr}. {hint}"));
        }
        let cluster_id = cluster
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{cluster:?} is not a cluster id. {hint}"))?;
        Ok((owner.to_string(), cluster_id))
    }

    /// The owner attribute of a resource or data source: required, a path or an id.
    pub fn owner_attribute(&self, resource: bool) -> Option<Attribute> {
        let name = self.owner_attr?;
        let a = Attribute::string(name)
            .required()
            .validate(NotBlank)
            .validate(Rule {
                test: owner_path_ok,
                rule: self.owner_rule,
            });
        Some(if resource {
            a.force_new()
                .validate(Trimmed)
                .describe(self.owner_desc_resource)
        } else {
            a.describe(self.owner_desc)
        })
    }
}

/// An owner as GitLab's namespace paths allow it: a numeric id, or a full path of
/// non-empty segments none of which is `.` or `..` (GitLab's path rules allow neither;
/// sent, they would leave `/groups/` or `/projects/` and reach another endpoint).
pub fn owner_path_ok(s: &str) -> bool {
    s.split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// One owner's clusters: the family and the owner as spelled (`""` for the instance).
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    pub family: &'static Family,
    pub owner: &'a str,
}

impl Place<'_> {
    pub fn client_owner(&self) -> ClusterOwner {
        self.family.client_owner(self.owner)
    }
    pub fn describe(&self) -> String {
        self.family.describe(self.owner)
    }
    pub fn state_id(&self, cluster_id: i64) -> String {
        self.family.state_id(self.owner, cluster_id)
    }
    pub fn import_id_hint(&self) -> String {
        self.family.import_id_hint(self.owner)
    }
}

/// A family at the type level, so that a model's owner attribute is known where Terraform
/// values are decoded. Each marker only names its [`Family`].
pub trait Owned: Clone + fmt::Debug + Default + PartialEq + Send + Sync + 'static {
    const FAMILY: &'static Family;
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OfGroup;
impl Owned for OfGroup {
    const FAMILY: &'static Family = &GROUP;
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OfProject;
impl Owned for OfProject {
    const FAMILY: &'static Family = &PROJECT;
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OfInstance;
impl Owned for OfInstance {
    const FAMILY: &'static Family = &INSTANCE;
}

/// A shared model `T` plus the family's owner attribute (`group`, `project`; none for the
/// instance, whose `owner` is always null). Derefs to `T`, so the shared attributes read as
/// fields of the model.
#[derive(Clone, Default, PartialEq)]
pub struct WithOwner<F, T> {
    pub owner: Val<String>,
    pub inner: T,
    family: PhantomData<F>,
}

impl<F: Owned, T> WithOwner<F, T> {
    pub fn new(owner: Val<String>, inner: T) -> Self {
        WithOwner {
            owner,
            inner,
            family: PhantomData,
        }
    }

    /// The owner as spelled, `""` for the instance (or when not known).
    pub fn owner_str(&self) -> String {
        self.owner.known().cloned().unwrap_or_default()
    }
}

impl<F, T> Deref for WithOwner<F, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<F, T> DerefMut for WithOwner<F, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<F, T: fmt::Debug> fmt::Debug for WithOwner<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithOwner")
            .field("owner", &self.owner)
            .field("inner", &self.inner)
            .finish()
    }
}

impl<F: Owned, T: TfValue> TfValue for WithOwner<F, T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        let inner = T::from_value(v, path)?;
        let owner = match F::FAMILY.owner_attr {
            Some(a) => Val::<String>::from_value(v.get(a), &path.push_attr(a))?,
            None => Val::Null,
        };
        Ok(WithOwner::new(owner, inner))
    }
    fn to_value(&self) -> Value {
        let mut v = self.inner.to_value();
        if let (Some(a), Value::Object(m)) = (F::FAMILY.owner_attr, &mut v) {
            m.insert(a.to_string(), self.owner.to_value());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::tf_model! {
        struct M { id: Val<String>, n: Val<i64> }
    }

    #[test]
    fn an_owner_path_is_refused_where_gitlabs_path_rules_refuse_it() {
        for ok in ["qa", "42", "qa/platform", "a.b/c-d_e", "qa/.hidden"] {
            assert!(owner_path_ok(ok), "{ok}");
        }
        for bad in [".", "..", "qa/..", "../qa", "qa/./x", "qa//x", "/qa", "qa/"] {
            assert!(!owner_path_ok(bad), "{bad}");
        }
    }

    #[test]
    fn import_ids_are_owner_colon_id_split_on_the_last_colon_and_the_bare_id_for_the_instance() {
        assert_eq!(GROUP.parse_state_id("42:7"), Ok(("42".into(), 7)));
        assert_eq!(
            PROJECT.parse_state_id("parent/child:12"),
            Ok(("parent/child".into(), 12))
        );
        let e = GROUP.parse_state_id("42").unwrap_err();
        assert!(e.contains("<group>:<cluster_id>"), "{e}");
        let e = PROJECT.parse_state_id("42").unwrap_err();
        assert!(e.contains("<project>:<cluster_id>"), "{e}");
        assert!(GROUP.parse_state_id(":7").is_err());
        assert!(GROUP.parse_state_id("g:x").is_err());
        assert!(GROUP.parse_state_id("g:0").is_err());
        assert_eq!(GROUP.state_id("parent/child", 12), "parent/child:12");
        assert_eq!(INSTANCE.parse_state_id(" 12 "), Ok((String::new(), 12)));
        assert!(INSTANCE.parse_state_id("x:12").is_err());
        assert!(INSTANCE.parse_state_id("0").is_err());
        assert_eq!(INSTANCE.state_id("", 12), "12");
        assert_eq!(INSTANCE.import_id_hint(""), "<cluster id>");
    }

    #[test]
    fn a_family_addresses_its_own_endpoints_and_cluster_type() {
        assert_eq!(
            PROJECT.client_owner("a/b"),
            ClusterOwner::Project("a/b".into())
        );
        assert_eq!(GROUP.client_owner("a"), ClusterOwner::Group("a".into()));
        assert_eq!(INSTANCE.client_owner(""), ClusterOwner::Instance);
        assert_eq!(
            [
                GROUP.cluster_type(),
                PROJECT.cluster_type(),
                INSTANCE.cluster_type()
            ],
            ["group_type", "project_type", "instance_type"]
        );
    }

    #[test]
    fn the_owner_attribute_is_the_familys_and_the_instance_has_none() {
        let v = Value::object([
            ("id", Value::from("p:3")),
            ("project", Value::from("p")),
            ("n", Value::Unknown),
        ]);
        let m = WithOwner::<OfProject, M>::from_value(&v, &AttributePath::root()).unwrap();
        assert_eq!(m.owner, Val::Known("p".into()));
        assert_eq!(m.id, Val::Known("p:3".into()), "shared fields read through");
        assert_eq!(m.to_value(), v);
        let i = WithOwner::<OfInstance, M>::from_value(&v, &AttributePath::root()).unwrap();
        assert!(i.owner.is_null());
        assert_eq!(i.to_value().get("project"), &Value::Null);
        assert!(
            matches!(i.to_value(), Value::Object(m) if !m.contains_key("project") && !m.contains_key("group"))
        );
    }
}
