//! Compiled output validators kept between answers (issue 17's cost aim).
//!
//! Compiling a `jsonschema` validator is most of what checking an answer costs (about 50 µs on
//! the host for a small strict schema, against a few µs to validate), and clients send the same
//! few schemas again and again. A [`ValidatorCache`] keeps compiled validators keyed by the
//! schema itself: found by a 64-bit FNV-1a hash of its structure and then compared in full, so
//! two schemas never share a validator by a hash collision. The hash and the schema's size (the
//! length of its compact JSON text) come from one walk over the parsed schema, without writing
//! the text out (issue 17: the key was the schema serialized again for every answer).
//!
//! What a stranger controls is bounded: at most [`MAX_CACHED_VALIDATORS`] entries and at most
//! [`MAX_CACHED_SCHEMA_BYTES`] of schema text in all; the least recently used entry is dropped
//! first, and a schema larger than the whole byte bound is compiled for its answer and not kept.
//! A schema that does not compile is remembered as such (it costs its text, not a validator).
//!
//! The cache is plain data with no I/O and no global state: the worker keeps one per isolate,
//! the CLI none (it checks one answer).
//!
//! A [`Slot`] hands a validator from a request's check to its answer's (issue 17): the request's
//! schema lints already found the schema in the isolate's `SchemaLintCache` (a hash walk and a
//! full comparison), so each lint entry keeps a slot for that schema's validator, and the check
//! hands the slots of the schemas it linted on ([`Handed`]) to the answer's
//! [`Expectation`](crate::output::Expectation), which fills an empty one from this cache once and
//! afterwards takes the validator from the slot without looking the schema up again. A slot
//! belongs to one lint entry, which holds one schema, so it only ever holds that schema's
//! validator; the validators the lint entries keep are bounded by the lint cache's own bounds.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::OnceCell;

use serde_json::Value;

use crate::schema_key::Bounded;

/// The most compiled validators one cache keeps.
pub const MAX_CACHED_VALIDATORS: usize = 64;

/// The most schema text (compact JSON bytes, summed over the entries) one cache keeps; a single
/// schema larger than this is never kept.
pub const MAX_CACHED_SCHEMA_BYTES: usize = 512 * 1024;

/// A compiled validator, or `None` when the schema did not compile.
pub type Compiled = Option<Rc<jsonschema::Validator>>;

struct Entry {
    hash: u64,
    /// The schema, compared in full on a hash match.
    key: Value,
    /// Its compact JSON text's length, what the byte bound counts.
    len: usize,
    compiled: Compiled,
}

/// One schema's validator, compiled when an answer first needs it and shared by every holder
/// of the slot (module doc).
#[derive(Clone, Default)]
pub struct Slot(Rc<OnceCell<Compiled>>);

impl core::fmt::Debug for Slot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Slot")
            .field("filled", &self.0.get().is_some())
            .finish()
    }
}

impl Slot {
    /// A new, empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// The validator of `schema` (the schema this slot was made for): the one in the slot, else
    /// `cache`'s, kept in the slot.
    pub fn get(&self, schema: &serde_json::Value, cache: &mut ValidatorCache) -> Compiled {
        self.0.get_or_init(|| cache.get(schema)).clone()
    }

    /// Whether a validator (or a failed compile) is in the slot.
    pub fn is_filled(&self) -> bool {
        self.0.get().is_some()
    }

    /// Whether `self` and `other` are the same slot.
    pub fn ptr_eq(&self, other: &Slot) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The validator slots of the schemas a request's check linted, by place, handed to the
/// answer's expectation ([`crate::validate::check_keeping_handed`],
/// [`crate::output::Expectation::from_request_handed`]).
#[derive(Clone, Debug, Default)]
pub struct Handed {
    /// The API the schemas were read for: `Some(true)` Chat Completions, `Some(false)` Responses.
    pub(crate) chat: Option<bool>,
    /// The `json_schema` format's schema.
    pub(crate) format: Option<Slot>,
    /// A function tool's `parameters`, by its index in `tools`.
    pub(crate) tools: Vec<(usize, Slot)>,
}

impl Handed {
    /// How many slots were handed.
    pub fn len(&self) -> usize {
        usize::from(self.format.is_some()) + self.tools.len()
    }

    /// Whether no slot was handed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot of the tool at `index`.
    pub(crate) fn tool(&self, index: usize) -> Option<&Slot> {
        self.tools.iter().find(|(i, _)| *i == index).map(|(_, s)| s)
    }
}

/// Compiled validators by schema, bounded as the module doc says.
pub struct ValidatorCache {
    entries: Bounded<Entry>,
    tick: u64,
    hits: u64,
    compiles: u64,
}

impl Default for ValidatorCache {
    fn default() -> Self {
        ValidatorCache {
            entries: Bounded::new(MAX_CACHED_VALIDATORS, MAX_CACHED_SCHEMA_BYTES),
            tick: 0,
            hits: 0,
            compiles: 0,
        }
    }
}

impl core::fmt::Debug for ValidatorCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ValidatorCache")
            .field("entries", &self.entries.len())
            .field("bytes", &self.entries.bytes())
            .field("hits", &self.hits)
            .field("compiles", &self.compiles)
            .finish()
    }
}

