//! The framework's schema: attributes carry, besides what goes on the wire (type,
//! presence, sensitivity, description, deprecation), their behaviour as values: plan rules
//! (default, requires-replace, stable or always-known computed values), spellings that mean
//! no change ([`Normalize`]), validators, and the environment variables a provider
//! attribute falls back to. The framework plans, validates and configures from it, the docs
//! generator prints it, and [`Schema::wire`] derives the schema the protocol layer serves.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::validate::Validator;
use crate::protocol::schema as wire;
use crate::protocol::value::{Type, Value};

/// A spelling difference the API does not preserve: two values that normalise alike name
/// the same thing (semantic equality). The framework keeps the configured or prior
/// spelling when the API answers another one, and plans no change between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    /// Surrounding whitespace is not significant.
    TrimSpace,
    /// Letter case is not significant.
    Lowercase,
    /// CRLF and lone CR line endings are the same as LF.
    LineEndings,
    /// An empty or whitespace-only string means the same as null.
    BlankAsNull,
    /// A decimal integer written with surrounding space, a `+` sign or leading zeros
    /// (`" 007"`, `"+7"`) is the same as its canonical spelling (`"7"`).
    DecimalInteger,
}

impl Normalize {
    /// The text for docs: "surrounding whitespace", "letter case", ...
    pub fn description(self) -> &'static str {
        match self {
            Normalize::TrimSpace => "surrounding whitespace",
            Normalize::Lowercase => "letter case",
            Normalize::LineEndings => "line endings (CRLF or LF)",
            Normalize::BlankAsNull => "an empty string and no value",
            Normalize::DecimalInteger => {
                "leading zeros, a `+` sign and surrounding spaces of the number"
            }
        }
    }

    fn apply(self, v: Value) -> Value {
        let Value::String(s) = v else { return v };
        match self {
            Normalize::TrimSpace => Value::String(s.trim().to_string()),
            Normalize::Lowercase => Value::String(s.to_lowercase()),
            Normalize::LineEndings => Value::String(s.replace("\r\n", "\n").replace('\r', "\n")),
            Normalize::BlankAsNull if s.trim().is_empty() => Value::Null,
            Normalize::BlankAsNull => Value::String(s),
            Normalize::DecimalInteger => {
                let t = s.trim();
                let digits = t.strip_prefix('+').unwrap_or(t);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    let canonical = digits.trim_start_matches('0');
                    Value::String(if canonical.is_empty() { "0" } else { canonical }.to_string())
                } else {
                    Value::String(s)
                }
            }
        }
    }
}

/// `v` with every rule of `rules` applied, in order.
pub fn normalized(rules: &[Normalize], v: &Value) -> Value {
    rules.iter().fold(v.clone(), |acc, r| r.apply(acc))
}

/// Whether `a` and `b` are the same value under `rules` (unknown is never the same).
pub fn equivalent(rules: &[Normalize], a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    if rules.is_empty() || a.is_unknown() || b.is_unknown() {
        return false;
    }
    normalized(rules, a) == normalized(rules, b)
}

/// How a computed value is planned when the resource changes in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnUpdate {
    /// The API may change it: "(known after apply)".
    Unknown,
    /// It never changes once set (ids, timestamps, types): the prior value is planned.
    KeepPrior,
}

