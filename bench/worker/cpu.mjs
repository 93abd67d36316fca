// A/B tool for work on the worker's latency (not part of `cargo xtask bench-worker`): runs the JS
// floor and one or more worker builds side by side in one bare `workerd serve`, sends 2 KB chat
// requests to each in interleaved rounds (one keep-alive connection), and prints for each target
// workerd's CPU time per request (from /proc, so the machine's other load matters less than it
// does for latency) and its p50 latency, both next to the floor's from the same run.
//
//   node bench/worker/cpu.mjs <work-dir> NAME=DIR[=MODE[+MODE…]] ...
//
// DIR holds a built worker (`index.js` and its `.wasm`, e.g. a copy of crates/airlock-worker/build
// after `cargo xtask build-worker`, or `wrangler deploy --dry-run --outdir` output); MODEs:
// `unchecked` runs it with MAX_CHECK_BYTES=0 (every body is then over the check limit: since
// session 12 the JavaScript entry's fast path sends it on unread, so this measures the fast path's
// plumbing; before, the entry declined it and this measured the Rust `fetch`), `output_off` with
// OUTPUT_CHECK=off (answers not
// read), `rust_entry` with FAST_PATH=off (every request through the Rust `fetch`, issue 14); issue 17's split of a strict request's cost: `schema_off` (RULE_MODES: the whole-body
// request schema off), `lints_off` (the schema lints off), `count_off` (context_length off), and
// `strict` / `plain` (this target gets the strict-format body, or the plain one, whatever STRICT
// says). Env: N (requests per round, 1000), ROUNDS (8), SIZE (2048),
// STRICT=1 (the body asks for a strict json_schema format, and the answer is validated), LONG=1 (the
// 128k-token chat body of bench-worker's pre-flight row instead of the 2 KB one, for every target;
// use a small N, e.g. N=20 ROUNDS=6).
// PROFILE=NAME (with `node --experimental-websocket` on Node 20) instead records a V8 CPU profile
// of NAME through workerd's inspector into <work-dir>/NAME.cpuprofile; its numbers are inflated by
// the profiler, so read it for proportions only (`node bench/worker/profile.mjs FILE` prints them).
//
// What this tool found (2026-11-25): a minimal workers-rs pass-through (`fetch` the request on,
// return the response; no checks) already costs about +80–100 µs CPU and +0.04–0.08 ms p50 over
// the JS floor; see README's "Worker latency".
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuDuring } from "./proc-cpu.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const [workDir, ...specs] = process.argv.slice(2);
if (!workDir || specs.length === 0) {
  console.error("usage: node bench/worker/cpu.mjs <work-dir> NAME=DIR[=unchecked|=output_off] ...");
  process.exit(2);
}
const RULE_OFF = {
  schema_off: ["request_schema", "request_schema_hint", "unverified_value"],
  lints_off: ["json_schema_valid", "strict_schema", "schema_limits", "schema_array_items"],
  count_off: ["context_length"],
};
const targets = specs.map((s) => {
  const [name, dir, mode = ""] = s.split("=");
  const modes = mode.split("+").filter(Boolean);
  const off = modes.flatMap((m) => RULE_OFF[m] ?? []);
  const vars = [];
  if (modes.includes("unchecked")) vars.push(["MAX_CHECK_BYTES", "0"]);
  if (modes.includes("output_off")) vars.push(["OUTPUT_CHECK", "off"]);
  if (modes.includes("rust_entry")) vars.push(["FAST_PATH", "off"]);
  if (off.length) vars.push(["RULE_MODES", off.map((r) => `${r}=off`).join(",")]);
  const strict = modes.includes("strict") || (process.env.STRICT === "1" && !modes.includes("plain"));
  return { name, dir, vars, strict };
});
const N = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SIZE = Number(process.env.SIZE ?? 2048);

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

