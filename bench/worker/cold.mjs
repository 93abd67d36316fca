// What a cold start is made of (issue 14; not part of `cargo xtask bench-worker`, whose cold row
// this splits): for each worker build, a fresh `workerd serve` per sample, spawn → first 200, for
//   floor     the JS floor (workerd's own start-up and a fetch through it),
//   NAME:wasm a JavaScript worker that imports NAME's `.wasm` (so workerd compiles it) and
//             answers at once without instantiating it: the module's compile,
//   NAME:healthz  the worker answering GET /healthz: + instantiation, wasm-bindgen start and the
//             router, no body and no check,
//   NAME:chat the worker answering a 2 KB chat request (as bench-worker's cold row): + the first
//             request's set-up (settings, body read, check, forward).
// With SPLIT=1, two more per build split `instantiate+start` (issue 14a):
//   NAME:inst a JavaScript worker that instantiates NAME's `.wasm` with stub imports (memory,
//             data segments, tables; no wasm-bindgen glue) and answers at once,
//   NAME:glue a JavaScript worker that imports NAME's `index.js` (the wasm-bindgen glue: its
//             top level instantiates the module and runs `__wbindgen_start`) and answers at once
//             without calling into the wasm: healthz − glue is then the first call's path
//             (workers-rs's entry, settings, router; and V8 compiling each function on first call).
// PROFILE=NAME:healthz (or NAME:chat; Node 20 needs `node --experimental-websocket`) instead
// starts that target once with workerd's inspector, records a V8 CPU profile of its first request
// (sampled every 50 µs; the module's top level has run by then) into <work-dir>/cold-NAME.cpuprofile
// and prints its heaviest functions (self time). Give a build whose `.wasm` keeps its names
// (`$CARGO_TARGET_DIR/airlock-worker/named.wasm` in a copy of the bundle) to read wasm frames.
// V8FLAGS="--flag --flag" passes V8 flags to workerd (config `v8Flags`), for understanding only.
// CALLGRIND=1 instead runs each target once under `valgrind --tool=callgrind` (spawn → first 200,
// then SIGTERM; all threads) and prints the instructions executed: deterministic to ~0.1 %, so
// an A/B of two builds means something on a loaded machine (issue 14a). Slow: ~1 min a target;
// pick targets with ONLY=. The callgrind files stay in <work-dir> for callgrind_annotate.
// Next to each wall-time median it prints workerd's CPU time to the first 200 (all its threads,
// from /proc/PID/task/*/schedstat, in ns): on a busy machine the wall times spread widely but the
// CPU a start-up costs much less so.
// Samples are interleaved (shuffled per round) so the machine's load falls on all alike; it
// prints medians and the load average.
//
//   node bench/worker/cold.mjs <work-dir> NAME=DIR ...      (env RUNS, default 7; SPLIT; V8FLAGS)
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSample } from "./proc-cpu.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const [workDir, ...specs] = process.argv.slice(2);
if (!workDir || specs.length === 0) {
  console.error("usage: node bench/worker/cold.mjs <work-dir> NAME=DIR ...");
  process.exit(2);
}
const RUNS = Number(process.env.RUNS ?? 7);
fs.mkdirSync(workDir, { recursive: true });
const builds = specs.map((s) => {
  const [name, dir] = s.split("=");
  return { name, dir: path.resolve(dir) };
});
const children = [];
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGTERM")));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const upstreamChild = spawn(process.execPath, [path.join(here, "upstream.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
children.push(upstreamChild);
const upstream = `http://127.0.0.1:${await new Promise((r) => upstreamChild.stdout.once("data", (d) => r(Number(String(d).trim()))))}`;

