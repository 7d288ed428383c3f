//! The real binary, started as Terraform's go-plugin starts it: magic cookie, protocol
//! negotiation, AutoMTLS with a go-plugin-shaped P-521 client certificate, unix socket and
//! TCP listeners, health, GRPCController.Shutdown, signals, `--debug` and `--version`.

mod grpc_support;

use std::collections::BTreeSet;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use grpc_support::{
    ClientAuth, Conn, ConnInfo, Handshake, Identity, Launch, Plugin, ProtocolClient, Target,
    connect, guard, start_with_mtls, tls_client,
};
use terraform_provider_gitlab::protocol::pb::{plugin, tfplugin5, tfplugin6};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn v6(conn: &Conn) -> ProtocolClient {
    ProtocolClient::V6(tfplugin6::provider_client::ProviderClient::new(
        conn.channel.clone(),
    ))
}

fn v5(conn: &Conn) -> ProtocolClient {
    ProtocolClient::V5(tfplugin5::provider_client::ProviderClient::new(
        conn.channel.clone(),
    ))
}

/// The provider's resources: one per owner of certificate-based clusters.
const RESOURCES: [&str; 3] = [
    "gitlab_group_cluster",
    "gitlab_instance_cluster",
    "gitlab_project_cluster",
];
/// Its data sources: one cluster and the list, per owner.
const DATA_SOURCES: [&str; 6] = [
    "gitlab_group_cluster",
    "gitlab_group_clusters",
    "gitlab_instance_cluster",
    "gitlab_instance_clusters",
    "gitlab_project_cluster",
    "gitlab_project_clusters",
];

/// GetProviderSchema over `tf` succeeds and names the resources and data sources.
async fn assert_schema_served(tf: &mut ProtocolClient) {
    let s = guard("GetProviderSchema", tf.schemas())
        .await
        .expect("GetProviderSchema");
    assert!(s.diags.is_empty(), "{:?}", s.diags);
    assert_eq!(s.resources.keys().collect::<Vec<_>>(), RESOURCES);
    assert_eq!(s.data_sources.keys().collect::<Vec<_>>(), DATA_SOURCES);
}

/// Whether a fresh connection with `auth` can complete a GetProviderSchema call.
async fn rpc_with(hs: &Handshake, server_cert: &[u8], auth: ClientAuth<'_>) -> Result<(), String> {
    rpc_over(hs, tls_client(server_cert, auth))
        .await
        .map(|_| ())
}

/// Whether a fresh connection with `config` can complete a GetProviderSchema (v6) or
/// GetSchema (v5) call, as the handshake negotiated.
async fn rpc_over(hs: &Handshake, config: Arc<rustls::ClientConfig>) -> Result<ConnInfo, String> {
    let conn = guard("connect", connect(&hs.target(), Some(config)))
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    let mut tf = if hs.protocol_version == 5 {
        v5(&conn)
    } else {
        v6(&conn)
    };
    guard("GetProviderSchema", tf.schemas())
        .await
        .map_err(|s| format!("rpc: {s:?}"))?;
    Ok(conn.info.lock().unwrap().clone())
}

async fn shutdown(channel: Channel) {
    let mut c = plugin::grpc_controller_client::GrpcControllerClient::new(channel);
    guard("Shutdown", c.shutdown(plugin::Empty {}))
        .await
        .expect("GRPCController.Shutdown answers");
}

fn socket_dir(hs: &Handshake) -> std::path::PathBuf {
    Path::new(&hs.address)
        .parent()
        .expect("socket in a directory")
        .to_path_buf()
}

fn assert_exited_cleanly(plugin: &mut Plugin) {
    let status = plugin.wait_exit();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}; stderr:\n{}",
        plugin.stderr()
    );
}

