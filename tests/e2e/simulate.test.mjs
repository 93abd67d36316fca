// End-to-end: simulate mode (issue 16, part 4). For every name of the catalogue, the official
// Python and Node SDKs raise the exception class OpenAI's real answer makes them raise, and retry
// it as many times as the status and the x-should-retry / retry-after-ms headers tell them
// (attempts counted at the worker, from its `simulate` log lines); `after=k` lets the SDKs' own
// retries reach the (fake) upstream; streams fail as the SDKs see a failing stream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

import { completion, reply, sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const chatBody = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }] };

// What each name must make the SDKs do with their default 2 retries, written down from the
// issue's table and the SDKs' documented behaviour (not read from the catalogue): the class
// each SDK raises, and how many attempts reach the worker. 4xx are not retried, and Airlock adds
// `x-should-retry: false` to quota, so that 429 is tried once; 408/409/429/5xx and timeouts are
// retried twice.
const EXPECTED = {
  rate_limit: { py: "RateLimitError", node: "RateLimitError", status: 429, attempts: 3 },
  rate_limit_tokens: { py: "RateLimitError", node: "RateLimitError", status: 429, attempts: 3 },
  quota: { py: "RateLimitError", node: "RateLimitError", status: 429, attempts: 1, code: "insufficient_quota" },
  server_error: { py: "InternalServerError", node: "InternalServerError", status: 500, attempts: 3 },
  bad_gateway: { py: "InternalServerError", node: "InternalServerError", status: 502, attempts: 3 },
  overloaded: { py: "InternalServerError", node: "InternalServerError", status: 503, attempts: 3 },
  timeout: { py: "APITimeoutError", node: "APIConnectionTimeoutError", status: undefined, attempts: 3 },
  // A connection error, retried as one: the SDKs' HTTP parsers refuse the answer's header block
  // (see the README and tests/e2e/reset-probe.mjs), so no status reaches them.
  connection: { py: "APIConnectionError", node: "APIConnectionError", status: undefined, attempts: 3 },
  context_length: { py: "BadRequestError", node: "BadRequestError", status: 400, attempts: 1, code: "context_length_exceeded" },
  content_policy: { py: "BadRequestError", node: "BadRequestError", status: 400, attempts: 1, code: "invalid_prompt" },
  invalid_request: { py: "BadRequestError", node: "BadRequestError", status: 400, attempts: 1, code: "decimal_above_max_value" },
  authentication: { py: "AuthenticationError", node: "AuthenticationError", status: 401, attempts: 1, code: "invalid_api_key" },
  permission: { py: "PermissionDeniedError", node: "PermissionDeniedError", status: 403, attempts: 1 },
  not_found: { py: "NotFoundError", node: "NotFoundError", status: 404, attempts: 1, code: "model_not_found" },
  conflict: { py: "ConflictError", node: "ConflictError", status: 409, attempts: 3 },
  unprocessable: { py: "UnprocessableEntityError", node: "UnprocessableEntityError", status: 422, attempts: 1 },
};
// Parameters that keep the run short: a rate limit's wait, a stall longer than the clients' timeout.
const PARAMS = { rate_limit: ";ms=50", rate_limit_tokens: ";ms=50", timeout: ";ms=2000" };
/** The clients' timeout: short only where a stall is simulated, else long enough for a loaded machine. */
const timeoutS = (value) => (value.startsWith("timeout") ? 0.5 : 15);
const STREAM_NAMES = ["stream_error", "stream_failed", "stream_cut"];

/** A long-lived Python process running tests/e2e/py_simulate.py, one job at a time. */
function startPython() {
  const py = process.env.AIRLOCK_PYTHON ?? path.join(process.env.HOME ?? "", ".cache", "airlock", "venv", "bin", "python");
  const child = spawn(py, [path.join(here, "py_simulate.py")], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on("line", (l) => waiting.shift()?.(JSON.parse(l)));
  return {
    run: (job) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(JSON.stringify(job) + "\n");
      }),
    close: () => child.stdin.end(),
  };
}

