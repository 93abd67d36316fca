// End-to-end: pacing (issue 15). The built worker in workerd (Miniflare) with the pacer Durable
// Object, in front of a fake upstream that enforces RPM and TPM the way OpenAI does
// (tests/e2e/limiter.mjs: real x-ratelimit-* headers, real 429 bodies), driven by concurrent raw
// clients and both official SDKs. Assertions are on counts and headers, never on wall time.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";

import { sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { python, startWorker, startWorkers } from "./harness.mjs";
import { openaiLimiter } from "./limiter.mjs";

let upstream;
before(async () => {
  upstream = await startFakeUpstream();
});
after(async () => {
  await upstream.close();
});

const vars = (extra = {}) => ({ UPSTREAM_URL: upstream.url, PACING: "on", ...extra });
const chat = (content = "Say hello", extra = {}) => ({
  model: "gpt-4o-mini",
  max_tokens: 10,
  messages: [{ role: "user", content }],
  ...extra,
});
let keys = 0;
/** A fresh key per test: a fresh lane. */
const newKey = () => `sk-pace-test-${++keys}-${Date.now()}`;

async function post(base, key, body = chat(), headers = {}, signal) {
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, headers: r.headers, json, queued: Number(r.headers.get("x-airlock-queued-ms") ?? 0) };
}

const upstream429s = (limiter) => limiter.stats.limited.requests + limiter.stats.limited.tokens;

