//! `cargo xtask bench-worker`: the worker's added latency (a bench, not a test).
//!
//! Bundles the worker as it would deploy (`wrangler deploy --dry-run --outdir`), then runs
//! `bench/worker/run.mjs`: the bundle and a minimal JavaScript pass-through worker (the floor) under
//! bare `workerd serve`, a fake upstream on 127.0.0.1, and a keep-alive Node load client, in one
//! interleaved run, with the Portkey AI gateway as a peer when `../shared/bench/portkey-gateway/`
//! holds its bundle (skipped, saying so, otherwise); then workerd's CPU per request, the cold start
//! to the first 200 and the 126k-token pre-flight. Prints Markdown with the load average, ready
//! for the README's "Worker latency" section: stdout carries only that Markdown; the build's and
//! wrangler's output goes to stderr.

use std::process::Command;

use crate::util;

/// Runs the benchmark.
pub fn run() -> Result<(), String> {
    let work = util::root().join("target").join("bench-worker");
    let bundle = work.join("bundle");
    if bundle.exists() {
        std::fs::remove_dir_all(&bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
    }
    bundle_quietly(&bundle.display().to_string())?;
    let script = util::root().join("bench").join("worker").join("run.mjs");
    let status = Command::new("node")
        .arg(&script)
        .arg(&bundle)
        .arg(&work)
        .current_dir(util::root())
        .status()
        .map_err(|e| format!("could not run node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("bench-worker failed: {status}"))
    }
}

/// `cargo xtask bundle <outdir>` (build, `npm` check, `wrangler deploy --dry-run`) as a child of
/// this process whose stdout is our stderr: the build logs and wrangler's binding tables stay
/// visible but out of the Markdown that stdout carries.
fn bundle_quietly(outdir: &str) -> Result<(), String> {
    use std::os::fd::AsFd;
    let exe = std::env::current_exe().map_err(|e| format!("xtask's own path: {e}"))?;
    let to_stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("stderr: {e}"))?;
    eprintln!("bench-worker: building and bundling the worker (its output follows on stderr)");
    let status = Command::new(exe)
        .args(["bundle", outdir])
        .stdout(std::process::Stdio::from(to_stderr))
        .current_dir(util::root())
        .status()
        .map_err(|e| format!("could not run xtask bundle: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("xtask bundle failed: {status}"))
    }
}
