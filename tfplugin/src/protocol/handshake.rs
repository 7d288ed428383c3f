//! go-plugin handshake: the magic cookie check, protocol version negotiation, the listener
//! (a unix socket in a private directory, or loopback TCP within the allowed port range)
//! and the handshake line Terraform reads from stdout.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, UnixListener};

/// The environment variable go-plugin's client sets to show the plugin was launched by it.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Its value for Terraform's plugins.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version, the first field of the handshake line.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
/// Why the plugin cannot take part in go-plugin's handshake.
pub enum HandshakeError {
    #[error(
        "This binary is a plugin for Terraform and OpenTofu and is not meant to be run directly.\n\
         Terraform starts it when a configuration uses the {provider} provider; \
         run it with --debug to attach Terraform to it by hand, or --version to print its version."
    )]
    /// Not started by Terraform: the magic cookie is missing.
    NotAPluginLaunch {
        /// The provider's name, as its users know it.
        provider: String,
    },
    #[error("Terraform offered plugin protocol versions {0:?}; this provider speaks 6 and 5")]
    /// Terraform offered no protocol version this crate speaks.
    NoCommonVersion(String),
    #[error("invalid {name}: {value:?}")]
    /// An environment variable go-plugin sets holds something unusable.
    BadEnv {
        /// The variable.
        name: &'static str,
        /// What it holds.
        value: String,
    },
}

/// Picks the protocol version from `PLUGIN_PROTOCOL_VERSIONS` ("5,6"): 6 when offered,
/// else 5. Absent, go-plugin servers use their newest version.
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(6);
    };
    let versions: Vec<u32> = offered
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    [6, 5]
        .into_iter()
        .find(|v| versions.contains(v))
        .ok_or_else(|| HandshakeError::NoCommonVersion(offered.to_string()))
}

/// Checks the magic cookie go-plugin sets when Terraform launches the plugin; `provider`
/// names the provider in the error a person running the binary by hand gets.
pub fn check_cookie(value: Option<&str>, provider: &str) -> Result<(), HandshakeError> {
    match value {
        Some(MAGIC_COOKIE_VALUE) => Ok(()),
        _ => Err(HandshakeError::NotAPluginLaunch {
            provider: provider.to_string(),
        }),
    }
}

/// The line go-plugin reads: `1|6|unix|/path/plugin.sock|grpc|<base64 cert>`.
pub fn handshake_line(version: u32, addr: &ListenAddr, cert: Option<&str>) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{version}|{}|{}|grpc|{}",
        addr.network(),
        addr.address(),
        cert.unwrap_or("")
    )
}

/// Where the plugin listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    /// A unix socket at this path.
    Unix(PathBuf),
    /// A TCP address.
    Tcp(SocketAddr),
}

impl ListenAddr {
    /// `unix` or `tcp`, as the handshake line spells it.
    pub fn network(&self) -> &'static str {
        match self {
            ListenAddr::Unix(_) => "unix",
            ListenAddr::Tcp(_) => "tcp",
        }
    }
    /// The address, as the handshake line writes it.
    pub fn address(&self) -> String {
        match self {
            ListenAddr::Unix(p) => p.display().to_string(),
            ListenAddr::Tcp(a) => a.to_string(),
        }
    }
}

/// A bound listener; a unix socket's private directory is removed when this is dropped.
pub enum Listener {
    /// A unix socket in a private directory.
    Unix {
        /// The socket.
        listener: UnixListener,
        /// Its path.
        addr: ListenAddr,
        /// The private directory, removed on drop.
        _dir: tempfile::TempDir,
    },
    /// A TCP listener on the loopback interface.
    Tcp {
        /// The listener.
        listener: TcpListener,
        /// Its address.
        addr: ListenAddr,
    },
}

impl Listener {
    /// Where it listens.
    pub fn addr(&self) -> &ListenAddr {
        match self {
            Listener::Unix { addr, .. } | Listener::Tcp { addr, .. } => addr,
        }
    }
}

/// Settings read from the environment go-plugin prepares.
#[derive(Clone, Debug, Default)]
pub struct ListenConfig {
    /// `PLUGIN_UNIX_SOCKET_DIR`: where to put the socket.
    pub unix_socket_dir: Option<PathBuf>,
    /// TCP instead of a unix socket (the serve options' listen variable set to `tcp`).
    pub force_tcp: bool,
    /// `PLUGIN_MIN_PORT`: the lowest TCP port to listen on.
    pub min_port: u16,
    /// `PLUGIN_MAX_PORT`: the highest TCP port to listen on.
    pub max_port: u16,
}

