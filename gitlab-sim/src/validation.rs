//! GitLab's model validations for `Clusters::Cluster` and `Clusters::Platforms::Kubernetes`:
//! the exact error keys (`platform_kubernetes.api_url`, `environment_scope`, ...) and texts,
//! the URL blocker behind `public_url: true`, the `valid_hostname` gem rules for `domain`, the
//! Kubernetes namespace regex, the environment scope regex and PEM certificate parsing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::db::{Cluster, Db};

/// `model.errors.messages`: attribute -> messages, in the order attributes first got an error.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ErrorMap(pub Vec<(String, Vec<String>)>);

impl ErrorMap {
    pub fn add(&mut self, key: &str, msg: impl Into<String>) {
        let msg = msg.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, msgs)) => msgs.push(msg),
            None => self.0.push((key.to_string(), vec![msg])),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for ErrorMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

pub const BLANK: &str = "can't be blank";
pub const DUPLICATED_SCOPE: &str = "cannot add duplicated environment scope";
pub const K8S_NAMESPACE_MESSAGE: &str = "can contain only lowercase letters, digits, and '-'. Must start with a letter, and cannot end with '-'";
pub const ENV_SCOPE_MESSAGE: &str =
    "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' and spaces";
pub const MANAGEMENT_PROJECT_DENIED: &str =
    "Project does not exist or you don't have permission to perform this action";
pub const CANNOT_MODIFY_MANAGED: &str = "Cannot modify managed Kubernetes cluster";

/// Ruby `blank?` for optional strings.
pub fn blank(s: Option<&str>) -> bool {
    s.is_none_or(|s| s.trim().is_empty())
}

/// `Gitlab::Regex.kubernetes_namespace_regex`: `\A[a-z0-9]([-a-z0-9]*[a-z0-9])?\z`.
pub fn k8s_name_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && edge(b[0]) && edge(b[b.len() - 1]) && b.iter().all(|c| edge(*c) || *c == b'-')
}

/// `Gitlab::Regex.environment_scope_regex`: `\A[a-zA-Z0-9_/${}. \-*]+\z`.
pub fn env_scope_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'_' | b'/' | b'$' | b'{' | b'}' | b'.' | b' ' | b'-' | b'*'
                )
        })
}

