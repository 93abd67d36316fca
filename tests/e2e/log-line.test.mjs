// End to end (issue 17, part 4): the worker's REAL log lines, captured from workerd (Miniflare),
// validated against the committed `schemas/log-line.json` with the `jsonschema` crate (through
// `airlock schemas validate`). One scenario per kind of line: a forwarded 200, a rejection, an
// upstream 429, streams (completed and dropped: `stream_end`), a 200 cut mid-body (`body_end`),
// a Batch upload (`upload_end`), simulate mode (`simulate`), a Monitor alert (`alert`) and a
// restarted pacer (`"pacer": "restored from storage"`).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { completion, errors, reply, replyError, sleep, sse, sseThenDrop, startFakeUpstream, startUploadUpstream, streamChunk } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const schemaFile = path.join(root, "schemas", "log-line.json");
const chat = (extra = {}) => JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }], ...extra });

/**
 * Runs `airlock schemas validate schemas/log-line.json -` on `lines` (JSON text, one per line);
 * returns its exit status and output.
 */
function validate(lines) {
  const out = spawnSync("cargo", ["run", "-q", "-p", "airlock-cli", "--", "schemas", "validate", schemaFile, "-"], {
    cwd: root,
    input: lines.join("\n") + "\n",
    encoding: "utf8",
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** The worker's JSON lines, as written (text from the first `{`), each parsed too. */
function jsonLines(w) {
  const out = [];
  for (const l of w.logs) {
    const at = l.indexOf("{");
    if (at < 0) continue;
    const text = l.slice(at);
    try {
      out.push({ text, value: JSON.parse(text) });
    } catch {
      // Not a line of the worker's (a runtime message quoting an object): not described.
    }
  }
  return out;
}

const post = (w, body, headers = {}, p = "/v1/chat/completions") =>
  fetch(`${w.url}${p}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-client-key-0000", ...headers },
    body,
    signal: AbortSignal.timeout(20_000),
  }).then(async (r) => ({ status: r.status, text: await r.text().catch(() => "") }));

/** Waits until `pred` holds for some parsed line. */
async function lineWhere(w, pred, what) {
  for (let i = 0; i < 100; i++) {
    if (jsonLines(w).some((l) => pred(l.value))) return;
    await sleep(50);
  }
  assert.fail(`no ${what} line:\n${w.logs.join("\n")}`);
}

/** No test may hang the file. */
const T = { timeout: 120_000 };
const captured = [];
let upstream;
before(async () => {
  upstream = await startFakeUpstream();
});
after(async () => {
  await upstream.close();
});

describe("log lines captured from workerd", () => {
  test("requests, rejections, upstream errors, streams, a cut body, simulate", T, async () => {
    const w = await startWorker({ UPSTREAM_URL: upstream.url, UPSTREAM_TIMEOUT_MS: "3000", SIMULATE: "on" });
    try {
      upstream.script((rec, res) => reply(res, 200, completion()));
      assert.equal((await post(w, chat())).status, 200);
      // Certainly rejected by OpenAI: a message without its role.
      const rejected = await post(w, JSON.stringify({ model: "gpt-4o-mini", messages: [{ content: "hi" }] }));
      assert.equal(rejected.status, 400, rejected.text);
      // Only warned: an unknown parameter (never blocked), so the line has `warnings`.
      assert.equal((await post(w, chat({ not_a_param: 1 }))).status, 200);
      upstream.script((rec, res) => replyError(res, errors.rateLimitRpm));
      assert.equal((await post(w, chat())).status, 429);
      upstream.script((rec, res) => sse(res, [streamChunk("Hel", 0), streamChunk("lo", 1)], 5));
      assert.equal((await post(w, chat({ stream: true }))).status, 200);
      upstream.script((rec, res) => sseThenDrop(res, [`data: ${JSON.stringify(streamChunk("Hel", 0))}\n\n`], 5));
      await post(w, chat({ stream: true }));
      upstream.script((rec, res) => reply(res, 200, completion()));
      assert.equal((await post(w, chat(), { "x-airlock-simulate": "rate_limit" })).status, 429);
      // A non-JSON body and an unknown path: lines without a model or a check.
      await post(w, "not json");
      await fetch(`${w.url}/v1/models`).then((r) => r.arrayBuffer());
      // Last: the connection of a 200 cut mid-body is not reused.
      upstream.script((rec, res) => {
        res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_cut_ok" });
        res.write('{"id": "chatcmpl-cut", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Half');
        setTimeout(() => res.socket.destroy(), 50);
      });
      await post(w, chat()).catch(() => {});

      await lineWhere(w, (l) => l.event === "stream_end" && l.upstream_dropped, "dropped stream_end");
      await lineWhere(w, (l) => l.event === "body_end", "body_end");
      const lines = jsonLines(w);
      const values = lines.map((l) => l.value);
      const requests = values.filter((l) => !("event" in l) && !("pacer" in l));
      assert.ok(requests.some((l) => l.status === 200 && l.upstream_request_id === "req_upstream_ok"), "a forwarded 200");
      assert.ok(requests.some((l) => l.status === 400 && l.rule), "a rejection with its rule");
      assert.ok(requests.some((l) => Array.isArray(l.warnings) && l.warnings.length > 0), "a line with warnings");
      assert.ok(requests.some((l) => l.status === 429 && l.category === "rate_limit" && !l.simulated), "an upstream 429");
      assert.ok(requests.some((l) => l.simulated === true), "a simulated answer");
      const kinds = new Set(values.map((l) => l.event).filter(Boolean));
      for (const k of ["stream_end", "body_end", "simulate"]) assert.ok(kinds.has(k), `a ${k} line: ${[...kinds]}`);
      captured.push(...lines.map((l) => l.text));
      const v = validate(lines.map((l) => l.text));
      assert.equal(v.status, 0, `${v.stdout}\n${v.stderr}`);
      assert.match(v.stdout, new RegExp(`^${lines.length} valid, 0 invalid$`, "m"));
    } finally {
      await w.dispose();
    }
  });

  test("a Batch upload's upload_end line", T, async () => {
    const up = await startUploadUpstream();
    const w = await startWorker({ UPSTREAM_URL: up.url });
    try {
      const line = JSON.stringify({ custom_id: "a", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } });
      const B = "airlock-log-line-test";
      const body = Buffer.from(
        `--${B}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
          `--${B}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n${line}\n\r\n--${B}--\r\n`,
      );
      const res = await fetch(`${w.url}/v1/files`, {
        method: "POST",
        headers: { "content-type": `multipart/form-data; boundary=${B}`, authorization: "Bearer sk-client-key-0000" },
        body,
        signal: AbortSignal.timeout(20_000),
      });
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      await lineWhere(w, (l) => l.event === "upload_end", "upload_end");
      const lines = jsonLines(w).map((l) => l.text);
      captured.push(...lines);
      const v = validate(lines);
      assert.equal(v.status, 0, `${v.stdout}\n${v.stderr}`);
    } finally {
      await w.dispose();
      await up.close();
    }
  });

  test("a Monitor alert line", T, async () => {
    const w = await startWorker(
      { UPSTREAM_URL: upstream.url, MONITOR_FLUSH_MS: "20" },
      { durableObjects: { MONITOR: { className: "Monitor", useSQLite: true } } },
    );
    try {
      upstream.script((rec, res) => replyError(res, errors.serverError));
      for (let i = 0; i < 8; i++) assert.equal((await post(w, chat())).status, 500);
      await lineWhere(w, (l) => l.event === "alert", "alert");
      const lines = jsonLines(w).map((l) => l.text);
      captured.push(...lines);
      const v = validate(lines);
      assert.equal(v.status, 0, `${v.stdout}\n${v.stderr}`);
    } finally {
      await w.dispose();
    }
  });

  test("a restarted pacer's restored line", T, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "airlock-logline-pacer-"));
    const vars = { UPSTREAM_URL: upstream.url, PACING: "on" };
    try {
      upstream.script((rec, res) => reply(res, 200, completion(), errors.rateLimitRpm.headers));
      const first = await startWorker(vars, { pacer: true, persist: dir });
      assert.equal((await post(first, chat())).status, 200);
      await sleep(200); // the pacer learns the headers through waitUntil
      await first.dispose();
      const again = await startWorker(vars, { pacer: true, persist: dir });
      try {
        assert.equal((await post(again, chat())).status, 200);
        await lineWhere(again, (l) => l.pacer === "restored from storage", "pacer restored");
        const lines = jsonLines(again).map((l) => l.text);
        captured.push(...lines);
        const v = validate(lines);
        assert.equal(v.status, 0, `${v.stdout}\n${v.stderr}`);
      } finally {
        await again.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the validator is not a rubber stamp: a captured line with a key added, removed or mistyped fails", (t) => {
    assert.ok(captured.length >= 10, `lines captured: ${captured.length}`);
    const kinds = {};
    for (const text of captured) {
      const v = JSON.parse(text);
      const kind = v.event ?? (v.pacer ? "pacer" : "request");
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    t.diagnostic(`validated ${captured.length} real lines: ${JSON.stringify(kinds)}`);
    const request = JSON.parse(captured.find((t) => !t.includes('"event"') && !t.includes('"pacer"')));
    const streamEnd = JSON.parse(captured.find((t) => t.includes('"event":"stream_end"')));
    const bad = [
      { ...request, surprise: 1 },
      { ...request, status: String(request.status) },
      (({ checked, ...rest }) => rest)(request),
      { ...streamEnd, event: "stream_ended" },
      (({ state, ...rest }) => rest)(streamEnd),
    ];
    for (const b of bad) {
      const v = validate([JSON.stringify(b)]);
      assert.equal(v.status, 1, `accepted: ${JSON.stringify(b)}\n${v.stdout}`);
      assert.match(v.stdout, /^0 valid, 1 invalid$/m);
    }
  });
});
