//! Prints a Chat Completions request body whose `response_format` is the strict schema of a Rust
//! type, made with `airlock_rules::strict::strict_schema`.
//!
//! ```text
//! cargo run -p airlock-rules --features schemars --example strict_schema
//! ```
//!
//! A type with a map in it cannot be strict: the second part prints why, as OpenAI would say it.
#![allow(missing_docs)]
// The types exist to be described and deserialized; the program reads only some fields.
#![allow(dead_code)]

use std::collections::HashMap;

use airlock_rules::strict::strict_schema;
use schemars::JsonSchema;
use serde::Deserialize;

/// A city's weather report.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Report {
    city: String,
    /// Degrees Celsius.
    temperature_c: f64,
    wind: Option<Wind>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Wind {
    speed_kmh: u32,
    direction: Direction,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Direction {
    North,
    East,
    South,
    West,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Condition {
    Clear,
    Rain { mm_per_hour: f64 },
    Fog { visibility_m: u32 },
}

#[derive(Debug, Deserialize, JsonSchema)]
struct WithMap {
    scores: HashMap<String, i32>,
}

fn main() {
    let schema = match strict_schema::<Report>() {
        Ok(s) => s,
        Err(found) => {
            eprintln!("not strict: {found}");
            std::process::exit(1);
        }
    };
    let body = serde_json::json!({
        "model": "gpt-4o-2024-08-06",
        "messages": [{"role": "user", "content": "The weather in Oslo, please."}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Report", "strict": true, "schema": schema},
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    let verdict = airlock_rules::validate::check(
        "/v1/chat/completions",
        body.to_string().as_bytes(),
        &airlock_rules::validate::Config::default(),
    );
    eprintln!(
        "Airlock's request check: {} error(s), {} warning(s)",
        verdict.errors.len(),
        verdict.warnings.len()
    );
    // An answer that follows the schema deserializes into the type.
    let answer = r#"{"city":"Oslo","temperatureC":-3.5,"wind":null,"conditions":[{"kind":"fog","visibility_m":200}]}"#;
    match serde_json::from_str::<Report>(answer) {
        Ok(r) => eprintln!("answer read: {r:?}"),
        Err(e) => eprintln!("answer not read: {e}"),
    }
    match strict_schema::<WithMap>() {
        Ok(_) => eprintln!("WithMap: strict (unexpected)"),
        Err(found) => eprintln!("WithMap cannot be strict: {found}"),
    }
}
