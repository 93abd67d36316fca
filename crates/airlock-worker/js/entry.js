// Airlock's worker entry (issue 14): JavaScript does the I/O, the wasm decides.
//
// `cargo xtask build-worker` writes this file as `build/index.js` (wrangler's `main`) beside
// worker-build's output, renamed `build/glue.mjs` (the wasm-bindgen glue, the Rust `fetch`, the
// Durable Object classes). For a request the wasm's `airlock_fast_begin` takes (a checked JSON
// `POST /v1/*` with a `content-length` within `MAX_CHECK_BYTES`, no `Origin`, and the default
// settings for what only the Rust path does: see `src/entry.rs`), this module reads the body
// (or, for a `GET` and a body over `MAX_CHECK_BYTES`, forwards it unread), calls the upstream
// with its timeout, sends a success answer on through the runtime's own pipe
// with its headers filtered, and writes the log line, calling synchronous wasm exports for every
// decision (the check and its verdict, the diagnosis of an error answer, the log line's text).
// An event stream is sent on by Rust (`output::answer`, one promise); an answer to check against
// the request's schemas is read here and checked by the wasm. Everything else goes to the Rust
// `fetch` unchanged. `FAST_PATH = "off"` sends every request to the Rust `fetch`. The I/O helpers
// the Rust `fetch` uses too are `io.mjs` (one module for both; `build-worker` copies it here).
import Glue from "./glue.mjs";
import { deleteHeaders, fetchWithin, headerNames, headerPairs, readAnswer, readWhole } from "./io.mjs";
export * from "./glue.mjs";

// worker-build puts wasm-bindgen's function exports on its entrypoint class's prototype.
const W = Glue.prototype;

/** The Rust `fetch`, through worker-build's entrypoint (which re-instantiates the wasm after a
 * critical error). */
function rust(request, env, ctx) {
  return new Glue(ctx, env).fetch(request);
}

/** A wasm trap marks the instance for re-instantiation, as worker-build's entrypoint does. */
function critical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error("Critical", e);
    const state = globalThis.__worker_init_state;
    if (state) state.criticalError = true;
  }
}

/** Calls `f(name, value)` for each pair of a `name\nvalue\n` string. */
function eachPair(pairs, f) {
  const parts = pairs.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) {
    if (parts[i] === "") break;
    f(parts[i], parts[i + 1]);
  }
}

/** An error body's first `cap` bytes (plus the chunk that crossed it) within `ms`, as
 * `body::read_prefix` reads them; `end`: 0 whole, 1 more in `reader`, 2 stalled, 3 failed. */
async function readPrefix(body, cap, ms) {
  const empty = new Uint8Array(0);
  if (body === null) return { bytes: empty, end: 0, reader: undefined };
  let reader;
  try {
    reader = body.getReader();
  } catch {
    return { bytes: empty, end: 0, reader: undefined };
  }
  const chunks = [];
  let size = 0;
  const joined = () => {
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  };
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, null);
  });
  try {
    for (;;) {
      let r;
      try {
        r = await Promise.race([reader.read(), late]);
      } catch {
        return { bytes: joined(), end: 3, reader: undefined };
      }
      if (r === null) return { bytes: joined(), end: 2, reader };
      if (r.done) return { bytes: joined(), end: 0, reader: undefined };
      if (!(r.value instanceof Uint8Array)) return { bytes: joined(), end: 3, reader: undefined };
      chunks.push(r.value);
      size += r.value.byteLength;
      if (size > cap) return { bytes: joined(), end: 1, reader };
    }
  } finally {
    clearTimeout(timer);
  }
}

/** `[response, log line]` from the wasm: the line written, the response given. */
function answer(out) {
  const [response, text] = out;
  if (text !== undefined) console.log(text);
  return response ?? new Response("INTERNAL SERVER ERROR", { status: 500 });
}

