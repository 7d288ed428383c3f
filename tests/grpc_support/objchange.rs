//! Terraform's own checks of what a provider answers, as `internal/plans/objchange` in
//! hashicorp/terraform makes them: a planned state must follow from the configuration and
//! the prior state (`AssertPlanValid`), and the new state after apply must keep every known
//! planned value (`AssertObjectCompatible`) and be wholly known. The in-process client runs
//! them on every PlanResourceChange and ApplyResourceChange answer and fails the test with
//! the error Terraform would raise, so no protocol test can pass on an answer Terraform
//! rejects.

use terraform_provider_gitlab::protocol::value::Value;

use super::wire::WireSchema;

/// Terraform's "Provider produced invalid plan" problems (one per attribute), in its words.
pub fn plan_problems(
    schema: &WireSchema,
    prior: &Value,
    config: &Value,
    planned: &Value,
) -> Vec<String> {
    if planned.is_null() {
        // Destroy (or a failed plan): nothing is planned to check.
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, attr) in &schema.attrs {
        // Write-only values are never planned (null, whatever the configuration holds);
        // the write-only checks beside these ones hold them to that.
        if attr.write_only {
            continue;
        }
        let planned_v = planned.get(name);
        let config_v = config.get(name);
        let prior_v = if prior.is_null() {
            &Value::Null
        } else {
            prior.get(name)
        };
        if planned_v == config_v {
            continue;
        }
        // The prior value, kept although the configuration spells it differently: how a
        // provider says the two are the same value.
        if planned_v == prior_v && !prior_v.is_null() && !config_v.is_null() {
            continue;
        }
        if attr.computed && !attr.optional {
            continue;
        }
        if config_v.is_null() && attr.computed {
            continue;
        }
        let problem = if config_v.is_null() {
            if attr.sensitive {
                "planned value for a non-computed attribute".to_string()
            } else {
                format!(
                    "planned value {} for a non-computed attribute",
                    show(planned_v)
                )
            }
        } else if prior_v.is_null() {
            if attr.sensitive {
                "sensitive planned value does not match config value".to_string()
            } else {
                format!(
                    "planned value {} does not match config value {}",
                    show(planned_v),
                    show(config_v)
                )
            }
        } else if attr.sensitive {
            "sensitive planned value does not match config value nor prior value".to_string()
        } else {
            format!(
                "planned value {} does not match config value {} nor prior value {}",
                show(planned_v),
                show(config_v),
                show(prior_v)
            )
        };
        out.push(format!(
            "Provider produced invalid plan: planned an invalid value for .{name}: {problem}"
        ));
    }
    out
}

/// Terraform's "Provider produced inconsistent result after apply" and "invalid result
/// object" problems, in its words.
pub fn apply_problems(schema: &WireSchema, planned: &Value, new_state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if planned.is_null() {
        if !new_state.is_null() {
            out.push("Provider produced inconsistent result after apply: planned to destroy, but the new state is not null".into());
        }
        return out;
    }
    if new_state.is_null() {
        out.push("Provider produced inconsistent result after apply: the new state is null, but the plan was not to destroy".into());
        return out;
    }
    for (name, attr) in &schema.attrs {
        let p = planned.get(name);
        let n = new_state.get(name);
        if n.is_unknown() {
            out.push(format!(
                "Provider returned invalid result object after apply: .{name} is unknown; all values must be known"
            ));
            continue;
        }
        if p.is_unknown() || p == n {
            continue;
        }
        let problem = if attr.sensitive {
            "inconsistent values for sensitive attribute".to_string()
        } else {
            format!("was {}, but now {}", show(p), show(n))
        };
        out.push(format!(
            "Provider produced inconsistent result after apply: produced an unexpected new value: .{name}: {problem}"
        ));
    }
    out
}

/// A value as Terraform's `%#v` of cty shows it, near enough: strings quoted (test output
/// only; the provider's own `Debug` never prints string contents).
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("cty.StringVal({s:?})"),
        Value::Null => "cty.NullVal".into(),
        Value::Unknown => "cty.UnknownVal".into(),
        other => format!("{other:?}"),
    }
}
