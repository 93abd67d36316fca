// The soak (issue 11): the built worker under workerd, driven for N minutes by a mixed load against
// a fake upstream with faults, all on 127.0.0.1. `--runtime workerd` (the default) runs it under bare
// `workerd serve` (as the latency bench does; tests/soak/workerd.mjs); `--runtime miniflare` as the
// end-to-end tests do, behind Miniflare's entry worker in the same workerd process. Judge memory
// bare: with the five-line JavaScript pass-through bench/worker/floor.js as the worker
// (AIRLOCK_WORKER_SCRIPT), workerd's RSS went 110 → 247 MB in 2 minutes under Miniflare, 57 → 83 MB
// bare (so the runtime's RSS creeps by itself even bare).
//
//   node tests/soak/soak.mjs --minutes N [--runtime workerd|miniflare] [--concurrency 8] [--think-ms 100]
//        [--skip KIND,…] [--out target/soak]
//
// Run by `cargo xtask soak --minutes N` (which builds the worker first); not part of `cargo xtask test`.
// `--skip` leaves kinds out (names as in KINDS), to see the rest when one of them breaks everything.
//
// Load: `--concurrency` loops, each sending one request at a time (with `--think-ms` between
// requests) of a kind picked by weight from KINDS below; the first requests go once through every
// kind, so the warm-up sees them all. Heavy kinds (9 MB and 12 MB bodies, the 5 MB error, stalls,
// upstream timeouts) are limited to one in flight and a minimum gap. The load stops by itself at
// the deadline (and at `--max-requests`); the requests in flight are then awaited.
//
// Phases: warm-up (20 s of load, less for very short runs) → drain → 5 s idle → memory "start" →
// main load → drain → 10 s idle → memory "end". Memory is the VmRSS of the workerd process (the
// one this script started, or Miniflare's child), read from /proc/<pid>/status; it is also sampled
// every second for the peak.
//
// Reported, by kind: requests sent, their statuses, and how each request ended:
// - ok: the answer the kind expects (see `expect` in KINDS);
// - unexpected: an answer that is wrong but neither a 5xx nor a connection failure (reported, not
//   a failure of the soak: for example a rule rejecting a body it should have passed);
// - worker-made 5xx (a FAILURE): a response with status >= 500 that the fake upstream did not make
//   (it marks every answer with `x-fake-upstream: 1`, which the worker passes on) and that is not
//   the correct answer to the fault the request asked for. The only worker-made 5xx that are
//   correct are 502 `upstream_unreachable` and 504 `upstream_timeout`, OpenAI-shaped, for the
//   faults that call for them (`drop`, `slow`; `stall-error` and `reset-200` may also get them).
//   So a 500 made by the worker (`airlock_internal_error`, `airlock_misconfigured`) or by the
//   runtime (an exception page, no `x-airlock-category`) always counts, and so does any 502/503/504
//   the worker made for a request whose upstream answered normally or with a 1xx.
// - connection failure (a FAILURE): no response (connection refused, reset, closed before the
//   headers), no complete answer within 60 s, or a body cut off, except for `upstream-reset-200`,
//   where the upstream itself resets a 200 mid-body and the client cannot get more than that.
// Also: isolate restarts (a FAILURE): `GET /healthz` is polled every second; its `isolate` ID is
// drawn once per wasm instance, so a new ID means a new isolate or a re-instantiated module (two
// restarts between polls count as one, so the count is a lower bound; the log's "Reinitializing
// Wasm application" lines, workers-rs's own notice after a panic, are counted beside it); a
// healthz that fails counts as a connection failure or a worker-made 5xx as above. Failed requests
// in flight when a restart happened are counted as "in flight around a restart". Secrets in logs
// (a FAILURE): a planted fake key (`sk-proj-SOAKSECRET…`, new each run) is the client's bearer key
// on every request and sits in a body field of every JSON request and Batch line; no line the
// workerd process writes (the worker's logs, the runtime's errors) may hold it or its random part.
// Memory (a FAILURE): end RSS above start RSS + 10 %.
//
// Output: a table, then one JSON line (`{"soak": …}`); exit 1 on any FAILURE, 2 on a usage error.
// The worker's log is written to <out>/worker.log, the JSON to <out>/result.json.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

