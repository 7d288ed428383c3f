//! Every RPC of a feature the provider does not offer (identity upgrades, moves, config
//! generation, ephemeral and list resources, actions; on tfplugin6 also state stores),
//! called as Terraform would, with server streams read to their end.

use terraform_provider_gitlab::protocol::pb::tfplugin6;
use tonic::Status;

use super::super::wire::{Diag, NotOffered, Step};
use super::ProtocolClient;

/// Reads a server stream to its end, keeping the diagnostics of every message.
async fn drain<T>(
    stream: Result<tonic::Response<tonic::Streaming<T>>, Status>,
    diags_of: impl Fn(T) -> Vec<Diag>,
) -> Result<(usize, Vec<Diag>), Status> {
    let mut stream = stream?.into_inner();
    let (mut n, mut all) = (0, Vec::new());
    while let Some(m) = stream.message().await? {
        n += 1;
        all.extend(diags_of(m));
    }
    Ok((n, all))
}

impl ProtocolClient {
    /// Calls every RPC of a feature the provider does not offer, reading streams to the end.
    pub async fn not_offered(&mut self) -> Result<Vec<NotOffered>, Status> {
        let mut out = Vec::new();
        macro_rules! unary {
            ($pb:ident, $c:ident, $rpc:literal, $method:ident, $req:expr) => {{
                let r = $c.$method($req).await?.into_inner();
                out.push(NotOffered {
                    rpc: $rpc,
                    messages: 1,
                    diags: diags!($pb, r.diagnostics),
                });
            }};
        }
        let tn = || "gitlab_group_cluster".to_string();
        on_version!(self, c, pb => {
            unary!(pb, c, "UpgradeResourceIdentity", upgrade_resource_identity,
                pb::upgrade_resource_identity::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "MoveResourceState", move_resource_state,
                pb::move_resource_state::Request { source_type_name: "other_type".into(), target_type_name: tn(), ..Default::default() });
            unary!(pb, c, "GenerateResourceConfig", generate_resource_config,
                pb::generate_resource_config::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "ValidateEphemeralResourceConfig", validate_ephemeral_resource_config,
                pb::validate_ephemeral_resource_config::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "OpenEphemeralResource", open_ephemeral_resource,
                pb::open_ephemeral_resource::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "RenewEphemeralResource", renew_ephemeral_resource,
                pb::renew_ephemeral_resource::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "CloseEphemeralResource", close_ephemeral_resource,
                pb::close_ephemeral_resource::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "ValidateListResourceConfig", validate_list_resource_config,
                pb::validate_list_resource_config::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "ValidateActionConfig", validate_action_config,
                pb::validate_action_config::Request { action_type: "gitlab_action".into(), ..Default::default() });
            unary!(pb, c, "PlanAction", plan_action,
                pb::plan_action::Request { action_type: "gitlab_action".into(), ..Default::default() });
            let list = c.list_resource(pb::list_resource::Request { type_name: tn(), ..Default::default() }).await;
            let (messages, diags) = drain(list, |e: pb::list_resource::Event| diags!(pb, e.diagnostic)).await?;
            out.push(NotOffered { rpc: "ListResource", messages, diags });
            let invoke = c.invoke_action(pb::invoke_action::Request { action_type: "gitlab_action".into(), ..Default::default() }).await;
            let (messages, diags) = drain(invoke, |e: pb::invoke_action::Event| match e.r#type {
                Some(pb::invoke_action::event::Type::Completed(done)) => diags!(pb, done.diagnostics),
                _ => Vec::new(),
            })
            .await?;
            out.push(NotOffered { rpc: "InvokeAction", messages, diags });
        });
        if let ProtocolClient::V6(c) = self {
            use tfplugin6 as pb;
            let store = || "gitlab_state".to_string();
            unary!(
                pb,
                c,
                "ValidateStateStoreConfig",
                validate_state_store_config,
                pb::validate_state_store_config::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            unary!(
                pb,
                c,
                "ConfigureStateStore",
                configure_state_store,
                pb::configure_state_store::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            let read = c
                .read_state_bytes(pb::read_state_bytes::Request {
                    type_name: store(),
                    state_id: "default".into(),
                })
                .await;
            let (messages, diags) = drain(read, |e: pb::read_state_bytes::ResponseChunk| {
                diags!(pb, e.diagnostics)
            })
            .await?;
            out.push(NotOffered {
                rpc: "ReadStateBytes",
                messages,
                diags,
            });
            let chunk = pb::write_state_bytes::RequestChunk {
                bytes: b"{}".to_vec(),
                total_length: 2,
                ..Default::default()
            };
            let r = c
                .write_state_bytes(tokio_stream::iter(vec![chunk]))
                .await?
                .into_inner();
            out.push(NotOffered {
                rpc: "WriteStateBytes",
                messages: 1,
                diags: diags!(pb, r.diagnostics),
            });
            unary!(
                pb,
                c,
                "LockState",
                lock_state,
                pb::lock_state::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            unary!(
                pb,
                c,
                "UnlockState",
                unlock_state,
                pb::unlock_state::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            unary!(
                pb,
                c,
                "GetStates",
                get_states,
                pb::get_states::Request { type_name: store() }
            );
            unary!(
                pb,
                c,
                "DeleteState",
                delete_state,
                pb::delete_state::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
        }
        Ok(out)
    }
}