#[test]
fn test_client_certificate_has_go_plugins_shape() {
    use x509_parser::oid_registry::{OID_NIST_EC_P521, OID_SIG_ECDSA_WITH_SHA512};
    let id = Identity::go_plugin();
    let (_, cert) = x509_parser::parse_x509_certificate(&id.cert).unwrap();
    assert_eq!(
        cert.signature_algorithm.algorithm,
        OID_SIG_ECDSA_WITH_SHA512
    );
    let curve = cert
        .public_key()
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    assert_eq!(curve, Some(OID_NIST_EC_P521));
    assert!(cert.is_ca());
    assert_eq!(cert.subject(), cert.issuer());
    assert_eq!(cert.subject().to_string(), "O=HashiCorp, CN=localhost");
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(
        ku.digital_signature() && ku.key_encipherment() && ku.key_agreement() && ku.key_cert_sign()
    );
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && eku.server_auth);
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert_eq!(
        format!("{:?}", san.value.general_names),
        r#"[DNSName("localhost")]"#
    );
}

#[tokio::test]
async fn mtls_plugin_serves_schema_metadata_and_health_and_exits_0_on_shutdown() {
    let id = Identity::go_plugin();
    let (mut plugin, hs, conn) = start_with_mtls(Launch::new(), &id).await;
    assert_eq!(
        (hs.core_version, hs.protocol_version),
        (1, 6),
        "{}",
        hs.line
    );
    assert_eq!(
        (hs.network.as_str(), hs.protocol.as_str()),
        ("unix", "grpc"),
        "{}",
        hs.line
    );
    assert!(
        !hs.cert_base64.is_empty() && !hs.cert_base64.contains('='),
        "{}",
        hs.line
    );
    assert_eq!(
        conn.info.lock().unwrap().alpn.as_deref(),
        Some(&b"h2"[..]),
        "ALPN h2 negotiated"
    );

    let mut tf = v6(&conn);
    let s = guard("GetProviderSchema", tf.schemas())
        .await
        .expect("GetProviderSchema");
    assert!(s.diags.is_empty(), "{:?}", s.diags);
    assert_eq!(s.resources.keys().collect::<Vec<_>>(), RESOURCES);
    assert_eq!(s.data_sources.keys().collect::<Vec<_>>(), DATA_SOURCES);
    let cluster = &s.resources["gitlab_group_cluster"];
    assert!(
        cluster.attrs["kubernetes_token"].sensitive,
        "kubernetes_token is sensitive"
    );
    assert!(!cluster.attrs["name"].sensitive);
    assert!(
        s.provider.attrs["token"].sensitive,
        "provider token is sensitive"
    );
    let (plan_destroy, schema_optional, move_state, generate) =
        s.capabilities.expect("server_capabilities");
    assert!(schema_optional, "get_provider_schema_optional");
    assert!(
        !plan_destroy && !move_state && !generate,
        "no capability that is not implemented is announced"
    );

    let (resources, data_sources, caps, diags) = guard("GetMetadata", tf.metadata())
        .await
        .expect("GetMetadata");
    assert!(diags.is_empty() && caps, "{diags:?}");
    assert_eq!(resources, RESOURCES);
    assert_eq!(
        data_sources.into_iter().collect::<BTreeSet<_>>(),
        DATA_SOURCES.iter().map(|d| d.to_string()).collect()
    );

    let mut health = HealthClient::new(conn.channel.clone());
    let r = guard(
        "health",
        health.check(HealthCheckRequest {
            service: "plugin".into(),
        }),
    )
    .await
    .expect("Check");
    assert_eq!(r.into_inner().status, ServingStatus::Serving as i32);

    shutdown(conn.channel.clone()).await;
    assert_exited_cleanly(&mut plugin);
    // go-plugin reads the handshake from the first stdout line; nothing else goes there.
    assert_eq!(plugin.rest_of_stdout(), Vec::<String>::new());
}