import { scriptPath, startWorker } from "../e2e/harness.mjs";
import { sleep } from "../e2e/fake-upstream.mjs";
import { startSoakUpstream } from "./upstream.mjs";
import { startBareWorker } from "./workerd.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const MiB = 1024 * 1024;

// ----- arguments ----------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { minutes: 10, concurrency: 8, thinkMs: 100, out: path.join(root, "target", "soak"), maxRequests: null, skip: [], runtime: "workerd" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--minutes") opts.minutes = Number(value());
    else if (a === "--concurrency") opts.concurrency = Number(value());
    else if (a === "--think-ms") opts.thinkMs = Number(value());
    else if (a === "--max-requests") opts.maxRequests = Number(value());
    else if (a === "--out") opts.out = path.resolve(value());
    else if (a === "--runtime") opts.runtime = value();
    else if (a === "--skip") opts.skip.push(...value().split(",").filter(Boolean));
    else usage(`unknown argument ${a}`);
  }
  if (!["workerd", "miniflare"].includes(opts.runtime)) usage("--runtime is workerd or miniflare");
  if (!(opts.minutes > 0) || !(opts.concurrency >= 1) || !(opts.thinkMs >= 0)) usage("bad number");
  opts.maxRequests ??= Math.ceil(opts.minutes * 60 * 100);
  return opts;
}

function usage(why) {
  console.error(`soak: ${why}\nusage: node tests/soak/soak.mjs --minutes N [--runtime workerd|miniflare] [--concurrency 8] [--think-ms 100] [--max-requests N] [--skip KIND,…] [--out DIR]`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const SECRET_PART = randomBytes(16).toString("hex");
const SECRET = `sk-proj-SOAKSECRET${SECRET_PART}T3st`;

// ----- request bodies (built once) ----------------------------------------------------------------

const json = (v) => Buffer.from(JSON.stringify(v));
const chat = (extra = {}) =>
  json({ model: "gpt-4o-mini", messages: [{ role: "user", content: `Say hello. (my key: ${SECRET})` }], user: SECRET, ...extra });
const responses = (extra = {}) =>
  json({ model: "gpt-4o-mini", input: `Say hello. (my key: ${SECRET})`, metadata: { note: SECRET }, ...extra });
// A request OpenAI certainly rejects: o1-mini takes no system message.
const invalidChat = json({
  model: "o1-mini",
  messages: [
    { role: "system", content: `Be brief. ${SECRET}` },
    { role: "user", content: "hi" },
  ],
  user: SECRET,
});
const invalidResponses = json({ model: "gpt-4o", input: `hi ${SECRET}`, max_output_tokens: 10 });

/** A chat request of about `bytes` whose bulk is one tool schema with very many properties. */
function manyKeys(bytes) {
  const head = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Fill in the form. ${SECRET}"}],"user":"${SECRET}","tools":[{"type":"function","function":{"name":"fill_form","description":"A form with many fields.","parameters":{"type":"object","properties":{`;
  const tail = "}}}}]}";
  const parts = [];
  let size = head.length + tail.length;
  for (let i = 0; size < bytes; i++) {
    const p = `${i ? "," : ""}"f${String(i).padStart(7, "0")}":{}`;
    parts.push(p);
    size += p.length;
  }
  return Buffer.from(head + parts.join("") + tail);
}

/** A chat request of about `bytes` of plain text (one long message). */
function longText(bytes) {
  const sentence = "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. ";
  const head = { model: "gpt-4o-mini", user: SECRET, messages: [{ role: "user", content: "" }] };
  const text = sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes - 200);
  head.messages[0].content = `${SECRET} ${text}`;
  return json(head);
}

const BOUNDARY = "----airlock-soak";
const batchLine = (id) =>
  JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `Summarise item ${id}. ${SECRET}` }] } }) + "\n";
function multipart(fileText) {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(fileText),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}
const goodLines = Array.from({ length: 20 }, (_, i) => batchLine(`req-${i + 1}`)).join("");
const batchGood = multipart(goodLines);
const batchBad = multipart(goodLines + '{"custom_id": "req-21", "method": "POST"\n' + batchLine("req-22"));

const huge9 = manyKeys(9 * MiB);
const huge12 = longText(12 * MiB);

// ----- the client ---------------------------------------------------------------------------------

const KEEP = 64 * 1024;

