//! `cargo xtask`: codegen, freshness checks, builds and test orchestration.
//!
//! - `cargo xtask codegen [--check]`: regenerate (or check) the committed tables from `rules/` and
//!   the rule data derived from `../shared/data`.
//! - `cargo xtask test`: everything CI runs (the README's test command).
//! - `cargo xtask web`: build the page's wasm into `www/pkg/`; `cargo xtask web-test`: browser tests.
//! - `cargo xtask bench-tokens`: the tokenizer benchmark (not a test).
//! - `cargo xtask bench-worker`: the worker's added latency under bare workerd (not a test).
//! - `cargo xtask bench-burst`: a burst of SDK clients against a rate-limited upstream, pacing off and on (not a test).
//! - `cargo xtask bench-batch`: `airlock batch lint` on 100 MB files: time and peak memory.
//! - `cargo xtask soak [--minutes N]`: the worker under a mixed load with upstream faults (not a test).
//! - `cargo xtask setup`: installs the worker's tools, pinned (see `setup.rs`).
//! - `cargo xtask build-worker`, `dev [--port N]`, `dev-test`, `e2e [name…]`, `bundle [outdir]`: the
//!   worker (see `worker.rs`).
//! - `cargo xtask fuzz [target…] [--secs N]`: the libFuzzer targets under `fuzz/` (nightly; see
//!   `fuzz.rs` and `fuzz/README.md`).

mod bench;
mod bench_batch;
mod bench_burst;
mod bench_worker;
mod codegen;
mod fuzz;
mod prereq;
mod setup;
mod soak;
mod util;
mod vocab;
mod web;
mod worker;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = prereq::check(needs(args.first().map(String::as_str))) {
        eprintln!("xtask: {e}");
        return ExitCode::FAILURE;
    }
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::run(args.iter().any(|a| a == "--check")),
        Some("test") => test(&args[1..]),
        Some("web") => web::build(),
        Some("web-test") => web::test(),
        Some("bench-tokens") => bench::bench_tokens(),
        Some("bench-worker") => bench_worker::run(),
        Some("bench-batch") => bench_batch::run(),
        Some("bench-burst") => bench_burst::run(),
        Some("soak") => soak::run(&args[1..]),
        Some("setup") => setup::run().map(drop),
        Some("build-worker") => worker::build(),
        Some("dev") => worker::dev(&args[1..]),
        Some("dev-test") => worker::dev_test(),
        Some("e2e") => worker::e2e(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("bundle") => {
            worker::bundle(args.get(1).map_or("target/worker-bundle", String::as_str))
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <codegen [--check] | test | setup | dev [--port N] | dev-test | build-worker | e2e [name…] | bundle [outdir] | fuzz [target…] [--secs N] | web | web-test | bench-tokens | bench-worker | bench-batch | bench-burst | soak [--minutes N] [--no-build] [--skip KIND,…]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What each command needs from the machine beyond Rust (checked up front by `prereq`).
fn needs(command: Option<&str>) -> prereq::Needs {
    let (node, python, chromium) = match command {
        Some("test") => (true, true, true),
        Some("setup" | "e2e" | "bench-burst") => (true, true, false),
        Some("dev" | "dev-test" | "bundle" | "soak" | "bench-worker") => (true, false, false),
        Some("web-test") => (true, false, true),
        _ => (false, false, false),
    };
    prereq::Needs {
        node,
        python,
        chromium,
    }
}

/// The whole test suite, in the order CI wants it: cheap checks first.
fn test(_args: &[String]) -> Result<(), String> {
    use util::cmd;
    util::ensure_rust_targets(&["wasm32v1-none"])?;
    cmd("cargo", &["fmt", "--all", "--", "--check"])?;
    codegen::run(true)?;
    cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    cmd("cargo", &["test", "--workspace", "--all-targets"])?;
    cmd("cargo", &["test", "--workspace", "--doc"])?;
    cmd(
        "cargo",
        &[
            "build",
            "-p",
            "airlock-rules",
            "--no-default-features",
            "--target",
            "wasm32v1-none",
        ],
    )?;
    // The no_std builds, without and with the tokenizer, free of warnings too.
    for features in ["", "tokenizer"] {
        cmd(
            "cargo",
            &[
                "clippy",
                "-p",
                "airlock-rules",
                "--no-default-features",
                "--features",
                features,
                "--target",
                "wasm32v1-none",
                "--",
                "-D",
                "warnings",
            ],
        )?;
    }
    tiktoken_compare()?;
    web::test()?;
    worker::e2e(&[])?;
    // A short smoke run of every fuzz target (20 s each; skipped without nightly). The
    // inputs kept under fuzz/regressions/ already ran above, on stable (fuzz_regressions).
    fuzz::run(&["--secs".to_string(), "20".to_string()])?;
    println!("xtask test: all checks passed");
    Ok(())
}

/// The tokenizer against OpenAI's Python `tiktoken` (pinned in `tests/tiktoken-requirements.txt`,
/// installed into Airlock's venv by `setup::python`), on the generated corpus:
/// `tests/tiktoken_compare.py`.
fn tiktoken_compare() -> Result<(), String> {
    use util::cmd;
    let python = setup::python()?.display().to_string();
    cmd(
        "cargo",
        &[
            "build",
            "--release",
            "-p",
            "airlock-rules",
            "--features",
            "tokenizer std",
            "--example",
            "tokenize",
        ],
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| util::root().join("target"));
    let bin = target.join("release").join("examples").join("tokenize");
    cmd(
        &python,
        &["tests/tiktoken_compare.py", &bin.display().to_string()],
    )
}
