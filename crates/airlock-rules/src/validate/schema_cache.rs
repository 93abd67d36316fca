//! Schema lint verdicts kept between requests (issue 17's cost aim).
//!
//! Clients send the same few schemas again and again, and the schema lints (`json_schema_valid`
//! with the `jsonschema` crate's meta-schema walks, `schema_array_items`, `strict_schema`,
//! `schema_limits`, `function_parameters_root`) give the same findings for the same schema in the
//! same place. A [`SchemaLintCache`] keeps what the lints said about a schema — every finding they
//! made, in order, none at all for a good schema — so that a schema seen before costs one walk for
//! its key and a comparison instead of the lints, and its findings are replayed through the
//! request's modes as if the lints had run.
//!
//! An entry is found by the schema's structural hash and compact length (`schema_key`) and then
//! compared in full, schema *and* place: the name, the `param`, the code, which lints were on,
//! `strict`, and whether the model is fine-tuned. So two schemas, or one schema in two places,
//! never share an entry; a collision or an eviction costs only a lint run again, never another
//! request's findings.
//!
//! The same cache keeps the stand-ins the whole-body request schema found valid (`body_schema`'s
//! narrowed body: a Chat or Responses body of plain messages reduced to everything but them, its
//! free-form schemas hollowed; what repeats from one request of a client to the next): a
//! stand-in seen valid before is not validated again. Only the valid outcome is kept (it has no
//! findings, whatever the modes), found by the same key and compared in full with its endpoint,
//! bounded by [`MAX_KNOWN_VALID_BODIES`] and [`MAX_KNOWN_VALID_BODY_BYTES`].
//!
//! What a stranger controls is bounded: at most [`MAX_LINTED_SCHEMAS`] entries and at most
//! [`MAX_LINTED_SCHEMA_BYTES`] in all (each entry counts its schema's compact text, its name and
//! param, and its findings' messages); the least recently used entry is dropped first, and an
//! entry larger than the whole byte bound is not kept. The cache is plain data with no I/O and
//! no global state: the worker keeps one per isolate ([`super::check_keeping_cached`]), the CLI
//! none.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use crate::schema_key::Bounded;

/// The slot for a linted schema's compiled validator, handed to the answer's check (issue 17;
/// `validator_cache`'s module doc).
#[cfg(feature = "jsonschema")]
pub(crate) use crate::validator_cache::Slot;

/// Without `jsonschema` no answer is checked, so there is nothing to hand on.
#[cfg(not(feature = "jsonschema"))]
#[derive(Clone, Debug, Default)]
pub(crate) struct Slot;

#[cfg(not(feature = "jsonschema"))]
impl Slot {
    pub(crate) fn new() -> Self {
        Slot
    }
}

/// The most stand-ins known valid one cache keeps.
pub const MAX_KNOWN_VALID_BODIES: usize = 32;

/// The most bytes of stand-ins known valid one cache keeps (compact text and endpoint); a
/// single stand-in larger than this is never kept.
pub const MAX_KNOWN_VALID_BODY_BYTES: usize = 64 * 1024;

/// The most schema verdicts one cache keeps.
pub const MAX_LINTED_SCHEMAS: usize = 64;

/// The most bytes one cache keeps (schema text, names, params and messages, summed over the
/// entries); a single entry larger than this is never kept.
pub const MAX_LINTED_SCHEMA_BYTES: usize = 256 * 1024;

/// One call the lints made on the request's findings, replayed as it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    /// `Ctx::reject` (true) or `Ctx::warn`.
    pub(crate) reject: bool,
    pub(crate) rule: &'static str,
    pub(crate) code: &'static str,
    pub(crate) param: Option<String>,
    pub(crate) message: String,
}

/// Everything besides the schema that the lints' findings depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Place<'a> {
    /// 0 for a response format, 1 for a function.
    pub(crate) kind: u8,
    pub(crate) name: &'a str,
    pub(crate) param: &'a str,
    pub(crate) code: &'static str,
    pub(crate) strict: bool,
    pub(crate) fine_tuned: bool,
    /// Which of the lints were on, one bit each.
    pub(crate) enabled: u8,
}

struct Entry {
    hash: u64,
    len: usize,
    schema: Value,
    kind: u8,
    name: String,
    param: String,
    code: &'static str,
    strict: bool,
    fine_tuned: bool,
    enabled: u8,
    calls: Vec<Call>,
    /// This schema's validator, once an answer needed it (its memory is bounded with the entry).
    slot: Slot,
}

impl Entry {
    fn is(&self, hash: u64, len: usize, schema: &Value, place: &Place<'_>) -> bool {
        self.hash == hash
            && self.len == len
            && self.kind == place.kind
            && self.strict == place.strict
            && self.fine_tuned == place.fine_tuned
            && self.enabled == place.enabled
            && self.code == place.code
            && self.name == place.name
            && self.param == place.param
            && self.schema == *schema
    }
}

/// A request's stand-in (`body_schema`'s narrowed body: everything but its plain messages, its
/// free-form schemas hollowed) that the endpoint's request schema found valid.
#[cfg_attr(not(feature = "jsonschema"), allow(dead_code))] // the request schema needs `jsonschema`
struct Valid {
    hash: u64,
    len: usize,
    endpoint: String,
    body: Value,
}

