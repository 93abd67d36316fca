//! Every override of `rules/request_overrides.toml` with its near miss: the body the override lets
//! through passes with no error, and the body beside it is still refused where the spec (or the
//! override) says, so an override never opens more than it names.

use std::path::Path;

use airlock_rules::validate::{Config, check};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    #[serde(rename = "override")]
    overrides: Vec<Override>,
}

#[derive(Deserialize)]
struct Override {
    at: String,
    action: String,
    #[serde(default)]
    property: Option<String>,
    #[serde(default)]
    endpoints: Vec<String>,
    near_accepted: String,
    near_rejected: String,
    near_param: String,
    /// `[a, b]`: `%PAD%` in near_accepted becomes `a` copies of `x`, in near_rejected `b` (a
    /// length bound tested at the bound without writing a megabyte into the TOML).
    #[serde(default)]
    near_pad: Option<[usize; 2]>,
    /// `[a, b]`: `%KEYS%` in near_accepted becomes `a` members `"0":0,"1":0,…`, in near_rejected
    /// `b` (a property-count bound tested at the bound).
    #[serde(default)]
    near_keys: Option<[usize; 2]>,
}

#[path = "support/endpoint_paths.rs"]
mod endpoint_paths;

fn keys(n: usize) -> String {
    (0..n)
        .map(|i| format!("\"{i}\":0"))
        .collect::<Vec<_>>()
        .join(",")
}

fn path_of(file: &str) -> String {
    // The endpoints added in session 18 have underscores in their paths (and ids).
    endpoint_paths::path_of(file)
        .map(String::from)
        .unwrap_or_else(|| format!("/v1/{}", file.replace('_', "/")))
}

#[test]
fn every_override_has_a_near_miss() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/request_overrides.toml"),
    )
    .unwrap();
    let file: File = toml::from_str(&text).unwrap();
    assert!(
        file.overrides.len() >= 20,
        "{} overrides",
        file.overrides.len()
    );
    let mut failures = Vec::new();
    for o in &file.overrides {
        let name = format!(
            "{} {} {}",
            o.at,
            o.action,
            o.property.as_deref().unwrap_or("")
        );
        let endpoint = match o.endpoints.first().map(String::as_str) {
            None | Some("chat_completions") => String::from("/v1/chat/completions"),
            Some("responses_input_tokens") => String::from("/v1/responses/input_tokens"),
            Some(other) => path_of(other),
        };
        let [pad_ok, pad_bad] = o.near_pad.unwrap_or([0, 0]);
        let [keys_ok, keys_bad] = o.near_keys.unwrap_or([0, 0]);
        let near_accepted = o
            .near_accepted
            .replace("%PAD%", &"x".repeat(pad_ok))
            .replace("%KEYS%", &keys(keys_ok));
        let near_rejected = o
            .near_rejected
            .replace("%PAD%", &"x".repeat(pad_bad))
            .replace("%KEYS%", &keys(keys_bad));
        let accepted = check(&endpoint, near_accepted.as_bytes(), &Config::default());
        if !accepted.ok() {
            failures.push(format!(
                "{name}: near_accepted refused: {:?}",
                accepted.errors
            ));
        }
        let rejected = check(&endpoint, near_rejected.as_bytes(), &Config::default());
        let want = (o.near_param != "(none)").then_some(o.near_param.as_str());
        if !rejected
            .errors
            .iter()
            .any(|e| e.error.param.as_deref() == want)
        {
            failures.push(format!(
                "{name}: near_rejected not refused at {want:?}: {:?}",
                rejected.errors
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
