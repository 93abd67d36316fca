// End-to-end: one request must never hurt another (issue 11). A fake upstream that misbehaves on
// command (a stray `100 Continue`, a status outside HTTP, huge and stalled error bodies, echoed
// secrets, credentialed CORS, a reset mid-body) and hostile client framing, against the built
// worker in workerd (Miniflare).
//
// Nothing here asserts on time: orderings are causal (the upstream holds its body until the client
// has seen the headers) and timers are set small through the worker's settings.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import OpenAI from "openai";

import { completion, reply, sleep, sse, startFakeUpstream, streamChunk } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const chatBody = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }] };
// A body OpenAI certainly rejects (o1-mini takes no system message).
const badRoleBody = {
  model: "o1-mini",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "hi" },
  ],
};
/** Each test's own limit: a worker that holds a body whole would otherwise hang it. */
const T = { timeout: 30_000 };
const REAL_KEY = "sk-proj-OPERATORREALKEY0123456789abcdefXYZ";
const GW_TOKEN = "gw-token-hostile-0123456789";
const PLANTED = "sk-proj-PLANTEDCLIENTKEY9876543210zyxwvuQRST";

let upstream;
before(async () => {
  upstream = await startFakeUpstream();
});
after(async () => {
  await upstream.close();
});

/** A raw HTTP/1.1 exchange: `head` and `body` written as given; resolves with the raw answer. */
function rawExchange(base, text, { waitMs = 3000 } = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.write(text);
    setTimeout(() => socket.end(), waitMs);
  });
}

/**
 * POSTs `chunks` with `Transfer-Encoding: chunked` (no content-length) on a fresh connection (a
 * streamed body cannot be retried on a stale keep-alive socket); resolves to status and JSON/text.
 */
function postChunked(base, path, headers, chunks) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method: "POST", path, headers, agent: false },
      (res) => {
        const parts = [];
        res.on("data", (c) => parts.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(parts).toString() }));
      },
    );
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** Reads an SSE stream through fetch; resolves to its text, or to `{ error }` if the read failed. */
async function readAll(res) {
  const reader = res.body.getReader();
  const parts = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(Buffer.from(value));
    }
  } catch (e) {
    return { text: Buffer.concat(parts).toString(), error: e };
  }
  return { text: Buffer.concat(parts).toString(), error: null };
}

/**
 * Both framings at once, `content-length: 10` and a chunked body that is never ended: the runtime
 * reads the chunked one, which can be any size, so the worker must stop at the stated length. The
 * client never ends its body, so an answer can only come from a worker that stopped reading at the
 * bound. `extra` adds header lines.
 */
