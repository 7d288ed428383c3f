//! Plan rules computed once from the schema, so that no resource gets them wrong:
//! defaults, computed values (unknown on create, unknown or kept on update), spellings that
//! mean no change (the prior value is planned, as Terraform allows), and which attribute
//! changes force replacement.

use super::schema::{Attribute, OnUpdate, Schema};
use crate::protocol::diag::AttributePath;
use crate::protocol::value::Value;

/// The planned new state from Terraform's proposed new state (config merged with prior
/// state for computed attributes). `prior` is null on create; `proposed` null on destroy.
pub fn planned_state(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> Value {
    if proposed.is_null() {
        return Value::Null;
    }
    let creating = prior.is_null();
    let mut planned = proposed.clone();
    for attr in &schema.attributes {
        let configured = !config.get(&attr.name).is_null();
        let Some(slot) = planned.get_mut(&attr.name) else {
            continue;
        };
        if configured {
            // Terraform accepts the prior value for a configured attribute: that is how a
            // provider says "this spelling is the same value" (objchange.assertPlannedValueValid).
            let before = prior.get(&attr.name);
            if !before.is_null() && *slot != *before && attr.equivalent(before, slot) {
                *slot = before.clone();
            }
            continue;
        }
        if let Some(default) = &attr.default {
            *slot = default.clone();
        } else if attr.computed && creating {
            *slot = attr.known_on_create.clone().unwrap_or(Value::Unknown);
        }
    }
    if !creating && differs(schema, prior, &planned) {
        // In-place update: values the API may change become "known after apply".
        for attr in &schema.attributes {
            let unset = config.get(&attr.name).is_null() && attr.default.is_none();
            if attr.computed
                && unset
                && attr.on_update == OnUpdate::Unknown
                && let Some(slot) = planned.get_mut(&attr.name)
            {
                *slot = Value::Unknown;
            }
        }
    }
    planned
}

/// Whether any attribute of the planned state differs from the prior state.
pub fn differs(schema: &Schema, prior: &Value, planned: &Value) -> bool {
    schema
        .attributes
        .iter()
        .any(|a| prior.get(&a.name) != planned.get(&a.name))
}

/// The attributes whose known planned value the new state contradicts: what Terraform
/// would report as "Provider produced inconsistent result after apply"
/// (objchange.AssertObjectCompatible; null is a known value).
pub fn mismatches<'a>(
    schema: &'a Schema,
    planned: &Value,
    new_state: &Value,
) -> Vec<&'a Attribute> {
    schema
        .attributes
        .iter()
        .filter(|a| {
            let p = planned.get(&a.name);
            !p.is_unknown() && p != new_state.get(&a.name)
        })
        .collect()
}

