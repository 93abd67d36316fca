// Prototype, for measurement only (issue 14b): a JavaScript entry that forwards by itself and
// calls wasm only for the check. It is not Airlock: no gateway, pacer, Monitor, CORS, retries,
// error classification, stream watch or answer check, and its log line is a sketch. What it
// estimates is the floor of a JS-entry design: the per-request cost of a workers-rs entry
// (futures glue, the shim's proxies, dozens of JS-boundary crossings) against plain JavaScript.
// Its check is the explainer page's `check` (www/pkg), which does more than the worker's (it
// parses the body twice and serializes the whole verdict), so it errs against the prototype.
//
//   mkdir -p /tmp/proto && cp bench/worker/entry-prototype.js /tmp/proto/index.js \
//     && cp www/pkg/airlock_web.js www/pkg/airlock_web_bg.wasm /tmp/proto/
//   node bench/worker/cpu.mjs /tmp/cpuwork airlock=<copy of crates/airlock-worker/build> proto=/tmp/proto
import { initSync, check } from "./airlock_web.js";
import wasm from "./airlock_web_bg.wasm";
initSync({ module: wasm });
const HOP = new Set(["host", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "content-length", "cf-connecting-ip"]);
export default {
  async fetch(request, env) {
    const started = Date.now();
    const id = "req_" + Math.random().toString(16).slice(2) + Math.random().toString(16).slice(2);
    const url = new URL(request.url);
    const headers = new Headers();
    for (const [k, v] of request.headers) if (!HOP.has(k)) headers.set(k, v);
    let body;
    let verdict = null;
    if (request.method === "POST") {
      const bytes = new Uint8Array(await request.arrayBuffer());
      verdict = JSON.parse(check(url.pathname, new TextDecoder().decode(bytes)));
      if (!verdict.ok) return new Response(verdict.answer, { status: 400, headers: { "x-airlock-request-id": id } });
      body = bytes;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort("airlock: upstream timeout"), 600000);
    const resp = await fetch(new URL(url.pathname + url.search, env.UPSTREAM_URL), { method: request.method, headers, body, signal: controller.signal, redirect: "manual" });
    clearTimeout(timer);
    const out = new Headers(resp.headers);
    out.delete("connection"); out.delete("keep-alive"); out.delete("set-cookie");
    out.set("x-airlock-request-id", id);
    const { readable, writable } = new IdentityTransformStream();
    resp.body.pipeTo(writable).catch(() => {});
    console.log(JSON.stringify({ time: new Date(started).toISOString(), request_id: id, method: request.method, path: url.pathname, status: resp.status, latency_ms: Date.now() - started, attempts: 1, checked: verdict !== null, model: verdict?.verdict?.model ?? null, stream: false }));
    return new Response(readable, { status: resp.status, headers: out });
  },
};
