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

/// The wasm features rustc's wasm32 target uses, plus the exception handling of wasm-bindgen's
/// catch wrappers (worker-build's own list; `--all-features` would let binaryen write encodings
/// workerd does not read).
const WASM_FEATURES: [&str; 7] = [
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-reference-types",
    "--enable-exception-handling",
];

/// The optimisation passes: `AIRLOCK_WASM_OPT` (space-separated wasm-opt flags) for experiments,
/// else `-O` (worker-build's default) with single-caller inlining capped at 400 (binaryen's size
/// measure). Uncapped, binaryen inlines every function that has one caller, however large, and
/// the fetch handler's future became one 150 KB function (from 2.5 KB) holding the forwarding,
/// the check and every other route: V8 compiles a wasm function on its first call (Liftoff,
/// slower than linear in a function's size), so every cold start compiled all of it, even for
/// `GET /healthz` (8 ms of the first call on a quiet machine, 12 ms of lazy compilation in all).
/// Capped, the first `/healthz` compiles 135 KB of function bodies instead of 250 KB, a first
/// 2 KB chat request 323 KB instead of 387 KB, and no function over 57 KB; CPU per request did
/// not move (`bench/worker/cpu.mjs`, issue 14a in ARCHITECTURE.md's "Speed").
fn wasm_opt_flags() -> Vec<String> {
    std::env::var("AIRLOCK_WASM_OPT")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map_or_else(
            || {
                vec![
                    "-O".to_owned(),
                    "--one-caller-inline-max-function-size=400".to_owned(),
                ]
            },
            |s| s.split_whitespace().map(str::to_owned).collect(),
        )
}

fn build_now() -> Result<(), String> {
    web::build()?;
    let tools = setup::rust_tools()?;
    // wasm-opt runs here rather than inside worker-build, so its input (wasm-bindgen's output) and
    // an optimised copy with function names are kept for profiles and experiments (issue 14):
    // `$CARGO_TARGET_DIR/airlock-worker/{bindgen,named}.wasm`.
    let args = ["--release", "--no-opt"];
    println!("$ worker-build {}", args.join(" "));
    let status = Command::new(&tools.worker_build)
        .args(args)
        .envs(tools.env())
        .current_dir(crate_dir())
        .status()
        .map_err(|e| format!("could not run worker-build: {e}"))?;
    if !status.success() {
        return Err(format!("worker-build failed: {status}"));
    }
    crate::vocab::ship(&crate_dir().join("build"))?;
    install_entry(&crate_dir().join("build"))?;
    let wasm = crate_dir().join("build").join("index_bg.wasm");
    let Some(wasm_opt) = &tools.wasm_opt else {
        println!(
            "build-worker: wasm-opt not installed (run `cargo xtask setup`); built without it"
        );
        return Ok(());
    };
    let keep = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| util::root().join("target"), PathBuf::from)
        .join("airlock-worker");
    std::fs::create_dir_all(&keep).map_err(|e| format!("{}: {e}", keep.display()))?;
    let (bindgen, named) = (keep.join("bindgen.wasm"), keep.join("named.wasm"));
    std::fs::copy(&wasm, &bindgen).map_err(|e| format!("{}: {e}", bindgen.display()))?;
    let run = |args: &[&str]| -> Result<(), String> {
        println!("$ wasm-opt {}", args.join(" "));
        let status = Command::new(wasm_opt)
            .args(args)
            .status()
            .map_err(|e| format!("could not run wasm-opt: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("wasm-opt failed: {status}"))
        }
    };
    let (bindgen_s, named_s, wasm_s) = (
        bindgen.to_string_lossy().into_owned(),
        named.to_string_lossy().into_owned(),
        wasm.to_string_lossy().into_owned(),
    );
    let flags = wasm_opt_flags();
    let mut args: Vec<&str> = vec![bindgen_s.as_str(), "-o", named_s.as_str()];
    args.extend(flags.iter().map(String::as_str));
    args.extend(WASM_FEATURES);
    args.push("--debuginfo");
    run(&args)?;
    // Function names and producer notes are ~0.75 MB of the module that nothing at the edge reads:
    // stripped, the bundle stays under 3 MB gzip with the request-schema validator (issue 12).
    let mut args: Vec<&str> = vec![named_s.as_str(), "-o", wasm_s.as_str()];
    args.extend(WASM_FEATURES);
    args.extend(["--strip-debug", "--strip-producers"]);
    run(&args)?;
    if let Ok(meta) = std::fs::metadata(&wasm) {
        println!("build-worker: {} ({} bytes)", wasm.display(), meta.len());
    }
    Ok(())
}

