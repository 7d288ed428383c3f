//! Request and response bodies of GitLab's group clusters API (certificate-based), as
//! serde types. Responses are read leniently (missing fields default) so that an older or
//! newer GitLab still parses; shapes that are not objects are errors.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// `Entities::Cluster` (plus `group` or `project` on single reads: `Entities::ClusterGroup`,
/// `Entities::ClusterProject`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, remote = "Self")]
pub struct Cluster {
    pub id: i64,
    pub name: String,
    pub domain: Option<String>,
    pub created_at: Option<String>,
    pub managed: Option<bool>,
    pub enabled: Option<bool>,
    pub provider_type: Option<String>,
    pub platform_type: Option<String>,
    pub environment_scope: Option<String>,
    pub cluster_type: Option<String>,
    pub namespace_per_environment: Option<bool>,
    pub user: Option<UserBasic>,
    pub platform_kubernetes: Option<PlatformKubernetes>,
    pub management_project: Option<ProjectIdentity>,
    pub group: Option<GroupBasic>,
    /// `Entities::ClusterProject`'s owner (project clusters; `null` in an instance
    /// cluster's update answer).
    pub project: Option<ProjectIdentity>,
}

/// serde's derived struct impls also accept a JSON array, read positionally: `[7]` would be
/// cluster 7. Only an object is a cluster.
impl<'de> Deserialize<'de> for Cluster {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = Cluster;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a cluster object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Cluster, A::Error> {
                Cluster::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjectOnly)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct PlatformKubernetes {
    pub api_url: Option<String>,
    pub namespace: Option<String>,
    pub authorization_type: Option<String>,
    pub ca_cert: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct UserBasic {
    pub id: i64,
    pub username: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProjectIdentity {
    pub id: i64,
    pub name: String,
    pub path_with_namespace: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct GroupBasic {
    pub id: i64,
    pub name: String,
    pub web_url: String,
}

/// `POST /groups/:id/clusters/user`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CreateCluster {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_project_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_per_environment: Option<bool>,
    pub platform_kubernetes_attributes: CreatePlatform,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CreatePlatform {
    pub api_url: String,
    pub token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `PUT /groups/:id/clusters/:cluster_id`: only the fields that change are sent.
/// `Some(None)` clears a nullable field.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct UpdateCluster {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_project_id: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_per_environment: Option<bool>,
    #[serde(skip_serializing_if = "UpdatePlatform::is_empty")]
    pub platform_kubernetes_attributes: UpdatePlatform,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct UpdatePlatform {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Option<String>>,
}

impl UpdatePlatform {
    pub fn is_empty(&self) -> bool {
        *self == UpdatePlatform::default()
    }
}

impl UpdateCluster {
    pub fn is_empty(&self) -> bool {
        *self == UpdateCluster::default()
    }
}

/// `GET /user`: who the token belongs to.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_sends_only_changed_fields_and_can_clear_nullable_ones() {
        let u = UpdateCluster {
            domain: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"domain": null})
        );
        let u = UpdateCluster {
            platform_kubernetes_attributes: UpdatePlatform {
                token: Some(Secret::new("t")),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"platform_kubernetes_attributes": {"token": "t"}})
        );
        assert!(UpdateCluster::default().is_empty());
    }

    #[test]
    fn cluster_parses_gitlab_entity_and_tolerates_missing_fields() {
        let j = r#"{"id":18,"name":"c","domain":null,"created_at":"2019-01-02T20:18:12.563Z","managed":true,
            "enabled":true,"provider_type":"user","platform_type":"kubernetes","environment_scope":"*",
            "cluster_type":"group_type","user":{"id":1,"name":"Admin","username":"root","state":"active"},
            "platform_kubernetes":{"api_url":"https://k","authorization_type":"rbac","ca_cert":null},
            "provider_gcp":null,"management_project":null,"group":{"id":26,"name":"g","web_url":"http://x/g"}}"#;
        let c: Cluster = serde_json::from_str(j).unwrap();
        assert_eq!(c.id, 18);
        assert_eq!(c.group.unwrap().id, 26);
        let c: Cluster = serde_json::from_str(r#"{"id":1}"#).unwrap();
        assert_eq!(c.name, "");
    }
}

/// `GET /groups/:id` (`Entities::Group`) or `GET /projects/:id` (`Entities::Project`): what
/// identifies the owner. Only the identity is read: the id, and the full path (a group's
/// `full_path`, a project's `path_with_namespace`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct OwnerIdentity {
    pub id: i64,
    #[serde(alias = "path_with_namespace")]
    pub full_path: String,
}
