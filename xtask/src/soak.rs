//! `cargo xtask soak [--minutes N] [--no-build] [--skip KIND,…]`: the worker under a mixed load for
//! N minutes (default 10), a check of stability rather than speed; never part of `cargo xtask test`.
//! `--skip` leaves kinds of request out (see `KINDS` in the script).
//!
//! Builds the worker (as `cargo xtask build-worker`, skipped with `--no-build`), then runs
//! `tests/soak/soak.mjs`: the built worker in workerd (Miniflare) in front of a fake upstream with
//! faults, all on 127.0.0.1. It prints a table by kind of request, the workerd process's memory at
//! start and end, isolate restarts and secrets found in the logs, then one JSON line; it exits
//! non-zero on any worker-made 5xx, connection failure, isolate restart, secret in the logs, or
//! memory growth above 10 % (the definitions are in the script's header comment).

use std::process::Command;

use crate::{setup, util, worker};

/// Runs the soak with the command line's arguments (after `soak`).
pub fn run(args: &[String]) -> Result<(), String> {
    let mut minutes = "10".to_owned();
    let mut build = true;
    let mut skip: Vec<String> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--minutes" => {
                let value = rest.next().ok_or("--minutes needs a number")?;
                match value.parse::<f64>() {
                    Ok(n) if n > 0.0 => minutes.clone_from(value),
                    _ => return Err(format!("--minutes: not a positive number: {value}")),
                }
            }
            "--no-build" => build = false,
            "--skip" => skip.push(rest.next().ok_or("--skip needs kinds")?.clone()),
            other => return Err(format!("soak: unknown argument {other}")),
        }
    }
    setup::npm()?;
    if build {
        worker::build()?;
    }
    let script = util::root()
        .join("crates")
        .join("airlock-worker")
        .join("build")
        .join("index.js");
    if !script.exists() {
        return Err(format!(
            "{} is missing: run without --no-build",
            script.display()
        ));
    }
    let soak = util::root().join("tests").join("soak").join("soak.mjs");
    let mut node_args = vec!["--minutes".to_owned(), minutes];
    for kinds in skip {
        node_args.extend(["--skip".to_owned(), kinds]);
    }
    println!("$ node {} {}", soak.display(), node_args.join(" "));
    let status = Command::new("node")
        .arg(&soak)
        .args(&node_args)
        .env("AIRLOCK_WORKER_SCRIPT", &script)
        .current_dir(util::root())
        .status()
        .map_err(|e| format!("could not run node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("soak failed: {status}"))
    }
}
