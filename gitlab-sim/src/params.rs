//! Request parameters the way Rack and Grape see them: JSON or form bodies (Rack's nested
//! `a[b]=c` keys), query strings, and Grape's declared-parameter validation with its exact
//! error messages ("name is missing", "... is invalid", "... is empty", "... does not have a
//! valid value", "... has a value not allowed") and coercions (Boolean strings, Integer strings).

use serde_json::{Map, Number, Value};

/// Why a request body could not be read.
#[derive(Debug, PartialEq)]
pub enum BodyError {
    /// Grape's 415 for a media type it has no parser for.
    UnsupportedContentType(String),
    /// Grape's InvalidMessageBody for an unparseable JSON body.
    InvalidJson(String),
}

impl BodyError {
    /// The `{"error": ...}` text GitLab (Grape) answers with.
    pub fn message(&self) -> String {
        match self {
            BodyError::UnsupportedContentType(ct) => {
                format!("The provided content-type '{ct}' is not supported.")
            }
            BodyError::InvalidJson(ct) => format!(
                "\nProblem:\n  message body does not match declared format\nResolution:\n  when specifying {ct} as content-type, you must pass valid {ct} in the request's 'body' "
            ),
        }
    }
    pub fn status(&self) -> u16 {
        match self {
            BodyError::UnsupportedContentType(_) => 415,
            BodyError::InvalidJson(_) => 400,
        }
    }
}

/// Media type of a `Content-Type` header value, lowercased, without parameters.
pub fn media_type(content_type: Option<&str>) -> Option<String> {
    let ct = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    (!ct.is_empty()).then_some(ct)
}

/// Parses a request body like Grape: JSON for `application/json` (and for a missing content
/// type), Rack form decoding for `application/x-www-form-urlencoded`, 415 for anything else.
/// Returns the parameters object (empty for an empty body or a non-object JSON document).
pub fn parse_body(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, BodyError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match media_type(content_type).as_deref() {
        None | Some("application/json") => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Ok(Map::new()),
            Err(_) => Err(BodyError::InvalidJson("application/json".to_string())),
        },
        Some("application/x-www-form-urlencoded") => Ok(parse_nested_query(body)),
        Some(other) => Err(BodyError::UnsupportedContentType(other.to_string())),
    }
}

/// Best-effort JSON view of a body for the request log (forms converted to nested objects).
pub fn body_for_log(content_type: Option<&str>, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    match media_type(content_type).as_deref() {
        Some("application/x-www-form-urlencoded") => Value::Object(parse_nested_query(body)),
        _ => serde_json::from_slice::<Value>(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    }
}

/// Replaces the value of every `token` / `private_token` key (any depth) with "[REDACTED]".
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if k == "token" || k == "private_token" || k == "access_token" {
                    *val = Value::String("[REDACTED]".into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

fn decode_component(s: &[u8]) -> String {
    let replaced: Vec<u8> = s
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits `a[b][]` into ("a", ["b", ""]) the way Rack reads bracketed parameter names.
fn split_key(key: &str) -> (String, Vec<String>) {
    let Some(open) = key.find('[') else {
        return (key.to_string(), Vec::new());
    };
    if open == 0 {
        return (key.to_string(), Vec::new());
    }
    let base = key[..open].to_string();
    let mut rest = &key[open..];
    let mut segs = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        match r.find(']') {
            Some(close) => {
                segs.push(r[..close].to_string());
                rest = &r[close + 1..];
            }
            None => break,
        }
    }
    (base, segs)
}

fn insert_nested(target: &mut Map<String, Value>, key: &str, segs: &[String], value: Value) {
    match segs.split_first() {
        None => {
            target.insert(key.to_string(), value);
        }
        Some((first, rest)) if first.is_empty() => {
            // `key[]...`: an array.
            let entry = target
                .entry(key.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !entry.is_array() {
                *entry = Value::Array(Vec::new());
            }
            let Value::Array(arr) = entry else { return };
            if rest.is_empty() {
                arr.push(value);
                return;
            }
            // `key[][child]`: add to the last hash unless it already has that child.
            let child = &rest[0];
            let reuse = matches!(arr.last(), Some(Value::Object(m)) if !m.contains_key(child));
            if !reuse {
                arr.push(Value::Object(Map::new()));
            }
            if let Some(Value::Object(m)) = arr.last_mut() {
                insert_nested(m, child, &rest[1..], value);
            }
        }
        Some((first, rest)) => {
            let entry = target
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                insert_nested(m, first, rest, value);
            }
        }
    }
}

/// Rack's `parse_nested_query`: `a=1&b[c]=2&d[]=3` -> {"a":"1","b":{"c":"2"},"d":["3"]}.
pub fn parse_nested_query(raw: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in raw.split(|b| *b == b'&' || *b == b';') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], Some(&pair[i + 1..])),
            None => (pair, None),
        };
        let key = decode_component(k);
        if key.is_empty() {
            continue;
        }
        let value = v.map_or(Value::Null, |v| Value::String(decode_component(v)));
        let (base, segs) = split_key(&key);
        insert_nested(&mut out, &base, &segs, value);
    }
    out
}

