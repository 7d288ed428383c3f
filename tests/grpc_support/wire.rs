//! What the protocol tests speak in, whichever protocol version carried it: diagnostics
//! with attribute paths, schemas as the wire describes them (with msgpack encoding of
//! values of a schema), DynamicValues as sent, and the answers of plan, apply and the RPCs
//! of features the provider does not offer.

use std::collections::BTreeMap;

use terraform_provider_gitlab::protocol::codec;
use terraform_provider_gitlab::protocol::value::{Type, Value};

/// One attribute path step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
    Missing,
}

pub fn attr_path(name: &str) -> Vec<Step> {
    vec![Step::Attr(name.to_string())]
}

/// A diagnostic, whichever protocol carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub error: bool,
    pub summary: String,
    pub detail: String,
    pub path: Option<Vec<Step>>,
}

impl Diag {
    /// Summary and detail, for matching words in either.
    pub fn text(&self) -> String {
        format!("{}: {}", self.summary, self.detail)
    }
}

pub fn errors(diags: &[Diag]) -> Vec<&Diag> {
    diags.iter().filter(|d| d.error).collect()
}

/// A schema as the wire describes it.
#[derive(Clone, Debug, Default)]
pub struct WireSchema {
    pub version: i64,
    pub attrs: BTreeMap<String, WireAttr>,
}

#[derive(Clone, Debug)]
pub struct WireAttr {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
}

impl WireSchema {
    /// The object type of a value of this schema, as Terraform derives it from the wire.
    pub fn ty(&self) -> Type {
        Type::Object(
            self.attrs
                .iter()
                .map(|(k, a)| (k.clone(), a.ty.clone()))
                .collect(),
        )
    }
    /// An object of this schema: `set` given, every other attribute null.
    pub fn object(&self, set: &[(&str, Value)]) -> Value {
        let mut v = Value::object(self.attrs.keys().map(|k| (k.clone(), Value::Null)));
        for (k, x) in set {
            assert!(self.attrs.contains_key(*k), "schema has no attribute {k}");
            *v.get_mut(k).expect("object") = x.clone();
        }
        v
    }
    pub fn msgpack(&self, v: &Value) -> Dv {
        Dv::Msgpack(codec::to_msgpack(v, &self.ty()).expect("encode"))
    }
    pub fn decode(&self, msgpack: &[u8]) -> Value {
        codec::from_msgpack(msgpack, &self.ty()).expect("decode the provider's msgpack")
    }
}

#[derive(Clone, Debug, Default)]
pub struct WireSchemas {
    pub provider: WireSchema,
    pub resources: BTreeMap<String, WireSchema>,
    pub data_sources: BTreeMap<String, WireSchema>,
    /// (plan_destroy, get_provider_schema_optional, move_resource_state, generate_resource_config)
    pub capabilities: Option<(bool, bool, bool, bool)>,
    pub diags: Vec<Diag>,
}

/// A DynamicValue as sent: msgpack or JSON bytes, well-formed or not.
#[derive(Clone, Debug)]
pub enum Dv {
    Msgpack(Vec<u8>),
    Json(Vec<u8>),
}

pub struct Planned {
    pub planned: Option<Vec<u8>>,
    pub requires_replace: Vec<Vec<Step>>,
    pub private: Vec<u8>,
    pub diags: Vec<Diag>,
}

pub struct Applied {
    pub new_state: Option<Vec<u8>>,
    pub diags: Vec<Diag>,
}

/// The outcome of an RPC for a feature the provider does not offer.
pub struct NotOffered {
    pub rpc: &'static str,
    /// Messages received (1 for unary RPCs; events for streams, read to the end).
    pub messages: usize,
    pub diags: Vec<Diag>,
}
