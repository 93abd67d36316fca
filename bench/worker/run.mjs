// Airlock's added latency over calling the upstream directly, against the floor (a minimal
// JavaScript pass-through worker), in one interleaved run under bare `workerd serve`.
//
//   node bench/worker/run.mjs <bundle-dir> <work-dir>
//
// <bundle-dir> is `wrangler deploy --dry-run --outdir` output (index.js and its .wasm); run by
// `cargo xtask bench-worker`. With BENCH_BASELINE=<another bundle dir> (an earlier build of Airlock)
// that bundle runs as one more target in the same interleaved run, and the table gains the
// difference "Airlock − baseline" (issue 12's cost budget: +0.05 ms p50 on the 2 KB body). Everything listens on 127.0.0.1. The load client keeps its
// connections alive and records one sample per request actually made (no invented samples).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const [bundleDir, workDir] = process.argv.slice(2);
if (!bundleDir || !workDir) {
  console.error("usage: node bench/worker/run.mjs <bundle-dir> <work-dir>");
  process.exit(2);
}
// Requests per connection per batch, and batches per target (interleaved); bounded.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const PER_BATCH = { 1: 250, 16: 40 };
const SCALE_200K = 0.4; // fewer requests for the large body

const children = [];
function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
}
process.on("exit", stopAll);
process.on("SIGINT", () => process.exit(130));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function startUpstream() {
  const child = spawn(process.execPath, [path.join(here, "upstream.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`upstream exited ${code}`)));
  });
}

function workerdBinary() {
  const native = path.join(root, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");
  if (fs.existsSync(native)) return native;
  return path.join(root, "node_modules", ".bin", "workerd");
}

const capnpString = (s) => JSON.stringify(s);
// `embed` paths are read relative to the config file.
const embedPath = (file) => capnpString(path.relative(path.resolve(workDir), path.resolve(file)));

const baselineDir = process.env.BENCH_BASELINE || null;

/** The workerd module list of a bundle directory. */
function bundleModules(dir) {
  const modules = [];
  const files = fs.readdirSync(dir).sort();
  const entry = files.find((f) => f === "index.js");
  if (!entry) throw new Error(`${dir} has no index.js`);
  for (const f of [entry, ...files.filter((f) => f !== entry)]) {
    const full = path.resolve(dir, f);
    if (f.endsWith(".js") || f.endsWith(".mjs")) modules.push(`(name = ${capnpString(f)}, esModule = embed ${embedPath(full)})`);
    else if (f.endsWith(".wasm")) modules.push(`(name = ${capnpString(f)}, wasm = embed ${embedPath(full)})`);
  }
  return modules;
}

function writeConfig(upstreamUrl, airlockPort, floorPort, uncheckedPort, baselinePort, pacedPort) {
  fs.mkdirSync(workDir, { recursive: true });
  const modules = bundleModules(bundleDir);
  const floor = path.join(here, "floor.js");
  // The paced target's pacer storage (SQLite needs a disk; a fresh one per run).
  const pacerDir = path.resolve(workDir, "pacer-storage");
  fs.rmSync(pacerDir, { recursive: true, force: true });
  fs.mkdirSync(pacerDir, { recursive: true });
  const vars = `bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)})]`;
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "airlock", worker = (
      modules = [${modules.join(", ")}],
      compatibilityDate = "2025-09-01",
      ${vars},
      globalOutbound = "loopback")),
    (name = "unchecked", worker = (
      modules = [${modules.join(", ")}],
      compatibilityDate = "2025-09-01",
      bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)}), (name = "MAX_CHECK_BYTES", text = "0")],
      globalOutbound = "loopback")),
    (name = "paced", worker = (
      modules = [${modules.join(", ")}],
      compatibilityDate = "2025-09-01",
      compatibilityFlags = ["enable_request_signal"],
      bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)}), (name = "PACING", text = "on"), (name = "PACER", durableObjectNamespace = (className = "Pacer"))],
      durableObjectNamespaces = [(className = "Pacer", uniqueKey = "airlock-bench-pacer", enableSql = true)],
      durableObjectStorage = (localDisk = "pacer-disk"),
      globalOutbound = "loopback")),
    (name = "floor", worker = (
      modules = [(name = "floor.js", esModule = embed ${embedPath(floor)})],
      compatibilityDate = "2025-09-01",
      ${vars},
      globalOutbound = "loopback")),
