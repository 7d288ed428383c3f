//! DynamicValue codec: cty's msgpack encoding (what Terraform sends and expects) and its
//! JSON encoding (raw state in UpgradeResourceState, `DynamicValue.json`), both driven by
//! the schema type. Hostile input yields an error naming the attribute path, never a panic
//! and never an allocation larger than the input.

use std::collections::BTreeMap;

use rmp::Marker;
use serde_json::Value as J;

use super::diag::AttributePath;
use super::value::{Number, Type, Value};

/// Why a value could not be decoded or encoded, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CodecError {
    /// Where in the value.
    pub path: AttributePath,
    /// What was wrong.
    pub message: String,
}

fn err<T>(path: &AttributePath, message: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError {
        path: path.clone(),
        message: message.into(),
    })
}

/// cty's marker for an unknown value: fixext1, extension type 0, payload 0.
const UNKNOWN: [u8; 3] = [0xd4, 0, 0];
/// Nesting limit for `dynamic` values, whose depth the schema does not bound.
const MAX_DEPTH: usize = 64;

// ---------------------------------------------------------------------------------------
// msgpack

/// Decodes cty msgpack bytes as a value of type `ty`.
pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut rd = bytes;
    let v = decode(&mut rd, ty, &AttributePath::root(), 0)?;
    if !rd.is_empty() {
        return err(
            &AttributePath::root(),
            format!("{} trailing bytes after value", rd.len()),
        );
    }
    Ok(v)
}

/// Encodes a value of type `ty` in cty msgpack.
pub fn to_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(256);
    encode(&mut out, v, ty, &AttributePath::root())?;
    Ok(out)
}

fn take<'a>(rd: &mut &'a [u8], n: usize, path: &AttributePath) -> Result<&'a [u8], CodecError> {
    if rd.len() < n {
        return err(path, "unexpected end of msgpack data");
    }
    let (head, tail) = rd.split_at(n);
    *rd = tail;
    Ok(head)
}

fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
}

fn read_len(rd: &mut &[u8], bytes: usize, path: &AttributePath) -> Result<usize, CodecError> {
    let n = be_uint(take(rd, bytes, path)?);
    usize::try_from(n).or_else(|_| err(path, "length out of range"))
}

/// Reads a length prefix and checks that the remaining input could hold that many items
/// of at least `min_item` bytes each, so a forged length cannot trigger a huge allocation.
fn checked_len(
    rd: &[u8],
    len: usize,
    min_item: usize,
    path: &AttributePath,
) -> Result<usize, CodecError> {
    if len.saturating_mul(min_item) > rd.len() {
        return err(path, format!("length {len} exceeds the remaining input"));
    }
    Ok(len)
}

fn read_str<'a>(rd: &mut &'a [u8], m: Marker, path: &AttributePath) -> Result<&'a str, CodecError> {
    let len = match m {
        Marker::FixStr(n) => n as usize,
        Marker::Str8 | Marker::Bin8 => read_len(rd, 1, path)?,
        Marker::Str16 | Marker::Bin16 => read_len(rd, 2, path)?,
        Marker::Str32 | Marker::Bin32 => read_len(rd, 4, path)?,
        other => return err(path, format!("expected a string, found msgpack {other:?}")),
    };
    let b = take(rd, len, path)?;
    std::str::from_utf8(b).or_else(|_| err(path, "string is not valid UTF-8"))
}

fn read_array_len(
    rd: &mut &[u8],
    m: Marker,
    path: &AttributePath,
) -> Result<Option<usize>, CodecError> {
    Ok(Some(match m {
        Marker::FixArray(n) => n as usize,
        Marker::Array16 => read_len(rd, 2, path)?,
        Marker::Array32 => read_len(rd, 4, path)?,
        _ => return Ok(None),
    }))
}

fn read_map_len(
    rd: &mut &[u8],
    m: Marker,
    path: &AttributePath,
) -> Result<Option<usize>, CodecError> {
    Ok(Some(match m {
        Marker::FixMap(n) => n as usize,
        Marker::Map16 => read_len(rd, 2, path)?,
        Marker::Map32 => read_len(rd, 4, path)?,
        _ => return Ok(None),
    }))
}

fn read_marker(rd: &mut &[u8], path: &AttributePath) -> Result<Marker, CodecError> {
    let b = take(rd, 1, path)?;
    Ok(Marker::from_u8(b[0]))
}

