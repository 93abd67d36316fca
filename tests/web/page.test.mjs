// Browser tests of the page in www/ (built by `cargo xtask web`), in Debian's headless Chromium
// driven by playwright-core. Run with `cargo xtask web-test` (or `node --test tests/web/page.test.mjs`
// after a build). Screenshots go to $AIRLOCK_WEB_ARTIFACTS (default target/web-artifacts/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const www = path.join(root, "www");
const artifacts = process.env.AIRLOCK_WEB_ARTIFACTS || path.join(root, "target", "web-artifacts");
const pastes = JSON.parse(fs.readFileSync(path.join(here, "pastes.json"), "utf8"));

// The headline label the page shows for each category (independent of the page's own table).
const LABELS = {
  invalid_request: "Invalid request", authentication: "Authentication failed",
  permission: "Permission denied", not_found: "Not found", conflict: "Conflict",
  unprocessable: "Unprocessable request", rate_limit: "Rate limit", quota: "Quota or billing",
  server_error: "Server error", overloaded: "Overloaded", timeout: "Timeout",
  connection: "Connection failure", context_length: "Context length exceeded",
  content_policy: "Content policy", stream_error: "Error inside a stream", batch_error: "Batch error",
  client_side: "Refused by the client library",
};
const ADVICE = { yes: /^Retry/, no: /^Don't retry: /, after_change: /^Change the request first/ };
const FAKE_KEY = "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9876";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json",
};

let server;
let origin;
let browser;
const requests = []; // every request any page made: [page label, url]