let upstream;
let w;
let gw;
let off;
let py;
before(async () => {
  upstream = await startFakeUpstream();
  w = await startWorker({ UPSTREAM_URL: upstream.url, SIMULATE: "on" });
  gw = await startWorker({
    UPSTREAM_URL: upstream.url,
    SIMULATE: "on",
    OPENAI_API_KEY: "sk-operator-real-key-0000",
    AIRLOCK_GATEWAY_TOKENS: "gw-token-one",
  });
  off = await startWorker({ UPSTREAM_URL: upstream.url });
  py = startPython();
});
after(async () => {
  py.close();
  await Promise.all([w.dispose(), gw.dispose(), off.dispose()]);
  await upstream.close();
});

/** The worker's `simulate` lines written from index `from` on, once no new one came for 300 ms. */
async function simulateLinesSince(worker, from, atLeast) {
  let lines = [];
  let last = -1;
  for (let i = 0; i < 100; i++) {
    lines = worker.logLines().slice(from).filter((l) => l.event === "simulate");
    if (lines.length >= atLeast && lines.length === last) break;
    last = lines.length >= atLeast ? lines.length : -1;
    await sleep(lines.length >= atLeast ? 300 : 50);
  }
  return lines;
}

/** Runs `call` with the SDK; returns its outcome and the attempts the worker saw. */
async function counted(worker, call, expectAttempts) {
  const from = worker.logLines().length;
  const outcome = await call();
  const lines = await simulateLinesSince(worker, from, expectAttempts);
  return { outcome, lines };
}

const nodeClient = (worker, opts = {}) =>
  new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: "sk-client-key-0000", maxRetries: 2, ...opts });

/** What the Node SDK raised (class name, status, code) or returned. */
async function nodeOutcome(promise) {
  const started = Date.now();
  try {
    const resp = await promise;
    return { ok: true, content: resp.choices?.[0]?.message?.content, elapsed_ms: Date.now() - started };
  } catch (e) {
    return { ok: false, error: e.constructor.name, status: e.status, code: e.code, elapsed_ms: Date.now() - started };
  }
}

const pyJob = (worker, value, extra = {}) => ({
  base_url: `${worker.url}/v1`,
  api_key: "sk-client-key-0000",
  call: "chat",
  headers: { "x-airlock-simulate": value },
  timeout: timeoutS(value),
  ...extra,
});

describe("every simulate name, both SDKs", () => {
  test("the catalogue printed by `airlock simulate --list --json` is the set tested here", () => {
    const out = spawnSync("cargo", ["run", "-q", "-p", "airlock-cli", "--", "simulate", "--list", "--json"], {
      cwd: root,
      encoding: "utf8",
    });
    assert.equal(out.status, 0, out.stderr);
    const listed = JSON.parse(out.stdout).failures;
    assert.deepEqual(
      listed.map((f) => f.name).sort(),
      [...Object.keys(EXPECTED), ...STREAM_NAMES].sort(),
    );
    for (const f of listed.filter((f) => EXPECTED[f.name])) {
      assert.equal(f.python, `openai.${EXPECTED[f.name].py}`, f.name);
      assert.equal(f.node, EXPECTED[f.name].node === "APIConnectionTimeoutError" ? "APIConnectionTimeoutError" : EXPECTED[f.name].node, f.name);
      assert.equal(f.sdk_retries, EXPECTED[f.name].attempts > 1, f.name);
    }
  });

  for (const [name, want] of Object.entries(EXPECTED)) {
    const value = name + (PARAMS[name] ?? "");
    test(`${value}: Python raises ${want.py}, Node raises ${want.node}, ${want.attempts} attempt(s) each`, async () => {
      upstream.script((rec, res) => reply(res, 200, completion("from upstream")));
      const p = await counted(w, () => py.run(pyJob(w, value)), want.attempts);
      assert.equal(p.outcome.ok, false, JSON.stringify(p.outcome));
      assert.equal(p.outcome.error, want.py, JSON.stringify(p.outcome));
      if (want.status) assert.equal(p.outcome.status, want.status);
      if (want.code) assert.equal(p.outcome.code, want.code);
      assert.equal(p.lines.length, want.attempts, `python attempts: ${JSON.stringify(p.lines)}`);
      assert.deepEqual(p.lines.map((l) => l.attempt), [...Array(want.attempts).keys()]);
      assert.ok(p.lines.every((l) => l.action === "fail" && l.name === name));

      const n = await counted(
        w,
        () =>
          nodeOutcome(
            nodeClient(w, { timeout: timeoutS(value) * 1000 }).chat.completions.create(chatBody, {
              headers: { "x-airlock-simulate": value },
            }),
          ),
        want.attempts,
      );
      assert.equal(n.outcome.ok, false, JSON.stringify(n.outcome));
      assert.equal(n.outcome.error, want.node, JSON.stringify(n.outcome));
      if (want.status) assert.equal(n.outcome.status, want.status);
      if (want.code) assert.equal(n.outcome.code, want.code);
      assert.equal(n.lines.length, want.attempts, `node attempts: ${JSON.stringify(n.lines)}`);
      assert.equal(upstream.requests.length, 0, "a simulated failure never reaches the upstream");
    });
  }
});