/**
 * One request on a fresh connection. Resolves (never rejects) to what happened: status, headers,
 * body size, the body (when at most 64 KiB) or its last 64 KiB, and `error` / `phase` when it went
 * wrong (`request`: no response; `body`: the body was cut off; `timeout`).
 */
function call(base, { method = "POST", path: target, headers = {}, body = null, expectContinue = false, timeoutMs = 60_000 }) {
  const u = new URL(base);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const out = { status: 0, headers: {}, bytes: 0, body: null, tail: Buffer.alloc(0), error: null, phase: null, ms: 0, informational: [] };
    const head = [];
    let done = false;
    const finish = (phase, err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      out.ms = performance.now() - t0;
      if (out.bytes <= KEEP) out.body = Buffer.concat(head);
      if (err) {
        out.error = String(err.code ?? err.message ?? err);
        out.phase = phase;
      }
      resolve(out);
    };
    const h = { authorization: `Bearer ${SECRET}`, ...headers };
    if (body) h["content-length"] = body.length;
    if (expectContinue) h.expect = "100-continue";
    const req = http.request({ host: u.hostname, port: u.port, method, path: target, headers: h, agent: false }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      res.on("data", (c) => {
        out.bytes += c.length;
        if (out.bytes <= KEEP) head.push(c);
        out.tail = Buffer.concat([out.tail, c]);
        if (out.tail.length > KEEP) out.tail = out.tail.subarray(out.tail.length - KEEP);
      });
      res.on("end", () => finish(null));
      res.on("error", (e) => finish("body", e));
      res.on("close", () => finish("body", new Error("closed before the end of the body")));
    });
    req.on("information", (info) => out.informational.push(info.statusCode));
    req.on("error", (e) => finish(out.status ? "body" : "request", e));
    const timer = setTimeout(() => {
      finish("timeout", new Error(`no complete answer within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    let written = false;
    const write = async () => {
      if (written) return;
      written = true;
      if (body) {
        for (let i = 0; i < body.length && !req.destroyed; i += MiB) {
          if (!req.write(body.subarray(i, i + MiB))) await drained(req);
        }
      }
      req.end();
    };
    if (expectContinue) {
      // As curl does: the body goes on `100 Continue`, or after 1 s without one.
      req.on("continue", write);
      setTimeout(write, 1000).unref();
      req.flushHeaders();
    } else write();
  });
}

/** Resolves when `req` can take more body, or has closed. */
function drained(req) {
  return new Promise((resolve) => {
    const done = () => {
      req.off("drain", done);
      req.off("close", done);
      resolve();
    };
    req.on("drain", done);
    req.on("close", done);
  });
}

/** The `error.code` of a small JSON error body, if any. */
function errorCode(r) {
  try {
    return JSON.parse(r.body.toString()).error?.code ?? null;
  } catch {
    return null;
  }
}

function jsonBody(r) {
  try {
    return JSON.parse(r.body.toString());
  } catch {
    return null;
  }
}

const fromUpstream = (r) => r.headers["x-fake-upstream"] === "1";

// ----- the kinds of request -----------------------------------------------------------------------

const jsonHeaders = (fault) => ({ "content-type": "application/json", ...(fault ? { "x-soak-fault": fault } : {}) });
const post = (p, body, fault, extra = {}) => ({ path: p, body, headers: jsonHeaders(fault), ...extra });
const files = (body, fault) => ({ path: "/v1/files", body, headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, ...(fault ? { "x-soak-fault": fault } : {}) } });

/** Checks shared by the kinds: each returns a problem (string) or null. */
const expectUpstream = (status, more = () => null) => (r) =>
  r.status !== status ? `status ${r.status}, expected ${status} from the upstream` : !fromUpstream(r) ? `status ${status} not from the upstream` : more(r);
const expectRule = (code) => (r) =>
  r.status !== 400
    ? `status ${r.status}, expected 400 from the rules`
    : fromUpstream(r)
      ? "the upstream answered: the request was forwarded"
      : !r.headers["x-airlock-rule"]
        ? "400 without x-airlock-rule"
        : code && errorCode(r) !== code
          ? `code ${errorCode(r)}, expected ${code}`
          : null;
const tailHas = (needle, missing) => (r) => (r.tail.includes(needle) ? null : missing);

/**
 * name, weight, request (a function of nothing), expect (a check returning a problem or null),
 * upstream5xx (statuses the fault makes the upstream send), worker5xx (worker-made 5xx that are the
 * correct answer to the fault: status and OpenAI `code`), bodyErrorOk, maxInFlight, minGapMs.
 */
const ALL_KINDS = [
  { name: "chat", weight: 10, request: () => post("/v1/chat/completions", chat()), expect: expectUpstream(200, (r) => (jsonBody(r)?.object === "chat.completion" ? null : "not a chat completion")) },
  { name: "chat-stream", weight: 6, request: () => post("/v1/chat/completions", chat({ stream: true })), expect: expectUpstream(200, (r) => (r.tail.includes("data: [DONE]") ? (r.tail.includes("stream_interrupted") ? "interrupted" : null) : "no [DONE]")) },
  { name: "responses", weight: 6, request: () => post("/v1/responses", responses()), expect: expectUpstream(200, (r) => (jsonBody(r)?.object === "response" ? null : "not a response")) },
  { name: "responses-stream", weight: 4, request: () => post("/v1/responses", responses({ stream: true })), expect: expectUpstream(200, tailHas("response.completed", "no response.completed")) },
  { name: "invalid-chat", weight: 4, request: () => post("/v1/chat/completions", invalidChat), expect: expectRule("unsupported_value") },
  { name: "invalid-responses", weight: 3, request: () => post("/v1/responses", invalidResponses), expect: expectRule("integer_below_min_value") },
  { name: "sse-cut", weight: 3, request: () => post("/v1/chat/completions", chat({ stream: true }), "sse-cut"), expect: expectUpstream(200, tailHas("stream_interrupted", "no stream_interrupted error at the end")) },
  { name: "batch-good", weight: 2, request: () => files(batchGood), expect: expectUpstream(200, (r) => (jsonBody(r)?.object === "file" ? null : "not a file object")) },
  { name: "batch-bad", weight: 2, request: () => files(batchBad), expect: expectRule("invalid_json_line") },
  { name: "huge-9mb-keys", weight: 1, maxInFlight: 1, minGapMs: 10_000, request: () => post("/v1/chat/completions", huge9), expect: expectUpstream(200) },
  { name: "huge-12mb", weight: 1, maxInFlight: 1, minGapMs: 10_000, request: () => post("/v1/chat/completions", huge12), expect: expectUpstream(200) },
  { name: "upstream-429", weight: 2, request: () => post("/v1/chat/completions", chat(), "429"), expect: expectUpstream(429) },
  { name: "upstream-500", weight: 2, upstream5xx: [500], request: () => post("/v1/chat/completions", chat(), "500"), expect: expectUpstream(500, (r) => (errorCode(r) === null && jsonBody(r)?.error?.type === "server_error" ? null : "body changed")) },
  { name: "upstream-503", weight: 2, upstream5xx: [503], request: () => post("/v1/responses", responses(), "503"), expect: expectUpstream(503) },
  { name: "upstream-big-error", weight: 1, maxInFlight: 1, minGapMs: 5_000, upstream5xx: [500], request: () => post("/v1/chat/completions", chat(), "big-error"), expect: expectUpstream(500) },
  {
    name: "upstream-stall-error",
    weight: 1,
    maxInFlight: 1,
    minGapMs: 10_000,
    upstream5xx: [503],
    worker5xx: [
      { status: 502, code: "upstream_unreachable" },
      { status: 504, code: "upstream_timeout" },
    ],
    request: () => post("/v1/chat/completions", chat(), "stall-error"),
    expect: (r) => (fromUpstream(r) ? expectUpstream(503)(r) : null),
  },
  {
    name: "upstream-reset-200",
    weight: 1,
    bodyErrorOk: true,
    worker5xx: [{ status: 502, code: "upstream_unreachable" }],
    request: () => post("/v1/chat/completions", chat(), "reset-200"),
    // A 200 whose body the upstream cut: the client must see it cut (a read error), or, since
    // workerd ends an errored response body cleanly, a body that is not a complete JSON answer;
    // the worker's `body_end` log lines are counted against these below.
    expect: (r) => (!fromUpstream(r) ? null : r.status !== 200 ? `status ${r.status}` : r.phase === "body" ? null : jsonBody(r) ? "the cut body arrived whole?" : null),
  },
  // An unsolicited `100 Continue`: workerd's fetch hands it over as the answer; the worker must
  // treat it as a failed connection (502 upstream_invalid_status), never crash.
  {
    name: "upstream-continue",
    weight: 1,
    worker5xx: [{ status: 502, code: "upstream_invalid_status" }],
    request: () => post("/v1/chat/completions", chat(), "continue"),
    expect: (r) => (fromUpstream(r) ? expectUpstream(200)(r) : r.status === 502 ? null : `status ${r.status}`),
  },
  // A client that sends `Expect: 100-continue` (curl does for bodies over 1 MB): the worker must
  // not forward it, so the upstream (which answers an `expect` with 100 Continue) answers 200.
  { name: "client-expect", weight: 1, request: () => post("/v1/chat/completions", chat(), null, { expectContinue: true }), expect: expectUpstream(200, (r) => (jsonBody(r)?.object === "chat.completion" ? null : "not a chat completion")) },
  { name: "upstream-drop", weight: 1, worker5xx: [{ status: 502, code: "upstream_unreachable" }], request: () => post("/v1/chat/completions", chat(), "drop"), expect: (r) => (r.status === 502 && !fromUpstream(r) ? null : `status ${r.status}, expected the worker's 502`) },
  { name: "upstream-slow", weight: 1, maxInFlight: 1, minGapMs: 10_000, worker5xx: [{ status: 504, code: "upstream_timeout" }], request: () => post("/v1/chat/completions", chat(), "slow"), expect: (r) => (r.status === 504 && !fromUpstream(r) ? null : `status ${r.status}, expected the worker's 504`) },
];

for (const name of opts.skip) if (!ALL_KINDS.some((k) => k.name === name)) usage(`--skip: no kind ${name}`);
const KINDS = ALL_KINDS.filter((k) => !opts.skip.includes(k.name));

// ----- recording ----------------------------------------------------------------------------------

const stats = Object.fromEntries(
  [...KINDS.map((k) => k.name), "healthz"].map((n) => [n, { sent: 0, statuses: {}, ok: 0, unexpected: 0, worker5xx: 0, connection: 0, ms: [] }]),
);
const samples = { unexpected: [], worker5xx: [], connection: [] };
const keepSample = (list, s) => list.length < 20 && list.push(s);
/** When each request that was not ok started and ended (s since the start), to relate it to restarts. */
const spans = { unexpected: [], worker5xx: [], connection: [] };

/** How a request ended: "ok" | "unexpected" | "worker5xx" | "connection" (see the header comment). */
function judge(kind, r) {
  if (r.phase === "request" || r.phase === "timeout") return ["connection", `${r.phase}: ${r.error}`];
  if (r.phase === "body" && !kind.bodyErrorOk) return ["connection", `body cut off after status ${r.status}: ${r.error}`];
  if (r.status >= 500) {
    if (fromUpstream(r)) {
      if (!(kind.upstream5xx ?? []).includes(r.status)) return ["unexpected", `the upstream sent ${r.status}`];
    } else if ((kind.worker5xx ?? []).some((e) => e.status === r.status && e.code === errorCode(r))) {
      return ["ok", null];
    } else {
      const by = r.headers["x-airlock-category"] ? `worker (category ${r.headers["x-airlock-category"]}, code ${errorCode(r)})` : "runtime (no x-airlock-category)";
      return ["worker5xx", `${r.status} made by the ${by}`];
    }
  }
  const problem = kind.expect(r);
  return problem ? ["unexpected", problem] : ["ok", null];
}

function record(kind, r) {
  const s = stats[kind.name];
  s.sent += 1;
  const label = r.phase === "request" || r.phase === "timeout" ? r.phase : r.phase === "body" ? `${r.status}+cut` : String(r.status);
  s.statuses[label] = (s.statuses[label] ?? 0) + 1;
  s.ms.push(r.ms);
  const [verdict, why] = judge(kind, r);
  s[verdict] += 1;
  if (verdict !== "ok") {
    const snippet = r.body ? r.body.toString().slice(0, 300) : `${r.bytes} bytes, ends ${JSON.stringify(r.tail.subarray(-200).toString())}`;
    const end_s = (performance.now() - t0) / 1000;
    spans[verdict].push({ kind: kind.name, status: r.status, from: end_s - r.ms / 1000, to: end_s, why });
    keepSample(samples[verdict], { kind: kind.name, at_s: Math.round(end_s), took_ms: Math.round(r.ms), why, status: r.status, request_id: r.headers["x-airlock-request-id"] ?? null, informational: r.informational, body: snippet });
  }
}

// ----- workerd: pid, memory, health ---------------------------------------------------------------

function procChildren() {
  const byParent = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push({ pid: Number(d), comm });
    } catch {}
  }
  return byParent;
}

/** The workerd processes below this one (Miniflare spawns one). */
function findWorkerd() {
  const byParent = procChildren();
  const found = [];
  const queue = [process.pid];
  while (queue.length) {
    for (const c of byParent.get(queue.shift()) ?? []) {
      if (c.comm.startsWith("workerd")) found.push(c.pid);
      queue.push(c.pid);
    }
  }
  return found;
}

/** VmRSS and VmHWM of `pid` in kB, or null once it is gone. */
function memory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return null;
  }
}