${baselineDir ? `    (name = "baseline", worker = (
      modules = [${bundleModules(baselineDir).join(", ")}],
      compatibilityDate = "2025-09-01",
      ${vars},
      globalOutbound = "loopback")),
` : ""}    (name = "pacer-disk", disk = (path = ${capnpString(pacerDir)}, writable = true)),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [${baselineDir ? `
    (name = "baseline", address = "127.0.0.1:${baselinePort}", http = (), service = "baseline"),` : ""}
    (name = "airlock", address = "127.0.0.1:${airlockPort}", http = (), service = "airlock"),
    (name = "floor", address = "127.0.0.1:${floorPort}", http = (), service = "floor"),
    (name = "unchecked", address = "127.0.0.1:${uncheckedPort}", http = (), service = "unchecked"),
    (name = "paced", address = "127.0.0.1:${pacedPort}", http = (), service = "paced"),
  ],
);
`;
  const file = path.join(workDir, "bench.capnp");
  fs.writeFileSync(file, config);
  return file;
}

async function waitFor(url, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not answer`);
}

/** A chat request body of about `bytes` bytes of English-like text. */
function chatBody(bytes) {
  const sentence = "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. ";
  const text = sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes - 120);
  return JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: text }] });
}

/** One keep-alive request; resolves to its latency in ms (request written → response fully read). */
function request(agent, port, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/chat/completions",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: "Bearer sk-bench-not-a-real-key" },
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode} from port ${port}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** `conns` loops on `conns` kept-alive sockets, `n` requests each. */
async function batch(agent, port, body, conns, n) {
  const samples = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: conns }, async () => {
      for (let i = 0; i < n; i++) samples.push(await request(agent, port, body));
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { samples, wallMs };
}

function percentile(sorted, p) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const upstreamPort = await startUpstream();
const airlockPort = await freePort();
const floorPort = await freePort();
const uncheckedPort = await freePort();
const baselinePort = await freePort();
const pacedPort = await freePort();
const config = writeConfig(`http://127.0.0.1:${upstreamPort}`, airlockPort, floorPort, uncheckedPort, baselinePort, pacedPort);
// The worker's log lines (console.log) are still written, to a discarded stdout, as in production
// where Workers Logs collects them.
const workerd = spawn(workerdBinary(), ["serve", config], { stdio: ["ignore", "ignore", "inherit"] });
children.push(workerd);
await waitFor(`http://127.0.0.1:${airlockPort}/healthz`, workerd);
await waitFor(`http://127.0.0.1:${floorPort}/`, workerd);
await waitFor(`http://127.0.0.1:${uncheckedPort}/healthz`, workerd);
if (baselineDir) await waitFor(`http://127.0.0.1:${baselinePort}/healthz`, workerd);
await waitFor(`http://127.0.0.1:${pacedPort}/healthz`, workerd);

