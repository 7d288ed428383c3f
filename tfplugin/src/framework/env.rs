//! Environment fallbacks of provider attributes, in one place: an attribute declared with
//! `.env(&["VAR", ...])` takes the first of those variables that is set (and not empty)
//! when the configuration leaves it null or blank (`""`, as the Go SDK's providers read
//! it), before the provider's `configure` sees the configuration. A sensitive value that
//! comes from the environment is taught to the redactor here, so no log line or
//! diagnostic can carry it.

use super::schema::Schema;
use crate::protocol::diag::{Diagnostic, Diagnostics};
use crate::protocol::logging::Redactor;
use crate::protocol::value::{Type, Value};

/// Fills `config`'s unset attributes from the process environment.
pub fn fill(schema: &Schema, config: &mut Value, redactor: &Redactor) -> Diagnostics {
    fill_from(schema, config, redactor, &|k| std::env::var(k).ok())
}

/// [`fill`] with the environment given by `lookup`.
pub fn fill_from(
    schema: &Schema,
    config: &mut Value,
    redactor: &Redactor,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if !matches!(config, Value::Object(_)) {
        return diags;
    }
    for attr in schema.attributes.iter().filter(|a| !a.env.is_empty()) {
        let Some(slot) = config.get_mut(&attr.name) else {
            continue;
        };
        let unset = match &*slot {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        };
        if !unset {
            continue;
        }
        let Some((var, raw)) = attr
            .env
            .iter()
            .find_map(|k| lookup(k).filter(|v| !v.is_empty()).map(|v| (*k, v)))
        else {
            continue;
        };
        if attr.sensitive || attr.write_only {
            redactor.add(&raw);
        }
        match parse(&attr.ty, &raw) {
            Ok(v) => *slot = v,
            Err(want) => diags.push(
                Diagnostic::error(
                    format!("Invalid {var}"),
                    format!(
                        "{var} is {raw:?}; set it to {want}, or set `{}`.",
                        attr.name
                    ),
                )
                .at_attr(&attr.name),
            ),
        }
    }
    diags
}

/// The value of a variable for an attribute of type `ty`, or what it should have been.
fn parse(ty: &Type, raw: &str) -> Result<Value, &'static str> {
    match ty {
        // Go's strconv.ParseBool spellings, as the SDK's providers read booleans.
        Type::Bool => match raw {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Value::Bool(true)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Value::Bool(false)),
            _ => Err("true or false"),
        },
        Type::Number => raw
            .trim()
            .parse::<i64>()
            .map(Value::int)
            .map_err(|_| "a whole number"),
        _ => Ok(Value::String(raw.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;

    fn schema() -> Schema {
        Schema::new(
            "",
            vec![
                Attribute::string("url")
                    .optional()
                    .env(&["X_URL", "X_URL_OLD"]),
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .env(&["X_TOKEN"]),
                Attribute::bool("check").optional().env(&["X_CHECK"]),
                Attribute::number("count").optional().env(&["X_COUNT"]),
                Attribute::string("plain").optional(),
            ],
        )
    }

    fn config(url: Value, token: Value) -> Value {
        Value::object([
            ("url", url),
            ("token", token),
            ("check", Value::Null),
            ("count", Value::Null),
            ("plain", Value::Null),
        ])
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn null_and_blank_values_take_the_first_set_variable_and_configured_ones_stay() {
        let r = Redactor::default();
        let lookup = env(&[
            ("X_URL", ""),
            ("X_URL_OLD", "https://old.example.com"),
            ("X_TOKEN", "env-token"),
            ("X_CHECK", "F"),
            ("X_COUNT", " 7"),
        ]);
        let mut c = config(Value::Null, "".into());
        assert!(fill_from(&schema(), &mut c, &r, &lookup).is_empty());
        assert_eq!(c.get("url"), &Value::from("https://old.example.com"));
        assert_eq!(c.get("token"), &Value::from("env-token"));
        assert_eq!(c.get("check"), &Value::Bool(false));
        assert_eq!(c.get("count"), &Value::int(7));
        assert_eq!(c.get("plain"), &Value::Null);
        let mut c = config("https://set.example.com".into(), "set-token".into());
        fill_from(&schema(), &mut c, &r, &lookup);
        assert_eq!(c.get("url"), &Value::from("https://set.example.com"));
        assert_eq!(c.get("token"), &Value::from("set-token"));
    }

    #[test]
    fn a_sensitive_value_from_the_environment_is_redacted() {
        let r = Redactor::default();
        let mut c = config(Value::Null, Value::Null);
        fill_from(
            &schema(),
            &mut c,
            &r,
            &env(&[("X_TOKEN", "env-secret-token")]),
        );
        let mut line = "sent env-secret-token".to_string();
        r.redact(&mut line);
        assert_eq!(line, "sent [REDACTED]");
    }

    #[test]
    fn an_unparsable_variable_is_an_error_at_its_attribute() {
        let r = Redactor::default();
        let mut c = config(Value::Null, Value::Null);
        let d = fill_from(&schema(), &mut c, &r, &env(&[("X_CHECK", "yes")]));
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].summary, "Invalid X_CHECK");
        assert_eq!(
            d.0[0].detail,
            "X_CHECK is \"yes\"; set it to true or false, or set `check`."
        );
        assert_eq!(
            d.0[0].attribute.as_ref().map(ToString::to_string),
            Some("check".into())
        );
        assert_eq!(c.get("check"), &Value::Null);
    }
}