describe("what the answers carry", () => {
  test("rate_limit: OpenAI's body byte for byte, x-ratelimit-* and retry-after-ms, Airlock's labels", async () => {
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-x", "x-airlock-simulate": "rate_limit;ms=1446" },
      body: JSON.stringify(chatBody),
    });
    assert.equal(res.status, 429);
    const h = Object.fromEntries(res.headers);
    assert.equal(h["retry-after-ms"], "1446");
    assert.equal(h["retry-after"], "2");
    assert.equal(h["x-ratelimit-remaining-requests"], "0");
    assert.equal(h["x-ratelimit-reset-requests"], "1.446s");
    assert.equal(h["x-ratelimit-limit-tokens"], "200000");
    assert.equal(h["x-airlock-category"], "rate_limit");
    assert.equal(h["x-should-retry"], undefined);
    assert.match(h["x-request-id"], /^req_/);
    assert.equal(
      await res.text(),
      '{\n    "error": {\n        "message": "Rate limit reached for gpt-4o-mini in organization org-airlocksimulate on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1.446s. Visit https://platform.openai.com/account/rate-limits to learn more.",\n        "type": "requests",\n        "param": null,\n        "code": "rate_limit_exceeded"\n    }\n}\n',
    );
  });

  test("quota carries x-should-retry: false (Airlock's label, as on a real one); bad_gateway is Cloudflare's 84 bytes", async () => {
    const send = (value) =>
      fetch(`${w.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-airlock-simulate": value },
        body: JSON.stringify(chatBody),
      });
    const q = await send("quota");
    assert.equal(q.headers.get("x-should-retry"), "false");
    assert.equal(q.headers.get("x-airlock-category"), "quota");
    const b = await send("bad_gateway");
    const text = await b.text();
    assert.equal(text, '{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}');
    assert.equal(Buffer.byteLength(text), 84);
  });

  test("connection: on the wire, Airlock's 502 upstream_unreachable with one header holding a vertical tab", async () => {
    // A raw HTTP/1.1 client (lenient, as curl is) reads what the SDKs' parsers refuse.
    const u = new URL(w.url);
    const body = JSON.stringify(chatBody);
    const raw = await new Promise((resolve, reject) => {
      const sock = net.connect({ host: u.hostname, port: Number(u.port) });
      let got = Buffer.alloc(0);
      sock.on("data", (d) => {
        got = Buffer.concat([got, d]);
        const text = got.toString("latin1");
        const head = text.indexOf("\r\n\r\n");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? -1);
        if (head >= 0 && length >= 0 && got.length >= head + 4 + length) {
          sock.destroy();
          resolve(text);
        }
      });
      sock.on("error", reject);
      setTimeout(() => (sock.destroy(), resolve(got.toString("latin1"))), 5000);
      sock.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n` +
          `x-airlock-simulate: connection\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    const [head, payload] = raw.split("\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 502 /);
    assert.match(head, /\r\nx-airlock-simulated-reset: connection\x0breset\r\n/i);
    assert.match(head, /\r\nx-airlock-category: connection\r\n/i);
    const error = JSON.parse(payload).error;
    assert.equal(error.code, "upstream_unreachable");
    assert.equal(error.type, "server_error");
    // Node's own fetch (undici, as the Node SDK uses) refuses it before any status.
    await assert.rejects(
      fetch(`${w.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "x-airlock-simulate": "connection" }, body }),
      (e) => e instanceof TypeError && /fetch failed/.test(e.message),
    );
  });

  test("the SDKs wait retry-after-ms between attempts (2 × 2000 ms, longer than their own backoff)", async () => {
    const p = await py.run(pyJob(w, "rate_limit;ms=2000", { max_retries: 2 }));
    assert.equal(p.error, "RateLimitError");
    assert.ok(p.elapsed_ms >= 3900, `python took ${p.elapsed_ms} ms`);
    const n = await nodeOutcome(
      nodeClient(w).chat.completions.create(chatBody, { headers: { "x-airlock-simulate": "rate_limit;ms=2000" } }),
    );
    assert.equal(n.error, "RateLimitError");
    assert.ok(n.elapsed_ms >= 3900, `node took ${n.elapsed_ms} ms`);
  });
});

