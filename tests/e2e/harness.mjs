// Runs the built worker in workerd through Miniflare's Node API, bound to a fake upstream.
import { Miniflare } from "miniflare";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");

// Node's fetch says only "fetch failed"; what failed is in `cause` (a reset, a closed keep-alive
// socket, a refused connection). The tests' own fetch calls get it appended to the message, so a
// rare failure under load says which it was. The error object, its class and the words "fetch
// failed" stay as they are.
const nodeFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  try {
    return await nodeFetch(...args);
  } catch (e) {
    const cause = e?.cause;
    if (cause && typeof e.message === "string" && !e.message.includes("cause:")) {
      try {
        e.message += ` (cause: ${cause.code ?? cause.name ?? ""} ${cause.message ?? cause})`;
      } catch {}
    }
    throw e;
  }
};
/** How Miniflare loads the built bundle's other files, as wrangler does: the `.wasm` compiled, the
 * tokenizer's vocabularies (`*.bin`, written beside index.js by build-worker) as Data modules. */
export const bundleModulesRules = [
  { type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true },
  { type: "Data", include: ["**/*.bin"], fallthrough: true },
];

/** The explainer page, served as the worker's static assets (built by `cargo xtask web`). */
export const assetsDir = path.join(root, "www");
/** As wrangler.toml's `[assets] run_worker_first`: these paths always reach the worker. */
export const runWorkerFirst = ["/v1/*", "/healthz", "/airlock/*"];
export const scriptPath =
  process.env.AIRLOCK_WORKER_SCRIPT ?? path.join(root, "crates", "airlock-worker", "build", "index.js");

/**
 * The pacer Durable Object binding as wrangler.toml declares it (`PACER`, class `Pacer`, SQLite
 * storage). `scriptName` binds to the class of another worker of the same Miniflare instance.
 */
export const pacerBinding = (scriptName) => ({ PACER: { className: "Pacer", useSQLite: true, ...(scriptName ? { scriptName } : {}) } });

/**
 * Starts the worker with `vars` as bindings; collects its console output lines in `logs`.
 *
 * `options` (all optional; without them the worker starts exactly as before):
 * - `pacer: true`: binds the pacer Durable Object as wrangler.toml does (with `enable_request_signal`);
 * - `durableObjects`: binding name -> class name of a Durable Object exported by the worker, or
 *   Miniflare's options for it (e.g. `{ MONITOR: { className: "Monitor", useSQLite: true } }`);
 * - `persist`: a directory for the Durable Objects' storage, kept across `dispose()` and a new
 *   `startWorker` with the same directory (a restart);
 * - `instances`: how many copies of the worker to run (default 1), each bound to the first
 *   one's Durable Object namespaces; the extra ones are reached with `w.fetchAt(i, path, init)`.
 */
export async function startWorker(vars = {}, options = {}) {
  const logs = [];
  const collect = (stream) => {
    let buf = "";
    stream.on("data", (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        logs.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  };
  const worker = {
    modules: true,
    scriptPath,
    modulesRules: bundleModulesRules,
    compatibilityDate: "2025-09-01",
    bindings: vars,
    // The same routing as wrangler.toml's [assets]: files from www/ at their paths, the API and the
    // health check always to the worker, any other path without a file to the worker.
    assets: {
      directory: assetsDir,
      routerConfig: { has_user_worker: true, static_routing: { user_worker: runWorkerFirst } },
    },
  };
  const shared = {
    cf: false,
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  };
  const instances = options.instances ?? 1;
  const objects = { ...(options.pacer ? pacerBinding() : {}), ...(options.durableObjects ?? {}) };
  // As wrangler.toml: `enable_request_signal` lets a queued request see its client leave.
  if (options.pacer) worker.compatibilityFlags = ["enable_request_signal"];
  if (options.persist) shared.durableObjectsPersist = options.persist;
  const config =
    instances === 1 && !options.durableObjects
      ? { ...worker, ...shared, ...(options.pacer ? { durableObjects: pacerBinding() } : {}) }
      : {
          ...shared,
          workers: Array.from({ length: instances }, (_, i) => ({
            ...worker,
            name: i === 0 ? "airlock" : `airlock-${i}`,
            durableObjects: Object.fromEntries(
              Object.entries(objects).map(([binding, o]) => [
                binding,
                { ...(typeof o === "string" ? { className: o } : o), scriptName: "airlock" },
              ]),
            ),
          })),
        };
  const mf = new Miniflare(config);
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return {
    mf,
    url,
    logs,
    /** The JSON log lines the worker wrote. */
    logLines: () =>
      logs
        .map((l) => {
          const at = l.indexOf("{");
          try {
            return at >= 0 ? JSON.parse(l.slice(at)) : null;
          } catch {
            return null;
          }
        })
        .filter(Boolean),
    /** A request to worker instance `i` (0 is the one at `url`). */
    fetchAt: async (i, pathname, init) => (await mf.getWorker(i === 0 ? "airlock" : `airlock-${i}`)).fetch(`http://airlock.test${pathname}`, init),
    dispose: () => mf.dispose(),
  };
}

/**
 * Starts `varsList.length` instances of the worker (separate isolates, separate wasm memory) in one
 * Miniflare, every one bound to the first one's pacer Durable Object namespace: the set-up that
 * shows the pacer's budget is shared across isolates. No static assets (API only). `opts.persist`
 * as for `startWorker`. Resolves to `{ mf, urls, logs, dispose }`.
 */
export async function startWorkers(varsList, opts = {}) {
  const logs = [];
  const names = varsList.map((_, i) => `airlock-${i}`);
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.on("data", (d) => logs.push(...d.toString().split("\n").filter(Boolean)));
    },
    ...(opts.persist ? { durableObjectsPersist: opts.persist } : {}),
    workers: varsList.map((vars, i) => ({
      name: names[i],
      modules: true,
      scriptPath,
      modulesRules: bundleModulesRules,
      compatibilityDate: "2025-09-01",
      compatibilityFlags: ["enable_request_signal"],
      bindings: vars,
      cf: false,
      durableObjects: pacerBinding(i === 0 ? undefined : names[0]),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    })),
  });
  await mf.ready;
  const urls = [];
  for (const name of names) urls.push((await mf.unsafeGetDirectURL(name)).toString().replace(/\/$/, ""));
  return { mf, urls, logs, dispose: () => mf.dispose() };
}

/** Runs tests/e2e/py_client.py with a JSON job; resolves to its JSON answer. */
export function python(job) {
  const py = process.env.AIRLOCK_PYTHON ?? path.join(process.env.HOME ?? "", ".cache", "airlock", "venv", "bin", "python");
  return new Promise((resolve, reject) => {
    const child = spawn(py, [path.join(here, "py_client.py"), JSON.stringify(job)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`py_client exited ${code}: ${err}\n${out}`));
      }
    });
  });
}