impl ListenConfig {
    /// Reads go-plugin's variables, and `listen_env` (the provider's own switch to force
    /// loopback TCP where unix sockets are unwanted: `<listen_env>=tcp`).
    pub fn from_env(listen_env: &str) -> Result<Self, HandshakeError> {
        let port = |name: &'static str, default: u16| -> Result<u16, HandshakeError> {
            match std::env::var(name) {
                Ok(v) if !v.is_empty() => v
                    .parse()
                    .map_err(|_| HandshakeError::BadEnv { name, value: v }),
                _ => Ok(default),
            }
        };
        Ok(ListenConfig {
            unix_socket_dir: std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            force_tcp: std::env::var(listen_env).is_ok_and(|v| v.eq_ignore_ascii_case("tcp")),
            // go-plugin's defaults.
            min_port: port("PLUGIN_MIN_PORT", 10000)?,
            max_port: port("PLUGIN_MAX_PORT", 25000)?,
        })
    }

    /// Binds a unix socket in a fresh 0700 directory, or, where that is unavailable or TCP
    /// is forced, the first free loopback port in the range.
    pub async fn bind(&self) -> io::Result<Listener> {
        if !self.force_tcp {
            match bind_unix(self.unix_socket_dir.as_deref()) {
                Ok(l) => return Ok(l),
                Err(e) => {
                    tracing::warn!(error = %e, "unix socket unavailable, falling back to TCP")
                }
            }
        }
        self.bind_tcp().await
    }

    async fn bind_tcp(&self) -> io::Result<Listener> {
        if self.min_port > self.max_port {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "PLUGIN_MIN_PORT > PLUGIN_MAX_PORT",
            ));
        }
        for port in self.min_port..=self.max_port {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            if let Ok(listener) = TcpListener::bind(addr).await {
                let addr = ListenAddr::Tcp(listener.local_addr()?);
                return Ok(Listener::Tcp { listener, addr });
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "no free port between {} and {}",
                self.min_port, self.max_port
            ),
        ))
    }
}

fn bind_unix(dir: Option<&Path>) -> io::Result<Listener> {
    let base = dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    // Mode 0700: only this user can reach the socket.
    let private = tempfile::Builder::new()
        .prefix("plugin")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(base)?;
    let path = private.path().join("plugin.sock");
    let listener = UnixListener::bind(&path)?;
    Ok(Listener::Unix {
        listener,
        addr: ListenAddr::Unix(path),
        _dir: private,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_6_and_serves_5_when_only_5_is_offered() {
        assert_eq!(negotiate_version(Some("5,6")), Ok(6));
        assert_eq!(negotiate_version(Some("6")), Ok(6));
        assert_eq!(negotiate_version(Some("5")), Ok(5));
        assert_eq!(negotiate_version(Some(" 4, 5 ")), Ok(5));
        assert_eq!(negotiate_version(None), Ok(6));
        assert!(matches!(
            negotiate_version(Some("3,4")),
            Err(HandshakeError::NoCommonVersion(_))
        ));
    }

    #[test]
    fn cookie_must_match_exactly() {
        let refused = || {
            Err(HandshakeError::NotAPluginLaunch {
                provider: "example".into(),
            })
        };
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE), "example").is_ok());
        assert_eq!(check_cookie(None, "example"), refused());
        assert_eq!(check_cookie(Some("nope"), "example"), refused());
    }

    #[test]
    fn handshake_line_has_go_plugin_fields() {
        let unix = ListenAddr::Unix(PathBuf::from("/tmp/plugin1/plugin.sock"));
        assert_eq!(
            handshake_line(6, &unix, Some("Q0VSVA")),
            "1|6|unix|/tmp/plugin1/plugin.sock|grpc|Q0VSVA"
        );
        let tcp = ListenAddr::Tcp("127.0.0.1:10001".parse().unwrap());
        assert_eq!(
            handshake_line(5, &tcp, None),
            "1|5|tcp|127.0.0.1:10001|grpc|"
        );
    }

    #[tokio::test]
    async fn unix_socket_lives_in_a_private_directory_that_is_removed_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let cfg = ListenConfig {
            unix_socket_dir: Some(base.path().into()),
            ..ListenConfig::default()
        };
        let l = cfg.bind().await.unwrap();
        let ListenAddr::Unix(path) = l.addr().clone() else {
            panic!("expected unix")
        };
        let dir = path.parent().unwrap().to_path_buf();
        assert!(dir.starts_with(base.path()));
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        drop(l);
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn tcp_binds_loopback_within_the_port_range() {
        let cfg = ListenConfig {
            force_tcp: true,
            min_port: 20000,
            max_port: 20100,
            ..ListenConfig::default()
        };
        let l = cfg.bind().await.unwrap();
        let ListenAddr::Tcp(a) = l.addr().clone() else {
            panic!("expected tcp")
        };
        assert!(a.ip().is_loopback());
        assert!((20000..=20100).contains(&a.port()));
    }
}
