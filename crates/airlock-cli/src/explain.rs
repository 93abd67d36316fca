//! `airlock explain [FILE|-] [--json]`: diagnose a pasted OpenAI error.
//!
//! Exit codes: 0 when an error was found, 1 when the text holds no recognisable error, 2 on a usage
//! problem (unknown flag, more than one file, a file that cannot be read).

use core::fmt::Write as _;

use airlock_rules::ratelimit::LimitWindow;
use airlock_rules::redact::redact;
use airlock_rules::sse::{StreamKind, StreamState, StreamSummary};
use airlock_rules::{Category, Confidence, Diagnosis, Explanation, RetryDecision};
use serde_json::Value;

use crate::input;
use crate::report::{ExplainReport, ExplainRetry, ExplainSdk};

const USAGE: &str = "usage: airlock explain [FILE|-] [--json]

Reads a pasted OpenAI error (a JSON body, an SDK traceback, a log line, curl output, an SSE stream,
a Batch line, ...) from FILE or standard input and says what it means and what to do.

options:
  --json      print one JSON object instead of text
  -h, --help  print this help

exit status: 0 an error was found, 1 no recognisable error, 2 usage problem
";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    path: Option<String>,
    json: bool,
}

/// Parses the arguments after `explain`; `Err` holds the message for a usage problem,
/// `Ok(None)` means help was asked for.
fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut opts = Options {
        path: None,
        json: false,
    };
    for arg in args {
        match arg.as_str() {
            "--json" => opts.json = true,
            "-h" | "--help" => return Ok(None),
            "-" => set_path(&mut opts, arg)?,
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ => set_path(&mut opts, arg)?,
        }
    }
    Ok(Some(opts))
}

fn set_path(opts: &mut Options, arg: &str) -> Result<(), String> {
    if let Some(first) = &opts.path {
        return Err(format!("more than one input (`{first}` and `{arg}`)"));
    }
    opts.path = Some(arg.to_owned());
    Ok(())
}

/// Runs `airlock explain`; returns the exit code.
pub fn run(args: &[String]) -> u8 {
    let opts = match parse_args(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprint!("airlock explain: {e}\n{USAGE}");
            return 2;
        }
    };
    let text = match input::read_text(opts.path.as_deref()) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("airlock explain: {e}");
            return 2;
        }
    };
    let mut explanation = airlock_rules::explain(&text);
    let stream = airlock_rules::sse::describe_stream(&text);
    if explanation.diagnosis.is_none() {
        // A stream that was cut or ended incomplete carries no error of its own: diagnose what it shows.
        explanation.diagnosis = stream
            .as_ref()
            .and_then(|s| s.evidence())
            .map(|e| airlock_rules::diagnose(&e));
    }
    if opts.json {
        println!("{}", to_json(&explanation, stream.as_ref()));
    } else {
        print!("{}", to_text(&explanation));
        if let Some(s) = &stream {
            print!("\n{}", stream_text(s));
        }
    }
    if explanation.diagnosis.is_some() {
        0
    } else {
        1
    }
}

