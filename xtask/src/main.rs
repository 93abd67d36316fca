//! `cargo xtask`: codegen, freshness checks, builds and test orchestration.
//!
//! - `cargo xtask codegen [--check]`: regenerate (or check) the committed tables from `rules/` and
//!   the rule data derived from `../shared/data`.
//! - `cargo xtask test`: everything CI runs (the README's test command).
//! - `cargo xtask web`: build the page's wasm into `www/pkg/`; `cargo xtask web-test`: browser tests.

mod codegen;
mod util;
mod web;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen::run(args.iter().any(|a| a == "--check")),
        Some("test") => test(&args[1..]),
        Some("web") => web::build(),
        Some("web-test") => web::test(),
        _ => {
            eprintln!("usage: cargo xtask <codegen [--check] | test | web | web-test>");
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
    web::test()?;
    println!("xtask test: all checks passed");
    Ok(())
}
