//! The provider's RPCs, one method each, with the request built as Terraform builds it on
//! either protocol version and the answer turned into [`super::super::wire`] values.
//! Methods whose answer carries objects apply the write-only check ([`super::checks`]).

use std::collections::HashMap;

use terraform_provider_gitlab::protocol::pb::{tfplugin5, tfplugin6};
use terraform_provider_gitlab::protocol::value::Type;
use tonic::Status;

use super::super::wire::{Applied, Diag, Dv, Planned, Step, WireAttr, WireSchema, WireSchemas};
use super::ProtocolClient;

impl ProtocolClient {
    /// GetProviderSchema (v6) / GetSchema (v5).
    pub async fn schemas(&mut self) -> Result<WireSchemas, Status> {
        macro_rules! convert {
            ($pb:ident, $r:expr) => {{
                let r: $pb::get_provider_schema::Response = $r;
                WireSchemas {
                    provider: wire_schema!(r.provider),
                    resources: r
                        .resource_schemas
                        .into_iter()
                        .map(|(k, s)| (k, wire_schema!(Some(s))))
                        .collect(),
                    data_sources: r
                        .data_source_schemas
                        .into_iter()
                        .map(|(k, s)| (k, wire_schema!(Some(s))))
                        .collect(),
                    capabilities: r.server_capabilities.map(|c| {
                        (
                            c.plan_destroy,
                            c.get_provider_schema_optional,
                            c.move_resource_state,
                            c.generate_resource_config,
                        )
                    }),
                    diags: diags!($pb, r.diagnostics),
                }
            }};
        }
        match self {
            ProtocolClient::V6(c) => {
                use tfplugin6 as pb;
                let r = c
                    .get_provider_schema(pb::get_provider_schema::Request::default())
                    .await?;
                Ok(convert!(pb, r.into_inner()))
            }
            ProtocolClient::V5(c) => {
                use tfplugin5 as pb;
                let r = c
                    .get_schema(pb::get_provider_schema::Request::default())
                    .await?;
                Ok(convert!(pb, r.into_inner()))
            }
        }
    }