// ----- Grape declared parameters -------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    Bool,
    Int,
    Hash(&'static [Spec]),
}

#[derive(Debug, Clone, Copy)]
pub enum Default {
    Bool(bool),
    Str(&'static str),
    Int(i64),
}

/// One declared parameter (`requires`/`optional` with `type:`, `allow_blank:`, `values:`,
/// `except_values:` and `default:`).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub allow_blank: bool,
    pub values: Option<&'static [&'static str]>,
    pub except_ints: &'static [i64],
    pub default: Option<Default>,
}

impl Spec {
    pub const fn req(name: &'static str, kind: Kind) -> Spec {
        Spec {
            name,
            kind,
            required: true,
            allow_blank: true,
            values: None,
            except_ints: &[],
            default: None,
        }
    }
    pub const fn opt(name: &'static str, kind: Kind) -> Spec {
        Spec {
            required: false,
            ..Spec::req(name, kind)
        }
    }
    pub const fn no_blank(self) -> Spec {
        Spec {
            allow_blank: false,
            ..self
        }
    }
    pub const fn values(self, values: &'static [&'static str]) -> Spec {
        Spec {
            values: Some(values),
            ..self
        }
    }
    pub const fn except(self, ints: &'static [i64]) -> Spec {
        Spec {
            except_ints: ints,
            ..self
        }
    }
    pub const fn default(self, d: Default) -> Spec {
        Spec {
            default: Some(d),
            ..self
        }
    }
}

const TRUE_VALUES: &[&str] = &[
    "1", "on", "On", "ON", "t", "true", "True", "TRUE", "T", "y", "yes", "Yes", "YES", "Y",
];
const FALSE_VALUES: &[&str] = &[
    "0", "off", "Off", "OFF", "f", "false", "False", "FALSE", "F", "n", "no", "No", "NO", "N",
];

/// Ruby's `Integer(str, 10)`: optional surrounding whitespace, sign, digits with single
/// underscores between them.
fn ruby_integer(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'+' => (false, &t[1..]),
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    // Ruby has bignums: a valid but huge integer is still an integer (it just matches nothing).
    let n: i64 = clean.parse().unwrap_or(i64::MAX);
    Some(if neg { -n } else { n })
}

