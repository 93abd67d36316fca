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
//
// Peers and extra rows (issue 14): the Portkey AI gateway's Workers bundle, read from
// `../shared/bench/portkey-gateway/index.js` (the repository's parent folder; skipped, saying so,
// where absent; BENCH_PORTKEY=<dir> points elsewhere), runs as one more target of the same
// interleaved run. workerd's CPU time per request is read from /proc around every batch (only one
// target is busy at a time; the scheduler's run time of every thread in ns, `proc-cpu.mjs`, not
// the 10 ms clock ticks of /proc/PID/stat, which made the 126k row read in 1 ms steps). Then, after the latency run: cold start to the first 200 (a fresh
// `workerd serve` with one worker, spawn → first 200 to a 2 KB chat request, COLD_RUNS times per
// target, interleaved), and the CPU of a 128,000-token chat request's pre-flight (Airlock minus
// Airlock unchecked on the same ~0.6 MB body, which carries a tool so the whole-body schema check
// runs). Prints Markdown ready for the README, with the load average at the start and the end.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuDuring } from "./proc-cpu.mjs";

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
// The Portkey gateway peer (a third-party bundle, never copied into the repository).
const portkeyDir = process.env.BENCH_PORTKEY || path.resolve(root, "..", "shared", "bench", "portkey-gateway");
const portkey = fs.existsSync(path.join(portkeyDir, "index.js")) ? path.join(portkeyDir, "index.js") : null;
if (!portkey) console.error(`bench-worker: Portkey gateway bundle not found at ${portkeyDir}/index.js: its column is skipped`);
const loadavg = () => fs.readFileSync("/proc/loadavg", "utf8").trim().split(" ").slice(0, 3).join(" ");
const loadStart = loadavg();

/** Service definitions, by target (capnp text); `upstreamUrl` is the fake upstream. */
function serviceDefs(upstreamUrl) {
  const vars = `bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)})]`;
  const modules = bundleModules(bundleDir).join(", ");
  const defs = {
    airlock: `(name = "airlock", worker = (modules = [${modules}], compatibilityDate = "2025-09-01", ${vars}, globalOutbound = "loopback"))`,
    unchecked: `(name = "unchecked", worker = (modules = [${modules}], compatibilityDate = "2025-09-01", bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)}), (name = "MAX_CHECK_BYTES", text = "0")], globalOutbound = "loopback"))`,
    floor: `(name = "floor", worker = (modules = [(name = "floor.js", esModule = embed ${embedPath(path.join(here, "floor.js"))})], compatibilityDate = "2025-09-01", ${vars}, globalOutbound = "loopback"))`,
  };
  // `monitored` is Airlock with the Monitor bound (issue 16): the difference to `airlock` is the
  // cost of counting and reporting. Its storage is on disk: workerd's in-memory storage has no
  // SQL, and the Monitor's reports then fail (they did in runs before session 7, so the earlier
  // monitor figures measured a failing report).
  defs.monitored = `(name = "monitored", worker = (modules = [${modules}], compatibilityDate = "2025-09-01", bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)}), (name = "MONITOR", durableObjectNamespace = "Monitor")], durableObjectNamespaces = [(className = "Monitor", uniqueKey = "airlock-bench-monitor", enableSql = true)], durableObjectStorage = (localDisk = "monitor-disk"), globalOutbound = "loopback"))`;
  // `paced` is Airlock with PACING=on (issue 15): each request asks its lane's pacer Durable Object
  // (SQLite storage on a fresh disk folder) for its turn; the bench upstream's x-ratelimit-* headers
  // leave room, so this measures the fast path.
  defs.paced = `(name = "paced", worker = (modules = [${modules}], compatibilityDate = "2025-09-01", compatibilityFlags = ["enable_request_signal"], bindings = [(name = "UPSTREAM_URL", text = ${capnpString(upstreamUrl)}), (name = "PACING", text = "on"), (name = "PACER", durableObjectNamespace = (className = "Pacer"))], durableObjectNamespaces = [(className = "Pacer", uniqueKey = "airlock-bench-pacer", enableSql = true)], durableObjectStorage = (localDisk = "pacer-disk"), globalOutbound = "loopback"))`;
  if (baselineDir) {
    defs.baseline = `(name = "baseline", worker = (modules = [${bundleModules(baselineDir).join(", ")}], compatibilityDate = "2025-09-01", ${vars}, globalOutbound = "loopback"))`;
  }
  if (portkey) {
    // Portkey's own settings (its wrangler.toml): see ../shared/bench/portkey-gateway/README.md.
    defs.portkey = `(name = "portkey", worker = (modules = [(name = "index.js", esModule = embed ${embedPath(portkey)})], compatibilityDate = "2024-12-05", compatibilityFlags = ["nodejs_compat"], bindings = [(name = "ENVIRONMENT", text = "dev"), (name = "CUSTOM_HEADERS_TO_IGNORE", json = "[]")], globalOutbound = "loopback"))`;
  }
  return defs;
}

