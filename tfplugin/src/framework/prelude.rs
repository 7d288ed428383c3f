//! All a resource, data source or provider definition needs, in one import
//! (`use crate::framework::prelude::*;`): the traits it implements, the typed model, the
//! schema builders and validators, and the diagnostic and value types it returns. Resources
//! import nothing from the protocol layer.

pub use super::model::{Sensitive, TfValue, Val};
pub use super::schema::{Attribute, Normalize, Schema, equivalent, normalized};
pub use super::validate::{
    HttpUrl, IntRange, MaxLength, NotBlank, OneOf, PemCertificate, PositiveIntegerString, Rule,
    Trimmed, Validator, check_pem_certificate,
};
pub use super::{
    AnyDataSource, AnyResource, AttributePath, Ctx, DataSource, Diagnostic, Diagnostics, Outcome,
    PlanNotes, ProviderDef, Redactor, Resource, Type, Value, data_source, resource,
};