function startUpstream() {
  const child = spawn(process.execPath, [path.join(here, "upstream.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve) => child.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
}

const capnp = (s) => JSON.stringify(s);
const embed = (file) => capnp(path.relative(path.resolve(workDir), path.resolve(file)));
function modules(dir) {
  const files = fs.readdirSync(dir).sort();
  const out = [];
  for (const f of ["index.js", ...files.filter((f) => f !== "index.js")]) {
    const full = path.resolve(dir, f);
    if (f.endsWith(".js") || f.endsWith(".mjs")) out.push(`(name = ${capnp(f)}, esModule = embed ${embed(full)})`);
    else if (f.endsWith(".wasm")) out.push(`(name = ${capnp(f)}, wasm = embed ${embed(full)})`);
    else if (f.endsWith(".bin")) out.push(`(name = ${capnp(f)}, data = embed ${embed(full)})`);
  }
  return out.join(", ");
}

const upstream = `http://127.0.0.1:${await startUpstream()}`;
const ports = { floor: await freePort() };
for (const t of targets) ports[t.name] = await freePort();
fs.mkdirSync(workDir, { recursive: true });
const service = (name, mods, extra = "") =>
  `(name = ${capnp(name)}, worker = (modules = [${mods}], compatibilityDate = "2025-09-01", ` +
  `bindings = [(name = "UPSTREAM_URL", text = ${capnp(upstream)})${extra}], globalOutbound = "loopback"))`;
const services = [
  service("floor", `(name = "floor.js", esModule = embed ${embed(path.join(here, "floor.js"))})`),
  ...targets.map((t) => service(t.name, modules(t.dir), t.vars.map(([k, v]) => `, (name = ${capnp(k)}, text = ${capnp(v)})`).join(""))),
  `(name = "loopback", network = (allow = ["local", "private", "public"]))`,
];
const sockets = Object.entries(ports).map(([n, p]) => `(name = ${capnp(n)}, address = "127.0.0.1:${p}", http = (), service = ${capnp(n)})`);
const config = path.join(workDir, "cpu.capnp");
// V8FLAGS="--a --b" (an experiment, e.g. --no-liftoff): V8 flags for the whole workerd process.
const v8Flags = process.env.V8FLAGS ? `, v8Flags = [${process.env.V8FLAGS.split(" ").map(capnp).join(", ")}]` : "";
fs.writeFileSync(
  config,
  `using Workerd = import "/workerd/workerd.capnp";\nconst config :Workerd.Config = (services = [${services.join(", ")}], sockets = [${sockets.join(", ")}]${v8Flags});\n`,
);
const inspector = await freePort();
const args = ["serve", config];
if (process.env.PROFILE) args.push(`--inspector-addr=127.0.0.1:${inspector}`);
const native = path.join(root, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");
const workerdBin = fs.existsSync(native) ? native : path.join(root, "node_modules", ".bin", "workerd");
// CALLGRIND=1: workerd runs under `valgrind --tool=callgrind` (collection off until the counted
// requests), and each target's instructions per request are counted instead of CPU time
// (issue 14b). Not as steady as hoped: V8's garbage collection and tier-up run on timers and
// background threads, so one build read 1.85, 2.27 and 2.78 M instructions per 2 KB request in
// three runs (N=300/100/50) at load 4-12; only differences well above ±20 % mean anything
// (`V8FLAGS=--predictable` would fix it, but workerd does not start with it). About 50× slower
// than a plain run: use a small N (e.g. N=100, warm-up WARM=300).
const callgrindOut = path.join(path.resolve(workDir), "cpu.callgrind");
const workerd = process.env.CALLGRIND === "1"
  ? spawn("valgrind", ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${callgrindOut}`, workerdBin, ...args], { stdio: ["ignore", "ignore", "ignore"] })
  : spawn(workerdBin, args, { stdio: ["ignore", "ignore", "inherit"] });
children.push(workerd);


const sentence = "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. ";
const plainBody = {
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: sentence.repeat(Math.ceil(SIZE / sentence.length)).slice(0, SIZE - 120) },
  ],
};
// STRICT=1 (issue 17): the same body with bench-worker's strict json_schema format, so the fake
// upstream answers with a structured output that the worker validates (x-airlock-output).
const STRICT_SCHEMA = { type: "object", properties: { city: { type: "string" }, population: { type: ["integer", "null"] }, tags: { type: "array", items: { type: "string" } } }, required: ["city", "population", "tags"], additionalProperties: false };
// LONG=1 (issue 14): instead, bench-worker's 128k-token pre-flight body (126 messages of 1,000
// one-token words for gpt-4o, with a tool; the same generator as run.mjs's `longChatBody`).
const WORDS = ("the of and to in is that for it with as was on be by this are from at or have an they which one you were all we can her has there been if more when will would who so no time people year way day man thing woman life child world school state family student group country problem hand part place case week company system program question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game line end member law car city community name president team minute idea body information back parent face others level office door health person art war history party result change morning reason research girl guy moment air teacher force education").split(" ");
function longChatBody(messages, words) {
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) % 2147483648), x);
  const text = () => Array.from({ length: words }, () => " " + WORDS[next() % WORDS.length]).join("");
  const tool = { type: "function", function: { name: "get_weather", description: "Get the current weather for a city", parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] } } };
  return { model: "gpt-4o", messages: Array.from({ length: messages }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: text() })), tools: [tool] };
}
const longBody = process.env.LONG === "1" ? JSON.stringify(longChatBody(126, 1000)) : null;
const strictBody = JSON.stringify({ ...plainBody, response_format: { type: "json_schema", json_schema: { name: "city", strict: true, schema: STRICT_SCHEMA } } });
const bodies = { floor: longBody ?? (process.env.STRICT === "1" ? strictBody : JSON.stringify(plainBody)) };
for (const t of targets) bodies[t.name] = longBody ?? (t.strict ? strictBody : JSON.stringify(plainBody));
const bodyOf = Object.fromEntries(Object.entries(ports).map(([n, p]) => [p, bodies[n]]));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function request(port) {
  const body = bodyOf[port];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: "Bearer sk-bench-not-a-real-key" };
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/v1/chat/completions", agent, headers }, (res) => {
      res.on("data", () => {});
      res.on("end", () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`status ${res.statusCode} from port ${port}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (let i = 0; ; i++) {
  try {
    for (const p of Object.values(ports)) await request(p);
    break;
  } catch (e) {
    if (workerd.exitCode !== null || i > (process.env.CALLGRIND === "1" ? 6000 : 200)) throw e;
    await new Promise((r) => setTimeout(r, 50));
  }
}
// Warm-up (JIT and wasm tier-up, connections), not recorded.
const WARM = Number(process.env.WARM ?? 300);
for (const p of Object.values(ports)) for (let i = 0; i < WARM; i++) await request(p);

if (process.env.PROFILE) {
  const name = process.env.PROFILE;
  const list = await (await fetch(`http://127.0.0.1:${inspector}/json/list`)).json();
  const entry = list.find((e) => e.webSocketDebuggerUrl?.includes(name)) ?? list[0];
  const ws = new WebSocket(entry.webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
  await new Promise((r) => ws.addEventListener("open", r));
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id && pending.has(m.id)) pending.get(m.id)(m), pending.delete(m.id);
  });
  const call = (method, params = {}) => new Promise((r) => (pending.set(++id, r), ws.send(JSON.stringify({ id, method, params }))));
  await call("Profiler.enable");
  // PROFILE_US: the sampling interval in µs (V8 default 1000; 50 gives ~20× the samples).
  if (process.env.PROFILE_US) await call("Profiler.setSamplingInterval", { interval: Number(process.env.PROFILE_US) });
  await call("Profiler.start");
  for (let i = 0; i < N; i++) await request(ports[name]);
  const { result } = await call("Profiler.stop");
  const file = path.join(workDir, `${name}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(result.profile));
  console.log(`${file}: ${N} requests (open it in Chrome DevTools' Performance panel)`);
  ws.close();
} else if (process.env.CALLGRIND === "1") {
  const { execFileSync } = await import("node:child_process");
  const control = (...a) => execFileSync("callgrind_control", [...a, String(workerd.pid)], { stdio: "ignore" });
  const floorIr = [];
  for (const t of Object.keys(ports)) {
    for (const f of fs.readdirSync(path.resolve(workDir))) if (f.startsWith("cpu.callgrind")) fs.rmSync(path.join(path.resolve(workDir), f));
    control("-i", "on");
    control("-z");
    for (let i = 0; i < N; i++) await request(ports[t]);
    control("-d");
    control("-i", "off");
    let ir = 0;
    for (const f of fs.readdirSync(path.resolve(workDir))) {
      if (!f.startsWith("cpu.callgrind")) continue;
      const m = /^summary: (\d+)/m.exec(fs.readFileSync(path.join(path.resolve(workDir), f), "utf8"));
      if (m) ir += Number(m[1]);
    }
    if (t === "floor") floorIr.push(ir / N);
    console.log(`${t.padEnd(12)} ${(ir / N / 1e6).toFixed(3)} M instructions/request (${(ir / N / floorIr[0]).toFixed(2)}× floor)`);
  }
} else {
  const cpu = Object.fromEntries(Object.keys(ports).map((t) => [t, []]));
  const latency = Object.fromEntries(Object.keys(ports).map((t) => [t, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of Object.keys(ports).sort(() => Math.random() - 0.5)) {
      const { us } = await cpuDuring(workerd.pid, async () => {
        for (let i = 0; i < N; i++) latency[t].push(await request(ports[t]));
      });
      cpu[t].push(us / N);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const t of Object.keys(ports)) {
    const c = median(cpu[t]);
    const p50 = median(latency[t]);
    console.log(
      `${t.padEnd(12)} CPU ${c.toFixed(0).padStart(5)} µs/request (${(c / median(cpu.floor)).toFixed(2)}× floor; rounds ${cpu[t].map((x) => x.toFixed(0)).join(" ")})` +
        `  p50 ${p50.toFixed(3)} ms (floor ${(p50 - median(latency.floor) >= 0 ? "+" : "")}${(p50 - median(latency.floor)).toFixed(3)})`,
    );
  }
}
process.exit(0);