const capnp = (s) => JSON.stringify(s);
const embed = (file) => capnp(path.relative(path.resolve(workDir), path.resolve(file)));
function modules(dir) {
  const files = fs.readdirSync(dir).sort();
  const out = [];
  for (const f of ["index.js", ...files.filter((f) => f !== "index.js")]) {
    const full = path.join(dir, f);
    if (f.endsWith(".js") || f.endsWith(".mjs")) out.push(`(name = ${capnp(f)}, esModule = embed ${embed(full)})`);
    else if (f.endsWith(".wasm")) out.push(`(name = ${capnp(f)}, wasm = embed ${embed(full)})`);
    else if (f.endsWith(".bin")) out.push(`(name = ${capnp(f)}, data = embed ${embed(full)})`);
  }
  return out.join(", ");
}
// NAME:wasm — a worker that imports the build's wasm and never instantiates it.
function compileOnly(b) {
  const wasm = fs.readdirSync(b.dir).find((f) => f.endsWith(".wasm"));
  const js = path.join(workDir, `compile-${b.name}.js`);
  fs.writeFileSync(js, `import m from "./${wasm}";\nexport default { async fetch() { return new Response(String(m instanceof WebAssembly.Module)); } };\n`);
  return `(name = "index.js", esModule = embed ${embed(js)}), (name = ${capnp(wasm)}, wasm = embed ${embed(path.join(b.dir, wasm))})`;
}

// NAME:inst — instantiate the build's wasm with an import object of stubs, nothing else.
function instOnly(b) {
  const wasm = fs.readdirSync(b.dir).find((f) => f.endsWith(".wasm"));
  const js = path.join(workDir, `inst-${b.name}.js`);
  fs.writeFileSync(
    js,
    `import m from "./${wasm}";\n` +
      `const imports = {};\n` +
      `for (const d of WebAssembly.Module.imports(m)) {\n` +
      `  const ns = (imports[d.module] ??= {});\n` +
      `  ns[d.name] = d.kind === "function" ? () => {} : d.kind === "tag" ? WebAssembly.JSTag : undefined;\n` +
      `}\n` +
      `const instance = new WebAssembly.Instance(m, imports);\n` +
      `export default { async fetch() { return new Response(String(Object.keys(instance.exports).length)); } };\n`,
  );
  return `(name = "index.js", esModule = embed ${embed(js)}), (name = ${capnp(wasm)}, wasm = embed ${embed(path.join(b.dir, wasm))})`;
}
// NAME:glue — the build's own index.js imported (top level: instantiate + start), never called.
function glueOnly(b) {
  const js = path.join(workDir, `glue-${b.name}.js`);
  fs.writeFileSync(js, `import * as glue from "./index.js";\nexport default { async fetch() { return new Response(String(typeof glue.default)); } };\n`);
  return `(name = "entry.js", esModule = embed ${embed(js)}), ${modules(b.dir)}`;
}