before(async () => {
  assert.ok(fs.existsSync(path.join(www, "pkg", "airlock_web_bg.wasm")), "run `cargo xtask web` first");
  fs.mkdirSync(artifacts, { recursive: true });
  server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const file = path.join(www, decodeURIComponent(url.pathname === "/" ? "/index.html" : url.pathname));
    if (!file.startsWith(www + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server ? server.close(resolve) : resolve());
});

/** A fresh page on `hash` (no leading #), with requests and console errors recorded. */
async function open(label, { hash = "", viewport, colorScheme = "light" } = {}) {
  const context = await browser.newContext({ viewport: viewport || { width: 1280, height: 900 }, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  const errors = [];
  page.on("request", (r) => requests.push([label, r.url()]));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${origin}/${hash ? "#" + hash : ""}`);
  await page.waitForSelector("body[data-ready=true]");
  page.consoleErrors = errors;
  return page;
}

async function close(page) {
  assert.deepEqual(page.consoleErrors, [], "no console errors");
  await page.context().close();
}

/** Pastes `text` and waits until the page has answered for it. */
async function paste(page, text) {
  await page.fill("#paste", "");
  await page.waitForFunction(() => document.getElementById("result").hidden);
  await page.fill("#paste", text);
  await page.waitForFunction(() => !document.getElementById("result").hidden
    || document.getElementById("status").textContent.startsWith("No OpenAI API error"));
}

async function shown(page) {
  return page.evaluate(() => ({
    found: !document.getElementById("result").hidden,
    label: document.getElementById("h-label").textContent,
    status: document.getElementById("h-status").textContent,
    sdk: document.getElementById("h-sdk").textContent,
    advice: document.getElementById("advice").textContent,
    decision: document.getElementById("advice").className.replace("advice ", ""),
    secret: !document.getElementById("secret-warning").hidden,
  }));
}

test(`${pastes.length} representative errors: headline and retry advice`, async () => {
  assert.ok(pastes.length >= 15);
  const page = await open("pastes");
  const wrong = [];
  for (const c of pastes) {
    await paste(page, c.input);
    const s = await shown(page);
    const problems = [];
    if (!s.found) problems.push("no error found");
    if (s.label !== LABELS[c.category]) problems.push(`label ${s.label} != ${LABELS[c.category]}`);
    if (s.decision !== c.retry || !ADVICE[c.retry].test(s.advice)) problems.push(`advice "${s.advice}" (${s.decision}) != ${c.retry}`);
    if (c.status && s.status !== `HTTP ${c.status}`) problems.push(`status ${s.status} != ${c.status}`);
    if (c.python && !s.sdk.includes(`Python: ${c.python}`)) problems.push(`sdk "${s.sdk}" lacks ${c.python}`);
    if (c.node && !s.sdk.includes(`Node: ${c.node}`)) problems.push(`sdk "${s.sdk}" lacks ${c.node}`);
    if (c.after_ms === 20000 && !s.advice.includes("wait 20 s")) problems.push(`advice "${s.advice}" lacks "wait 20 s"`);
    if (problems.length) wrong.push(`${c.name}: ${problems.join("; ")}`);
  }
  await close(page);
  assert.deepEqual(wrong, [], "every paste is diagnosed as expected");
});

test("a 429 shows which limit, its numbers and the decoded headers with durations and clock times", async () => {
  const page = await open("ratelimit");
  await page.click("button[data-example=rate]");
  await page.waitForFunction(() => !document.getElementById("ratelimit").hidden);
  const rl = await page.evaluate(() => ({
    fields: document.getElementById("rl-fields").innerText,
    rows: [...document.querySelectorAll("#rl-headers tbody tr")].map((r) => [...r.cells].map((c) => c.textContent)),
  }));
  assert.match(rl.fields, /RPM/);
  assert.match(rl.fields, /Limit\s+3/);
  assert.match(rl.fields, /Used\s+3/);
  assert.match(rl.fields, /Requested\s+1/);
  assert.equal(rl.rows.length, 1);
  const [window, limit, remaining, resetsIn, resetsAt] = rl.rows[0];
  assert.deepEqual([window, limit, remaining], ["Requests", "3", "0"]);
  assert.match(resetsIn, /^20 s/);
  assert.match(resetsAt, /\d{1,2}:\d{2}:\d{2}/);
  await page.screenshot({ path: path.join(artifacts, "desktop-rate-limit.png"), fullPage: true });

  // Both windows, Go-style durations.
  await paste(page, [
    "HTTP/1.1 429 Too Many Requests",
    "content-type: application/json",
    "x-request-id: req_0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "x-ratelimit-limit-requests: 10000",
    "x-ratelimit-limit-tokens: 2000000",
    "x-ratelimit-remaining-requests: 9999",
    "x-ratelimit-remaining-tokens: 0",
    "x-ratelimit-reset-requests: 6ms",
    "x-ratelimit-reset-tokens: 6m0s",
    "",
    '{"error":{"message":"Rate limit reached for gpt-4o in organization org-FAKEfakeFAKEfakeFAKEfake on tokens per min (TPM): Limit 2000000, Used 1995000, Requested 8000. Please try again in 240ms.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}',
  ].join("\n"));
  const two = await page.evaluate(() => ({
    fields: document.getElementById("rl-fields").innerText,
    ids: document.getElementById("fields").innerText,
    rows: [...document.querySelectorAll("#rl-headers tbody tr")].map((r) => [...r.cells].map((c) => c.textContent)),
  }));
  assert.match(two.fields, /TPM \(tokens per minute\)/);
  assert.match(two.fields, /Limit\s+2,000,000/);
  assert.match(two.fields, /Used\s+1,995,000/);
  assert.match(two.fields, /Requested\s+8,000/);
  assert.match(two.ids, /req_0a1b2c3d4e5f60718293a4b5c6d7e8f9/);
  assert.deepEqual(two.rows.map((r) => r.slice(0, 4)), [
    ["Requests", "10,000", "9,999", "6 ms"],
    ["Tokens", "2,000,000", "0", "6 min (6m0s)"],
  ]);
  await close(page);
});

test("a paste with a key warns, and neither the bundle nor the link carries the key", async () => {
  const page = await open("secret");
  const text = `openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key provided: ${FAKE_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.', 'type': 'invalid_request_error', 'param': None, 'code': 'invalid_api_key'}}\nAuthorization: Bearer ${FAKE_KEY}`;
  await paste(page, text);
  const s = await shown(page);
  assert.equal(s.secret, true, "the warning shows");
  assert.ok(await page.isVisible("#secret-warning"));
  const bundle = await page.inputValue("#bundle");
  assert.ok(bundle.length > 0, "a bundle is offered");
  assert.ok(!bundle.includes(FAKE_KEY) && !bundle.includes(FAKE_KEY.slice(8, 30)), "bundle is masked");
  await page.click("#make-link");
  const link = await page.inputValue("#link");
  assert.ok(link.startsWith(`${origin}/#`), link);
  assert.ok(!decodeURIComponent(link).includes(FAKE_KEY.slice(8, 30)), "link is masked");
  assert.ok(!page.url().includes(FAKE_KEY.slice(8, 30)), "address bar is masked");
  await close(page);
});

test("a permalink reopens the same paste and request, from the fragment only", async () => {
  const page = await open("make-link");
  const example = "button[data-example=quota]";
  await page.click(example);
  await page.waitForFunction(() => !document.getElementById("result").hidden);
  const before = await shown(page);
  await page.selectOption("#endpoint", "/v1/embeddings");
  await page.fill("#body", '{"model": "text-embedding-3-small", "input": "hello"}');
  await page.click("#make-link");
  const link = await page.inputValue("#link");
  const url = new URL(link);
  assert.equal(url.search, "", "nothing in the query string");
  assert.equal(url.pathname, "/");
  await close(page);

  const reopened = await open("follow-link", { hash: url.hash.slice(1) });
  await reopened.waitForFunction(() => !document.getElementById("result").hidden);
  assert.deepEqual(await shown(reopened), before);
  assert.equal(await reopened.inputValue("#endpoint"), "/v1/embeddings");
  assert.equal(await reopened.inputValue("#body"), '{"model": "text-embedding-3-small", "input": "hello"}');
  const served = requests.filter(([label]) => label === "follow-link").map(([, u]) => new URL(u));
  assert.ok(served.every((u) => u.hash === "" && !u.search), "the fragment never reaches the server");
  await close(reopened);
});

test("check a request: a valid body passes, a broken one is answered as OpenAI would", async () => {
  const page = await open("check");
  await page.selectOption("#endpoint", "/v1/chat/completions");
  await page.fill("#body", '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}');
  await page.waitForFunction(() => document.getElementById("verdict").classList.contains("ok"));
  assert.match(await page.textContent("#verdict"), /OpenAI would accept this request/);
  // Token counts come from the tokenizer module, loaded only now, when the build has it.
  const tokenizer = /TOKENIZER = true/.test(fs.readFileSync(path.join(www, "pkg", "features.js"), "utf8"));
  await page.waitForFunction(() => !/Counting|^$/.test(document.getElementById("tokens").textContent));
  assert.match(await page.textContent("#tokens"),
    tokenizer ? /^Tokens \(o200k_base\): 8 input \(2 exact, 6 estimated\) · context window 128,000 · max output 16,384$/ : /not part of this build/);
  const loaded = (label) => requests.some(([l, u]) => l === label && u.includes("/pkg/tokenizer/"));
  assert.equal(loaded("check"), tokenizer, "the tokenizer is loaded once a body is checked");
  assert.equal(loaded("pastes"), false, "explaining errors never loads the tokenizer");
  await page.fill("#body", '{"model": "gpt-4o-mini", "messages": [');
  await page.waitForFunction(() => document.getElementById("verdict").classList.contains("bad"));
  assert.match(await page.textContent("#verdict"), /HTTP 400\. We could not parse the JSON body of your request\./);
  assert.equal(JSON.parse(await page.textContent("#answer")).error.type, "invalid_request_error");
  assert.match(await page.textContent("#tokens"), /Token/);
  await close(page);
});

test("check a request: text over the context window is rejected once the tokenizer counted it", async (t) => {
  if (!/TOKENIZER = true/.test(fs.readFileSync(path.join(www, "pkg", "features.js"), "utf8"))) {
    t.skip("no tokenizer in this build");
    return;
  }
  const page = await open("check-budget");
  await page.selectOption("#endpoint", "/v1/chat/completions");
  const big = (n, extra) => JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: " word".repeat(n) }], ...extra });
  await page.fill("#body", big(128500));
  await page.waitForFunction(() => /^Tokens/.test(document.getElementById("tokens").textContent));
  assert.match(await page.textContent("#verdict"),
    /^OpenAI would reject this request: HTTP 400 context_length_exceeded\. This model's maximum context length is 128000 tokens\./);
  assert.equal(JSON.parse(await page.textContent("#answer")).error.param, "messages");
  assert.match(await page.textContent("#tokens"), /128,501 exact/);
  // Under the window with a large output: a warning, and the request passes.
  await page.fill("#body", big(127000, { max_tokens: 16000 }));
  await page.waitForFunction(() => /16,000 output/.test(document.getElementById("tokens").textContent));
  assert.match(await page.textContent("#verdict"), /OpenAI would accept this request/);
  assert.match(await page.textContent("#warnings"), /Warning \(context_length\): This request may not fit/);
  await close(page);
});

