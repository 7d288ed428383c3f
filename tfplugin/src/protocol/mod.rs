//! Wire layer: go-plugin handshake and AutoMTLS, tonic services for tfplugin6/5, the
//! DynamicValue codec, the wire schema and diagnostics. Knows no provider: its name and
//! environment variables come from the serve options, its behaviour from the layer above.
pub mod codec;
pub mod diag;
pub mod handshake;
pub mod logging;
pub mod pb;
pub mod provider;
pub mod redact;
pub mod schema;
pub mod server;
pub mod tls;
pub mod v5;
pub mod v6;
pub mod value;