fn ruby_to_s(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// Grape/dry-types coercion. `Err(())` means "is invalid".
fn coerce(kind: Kind, raw: &Value) -> Result<Value, ()> {
    if raw.is_null() {
        return Ok(Value::Null);
    }
    match kind {
        Kind::Str => match raw {
            Value::String(_) => Ok(raw.clone()),
            Value::Number(n) => Ok(Value::String(ruby_to_s(n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(()),
        },
        Kind::Bool => {
            let s = match raw {
                Value::Bool(b) => return Ok(Value::Bool(*b)),
                Value::String(s) if s.is_empty() => return Ok(Value::Null),
                Value::String(s) => s.clone(),
                Value::Number(n) => ruby_to_s(n),
                _ => return Err(()),
            };
            if TRUE_VALUES.contains(&s.as_str()) {
                Ok(Value::Bool(true))
            } else if FALSE_VALUES.contains(&s.as_str()) {
                Ok(Value::Bool(false))
            } else {
                Err(())
            }
        }
        Kind::Int => match raw {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Value::from(i))
                } else if let Some(f) = n.as_f64().filter(|f| f.is_finite() && f.abs() < 9.2e18) {
                    Ok(Value::from(f.trunc() as i64))
                } else {
                    Err(())
                }
            }
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) => ruby_integer(s).map(Value::from).ok_or(()),
            _ => Err(()),
        },
        Kind::Hash(_) => match raw {
            Value::Object(_) => Ok(raw.clone()),
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            _ => Err(()),
        },
    }
}

/// ActiveSupport's `blank?` (false is handled by the caller like Grape does).
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(_) => false,
    }
}

fn default_value(d: Default) -> Value {
    match d {
        Default::Bool(b) => Value::Bool(b),
        Default::Str(s) => Value::String(s.to_string()),
        Default::Int(i) => Value::from(i),
    }
}

/// The parameters of a scope as Grape sees them: a hash, or some other value.
enum Container<'a> {
    Hash(&'a Map<String, Value>),
    Other,
}

struct Walker {
    errors: Vec<(String, &'static str)>,
    include_missing: bool,
}

impl Walker {
    fn err(&mut self, attr: &str, msg: &'static str) {
        self.errors.push((attr.to_string(), msg));
    }

