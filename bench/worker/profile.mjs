// Reads a V8 CPU profile (`cpu.mjs PROFILE=NAME` writes <work-dir>/NAME.cpuprofile) and prints
// where the samples went (issue 14, session 11): the functions with the most self time, the
// functions with the most inclusive time (a sample counted once per function on its stack), and
// the samples by where the code lives (the entry, the wasm-bindgen glue, the wasm, the runtime's
// built-ins, idle, GC). Shares are of all samples (idle included) unless `BUSY=1` (idle left out).
//
//   node bench/worker/profile.mjs <file.cpuprofile> [TOP] [REQUESTS]
//
// REQUESTS (the N the profile was recorded with) adds µs per request (samples × their mean
// interval); the profiler inflates them, so read them for proportions only. Wasm
// functions carry their names when the profiled bundle's `.wasm` is
// `$CARGO_TARGET_DIR/airlock-worker/named.wasm` (copied over the stripped one).
import fs from "node:fs";
import path from "node:path";

const [file, topArg = "30", requestsArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/worker/profile.mjs <file.cpuprofile> [TOP] [REQUESTS]");
  process.exit(2);
}
const TOP = Number(topArg);
const REQUESTS = requestsArg ? Number(requestsArg) : 0;
const profile = JSON.parse(fs.readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? path.basename(f.url) : "";
  return `${f.functionName || "(anonymous)"}${where ? ` ${where}:${f.lineNumber + 1}` : ""}`;
};
const place = (n) => {
  const f = n.callFrame;
  if (f.functionName === "(idle)") return "idle";
  if (f.functionName === "(garbage collector)") return "gc";
  if (f.functionName === "(program)") return "program (runtime, not JS)";
  if (f.url.startsWith("wasm://") || f.url.endsWith(".wasm") || /^\$|^wasm-function/.test(f.functionName)) return "wasm";
  if (f.url.endsWith("glue.mjs")) return "glue.mjs (wasm-bindgen)";
  if (f.url.endsWith("index.js")) return "index.js (entry)";
  if (f.url === "") return "built-ins (fetch, streams, console…)";
  return path.basename(f.url);
};

// Sample times: timeDeltas[i] is the time before sample i; the sample's weight is the delta to the
// next one (the last gets the mean).
// By default every sample weighs the same (shares of samples, as earlier sessions read them); on a
// loaded machine a sample taken after the thread was descheduled carries a long delta, so
// `TIME=1` (weights by time) is for a quiet machine only.
const samples = profile.samples;
const deltas = profile.timeDeltas ?? samples.map(() => 1);
let weight = samples.map((_, i) => (i + 1 < deltas.length ? deltas[i + 1] : 0));
const mean = weight.reduce((a, b) => a + b, 0) / Math.max(1, weight.length - 1);
weight[weight.length - 1] = mean;
if (process.env.TIME !== "1") weight = samples.map(() => mean);

const busy = process.env.BUSY === "1";
let total = 0;
const self = new Map();
const inclusive = new Map();
const places = new Map();
const add = (m, k, w) => m.set(k, (m.get(k) ?? 0) + w);
for (let i = 0; i < samples.length; i++) {
  const n = byId.get(samples[i]);
  if (busy && n.callFrame.functionName === "(idle)") continue;
  const w = weight[i];
  total += w;
  add(self, label(n), w);
  add(places, place(n), w);
  const seen = new Set();
  for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id));
    if (seen.has(l)) continue;
    seen.add(l);
    add(inclusive, l, w);
  }
}
const row = (name, w) => {
  const share = ((100 * w) / total).toFixed(1).padStart(5);
  const per = REQUESTS ? `  ${(w / REQUESTS).toFixed(1).padStart(7)} µs/req` : "";
  return `${share} %${per}  ${name}`;
};
const print = (title, m, top) => {
  console.log(`\n${title}`);
  for (const [k, w] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(k, w));
};
console.log(`${file}: ${samples.length} samples, ${(total / 1000).toFixed(1)} ms${busy ? " (idle left out)" : ""}`);
print("by place", places, 20);
print(`self time, top ${TOP}`, self, TOP);
print(`inclusive time, top ${TOP}`, inclusive, TOP);