describe("after=k: the SDKs' own retries succeed", () => {
  for (const [value, attempts] of [
    ["rate_limit;after=2;ms=50", 3],
    ["server_error;after=1", 2],
    ["timeout;after=2;ms=2000", 3],
    ["connection;after=2", 3],
  ]) {
    test(`${value}: fails ${attempts - 1}, then the upstream answers (Python and Node)`, async () => {
      upstream.script((rec, res) => reply(res, 200, completion("from upstream")));
      const p = await counted(w, () => py.run(pyJob(w, value)), attempts);
      assert.equal(p.outcome.ok, true, JSON.stringify(p.outcome));
      assert.equal(p.outcome.content, "from upstream");
      assert.deepEqual(p.lines.map((l) => l.action), [...Array(attempts - 1).fill("fail"), "pass"]);
      assert.equal(upstream.requests.length, 1);
      assert.equal(upstream.requests[0].headers["x-airlock-simulate"], undefined, "the header is not forwarded");
      assert.equal(upstream.requests[0].headers["x-stainless-retry-count"], String(attempts - 1));

      upstream.script((rec, res) => reply(res, 200, completion("from upstream")));
      const n = await counted(
        w,
        () =>
          nodeOutcome(
            nodeClient(w, { timeout: timeoutS(value) * 1000 }).chat.completions.create(chatBody, {
              headers: { "x-airlock-simulate": value },
            }),
          ),
        attempts,
      );
      assert.equal(n.outcome.ok, true, JSON.stringify(n.outcome));
      assert.equal(n.outcome.content, "from upstream");
      assert.deepEqual(n.lines.map((l) => l.action), [...Array(attempts - 1).fill("fail"), "pass"]);
      assert.equal(upstream.requests.length, 1);
    });
  }

  test("after=3 is more than 2 retries: still the failure; quota;after=1 is not retried at all", async () => {
    upstream.script((rec, res) => reply(res, 200, completion("from upstream")));
    const p = await py.run(pyJob(w, "rate_limit;after=3;ms=50"));
    assert.equal(p.error, "RateLimitError");
    const q = await counted(w, () => py.run(pyJob(w, "quota;after=1")), 1);
    assert.equal(q.outcome.error, "RateLimitError");
    assert.equal(q.lines.length, 1);
    assert.equal(upstream.requests.length, 0);
  });
});

