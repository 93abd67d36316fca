//! Small helpers shared by the xtask commands.

use std::path::PathBuf;
use std::process::Command;

/// The repository root (the folder above `xtask/`).
///
/// Read at run time (`cargo run` sets `CARGO_MANIFEST_DIR`), so two clones sharing one target
/// folder each work on their own tree; the compile-time value is the fallback.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .expect("xtask sits in the repo root")
        .to_path_buf()
}

/// `../shared/data` beside the repository, when it exists (only freshness checks read it).
pub fn shared_data() -> Option<PathBuf> {
    let p = root().join("..").join("shared").join("data");
    p.is_dir().then_some(p)
}

/// Runs a command in the repository root, echoing it; fails when it exits non-zero.
pub fn cmd(program: &str, args: &[&str]) -> Result<(), String> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed: {status}", args.join(" ")))
    }
}

/// Adds the rustup targets that are missing.
pub fn ensure_rust_targets(targets: &[&str]) -> Result<(), String> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("could not run rustup: {e}"))?;
    let installed = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut args = vec!["target", "add"];
    args.extend(missing);
    cmd("rustup", &args)
}
