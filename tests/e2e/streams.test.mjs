// End-to-end: streams watched by the worker (issue 7). A dropped upstream ends the client's stream
// with Airlock's `stream_interrupted` error event, which both official SDKs raise; a normal stream
// passes byte-identical; every stream gets a `stream_end` log line with its final state.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

import { sleep, sseCutAt, sseThenDrop, startFakeUpstream, streamChunk } from "./fake-upstream.mjs";
import { python, startWorker } from "./harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const chatBody = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }] };
const chatEvent = (c, i) => `data: ${JSON.stringify(streamChunk(c, i))}\n\n`;

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

const node = () => new OpenAI({ baseURL: `${w.url}/v1`, apiKey: "sk-client-key-0000", maxRetries: 0 });

/** The `stream_end` line for `requestId`, waiting briefly for it to be written. */
async function streamEnd(requestId) {
  for (let i = 0; i < 50; i++) {
    const line = w.logLines().find((l) => l.event === "stream_end" && l.request_id === requestId);
    if (line) return line;
    await sleep(20);
  }
  assert.fail(`no stream_end line for ${requestId}:\n${w.logs.join("\n")}`);
}

/** Reads a Node SDK stream to its end, which must be an APIError with code `stream_interrupted`;
 * returns the events yielded before it. */