const targets = [{ name: "floor", mods: `(name = "floor.js", esModule = embed ${embed(path.join(here, "floor.js"))})`, how: "chat" }];
for (const b of builds) {
  // (A build without a `.wasm`, e.g. a JavaScript worker compared under ONLY=:healthz, has only
  // its healthz and chat targets.)
  const hasWasm = fs.readdirSync(b.dir).some((f) => f.endsWith(".wasm"));
  if (hasWasm) targets.push({ name: `${b.name}:wasm`, mods: compileOnly(b), how: "get" });
  if (hasWasm && process.env.SPLIT) {
    targets.push({ name: `${b.name}:inst`, mods: instOnly(b), how: "get" });
    targets.push({ name: `${b.name}:glue`, mods: glueOnly(b), how: "get" });
  }
  targets.push({ name: `${b.name}:healthz`, mods: modules(b.dir), how: "healthz" });
  targets.push({ name: `${b.name}:chat`, mods: modules(b.dir), how: "chat" });
}
const v8Flags = (process.env.V8FLAGS ?? "").split(/\s+/).filter(Boolean);
// ONLY=REGEX keeps the floor and the targets whose name matches (e.g. ONLY=:wasm for compile only).
if (process.env.ONLY) {
  const keep = new RegExp(process.env.ONLY);
  targets.splice(0, targets.length, ...targets.filter((t) => t.name === "floor" || keep.test(t.name)));
}
function config(t, port) {
  const file = path.join(workDir, `cold-${t.name.replace(/[^a-z0-9]/gi, "_")}.capnp`);
  fs.writeFileSync(
    file,
    `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = (services = [` +
      `(name = "w", worker = (modules = [${t.mods}], compatibilityDate = "2025-09-01", bindings = [(name = "UPSTREAM_URL", text = ${capnp(upstream)})], globalOutbound = "loopback")), ` +
      `(name = "loopback", network = (allow = ["local", "private", "public"]))], ` +
      `sockets = [(name = "s", address = "127.0.0.1:${port}", http = (), service = "w")]` +
      (v8Flags.length ? `, v8Flags = [${v8Flags.map(capnp).join(", ")}]` : "") +
      `);\n`,
  );
  return file;
}
const native = path.join(root, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");
const workerdBin = fs.existsSync(native) ? native : path.join(root, "node_modules", ".bin", "workerd");

const sentence = "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. ";
const chat = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: sentence.repeat(23).slice(0, 2048 - 120) }] });
function once(port, how) {
  return new Promise((resolve, reject) => {
    const post = how === "chat";
    const headers = post ? { "content-type": "application/json", "content-length": Buffer.byteLength(chat), authorization: "Bearer sk-bench-not-a-real-key" } : {};
    const req = http.request({ host: "127.0.0.1", port, method: post ? "POST" : "GET", path: how === "healthz" ? "/healthz" : "/v1/chat/completions", headers, agent: false }, (res) => {
      res.on("data", () => {});
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(post ? chat : undefined);
  });
}

if (process.env.PROFILE) {
  const t = targets.find((x) => x.name === process.env.PROFILE);
  if (!t) throw new Error(`PROFILE=${process.env.PROFILE}: no such target (${targets.map((x) => x.name).join(", ")})`);
  const [port, inspector] = [await freePort(), await freePort()];
  const child = spawn(workerdBin, ["serve", config(t, port), `--inspector-addr=127.0.0.1:${inspector}`], { stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  let list;
  for (const t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 5))) {
    try {
      list = await (await fetch(`http://127.0.0.1:${inspector}/json/list`)).json();
      if (list.length) break;
    } catch {}
    if (Date.now() - t0 > 20_000) throw new Error("no inspector within 20 s");
  }
  const ws = new WebSocket(list[0].webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
  await new Promise((r) => ws.addEventListener("open", r));
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id && pending.has(m.id)) pending.get(m.id)(m), pending.delete(m.id);
  });
  const call = (method, params = {}) => new Promise((r) => (pending.set(++id, r), ws.send(JSON.stringify({ id, method, params }))));
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 50 });
  await call("Profiler.start");
  const t0 = process.hrtime.bigint();
  await once(port, t.how);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const { result } = await call("Profiler.stop");
  const file = path.join(workDir, `cold-${t.name.replace(/[^a-z0-9]/gi, "_")}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(result.profile));
  const { nodes, samples: ids, timeDeltas } = result.profile;
  const self = new Map();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  ids.forEach((nid, k) => {
    const n = byId.get(nid);
    const key = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url ? path.basename(n.callFrame.url) : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + (timeDeltas[k] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`${file}: first ${t.how} request ${ms.toFixed(1)} ms (under the profiler); self time by function, µs:`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 25))) {
    console.log(`${String(us).padStart(8)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
  process.exit(0);
}

if (process.env.CALLGRIND) {
  const rows = [];
  for (const t of targets) {
    const port = await freePort();
    const out = path.join(workDir, `callgrind-${t.name.replace(/[^a-z0-9]/gi, "_")}.out`);
    const child = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, workerdBin, "serve", config(t, port)], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(child);
    let log = "";
    child.stderr.on("data", (d) => (log += d));
    for (const t0 = Date.now(); ; await new Promise((res) => setTimeout(res, 20))) {
      if (child.exitCode !== null) throw new Error(`valgrind workerd (${t.name}) exited ${child.exitCode}: ${log.slice(-2000)}`);
      try {
        await once(port, t.how);
        break;
      } catch (e) {
        if (!/ECONNREFUSED|ECONNRESET|socket hang up/.test(String(e))) throw new Error(`${t.name}: ${e}`);
      }
      if (Date.now() - t0 > 600_000) throw new Error(`${t.name}: no 200 within 600 s under valgrind`);
    }
    child.kill("SIGTERM");
    await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
    const m = /^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(out, "utf8"));
    rows.push([t.name, m ? Number(m[1]) : NaN]);
    console.log(`${t.name.padEnd(20)} ${(rows.at(-1)[1] / 1e6).toFixed(1).padStart(8)} M instructions`);
  }
  console.log(`(callgrind, spawn → first 200 → SIGTERM, all threads; load ${os.loadavg()[0].toFixed(2)})`);
  process.exit(0);
}

