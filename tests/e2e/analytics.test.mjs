// Workers Analytics Engine (issue 16): the data point the worker writes per request, read in
// workerd. Miniflare's own `analyticsEngineDatasets` simulator (pinned 4.20260730.0) drops every
// data point, so the `ANALYTICS` binding here is a wrapped binding (`wrappedBindings`): a small
// module, run in the worker's own isolate, whose `writeDataPoint` checks the call against
// Analytics Engine's documented limits and writes it as one JSON line on the runtime's stdout,
// where the test reads it. The built worker itself is unchanged.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";

import { completion, errors, reply, replyError, sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { bundleModulesRules, scriptPath } from "./harness.mjs";

// The documented limits of one writeDataPoint call (developers.cloudflare.com/analytics/
// analytics-engine/limits): at most 20 blobs and 20 doubles, one index of at most 96 bytes, and
// all blobs together at most 16 KB (5120 bytes before June 2025; the test holds the older one).
const recorder = `
const bytes = (v) => v == null ? 0 : typeof v === "string" ? new TextEncoder().encode(v).length : v.byteLength;
const text = (v) => v == null ? null : typeof v === "string" ? v : new TextDecoder().decode(v);
export default function (env) {
  return {
    writeDataPoint(point) {
      const p = point ?? {};
      const indexes = p.indexes ?? [], blobs = p.blobs ?? [], doubles = p.doubles ?? [];
      const problems = [];
      if (indexes.length > 1) problems.push("more than one index");
      if (indexes.some((i) => bytes(i) > 96)) problems.push("an index over 96 bytes");
      if (blobs.length > 20) problems.push("more than 20 blobs");
      if (doubles.length > 20) problems.push("more than 20 doubles");
      if (blobs.reduce((n, b) => n + bytes(b), 0) > 5120) problems.push("blobs over 5120 bytes");
      if (doubles.some((d) => typeof d !== "number")) problems.push("a double that is not a number");
      console.log(JSON.stringify({ analytics_point: {
        dataset: env.dataset,
        indexes: indexes.map(text),
        blobs: blobs.map(text),
        doubles,
        problems,
      } }));
    },
  };
}`;

/** The built worker in workerd, with (or without) the recording ANALYTICS binding. */
async function start(vars, { analytics }) {
  const logs = [];
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      for (const s of [stdout, stderr]) s.on("data", (d) => logs.push(...d.toString().split("\n").filter(Boolean)));
    },
    workers: [
      {
        name: "airlock",
        modules: true,
        scriptPath,
        modulesRules: bundleModulesRules,
        compatibilityDate: "2025-09-01",
        bindings: vars,
        ...(analytics ? { wrappedBindings: { ANALYTICS: { scriptName: "analytics-recorder", bindings: { dataset: "airlock_requests" } } } } : {}),
      },
      ...(analytics ? [{ name: "analytics-recorder", modules: true, script: recorder }] : []),
    ],
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const json = () =>
    logs
      .map((l) => {
        const at = l.indexOf("{");
        try {
          return at >= 0 ? JSON.parse(l.slice(at)) : null;
        } catch {
          return null;
        }
      })
      .filter(Boolean);
  return {
    url,
    logs,
    points: () => json().map((l) => l.analytics_point).filter(Boolean),
    lines: () => json().filter((l) => l.request_id && l.status),
    dispose: () => mf.dispose(),
  };
}

const KEY = "sk-proj-analyticsSECRETkey0123456789abcdefABCDEF";
const PROMPT = "prompt-text-that-must-never-be-written-7f3a9c";

