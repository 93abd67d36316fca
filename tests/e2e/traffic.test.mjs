// The explainer page's Traffic view (issue 16), in headless Chromium, served by the real worker
// (workerd through Miniflare, the page as its static assets, the Monitor bound) after traffic
// from the fake upstream: the charts and their table show the right counts, a wrong token shows
// the 401 message and no data, and a screenshot is saved under target/ (web-artifacts/).
// playwright-core comes from tests/web/node_modules (as for `cargo xtask web-test`).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { completion, errors, reply, replyError, sleep, startFakeUpstream } from "./fake-upstream.mjs";
import { startWorker } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const artifacts = process.env.AIRLOCK_WEB_ARTIFACTS
  || path.join(process.env.CARGO_TARGET_DIR || path.join(root, "target"), "web-artifacts");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const ADMIN = "admin-token-for-the-page-0123456789";
const MONITOR = { MONITOR: { className: "Monitor", useSQLite: true } };
const chat = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

let upstream;
let w;
let browser;
const requests = []; // every URL the pages asked for

before(async () => {
  assert.ok(fs.existsSync(path.join(root, "www", "pkg", "airlock_web_bg.wasm")), "run `cargo xtask web` first");
  assert.ok(fs.existsSync(chromiumPath), `Chromium is needed at ${chromiumPath} (or set CHROMIUM)`);
  fs.mkdirSync(artifacts, { recursive: true });
  upstream = await startFakeUpstream();
  w = await startWorker(
    { UPSTREAM_URL: upstream.url, MONITOR_FLUSH_MS: "20", ADMIN_TOKEN: ADMIN, SIMULATE: "on" },
    { durableObjects: MONITOR },
  );
  const send = async (extra = {}) => {
    const r = await fetch(`${w.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-test", ...extra },
      body: chat,
    });
    await r.arrayBuffer();
    return r.status;
  };
  upstream.script((rec, res) => reply(res, 200, completion()));
  for (let i = 0; i < 3; i++) assert.equal(await send(), 200);
  upstream.script((rec, res) => replyError(res, errors.rateLimitRpm));
  for (let i = 0; i < 2; i++) assert.equal(await send(), 429);
  upstream.script((rec, res) => replyError(res, errors.serverError));
  for (let i = 0; i < 4; i++) assert.equal(await send(), 500);
  // A simulated 429: counted apart, not in the charts.
  assert.equal(await send({ "x-airlock-simulate": "rate_limit" }), 429);
  // Wait until the Monitor holds all of it.
  for (let i = 0; ; i++) {
    const s = await (await fetch(`${w.url}/airlock/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
    const n = (k) => (s.totals_24h.category ?? []).find((c) => c.key === k)?.count ?? 0;
    if (n("ok") === 3 && n("rate_limit") === 2 && n("server_error") === 4) break;
    assert.ok(i < 100, `the Monitor never got the counts: ${JSON.stringify(s.totals_24h)}`);
    await sleep(100);
  }
  const require = createRequire(path.join(root, "tests", "web", "package.json"));
  const { chromium } = require("playwright-core");
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await w?.dispose();
  await upstream?.close();
});

async function open(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, colorScheme: "light" });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.consoleErrors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => { if (m.type() === "error") page.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => page.consoleErrors.push(String(e)));
  await page.goto(`${w.url}/`);
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

async function submitToken(page, token) {
  await page.fill("#traffic-token", token);
  await page.click("#traffic-show");
  await page.waitForFunction(() => !/^(Loading|Not loaded)/.test(document.getElementById("traffic-status").textContent));
}

const tableRows = (page) => page.evaluate(() => Object.fromEntries(
  [...document.querySelectorAll("#traffic-table tbody tr")].map((tr) => [tr.dataset.category, [...tr.cells].map((c) => c.textContent)]),
));

