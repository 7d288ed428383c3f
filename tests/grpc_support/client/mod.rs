//! [`ProtocolClient`]: a client of the provider speaking tfplugin6 or tfplugin5, as
//! Terraform does, behind one type: each RPC takes and returns the protocol-neutral values
//! of [`super::wire`].
//!
//! - [`rpcs`]: the RPCs, one method each.
//! - [`checks`]: Terraform's checks of the answers (write-only values stay null; plans and
//!   applied states as [`super::objchange`] checks them), so a test fails where Terraform
//!   would.
//! - [`not_offered`]: every RPC of a feature the provider does not offer.
//!
//! The macros here turn one protocol version's messages into those values.

use terraform_provider_gitlab::protocol::pb::{tfplugin5, tfplugin6};
use tonic::transport::Channel;

/// The provider's client, speaking tfplugin6 or tfplugin5 as Terraform does, in-process or
/// to the launched binary. (Not the tonic-generated `ProviderClient` it wraps; nor
/// `support::TerraformCli`, the Terraform CLI the end-to-end tests run.)
#[derive(Clone)]
pub enum ProtocolClient {
    V6(tfplugin6::provider_client::ProviderClient<Channel>),
    V5(tfplugin5::provider_client::ProviderClient<Channel>),
}

macro_rules! on_version {
    ($self:expr, $c:ident, $pb:ident => $body:expr) => {
        match $self {
            ProtocolClient::V6($c) => {
                use terraform_provider_gitlab::protocol::pb::tfplugin6 as $pb;
                $body
            }
            ProtocolClient::V5($c) => {
                use terraform_provider_gitlab::protocol::pb::tfplugin5 as $pb;
                $body
            }
        }
    };
}

macro_rules! diags {
    ($pb:ident, $list:expr) => {
        $list
            .into_iter()
            .map(|d| Diag {
                error: d.severity == $pb::diagnostic::Severity::Error as i32,
                summary: d.summary,
                detail: d.detail,
                path: d.attribute.map(|a| {
                    a.steps
                        .into_iter()
                        .map(|s| {
                            use $pb::attribute_path::step::Selector;
                            match s.selector {
                                Some(Selector::AttributeName(n)) => Step::Attr(n),
                                Some(Selector::ElementKeyString(k)) => Step::Key(k),
                                Some(Selector::ElementKeyInt(i)) => Step::Index(i),
                                None => Step::Missing,
                            }
                        })
                        .collect()
                }),
            })
            .collect::<Vec<Diag>>()
    };
}

macro_rules! dv {
    ($pb:ident, $v:expr) => {
        $v.map(|v| match v {
            Dv::Msgpack(b) => $pb::DynamicValue {
                msgpack: b,
                json: Vec::new(),
            },
            Dv::Json(b) => $pb::DynamicValue {
                msgpack: Vec::new(),
                json: b,
            },
        })
    };
}

macro_rules! wire_schema {
    ($s:expr) => {{
        let s = $s.expect("schema");
        let block = s.block.expect("schema block");
        WireSchema {
            version: s.version,
            attrs: block
                .attributes
                .into_iter()
                .map(|a| {
                    let json: serde_json::Value =
                        serde_json::from_slice(&a.r#type).expect("attribute type JSON");
                    let ty =
                        Type::from_json(&json).unwrap_or_else(|| panic!("attribute type {json}"));
                    let attr = WireAttr {
                        ty,
                        required: a.required,
                        optional: a.optional,
                        computed: a.computed,
                        sensitive: a.sensitive,
                        write_only: a.write_only,
                    };
                    (a.name, attr)
                })
                .collect(),
        }
    }};
}

// After the macros, which they use.
mod checks;
mod not_offered;
mod rpcs;

impl ProtocolClient {
    pub fn name(&self) -> &'static str {
        match self {
            ProtocolClient::V6(_) => "tfplugin6",
            ProtocolClient::V5(_) => "tfplugin5",
        }
    }
}