/** A workerd config serving `ports` (target → port) with the services of `defs`. */
function writeServices(file, defs, ports) {
  fs.mkdirSync(workDir, { recursive: true });
  const services = Object.keys(ports).map((t) => defs[t]);
  // The Durable Objects' storage (SQLite needs a disk; a fresh one per config).
  for (const [target, disk] of [["paced", "pacer"], ["monitored", "monitor"]]) {
    if (!ports[target]) continue;
    const dir = path.resolve(workDir, `${disk}-storage-${path.basename(file, ".capnp")}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    services.push(`(name = "${disk}-disk", disk = (path = ${capnpString(dir)}, writable = true))`);
  }
  services.push(`(name = "loopback", network = (allow = ["local", "private", "public"]))`);
  const sockets = Object.entries(ports).map(([t, p]) => `(name = ${capnpString(t)}, address = "127.0.0.1:${p}", http = (), service = ${capnpString(t)})`);
  const text = `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = (services = [${services.join(", ")}], sockets = [${sockets.join(", ")}]);\n`;
  const full = path.join(workDir, file);
  fs.writeFileSync(full, text);
  return full;
}

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
    else if (f.endsWith(".bin")) modules.push(`(name = ${capnpString(f)}, data = embed ${embedPath(full)})`);
  }
  return modules;
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


// Common English words, each one o200k_base (and cl100k_base) token with its leading space, so a
// text of k of them is k tokens (checked by `airlock count` when this was written).
const WORDS = ("the of and to in is that for it with as was on be by this are from at or have an they which one you were all we can her has there been if more when will would who so no time people year way day man thing woman life child world school state family student group country problem hand part place case week company system program question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game line end member law car city community name president team minute idea body information back parent face others level office door health person art war history party result change morning reason research girl guy moment air teacher force education").split(" ");

/**
 * A chat request of `messages` messages of `words` one-token words each, for gpt-4o, with a tool
 * (so the whole-body schema check runs, not the plain-chat shortcut): `messages × (words + 1)`
 * tokens of text (each role is one token) plus the estimated framing.
 */
function longChatBody(messages, words) {
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) % 2147483648), x);
  const text = () => Array.from({ length: words }, () => " " + WORDS[next() % WORDS.length]).join("");
  const tool = { type: "function", function: { name: "get_weather", description: "Get the current weather for a city", parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] } } };
  return JSON.stringify({
    model: "gpt-4o",
    messages: Array.from({ length: messages }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: text() })),
    tools: [tool],
  });
}
const LONG_MESSAGES = 126;
const LONG_WORDS = 1000;
const LONG_TOKENS = LONG_MESSAGES * (LONG_WORDS + 1);

/** Headers each target needs besides the request's own (Portkey is told where to forward). */
let extraHeaders = {};

/** One keep-alive request; resolves to its latency in ms (request written → response fully read). */
function request(agent, port, body, extra = extraHeaders[port] ?? {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/chat/completions",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: "Bearer sk-bench-not-a-real-key", ...extra },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          if (res.statusCode !== 200 && text.length < 400) text += d;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode} from port ${port}: ${text.slice(0, 400)}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Batches whose CPU reading missed a thread that started or ended meanwhile (printed if any). */
let unstableCpu = 0;
/** workerd's CPU time over `work`, µs (proc-cpu.mjs: the scheduler's ns, all threads). */
async function cpuOver(work) {
  const { us, stable } = await cpuDuring(workerd.pid, work);
  if (!stable) unstableCpu++;
  return us;
}

/**
 * `request`, made again (at most twice) when a kept-alive socket was closed under it (the server
 * closed an idle connection as the request went out): counted as resets, not as a sample.
 */
let resets = 0;
async function retried(agent, port, body) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(agent, port, body);
    } catch (e) {
      if (attempt >= 2 || !(e.code === "ECONNRESET" || /socket hang up/.test(String(e)))) throw e;
      resets++;
    }
  }
}

/** `conns` loops on `conns` kept-alive sockets, `n` requests each. */
async function batch(agent, port, body, conns, n) {
  const samples = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: conns }, async () => {
      for (let i = 0; i < n; i++) samples.push(await retried(agent, port, body));
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

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const upstreamPort = await startUpstream();
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
const defs = serviceDefs(upstreamUrl);
const ports = {};
for (const t of Object.keys(defs)) ports[t] = await freePort();
const portkeyHeaders = { "x-portkey-provider": "openai", "x-portkey-custom-host": `${upstreamUrl}/v1` };
if (portkey) extraHeaders[ports.portkey] = portkeyHeaders;
const config = writeServices("bench.capnp", defs, ports);
// The worker's log lines (console.log) are still written, to a discarded stdout, as in production
// where Workers Logs collects them.
const workerd = spawn(workerdBinary(), ["serve", config], { stdio: ["ignore", "ignore", "inherit"] });
children.push(workerd);
for (const [t, port] of Object.entries(ports)) {
  if (t === "portkey") {
    // Portkey has no health route: one real request.
    for (let i = 0; ; i++) {
      try {
        await request(undefined, port, chatBody(2048));
        break;
      } catch (e) {
        if (workerd.exitCode !== null || i > 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } else await waitFor(`http://127.0.0.1:${port}/${t === "floor" ? "" : "healthz"}`, workerd);
}

// `unchecked` is Airlock with MAX_CHECK_BYTES=0: the body streams through unread and unchecked, so
// the difference to `airlock` is the cost of reading and checking the request.
const targets = { direct: upstreamPort, ...ports };
const cpu = {}; // `${size label}:${target}` → { us, n }
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
        let got;
        const us = await cpuOver(async () => (got = await batch(agents[t], targets[t], body, conns, n)));
        const { samples, wallMs } = got;
        const key = `${label}:${t}`;
        cpu[key] ??= { us: 0, n: 0 };
        cpu[key].us += us;
        cpu[key].n += samples.length;
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
    rows.push({ label, conns, stats, load: loadavg() });
    const s = stats;
    console.error(
      `${label} c=${conns}: n=${s.airlock.n}/target; direct p50 ${s.direct.p50.toFixed(3)} ms; added p50 ` +
        Object.keys(ports).map((t) => `${t} ${(s[t].p50 - s.direct.p50).toFixed(3)}`).join(", ") + `; load ${loadavg()}`,
    );
  }
}

