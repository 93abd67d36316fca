//! `airlock batch lint|explain|join`: Batch input files, Batch objects and result files.
//!
//! Exit codes: `lint` 0 clean, 1 problems; `explain` 0 when something was explained, 1 when the
//! input is not a Batch object or line; `join` 0 when every request succeeded, 1 when some failed
//! or are missing; 2 on a usage problem or an unreadable file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};

use airlock_rules::batch::{self, BatchExplanation, Join, JoinState, LineError, LintState};

const USAGE: &str = "usage: airlock batch lint FILE [--endpoint E] [--json]
       airlock batch explain [FILE|-] [--json]
       airlock batch join INPUT OUTPUT ERRORS [--json]   (OUTPUT or ERRORS may be `-` for none)";

/// At most this many errors are kept for `--json` output; the rest are only counted.
const JSON_ERROR_CAP: usize = 1000;

pub fn run(args: &[String]) -> u8 {
    let Some((sub, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return 2;
    };
    let mut json = false;
    let mut endpoint = None;
    let mut files = Vec::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--endpoint" | "-e" => match it.next() {
                Some(e) => endpoint = Some(e.clone()),
                None => {
                    eprintln!("airlock batch: --endpoint needs a value\n{USAGE}");
                    return 2;
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            s if s.starts_with("--endpoint=") => endpoint = Some(s["--endpoint=".len()..].into()),
            s if s.starts_with("--") => {
                eprintln!("airlock batch: unknown option `{s}`\n{USAGE}");
                return 2;
            }
            _ => files.push(a.clone()),
        }
    }
    let result = match (sub.as_str(), files.len()) {
        ("lint", 1) => lint(&files[0], endpoint.as_deref(), json),
        ("explain", 0 | 1) => explain(files.first().map(String::as_str), json),
        ("join", 3) => join(&files[0], &files[1], &files[2], json),
        ("lint" | "explain" | "join", _) => Err(format!("wrong number of files for `{sub}`")),
        _ => Err(format!("unknown batch command `{sub}`")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("airlock batch: {e}\n{USAGE}");
            2
        }
    }
}

fn open(path: &str) -> Result<Box<dyn BufRead>, String> {
    if path == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let f = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
}

/// Calls `f(line_no, line)` for each line (without its `\n`), reusing one buffer.
fn each_line(path: &str, mut f: impl FnMut(u64, &[u8], bool)) -> Result<(), String> {
    let mut r = open(path)?;
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        let got = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{path}: {e}"))?;
        if got == 0 {
            return Ok(());
        }
        n += 1;
        let had_newline = buf.last() == Some(&b'\n');
        let line = if had_newline {
            &buf[..buf.len() - 1]
        } else {
            &buf[..]
        };
        f(n, line, had_newline);
    }
}

fn print_error(out: &mut impl Write, e: &LineError) {
    let at = match e.line {
        Some(n) => format!("line {n}"),
        None => "file".to_string(),
    };
    let param = e
        .param
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    let _ = writeln!(out, "{at}: {}{param}: {}", e.code, e.message);
}

fn lint(path: &str, endpoint: Option<&str>, json: bool) -> Result<u8, String> {
    let mut state = LintState::new();
    if let Some(e) = endpoint {
        if !batch::ENDPOINTS.contains(&e) {
            return Err(format!(
                "`{e}` is not a Batch endpoint (one of {})",
                batch::ENDPOINTS.join(", ")
            ));
        }
        state.set_endpoint(e);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut kept: Vec<LineError> = Vec::new();
    each_line(path, |n, line, had_newline| {
        let errors = batch::lint_line(n, line, &mut state);
        if !had_newline {
            state.last_line_unterminated();
        }
        for e in errors {
            if json {
                if kept.len() < JSON_ERROR_CAP {
                    kept.push(e);
                }
            } else {
                print_error(&mut out, &e);
            }
        }
    })?;
    for e in state.finish() {
        if json {
            kept.push(e);
        } else {
            print_error(&mut out, &e);
        }
    }
    let ok = state.errors() == 0;
    if json {
        let report = crate::report::BatchLintReport {
            ok,
            requests: state.requests(),
            bytes: state.bytes(),
            endpoint: state.endpoint().map(str::to_owned),
            model: state.model().map(str::to_owned),
            errors_total: state.errors(),
            lines_with_errors: state.lines_with_errors(),
            errors: kept,
            limits: batch::LIMITS,
        };
        let v = crate::report::to_json(&report, false);
        let _ = writeln!(out, "{v}");
    } else if ok {
        let _ = writeln!(
            out,
            "ok: {} requests, {} bytes, endpoint {}, model {}",
            state.requests(),
            state.bytes(),
            state.endpoint().unwrap_or("-"),
            state.model().unwrap_or("-")
        );
    } else {
        let _ = writeln!(
            out,
            "{} problems on {} of {} requests",
            state.errors(),
            state.lines_with_errors(),
            state.requests()
        );
    }
    Ok(if ok { 0 } else { 1 })
}

fn explain(path: Option<&str>, json: bool) -> Result<u8, String> {
    let mut text = String::new();
    match path {
        None | Some("-") => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("reading stdin: {e}"))?;
        }
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    // One JSON document (a Batch object, pretty-printed or not), else a JSONL file of lines.
    let found: Vec<BatchExplanation> = match batch::explain_batch(&text) {
        Some(e) => vec![e],
        None => text.lines().filter_map(batch::explain_batch).collect(),
    };
    if found.is_empty() {
        if json {
            println!("null");
        } else {
            println!("no Batch object, Batch error or result line found");
        }
        return Ok(1);
    }
    if json {
        if found.len() == 1 {
            println!("{}", serde_json::to_string(&found[0]).unwrap_or_default());
        } else {
            for e in &found {
                println!("{}", serde_json::to_string(e).unwrap_or_default());
            }
        }
        return Ok(0);
    }
    for e in &found {
        print_explanation(e);
    }
    Ok(0)
}