describe("streams", () => {
  const nodeStream = async (worker, kind, value) => {
    const client = nodeClient(worker, { maxRetries: 0 });
    const headers = { "x-airlock-simulate": value };
    const events = [];
    try {
      const stream =
        kind === "chat"
          ? await client.chat.completions.create({ ...chatBody, stream: true }, { headers })
          : await client.responses.create({ model: "gpt-4o-mini", input: "Say hello", stream: true }, { headers });
      for await (const e of stream) events.push(kind === "chat" ? e.object : e.type);
      return { ok: true, events };
    } catch (e) {
      return { ok: false, events, error: e.constructor.name, code: e.code };
    }
  };
  const pyStream = (kind, value) =>
    py.run(pyJob(w, value, { call: kind === "chat" ? "chat_stream" : "responses_stream", max_retries: 0, timeout: 10 }));

  test("stream_error on Chat: N chunks, then both SDKs raise APIError", async () => {
    for (const got of [await pyStream("chat", "stream_error;events=4"), await nodeStream(w, "chat", "stream_error;events=4")]) {
      assert.equal(got.ok, false, JSON.stringify(got));
      assert.equal(got.error, "APIError");
      assert.deepEqual(got.events, Array(4).fill("chat.completion.chunk"));
    }
  });

  test("stream_cut: N events, then Airlock's stream_interrupted error, raised by both SDKs on both APIs", async () => {
    for (const kind of ["chat", "responses"]) {
      for (const got of [await pyStream(kind, "stream_cut;events=3"), await nodeStream(w, kind, "stream_cut;events=3")]) {
        assert.equal(got.ok, false, `${kind} ${JSON.stringify(got)}`);
        assert.equal(got.error, "APIError");
        assert.equal(got.code, "stream_interrupted");
        assert.equal(got.events.length, 3);
      }
    }
  });

  test("Responses' own error and response.failed events: yielded by both SDKs, not raised", async () => {
    for (const [value, last] of [
      ["stream_error;events=2", "error"],
      ["stream_failed;events=3", "response.failed"],
    ]) {
      for (const got of [await pyStream("responses", value), await nodeStream(w, "responses", value)]) {
        assert.equal(got.ok, true, JSON.stringify(got));
        assert.equal(got.events.at(-1), last);
        assert.equal(got.events[0], "response.created");
      }
    }
  });

  test("stream_failed on Chat Completions and stream names off the streaming paths are 400s", async () => {
    const a = await nodeStream(w, "chat", "stream_failed");
    assert.equal(a.error, "BadRequestError");
    assert.equal(a.code, "invalid_simulate");
    const res = await fetch(`${w.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-airlock-simulate": "stream_cut" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "x" }),
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /apply to \/v1\/chat\/completions and \/v1\/responses only/);
  });
});

describe("the header's bounds and the setting", () => {
  const send = (worker, value, auth = "Bearer sk-x") =>
    fetch(`${worker.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: auth, "x-airlock-simulate": value },
      body: JSON.stringify(chatBody),
    });

  test("bad values get a clear 400 in OpenAI's shape and are never forwarded", async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    for (const [value, wording] of [
      ["nope", /unknown simulate name 'nope'; known names: rate_limit, rate_limit_tokens, quota/],
      ["rate_limit;after=101", /'after': '101'; expected a whole number from 0 to 100/],
      ["rate_limit;after=100", null],
      ["stream_cut;events=1001", /'events': '1001'; expected a whole number from 0 to 1000/],
      ["timeout;ms=300001", /'ms': '300001'; expected a whole number from 0 to 300000/],
      ["timeout;ms=-5", /'ms': '-5'/],
      ["quota;events=2", /'events' does not apply to 'quota'/],
      ["quota;colour=red", /unknown simulate parameter 'colour'/],
      ["quota;after=1;after=2", /'after' given twice/],
      // (A header's outer spaces are trimmed on the way, so the padding is `;`, which the syntax skips.)
      ["quota" + ";".repeat(196), /at most 200 are read/],
      ["quota" + ";".repeat(195), null],
    ]) {
      const res = await send(w, value);
      const body = await res.json();
      if (!wording) {
        assert.equal(res.status, 429, value); // at the bound: the simulation itself
        continue;
      }
      assert.equal(res.status, 400, value);
      assert.equal(body.error.code, "invalid_simulate");
      assert.equal(body.error.param, "x-airlock-simulate");
      assert.equal(body.error.type, "invalid_request_error");
      assert.match(body.error.message, wording, value);
      assert.equal(res.headers.get("x-should-retry"), "false");
    }
    assert.equal(upstream.requests.length, 0);
  });

  test("gateway mode: no or a wrong token gets the gateway's 401, never the simulation; a valid one gets it", async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    for (const auth of ["", "Bearer wrong-token", "Bearer sk-operator-real-key-0000"]) {
      const res = await send(gw, "server_error", auth);
      assert.equal(res.status, 401, auth);
      const text = await res.text();
      assert.doesNotMatch(text, /The server had an error/);
      assert.doesNotMatch(text, /sk-operator-real-key/);
    }
    const ok = await send(gw, "server_error", "Bearer gw-token-one");
    assert.equal(ok.status, 500);
    assert.equal((await ok.json()).error.type, "server_error");
    assert.equal(upstream.requests.length, 0);
  });

  test("SIMULATE unset: the header changes nothing, the request is forwarded", async () => {
    upstream.script((rec, res) => reply(res, 200, completion("forwarded")));
    const res = await send(off, "server_error");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].message.content, "forwarded");
    assert.equal(upstream.requests.length, 1);
    assert.equal(off.logLines().filter((l) => l.event === "simulate").length, 0);
  });
});