describe("pacing on", () => {
  // Was flaky (about 1 run in 4 on a quiet machine): the four requests that went at once were
  // answered within a millisecond and reported in any order, and a report saying "3 left" that
  // arrived after the one saying "0 left" lifted the pacer's level; two queued slots came early
  // and the upstream refused them. Fixed in the pacer (pace::Lane::observe counts requests
  // answered after the reporting one was sent as owed; host test
  // answers_reported_out_of_order_never_lift_the_level).
  test("two worker instances share one lane's budget: a burst from Node SDK, Python SDK and raw clients gets no 429", async () => {
    // 120 RPM (2 per second), 4 left: the burst of 24 must be spread over about 10 s.
    const limiter = openaiLimiter({ rpm: 120, tpm: 1_000_000, initial: { requests: 5 } });
    upstream.script(limiter.handler);
    const workers = await startWorkers([vars(), vars()]);
    const [a, b] = workers.urls;
    const key = newKey();
    try {
      // The lane learns the limits from one answer, through worker A only.
      assert.equal((await post(a, key)).status, 200);
      // The burst goes mostly through worker B, whose isolate has never seen a header.
      const sdkB = new OpenAI({ baseURL: `${b}/v1`, apiKey: key, maxRetries: 2 });
      const jobs = [];
      for (let i = 0; i < 10; i++) jobs.push(sdkB.chat.completions.create(chat(`node ${i}`)).then(() => ({ ok: true })));
      for (let i = 0; i < 6; i++) jobs.push(post(b, key, chat(`raw b ${i}`)).then((r) => ({ ok: r.status === 200, queued: r.queued })));
      for (let i = 0; i < 4; i++) jobs.push(post(a, key, chat(`raw a ${i}`)).then((r) => ({ ok: r.status === 200, queued: r.queued })));
      jobs.push(
        python({ base_url: `${b}/v1`, api_key: key, call: "chat_many", count: 4, params: chat("python") }).then((out) => ({
          ok: out.ok && out.results.every((r) => r.ok && r.retries === 0),
          py: out,
        })),
      );
      const results = await Promise.all(jobs);
      const t0 = limiter.stats.arrivals[0];
      const seen = () => `upstream arrivals (ms after the first): ${limiter.stats.arrivals.map((t) => Math.round(t - t0)).join(" ")}`;
      assert.deepEqual(results.filter((r) => !r.ok), [], "every client succeeded without retrying");
      assert.equal(upstream429s(limiter), 0, `the upstream never had to refuse; ${seen()}`);
      assert.equal(limiter.stats.ok, 25);
      assert.ok(results.some((r) => r.queued > 0), "requests waited in the pacer's queue");
    } finally {
      await workers.dispose();
    }
  });

  test("queue bounds: past PACE_MAX_WAIT_MS, and past PACE_MAX_QUEUE, an OpenAI-shaped 429 at once, never sent", async () => {
    const limiter = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 1 } });
    upstream.script(limiter.handler);
    const w = await startWorker(vars({ PACE_MAX_WAIT_MS: "2500", PACE_MAX_QUEUE: "1000" }), { pacer: true });
    const key = newKey();
    try {
      assert.equal((await post(w.url, key)).status, 200); // learns: 0 left, 1 per second
      const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => post(w.url, key, chat(`burst ${i}`))));
      const refused = burst.filter((r) => r.status === 429);
      const served = burst.filter((r) => r.status === 200);
      assert.equal(served.length, 2, JSON.stringify(burst.map((r) => r.status)));
      assert.equal(refused.length, 4);
      for (const r of refused) {
        assert.equal(r.json.error.code, "rate_limit_exceeded");
        assert.equal(r.json.error.type, "requests");
        assert.match(r.json.error.message, /Airlock queued this request/);
        assert.match(r.json.error.message, /PACE_MAX_WAIT_MS/);
        assert.equal(r.headers.get("x-should-retry"), "true");
        assert.ok(Number(r.headers.get("retry-after-ms")) > 0);
        assert.equal(r.headers.get("x-airlock-category"), "rate_limit");
      }
      assert.equal(upstream429s(limiter), 0);
      assert.equal(limiter.stats.ok, 3, "refused requests never reached the upstream");
    } finally {
      await w.dispose();
    }
    const w2 = await startWorker(vars({ PACE_MAX_QUEUE: "1" }), { pacer: true });
    const key2 = newKey();
    try {
      upstream.script(openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 1 } }).handler);
      assert.equal((await post(w2.url, key2)).status, 200);
      const burst = await Promise.all(Array.from({ length: 3 }, (_, i) => post(w2.url, key2, chat(`q ${i}`))));
      const full = burst.filter((r) => r.status === 429);
      assert.equal(full.length, 2, JSON.stringify(burst.map((r) => r.status)));
      assert.match(full[0].json.error.message, /queue for this key and model is full/);
    } finally {
      await w2.dispose();
    }
  });

  test("the official SDKs wait out a refusal and get through: retry-after-ms is honoured", async () => {
    const limiter = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 1 } });
    upstream.script(limiter.handler);
    const w = await startWorker(vars({ PACE_MAX_WAIT_MS: "1500" }), { pacer: true });
    const key = newKey();
    try {
      assert.equal((await post(w.url, key)).status, 200);
      const sdk = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: key, maxRetries: 2 });
      const done = await Promise.all(Array.from({ length: 3 }, (_, i) => sdk.chat.completions.create(chat(`sdk ${i}`))));
      assert.equal(done.length, 3);
      assert.equal(upstream429s(limiter), 0);
    } finally {
      await w.dispose();
    }
  });

  // Was flaky (about 1 run in 4 on a quiet machine): the twenty interactive requests all asked
  // the pacer before the first lease came back, and each got a lease of its own that replaced the
  // last in the isolate, stranding about 10 of the 30 until they expired; the last requests then
  // queued. Fixed in the pacer (one lease out per isolate at a time; host test
  // one_isolate_holds_one_lease_at_a_time).
  test("background requests use only the capacity above the reserve; interactive ones never wait for them", async () => {
    // 60 RPM, 40 left; reserve 50% = 30: background may take at most 9 after the warm-up,
    // interactive requests all the rest.
    const limiter = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 40 } });
    upstream.script(limiter.handler);
    const w = await startWorker(vars({ PACE_RESERVE_PERCENT: "50", PACE_MAX_WAIT_MS: "1000" }), { pacer: true });
    const key = newKey();
    try {
      assert.equal((await post(w.url, key)).status, 200);
      const background = await Promise.all(
        Array.from({ length: 12 }, (_, i) => post(w.url, key, chat(`bg ${i}`), { "x-airlock-priority": "background" })),
      );
      // At most the 9 above the reserve (fewer when the warm-up's lease holds some of them).
      const bgStraight = background.filter((r) => r.status === 200 && r.queued === 0).length;
      assert.ok(bgStraight <= 9 && bgStraight >= 1, `background straight through: ${bgStraight}`);
      assert.ok(background.some((r) => r.status === 429 || r.queued > 0), "background met the reserve");
      const refusedBg = background.find((r) => r.status === 429);
      if (refusedBg) assert.match(refusedBg.json.error.message, /PACE_RESERVE_PERCENT/);
      const interactive = await Promise.all(Array.from({ length: 20 }, (_, i) => post(w.url, key, chat(`fg ${i}`))));
      assert.deepEqual(
        interactive.map((r) => r.status === 200 && r.queued === 0),
        interactive.map(() => true),
        `the reserve is there for interactive requests: ${JSON.stringify(interactive.map((r) => [r.status, r.queued]))}, background ${JSON.stringify(background.map((r) => [r.status, r.queued]))}`,
      );
      assert.equal(upstream429s(limiter), 0);
    } finally {
      await w.dispose();
    }
  });

  // Skipped here, not passing: local workerd (Miniflare, and its direct sockets too) never aborts
  // `request.signal` when the client disconnects *before the worker has answered*, even with
  // `enable_request_signal`, and nothing else tells the handler either: tests/e2e/disconnect-probe.mjs
  // (a ten-line JavaScript worker) shows the waiting handler run to its end with the signal never
  // aborted, while a handler that has already returned a streamed response does get the signal's
  // abort event (not its stream's cancel()). A queued request has no response yet (200 or 429 is
  // not known), so neither way is usable; the worker cannot see the client leave and sends the
  // queued request at its slot. Re-run the probe when workerd is bumped. The lapse of an
  // unclaimed slot (the pacer's side) is host-tested in the rules crate
  // (`claimed_slots_go_and_lapsed_slots_are_given_back`).
  const disconnectSkip =
    "local workerd does not abort request.signal on a client disconnect; the worker side is unverified here";
  test("a client that disconnects while queued leaves the queue: its request is never sent", { skip: disconnectSkip }, async () => {
    const limiter = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 1 } });
    upstream.script(limiter.handler);
    const w = await startWorker(vars(), { pacer: true });
    const key = newKey();
    try {
      assert.equal((await post(w.url, key)).status, 200);
      const bodies = () => upstream.requests.map((r) => r.body.toString());
      const queuedFirst = post(w.url, key, chat("stays"));
      await sleep(50);
      const gone = new AbortController();
      const leaving = post(w.url, key, chat("walks away"), {}, gone.signal).catch((e) => e.name);
      await sleep(300);
      gone.abort();
      assert.equal(await leaving, "AbortError");
      assert.equal((await queuedFirst).status, 200);
      // Its slot (about 2 s after the warm-up) passes; the request must never reach the upstream.
      await sleep(3_500);
      assert.ok(!bodies().some((b) => b.includes("walks away")), "the abandoned request was sent");
      assert.equal((await post(w.url, key, chat("after"))).status, 200);
      assert.equal(upstream429s(limiter), 0);
    } finally {
      await w.dispose();
    }
  });

  test("restarted pacer (storage kept) still knows the limits; a cold one learns again from the first answer", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "airlock-pacer-"));
    const key = newKey();
    try {
      const limiter = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 1 } });
      upstream.script(limiter.handler);
      const first = await startWorker(vars(), { pacer: true, persist: dir });
      assert.equal((await post(first.url, key)).status, 200); // learns: 0 left
      await first.dispose();
      // Restart, same storage: the very first burst is already paced (a pacer that had lost what
      // it learned would send all 8 at once; the upstream has refilled only what the restart took).
      const again = await startWorker(vars(), { pacer: true, persist: dir });
      try {
        const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => post(again.url, key, chat(`r ${i}`))));
        assert.deepEqual(burst.map((r) => r.status), burst.map(() => 200));
        assert.ok(burst.some((r) => r.queued > 0), "paced from what was stored");
        assert.equal(upstream429s(limiter), 0);
      } finally {
        await again.dispose();
      }
      // Cold (no storage): admits until it has seen headers; the upstream's 429 teaches it.
      const cold = await startWorker(vars(), { pacer: true, persist: mkdtempSync(path.join(tmpdir(), "airlock-pacer-cold-")) });
      try {
        const limiter2 = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 0 } });
        upstream.script(limiter2.handler);
        const r1 = await post(cold.url, key);
        assert.equal(r1.status, 429, "nothing learned yet: sent, and the upstream refused");
        assert.equal(r1.json.error.type, "requests");
        await sleep(100); // the report goes through waitUntil
        const r2 = await post(cold.url, key);
        assert.equal(r2.status, 200);
        assert.ok(r2.queued > 0, "the 429 taught the pacer to wait");
        assert.equal(upstream429s(limiter2), 1);
      } finally {
        await cold.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("hostile input: a huge or non-ASCII priority header is ignored, a 10 KB model name is never a 500", async () => {
    const limiter = openaiLimiter({ rpm: 6000, tpm: 10_000_000 });
    upstream.script(limiter.handler);
    const w = await startWorker(vars(), { pacer: true });
    const key = newKey();
    try {
      const huge = await post(w.url, key, chat(), { "x-airlock-priority": "background".repeat(1000) });
      assert.equal(huge.status, 200);
      const raw = await new Promise((resolve, reject) => {
        const u = new URL(w.url);
        const body = JSON.stringify(chat());
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            method: "POST",
            path: "/v1/chat/completions",
            headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-airlock-priority": "b\u00e4ckground" },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      assert.equal(raw, 200);
      const long = await post(w.url, key, chat("hi", { model: "m".repeat(10 * 1024) }));
      assert.notEqual(long.status, 500);
      assert.ok(long.status === 200 || long.json?.error?.message, JSON.stringify(long.json)?.slice(0, 200));
      assert.ok(!w.logs.some((l) => l.includes(key)), "the key never reaches the log");
    } finally {
      await w.dispose();
    }
  });
});

describe("pacing off (the default)", () => {
  test("the pacer is never asked: a burst reaches the upstream as sent", async () => {
    const limiter = openaiLimiter({ rpm: 60, tpm: 1_000_000, initial: { requests: 2 } });
    upstream.script(limiter.handler);
    const w = await startWorker({ UPSTREAM_URL: upstream.url }, { pacer: true });
    const key = newKey();
    try {
      const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => post(w.url, key, chat(`off ${i}`))));
      assert.equal(burst.filter((r) => r.status === 200).length, 2);
      assert.equal(burst.filter((r) => r.status === 429).length, 3);
      assert.ok(burst.every((r) => r.queued === 0 && !r.headers.get("x-airlock-paced")));
    } finally {
      await w.dispose();
    }
  });
});
