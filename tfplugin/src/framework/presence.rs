//! Schema rules on whether a value may be present, for every resource alike: a required
//! attribute written out as `null` is refused (as the Go framework's "Missing Configuration
//! for Required Attribute"); a write-only value is refused from a client that would store it
//! in state (Terraform / OpenTofu < 1.11), at validation and again at plan; and write-only values never leave the provider:
//! planned state, new state, read, import and upgrade results hold null for them, as
//! Terraform requires (anything else is "Provider produced invalid object/plan").

use super::schema::Schema;
use crate::protocol::diag::{Diagnostic, Diagnostics};
use crate::protocol::provider::ClientCapabilities;
use crate::protocol::value::Value;

/// Required attributes whose configured value is (known to be) null. Terraform itself
/// rejects a required argument that is left out, but passes `name = null` on.
pub fn required_nulls(schema: &Schema, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if config.is_null() || config.is_unknown() {
        return diags;
    }
    for attr in schema.attributes.iter().filter(|a| a.required) {
        if config.get(&attr.name).is_null() {
            diags.push(
                Diagnostic::error(
                    "Missing Configuration for Required Attribute",
                    format!(
                        "`{}` is required and must not be null. Give it a value (an explicit `null` counts as \
                         leaving it out).",
                        attr.name
                    ),
                )
                .at_attr(&attr.name),
            );
        }
    }
    diags
}

/// Write-only attributes set in `config` when the client cannot keep them out of state.
/// Unknown values are let through: they may turn out null, and the plan checks them again
/// ([`write_only_refused_at_plan`]).
pub fn write_only_refused(
    schema: &Schema,
    config: &Value,
    client: ClientCapabilities,
) -> Diagnostics {
    refused(schema, config, client, false)
}

/// [`write_only_refused`] at plan, where a value still unknown is refused too: such a client
/// cannot take a plan with null in its place (it would call it an invalid plan), nor keep
/// the value out of state once known.
pub fn write_only_refused_at_plan(
    schema: &Schema,
    config: &Value,
    client: ClientCapabilities,
) -> Diagnostics {
    refused(schema, config, client, true)
}

fn refused(
    schema: &Schema,
    config: &Value,
    client: ClientCapabilities,
    unknown_too: bool,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if client.write_only_attributes_allowed || !matches!(config, Value::Object(_)) {
        return diags;
    }
    for attr in schema.attributes.iter().filter(|a| a.write_only) {
        let v = config.get(&attr.name);
        if v.is_null() || (v.is_unknown() && !unknown_too) {
            continue;
        }
        let instead = attr
            .write_only_fallback
            .as_deref()
            .map(|f| {
                format!(
                    " Use `{f}` instead: it works with every Terraform and OpenTofu version (and keeps the \
                     value in state)."
                )
            })
            .unwrap_or_default();
        diags.push(
            Diagnostic::error(
                format!("`{}` needs Terraform 1.11 or OpenTofu 1.11", attr.name),
                format!(
                    "`{}` is a write-only attribute: its value is never stored in state. Only Terraform 1.11 or \
                     later and OpenTofu 1.11 or later support write-only attributes; this client does not say it \
                     does, and it would store the value in state.{instead}",
                    attr.name
                ),
            )
            .at_attr(&attr.name),
        );
    }
    diags
}

/// Sets every write-only attribute of an object to null (a null object stays null).
pub fn strip_write_only(schema: &Schema, value: &mut Value) {
    if !matches!(value, Value::Object(_)) {
        return;
    }
    for attr in schema.attributes.iter().filter(|a| a.write_only) {
        if let Some(slot) = value.get_mut(&attr.name) {
            *slot = Value::Null;
        }
    }
}

/// `value` without its write-only values.
pub fn without_write_only(schema: &Schema, value: &Value) -> Value {
    let mut v = value.clone();
    strip_write_only(schema, &mut v);
    v
}

