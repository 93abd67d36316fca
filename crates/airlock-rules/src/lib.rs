//! Airlock's rules: what experienced engineers know about the OpenAI API's errors and requests.
//!
//! The crate is `#![no_std]` with `alloc`, does no I/O and parses no data files at run time: the
//! knowledge in the repository's `rules/` folder is turned into Rust tables by `cargo xtask codegen`.
//!
//! ```
//! use airlock_rules::{explain, Category, RetryDecision};
//!
//! let pasted = r#"{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}"#;
//! let d = explain(pasted).diagnosis.expect("an error was found");
//! assert_eq!(d.category, Category::Quota);
//! assert_eq!(d.retry.decision, RetryDecision::No);
//! ```
//!
//! With the `schemars` feature, a Rust type becomes a schema OpenAI's strict Structured Outputs
//! accept ([`strict`]), or the reason it cannot:
//!
//! ```
//! # #[cfg(feature = "schemars")] {
//! #[derive(schemars::JsonSchema)]
//! struct Answer { city: String, population: Option<u64> }
//!
//! let schema = airlock_rules::strict::strict_schema::<Answer>().unwrap();
//! assert_eq!(schema.get("required"), Some(&serde_json::json!(["city", "population"])));
//!
//! #[derive(schemars::JsonSchema)]
//! struct Scores { by_name: std::collections::HashMap<String, u32> }
//! let why = airlock_rules::strict::strict_schema::<Scores>().unwrap_err();
//! assert!(why.to_string().contains("'additionalProperties' is required to be supplied and to be false"));
//! # }
//! ```
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod category;
mod classify;
mod diagnosis;
mod evidence;
mod generated;
mod parse;

pub mod alert;
pub mod batch;
pub mod bundle;
pub mod log_line;
#[cfg(feature = "jsonschema")]
pub mod output;
pub mod pace;
pub mod ratelimit;
pub mod redact;
pub mod retry;
mod schema_key;
pub mod simulate;
pub mod sse;
pub mod strict;
#[cfg(feature = "tokenizer")]
pub mod tokenizer;
pub mod upload;
pub mod validate;
#[cfg(feature = "jsonschema")]
mod validator_cache;

pub use category::{Category, RetryDecision};
pub use classify::{NoResponse, diagnose, diagnose_no_response, diagnose_response};
pub use diagnosis::{Confidence, Delivery, Diagnosis, Explanation, RetryAdvice, SdkNames};
pub use evidence::{Evidence, Format, Transport};
pub use ratelimit::{LimitKind, RateLimitHeaders, RateLimitInfo};

/// Finds the OpenAI error in any text a person might paste and diagnoses it.
///
/// Parsing never fails: when no error can be recognised, [`Explanation::diagnosis`] is `None`, and
/// [`Explanation::unread`] says what could not be read.
///
/// # Example
/// ```
/// let e = airlock_rules::explain("openai.error.RateLimitError: Rate limit reached for requests");
/// assert_eq!(e.diagnosis.unwrap().category.as_str(), "rate_limit");
/// ```
pub fn explain(text: &str) -> Explanation {
    let evidence = parse::read(text);
    let unread = evidence.unread.clone();
    let diagnosis = if evidence.is_empty() {
        None
    } else {
        Some(diagnose(&evidence))
    };
    Explanation { diagnosis, unread }
}

/// The version of the rule data compiled into this crate (a hash of `rules/`).
pub const DATA_VERSION: &str = generated::DATA_VERSION;