test("check a request: a body the validators reject shows OpenAI's error body", async () => {
  const page = await open("check-reject");
  await page.selectOption("#endpoint", "/v1/chat/completions");
  await page.fill("#body", '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}], "temperature": 5}');
  await page.waitForFunction(() => document.getElementById("verdict").classList.contains("bad"));
  assert.match(await page.textContent("#verdict"),
    /^OpenAI would reject this request: HTTP 400 decimal_above_max_value\. Invalid 'temperature'/);
  const answer = JSON.parse(await page.textContent("#answer"));
  assert.deepEqual(Object.keys(answer.error), ["message", "type", "param", "code"], "OpenAI's field order");
  assert.equal(answer.error.type, "invalid_request_error");
  assert.equal(answer.error.param, "temperature");
  // Fixing the body clears the verdict.
  await page.fill("#body", '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}], "temperature": 1}');
  await page.waitForFunction(() => document.getElementById("verdict").classList.contains("ok"));
  assert.equal(await page.isVisible("#answer"), false);
  await close(page);
});

test("check a request: nested parts are checked against the request schema (jsonschema in wasm)", async () => {
  const page = await open("check-nested");
  await page.selectOption("#endpoint", "/v1/chat/completions");
  await page.fill("#body", '{"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "pdf"}]}]}');
  await page.waitForFunction(() => document.getElementById("verdict").classList.contains("bad"));
  const answer = JSON.parse(await page.textContent("#answer"));
  assert.equal(answer.error.param, "messages[0].content[0].type");
  assert.equal(answer.error.code, "invalid_value");
  assert.match(answer.error.message, /^Invalid value: 'pdf'\. Supported values are: /);
  await page.fill("#body", '{"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}');
  await page.waitForFunction(() => document.getElementById("verdict").classList.contains("ok"));
  await close(page);
});