#[derive(Clone)]
/// One attribute of a [`Schema`], with its behaviour as values; built with the methods below.
pub struct Attribute {
    /// The attribute's name, as configurations write it.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// For list-of-object attributes, the object's attributes (docs and descriptions).
    pub nested: Vec<Attribute>,
    /// The configuration must set it.
    pub required: bool,
    /// The configuration may set it.
    pub optional: bool,
    /// The provider may set it (with `optional`: when the configuration does not).
    pub computed: bool,
    /// Its value is shown as `(sensitive value)` and scrubbed from diagnostics and logs.
    pub sensitive: bool,
    /// Write-only (Terraform / OpenTofu >= 1.11): the configuration carries the value, and
    /// plan, state, read and import always hold null for it.
    pub write_only: bool,
    /// For a write-only attribute: the attribute that does the same job with every client
    /// (named in the error a client without write-only support gets).
    pub write_only_fallback: Option<String>,
    /// Markdown description, for Terraform and the docs.
    pub description: String,
    /// Why it is deprecated and what to use instead, when it is.
    pub deprecation: Option<String>,
    /// Changing it destroys and re-creates the object (RequiresReplace).
    pub force_new: bool,
    /// Planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// What a plan keeps of a computed value on update.
    pub on_update: OnUpdate,
    /// For computed-only attributes whose value is known before creation (always the
    /// same for this resource): planned on create instead of "(known after apply)".
    pub known_on_create: Option<Value>,
    /// Spelling differences that mean no change (see [`Normalize`]).
    pub normalize: Vec<Normalize>,
    /// The checks its configured value must pass.
    pub validators: Vec<Arc<dyn Validator>>,
    /// Environment variables, first set first, that give a provider attribute its value when
    /// the configuration leaves it null or blank; the framework applies them before the
    /// provider is configured (see `env::fill`).
    pub env: Vec<&'static str>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .field("sensitive", &self.sensitive)
            .field("write_only", &self.write_only)
            .field("force_new", &self.force_new)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    /// An attribute of type `ty`, with no presence set yet (see `required`, `optional`, `computed`).
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            nested: Vec::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            write_only_fallback: None,
            description: String::new(),
            deprecation: None,
            force_new: false,
            default: None,
            on_update: OnUpdate::Unknown,
            known_on_create: None,
            normalize: Vec::new(),
            validators: Vec::new(),
            env: Vec::new(),
        }
    }
    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }
    /// A bool attribute.
    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }
    /// A number attribute.
    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }
    /// A list of objects whose attributes are `nested`.
    pub fn list_of_objects(name: &str, nested: Vec<Attribute>) -> Self {
        let ty = Type::list(Type::Object(
            nested
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        ));
        Attribute {
            nested,
            ..Self::new(name, ty)
        }
    }

    /// The configuration must set it.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// The configuration may set it.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    /// The provider may set it.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    /// Sensitive: never shown, scrubbed from diagnostics and logs.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Write-only: never in plan or state. `fallback` names the attribute that clients
    /// without write-only support (Terraform / OpenTofu < 1.11) can use instead.
    pub fn write_only(mut self, fallback: &str) -> Self {
        self.write_only = true;
        self.write_only_fallback = Some(fallback.to_string());
        self
    }
    /// Changing it destroys and re-creates the object (RequiresReplace).
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    /// A default makes the attribute optional and computed: Terraform plans the default
    /// when the configuration leaves it out.
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self.optional = true;
        self.computed = true;
        self
    }
    /// A computed value that never changes after creation (UseStateForUnknown).
    pub fn stable(mut self) -> Self {
        self.on_update = OnUpdate::KeepPrior;
        self
    }
    /// A computed value that is always `v` for this resource: known at plan time.
    pub fn always(mut self, v: impl Into<Value>) -> Self {
        self.known_on_create = Some(v.into());
        self.on_update = OnUpdate::KeepPrior;
        self
    }
    /// Spellings that normalise alike under `rules` are the same value.
    pub fn normalize(mut self, rules: &[Normalize]) -> Self {
        self.normalize = rules.to_vec();
        self
    }
    /// Whether `a` and `b` are the same value of this attribute.
    pub fn equivalent(&self, a: &Value, b: &Value) -> bool {
        equivalent(&self.normalize, a, b)
    }
    /// Sets the Markdown description.
    pub fn describe(mut self, d: &str) -> Self {
        self.description = d.to_string();
        self
    }
    /// Marks it deprecated, with what to use instead.
    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecation = Some(message.to_string());
        self
    }
    /// Adds a validator of its configured value.
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    /// Environment variables (first set first) the framework reads when the configuration
    /// leaves this provider attribute null or blank.
    pub fn env(mut self, vars: &[&'static str]) -> Self {
        self.env = vars.to_vec();
        self
    }

    /// What Terraform is told of this attribute.
    pub fn wire(&self) -> wire::Attribute {
        wire::Attribute {
            name: self.name.clone(),
            ty: self.ty.clone(),
            nested: self.nested.iter().map(Attribute::wire).collect(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            write_only: self.write_only,
            description: self.description.clone(),
            deprecation: self.deprecation.clone(),
        }
    }
}

/// A block of attributes (the provider, a resource, a data source).
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The schema version stored with state; state of a lower version is migrated.
    pub version: i64,
    /// Markdown description, for Terraform and the docs.
    pub description: String,
    /// Why the whole resource is deprecated, when it is.
    pub deprecation: Option<String>,
    /// Its attributes, in the order the docs list them.
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// A schema of version 0.
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Self {
        Schema {
            version: 0,
            description: description.to_string(),
            deprecation: None,
            attributes,
        }
    }
    /// The object type of a value conforming to this schema.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }
    /// The attribute `name`, if the schema has it.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    /// The wire schema: this one without its behaviour.
    pub fn wire(&self) -> wire::Schema {
        wire::Schema {
            version: self.version,
            description: self.description.clone(),
            deprecation: self.deprecation.clone(),
            attributes: self.attributes.iter().map(Attribute::wire).collect(),
        }
    }
}

/// Every schema a provider serves.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchemas {
    /// The provider's own configuration.
    pub provider: Schema,
    /// The managed resources, by type name.
    pub resources: BTreeMap<String, Schema>,
    /// The data sources, by type name.
    pub data_sources: BTreeMap<String, Schema>,
}

impl ProviderSchemas {
    /// The wire schemas, as the protocol layer serves them.
    pub fn wire(&self) -> wire::ProviderSchemas {
        let all = |m: &BTreeMap<String, Schema>| {
            m.iter()
                .map(|(k, s)| (k.clone(), s.wire()))
                .collect::<BTreeMap<_, _>>()
        };
        wire::ProviderSchemas {
            provider: self.provider.wire(),
            resources: all(&self.resources),
            data_sources: all(&self.data_sources),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::validate::NotBlank;

    #[test]
    fn the_wire_schema_keeps_what_terraform_is_told_and_drops_the_behaviour() {
        let s = Schema::new(
            "S.",
            vec![
                Attribute::string("kind")
                    .default("a")
                    .force_new()
                    .validate(NotBlank)
                    .describe("K."),
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .env(&["X_TOKEN"]),
                Attribute::string("token_wo")
                    .optional()
                    .write_only("token")
                    .deprecated("D."),
                Attribute::list_of_objects("items", vec![Attribute::number("n").computed()])
                    .computed(),
            ],
        );
        let w = s.wire();
        assert_eq!(w.description, "S.");
        assert_eq!(w.value_type(), s.value_type());
        let kind = &w.attributes[0];
        assert!(kind.optional && kind.computed && !kind.required);
        assert_eq!(kind.description, "K.");
        assert!(w.attributes[1].sensitive);
        assert!(w.attributes[2].write_only);
        assert_eq!(w.attributes[2].deprecation.as_deref(), Some("D."));
        assert_eq!(w.attributes[3].nested[0].name, "n");
    }
}