/// Skips an extension payload (cty uses extensions for unknown values, with or without
/// refinements); returns true when the marker was an extension.
fn skip_ext(rd: &mut &[u8], m: Marker, path: &AttributePath) -> Result<bool, CodecError> {
    let len = match m {
        Marker::FixExt1 => 1,
        Marker::FixExt2 => 2,
        Marker::FixExt4 => 4,
        Marker::FixExt8 => 8,
        Marker::FixExt16 => 16,
        Marker::Ext8 => read_len(rd, 1, path)?,
        Marker::Ext16 => read_len(rd, 2, path)?,
        Marker::Ext32 => read_len(rd, 4, path)?,
        _ => return Ok(false),
    };
    take(rd, 1 + len, path)?; // type byte + payload
    Ok(true)
}

fn decode_number(rd: &mut &[u8], m: Marker, path: &AttributePath) -> Result<Number, CodecError> {
    let n = match m {
        Marker::FixPos(n) => Number::Int(i64::from(n)),
        Marker::FixNeg(n) => Number::Int(i64::from(n)),
        Marker::U8 => Number::Int(be_uint(take(rd, 1, path)?) as i64),
        Marker::U16 => Number::Int(be_uint(take(rd, 2, path)?) as i64),
        Marker::U32 => Number::Int(be_uint(take(rd, 4, path)?) as i64),
        Marker::U64 => {
            let u = be_uint(take(rd, 8, path)?);
            i64::try_from(u).map_or(Number::Float(u as f64), Number::Int)
        }
        Marker::I8 => Number::Int(i64::from(take(rd, 1, path)?[0] as i8)),
        Marker::I16 => Number::Int(i64::from(be_uint(take(rd, 2, path)?) as u16 as i16)),
        Marker::I32 => Number::Int(i64::from(be_uint(take(rd, 4, path)?) as u32 as i32)),
        Marker::I64 => Number::Int(be_uint(take(rd, 8, path)?) as i64),
        Marker::F32 => Number::Float(f64::from(
            f32::from_bits(be_uint(take(rd, 4, path)?) as u32),
        )),
        Marker::F64 => Number::Float(f64::from_bits(be_uint(take(rd, 8, path)?))),
        // cty writes numbers that fit neither int64 nor float64 exactly as decimal strings.
        m @ (Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32) => {
            parse_number(read_str(rd, m, path)?).ok_or_else(|| CodecError {
                path: path.clone(),
                message: "string is not a number".into(),
            })?
        }
        other => return err(path, format!("expected a number, found msgpack {other:?}")),
    };
    if let Number::Float(f) = n
        && !f.is_finite()
    {
        return err(path, "number is not finite");
    }
    Ok(n)
}

fn parse_number(s: &str) -> Option<Number> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::Int(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Number::Float)
}

