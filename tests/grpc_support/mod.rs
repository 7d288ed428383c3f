//! Shared helpers for the protocol tests (`tests/protocol_*.rs`), one job per module:
//!
//! - [`tls`]: a client certificate made the way go-plugin's `mtls.go` makes Terraform's, and
//!   rustls client configurations (aws-lc-rs, which can sign with P-521) that trust only the
//!   certificate announced in the handshake.
//! - [`connect`]: a tonic channel over a unix socket or TCP, optionally over that TLS.
//! - [`plugin`]: the real binary started as go-plugin starts it, with its handshake line,
//!   stderr and exit status observable without sleeps.
//! - [`in_process`]: tfplugin6 and tfplugin5 served in-process through tonic's real server.
//! - [`client`]: [`ProtocolClient`], one client type for both protocol versions, which
//!   checks every answer as Terraform does ([`objchange`] and the write-only rule), so each
//!   behaviour is proven on both versions; [`wire`] holds the protocol-neutral values it
//!   speaks in.
//! - [`fixtures`]: `gitlab_group_cluster` values and an offline provider configuration.
//!
//! Everything is re-exported here, so a test writes `grpc_support::Name`.
#![allow(dead_code)] // each test crate uses a different part of this module

pub mod client;
pub mod connect;
pub mod fixtures;
pub mod in_process;
pub mod objchange;
pub mod plugin;
pub mod tls;
pub mod wire;

use std::future::Future;
use std::time::Duration;

pub use gitlab_sim::guard as process_guard;

#[allow(unused_imports)] // each test crate uses a different part
pub use client::ProtocolClient;
#[allow(unused_imports)]
pub use connect::{Conn, ConnInfo, Target, connect};
#[allow(unused_imports)]
pub use fixtures::{
    CLUSTER, closed_port, cluster_config, cluster_state, configure_for, configured_offline,
    plan_values, proposed_new,
};
#[allow(unused_imports)]
pub use in_process::{InProcess, on_both_protocols, serve_in_process};
#[allow(unused_imports)]
pub use plugin::{Handshake, Launch, MAGIC_COOKIE, Plugin, bin, start_with_mtls};
#[allow(unused_imports)]
pub use tls::{ClientAuth, Identity, tls_client, tls_client_with_versions};
#[allow(unused_imports)]
pub use wire::{
    Applied, Diag, Dv, NotOffered, Planned, Step, WireAttr, WireSchema, WireSchemas, attr_path,
    errors,
};

/// How long any single wait may last before the test fails instead of hanging. It bounds a
/// wait for a condition; no test asserts on how long anything took.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Awaits `f`, failing the test (instead of hanging it) if it never completes.
pub async fn guard<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(HANG_GUARD, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {HANG_GUARD:?} (hang)"),
    }
}
