//! The `Monitor` Durable Object: 24 h of per-minute counts in SQLite, alerts judged as counts
//! arrive, the status JSON.
//!
//! Tables: `counts(minute, dim, key, n)` (dimensions in [`batch::DIMS`]), `alerts(category,
//! fired_minute, fired_ms)`, `examples(category, request_id, upstream_request_id)`.

use alloc::collections::BTreeMap;
use core::cell::Cell;
use core::pin::pin;

use airlock_rules::Category;
use airlock_rules::alert::{self, Decision};
use futures_util::future::{Either, select};
use serde::Deserialize;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use worker::{
    DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue, State,
    durable_object,
};

use super::batch::{self, Batch, MAX_KEY_CHARS};
use super::{now_minute, payload};

/// Counts are kept this long, in minutes.
pub const KEEP_MINUTES: u64 = 24 * 60;
/// At most this many distinct models (and category × model pairs) per minute; more are `(other)`.
pub const MAX_MODELS_PER_MINUTE: u64 = 64;
/// At most this many counts are read from one report.
pub const MAX_REPORT_COUNTS: usize = 8192;
/// A report body is read up to this size.
pub const MAX_REPORT_BYTES: usize = 1 << 20;
/// The webhook gets this long to answer, in milliseconds.
pub const WEBHOOK_TIMEOUT_MS: u64 = 10_000;

/// The Durable Object.
#[durable_object]
pub struct Monitor {
    state: State,
    env: Env,
    pruned: Cell<u64>,
}

impl core::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Monitor")
    }
}

#[derive(Deserialize)]
struct MinuteCount {
    minute: f64,
    n: f64,
}

#[derive(Deserialize)]
struct KeyCount {
    key: String,
    minute: f64,
    n: f64,
}

#[derive(Deserialize)]
struct DimCount {
    dim: String,
    key: String,
    n: f64,
}

#[derive(Deserialize)]
struct Fired {
    category: String,
    fired_minute: f64,
    fired_ms: f64,
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

fn text(v: &str) -> SqlStorageValue {
    SqlStorageValue::String(v.to_owned())
}

impl DurableObject for Monitor {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for statement in [
            "CREATE TABLE IF NOT EXISTS counts (minute INTEGER NOT NULL, dim TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (minute, dim, key))",
            "CREATE TABLE IF NOT EXISTS alerts (category TEXT PRIMARY KEY, fired_minute INTEGER NOT NULL, fired_ms REAL NOT NULL)",
            "CREATE TABLE IF NOT EXISTS examples (category TEXT PRIMARY KEY, request_id TEXT NOT NULL, upstream_request_id TEXT)",
        ] {
            if let Err(e) = sql.exec(statement, None) {
                worker::console_error!("airlock monitor: schema: {e}");
            }
        }
        Monitor {
            state,
            env,
            pruned: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/report") => {
                let bytes = req.bytes().await?;
                if bytes.len() > MAX_REPORT_BYTES {
                    return Response::error("report too large", 413);
                }
                let batch: Batch = serde_json::from_slice(&bytes)?;
                self.ingest(batch).await?;
                Ok(Response::empty()?.with_status(204))
            }
            (Method::Get, "/status") => Response::from_json(&self.status()?),
            _ => Response::error("not found", 404),
        }
    }
}

