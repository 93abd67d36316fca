//! `cargo xtask bench-burst` (issue 15): a burst of official-SDK clients against an upstream that
//! enforces RPM and TPM as OpenAI does, with pacing off and on in one run (a bench, not a test).
//!
//! Builds the worker (`build-worker`), then runs `bench/burst/run.mjs` under Miniflare with the
//! pacer Durable Object bound. Prints a Markdown table (the README's "Pacing" benchmark). Sizes
//! come from `BURST_RPM`, `BURST_TPM`, `BURST_CLIENTS`, `BURST_REQUESTS`, `BURST_PY_CLIENTS`,
//! `BURST_LATENCY_MS` and `BURST_MAX_TOKENS`.

use std::process::Command;

use crate::{setup, util, worker};

/// Runs the benchmark.
pub fn run() -> Result<(), String> {
    setup::run()?;
    let python = setup::python()?;
    worker::build()?;
    setup::npm()?;
    let script = util::root().join("bench").join("burst").join("run.mjs");
    let mut command = Command::new("node");
    command.arg(&script).current_dir(util::root());
    if std::env::var_os("AIRLOCK_PYTHON").is_none() {
        command.env("AIRLOCK_PYTHON", &python);
    }
    let status = command
        .status()
        .map_err(|e| format!("could not run node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("bench-burst failed: {status}"))
    }
}