impl ValidatorCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many validators are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The schema text kept, in bytes (at most [`MAX_CACHED_SCHEMA_BYTES`]).
    pub fn bytes(&self) -> usize {
        self.entries.bytes()
    }

    /// Lookups answered from the cache, and validators compiled, since it was made.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.compiles)
    }

    /// The validator for `schema`: the kept one, or a newly compiled one (kept within the
    /// bounds, dropping the least recently used entries to make room).
    pub fn get(&mut self, schema: &Value) -> Compiled {
        let (hash, len) = crate::schema_key::key(schema);
        self.tick += 1;
        if let Some(e) = self.entries.find(self.tick, |e| {
            e.hash == hash && e.len == len && e.key == *schema
        }) {
            self.hits += 1;
            return e.compiled.clone();
        }
        self.compiles += 1;
        let compiled = jsonschema::validator_for(schema).ok().map(Rc::new);
        // Checked here too, so a schema over the bound is not copied only to be dropped.
        if len <= MAX_CACHED_SCHEMA_BYTES {
            let entry = Entry {
                hash,
                key: schema.clone(),
                len,
                compiled: compiled.clone(),
            };
            self.entries.insert(self.tick, entry, len);
        }
        compiled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(n: usize) -> Value {
        json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": n}}})
    }

    #[test]
    fn the_same_schema_is_compiled_once() {
        let mut c = ValidatorCache::new();
        let a = c.get(&schema(1)).unwrap();
        let b = c.get(&schema(1)).unwrap();
        assert!(Rc::ptr_eq(&a, &b));
        assert_eq!(c.stats(), (1, 1));
        assert!(a.is_valid(&json!({"n": 1})));
        assert!(!a.is_valid(&json!({"n": 2})));
        // A different schema gets its own validator.
        let other = c.get(&schema(2)).unwrap();
        assert!(other.is_valid(&json!({"n": 2})));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_schema_that_does_not_compile_is_remembered_as_such() {
        let mut c = ValidatorCache::new();
        let bad = json!({"type": "no-such-type"});
        assert!(c.get(&bad).is_none());
        assert!(c.get(&bad).is_none());
        assert_eq!(c.stats(), (1, 1));
    }

    #[test]
    fn count_bound_drops_the_least_recently_used() {
        let mut c = ValidatorCache::new();
        for n in 0..MAX_CACHED_VALIDATORS {
            c.get(&schema(n));
        }
        assert_eq!(c.len(), MAX_CACHED_VALIDATORS);
        // Touch schema 0, so schema 1 is now the oldest.
        c.get(&schema(0));
        c.get(&schema(MAX_CACHED_VALIDATORS));
        assert_eq!(c.len(), MAX_CACHED_VALIDATORS);
        let (hits, compiles) = c.stats();
        c.get(&schema(0));
        assert_eq!(c.stats(), (hits + 1, compiles), "schema 0 was kept");
        c.get(&schema(1));
        assert_eq!(c.stats(), (hits + 1, compiles + 1), "schema 1 was dropped");
        assert_eq!(c.len(), MAX_CACHED_VALIDATORS);
    }

    /// A schema whose compact text is exactly `len` bytes.
    fn schema_of_len(tag: usize, len: usize) -> Value {
        let title = alloc::format!("t{tag}");
        let base = serde_json::to_string(&json!({"description": "", "title": title})).unwrap();
        let pad = len - base.len();
        let v = json!({"description": "x".repeat(pad), "title": title});
        assert_eq!(serde_json::to_string(&v).unwrap().len(), len);
        v
    }

    #[test]
    fn equal_schemas_share_and_different_ones_do_not() {
        let mut c = ValidatorCache::new();
        // Parsed from texts that differ only in key order and spacing: the same schema.
        let a: Value =
            serde_json::from_str(r#"{"type": "object", "properties": {"n": {"type": "integer"}}}"#)
                .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"properties":{"n":{"type":"integer"}},"type":"object"}"#)
                .unwrap();
        let a1 = c.get(&a).unwrap();
        let b1 = c.get(&b).unwrap();
        assert!(Rc::ptr_eq(&a1, &b1));
        // A string against a number, an array against an object: different schemas.
        for other in [
            json!({"type": "object", "properties": {"n": {"type": "string"}}}),
            json!({"enum": ["1"]}),
            json!({"enum": [1]}),
            json!({"enum": [[1]]}),
            json!({"enum": [{"1": null}]}),
        ] {
            let before = c.stats().1;
            c.get(&other);
            assert_eq!(c.stats().1, before + 1, "{other} compiled on its own");
        }
        assert!(
            c.get(&json!({"enum": ["1"]}))
                .unwrap()
                .is_valid(&json!("1"))
        );
        assert!(!c.get(&json!({"enum": [1]})).unwrap().is_valid(&json!("1")));
    }

    #[test]
    fn byte_bound_holds_at_the_bound() {
        let mut c = ValidatorCache::new();
        // One schema of exactly the bound is kept; the next one pushes it out.
        let whole = schema_of_len(1, MAX_CACHED_SCHEMA_BYTES);
        assert!(c.get(&whole).is_some());
        assert_eq!((c.len(), c.bytes()), (1, MAX_CACHED_SCHEMA_BYTES));
        let small = schema_of_len(2, 1000);
        c.get(&small);
        assert_eq!((c.len(), c.bytes()), (1, 1000));
        // One byte over the bound: compiled and used, never kept.
        let over = schema_of_len(3, MAX_CACHED_SCHEMA_BYTES + 1);
        assert!(c.get(&over).is_some());
        assert_eq!((c.len(), c.bytes()), (1, 1000));
        // Halves fill it exactly; a third entry evicts the oldest.
        let mut c = ValidatorCache::new();
        c.get(&schema_of_len(4, MAX_CACHED_SCHEMA_BYTES / 2));
        c.get(&schema_of_len(5, MAX_CACHED_SCHEMA_BYTES / 2));
        assert_eq!((c.len(), c.bytes()), (2, MAX_CACHED_SCHEMA_BYTES));
        c.get(&schema_of_len(6, 10_000));
        assert_eq!(c.len(), 2);
        assert!(c.bytes() <= MAX_CACHED_SCHEMA_BYTES);
    }
}