// Issue 17: a 2 KB request with a strict json_schema format, whose answer Airlock validates
// (x-airlock-output), against the same 2 KB of text without the format (not validated); both
// through Airlock, interleaved. The difference is the schema's request lint plus the answer's
// check: an upper bound of the output check alone. Also the strict body through Airlock
// unchecked: strict checked − that is the whole pre-flight of the strict request plus its
// answer check (the plain 2 KB request's own check included).
const STRICT = { type: "object", properties: { city: { type: "string" }, population: { type: ["integer", "null"] }, tags: { type: "array", items: { type: "string" } } }, required: ["city", "population", "tags"], additionalProperties: false };
const plain2k = JSON.parse(chatBody(2 * 1024 - 300));
const structuredBodies = {
  plain: JSON.stringify(plain2k),
  strict: JSON.stringify({ ...plain2k, response_format: { type: "json_schema", json_schema: { name: "city", strict: true, schema: STRICT } } }),
};
const outputRow = {};
{
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // `strict_unchecked`: the strict body through Airlock unchecked (MAX_CHECK_BYTES=0: neither the
  // request nor the answer is read), the comparison issue 17 names literally.
  const got = { plain: [], strict: [], strict_unchecked: [] };
  const portOf = (k) => (k === "strict_unchecked" ? ports.unchecked : ports.airlock);
  const bodyOf = (k) => structuredBodies[k === "strict_unchecked" ? "strict" : k];
  for (const k of Object.keys(got)) await batch(agent, portOf(k), bodyOf(k), 1, 50);
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of shuffle(Object.keys(got))) got[k].push(...(await batch(agent, portOf(k), bodyOf(k), 1, PER_BATCH[1])).samples);
  }
  agent.destroy();
  for (const [k, samples] of Object.entries(got)) {
    const sorted = [...samples].sort((a, b) => a - b);
    outputRow[k] = { n: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }
}

