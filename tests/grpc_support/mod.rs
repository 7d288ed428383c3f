//! Shared helpers for the protocol tests (`tests/protocol_*.rs`).
//!
//! - [`Identity`]: a client certificate made the way go-plugin's `mtls.go` makes Terraform's.
//! - [`Launch`] / [`Plugin`]: the real binary started as go-plugin starts it, with its
//!   handshake line, stderr and exit status observable without sleeps.
//! - [`connect`]: a tonic channel over a unix socket or TCP, optionally with rustls
//!   mTLS (aws-lc-rs, which can sign with P-521) that trusts only the certificate announced
//!   in the handshake.
//! - [`serve_in_process`] and [`Tf`]: tfplugin6 and tfplugin5 served in-process, behind one
//!   client type, so each behaviour is checked on both protocol versions.
#![allow(dead_code)] // each test crate uses a different part of this module

pub mod objchange;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

pub use gitlab_sim::guard as process_guard;

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use terraform_provider_gitlab::framework::Framework;
use terraform_provider_gitlab::protocol::codec;
use terraform_provider_gitlab::protocol::logging::Redactor;
use terraform_provider_gitlab::protocol::pb::{tfplugin5, tfplugin6};
use terraform_provider_gitlab::protocol::v5::ProviderV5;
use terraform_provider_gitlab::protocol::v6::ProviderV6;
use terraform_provider_gitlab::protocol::value::{Type, Value};
use terraform_provider_gitlab::resources::GitlabProvider;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::Status;
use tonic::transport::{Channel, Endpoint, Uri};

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// How long any single wait may last before the test fails instead of hanging. It bounds a
/// wait for a condition; no test asserts on how long anything took.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-gitlab")
}

/// Awaits `f`, failing the test (instead of hanging it) if it never completes.
pub async fn guard<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(HANG_GUARD, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {HANG_GUARD:?} (hang)"),
    }
}

// ---------------------------------------------------------------------------------------
// Client certificates

/// A client identity: certificate (DER and PEM) and its PKCS#8 private key.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    pub pem: String,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A certificate shaped like go-plugin's `generateCert` (mtls.go), which Terraform passes
    /// to the plugin in `PLUGIN_CLIENT_CERT`: ECDSA P-521 key, ecdsa-with-SHA512 signature,
    /// self-signed CA, subject and issuer `O=HashiCorp, CN=localhost`, SAN `localhost`, key
    /// usage digitalSignature|keyEncipherment|keyAgreement|certSign, extended key usage
    /// clientAuth+serverAuth, a random 128-bit serial, valid from 30 s ago for 262980 h.
    pub fn go_plugin() -> Identity {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType,
            ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
            SerialNumber,
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("generate P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        // Go's pkix.Name writes O before CN.
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "HashiCorp");
        dn.push(DnType::CommonName, "localhost");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let mut serial = [0u8; 16];
        serial.iter_mut().for_each(|b| *b = fastrand::u8(..));
        serial[0] &= 0x7f; // a positive integer below 2^128, as rand.Int gives
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::hours(262_980);
        let cert = params.self_signed(&key).expect("self-sign");
        Identity {
            cert: cert.der().clone(),
            pem: cert.pem(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// What a test client presents to the plugin.
pub enum ClientAuth<'a> {
    /// No certificate at all.
    Nothing,
    /// This certificate, proven with its own key.
    Cert(&'a Identity),
    /// `cert`'s certificate, signed for with `key_of`'s key: someone who copied Terraform's
    /// (public) certificate from the plugin's environment but lacks its private key.
    Stolen {
        cert: &'a Identity,
        key_of: &'a Identity,
    },
}

/// Trusts exactly one server certificate, and checks it as Go's crypto/tls does for
/// go-plugin's client (that certificate as the only root, server name `localhost`):
/// the name is in its SAN, it is within its validity period and allows serverAuth.
#[derive(Debug)]
struct PinnedServer {
    cert: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let bad = |e| Err(rustls::Error::InvalidCertificate(e));
        if end_entity.as_ref() != self.cert.as_slice() {
            return bad(CertificateError::UnknownIssuer);
        }
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(end_entity.as_ref()) else {
            return bad(CertificateError::BadEncoding);
        };
        if !cert.validity().is_valid() {
            return bad(CertificateError::Expired);
        }
        let ServerName::DnsName(name) = server_name else {
            return bad(CertificateError::NotValidForName);
        };
        let names_ok = cert.subject_alternative_name().ok().flatten().is_some_and(|san| {
            san.value.general_names.iter().any(
                |n| matches!(n, x509_parser::extensions::GeneralName::DNSName(d) if *d == name.as_ref()),
            )
        });
        if !names_ok {
            return bad(CertificateError::NotValidForName);
        }
        let server_auth = cert
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|e| e.value.server_auth);
        if !server_auth {
            return bad(CertificateError::InvalidPurpose);
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A rustls client configuration (aws-lc-rs, to sign with P-521) as go-plugin's client uses:
/// ALPN h2, the server certificate from the handshake as the only trusted one, and `auth`.
pub fn tls_client(server_cert: &[u8], auth: ClientAuth<'_>) -> Arc<rustls::ClientConfig> {
    tls_client_with_versions(server_cert, auth, rustls::DEFAULT_VERSIONS)
}

/// As [`tls_client`], limited to `versions` (Terraform 0.12 was built with Go 1.12, whose
/// crypto/tls spoke TLS 1.2 unless told otherwise).
pub fn tls_client_with_versions(
    server_cert: &[u8],
    auth: ClientAuth<'_>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer {
        cert: server_cert.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match auth {
        ClientAuth::Nothing => builder.with_no_client_auth(),
        ClientAuth::Cert(id) => builder
            .with_client_auth_cert(
                vec![id.cert.clone()],
                PrivateKeyDer::Pkcs8(id.key.clone_key()),
            )
            .expect("client certificate"),
        ClientAuth::Stolen { cert, key_of } => {
            let key = provider
                .key_provider
                .load_private_key(PrivateKeyDer::Pkcs8(key_of.key.clone_key()))
                .expect("load key");
            // CertifiedKey::new does not check that the key matches, which is the point.
            let ck = rustls::sign::CertifiedKey::new(vec![cert.cert.clone()], key);
            builder.with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(ck)))
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

// ---------------------------------------------------------------------------------------
// Connecting

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

// ---------------------------------------------------------------------------------------
// The real binary

/// A plugin launch being prepared: the environment go-plugin gives a plugin (magic cookie,
/// protocol versions 5 and 6, a private socket directory), nothing inherited that would
/// change the outcome.
pub struct Launch {
    cmd: Command,
    dir: tempfile::TempDir,
}

impl Default for Launch {
    fn default() -> Self {
        Self::new()
    }
}

impl Launch {
    pub fn new() -> Launch {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(bin());
        for k in [
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TF_LOG_PROVIDER_GITLAB",
            "TF_REATTACH_PROVIDERS",
            "TF_PROVIDER_GITLAB_LISTEN",
            "PLUGIN_CLIENT_CERT",
            "PLUGIN_MIN_PORT",
            "PLUGIN_MAX_PORT",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Launch { cmd, dir }
    }
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }
    pub fn arg(mut self, a: &str) -> Self {
        self.cmd.arg(a);
        self
    }
    pub fn client_cert(self, id: &Identity) -> Self {
        self.env("PLUGIN_CLIENT_CERT", &id.pem)
    }
    /// The directory given as `PLUGIN_UNIX_SOCKET_DIR`.
    pub fn socket_base(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    pub fn spawn(self) -> Plugin {
        // Dies with the test process, by any signal (see process_guard).
        let mut child = process_guard::spawn(self.cmd, "the provider binary");
        let pid = child.id();
        let (line_tx, stdout) = mpsc::channel();
        let out = child.child_mut().stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Stderr::default());
        let (sink, mut err) = (
            stderr.clone(),
            child.child_mut().stderr.take().expect("stderr"),
        );
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = err.read(&mut buf).unwrap_or(0);
                let mut s = sink.text.lock().unwrap();
                if n == 0 {
                    s.1 = true;
                    sink.changed.notify_all();
                    return;
                }
                s.0.push_str(&String::from_utf8_lossy(&buf[..n]));
                sink.changed.notify_all();
            }
        });
        let (exit_tx, exit) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = exit_tx.send(child.wait());
        });
        Plugin {
            pid,
            stdout,
            stderr,
            exit,
            status: None,
            socket_base: self.dir,
        }
    }
}

