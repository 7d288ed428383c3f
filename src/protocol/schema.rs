//! The wire schema: what Terraform is told of each attribute (type, presence, sensitivity,
//! write-only, description, deprecation), and nothing more. The adapters render it as
//! tfplugin5/6 schemas, the codec decodes values with its types, the redactor learns the
//! sensitive values by it. Behaviour (plan rules, validators, defaults) lives in the layer
//! above, which derives this schema from its own.

use std::collections::BTreeMap;

use super::value::Type;

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// For list-of-object attributes, the object's attributes.
    pub nested: Vec<Attribute>,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Write-only (Terraform / OpenTofu >= 1.11): the configuration carries the value, and
    /// plan, state, read and import always hold null for it.
    pub write_only: bool,
    pub description: String,
    pub deprecation: Option<String>,
}

impl Attribute {
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
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
}

/// A block of attributes (the provider, a resource, a data source).
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub version: i64,
    pub description: String,
    pub deprecation: Option<String>,
    pub attributes: Vec<Attribute>,
}

impl Schema {
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
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// Every schema a provider serves.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchemas {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
}