/// Copies the configured write-only values into `planned`, so that the resource sees what
/// the configuration says while applying (the plan itself holds null for them).
pub fn with_config_write_only(schema: &Schema, planned: &Value, config: &Value) -> Value {
    let mut v = planned.clone();
    if !matches!(v, Value::Object(_)) {
        return v;
    }
    for attr in schema.attributes.iter().filter(|a| a.write_only) {
        if let Some(slot) = v.get_mut(&attr.name) {
            *slot = config.get(&attr.name).clone();
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;

    fn schema() -> Schema {
        Schema::new(
            "",
            vec![
                Attribute::string("name").required(),
                Attribute::string("secret").optional().sensitive(),
                Attribute::string("secret_wo")
                    .optional()
                    .sensitive()
                    .write_only("secret"),
                Attribute::number("secret_wo_version").optional(),
            ],
        )
    }

    fn obj(name: Value, wo: Value) -> Value {
        Value::object([
            ("name", name),
            ("secret", Value::Null),
            ("secret_wo", wo),
            ("secret_wo_version", Value::int(1)),
        ])
    }

    #[test]
    fn an_explicit_null_for_a_required_attribute_is_refused_at_that_attribute() {
        let d = required_nulls(&schema(), &obj(Value::Null, Value::Null));
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].summary,
            "Missing Configuration for Required Attribute"
        );
        assert_eq!(d.0[0].attribute.as_ref().unwrap().to_string(), "name");
        // Unknown may become anything; a whole null object is a destroy.
        assert!(required_nulls(&schema(), &obj(Value::Unknown, Value::Null)).is_empty());
        assert!(required_nulls(&schema(), &Value::Null).is_empty());
    }

    #[test]
    fn write_only_values_are_refused_only_from_clients_without_the_capability() {
        let config = obj("n".into(), "s3cret".into());
        let old = write_only_refused(&schema(), &config, ClientCapabilities::default());
        assert_eq!(old.0.len(), 1);
        let d = &old.0[0];
        assert_eq!(d.attribute.as_ref().unwrap().to_string(), "secret_wo");
        assert!(
            d.summary.contains("Terraform 1.11 or OpenTofu 1.11"),
            "{d:?}"
        );
        assert!(d.detail.contains("Use `secret` instead"), "{d:?}");
        assert!(!d.detail.contains("s3cret"));
        let modern = ClientCapabilities {
            write_only_attributes_allowed: true,
        };
        assert!(write_only_refused(&schema(), &config, modern).is_empty());
        // Unknown: let through at validation, refused at plan (unless the client can).
        let unknown = obj("n".into(), Value::Unknown);
        let old = ClientCapabilities::default();
        assert!(write_only_refused(&schema(), &unknown, old).is_empty());
        let d = write_only_refused_at_plan(&schema(), &unknown, old);
        assert!(d.0[0].summary.contains("Terraform 1.11"), "{d:?}");
        assert!(write_only_refused_at_plan(&schema(), &unknown, modern).is_empty());
        assert!(write_only_refused_at_plan(&schema(), &Value::Null, old).is_empty());
        // Not set: nothing to refuse, whatever the client.
        let unset = obj("n".into(), Value::Null);
        assert!(write_only_refused(&schema(), &unset, ClientCapabilities::default()).is_empty());
        // Unknown may be null: left to the plan, which sees it known.
        let unknown = obj("n".into(), Value::Unknown);
        assert!(write_only_refused(&schema(), &unknown, ClientCapabilities::default()).is_empty());
    }

    #[test]
    fn write_only_values_are_stripped_and_restored_from_config() {
        let config = obj("n".into(), "s3cret".into());
        let stripped = without_write_only(&schema(), &config);
        assert_eq!(stripped.get("secret_wo"), &Value::Null);
        assert_eq!(stripped.get("name"), &Value::from("n"));
        assert_eq!(stripped.get("secret_wo_version"), &Value::int(1));
        let back = with_config_write_only(&schema(), &stripped, &config);
        assert_eq!(back, config);
        assert_eq!(without_write_only(&schema(), &Value::Null), Value::Null);
        assert_eq!(
            with_config_write_only(&schema(), &Value::Null, &config),
            Value::Null
        );
    }
}
