//! `cargo xtask bench-tokens`: the tokenizer benchmark (not a test). Runs `bench/` natively for
//! both encodings (Airlock against tiktoken-rs, bpe-openai and the tiktoken 4.x crate), then
//! Airlock's tokenizer as a bare `.wasm` under node (`bench/wasm/bench.mjs`), and prints the
//! `.wasm` size raw and gzipped.

use std::path::PathBuf;
use std::process::Command;

use crate::util::root;

fn run(cmd: &mut Command) -> Result<(), String> {
    println!("$ {cmd:?}");
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

/// Runs the benchmark.
pub fn bench_tokens() -> Result<(), String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let texts = target.join("bench-texts");
    let native_target = target.join("bench");
    let wasm_target = target.join("bench-wasm");
    run(Command::new("cargo")
        .args(["build", "--release"])
        .current_dir(root().join("bench"))
        .env("CARGO_TARGET_DIR", &native_target))?;
    let bin = native_target.join("release").join("airlock-bench");
    for enc in ["o200k_base", "cl100k_base"] {
        run(Command::new(&bin)
            .arg(enc)
            .env("AIRLOCK_BENCH_TEXTS", &texts))?;
        println!();
    }
    crate::util::ensure_rust_targets(&["wasm32-unknown-unknown"])?;
    run(Command::new("cargo")
        .args(["build", "--release", "--target", "wasm32-unknown-unknown"])
        .current_dir(root().join("bench").join("wasm"))
        .env("CARGO_TARGET_DIR", &wasm_target))?;
    let wasm = wasm_target
        .join("wasm32-unknown-unknown")
        .join("release")
        .join("airlock_bench_wasm.wasm");
    for enc in ["o200k_base", "cl100k_base"] {
        run(Command::new("node")
            .arg(root().join("bench/wasm/bench.mjs"))
            .arg(&wasm)
            .arg(&texts)
            .arg(enc))?;
    }
    let raw = std::fs::metadata(&wasm).map_err(|e| e.to_string())?.len();
    let gz = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&wasm)
        .output()
        .map(|o| o.stdout.len())
        .unwrap_or(0);
    println!(".wasm with both vocabularies: {raw} bytes raw, {gz} bytes gzip -9");
    Ok(())
}
