//! The one internal provider interface both protocol versions adapt onto. Requests and
//! responses carry decoded values; the adapters own the wire encoding.

use async_trait::async_trait;

use super::diag::{AttributePath, Diagnostics};
use super::schema::ProviderSchemas;
use super::value::Value;

/// ConfigureProvider.
pub struct ConfigureRequest {
    /// The version of the Terraform or OpenTofu calling.
    pub terraform_version: String,
    /// The provider configuration.
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
    /// The resource type.
    pub type_name: &'a str,
    /// The schema version the state was written with.
    pub version: i64,
    /// The state as JSON (empty when there is none, or only flatmap).
    pub json: &'a [u8],
    /// Whether Terraform sent Terraform 0.11's flatmap state.
    pub has_flatmap: bool,
}

/// ReadResource.
pub struct ReadRequest<'a> {
    /// The resource type.
    pub type_name: &'a str,
    /// The state Terraform has.
    pub current_state: Value,
    /// The private data Terraform has.
    pub private: Vec<u8>,
}

#[derive(Default)]
/// ReadResource's answer.
pub struct ReadResponse {
    /// `Value::Null` when the object no longer exists.
    pub new_state: Value,
    /// The private data to keep.
    pub private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

/// PlanResourceChange.
pub struct PlanRequest<'a> {
    /// The resource type.
    pub type_name: &'a str,
    /// The prior state (null on create).
    pub prior_state: Value,
    /// Terraform's proposal: the configuration merged with the prior state.
    pub proposed_new_state: Value,
    /// The configuration.
    pub config: Value,
    /// The private data Terraform has.
    pub prior_private: Vec<u8>,
    /// What the client can do.
    pub client: ClientCapabilities,
}

#[derive(Default)]
/// PlanResourceChange's answer.
pub struct PlanResponse {
    /// The planned state (null on destroy).
    pub planned_state: Value,
    /// The attributes whose change replaces the object.
    pub requires_replace: Vec<AttributePath>,
    /// The private data to keep.
    pub planned_private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

/// ApplyResourceChange.
pub struct ApplyRequest<'a> {
    /// The resource type.
    pub type_name: &'a str,
    /// The prior state (null on create).
    pub prior_state: Value,
    /// The approved plan (null on destroy).
    pub planned_state: Value,
    /// The configuration (with the write-only values the plan lacks).
    pub config: Value,
    /// The planned private data.
    pub planned_private: Vec<u8>,
}

#[derive(Default)]
/// ApplyResourceChange's answer.
pub struct ApplyResponse {
    /// The new state (null when destroyed).
    pub new_state: Value,
    /// The private data to keep.
    pub private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

/// One object ImportResourceState found.
pub struct ImportedResource {
    /// Its resource type.
    pub type_name: String,
    /// Its state.
    pub state: Value,
    /// Its private data.
    pub private: Vec<u8>,
}

/// What a provider does, independent of protocol version.
#[async_trait]
pub trait ProviderServer: Send + Sync + 'static {
    /// The wire schemas served by GetProviderSchema.
    fn schemas(&self) -> &ProviderSchemas;
    /// ValidateProviderConfig.
    async fn validate_provider_config(&self, config: Value) -> Diagnostics;
    /// ConfigureProvider.
    async fn configure(&self, req: ConfigureRequest) -> Diagnostics;
    /// ValidateResourceConfig.
    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Value,
        client: ClientCapabilities,
    ) -> Diagnostics;
    /// ValidateDataResourceConfig.
    async fn validate_data_source_config(&self, type_name: &str, config: Value) -> Diagnostics;
    /// UpgradeResourceState: the state in the current schema.
    async fn upgrade_resource_state(&self, req: UpgradeRequest<'_>) -> (Value, Diagnostics);
    /// ReadResource.
    async fn read_resource(&self, req: ReadRequest<'_>) -> ReadResponse;
    /// PlanResourceChange.
    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse;
    /// ApplyResourceChange.
    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> ApplyResponse;
    /// ImportResourceState.
    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> (Vec<ImportedResource>, Diagnostics);
    /// ReadDataSource.
    async fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics);
    /// StopProvider: cancel in-flight work, promptly.
    fn stop(&self);
}
