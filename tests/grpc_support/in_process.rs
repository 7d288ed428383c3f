//! The provider served in-process: a fresh provider as tfplugin6 and another as tfplugin5,
//! through tonic's real server on unix sockets, each with a connected client; and a runner
//! that checks one behaviour on both.

use std::future::Future;
use std::sync::Arc;

use terraform_provider_gitlab::protocol::pb::{tfplugin5, tfplugin6};
use terraform_provider_gitlab::protocol::v5::ProviderV5;
use terraform_provider_gitlab::protocol::v6::ProviderV6;

use super::client::ProtocolClient;
use super::connect::{Target, connect};

/// tfplugin6 and tfplugin5 servers, each over its own provider instance, on unix sockets.
pub struct InProcess {
    pub v6: ProtocolClient,
    pub v5: ProtocolClient,
    _dir: tempfile::TempDir,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// The provider stack exactly as the binary builds it, redactor included.
fn provider() -> Arc<terraform_provider_gitlab::ProviderStack> {
    terraform_provider_gitlab::provider_stack(Default::default())
}

/// Serves a fresh provider as tfplugin6 and another as tfplugin5, through tonic's real
/// server on unix sockets, and connects a client to each.
pub async fn serve_in_process() -> InProcess {
    use tokio_stream::wrappers::UnixListenerStream;
    let dir = tempfile::tempdir().expect("tempdir");
    let (p6, p5) = (dir.path().join("v6.sock"), dir.path().join("v5.sock"));
    let l6 = tokio::net::UnixListener::bind(&p6).expect("bind v6");
    let l5 = tokio::net::UnixListener::bind(&p5).expect("bind v5");
    let s6 = tonic::transport::Server::builder()
        .add_service(tfplugin6::provider_server::ProviderServer::new(ProviderV6(
            provider(),
        )))
        .serve_with_incoming(UnixListenerStream::new(l6));
    let s5 = tonic::transport::Server::builder()
        .add_service(tfplugin5::provider_server::ProviderServer::new(ProviderV5(
            provider(),
        )))
        .serve_with_incoming(UnixListenerStream::new(l5));
    let tasks = vec![
        tokio::spawn(async move { s6.await.expect("v6 server") }),
        tokio::spawn(async move { s5.await.expect("v5 server") }),
    ];
    let c6 = connect(&Target::Unix(p6), None).await.expect("connect v6");
    let c5 = connect(&Target::Unix(p5), None).await.expect("connect v5");
    InProcess {
        v6: ProtocolClient::V6(tfplugin6::provider_client::ProviderClient::new(c6.channel)),
        v5: ProtocolClient::V5(tfplugin5::provider_client::ProviderClient::new(c5.channel)),
        _dir: dir,
        tasks,
    }
}

/// Runs `check` against a fresh tfplugin6 provider, then a fresh tfplugin5 one.
pub async fn on_both_protocols<F, Fut>(check: F)
where
    F: Fn(ProtocolClient) -> Fut,
    Fut: Future<Output = ()>,
{
    let servers = serve_in_process().await;
    check(servers.v6.clone()).await;
    check(servers.v5.clone()).await;
}
