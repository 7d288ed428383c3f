//! The one internal provider interface both protocol versions adapt onto. Requests and
//! responses carry decoded values; the adapters own the wire encoding.

use async_trait::async_trait;

use super::diag::{AttributePath, Diagnostics};
use super::schema::ProviderSchemas;
use super::value::Value;

pub struct ConfigureRequest {
    pub terraform_version: String,
    pub config: Value,
}

/// What the client says it can handle (ClientCapabilities); all false for clients that
/// send none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    /// Terraform / OpenTofu >= 1.11: write-only attribute values are kept out of state.
    pub write_only_attributes_allowed: bool,
}

/// Raw state as Terraform stored it, before any decoding.
pub struct UpgradeRequest<'a> {
    pub type_name: &'a str,
    pub version: i64,
    pub json: &'a [u8],
    pub has_flatmap: bool,
}

pub struct ReadRequest<'a> {
    pub type_name: &'a str,
    pub current_state: Value,
    pub private: Vec<u8>,
}

#[derive(Default)]
pub struct ReadResponse {
    /// `Value::Null` when the object no longer exists.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    pub prior_state: Value,
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    pub client: ClientCapabilities,
}

#[derive(Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest<'a> {
    pub type_name: &'a str,
    pub prior_state: Value,
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ImportedResource {
    pub type_name: String,
    pub state: Value,
    pub private: Vec<u8>,
}

/// What a provider does, independent of protocol version.
#[async_trait]
pub trait ProviderServer: Send + Sync + 'static {
    fn schemas(&self) -> &ProviderSchemas;
    async fn validate_provider_config(&self, config: Value) -> Diagnostics;
    async fn configure(&self, req: ConfigureRequest) -> Diagnostics;
    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Value,
        client: ClientCapabilities,
    ) -> Diagnostics;
    async fn validate_data_source_config(&self, type_name: &str, config: Value) -> Diagnostics;
    async fn upgrade_resource_state(&self, req: UpgradeRequest<'_>) -> (Value, Diagnostics);
    async fn read_resource(&self, req: ReadRequest<'_>) -> ReadResponse;
    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse;
    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> ApplyResponse;
    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> (Vec<ImportedResource>, Diagnostics);
    async fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics);
    /// StopProvider: cancel in-flight work, promptly.
    fn stop(&self);
}