// The 128k-token pre-flight: workerd CPU per request of Airlock and Airlock unchecked on the same
// long body, interleaved; the difference is reading and checking it.
const longBody = longChatBody(LONG_MESSAGES, LONG_WORDS);
const LONG_N = Number(process.env.BENCH_LONG_N ?? 10);
const longCpu = { airlock: [], unchecked: [] };
{
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const t of Object.keys(longCpu)) await batch(agent, ports[t], longBody, 1, 3);
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of shuffle(Object.keys(longCpu))) {
      longCpu[t].push((await cpuOver(() => batch(agent, ports[t], longBody, 1, LONG_N))) / LONG_N);
    }
  }
  agent.destroy();
}
const longLoad = loadavg();
workerd.kill("SIGTERM");
await new Promise((r) => (workerd.exitCode !== null ? r() : workerd.once("exit", r)));

// Cold start: a fresh workerd per sample, serving one worker; spawn → first 200 to a 2 KB chat
// request (the config already written; connection refused is retried every millisecond).
const COLD_RUNS = Number(process.env.COLD_RUNS ?? 5);
// `healthz` is Airlock answering GET /healthz (no body, no check): the start-up alone.
const coldTargets = ["floor", "airlock", "healthz", ...(portkey ? ["portkey"] : [])];
const cold = Object.fromEntries(coldTargets.map((t) => [t, []]));
{
  const body = chatBody(2048);
  for (let r = 0; r < COLD_RUNS; r++) {
    for (const t of shuffle([...coldTargets])) {
      const port = await freePort();
      const service = t === "healthz" ? "airlock" : t;
      const file = writeServices(`cold-${t}.capnp`, defs, { [service]: port });
      const extra = t === "portkey" ? portkeyHeaders : {};
      const t0 = process.hrtime.bigint();
      const child = spawn(workerdBinary(), ["serve", file], { stdio: ["ignore", "ignore", "inherit"] });
      children.push(child);
      for (;;) {
        if (child.exitCode !== null) throw new Error(`workerd (cold ${t}) exited ${child.exitCode}`);
        try {
          if (t === "healthz") {
            const res = await fetch(`http://127.0.0.1:${port}/healthz`);
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`cold healthz: status ${res.status}`);
          } else await request(undefined, port, body, extra);
          break;
        } catch (e) {
          if (!/ECONNREFUSED|ECONNRESET|socket hang up|fetch failed/.test(String(e) + String(e.cause ?? ""))) throw e;
          await new Promise((res) => setTimeout(res, 1));
        }
        if (Number(process.hrtime.bigint() - t0) / 1e6 > 20_000) throw new Error(`cold ${t}: no 200 within 20 s`);
      }
      cold[t].push(Number(process.hrtime.bigint() - t0) / 1e6);
      child.kill("SIGTERM");
      await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
    }
  }
}
// The wasm's size (workerd compiles it at start-up; Node 20's V8 cannot compile it by itself: it
// uses exception references).
const wasmFile = fs.readdirSync(bundleDir).find((f) => f.endsWith(".wasm"));
const wasmInfo = wasmFile ? `Worker wasm: ${(fs.statSync(path.join(bundleDir, wasmFile)).size / 1e6).toFixed(2)} MB.` : "";
stopAll();
const loadEnd = loadavg();

