// End-to-end: the answer check's bounds (issue 17). A JSON answer to a request that asked for a
// schema is read whole to be checked, within `MAX_OUTPUT_CHECK_BYTES` (1 MiB) and
// `UPSTREAM_IDLE_TIMEOUT_MS` from its start; over the size, stalled past the deadline, or cut,
// what was read is sent on followed by the rest, byte for byte, with
// `x-airlock-output: unchecked; reason=too_large|stalled|cut`. A whole answer in many chunks is
// checked like one in a single chunk.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cases = JSON.parse(fs.readFileSync(path.join(root, "tests", "output", "cases.json"), "utf8"));
const valid = cases.find((c) => c.name === "chat format: valid");
const invalid = cases.find((c) => c.name === "chat format: invalid");
const IDLE_MS = 400;
const MAX_OUTPUT_CHECK_BYTES = 1024 * 1024;

let upstream;
let w;
before(async () => {
  upstream = await startFakeUpstream();
  w = await startWorker({ UPSTREAM_URL: upstream.url, UPSTREAM_TIMEOUT_MS: "5000", UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_MS) });
});
after(async () => {
  await w.dispose();
  await upstream.close();
});

function ask() {
  return fetch(`${w.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-client-key-0000" },
    body: JSON.stringify(valid.request),
  });
}

/** `answer` (an object) as JSON of exactly `size` bytes, padded with spaces inside it. */
function padded(answer, size) {
  const text = JSON.stringify(answer);
  return Buffer.from(text.slice(0, -1) + " ".repeat(size - text.length) + "}");
}

describe("the answer check's bounds", () => {
  test("a whole answer in many small chunks is checked as one", async () => {
    const sent = Buffer.from(JSON.stringify(invalid.response));
    upstream.script(async (rec, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      for (let at = 0; at < sent.length; at += 40) {
        res.write(sent.subarray(at, at + 40));
        await sleep(2);
      }
      res.end();
    });
    const res = await ask();
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(sent), "the answer's bytes are unchanged");
    assert.match(res.headers.get("x-airlock-output"), /^invalid; path=/);
  });

  test("at the size bound: checked; one byte over: unchecked, too_large, bytes unchanged", async () => {
    for (const [size, header] of [
      [MAX_OUTPUT_CHECK_BYTES, "valid"],
      [MAX_OUTPUT_CHECK_BYTES + 1, "unchecked; reason=too_large"],
    ]) {
      const sent = padded(valid.response, size);
      assert.equal(sent.length, size);
      upstream.script((rec, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": sent.length });
        res.end(sent);
      });
      const res = await ask();
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(res.headers.get("x-airlock-output"), header, `${size} bytes`);
      assert.ok(body.equals(sent), `${size} bytes: the answer's bytes are unchanged`);
    }
  });

  test("an answer that stalls past the deadline and then goes on: unchecked, stalled, bytes unchanged", async () => {
    const sent = Buffer.from(JSON.stringify(valid.response));
    const half = Math.floor(sent.length / 2);
    upstream.script(async (rec, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(sent.subarray(0, half));
      await sleep(IDLE_MS + 150);
      res.end(sent.subarray(half));
    });
    const res = await ask();
    assert.equal(res.headers.get("x-airlock-output"), "unchecked; reason=stalled");
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.length, sent.length, "nothing lost or added after the stall");
    assert.ok(body.equals(sent), "the answer's bytes are unchanged");
    const line = w.logLines().findLast((l) => l.request_id === res.headers.get("x-airlock-request-id") && !l.event);
    assert.equal(line.output, "unchecked");
    assert.equal(line.output_keyword, "stalled");
  });

  test("an answer cut mid-way: unchecked, cut; the client's read fails after what came", async () => {
    const sent = Buffer.from(JSON.stringify(valid.response));
    upstream.script((rec, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(sent.subarray(0, 50));
      setTimeout(() => res.socket.destroy(), 50);
    });
    const res = await ask();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-airlock-output"), "unchecked; reason=cut");
    // As hostile.test.mjs's cut: a failed read, or (Miniflare's dev proxy re-frames the body) a
    // short one that is what came and not a complete answer.
    let got = Buffer.alloc(0);
    let failed = false;
    try {
      got = Buffer.from(await res.arrayBuffer());
    } catch {
      failed = true;
    }
    assert.ok(failed || got.length < sent.length, "never a clean, complete-looking body");
    assert.ok(sent.subarray(0, got.length).equals(got), "what came is passed on unchanged");
  });
});
