//! Presentation invariance of [`airlock_rules::explain`] (issue 13): every case of the tuned
//! golden files (`tests/cases/*.toml`, never `tests/cases/heldout/`) is pasted again the way real
//! pastes arrive (copied from a coloured terminal, with Windows line ends, inside a Markdown fence,
//! behind a logger's or a container runtime's prefix on every line, JSON-escaped inside a log
//! field, HTML-escaped, reflowed, with prose around it in another language), and whether an error
//! is found, its `category` and its `retry` decision must stay what the case expects.
//!
//! Each transformation only changes how the paste is presented, never what it says; where one
//! cannot apply faithfully (a body that is not one JSON document cannot be re-indented) it is
//! skipped for that case. Failures are grouped by transformation and printed together.
// A host-only test: std paths are fine here.
#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core)]

use core::fmt::Write as _;
use std::path::{Path, PathBuf};

use airlock_rules::explain;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    input: String,
    #[serde(default = "yes")]
    found: bool,
    category: Option<String>,
    retry: Option<String>,
    /// A tuned miss left open (`tests/cases.rs`): its expectation is not met as pasted, so no
    /// presentation of it is compared.
    open: Option<String>,
}

fn yes() -> bool {
    true
}

/// The tuned golden cases: `tests/cases/*.toml`, not the held-out split.
fn tuned_cases() -> Vec<(String, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).expect("readable case file");
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: not a case file: {e}"));
        out.extend(
            file.case
                .into_iter()
                .filter(|c| c.open.is_none())
                .map(|c| (name.clone(), c)),
        );
    }
    out
}

/// A presentation transformation: `None` when it cannot apply faithfully to this paste.
type Transform = fn(&str) -> Option<String>;

/// Every line (split on `\n`) mapped by `f`, the line ends kept.
fn per_line(text: &str, f: impl FnMut(&str) -> String) -> String {
    text.split('\n').map(f).collect::<Vec<_>>().join("\n")
}

/// Windows line ends (a paste from a Windows terminal or a file saved there).
fn crlf(text: &str) -> Option<String> {
    text.contains('\n').then(|| text.replace('\n', "\r\n"))
}

/// A coloured terminal: every non-empty line in red, reset at its end (what `rich`, `colorama`,
/// pino-pretty or a CI log keep when copied raw).
fn ansi_colour(text: &str) -> Option<String> {
    Some(per_line(text, |l| {
        if l.trim().is_empty() {
            l.to_owned()
        } else {
            format!("\x1b[31m{l}\x1b[0m")
        }
    }))
}

/// A coloured log level before the paste (`\x1b[1;31mERROR\x1b[0m `), as a terminal logger prints it.
fn ansi_level(text: &str) -> Option<String> {
    Some(format!("\x1b[1;31mERROR\x1b[0m\x1b[2m:\x1b[0m {text}"))
}

/// A fenced Markdown code block, as an issue or a chat shows it.
fn fence(text: &str) -> Option<String> {
    Some(format!("```text\n{text}\n```"))
}

/// A Markdown code block indented by four spaces.
fn indent(text: &str) -> Option<String> {
    Some(per_line(text, |l| format!("    {l}")))
}

/// `docker logs -t` (and Kubernetes' container runtime): an RFC 3339 timestamp before every line.
fn docker_timestamps(text: &str) -> Option<String> {
    Some(per_line(text, |l| {
        format!("2026-12-07T10:31:02.123456789Z {l}")
    }))
}

/// `docker compose up`: the service's name and a bar before every line.
fn compose_prefix(text: &str) -> Option<String> {
    Some(per_line(text, |l| format!("api-1  | {l}")))
}

/// `journalctl`: date, host and unit before every line.
fn journald_prefix(text: &str) -> Option<String> {
    Some(per_line(text, |l| {
        format!("Dec 07 10:31:02 web-01 app[2417]: {l}")
    }))
}

/// Python's `logging` default format before the first line (a traceback or a body follows on the
/// lines after it, as `logger.error("…%s", e)` prints them).
fn python_logger(text: &str) -> Option<String> {
    Some(format!("2026-12-07 10:31:02,123 ERROR app.module: {text}"))
}

/// A worker's tag before every line (`[worker-3] …`), as a process manager prints it.
fn worker_tag(text: &str) -> Option<String> {
    Some(per_line(text, |l| format!("[worker-3] {l}")))
}

