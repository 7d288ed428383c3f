//! Logging to stderr as hclog JSON lines (`@level`, `@message`, `@timestamp`, `@module`),
//! which go-plugin parses and Terraform merges into its own log under `TF_LOG`. The level
//! comes from `TF_LOG_PROVIDER_<NAME>`, `TF_LOG_PROVIDER` or `TF_LOG` (the names come from
//! the serve options, [`LogOptions`]); unset means silent.
//! Every registered secret is replaced by `[REDACTED]` before a line is written.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Values that must never reach a log line (tokens, keys), shared with whoever learns them.
#[derive(Clone, Default)]
pub struct Redactor(Arc<RwLock<Vec<String>>>);

impl Redactor {
    /// Registers a secret; empty and very short strings are ignored (they would redact
    /// ordinary words).
    pub fn add(&self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        if let Ok(mut v) = self.0.write()
            && !v.iter().any(|s| s == secret)
        {
            v.push(secret.to_string());
        }
    }
    /// Replaces every known secret in `s`.
    pub fn redact(&self, s: &mut String) {
        if let Ok(v) = self.0.read() {
            for secret in v.iter() {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "[REDACTED]");
                }
            }
        }
    }
}

/// Parses a Terraform log level name.
pub fn level_from_str(s: &str) -> Option<Level> {
    match s.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        _ => None,
    }
}

/// What the log writer knows of the provider: given by the serve options
/// (`ServeOptions::logging`).
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// The variables that set the level, the first one set winning.
    pub level_env: Vec<String>,
    /// hclog's `@module`, e.g. `provider.terraform-provider-<name>`.
    pub module: String,
    /// Only events whose tracing target starts with this (the provider's crate), and the
    /// events of this crate itself (the server's own: signals, shutdown), are written.
    pub target: String,
}

/// This crate's tracing target: its events are the plugin's own, whatever the provider's
/// crate is called.
const OWN_TARGET: &str = env!("CARGO_CRATE_NAME");

/// Whether an event of `target` is the provider's (`provider`) or this crate's.
fn own_event(target: &str, provider: &str) -> bool {
    let within = |prefix: &str| {
        target == prefix
            || target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with("::"))
    };
    target.starts_with(provider) || within(OWN_TARGET)
}

/// The level Terraform asked for through the environment, if any.
pub fn level_from_env(opts: &LogOptions) -> Option<Level> {
    opts.level_env
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .and_then(|v| level_from_str(&v))
}

/// Installs the hclog JSON writer as the global subscriber. Returns the redactor that
/// secrets must be registered with.
pub fn init(level: Option<Level>, opts: &LogOptions) -> Redactor {
    let redactor = Redactor::default();
    if let Some(level) = level {
        let layer = HclogLayer {
            max: level,
            redactor: redactor.clone(),
            module: opts.module.clone(),
            target: opts.target.clone(),
        };
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
    }
    redactor
}

/// A tracing layer writing one hclog JSON object per event.
pub struct HclogLayer {
    /// The most verbose level written.
    pub max: Level,
    /// Scrubs every known secret from what is written.
    pub redactor: Redactor,
    /// hclog's `@module` of every line (`provider.terraform-provider-<name>`).
    pub module: String,
    /// The tracing target prefix of the events written (see [`LogOptions::target`]).
    pub target: String,
}

impl HclogLayer {
    /// Formats one event (exposed for tests).
    pub fn format(
        &self,
        level: &Level,
        target: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("@level".into(), level.as_str().to_ascii_lowercase().into());
        obj.insert("@timestamp".into(), timestamp().into());
        obj.insert("@module".into(), self.module.as_str().into());
        obj.insert("@caller".into(), target.into());
        for (k, v) in fields {
            let key = if k == "message" {
                "@message".to_string()
            } else {
                k.clone()
            };
            obj.insert(key, v.clone());
        }
        obj.entry("@message").or_insert_with(|| "".into());
        let mut line = serde_json::Value::Object(obj).to_string();
        self.redactor.redact(&mut line);
        line.push('\n');
        line
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    /// Only the provider's and the plugin server's own events: dependencies (h2, hyper,
    /// rustls) are far too chatty.
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.level() <= &self.max && own_event(metadata.target(), &self.target)
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut v = JsonVisitor::default();
        event.record(&mut v);
        let line = self.format(event.metadata().level(), event.metadata().target(), &v.0);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

fn timestamp() -> String {
    // hclog's format: 2006-01-02T15:04:05.000000Z07:00
    let now = time::OffsetDateTime::now_utc();
    let mut s = String::with_capacity(32);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
    s
}

#[derive(Default)]
struct JsonVisitor(serde_json::Map<String, serde_json::Value>);

impl Visit for JsonVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_hclog_json_with_secrets_redacted() {
        let r = Redactor::default();
        r.add("glpat-abcdef");
        let layer = HclogLayer {
            max: Level::TRACE,
            redactor: r,
            module: "provider".into(),
            target: "example_provider".into(),
        };
        let mut fields = serde_json::Map::new();
        fields.insert("message".into(), "token glpat-abcdef rejected".into());
        fields.insert("status".into(), 401.into());
        let line = layer.format(&Level::DEBUG, "example_provider::client", &fields);
        let j: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(j["@level"], "debug");
        assert_eq!(j["@module"], "provider");
        assert_eq!(j["@message"], "token [REDACTED] rejected");
        assert_eq!(j["status"], 401);
        let ts = j["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2006-01-02T15:04:05.000000Z".len(), "{ts}");
        // One time per line: go-plugin turns `@timestamp` into the `timestamp=` of
        // Terraform's log itself, so a field of that name here would be a second one.
        assert!(j.get("timestamp").is_none(), "{line}");
        assert!(!line.contains("glpat-abcdef"));
    }

    #[test]
    fn levels_parse_like_terraform() {
        assert_eq!(level_from_str("trace"), Some(Level::TRACE));
        assert_eq!(level_from_str("JSON"), Some(Level::TRACE));
        assert_eq!(level_from_str("off"), None);
    }

    #[test]
    fn the_servers_own_events_are_written_with_the_providers() {
        assert!(own_event("example_provider::resources", "example_provider"));
        assert!(own_event("tfplugin::protocol::server", "example_provider"));
        assert!(own_event("tfplugin", "example_provider"));
        assert!(!own_event("tfplugins_other::x", "example_provider"));
        assert!(!own_event("h2::codec", "example_provider"));
    }
}