const f = (x) => (x >= 0 ? "+" : "") + x.toFixed(2);
const ratio = (a, b) => (b > 0.005 ? (a / b).toFixed(2) + "×" : "n/a");
const us = (key) => (cpu[key] ? Math.round(cpu[key].us / cpu[key].n) : NaN);
const lines = [
  `Load average (1, 5, 15 min) at the start: ${loadStart}; at the end: ${loadEnd}. ${ROUNDS} interleaved rounds.${resets ? ` ${resets} requests made again after a kept-alive socket was closed under them.` : ""}${portkey ? "" : " Portkey: not found, skipped."}`,
  "",
  `| body | conns | direct p50 / p99 (ms) | floor added p50 / p99 | Airlock added p50 / p99 | Airlock ÷ floor p50 |${portkey ? " Portkey added p50 / p99 | Airlock − Portkey p50 |" : ""} Airlock unchecked added p50 / p99 | pacing on − off p50 / p99 | req/target | check | load (1 min) |`,
  `|---|---:|---:|---:|---:|---:|${portkey ? "---:|---:|" : ""}---:|---:|---:|---:|---:|`,
];
for (const { label, conns, stats: s, load } of rows) {
  const add = (t, p) => s[t][p] - s.direct[p];
  const check = Object.values(s).map((x) => x.check).sort((a, b) => Math.abs(b - 1) - Math.abs(a - 1))[0];
  const pk = portkey ? ` ${f(add("portkey", "p50"))} / ${f(add("portkey", "p99"))} | ${f(add("airlock", "p50") - add("portkey", "p50"))} |` : "";
  lines.push(
    `| ${label} | ${conns} | ${s.direct.p50.toFixed(2)} / ${s.direct.p99.toFixed(2)} | ${f(add("floor", "p50"))} / ${f(add("floor", "p99"))} | ${f(add("airlock", "p50"))} / ${f(add("airlock", "p99"))} | ${ratio(add("airlock", "p50"), add("floor", "p50"))} |${pk} ${f(add("unchecked", "p50"))} / ${f(add("unchecked", "p99"))} | ${f(s.paced.p50 - s.airlock.p50)} / ${f(s.paced.p99 - s.airlock.p99)} | ${s.airlock.n} | ${check.toFixed(2)} | ${load.split(" ")[0]} |`,
  );
}
const cpuTargets = ["floor", "airlock", "unchecked", ...(portkey ? ["portkey"] : []), ...(baselineDir ? ["baseline"] : [])];
const names = { floor: "JS floor", airlock: "Airlock", unchecked: "Airlock unchecked", portkey: "Portkey", baseline: "baseline", healthz: "Airlock, GET /healthz (start-up only)" };
lines.push("", "workerd CPU per request (µs; both connection counts, all rounds; the scheduler's run time of all workerd threads):", "", "| target | 2 KB | 200 KB |", "|---|---:|---:|");
for (const t of cpuTargets) lines.push(`| ${names[t]} | ${us(`2 KB:${t}`)} | ${us(`200 KB:${t}`)} |`);
if (unstableCpu) lines.push("", `(${unstableCpu} batches saw a workerd thread start or end: their CPU misses that thread's time.)`);
const coldMed = Object.fromEntries(coldTargets.map((t) => [t, median(cold[t])]));
lines.push("", `Cold start, spawn of a fresh workerd → first 200 to a 2 KB chat request (ms; median of ${COLD_RUNS}, interleaved; load ${loadEnd.split(" ")[0]}):`, "", "| target | median | all |", "|---|---:|---|");
for (const t of coldTargets) lines.push(`| ${names[t]} | ${coldMed[t].toFixed(1)} | ${cold[t].map((x) => x.toFixed(0)).join(", ")} |`);
if (wasmInfo) lines.push("", wasmInfo);
const longA = median(longCpu.airlock);
const longU = median(longCpu.unchecked);
const pre = (longA - longU) / 1000;
lines.push(
  "",
  `${LONG_TOKENS.toLocaleString("en")}-token chat request (gpt-4o, ${LONG_MESSAGES} messages, a tool: the whole-body schema check runs; ${(Buffer.byteLength(longBody) / 1e6).toFixed(2)} MB), workerd CPU per request, median of ${ROUNDS} rounds of ${LONG_N} (load ${longLoad.split(" ")[0]}):`,
  "",
  "| Airlock | Airlock unchecked | pre-flight (difference) |",
  "|---:|---:|---:|",
  `| ${(longA / 1000).toFixed(2)} ms | ${(longU / 1000).toFixed(2)} ms | ${pre.toFixed(2)} ms |`,
);
// The aims of issue 14, as this run measured them.
const aim = (ok) => (ok ? "met" : "**not met**");
lines.push("", "Aims (issue 14), this run:", "");
if (portkey) {
  const gaps = rows.map(({ label, conns, stats: s }) => {
    const d = s.airlock.p50 - s.portkey.p50;
    return `${label} × ${conns}: ${f(d)} ms`;
  });
  const below = rows.every(({ stats: s }) => s.airlock.p50 < s.portkey.p50);
  lines.push(`- Airlock's added p50 below Portkey's in every cell: ${aim(below)} (Airlock − Portkey: ${gaps.join("; ")})`);
  const cpuBelow = ["2 KB", "200 KB"].every((l) => us(`${l}:airlock`) < us(`${l}:portkey`));
  lines.push(`- CPU per request below Portkey's at both sizes: ${aim(cpuBelow)} (Airlock ${us("2 KB:airlock")} / ${us("200 KB:airlock")} µs, Portkey ${us("2 KB:portkey")} / ${us("200 KB:portkey")} µs)`);
} else lines.push("- Portkey aims: not measured (bundle absent)");
const first = rows.find((r) => r.label === "2 KB" && r.conns === 1).stats;
const r1 = (first.airlock.p50 - first.direct.p50) / (first.floor.p50 - first.direct.p50);
lines.push(`- At most 1.5× the floor at 2 KB × 1: ${aim(r1 <= 1.5)} (${r1.toFixed(2)}×)`);
lines.push(`- Cold start to first 200 under 50 ms: ${aim(coldMed.airlock < 50)} (${coldMed.airlock.toFixed(1)} ms; floor ${coldMed.floor.toFixed(1)} ms)`);
lines.push(`- The 128k-token pre-flight under 5 ms CPU: ${aim(pre < 5)} (${pre.toFixed(2)} ms)`);
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
lines.push("", "Monitor on (the `MONITOR` binding; counts reported after each response), same run:", "",
  "| body | conns | Airlock added p50 / p99 (ms) | monitor on added p50 / p99 | monitor on − Airlock p50 / p99 |",
  "|---|---:|---:|---:|---:|");
