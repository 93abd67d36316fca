//! `cargo xtask bench-batch`: `airlock batch lint` on two generated 100 MB Batch input files (not
//! a test). Prints the time, throughput and peak memory (from `/usr/bin/time -v` when present),
//! and, as a peer measured in the same run, Python reading the same file line by line with
//! `json.loads` (the least any linter must do), so the figure is a ratio on a shared machine.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::util::root;

/// Size of each generated file.
const TARGET_BYTES: usize = 100 * 1000 * 1000;

/// Runs the benchmark.
pub fn run() -> Result<(), String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let dir = target.join("bench-batch");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "airlock-cli"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build --release -p airlock-cli failed".to_owned());
    }
    let airlock = target.join("release").join("airlock");
    println!(
        "| file | lines | size | airlock time | MB/s | peak RSS | python json.loads | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, line) in [("light", light_line as LineFn), ("heavy", heavy_line)] {
        let path = dir.join(format!("{name}.jsonl"));
        let lines = generate(&path, line)?;
        let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        let (secs, rss) = timed(&airlock, &path)?;
        let peer = python_peer(&path)?;
        println!(
            "| {name} | {lines} | {:.1} MB | {secs:.2} s | {:.0} | {} | {peer:.2} s | {:.2}× |",
            size as f64 / 1e6,
            size as f64 / 1e6 / secs,
            rss.map_or("n/a".to_owned(), |kb| format!(
                "{:.1} MB",
                kb as f64 / 1024.0
            )),
            secs / peer,
        );
    }
    Ok(())
}

type LineFn = fn(usize) -> String;

/// A ~2 KB chat request (one long user message).
fn light_line(i: usize) -> String {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(40);
    format!(
        r#"{{"custom_id":"req-{i}","method":"POST","url":"/v1/chat/completions","body":{{"model":"gpt-4o-mini","max_tokens":200,"messages":[{{"role":"system","content":"Answer briefly."}},{{"role":"user","content":"{text}#{i}"}}]}}}}"#
    )
}

/// A ~20 KB chat request: many turns, tools, a strict JSON schema.
fn heavy_line(i: usize) -> String {
    let mut messages = String::from(r#"{"role":"system","content":"You extract fields."}"#);
    for t in 0..24 {
        let text = "Invoice line with some words and numbers 12345. ".repeat(14);
        let role = if t % 2 == 0 { "user" } else { "assistant" };
        messages.push_str(&format!(r#",{{"role":"{role}","content":"{text}{t}"}}"#));
    }
    let schema = r#"{"type":"object","properties":{"name":{"type":"string"},"total":{"type":"number"},"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer"}},"required":["sku","qty"],"additionalProperties":false}}},"required":["name","total","items"],"additionalProperties":false}"#;
    format!(
        r#"{{"custom_id":"job-{i}","method":"POST","url":"/v1/chat/completions","body":{{"model":"gpt-4o","temperature":0,"messages":[{messages}],"response_format":{{"type":"json_schema","json_schema":{{"name":"invoice","strict":true,"schema":{schema}}}}},"tools":[{{"type":"function","function":{{"name":"lookup","parameters":{{"type":"object","properties":{{"q":{{"type":"string"}}}},"required":["q"]}}}}}}]}}}}"#
    )
}

/// Writes lines until the file reaches [`TARGET_BYTES`] (or the 50,000-request limit).
fn generate(path: &Path, line: LineFn) -> Result<usize, String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let (mut written, mut lines) = (0, 0);
    while written < TARGET_BYTES && lines < 50_000 {
        let l = line(lines);
        out.write_all(l.as_bytes()).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
        written += l.len() + 1;
        lines += 1;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(lines)
}

/// Wall time of `airlock batch lint path` and its peak RSS in KiB (via `/usr/bin/time -v`).
fn timed(airlock: &Path, path: &Path) -> Result<(f64, Option<u64>), String> {
    let gnu_time = Path::new("/usr/bin/time");
    let mut cmd = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-v").arg(airlock);
        c
    } else {
        Command::new(airlock)
    };
    cmd.args(["batch", "lint"]).arg(path);
    let started = Instant::now();
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "batch lint found problems in a generated file:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let rss = String::from_utf8_lossy(&out.stderr).lines().find_map(|l| {
        l.trim()
            .strip_prefix("Maximum resident set size (kbytes):")
            .and_then(|v| v.trim().parse().ok())
    });
    Ok((secs, rss))
}

/// Python reading the file line by line with `json.loads`: the peer.
fn python_peer(path: &Path) -> Result<f64, String> {
    let code = "import json,sys\nwith open(sys.argv[1],'rb') as f:\n    for line in f:\n        json.loads(line)\n";
    let started = Instant::now();
    let status = Command::new("python3")
        .args(["-c", code])
        .arg(path)
        .status()
        .map_err(|e| format!("python3: {e}"))?;
    if !status.success() {
        return Err("python3 json.loads peer failed".to_owned());
    }
    Ok(started.elapsed().as_secs_f64())
}
