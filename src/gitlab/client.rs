//! The GitLab API client handle: one per provider instance, built from a [`ClientConfig`]
//! into a [`Transport`] (pooled connections, pacing, retries) that every endpoint module
//! (`clusters.rs`, `create.rs`) sends through; and `GET /user`, the token check.
use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::clusters::ClusterOwner;
use super::config::{ClientConfig, ConfigError};
use super::error::Error;
use super::transport::Transport;
use super::types::{CurrentUser, OwnerIdentity};

/// A configured GitLab API client. Cloning it shares its connections and pacing.
#[derive(Clone)]
pub struct Client {
    pub(super) transport: Transport,
}

impl Client {
    pub fn new(cfg: &ClientConfig, cancel: CancellationToken) -> Result<Client, ConfigError> {
        Ok(Client {
            transport: Transport::new(cfg, cancel)?,
        })
    }

    /// The API base URL requests go to (never with user info).
    pub fn base_url(&self) -> &str {
        self.transport.base().as_str()
    }

    /// How many times a request is retried after the first attempt.
    pub fn retries(&self) -> u32 {
        self.transport.retries()
    }

    /// `GET /groups/:id` or `GET /projects/:id` (`:id` a numeric id or full path), checked
    /// to be the owner asked for: the answer names it by that id or that path (in any letter
    /// case, as GitLab finds paths). Its `id` is what identifies the owner, however it is
    /// spelled. The instance is one, and is not asked: its identity is the default (id 0).
    pub async fn owner(&self, owner: &ClusterOwner) -> Result<OwnerIdentity, Error> {
        let (url, what, id) = match owner {
            ClusterOwner::Group(id) => (
                self.transport
                    .url(&["groups", id], &[("with_projects", "false".into())]),
                "group",
                id,
            ),
            ClusterOwner::Project(id) => {
                (self.transport.url(&["projects", id], &[]), "project", id)
            }
            ClusterOwner::Instance => return Ok(OwnerIdentity::default()),
        };
        let r = self.transport.send(Method::GET, url, None).await?;
        let g: OwnerIdentity = decode(&r.body, what)?;
        let asked = id.trim();
        let same = match asked.parse::<i64>() {
            Ok(n) => g.id == n,
            Err(_) => g.id > 0 && g.full_path.eq_ignore_ascii_case(asked),
        };
        if !same {
            return Err(Error::WrongEntity {
                wanted: format!("{what} {asked:?}"),
                got: format!("{what} {} ({:?})", g.id, g.full_path),
            });
        }
        Ok(g)
    }

    /// `GET /user`: checks the token.
    pub async fn current_user(&self) -> Result<CurrentUser, Error> {
        let url = self.transport.url(&["user"], &[]);
        let r = self.transport.send(Method::GET, url, None).await?;
        decode(&r.body, "user")
    }
}

/// A JSON body as `T`; `what` names what was expected, for the error.
pub(super) fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        detail: format!("expected a {what}: {e}"),
    })
}

/// A request body as JSON.
pub(super) fn encode<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| Error::Decode {
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn the_base_url_shown_has_no_user_info() {
        let cfg = ClientConfig {
            base_url: "https://bob:p%40ss@h/".into(),
            token: Secret::new("t0ken"),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        assert_eq!(c.base_url(), "https://h/api/v4/");
        assert_eq!(c.retries(), 10);
    }

    #[tokio::test]
    async fn an_owner_lookup_must_name_the_owner_asked_for() {
        use crate::gitlab::fake_gitlab::{Answer, serve};
        let fake = serve(|line, _| {
            if line.contains("/projects/qa%2Fapp") {
                Answer::json(200, r#"{"id":7,"path_with_namespace":"QA/App"}"#)
            } else if line.contains("/projects/") {
                // Another project than the one asked for.
                Answer::json(200, r#"{"id":8,"path_with_namespace":"qa/other"}"#)
            } else {
                Answer::json(200, r#"{"id":42,"full_path":"qa"}"#)
            }
        })
        .await;
        let cfg = ClientConfig {
            base_url: fake.base_url.clone(),
            token: Secret::new("t"),
            retries: 0,
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        let p = c
            .owner(&ClusterOwner::Project("qa/app".into()))
            .await
            .unwrap();
        assert_eq!(p.id, 7, "the path in any case");
        let e = c
            .owner(&ClusterOwner::Project("7".into()))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::WrongEntity { .. }), "{e:?}");
        assert!(e.to_string().contains("project 8"), "{e}");
        assert_eq!(
            c.owner(&ClusterOwner::Group("42".into())).await.unwrap().id,
            42
        );
        assert!(c.owner(&ClusterOwner::Group("43".into())).await.is_err());
        let seen = fake.seen.lock().unwrap().len();
        assert_eq!(
            c.owner(&ClusterOwner::Instance).await.unwrap().id,
            0,
            "the instance is not asked for"
        );
        assert_eq!(fake.seen.lock().unwrap().len(), seen);
    }
}