#[derive(Default)]
struct Stderr {
    /// Text so far, and whether the stream has ended.
    text: Mutex<(String, bool)>,
    changed: Condvar,
}

/// A running (or finished) provider process. Dropping it kills a process still running.
pub struct Plugin {
    pub pid: u32,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Stderr>,
    exit: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    /// `PLUGIN_UNIX_SOCKET_DIR`, removed when the plugin is dropped.
    pub socket_base: tempfile::TempDir,
}

impl Plugin {
    /// The next line the plugin prints on stdout; `None` once stdout is closed.
    pub fn stdout_line(&mut self) -> Option<String> {
        match self.stdout.recv_timeout(HANG_GUARD) {
            Ok(l) => Some(l),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "no stdout line within {HANG_GUARD:?}; stderr:\n{}",
                    self.stderr()
                )
            }
        }
    }
    /// Everything left on stdout until the plugin closes it.
    pub fn rest_of_stdout(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.stdout_line()).collect()
    }
    /// Reads and parses the go-plugin handshake line.
    pub fn handshake(&mut self) -> Handshake {
        match self.stdout_line() {
            Some(line) => Handshake::parse(&line),
            None => panic!(
                "the plugin closed stdout without a handshake; stderr:\n{}",
                self.stderr()
            ),
        }
    }
    pub fn stderr(&self) -> String {
        self.stderr.text.lock().unwrap().0.clone()
    }
    /// All of stderr, once the plugin has closed it.
    pub fn stderr_to_end(&self) -> String {
        let deadline = Instant::now() + HANG_GUARD;
        let mut s = self.stderr.text.lock().unwrap();
        while !s.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "stderr still open after {HANG_GUARD:?}");
            s = self.stderr.changed.wait_timeout(s, left).unwrap().0;
        }
        s.0.clone()
    }
    /// Waits until stderr contains `needle`; panics if stderr ends without it.
    pub fn await_stderr(&self, needle: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        let mut s = self.stderr.text.lock().unwrap();
        while !s.0.contains(needle) {
            assert!(!s.1, "stderr ended without {needle:?}:\n{}", s.0);
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "stderr lacks {needle:?} after {HANG_GUARD:?}:\n{}",
                s.0
            );
            s = self.stderr.changed.wait_timeout(s, left).unwrap().0;
        }
    }
    /// The exit status, waiting for the process to end.
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        match self.exit.recv_timeout(HANG_GUARD) {
            Ok(s) => {
                self.status = Some(s);
                s
            }
            Err(_) => panic!(
                "the plugin did not exit within {HANG_GUARD:?}; stderr:\n{}",
                self.stderr()
            ),
        }
    }
    /// Whether the process has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.exit.try_recv().ok();
        }
        self.status.is_some()
    }
    /// Sends `signal` to the plugin process (which this test started).
    pub fn signal(&mut self, signal: i32) {
        assert!(!self.has_exited(), "the plugin already exited");
        let pid = i32::try_from(self.pid).expect("pid");
        // SAFETY: kill(2) on our own child's pid; it has not been reaped (no exit status yet).
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {signal}): {}",
            std::io::Error::last_os_error()
        );
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        if !self.has_exited() {
            if let Ok(pid) = i32::try_from(self.pid) {
                // SAFETY: as in `signal`: our child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let _ = self.exit.recv_timeout(HANG_GUARD);
        }
    }
}