async function chunkedPastItsLength(w, extra = "") {
  const before = upstream.requests.length;
  const u = new URL(w.url);
  const answer = await new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    socket.on("error", reject);
    socket.on("data", (c) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString("latin1");
      if (text.includes("\r\n\r\n") && text.includes("unreadable_body")) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    const piece = "x".repeat(2000);
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${extra}content-type: application/json\r\ncontent-length: 10\r\ntransfer-encoding: chunked\r\n\r\n${piece.length.toString(16)}\r\n${piece}\r\n`,
    );
  });
  assert.match(answer, /HTTP\/1\.1 400/);
  assert.match(answer, /"code":\s*"unreadable_body"/);
  assert.equal(upstream.requests.length, before, "nothing reached the upstream");
}

describe("a hostile upstream", () => {
  let w;
  before(async () => {
    w = await startWorker({
      UPSTREAM_URL: upstream.url,
      UPSTREAM_TIMEOUT_MS: "3000",
      UPSTREAM_BODY_TIMEOUT_MS: "400",
      UPSTREAM_IDLE_TIMEOUT_MS: "1500",
      CORS_ALLOW_ORIGINS: "*",
    });
  });
  after(async () => {
    await w.dispose();
  });

  test("expect: 100-continue is never forwarded", T, async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const body = JSON.stringify(chatBody);
    const raw = await rawExchange(
      w.url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    assert.match(raw, /HTTP\/1\.1 200/);
    assert.equal(upstream.requests.length, 1);
    assert.equal(upstream.requests[0].headers.expect, undefined);
  });

  test("a stray 100 Continue and a status outside HTTP crash nothing; another client's stream goes on", T, async () => {
    // A slow stream on the same isolate, started first.
    const parts = Array.from({ length: 8 }, (_, i) => `p${i}`);
    let release;
    const gate = new Promise((r) => (release = r));
    upstream.script(async (rec, res) => {
      if (rec.url.includes("stream=1")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.flushHeaders();
        for (const [i, p] of parts.entries()) {
          if (i === 2) await gate; // the faulty answers below happen while this stream is open
          res.write(`data: ${JSON.stringify(streamChunk(p, i))}\n\n`);
          await sleep(30);
        }
        res.end("data: [DONE]\n\n");
      } else if (rec.url.includes("fault=continue")) {
        res.writeContinue();
        await sleep(20);
        reply(res, 200, completion("after continue"));
      } else {
        // Node lets a server send any three-digit status; no HTTP client may act on 799.
        res.writeHead(799, { "content-type": "application/json" });
        res.end("{}");
      }
    });
    const streaming = fetch(`${w.url}/v1/chat/completions?stream=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...chatBody, stream: true }),
    });
    const streamRes = await streaming;
    const streamText = readAll(streamRes);
    await sleep(100);
    const cont = await fetch(`${w.url}/v1/chat/completions?fault=continue`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatBody),
    });
    // Either the runtime skipped the interim answer (200), or Airlock refused it (502): never a 500.
    assert.ok([200, 502].includes(cont.status), `status ${cont.status}`);
    await cont.arrayBuffer();
    const bad = await fetch(`${w.url}/v1/chat/completions?fault=799`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatBody),
    });
    assert.equal(bad.status, 502);
    const err = (await bad.json()).error;
    assert.equal(err.code, "upstream_invalid_status");
    assert.equal(bad.headers.get("x-airlock-category"), "connection");
    release();
    const { text, error } = await streamText;
    assert.equal(error, null, "the other stream was not cut");
    for (const p of parts) assert.ok(text.includes(`"content":"${p}"`), `${p} arrived`);
    assert.ok(text.trimEnd().endsWith("data: [DONE]"), "the other stream ended with [DONE]");
    await sleep(50);
    const ends = w.logLines().filter((l) => l.event === "stream_end");
    assert.equal(ends.at(-1).state, "completed");
    assert.ok(!w.logs.some((l) => /Rust panic|Critical/.test(l)), "no panic in the worker's output");
    const line = w.logLines().find((l) => l.upstream_status === 799);
    assert.ok(line, "the log line names the upstream's status");
  });

  test("a huge error body: diagnosed from its first bytes, the rest streamed on", T, async () => {
    const head = JSON.stringify({ error: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", param: null, code: null } });
    const filler = Buffer.alloc(1024 * 1024, 0x20);
    let sentMore;
    const more = new Promise((r) => (sentMore = r));
    let clientHasHeaders;
    const headersSeen = new Promise((r) => (clientHasHeaders = r));
    upstream.script(async (rec, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.write(head);
      res.write(filler); // 1 MB now; the other 7 MB only once the client has seen the headers
      await headersSeen;
      for (let i = 0; i < 7; i++) res.write(filler);
      res.end();
      sentMore();
    });
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-stainless-retry-count": "0" },
      body: JSON.stringify(chatBody),
    });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-airlock-category"), "server_error");
    clientHasHeaders();
    const body = Buffer.from(await res.arrayBuffer());
    await more;
    assert.equal(body.length, head.length + 8 * filler.length, "every byte arrived");
    assert.ok(body.subarray(0, head.length).equals(Buffer.from(head)));
    const line = w.logLines().findLast((l) => l.status === 500);
    assert.equal(line.upstream_body, "streamed");
  });

  test("an error body that stalls after the headers: answered within UPSTREAM_BODY_TIMEOUT_MS, logged", T, async () => {
    const held = [];
    upstream.script((rec, res) => {
      res.writeHead(503, { "content-type": "application/json", "x-request-id": "req_stall" });
      res.write('{"error": {"message": "The engine is currently ov');
      held.push(res); // never ended
    });
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatBody),
    });
    assert.equal(res.status, 503);
    const err = (await res.json()).error;
    assert.equal(err.code, "upstream_body_timeout");
    const line = w.logLines().findLast((l) => l.upstream_request_id === "req_stall");
    assert.equal(line.upstream_body, "stalled");
    held.forEach((r) => r.destroy());
  });

  test("an error body cut mid-way: the status kept, Airlock's body says so", T, async () => {
    upstream.script((rec, res) => {
      res.writeHead(500, { "content-type": "application/json", "x-request-id": "req_cut_error" });
      res.write('{"error": {"message": "The server had an err');
      setTimeout(() => res.socket.destroy(), 30);
    });
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatBody),
    });
    assert.equal(res.status, 500);
    assert.equal((await res.json()).error.code, "upstream_body_cut");
  });

  test("a 200 whose upstream resets mid-body: the client sees an error, the log says cut", T, async () => {
    upstream.script((rec, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_cut_ok" });
      res.write('{"id": "chatcmpl-cut", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Half an ans');
      setTimeout(() => res.socket.destroy(), 50);
    });
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatBody),
    });
    assert.equal(res.status, 200);
    // Airlock errors the body it relays; the client sees a failed read, or (where a layer in
    // front re-frames the body, as Miniflare's dev proxy does) a body that is not a complete JSON
    // answer: never a clean, complete-looking one.
    const { text, error } = await readAll(res);
    let complete = false;
    try {
      JSON.parse(text);
      complete = true;
    } catch {}
    assert.ok(error || !complete, `a complete-looking body: ${text}`);
    await sleep(100);
    const request = w.logLines().findLast((l) => l.upstream_request_id === "req_cut_ok");
    const end = w.logLines().findLast((l) => l.event === "body_end" && l.request_id === request.request_id);
    assert.ok(end, "a body_end line");
    assert.equal(end.state, "cut");
  });

  test("a stream that goes silent past UPSTREAM_IDLE_TIMEOUT_MS ends with Airlock's error event", T, async () => {
    const held = [];
    upstream.script((rec, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_silent" });
      res.write(`data: ${JSON.stringify(streamChunk("first", 0))}\n\n`);
      held.push(res); // then nothing, and never an end
    });
    const client = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: "sk-client-key-0000", maxRetries: 0 });
    const got = [];
    await assert.rejects(
      (async () => {
        const stream = await client.chat.completions.create({ ...chatBody, stream: true });
        for await (const chunk of stream) got.push(chunk.choices[0]?.delta?.content);
      })(),
      (e) => e instanceof OpenAI.APIError && /UPSTREAM_IDLE_TIMEOUT_MS/.test(e.message),
    );
    assert.deepEqual(got, ["first"]);
    await sleep(100);
    const request = w.logLines().findLast((l) => l.upstream_request_id === "req_silent");
    const end = w.logLines().findLast((l) => l.event === "stream_end" && l.request_id === request.request_id);
    assert.equal(end.upstream_stalled, true);
    assert.equal(end.appended_error, true);
    held.forEach((r) => r.destroy());
  });

  test("CORS is Airlock's: no upstream access-control-* header, Vary merged", T, async () => {
    upstream.script((rec, res) =>
      reply(res, 200, completion(), {
        "access-control-allow-origin": "*",
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "x-secret",
        vary: "Accept-Encoding",
        "set-cookie": "__cf_bm=abc; path=/; HttpOnly",
      }),
    );
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://app.example" },
      body: JSON.stringify(chatBody),
    });
    await res.arrayBuffer();
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    assert.ok(!res.headers.get("access-control-expose-headers").includes("x-secret"));
    assert.equal(res.headers.get("vary"), "Accept-Encoding, Origin");
    assert.equal(res.headers.get("set-cookie"), null);
  });

  test("headers named in Connection, cookies and forwarding claims do not travel", T, async () => {
    upstream.script((rec, res) => {
      res.writeHead(200, { "content-type": "application/json", connection: "x-upstream-private", "x-upstream-private": "1" });
      res.end(JSON.stringify(completion()));
    });
    const raw = await rawExchange(
      w.url,
      `GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: x-hop-secret\r\nx-hop-secret: 1\r\ncookie: session=abc\r\nx-forwarded-for: 10.0.0.1\r\nforwarded: for=10.0.0.1\r\nx-kept: yes\r\n\r\n`,
      { waitMs: 800 },
    );
    assert.match(raw, /HTTP\/1\.1 200/);
    const seen = upstream.requests[0].headers;
    assert.equal(seen["x-hop-secret"], undefined);
    assert.equal(seen.cookie, undefined);
    assert.equal(seen.forwarded, undefined);
    assert.notEqual(seen["x-forwarded-for"], "10.0.0.1");
    assert.equal(seen["x-kept"], "yes");
    assert.doesNotMatch(raw.toLowerCase(), /x-upstream-private/);
  });

  test("the same rejected body, chunked or as text/plain, is checked", T, async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const text = JSON.stringify(badRoleBody);
    const chunked = await postChunked(w.url, "/v1/chat/completions", { "content-type": "application/json" }, [text.slice(0, 20), text.slice(20)]);
    assert.equal(chunked.status, 400);
    assert.equal(JSON.parse(chunked.text).error.param, "messages[0].role");
    const plain = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: text,
    });
    assert.equal(plain.status, 400);
    await plain.arrayBuffer();
    assert.equal(upstream.requests.length, 0, "neither reached the upstream");
    // Text that is not JSON is not ours to reject.
    const form = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "model=gpt-4o",
    });
    assert.equal(form.status, 200);
    await form.arrayBuffer();
    assert.equal(upstream.requests.at(-1).body.toString(), "model=gpt-4o");
  });

  test("a chunked body over MAX_CHECK_BYTES is forwarded byte-identical, marked partly checked", T, async () => {
    const small = await startWorker({ UPSTREAM_URL: upstream.url, MAX_CHECK_BYTES: "1000" });
    try {
      upstream.script((rec, res) => reply(res, 200, completion()));
      const text = JSON.stringify({ ...chatBody, messages: [{ role: "user", content: "x".repeat(5000) }] });
      const chunks = [];
      for (let i = 0; i < text.length; i += 700) chunks.push(text.slice(i, i + 700));
      const res = await postChunked(small.url, "/v1/chat/completions", { "content-type": "application/json" }, chunks);
      assert.equal(res.status, 200);
      assert.match(res.headers["x-airlock-checked"], /partial; bound=max_check_bytes/);
      assert.equal(upstream.requests.at(-1).body.toString(), text);
    } finally {
      await small.dispose();
    }
  });

  test("a chunked body that runs past its content-length is refused at the length, not read to its end", T, async () => {
    await chunkedPastItsLength(w);
  });

  test("a key in the model or the path never reaches the log", T, async () => {
    upstream.script((rec, res) => reply(res, 404, { error: { message: "nope", type: "invalid_request_error", param: null, code: "unknown_url" } }));
    const before = w.logs.length;
    let res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${PLANTED}` },
      body: JSON.stringify({ ...chatBody, model: PLANTED }),
    });
    await res.arrayBuffer();
    res = await fetch(`${w.url}/v1/files/${PLANTED}`, { headers: { authorization: `Bearer ${PLANTED}` } });
    await res.arrayBuffer();
    res = await fetch(`${w.url}/v1/models/${"m".repeat(5000)}`);
    await res.arrayBuffer();
    const logs = w.logs.slice(before).join("\n");
    assert.ok(!logs.includes(PLANTED.slice(8, 30)), "no part of the key in the log");
    const long = w.logLines().findLast((l) => l.path?.startsWith("/v1/models/m"));
    assert.ok(long.path.length <= 260, `path cut (${long.path.length})`);
  });
});

describe("a hostile upstream, gateway mode", () => {
  let w;
  before(async () => {
    w = await startWorker({
      UPSTREAM_URL: upstream.url,
      OPENAI_API_KEY: REAL_KEY,
      AIRLOCK_GATEWAY_TOKENS: GW_TOKEN,
      FINGERPRINT_SECRET: "fingerprint-secret-for-tests",
    });
  });
  after(async () => {
    await w.dispose();
  });

  test("a chunked body that runs past its content-length is refused at the length (the Rust path)", T, async () => {
    await chunkedPastItsLength(w, `authorization: Bearer ${GW_TOKEN}\r\n`);
  });

  test("an upstream that echoes Authorization never hands the real key to the client", T, async () => {
    upstream.script((rec, res) => {
      const echoed = rec.headers.authorization;
      const big = rec.url.includes("big");
      res.writeHead(401, { "content-type": "application/json", "x-echo": echoed });
      res.write(JSON.stringify({ error: { message: `Incorrect API key provided: ${echoed}`, type: "invalid_request_error", param: null, code: "invalid_api_key" } }));
      if (big) {
        // Past the diagnosis prefix, with the key split across writes.
        res.write(" ".repeat(70 * 1024) + echoed.slice(0, 20));
        res.write(echoed.slice(20) + " ".repeat(10));
      }
      res.end();
    });
    for (const path of ["/v1/chat/completions", "/v1/chat/completions?big=1"]) {
      const res = await fetch(`${w.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${GW_TOKEN}` },
        body: JSON.stringify(chatBody),
      });
      assert.equal(res.status, 401);
      const text = await res.text();
      assert.equal(upstream.requests.at(-1).headers.authorization, `Bearer ${REAL_KEY}`);
      assert.ok(!text.includes(REAL_KEY), `${path}: the real key is not in the body`);
      assert.ok(text.includes("***"), `${path}: masked`);
      assert.ok(!res.headers.get("x-echo").includes(REAL_KEY), `${path}: nor in a header`);
    }
  });

  test("a client's organization and project do not travel with the operator's key", T, async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const client = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: GW_TOKEN, organization: "org-client", project: "proj_client", maxRetries: 0 });
    await client.chat.completions.create(chatBody);
    const seen = upstream.requests.at(-1).headers;
    assert.equal(seen["openai-organization"], undefined);
    assert.equal(seen["openai-project"], undefined);
  });

  test("fingerprints are keyed with FINGERPRINT_SECRET", T, async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${GW_TOKEN}` },
      body: JSON.stringify(chatBody),
    });
    await res.arrayBuffer();
    const line = w.logLines().findLast((l) => l.key_fingerprint);
    assert.match(line.key_fingerprint, /^hmac:[0-9a-f]{8}…/);
    assert.ok(!w.logs.join("\n").includes(REAL_KEY.slice(8, 30)));
  });
});