#[tokio::test]
async fn server_presents_exactly_the_announced_certificate_and_a_client_trusting_another_refuses_it()
 {
    let id = Identity::go_plugin();
    let (_plugin, hs, conn) = start_with_mtls(Launch::new(), &id).await;
    let announced = hs.server_cert();
    assert_eq!(
        conn.info.lock().unwrap().server_cert.as_deref(),
        Some(announced.as_slice())
    );
    let (_, cert) =
        x509_parser::parse_x509_certificate(&announced).expect("announced certificate parses");
    assert!(
        cert.is_ca(),
        "go-plugin's client uses the announced certificate as its root"
    );

    // A client that trusts some other certificate (as a stale or forged handshake line
    // would make it) must not talk to this server: the pinning is what authenticates it.
    let other = Identity::go_plugin();
    let refused = rpc_with(&hs, &other.cert, ClientAuth::Cert(&id)).await;
    assert!(
        refused.is_err(),
        "a client pinning another certificate accepted the server"
    );
    rpc_with(&hs, &announced, ClientAuth::Cert(&id))
        .await
        .expect("the right client still works");
}

#[tokio::test]
async fn each_launch_announces_a_fresh_server_certificate() {
    let id = Identity::go_plugin();
    let mut a = Launch::new().client_cert(&id).spawn();
    let mut b = Launch::new().client_cert(&id).spawn();
    assert_ne!(a.handshake().server_cert(), b.handshake().server_cert());
}

#[tokio::test]
async fn client_without_a_certificate_is_refused_and_the_right_client_is_still_served() {
    let id = Identity::go_plugin();
    let (_plugin, hs, _conn) = start_with_mtls(Launch::new(), &id).await;
    let cert = hs.server_cert();
    let refused = rpc_with(&hs, &cert, ClientAuth::Nothing).await;
    assert!(
        refused.is_err(),
        "a client without a certificate was served"
    );
    rpc_with(&hs, &cert, ClientAuth::Cert(&id))
        .await
        .expect("Terraform's client is served afterwards");
}

#[tokio::test]
async fn client_with_another_go_plugin_shaped_certificate_is_refused() {
    let id = Identity::go_plugin();
    let (_plugin, hs, _conn) = start_with_mtls(Launch::new(), &id).await;
    let cert = hs.server_cert();
    let stranger = Identity::go_plugin();
    let refused = rpc_with(&hs, &cert, ClientAuth::Cert(&stranger)).await;
    assert!(
        refused.is_err(),
        "a client with a different P-521 certificate was served"
    );
    rpc_with(&hs, &cert, ClientAuth::Cert(&id))
        .await
        .expect("Terraform's client is served afterwards");
}

#[tokio::test]
async fn client_presenting_terraforms_certificate_without_its_private_key_is_refused() {
    // PLUGIN_CLIENT_CERT is readable in the plugin's environment; the certificate alone
    // must not be enough: the TLS CertificateVerify signature has to verify.
    let id = Identity::go_plugin();
    let (_plugin, hs, _conn) = start_with_mtls(Launch::new(), &id).await;
    let cert = hs.server_cert();
    let thief = Identity::go_plugin();
    let refused = rpc_with(
        &hs,
        &cert,
        ClientAuth::Stolen {
            cert: &id,
            key_of: &thief,
        },
    )
    .await;
    assert!(
        refused.is_err(),
        "a copied certificate without its key was served"
    );
    rpc_with(&hs, &cert, ClientAuth::Cert(&id))
        .await
        .expect("Terraform's client is served afterwards");
}

#[tokio::test]
async fn offering_only_protocol_5_serves_tfplugin5() {
    let id = Identity::go_plugin();
    let (_plugin, hs, conn) =
        start_with_mtls(Launch::new().env("PLUGIN_PROTOCOL_VERSIONS", "5"), &id).await;
    assert_eq!(hs.protocol_version, 5, "{}", hs.line);
    assert_schema_served(&mut v5(&conn)).await;
    let v6_call = guard("GetProviderSchema", v6(&conn).schemas()).await;
    assert_eq!(
        v6_call.err().map(|s| s.code()),
        Some(tonic::Code::Unimplemented),
        "tfplugin6 is not served"
    );
}