/// go-plugin's handshake line: `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT`.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub line: String,
    pub core_version: u32,
    pub protocol_version: u32,
    pub network: String,
    pub address: String,
    pub protocol: String,
    pub cert_base64: String,
}

impl Handshake {
    pub fn parse(line: &str) -> Handshake {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 6, "handshake line needs 6 fields: {line:?}");
        Handshake {
            line: line.to_string(),
            core_version: f[0]
                .parse()
                .unwrap_or_else(|_| panic!("core version in {line:?}")),
            protocol_version: f[1]
                .parse()
                .unwrap_or_else(|_| panic!("protocol version in {line:?}")),
            network: f[2].to_string(),
            address: f[3].to_string(),
            protocol: f[4].to_string(),
            cert_base64: f[5].to_string(),
        }
    }
    /// The server certificate, decoded as go-plugin does (base64 without padding).
    pub fn server_cert(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&self.cert_base64)
            .unwrap_or_else(|e| {
                panic!(
                    "certificate field is not unpadded base64 ({e}): {:?}",
                    self.line
                )
            })
    }
    pub fn target(&self) -> Target {
        match self.network.as_str() {
            "unix" => Target::Unix(PathBuf::from(&self.address)),
            "tcp" => Target::Tcp(
                self.address
                    .parse()
                    .unwrap_or_else(|_| panic!("tcp address in {:?}", self.line)),
            ),
            other => panic!("unknown network {other:?} in {:?}", self.line),
        }
    }
}

/// Starts a plugin with AutoMTLS for `id` and connects to it as Terraform would.
pub async fn start_with_mtls(launch: Launch, id: &Identity) -> (Plugin, Handshake, Conn) {
    let mut plugin = launch.client_cert(id).spawn();
    let hs = plugin.handshake();
    let tls = tls_client(&hs.server_cert(), ClientAuth::Cert(id));
    let conn = guard("connect", connect(&hs.target(), Some(tls)))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "connect to {:?}: {e:?}; stderr:\n{}",
                hs.line,
                plugin.stderr()
            )
        });
    (plugin, hs, conn)
}

// ---------------------------------------------------------------------------------------
// In-process servers and a client for both protocol versions

/// tfplugin6 and tfplugin5 servers, each over its own provider instance, on unix sockets.
pub struct InProcess {
    pub v6: Tf,
    pub v5: Tf,
    _dir: tempfile::TempDir,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

fn provider() -> Arc<Framework<GitlabProvider>> {
    Arc::new(Framework::new(GitlabProvider {
        redactor: Redactor::default(),
    }))
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
        v6: Tf::V6(tfplugin6::provider_client::ProviderClient::new(c6.channel)),
        v5: Tf::V5(tfplugin5::provider_client::ProviderClient::new(c5.channel)),
        _dir: dir,
        tasks,
    }
}

/// Runs `check` against a fresh tfplugin6 provider, then a fresh tfplugin5 one.
pub async fn on_both_protocols<F, Fut>(check: F)
where
    F: Fn(Tf) -> Fut,
    Fut: Future<Output = ()>,
{
    let servers = serve_in_process().await;
    check(servers.v6.clone()).await;
    check(servers.v5.clone()).await;
}

/// A provider client speaking either protocol version.
#[derive(Clone)]
pub enum Tf {
    V6(tfplugin6::provider_client::ProviderClient<Channel>),
    V5(tfplugin5::provider_client::ProviderClient<Channel>),
}

/// One attribute path step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
    Missing,
}

pub fn attr_path(name: &str) -> Vec<Step> {
    vec![Step::Attr(name.to_string())]
}

/// A diagnostic, whichever protocol carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub error: bool,
    pub summary: String,
    pub detail: String,
    pub path: Option<Vec<Step>>,
}

impl Diag {
    /// Summary and detail, for matching words in either.
    pub fn text(&self) -> String {
        format!("{}: {}", self.summary, self.detail)
    }
}

pub fn errors(diags: &[Diag]) -> Vec<&Diag> {
    diags.iter().filter(|d| d.error).collect()
}

/// A schema as the wire describes it.
#[derive(Clone, Debug, Default)]
pub struct WireSchema {
    pub version: i64,
    pub attrs: BTreeMap<String, WireAttr>,
}

#[derive(Clone, Debug)]
pub struct WireAttr {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
}

impl WireSchema {
    /// The object type of a value of this schema, as Terraform derives it from the wire.
    pub fn ty(&self) -> Type {
        Type::Object(
            self.attrs
                .iter()
                .map(|(k, a)| (k.clone(), a.ty.clone()))
                .collect(),
        )
    }
    /// An object of this schema: `set` given, every other attribute null.
    pub fn object(&self, set: &[(&str, Value)]) -> Value {
        let mut v = Value::object(self.attrs.keys().map(|k| (k.clone(), Value::Null)));
        for (k, x) in set {
            assert!(self.attrs.contains_key(*k), "schema has no attribute {k}");
            *v.get_mut(k).expect("object") = x.clone();
        }
        v
    }
    pub fn msgpack(&self, v: &Value) -> Dv {
        Dv::Msgpack(codec::to_msgpack(v, &self.ty()).expect("encode"))
    }
    pub fn decode(&self, msgpack: &[u8]) -> Value {
        codec::from_msgpack(msgpack, &self.ty()).expect("decode the provider's msgpack")
    }
}

