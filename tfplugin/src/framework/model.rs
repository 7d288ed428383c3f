//! Typed Rust structs for Terraform objects: `Val<T>` (known, null or unknown), the
//! `TfValue` conversion trait, `Sensitive` strings, and the `tf_model!` macro that derives
//! the conversion for a struct whose field names are the attribute names. Resources work on
//! these structs and never touch `Value` or msgpack.

use std::collections::BTreeMap;
use std::fmt;

use crate::protocol::diag::{AttributePath, Diagnostic};
use crate::protocol::value::{Number, Value};

/// Conversion between a Rust type and a Terraform value.
pub trait TfValue: Sized {
    /// Decodes a Terraform value; an error names the attribute at `path`.
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic>;
    /// Encodes this as a Terraform value.
    fn to_value(&self) -> Value;
}

fn mismatch(path: &AttributePath, want: &str, got: &Value) -> Diagnostic {
    Diagnostic::error(
        "Unexpected value type",
        format!(
            "Expected {want}, got {}. This is a bug in the provider; please report it.",
            got.kind()
        ),
    )
    .at(path.clone())
}

/// An attribute value: known, null, or unknown until apply.
#[derive(Clone, Default, PartialEq)]
pub enum Val<T> {
    #[default]
    /// Null: not set.
    Null,
    /// Not known until apply.
    Unknown,
    /// A known value.
    Known(T),
}

impl<T> Val<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Val::Known(t) => Some(t),
            _ => None,
        }
    }
    /// The value, when known, taken.
    pub fn into_known(self) -> Option<T> {
        match self {
            Val::Known(t) => Some(t),
            _ => None,
        }
    }
    /// Whether it is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
    /// Whether it is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Val::Unknown)
    }
}

impl<T> From<Option<T>> for Val<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Val::Null, Val::Known)
    }
}

impl<T: fmt::Debug> fmt::Debug for Val<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Null => f.write_str("null"),
            Val::Unknown => f.write_str("<unknown>"),
            Val::Known(t) => t.fmt(f),
        }
    }
}

impl<T: TfValue> TfValue for Val<T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        Ok(match v {
            Value::Null => Val::Null,
            Value::Unknown => Val::Unknown,
            v => Val::Known(T::from_value(v, path)?),
        })
    }
    fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Unknown => Value::Unknown,
            Val::Known(t) => t.to_value(),
        }
    }
}

impl TfValue for String {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| mismatch(path, "a string", v))
    }
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl TfValue for bool {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        v.as_bool().ok_or_else(|| mismatch(path, "a bool", v))
    }
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl TfValue for i64 {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::Number(n) => n.as_i64().ok_or_else(|| {
                Diagnostic::error(
                    "Invalid number",
                    format!("Expected a whole number, got {n}."),
                )
                .at(path.clone())
            }),
            v => Err(mismatch(path, "a number", v)),
        }
    }
    fn to_value(&self) -> Value {
        Value::Number(Number::Int(*self))
    }
}

impl<T: TfValue> TfValue for Vec<T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| T::from_value(x, &path.push_index(i as i64)))
                .collect(),
            v => Err(mismatch(path, "a list", v)),
        }
    }
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(TfValue::to_value).collect())
    }
}

impl<T: TfValue> TfValue for BTreeMap<String, T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::Map(m) | Value::Object(m) => m
                .iter()
                .map(|(k, x)| Ok((k.clone(), T::from_value(x, &path.push_key(k.clone()))?)))
                .collect(),
            v => Err(mismatch(path, "a map", v)),
        }
    }
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        )
    }
}

/// Sensitive attributes are [`Secret`](crate::secret::Secret)s: redacted in `Debug`.
pub use crate::secret::Secret as Sensitive;

impl TfValue for Sensitive {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        v.as_str()
            .map(Sensitive::new)
            .ok_or_else(|| mismatch(path, "a string", v))
    }
    fn to_value(&self) -> Value {
        Value::String(self.expose().to_string())
    }
}

/// Declares a struct whose fields map one-to-one onto a schema's attributes (field name =
/// attribute name) and implements [`TfValue`] for it.
#[macro_export]
macro_rules! tf_model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        impl $crate::framework::model::TfValue for $name {
            fn from_value(
                v: &$crate::framework::Value,
                path: &$crate::framework::AttributePath,
            ) -> Result<Self, $crate::framework::Diagnostic> {
                match v {
                    $crate::framework::Value::Object(_) => Ok(Self {
                        $( $field: <$ty as $crate::framework::model::TfValue>::from_value(
                            v.get(stringify!($field)),
                            &path.push_attr(stringify!($field)),
                        )? ),*
                    }),
                    other => Err($crate::framework::Diagnostic::error(
                        "Unexpected value type",
                        format!("Expected an object, got {}.", other.kind()),
                    ).at(path.clone())),
                }
            }
            fn to_value(&self) -> $crate::framework::Value {
                $crate::framework::Value::object([
                    $( (stringify!($field), $crate::framework::model::TfValue::to_value(&self.$field)) ),*
                ])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::tf_model! {
        struct Inner { x: Val<String> }
    }
    crate::tf_model! {
        struct Outer {
            name: Val<String>,
            count: Val<i64>,
            on: Val<bool>,
            secret: Val<Sensitive>,
            items: Val<Vec<Inner>>,
            tags: Val<BTreeMap<String, String>>,
        }
    }

    #[test]
    fn models_round_trip_through_values_with_null_and_unknown() {
        let m = Outer {
            name: Val::Known("a".into()),
            count: Val::Unknown,
            on: Val::Null,
            secret: Val::Known(Sensitive::new("s3cret")),
            items: Val::Known(vec![Inner {
                x: Val::Known("y".into()),
            }]),
            tags: Val::Known([("k".to_string(), "v".to_string())].into()),
        };
        let v = m.to_value();
        assert_eq!(v.get("count"), &Value::Unknown);
        assert_eq!(Outer::from_value(&v, &AttributePath::root()).unwrap(), m);
    }

    #[test]
    fn debug_of_a_model_redacts_sensitive_fields() {
        let m = Outer {
            secret: Val::Known(Sensitive::new("s3cret-token")),
            ..Default::default()
        };
        let d = format!("{m:?}");
        assert!(!d.contains("s3cret-token"), "{d}");
        assert!(d.contains("[REDACTED]"));
    }

    #[test]
    fn type_mismatch_names_the_attribute() {
        let v = Value::object([("count", Value::from("x"))]);
        let e = Outer::from_value(&v, &AttributePath::root()).unwrap_err();
        assert_eq!(e.attribute.unwrap().to_string(), "count");
    }
}
