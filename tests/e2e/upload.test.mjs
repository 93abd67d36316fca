// End-to-end: Batch input files linted while they stream through the worker (issue 7: "a bad line
// in an upload is reported by number and nothing reaches the upstream"). The fake upstream
// watches each upload as it arrives (`startUploadUpstream`): first byte, bytes, sha256, and
// whether the body completed (a file was created) or was cut off.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";

import { errors, replyError, sleep, startUploadUpstream } from "./fake-upstream.mjs";
import { python, startWorker } from "./harness.mjs";

const MiB = 1024 * 1024;
const BOUNDARY = "----airlock-upload-test";

let upstream;
let w;
before(async () => {
  upstream = await startUploadUpstream();
  // The default window (BATCH_LINT_WINDOW_BYTES = 1 MiB), as deployed.
  w = await startWorker({ UPSTREAM_URL: upstream.url, UPSTREAM_TIMEOUT_MS: "30000" });
});
after(async () => {
  await w.dispose();
  await upstream.close();
});

const node = () => new OpenAI({ baseURL: `${w.url}/v1`, apiKey: "sk-client-key-0000", maxRetries: 0 });
const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/** One valid Batch line (about 170 bytes). */
const line = (id) =>
  JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `Summarise item ${id}.` }] } }) + "\n";
/** Valid lines `from`..`to` (1-based, inclusive). */
const lines = (from, to) => {
  const out = [];
  for (let i = from; i <= to; i++) out.push(line(`req-${i}`));
  return out.join("");
};
/** How many valid lines make about `bytes`. */
const linesFor = (bytes) => Math.ceil(bytes / line("req-10000").length);

/** A multipart body; `purposeFirst` as the Python SDK sends it, else file first as the Node SDK. */
function multipart(purpose, file, purposeFirst = true) {
  const p = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n`;
  const f = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.isBuffer(file) ? file : Buffer.from(file),
    Buffer.from("\r\n"),
  ]);
  const parts = purposeFirst ? [Buffer.from(p), f] : [f, Buffer.from(p)];
  return Buffer.concat([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)]);
}

/**
 * Posts `body` to /v1/files in 64 KiB writes, with a `content-length` or chunked. After `pauseAt`
 * bytes it awaits `whilePaused()` before writing the rest. Resolves to the status, the parsed
 * answer, and when the client wrote its last byte.
 */
function post(body, { chunked = false, pauseAt = Infinity, whilePaused = async () => {} } = {}) {
  const u = new URL(w.url);
  const headers = { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, authorization: "Bearer sk-client-key-0000" };
  if (!chunked) headers["content-length"] = body.length;
  return new Promise((resolve, reject) => {
    let lastByteAt = null;
    let pauseError = null;
    const req = http.request({ host: u.hostname, port: u.port, method: "POST", path: "/v1/files", headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, headers: res.headers, json, text, lastByteAt, pauseError });
      });
    });
    req.on("error", reject);
    (async () => {
      let paused = false;
      for (let i = 0; i < body.length; i += 64 * 1024) {
        if (!paused && i >= pauseAt) {
          paused = true;
          try {
            await whilePaused();
          } catch (e) {
            pauseError = e;
          }
        }
        if (!req.write(body.subarray(i, i + 64 * 1024))) await new Promise((r) => req.once("drain", r));
      }
      req.end(() => (lastByteAt = performance.now()));
    })().catch(reject);
  });
}

/** The worker's `upload_end` log line for `requestId`, waiting briefly for it. */
async function uploadEnd(requestId) {
  for (let i = 0; i < 100; i++) {
    const l = w.logLines().find((x) => x.event === "upload_end" && x.request_id === requestId);
    if (l) return l;
    await sleep(20);
  }
  assert.fail(`no upload_end line for ${requestId}:\n${w.logs.slice(-20).join("\n")}`);
}

describe("a small bad Batch file: 400 naming the line, nothing sent upstream", () => {
  test("Node SDK (file part first)", async () => {
    upstream.reset();
    const text = lines(1, 3) + '{"custom_id": "req-4", "method": "POST"\n' + lines(5, 6) + line("req-2");
    const file = await OpenAI.toFile(Buffer.from(text), "input.jsonl");
    let requestId;
    await assert.rejects(node().files.create({ file, purpose: "batch" }), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, `BadRequestError, got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.status, 400);
      assert.equal(e.code, "invalid_json_line");
      assert.equal(e.param, "file");
      assert.match(e.message, /Line 4:/);
      assert.match(e.message, /Line 7:.*duplicate_custom_id/, "linted to the end");
      requestId = e.headers.get("x-airlock-request-id");
      return true;
    });
    assert.equal(upstream.uploads.length, 0, "the upstream saw no request at all");
    const end = await uploadEnd(requestId);
    assert.equal(end.state, "rejected");
    assert.equal(end.streamed, false);
    assert.equal(end.forwarded_bytes, 0);
  });

  test("Python SDK (purpose first)", async () => {
    upstream.reset();
    const text = lines(1, 2) + JSON.stringify({ custom_id: "req-3", method: "GET", url: "/v1/chat/completions", body: {} }) + "\n";
    const out = await python({ base_url: `${w.url}/v1`, call: "upload", max_retries: 0, params: { purpose: "batch", text } });
    assert.equal(out.error, "BadRequestError", JSON.stringify(out));
    assert.equal(out.status, 400);
    assert.equal(out.param, "file");
    assert.match(out.body.message, /Line 3:/);
    assert.equal(upstream.uploads.length, 0, "the upstream saw no request at all");
  });
});

