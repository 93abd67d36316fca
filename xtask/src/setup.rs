//! `cargo xtask setup`: installs, pinned and idempotently, what the worker's build, dev server and
//! end-to-end tests need. Nothing is fetched from GitHub (worker-build's own downloads fail on
//! machines that only reach the package registries); everything comes from crates.io, npm and PyPI.
//!
//! Cached outside the clone, so a fresh clone on the same machine reuses it:
//! `$AIRLOCK_CACHE`, else `$XDG_CACHE_HOME/airlock`, else `$HOME/.cache/airlock`:
//! - `cargo/bin/worker-build` (0.8.7) and `cargo/bin/wasm-bindgen` (exactly the `wasm-bindgen`
//!   version in `Cargo.lock`), checked by `--version` before any reinstall;
//! - `venv/` with the Python `openai` SDK pinned in `tests/e2e/requirements.txt`.
//!
//! npm packages (wrangler, miniflare, binaryen's wasm-opt, the `openai` SDK, workerd) are pinned in
//! the root `package.json` / `package-lock.json` and installed with `npm ci` into `node_modules/`
//! (npm's own cache makes that fast on a warm machine).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util;

/// The worker-build version the toolchain notes found to work.
const WORKER_BUILD_VERSION: &str = "0.8.7";

/// Paths to the installed tools.
#[derive(Debug)]
pub struct Tools {
    /// The cache folder.
    pub cache: PathBuf,
    /// `worker-build`.
    pub worker_build: PathBuf,
    /// `wasm-bindgen`, matching Cargo.lock.
    pub wasm_bindgen: PathBuf,
    /// `wasm-opt` from npm's binaryen, when installed.
    pub wasm_opt: Option<PathBuf>,
}

impl Tools {
    /// Environment for worker-build: its tools from here, not downloaded.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![(
            "WASM_BINDGEN_BIN".to_owned(),
            self.wasm_bindgen.display().to_string(),
        )];
        if let Some(opt) = &self.wasm_opt {
            env.push(("WASM_OPT_BIN".to_owned(), opt.display().to_string()));
        }
        let bin = self.cache.join("cargo").join("bin");
        let node_bin = util::root().join("node_modules").join(".bin");
        let path = std::env::var("PATH").unwrap_or_default();
        env.push((
            "PATH".to_owned(),
            format!("{}:{}:{path}", bin.display(), node_bin.display()),
        ));
        env
    }
}

/// The cache folder (see the module doc).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AIRLOCK_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("airlock");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".cache").join("airlock")
}

/// Everything: Rust tools, npm packages, the Python venv.
pub fn run() -> Result<Tools, String> {
    let tools = rust_tools()?;
    npm()?;
    python()?;
    println!("setup: tools ready in {}", tools.cache.display());
    Ok(tools)
}

/// The wasm target, worker-build and wasm-bindgen (and wasm-opt when npm installed it).
pub fn rust_tools() -> Result<Tools, String> {
    util::ensure_rust_targets(&["wasm32-unknown-unknown"])?;
    let cache = cache_dir();
    let root = cache.join("cargo");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("cannot create {}: {e}", bin.display()))?;

    let worker_build = bin.join("worker-build");
    if !reports_version(&worker_build, WORKER_BUILD_VERSION) {
        cargo_install(&root, "worker-build", WORKER_BUILD_VERSION, true)?;
    }
    let wasm_bindgen = wasm_bindgen()?;
    let wasm_opt = util::root()
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt");
    Ok(Tools {
        cache,
        worker_build,
        wasm_bindgen,
        wasm_opt: wasm_opt.exists().then_some(wasm_opt),
    })
}

/// wasm-bindgen-cli at exactly the `Cargo.lock` version of `wasm-bindgen`, installed into the cache
/// once (the page needs only this one; the worker needs worker-build too).
pub fn wasm_bindgen() -> Result<PathBuf, String> {
    let root = cache_dir().join("cargo");
    let bin = root.join("bin").join("wasm-bindgen");
    let version = lock_version("wasm-bindgen")?;
    if !reports_version(&bin, &version) {
        // No --locked: wasm-bindgen-cli's lock file names a crate version the registry lacks.
        cargo_install(&root, "wasm-bindgen-cli", &version, false)?;
    }
    Ok(bin)
}

/// True when `program --version` runs and mentions `version` as a whole word.
fn reports_version(program: &Path, version: &str) -> bool {
    let Ok(out) = Command::new(program).arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success()
        && text
            .split(|c: char| c.is_whitespace() || c == 'v')
            .any(|w| w == version)
}

fn cargo_install(root: &Path, krate: &str, version: &str, locked: bool) -> Result<(), String> {
    println!("setup: installing {krate} {version} (a few minutes, once per machine)");
    let root = root.display().to_string();
    let mut args = vec![
        "install",
        krate,
        "--version",
        version,
        "--force",
        "--root",
        &root,
    ];
    if locked {
        args.push("--locked");
    }
    println!("$ cargo {}", args.join(" "));
    // The workspace's CARGO_TARGET_DIR is left alone: installs build in their own temp folder.
    let status = Command::new("cargo")
        .args(&args)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo install {krate} {version} failed: {status}"))
    }
}

/// The version of `package` in the workspace's Cargo.lock (exactly one expected).
pub fn lock_version(package: &str) -> Result<String, String> {
    let path = util::root().join("Cargo.lock");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lock: toml::Value = toml::from_str(&text).map_err(|e| format!("Cargo.lock: {e}"))?;
    let versions: Vec<&str> = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("name").and_then(toml::Value::as_str) == Some(package))
        .filter_map(|p| p.get("version").and_then(toml::Value::as_str))
        .collect();
    match versions.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(format!("{package} is not in Cargo.lock")),
        many => Err(format!(
            "Cargo.lock has several {package} versions: {many:?}"
        )),
    }
}

/// `npm ci` when `node_modules` is missing or older than `package-lock.json`.
pub fn npm() -> Result<(), String> {
    let root = util::root();
    let lock = root.join("package-lock.json");
    let installed = root.join("node_modules").join(".package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(i), Some(l)) => i >= l,
        _ => false,
    };
    check_node()?;
    if fresh {
        return Ok(());
    }
    util::cmd("npm", &["ci", "--no-audit", "--no-fund"])
}

fn check_node() -> Result<(), String> {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("node is needed (>= 20): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major: u32 = text
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(format!("node >= 20 is needed, found {}", text.trim()));
    }
    Ok(())
}

/// The venv's Python, with the SDK pinned in `tests/e2e/requirements.txt`.
pub fn python() -> Result<PathBuf, String> {
    let venv = cache_dir().join("venv");
    let python = venv.join("bin").join("python");
    let requirements = util::root()
        .join("tests")
        .join("e2e")
        .join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let pinned = wanted
        .lines()
        .find_map(|l| l.trim().strip_prefix("openai=="))
        .ok_or("tests/e2e/requirements.txt must pin openai==X")?
        .trim()
        .to_owned();
    let current = Command::new(&python)
        .args(["-c", "import openai; print(openai.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if current.as_deref() == Some(pinned.as_str()) {
        return Ok(python);
    }
    if !python.exists() {
        let venv_text = venv.display().to_string();
        util::cmd("python3", &["-m", "venv", &venv_text])?;
    }
    let req_text = requirements.display().to_string();
    let py = python.display().to_string();
    util::cmd(&py, &["-m", "pip", "install", "-q", "-r", &req_text])?;
    Ok(python)
}
