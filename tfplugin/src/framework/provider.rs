//! [`ProviderDef`], what a provider implements on the framework: its configuration, what
//! configuring it yields, and its resources and data sources (typed ones made values by
//! [`super::resource`] / [`super::data_source`]).

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::Diagnostics;
use super::model::TfValue;
use super::schema::Schema;
use super::typed::{AnyDataSource, AnyResource};

/// A provider: its configuration and what configuring it yields, and its resources.
#[async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    /// The typed provider configuration.
    type Config: TfValue + Send + Sync;
    /// What resources receive: typically the configured API client.
    type Data: Send + Sync + 'static;
    /// The provider configuration's schema.
    fn schema(&self) -> Schema;
    /// Checks across attributes of the provider configuration.
    fn validate(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }
    /// Configures the provider once, from its configuration with environment fallbacks applied.
    async fn configure(
        &self,
        config: Self::Config,
        cancel: CancellationToken,
    ) -> Result<Self::Data, Diagnostics>;
    /// Its managed resources (see [`super::resource`]).
    fn resources(&self) -> Vec<Arc<dyn AnyResource<Self::Data>>>;
    /// Its data sources (see [`super::data_source`]).
    fn data_sources(&self) -> Vec<Arc<dyn AnyDataSource<Self::Data>>>;
}
