//! `rules/alerts.toml` → `crates/airlock-rules/src/generated/alerts.rs`: one alert rule per
//! category, checked against the category list and the error records they point at.

use core::fmt::Write as _;
use std::path::PathBuf;

use serde::Deserialize;

use super::{HEADER, Output};
use crate::util::root;

/// The categories of `airlock_rules::Category::ALL`, in order (a test in the rules crate checks
/// the generated table covers each exactly once).
const CATEGORIES: [(&str, &str); 17] = [
    ("invalid_request", "InvalidRequest"),
    ("authentication", "Authentication"),
    ("permission", "Permission"),
    ("not_found", "NotFound"),
    ("conflict", "Conflict"),
    ("unprocessable", "Unprocessable"),
    ("rate_limit", "RateLimit"),
    ("quota", "Quota"),
    ("server_error", "ServerError"),
    ("overloaded", "Overloaded"),
    ("timeout", "Timeout"),
    ("connection", "Connection"),
    ("context_length", "ContextLength"),
    ("content_policy", "ContentPolicy"),
    ("stream_error", "StreamError"),
    ("batch_error", "BatchError"),
    ("client_side", "ClientSide"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    alert: Vec<Alert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Alert {
    category: String,
    fire: String,
    window_minutes: u32,
    min_count: u32,
    factor: u32,
    cooldown_minutes: u32,
    explained_by: String,
    source: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct ErrorsFile {
    #[serde(default)]
    status: Vec<Named>,
    #[serde(default)]
    error: Vec<Named>,
}

/// Generates the alert table from `rules/alerts.toml`.
pub fn generate() -> Result<Vec<Output>, String> {
    let path = root().join("rules").join("alerts.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(vec![(
        PathBuf::from("crates/airlock-rules/src/generated/alerts.rs"),
        render(&file, &record_names()?)?,
    )])
}

/// Every record name under `rules/errors/`.
fn record_names() -> Result<Vec<String>, String> {
    let dir = root().join("rules").join("errors");
    let mut names = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let f: ErrorsFile =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            names.extend(f.status.into_iter().chain(f.error).map(|n| n.name));
        }
    }
    Ok(names)
}

fn render(file: &File, records: &[String]) -> Result<String, String> {
    let mut out = String::from(HEADER);
    out.push_str("//! Alert rules per category, from `rules/alerts.toml`.\n\n");
    out.push_str("use crate::alert::{AlertRule, Fire};\nuse crate::Category;\n\n");
    out.push_str("/// One rule per category, in `Category::ALL` order.\npub(crate) static ALERT_RULES: &[AlertRule] = &[\n");
    if file.alert.len() != CATEGORIES.len() {
        return Err(format!(
            "rules/alerts.toml: {} rules for {} categories; give each category one",
            file.alert.len(),
            CATEGORIES.len()
        ));
    }
    for ((name, variant), a) in CATEGORIES.iter().zip(&file.alert) {
        let at = format!("rules/alerts.toml: alert {:?}", a.category);
        if a.category != *name {
            return Err(format!(
                "{at}: expected {name:?} here (one rule per category, in the category order)"
            ));
        }
        let fire = match a.fire.as_str() {
            "jump" => "Fire::Jump",
            "first_after_quiet" => "Fire::FirstAfterQuiet",
            "never" => "Fire::Never",
            other => return Err(format!("{at}: unknown fire {other:?}")),
        };
        if a.window_minutes == 0 || a.window_minutes > 60 {
            return Err(format!("{at}: window_minutes must be 1..=60"));
        }
        if a.min_count == 0 || a.factor == 0 || a.cooldown_minutes == 0 {
            return Err(format!(
                "{at}: min_count, factor and cooldown_minutes must be at least 1"
            ));
        }
        if !records.contains(&a.explained_by) {
            return Err(format!(
                "{at}: explained_by {:?} is no record under rules/errors/",
                a.explained_by
            ));
        }
        if a.source.is_empty() {
            return Err(format!("{at}: `source` is required"));
        }
        let _ = writeln!(
            out,
            "    AlertRule {{ category: Category::{variant}, fire: {fire}, window_minutes: {}, min_count: {}, factor: {}, cooldown_minutes: {}, explained_by: {:?}, source: {:?} }},",
            a.window_minutes, a.min_count, a.factor, a.cooldown_minutes, a.explained_by, a.source
        );
    }
    out.push_str("];\n");
    Ok(out)
}
