//! The wire schema: what Terraform is told of each attribute (type, presence, sensitivity,
//! write-only, description, deprecation), and nothing more. The adapters render it as
//! tfplugin5/6 schemas, the codec decodes values with its types, the redactor learns the
//! sensitive values by it. Behaviour (plan rules, validators, defaults) lives in the layer
//! above, which derives this schema from its own.

use std::collections::BTreeMap;

use super::value::Type;

#[derive(Clone, Debug)]
/// An attribute as Terraform is told it.
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// For list-of-object attributes, the object's attributes.
    pub nested: Vec<Attribute>,
    /// The configuration must set it.
    pub required: bool,
    /// The configuration may set it.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Its value is never shown.
    pub sensitive: bool,
    /// Write-only (Terraform / OpenTofu >= 1.11): the configuration carries the value, and
    /// plan, state, read and import always hold null for it.
    pub write_only: bool,
    /// Markdown description.
    pub description: String,
    /// Why it is deprecated, when it is.
    pub deprecation: Option<String>,
}

impl Attribute {
    /// An attribute of type `ty`, with no presence set yet (see `required`, `optional`).
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
            description: String::new(),
            deprecation: None,
        }
    }
    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
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
    /// Its value is never shown.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Configured, never stored in plan or state.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
}

/// A block of attributes (the provider, a resource, a data source).
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The schema version.
    pub version: i64,
    /// Markdown description.
    pub description: String,
    /// Why it is deprecated, when it is.
    pub deprecation: Option<String>,
    /// Its attributes.
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
}

/// Every schema a provider serves.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchemas {
    /// The provider configuration's schema.
    pub provider: Schema,
    /// The managed resources' schemas, by type name.
    pub resources: BTreeMap<String, Schema>,
    /// The data sources' schemas, by type name.
    pub data_sources: BTreeMap<String, Schema>,
}