/// The force-new attributes whose planned value differs from a known prior value
/// (an unknown planned value may differ, so it counts).
pub fn requires_replace(schema: &Schema, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    if prior.is_null() || planned.is_null() {
        return Vec::new();
    }
    schema
        .attributes
        .iter()
        .filter(|a| a.force_new)
        .filter(|a| {
            let before = prior.get(&a.name);
            !before.is_null() && before != planned.get(&a.name)
        })
        .map(|a| AttributePath::attr(a.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Normalize;

    fn schema() -> Schema {
        Schema::new(
            "",
            vec![
                Attribute::string("id").computed().stable(),
                Attribute::string("group").required().force_new(),
                Attribute::string("name").required(),
                Attribute::bool("enabled").default(true),
                Attribute::string("kind").default("rbac").force_new(),
                Attribute::string("status").computed(),
                Attribute::string("note").optional(),
                Attribute::string("ns")
                    .optional()
                    .normalize(&[Normalize::Lowercase, Normalize::BlankAsNull]),
                Attribute::string("platform").computed().always("fixed"),
            ],
        )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut all = Value::object(
            schema()
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        );
        for (k, v) in pairs {
            *all.get_mut(k).unwrap() = v.clone();
        }
        all
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed_values() {
        let config = obj(&[("group", "g".into()), ("name", "n".into())]);
        let p = planned_state(&schema(), &Value::Null, &config, &config);
        assert_eq!(p.get("enabled"), &Value::Bool(true));
        assert_eq!(p.get("kind"), &Value::from("rbac"));
        assert_eq!(p.get("id"), &Value::Unknown);
        assert_eq!(p.get("status"), &Value::Unknown);
        assert_eq!(p.get("note"), &Value::Null);
    }

    #[test]
    fn unchanged_resource_plans_exactly_the_prior_state() {
        let prior = obj(&[
            ("id", "g:1".into()),
            ("group", "g".into()),
            ("name", "n".into()),
            ("enabled", true.into()),
            ("kind", "rbac".into()),
            ("status", "ok".into()),
        ]);
        let config = obj(&[("group", "g".into()), ("name", "n".into())]);
        // Terraform's proposed state: config, with prior values for computed attributes.
        let proposed = obj(&[
            ("id", "g:1".into()),
            ("group", "g".into()),
            ("name", "n".into()),
            ("enabled", true.into()),
            ("kind", "rbac".into()),
            ("status", "ok".into()),
        ]);
        let p = planned_state(&schema(), &prior, &proposed, &config);
        assert_eq!(p, prior);
        assert!(requires_replace(&schema(), &prior, &p).is_empty());
    }

    #[test]
    fn update_keeps_stable_values_and_unknowns_the_rest() {
        let prior = obj(&[
            ("id", "g:1".into()),
            ("group", "g".into()),
            ("name", "n".into()),
            ("enabled", true.into()),
            ("kind", "rbac".into()),
            ("status", "ok".into()),
        ]);
        let config = obj(&[("group", "g".into()), ("name", "renamed".into())]);
        let mut proposed = prior.clone();
        *proposed.get_mut("name").unwrap() = "renamed".into();
        let p = planned_state(&schema(), &prior, &proposed, &config);
        assert_eq!(p.get("id"), &Value::from("g:1"));
        assert_eq!(p.get("status"), &Value::Unknown);
        assert!(requires_replace(&schema(), &prior, &p).is_empty());
    }

    #[test]
    fn changing_a_force_new_attribute_requires_replacement_of_exactly_it() {
        let prior = obj(&[
            ("group", "g".into()),
            ("name", "n".into()),
            ("kind", "rbac".into()),
        ]);
        let config = obj(&[("group", "h".into()), ("name", "n".into())]);
        let mut proposed = prior.clone();
        *proposed.get_mut("group").unwrap() = "h".into();
        let p = planned_state(&schema(), &prior, &proposed, &config);
        assert_eq!(
            requires_replace(&schema(), &prior, &p),
            vec![AttributePath::attr("group")]
        );
        // Removing `kind` from config plans its default: no change, no replacement.
        let mut proposed = prior.clone();
        *proposed.get_mut("kind").unwrap() = "rbac".into();
        let p = planned_state(&schema(), &prior, &proposed, &obj(&[("group", "g".into())]));
        assert!(requires_replace(&schema(), &prior, &p).is_empty());
    }

    #[test]
    fn unknown_force_new_value_requires_replacement() {
        let prior = obj(&[("group", "g".into())]);
        let mut proposed = prior.clone();
        *proposed.get_mut("group").unwrap() = Value::Unknown;
        let p = planned_state(&schema(), &prior, &proposed, &proposed);
        assert_eq!(
            requires_replace(&schema(), &prior, &p),
            vec![AttributePath::attr("group")]
        );
    }

    #[test]
    fn create_plans_values_that_are_always_the_same_as_known() {
        let config = obj(&[("group", "g".into()), ("name", "n".into())]);
        let p = planned_state(&schema(), &Value::Null, &config, &config);
        assert_eq!(p.get("platform"), &Value::from("fixed"));
    }

    #[test]
    fn a_respelling_of_the_prior_value_plans_the_prior_value_and_no_change() {
        let prior = obj(&[
            ("group", "g".into()),
            ("name", "n".into()),
            ("enabled", true.into()),
            ("kind", "rbac".into()),
            ("ns", "ops".into()),
        ]);
        let config = obj(&[
            ("group", "g".into()),
            ("name", "n".into()),
            ("ns", "OPS".into()),
        ]);
        let p = planned_state(&schema(), &prior, &config, &config);
        assert_eq!(p.get("ns"), &Value::from("ops"));
        assert!(!differs(&schema(), &prior, &p));
        // A real change is planned as configured.
        let config = obj(&[
            ("group", "g".into()),
            ("name", "n".into()),
            ("ns", "dev".into()),
        ]);
        let p = planned_state(&schema(), &prior, &config, &config);
        assert_eq!(p.get("ns"), &Value::from("dev"));
    }

    #[test]
    fn a_blank_value_after_null_is_planned_as_configured_because_terraform_requires_it() {
        let prior = obj(&[("group", "g".into()), ("name", "n".into())]);
        let config = obj(&[
            ("group", "g".into()),
            ("name", "n".into()),
            ("ns", "".into()),
        ]);
        let p = planned_state(&schema(), &prior, &config, &config);
        assert_eq!(p.get("ns"), &Value::from(""));
    }

    #[test]
    fn destroy_plans_null() {
        let prior = obj(&[("group", "g".into())]);
        assert_eq!(
            planned_state(&schema(), &prior, &Value::Null, &Value::Null),
            Value::Null
        );
    }
}