// `unchecked` is Airlock with MAX_CHECK_BYTES=0: the body streams through unread and unchecked, so
// the difference to `airlock` is the cost of reading and checking the request.
// `paced` is Airlock with PACING=on (issue 15): each request asks its lane's pacer Durable Object
// (in-memory storage here) for its turn; the bench upstream's x-ratelimit-* headers leave room.
const targets = { direct: upstreamPort, floor: floorPort, airlock: airlockPort, unchecked: uncheckedPort, paced: pacedPort };
if (baselineDir) targets.baseline = baselinePort;
const rows = [];
for (const [label, size] of [["2 KB", 2 * 1024], ["200 KB", 200 * 1024]]) {
  const body = chatBody(size);
  for (const conns of [1, 16]) {
    const n = Math.max(5, Math.round(PER_BATCH[conns] * (size > 10_000 ? SCALE_200K : 1)));
    const agents = Object.fromEntries(Object.keys(targets).map((t) => [t, new http.Agent({ keepAlive: true, maxSockets: conns })]));
    const results = Object.fromEntries(Object.keys(targets).map((t) => [t, { samples: [], wallMs: 0 }]));
    // Warm-up (not recorded): JIT, connections, the worker's first instantiation.
    for (const t of Object.keys(targets)) await batch(agents[t], targets[t], body, conns, Math.max(3, Math.round(n / 4)));
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of shuffle(Object.keys(targets))) {
        const { samples, wallMs } = await batch(agents[t], targets[t], body, conns, n);
        results[t].samples.push(...samples);
        results[t].wallMs += wallMs;
      }
    }
    for (const a of Object.values(agents)) a.destroy();
    const stats = {};
    for (const [t, { samples, wallMs }] of Object.entries(results)) {
      const sorted = [...samples].sort((a, b) => a - b);
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      const rps = samples.length / (wallMs / 1000);
      stats[t] = { n: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, rps, check: (mean / 1000) * rps / conns };
    }
    rows.push({ label, conns, stats });
    const s = stats;
    console.error(
      `${label} c=${conns}: n=${s.airlock.n}/target; direct p50 ${s.direct.p50.toFixed(3)} p99 ${s.direct.p99.toFixed(3)} ms; ` +
        `check (mean×rps÷conns) direct ${s.direct.check.toFixed(2)} floor ${s.floor.check.toFixed(2)} airlock ${s.airlock.check.toFixed(2)} unchecked ${s.unchecked.check.toFixed(2)}`,
    );
  }
}
stopAll();

const f = (x) => (x >= 0 ? "+" : "") + x.toFixed(2);
const lines = [
  "| body | conns | direct p50 / p99 (ms) | floor added p50 / p99 | Airlock added p50 / p99 | ratio to floor p50 / p99 | Airlock unchecked added p50 / p99 | pacing on − off p50 / p99 | req/target | check |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
];
for (const { label, conns, stats: s } of rows) {
  const fp50 = s.floor.p50 - s.direct.p50;
  const fp99 = s.floor.p99 - s.direct.p99;
  const ap50 = s.airlock.p50 - s.direct.p50;
  const ap99 = s.airlock.p99 - s.direct.p99;
  const up50 = s.unchecked.p50 - s.direct.p50;
  const up99 = s.unchecked.p99 - s.direct.p99;
  const ratio = (a, b) => (b > 0.005 ? (a / b).toFixed(2) + "×" : "n/a");
  // The check farthest from 1 among the targets (≈ 1: every connection was busy all the time).
  const check = Object.values(s).map((x) => x.check).sort((a, b) => Math.abs(b - 1) - Math.abs(a - 1))[0];
  lines.push(
    `| ${label} | ${conns} | ${s.direct.p50.toFixed(2)} / ${s.direct.p99.toFixed(2)} | ${f(fp50)} / ${f(fp99)} | ${f(ap50)} / ${f(ap99)} | ${ratio(ap50, fp50)} / ${ratio(ap99, fp99)} | ${f(up50)} / ${f(up99)} | ${f(s.paced.p50 - s.airlock.p50)} / ${f(s.paced.p99 - s.airlock.p99)} | ${s.airlock.n} | ${check.toFixed(2)} |`,
  );
}
if (baselineDir) {
  lines.push("", `Against the baseline bundle (${baselineDir}), same run:`, "",
    "| body | conns | baseline added p50 / p99 (ms) | Airlock added p50 / p99 | Airlock − baseline p50 / p99 |",
    "|---|---:|---:|---:|---:|");
  for (const { label, conns, stats: s } of rows) {
    const b50 = s.baseline.p50 - s.direct.p50;
    const b99 = s.baseline.p99 - s.direct.p99;
    const a50 = s.airlock.p50 - s.direct.p50;
    const a99 = s.airlock.p99 - s.direct.p99;
    lines.push(`| ${label} | ${conns} | ${f(b50)} / ${f(b99)} | ${f(a50)} / ${f(a99)} | ${f(a50 - b50)} / ${f(a99 - b99)} |`);
  }
}
console.log(lines.join("\n"));