/// The JavaScript entry (issue 14): worker-build's `index.js` becomes `glue.mjs` (an ES module
/// by its name: Miniflare takes a `.js` the entry imports for CommonJS), and
/// `crates/airlock-worker/js/entry.js`, which imports it, becomes `index.js` (wrangler's `main`),
/// with `js/io.mjs` beside it (the I/O helpers the entry and the Rust `fetch` share; issue 14).
fn install_entry(build: &std::path::Path) -> Result<(), String> {
    let (index, glue) = (build.join("index.js"), build.join("glue.mjs"));
    std::fs::rename(&index, &glue).map_err(|e| format!("{}: {e}", index.display()))?;
    let js = crate_dir().join("js");
    for (from, to) in [("entry.js", index), ("io.mjs", build.join("io.mjs"))] {
        let from = js.join(from);
        std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
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
    let raw = std::env::var_os("AIRLOCK_DEV_RAW").is_some();
    let mut child = Command::new(wrangler_bin())
        .args(["dev", "--ip", "127.0.0.1", "--port", &port_text])
        .envs(tools.env())
        .envs(wrangler_env())
        .env(IF_CHANGED, "1")
        .current_dir(util::root())
        // stdout stays the terminal (wrangler's colours and hotkeys); stderr is filtered.
        .stderr(if raw {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::piped()
        })
        .spawn()
        .map_err(|e| format!("could not run wrangler: {e}"))?;
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            let mut filter = UpstreamNoise::default();
            let mut out = std::io::stderr();
            for line in std::io::BufReader::new(stderr)
                .split(b'\n')
                .map_while(Result::ok)
            {
                for kept in filter.line(&String::from_utf8_lossy(&line)) {
                    let _ = writeln!(out, "{kept}");
                }
            }
        });
    }
    let status = child
        .wait()
        .map_err(|e| format!("could not wait for wrangler: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("wrangler dev exited: {status}"))
    }
}

/// Turns workerd's dumps for an upstream it cannot reach into one calm line.
///
/// When the worker's `fetch` to the upstream fails (DNS, refused, unreachable), workerd logs the
/// network exception with a stack of addresses, once per layer it passes (two to three times), and
/// wrangler shows each as a red `✘ [ERROR]` block, followed by `Uncaught Error: internal error;
/// reference = <id>` for the rejected promise, although the worker catches it and answers 502
/// `upstream_unreachable` and logs its own JSON line. This drops those blocks (only those: a
/// network exception from `kj/async-io`, and an `internal error` whose reference is one of their
/// ids) and says once per distinct cause what happened. `AIRLOCK_DEV_RAW=1` shows them as they are.
#[derive(Default)]
struct UpstreamNoise {
    /// Inside a dropped block (its stack and blank lines follow the `[ERROR]` line).
    dropping: bool,
    /// workerd's error ids of the dropped blocks (an `internal error` names one of them).
    ids: Vec<String>,
    /// The last cause said, so a repeated one is not said again.
    said: Option<String>,
}

impl UpstreamNoise {
    fn line(&mut self, line: &str) -> Vec<String> {
        let plain = strip_ansi(line);
        let text = plain.trim();
        if let Some(rest) = text.strip_prefix("✘ [ERROR] ") {
            if let Some(cause) = network_cause(rest) {
                self.dropping = true;
                if self.said.as_deref() == Some(cause.as_str()) {
                    return vec![];
                }
                self.said = Some(cause.clone());
                return vec![format!(
                    "dev: the upstream is unreachable ({cause}); clients get 502 \
                     upstream_unreachable, as the worker's log line says. workerd's own error dumps \
                     for this are hidden (AIRLOCK_DEV_RAW=1 shows them); UPSTREAM_URL is in \
                     wrangler.toml's [vars] or .dev.vars"
                )];
            }
            if let Some(id) = rest
                .strip_prefix("Uncaught Error: internal error; reference = ")
                .map(str::trim)
                && self.ids.iter().any(|known| known == id)
            {
                self.dropping = true;
                return vec![];
            }
            self.dropping = false;
            return vec![line.to_owned()];
        }
        if self.dropping && (text.is_empty() || text.starts_with("stack:")) {
            if let Some((_, id)) = text.rsplit_once("wdErrId = ") {
                self.ids.push(id.trim().to_owned());
                if self.ids.len() > 64 {
                    self.ids.remove(0);
                }
            }
            return vec![];
        }
        self.dropping = false;
        vec![line.to_owned()]
    }
}