    fn scope(
        &mut self,
        container: Container<'_>,
        specs: &[Spec],
        prefix: Option<&str>,
    ) -> Map<String, Value> {
        let empty = Map::new();
        let mut out = Map::new();
        for spec in specs {
            let full = match prefix {
                None => spec.name.to_string(),
                Some(p) => format!("{p}[{}]", spec.name),
            };
            let map = match container {
                Container::Hash(m) => m,
                Container::Other => {
                    // Presence and coercion of a required parameter fail when its scope is not
                    // a hash; every other validator skips.
                    if spec.required {
                        self.err(&full, "is missing");
                        self.err(&full, "is invalid");
                    }
                    continue;
                }
            };
            let present = map.contains_key(spec.name);
            let raw = map.get(spec.name).unwrap_or(&Value::Null);
            if spec.required && !present {
                self.err(&full, "is missing");
            }
            // Coercion (the coerced value replaces the raw one for later validators).
            let mut value = raw.clone();
            let mut invalid = false;
            if present {
                match coerce(spec.kind, raw) {
                    Ok(v) => value = v,
                    Err(()) => {
                        self.err(&full, "is invalid");
                        invalid = true;
                    }
                }
            }
            if !spec.allow_blank
                && (spec.required || present)
                && value != Value::Bool(false)
                && is_blank(&value)
            {
                self.err(&full, "is empty");
            }
            if let Some(allowed) = spec.values
                && present
                && !value.is_null()
            {
                let ok = value.as_str().is_some_and(|s| allowed.contains(&s));
                if !ok {
                    self.err(&full, "does not have a valid value");
                }
            }
            if present
                && !spec.except_ints.is_empty()
                && let Some(i) = value.as_i64()
                && spec.except_ints.contains(&i)
            {
                self.err(&full, "has a value not allowed");
            }
            let mut has_value = present;
            if value.is_null()
                && let Some(d) = spec.default
            {
                value = default_value(d);
                has_value = true;
            }
            if let Kind::Hash(children) = spec.kind {
                // Nested scope: `{}` when the hash is missing or null; a required scope is always
                // validated, an optional one only when it holds something.
                let nested_container = match &value {
                    Value::Object(m) => Container::Hash(m),
                    Value::Null => Container::Hash(&empty),
                    _ => Container::Other,
                };
                let skip = !spec.required && (value.is_null() || is_blank(&value));
                if !skip && !invalid || spec.required {
                    let nested = self.scope(nested_container, children, Some(&full));
                    if value.is_object() {
                        value = Value::Object(nested);
                    }
                }
            }
            if has_value || self.include_missing {
                out.insert(spec.name.to_string(), value);
            }
        }
        out
    }
}

/// Grape's error text: messages grouped per attribute (first-seen order), deduplicated,
/// joined with ", ".
fn error_text(errors: &[(String, &'static str)]) -> String {
    let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
    for (attr, msg) in errors {
        match grouped.iter_mut().find(|(a, _)| a == attr) {
            Some((_, msgs)) => msgs.push(msg),
            None => grouped.push((attr, vec![msg])),
        }
    }
    let mut lines: Vec<String> = Vec::new();
    for (attr, msgs) in grouped {
        for m in msgs {
            let line = format!("{attr} {m}");
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    lines.join(", ")
}

/// Validates `params` against `specs` and returns Grape's `declared(params)` (with
/// `include_missing` as given), or the `{"error": ...}` text.
pub fn declared(
    params: &Map<String, Value>,
    specs: &[Spec],
    include_missing: bool,
) -> Result<Map<String, Value>, String> {
    let mut w = Walker {
        errors: Vec::new(),
        include_missing,
    };
    let out = w.scope(Container::Hash(params), specs, None);
    if w.errors.is_empty() {
        Ok(out)
    } else {
        Err(error_text(&w.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static CHILD: &[Spec] = &[
        Spec::req("api_url", Kind::Str).no_blank(),
        Spec::req("token", Kind::Str),
        Spec::opt("authorization_type", Kind::Str)
            .values(&["rbac", "abac"])
            .default(Default::Str("rbac")),
    ];
    static ROOT: &[Spec] = &[
        Spec::req("name", Kind::Str),
        Spec::opt("enabled", Kind::Bool).default(Default::Bool(true)),
        Spec::req("pka", Kind::Hash(CHILD)),
    ];

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn grape_messages() {
        assert_eq!(
            declared(&obj(json!({})), ROOT, true).unwrap_err(),
            "name is missing, pka is missing, pka[api_url] is missing, pka[api_url] is empty, pka[token] is missing"
        );
        assert_eq!(
            declared(&obj(json!({"name": "a", "pka": "x"})), ROOT, true).unwrap_err(),
            "pka is invalid, pka[api_url] is missing, pka[api_url] is invalid, pka[token] is missing, pka[token] is invalid"
        );
        assert_eq!(
            declared(&obj(json!({"name": "a", "enabled": "maybe", "pka": {"api_url": " ", "token": "t", "authorization_type": "x"}})), ROOT, true).unwrap_err(),
            "enabled is invalid, pka[api_url] is empty, pka[authorization_type] does not have a valid value"
        );
        let ok = declared(
            &obj(json!({"name": 5, "enabled": "false", "pka": {"api_url": "u", "token": "t"}})),
            ROOT,
            true,
        )
        .unwrap();
        assert_eq!(ok["name"], json!("5"));
        assert_eq!(ok["enabled"], json!(false));
        assert_eq!(ok["pka"]["authorization_type"], json!("rbac"));
    }

    #[test]
    fn rack_nested_forms() {
        let m =
            parse_nested_query(b"name=a+b&p%5Bapi_url%5D=https%3A%2F%2Fx&p[token]=t&l[]=1&l[]=2");
        assert_eq!(
            Value::Object(m),
            json!({"name": "a b", "p": {"api_url": "https://x", "token": "t"}, "l": ["1", "2"]})
        );
        assert_eq!(ruby_integer(" 1_000 "), Some(1000));
        assert_eq!(ruby_integer("1.5"), None);
    }
}