// Answers given without reading the request body (a gateway 401, a simulated failure) keep the
// client's keep-alive connection usable: the worker reads and drops the unread body first, within
// `DISCARD_MAX_BYTES` (1 MiB) and `DISCARD_MAX_MS` (1 s). Before, about 1 in 100 such answers under
// load made workerd drop the connection as the client sent its next request on it, and that
// request — another client's, behind a shared proxy — failed with `ECONNRESET` (CI, session 11).
describe("answers that leave the request body unread", () => {
  let w;
  before(async () => {
    w = await startWorker({
      UPSTREAM_URL: upstream.url,
      SIMULATE: "on",
      OPENAI_API_KEY: REAL_KEY,
      AIRLOCK_GATEWAY_TOKENS: GW_TOKEN,
    });
  });
  after(async () => {
    await w.dispose();
  });
  const body = JSON.stringify(chatBody);
  const post = (headers, b = body) =>
    fetch(`${w.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: b });

  test("never cost the next request on the same connection", { timeout: 240_000 }, async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const kinds = [
      [{ authorization: "Bearer wrong-token" }, 401],
      [{ authorization: `Bearer ${GW_TOKEN}`, "x-airlock-simulate": "rate_limit" }, 429],
      [{ authorization: `Bearer ${GW_TOKEN}`, "x-airlock-simulate": "server_error" }, 500],
      [{ authorization: `Bearer ${GW_TOKEN}` }, 200],
    ];
    // Four clients at once, each on its own keep-alive connections, 1,200 requests in all: with
    // the body left unread this failed 9–12 times per 1,000 at load ~2 in a throwaway repro, 0 of 3,000 after.
    const failures = [];
    const statuses = new Map();
    await Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        for (let i = 0; i < 300; i++) {
          const [headers, want] = kinds[(i + c) % kinds.length];
          try {
            const r = await post(headers);
            await r.arrayBuffer();
            statuses.set(`${want}->${r.status}`, (statuses.get(`${want}->${r.status}`) ?? 0) + 1);
          } catch (e) {
            failures.push(e.message);
          }
        }
      }),
    );
    assert.deepEqual(failures, [], `${failures.length} of 1200 requests failed`);
    assert.deepEqual([...statuses.keys()].sort(), ["200->200", "401->401", "429->429", "500->500"]);
  });

  test("a body that stalls is waited for at most DISCARD_MAX_MS, then answered", T, async () => {
    // 100 bytes announced, 10 sent, the rest never: the 401 still comes, and the connection ends.
    const raw = await rawExchange(
      w.url,
      "POST /v1/chat/completions HTTP/1.1\r\nhost: airlock.test\r\ncontent-type: application/json\r\n" +
        "authorization: Bearer wrong-token\r\ncontent-length: 100\r\n\r\n{\"model\":\"",
      { waitMs: 8000 },
    );
    assert.match(raw, /^HTTP\/1\.1 401 /, raw.slice(0, 200));
    assert.match(raw, /invalid_api_key|gateway/i, raw.slice(0, 600));
  });

  test("a body over DISCARD_MAX_BYTES is not read to its end; the isolate serves the next request", T, async () => {
    const big = JSON.stringify({ ...chatBody, messages: [{ role: "user", content: "x".repeat(3 * 1024 * 1024) }] });
    // On a connection of its own (past the bound the worker ends it): the client gets the 401,
    // or its connection ends while it still sends. Either way it is not kept waiting for 3 MiB to
    // be read, and the next request (another client's pool) is served.
    const outcome = await postChunked(w.url, "/v1/chat/completions", { "content-type": "application/json", authorization: "Bearer wrong-token" }, [big]).then(
      (r) => r.status,
      (e) => e.code ?? e.message,
    );
    assert.ok(outcome === 401 || /ECONNRESET|EPIPE|socket hang up/.test(outcome), String(outcome));
    upstream.script((rec, res) => reply(res, 200, completion("after")));
    const r = await post({ authorization: `Bearer ${GW_TOKEN}` });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).choices[0].message.content, "after");
  });
});