/// An empty string means "not known": `null` in JSON.
fn known(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// Masks keys and tokens in every string of a JSON value: the message and fields come from the
/// paste, and a pasted key must not be printed back.
fn scrub(v: &mut Value) {
    match v {
        Value::String(s) => {
            let clean = redact(s);
            if clean != *s {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        _ => {}
    }
}

/// The one JSON object `--json` prints ([`ExplainReport`], `schemas/explain.json`), with the
/// stream summary when the paste is a stream. Every key is always present; unknown values are
/// `null`. Strings taken from the paste are redacted.
fn to_json(e: &Explanation, stream: Option<&StreamSummary>) -> Value {
    let mut v = serde_json::to_value(report(e, stream)).unwrap_or(Value::Null);
    scrub(&mut v);
    v
}

fn report(e: &Explanation, stream: Option<&StreamSummary>) -> ExplainReport {
    let stream = stream.cloned();
    let Some(d) = &e.diagnosis else {
        return ExplainReport {
            found: false,
            category: None,
            delivery: None,
            confidence: None,
            status: None,
            code: None,
            error_type: None,
            param: None,
            message: None,
            request_id: None,
            sdk: ExplainSdk::default(),
            retry: ExplainRetry::default(),
            rate_limit: None,
            rate_limit_headers: None,
            meaning: None,
            first_fix: None,
            rule: None,
            format: None,
            unread: e.unread.clone(),
            stream,
        };
    };
    let known = |s: &str| known(s).map(str::to_owned);
    ExplainReport {
        found: true,
        category: Some(d.category),
        delivery: Some(d.delivery),
        confidence: Some(d.confidence),
        status: d.status,
        code: d.code.clone(),
        error_type: d.error_type.clone(),
        param: d.param.clone(),
        message: d.message.clone(),
        request_id: d.request_id.clone(),
        sdk: ExplainSdk {
            python: d.sdk.python.clone(),
            node: d.sdk.node.clone(),
            python_v0: d.sdk.python_v0.clone(),
        },
        retry: ExplainRetry {
            decision: Some(d.retry.decision),
            after_ms: d.retry.after_ms,
        },
        rate_limit: d.rate_limit.clone(),
        rate_limit_headers: d.rate_limit_headers.clone(),
        meaning: known(&d.meaning),
        first_fix: known(&d.first_fix),
        rule: known(&d.rule),
        format: Some(d.format),
        unread: e.unread.clone(),
        stream,
    }
}

/// The readable report.
fn to_text(e: &Explanation) -> String {
    let mut out = String::new();
    let Some(d) = &e.diagnosis else {
        out.push_str("No OpenAI error found in the input.\n");
        for note in &e.unread {
            let _ = writeln!(out, "  could not read: {}", redact(note));
        }
        return out;
    };
    let _ = writeln!(out, "{}", headline(d));
    if let Some(m) = known(&d.meaning) {
        let _ = writeln!(out, "\nWhat it means: {m}");
    }
    if let Some(f) = known(&d.first_fix) {
        let _ = writeln!(out, "First fix:     {f}");
    }
    let _ = writeln!(out, "Retry:         {}", retry_advice(d));
    if let Some(a) = d.delivery.advice() {
        let _ = writeln!(out, "Arrived:       {a}");
    }
    let _ = writeln!(out, "Confidence:    {}", confidence_words(d.confidence));

    let fields: [(&str, Option<String>); 6] = [
        ("status", d.status.map(|s| s.to_string())),
        ("code", d.code.clone()),
        ("type", d.error_type.clone()),
        ("param", d.param.clone()),
        ("request id", d.request_id.clone()),
        ("message", d.message.clone()),
    ];
    if fields.iter().any(|(_, v)| v.is_some()) {
        out.push_str("\nFound:\n");
        for (name, value) in fields {
            if let Some(v) = value {
                // Taken from the paste: never print a key back.
                let _ = writeln!(out, "  {name:<11} {}", redact(&v));
            }
        }
    }

    if let Some(r) = &d.rate_limit {
        out.push_str("\nRate limit:\n");
        if let Some(k) = r.kind {
            let _ = writeln!(
                out,
                "  limit hit   {} ({})",
                k.as_str(),
                limit_words(k.as_str())
            );
        }
        for (name, v) in [
            ("model", r.model.clone()),
            ("org", r.organization.clone()),
            ("limit", r.limit.map(|n| n.to_string())),
            ("used", r.used.map(|n| n.to_string())),
            ("requested", r.requested.map(|n| n.to_string())),
            ("try again", r.retry_after_ms.map(duration)),
        ] {
            if let Some(v) = v {
                let _ = writeln!(out, "  {name:<11} {}", redact(&v));
            }
        }
    }
    if let Some(h) = &d.rate_limit_headers {
        out.push_str("\nRate-limit headers:\n");
        for (name, w) in [("requests", &h.requests), ("tokens", &h.tokens)] {
            if let Some(w) = w {
                let _ = writeln!(out, "  {name:<11} {}", window(w));
            }
        }
    }
    if !e.unread.is_empty() {
        out.push_str("\nCould not read:\n");
        for note in &e.unread {
            let _ = writeln!(out, "  {}", redact(note));
        }
    }
    out
}

/// Where and how a pasted stream ended, for the text report.
fn stream_text(s: &StreamSummary) -> String {
    let kind = match s.kind {
        StreamKind::Responses => "Responses stream",
        StreamKind::ChatCompletions => "Chat Completions stream",
        _ => "Event stream",
    };
    let at = s
        .at_event
        .map_or_else(String::new, |n| format!(" at event {n} of {}", s.events));
    let mut out = match &s.state {
        StreamState::Completed => format!("Stream: {kind} completed{at}."),
        StreamState::Failed { error } => {
            let mut line = format!("Stream: {kind} failed{at}, in the `{}` event", error.event);
            if let Some(code) = &error.code {
                let _ = write!(line, ": {code}");
            }
            if let Some(message) = &error.message {
                let _ = write!(line, " ({message})");
            }
            if let Some(seq) = error.sequence_number {
                let _ = write!(line, "; sequence_number {seq}");
            }
            line.push('.');
            line
        }
        StreamState::Incomplete { reason } => format!(
            "Stream: {kind} incomplete{at}: {}.",
            reason.as_deref().unwrap_or("no reason given")
        ),
        StreamState::Cut {
            last_event,
            bytes,
            events,
        } => format!(
            "Stream: {kind} cut after {events} event{} ({bytes} bytes); last event: {}; {} never arrived, \
             so the connection dropped (or the paste is truncated) before the answer was complete.",
            if *events == 1 { "" } else { "s" },
            last_event.as_deref().unwrap_or("none"),
            match s.kind {
                StreamKind::Responses => "response.completed",
                _ => "data: [DONE]",
            }
        ),
        _ => format!("Stream: {kind}, {}.", s.state.as_str()),
    };
    if let Some(reason) = &s.finish_reason {
        let _ = write!(out, " Last finish_reason: {reason}.");
    }
    out.push('\n');
    out
}

/// `rate_limit · 429 · openai.RateLimitError / RateLimitError`
fn headline(d: &Diagnosis) -> String {
    let mut parts = vec![d.category.as_str().to_owned()];
    if let Some(s) = d.status {
        parts.push(s.to_string());
    }
    let classes: Vec<&str> = [&d.sdk.python, &d.sdk.node]
        .into_iter()
        .filter_map(|c| c.as_deref())
        .collect();
    if !classes.is_empty() {
        parts.push(classes.join(" / "));
    }
    parts.join(" · ")
}

/// "retry after 20 s", "don't retry: add credits …", "change the request first".
fn retry_advice(d: &Diagnosis) -> String {
    match d.retry.decision {
        RetryDecision::Yes => match d.retry.after_ms {
            Some(ms) => format!("retry after {}", duration(ms)),
            None => "retry with exponential backoff".to_owned(),
        },
        RetryDecision::AfterChange => {
            "change the request first; sending it again as is fails the same way".to_owned()
        }
        RetryDecision::No => format!("don't retry: {}", why_not(d.category)),
        _ => d.retry.decision.as_str().to_owned(),
    }
}

fn confidence_words(c: Confidence) -> &'static str {
    match c {
        Confidence::Certain => "certain (OpenAI's code, or two facts that agree)",
        Confidence::Likely => "likely (one fact decided it: a wording, a status or a class name)",
        _ => "guess (nothing known matched; the most likely reading of what was found)",
    }
}

fn why_not(c: Category) -> &'static str {
    match c {
        Category::Quota => "add credits or raise the usage limit; waiting does not help",
        Category::Authentication => "fix the API key first",
        Category::Permission => "get access for this key, organization, project or region first",
        Category::NotFound => "use a model or resource this key can see",
        _ => "retrying cannot help until something outside the request changes",
    }
}

fn limit_words(kind: &str) -> &'static str {
    match kind {
        "RPM" => "requests per minute",
        "RPD" => "requests per day",
        "TPM" => "tokens per minute",
        "TPD" => "tokens per day",
        "IPM" => "images per minute",
        _ => "limit",
    }
}

