//! Hostile input: property tests (proptest) over every decoder that reads bytes the
//! provider does not control — Terraform's DynamicValue msgpack and JSON, and GitLab's
//! response and error bodies.
//!
//! Properties: no panic on any input; garbage that is decidably invalid is an error, not a
//! value; well-typed values round-trip; and no decode allocates more than a bound linear
//! in its input (a forged length prefix must fail fast, not reserve gigabytes). The
//! allocation bound is measured with a per-thread counting global allocator.
//!
//! The case count is proptest's default (256 per property) so that CI stays fast; set
//! `PROPTEST_CASES` to run longer and `PROPTEST_RNG_SEED` to replay a run (see
//! docs/testing.md, "Fuzzing").

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value as J;
use terraform_provider_gitlab::gitlab::error::{Error, body_message};
use terraform_provider_gitlab::gitlab::types::Cluster;
use terraform_provider_gitlab::protocol::codec::{
    UnknownAttrs, from_json, from_msgpack, to_json, to_msgpack,
};
use terraform_provider_gitlab::protocol::value::{Number, Type, Value};

// ---------------------------------------------------------------------------------------
// Allocation accounting

/// The system allocator, counting this thread's live bytes and largest single request
/// while a [`measure`] is in progress.
struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            LIVE.with(|l| {
                let now = l.get() + size as isize;
                l.set(now);
                PEAK.with(|p| p.set(p.get().max(now)));
            });
            LARGEST.with(|m| m.set(m.get().max(size)));
        }
    });
}

