// End to end (issue 14): the JavaScript entry's fast path answers as the Rust `fetch` does. The
// same requests go to two copies of the built worker, one with the fast path (the default) and one
// with `FAST_PATH = "off"` (every request through the Rust `fetch`), against the same fake
// upstream; status, headers, body and log line must be the same but for the request ID, the time
// and the latency. A probe module beside the build (in a temporary folder of it) counts the requests
// the fast path took, so a fast path that silently declined everything would fail here.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { completion, errors, reply, replyError, sleep, sse, startFakeUpstream, streamChunk } from "./fake-upstream.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const build = path.join(root, "crates", "airlock-worker", "build");
// Inside the (git-ignored) build folder: workerd takes no module from outside the working directory.
const probeDir = fs.mkdtempSync(path.join(build, ".entry-probe-"));
for (const f of fs.readdirSync(build)) {
  // The entry as `.mjs`: Miniflare takes a `.js` the probe imports for CommonJS.
  const as = f === "index.js" ? "entry.mjs" : f;
  if (/\.(m?js|wasm|bin)$/.test(f)) fs.symlinkSync(path.join(build, f), path.join(probeDir, as));
}
// Wraps the wasm's `airlock_fast_begin` (the entry looks it up on the prototype at each call).
fs.writeFileSync(
  path.join(probeDir, "probe.mjs"),
  `import Glue from "./glue.mjs";
const P = Glue.prototype;
const begin = P.airlock_fast_begin;
P.airlock_fast_begin = function (...args) {
  const fast = begin.apply(this, args);
  if (fast !== undefined) console.log("airlock-probe: fast " + new URL(args[1]).pathname);
  return fast;
};
export * from "./entry.mjs";
export { default } from "./entry.mjs";
`,
);
process.env.AIRLOCK_WORKER_SCRIPT = path.join(probeDir, "probe.mjs");
const { startWorker } = await import("./harness.mjs");

const T = { timeout: 120_000 };
const chat = (extra = {}) => JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }], ...extra });

let upstream;
let fast;
let slow;
before(async () => {
  upstream = await startFakeUpstream();
  // MAX_CHECK_BYTES well above every checked body here, and below the ones sent unread.
  const vars = { UPSTREAM_URL: upstream.url, UPSTREAM_TIMEOUT_MS: "1500", UPSTREAM_BODY_TIMEOUT_MS: "1500", MAX_CHECK_BYTES: "8000" };
  fast = await startWorker(vars);
  slow = await startWorker({ ...vars, FAST_PATH: "off" });
});
after(async () => {
  await fast?.dispose();
  await slow?.dispose();
  await upstream?.close();
  fs.rmSync(probeDir, { recursive: true, force: true });
});

/** One request's answer and log line, with what differs between any two requests taken out
 * (`to`: another method or path than `POST /v1/chat/completions`). */