impl Monitor {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// Adds a report's counts, forgets what is older than a day, and judges every category the
    /// report counted.
    async fn ingest(&self, batch: Batch) -> Result<()> {
        let sql = self.sql();
        let now = now_minute();
        let mut seen: Vec<Category> = Vec::new();
        for (minute, dim, key, n) in batch.counts.into_iter().take(MAX_REPORT_COUNTS) {
            let Some(dim) = batch::DIMS.iter().copied().find(|d| *d == dim) else {
                continue;
            };
            if minute.saturating_add(KEEP_MINUTES) <= now || minute > now.saturating_add(5) {
                continue;
            }
            let mut key: String = key.chars().take(MAX_KEY_CHARS * 2 + 1).collect();
            if matches!(dim, "model" | "cat_model") && !self.room_for(minute, dim, &key)? {
                key = match dim {
                    "cat_model" => match key.split_once('\t') {
                        Some((c, _)) => format!("{c}\t(other)"),
                        None => "(other)".to_owned(),
                    },
                    _ => "(other)".to_owned(),
                };
            }
            if n < 0 {
                // A take-back (a stream that failed after its 200 leaves `ok`): never below 0.
                sql.exec(
                    "UPDATE counts SET n = MAX(n - ?, 0) WHERE minute = ? AND dim = ? AND key = ?",
                    vec![int(n.unsigned_abs()), int(minute), text(dim), text(&key)],
                )?;
                continue;
            }
            if n == 0 {
                continue;
            }
            if dim == "category" {
                if let Some(c) = Category::from_name(&key).filter(|c| !seen.contains(c)) {
                    seen.push(c);
                }
            }
            sql.exec(
                "INSERT INTO counts (minute, dim, key, n) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (minute, dim, key) DO UPDATE SET n = n + excluded.n",
                vec![
                    int(minute),
                    text(dim),
                    SqlStorageValue::String(key),
                    int(n.unsigned_abs()),
                ],
            )?;
        }
        for (category, request_id, upstream) in batch.examples.into_iter().take(32) {
            if Category::from_name(&category).is_none() {
                continue;
            }
            sql.exec(
                "INSERT OR REPLACE INTO examples (category, request_id, upstream_request_id) VALUES (?, ?, ?)",
                vec![
                    SqlStorageValue::String(category),
                    text(&request_id.chars().take(MAX_KEY_CHARS).collect::<String>()),
                    upstream.map_or(SqlStorageValue::Null, |u| {
                        text(&u.chars().take(MAX_KEY_CHARS).collect::<String>())
                    }),
                ],
            )?;
        }
        if self.pruned.get() != now {
            self.pruned.set(now);
            sql.exec(
                "DELETE FROM counts WHERE minute < ?",
                vec![int(now.saturating_sub(KEEP_MINUTES - 1))],
            )?;
        }
        for category in seen {
            self.judge(category, now).await?;
        }
        Ok(())
    }

    /// True when `key` may get its own count in `minute` (it has one, or the minute holds fewer
    /// than [`MAX_MODELS_PER_MINUTE`] keys of `dim`).
    fn room_for(&self, minute: u64, dim: &str, key: &str) -> Result<bool> {
        let sql = self.sql();
        let has: Vec<MinuteCount> = sql
            .exec(
                "SELECT minute, n FROM counts WHERE minute = ? AND dim = ? AND key = ?",
                vec![int(minute), text(dim), text(key)],
            )?
            .to_array()?;
        if !has.is_empty() {
            return Ok(true);
        }
        let total: Vec<MinuteCount> = sql
            .exec(
                "SELECT ? AS minute, COUNT(*) AS n FROM counts WHERE minute = ? AND dim = ?",
                vec![int(minute), int(minute), text(dim)],
            )?
            .to_array()?;
        Ok(total
            .first()
            .is_none_or(|t| (t.n as u64) < MAX_MODELS_PER_MINUTE))
    }