for (const { label, conns, stats: s } of rows) {
  const a50 = s.airlock.p50 - s.direct.p50;
  const a99 = s.airlock.p99 - s.direct.p99;
  const m50 = s.monitored.p50 - s.direct.p50;
  const m99 = s.monitored.p99 - s.direct.p99;
  lines.push(`| ${label} | ${conns} | ${f(a50)} / ${f(a99)} | ${f(m50)} / ${f(m99)} | ${f(m50 - a50)} / ${f(m99 - a99)} |`);
}
lines.push("", "Structured output (issue 17), through Airlock, 1 connection, same run:", "",
  "| request | p50 / p99 (ms) | strict − plain p50 / p99 |", "|---|---:|---:|",
  `| 2 KB, no format | ${outputRow.plain.p50.toFixed(3)} / ${outputRow.plain.p99.toFixed(3)} | |`,
  `| 2 KB, strict json_schema, answer validated | ${outputRow.strict.p50.toFixed(3)} / ${outputRow.strict.p99.toFixed(3)} | ${f(outputRow.strict.p50 - outputRow.plain.p50)} / ${f(outputRow.strict.p99 - outputRow.plain.p99)} |`,
  `| 2 KB, strict json_schema, through Airlock unchecked (nothing read) | ${outputRow.strict_unchecked.p50.toFixed(3)} / ${outputRow.strict_unchecked.p99.toFixed(3)} | strict checked − this: ${f(outputRow.strict.p50 - outputRow.strict_unchecked.p50)} / ${f(outputRow.strict.p99 - outputRow.strict_unchecked.p99)} |`);
console.log(lines.join("\n"));
process.exit(0);