/// The cause of a workerd network exception (`e = kj/async-io…: failed: DNS lookup failed.;
/// params.host = api.openai.com; …`), shortened: "DNS lookup failed for api.openai.com".
fn network_cause(error: &str) -> Option<String> {
    let rest = error.strip_prefix("e = kj/async-io")?;
    let reason = rest
        .split_once(": ")
        .map_or(rest, |(_, r)| r)
        .trim_start_matches("failed: ")
        .trim_start_matches("disconnected: ");
    let reason = reason
        .split(';')
        .next()
        .unwrap_or(reason)
        .trim_end_matches('.');
    let host = error
        .split_once("params.host = ")
        .map(|(_, h)| h.split(';').next().unwrap_or(h).trim());
    Some(match host {
        Some(h) if !h.is_empty() => format!("{reason} for {h}"),
        _ => reason.to_owned(),
    })
}

/// `text` without ANSI colour sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
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

fn wrangler_bin() -> PathBuf {
    util::root()
        .join("node_modules")
        .join(".bin")
        .join("wrangler")
}

/// Runs `node_modules/.bin/wrangler ARGS` in the repository root with the pinned tools and the quiet,
/// offline-friendly environment; `failure` names what went wrong when it exits non-zero.
fn wrangler(args: &[&str], tools: &setup::Tools, failure: &str) -> Result<(), String> {
    let status = Command::new(wrangler_bin())
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
    fn an_unreachable_upstream_is_one_calm_line() {
        // As `cargo xtask dev` printed it for one request with no DNS (ANSI colours stripped).
        let red = |t: &str| {
            format!(
                "\u{1b}[31m✘ \u{1b}[41;31m[\u{1b}[41;97mERROR\u{1b}[41;31m]\u{1b}[0m \u{1b}[1m{t}\u{1b}[0m"
            )
        };
        let dns = "e = kj/async-io-unix.c++:1298: failed: DNS lookup failed.; params.host = api.openai.com; params.service = ; gai_strerror(status) = Name or service not known";
        let stack = |id: &str| {
            format!(
                "  stack: /x/workerd@51f50be /x/workerd@51f5bb0; sentryErrorContext = jsgInternalError; wdErrId = {id}"
            )
        };
        let mut input = Vec::new();
        for id in ["a1", "b2", "c3"] {
            input.extend([
                red(dns),
                String::new(),
                stack(id),
                String::new(),
                String::new(),
            ]);
        }
        input.extend([
            red("Uncaught Error: internal error; reference = b2 "),
            String::new(),
            String::new(),
        ]);
        let json = r#"{"status":502,"category":"connection"}"#;
        input.push(json.to_owned());
        input.push(red("Uncaught Error: internal error; reference = zz"));
        let mut filter = UpstreamNoise::default();
        let mut kept: Vec<String> = input.iter().flat_map(|l| filter.line(l)).collect();
        assert_eq!(kept.len(), 3, "{kept:#?}");
        assert!(kept[0].starts_with("dev: the upstream is unreachable (DNS lookup failed for api.openai.com); clients get 502"), "{}", kept[0]);
        assert_eq!(kept[1], json);
        // An internal error that is not one of the dropped ones is shown as it is.
        assert!(kept[2].contains("reference = zz"));
        // The same cause again says nothing new; another cause is said.
        kept = [red(dns), stack("d4")]
            .iter()
            .flat_map(|l| filter.line(l))
            .collect();
        assert!(kept.is_empty(), "{kept:?}");
        let refused =
            "e = kj/async-io-unix.c++:1100: disconnected: connect(): Connection refused; fd = 12";
        kept = filter.line(&red(refused));
        assert_eq!(kept.len(), 1);
        assert!(
            kept[0].contains("(connect(): Connection refused)"),
            "{}",
            kept[0]
        );
    }

    #[test]
    fn the_fingerprint_is_stable_while_nothing_changes() {
        let before = inputs_fingerprint().unwrap();
        assert_eq!(before, inputs_fingerprint().unwrap());
        assert!(before.ends_with(" files\n"));
    }
}
