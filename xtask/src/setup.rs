//! `cargo xtask setup`: installs, pinned and idempotently, what the worker's build, dev server and
//! end-to-end tests need. Nothing is fetched from GitHub (worker-build's own downloads fail on
//! machines that only reach the package registries); everything comes from crates.io, npm and PyPI.
//!
//! Cached outside the clone, so a fresh clone on the same machine reuses it:
//! `$AIRLOCK_CACHE`, else `$XDG_CACHE_HOME/airlock`, else `$HOME/.cache/airlock`:
//! - `cargo/bin/worker-build` (0.8.7) and `cargo/bin/wasm-bindgen` (exactly the `wasm-bindgen`
//!   version in `Cargo.lock`), checked by `--version` before any reinstall;
//! - `venv/` with the Python `openai` SDK (`tests/e2e/requirements.txt`) and `tiktoken`
//!   (`tests/tiktoken-requirements.txt`), pinned; nothing Python goes anywhere else.
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
    println!(
        "setup: building {krate} {version} from crates.io into {root} (about 6 minutes on 2 free \
         cores, once per machine; quiet until done)",
        root = root.display()
    );
    let root = root.display().to_string();
    // --quiet: cargo's notes here are expected and not the user's to act on (a yanked dependency
    // inside the tool's own lock file, "add the install folder to your PATH": xtask calls the tools
    // by path).
    let mut args = vec![
        "install",
        "--quiet",
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

/// `npm ci` when `node_modules/` does not hold what `package-lock.json` pins (compared by content,
/// not by file times, so a fresh checkout of the same lock file does not reinstall).
pub fn npm() -> Result<(), String> {
    let root = util::root();
    let modules = root.join("node_modules");
    if npm_fresh(
        &root.join("package-lock.json"),
        &modules.join(".package-lock.json"),
    ) {
        return Ok(());
    }
    if modules.is_symlink() {
        return Err(format!(
            "{} is a symlink and does not match package-lock.json; not running `npm ci` through \
             it (that would replace the folder it points to). Install there, or remove the link",
            modules.display()
        ));
    }
    println!(
        "setup: installing the pinned npm packages (wrangler, miniflare, binaryen, workerd, \
         openai) into node_modules/"
    );
    util::cmd("npm", &NPM_CI)
}

/// True when every package the lock file installs on every platform (not `optional`) is in npm's
/// record of what it installed (`node_modules/.package-lock.json`) at the same version.
fn npm_fresh(lock: &Path, installed: &Path) -> bool {
    let read = |p: &Path| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
    };
    let (Some(lock), Some(installed)) = (read(lock), read(installed)) else {
        return false;
    };
    let (Some(wanted), Some(have)) = (
        lock.get("packages").and_then(|p| p.as_object()),
        installed.get("packages").and_then(|p| p.as_object()),
    ) else {
        return false;
    };
    wanted
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .filter(|(_, p)| p.get("optional") != Some(&serde_json::Value::Bool(true)))
        .all(|(path, p)| {
            have.get(path.as_str())
                .is_some_and(|h| h.get("version") == p.get("version"))
        })
}

/// `npm ci`, without the notices that are expected here: the update notifier, audit and funding
/// summaries, and warnings such as Miniflare's EBADENGINE on Node 20 (`prereq` says that once).
pub const NPM_CI: [&str; 6] = [
    "ci",
    "--no-audit",
    "--no-fund",
    "--no-update-notifier",
    "--loglevel=error",
    "--no-progress",
];

/// The files that pin what goes into the venv: the Python SDK for the end-to-end tests, and
/// tiktoken for `tests/tiktoken_compare.py`.
const REQUIREMENTS: [&str; 2] = [
    "tests/e2e/requirements.txt",
    "tests/tiktoken-requirements.txt",
];

/// The venv's Python, with every package pinned in [`REQUIREMENTS`] at its pinned version.
/// Nothing Python is ever installed outside this venv (a Debian system Python refuses it anyway).
pub fn python() -> Result<PathBuf, String> {
    let venv = cache_dir().join("venv");
    let python = venv.join("bin").join("python");
    let mut pins = Vec::new();
    for file in REQUIREMENTS {
        let path = util::root().join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        pins.extend(pinned(&text));
    }
    if pins.is_empty() {
        return Err(format!("{REQUIREMENTS:?} pin nothing (name==version)"));
    }
    // One quiet probe: the installed version of each pinned distribution (or a blank line).
    let probe = format!(
        "import importlib.metadata as m\nfor n in {names:?}:\n    try: print(m.version(n))\n    except Exception: print()",
        names = pins.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
    let installed: Vec<String> = Command::new(&python)
        .args(["-c", &probe])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| l.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let stale: Vec<String> = pins
        .iter()
        .enumerate()
        .filter(|(i, (_, version))| installed.get(*i) != Some(version))
        .map(|(_, (name, version))| format!("{name}=={version}"))
        .collect();
    if stale.is_empty() {
        return Ok(python);
    }
    if !python.exists() {
        println!("setup: creating the Python venv {}", venv.display());
        let venv_text = venv.display().to_string();
        util::cmd("python3", &["-m", "venv", &venv_text])?;
    }
    println!("setup: installing {} into the venv", stale.join(", "));
    let py = python.display().to_string();
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--root-user-action=ignore",
    ];
    let paths: Vec<String> = REQUIREMENTS
        .iter()
        .map(|f| util::root().join(f).display().to_string())
        .collect();
    for p in &paths {
        args.extend(["-r", p.as_str()]);
    }
    util::cmd(&py, &args)?;
    Ok(python)
}

/// The `name==version` lines of a requirements file (comments and blank lines skipped).
fn pinned(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_pin_the_sdk_and_tiktoken() {
        let mut pins = Vec::new();
        for file in REQUIREMENTS {
            pins.extend(pinned(
                &std::fs::read_to_string(util::root().join(file)).unwrap(),
            ));
        }
        let names: Vec<&str> = pins.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["openai", "tiktoken"]);
        assert_eq!(
            pinned("# c\n\nx==1.2 # why\ny>=2\n"),
            [("x".to_owned(), "1.2".to_owned())]
        );
    }

    #[test]
    fn npm_freshness_compares_versions_not_times() {
        let dir = std::env::temp_dir().join(format!("xtask-npm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("lock.json");
        let have = dir.join("have.json");
        std::fs::write(
            &lock,
            r#"{"packages":{"":{},"node_modules/a":{"version":"1"},"node_modules/b":{"version":"2","optional":true}}}"#,
        )
        .unwrap();
        std::fs::write(&have, r#"{"packages":{"node_modules/a":{"version":"1"}}}"#).unwrap();
        assert!(npm_fresh(&lock, &have));
        std::fs::write(
            &have,
            r#"{"packages":{"node_modules/a":{"version":"0.9"}}}"#,
        )
        .unwrap();
        assert!(!npm_fresh(&lock, &have));
        assert!(!npm_fresh(&lock, &dir.join("missing.json")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
