//! The generic half of a Terraform Registry docs generator: a schema, with its behaviour
//! (presence, sensitivity, force-new, defaults, validators, environment variables,
//! deprecations, nested attributes), as the Markdown argument and attribute reference
//! tfplugindocs writes. Pages, templates and where they live are the provider's.

use std::fmt::Write as _;

use crate::framework::schema::{Attribute, Schema};
use crate::protocol::value::{Type, Value};

/// The argument and attribute reference of a schema: `### Required`, `### Optional`,
/// `### Read-Only`, then a `### Nested Schema for …` section per nested attribute.
/// `remote` names the system the provider's objects live in (say, `"Acme Cloud"`): the text of
/// a value known on create says an imported object keeps what `remote` holds.
pub fn schema_markdown(schema: &Schema, remote: &str) -> String {
    let mut out = String::new();
    let mut nested: Vec<(String, &Attribute)> = Vec::new();
    if let Some(d) = &schema.deprecation {
        let _ = writeln!(out, "~> **Deprecated:** {}\n", one_line(d));
    }
    for (title, group) in groups(&schema.attributes) {
        let _ = writeln!(out, "### {title}\n");
        for a in group {
            out.push_str(&attribute_line(a, "", remote, &mut nested));
        }
        out.push('\n');
    }
    // Breadth-first, so deeper levels follow their parents.
    let mut i = 0;
    while i < nested.len() {
        let (path, attr) = (nested[i].0.clone(), nested[i].1);
        let _ = writeln!(out, "<a id=\"{}\"></a>", anchor(&path));
        let _ = writeln!(out, "### Nested Schema for `{path}`\n");
        for (title, group) in groups(&attr.nested) {
            let _ = writeln!(out, "{title}:\n");
            for a in group {
                out.push_str(&attribute_line(a, &path, remote, &mut nested));
            }
            out.push('\n');
        }
        i += 1;
    }
    out.trim_end().to_string()
}

fn anchor(path: &str) -> String {
    format!("nestedatt--{}", path.replace('.', "--"))
}

/// Attributes by presence, in schema order: Required, Optional (including optional and
/// computed), Read-Only (computed only). Empty groups are left out.
fn groups(attrs: &[Attribute]) -> Vec<(&'static str, Vec<&Attribute>)> {
    let required: Vec<_> = attrs.iter().filter(|a| a.required).collect();
    let optional: Vec<_> = attrs.iter().filter(|a| !a.required && a.optional).collect();
    let read_only: Vec<_> = attrs
        .iter()
        .filter(|a| !a.required && !a.optional)
        .collect();
    [
        ("Required", required),
        ("Optional", optional),
        ("Read-Only", read_only),
    ]
    .into_iter()
    .filter(|(_, g)| !g.is_empty())
    .collect()
}

/// `- `name` (String, Sensitive, Forces replacement) Description. Defaults to `"x"`. …`
fn attribute_line<'a>(
    a: &'a Attribute,
    parent: &str,
    remote: &str,
    nested: &mut Vec<(String, &'a Attribute)>,
) -> String {
    let mut flags = vec![type_name(&a.ty)];
    if a.sensitive {
        flags.push("Sensitive".into());
    }
    if a.write_only {
        // The Registry's own spelling for these.
        flags.push("[Write-only](https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments)".into());
    }
    if a.deprecation.is_some() {
        flags.push("Deprecated".into());
    }
    if a.force_new {
        flags.push("Forces replacement".into());
    }
    let mut text: Vec<String> = Vec::new();
    if let Some(d) = &a.deprecation {
        text.push(format!("**Deprecated:** {}", one_line(d)));
    }
    if !a.description.is_empty() {
        text.push(one_line(&a.description));
    }
    if let Some(v) = &a.default {
        text.push(format!("Defaults to `{}`.", hcl_literal(v)));
    }
    if let Some(v) = &a.known_on_create {
        text.push(format!(
            "`{}` for a resource this provider creates, known at plan time; an imported one keeps what \
             {remote} holds.",
            hcl_literal(v).trim_matches('"')
        ));
    }
    if !a.normalize.is_empty() {
        let rules: Vec<&str> = a.normalize.iter().map(|n| n.description()).collect();
        text.push(format!(
            "Spellings that differ only in {} are the same value: no change is planned between them, and the \
             configured spelling is kept in state.",
            join_words(&rules)
        ));
    }
    if !a.validators.is_empty() {
        let rules: Vec<String> = a.validators.iter().map(|v| v.description()).collect();
        text.push(format!("Validation: {}", rules.join(" ")));
    }
    for var in &a.env {
        if !a.description.contains(var) {
            text.push(format!("Can be set with the `{var}` environment variable."));
        }
    }
    if !a.nested.is_empty() {
        let path = if parent.is_empty() {
            a.name.clone()
        } else {
            format!("{parent}.{}", a.name)
        };
        text.push(format!(
            "(see [below for nested schema](#{}))",
            anchor(&path)
        ));
        nested.push((path, a));
    }
    format!("- `{}` ({}) {}\n", a.name, flags.join(", "), text.join(" "))
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `List of Object`, `Map of String`, `Boolean`, … as the Registry's docs spell types.
fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

/// A default value as it would be written in HCL.
fn hcl_literal(v: &Value) -> String {
    match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::Value::from(s.as_str()).to_string(),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            format!(
                "[{}]",
                items.iter().map(hcl_literal).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Map(m) | Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{k} = {}", hcl_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A description as one paragraph: every run of whitespace, line breaks included, becomes
/// one space (front matter and attribute lines are single lines).
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::validate::{NotBlank, OneOf};

    #[test]
    fn attribute_lines_carry_presence_flags_defaults_and_validators() {
        let schema = Schema::new(
            "S.",
            vec![
                Attribute::string("kind")
                    .default("rbac")
                    .force_new()
                    .validate(OneOf(&["rbac", "abac"]))
                    .describe("The kind."),
                Attribute::string("token")
                    .required()
                    .sensitive()
                    .validate(NotBlank)
                    .env(&["X_TOKEN"])
                    .describe("A token."),
                Attribute::string("old")
                    .optional()
                    .deprecated("Use `kind`."),
                Attribute::list_of_objects(
                    "items",
                    vec![Attribute::number("n").computed().describe("N.")],
                )
                .computed()
                .describe("Items."),
            ],
        );
        let md = schema_markdown(&schema, "the API");
        assert!(md.contains(
            "### Required\n\n- `token` (String, Sensitive) A token. Validation: Must not be empty or blank. \
             Can be set with the `X_TOKEN` environment variable.\n"
        ), "{md}");
        assert!(md.contains(
            "- `kind` (String, Forces replacement) The kind. Defaults to `\"rbac\"`. Validation: One of `rbac`, `abac`.\n"
        ), "{md}");
        assert!(
            md.contains("- `old` (String, Deprecated) **Deprecated:** Use `kind`.\n"),
            "{md}"
        );
        assert!(md.contains(
            "### Read-Only\n\n- `items` (List of Object) Items. (see [below for nested schema](#nestedatt--items))\n"
        ), "{md}");
        assert!(md.ends_with(
            "<a id=\"nestedatt--items\"></a>\n### Nested Schema for `items`\n\nRead-Only:\n\n- `n` (Number) N."
        ), "{md}");
    }

    #[test]
    fn a_value_known_on_create_names_where_an_imported_one_comes_from() {
        let schema = Schema::new(
            "S.",
            vec![Attribute::string("kind").computed().always("rbac")],
        );
        let md = schema_markdown(&schema, "Acme");
        assert!(
            md.contains("an imported one keeps what Acme holds."),
            "{md}"
        );
    }
}
