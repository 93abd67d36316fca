// The Monitor (issue 16): counting across isolates and restarts, alerts at a fake webhook, and
// the status view's access rule. Real workerd (Miniflare), the built worker, a fake upstream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { completion, errors, reply, replyError, sleep, sse, sseThenDrop, startFakeUpstream, streamChunk } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const ADMIN = "admin-token-for-tests-0123456789";
const chat = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

/** A fake webhook that records every POST body. */
async function startWebhook() {
  const posts = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    posts.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/T000/B000/secret`,
    posts,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

const send = (fetcher) => fetcher("/v1/chat/completions", {
  method: "POST",
  headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
  body: chat,
}).then(async (r) => { await r.arrayBuffer(); return r.status; });

/** The status JSON (admin token), once `ready(status)` holds, or fails after 10 s. */
async function statusWhen(w, ready, token = ADMIN) {
  let last;
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${w.url}/airlock/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    last = await res.json();
    if (ready(last)) return last;
    await sleep(100);
  }
  assert.fail(`status never got ready: ${JSON.stringify(last).slice(0, 2000)}`);
}

const total = (s, category) => (s.totals_24h.category ?? []).find((c) => c.key === category)?.count ?? 0;

let upstream;
let hook;
before(async () => {
  upstream = await startFakeUpstream();
  hook = await startWebhook();
});
after(async () => {
  await upstream.close();
  await hook.close();
});

const MONITOR = { MONITOR: { className: "Monitor", useSQLite: true } };
const monitorVars = () => ({ UPSTREAM_URL: upstream.url, MONITOR_FLUSH_MS: "20", ADMIN_TOKEN: ADMIN, ALERT_WEBHOOK_URL: hook.url });

describe("alerts", () => {
  test("a quiet baseline with one 500 fires none", async () => {
    const w = await startWorker(monitorVars(), { durableObjects: MONITOR });
    try {
      hook.posts.length = 0;
      upstream.script((rec, res) => reply(res, 200, completion()));
      for (let i = 0; i < 10; i++) assert.equal(await send((p, init) => fetch(`${w.url}${p}`, init)), 200);
      upstream.script((rec, res) => replyError(res, errors.serverError));
      assert.equal(await send((p, init) => fetch(`${w.url}${p}`, init)), 500);
      const s = await statusWhen(w, (s) => total(s, "ok") === 10 && total(s, "server_error") === 1);
      const server = s.alerts.find((a) => a.category === "server_error");
      assert.equal(server.state, "quiet");
      assert.equal(server.recent, 1);
      await sleep(300);
      assert.equal(hook.posts.length, 0, JSON.stringify(hook.posts));
      assert.ok(!w.logLines().some((l) => l.event === "alert"));
    } finally {
      await w.dispose();
    }
  });

  test("a burst of 500s and 429s fires exactly one alert per category per cooldown", async () => {
    const w = await startWorker(monitorVars(), { durableObjects: MONITOR });
    const get = (p, init) => fetch(`${w.url}${p}`, init);
    try {
      hook.posts.length = 0;
      for (let round = 0; round < 2; round++) {
        upstream.script((rec, res) => replyError(res, errors.serverError));
        for (let i = 0; i < 8; i++) assert.equal(await send(get), 500);
        upstream.script((rec, res) => replyError(res, errors.rateLimitRpm));
        for (let i = 0; i < 12; i++) assert.equal(await send(get), 429);
        await statusWhen(w, (s) => total(s, "server_error") === 8 * (round + 1) && total(s, "rate_limit") === 12 * (round + 1));
        await sleep(300);
        const cats = hook.posts.map((p) => p.body.category).sort();
        assert.deepEqual(cats, ["rate_limit", "server_error"], `round ${round}: ${JSON.stringify(cats)}`);
      }
      const s = await statusWhen(w, () => true);
      for (const c of ["server_error", "rate_limit"]) {
        assert.equal(s.alerts.find((a) => a.category === c).state, "cooling", c);
      }
      const server = hook.posts.find((p) => p.body.category === "server_error");
      assert.equal(server.method, "POST");
      assert.match(server.headers["content-type"], /application\/json/);
      assert.match(server.body.text, /^Airlock alert: server_error — \d+ in the last 5 min/);
      assert.ok(server.body.count >= 5, JSON.stringify(server.body));
      assert.equal(server.body.window_minutes, 5);
      assert.equal(server.body.top_models[0].model, "gpt-4o-mini");
      assert.match(server.body.example_request_id, /^req_airlock_[0-9a-f]{24}$/);
      assert.match(server.body.first_fix, /Retry/);
      const rate = hook.posts.find((p) => p.body.category === "rate_limit");
      assert.ok(rate.body.count >= 10);
      // Logged, without the webhook URL (a Slack webhook URL is a secret).
      const logged = w.logLines().filter((l) => l.event === "alert");
      assert.deepEqual(logged.map((l) => l.category).sort(), ["rate_limit", "server_error"]);
      assert.ok(logged.every((l) => l.webhook === "sent 200"), JSON.stringify(logged));
      assert.ok(!w.logs.some((l) => l.includes("/hooks/T000")), "webhook URL never logged");
    } finally {
      await w.dispose();
    }
  });
});

describe("counting", () => {
  test("two worker instances report into one Monitor", async () => {
    const w = await startWorker(monitorVars(), { durableObjects: MONITOR, instances: 2 });
    try {
      upstream.script((rec, res) => reply(res, 200, completion()));
      for (let i = 0; i < 3; i++) assert.equal(await send((p, init) => w.fetchAt(0, p, init)), 200);
      for (let i = 0; i < 4; i++) assert.equal(await send((p, init) => w.fetchAt(1, p, init)), 200);
      // The status view flushes only its own isolate; the second one's counts arrive by its
      // own flush (MONITOR_FLUSH_MS).
      const s = await statusWhen(w, (s) => total(s, "ok") >= 7);
      assert.equal(total(s, "ok"), 7);
      assert.equal(s.hour.categories.ok.reduce((a, b) => a + b, 0), 7);
      assert.equal(s.hour.categories.ok.length, 60);
      assert.equal(s.day.categories.ok.length, 24);
      assert.equal(s.totals_24h.model.find((m) => m.key === "gpt-4o-mini").count, 7);
      assert.equal(s.totals_24h.status.find((m) => m.key === "200").count, 7);
    } finally {
      await w.dispose();
    }
  });

  test("the upstream's statuses and Airlock's own are counted apart", async () => {
    const w = await startWorker(monitorVars(), { durableObjects: MONITOR });
    const get = (p, init) => fetch(`${w.url}${p}`, init);
    try {
      upstream.script((rec, res) => replyError(res, errors.invalidKey));
      assert.equal(await send(get), 401);
      assert.equal(await send(get), 401);
      const before = upstream.requests.length;
      // A body Airlock itself rejects (no messages): its 400 never reached the upstream.
      const rejected = await get("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
        body: JSON.stringify({ model: "gpt-4o-mini" }),
      });
      await rejected.arrayBuffer();
      assert.equal(rejected.status, 400);
      assert.equal(upstream.requests.length, before);
      const byKey = (s, dim, key) => (s.totals_24h[dim] ?? []).find((c) => c.key === key)?.count ?? 0;
      const s = await statusWhen(w, (s) => byKey(s, "status", "401") === 2 && byKey(s, "status", "400") === 1);
      assert.equal(byKey(s, "upstream_status", "401"), 2);
      assert.equal(byKey(s, "airlock_status", "401"), 0);
      assert.equal(byKey(s, "airlock_status", "400"), 1);
      assert.equal(byKey(s, "upstream_status", "400"), 0);
    } finally {
      await w.dispose();
    }
  });

  test("counts survive the Monitor restarting", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "airlock-monitor-"));
    try {
      let w = await startWorker(monitorVars(), { durableObjects: MONITOR, persist: dir });
      upstream.script((rec, res) => replyError(res, errors.modelNotFound));
      for (let i = 0; i < 5; i++) assert.equal(await send((p, init) => fetch(`${w.url}${p}`, init)), 404);
      await statusWhen(w, (s) => total(s, "not_found") === 5);
      await w.dispose();
      w = await startWorker(monitorVars(), { durableObjects: MONITOR, persist: dir });
      try {
        const s = await statusWhen(w, () => true);
        assert.equal(total(s, "not_found"), 5);
        assert.equal(s.hour.categories.not_found.reduce((a, b) => a + b, 0), 5);
      } finally {
        await w.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Stream outcomes (issue 16): a stream that fails after its 200 leaves `ok` for its failure's
// category, so a burst of cut streams fires the stream_error alert.
describe("stream outcomes", () => {
  const streamChat = JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] });
  const stream = (get) => get("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: streamChat,
  }).then(async (r) => ({ status: r.status, text: await r.text() }));
  const byKey = (s, dim, key) => (s.totals_24h[dim] ?? []).find((c) => c.key === key)?.count ?? 0;
  const chunk = (i) => `data: ${JSON.stringify(streamChunk(`part ${i} `, i))}\n\n`;

  test("cut streams are counted as stream_error, not ok, and a burst fires the stream_error alert once", async () => {
    const w = await startWorker(monitorVars(), { durableObjects: MONITOR });
    const get = (p, init) => fetch(`${w.url}${p}`, init);
    try {
      hook.posts.length = 0;
      upstream.script((rec, res) => sse(res, [streamChunk("Hello", 0), streamChunk(" there", 1)], 5));
      for (let i = 0; i < 2; i++) {
        const r = await stream(get);
        assert.equal(r.status, 200);
        assert.match(r.text, /data: \[DONE\]/);
      }
      upstream.script((rec, res) => sseThenDrop(res, [chunk(0), chunk(1)], 10));
      for (let i = 0; i < 6; i++) {
        const r = await stream(get);
        assert.equal(r.status, 200, "the cut came after the 200");
        assert.match(r.text, /stream_interrupted/);
      }
      const s = await statusWhen(w, (s) => byKey(s, "stream", "cut") === 6 && byKey(s, "stream", "completed") === 2);
      assert.equal(total(s, "stream_error"), 6);
      assert.equal(total(s, "ok"), 2, "the failed streams left ok");
      assert.equal(byKey(s, "status", "200"), 8, "the client got 8 responses of 200");
      assert.equal(byKey(s, "model", "gpt-4o-mini"), 8, "8 requests");
      assert.equal(s.hour.categories.stream_error.reduce((a, b) => a + b, 0), 6);
      assert.equal(s.hour.categories.ok.reduce((a, b) => a + b, 0), 2);
      await sleep(300);
      const fired = hook.posts.map((p) => p.body.category);
      assert.deepEqual(fired, ["stream_error"], JSON.stringify(fired));
      const alert = hook.posts[0].body;
      assert.ok(alert.count >= 5, JSON.stringify(alert));
      assert.match(alert.example_request_id, /^req_airlock_[0-9a-f]{24}$/);
      assert.equal(alert.top_models[0].model, "gpt-4o-mini");
      // A second burst within the cooldown: no second alert.
      for (let i = 0; i < 6; i++) assert.equal((await stream(get)).status, 200);
      await statusWhen(w, (s) => byKey(s, "stream", "cut") === 12);
      await sleep(300);
      assert.deepEqual(hook.posts.map((p) => p.body.category), ["stream_error"]);
      assert.equal((await statusWhen(w, () => true)).alerts.find((a) => a.category === "stream_error").state, "cooling");
    } finally {
      await w.dispose();
    }
  });

  test("an error event inside a stream is counted as the cause it names", async () => {
    const w = await startWorker(monitorVars(), { durableObjects: MONITOR });
    const get = (p, init) => fetch(`${w.url}${p}`, init);
    try {
      const failure = { error: errors.serverError.body.error };
      upstream.script(async (rec, res) => {
        res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_stream_error" });
        res.write(chunk(0));
        await sleep(5);
        res.end(`data: ${JSON.stringify(failure)}\n\n`);
      });
      for (let i = 0; i < 2; i++) assert.equal((await stream(get)).status, 200);
      const s = await statusWhen(w, (s) => byKey(s, "stream", "failed") === 2);
      assert.equal(total(s, "server_error"), 2);
      assert.equal(total(s, "stream_error"), 0);
      assert.equal(total(s, "ok"), 0);
    } finally {
      await w.dispose();
    }
  });
});

// Simulate mode's answers (issue 16): counted apart, in the `simulated` dimension, never in the
// categories the alerts judge.
describe("simulated answers", () => {
  test("are counted apart and never fire an alert", async () => {
    const w = await startWorker({ ...monitorVars(), SIMULATE: "on" }, { durableObjects: MONITOR });
    const get = (p, init) => fetch(`${w.url}${p}`, init);
    const simulated = (name) => get("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-test", "x-airlock-simulate": name },
      body: chat,
    }).then(async (r) => { await r.arrayBuffer(); return r.status; });
    try {
      hook.posts.length = 0;
      upstream.script((rec, res) => reply(res, 200, completion()));
      // Enough for the rate_limit and server_error rules, were they counted (min 10 and 5).
      for (let i = 0; i < 12; i++) assert.equal(await simulated("rate_limit"), 429);
      for (let i = 0; i < 8; i++) assert.equal(await simulated("server_error"), 500);
      // `after=1` with no SDK attempt header fails every time; with attempt 1 it passes through
      // to the upstream: a real answer, counted as one.
      const passed = await get("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-test", "x-airlock-simulate": "rate_limit;after=1", "x-stainless-retry-count": "1" },
        body: chat,
      });
      await passed.arrayBuffer();
      assert.equal(passed.status, 200);
      const sim = (s, key) => (s.totals_24h.simulated ?? []).find((c) => c.key === key)?.count ?? 0;
      const s = await statusWhen(w, (s) => sim(s, "rate_limit") === 12 && sim(s, "server_error") === 8 && total(s, "ok") === 1);
      assert.equal(total(s, "rate_limit"), 0);
      assert.equal(total(s, "server_error"), 0);
      assert.equal((s.totals_24h.status ?? []).find((c) => c.key === "429"), undefined, "no 429 status counted");
      assert.equal(s.alerts.find((a) => a.category === "rate_limit").state, "quiet");
      await sleep(300);
      assert.deepEqual(hook.posts, [], "no alert");
      assert.ok(!w.logLines().some((l) => l.event === "alert"));
      const lines = w.logLines().filter((l) => l.path === "/v1/chat/completions" && l.status === 429);
      assert.equal(lines.length, 12);
      assert.ok(lines.every((l) => l.simulated === true), "the log line says it was simulated");
    } finally {
      await w.dispose();
    }
  });
});

describe("GET /airlock/status", () => {
  let w;
  before(async () => {
    w = await startWorker(
      { ...monitorVars(), OPENAI_API_KEY: "sk-real-operator-key-000000000000", AIRLOCK_GATEWAY_TOKENS: "gw-token-1" },
      { durableObjects: MONITOR },
    );
    upstream.script((rec, res) => reply(res, 200, completion()));
    await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer gw-token-1" },
      body: chat,
    }).then((r) => r.arrayBuffer());
  });
  after(async () => {
    await w.dispose();
  });

  test("without a token, or with a wrong one, is 401 and leaks nothing", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: "Bearer " }, { authorization: `Basic ${ADMIN}` }]) {
      const res = await fetch(`${w.url}/airlock/status`, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      const text = await res.text();
      const body = JSON.parse(text);
      assert.deepEqual(Object.keys(body), ["error"]);
      assert.equal(body.error.type, "invalid_request_error");
      for (const secret of ["gpt-4o-mini", "ok", "alerts", "hour", "gw-token-1", ADMIN, "sk-real", "/hooks/"]) {
        assert.ok(!text.includes(`"${secret}"`) && !text.includes(secret === "ok" ? "\"ok\"" : secret), `${secret} in ${text}`);
      }
      assert.equal(res.headers.get("x-airlock-category"), "authentication");
    }
  });

  test("a gateway token or the admin token opens it", async () => {
    for (const token of ["gw-token-1", ADMIN]) {
      const s = await statusWhen(w, (s) => total(s, "ok") === 1, token);
      assert.ok(Array.isArray(s.alerts) && s.alerts.length === 17);
      assert.ok(s.alerts.every((a) => a.meaning && a.first_fix));
      assert.ok(!JSON.stringify(s).includes("/hooks/"), "the webhook URL is not shown");
    }
  });
});
