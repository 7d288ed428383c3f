//! tfplugin: Terraform and OpenTofu provider plugins in Rust.
//!
//! Two layers, one direction, as terraform-plugin-go and terraform-plugin-framework draw
//! them in Go:
//! - [`protocol`], the wire: go-plugin's handshake and AutoMTLS, the tonic services of
//!   plugin protocols 6 and 5 (one binary speaks both), the DynamicValue codec, values,
//!   diagnostics with attribute paths, hclog logging and the redactor of secrets;
//! - [`framework`], the typed layer on it: schemas with their behaviour (defaults,
//!   force-new, stable computed values, validators, environment fallbacks), plan rules
//!   derived from them once, typed models ([`tf_model!`]), and the adapter that serves a
//!   [`framework::ProviderDef`] to the wire.
//!
//! Beside them: [`docs`] (a schema's Registry-style Markdown reference), [`secret`] (a
//! string that never shows itself) and [`tls_provider`] (the rustls crypto provider of
//! AutoMTLS, which a provider's own API client may share). The crate names no API: a
//! provider depends on it, never the other way round. `examples/counter.rs` is a whole
//! provider; README.md walks through it.
#![deny(missing_docs)]

pub mod docs;
pub mod framework;
pub mod protocol;
pub mod secret;
pub mod tls_provider;
