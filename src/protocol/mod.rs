//! Wire layer: go-plugin handshake and AutoMTLS, tonic services for tfplugin6/5, the
//! DynamicValue codec, the schema model and diagnostics. Knows nothing about GitLab.
pub mod pb;