/// The paste as one field of a JSON log line (`{"level":"error","msg":"Error code: 400 - {\"error\": …"}`).
fn json_log_field(text: &str) -> Option<String> {
    let msg = serde_json::to_string(text).expect("a string serializes");
    Some(format!(
        "{{\"level\":\"error\",\"time\":\"2026-12-07T10:31:02.123Z\",\"msg\":{msg}}}"
    ))
}

/// Docker's `json-file` driver around a JSON logger's record: the paste escaped twice
/// (`{"log":"{\"level\":\"error\",\"msg\":\"Error code: 400 - {\\\"error\\\": …"}`).
fn docker_json_file(text: &str) -> Option<String> {
    let record = json_log_field(text)?;
    let log = serde_json::to_string(&format!("{record}\n")).expect("a string serializes");
    Some(format!(
        "{{\"log\":{log},\"stream\":\"stderr\",\"time\":\"2026-12-07T10:31:02.123456789Z\"}}"
    ))
}

/// `kubectl logs --prefix`: the pod and container before every line.
fn kubectl_prefix(text: &str) -> Option<String> {
    Some(per_line(text, |l| {
        format!("[pod/api-7d9f5c6b8-x2k4q/api] {l}")
    }))
}

/// HTML-escaped, as a web page or an HTML log viewer shows it (`&quot;`, `&#39;`, `&lt;`).
fn html_escaped(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    (out != text).then_some(out)
}

/// A paste that is one JSON document, minified.
fn json_minified(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    if !v.is_object() && !v.is_array() {
        return None;
    }
    let out = serde_json::to_string(&v).ok()?;
    (out != text.trim()).then_some(out)
}

/// A paste that is one JSON document, pretty-printed.
fn json_pretty(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    if !v.is_object() && !v.is_array() {
        return None;
    }
    let out = serde_json::to_string_pretty(&v).ok()?;
    (out != text.trim()).then_some(out)
}

/// French prose around the paste (a forum question).
fn prose_french(text: &str) -> Option<String> {
    Some(format!(
        "Bonjour, depuis ce matin j'obtiens ceci :\n\n{text}\n\nQuelqu'un aurait une idée ? Merci d'avance."
    ))
}

/// Chinese prose around the paste (an issue written in Chinese).
fn prose_chinese(text: &str) -> Option<String> {
    Some(format!(
        "今天运行的时候出现了下面的情况：\n{text}\n请问应该怎么处理？谢谢！"
    ))
}

/// A Markdown blockquote, as an issue or a forum quotes an error (`> ` before every line).
fn blockquote(text: &str) -> Option<String> {
    Some(per_line(text, |l| {
        if l.is_empty() {
            ">".to_owned()
        } else {
            format!("> {l}")
        }
    }))
}

/// Lines longer than 80 columns hard-wrapped at their last space before column 80, as a mail
/// client, a narrow terminal's copy or an issue template's reflow leaves them.
fn wrap80(text: &str) -> Option<String> {
    wrap_at(text, 80)
}

/// The same at 120 columns (a wider terminal or an issue form).
fn wrap120(text: &str) -> Option<String> {
    wrap_at(text, 120)
}

/// Lines longer than `width` columns hard-wrapped at their last space before that column.
fn wrap_at(text: &str, width: usize) -> Option<String> {
    let mut changed = false;
    let out = per_line(text, |l| {
        let mut rest = l;
        let mut lines = Vec::new();
        while rest.chars().count() > width {
            let cut: usize = rest
                .char_indices()
                .nth(width)
                .map_or(rest.len(), |(i, _)| i);
            let Some(sp) = rest[..cut].rfind(' ').filter(|&sp| sp > 0) else {
                break;
            };
            lines.push(&rest[..sp]);
            rest = &rest[sp + 1..];
        }
        lines.push(rest);
        if lines.len() > 1 {
            changed = true;
        }
        lines.join("\n")
    });
    changed.then_some(out)
}

/// Spaces after every line, as a terminal's rectangular copy pads them.
fn trailing_spaces(text: &str) -> Option<String> {
    Some(per_line(text, |l| format!("{l}   ")))
}