test("works offline once loaded", async () => {
  const page = await open("offline");
  await page.context().setOffline(true);
  await paste(page, pastes[0].input);
  assert.equal((await shown(page)).found, true);
  assert.match(await page.textContent("#privacy"), /works offline/);
  await close(page);
});

test("keyboard: focus order follows the page and focus is visible", async () => {
  const page = await open("keyboard");
  const order = [];
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      if (el === document.body) return null; // past the last control
      const style = getComputedStyle(el);
      return {
        key: el.id || el.dataset.example || el.textContent.trim().slice(0, 40),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
      };
    });
    if (!f || order.some((o) => o.key === f.key)) break;
    order.push(f);
  }
  const keys = order.map((o) => o.key);
  const expected = ["Skip to the paste box", "Explain an error", "Check a request", "Traffic", "paste",
    "quota", "rate", "key", "region", "context", "schema", "overloaded", "stream", "batch",
    "make-link", "link", "endpoint", "body", "traffic-token", "traffic-show", "traffic-forget"];
  assert.deepEqual(keys.slice(0, expected.length), expected);
  assert.deepEqual(order.filter((o) => !o.outline).map((o) => o.key), [], "every focused control shows an outline");
  // The examples work from the keyboard.
  await page.focus("button[data-example=region]");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("paste").value.includes("unsupported_country"));
  await close(page);
});

test("every control has an accessible name", async () => {
  const page = await open("labels");
  await page.click("button[data-example=quota]");
  await page.waitForFunction(() => !document.getElementById("result").hidden);
  await page.click("#bundle-box summary");
  const unnamed = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea, button, summary, a[href], [tabindex]")]
    .filter((el) => {
      const labelled = el.labels && [...el.labels].some((l) => l.textContent.trim());
      const aria = el.getAttribute("aria-label") || (el.getAttribute("aria-labelledby") || "")
        .split(" ").map((id) => document.getElementById(id)?.textContent.trim()).join("");
      const text = ["BUTTON", "SUMMARY", "A"].includes(el.tagName) && el.textContent.trim();
      return !(labelled || aria || text);
    })
    .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
  await close(page);
});

test("text contrast is at least 4.5:1 in light and dark mode", async () => {
  for (const colorScheme of ["light", "dark"]) {
    const page = await open(`contrast-${colorScheme}`, { colorScheme });
    await page.click("button[data-example=rate]");
    await page.waitForFunction(() => !document.getElementById("result").hidden);
    await page.click("#bundle-box summary");
    await page.fill("#body", "{");
    await page.waitForFunction(() => /bad/.test(document.getElementById("verdict").className));
    const low = await page.evaluate(() => {
      const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const background = (el) => {
        for (; el; el = el.parentElement) {
          const c = rgb(getComputedStyle(el).backgroundColor);
          if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || !el.checkVisibility() || el.closest(".visually-hidden, .skip")) continue;
        const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) out.push(`${ratio.toFixed(2)} ${el.tagName}#${el.id}: ${n.textContent.trim().slice(0, 30)}`);
      }
      return out;
    });
    assert.deepEqual(low, [], `${colorScheme}: low-contrast text`);
    await close(page);
  }
});