#[tokio::test]
async fn offering_5_and_6_negotiates_6() {
    let id = Identity::go_plugin();
    let (_plugin, hs, conn) =
        start_with_mtls(Launch::new().env("PLUGIN_PROTOCOL_VERSIONS", "5,6"), &id).await;
    assert_eq!(hs.protocol_version, 6, "{}", hs.line);
    assert_schema_served(&mut v6(&conn)).await;
    let v5_call = guard("GetSchema", v5(&conn).schemas()).await;
    assert_eq!(
        v5_call.err().map(|s| s.code()),
        Some(tonic::Code::Unimplemented),
        "tfplugin5 is not served"
    );
}

#[test]
fn no_common_protocol_version_exits_nonzero_with_a_clear_error() {
    let mut plugin = Launch::new().env("PLUGIN_PROTOCOL_VERSIONS", "3,4").spawn();
    let status = plugin.wait_exit();
    assert!(!status.success(), "{status:?}");
    assert_eq!(
        plugin.rest_of_stdout(),
        Vec::<String>::new(),
        "no handshake line"
    );
    let err = plugin.stderr_to_end();
    assert!(
        err.contains("\"3,4\"") && err.contains("6 and 5"),
        "stderr: {err}"
    );
}

#[tokio::test]
async fn tcp_mode_announces_a_free_loopback_port_in_the_range_and_serves_mtls() {
    // Hold the first port of the range so the plugin has to look further.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let min = taken.local_addr().unwrap().port();
    let max = min + 20;
    let id = Identity::go_plugin();
    let launch = Launch::new()
        .env("TF_PROVIDER_GITLAB_LISTEN", "tcp")
        .env("PLUGIN_MIN_PORT", min.to_string())
        .env("PLUGIN_MAX_PORT", max.to_string());
    let (mut plugin, hs, conn) = start_with_mtls(launch, &id).await;
    assert_eq!(hs.network, "tcp", "{}", hs.line);
    let Target::Tcp(addr) = hs.target() else {
        unreachable!()
    };
    assert_eq!(addr.ip(), std::net::Ipv4Addr::LOCALHOST, "{}", hs.line);
    assert!(
        ((min + 1)..=max).contains(&addr.port()),
        "port {} outside {}..={max}",
        addr.port(),
        min + 1
    );
    assert_schema_served(&mut v6(&conn)).await;
    let stranger = Identity::go_plugin();
    assert!(
        rpc_with(&hs, &hs.server_cert(), ClientAuth::Cert(&stranger))
            .await
            .is_err(),
        "mTLS on TCP too"
    );
    shutdown(conn.channel.clone()).await;
    assert_exited_cleanly(&mut plugin);
}

/// Duplicates file descriptor `fd` of process `pid` into this process (pidfd_getfd(2)).
fn borrow_fd(pidfd: &std::os::fd::OwnedFd, fd: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: plain syscall; on success it returns a new descriptor that we own.
    let dup = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    (dup >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(dup as i32) })
}

/// TCP_NODELAY of the plugin's socket for the connection from `client` to `server`, read
/// with getsockopt on a duplicate of the plugin's own descriptor.
fn plugin_socket_nodelay(
    pid: u32,
    server: std::net::SocketAddr,
    client: std::net::SocketAddr,
) -> bool {
    use std::os::fd::FromRawFd;
    // SAFETY: plain syscall; on success it returns a pidfd that we own.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    assert!(
        pidfd >= 0,
        "pidfd_open: {}",
        std::io::Error::last_os_error()
    );
    let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(pidfd as i32) };
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).expect("/proc/<pid>/fd") {
        let entry = entry.unwrap();
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if !is_socket {
            continue;
        }
        let Some(dup) = borrow_fd(&pidfd, fd) else {
            continue;
        };
        let sock = std::net::TcpStream::from(dup);
        if sock.local_addr().ok() == Some(server) && sock.peer_addr().ok() == Some(client) {
            return sock.nodelay().expect("getsockopt TCP_NODELAY");
        }
    }
    panic!("the plugin has no socket for {client} -> {server}");
}