const health = { polls: 0, ids: [], restarts: 0, idMissing: 0, changes: [], lastSent: 0 };
const rssSamples = [];
let workerdGone = false;

async function pollHealth(base, pid) {
  const sentAt = (performance.now() - t0) / 1000;
  const r = await call(base, { method: "GET", path: "/healthz", timeoutMs: 10_000 });
  health.polls += 1;
  const kind = { name: "healthz", expect: (x) => (x.status === 200 ? null : `status ${x.status}`) };
  record(kind, r);
  const id = r.headers["x-airlock-isolate"] ?? jsonBody(r)?.isolate;
  if (r.status === 200 && !id) health.idMissing += 1;
  if (id) {
    const last = health.ids.at(-1);
    if (last && last !== id) {
      health.restarts += 1;
      const t = (performance.now() - t0) / 1000;
      // The restart happened after the last poll that saw the old ID was sent, before this answer.
      health.changes.push({ at_s: Math.round(t), t, after: health.lastSent, from: last, to: id });
    }
    if (last !== id) health.ids.push(id);
    health.lastSent = sentAt;
  }
  const m = memory(pid);
  if (m) rssSamples.push({ at_s: (performance.now() - t0) / 1000, rss_kb: m.rss });
  else workerdGone = true;
}

// ----- the load -----------------------------------------------------------------------------------