/// `CertificateValidator`: `OpenSSL::X509::Certificate.new(value)` reads the first PEM
/// certificate block (other text around it is ignored) and must parse as X.509.
pub fn pem_certificate_ok(s: &str) -> bool {
    for pem in x509_parser::pem::Pem::iter_from_buffer(s.as_bytes()) {
        match pem {
            Ok(p) => {
                if matches!(
                    p.label.as_str(),
                    "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
                ) {
                    return p.parse_x509().is_ok();
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// The `valid_hostname` gem's `HostnameValidator` with `allow_numeric_hostname: true`, as used
/// for `Clusters::Cluster#domain`. Returns the messages in the gem's order.
pub fn hostname_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let len = value.chars().count();
    if !(1..=255).contains(&len) {
        errs.push("must be between 1 and 255 characters long".to_string());
    }
    // Ruby's String#split drops trailing empty fields.
    let mut labels: Vec<&str> = value.split('.').collect();
    while labels.last() == Some(&"") {
        labels.pop();
    }
    for label in &labels {
        // The gem checks the length of the whole value here (sic).
        if !(1..=63).contains(&len) {
            errs.push("must be between 1 and 63 characters long".to_string());
        }
        if label.starts_with('-') || label.ends_with('-') {
            errs.push("begins or ends with hyphen".to_string());
        }
        let ok = !label.is_empty()
            && label
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-');
        if !ok {
            errs.push("contains invalid characters (valid characters: [a-z0-9\\-])".to_string());
        }
    }
    if value.contains("..") {
        errs.push("must not contain consecutive dots".to_string());
    }
    if value.ends_with('.') {
        errs.push("must not end with a dot".to_string());
    }
    errs
}

/// Splits a URL like Addressable/RFC 3986: (scheme, authority).
fn split_url(url: &str) -> (Option<&str>, Option<&str>) {
    let mut rest = url;
    let mut scheme = None;
    if let Some(colon) = rest.find(':') {
        let cand = &rest[..colon];
        if !cand.is_empty() && !cand.contains(['/', '?', '#']) {
            scheme = Some(cand);
            rest = &rest[colon + 1..];
        }
    }
    let authority = rest.strip_prefix("//").map(|a| {
        let end = a.find(['/', '?', '#']).unwrap_or(a.len());
        &a[..end]
    });
    (scheme, authority)
}

/// (hostname, port) of an authority, brackets of IPv6 literals removed.
fn host_port(authority: &str) -> Result<(String, Option<&str>), ()> {
    let hostport = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    if let Some(rest) = hostport.strip_prefix('[') {
        let close = rest.find(']').ok_or(())?;
        let host = rest[..close].to_string();
        let after = &rest[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(()),
        };
        return Ok((host, port));
    }
    match hostport.rfind(':') {
        Some(i) => Ok((hostport[..i].to_string(), Some(&hostport[i + 1..]))),
        None => Ok((hostport.to_string(), None)),
    }
}

fn ipv4_private(ip: Ipv4Addr) -> bool {
    ip.is_private()
}

/// GitLab's `Gitlab::HTTP_V2::UrlBlocker.validate!` as configured by `PublicUrlValidator`
/// (schemes http/https, localhost and local network blocked unless the instance allows local
/// requests, no DNS rebinding protection). Hostnames are not resolved (the simulator has no
/// DNS); IP literals and `localhost` are checked. Returns the `BlockedUrlError` message.
pub fn url_blocked(url: &str, allow_local: bool) -> Option<String> {
    let unescaped = percent_encoding::percent_decode_str(url).decode_utf8_lossy();
    if unescaped.contains('\n') || unescaped.contains('\r') {
        return Some("URI is invalid".into());
    }
    let (scheme, authority) = split_url(url);
    if let Some(s) = scheme {
        let b = s.as_bytes();
        if !b[0].is_ascii_alphabetic()
            || !b
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            return Some("URI is invalid".into());
        }
    }
    let (host, port) = match authority {
        Some(a) => match host_port(a) {
            Ok(hp) => hp,
            Err(()) => return Some("URI is invalid".into()),
        },
        None => (String::new(), None),
    };
    if let Some(p) = port
        && !p.is_empty()
        && !p.bytes().all(|c| c.is_ascii_digit())
    {
        return Some("URI is invalid".into());
    }
    match scheme {
        Some("http") | Some("https") => {}
        _ => return Some("Only allowed schemes are http, https".into()),
    }
    let ip: Option<IpAddr> = host.parse().ok();
    if !host.is_empty() && ip.is_none() && !host.chars().next().is_some_and(char::is_alphanumeric) {
        return Some("Hostname or IP address invalid".into());
    }
    if allow_local {
        return None;
    }
    // Addresses the host resolves to: IP literals, `localhost`, and (getaddrinfo with no host)
    // the loopback addresses for an empty host. Other names are not resolved.
    let addrs: Vec<IpAddr> = match ip {
        Some(IpAddr::V6(v6)) => vec![v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)],
        Some(v4) => vec![v4],
        None if host.is_empty() || host.eq_ignore_ascii_case("localhost") => {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        }
        None => return None,
    };
    let local_ips = [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    if addrs.iter().any(|a| local_ips.contains(a)) {
        return Some("Requests to localhost are not allowed".into());
    }
    if addrs.iter().any(IpAddr::is_loopback) {
        return Some("Requests to loopback addresses are not allowed".into());
    }
    if addrs.iter().any(|a| match a {
        IpAddr::V4(v4) => ipv4_private(*v4),
        IpAddr::V6(v6) => {
            let seg = v6.segments()[0];
            (seg & 0xfe00) == 0xfc00 || (seg & 0xffc0) == 0xfec0
        }
    }) {
        return Some("Requests to the local network are not allowed".into());
    }
    if addrs.iter().any(|a| match a {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }) {
        return Some("Requests to the link local network are not allowed".into());
    }
    if addrs.iter().any(
        |a| matches!(a, IpAddr::V4(v4) if v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64),
    ) {
        return Some("Requests to the shared address space are not allowed".into());
    }
    if addrs
        .iter()
        .any(|a| matches!(a, IpAddr::V4(v4) if v4.is_broadcast()))
    {
        return Some("Requests to the limited broadcast address are not allowed".into());
    }
    None
}

/// The state a cluster is about to be saved in, with what changed, for validation.
pub struct Candidate<'a> {
    pub cluster: &'a Cluster,
    /// The stored cluster for an update, `None` for a create.
    pub original: Option<&'a Cluster>,
    /// Whether the platform record is validated (new, or some attribute changed).
    pub platform_dirty: bool,
}

/// Normalizes a platform before validation like GitLab's `before_validation` callbacks and
/// the URL validator: namespace downcased and blank -> nil, token and ca_cert stripped,
/// non-blank api_url stripped.
pub fn normalize_platform(p: &mut crate::db::Platform) {
    p.namespace = p
        .namespace
        .take()
        .map(|n| n.to_lowercase())
        .filter(|n| !n.trim().is_empty());
    p.token = p.token.take().map(|t| t.trim().to_string());
    p.ca_cert = p.ca_cert.take().map(|c| c.trim().to_string());
    if let Some(u) = &p.api_url
        && !u.trim().is_empty()
    {
        p.api_url = Some(u.trim().to_string());
    }
}

/// Runs `Clusters::Cluster#valid?` (with its autosaved platform) and returns `errors.messages`.
pub fn validate_cluster(db: &Db, c: &Candidate<'_>) -> ErrorMap {
    let mut errs = ErrorMap::default();
    let cl = c.cluster;
    let scope = cl.environment_scope.as_deref();

    // HasEnvironmentScope (prepended first, so validated first).
    if blank(scope) {
        errs.add("environment_scope", BLANK);
    }
    if !env_scope_ok(scope.unwrap_or("")) {
        errs.add("environment_scope", ENV_SCOPE_MESSAGE);
    }

    // has_one :platform_kubernetes, autosave: true
    if let (true, Some(p)) = (c.platform_dirty, cl.platform.as_ref()) {
        let orig_p = c.original.and_then(|o| o.platform.as_ref());
        if let Some(ns) = &p.namespace {
            if ns.chars().count() > 63 {
                errs.add(
                    "platform_kubernetes.namespace",
                    "is too long (maximum is 63 characters)",
                );
            }
            if !k8s_name_ok(ns) {
                errs.add("platform_kubernetes.namespace", K8S_NAMESPACE_MESSAGE);
            }
            if ns == "gitlab-managed-apps" {
                errs.add("platform_kubernetes.namespace", "is reserved");
            }
            // allow_user_defined_namespace? is project_type? || !managed?
            if cl.managed && !matches!(cl.owner, crate::db::Owner::Project(_)) {
                errs.add(
                    "platform_kubernetes.namespace",
                    "only allowed for project cluster",
                );
            }
        }
        let api_url = p.api_url.as_deref();
        if blank(api_url) {
            errs.add("platform_kubernetes.api_url", "must be a valid URL");
        } else if let Some(msg) =
            url_blocked(api_url.unwrap_or(""), db.settings.allow_local_requests)
        {
            errs.add("platform_kubernetes.api_url", format!("is blocked: {msg}"));
        }
        if blank(api_url) {
            errs.add("platform_kubernetes.api_url", BLANK);
        }
        if blank(p.token.as_deref()) {
            errs.add("platform_kubernetes.token", BLANK);
        }
        let ca_changed = orig_p.map(|o| &o.ca_cert) != Some(&p.ca_cert)
            && (orig_p.is_some() || p.ca_cert.is_some());
        if ca_changed
            && !blank(p.ca_cert.as_deref())
            && !pem_certificate_ok(p.ca_cert.as_deref().unwrap_or(""))
        {
            errs.add(
                "platform_kubernetes.ca_cert",
                "must be a valid PEM certificate",
            );
        }
        if let Some(op) = orig_p
            && !cl.provided_by_user()
            && (op.api_url != p.api_url || op.token != p.token || op.ca_cert != p.ca_cert)
        {
            errs.add("platform_kubernetes.base", CANNOT_MODIFY_MANAGED);
        }
    }

    // validates :name, cluster_name: true
    let name_changed = c.original.is_none_or(|o| o.name != cl.name);
    if cl.provided_by_user() {
        match cl.name.as_deref() {
            n if blank(n) => errs.add("name", "has to be present"),
            Some(n) if name_changed && n.chars().count() > 2048 => errs.add("name", "is too long"),
            _ => {}
        }
    } else {
        let name = cl.name.as_deref().unwrap_or("");
        if c.original.is_some() && name_changed {
            errs.add(
                "name",
                "can not be changed because it's synchronized with provider",
            );
        }
        if !(1..=63).contains(&name.chars().count()) {
            errs.add("name", "syntax is invalid");
        }
        if !k8s_name_ok(name) {
            errs.add("name", K8S_NAMESPACE_MESSAGE);
        }
    }

    // validates :domain, allow_blank: true, hostname: { allow_numeric_hostname: true }
    if let Some(d) = cl.domain.as_deref().filter(|d| !d.trim().is_empty()) {
        for m in hostname_errors(d) {
            errs.add("domain", m);
        }
    }

    let except = c.original.map(|o| o.id);
    let scope_s = scope.unwrap_or("");
    if let Some(pid) = cl.management_project_id
        && db.scope_taken_for_management_project(pid, scope_s, except)
    {
        errs.add("environment_scope", DUPLICATED_SCOPE);
    }
    if db.scope_taken_by_owner(cl.owner, scope_s, except) {
        errs.add("environment_scope", DUPLICATED_SCOPE);
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_blocker_messages() {
        assert_eq!(
            url_blocked("invalid_api_url", false).as_deref(),
            Some("Only allowed schemes are http, https")
        );
        assert_eq!(
            url_blocked("ftp://example.com", false).as_deref(),
            Some("Only allowed schemes are http, https")
        );
        assert_eq!(url_blocked("https://kubernetes.example.com", false), None);
        assert_eq!(
            url_blocked("https://127.0.0.1:6443", false).as_deref(),
            Some("Requests to localhost are not allowed")
        );
        assert_eq!(
            url_blocked("https://127.0.0.2", false).as_deref(),
            Some("Requests to loopback addresses are not allowed")
        );
        assert_eq!(
            url_blocked("https://10.1.2.3", false).as_deref(),
            Some("Requests to the local network are not allowed")
        );
        assert_eq!(
            url_blocked("https://[::1]:443", false).as_deref(),
            Some("Requests to localhost are not allowed")
        );
        assert_eq!(
            url_blocked("https://169.254.1.1", false).as_deref(),
            Some("Requests to the link local network are not allowed")
        );
        assert_eq!(url_blocked("https://10.1.2.3", true), None);
        assert_eq!(
            url_blocked("https://-bad.example.com", false).as_deref(),
            Some("Hostname or IP address invalid")
        );
        assert_eq!(
            url_blocked("https://example.com:abc", false).as_deref(),
            Some("URI is invalid")
        );
        assert_eq!(
            url_blocked("https://example.com/%0a", false).as_deref(),
            Some("URI is invalid")
        );
    }

    #[test]
    fn hostname_and_regexes() {
        assert_eq!(
            hostname_errors("invalid domain"),
            vec!["contains invalid characters (valid characters: [a-z0-9\\-])"]
        );
        assert!(hostname_errors("example.com").is_empty());
        assert!(hostname_errors("1.2.3.4").is_empty());
        assert_eq!(
            hostname_errors("-a.com"),
            vec!["begins or ends with hyphen"]
        );
        assert!(k8s_name_ok("my-ns1"));
        assert!(!k8s_name_ok("My"));
        assert!(!k8s_name_ok("a-"));
        assert!(env_scope_ok("review/*"));
        assert!(!env_scope_ok("a:b"));
        assert!(!pem_certificate_ok("not a cert"));
        assert!(!pem_certificate_ok(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        ));
    }
}