fn print_item(e: &batch::BatchErrorItem) {
    let line = e.line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let code = e.code.as_deref().unwrap_or("(no code)");
    let param = e
        .param
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    println!(
        "  {line}{code}{param}: {}",
        e.message.as_deref().unwrap_or("")
    );
    if let Some(m) = &e.meaning {
        println!("    means: {m}");
    }
    if let Some(f) = &e.first_fix {
        println!("    fix: {f}");
    }
    if let Some(r) = &e.retry {
        let r = match r.as_str() {
            "yes" => "yes (the same request or file can be sent again, after waiting)",
            "after_change" => "only after changing the input",
            "no" => "no (something outside the request must change first)",
            other => other,
        };
        println!("    retry: {r}");
    }
}

fn print_explanation(e: &BatchExplanation) {
    match e {
        BatchExplanation::Batch {
            id,
            status,
            meaning,
            next_step,
            errors,
            request_counts,
            output_file_id,
            error_file_id,
            ..
        } => {
            println!(
                "batch {}: status {}",
                id.as_deref().unwrap_or("?"),
                status.as_deref().unwrap_or("?")
            );
            if let Some(m) = meaning {
                println!("  {m}");
            }
            if let Some(c) = request_counts {
                println!(
                    "  requests: {} total, {} completed, {} failed",
                    c.total, c.completed, c.failed
                );
            }
            if !errors.is_empty() {
                println!("errors:");
                for item in errors {
                    print_item(item);
                }
            }
            if let Some(f) = output_file_id {
                println!("  output file: {f}");
            }
            if let Some(f) = error_file_id {
                println!("  error file: {f}");
            }
            if let Some(n) = next_step {
                println!("next: {n}");
            }
        }
        BatchExplanation::Line { line, diagnosis } => {
            let id = line.custom_id.as_deref().unwrap_or("?");
            let status = line
                .status_code
                .map(|c| format!("HTTP {c}"))
                .unwrap_or_else(|| "no response".into());
            if line.ok {
                println!("{id}: ok ({status})");
            } else {
                println!("{id}: failed ({status})");
                if let Some(err) = &line.error {
                    print_item(err);
                }
                if let Some(d) = diagnosis {
                    println!(
                        "    category: {}, retry: {}",
                        d.category.as_str(),
                        d.retry.decision.as_str()
                    );
                }
            }
        }
        BatchExplanation::Error { error } => {
            println!("batch error:");
            print_item(error);
        }
        BatchExplanation::Errors { errors } => {
            println!("batch errors:");
            for item in errors {
                print_item(item);
            }
        }
        _ => {}
    }
}

fn join(input: &str, output: &str, errors: &str, json: bool) -> Result<u8, String> {
    let mut j = Join::new();
    each_line(input, |n, line, _| j.input_line(n, line))?;
    for path in [output, errors] {
        if path != "-" {
            each_line(path, |_, line, _| j.result_line(line))?;
        }
    }
    let unreadable = j.unreadable();
    let rows = j.finish();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut ok, mut failed, mut missing) = (0u64, 0u64, 0u64);
    for r in &rows {
        match &r.state {
            JoinState::Ok { .. } => ok += 1,
            JoinState::Failed { .. } => failed += 1,
            _ => missing += 1,
        }
        if json {
            let _ = writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default());
            continue;
        }
        let line = r.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into());
        let state = match &r.state {
            JoinState::Ok { .. } => "ok".to_string(),
            JoinState::Failed {
                status_code,
                code,
                message,
            } => format!(
                "failed\t{}\t{}\t{}",
                status_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                code.as_deref().unwrap_or("-"),
                message.as_deref().unwrap_or("")
            ),
            _ => "missing".to_string(),
        };
        let _ = writeln!(out, "{}\t{line}\t{state}", r.custom_id);
    }
    let _ = out.flush();
    eprintln!(
        "{} requests: {ok} ok, {failed} failed, {missing} missing{}",
        rows.len(),
        if unreadable > 0 {
            format!(" ({unreadable} unreadable lines)")
        } else {
            String::new()
        }
    );
    Ok(if failed == 0 && missing == 0 { 0 } else { 1 })
}
