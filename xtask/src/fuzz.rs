//! `cargo xtask fuzz [TARGET…] [--secs N]`: the libFuzzer targets under `fuzz/` (see
//! `fuzz/README.md`).
//!
//! Needs a nightly toolchain (skipped, exit 0, with a message, where there is none) and
//! cargo-fuzz, installed pinned into `~/.cache/airlock/cargo-fuzz` on first use. The seed corpus
//! is built at run time from `tests/` into `fuzz/corpus/<target>/` (ignored by git), plus the
//! committed `fuzz/regressions/<target>/`. Each target runs for N seconds (default 60) with
//! `-timeout=1 -rss_limit_mb=2048`; a crash, timeout or out-of-memory input is written to
//! `fuzz/artifacts/<target>/` and fails the command once every target has run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util;

/// cargo-fuzz, pinned (the newest release when this was written; it builds with `--locked`).
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The targets, in the order they run (as in `fuzz/src/props.rs`).
pub const TARGETS: [&str; 9] = [
    "explain",
    "check_bytes",
    "check_json",
    "sse",
    "batch_lint",
    "upload",
    "tokenizer",
    "redact",
    "headers",
];

/// The endpoints in the order of `ENDPOINTS` in `fuzz/src/props.rs` (byte 0 of a `check_bytes`
/// input picks one).
const ENDPOINTS: [&str; 12] = [
    "chat_completions",
    "responses",
    "embeddings",
    "images_generations",
    "images_edits",
    "audio_transcriptions",
    "audio_speech",
    "files",
    "batches",
    "completions",
    "moderations",
    "responses_input_tokens",
];

/// The multipart boundary of the `upload` target (`BOUNDARY` in `fuzz/src/props.rs`).
const BOUNDARY: &str = "AirlockFuzzBoundary";