async function eventsBeforeInterrupt(stream) {
  const got = [];
  await assert.rejects(
    (async () => {
      for await (const e of stream) got.push(e);
    })(),
    (e) => {
      assert.ok(e instanceof OpenAI.APIError, `APIError, got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.code, "stream_interrupted");
      return true;
    },
  );
  return got;
}

/** Posts a streaming chat request with fetch; returns the response and its body bytes. */
async function rawStream() {
  const res = await fetch(`${w.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-x" },
    body: JSON.stringify({ ...chatBody, stream: true }),
  });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe("streams watched as they pass", () => {
  test("a normal stream arrives byte-identical, nothing appended; logged as completed", async () => {
    // Awkward chunking on purpose: an event split mid-line, a CRLF pair split, a comment.
    const parts = [
      ": keep-alive\r\n\r",
      "\n" + chatEvent("Hé", 0).slice(0, 17),
      chatEvent("Hé", 0).slice(17) + chatEvent("llo", 1),
      `data: ${JSON.stringify({ ...streamChunk("", 2), choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
      "data: [DONE]\n\n",
    ];
    const sent = Buffer.from(parts.join(""));
    upstream.script(async (rec, res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_stream_ok" });
      for (const p of parts) {
        res.write(p);
        await sleep(15);
      }
      res.end();
    });
    const { res, body } = await rawStream();
    assert.equal(res.status, 200);
    assert.ok(body.equals(sent), `byte-identical:\n${body}\n---\n${sent}`);
    const id = res.headers.get("x-airlock-request-id");
    const first = w.logLines().find((l) => l.request_id === id && l.event === undefined);
    assert.equal(first.stream, true);
    const end = await streamEnd(id);
    assert.equal(end.state, "completed");
    assert.equal(end.kind, "chat_completions");
    assert.equal(end.finish_reason, "stop");
    assert.equal(end.events, 4, "the comment is not an event");
    assert.equal(end.bytes, sent.length);
    assert.equal(end.appended_error, false);
  });

  test("a stream that fails with an error event is logged as failed, with the error", async () => {
    const parts = [
      'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress"}}\n\n',
      'event: error\ndata: {"type":"error","code":"server_error","message":"The server had an error while processing your request.","param":null,"sequence_number":1}\n\n',
    ];
    upstream.script(async (rec, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const p of parts) res.write(p);
      res.end();
    });
    const { res, body } = await rawStream();
    assert.equal(body.toString(), parts.join(""));
    const end = await streamEnd(res.headers.get("x-airlock-request-id"));
    assert.equal(end.state, "failed");
    assert.equal(end.kind, "responses");
    assert.equal(end.error.code, "server_error");
    assert.equal(end.error.sequence_number, 1);
  });

  test("upstream drops between events: the client's stream ends with a stream_interrupted error event", async () => {
    const head = chatEvent("Hel", 0);
    upstream.script((rec, res) => sseThenDrop(res, [head]));
    const { res, body } = await rawStream();
    assert.equal(res.status, 200);
    const text = body.toString();
    assert.ok(text.startsWith(head), "what the upstream sent comes first, unchanged");
    const tail = text.slice(head.length);
    assert.match(tail, /^data: \{"error":\{.*"code":"stream_interrupted"\}\}\n\n$/);
    const end = await streamEnd(res.headers.get("x-airlock-request-id"));
    assert.equal(end.state, "cut");
    assert.equal(end.upstream_dropped, true);
    assert.equal(end.appended_error, true);
  });

  test("upstream drops inside a data: line: the cut JSON is continued into an object with the error", async () => {
    const head = chatEvent("Hel", 0) + 'data: {"id":"chatcmpl-stream","object":"chat.comp';
    upstream.script((rec, res) => sseThenDrop(res, [head]));
    const { res, body } = await rawStream();
    assert.equal(res.status, 200);
    const text = body.toString();
    assert.ok(text.startsWith(head), "what the upstream sent comes first, unchanged");
    const tail = text.slice(head.length);
    assert.match(tail, /^","error":\{"message":"[^"]+","type":"server_error","param":null,"code":"stream_interrupted"\}\}\n\n$/);
    const last = JSON.parse(text.trimEnd().split("\n\n").at(-1).slice("data: ".length));
    assert.equal(last.object, "chat.comp", "the cut string is closed where it was cut");
    assert.equal(last.error.code, "stream_interrupted");
    const end = await streamEnd(res.headers.get("x-airlock-request-id"));
    assert.equal(end.state, "cut");
    assert.equal(end.last_event, "chunk");
    assert.equal(end.events, 1);
    assert.equal(end.upstream_dropped, true);
    assert.equal(end.appended_error, true);
  });

  test("upstream drops inside data: [DONE]: only [DONE] is finished, and the log says no error was appended", async () => {
    const head = chatEvent("Hel", 0) + "data: [DO";
    upstream.script((rec, res) => sseThenDrop(res, [head]));
    const { res, body } = await rawStream();
    assert.equal(res.status, 200);
    assert.equal(body.toString(), chatEvent("Hel", 0) + "data: [DONE]\n\n");
    const end = await streamEnd(res.headers.get("x-airlock-request-id"));
    assert.equal(end.upstream_dropped, true);
    assert.equal(end.appended_error, false);
  });

  test("Node SDK: a dropped chat stream raises APIError with code stream_interrupted", async () => {
    upstream.script((rec, res) => sseThenDrop(res, [chatEvent("one", 0), chatEvent("two", 1)]));
    const stream = await node().chat.completions.create({ ...chatBody, stream: true });
    const got = await eventsBeforeInterrupt(stream);
    assert.deepEqual(got.map((chunk) => chunk.choices[0]?.delta?.content), ["one", "two"]);
  });

  test("Node SDK: a dropped Responses stream raises APIError with code stream_interrupted", async () => {
    const created = 'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}\n\n';
    upstream.script((rec, res) => sseThenDrop(res, [created, "event: response.output_text.delta\n"]));
    const stream = await node().responses.create({ model: "gpt-4o-mini", input: "hi", stream: true });
    await assert.rejects(
      (async () => {
        for await (const _ of stream);
      })(),
      (e) => {
        assert.ok(e instanceof OpenAI.APIError, `APIError, got ${e?.constructor?.name}: ${e}`);
        assert.match(String(e.message), /closed before the response was complete/);
        return true;
      },
    );
  });

  test("Python SDK: a dropped chat stream raises APIError with code stream_interrupted", async () => {
    // Dropped between events; drops inside a `data:` line are below.
    upstream.script((rec, res) => sseThenDrop(res, [chatEvent("a", 0), chatEvent("b", 1)]));
    const out = await python({ base_url: `${w.url}/v1`, call: "chat_stream", params: chatBody, max_retries: 0 });
    assert.equal(out.ok, false, JSON.stringify(out));
    assert.equal(out.error, "APIError", JSON.stringify(out));
    assert.equal(out.code, "stream_interrupted");
    assert.deepEqual(out.chunks.map((c) => c.content), ["a", "b"]);
  });
});

describe("a drop inside a data: line still makes both SDKs raise APIError", () => {
  const fixture = (name) => fs.readFileSync(path.join(root, "tests", "streams", name));
  const chat = fixture("chat_rich.sse");
  const resp = fixture("responses_rich.sse");
  /** The byte offset `plus` bytes into the first occurrence of `marker` in `buf`. */
  const at = (buf, marker, plus) => {
    const i = buf.indexOf(Buffer.from(marker));
    assert.ok(i >= 0, `marker ${marker}`);
    return i + plus;
  };
  // Cuts inside a JSON token of a `data:` line: a character cut in half, an escape, a surrogate
  // pair, a number, a key.
  const chatCuts = {
    "mid multibyte character": at(chat, "世界", 1),
    "mid escape": at(chat, "back\\\\slash", 5),
    "mid \\u00e9": at(chat, "caf\\u00e9", 6),
    "mid surrogate pair": at(chat, "\\ud83d\\ude00", 8),
    "mid number": at(chat, "-1.5e-3", 6),
    "mid key": at(chat, '"finish_reason":"tool_calls"', 7),
  };
  const respCuts = {
    "mid multibyte character": at(resp, "Grüße", 3),
    "mid escape": at(resp, '\\"q\\"', 1),
    "mid nested array": at(resp, '"top_logprobs":[{"token":"x"', 20),
    "inside response.completed": at(resp, '"type":"response.completed"', 30),
  };
  const chunksBefore = (buf, cut) => buf.subarray(0, cut).toString("latin1").split("\n\n").length - 1;

  for (const [what, cut] of Object.entries(chatCuts)) {
    test(`Node SDK, Chat, ${what}`, async () => {
      upstream.script((rec, res) => sseCutAt(res, chat, cut));
      const stream = await node().chat.completions.create({ ...chatBody, stream: true });
      const got = await eventsBeforeInterrupt(stream);
      assert.equal(got.length, chunksBefore(chat, cut), "every whole chunk before the cut was yielded");
    });
  }

  for (const [what, cut] of Object.entries(respCuts)) {
    test(`Node SDK, Responses, ${what}`, async () => {
      upstream.script((rec, res) => sseCutAt(res, resp, cut));
      const stream = await node().responses.create({ model: "gpt-4.1", input: "hi", stream: true });
      const got = await eventsBeforeInterrupt(stream);
      assert.equal(got.length, chunksBefore(resp, cut));
    });
  }

  test("Node SDK: dropped after response.completed's data but before its blank line, the stream ends normally", async () => {
    const cut = resp.lastIndexOf(Buffer.from("\n\n"));
    upstream.script((rec, res) => sseCutAt(res, resp, cut));
    const stream = await node().responses.create({ model: "gpt-4.1", input: "hi", stream: true });
    const types = [];
    for await (const e of stream) types.push(e.type);
    assert.equal(types.at(-1), "response.completed");
    assert.equal(types.length, chunksBefore(resp, resp.length));
  });

  test("Node SDK: dropped inside data: [DONE], the chat stream ends normally with every chunk", async () => {
    const cut = chat.lastIndexOf(Buffer.from("[DONE]")) + 3;
    upstream.script((rec, res) => sseCutAt(res, chat, cut));
    const stream = await node().chat.completions.create({ ...chatBody, stream: true });
    let got = 0;
    for await (const _ of stream) got++;
    assert.equal(got, chunksBefore(chat, cut));
  });

  for (const what of ["mid multibyte character", "mid escape", "mid surrogate pair", "mid number"]) {
    test(`Python SDK, Chat, ${what}`, async () => {
      const cut = chatCuts[what];
      upstream.script((rec, res) => sseCutAt(res, chat, cut));
      const out = await python({ base_url: `${w.url}/v1`, call: "chat_stream", params: chatBody, max_retries: 0 });
      assert.equal(out.error, "APIError", JSON.stringify(out));
      assert.equal(out.code, "stream_interrupted");
      assert.equal(out.chunks.length, chunksBefore(chat, cut));
    });
  }

  for (const what of ["mid multibyte character", "mid escape", "inside response.completed"]) {
    test(`Python SDK, Responses, ${what}`, async () => {
      const cut = respCuts[what];
      upstream.script((rec, res) => sseCutAt(res, resp, cut));
      const out = await python({ base_url: `${w.url}/v1`, call: "responses_stream", params: { model: "gpt-4.1", input: "hi" }, max_retries: 0 });
      assert.equal(out.error, "APIError", JSON.stringify(out));
      assert.equal(out.code, "stream_interrupted");
      assert.equal(out.events.length, chunksBefore(resp, cut));
    });
  }
});

describe("Batch input files linted as they are uploaded", () => {
  const line = (id, extra = {}) =>
    JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${id}` }] }, ...extra }) + "\n";
  const fileObject = { id: "file-abc", object: "file", bytes: 1, created_at: 1, filename: "b.jsonl", purpose: "batch" };

  test("Node SDK: a bad line is reported by number and nothing reaches the upstream", async () => {
    upstream.script((rec, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(fileObject)));
    const text = line("r1") + line("r2") + "{not json}\n" + line("r2");
    const file = await OpenAI.toFile(Buffer.from(text), "b.jsonl");
    await assert.rejects(node().files.create({ file, purpose: "batch" }), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, `BadRequestError, got ${e?.constructor?.name}: ${e}`);
      assert.equal(e.code, "invalid_json_line");
      assert.equal(e.param, "file");
      assert.match(e.message, /Line 3:/);
      assert.match(e.message, /Line 4:/, "the duplicate custom_id too");
      return true;
    });
    assert.equal(upstream.requests.length, 0, "nothing reached the upstream");
  });

  test("Python SDK: a bad line is reported by number; a good upload arrives byte-identical", async () => {
    upstream.script((rec, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(fileObject)));
    const bad = await python({ base_url: `${w.url}/v1`, call: "upload", max_retries: 0, params: { purpose: "batch", text: line("a") + line("b", { method: "GET" }) } });
    assert.equal(bad.error, "BadRequestError", JSON.stringify(bad));
    assert.match(bad.body.message, /Line 2:/);
    assert.equal(upstream.requests.length, 0);

    const good = await python({ base_url: `${w.url}/v1`, call: "upload", max_retries: 0, params: { purpose: "batch", text: line("a") + line("b") } });
    assert.equal(good.ok, true, JSON.stringify(good));
    assert.equal(upstream.requests.length, 1);
    assert.ok(upstream.requests[0].body.includes(line("a") + line("b")));
  });

  test("a good upload arrives byte-identical, split in awkward chunks", async () => {
    upstream.script((rec, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(fileObject)));
    const boundary = "b0undary-XyZ";
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n` +
        line("x") + line("y") +
        `\r\n--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}--\r\n`,
    );
    // Written in 13-byte pieces with pauses, so the worker reads it in many chunks.
    const u = new URL(w.url);
    const res = await new Promise((resolve, reject) => {
      const req = http.request(
        { host: u.hostname, port: u.port, method: "POST", path: "/v1/files", headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length } },
        (r) => {
          r.resume();
          r.on("end", () => resolve({ status: r.statusCode }));
        },
      );
      req.on("error", reject);
      (async () => {
        for (let i = 0; i < body.length; i += 13) {
          req.write(body.subarray(i, i + 13));
          if (i % 130 === 0) await sleep(1);
        }
        req.end();
      })();
    });
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.length, 1);
    assert.ok(upstream.requests[0].body.equals(body));
  });
});
