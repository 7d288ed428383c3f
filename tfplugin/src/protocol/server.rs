//! The plugin server: runs the handshake, accepts connections (TCP_NODELAY, AutoMTLS), and
//! serves the negotiated provider protocol beside go-plugin's controller, stdio and broker
//! services and the gRPC health service, until Terraform asks it to shut down.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::handshake::{self, HandshakeError, ListenAddr, ListenConfig, Listener};
use super::logging;
use super::pb::plugin as goplugin;
use super::pb::{tfplugin5, tfplugin6};
use super::provider::ProviderServer;
use super::tls::{AutoMtls, ServerKey, TlsError};
use super::{v5::ProviderV5, v6::ProviderV6};

/// Terraform's own gRPC clients accept messages up to 256 MiB; so does the provider.
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// How long in-flight responses may drain after Shutdown before the process exits.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
/// Why serving failed.
pub enum ServeError {
    #[error(transparent)]
    /// The handshake with Terraform.
    Handshake(#[from] HandshakeError),
    #[error(transparent)]
    /// AutoMTLS.
    Tls(#[from] TlsError),
    #[error("could not listen: {0}")]
    /// Listening.
    Listen(#[from] io::Error),
    #[error("gRPC server failed: {0}")]
    /// The gRPC server.
    Transport(#[from] tonic::transport::Error),
}

/// Who is served and how the binary was started: everything the wire layer knows of the
/// provider comes from here (as terraform-plugin-go's `tf6server.Serve(name, ...)` takes
/// the name from its caller).
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The provider's name as configurations write it (`provider "<name>"`), for messages.
    pub name: String,
    /// Registry address used in the reattach line, e.g. `registry.terraform.io/x/name`.
    pub provider_address: String,
    /// The provider's part of environment variable names, upper case: `TF_LOG_PROVIDER_<prefix>`
    /// sets its log level and `TF_PROVIDER_<prefix>_LISTEN=tcp` forces loopback TCP.
    pub env_prefix: String,
    /// The tracing target prefix of the provider's own events (its crate name); events of
    /// other targets (dependencies) are not logged.
    pub log_target: String,
    /// `--debug`: no cookie, no TLS, print `TF_REATTACH_PROVIDERS` and serve until Ctrl-C.
    pub debug: bool,
}

impl ServeOptions {
    /// Options for the provider `name` published at `provider_address`; the env prefix is
    /// the name in upper case and the log target the crate name `terraform_provider_<name>`,
    /// until set otherwise.
    pub fn new(name: &str, provider_address: &str) -> Self {
        let ident = name.replace('-', "_");
        ServeOptions {
            name: name.to_string(),
            provider_address: provider_address.to_string(),
            env_prefix: ident.to_ascii_uppercase(),
            log_target: format!("terraform_provider_{ident}"),
            debug: false,
        }
    }
    /// The `<X>` of `TF_LOG_PROVIDER_<X>` and `TF_PROVIDER_<X>_LISTEN`.
    pub fn env_prefix(mut self, prefix: &str) -> Self {
        self.env_prefix = prefix.to_string();
        self
    }
    /// The tracing target of the provider's own log events.
    pub fn log_target(mut self, target: &str) -> Self {
        self.log_target = target.to_string();
        self
    }
    /// Serves without Terraform's launch handshake, printing `TF_REATTACH_PROVIDERS`.
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }
    /// `TF_PROVIDER_<prefix>_LISTEN`: set to `tcp`, the plugin listens on loopback TCP.
    pub fn listen_env(&self) -> String {
        format!("TF_PROVIDER_{}_LISTEN", self.env_prefix)
    }
    /// What the log writer needs: the level variables, the hclog module and the target.
    pub fn logging(&self) -> logging::LogOptions {
        logging::LogOptions {
            level_env: vec![
                format!("TF_LOG_PROVIDER_{}", self.env_prefix),
                "TF_LOG_PROVIDER".into(),
                "TF_LOG".into(),
            ],
            module: format!("provider.terraform-provider-{}", self.name),
            target: self.log_target.clone(),
        }
    }
}

/// Serves `provider` the way go-plugin serves a Go provider. Returns when Terraform shuts
/// the plugin down (or, in debug mode, on Ctrl-C).
pub async fn serve<P: ProviderServer>(
    provider: Arc<P>,
    opts: ServeOptions,
) -> Result<(), ServeError> {
    let env = |k: &str| std::env::var(k).ok();
    let (version, tls) = if opts.debug {
        (6, None)
    } else {
        handshake::check_cookie(env(handshake::MAGIC_COOKIE_KEY).as_deref(), &opts.name)?;
        let version = handshake::negotiate_version(env("PLUGIN_PROTOCOL_VERSIONS").as_deref())?;
        let tls = match env("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty()) {
            Some(pem) => Some(AutoMtls::new(&pem, ServerKey::for_protocol(version))?),
            None => None,
        };
        (version, tls)
    };
    let listener = ListenConfig::from_env(&opts.listen_env())?.bind().await?;
    let addr = listener.addr().clone();

    let shutdown = CancellationToken::new();
    let stop_signals = watch_signals(opts.debug, shutdown.clone())?;
    let incoming = accept_loop(
        listener,
        tls.as_ref().map(|t| t.config.clone()),
        shutdown.clone(),
    );

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let mut builder = tonic::transport::Server::builder();
    let router = builder
        .add_service(health)
        .add_service(goplugin::grpc_controller_server::GrpcControllerServer::new(
            Controller(shutdown.clone()),
        ))
        .add_service(goplugin::grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(goplugin::grpc_broker_server::GrpcBrokerServer::new(Broker));
    let router = if version == 6 {
        router.add_service(
            tfplugin6::provider_server::ProviderServer::new(ProviderV6(provider))
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
    } else {
        router.add_service(
            tfplugin5::provider_server::ProviderServer::new(ProviderV5(provider))
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
    };

    announce(version, &addr, tls.as_ref(), &opts)?;
    tracing::info!(protocol = version, network = addr.network(), address = %addr.address(), "plugin server listening");

    let shutdown_fut = shutdown.clone().cancelled_owned();
    let server = router.serve_with_incoming_shutdown(incoming, shutdown_fut);
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r?,
        () = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {}
    }
    stop_signals.abort();
    tracing::info!("plugin server stopped");
    Ok(())
}

/// Prints the handshake line (or, in debug mode, the reattach instructions) on stdout.
fn announce(
    version: u32,
    addr: &ListenAddr,
    tls: Option<&AutoMtls>,
    opts: &ServeOptions,
) -> io::Result<()> {
    use std::io::Write;
    let mut out = io::stdout().lock();
    if opts.debug {
        let reattach = serde_json::json!({
            &opts.provider_address: {
                "Protocol": "grpc",
                "ProtocolVersion": version,
                "Pid": std::process::id(),
                "Test": true,
                "Addr": {"Network": addr.network(), "String": addr.address()},
            }
        });
        writeln!(
            out,
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment \
             variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n"
        )?;
    } else {
        let cert = tls.map(AutoMtls::handshake_cert);
        writeln!(
            out,
            "{}",
            handshake::handshake_line(version, addr, cert.as_deref())
        )?;
    }
    out.flush()
}

/// go-plugin plugins ignore SIGINT: Ctrl-C reaches the whole process group, and Terraform
/// itself decides how to stop (StopProvider, then Shutdown). In debug mode Ctrl-C stops the
/// server. SIGTERM always stops it.
fn watch_signals(
    debug: bool,
    shutdown: CancellationToken,
) -> io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = int.recv() => {
                    if debug {
                        shutdown.cancel();
                        return;
                    }
                    tracing::debug!("ignoring SIGINT; Terraform stops the provider over gRPC");
                }
                _ = term.recv() => {
                    shutdown.cancel();
                    return;
                }
            }
        }
    }))
}

