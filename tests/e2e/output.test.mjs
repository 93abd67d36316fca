// End-to-end: answers checked against what was asked (issue 17), in report mode. Every case of
// tests/output/cases.json (Chat Completions and Responses, format and tools, valid / invalid /
// truncated / refused, streamed and not) through the built worker in workerd with the fake
// upstream answering the case's bytes: the answer arrives byte-identical; a non-streamed answer
// carries `x-airlock-output` and the request's log line the same verdict; a stream carries no
// such header (its body started before the end) and its `stream_end` line has the verdict.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

import { sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cases = JSON.parse(fs.readFileSync(path.join(root, "tests", "output", "cases.json"), "utf8"));

let upstream;
let w;
before(async () => {
  upstream = await startFakeUpstream();
  w = await startWorker({ UPSTREAM_URL: upstream.url, UPSTREAM_TIMEOUT_MS: "3000" });
});
after(async () => {
  await w.dispose();
  await upstream.close();
});

async function logLine(requestId, event) {
  for (let i = 0; i < 50; i++) {
    const line = w.logLines().find((l) => l.request_id === requestId && l.event === event);
    if (line) return line;
    await sleep(20);
  }
  assert.fail(`no ${event ?? "request"} line for ${requestId}:\n${w.logs.join("\n")}`);
}

function expectedHeader(c) {
  let v = c.status;
  if (c.path) v += `; path=${c.path}`;
  if (c.keyword) v += `; keyword=${c.keyword}`;
  return v;
}

describe("answers checked against what was asked", () => {
  assert.equal(cases.length, 30);
  for (const c of cases) {
    test(c.name, async () => {
      const sent = Buffer.from(c.stream ? c.response : JSON.stringify(c.response));
      upstream.script((rec, res) => {
        res.writeHead(200, {
          "content-type": c.stream ? "text/event-stream" : "application/json",
          "x-request-id": "req_output",
        });
        // Streams in a few chunks, cut mid-event.
        if (c.stream) {
          const third = Math.floor(sent.length / 3);
          res.write(sent.subarray(0, third));
          res.write(sent.subarray(third, 2 * third));
          res.end(sent.subarray(2 * third));
        } else {
          res.end(sent);
        }
      });
      const res = await fetch(`${w.url}${c.endpoint}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-client-key-0000" },
        body: JSON.stringify(c.request),
      });
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200);
      assert.ok(body.equals(sent), "the answer's bytes are unchanged");
      const id = res.headers.get("x-airlock-request-id");
      const first = await logLine(id, undefined);
      if (c.stream) {
        assert.equal(res.headers.get("x-airlock-output"), null, "no header on a stream");
        assert.equal(first.output, undefined);
        const end = await logLine(id, "stream_end");
        assert.equal(end.output, c.status);
        assert.equal(end.output_path, c.path ?? undefined);
        assert.equal(end.output_keyword, c.keyword ?? undefined);
      } else {
        assert.equal(res.headers.get("x-airlock-output"), expectedHeader(c));
        assert.equal(first.output, c.status);
        assert.equal(first.output_path, c.path ?? undefined);
        assert.equal(first.output_keyword, c.keyword ?? undefined);
      }
      // The model's words never reach the log.
      assert.ok(!w.logs.join("\n").includes("many"), "no output value in the logs");
    });
  }

  test("a request that asked for nothing gets no header and no output field", async () => {
    upstream.script((rec, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "chat.completion", choices: [] }));
    });
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-x" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    await res.arrayBuffer();
    assert.equal(res.headers.get("x-airlock-output"), null);
    const first = await logLine(res.headers.get("x-airlock-request-id"), undefined);
    assert.equal(first.output, undefined);
  });

  test("the Node SDK reads a checked answer as usual and sees the header", async () => {
    const c = cases.find((x) => x.name === "chat format: invalid");
    upstream.script((rec, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(c.response));
    });
    const client = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: "sk-client-key-0000", maxRetries: 0 });
    const { data, response } = await client.chat.completions.create(c.request).withResponse();
    assert.equal(data.choices[0].message.content, c.response.choices[0].message.content);
    assert.equal(response.headers.get("x-airlock-output"), expectedHeader(c));
  });
});

// Issue 17: one meta-schema verdict everywhere. The same body as the CLI's
// jsonschema_crate_meta_check and the page's test: forwarded, with the warning named.
test("the jsonschema meta-schema check warns in the worker as in the CLI and the page", async () => {
  upstream.script((rec, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "chat.completion", choices: [] }));
  });
  const res = await fetch(`${w.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-x" },
    body: JSON.stringify({
      model: "gpt-4o", messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { type: "string", uniqueItems: "yes" } } } } }],
    }),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 200, "forwarded, not rejected");
  assert.match(res.headers.get("x-airlock-warnings") ?? "", /json_schema_valid/);
});