// A small deterministic generator, so two runs send the same mix.
let seed = 0x2f6b1a3d;
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};

const inFlight = Object.fromEntries(KINDS.map((k) => [k.name, 0]));
const lastStart = Object.fromEntries(KINDS.map((k) => [k.name, -Infinity]));
const firstRound = [...KINDS];
let started = 0;

const allowed = (k, now) => inFlight[k.name] < (k.maxInFlight ?? Infinity) && now - lastStart[k.name] >= (k.minGapMs ?? 0);

function pick(now) {
  const i = firstRound.findIndex((k) => allowed(k, now));
  if (i >= 0) return firstRound.splice(i, 1)[0];
  const pool = KINDS.filter((k) => allowed(k, now));
  let x = random() * pool.reduce((a, k) => a + k.weight, 0);
  for (const k of pool) if ((x -= k.weight) < 0) return k;
  return pool[0];
}

/** `opts.concurrency` loops until `until` (ms, performance.now()) or the request cap. */
async function load(base, until) {
  const loop = async () => {
    while (performance.now() < until && started < opts.maxRequests && !workerdGone) {
      const now = performance.now();
      const kind = pick(now);
      started += 1;
      inFlight[kind.name] += 1;
      lastStart[kind.name] = now;
      const r = await call(base, kind.request());
      inFlight[kind.name] -= 1;
      record(kind, r);
      if (opts.thinkMs) await sleep(opts.thinkMs);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
}

// ----- run ----------------------------------------------------------------------------------------

fs.mkdirSync(opts.out, { recursive: true });
const totalMs = opts.minutes * 60_000;
// The warm-up lasts 30 % of the run (at most 3 min, at least 20 s where the run allows): a wasm
// instance's memory grows to what the load's peak needs and never shrinks, so "start" is taken
// once that size is reached (the 20 s figure is printed too).
const warmupMs = Math.min(Math.max(20_000, totalMs * 0.3), 180_000, totalMs / 3);
const upstream = await startSoakUpstream({ secret: SECRET });
const vars = { UPSTREAM_URL: upstream.url, UPSTREAM_TIMEOUT_MS: "5000" };
const w = opts.runtime === "workerd" ? await startBareWorker(scriptPath, vars, opts.out) : await startWorker(vars);
const t0 = performance.now();
const workerds = findWorkerd();
if (workerds.length !== 1) console.error(`soak: expected one workerd process below this one, found ${JSON.stringify(workerds)}`);
const pid = w.pid ?? workerds[0];
console.log(`soak: worker at ${w.url} (${opts.runtime}, workerd pid ${pid}), upstream at ${upstream.url}; ${opts.minutes} min, ${opts.concurrency} loops`);

let polling = true;
const poller = (async () => {
  while (polling && !workerdGone) {
    const next = performance.now() + 1000;
    await pollHealth(w.url, pid);
    await sleep(Math.max(0, next - performance.now()));
  }
})();

const rssNow = () => memory(pid)?.rss ?? null;
await load(w.url, t0 + Math.min(20_000, warmupMs));
const rssEarly = rssNow();
await load(w.url, t0 + warmupMs);
await sleep(5000);
const rssStart = rssNow();
console.log(`soak: warm-up done (${started} requests); workerd RSS ${(rssEarly / 1024).toFixed(1)} MB at 20 s, ${(rssStart / 1024).toFixed(1)} MB at ${(warmupMs / 1000).toFixed(0)} s`);
const mainStart = performance.now();
await load(w.url, mainStart + (totalMs - warmupMs));
const loadEnd = performance.now();
await sleep(10_000);
const rssEnd = rssNow();
const hwm = memory(pid)?.hwm ?? null;
polling = false;
await poller;

// Secrets: every line workerd wrote (the worker's console output and the runtime's own messages).
await sleep(200);
const logText = w.logs.join("\n");
fs.writeFileSync(path.join(opts.out, "worker.log"), logText + "\n");
const reinits = w.logs.filter((l) => l.includes("Reinitializing Wasm application")).length;
const secretLines = w.logs.filter((l) => l.includes("SOAKSECRET") || l.includes(SECRET_PART));
const logLines = w.logLines();
const withFingerprint = logLines.filter((l) => typeof l.key_fingerprint === "string" && l.key_fingerprint.endsWith("T3st")).length;
await w.dispose();
await upstream.close();

// ----- report -------------------------------------------------------------------------------------

const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const sum = (f) => Object.values(stats).reduce((a, s) => a + f(s), 0);
const totals = {
  sent: sum((s) => s.sent),
  ok: sum((s) => s.ok),
  unexpected: sum((s) => s.unexpected),
  worker5xx: sum((s) => s.worker5xx),
  connection: sum((s) => s.connection),
};
// A restart happened between two healthz polls: a request in flight then may have been lost with the
// old isolate.
const nearRestart = ({ from, to }) => health.changes.some((c) => from <= c.t && to >= c.after);
const aroundRestarts = Object.fromEntries(Object.entries(spans).map(([k, list]) => [k, list.filter(nearRestart).length]));
const rssGrowth = rssStart && rssEnd ? (rssEnd - rssStart) / rssStart : null;
const failures = [];
const cutOk = stats["upstream-reset-200"]?.statuses?.["200"] ?? 0;
const cutLogged = logLines.filter((l) => l.event === "body_end" && l.state === "cut").length;
if (cutLogged < cutOk) failures.push(`${cutOk - cutLogged} cut 200 bodies without a body_end log line`);
if (totals.worker5xx) failures.push(`${totals.worker5xx} worker-made 5xx`);
if (totals.connection) failures.push(`${totals.connection} connection failures`);
if (health.restarts) failures.push(`${health.restarts} isolate restarts`);
if (workerdGone) failures.push("the workerd process exited");
if (health.idMissing) failures.push(`${health.idMissing} healthz answers without an isolate ID (restarts cannot be seen)`);
if (secretLines.length) failures.push(`${secretLines.length} log lines hold the planted key`);
if (upstream.stats.sawSecret === 0) failures.push("the planted key never reached the upstream (not planted?)");
if (rssGrowth === null) failures.push("memory could not be read");
else if (rssGrowth > 0.1) failures.push(`workerd RSS grew ${(rssGrowth * 100).toFixed(1)} % (limit 10 %)`);

const fmt = (x) => (x === null ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const rows = [["kind", "sent", "statuses", "ok", "unexpected", "worker 5xx", "conn. failures", "p50 ms", "max ms"]];
for (const [name, s] of Object.entries(stats)) {
  const statuses = Object.entries(s.statuses)
    .sort()
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");
  rows.push([name, s.sent, statuses, s.ok, s.unexpected, s.worker5xx, s.connection, fmt(pct(s.ms, 50)), fmt(pct(s.ms, 100))].map(String));
}
rows.push(["total", totals.sent, "", totals.ok, totals.unexpected, totals.worker5xx, totals.connection, "", ""].map(String));
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log("");
console.log(line(rows[0]));
console.log(widths.map((n) => "-".repeat(n)).join("  "));
for (const r of rows.slice(1)) console.log(line(r));
const mb = (kb) => (kb === null || kb === undefined ? "-" : `${(kb / 1024).toFixed(1)} MB`);
const peak = rssSamples.reduce((a, s) => Math.max(a, s.rss_kb), 0);
console.log("");
console.log(`load: ${((loadEnd - t0) / 60_000).toFixed(2)} min under ${opts.runtime} (warm-up ${(warmupMs / 1000).toFixed(0)} s), ${opts.concurrency} loops, think ${opts.thinkMs} ms${opts.skip.length ? `, skipped: ${opts.skip.join(", ")}` : ""}`);
console.log(`workerd RSS: start ${mb(rssStart)} (after warm-up), end ${mb(rssEnd)} (after 10 s idle), growth ${rssGrowth === null ? "-" : (rssGrowth * 100).toFixed(1) + " %"}; peak sampled ${mb(peak)}, VmHWM ${mb(hwm)}`);
console.log(`isolate: ${health.ids.length} ID(s) seen over ${health.polls} healthz polls, ${health.restarts} restart(s)${health.changes.length ? " at " + health.changes.map((c) => `${c.at_s} s`).join(", ") : ""}; the log has ${reinits} "Reinitializing Wasm application" line(s)`);
if (health.restarts) console.log(`in flight around a restart: ${aroundRestarts.worker5xx} of the worker-made 5xx, ${aroundRestarts.connection} of the connection failures, ${aroundRestarts.unexpected} of the unexpected answers`);
console.log(`secrets: ${secretLines.length} of ${w.logs.length} log lines hold the planted key (${logLines.length} JSON lines, ${withFingerprint} with its fingerprint; the upstream received it ${upstream.stats.sawSecret} times)`);
for (const [what, list] of Object.entries(samples)) {
  if (!list.length) continue;
  console.log(`\n${what} (first ${list.length}):`);
  for (const s of list) console.log(`  ${JSON.stringify(s)}`);
}
if (secretLines.length) {
  console.log("\nlog lines with the planted key (first 5, key masked):");
  for (const l of secretLines.slice(0, 5)) console.log(`  ${l.replaceAll(SECRET_PART, "<SECRET>").slice(0, 300)}`);
}
console.log(`\n${failures.length ? "SOAK FAILED: " + failures.join("; ") : "soak passed"}`);

const result = {
  soak: {
    minutes: opts.minutes,
    concurrency: opts.concurrency,
    runtime: opts.runtime,
    skipped: opts.skip,
    passed: failures.length === 0,
    failures,
    totals,
    by_kind: Object.fromEntries(Object.entries(stats).map(([n, s]) => [n, { sent: s.sent, statuses: s.statuses, ok: s.ok, unexpected: s.unexpected, worker_5xx: s.worker5xx, connection_failures: s.connection }])),
    rss_kb: { at_20s: rssEarly, start: rssStart, end: rssEnd, peak_sampled: peak, hwm },
    rss_growth: rssGrowth,
    isolate_restarts: health.restarts,
    around_restarts: aroundRestarts,
    isolate_ids: health.ids.length,
    wasm_reinit_log_lines: reinits,
    workerd_exited: workerdGone,
    secret_log_lines: secretLines.length,
    cut_bodies: { ok_200: cutOk, body_end_logged: cutLogged },
    log_lines: w.logs.length,
    upstream: upstream.stats,
  },
};
const notOk = Object.fromEntries(Object.entries(spans).map(([k, list]) => [k, list.map((x) => ({ ...x, near_restart: nearRestart(x) }))]));
fs.writeFileSync(path.join(opts.out, "result.json"), JSON.stringify({ ...result, samples, not_ok: notOk, rss_samples: rssSamples, isolate_changes: health.changes }, null, 1));
console.log(JSON.stringify(result));
process.exit(failures.length ? 1 : 0);