#[tokio::test]
async fn tcp_mode_sets_nodelay_on_the_accepted_socket() {
    let id = Identity::go_plugin();
    let launch = Launch::new().env("TF_PROVIDER_GITLAB_LISTEN", "tcp");
    let (plugin, hs, conn) = start_with_mtls(launch, &id).await;
    assert_schema_served(&mut v6(&conn)).await; // the connection is established and in use
    let Target::Tcp(server) = hs.target() else {
        panic!("{}", hs.line)
    };
    let (client, client_fd) = {
        let i = conn.info.lock().unwrap();
        (
            i.local_addr.expect("client address"),
            i.local_fd.expect("client fd"),
        )
    };
    // Control: the same getsockopt reads `false` on our own socket, which never set it.
    let ours = unsafe { std::os::fd::BorrowedFd::borrow_raw(client_fd) }
        .try_clone_to_owned()
        .unwrap();
    assert!(
        !std::net::TcpStream::from(ours).nodelay().unwrap(),
        "control: client socket has Nagle on"
    );
    assert!(
        plugin_socket_nodelay(plugin.pid, server, client),
        "TCP_NODELAY is off on the plugin's socket"
    );
}

#[test]
fn missing_or_wrong_magic_cookie_exits_1_with_an_explanation_on_stderr_and_nothing_on_stdout() {
    for launch in [
        Launch::new().env_remove("TF_PLUGIN_MAGIC_COOKIE"),
        Launch::new().env("TF_PLUGIN_MAGIC_COOKIE", "x"),
    ] {
        let mut plugin = launch.spawn();
        assert_eq!(plugin.wait_exit().code(), Some(1));
        assert_eq!(plugin.rest_of_stdout(), Vec::<String>::new());
        let err = plugin.stderr_to_end();
        assert!(
            err.contains("plugin for Terraform") && err.contains("not meant to be run directly"),
            "{err}"
        );
        assert!(err.contains("--debug"), "points at --debug: {err}");
    }
}

#[test]
fn version_flag_prints_the_version_and_exits_0() {
    let mut plugin = Launch::new()
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .arg("--version")
        .spawn();
    assert_eq!(plugin.wait_exit().code(), Some(0));
    assert_eq!(
        plugin.rest_of_stdout(),
        [format!(
            "terraform-provider-gitlab {}",
            env!("CARGO_PKG_VERSION")
        )]
    );
}

#[tokio::test]
async fn debug_mode_prints_reattach_json_whose_address_serves_without_tls_and_stops_on_sigint() {
    let mut plugin = Launch::new()
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .arg("--debug")
        .spawn();
    let line = std::iter::from_fn(|| plugin.stdout_line())
        .find(|l| l.contains("TF_REATTACH_PROVIDERS="))
        .unwrap_or_else(|| {
            panic!(
                "no TF_REATTACH_PROVIDERS line; stderr:\n{}",
                plugin.stderr()
            )
        });
    let json = line
        .trim()
        .strip_prefix("TF_REATTACH_PROVIDERS='")
        .and_then(|s| s.strip_suffix('\''));
    let json: serde_json::Value =
        serde_json::from_str(json.unwrap_or_else(|| panic!("quoting: {line}"))).unwrap();
    let providers = json.as_object().unwrap();
    assert_eq!(providers.len(), 1);
    let (address, p) = providers.iter().next().unwrap();
    assert_eq!(
        address,
        terraform_provider_gitlab::resources::PROVIDER_ADDRESS
    );
    assert_eq!(p["Protocol"], "grpc");
    assert_eq!(p["ProtocolVersion"], 6);
    assert_eq!(p["Pid"], plugin.pid);
    assert_eq!(p["Test"], true);
    assert_eq!(p["Addr"]["Network"], "unix");
    let path = p["Addr"]["String"].as_str().unwrap();
    let conn = guard("connect", connect(&Target::Unix(path.into()), None))
        .await
        .expect("plaintext connect");
    assert_schema_served(&mut v6(&conn)).await;

    plugin.signal(libc::SIGINT);
    assert_exited_cleanly(&mut plugin);
}