/// One accepted connection, plain or TLS, on a unix socket or TCP.
pub struct Conn(Pin<Box<dyn Io>>);
trait Io: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Io for T {}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}
impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}
impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }
}

/// Accepts connections until shutdown. TLS handshakes run in their own tasks so a slow or
/// refused client never blocks another; refused clients are logged and dropped.
fn accept_loop(
    listener: Listener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        // Keep the listener (and a unix socket's private directory) alive until shutdown.
        let listener = listener;
        loop {
            let accepted: io::Result<Pin<Box<dyn Io>>> = tokio::select! {
                () = shutdown.cancelled() => return,
                r = accept(&listener) => r,
            };
            let stream = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            match &acceptor {
                None => {
                    let _ = tx.send(Ok(Conn(stream))).await;
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls) => {
                                let _ = tx.send(Ok(Conn(Box::pin(tls)))).await;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "refused a client without Terraform's certificate")
                            }
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

async fn accept(listener: &Listener) -> io::Result<Pin<Box<dyn Io>>> {
    match listener {
        Listener::Unix { listener, .. } => {
            let (s, _) = listener.accept().await?;
            Ok(Box::pin(s))
        }
        Listener::Tcp { listener, .. } => {
            let (s, _) = listener.accept().await?;
            // Without this, Nagle's algorithm holds back each small gRPC reply until the
            // peer's delayed ACK: a 1000-resource refresh takes 10x longer.
            s.set_nodelay(true)?;
            Ok(Box::pin(s))
        }
    }
}

/// `plugin.GRPCController`: Terraform's request to exit.
struct Controller(CancellationToken);

#[tonic::async_trait]
impl goplugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _: Request<goplugin::Empty>,
    ) -> Result<Response<goplugin::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.0.cancel();
        Ok(Response::new(goplugin::Empty {}))
    }
}

type Pending<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send>>;

/// `plugin.GRPCStdio`: the provider writes its logs to stderr, which go-plugin reads
/// directly, so the stream stays open and silent.
struct Stdio;

#[tonic::async_trait]
impl goplugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Pending<goplugin::StdioData>;
    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

/// `plugin.GRPCBroker`: Terraform opens the stream but providers never broker connections.
struct Broker;

#[tonic::async_trait]
impl goplugin::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Pending<goplugin::ConnInfo>;
    async fn start_stream(
        &self,
        _: Request<tonic::Streaming<goplugin::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_options_name_the_environment_variables_after_the_provider() {
        let opts = ServeOptions::new("example-cloud", "registry.terraform.io/acme/example-cloud");
        assert_eq!(opts.listen_env(), "TF_PROVIDER_EXAMPLE_CLOUD_LISTEN");
        let log = opts.logging();
        assert_eq!(
            log.level_env,
            ["TF_LOG_PROVIDER_EXAMPLE_CLOUD", "TF_LOG_PROVIDER", "TF_LOG"]
        );
        assert_eq!(log.module, "provider.terraform-provider-example-cloud");
        assert_eq!(log.target, "terraform_provider_example_cloud");
        let opts = opts.env_prefix("EXAMPLE").log_target("example_crate");
        assert_eq!(opts.listen_env(), "TF_PROVIDER_EXAMPLE_LISTEN");
        assert_eq!(opts.logging().level_env[0], "TF_LOG_PROVIDER_EXAMPLE");
        assert_eq!(opts.logging().target, "example_crate");
    }
}
