//! The alert a webhook receives: a Slack-compatible `text` plus the structured fields. Pure.

use airlock_rules::alert::{AlertRule, Window};
use serde_json::{Value, json};

/// What the Monitor knows when a category fires.
pub struct Firing<'a> {
    /// The rule that fired.
    pub rule: &'a AlertRule,
    /// The counts it fired on.
    pub window: Window,
    /// The models with the most errors of the category in the window: (model, count).
    pub top_models: &'a [(String, u64)],
    /// The latest request of the category: Airlock's request ID and the upstream's.
    pub example: Option<(String, Option<String>)>,
    /// When (ISO 8601).
    pub time: String,
}

/// The JSON body posted to `ALERT_WEBHOOK_URL`.
pub fn alert_body(f: &Firing<'_>) -> Value {
    let category = f.rule.category.as_str();
    let models: Vec<Value> = f
        .top_models
        .iter()
        .map(|(m, n)| json!({ "model": m, "count": n }))
        .collect();
    let model_text = f
        .top_models
        .iter()
        .map(|(m, n)| format!("{m} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    let why = match f.rule.fire {
        airlock_rules::alert::Fire::FirstAfterQuiet => "first after a quiet hour".to_owned(),
        _ => format!(
            "{} in the trailing hour, alert at {}x",
            f.window.baseline, f.rule.factor
        ),
    };
    let mut text = format!(
        "Airlock alert: {category} — {} in the last {} min ({why}).",
        f.window.recent, f.rule.window_minutes
    );
    if !model_text.is_empty() {
        text.push_str(&format!(" Models: {model_text}."));
    }
    text.push_str(&format!(" First fix: {}", f.rule.first_fix()));
    if let Some((id, _)) = &f.example {
        text.push_str(&format!(" Example request: {id}."));
    }
    json!({
        "text": text,
        "category": category,
        "count": f.window.recent,
        "window_minutes": f.rule.window_minutes,
        "baseline_hour": f.window.baseline,
        "min_count": f.rule.min_count,
        "factor": f.rule.factor,
        "fire": f.rule.fire.as_str(),
        "cooldown_minutes": f.rule.cooldown_minutes,
        "top_models": models,
        "example_request_id": f.example.as_ref().map(|e| e.0.clone()),
        "example_upstream_request_id": f.example.as_ref().and_then(|e| e.1.clone()),
        "meaning": f.rule.meaning(),
        "first_fix": f.rule.first_fix(),
        "time": f.time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_rules::Category;

    #[test]
    fn slack_text_and_fields() {
        let rule = airlock_rules::alert::rule_for(Category::ServerError);
        let models = [("gpt-4o-mini".to_owned(), 9)];
        let body = alert_body(&Firing {
            rule,
            window: Window {
                recent: 9,
                baseline: 0,
            },
            top_models: &models,
            example: Some(("req_airlock_1".to_owned(), Some("req_up".to_owned()))),
            time: "2026-01-01T00:00:00Z".to_owned(),
        });
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("Airlock alert: server_error — 9 in the last 5 min"),
            "{text}"
        );
        assert!(text.contains("gpt-4o-mini (9)") && text.contains(rule.first_fix()));
        assert_eq!(body["category"], "server_error");
        assert_eq!(body["count"], 9);
        assert_eq!(body["top_models"][0]["model"], "gpt-4o-mini");
        assert_eq!(body["example_request_id"], "req_airlock_1");
        assert_eq!(body["first_fix"], rule.first_fix());
    }
}
