//! The worker's build, local server and end-to-end tests.
//!
//! - `cargo xtask build-worker`: the explainer page's wasm (`www/pkg`, served as static assets at
//!   `/`), then `worker-build --release` in `crates/airlock-worker` with the tools from
//!   `cargo xtask setup` (this is also wrangler.toml's `[build] command`).
//! - `cargo xtask dev [--port N]`: setup, one build, then `wrangler dev` on 127.0.0.1:8787, which
//!   rebuilds when a file in wrangler.toml's `[build] watch_dir` changes.
//! - `cargo xtask e2e`: setup, build, then the Node test files in `tests/e2e/` (they start the fake
//!   upstream and the built worker in Miniflare, and drive it with the official SDKs).

use core::time::Duration;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::{setup, util, web};

/// The worker crate's folder; worker-build writes `build/` inside it.
fn crate_dir() -> PathBuf {
    util::root().join("crates").join("airlock-worker")
}

/// Set by `cargo xtask dev` for the builds wrangler runs: `build-worker` then skips when none of
/// the watched inputs changed since its last successful build (wrangler builds once when it starts
/// and once more when its file watcher is ready; only the first does anything).
const IF_CHANGED: &str = "AIRLOCK_BUILD_IF_CHANGED";

/// Builds the page (`www/pkg`, the worker's static assets) and the worker bundle
/// (`crates/airlock-worker/build/index.js` and its `.wasm`).
pub fn build() -> Result<(), String> {
    build_with(std::env::var_os(IF_CHANGED).is_some())
}

fn build_with(if_changed: bool) -> Result<(), String> {
    // One build at a time: wrangler starts a build per file event, without waiting for the last.
    let _lock = if if_changed {
        Some(BuildLock::acquire()?)
    } else {
        None
    };
    let stamp = crate_dir().join("build").join(".airlock-inputs");
    let fingerprint = inputs_fingerprint()?;
    let built = crate_dir().join("build").join("index.js").exists()
        && util::root().join("www").join("pkg").exists();
    if if_changed && built && std::fs::read_to_string(&stamp).ok() == Some(fingerprint.clone()) {
        println!(
            "build-worker: up to date (nothing in wrangler.toml's watch_dir changed since the last build)"
        );
        return Ok(());
    }
    let started = Instant::now();
    println!(
        "build-worker: building the page's wasm (www/pkg) and the worker (crates/airlock-worker/build)"
    );
    build_now()?;
    // The inputs as they were when the build started: an edit during the build builds again.
    std::fs::write(&stamp, &fingerprint).map_err(|e| format!("{}: {e}", stamp.display()))?;
    println!(
        "build-worker: built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The paths wrangler.toml's `[build] watch_dir` lists (relative to the repository root).
pub fn watched() -> Result<Vec<String>, String> {
    let path = util::root().join("wrangler.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config: toml::Value = toml::from_str(&text).map_err(|e| format!("wrangler.toml: {e}"))?;
    let list = config
        .get("build")
        .and_then(|b| b.get("watch_dir"))
        .and_then(toml::Value::as_array)
        .ok_or("wrangler.toml: [build] watch_dir must list the build's inputs")?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "wrangler.toml: watch_dir holds a non-string".to_owned())
        })
        .collect()
}

/// Every file under the watched paths with its size and modification time, hashed.
fn inputs_fingerprint() -> Result<String, String> {
    use core::hash::{Hash, Hasher};
    fn walk(path: &std::path::Path, out: &mut Vec<(String, u64, u128)>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(path) {
                for e in entries.flatten() {
                    walk(&e.path(), out);
                }
            }
        } else {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            out.push((path.display().to_string(), meta.len(), mtime));
        }
    }
    let mut files = Vec::new();
    for w in watched()? {
        walk(&util::root().join(w), &mut files);
    }
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    files.hash(&mut hasher);
    Ok(format!("{:016x} {} files\n", hasher.finish(), files.len()))
}

/// A lock file in the target folder, holding the pid of the build that owns it; a lock whose
/// process is gone is taken over.
struct BuildLock(PathBuf);