    /// A category's per-minute counts over its rule's window and the trailing hour.
    fn recent(&self, category: Category, now: u64) -> Result<Vec<(u64, u64)>> {
        let rule = alert::rule_for(category);
        let from = now.saturating_sub(u64::from(rule.window_minutes) + alert::BASELINE_MINUTES);
        let rows: Vec<MinuteCount> = self
            .sql()
            .exec(
                "SELECT minute, n FROM counts WHERE dim = 'category' AND key = ? AND minute >= ?",
                vec![text(category.as_str()), int(from)],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| (r.minute as u64, r.n as u64))
            .collect())
    }

    fn last_fired(&self) -> Result<BTreeMap<String, (u64, f64)>> {
        let rows: Vec<Fired> = self
            .sql()
            .exec("SELECT category, fired_minute, fired_ms FROM alerts", None)?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| (r.category, (r.fired_minute as u64, r.fired_ms)))
            .collect())
    }

    /// Judges one category's rule now; on firing, records it (before anything is awaited, so a
    /// second report cannot fire it again), logs it and posts it to the webhook.
    async fn judge(&self, category: Category, now: u64) -> Result<()> {
        let rule = alert::rule_for(category);
        let w = alert::window(rule, &self.recent(category, now)?, now);
        let last = self
            .last_fired()?
            .get(category.as_str())
            .map(|(minute, _)| *minute);
        if alert::evaluate(rule, w, now, last) != Decision::Fire {
            return Ok(());
        }
        let sql = self.sql();
        sql.exec(
            "INSERT OR REPLACE INTO alerts (category, fired_minute, fired_ms) VALUES (?, ?, ?)",
            vec![
                text(category.as_str()),
                int(now),
                SqlStorageValue::Float(js_sys::Date::now()),
            ],
        )?;
        let from = now.saturating_sub(u64::from(rule.window_minutes) - 1);
        let models: Vec<KeyCount> = sql
            .exec(
                "SELECT key, 0 AS minute, SUM(n) AS n FROM counts WHERE dim = 'cat_model' AND minute >= ? \
                 AND substr(key, 1, ?) = ? GROUP BY key ORDER BY n DESC LIMIT 3",
                vec![
                    int(from),
                    int(category.as_str().len() as u64 + 1),
                    text(&format!("{}\t", category.as_str())),
                ],
            )?
            .to_array()?;
        let top: Vec<(String, u64)> = models
            .into_iter()
            .map(|m| {
                let model = m.key.split_once('\t').map_or("", |(_, m)| m).to_owned();
                (model, m.n as u64)
            })
            .collect();
        #[derive(Deserialize)]
        struct Example {
            request_id: String,
            upstream_request_id: Option<String>,
        }
        let example: Option<Example> = sql
            .exec(
                "SELECT request_id, upstream_request_id FROM examples WHERE category = ?",
                vec![text(category.as_str())],
            )?
            .to_array()?
            .into_iter()
            .next();
        let body = payload::alert_body(&payload::Firing {
            rule,
            window: w,
            top_models: &top,
            example: example.map(|e| (e.request_id, e.upstream_request_id)),
            time: String::from(js_sys::Date::new_0().to_iso_string()),
        });
        let outcome = self.post(&body).await;
        let line = airlock_rules::log_line::AlertLine {
            event: "alert",
            category: category.as_str(),
            count: w.recent,
            baseline_hour: w.baseline,
            window_minutes: rule.window_minutes,
            webhook: &outcome,
        };
        // Written through a `Value`, so the keys stay in the order this line always had.
        worker::console_log!("{}", serde_json::to_value(&line).unwrap_or_default());
        Ok(())
    }

    /// Posts `body` to `ALERT_WEBHOOK_URL` when it is set; says what happened (never the URL:
    /// a Slack webhook URL is a secret).
    async fn post(&self, body: &Value) -> String {
        let url = self
            .env
            .secret("ALERT_WEBHOOK_URL")
            .map(|s| s.to_string())
            .or_else(|_| self.env.var("ALERT_WEBHOOK_URL").map(|s| s.to_string()))
            .unwrap_or_default();
        let url = url.trim();
        if url.is_empty() {
            return "unset".to_owned();
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return "invalid_url".to_owned();
        }
        let headers = worker::Headers::new();
        let _ = headers.set("content-type", "application/json");
        let init = worker::RequestInit {
            method: Method::Post,
            headers,
            body: Some(JsValue::from_str(&body.to_string())),
            ..worker::RequestInit::default()
        };
        let Ok(req) = Request::new_with_init(url, &init) else {
            return "invalid_url".to_owned();
        };
        let fetch = worker::Fetch::Request(req);
        let call = fetch.send();
        let timer = crate::body::delay(WEBHOOK_TIMEOUT_MS);
        match select(pin!(call), pin!(timer)).await {
            Either::Left((Ok(resp), _)) => format!("sent {}", resp.status_code()),
            Either::Left((Err(_), _)) => "failed".to_owned(),
            Either::Right(_) => "timeout".to_owned(),
        }
    }

    /// The status JSON: the last hour by minute and the last day by hour, per category; the
    /// day's totals per dimension (top 20 keys each); each category's alert rule and state.
    fn status(&self) -> Result<Value> {
        let now = now_minute();
        let day_from = now.saturating_sub(KEEP_MINUTES - 1);
        let rows: Vec<KeyCount> = self
            .sql()
            .exec(
                "SELECT key, minute, n FROM counts WHERE dim = 'category' AND minute >= ?",
                vec![int(day_from)],
            )?
            .to_array()?;
        let mut hour: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut day: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut per_category: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
        for r in &rows {
            let (minute, n) = (r.minute as u64, r.n as u64);
            if minute > now {
                continue;
            }
            let age = now - minute;
            if age < 60 {
                let slot = hour.entry(r.key.clone()).or_insert_with(|| vec![0; 60]);
                if let Some(s) = slot.get_mut(59 - age as usize) {
                    *s += n;
                }
            }
            let slot = day.entry(r.key.clone()).or_insert_with(|| vec![0; 24]);
            if let Some(s) = slot.get_mut(23 - (age / 60) as usize) {
                *s += n;
            }
            per_category
                .entry(r.key.clone())
                .or_default()
                .push((minute, n));
        }
        let dims: Vec<DimCount> = self
            .sql()
            .exec(
                "SELECT dim, key, SUM(n) AS n FROM counts WHERE minute >= ? AND dim != 'cat_model' \
                 GROUP BY dim, key ORDER BY n DESC",
                vec![int(day_from)],
            )?
            .to_array()?;
        let mut totals: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for d in dims {
            let list = totals.entry(d.dim).or_default();
            if list.len() < 20 {
                list.push(json!({ "key": d.key, "count": d.n as u64 }));
            }
        }
        let fired = self.last_fired()?;
        let alerts: Vec<Value> = alert::rules()
            .iter()
            .map(|rule| {
                let name = rule.category.as_str();
                let counts = per_category.get(name).map_or(&[][..], Vec::as_slice);
                let w = alert::window(rule, counts, now);
                let last = fired.get(name);
                let state = alert::evaluate(rule, w, now, last.map(|l| l.0));
                let cooling = last.is_some_and(|(m, _)| now < m + u64::from(rule.cooldown_minutes));
                json!({
                    "category": name,
                    "state": if cooling { "cooling" } else { state.as_str() },
                    "recent": w.recent,
                    "baseline_hour": w.baseline,
                    "fire": rule.fire.as_str(),
                    "window_minutes": rule.window_minutes,
                    "min_count": rule.min_count,
                    "factor": rule.factor,
                    "cooldown_minutes": rule.cooldown_minutes,
                    "last_fired": last.map(|l| String::from(js_sys::Date::new(&JsValue::from_f64(l.1)).to_iso_string())),
                    "meaning": rule.meaning(),
                    "first_fix": rule.first_fix(),
                })
            })
            .collect();
        Ok(json!({
            "now": String::from(js_sys::Date::new_0().to_iso_string()),
            "now_minute": now,
            "hour": { "minutes": 60, "categories": hour },
            "day": { "bucket_minutes": 60, "categories": day },
            "totals_24h": totals,
            "alerts": alerts,
            "database_bytes": self.sql().database_size(),
        }))
    }
}