describe("the Traffic view", () => {
  test("before a token: nothing is asked of the worker", async () => {
    const page = await open();
    const asked = requests.filter((u) => u.includes("/airlock/"));
    assert.deepEqual(asked, [], "no status request without the visitor asking");
    assert.equal(await page.isHidden("#traffic-view"), true);
    assert.match(await page.textContent("#traffic-status"), /^Not loaded/);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  });

  test("a wrong token shows the 401 message and no data", async () => {
    const page = await open();
    await submitToken(page, "not-the-token");
    assert.match(await page.textContent("#traffic-status"), /not accepted \(HTTP 401\)/);
    assert.equal(await page.isHidden("#traffic-view"), true);
    assert.deepEqual(await tableRows(page), {});
    assert.equal(await page.locator("#traffic-charts svg").count(), 0);
    const text = await page.textContent("body");
    assert.ok(!text.includes("not-the-token"), "the token is not shown");
    // The only console error is the browser's own note of the 401.
    assert.ok(page.consoleErrors.every((e) => /401/.test(e)), page.consoleErrors.join("\n"));
    await page.context().close();
  });

  test("the right token: charts and table with the counts, alert state, meaning and first fix; screenshot", async () => {
    const page = await open();
    await submitToken(page, ADMIN);
    await page.waitForFunction(() => !document.getElementById("traffic-view").hidden);
    const rows = await tableRows(page);
    assert.deepEqual(Object.keys(rows).sort(), ["ok", "rate_limit", "server_error"], JSON.stringify(rows));
    // [category, last hour, last 24 h, alert, meaning, first fix]
    assert.deepEqual(rows.ok.slice(1, 3), ["3", "3"]);
    assert.deepEqual(rows.rate_limit.slice(1, 3), ["2", "2"]);
    assert.deepEqual(rows.server_error.slice(1, 3), ["4", "4"]);
    assert.match(rows.rate_limit[0], /^Rate limit \(rate_limit\)$/);
    assert.match(rows.server_error[3], /^quiet \(4 in 5 min\)$/);
    for (const c of ["rate_limit", "server_error"]) {
      assert.ok(rows[c][4].length > 20, `${c} meaning: ${rows[c][4]}`);
      assert.ok(rows[c][5].length > 10, `${c} first fix: ${rows[c][5]}`);
    }
    // The charts: two per category, with text equivalents that carry the same numbers.
    const labels = await page.$$eval("#traffic-charts svg", (svgs) => svgs.map((s) => s.getAttribute("aria-label")));
    assert.equal(labels.length, 6);
    assert.ok(labels.includes("Server error: 4 in the last hour, at most 4 in one minute")
      || labels.some((l) => /^Server error: 4 in the last hour, at most [1-4] in one minute$/.test(l)), labels.join("\n"));
    assert.ok(labels.some((l) => /^Rate limit: 2 in the last 24 hours/.test(l)), labels.join("\n"));
    assert.ok(labels.some((l) => /^Succeeded: 3 in the last hour/.test(l)), labels.join("\n"));
    const bars = await page.$$eval("#traffic-charts svg", (svgs) => svgs.map((s) => s.querySelectorAll("rect").length));
    assert.ok(bars.every((n) => n >= 1 && n <= 2), `one or two bars per chart (the minute may have turned): ${bars}`);
    assert.match(await page.textContent("#traffic-alerts"), /^Alerts: none firing/);
    assert.match(await page.textContent("#traffic-simulated"), /rate_limit 1/);
    // The token is nowhere but memory: not in the URL, the DOM, or storage.
    assert.ok(!page.url().includes(ADMIN));
    assert.equal(await page.inputValue("#traffic-token"), "");
    assert.ok(!(await page.content()).includes(ADMIN));
    const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
    assert.equal(stored, "[{},{}]");
    assert.deepEqual(page.consoleErrors, []);
    await page.locator("#traffic").scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifacts, "traffic-desktop.png"), fullPage: true });
    await page.locator("#traffic").screenshot({ path: path.join(artifacts, "traffic-section.png") });
    // A phone: no sideways scrolling of the page.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px too wide)`);
    await page.locator("#traffic").screenshot({ path: path.join(artifacts, "traffic-phone.png") });
    // Forgetting the token hides the data.
    await page.click("#traffic-forget");
    assert.equal(await page.isHidden("#traffic-view"), true);
    await page.context().close();
  });

  test("offline, the Traffic view says it is unavailable and explaining still works", async () => {
    const page = await open();
    await page.context().setOffline(true);
    await submitToken(page, ADMIN);
    assert.match(await page.textContent("#traffic-status"), /unavailable: the worker could not be reached/);
    assert.equal(await page.isHidden("#traffic-view"), true);
    await page.click("button[data-example=rate]");
    await page.waitForFunction(() => !document.getElementById("result").hidden);
    assert.equal(await page.textContent("#h-label"), "Rate limit");
    await page.context().close();
  });

  test("no request left the worker's origin", () => {
    const outside = requests.filter((u) => !u.startsWith(`${w.url}/`) && !u.startsWith("data:"));
    assert.deepEqual(outside, []);
  });
});
