// What a cold start is made of (issue 14; not part of `cargo xtask bench-worker`, whose cold row
// this splits): for each worker build, a fresh `workerd serve` per sample, spawn → first 200, for
//   floor     the JS floor (workerd's own start-up and a fetch through it),
//   NAME:wasm a JavaScript worker that imports NAME's `.wasm` (so workerd compiles it) and
//             answers at once without instantiating it: the module's compile,
//   NAME:healthz  the worker answering GET /healthz: + instantiation, wasm-bindgen start and the
//             router, no body and no check,
//   NAME:chat the worker answering a 2 KB chat request (as bench-worker's cold row): + the first
//             request's set-up (settings, body read, check, forward).
// Samples are interleaved (shuffled per round) so the machine's load falls on all alike; it
// prints medians and the load average.
//
//   node bench/worker/cold.mjs <work-dir> NAME=DIR ...      (env RUNS, default 7)
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
    if (f.endsWith(".js")) out.push(`(name = ${capnp(f)}, esModule = embed ${embed(full)})`);
    else if (f.endsWith(".wasm")) out.push(`(name = ${capnp(f)}, wasm = embed ${embed(full)})`);
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

const targets = [{ name: "floor", mods: `(name = "floor.js", esModule = embed ${embed(path.join(here, "floor.js"))})`, how: "chat" }];
for (const b of builds) {
  targets.push({ name: `${b.name}:wasm`, mods: compileOnly(b), how: "get" });
  targets.push({ name: `${b.name}:healthz`, mods: modules(b.dir), how: "healthz" });
  targets.push({ name: `${b.name}:chat`, mods: modules(b.dir), how: "chat" });
}
function config(t, port) {
  const file = path.join(workDir, `cold-${t.name.replace(/[^a-z0-9]/gi, "_")}.capnp`);
  fs.writeFileSync(
    file,
    `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = (services = [` +
      `(name = "w", worker = (modules = [${t.mods}], compatibilityDate = "2025-09-01", bindings = [(name = "UPSTREAM_URL", text = ${capnp(upstream)})], globalOutbound = "loopback")), ` +
      `(name = "loopback", network = (allow = ["local", "private", "public"]))], ` +
      `sockets = [(name = "s", address = "127.0.0.1:${port}", http = (), service = "w")]);\n`,
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

const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
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
    child.kill("SIGTERM");
    await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`cold start, spawn → first 200 (ms; median of ${RUNS}, interleaved; load ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)})`);
for (const t of targets) {
  console.log(`${t.name.padEnd(20)} ${median(samples[t.name]).toFixed(1).padStart(7)}   all ${samples[t.name].map((x) => x.toFixed(0)).join(" ")}`);
}
for (const b of builds) {
  const m = (k) => median(samples[`${b.name}:${k}`]);
  const f = median(samples.floor);
  console.log(
    `${b.name}: compile ${(m("wasm") - f).toFixed(1)} ms, instantiate+start ${(m("healthz") - m("wasm")).toFixed(1)}, first request ${(m("chat") - m("healthz")).toFixed(1)} (medians' differences)`,
  );
}
process.exit(0);
