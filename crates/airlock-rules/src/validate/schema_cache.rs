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
//! What a stranger controls is bounded: at most [`MAX_LINTED_SCHEMAS`] entries and at most
//! [`MAX_LINTED_SCHEMA_BYTES`] in all (each entry counts its schema's compact text, its name and
//! param, and its findings' messages); the least recently used entry is dropped first, and an
//! entry larger than the whole byte bound is not kept. The cache is plain data with no I/O and
//! no global state: the worker keeps one per isolate ([`super::check_keeping_cached`]), the CLI
//! none.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

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
    /// What this entry counts against [`MAX_LINTED_SCHEMA_BYTES`].
    bytes: usize,
    last_used: u64,
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

/// The key of a schema looked up and not found, for [`SchemaLintCache::insert`].
pub(crate) struct Miss {
    hash: u64,
    len: usize,
}

/// Schema lint verdicts by schema and place, bounded as the module doc says.
#[derive(Default)]
pub struct SchemaLintCache {
    entries: Vec<Entry>,
    bytes: usize,
    tick: u64,
    hits: u64,
    misses: u64,
}

impl core::fmt::Debug for SchemaLintCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SchemaLintCache")
            .field("entries", &self.entries.len())
            .field("bytes", &self.bytes)
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl SchemaLintCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many verdicts are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes kept (at most [`MAX_LINTED_SCHEMA_BYTES`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Lookups answered from the cache, and lookups that ran the lints, since it was made.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// The kept findings for `schema` at `place`, or the key to insert them under.
    pub(crate) fn find(&mut self, schema: &Value, place: &Place<'_>) -> Result<&[Call], Miss> {
        let (hash, len) = crate::schema_key::key(schema);
        self.tick += 1;
        match self
            .entries
            .iter_mut()
            .find(|e| e.is(hash, len, schema, place))
        {
            Some(e) => {
                e.last_used = self.tick;
                self.hits += 1;
                Ok(&e.calls)
            }
            None => {
                self.misses += 1;
                Err(Miss { hash, len })
            }
        }
    }

    /// Keeps `calls` as what the lints said about `schema` at `place` (looked up as `miss`),
    /// within the bounds, dropping the least recently used entries to make room.
    pub(crate) fn insert(&mut self, miss: Miss, schema: &Value, place: &Place<'_>, calls: &[Call]) {
        let bytes = miss.len
            + place.name.len()
            + place.param.len()
            + calls
                .iter()
                .map(|c| c.message.len() + c.param.as_ref().map_or(0, String::len))
                .sum::<usize>();
        if bytes > MAX_LINTED_SCHEMA_BYTES {
            return;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= MAX_LINTED_SCHEMAS
                || self.bytes + bytes > MAX_LINTED_SCHEMA_BYTES)
        {
            self.evict_oldest();
        }
        self.bytes += bytes;
        self.entries.push(Entry {
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
            bytes,
            last_used: self.tick,
        });
    }

    fn evict_oldest(&mut self) {
        let Some((i, _)) = self
            .entries
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.last_used)
        else {
            return;
        };
        let e = self.entries.swap_remove(i);
        self.bytes -= e.bytes;
    }
}