#[test]
fn plugin_ignores_sigint_and_keeps_serving() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = Identity::go_plugin();
    let (mut plugin, _hs, conn) =
        rt.block_on(start_with_mtls(Launch::new().env("TF_LOG", "DEBUG"), &id));
    plugin.signal(libc::SIGINT);
    // The server logs when it has handled (and ignored) the signal: wait for that, then
    // check it still answers.
    plugin.await_stderr("ignoring SIGINT");
    rt.block_on(assert_schema_served(&mut v6(&conn)));
    assert!(!plugin.has_exited(), "SIGINT stopped the plugin");
}

#[tokio::test]
async fn sigterm_stops_the_plugin_cleanly_and_removes_its_socket_directory() {
    let id = Identity::go_plugin();
    let (mut plugin, hs, _conn) = start_with_mtls(Launch::new(), &id).await;
    let dir = socket_dir(&hs);
    assert!(dir.is_dir());
    plugin.signal(libc::SIGTERM);
    assert_exited_cleanly(&mut plugin);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[tokio::test]
async fn unix_socket_lives_in_a_private_directory_that_is_removed_after_shutdown() {
    let id = Identity::go_plugin();
    let launch = Launch::new();
    let base = launch.socket_base();
    let (mut plugin, hs, conn) = start_with_mtls(launch, &id).await;
    let dir = socket_dir(&hs);
    assert_eq!(
        dir.parent(),
        Some(base.as_path()),
        "the socket directory is made in PLUGIN_UNIX_SOCKET_DIR"
    );
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(
        std::fs::metadata(&hs.address)
            .unwrap()
            .file_type()
            .is_socket()
    );
    shutdown(conn.channel.clone()).await;
    assert_exited_cleanly(&mut plugin);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        base.is_dir(),
        "PLUGIN_UNIX_SOCKET_DIR itself is not the plugin's to remove"
    );
}

#[tokio::test]
async fn without_plugin_client_cert_the_handshake_has_no_certificate_and_serves_plaintext() {
    let mut plugin = Launch::new().spawn();
    let hs = plugin.handshake();
    assert_eq!(hs.cert_base64, "", "{}", hs.line);
    assert!(hs.line.ends_with("|grpc|"), "{}", hs.line);
    let conn = guard("connect", connect(&hs.target(), None))
        .await
        .expect("plaintext connect");
    assert_schema_served(&mut v6(&conn)).await;
}

#[tokio::test]
async fn shutdown_exits_0_while_go_plugins_stdio_and_broker_streams_are_open() {
    // go-plugin's client opens GRPCStdio.StreamStdio and GRPCBroker.StartStream on every
    // launch and keeps them open until it calls Shutdown.
    let id = Identity::go_plugin();
    let (mut plugin, _hs, conn) = start_with_mtls(Launch::new(), &id).await;
    let mut stdio = plugin::grpc_stdio_client::GrpcStdioClient::new(conn.channel.clone());
    let mut stdio = guard("StreamStdio", stdio.stream_stdio(()))
        .await
        .expect("StreamStdio")
        .into_inner();
    let mut broker = plugin::grpc_broker_client::GrpcBrokerClient::new(conn.channel.clone());
    let outgoing = tokio_stream::pending::<plugin::ConnInfo>();
    let mut broker = guard("StartStream", broker.start_stream(outgoing))
        .await
        .expect("StartStream")
        .into_inner();
    assert_schema_served(&mut v6(&conn)).await;

    shutdown(conn.channel.clone()).await;
    assert_exited_cleanly(&mut plugin);
    // Both streams end (rather than hang) once the plugin is gone, having carried nothing.
    assert!(!matches!(
        guard("stdio end", stdio.message()).await,
        Ok(Some(_))
    ));
    assert!(!matches!(
        guard("broker end", broker.message()).await,
        Ok(Some(_))
    ));
}