describe("a good multi-MB Batch file streams through byte-identical", () => {
  for (const chunked of [false, true]) {
    test(chunked ? "chunked (no content-length)" : "with content-length, which the upstream sees too", async () => {
      upstream.reset();
      const body = multipart("batch", lines(1, linesFor(4 * MiB)));
      // The client stops after 2.5 MB and waits for the upstream to see a byte: a worker that held
      // the upload whole would never forward one, and the wait would fail.
      const res = await post(body, { chunked, pauseAt: 2.5 * MiB, whilePaused: () => upstream.firstByte(10_000) });
      assert.equal(res.pauseError, null, `the upstream saw nothing while the client paused: ${res.pauseError}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.id, "file-1");
      await upstream.settled();
      assert.equal(upstream.uploads.length, 1);
      const rec = upstream.uploads[0];
      assert.ok(rec.firstByteAt < res.lastByteAt, "the upstream began receiving before the client finished sending");
      assert.equal(rec.complete, true);
      assert.equal(rec.bytes, body.length);
      assert.equal(rec.sha256, sha256(body), "byte-identical");
      if (chunked) assert.equal(rec.headers["transfer-encoding"], "chunked");
      else assert.equal(rec.headers["content-length"], String(body.length));
      assert.equal(rec.headers["content-type"], `multipart/form-data; boundary=${BOUNDARY}`);
      const end = await uploadEnd(res.headers["x-airlock-request-id"]);
      assert.equal(end.state, "passed");
      assert.equal(end.requests, linesFor(4 * MiB));
      assert.equal(end.forwarded_bytes, body.length);
    });
  }

  test("Node SDK: a 3 MB file uploads and arrives intact", async () => {
    upstream.reset();
    const text = lines(1, linesFor(3 * MiB));
    const out = await node().files.create({ file: await OpenAI.toFile(Buffer.from(text), "input.jsonl"), purpose: "batch" });
    assert.equal(out.id, "file-1");
    await upstream.settled();
    assert.ok(upstream.body(upstream.uploads[0]).includes(Buffer.from(text)), "the file's bytes arrived as sent");
  });
});

describe("a bad line after the first window: 400 with its number, the upstream body cut off", () => {
  const badFile = () => {
    const before = linesFor(2 * MiB);
    const bad = before + 1;
    const text =
      lines(1, before) +
      JSON.stringify({ custom_id: "bad-one", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [], temperature: 9 } }) +
      "\n" +
      lines(before + 2, before + 3000) +
      "this is not json\n" +
      lines(before + 3002, before + 3100);
    return { text, bad, second: before + 3001 };
  };

  for (const chunked of [false, true]) {
    test(chunked ? "chunked" : "with content-length", async () => {
      upstream.reset();
      const { text, bad, second } = badFile();
      const body = multipart("batch", text);
      const res = await post(body, { chunked });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.param, "file");
      assert.match(res.json.error.message, new RegExp(`Line ${bad}:`));
      assert.match(res.json.error.message, new RegExp(`Line ${second}:.*invalid_json_line`), "the rest was still linted");
      await upstream.settled();
      assert.equal(upstream.uploads.length, 1, "the upstream request had started (the file is larger than the window)");
      const rec = upstream.uploads[0];
      assert.equal(rec.complete, false, "the upstream never got a complete body");
      assert.equal(rec.aborted, true);
      assert.ok(rec.bytes >= MiB && rec.bytes < body.length, `forwarded ${rec.bytes} of ${body.length}`);
      assert.ok(!upstream.body(rec).includes(Buffer.from('"bad-one"')), "no byte of the bad line went upstream");
      assert.equal(upstream.files.length, 0, "no file was created");
      const end = await uploadEnd(res.headers["x-airlock-request-id"]);
      assert.equal(end.state, "rejected");
      assert.equal(end.upstream_aborted, true);
      assert.equal(end.streamed, true);
      assert.ok(w.logLines().some((l) => l.event === "upload_aborted" && l.request_id === end.request_id));
    });
  }

  test("Node SDK (purpose after the file): held until purpose=batch arrives, then rejected", async () => {
    upstream.reset();
    const before = linesFor(1.5 * MiB);
    const text = lines(1, before) + "{oops}\n" + lines(before + 2, before + 1000);
    let status;
    await assert.rejects(node().files.create({ file: await OpenAI.toFile(Buffer.from(text), "input.jsonl"), purpose: "batch" }), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, `${e}`);
      assert.match(e.message, new RegExp(`Line ${before + 1}:`));
      status = e.status;
      return true;
    });
    assert.equal(status, 400);
    await upstream.settled();
    assert.equal(upstream.files.length, 0, "no file was created");
    assert.ok(upstream.uploads.every((u) => !u.complete));
  });
});

describe("uploads that are not Batch files pass unjudged", () => {
  for (const purposeFirst of [true, false]) {
    test(`purpose=assistants, not JSONL, ${purposeFirst ? "purpose first" : "file first"}`, async () => {
      upstream.reset();
      const junk = Buffer.alloc(3 * MiB);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 251;
      const body = multipart("assistants", Buffer.concat([Buffer.from("not json at all\n{\n"), junk]), purposeFirst);
      const res = await post(body);
      assert.equal(res.status, 200, res.text);
      await upstream.settled();
      assert.equal(upstream.uploads[0].sha256, sha256(body));
      const end = await uploadEnd(res.headers["x-airlock-request-id"]);
      assert.equal(end.state, "unchecked");
      // File first: line 1 fails, so bytes are held until `purpose` comes; 3 MB is past the
      // 1 MiB hold, so they went on before it came. Either way it is logged as not a Batch file.
      assert.equal(end.note, "not_batch");
    });
  }

  test("an error before purpose is known, more than the hold cap ago: passed on, with a warning", async () => {
    upstream.reset();
    // File first (as the Node SDK sends it), line 1 bad, 2 MB after it: more than the 1 MiB held.
    const body = multipart("batch", "{not json}\n" + lines(2, linesFor(2 * MiB)), false);
    const res = await post(body);
    assert.equal(res.status, 200, res.text);
    await upstream.settled();
    assert.equal(upstream.uploads[0].sha256, sha256(body));
    const end = await uploadEnd(res.headers["x-airlock-request-id"]);
    assert.equal(end.note, "hold_cap");
    assert.ok(end.errors >= 1, "still linted, for the log");
  });
});

describe("a streamed upload is not replayable", () => {
  test("edge retries stay off for it: one upstream attempt, its 500 passed on", async () => {
    const retrying = await startWorker({ UPSTREAM_URL: upstream.url, EDGE_RETRIES: "2", EDGE_RETRY_DEADLINE_MS: "5000" });
    try {
      upstream.reset();
      upstream.answerWith((rec, res) => replyError(res, errors.serverError));
      const body = multipart("batch", lines(1, linesFor(2 * MiB)));
      const u = new URL(retrying.url);
      const res = await new Promise((resolve, reject) => {
        const req = http.request(
          { host: u.hostname, port: u.port, method: "POST", path: "/v1/files", headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "content-length": body.length } },
          (r) => {
            r.resume();
            r.on("end", () => resolve(r));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      assert.equal(res.statusCode, 500);
      assert.equal(upstream.uploads.length, 1, "one attempt");
      assert.equal(upstream.uploads[0].complete, true);
    } finally {
      await retrying.dispose();
    }
  });

  test("a small upload, sent whole after it was judged, may still be retried", async () => {
    const retrying = await startWorker({ UPSTREAM_URL: upstream.url, EDGE_RETRIES: "2", EDGE_RETRY_DEADLINE_MS: "5000" });
    try {
      upstream.reset();
      let n = 0;
      upstream.answerWith((rec, res) => (n++ === 0 ? replyError(res, errors.serverError) : res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: "file-retried", object: "file" }))));
      const body = multipart("batch", lines(1, 20));
      const res = await fetch(`${retrying.url}/v1/files`, { method: "POST", headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` }, body });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).id, "file-retried");
      assert.equal(upstream.uploads.length, 2);
      assert.equal(upstream.uploads[1].sha256, sha256(body));
    } finally {
      await retrying.dispose();
    }
  });
});