    /// GetMetadata: resource and data source type names, capabilities, diagnostics.
    pub async fn metadata(
        &mut self,
    ) -> Result<(Vec<String>, Vec<String>, bool, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let r = c.get_metadata(pb::get_metadata::Request::default()).await?.into_inner();
            Ok((
                r.resources.into_iter().map(|m| m.type_name).collect(),
                r.data_sources.into_iter().map(|m| m.type_name).collect(),
                r.server_capabilities.is_some(),
                diags!(pb, r.diagnostics),
            ))
        })
    }

    /// ValidateProviderConfig (v6) / PrepareProviderConfig (v5).
    pub async fn validate_provider(&mut self, config: Option<Dv>) -> Result<Vec<Diag>, Status> {
        match self {
            ProtocolClient::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::validate_provider_config::Request {
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.validate_provider_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
            ProtocolClient::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::prepare_provider_config::Request {
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.prepare_provider_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
        }
    }

    /// ConfigureProvider (v6) / Configure (v5).
    pub async fn configure(&mut self, config: Option<Dv>) -> Result<Vec<Diag>, Status> {
        let terraform_version = "1.14.0".to_string();
        match self {
            ProtocolClient::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::configure_provider::Request {
                    terraform_version,
                    config: dv!(pb, config),
                    ..Default::default()
                };
                Ok(diags!(
                    pb,
                    c.configure_provider(req).await?.into_inner().diagnostics
                ))
            }
            ProtocolClient::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::configure::Request {
                    terraform_version,
                    config: dv!(pb, config),
                    ..Default::default()
                };
                Ok(diags!(pb, c.configure(req).await?.into_inner().diagnostics))
            }
        }
    }

    /// ValidateResourceConfig (v6) / ValidateResourceTypeConfig (v5), as a client older
    /// than Terraform 1.11 sends it: without client capabilities.
    pub async fn validate_resource(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<Vec<Diag>, Status> {
        self.validate_resource_as(type_name, config, None).await
    }

    /// ValidateResourceConfig as Terraform 1.11 sends it: capabilities saying
    /// `write_only_attributes_allowed`.
    pub async fn validate_resource_modern(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<Vec<Diag>, Status> {
        self.validate_resource_as(type_name, config, Some(true))
            .await
    }

    /// ValidateResourceConfig with `write_only_attributes_allowed` as given (`None`: no
    /// ClientCapabilities message at all).
    pub async fn validate_resource_as(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
        write_only_allowed: Option<bool>,
    ) -> Result<Vec<Diag>, Status> {
        let type_name = type_name.to_string();
        match self {
            ProtocolClient::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::validate_resource_config::Request {
                    type_name,
                    config: dv!(pb, config),
                    client_capabilities: write_only_allowed.map(|w| pb::ClientCapabilities {
                        write_only_attributes_allowed: w,
                        ..Default::default()
                    }),
                };
                Ok(diags!(
                    pb,
                    c.validate_resource_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
            ProtocolClient::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::validate_resource_type_config::Request {
                    type_name,
                    config: dv!(pb, config),
                    client_capabilities: write_only_allowed.map(|w| pb::ClientCapabilities {
                        write_only_attributes_allowed: w,
                        ..Default::default()
                    }),
                };
                Ok(diags!(
                    pb,
                    c.validate_resource_type_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
        }
    }

    /// ValidateDataResourceConfig (v6) / ValidateDataSourceConfig (v5).
    pub async fn validate_data_source(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<Vec<Diag>, Status> {
        let type_name = type_name.to_string();
        match self {
            ProtocolClient::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::validate_data_resource_config::Request {
                    type_name,
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.validate_data_resource_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
            ProtocolClient::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::validate_data_source_config::Request {
                    type_name,
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.validate_data_source_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
        }
    }

    /// UpgradeResourceState with raw state: JSON, or a legacy flatmap.
    pub async fn upgrade(
        &mut self,
        type_name: &str,
        version: i64,
        json: &[u8],
        flatmap: HashMap<String, String>,
    ) -> Result<(Option<Vec<u8>>, Vec<Diag>), Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::upgrade_resource_state::Request {
                    type_name: type_name.to_string(),
                    version,
                    raw_state: Some(pb::RawState { json: json.to_vec(), flatmap }),
                };
                let r = c.upgrade_resource_state(req).await?.into_inner();
                Ok((r.upgraded_state.map(|d| d.msgpack), diags!(pb, r.diagnostics)))
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.0.as_deref(),
            "Invalid resource state upgrade",
            "during a state upgrade",
        )
        .await;
        Ok(out)
    }

    /// ReadResource: (new state, private, diagnostics).
    pub async fn read(
        &mut self,
        type_name: &str,
        state: Option<Dv>,
        private: &[u8],
    ) -> Result<(Option<Vec<u8>>, Vec<u8>, Vec<Diag>), Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::read_resource::Request {
                    type_name: type_name.to_string(),
                    current_state: dv!(pb, state),
                    private: private.to_vec(),
                    ..Default::default()
                };
                let r = c.read_resource(req).await?.into_inner();
                Ok((r.new_state.map(|d| d.msgpack), r.private, diags!(pb, r.diagnostics)))
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.0.as_deref(),
            "Provider produced invalid object",
            "during refresh",
        )
        .await;
        Ok(out)
    }

    /// PlanResourceChange exactly as sent and answered.
    pub async fn plan_unchecked(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        proposed: Option<Dv>,
        config: Option<Dv>,
        write_only_allowed: Option<bool>,
    ) -> Result<Planned, Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::plan_resource_change::Request {
                    type_name: type_name.to_string(),
                    prior_state: dv!(pb, prior),
                    proposed_new_state: dv!(pb, proposed),
                    config: dv!(pb, config),
                    prior_private: b"private-from-prior".to_vec(),
                    client_capabilities: write_only_allowed.map(|w| pb::ClientCapabilities {
                        write_only_attributes_allowed: w,
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                let r = c.plan_resource_change(req).await?.into_inner();
                Ok(Planned {
                    planned: r.planned_state.map(|d| d.msgpack),
                    requires_replace: r
                        .requires_replace
                        .into_iter()
                        .map(|p| diags!(pb, vec![pb::Diagnostic { attribute: Some(p), ..Default::default() }])
                            .remove(0)
                            .path
                            .unwrap_or_default())
                        .collect(),
                    private: r.planned_private,
                    diags: diags!(pb, r.diagnostics),
                })
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.planned.as_deref(),
            "Provider produced invalid plan",
            "during planning",
        )
        .await;
        Ok(out)
    }

    /// ApplyResourceChange exactly as sent and answered.
    pub async fn apply_unchecked(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        planned: Option<Dv>,
        config: Option<Dv>,
    ) -> Result<Applied, Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::apply_resource_change::Request {
                    type_name: type_name.to_string(),
                    prior_state: dv!(pb, prior),
                    planned_state: dv!(pb, planned),
                    config: dv!(pb, config),
                    ..Default::default()
                };
                let r = c.apply_resource_change(req).await?.into_inner();
                Ok(Applied { new_state: r.new_state.map(|d| d.msgpack), diags: diags!(pb, r.diagnostics) })
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.new_state.as_deref(),
            "Provider produced invalid object",
            "after apply",
        )
        .await;
        Ok(out)
    }

    /// ImportResourceState: imported (type, state) pairs and diagnostics.
    pub async fn import(
        &mut self,
        type_name: &str,
        id: &str,
    ) -> Result<(Vec<(String, Option<Vec<u8>>)>, Vec<Diag>), Status> {
        type Imported = (Vec<(String, Option<Vec<u8>>)>, Vec<Diag>);
        let out: Result<Imported, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::import_resource_state::Request { type_name: type_name.to_string(), id: id.to_string(), ..Default::default() };
                let r = c.import_resource_state(req).await?.into_inner();
                Ok((
                    r.imported_resources.into_iter().map(|i| (i.type_name, i.state.map(|d| d.msgpack))).collect(),
                    diags!(pb, r.diagnostics),
                ))
            })
        }
        .await;
        let out = out?;
        for (imported_type, state) in &out.0 {
            self.assert_write_only_null(
                imported_type,
                state.as_deref(),
                "Import returned a non-null value for a write-only attribute",
                "while importing",
            )
            .await;
        }
        Ok(out)
    }

    pub async fn read_data_source(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<(Option<Vec<u8>>, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let req = pb::read_data_source::Request { type_name: type_name.to_string(), config: dv!(pb, config), ..Default::default() };
            let r = c.read_data_source(req).await?.into_inner();
            Ok((r.state.map(|d| d.msgpack), diags!(pb, r.diagnostics)))
        })
    }

    /// StopProvider (v6) / Stop (v5): the error text (empty on success).
    pub async fn stop(&mut self) -> Result<String, Status> {
        match self {
            ProtocolClient::V6(c) => Ok(c
                .stop_provider(tfplugin6::stop_provider::Request {})
                .await?
                .into_inner()
                .error),
            ProtocolClient::V5(c) => Ok(c
                .stop(tfplugin5::stop::Request {})
                .await?
                .into_inner()
                .error),
        }
    }

    /// GetFunctions: (number of functions, diagnostics).
    pub async fn functions(&mut self) -> Result<(usize, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let r = c.get_functions(pb::get_functions::Request {}).await?.into_inner();
            Ok((r.functions.len(), diags!(pb, r.diagnostics)))
        })
    }

    /// GetResourceIdentitySchemas: (number of schemas, diagnostics).
    pub async fn identity_schemas(&mut self) -> Result<(usize, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let r = c.get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {}).await?.into_inner();
            Ok((r.identity_schemas.len(), diags!(pb, r.diagnostics)))
        })
    }

    /// CallFunction: (whether a result came back, the function error text).
    pub async fn call_function(&mut self, name: &str) -> Result<(bool, Option<String>), Status> {
        on_version!(self, c, pb => {
            let req = pb::call_function::Request { name: name.to_string(), arguments: Vec::new() };
            let r = c.call_function(req).await?.into_inner();
            Ok((r.result.is_some(), r.error.map(|e| e.text)))
        })
    }
}