fn window(w: &LimitWindow) -> String {
    let mut parts = Vec::new();
    if let Some(l) = w.limit {
        parts.push(format!("limit {l}"));
    }
    if let Some(r) = w.remaining {
        parts.push(format!("remaining {r}"));
    }
    match (w.reset_ms, &w.reset) {
        (Some(ms), _) => parts.push(format!("resets in {}", duration(ms))),
        (None, Some(raw)) => parts.push(format!("resets in {raw}")),
        (None, None) => {}
    }
    parts.join(", ")
}

/// 120 → "120 ms", 20000 → "20 s", 1644 → "1.644 s", 380160 → "6 min 20.16 s".
fn duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let secs = |ms: u64| {
        let whole = ms / 1000;
        let frac = ms % 1000;
        if frac == 0 {
            format!("{whole} s")
        } else {
            let f = format!("{frac:03}");
            format!("{whole}.{} s", f.trim_end_matches('0'))
        }
    };
    if ms < 120_000 {
        return secs(ms);
    }
    let hours = ms / 3_600_000;
    let mins = (ms % 3_600_000) / 60_000;
    let rest = ms % 60_000;
    let mut s = String::new();
    if hours > 0 {
        let _ = write!(s, "{hours} h ");
    }
    if mins > 0 || hours > 0 {
        let _ = write!(s, "{mins} min");
    }
    if rest > 0 {
        let _ = write!(s, " {}", secs(rest));
    }
    s.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_arguments() {
        assert_eq!(
            parse_args(&args(&["x.txt", "--json"])),
            Ok(Some(Options {
                path: Some("x.txt".into()),
                json: true
            }))
        );
        assert_eq!(
            parse_args(&args(&["-"])),
            Ok(Some(Options {
                path: Some("-".into()),
                json: false
            }))
        );
        assert_eq!(parse_args(&args(&["--help"])), Ok(None));
        assert!(parse_args(&args(&["--jsn"])).is_err());
        assert!(parse_args(&args(&["a", "b"])).is_err());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(6), "6 ms");
        assert_eq!(duration(20_000), "20 s");
        assert_eq!(duration(1_644), "1.644 s");
        assert_eq!(duration(1_500), "1.5 s");
        assert_eq!(duration(380_160), "6 min 20.16 s");
        assert_eq!(duration(432_000), "7 min 12 s");
        assert_eq!(duration(3_600_000), "1 h 0 min");
    }

    #[test]
    fn json_has_every_key_when_nothing_found() {
        let v = to_json(
            &Explanation {
                diagnosis: None,
                unread: vec![],
            },
            None,
        );
        for key in [
            "category",
            "delivery",
            "confidence",
            "status",
            "code",
            "type",
            "param",
            "message",
            "request_id",
            "sdk",
            "retry",
            "rate_limit",
            "meaning",
            "first_fix",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["found"], false);
        assert!(v["category"].is_null());
    }

    /// A key in the paste (here a full-looking one inside a 401 body) is masked in both outputs.
    #[test]
    fn pasted_keys_are_not_printed_back() {
        let key = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90WXYZ";
        let paste = format!(
            r#"{{"error": {{"message": "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}}}"#
        );
        let e = airlock_rules::explain(&paste);
        let d = e.diagnosis.as_ref().expect("an error is found");
        assert!(
            d.message.as_deref().is_some_and(|m| m.contains(key)),
            "the test needs the raw message to hold the key: {:?}",
            d.message
        );
        let text = to_text(&e);
        let json = to_json(&e, None).to_string();
        for out in [&text, &json] {
            assert!(!out.contains("Ab12Cd34Ef56Gh78"), "{out}");
            assert!(out.contains("sk-proj-***WXYZ"), "{out}");
        }
        assert_eq!(to_json(&e, None)["code"], "invalid_api_key");
    }
}