#[tokio::test]
async fn tls_1_2_client_like_terraform_0_12_is_served_and_impostors_are_refused() {
    use grpc_support::tls_client_with_versions;
    let tls12 = &[&rustls::version::TLS12];
    let id = Identity::go_plugin();
    let (_plugin, hs, _conn) =
        start_with_mtls(Launch::new().env("PLUGIN_PROTOCOL_VERSIONS", "5"), &id).await;
    let cert = hs.server_cert();
    let info = rpc_over(
        &hs,
        tls_client_with_versions(&cert, ClientAuth::Cert(&id), tls12),
    )
    .await
    .expect("a TLS 1.2 client with Terraform's P-521 certificate is served");
    assert_eq!(info.tls_version, Some(rustls::ProtocolVersion::TLSv1_2));
    let stranger = Identity::go_plugin();
    for (what, auth) in [
        ("no certificate", ClientAuth::Nothing),
        ("another certificate", ClientAuth::Cert(&stranger)),
        (
            "Terraform's certificate without its key",
            ClientAuth::Stolen {
                cert: &id,
                key_of: &stranger,
            },
        ),
    ] {
        let r = rpc_over(&hs, tls_client_with_versions(&cert, auth, tls12)).await;
        assert!(r.is_err(), "TLS 1.2 client with {what} was served");
    }
}

#[test]
fn unreadable_plugin_client_cert_exits_1_naming_the_variable() {
    let mut plugin = Launch::new()
        .env("PLUGIN_CLIENT_CERT", "not a certificate")
        .spawn();
    assert_eq!(plugin.wait_exit().code(), Some(1));
    assert_eq!(plugin.rest_of_stdout(), Vec::<String>::new());
    let err = plugin.stderr_to_end();
    assert!(err.contains("PLUGIN_CLIENT_CERT"), "{err}");
}

#[test]
fn invalid_port_settings_exit_1_naming_the_problem() {
    for (min, max, words) in [
        ("abc", "25000", "PLUGIN_MIN_PORT"),
        ("20010", "20000", "PLUGIN_MIN_PORT > PLUGIN_MAX_PORT"),
    ] {
        let mut plugin = Launch::new()
            .env("TF_PROVIDER_GITLAB_LISTEN", "tcp")
            .env("PLUGIN_MIN_PORT", min)
            .env("PLUGIN_MAX_PORT", max)
            .spawn();
        assert_eq!(plugin.wait_exit().code(), Some(1), "{min}..{max}");
        assert_eq!(plugin.rest_of_stdout(), Vec::<String>::new());
        let err = plugin.stderr_to_end();
        assert!(err.contains(words), "{min}..{max}: {err}");
    }
}

#[tokio::test]
async fn unusable_socket_directory_falls_back_to_loopback_tcp() {
    let id = Identity::go_plugin();
    let launch = Launch::new();
    let missing = launch.socket_base().join("does-not-exist");
    let (_plugin, hs, conn) =
        start_with_mtls(launch.env("PLUGIN_UNIX_SOCKET_DIR", &missing), &id).await;
    assert_eq!(hs.network, "tcp", "{}", hs.line);
    let Target::Tcp(addr) = hs.target() else {
        unreachable!()
    };
    assert!(addr.ip().is_loopback(), "{}", hs.line);
    assert_schema_served(&mut v6(&conn)).await;
}