const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
const cpuSamples = Object.fromEntries(targets.map((t) => [t.name, []]));
// CPU time of every thread of `pid` so far, ms (NaN where /proc cannot tell).
function cpuMs(pid) {
  try {
    return cpuSample(pid).us / 1e3;
  } catch {
    return NaN;
  }
}
const load0 = os.loadavg()[0];
for (let r = 0; r < RUNS; r++) {
  for (const t of [...targets].sort(() => Math.random() - 0.5)) {
    const port = await freePort();
    const file = config(t, port);
    const t0 = process.hrtime.bigint();
    const child = spawn(workerdBin, ["serve", file], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`workerd (${t.name}) exited ${child.exitCode}`);
      try {
        await once(port, t.how);
        break;
      } catch (e) {
        if (!/ECONNREFUSED|ECONNRESET|socket hang up/.test(String(e))) throw new Error(`${t.name}: ${e}`);
        await new Promise((res) => setTimeout(res, 1));
      }
      if (Number(process.hrtime.bigint() - t0) / 1e6 > 20_000) throw new Error(`${t.name}: no 200 within 20 s`);
    }
    samples[t.name].push(Number(process.hrtime.bigint() - t0) / 1e6);
    cpuSamples[t.name].push(cpuMs(child.pid));
    child.kill("SIGTERM");
    await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`cold start, spawn → first 200 (ms; median of ${RUNS}, interleaved; load ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)})`);
for (const t of targets) {
  console.log(
    `${t.name.padEnd(20)} ${median(samples[t.name]).toFixed(1).padStart(7)}   CPU ${median(cpuSamples[t.name]).toFixed(1).padStart(6)}   all ${samples[t.name].map((x) => x.toFixed(0)).join(" ")}`,
  );
}
for (const b of process.env.ONLY ? [] : builds) {
  const m = (k) => median(samples[`${b.name}:${k}`]);
  const f = median(samples.floor);
  console.log(
    `${b.name}: compile ${(m("wasm") - f).toFixed(1)} ms, instantiate+start ${(m("healthz") - m("wasm")).toFixed(1)}, first request ${(m("chat") - m("healthz")).toFixed(1)} (medians' differences)`,
  );
  const c = (k) => median(cpuSamples[`${b.name}:${k}`]);
  console.log(
    `${b.name} CPU: compile ${(c("wasm") - median(cpuSamples.floor)).toFixed(1)} ms, instantiate+start ${(c("healthz") - c("wasm")).toFixed(1)}, first request ${(c("chat") - c("healthz")).toFixed(1)}`,
  );
  if (process.env.SPLIT) {
    console.log(
      `${b.name}: instantiate+start = instantiate ${(m("inst") - m("wasm")).toFixed(1)} + glue and start ${(m("glue") - m("inst")).toFixed(1)} + first call to /healthz ${(m("healthz") - m("glue")).toFixed(1)}`,
    );
  }
}
process.exit(0);