fn note_free(size: usize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            LIVE.with(|l| l.set(l.get() - size as isize));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping only touches
// const-initialised thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note_alloc(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note_free(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note_free(layout.size());
            note_alloc(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap use of one call on this thread: the peak of bytes live at once (beyond what was
/// live before) and the largest single allocation.
#[derive(Debug, Clone, Copy)]
struct Usage {
    peak: usize,
    largest: usize,
}

fn measure<R>(f: impl FnOnce() -> R) -> (R, Usage) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    LARGEST.with(|m| m.set(0));
    ARMED.with(|a| a.set(true));
    let r = f();
    ARMED.with(|a| a.set(false));
    let usage = Usage {
        peak: PEAK.with(Cell::get).max(0) as usize,
        largest: LARGEST.with(Cell::get),
    };
    (r, usage)
}

/// What a decode of `input_len` bytes may use: 1 KiB per input byte (a one-byte msgpack
/// map header already makes a B-tree node of several hundred bytes) plus a fixed 256 KiB
/// for attribute paths at the nesting limit, error messages and the type's own attributes.
/// A forged 2^32-element header would need gigabytes.
fn budget(input_len: usize) -> usize {
    1024 * input_len + 256 * 1024
}

#[track_caller]
fn assert_within_budget(usage: Usage, input_len: usize, what: &str) {
    let b = budget(input_len);
    assert!(
        usage.peak <= b && usage.largest <= b,
        "{what}: {input_len} input bytes used {usage:?}, budget {b}"
    );
}

/// The instrument itself: a reservation the size a forged header would cause is seen, so
/// the budget assertions below cannot pass vacuously.
#[test]
fn allocation_accounting_sees_reservations_and_their_release() {
    let (v, usage) = measure(|| Vec::<u64>::with_capacity(1 << 20));
    assert!(usage.largest >= 8 << 20, "{usage:?}");
    assert!(usage.peak >= 8 << 20, "{usage:?}");
    drop(v);
    let (_, usage) = measure(|| drop(vec![0u8; 1 << 20]));
    assert!(
        usage.largest >= 1 << 20 && usage.peak >= 1 << 20,
        "{usage:?}"
    );
    let (_, usage) = measure(|| 1 + 1);
    assert_eq!((usage.largest, usage.peak), (0, 0));
}

// ---------------------------------------------------------------------------------------
// Strategies

fn config() -> ProptestConfig {
    ProptestConfig {
        // Regressions found are kept as explicit tests below, not in a side file.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Short attribute names from a small alphabet, so random and mutated inputs hit them.
fn attr_name() -> impl Strategy<Value = String> {
    "[a-c]{1,2}"
}

/// Random cty types, `dynamic` included, up to four levels deep.
fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map(attr_name(), inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

/// Numbers as values (`Number` itself has no `Debug`).
fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|i| Value::Number(Number::Int(i))),
        prop_oneof![Just(0i64), Just(-1), Just(i64::MIN), Just(i64::MAX)]
            .prop_map(|i| Value::Number(Number::Int(i))),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(Number::Float(f))),
    ]
}

/// A value of type `ty`: null, unknown (when `unknown`), or known. `dynamic` positions
/// hold only null or unknown: the provider encodes no dynamic values.
fn arb_value(ty: &Type, unknown: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::List(et) => prop::collection::vec(arb_value(et, unknown), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(et, unknown), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(et) => prop::collection::btree_map(any::<String>(), arb_value(et, unknown), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Tuple(ets) => ets
            .iter()
            .map(|t| arb_value(t, unknown))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object(attrs) => attrs
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                arb_value(t, unknown).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|kv| Value::Object(kv.into_iter().collect()))
            .boxed(),
        Type::Dynamic => Just(Value::Null).boxed(),
    };
    if unknown {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn typed_value(unknown: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |ty| {
        let v = arb_value(&ty, unknown);
        (Just(ty), v)
    })
}

/// Arbitrary JSON documents (as values), up to four levels deep.
fn arb_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(J::from),
        any::<String>().prop_map(J::String),
        "[a-z_]{0,12}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::btree_map(json_key(), inner, 0..5)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// Object keys: GitLab's own field names half of the time.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "name",
            "domain",
            "managed",
            "enabled",
            "environment_scope",
            "platform_kubernetes",
            "api_url",
            "ca_cert",
            "namespace",
            "user",
            "group",
            "management_project",
            "message",
            "error",
            "error_description",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

/// Damage done to a valid encoding: overwrite, insert or delete bytes, truncate, or splice
/// in a length header that claims far more than follows.
#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Truncate(prop::sample::Index),
    ForgedHeader(prop::sample::Index, u8),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec![0xdcu8, 0xdd, 0xde, 0xdf, 0xd9, 0xda, 0xdb, 0xc6, 0xc9]),
        )
            .prop_map(|(i, m)| Mutation::ForgedHeader(i, m)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len();
        match m {
            Mutation::Overwrite(i, b) if n > 0 => bytes[i.index(n)] = *b,
            Mutation::Insert(i, b) => bytes.insert(i.index(n + 1), *b),
            Mutation::Delete(i) if n > 0 => {
                bytes.remove(i.index(n));
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(n + 1)),
            Mutation::ForgedHeader(i, marker) => {
                let at = i.index(n + 1);
                // 16-bit headers claim 0xffff, 32-bit ones 0xffffffff (8-bit: 0xff).
                let width = match marker {
                    0xd9 | 0xc4 | 0xc7 => 1,
                    0xdc | 0xde | 0xda | 0xc5 | 0xc8 => 2,
                    _ => 4,
                };
                let header: Vec<u8> = std::iter::once(*marker)
                    .chain(std::iter::repeat_n(0xff, width))
                    .collect();
                bytes.splice(at..at, header);
            }
            _ => {}
        }
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// msgpack

proptest! {
    #![proptest_config(config())]

    /// Any bytes, any type: an error or a value, never a panic, within the memory budget.
    #[test]
    fn msgpack_decoder_survives_arbitrary_bytes_for_any_type(
        ty in arb_type(),
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let (_, usage) = measure(|| from_msgpack(&bytes, &ty));
        assert_within_budget(usage, bytes.len(), "from_msgpack");
    }

    /// Valid encodings with bytes overwritten, inserted, deleted, truncated or forged
    /// length headers spliced in: no panic, and memory stays linear in the input.
    #[test]
    fn msgpack_decoder_survives_damaged_encodings_within_memory_budget(
        (ty, v) in typed_value(true),
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        let bytes = mutate(to_msgpack(&v, &ty).unwrap(), &mutations);
        let (_, usage) = measure(|| from_msgpack(&bytes, &ty));
        assert_within_budget(usage, bytes.len(), "from_msgpack (damaged)");
    }

    /// Every well-typed value, with nulls and unknowns anywhere, decodes to itself.
    #[test]
    fn msgpack_round_trips_well_typed_values((ty, v) in typed_value(true)) {
        let bytes = to_msgpack(&v, &ty).unwrap();
        prop_assert_eq!(from_msgpack(&bytes, &ty).unwrap(), v);
    }

    /// Sets compare without order: the same set encoded in reverse order decodes equal.
    #[test]
    fn msgpack_sets_decode_equal_whatever_their_element_order((ty, v) in typed_value(true)) {
        let reversed = reverse_sets(&v);
        let bytes = to_msgpack(&reversed, &ty).unwrap();
        prop_assert_eq!(from_msgpack(&bytes, &ty).unwrap(), v);
    }

    /// msgpack values delimit themselves: a valid encoding with anything appended is
    /// rejected (trailing bytes), and so is every strict prefix of it.
    #[test]
    fn msgpack_trailing_bytes_and_truncations_are_errors(
        (ty, v) in typed_value(true),
        tail in prop::collection::vec(any::<u8>(), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = to_msgpack(&v, &ty).unwrap();
        let mut longer = bytes.clone();
        longer.extend_from_slice(&tail);
        prop_assert!(from_msgpack(&longer, &ty).is_err());
        let prefix = &bytes[..cut.index(bytes.len())];
        prop_assert!(from_msgpack(prefix, &ty).is_err(), "prefix {:?} decoded", prefix);
    }

    /// A known value of one primitive kind is never accepted as another: bools are not
    /// strings or numbers, strings are not bools, collections are not primitives.
    #[test]
    fn msgpack_kind_mismatches_are_errors(b in any::<bool>(), s in "[a-z]{0,8}") {
        let as_bool = to_msgpack(&Value::Bool(b), &Type::Bool).unwrap();
        prop_assert!(from_msgpack(&as_bool, &Type::String).is_err());
        prop_assert!(from_msgpack(&as_bool, &Type::Number).is_err());
        let as_str = to_msgpack(&Value::from(s.as_str()), &Type::String).unwrap();
        prop_assert!(from_msgpack(&as_str, &Type::Bool).is_err());
        prop_assert!(from_msgpack(&as_str, &Type::list(Type::String)).is_err());
        let list = Value::List(vec![Value::from(s.as_str())]);
        let as_list = to_msgpack(&list, &Type::list(Type::String)).unwrap();
        prop_assert!(from_msgpack(&as_list, &Type::String).is_err());
        prop_assert!(from_msgpack(&as_list, &Type::map(Type::String)).is_err());
    }
}

proptest! {
    #![proptest_config(config())]

    /// A `dynamic` value travels as [type JSON, value]: any well-typed value wrapped so
    /// decodes to itself.
    #[test]
    fn msgpack_dynamic_pairs_decode_to_the_value_they_carry((ty, v) in typed_value(true)) {
        let mut bytes = vec![0x92];
        rmp::encode::write_str(&mut bytes, &ty.to_json().to_string()).unwrap();
        bytes.extend(to_msgpack(&v, &ty).unwrap());
        prop_assert_eq!(from_msgpack(&bytes, &Type::Dynamic).unwrap(), v);
    }

    /// cty's JSON type notation: every type reads back as itself, and arbitrary JSON is
    /// a type or not, without panicking.
    #[test]
    fn type_notation_round_trips_and_survives_arbitrary_json(ty in arb_type(), doc in arb_json()) {
        prop_assert_eq!(Type::from_json(&ty.to_json()), Some(ty));
        let _ = Type::from_json(&doc);
    }
}

fn reverse_sets(v: &Value) -> Value {
    match v {
        Value::Set(items) => Value::Set(items.iter().rev().map(reverse_sets).collect()),
        Value::List(items) => Value::List(items.iter().map(reverse_sets).collect()),
        Value::Tuple(items) => Value::Tuple(items.iter().map(reverse_sets).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), reverse_sets(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), reverse_sets(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

// Explicit regressions for forged lengths: each must fail at once, with memory bounded by
// the (tiny) input, not by the length it claims.

fn forged(header: &[u8], follow: usize) -> Vec<u8> {
    let mut b = header.to_vec();
    b.extend(std::iter::repeat_n(0xc0, follow)); // nils behind the header
    b
}

#[test]
fn msgpack_array_headers_claiming_four_billion_elements_fail_fast() {
    let types = [
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::list(Type::Dynamic),
        Type::Tuple(vec![Type::String; 3]),
    ];
    for ty in &types {
        for follow in [0, 1, 100, 4096] {
            for header in [&[0xdd, 0xff, 0xff, 0xff, 0xff][..], &[0xdc, 0xff, 0xff]] {
                let input = forged(header, follow);
                let (r, usage) = measure(|| from_msgpack(&input, ty));
                assert!(r.is_err(), "{ty}: {header:x?} + {follow} accepted");
                assert_within_budget(usage, input.len(), "forged array header");
            }
        }
    }
}

#[test]
fn msgpack_map_headers_claiming_four_billion_entries_fail_fast() {
    for ty in [Type::map(Type::String), Type::object([("a", Type::String)])] {
        for follow in [0, 1, 100, 4096] {
            for header in [&[0xdf, 0xff, 0xff, 0xff, 0xff][..], &[0xde, 0xff, 0xff]] {
                let input = forged(header, follow);
                let (r, usage) = measure(|| from_msgpack(&input, &ty));
                assert!(r.is_err(), "{ty}: {header:x?} + {follow} accepted");
                assert_within_budget(usage, input.len(), "forged map header");
            }
        }
    }
}

#[test]
fn msgpack_string_binary_and_extension_lengths_beyond_the_input_fail_fast() {
    for header in [
        &[0xdb, 0xff, 0xff, 0xff, 0xff][..], // str32
        &[0xc6, 0xff, 0xff, 0xff, 0xff],     // bin32
        &[0xda, 0xff, 0xff],                 // str16
        &[0xd9, 0xff],                       // str8
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0],  // ext32 (an "unknown" with a huge payload)
        &[0xc8, 0xff, 0xff, 0],              // ext16
    ] {
        for ty in [Type::String, Type::Number, Type::list(Type::String)] {
            let input = forged(header, 16);
            let (r, usage) = measure(|| from_msgpack(&input, &ty));
            assert!(r.is_err(), "{ty}: {header:x?} accepted");
            assert_within_budget(usage, input.len(), "forged string header");
        }
    }
}

/// A dynamic value names its own type in JSON; a type nested far beyond anything the
/// provider declares, or a value nested beyond the decoder's limit, is an error — not a
/// stack overflow.
#[test]
fn msgpack_dynamic_values_nested_beyond_the_limit_are_errors_not_stack_overflows() {
    for depth in [10usize, 63, 64, 65, 100, 127, 128, 500, 5000] {
        let ty_json = format!(
            "{}\"string\"{}",
            "[\"list\",".repeat(depth),
            "]".repeat(depth)
        );
        let mut bytes = vec![0x92];
        rmp::encode::write_str(&mut bytes, &ty_json).unwrap();
        bytes.extend(std::iter::repeat_n(0x91, depth)); // [[[...
        rmp::encode::write_str(&mut bytes, "x").unwrap();
        let (r, usage) = measure(|| from_msgpack(&bytes, &Type::Dynamic));
        assert_within_budget(usage, bytes.len(), "nested dynamic");
        if depth >= 64 {
            assert!(r.is_err(), "depth {depth} accepted");
        } else {
            let mut want = Value::from("x");
            for _ in 0..depth {
                want = Value::List(vec![want]);
            }
            assert_eq!(r.unwrap(), want, "depth {depth}");
        }
    }
    // Dynamic inside dynamic inside dynamic ...: each level is a [type, value] pair.
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.push(0x92);
        rmp::encode::write_str(&mut bytes, "\"dynamic\"").unwrap();
    }
    bytes.push(0xc0);
    let (r, usage) = measure(|| from_msgpack(&bytes, &Type::Dynamic));
    assert!(r.is_err());
    assert_within_budget(usage, bytes.len(), "dynamic in dynamic");
}

#[test]
fn msgpack_empty_input_is_an_error_for_every_type() {
    for ty in [
        Type::Bool,
        Type::Number,
        Type::String,
        Type::Dynamic,
        Type::list(Type::String),
        Type::map(Type::String),
        Type::object([("a", Type::String)]),
        Type::Tuple(vec![]),
    ] {
        assert!(from_msgpack(&[], &ty).is_err(), "{ty}");
    }
}

#[test]
fn msgpack_non_finite_and_non_numeric_numbers_are_errors() {
    let mut cases: Vec<Vec<u8>> = vec![
        [vec![0xcb], f64::NAN.to_be_bytes().to_vec()].concat(),
        [vec![0xcb], f64::INFINITY.to_be_bytes().to_vec()].concat(),
        [vec![0xca], f32::NEG_INFINITY.to_be_bytes().to_vec()].concat(),
    ];
    for s in [
        "NaN",
        "inf",
        "-infinity",
        "1e400",
        "0x10",
        "",
        " 1",
        "1_000",
    ] {
        let mut b = Vec::new();
        rmp::encode::write_str(&mut b, s).unwrap();
        cases.push(b);
    }
    for bytes in cases {
        assert!(
            from_msgpack(&bytes, &Type::Number).is_err(),
            "{bytes:x?} accepted as a number"
        );
    }
}

// ---------------------------------------------------------------------------------------
// JSON

proptest! {
    #![proptest_config(config())]

    /// Any bytes, any type, either attribute policy: no panic, memory within budget, and
    /// bytes that are not JSON at all are an error.
    #[test]
    fn json_decoder_survives_arbitrary_bytes_and_rejects_non_json(
        ty in arb_type(),
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        ignore in any::<bool>(),
    ) {
        let extra = if ignore { UnknownAttrs::Ignore } else { UnknownAttrs::Reject };
        let (r, usage) = measure(|| from_json(&bytes, &ty, extra));
        assert_within_budget(usage, bytes.len(), "from_json");
        if serde_json::from_slice::<J>(&bytes).is_err() {
            prop_assert!(r.is_err());
        }
    }

    /// Arbitrary JSON documents against arbitrary types: no panic, memory within budget.
    #[test]
    fn json_decoder_survives_arbitrary_documents_for_any_type(
        ty in arb_type(),
        doc in arb_json(),
        ignore in any::<bool>(),
    ) {
        let bytes = serde_json::to_vec(&doc).unwrap();
        let extra = if ignore { UnknownAttrs::Ignore } else { UnknownAttrs::Reject };
        let (_, usage) = measure(|| from_json(&bytes, &ty, extra));
        assert_within_budget(usage, bytes.len(), "from_json (document)");
    }

    /// Damaged valid encodings: no panic, memory within budget; damage that leaves no
    /// JSON behind is an error.
    #[test]
    fn json_decoder_survives_damaged_encodings(
        (ty, v) in typed_value(false),
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        let bytes = mutate(to_json(&v, &ty).unwrap(), &mutations);
        let (r, usage) = measure(|| from_json(&bytes, &ty, UnknownAttrs::Reject));
        assert_within_budget(usage, bytes.len(), "from_json (damaged)");
        if serde_json::from_slice::<J>(&bytes).is_err() {
            prop_assert!(r.is_err());
        }
    }

    /// Every wholly known well-typed value (nulls allowed) decodes to itself; sets
    /// compare without order.
    #[test]
    fn json_round_trips_well_typed_known_values((ty, v) in typed_value(false)) {
        let bytes = to_json(&v, &ty).unwrap();
        prop_assert_eq!(from_json(&bytes, &ty, UnknownAttrs::Reject).unwrap(), v.clone());
        let reversed = to_json(&reverse_sets(&v), &ty).unwrap();
        prop_assert_eq!(from_json(&reversed, &ty, UnknownAttrs::Reject).unwrap(), v);
    }

    /// JSON cannot carry unknown values: encoding one anywhere is an error, not a null.
    #[test]
    fn json_encoding_refuses_unknown_values((ty, v) in typed_value(true)) {
        let r = to_json(&v, &ty);
        prop_assert_eq!(r.is_err(), !v.is_wholly_known());
    }
}

/// Found by `json_round_trips_well_typed_known_values`: without serde_json's
/// `float_roundtrip` feature its parser may land one ULP off the double that serde_json
/// itself printed, so a number in raw JSON state does not read back as written.
#[test]
fn json_floats_read_back_bit_exactly() {
    for f in [
        3.6427356281543637e155,
        0.1,
        1.5,
        -2.5e-300,
        5e-324,
        f64::MAX,
        1e23,
    ] {
        let v = Value::Number(Number::Float(f));
        let bytes = to_json(&v, &Type::Number).unwrap();
        let back = from_json(&bytes, &Type::Number, UnknownAttrs::Reject).unwrap();
        let Value::Number(n) = back else {
            panic!("{f:e} decoded as {back:?}")
        };
        assert_eq!(
            n.as_f64().to_bits(),
            f.to_bits(),
            "{f:e} written as {} read back as {:e}",
            String::from_utf8_lossy(&bytes),
            n.as_f64()
        );
    }
}

#[test]
fn json_nested_far_beyond_any_schema_is_an_error_not_a_stack_overflow() {
    for depth in [200usize, 10_000, 200_000] {
        let doc = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let mut ty = Type::Number;
        for _ in 0..depth.min(300) {
            ty = Type::list(ty);
        }
        for t in [&ty, &Type::Dynamic, &Type::String] {
            let (r, usage) = measure(|| from_json(doc.as_bytes(), t, UnknownAttrs::Ignore));
            assert!(r.is_err(), "depth {depth} accepted");
            assert_within_budget(usage, doc.len(), "deep JSON");
        }
    }
    // A dynamic value's type, nested deeper than serde_json's recursion limit.
    let ty = format!(
        "{}\"string\"{}",
        "[\"list\",".repeat(5000),
        "]".repeat(5000)
    );
    let doc = format!("{{\"type\":{ty},\"value\":null}}");
    assert!(from_json(doc.as_bytes(), &Type::Dynamic, UnknownAttrs::Reject).is_err());
}

// ---------------------------------------------------------------------------------------
// GitLab responses

proptest! {
    #![proptest_config(config())]

    /// A cluster body of arbitrary bytes: no panic, bytes that are not JSON are an error,
    /// and memory stays within budget (lists of clusters too).
    #[test]
    fn cluster_parser_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let (r, usage) = measure(|| serde_json::from_slice::<Cluster>(&bytes));
        assert_within_budget(usage, bytes.len(), "Cluster");
        if serde_json::from_slice::<J>(&bytes).is_err() {
            prop_assert!(r.is_err());
        }
        let (_, usage) = measure(|| serde_json::from_slice::<Vec<Cluster>>(&bytes));
        assert_within_budget(usage, bytes.len(), "Vec<Cluster>");
    }

    /// Arbitrary JSON documents as clusters: no panic.
    #[test]
    fn cluster_parser_survives_arbitrary_documents(doc in arb_json()) {
        let _ = serde_json::from_value::<Cluster>(doc.clone());
        let _ = serde_json::from_value::<Vec<Cluster>>(J::Array(vec![doc]));
    }

    /// types.rs: "shapes that are not objects are errors". Scalars, strings and arrays
    /// are never a cluster — an array must not be read positionally as (id, name, ...).
    #[test]
    fn cluster_parser_rejects_every_json_shape_but_an_object(doc in arb_json()) {
        prop_assume!(!doc.is_object());
        let r = serde_json::from_value::<Cluster>(doc.clone());
        prop_assert!(r.is_err(), "{} parsed as {:?}", doc, r);
    }

    /// GitLab's entity, with fields in any subset and unknown extra fields, reads back
    /// exactly: the parser is lenient about shape, never about values.
    #[test]
    fn cluster_parser_reads_gitlab_entities_exactly(
        id in 1i64..i64::MAX,
        name in any::<String>(),
        domain in proptest::option::of(any::<String>()),
        managed in proptest::option::of(any::<bool>()),
        scope in proptest::option::of("[a-z*/]{1,10}"),
        api_url in proptest::option::of(any::<String>()),
        extra in prop::collection::btree_map("x_[a-z]{1,6}", arb_json(), 0..3),
    ) {
        let mut doc = serde_json::json!({
            "id": id,
            "name": name,
            "domain": domain,
            "managed": managed,
            "environment_scope": scope,
            "platform_kubernetes": {"api_url": api_url, "authorization_type": "rbac"},
        });
        for (k, v) in extra {
            doc[k] = v;
        }
        let c: Cluster = serde_json::from_value(doc).unwrap();
        prop_assert_eq!(c.id, id);
        prop_assert_eq!(c.name, name);
        prop_assert_eq!(c.domain, domain);
        prop_assert_eq!(c.managed, managed);
        prop_assert_eq!(c.environment_scope, scope);
        prop_assert_eq!(c.platform_kubernetes.unwrap().api_url, api_url);
    }

    /// Any status, any body: no panic; the variant follows the status (or says the answer
    /// is not the REST API's: redirects, the catch-all and non-JSON 404s, the v3 410); the
    /// message is never longer than linear in the body.
    #[test]
    fn error_bodies_of_any_status_and_bytes_map_by_status(
        status in any::<u16>(),
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let (e, usage) = measure(|| Error::from_response(status, &bytes));
        assert_within_budget(usage, bytes.len(), "Error::from_response");
        let ok = match status {
            _ if matches!(e, Error::NotApi { .. }) => {
                (300..400).contains(&status) || matches!(status, 404 | 410)
            }
            400 => matches!(e, Error::Validation { .. } | Error::BadRequest { .. }),
            401 => matches!(e, Error::Unauthorized { .. }),
            403 => matches!(e, Error::Forbidden { .. }),
            404 => matches!(e, Error::NotFound { .. }),
            429 => matches!(e, Error::RateLimited { .. }),
            s => e == Error::Http { status: s, message: body_message(&bytes), attempts: 1 },
        };
        prop_assert!(ok, "{} → {:?}", status, e);
        prop_assert!(!e.to_string().is_empty());
    }

    /// body_message on any bytes: no panic, never empty, a short excerpt for non-JSON
    /// (at most 200 characters and an ellipsis), and linear in the body for JSON.
    #[test]
    fn body_message_is_bounded_for_any_bytes(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..1024),
            arb_json().prop_map(|j| serde_json::to_vec(&j).unwrap()),
        ],
    ) {
        let m = body_message(&bytes);
        if serde_json::from_slice::<J>(&bytes).is_err() {
            prop_assert!(!m.is_empty());
            prop_assert!(m.chars().count() <= 201, "{} chars", m.chars().count());
        } else {
            prop_assert!(m.len() <= 6 * bytes.len() + 16, "{} bytes from {}", m.len(), bytes.len());
        }
    }

    /// A 400 with GitLab's model-validation shape keeps every field and message.
    #[test]
    fn validation_errors_keep_every_field_and_message(
        fields in prop::collection::btree_map(any::<String>(), prop::collection::vec(any::<String>(), 1..3), 1..5),
    ) {
        let body = serde_json::to_vec(&serde_json::json!({ "message": fields })).unwrap();
        prop_assert_eq!(Error::from_response(400, &body), Error::Validation { fields });
    }
}