const post = (w, body, extra = {}) =>
  fetch(`${w.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, ...extra },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));

/** The data points written from index `from` on, once there are `n` of them. */
async function pointsSince(w, from, n) {
  for (let i = 0; i < 100 && w.points().length - from < n; i++) await sleep(50);
  return w.points().slice(from);
}

let upstream;
before(async () => {
  upstream = await startFakeUpstream();
});
after(async () => {
  await upstream.close();
});

describe("Analytics Engine data points", () => {
  let w;
  before(async () => {
    w = await start({ UPSTREAM_URL: upstream.url, SIMULATE: "on" }, { analytics: true });
  });
  after(async () => w.dispose());

  const chat = { model: "gpt-4o-mini", messages: [{ role: "user", content: `${PROMPT} ${KEY}` }] };

  test("a 200, an upstream 429 and a rejected request: index, blobs and doubles in the README's order", async () => {
    const from = w.points().length;
    const linesFrom = w.lines().length;
    upstream.script((rec, res) => reply(res, 200, completion("hello")));
    const ok = await post(w, chat);
    assert.equal(ok.status, 200);
    upstream.script((rec, res) => replyError(res, errors.rateLimitRpm));
    const limited = await post(w, chat, { "x-stainless-retry-count": "0" });
    assert.equal(limited.status, 429);
    const rejected = await post(w, { ...chat, temperature: 3 });
    assert.equal(rejected.status, 400);
    const rule = rejected.headers.get("x-airlock-rule");
    assert.ok(rule, "the 400 names its rule");
    assert.equal(upstream.requests.length, 1, "the 429's request only: the rejected one never reached the upstream");

    const points = await pointsSince(w, from, 3);
    assert.equal(points.length, 3, JSON.stringify(points));
    const lines = w.lines().slice(linesFrom);
    assert.equal(lines.length, 3);
    for (const p of points) {
      assert.equal(p.dataset, "airlock_requests");
      assert.deepEqual(p.problems, [], "within Analytics Engine's limits");
      assert.equal(p.indexes.length, 1);
      assert.equal(p.indexes[0], p.blobs[0], "index1 is blob1, the category");
      assert.equal(p.blobs.length, 6);
      assert.equal(p.doubles.length, 3);
    }
    const [a, b, c] = points;
    // blob1 category, blob2 model, blob3 path, blob4 rule, blob5 request ID, blob6 simulated.
    assert.deepEqual(a.blobs.slice(0, 4), ["ok", "gpt-4o-mini", "/v1/chat/completions", ""]);
    assert.deepEqual(b.blobs.slice(0, 4), ["rate_limit", "gpt-4o-mini", "/v1/chat/completions", ""]);
    assert.deepEqual(c.blobs.slice(0, 4), ["invalid_request", "gpt-4o-mini", "/v1/chat/completions", rule]);
    for (const [p, line] of [[a, lines[0]], [b, lines[1]], [c, lines[2]]]) {
      assert.equal(p.blobs[4], line.request_id, "blob5 is Airlock's request ID, as in the log line");
      assert.match(p.blobs[4], /^req_airlock_[0-9a-f]{24}$/);
      assert.equal(p.blobs[5], "");
      // double1 status, double2 latency (ms, as the log line), double3 input tokens.
      assert.equal(p.doubles[0], line.status);
      assert.equal(p.doubles[1], line.latency_ms);
      assert.ok(p.doubles[1] >= 0);
      assert.equal(p.doubles[2], line.tokens ?? 0);
    }
    assert.deepEqual([a.doubles[0], b.doubles[0], c.doubles[0]], [200, 429, 400]);
    assert.ok(a.doubles[2] > 0, "the 200's input tokens were counted");
    assert.equal(b.doubles[2], a.doubles[2], "the same body counts the same tokens");
  });

  test("no prompt text and no key is written, even pasted into the model name or the path; a stranger's long model name is cut", async () => {
    const from = w.points().length;
    upstream.script((rec, res) => reply(res, 200, completion("hello")));
    await post(w, chat);
    await post(w, { ...chat, model: `${KEY}` });
    await post(w, { ...chat, model: "m".repeat(100_000) });
    await fetch(`${w.url}/v1/${KEY}/models`, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.arrayBuffer());
    const points = await pointsSince(w, from, 4);
    assert.equal(points.length, 4, JSON.stringify(points).slice(0, 500));
    const all = JSON.stringify(points);
    assert.doesNotMatch(all, new RegExp(PROMPT));
    assert.doesNotMatch(all, /analyticsSECRETkey/);
    assert.doesNotMatch(all, /hello/, "nor the upstream's answer");
    for (const p of points) assert.deepEqual(p.problems, []);
    assert.ok(points[2].blobs[1].length <= 300, `a 100,000-character model name is cut (${points[2].blobs[1].length})`);
  });

  test("a simulated answer is marked in blob6", async () => {
    const from = w.points().length;
    const res = await post(w, chat, { "x-airlock-simulate": "server_error" });
    assert.equal(res.status, 500);
    const [p] = await pointsSince(w, from, 1);
    assert.deepEqual([p.blobs[0], p.blobs[5], p.doubles[0]], ["server_error", "simulated", 500]);
  });
});

test("without the ANALYTICS binding the worker answers as usual and writes nothing", async () => {
  const w = await start({ UPSTREAM_URL: upstream.url }, { analytics: false });
  try {
    upstream.script((rec, res) => reply(res, 200, completion("hello")));
    const res = await post(w, { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).choices[0].message.content, "hello");
    await sleep(200);
    assert.equal(w.points().length, 0);
    assert.equal(w.lines().length, 1);
    assert.ok(!w.logs.some((l) => /analytics data point failed/.test(l)), w.logs.join("\n"));
  } finally {
    await w.dispose();
  }
});
