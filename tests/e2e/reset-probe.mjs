// Probe (not a test; run by hand: `node tests/e2e/reset-probe.mjs`): how can a worker in local
// workerd (the pinned Miniflare) make its client see a connection failure, so that the official
// SDKs raise APIConnectionError (and retry) for `x-airlock-simulate: connection`?
//
// The Node SDK raises APIConnectionError only when `fetch` itself rejects, i.e. before the status
// line and headers are complete; once headers are in, a broken body surfaces later as a plain
// TypeError. The Python SDK (httpx, non-streaming) reads the whole body inside `send`, so a body
// cut short of its Content-Length also becomes APIConnectionError there. So each variant below is
// judged on what reaches the wire: a raw TCP client records the bytes and how the socket ended
// (FIN, RST, or nothing within 3 s), without and with `accept-encoding: gzip` as the SDKs send
// it, then both SDKs are run against it with their default 2
// retries, and the worker counts the attempts it saw.
//
// A small JavaScript worker (no Airlock code) serves each variant at `/<variant>`; it is run
// through Miniflare's entry and through a direct socket (`unsafeDirectSockets`). Prints one line
// per (way in, variant, client). The results seen are recorded in the README (Rehearse failures).
import { Miniflare } from "miniflare";
import net from "node:net";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

const here = path.dirname(fileURLToPath(import.meta.url));

const script = `
const enc = new TextEncoder();
const JSON_START = enc.encode('{"id":');
const tick = () => new Promise((r) => setTimeout(r, 20));
const headers = { "content-type": "application/json" };
const variants = {
  // FixedLengthStream(100): workerd knows the length. The writable side is aborted before any byte
  // (after the response was returned), or after 6 bytes, or closed short after 6 bytes.
  "fls-abort-0": () => {
    const { readable, writable } = new FixedLengthStream(100);
    const w = writable.getWriter();
    (async () => { await tick(); await w.abort(new Error("simulated reset")); })().catch(() => {});
    return new Response(readable, { headers });
  },
  "fls-abort-6": () => {
    const { readable, writable } = new FixedLengthStream(100);
    const w = writable.getWriter();
    (async () => { await w.write(JSON_START); await tick(); await w.abort(new Error("simulated reset")); })().catch(() => {});
    return new Response(readable, { headers });
  },
  "fls-close-short-6": () => {
    const { readable, writable } = new FixedLengthStream(100);
    const w = writable.getWriter();
    (async () => { await w.write(JSON_START); await tick(); await w.close(); })().catch(() => {});
    return new Response(readable, { headers });
  },
  // Aborted before the response is even returned.
  "fls-abort-before-return": async () => {
    const { readable, writable } = new FixedLengthStream(100);
    const w = writable.getWriter();
    w.abort(new Error("simulated reset")).catch(() => {});
    await tick();
    return new Response(readable, { headers });
  },
  // A JavaScript ReadableStream whose controller errors, piped through a FixedLengthStream.
  "rs-error-0-fls": () => {
    const rs = new ReadableStream({ async pull(c) { await tick(); c.error(new Error("simulated reset")); } });
    return new Response(rs.pipeThrough(new FixedLengthStream(100)), { headers });
  },
  "rs-error-6-fls": () => {
    let n = 0;
    const rs = new ReadableStream({ async pull(c) { if (n++ === 0) c.enqueue(JSON_START); else { await tick(); c.error(new Error("simulated reset")); } } });
    return new Response(rs.pipeThrough(new FixedLengthStream(100)), { headers });
  },
  // The same stream with no known length (chunked), and with encodeBody: "manual" plus a
  // content-length header.
  "rs-error-0-chunked": () => {
    const rs = new ReadableStream({ async pull(c) { await tick(); c.error(new Error("simulated reset")); } });
    return new Response(rs, { headers });
  },
  "rs-error-0-manual-cl": () => {
    const rs = new ReadableStream({ async pull(c) { await tick(); c.error(new Error("simulated reset")); } });
    return new Response(rs, { headers: { ...headers, "content-length": "100" }, encodeBody: "manual" });
  },
  // Last session's: an IdentityTransformStream with a content-length header, 6 bytes, abort.
  "its-cl-abort-6": () => {
    const { readable, writable } = new IdentityTransformStream();
    const w = writable.getWriter();
    (async () => { await w.write(JSON_START); await tick(); await w.abort(new Error("simulated reset")); })().catch(() => {});
    return new Response(readable, { headers: { ...headers, "content-length": "100" } });
  },
  // The handler itself fails: throws, or never answers.
  "throw": async () => { await tick(); throw new Error("simulated reset"); },
  "never": () => new Promise(() => {}),
  // Headers the HTTP parsers refuse: two different Content-Lengths.
  "dup-cl": () => {
    const h = new Headers(headers);
    h.append("content-length", "5");
    h.append("content-length", "7");
    return new Response("hello", { headers: h });
  },
  // A status line or header block the clients' HTTP parsers refuse before they hand back a
  // response: a header block past their limits (Node's http.maxHeaderSize, 16 KiB; httpcore's
  // h11 MAX_INCOMPLETE_EVENT_SIZE, 100 KiB), a control byte in a header value or the reason.
  "big-header-128k": () => new Response("{}", { headers: { ...headers, "x-pad": "x".repeat(128 * 1024) } }),
  "ctl-header": () => new Response("{}", { headers: { ...headers, "x-pad": "a\x01b" } }),
  "vt-header": () => new Response("{}", { headers: { ...headers, "x-pad": "a\x0bb" } }),
  "ff-header": () => new Response("{}", { headers: { ...headers, "x-pad": "a\x0cb" } }),
  "ctl-status-text": () => new Response("{}", { headers, statusText: "O\x01K" }),
};
export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.split("/")[1];
    console.log("attempt " + name + " " + (request.headers.get("x-stainless-retry-count") ?? "-"));
    const v = variants[name];
    return v ? v() : new Response(JSON.stringify(Object.keys(variants)), { headers });
  },
};`;

