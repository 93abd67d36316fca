//! `schemas/*.json`: the JSON Schemas of Airlock's own JSON outputs (issue 17, part 4), derived
//! with `schemars` from the typed structs the CLI prints (`crates/airlock-cli/src/report.rs`).
//!
//! The CLI is a binary, so the schemas are read from it (`airlock schemas`, `airlock schemas
//! NAME`) rather than linked into xtask; the freshness check (`codegen --check`) compares them
//! like every other generated file.

use std::path::PathBuf;
use std::process::Command;

use super::Output;

fn cli(args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["run", "-q", "-p", "airlock-cli", "--"])
        .args(args)
        .current_dir(crate::util::root())
        .output()
        .map_err(|e| format!("could not run the airlock CLI: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "airlock {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("airlock {}: {e}", args.join(" ")))
}

/// One output per schema the CLI names.
pub fn generate() -> Result<Vec<Output>, String> {
    let names = cli(&["schemas"])?;
    let mut out = Vec::new();
    for name in names.lines().filter(|l| !l.is_empty()) {
        let text = cli(&["schemas", name])?;
        out.push((PathBuf::from("schemas").join(format!("{name}.json")), text));
    }
    Ok(out)
}