/// What one target's run gave.
#[derive(Debug, Default)]
struct Run {
    executions: u64,
    exec_per_sec: u64,
    crashes: Vec<String>,
    timeouts: Vec<String>,
    ooms: Vec<String>,
    /// Wall-clock seconds of the run, build check included.
    secs: u64,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages at the end of the run.
    load: String,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut secs: u64 = 60;
    let mut targets: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => {
                secs = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--secs needs a number of seconds")?;
            }
            t if TARGETS.contains(&t) => {
                targets.push(TARGETS[TARGETS.iter().position(|x| *x == t).unwrap()])
            }
            other => {
                return Err(format!(
                    "unknown fuzz target or option {other:?}; targets: {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    if !has_nightly() {
        println!(
            "xtask fuzz: skipped: no nightly toolchain (cargo-fuzz needs one: `rustup toolchain install nightly`)"
        );
        return Ok(());
    }
    let bin_dir = ensure_cargo_fuzz()?;
    let fuzz_dir = util::root().join("fuzz");
    for t in &targets {
        let n = seed_corpus(t, &fuzz_dir.join("corpus").join(t))?;
        println!("xtask fuzz: {t}: {n} seed inputs in fuzz/corpus/{t}/");
    }
    let path = std::env::join_paths(core::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .map_err(|e| e.to_string())?;
    let cargo_fuzz = |args: &[&str]| {
        let mut c = Command::new("cargo");
        c.arg("+nightly")
            .arg("fuzz")
            .args(args)
            .current_dir(&fuzz_dir)
            .env("PATH", &path);
        c
    };
    println!("$ cargo +nightly fuzz build -s none");
    let status = cargo_fuzz(&["build", "-s", "none"])
        .status()
        .map_err(|e| format!("could not run cargo fuzz: {e}"))?;
    if !status.success() {
        return Err(format!("`cargo +nightly fuzz build` failed: {status}"));
    }
    let mut results: Vec<(&str, Run)> = Vec::new();
    for t in &targets {
        let corpus = format!("corpus/{t}");
        let max_time = format!("-max_total_time={secs}");
        let args = [
            "run",
            "-s",
            "none",
            t,
            &corpus,
            "--",
            &max_time,
            "-timeout=1",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ];
        println!("$ cargo +nightly fuzz {}", args.join(" "));
        let started = std::time::Instant::now();
        let out = cargo_fuzz(&args)
            .output()
            .map_err(|e| format!("could not run cargo fuzz: {e}"))?;
        let took = started.elapsed().as_secs();
        let log = String::from_utf8_lossy(&out.stderr);
        let mut r = parse_log(&log);
        // Wall time of the run (less than N when it stopped on a finding).
        r.secs = took;
        r.load = fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        if !out.status.success()
            && r.crashes.is_empty()
            && r.timeouts.is_empty()
            && r.ooms.is_empty()
        {
            // Not a finding: the run itself failed (a build error, a bad option).
            eprintln!("{log}");
            return Err(format!("`cargo fuzz run {t}` failed: {}", out.status));
        }
        for a in r.crashes.iter().chain(&r.timeouts).chain(&r.ooms) {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            eprintln!("xtask fuzz: {t}: found {a}");
        }
        println!(
            "xtask fuzz: {t}: {} executions, {} exec/s, {} crashes, {} timeouts, {} ooms (load {})",
            r.executions,
            r.exec_per_sec,
            r.crashes.len(),
            r.timeouts.len(),
            r.ooms.len(),
            r.load
        );
        results.push((t, r));
    }
    println!(
        "\n| target | seconds | executions | exec/s | crashes | timeouts | ooms | load average |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for (t, r) in &results {
        println!(
            "| {t} | {} | {} | {} | {} | {} | {} | {} |",
            r.secs,
            r.executions,
            r.exec_per_sec,
            r.crashes.len(),
            r.timeouts.len(),
            r.ooms.len(),
            r.load
        );
    }
    let found: usize = results
        .iter()
        .map(|(_, r)| r.crashes.len() + r.timeouts.len() + r.ooms.len())
        .sum();
    if found > 0 {
        return Err(format!(
            "{found} failing input(s) under fuzz/artifacts/; reproduce with `cargo +nightly fuzz run -s none <target> <file>` in fuzz/, fix, and keep the input under fuzz/regressions/<target>/"
        ));
    }
    Ok(())
}

/// Executions, speed and the inputs written, from libFuzzer's output.
fn parse_log(log: &str) -> Run {
    let mut r = Run::default();
    for line in log.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            r.executions = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            r.exec_per_sec = v.trim().parse().unwrap_or(0);
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            let path = path.trim().to_string();
            let name = Path::new(&path)
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            if name.starts_with("timeout-") || name.starts_with("slow-unit-") {
                r.timeouts.push(path);
            } else if name.starts_with("oom-") {
                r.ooms.push(path);
            } else {
                r.crashes.push(path);
            }
        }
    }
    r
}

fn has_nightly() -> bool {
    Command::new("cargo")
        .args(["+nightly", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The folder holding the pinned `cargo-fuzz`, installing it when missing or another version.
fn ensure_cargo_fuzz() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let root = PathBuf::from(home)
        .join(".cache")
        .join("airlock")
        .join("cargo-fuzz");
    let bin = root.join("bin");
    let have = Command::new(bin.join("cargo-fuzz"))
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(CARGO_FUZZ_VERSION));
    if !have {
        let root_s = root.display().to_string();
        util::cmd(
            "cargo",
            &[
                "install",
                "cargo-fuzz",
                "--version",
                CARGO_FUZZ_VERSION,
                "--locked",
                "--root",
                &root_s,
            ],
        )?;
    }
    Ok(bin)
}

/// Fills `dir` with the target's seeds from `tests/` and `fuzz/regressions/`; returns how many.
fn seed_corpus(target: &str, dir: &Path) -> Result<usize, String> {
    let root = util::root();
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tests = root.join("tests");
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let unchunked = |bytes: &[u8]| [&[0u8][..], bytes].concat();
    match target {
        "explain" | "tokenizer" => {
            for (name, text) in case_inputs(&tests.join("cases"))? {
                seeds.push((name, text.into_bytes()));
            }
            for f in files(&tests.join("batch").join("real"), &["txt", "json", "jsonl"]) {
                seeds.push((file_name(&f), read(&f)?));
            }
            if target == "tokenizer" {
                for f in files(&tests.join("streams"), &["sse"]) {
                    seeds.push((file_name(&f), read(&f)?));
                }
            }
        }
        "check_bytes" => {
            for f in files_deep(&tests.join("requests"), "json") {
                let rel = f.strip_prefix(tests.join("requests")).unwrap_or(&f);
                let rel_s = rel.to_string_lossy().replace('/', "__");
                let bytes = read(&f)?;
                // `invalid/`: {"endpoint", "body" | "body_text", "neighbour"}.
                if rel.starts_with("invalid") {
                    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                        continue;
                    };
                    let ep = v["endpoint"].as_str().unwrap_or("/v1/chat/completions");
                    let i = endpoint_index(&ep.trim_start_matches("/v1/").replace('/', "_"));
                    for key in ["body", "neighbour"] {
                        if let Some(b) = v.get(key).filter(|b| !b.is_null()) {
                            let body = serde_json::to_vec(b).map_err(|e| e.to_string())?;
                            seeds.push((format!("{rel_s}.{key}"), [&[i][..], &body].concat()));
                        }
                    }
                    if let Some(t) = v["body_text"].as_str() {
                        seeds.push((format!("{rel_s}.text"), [&[i][..], t.as_bytes()].concat()));
                    }
                    continue;
                }
                if rel.file_name().is_some_and(|n| n == "EXPECTED.json") {
                    continue;
                }
                // `valid/<endpoint>__x.json`, `real_accepted/<endpoint>/x.json`, `spec_examples/…`.
                let hint = rel
                    .components()
                    .nth(1)
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .filter(|_| rel.components().count() > 2)
                    .unwrap_or_else(|| file_name(&f).split("__").next().unwrap_or("").to_string());
                let i = if ENDPOINTS.contains(&hint.as_str()) {
                    endpoint_index(&hint)
                } else if rel_s.contains("responses") {
                    1
                } else {
                    0
                };
                seeds.push((rel_s, [&[i][..], &bytes].concat()));
            }
        }
        "check_json" => {
            // Structured: any bytes make a request; a few fixed ones start it off.
            for n in 0u8..16 {
                seeds.push((format!("seed{n}"), (0..64).map(|i| n.wrapping_mul(31).wrapping_add(i)).collect()));
            }
        }
        "sse" => {
            for f in files(&tests.join("streams"), &["sse"])
                .into_iter()
                .chain(files(&tests.join("streams").join("interrupted"), &["sse"]))
            {
                seeds.push((file_name(&f), unchunked(&read(&f)?)));
            }
        }
        "batch_lint" => {
            for f in files(&tests.join("batch"), &["jsonl"]).into_iter().chain(files(&tests.join("batch").join("real"), &["jsonl"])) {
                seeds.push((file_name(&f), unchunked(&read(&f)?)));
            }
        }
        "upload" => {
            for f in files(&tests.join("batch"), &["jsonl"]).into_iter().chain(files(&tests.join("batch").join("real"), &["jsonl"])) {
                let file = read(&f)?;
                for (purpose_first, purpose) in [(true, "batch"), (false, "batch"), (true, "fine-tune")] {
                    let body = multipart(&file, purpose, purpose_first);
                    seeds.push((
                        format!("{}.{purpose}.{}", file_name(&f), if purpose_first { "purpose_first" } else { "file_first" }),
                        unchunked(&body),
                    ));
                }
            }
        }
        "redact" => {
            // 13 bytes pick the key's shape, body, place and separators; the rest is the text.
            for (n, (name, text)) in case_inputs(&tests.join("cases"))?.into_iter().enumerate() {
                let head: Vec<u8> = (0..13).map(|i| (n as u8).wrapping_mul(7).wrapping_add(i * 13)).collect();
                seeds.push((name, [&head[..], text.as_bytes()].concat()));
            }
        }
        "headers" => {
            for (i, s) in [
                "x-ratelimit-limit-requests: 500\nx-ratelimit-remaining-requests: 499\nx-ratelimit-reset-requests: 120ms",
                "x-ratelimit-reset-tokens: 6m0s\nx-ratelimit-reset-requests: 1h2m3.5s",
                "retry-after: Wed, 21 Oct 2015 07:28:00 GMT",
                "retry-after: Sunday, 06-Nov-94 08:49:37 GMT",
                "retry-after: Sun Nov  6 08:49:37 1994",
                "retry-after: Tue, 15 Nov 1994 08:12:31 +0100",
                "retry-after-ms: 250\nretry-after: 1.5",
                "x-ratelimit-reset-tokens: 7.2\u{b5}s\nx-ratelimit-remaining-tokens: 90,000",
            ]
            .iter()
            .enumerate()
            {
                seeds.push((format!("hand{i}"), s.as_bytes().to_vec()));
            }
        }
        other => return Err(format!("no seeds for {other}")),
    }
    for f in files(&root.join("fuzz").join("regressions").join(target), &[]) {
        seeds.push((format!("regression.{}", file_name(&f)), read(&f)?));
    }
    for (name, bytes) in &seeds {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("seed.{safe}"));
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(seeds.len())
}

fn endpoint_index(name: &str) -> u8 {
    ENDPOINTS.iter().position(|e| *e == name).unwrap_or(0) as u8
}

fn multipart(file: &[u8], purpose: &str, purpose_first: bool) -> Vec<u8> {
    let purpose_part = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"
    )
    .into_bytes();
    let mut file_part = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    file_part.extend_from_slice(file);
    file_part.extend_from_slice(b"\r\n");
    let mut b = if purpose_first {
        [purpose_part, file_part].concat()
    } else {
        [file_part, purpose_part].concat()
    };
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

/// The `input` of every `[[case]]` in `tests/cases/*.toml`.
fn case_inputs(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for f in files(dir, &["toml"]) {
        let text = fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let v: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let Some(cases) = v.get("case").and_then(|c| c.as_array()) else {
            continue;
        };
        for (i, c) in cases.iter().enumerate() {
            if let Some(input) = c.get("input").and_then(|s| s.as_str()) {
                let name = c
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map_or_else(|| format!("{}.{i}", file_name(&f)), String::from);
                out.push((name, input.to_string()));
            }
        }
    }
    Ok(out)
}

/// Files directly in `dir` with one of the extensions (any file when `exts` is empty), sorted.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| exts.is_empty() || p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)))
        .collect();
    out.sort();
    out
}

/// Files under `dir` (recursively) with the extension, sorted.
fn files_deep(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}