#[derive(Clone, Debug, Default)]
pub struct WireSchemas {
    pub provider: WireSchema,
    pub resources: BTreeMap<String, WireSchema>,
    pub data_sources: BTreeMap<String, WireSchema>,
    /// (plan_destroy, get_provider_schema_optional, move_resource_state, generate_resource_config)
    pub capabilities: Option<(bool, bool, bool, bool)>,
    pub diags: Vec<Diag>,
}

/// The value a DynamicValue sent to the provider holds (null when absent or unreadable:
/// the checks then compare against null, as Terraform would have nothing either).
fn dv_value(schema: &WireSchema, dv: Option<&Dv>) -> Value {
    match dv {
        Some(Dv::Msgpack(b)) => codec::from_msgpack(b, &schema.ty()).unwrap_or(Value::Null),
        Some(Dv::Json(b)) => {
            codec::from_json(b, &schema.ty(), codec::UnknownAttrs::Ignore).unwrap_or(Value::Null)
        }
        None => Value::Null,
    }
}

/// A DynamicValue as sent: msgpack or JSON bytes, well-formed or not.
#[derive(Clone, Debug)]
pub enum Dv {
    Msgpack(Vec<u8>),
    Json(Vec<u8>),
}

pub struct Planned {
    pub planned: Option<Vec<u8>>,
    pub requires_replace: Vec<Vec<Step>>,
    pub private: Vec<u8>,
    pub diags: Vec<Diag>,
}

pub struct Applied {
    pub new_state: Option<Vec<u8>>,
    pub diags: Vec<Diag>,
}

/// The outcome of an RPC for a feature the provider does not offer.
pub struct NotOffered {
    pub rpc: &'static str,
    /// Messages received (1 for unary RPCs; events for streams, read to the end).
    pub messages: usize,
    pub diags: Vec<Diag>,
}

macro_rules! on_version {
    ($self:expr, $c:ident, $pb:ident => $body:expr) => {
        match $self {
            Tf::V6($c) => {
                use terraform_provider_gitlab::protocol::pb::tfplugin6 as $pb;
                $body
            }
            Tf::V5($c) => {
                use terraform_provider_gitlab::protocol::pb::tfplugin5 as $pb;
                $body
            }
        }
    };
}

macro_rules! diags {
    ($pb:ident, $list:expr) => {
        $list
            .into_iter()
            .map(|d| Diag {
                error: d.severity == $pb::diagnostic::Severity::Error as i32,
                summary: d.summary,
                detail: d.detail,
                path: d.attribute.map(|a| {
                    a.steps
                        .into_iter()
                        .map(|s| {
                            use $pb::attribute_path::step::Selector;
                            match s.selector {
                                Some(Selector::AttributeName(n)) => Step::Attr(n),
                                Some(Selector::ElementKeyString(k)) => Step::Key(k),
                                Some(Selector::ElementKeyInt(i)) => Step::Index(i),
                                None => Step::Missing,
                            }
                        })
                        .collect()
                }),
            })
            .collect::<Vec<Diag>>()
    };
}

macro_rules! dv {
    ($pb:ident, $v:expr) => {
        $v.map(|v| match v {
            Dv::Msgpack(b) => $pb::DynamicValue {
                msgpack: b,
                json: Vec::new(),
            },
            Dv::Json(b) => $pb::DynamicValue {
                msgpack: Vec::new(),
                json: b,
            },
        })
    };
}