fn decode(
    rd: &mut &[u8],
    ty: &Type,
    path: &AttributePath,
    depth: usize,
) -> Result<Value, CodecError> {
    if depth > MAX_DEPTH {
        return err(path, "value nested too deeply");
    }
    let m = read_marker(rd, path)?;
    if m == Marker::Null {
        return Ok(Value::Null);
    }
    if skip_ext(rd, m, path)? {
        return Ok(Value::Unknown);
    }
    match ty {
        Type::Bool => match m {
            Marker::True => Ok(Value::Bool(true)),
            Marker::False => Ok(Value::Bool(false)),
            other => err(path, format!("expected a bool, found msgpack {other:?}")),
        },
        Type::Number => Ok(Value::Number(decode_number(rd, m, path)?)),
        Type::String => Ok(Value::String(read_str(rd, m, path)?.to_string())),
        Type::List(et) | Type::Set(et) => {
            let Some(len) = read_array_len(rd, m, path)? else {
                return err(path, format!("expected an array, found msgpack {m:?}"));
            };
            let len = checked_len(rd, len, 1, path)?;
            let mut items = Vec::with_capacity(len);
            for i in 0..len {
                items.push(decode(rd, et, &path.push_index(i as i64), depth + 1)?);
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        Type::Tuple(ets) => {
            let Some(len) = read_array_len(rd, m, path)? else {
                return err(path, format!("expected an array, found msgpack {m:?}"));
            };
            if len != ets.len() {
                return err(
                    path,
                    format!("tuple has {len} elements, expected {}", ets.len()),
                );
            }
            let items = ets
                .iter()
                .enumerate()
                .map(|(i, et)| decode(rd, et, &path.push_index(i as i64), depth + 1))
                .collect::<Result<_, _>>()?;
            Ok(Value::Tuple(items))
        }
        Type::Map(et) => {
            let Some(len) = read_map_len(rd, m, path)? else {
                return err(path, format!("expected a map, found msgpack {m:?}"));
            };
            let len = checked_len(rd, len, 2, path)?;
            let mut out = BTreeMap::new();
            for _ in 0..len {
                let km = read_marker(rd, path)?;
                let k = read_str(rd, km, path)?.to_string();
                let v = decode(rd, et, &path.push_key(k.clone()), depth + 1)?;
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Some(len) = read_map_len(rd, m, path)? else {
                return err(path, format!("expected an object, found msgpack {m:?}"));
            };
            let len = checked_len(rd, len, 2, path)?;
            let mut out = BTreeMap::new();
            for _ in 0..len {
                let km = read_marker(rd, path)?;
                let k = read_str(rd, km, path)?;
                let Some(at) = attrs.get(k) else {
                    return err(path, format!("unsupported attribute {k:?}"));
                };
                let k = k.to_string();
                let v = decode(rd, at, &path.push_attr(k.clone()), depth + 1)?;
                out.insert(k, v);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            // A dynamic value travels as [type as JSON, value].
            match read_array_len(rd, m, path)? {
                Some(2) => {}
                _ => return err(path, "dynamic value must be a [type, value] pair"),
            }
            let tm = read_marker(rd, path)?;
            let tjson = read_str(rd, tm, path)?;
            let parsed: J =
                serde_json::from_str(tjson).or_else(|e| err(path, format!("bad type: {e}")))?;
            let Some(vt) = Type::from_json(&parsed) else {
                return err(path, "unsupported dynamic type");
            };
            decode(rd, &vt, path, depth + 1)
        }
    }
}

fn encode(out: &mut Vec<u8>, v: &Value, ty: &Type, path: &AttributePath) -> Result<(), CodecError> {
    // Writing to a Vec cannot fail; rmp's Result is only about the writer.
    fn w<T, E>(r: Result<T, E>) {
        let _ = r;
    }
    match (v, ty) {
        (Value::Null, _) => w(rmp::encode::write_nil(out)),
        (Value::Unknown, _) => out.extend_from_slice(&UNKNOWN),
        (_, Type::Dynamic) => {
            return err(path, "dynamic values are not supported by this provider");
        }
        (Value::Bool(b), Type::Bool) => w(rmp::encode::write_bool(out, *b)),
        (Value::Number(Number::Int(i)), Type::Number) => w(rmp::encode::write_sint(out, *i)),
        (Value::Number(Number::Float(f)), Type::Number) => w(rmp::encode::write_f64(out, *f)),
        (Value::String(s), Type::String) => w(rmp::encode::write_str(out, s)),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            w(rmp::encode::write_array_len(out, len32(items.len(), path)?));
            for (i, item) in items.iter().enumerate() {
                encode(out, item, et, &path.push_index(i as i64))?;
            }
        }
        (Value::Tuple(items), Type::Tuple(ets)) if items.len() == ets.len() => {
            w(rmp::encode::write_array_len(out, len32(items.len(), path)?));
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                encode(out, item, et, &path.push_index(i as i64))?;
            }
        }
        (Value::Map(m), Type::Map(et)) => {
            w(rmp::encode::write_map_len(out, len32(m.len(), path)?));
            for (k, item) in m {
                w(rmp::encode::write_str(out, k));
                encode(out, item, et, &path.push_key(k.clone()))?;
            }
        }
        (Value::Object(m), Type::Object(attrs)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return err(
                    path,
                    format!("value has attribute {extra:?} that the schema lacks"),
                );
            }
            w(rmp::encode::write_map_len(out, len32(attrs.len(), path)?));
            for (name, at) in attrs {
                w(rmp::encode::write_str(out, name));
                let item = m.get(name).unwrap_or(&Value::Null);
                encode(out, item, at, &path.push_attr(name.clone()))?;
            }
        }
        (v, ty) => return err(path, format!("a {} value does not fit type {ty}", v.kind())),
    }
    Ok(())
}

fn len32(n: usize, path: &AttributePath) -> Result<u32, CodecError> {
    u32::try_from(n).or_else(|_| err(path, "collection too large"))
}

// ---------------------------------------------------------------------------------------
// JSON

/// How to treat object attributes the type does not know (raw state written by an older
/// schema or by another provider keeps attributes this one dropped).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UnknownAttrs {
    /// An unknown attribute is an error.
    Reject,
    /// Unknown attributes are dropped.
    Ignore,
}

