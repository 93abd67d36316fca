//! `airlock check [FILE|-] --endpoint E [--json] [--rule NAME=enforce|report|off]…`: the verdict
//! on a request body before it is sent.
//!
//! Exit 0 when the request passes, 1 when it would be rejected, 2 on a usage problem.

use airlock_rules::validate::{self, Config, Finding, Mode, Verdict};

const USAGE: &str = "usage: airlock check [FILE|-] --endpoint /v1/chat/completions [--json] [--rule NAME=enforce|report|off]… [--default enforce|report|off]";

struct Args {
    file: Option<String>,
    endpoint: String,
    json: bool,
    config: Config,
}

fn mode(s: &str) -> Option<Mode> {
    match s {
        "enforce" => Some(Mode::Enforce),
        "report" => Some(Mode::Report),
        "off" => Some(Mode::Off),
        _ => None,
    }
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut file = None;
    let mut endpoint = None;
    let mut json = false;
    let mut config = Config::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().cloned().ok_or(format!("{name} needs a value")),
            }
        };
        match flag {
            "--endpoint" | "-e" => endpoint = Some(value("--endpoint")?),
            "--json" => json = true,
            "--rule" => {
                let spec = value("--rule")?;
                let (name, m) = spec
                    .split_once('=')
                    .ok_or(format!("--rule takes NAME=MODE, got `{spec}`"))?;
                if !validate::RULES.iter().any(|(r, _)| *r == name) {
                    return Err(format!(
                        "unknown rule `{name}` (see `airlock check --rules`)"
                    ));
                }
                let m = mode(m).ok_or(format!("unknown mode `{m}`"))?;
                config.rules.insert(name.to_string(), m);
            }
            "--default" => {
                let m = value("--default")?;
                config.default = mode(&m).ok_or(format!("unknown mode `{m}`"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            _ if a.starts_with("--") => return Err(format!("unknown option `{a}`")),
            _ => {
                if file.replace(a.clone()).is_some() {
                    return Err("more than one input file".into());
                }
            }
        }
    }
    let endpoint = endpoint.ok_or("--endpoint is required")?;
    Ok(Args {
        file,
        endpoint,
        json,
        config,
    })
}

/// Runs `airlock check`; returns the exit code.
pub fn run(args: &[String]) -> u8 {
    if args.iter().any(|a| a == "--rules") {
        for (name, what) in validate::RULES {
            println!("{name:28} {what}");
        }
        return 0;
    }
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("airlock check: {e}");
            }
            eprintln!("{USAGE}");
            return 2;
        }
    };
    let body = match crate::input::read_bytes(a.file.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("airlock check: {e}");
            return 2;
        }
    };
    let verdict = validate::check(&a.endpoint, &body, &a.config);
    if a.json {
        println!("{}", to_json(&verdict));
    } else {
        print!("{}", to_text(&verdict));
    }
    if verdict.ok() { 0 } else { 1 }
}

fn finding_json(f: &Finding) -> crate::report::CheckFinding {
    crate::report::CheckFinding {
        message: f.error.message.clone(),
        error_type: f.error.error_type.clone(),
        param: f.error.param.clone(),
        code: f.error.code.clone(),
        rule: f.rule.clone(),
    }
}

fn to_json(v: &Verdict) -> String {
    let report = crate::report::CheckReport {
        ok: v.ok(),
        endpoint: v.endpoint.clone(),
        model: v.model.clone(),
        errors: v.errors.iter().map(finding_json).collect(),
        warnings: v.warnings.iter().map(finding_json).collect(),
        tokens: v.tokens.clone(),
        partly_checked: v.partly_checked,
    };
    crate::report::to_json(&report, true)
}

fn to_text(v: &Verdict) -> String {
    let mut out = String::new();
    if v.ok() {
        out.push_str("ok: OpenAI should accept this request\n");
    } else {
        out.push_str("rejected: OpenAI would answer 400 invalid_request_error\n");
    }
    if let Some(t) = &v.tokens {
        out.push_str(&tokens_line(t));
    }
    for (label, list) in [("error", &v.errors), ("warning", &v.warnings)] {
        for f in list {
            let e = &f.error;
            out.push_str(&format!(
                "{label} [{}] {} (param: {}, code: {})\n",
                f.rule,
                e.message,
                e.param.as_deref().unwrap_or("null"),
                e.code.as_deref().unwrap_or("null"),
            ));
        }
    }
    out
}

/// One line with the token budget: input (exact + estimated), output requested, window.
fn tokens_line(t: &validate::TokenReport) -> String {
    let least = if t.bytes_not_tokenized > 0 {
        "at least "
    } else {
        ""
    };
    let mut line = format!(
        "tokens: {least}{} input ({} exact, {} estimated; {})",
        t.input_total(),
        t.input_exact,
        t.input_estimated,
        t.encoding
    );
    if let (Some(n), Some(p)) = (t.output, &t.output_param) {
        line.push_str(&format!(", {n} output requested ({p})"));
    }
    match t.context_window {
        Some(w) if t.output_in_window => line.push_str(&format!(", context window {w}")),
        Some(w) => line.push_str(&format!(", input limit {w}")),
        None => line.push_str(", context window unknown for this model"),
    }
    if let Some(m) = t.max_output {
        line.push_str(&format!(", max output {m}"));
    }
    if !t.uncounted.is_empty() {
        line.push_str(&format!("; not counted: {}", t.uncounted.join(", ")));
    }
    if t.bytes_not_tokenized > 0 {
        line.push_str(&format!(
            "; {} bytes of text not tokenized (bound tokenize_cost)",
            t.bytes_not_tokenized
        ));
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_rules_and_endpoint() {
        let a = parse(&args(&[
            "req.json",
            "--endpoint",
            "/v1/chat/completions",
            "--rule",
            "model_max_tokens=report",
            "--json",
        ]))
        .unwrap();
        assert_eq!(a.file.as_deref(), Some("req.json"));
        assert_eq!(a.endpoint, "/v1/chat/completions");
        assert!(a.json);
        assert_eq!(a.config.mode("model_max_tokens"), Mode::Report);
    }

    #[test]
    fn usage_errors() {
        assert!(parse(&args(&["x.json"])).is_err());
        assert!(parse(&args(&["--endpoint", "/v1/x", "--rule", "nope=off"])).is_err());
        assert!(
            parse(&args(&[
                "--endpoint",
                "/v1/x",
                "--rule",
                "invalid_json=maybe"
            ]))
            .is_err()
        );
    }
}