impl BuildLock {
    fn acquire() -> Result<Self, String> {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| util::root().join("target"), PathBuf::from);
        std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        let path = target.join("airlock-build-worker.lock");
        let deadline = Instant::now() + Duration::from_secs(1800);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = write!(f, "{}", std::process::id());
                    return Ok(Self(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let owner = std::fs::read_to_string(&path).unwrap_or_default();
                    let alive = owner
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
                    if !alive && !owner.is_empty() {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(format!("{} is held by pid {owner}", path.display()));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn build_now() -> Result<(), String> {
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

/// Runs the worker locally with `wrangler dev` on 127.0.0.1:8787 (`--port N` for another port):
/// builds once (or not at all when nothing changed since the last build), then lets wrangler
/// rebuild when a file in wrangler.toml's `watch_dir` changes, and says when `/healthz` first
/// answers and how long each phase took.
pub fn dev(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => 8787,
        [flag, n] if flag == "--port" => n
            .parse::<u16>()
            .map_err(|_| format!("--port {n}: not a port number"))?,
        _ => return Err("usage: cargo xtask dev [--port N]".to_owned()),
    };
    let started = Instant::now();
    let tools = setup::rust_tools()?;
    setup::npm()?;
    let setup_secs = started.elapsed().as_secs_f64();
    build_with(true)?;
    let build_secs = started.elapsed().as_secs_f64() - setup_secs;
    let base = format!("http://127.0.0.1:{port}");
    println!(
        "\nAirlock will listen on {base} (the explainer page at {base}/;\n\
         upstream and modes: [vars] in wrangler.toml;\n\
         secrets: copy .dev.vars.example to .dev.vars). Point an SDK at it:\n\
         \n  export OPENAI_BASE_URL={base}/v1\n\
         \n  Python: OpenAI(base_url=\"{base}/v1\")\
         \n  Node:   new OpenAI({{ baseURL: \"{base}/v1\" }})\
         \n  curl:   curl {base}/healthz\n\
         \nEditing a file under crates/ or rules/ rebuilds (wrangler.toml's watch_dir); www/ reloads as is.\n"
    );
    std::thread::spawn(move || {
        if wait_healthz(port, Duration::from_secs(600)) {
            let total = started.elapsed().as_secs_f64();
            println!(
                "dev: {base}/healthz answered {total:.0} s after start (tools {setup_secs:.0} s, \
                 build {build_secs:.0} s, wrangler and workerd {:.0} s)",
                total - setup_secs - build_secs
            );
        }
    });
    let port_text = port.to_string();
    wrangler(
        &["dev", "--ip", "127.0.0.1", "--port", &port_text],
        &tools,
        &[(IF_CHANGED, "1")],
        "wrangler dev exited",
    )
}

/// `tests/dev/rebuild.test.mjs`: starts `cargo xtask dev` on a free port, edits a crate file, and
/// expects exactly one rebuild. Slow (one real worker build), so not part of `cargo xtask test`.
pub fn dev_test() -> Result<(), String> {
    util::cmd("node", &["--test", "tests/dev/rebuild.test.mjs"])
}

/// Polls `GET /healthz` on 127.0.0.1:`port` until it answers 200 or `limit` passes.
fn wait_healthz(port: u16, limit: Duration) -> bool {
    use std::io::{Read, Write};
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            let mut head = [0u8; 12];
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_exact(&mut head).is_ok()
                && head.ends_with(b" 200")
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

/// Runs `node_modules/.bin/wrangler ARGS` in the repository root with the pinned tools and the quiet,
/// offline-friendly environment; `failure` names what went wrong when it exits non-zero.
fn wrangler(
    args: &[&str],
    tools: &setup::Tools,
    env: &[(&str, &str)],
    failure: &str,
) -> Result<(), String> {
    let wrangler = util::root()
        .join("node_modules")
        .join(".bin")
        .join("wrangler");
    let status = Command::new(wrangler)
        .args(args)
        .envs(tools.env())
        .envs(wrangler_env())
        .envs(env.iter().copied())
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
        &[],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_dir_is_the_inputs_and_never_an_output() {
        let watched = watched().unwrap();
        for w in &watched {
            assert!(
                util::root().join(w).exists(),
                "watch_dir names {w}, which is missing"
            );
            for output in ["crates/airlock-worker/build", "www/pkg", "target"] {
                assert!(
                    !output.starts_with(w.as_str()) && !w.starts_with(output),
                    "watch_dir {w} holds the build output {output}: each build would start another"
                );
            }
        }
        for input in [
            "crates/airlock-rules/src",
            "crates/airlock-web/src",
            "crates/airlock-worker/src",
            "rules",
        ] {
            assert!(watched.iter().any(|w| w == input), "{input} is not watched");
        }
    }

    #[test]
    fn the_fingerprint_is_stable_while_nothing_changes() {
        let before = inputs_fingerprint().unwrap();
        assert_eq!(before, inputs_fingerprint().unwrap());
        assert!(before.ends_with(" files\n"));
    }
}
