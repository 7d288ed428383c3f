//! The provider framework: typed resources and data sources on top of the internal
//! provider interface. It owns the rules every resource shares (plan from schema, replace
//! detection, validation, keeping state on failure, cancellation on StopProvider), so a
//! resource only maps typed structs to API calls. Resources declare their schemas with
//! [`schema`] (behaviour as values); the framework serves the wire schema derived from them.
//! Knows nothing about any particular API.
//!
//! What a provider writes is in [`traits`] (`Resource`, `DataSource`), [`provider`]
//! (`ProviderDef`) and [`prelude`]; [`typed`] adapts one typed resource to values, and [`server`] serves a
//! whole provider definition as [`Framework`].

pub mod env;
pub mod model;
pub mod plan;
pub mod prelude;
pub mod presence;
pub mod provider;
pub mod schema;
pub mod server;
pub mod traits;
pub mod typed;
pub mod validate;

/// The protocol types a resource works with (diagnostics with attribute paths, values, the
/// redactor), under the framework's name: resources reach only the framework.
pub use crate::protocol::diag::{AttributePath, Diagnostic, Diagnostics};
pub use crate::protocol::logging::Redactor;
pub use crate::protocol::value::{Type, Value};

pub use provider::ProviderDef;
pub use server::Framework;
pub use traits::{Ctx, DataSource, Outcome, PlanNotes, Resource};
pub use typed::{AnyDataSource, AnyResource, data_source, resource};