/// Decodes cty JSON bytes as a value of type `ty`. JSON cannot carry unknown values.
pub fn from_json(bytes: &[u8], ty: &Type, extra: UnknownAttrs) -> Result<Value, CodecError> {
    let j: J = serde_json::from_slice(bytes)
        .or_else(|e| err(&AttributePath::root(), format!("invalid JSON: {e}")))?;
    from_json_value(&j, ty, extra, &AttributePath::root())
}

/// Decodes an already parsed cty JSON value as type `ty`.
pub fn from_json_value(
    j: &J,
    ty: &Type,
    extra: UnknownAttrs,
    path: &AttributePath,
) -> Result<Value, CodecError> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    match (ty, j) {
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        // cty's JSON decoder accepts strings for primitives, as Terraform's legacy state did.
        (Type::Bool, J::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (Type::Number, J::Number(n)) => n
            .as_i64()
            .map(Number::Int)
            .or_else(|| n.as_f64().map(Number::Float))
            .map(Value::Number)
            .ok_or_else(|| CodecError {
                path: path.clone(),
                message: "number out of range".into(),
            }),
        (Type::Number, J::String(s)) => {
            parse_number(s)
                .map(Value::Number)
                .ok_or_else(|| CodecError {
                    path: path.clone(),
                    message: "string is not a number".into(),
                })
        }
        (Type::String, J::String(s)) => Ok(Value::String(s.clone())),
        (Type::String, J::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, J::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::List(et) | Type::Set(et), J::Array(a)) => {
            let items = a
                .iter()
                .enumerate()
                .map(|(i, x)| from_json_value(x, et, extra, &path.push_index(i as i64)))
                .collect::<Result<_, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        (Type::Tuple(ets), J::Array(a)) if a.len() == ets.len() => Ok(Value::Tuple(
            a.iter()
                .zip(ets)
                .enumerate()
                .map(|(i, (x, et))| from_json_value(x, et, extra, &path.push_index(i as i64)))
                .collect::<Result<_, _>>()?,
        )),
        (Type::Map(et), J::Object(o)) => Ok(Value::Map(
            o.iter()
                .map(|(k, x)| {
                    Ok((
                        k.clone(),
                        from_json_value(x, et, extra, &path.push_key(k.clone()))?,
                    ))
                })
                .collect::<Result<_, CodecError>>()?,
        )),
        (Type::Object(attrs), J::Object(o)) => {
            let mut out = BTreeMap::new();
            for (k, x) in o {
                match attrs.get(k) {
                    Some(at) => {
                        out.insert(
                            k.clone(),
                            from_json_value(x, at, extra, &path.push_attr(k.clone()))?,
                        );
                    }
                    None if extra == UnknownAttrs::Ignore => {}
                    None => return err(path, format!("unsupported attribute {k:?}")),
                }
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, J::Object(o)) => {
            let (Some(t), Some(v)) = (o.get("type"), o.get("value")) else {
                return err(path, "dynamic value must be {\"type\":..,\"value\":..}");
            };
            let Some(vt) = Type::from_json(t) else {
                return err(path, "unsupported dynamic type");
            };
            from_json_value(v, &vt, extra, path)
        }
        (ty, _) => err(path, format!("JSON value does not fit type {ty}")),
    }
}

/// Encodes a wholly known value as cty JSON.
pub fn to_json(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let j = to_json_value(v, ty, &AttributePath::root())?;
    serde_json::to_vec(&j).or_else(|e| err(&AttributePath::root(), e.to_string()))
}

fn to_json_value(v: &Value, ty: &Type, path: &AttributePath) -> Result<J, CodecError> {
    Ok(match (v, ty) {
        (Value::Null, _) => J::Null,
        (Value::Unknown, _) => return err(path, "unknown values cannot be written as JSON"),
        (Value::Bool(b), Type::Bool) => J::Bool(*b),
        (Value::Number(Number::Int(i)), Type::Number) => J::from(*i),
        (Value::Number(Number::Float(f)), Type::Number) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| CodecError {
                path: path.clone(),
                message: "number is not finite".into(),
            })?,
        (Value::String(s), Type::String) => J::String(s.clone()),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_json_value(x, et, &path.push_index(i as i64)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Tuple(items), Type::Tuple(ets)) if items.len() == ets.len() => J::Array(
            items
                .iter()
                .zip(ets)
                .enumerate()
                .map(|(i, (x, et))| to_json_value(x, et, &path.push_index(i as i64)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Map(m), Type::Map(et)) => J::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), to_json_value(x, et, &path.push_key(k.clone()))?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Value::Object(m), Type::Object(attrs)) => J::Object(
            attrs
                .iter()
                .map(|(k, at)| {
                    let x = m.get(k).unwrap_or(&Value::Null);
                    Ok((k.clone(), to_json_value(x, at, &path.push_attr(k.clone()))?))
                })
                .collect::<Result<_, CodecError>>()?,
        ),
        (v, ty) => return err(path, format!("a {} value does not fit type {ty}", v.kind())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> Type {
        Type::object([
            ("b", Type::Bool),
            ("n", Type::Number),
            ("s", Type::String),
            ("l", Type::list(Type::String)),
            ("set", Type::set(Type::Number)),
            ("m", Type::map(Type::Bool)),
            ("t", Type::Tuple(vec![Type::String, Type::Number])),
            (
                "o",
                Type::list(Type::object([("x", Type::String), ("y", Type::Number)])),
            ),
        ])
    }

    fn sample() -> Value {
        Value::object([
            ("b", Value::Bool(true)),
            ("n", Value::Number(Number::Float(1.5))),
            ("s", Value::string("héllo")),
            (
                "l",
                Value::List(vec![Value::from("a"), Value::Null, Value::Unknown]),
            ),
            (
                "set",
                Value::Set(vec![Value::int(-1), Value::int(300), Value::int(i64::MAX)]),
            ),
            (
                "m",
                Value::Map([("k".to_string(), Value::Bool(false))].into()),
            ),
            ("t", Value::Tuple(vec![Value::from("x"), Value::int(2)])),
            (
                "o",
                Value::List(vec![Value::object([
                    ("x", Value::Unknown),
                    ("y", Value::int(-70000)),
                ])]),
            ),
        ])
    }

    #[test]
    fn msgpack_round_trips_every_type_with_null_and_unknown() {
        let ty = every_type();
        let v = sample();
        let bytes = to_msgpack(&v, &ty).unwrap();
        assert_eq!(from_msgpack(&bytes, &ty).unwrap(), v);
        for special in [Value::Null, Value::Unknown] {
            let b = to_msgpack(&special, &ty).unwrap();
            assert_eq!(from_msgpack(&b, &ty).unwrap(), special);
        }
    }

    #[test]
    fn msgpack_unknown_is_ctys_extension_and_refined_unknowns_decode() {
        assert_eq!(
            to_msgpack(&Value::Unknown, &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
        // cty >= 1.13 writes refined unknowns as extension type 12 with a payload.
        let refined = [0xc7, 3, 12, 0x81, 0x01, 0xc3];
        assert_eq!(
            from_msgpack(&refined, &Type::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn msgpack_numbers_accept_every_integer_width_floats_and_decimal_strings() {
        let cases: Vec<(Vec<u8>, Value)> = vec![
            (vec![0x05], Value::int(5)),
            (vec![0xff], Value::int(-1)),
            (vec![0xcc, 200], Value::int(200)),
            (vec![0xd0, 0x80], Value::int(-128)),
            (vec![0xcd, 1, 0], Value::int(256)),
            (vec![0xd1, 0xff, 0x00], Value::int(-256)),
            (vec![0xce, 0, 1, 0, 0], Value::int(65536)),
            (vec![0xd2, 0xff, 0xff, 0, 0], Value::int(-65536)),
            (vec![0xcf, 0, 0, 0, 1, 0, 0, 0, 0], Value::int(1 << 32)),
            (
                vec![0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
                Value::int(-(1 << 32)),
            ),
            (
                vec![0xca, 0x3f, 0xc0, 0, 0],
                Value::Number(Number::Float(1.5)),
            ),
            (
                [vec![0xcb], 2.25f64.to_be_bytes().to_vec()].concat(),
                Value::Number(Number::Float(2.25)),
            ),
            ([vec![0xa2], b"42".to_vec()].concat(), Value::int(42)),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                from_msgpack(&bytes, &Type::Number).unwrap(),
                want,
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn msgpack_errors_name_the_attribute_path() {
        let ty = Type::object([("o", Type::list(Type::object([("x", Type::String)])))]);
        // {"o": [{"x": 5}]}
        let bytes = [0x81, 0xa1, b'o', 0x91, 0x81, 0xa1, b'x', 0x05];
        let e = from_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(e.path.to_string(), "o[0].x");
        assert!(e.message.contains("expected a string"), "{e}");
    }

    #[test]
    fn msgpack_rejects_forged_lengths_without_allocating() {
        // array32 claiming 4 billion elements, with nothing behind it
        let bytes = [0xdd, 0xff, 0xff, 0xff, 0xff];
        assert!(from_msgpack(&bytes, &Type::list(Type::String)).is_err());
        let bytes = [0xdf, 0xff, 0xff, 0xff, 0xff];
        assert!(from_msgpack(&bytes, &Type::map(Type::String)).is_err());
        assert!(from_msgpack(&[0xdb, 0xff, 0xff, 0xff, 0xff], &Type::String).is_err());
    }

    #[test]
    fn msgpack_rejects_trailing_bytes_and_unknown_attributes() {
        assert!(from_msgpack(&[0xc0, 0xc0], &Type::String).is_err());
        let ty = Type::object([("a", Type::String)]);
        let e = from_msgpack(&[0x81, 0xa1, b'z', 0xc0], &ty).unwrap_err();
        assert!(e.message.contains("\"z\""));
    }

    #[test]
    fn msgpack_object_fills_missing_attributes_with_null() {
        let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
        let v = from_msgpack(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap();
        assert_eq!(
            v,
            Value::object([("a", Value::from("x")), ("b", Value::Null)])
        );
    }

    #[test]
    fn msgpack_dynamic_values_carry_their_type() {
        let mut bytes = vec![0x92];
        rmp::encode::write_str(&mut bytes, "\"string\"").unwrap();
        rmp::encode::write_str(&mut bytes, "hi").unwrap();
        assert_eq!(
            from_msgpack(&bytes, &Type::Dynamic).unwrap(),
            Value::from("hi")
        );
    }

    #[test]
    fn json_round_trips_known_values() {
        let ty = every_type();
        let v = Value::object([
            ("b", Value::Bool(false)),
            ("n", Value::int(7)),
            ("s", Value::from("x")),
            ("l", Value::List(vec![])),
            ("set", Value::Null),
            ("m", Value::Map(Default::default())),
            ("t", Value::Null),
            (
                "o",
                Value::List(vec![Value::object([
                    ("x", Value::from("a")),
                    ("y", Value::Null),
                ])]),
            ),
        ]);
        let bytes = to_json(&v, &ty).unwrap();
        assert_eq!(from_json(&bytes, &ty, UnknownAttrs::Reject).unwrap(), v);
        assert!(to_json(&Value::Unknown, &ty).is_err());
    }

    #[test]
    fn json_raw_state_may_drop_attributes_the_schema_no_longer_has() {
        let ty = Type::object([("a", Type::String), ("n", Type::Number)]);
        let raw = br#"{"a":"x","n":"12","legacy":true}"#;
        assert!(from_json(raw, &ty, UnknownAttrs::Reject).is_err());
        let v = from_json(raw, &ty, UnknownAttrs::Ignore).unwrap();
        assert_eq!(
            v,
            Value::object([("a", Value::from("x")), ("n", Value::int(12))])
        );
    }

    #[test]
    fn encode_rejects_values_that_do_not_fit_the_type() {
        let e = to_msgpack(&Value::from("x"), &Type::Number).unwrap_err();
        assert!(e.message.contains("does not fit"));
        let ty = Type::object([("a", Type::String)]);
        assert!(to_msgpack(&Value::object([("zz", Value::Null)]), &ty).is_err());
    }
}