async function call(w, body, headers = {}, to = {}) {
  const { method = "POST", path: where = "/v1/chat/completions" } = to;
  const before = w.logLines().length;
  const r = await fetch(`${w.url}${where}`, {
    method,
    headers: { "content-type": "application/json", authorization: "Bearer sk-client-key-0000", ...headers },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  const id = r.headers.get("x-airlock-request-id");
  assert.match(id ?? "", /^req_airlock_[0-9a-f]{24}$/);
  const text = (await r.text()).replaceAll(id, "<id>");
  const out = {};
  for (const [k, v] of r.headers) if (k !== "date") out[k] = v.replaceAll(id, "<id>");
  let line;
  for (let i = 0; i < 100 && !line; i++) {
    line = w.logLines().slice(before).find((l) => l.request_id === id && l.event === undefined);
    if (!line) await sleep(20);
  }
  assert.ok(line, `no log line for ${id}:\n${w.logs.join("\n")}`);
  const { time, request_id, latency_ms, ...rest } = line;
  assert.equal(typeof latency_ms, "number");
  assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  return { status: r.status, headers: out, text, line: rest };
}

const fastCount = () => fast.logs.filter((l) => l.includes("airlock-probe: fast")).length;

/** The same request through both workers: the same answer, and the fast path taken (or not). */
async function same(body, headers, wantFast, to = {}) {
  const n = fastCount();
  const a = await call(fast, body, headers, to);
  const b = await call(slow, body, headers, to);
  assert.deepEqual(a, b);
  assert.equal(fastCount() - n, wantFast ? 1 : 0, "fast path taken");
  assert.equal(slow.logs.filter((l) => l.includes("airlock-probe: fast")).length, 0, "FAST_PATH=off is never fast");
  return a;
}

describe("the JS entry's fast path answers as the Rust fetch does", () => {
  test("a forwarded 200, with and without warnings", T, async () => {
    upstream.script((rec, res) => reply(res, 200, completion(), { "set-cookie": "a=b", connection: "x-drop", "x-drop": "1", "x-keep": "2" }));
    const a = await same(chat(), {}, true);
    assert.equal(a.status, 200);
    assert.equal(a.headers["x-keep"], "2");
    assert.equal(a.headers["set-cookie"], undefined);
    assert.equal(a.headers["x-drop"], undefined);
    const warned = await same(chat({ not_a_param: 1 }), {}, true);
    assert.ok(warned.headers["x-airlock-warnings"], JSON.stringify(warned.headers));
    // What travelled upstream: the same bytes and headers from both.
    upstream.script((rec, res) => reply(res, 200, completion()));
    await call(fast, chat(), { "x-custom": "1" });
    await call(slow, chat(), { "x-custom": "1" });
    const [x, y] = upstream.requests;
    assert.deepEqual(x.body, y.body);
    const strip = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => !["host", "cf-ray"].includes(k)));
    assert.deepEqual(strip(x.headers), strip(y.headers));
  });

  test("rejections: invalid JSON and a message without its role", T, async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const a = await same("{", {}, true);
    assert.equal(a.status, 400);
    const b = await same(JSON.stringify({ model: "gpt-4o-mini", messages: [{ content: "hi" }] }), {}, true);
    assert.equal(b.status, 400);
    assert.equal(upstream.requests.length, 0, "a rejection is never forwarded");
  });

  test("upstream errors: a 429 diagnosed, a 500 over 64 KiB relayed, a stalled error body", T, async () => {
    upstream.script((rec, res) => replyError(res, errors.rateLimitRpm));
    const a = await same(chat(), {}, true);
    assert.equal(a.status, 429);
    assert.equal(a.headers["x-airlock-category"], "rate_limit");
    const big = JSON.stringify({ error: { message: "x".repeat(100_000), type: "server_error", param: null, code: null } });
    upstream.script((rec, res) => reply(res, 500, big));
    const b = await same(chat(), {}, true);
    assert.equal(b.status, 500);
    assert.equal(b.text, big);
    assert.equal(b.line.upstream_body, "streamed");
    upstream.script((rec, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.write('{"error":');
      setTimeout(() => res.end("null}"), 2500);
    });
    const c = await same(chat(), {}, true);
    assert.equal(c.line.upstream_body, "stalled");
  });

  test("no answer: the upstream timeout", T, async () => {
    upstream.script(() => new Promise((r) => setTimeout(r, 2500)));
    const a = await same(chat(), {}, true);
    assert.equal(a.status, 504);
  });

  test("an event stream goes through the watcher", T, async () => {
    upstream.script((rec, res) => sse(res, [streamChunk("Hel", 0), streamChunk("lo", 1)], 5));
    const a = await same(chat({ stream: true }), {}, true);
    assert.equal(a.status, 200);
    assert.equal(a.line.stream, true);
  });

  test("an answer checked against its json_schema; declined: an Origin, a GET outside /v1, a HEAD", T, async () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };
    upstream.script((rec, res) => reply(res, 200, completion('{"a":"x"}')));
    const format = { response_format: { type: "json_schema", json_schema: { name: "t", strict: true, schema } } };
    const a = await same(chat(format), {}, true);
    assert.equal(a.headers["x-airlock-output"], "valid");
    upstream.script((rec, res) => reply(res, 200, completion()));
    await same(chat(), { origin: "https://example.com" }, false);
    const n = fastCount();
    await fetch(`${fast.url}/models`).then((r) => r.arrayBuffer());
    await fetch(`${fast.url}/v1/models`, { method: "HEAD" }).then((r) => r.arrayBuffer());
    await same(undefined, { origin: "https://example.com" }, false, { method: "GET", path: "/v1/models" });
    assert.equal(fastCount(), n);
  });

  // Issue 14: requests whose body is not read (none, or over MAX_CHECK_BYTES) are forwarded by the
  // fast path too, unread.
  const models = { object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 1, owned_by: "system" }] };
  const strip = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => !["host", "cf-ray"].includes(k)));

  test("a GET: /v1/models and one model with a query, an error, the upstream timeout", T, async () => {
    upstream.script((rec, res) => reply(res, 200, models, { "set-cookie": "a=b", connection: "x-drop", "x-drop": "1", "x-keep": "2" }));
    const get = { method: "GET", path: "/v1/models" };
    const a = await same(undefined, { "x-custom": "1" }, true, get);
    assert.equal(a.status, 200);
    assert.deepEqual(JSON.parse(a.text), models);
    assert.equal(a.headers["x-keep"], "2");
    assert.equal(a.headers["x-drop"], undefined);
    assert.equal(a.line.method, "GET");
    assert.equal(a.line.checked, false);
    const [x, y] = upstream.requests;
    assert.equal(x.method, "GET");
    assert.equal(x.url, "/v1/models");
    assert.deepEqual(strip(x.headers), strip(y.headers));
    assert.equal(x.body.length + y.body.length, 0);
    upstream.script((rec, res) => reply(res, 200, models.data[0]));
    const b = await same(undefined, {}, true, { method: "GET", path: "/v1/models/gpt-4o-mini?x=1" });
    assert.equal(b.status, 200);
    assert.equal(upstream.requests[0].url, "/v1/models/gpt-4o-mini?x=1");
    upstream.script((rec, res) => reply(res, 404, { error: { message: "The model 'nope' does not exist", type: "invalid_request_error", param: "model", code: "model_not_found" } }));
    const c = await same(undefined, {}, true, { method: "GET", path: "/v1/models/nope" });
    assert.equal(c.status, 404);
    assert.ok(c.headers["x-airlock-category"], JSON.stringify(c.headers));
    upstream.script(() => new Promise((r) => setTimeout(r, 2500)));
    const d = await same(undefined, {}, true, get);
    assert.equal(d.status, 504);
  });

  test("a body over MAX_CHECK_BYTES: streamed on unread, marked partly checked", T, async () => {
    const big = chat({ messages: [{ role: "user", content: "x".repeat(20_000) }] });
    upstream.script((rec, res) => reply(res, 200, completion()));
    const a = await same(big, {}, true);
    assert.equal(a.status, 200);
    assert.equal(a.headers["x-airlock-checked"], "partial; bound=max_check_bytes");
    assert.equal(a.line.checked, false);
    const [x, y] = upstream.requests;
    assert.equal(x.body.toString(), big);
    assert.equal(y.body.toString(), big);
    assert.deepEqual(strip(x.headers), strip(y.headers));
    // Not checked, so not rejected: a body the check would refuse is the upstream's to judge.
    const bad = `{${" ".repeat(9000)}`;
    upstream.script((rec, res) => replyError(res, errors.rateLimitRpm));
    const b = await same(bad, {}, true);
    assert.equal(b.status, 429);
    assert.equal(upstream.requests.length, 2);
    upstream.script((rec, res) => sse(res, [streamChunk("Hel", 0), streamChunk("lo", 1)], 5));
    const c = await same(chat({ stream: true, messages: [{ role: "user", content: "y".repeat(9000) }] }), {}, true);
    assert.equal(c.line.stream, true);
  });
});
