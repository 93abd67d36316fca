// The worker with its static assets (the explainer page from www/, as wrangler.toml's [assets]),
// and the log line's prompt text (LOG_PROMPTS).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { completion, reply, sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { assetsDir, startWorker } from "./harness.mjs";

const prompt = "Summarise the meeting notes about the blue giraffe";
const leakedKey = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const chat = { model: "gpt-4o-mini", messages: [{ role: "user", content: `${prompt}; my key is ${leakedKey}` }] };

let upstream;
before(async () => {
  upstream = await startFakeUpstream();
});
after(async () => {
  await upstream.close();
});

describe("the explainer page at /", () => {
  let w;
  before(async () => {
    w = await startWorker({ UPSTREAM_URL: upstream.url });
  });
  after(async () => {
    await w.dispose();
  });

  test("GET / is the page from www/, and the upstream is not called", async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const before = upstream.requests.length;
    const res = await fetch(`${w.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.equal(html, fs.readFileSync(path.join(assetsDir, "index.html"), "utf8"));
    // The page's own script and its wasm glue are served too.
    for (const file of ["app.js", "pkg/airlock_web.js", "pkg/airlock_web_bg.wasm"]) {
      const r = await fetch(`${w.url}/${file}`);
      assert.equal(r.status, 200, file);
      assert.equal(Buffer.from(await r.arrayBuffer()).length, fs.statSync(path.join(assetsDir, file)).size, file);
    }
    assert.equal(upstream.requests.length, before, "no upstream call for the page");
  });

  test("/v1/* and /healthz still reach the worker", async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const health = await fetch(`${w.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");

    const before = upstream.requests.length;
    const ok = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get("x-airlock-request-id"), "answered by the worker");
    await ok.arrayBuffer();
    assert.equal(upstream.requests.length, before + 1, "forwarded upstream");

    // A request the rules reject is answered by the worker itself, not by the asset server.
    const bad = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "o1-mini", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }] }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, "messages[0].role");
    assert.equal(upstream.requests.length, before + 1);
  });

  test("by default no prompt text is logged", async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chat),
    });
    await res.arrayBuffer();
    await sleep(100);
    const lines = w.logLines().filter((l) => l.path === "/v1/chat/completions");
    assert.ok(lines.length >= 1, "a log line was written");
    const logs = w.logs.join("\n");
    assert.ok(!logs.includes("blue giraffe"), "prompt text in the logs");
    assert.ok(!logs.includes(leakedKey), "key in the logs");
    for (const l of lines) assert.ok(!("prompt" in l));
  });
});

describe("LOG_PROMPTS=true", () => {
  let w;
  before(async () => {
    w = await startWorker({ UPSTREAM_URL: upstream.url, LOG_PROMPTS: "true" });
  });
  after(async () => {
    await w.dispose();
  });

  test("the log line has the prompt, with the key in it masked", async () => {
    upstream.script((rec, res) => reply(res, 200, completion()));
    const res = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chat),
    });
    await res.arrayBuffer();
    await sleep(100);
    const line = w.logLines().find((l) => l.path === "/v1/chat/completions");
    assert.ok(line, "a log line was written");
    assert.ok(line.prompt.startsWith(prompt), line.prompt);
    assert.ok(!w.logs.join("\n").includes(leakedKey), "key in the logs");
  });
});
