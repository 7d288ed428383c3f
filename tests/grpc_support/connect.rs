//! A gRPC channel to a plugin: over a unix socket or TCP, in the clear or over a given
//! rustls configuration (server name `localhost`), recording what the connection saw
//! (local address and socket, ALPN, the server's certificate, the TLS version).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::{Channel, Endpoint, Uri};

/// Where a plugin listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

/// What the last connection made through a channel saw.
#[derive(Clone, Debug, Default)]
pub struct ConnInfo {
    /// The client's own address (TCP only).
    pub local_addr: Option<SocketAddr>,
    /// The client socket's file descriptor (TCP only), valid while the connection lives.
    pub local_fd: Option<i32>,
    pub alpn: Option<Vec<u8>>,
    /// The certificate the server presented.
    pub server_cert: Option<Vec<u8>>,
    pub tls_version: Option<rustls::ProtocolVersion>,
}

pub struct Conn {
    pub channel: Channel,
    pub info: Arc<Mutex<ConnInfo>>,
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

async fn wrap<S: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
    stream: S,
    tls: Option<Arc<rustls::ClientConfig>>,
    info: &Mutex<ConnInfo>,
) -> std::io::Result<TokioIo<Box<dyn Io>>> {
    let Some(config) = tls else {
        return Ok(TokioIo::new(Box::new(stream)));
    };
    let name = ServerName::try_from("localhost").expect("server name");
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await?;
    {
        let (_, session) = tls.get_ref();
        let mut i = info.lock().unwrap();
        i.alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        i.server_cert = session
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec());
        i.tls_version = session.protocol_version();
    }
    Ok(TokioIo::new(Box::new(tls)))
}

/// A gRPC channel to `target`, over `tls` when given (server name `localhost`).
pub async fn connect(
    target: &Target,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Conn, tonic::transport::Error> {
    let info = Arc::new(Mutex::new(ConnInfo::default()));
    let (target, slot) = (target.clone(), info.clone());
    let connector = tower::service_fn(move |_: Uri| {
        let (target, tls, info) = (target.clone(), tls.clone(), slot.clone());
        async move {
            match target {
                Target::Unix(path) => {
                    wrap(tokio::net::UnixStream::connect(path).await?, tls, &info).await
                }
                Target::Tcp(addr) => {
                    let s = tokio::net::TcpStream::connect(addr).await?;
                    {
                        use std::os::fd::AsRawFd;
                        let mut i = info.lock().unwrap();
                        i.local_addr = Some(s.local_addr()?);
                        i.local_fd = Some(s.as_raw_fd());
                    }
                    wrap(s, tls, &info).await
                }
            }
        }
    });
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await?;
    Ok(Conn { channel, info })
}