#[test]
fn error_bodies_that_are_huge_or_deeply_nested_stay_bounded() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let html = format!("<html>{}</html>", "x".repeat(1 << 20));
    let invalid_utf8: Vec<u8> = (0..4096)
        .map(|i| if i % 3 == 0 { 0xff } else { b'a' })
        .collect();
    for body in [deep.as_bytes(), html.as_bytes(), &invalid_utf8] {
        for status in [400u16, 401, 404, 500, 502] {
            let (e, usage) = measure(|| Error::from_response(status, body));
            assert_within_budget(usage, body.len(), "large error body");
            let text = e.to_string();
            assert!(text.chars().count() < 400, "{status}: {} chars", text.len());
        }
    }
}

#[test]
fn cluster_bodies_with_huge_numbers_or_wrong_types_are_errors() {
    for body in [
        &br#"{"id": 1e400}"#[..],
        br#"{"id": 99999999999999999999999}"#,
        br#"{"id": "7"}"#,
        br#"{"id": 7, "managed": "yes"}"#,
        br#"{"id": 7, "platform_kubernetes": "rbac"}"#,
        br#"{"id": 7, "user": 3}"#,
        b"\xef\xbb\xbf{\"id\": 7}",
    ] {
        assert!(
            serde_json::from_slice::<Cluster>(body).is_err(),
            "{} accepted",
            String::from_utf8_lossy(body)
        );
    }
    // A map type declared by the schema: JSON keys that repeat keep the last value, like cty.
    let v = from_json(
        br#"{"a":"1","a":"2"}"#,
        &Type::map(Type::String),
        UnknownAttrs::Reject,
    )
    .unwrap();
    assert_eq!(
        v,
        Value::Map(BTreeMap::from([("a".to_string(), Value::from("2"))]))
    );
}