macro_rules! wire_schema {
    ($s:expr) => {{
        let s = $s.expect("schema");
        let block = s.block.expect("schema block");
        WireSchema {
            version: s.version,
            attrs: block
                .attributes
                .into_iter()
                .map(|a| {
                    let json: serde_json::Value =
                        serde_json::from_slice(&a.r#type).expect("attribute type JSON");
                    let ty =
                        Type::from_json(&json).unwrap_or_else(|| panic!("attribute type {json}"));
                    let attr = WireAttr {
                        ty,
                        required: a.required,
                        optional: a.optional,
                        computed: a.computed,
                        sensitive: a.sensitive,
                        write_only: a.write_only,
                    };
                    (a.name, attr)
                })
                .collect(),
        }
    }};
}

/// Reads a server stream to its end, keeping the diagnostics of every message.
async fn drain<T>(
    stream: Result<tonic::Response<tonic::Streaming<T>>, Status>,
    diags_of: impl Fn(T) -> Vec<Diag>,
) -> Result<(usize, Vec<Diag>), Status> {
    let mut stream = stream?.into_inner();
    let (mut n, mut all) = (0, Vec::new());
    while let Some(m) = stream.message().await? {
        n += 1;
        all.extend(diags_of(m));
    }
    Ok((n, all))
}

impl Tf {
    /// Terraform's rule (lang/ephemeral.ValidateWriteOnlyAttributes, called after
    /// PlanResourceChange, ApplyResourceChange, ReadResource, ImportResourceState and
    /// UpgradeResourceState): every write-only attribute of a returned object is null.
    /// Anything else fails the test with the error Terraform would print.
    pub async fn assert_write_only_null(
        &mut self,
        type_name: &str,
        msgpack: Option<&[u8]>,
        summary: &str,
        during: &str,
    ) {
        let Some(bytes) = msgpack else { return };
        let schemas = self.schemas().await.expect("GetProviderSchema");
        let Some(schema) = schemas.resources.get(type_name) else {
            return;
        };
        let value = schema.decode(bytes);
        if value.is_null() {
            return;
        }
        for (name, attr) in &schema.attrs {
            if attr.write_only && !value.get(name).is_null() {
                panic!(
                    "{}: {summary}: Provider returned a value for the write-only attribute \"{type_name}.{name}\" \
                     {during}. Write-only attributes cannot be read back from the provider.",
                    self.name()
                );
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Tf::V6(_) => "tfplugin6",
            Tf::V5(_) => "tfplugin5",
        }
    }

    /// GetProviderSchema (v6) / GetSchema (v5).
    pub async fn schemas(&mut self) -> Result<WireSchemas, Status> {
        macro_rules! convert {
            ($pb:ident, $r:expr) => {{
                let r: $pb::get_provider_schema::Response = $r;
                WireSchemas {
                    provider: wire_schema!(r.provider),
                    resources: r
                        .resource_schemas
                        .into_iter()
                        .map(|(k, s)| (k, wire_schema!(Some(s))))
                        .collect(),
                    data_sources: r
                        .data_source_schemas
                        .into_iter()
                        .map(|(k, s)| (k, wire_schema!(Some(s))))
                        .collect(),
                    capabilities: r.server_capabilities.map(|c| {
                        (
                            c.plan_destroy,
                            c.get_provider_schema_optional,
                            c.move_resource_state,
                            c.generate_resource_config,
                        )
                    }),
                    diags: diags!($pb, r.diagnostics),
                }
            }};
        }
        match self {
            Tf::V6(c) => {
                use tfplugin6 as pb;
                let r = c
                    .get_provider_schema(pb::get_provider_schema::Request::default())
                    .await?;
                Ok(convert!(pb, r.into_inner()))
            }
            Tf::V5(c) => {
                use tfplugin5 as pb;
                let r = c
                    .get_schema(pb::get_provider_schema::Request::default())
                    .await?;
                Ok(convert!(pb, r.into_inner()))
            }
        }
    }

    /// GetMetadata: resource and data source type names, capabilities, diagnostics.
    pub async fn metadata(
        &mut self,
    ) -> Result<(Vec<String>, Vec<String>, bool, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let r = c.get_metadata(pb::get_metadata::Request::default()).await?.into_inner();
            Ok((
                r.resources.into_iter().map(|m| m.type_name).collect(),
                r.data_sources.into_iter().map(|m| m.type_name).collect(),
                r.server_capabilities.is_some(),
                diags!(pb, r.diagnostics),
            ))
        })
    }

    /// ValidateProviderConfig (v6) / PrepareProviderConfig (v5).
    pub async fn validate_provider(&mut self, config: Option<Dv>) -> Result<Vec<Diag>, Status> {
        match self {
            Tf::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::validate_provider_config::Request {
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.validate_provider_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
            Tf::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::prepare_provider_config::Request {
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.prepare_provider_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
        }
    }

    /// ConfigureProvider (v6) / Configure (v5).
    pub async fn configure(&mut self, config: Option<Dv>) -> Result<Vec<Diag>, Status> {
        let terraform_version = "1.14.0".to_string();
        match self {
            Tf::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::configure_provider::Request {
                    terraform_version,
                    config: dv!(pb, config),
                    ..Default::default()
                };
                Ok(diags!(
                    pb,
                    c.configure_provider(req).await?.into_inner().diagnostics
                ))
            }
            Tf::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::configure::Request {
                    terraform_version,
                    config: dv!(pb, config),
                    ..Default::default()
                };
                Ok(diags!(pb, c.configure(req).await?.into_inner().diagnostics))
            }
        }
    }

    /// ValidateResourceConfig (v6) / ValidateResourceTypeConfig (v5), as a client older
    /// than Terraform 1.11 sends it: without client capabilities.
    pub async fn validate_resource(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<Vec<Diag>, Status> {
        self.validate_resource_as(type_name, config, None).await
    }

    /// ValidateResourceConfig as Terraform 1.11 sends it: capabilities saying
    /// `write_only_attributes_allowed`.
    pub async fn validate_resource_modern(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<Vec<Diag>, Status> {
        self.validate_resource_as(type_name, config, Some(true))
            .await
    }

    /// ValidateResourceConfig with `write_only_attributes_allowed` as given (`None`: no
    /// ClientCapabilities message at all).
    pub async fn validate_resource_as(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
        write_only_allowed: Option<bool>,
    ) -> Result<Vec<Diag>, Status> {
        let type_name = type_name.to_string();
        match self {
            Tf::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::validate_resource_config::Request {
                    type_name,
                    config: dv!(pb, config),
                    client_capabilities: write_only_allowed.map(|w| pb::ClientCapabilities {
                        write_only_attributes_allowed: w,
                        ..Default::default()
                    }),
                };
                Ok(diags!(
                    pb,
                    c.validate_resource_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
            Tf::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::validate_resource_type_config::Request {
                    type_name,
                    config: dv!(pb, config),
                    client_capabilities: write_only_allowed.map(|w| pb::ClientCapabilities {
                        write_only_attributes_allowed: w,
                        ..Default::default()
                    }),
                };
                Ok(diags!(
                    pb,
                    c.validate_resource_type_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
        }
    }

    /// ValidateDataResourceConfig (v6) / ValidateDataSourceConfig (v5).
    pub async fn validate_data_source(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<Vec<Diag>, Status> {
        let type_name = type_name.to_string();
        match self {
            Tf::V6(c) => {
                use tfplugin6 as pb;
                let req = pb::validate_data_resource_config::Request {
                    type_name,
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.validate_data_resource_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
            Tf::V5(c) => {
                use tfplugin5 as pb;
                let req = pb::validate_data_source_config::Request {
                    type_name,
                    config: dv!(pb, config),
                };
                Ok(diags!(
                    pb,
                    c.validate_data_source_config(req)
                        .await?
                        .into_inner()
                        .diagnostics
                ))
            }
        }
    }

    /// UpgradeResourceState with raw state: JSON, or a legacy flatmap.
    pub async fn upgrade(
        &mut self,
        type_name: &str,
        version: i64,
        json: &[u8],
        flatmap: HashMap<String, String>,
    ) -> Result<(Option<Vec<u8>>, Vec<Diag>), Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::upgrade_resource_state::Request {
                    type_name: type_name.to_string(),
                    version,
                    raw_state: Some(pb::RawState { json: json.to_vec(), flatmap }),
                };
                let r = c.upgrade_resource_state(req).await?.into_inner();
                Ok((r.upgraded_state.map(|d| d.msgpack), diags!(pb, r.diagnostics)))
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.0.as_deref(),
            "Invalid resource state upgrade",
            "during a state upgrade",
        )
        .await;
        Ok(out)
    }

    /// ReadResource: (new state, private, diagnostics).
    pub async fn read(
        &mut self,
        type_name: &str,
        state: Option<Dv>,
        private: &[u8],
    ) -> Result<(Option<Vec<u8>>, Vec<u8>, Vec<Diag>), Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::read_resource::Request {
                    type_name: type_name.to_string(),
                    current_state: dv!(pb, state),
                    private: private.to_vec(),
                    ..Default::default()
                };
                let r = c.read_resource(req).await?.into_inner();
                Ok((r.new_state.map(|d| d.msgpack), r.private, diags!(pb, r.diagnostics)))
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.0.as_deref(),
            "Provider produced invalid object",
            "during refresh",
        )
        .await;
        Ok(out)
    }

    /// PlanResourceChange as Terraform 1.11 sends it (ClientCapabilities with
    /// `write_only_attributes_allowed`), with Terraform's checks of the answer (see
    /// [`objchange`]): a plan Terraform would call invalid fails the test.
    pub async fn plan(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        proposed: Option<Dv>,
        config: Option<Dv>,
    ) -> Result<Planned, Status> {
        self.plan_as(type_name, prior, proposed, config, Some(true))
            .await
    }

    /// PlanResourceChange with `write_only_attributes_allowed` as given (`None`: no
    /// ClientCapabilities at all, as Terraform < 1.9 sends it), with Terraform's checks.
    pub async fn plan_as(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        proposed: Option<Dv>,
        config: Option<Dv>,
        write_only_allowed: Option<bool>,
    ) -> Result<Planned, Status> {
        let planned = self
            .plan_unchecked(
                type_name,
                prior.clone(),
                proposed,
                config.clone(),
                write_only_allowed,
            )
            .await?;
        if errors(&planned.diags).is_empty()
            && let Some(bytes) = &planned.planned
            && let Some(schema) = self.resource_schema(type_name).await
        {
            let planned_v = schema.decode(bytes);
            let problems = objchange::plan_problems(
                &schema,
                &dv_value(&schema, prior.as_ref()),
                &dv_value(&schema, config.as_ref()),
                &planned_v,
            );
            assert!(problems.is_empty(), "{type_name}:\n{}", problems.join("\n"));
        }
        Ok(planned)
    }

    /// ApplyResourceChange, with Terraform's checks of the new state (see [`objchange`]):
    /// a result Terraform would call inconsistent fails the test. (Terraform skips them
    /// when the provider reports an error, and so does this.)
    pub async fn apply(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        planned: Option<Dv>,
        config: Option<Dv>,
    ) -> Result<Applied, Status> {
        let applied = self
            .apply_unchecked(type_name, prior, planned.clone(), config)
            .await?;
        if errors(&applied.diags).is_empty()
            && let Some(schema) = self.resource_schema(type_name).await
        {
            let new_state = applied
                .new_state
                .as_deref()
                .map_or(Value::Null, |b| schema.decode(b));
            let problems = objchange::apply_problems(
                &schema,
                &dv_value(&schema, planned.as_ref()),
                &new_state,
            );
            assert!(problems.is_empty(), "{type_name}:\n{}", problems.join("\n"));
        }
        Ok(applied)
    }

    /// The served schema of a resource type (asked after the call under test, so a test of
    /// RPCs made without GetProviderSchema stays one).
    async fn resource_schema(&mut self, type_name: &str) -> Option<WireSchema> {
        let mut all = self.schemas().await.ok()?;
        all.resources.remove(type_name)
    }

    /// PlanResourceChange exactly as sent and answered.
    pub async fn plan_unchecked(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        proposed: Option<Dv>,
        config: Option<Dv>,
        write_only_allowed: Option<bool>,
    ) -> Result<Planned, Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::plan_resource_change::Request {
                    type_name: type_name.to_string(),
                    prior_state: dv!(pb, prior),
                    proposed_new_state: dv!(pb, proposed),
                    config: dv!(pb, config),
                    prior_private: b"private-from-prior".to_vec(),
                    client_capabilities: write_only_allowed.map(|w| pb::ClientCapabilities {
                        write_only_attributes_allowed: w,
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                let r = c.plan_resource_change(req).await?.into_inner();
                Ok(Planned {
                    planned: r.planned_state.map(|d| d.msgpack),
                    requires_replace: r
                        .requires_replace
                        .into_iter()
                        .map(|p| diags!(pb, vec![pb::Diagnostic { attribute: Some(p), ..Default::default() }])
                            .remove(0)
                            .path
                            .unwrap_or_default())
                        .collect(),
                    private: r.planned_private,
                    diags: diags!(pb, r.diagnostics),
                })
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.planned.as_deref(),
            "Provider produced invalid plan",
            "during planning",
        )
        .await;
        Ok(out)
    }

    /// ApplyResourceChange exactly as sent and answered.
    pub async fn apply_unchecked(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        planned: Option<Dv>,
        config: Option<Dv>,
    ) -> Result<Applied, Status> {
        let out: Result<_, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::apply_resource_change::Request {
                    type_name: type_name.to_string(),
                    prior_state: dv!(pb, prior),
                    planned_state: dv!(pb, planned),
                    config: dv!(pb, config),
                    ..Default::default()
                };
                let r = c.apply_resource_change(req).await?.into_inner();
                Ok(Applied { new_state: r.new_state.map(|d| d.msgpack), diags: diags!(pb, r.diagnostics) })
            })
        }
        .await;
        let out = out?;
        self.assert_write_only_null(
            type_name,
            out.new_state.as_deref(),
            "Provider produced invalid object",
            "after apply",
        )
        .await;
        Ok(out)
    }

    /// ImportResourceState: imported (type, state) pairs and diagnostics.
    pub async fn import(
        &mut self,
        type_name: &str,
        id: &str,
    ) -> Result<(Vec<(String, Option<Vec<u8>>)>, Vec<Diag>), Status> {
        type Imported = (Vec<(String, Option<Vec<u8>>)>, Vec<Diag>);
        let out: Result<Imported, Status> = async {
            on_version!(self, c, pb => {
                let req = pb::import_resource_state::Request { type_name: type_name.to_string(), id: id.to_string(), ..Default::default() };
                let r = c.import_resource_state(req).await?.into_inner();
                Ok((
                    r.imported_resources.into_iter().map(|i| (i.type_name, i.state.map(|d| d.msgpack))).collect(),
                    diags!(pb, r.diagnostics),
                ))
            })
        }
        .await;
        let out = out?;
        for (imported_type, state) in &out.0 {
            self.assert_write_only_null(
                imported_type,
                state.as_deref(),
                "Import returned a non-null value for a write-only attribute",
                "while importing",
            )
            .await;
        }
        Ok(out)
    }

    pub async fn read_data_source(
        &mut self,
        type_name: &str,
        config: Option<Dv>,
    ) -> Result<(Option<Vec<u8>>, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let req = pb::read_data_source::Request { type_name: type_name.to_string(), config: dv!(pb, config), ..Default::default() };
            let r = c.read_data_source(req).await?.into_inner();
            Ok((r.state.map(|d| d.msgpack), diags!(pb, r.diagnostics)))
        })
    }

    /// StopProvider (v6) / Stop (v5): the error text (empty on success).
    pub async fn stop(&mut self) -> Result<String, Status> {
        match self {
            Tf::V6(c) => Ok(c
                .stop_provider(tfplugin6::stop_provider::Request {})
                .await?
                .into_inner()
                .error),
            Tf::V5(c) => Ok(c
                .stop(tfplugin5::stop::Request {})
                .await?
                .into_inner()
                .error),
        }
    }

    /// GetFunctions: (number of functions, diagnostics).
    pub async fn functions(&mut self) -> Result<(usize, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let r = c.get_functions(pb::get_functions::Request {}).await?.into_inner();
            Ok((r.functions.len(), diags!(pb, r.diagnostics)))
        })
    }

    /// GetResourceIdentitySchemas: (number of schemas, diagnostics).
    pub async fn identity_schemas(&mut self) -> Result<(usize, Vec<Diag>), Status> {
        on_version!(self, c, pb => {
            let r = c.get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {}).await?.into_inner();
            Ok((r.identity_schemas.len(), diags!(pb, r.diagnostics)))
        })
    }

    /// CallFunction: (whether a result came back, the function error text).
    pub async fn call_function(&mut self, name: &str) -> Result<(bool, Option<String>), Status> {
        on_version!(self, c, pb => {
            let req = pb::call_function::Request { name: name.to_string(), arguments: Vec::new() };
            let r = c.call_function(req).await?.into_inner();
            Ok((r.result.is_some(), r.error.map(|e| e.text)))
        })
    }

    /// Calls every RPC of a feature the provider does not offer, reading streams to the end.
    pub async fn not_offered(&mut self) -> Result<Vec<NotOffered>, Status> {
        let mut out = Vec::new();
        macro_rules! unary {
            ($pb:ident, $c:ident, $rpc:literal, $method:ident, $req:expr) => {{
                let r = $c.$method($req).await?.into_inner();
                out.push(NotOffered {
                    rpc: $rpc,
                    messages: 1,
                    diags: diags!($pb, r.diagnostics),
                });
            }};
        }
        let tn = || "gitlab_group_cluster".to_string();
        on_version!(self, c, pb => {
            unary!(pb, c, "UpgradeResourceIdentity", upgrade_resource_identity,
                pb::upgrade_resource_identity::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "MoveResourceState", move_resource_state,
                pb::move_resource_state::Request { source_type_name: "other_type".into(), target_type_name: tn(), ..Default::default() });
            unary!(pb, c, "GenerateResourceConfig", generate_resource_config,
                pb::generate_resource_config::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "ValidateEphemeralResourceConfig", validate_ephemeral_resource_config,
                pb::validate_ephemeral_resource_config::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "OpenEphemeralResource", open_ephemeral_resource,
                pb::open_ephemeral_resource::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "RenewEphemeralResource", renew_ephemeral_resource,
                pb::renew_ephemeral_resource::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "CloseEphemeralResource", close_ephemeral_resource,
                pb::close_ephemeral_resource::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "ValidateListResourceConfig", validate_list_resource_config,
                pb::validate_list_resource_config::Request { type_name: tn(), ..Default::default() });
            unary!(pb, c, "ValidateActionConfig", validate_action_config,
                pb::validate_action_config::Request { action_type: "gitlab_action".into(), ..Default::default() });
            unary!(pb, c, "PlanAction", plan_action,
                pb::plan_action::Request { action_type: "gitlab_action".into(), ..Default::default() });
            let list = c.list_resource(pb::list_resource::Request { type_name: tn(), ..Default::default() }).await;
            let (messages, diags) = drain(list, |e: pb::list_resource::Event| diags!(pb, e.diagnostic)).await?;
            out.push(NotOffered { rpc: "ListResource", messages, diags });
            let invoke = c.invoke_action(pb::invoke_action::Request { action_type: "gitlab_action".into(), ..Default::default() }).await;
            let (messages, diags) = drain(invoke, |e: pb::invoke_action::Event| match e.r#type {
                Some(pb::invoke_action::event::Type::Completed(done)) => diags!(pb, done.diagnostics),
                _ => Vec::new(),
            })
            .await?;
            out.push(NotOffered { rpc: "InvokeAction", messages, diags });
        });
        if let Tf::V6(c) = self {
            use tfplugin6 as pb;
            let store = || "gitlab_state".to_string();
            unary!(
                pb,
                c,
                "ValidateStateStoreConfig",
                validate_state_store_config,
                pb::validate_state_store_config::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            unary!(
                pb,
                c,
                "ConfigureStateStore",
                configure_state_store,
                pb::configure_state_store::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            let read = c
                .read_state_bytes(pb::read_state_bytes::Request {
                    type_name: store(),
                    state_id: "default".into(),
                })
                .await;
            let (messages, diags) = drain(read, |e: pb::read_state_bytes::ResponseChunk| {
                diags!(pb, e.diagnostics)
            })
            .await?;
            out.push(NotOffered {
                rpc: "ReadStateBytes",
                messages,
                diags,
            });
            let chunk = pb::write_state_bytes::RequestChunk {
                bytes: b"{}".to_vec(),
                total_length: 2,
                ..Default::default()
            };
            let r = c
                .write_state_bytes(tokio_stream::iter(vec![chunk]))
                .await?
                .into_inner();
            out.push(NotOffered {
                rpc: "WriteStateBytes",
                messages: 1,
                diags: diags!(pb, r.diagnostics),
            });
            unary!(
                pb,
                c,
                "LockState",
                lock_state,
                pb::lock_state::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            unary!(
                pb,
                c,
                "UnlockState",
                unlock_state,
                pb::unlock_state::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
            unary!(
                pb,
                c,
                "GetStates",
                get_states,
                pb::get_states::Request { type_name: store() }
            );
            unary!(
                pb,
                c,
                "DeleteState",
                delete_state,
                pb::delete_state::Request {
                    type_name: store(),
                    ..Default::default()
                }
            );
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures for `gitlab_group_cluster` and an offline provider configuration

pub const CLUSTER: &str = "gitlab_group_cluster";

/// A loopback port nobody listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Configures the provider for `base_url` without the early `GET /user` check and without
/// retries, so requests that need GitLab fail at once when nothing listens there.
pub async fn configure_for(tf: &mut Tf, schemas: &WireSchemas, base_url: &str) {
    let config = schemas.provider.object(&[
        ("base_url", base_url.into()),
        ("token", "glpat-protocol-tests".into()),
        ("early_auth_check", false.into()),
        ("retries", Value::int(0)),
        ("request_timeout", Value::int(3600)),
    ]);
    let diags = guard(
        "ConfigureProvider",
        tf.configure(Some(schemas.provider.msgpack(&config))),
    )
    .await
    .expect("ConfigureProvider answers");
    assert!(diags.is_empty(), "{}: configure: {diags:?}", tf.name());
}

/// The schemas, and the provider configured against a GitLab URL nobody listens on.
pub async fn configured_offline(tf: &mut Tf) -> WireSchemas {
    let schemas = guard("GetProviderSchema", tf.schemas())
        .await
        .expect("schema");
    let url = format!("http://127.0.0.1:{}/api/v4/", closed_port());
    configure_for(tf, &schemas, &url).await;
    schemas
}

/// A configuration with only the required attributes.
pub fn cluster_config(s: &WireSchema) -> Value {
    s.object(&[
        ("group", "42".into()),
        ("name", "production".into()),
        ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
        ("kubernetes_token", "k8s-token".into()),
    ])
}

/// The state of the cluster `cluster_config` describes, after create and refresh.
pub fn cluster_state(s: &WireSchema) -> Value {
    s.object(&[
        ("id", "42:7".into()),
        ("group", "42".into()),
        ("name", "production".into()),
        ("enabled", true.into()),
        ("managed", true.into()),
        ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
        ("kubernetes_token", "k8s-token".into()),
        ("kubernetes_authorization_type", "rbac".into()),
        ("environment_scope", "*".into()),
        ("namespace_per_environment", true.into()),
        ("cluster_id", Value::int(7)),
        ("cluster_type", "group_type".into()),
        ("created_at", "2024-01-02T03:04:05.000Z".into()),
        ("provider_type", "user".into()),
        ("platform_type", "kubernetes".into()),
    ])
}

/// Terraform's proposed new state (objchange.ProposedNew, for flat attributes): the
/// configured value, else the prior value of a computed attribute, else null.
/// PlanResourceChange of `type_name` from values, as Terraform sends it: the proposed new
/// state built from `prior` and `config` (null for a destroy); fails the test on a gRPC error.
pub async fn plan_values(
    tf: &mut Tf,
    type_name: &str,
    r: &WireSchema,
    prior: &Value,
    config: &Value,
) -> Planned {
    let proposed = if config.is_null() {
        Value::Null
    } else {
        proposed_new(r, prior, config)
    };
    guard(
        "PlanResourceChange",
        tf.plan(
            type_name,
            Some(r.msgpack(prior)),
            Some(r.msgpack(&proposed)),
            Some(r.msgpack(config)),
        ),
    )
    .await
    .expect("no gRPC error")
}

pub fn proposed_new(s: &WireSchema, prior: &Value, config: &Value) -> Value {
    Value::object(s.attrs.iter().map(|(k, a)| {
        let c = config.get(k);
        let v = if !c.is_null() || !a.computed {
            c.clone()
        } else {
            prior.get(k).clone()
        };
        (k.clone(), v)
    }))
}
