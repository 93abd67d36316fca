//! The worker's build, local server and end-to-end tests.
//!
//! - `cargo xtask build-worker`: the explainer page's wasm (`www/pkg`, served as static assets at
//!   `/`), then `worker-build --release` in `crates/airlock-worker` with the tools from
//!   `cargo xtask setup` (this is also wrangler.toml's `[build] command`).
//! - `cargo xtask dev`: setup, then `wrangler dev` on 127.0.0.1:8787 (wrangler runs the build).
//! - `cargo xtask e2e`: setup, build, then the Node test files in `tests/e2e/` (they start the fake
//!   upstream and the built worker in Miniflare, and drive it with the official SDKs).

use std::path::PathBuf;
use std::process::Command;

use crate::{setup, util, web};

/// The worker crate's folder; worker-build writes `build/` inside it.
fn crate_dir() -> PathBuf {
    util::root().join("crates").join("airlock-worker")
}

/// Builds the page (`www/pkg`, the worker's static assets) and the worker bundle
/// (`crates/airlock-worker/build/index.js` and its `.wasm`).
pub fn build() -> Result<(), String> {
    web::build()?;
    let tools = setup::rust_tools()?;
    let mut args = vec!["--release"];
    if tools.wasm_opt.is_none() {
        println!(
            "build-worker: wasm-opt not installed (run `cargo xtask setup`); building without it"
        );
        args.push("--no-opt");
    }
    println!("$ worker-build {}", args.join(" "));
    let status = Command::new(&tools.worker_build)
        .args(&args)
        .envs(tools.env())
        .current_dir(crate_dir())
        .status()
        .map_err(|e| format!("could not run worker-build: {e}"))?;
    if !status.success() {
        return Err(format!("worker-build failed: {status}"));
    }
    let wasm = crate_dir().join("build").join("index_bg.wasm");
    // Function names and producer notes are ~1.2 MB of the module that nothing at the edge reads:
    // stripped, the bundle stays under 3 MB gzip with the request-schema validator (issue 12).
    if let Some(wasm_opt) = &tools.wasm_opt {
        let path = wasm.to_string_lossy().into_owned();
        let status = Command::new(wasm_opt)
            .args([
                path.as_str(),
                // The features rustc's wasm32 target uses (`--all-features` would let binaryen
                // write encodings workerd does not read).
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
                "--strip-debug",
                "--strip-producers",
                "-o",
                path.as_str(),
            ])
            .status()
            .map_err(|e| format!("could not run wasm-opt: {e}"))?;
        if !status.success() {
            return Err(format!("wasm-opt --strip-debug failed: {status}"));
        }
    }
    if let Ok(meta) = std::fs::metadata(&wasm) {
        println!("build-worker: {} ({} bytes)", wasm.display(), meta.len());
    }
    Ok(())
}

fn wrangler_env() -> [(&'static str, &'static str); 3] {
    [
        ("WRANGLER_SEND_METRICS", "false"),
        ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
        ("WRANGLER_HIDE_BANNER", "true"),
    ]
}

/// Runs the worker locally with `wrangler dev` on 127.0.0.1:8787.
pub fn dev() -> Result<(), String> {
    let tools = setup::rust_tools()?;
    setup::npm()?;
    println!(
        "\nAirlock will listen on http://127.0.0.1:8787 (the explainer page at http://127.0.0.1:8787/;\n\
         upstream and modes: [vars] in wrangler.toml;\n\
         secrets: copy .dev.vars.example to .dev.vars). Point an SDK at it:\n\
         \n  export OPENAI_BASE_URL=http://127.0.0.1:8787/v1\n\
         \n  Python: OpenAI(base_url=\"http://127.0.0.1:8787/v1\")\
         \n  Node:   new OpenAI({{ baseURL: \"http://127.0.0.1:8787/v1\" }})\
         \n  curl:   curl http://127.0.0.1:8787/healthz\n"
    );
    wrangler(
        &["dev", "--ip", "127.0.0.1", "--port", "8787"],
        &tools,
        "wrangler dev exited",
    )
}

/// Runs `node_modules/.bin/wrangler ARGS` in the repository root with the pinned tools and the quiet,
/// offline-friendly environment; `failure` names what went wrong when it exits non-zero.
fn wrangler(args: &[&str], tools: &setup::Tools, failure: &str) -> Result<(), String> {
    let wrangler = util::root()
        .join("node_modules")
        .join(".bin")
        .join("wrangler");
    let status = Command::new(wrangler)
        .args(args)
        .envs(tools.env())
        .envs(wrangler_env())
        .current_dir(util::root())
        .status()
        .map_err(|e| format!("could not run wrangler: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{failure}: {status}"))
    }
}

/// `wrangler deploy --dry-run --outdir <dir>`: proves the bundle deploys; prints wrangler's sizes.
pub fn bundle(outdir: &str) -> Result<(), String> {
    let tools = setup::rust_tools()?;
    setup::npm()?;
    wrangler(
        &["deploy", "--dry-run", "--outdir", outdir],
        &tools,
        "wrangler deploy --dry-run failed",
    )
}

/// Sets up, builds, and runs the end-to-end tests (`tests/e2e/*.test.mjs`).
pub fn e2e(args: &[String]) -> Result<(), String> {
    setup::run()?;
    let python = setup::python()?;
    build()?;
    let dir = util::root().join("tests").join("e2e");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .filter(|p| {
            // `cargo xtask e2e <word>` runs only the files whose name contains a word.
            args.is_empty()
                || args.iter().any(|a| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().contains(a.as_str()))
                })
        })
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("no tests/e2e/*.test.mjs file matched".to_owned());
    }
    let mut node_args = vec!["--test".to_owned(), "--test-concurrency=1".to_owned()];
    node_args.extend(files);
    println!("$ node {}", node_args.join(" "));
    let status = Command::new("node")
        .args(&node_args)
        .env("AIRLOCK_PYTHON", python)
        .env(
            "AIRLOCK_WORKER_SCRIPT",
            crate_dir().join("build").join("index.js"),
        )
        .current_dir(util::root())
        .status()
        .map_err(|e| format!("could not run node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("end-to-end tests failed: {status}"))
    }
}