const lines = [];
const mf = new Miniflare({
  modules: [{ type: "ESModule", path: "probe.mjs", contents: script }],
  compatibilityDate: "2025-09-01",
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
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const variants = (await (await fetch(entry + "/")).json()).filter((v) => only.length === 0 || only.includes(v));

/** A raw HTTP/1.1 request; resolves to the bytes received and how the socket ended. */
const raw = (base, name, extraHeaders = "") =>
  new Promise((resolve) => {
    const u = new URL(base);
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      sock.destroy();
      const text = got.toString("latin1");
      const status = text.match(/^HTTP\/1\.1 (\d+)/)?.[1] ?? "none";
      const headEnd = text.indexOf("\r\n\r\n");
      const body = headEnd >= 0 ? text.slice(headEnd + 4) : "";
      const framing = /content-length: *(\d+)/i.exec(text)?.[0] ?? (/transfer-encoding: *chunked/i.test(text) ? "chunked" : "no length");
      resolve(`status ${status}, ${framing}, ${Buffer.byteLength(body, "latin1")} body bytes ${JSON.stringify(body.slice(0, 40))}, then ${how}`);
    };
    sock.on("data", (d) => (got = Buffer.concat([got, d])));
    sock.on("end", () => finish("FIN"));
    sock.on("error", (e) => finish(`error ${e.code ?? e.message}`));
    setTimeout(() => finish("nothing more within 3 s"), 3000);
    sock.write(`POST /${name} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n${extraHeaders}\r\n{}`);
  });

const attempts = (name, from) => lines.slice(from).filter((l) => l.includes(`attempt ${name} `)).length;

async function nodeSdk(base, name) {
  const client = new OpenAI({ baseURL: `${base}/${name}`, apiKey: "sk-probe", maxRetries: 2, timeout: 4000 });
  const from = lines.length;
  let out;
  try {
    await client.post("", { body: {} });
    out = "returned";
  } catch (e) {
    out = `${e.constructor.name}${e.status ? " " + e.status : ""}: ${String(e.message).slice(0, 60)}`;
  }
  await sleep(300);
  return `${out}; ${attempts(name, from)} attempt(s)`;
}

function pythonSdk(base, name) {
  const py = process.env.AIRLOCK_PYTHON ?? path.join(process.env.HOME ?? "", ".cache", "airlock", "venv", "bin", "python");
  const code = `
import openai, sys
c = openai.OpenAI(base_url=sys.argv[1], api_key="sk-probe", max_retries=2, timeout=4)
try:
    c.post("", body={}, cast_to=object)
    print("returned")
except Exception as e:
    print(type(e).__name__, (str(getattr(e, "status_code", "")) + " " + str(e))[:60].replace("\\n", " "))
`;
  const from = lines.length;
  const r = spawnSync(py, ["-c", code, `${base}/${name}`], { encoding: "utf8", cwd: here });
  return { text: (r.stdout || r.stderr).trim().split("\n").at(-1), from };
}

for (const [way, base] of [["entry", entry], ["direct", direct]]) {
  for (const name of variants) {
    console.log(`${way} ${name} raw: ${await raw(base, name)}`);
    console.log(`${way} ${name} raw, accept-encoding gzip: ${await raw(base, name, "Accept-Encoding: gzip, deflate\r\n")}`);
    console.log(`${way} ${name} node SDK: ${await nodeSdk(base, name)}`);
    const p = pythonSdk(base, name);
    await sleep(300);
    console.log(`${way} ${name} python SDK: ${p.text}; ${attempts(name, p.from)} attempt(s)`);
  }
}
await mf.dispose();
if (process.argv.includes("--logs")) for (const l of lines) console.log("log: " + l);