/// The key of a value looked up and not found, for the `insert` that follows.
pub(crate) struct Miss {
    hash: u64,
    len: usize,
}

/// Schema lint verdicts by schema and place, and stand-ins known valid, bounded as the module
/// doc says.
pub struct SchemaLintCache {
    lints: Bounded<Entry>,
    valid: Bounded<Valid>,
    tick: u64,
    hits: u64,
    misses: u64,
    valid_hits: u64,
    valid_misses: u64,
}

impl Default for SchemaLintCache {
    fn default() -> Self {
        SchemaLintCache {
            lints: Bounded::new(MAX_LINTED_SCHEMAS, MAX_LINTED_SCHEMA_BYTES),
            valid: Bounded::new(MAX_KNOWN_VALID_BODIES, MAX_KNOWN_VALID_BODY_BYTES),
            tick: 0,
            hits: 0,
            misses: 0,
            valid_hits: 0,
            valid_misses: 0,
        }
    }
}

impl core::fmt::Debug for SchemaLintCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SchemaLintCache")
            .field("entries", &self.lints.len())
            .field("bytes", &self.lints.bytes())
            .field("valid_bodies", &self.valid.len())
            .field("valid_bytes", &self.valid.bytes())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .field("valid_hits", &self.valid_hits)
            .field("valid_misses", &self.valid_misses)
            .finish()
    }
}

impl SchemaLintCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many schema verdicts are kept.
    pub fn len(&self) -> usize {
        self.lints.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.lints.len() == 0 && self.valid.len() == 0
    }

    /// The bytes the schema verdicts keep (at most [`MAX_LINTED_SCHEMA_BYTES`]).
    pub fn bytes(&self) -> usize {
        self.lints.bytes()
    }

    /// How many stand-ins known valid are kept, and their bytes (at most
    /// [`MAX_KNOWN_VALID_BODIES`] and [`MAX_KNOWN_VALID_BODY_BYTES`]).
    pub fn valid_bodies(&self) -> (usize, usize) {
        (self.valid.len(), self.valid.bytes())
    }

    /// Schema lookups answered from the cache, and those that ran the lints, since it was made.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// Stand-in lookups answered from the cache, and those that ran the request schema.
    pub fn valid_stats(&self) -> (u64, u64) {
        (self.valid_hits, self.valid_misses)
    }

    /// The kept findings for `schema` at `place` and the slot for its validator, or the key to
    /// insert them under.
    pub(crate) fn find(
        &mut self,
        schema: &Value,
        place: &Place<'_>,
    ) -> Result<(&[Call], &Slot), Miss> {
        let (hash, len) = crate::schema_key::key(schema);
        self.tick += 1;
        match self
            .lints
            .find(self.tick, |e| e.is(hash, len, schema, place))
        {
            Some(e) => {
                self.hits += 1;
                Ok((&e.calls, &e.slot))
            }
            None => {
                self.misses += 1;
                Err(Miss { hash, len })
            }
        }
    }

    /// Keeps `calls` as what the lints said about `schema` at `place` (looked up as `miss`),
    /// with `slot` for its validator, within the bounds, dropping the least recently used
    /// entries to make room.
    pub(crate) fn insert(
        &mut self,
        miss: Miss,
        schema: &Value,
        place: &Place<'_>,
        calls: &[Call],
        slot: Slot,
    ) {
        let bytes = miss.len
            + place.name.len()
            + place.param.len()
            + calls
                .iter()
                .map(|c| c.message.len() + c.param.as_ref().map_or(0, String::len))
                .sum::<usize>();
        let entry = Entry {
            hash: miss.hash,
            len: miss.len,
            schema: schema.clone(),
            kind: place.kind,
            name: String::from(place.name),
            param: String::from(place.param),
            code: place.code,
            strict: place.strict,
            fine_tuned: place.fine_tuned,
            enabled: place.enabled,
            calls: calls.to_vec(),
            slot,
        };
        self.lints.insert(self.tick, entry, bytes);
    }

    /// `Ok` when `body` (a stand-in for `endpoint`) was found valid before, else the key to
    /// insert it under.
    #[cfg_attr(not(feature = "jsonschema"), allow(dead_code))]
    pub(crate) fn find_valid(&mut self, endpoint: &str, body: &Value) -> Result<(), Miss> {
        let (hash, len) = crate::schema_key::key(body);
        self.tick += 1;
        let found = self.valid.find(self.tick, |e| {
            e.hash == hash && e.len == len && e.endpoint == endpoint && e.body == *body
        });
        if found.is_some() {
            self.valid_hits += 1;
            Ok(())
        } else {
            self.valid_misses += 1;
            Err(Miss { hash, len })
        }
    }

    /// Keeps `body` as a stand-in for `endpoint` the request schema found valid.
    #[cfg_attr(not(feature = "jsonschema"), allow(dead_code))]
    pub(crate) fn insert_valid(&mut self, miss: Miss, endpoint: &str, body: &Value) {
        let entry = Valid {
            hash: miss.hash,
            len: miss.len,
            endpoint: String::from(endpoint),
            body: body.clone(),
        };
        self.valid
            .insert(self.tick, entry, miss.len + endpoint.len());
    }
}