/// The transformations: name, function, and whether it only applies to a paste that holds an
/// error (one that adds an `ERROR` level would make a claim of its own about text that holds none).
const TRANSFORMS: [(&str, Transform, bool); 22] = [
    ("crlf", crlf, false),
    ("ansi_colour", ansi_colour, false),
    ("ansi_level", ansi_level, true),
    ("fence", fence, false),
    ("indent", indent, false),
    ("docker_timestamps", docker_timestamps, false),
    ("compose_prefix", compose_prefix, false),
    ("journald_prefix", journald_prefix, false),
    ("python_logger", python_logger, true),
    ("worker_tag", worker_tag, false),
    ("json_log_field", json_log_field, false),
    ("docker_json_file", docker_json_file, false),
    ("kubectl_prefix", kubectl_prefix, false),
    ("html_escaped", html_escaped, false),
    ("json_minified", json_minified, false),
    ("json_pretty", json_pretty, false),
    ("prose_french", prose_french, false),
    ("prose_chinese", prose_chinese, false),
    ("blockquote", blockquote, false),
    ("wrap80", wrap80, false),
    ("wrap120", wrap120, false),
    ("trailing_spaces", trailing_spaces, false),
];

/// Transformations whose class is still open, with how many verdicts they may change at most: a
/// ceiling that only comes down. A hard wrap is taken off where the width shows (`parse/present.rs`);
/// left open: a paste whose only breakable line is shorter than 60 columns (a short status line
/// above a minified body with no space in it) and a Chinese line wrapped by its character count.
const OPEN: [(&str, usize); 2] = [("wrap80", WRAP80_OPEN), ("wrap120", WRAP120_OPEN)];
// 38 before the hard wrap came off (session 14, task 13W80).
const WRAP80_OPEN: usize = 2;
const WRAP120_OPEN: usize = 1;

/// What a case expects, as `explain` reports it: `None` for no error, else (category, retry).
fn verdict(text: &str) -> Option<(String, String)> {
    explain(text).diagnosis.map(|d| {
        (
            d.category.as_str().to_owned(),
            d.retry.decision.as_str().to_owned(),
        )
    })
}

fn expected(case: &Case) -> Option<(String, String)> {
    case.found.then(|| {
        (
            case.category.clone().unwrap_or_default(),
            case.retry.clone().unwrap_or_default(),
        )
    })
}

#[test]
fn verdicts_survive_presentation() {
    let cases = tuned_cases();
    assert!(cases.len() > 1000, "only {} tuned cases", cases.len());
    // `AIRLOCK_TRANSFORM=wrap80` runs one transformation and prints its changed verdicts (for
    // working on one class; the full run is the test).
    let only = std::env::var("AIRLOCK_TRANSFORM").ok();
    let only = &only;
    // Two threads: the transformations split between them.
    let results: Vec<(&str, usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = [0usize, 1]
            .into_iter()
            .map(|half| {
                let cases = &cases;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (i, (tname, t, errors_only)) in TRANSFORMS.iter().enumerate() {
                        if i % 2 != half || only.as_deref().is_some_and(|o| o != *tname) {
                            continue;
                        }
                        let (mut applied, mut misses) = (0usize, Vec::new());
                        for (file, case) in cases {
                            if *errors_only && !case.found {
                                continue;
                            }
                            let Some(text) = t(&case.input) else {
                                continue;
                            };
                            applied += 1;
                            let want = expected(case);
                            let got = verdict(&text);
                            if got != want {
                                misses.push(format!(
                                    "  {tname}: {file} :: {}: expected {want:?}, got {got:?}",
                                    case.name
                                ));
                            }
                        }
                        out.push((*tname, applied, misses));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    let mut summary = String::new();
    let mut report = String::new();
    let mut failed = 0;
    for (tname, _, _) in TRANSFORMS {
        let Some((_, applied, misses)) = results.iter().find(|r| r.0 == tname) else {
            continue;
        };
        if only.is_some() {
            for m in misses {
                std::println!("{m}");
            }
        }
        let open = OPEN
            .iter()
            .find(|(n, _)| *n == tname)
            .map_or(0, |(_, budget)| *budget);
        let _ = writeln!(
            summary,
            "  {tname}: {} of {applied} changed (open: {open})",
            misses.len()
        );
        if misses.len() > open {
            failed += misses.len();
            for m in misses {
                let _ = writeln!(report, "{m}");
            }
        }
    }
    std::println!("presentation invariance:\n{summary}");
    assert!(
        failed == 0,
        "{failed} verdicts changed under a presentation:\n{summary}\n{report}"
    );
}
