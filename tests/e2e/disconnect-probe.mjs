// Probe (not a test; run by hand: `node tests/e2e/disconnect-probe.mjs`): can a worker in local
// workerd (the pinned Miniflare) see its client leave while the handler has not answered yet,
// which is where a request waiting in the pacer's queue is? Issue 15's disconnect-while-queued
// e2e stays skipped while this prints "not observable" for the waiting handler.
//
// A ten-line JavaScript worker (no Airlock code) is run twice, through Miniflare's entry and
// through a direct socket: `/sleep` waits 3 s in 100 ms steps, as a queued request does, and logs
// `request.signal.aborted` (compatibility flag `enable_request_signal`); `/stream` answers at
// once with a ReadableStream body and logs the signal's abort event and the stream's cancel().
// A raw HTTP/1.1 client connects, and destroys its socket mid-wait.
//
// Seen 2026-12-06 (miniflare 4.20260730.0): the waiting handler runs to its end with the signal
// never aborted, both ways in; once a response has been returned, the disconnect fires the
// signal's abort event (not the stream's cancel()). A queued request has no response yet (its
// status, 200 or 429, is not known), so neither is usable for the queue here.
import { Miniflare } from "miniflare";
import http from "node:http";

const script = `export default {
  async fetch(request) {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    const log = (m) => console.log("[" + id + "] " + m);
    request.signal.addEventListener("abort", () => log("signal abort event"));
    if (url.pathname === "/stream") {
      let timer;
      const body = new ReadableStream({
        start(c) { let n = 0; timer = setInterval(() => { try { c.enqueue(new TextEncoder().encode("tick " + n++ + "\\n")); } catch (e) { clearInterval(timer); } }, 200); },
        cancel(reason) { log("stream cancel(): " + reason); clearInterval(timer); },
      });
      return new Response(body);
    }
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (request.signal.aborted) { log("waiting handler saw the signal abort at step " + i); return new Response("gone"); }
    }
    log("waiting handler ran to its end, signal never aborted");
    return new Response("done");
  },
};`;

const lines = [];
const mf = new Miniflare({
  modules: [{ type: "ESModule", path: "probe.mjs", contents: script }],
  compatibilityDate: "2025-09-01",
  compatibilityFlags: ["enable_request_signal"],
  host: "127.0.0.1",
  port: 0,
  unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  handleRuntimeStdio: (out, err) => {
    for (const s of [out, err]) s.on("data", (d) => lines.push(...d.toString().split("\n").filter(Boolean)));
  },
});
const entry = (await mf.ready).toString().replace(/\/$/, "");
const direct = (await mf.unsafeGetDirectURL()).toString().replace(/\/$/, "");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const leave = (base, path, ms) =>
  new Promise((resolve) => {
    const u = new URL(base + path);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search }, (res) => {
      res.on("data", () => {});
      res.on("error", () => {});
    });
    req.on("error", () => {});
    req.end();
    setTimeout(() => (req.destroy(), resolve()), ms);
  });
for (const [name, base] of [["entry", entry], ["direct", direct]]) {
  await leave(base, `/sleep?id=${name}-waiting`, 350);
  await sleep(3_500);
  await leave(base, `/stream?id=${name}-streaming`, 700);
  await sleep(1_500);
}
await mf.dispose();
for (const l of lines) console.log(l);
const observable = lines.some((l) => l.includes("waiting handler saw the signal abort"));
console.log(observable ? "a waiting handler CAN see its client leave: un-skip the e2e" : "not observable: a waiting handler cannot see its client leave");