/** A success body passed on through workerd's pipe, watched for a cut (`body::guarded`). */
function guarded(body, requestId) {
  let pipe;
  try {
    pipe = new IdentityTransformStream();
  } catch {
    try {
      pipe = new TransformStream();
    } catch {
      return body;
    }
  }
  body.pipeTo(pipe.writable).catch((e) => {
    const text = W.airlock_cut_line(requestId, e);
    if (text !== undefined) console.log(text);
  });
  return pipe.readable;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

async function serveFast(fast, request, env, ctx) {
  // The body: read whole and checked, or (a `GET`'s none, one over `MAX_CHECK_BYTES`) sent on
  // unread, as `forward.rs` sends it.
  let body = request.body;
  if (fast.reads()) {
    try {
      body = await readWhole(request, fast.content_length());
    } catch {
      return answer(fast.unreadable());
    }
    const verdict = fast.check(body);
    if (verdict !== 0) return answer(fast.rejection());
  } else {
    fast.unread();
  }
  const headers = new Headers();
  eachPair(fast.request_headers(), (name, value) => {
    // A header the runtime refuses is dropped rather than failing the request.
    try {
      headers.append(name, value);
    } catch {}
  });
  const controller = new AbortController();
  const init = { method: request.method, headers, redirect: "manual", signal: controller.signal };
  if (body !== null) init.body = body;
  const target = fast.target();
  const got = await fetchWithin(target, init, fast.timeout_ms(), controller);
  if (got === 0 || got === 1) return answer(fast.no_response(got, 0));
  const status = got.status;
  if (!(status >= 200 && status <= 599)) {
    controller.abort("airlock: invalid upstream status");
    return answer(fast.no_response(2, status));
  }
  if (status >= 400) {
    const read = await readPrefix(got.body, fast.error_body_cap(), fast.body_timeout_ms());
    return answer(fast.upstream_error(got, read.bytes, read.end, read.reader));
  }
  const from = got.headers;
  let checked;
  if (fast.answered(from.get("x-request-id"), from.get("content-type"))) {
    if (!fast.check_in_entry(status) || got.body === null) return answer(await fast.rust_answer(got));
    // An answer to check: read as `output::answer` reads it (the same reader); a complete one
    // is checked and sent on here, anything else by Rust from what was read.
    let read;
    try {
      read = await readAnswer(got.body, fast.output_cap(), fast.idle_timeout_ms());
    } catch {
      return answer(await fast.rust_answer(got));
    }
    if (read[1] !== "complete") return answer(fast.rust_answer_read(got, read));
    checked = read[0];
  }
  const out = new Headers(from);
  deleteHeaders(out, W.airlock_unwanted_headers(headerNames(out), out.get("connection")));
  let requestId = "";
  eachPair(fast.success_headers(), (name, value) => {
    if (name === "x-airlock-request-id") requestId = value;
    out.set(name, value);
  });
  let sent;
  if (checked !== undefined) {
    const verdict = fast.checked_answer(checked);
    if (verdict !== "") out.set("x-airlock-output", verdict);
    sent = checked;
  } else {
    sent = NULL_BODY.has(status) ? null : got.body;
    if (sent !== null) sent = guarded(sent, requestId);
  }
  const response = new Response(sent, { status, headers: out });
  // The log line and the Monitor's count wait for a timer turn, so the answer's head goes out
  // before they cost anything (the line's fields are all known by now).
  ctx.waitUntil(afterAnswer(fast, status));
  return response;
}

/** `fast.done` on the next timer turn, after the runtime has taken the answer. */
function afterAnswer(fast, status) {
  return new Promise((resolve) => {
    setTimeout(() => {
      try {
        const text = fast.done(status);
        if (text !== undefined) console.log(text);
      } catch (e) {
        critical(e);
      }
      resolve();
    }, 0);
  });
}

export default {
  async fetch(request, env, ctx) {
    if (env.FAST_PATH === "off") return rust(request, env, ctx);
    let fast;
    try {
      fast = W.airlock_fast_begin(request.method, request.url, headerPairs(request.headers), env, ctx);
    } catch (e) {
      critical(e);
      return rust(request, env, ctx);
    }
    if (fast === undefined) return rust(request, env, ctx);
    // A `POST` without a body, or a `GET` with one: the Rust path's.
    if ((request.method === "GET") !== (request.body === null)) {
      fast.free();
      return rust(request, env, ctx);
    }
    let out;
    try {
      out = await serveFast(fast, request, env, ctx);
    } catch (e) {
      // No panic path is known; if one is hit, the request is answered as the Rust `fetch`
      // answers its own failure, and the wasm is re-instantiated on the next request.
      critical(e);
      console.error(`airlock: ${e}`);
      return new Response("INTERNAL SERVER ERROR", { status: 500 });
    }
    return out;
  },
};