test("screenshots: desktop, phone, dark", async () => {
  const shots = [
    ["desktop-quota", { viewport: { width: 1280, height: 900 } }, "quota"],
    ["phone-rate-limit", { viewport: { width: 390, height: 844 } }, "rate"],
    ["phone-dark-context", { viewport: { width: 390, height: 844 }, colorScheme: "dark" }, "context"],
    ["desktop-dark-stream", { viewport: { width: 1280, height: 900 }, colorScheme: "dark" }, "stream"],
  ];
  for (const [name, options, example] of shots) {
    const page = await open(name, options);
    await page.click(`button[data-example=${example}]`);
    await page.waitForFunction(() => !document.getElementById("result").hidden);
    await page.click("#bundle-box summary");
    await page.fill("#body", '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}');
    await page.waitForFunction(() => /ok|bad/.test(document.getElementById("verdict").className));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: no sideways scrolling (${overflow}px too wide)`);
    const spill = await page.evaluate(() => {
      const box = document.getElementById("result").getBoundingClientRect();
      return [...document.querySelectorAll("#result *")]
        .filter((el) => el.getBoundingClientRect().right > box.right + 1)
        .map((el) => `${el.tagName}#${el.id} ${el.textContent.slice(0, 30)}`);
    });
    assert.deepEqual(spill, [], `${name}: nothing spills out of the result card`);
    await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
    await page.locator("#result").screenshot({ path: path.join(artifacts, `${name}-result.png`) });
    await close(page);
  }
});

// Issue 16: served without a worker (this plain file server), the Traffic view asks
// /airlock/status only when the visitor gives a token, then says it is unavailable.
test("Traffic without a worker: nothing asked until a token is given, then 'unavailable'", async () => {
  const page = await open("traffic-no-worker");
  assert.ok(!requests.some(([l, u]) => l === "traffic-no-worker" && u.includes("/airlock/")), "no request on load");
  assert.match(await page.textContent("#traffic-status"), /^Not loaded/);
  await page.fill("#traffic-token", "some-token");
  await page.click("#traffic-show");
  await page.waitForFunction(() => /unavailable/.test(document.getElementById("traffic-status").textContent));
  assert.match(await page.textContent("#traffic-status"), /not served by an Airlock worker \(HTTP 404/);
  assert.equal(await page.isHidden("#traffic-view"), true);
  // The browser notes the 404 in its console; nothing else went wrong.
  page.consoleErrors = page.consoleErrors.filter((e) => !/404/.test(e));
  // Explaining still works.
  await page.click("button[data-example=quota]");
  await page.waitForFunction(() => !document.getElementById("result").hidden);
  await close(page);
});

test("no request left the page's origin", () => {
  assert.ok(requests.length > 0);
  const outside = requests.filter(([, u]) => !u.startsWith(origin + "/") && !u.startsWith("data:"));
  assert.deepEqual(outside, []);
  // Only the page's own files: nothing but these paths was ever asked for.
  // (The Traffic view's own request, made only when a token was given, is the one exception.)
  const paths = new Set(requests
    .filter(([label, u]) => !(label === "traffic-no-worker" && new URL(u).pathname === "/airlock/status"))
    .map(([, u]) => new URL(u).pathname));
  for (const p of paths) {
    assert.ok(p === "/" || fs.existsSync(path.join(www, p)), `requested a file that does not exist: ${p}`);
  }
});

// Issue 17: the same meta-schema verdict as the CLI (crates/airlock-cli/tests/budget.rs,
// jsonschema_crate_meta_check) and the worker (tests/e2e/output.test.mjs): a function schema
// only the `jsonschema` crate finds invalid is a warning, never a rejection.
test("check a request: the jsonschema meta-schema check warns, as in the CLI and the worker", async () => {
  const page = await open("check-meta");
  await page.selectOption("#endpoint", "/v1/chat/completions");
  await page.fill("#body", JSON.stringify({
    model: "gpt-4o", messages: [{ role: "user", content: "hi" }],
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { type: "string", uniqueItems: "yes" } } } } }],
  }));
  await page.waitForFunction(() => /json_schema_valid/.test(document.getElementById("warnings").textContent));
  assert.match(await page.textContent("#verdict"), /OpenAI would accept this request/);
  await close(page);
});
