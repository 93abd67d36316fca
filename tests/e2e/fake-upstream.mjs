// A scriptable fake of the OpenAI API on 127.0.0.1. Records every request it receives
// (method, path, headers, raw body bytes, arrival time) and answers with the current script.
import http from "node:http";
import { performance } from "node:perf_hooks";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Realistic OpenAI error bodies and headers.
export const errors = {
  insufficientQuota: {
    status: 429,
    body: {
      error: {
        message:
          "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    },
    headers: { "x-request-id": "req_quota0000000000000000000000" },
  },
  rateLimitRpm: {
    status: 429,
    body: {
      error: {
        message:
          "Rate limit reached for gpt-4o-mini in organization org-abc123 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    },
    headers: {
      "x-request-id": "req_ratelimit000000000000000000",
      "x-ratelimit-limit-requests": "3",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1.2s",
      "x-ratelimit-limit-tokens": "40000",
      "x-ratelimit-remaining-tokens": "39000",
      "x-ratelimit-reset-tokens": "6m0s",
    },
  },
  invalidKey: {
    status: 401,
    body: {
      error: {
        message: "Incorrect API key provided: sk-wrong***zzzz. You can find your API key at https://platform.openai.com/account/api-keys.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    },
    headers: { "x-request-id": "req_auth000000000000000000000000" },
  },
  serverError: {
    status: 500,
    body: {
      error: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      },
    },
    headers: { "x-request-id": "req_server00000000000000000000000" },
  },
  modelNotFound: {
    status: 404,
    body: {
      error: {
        message: "The model `gpt-9` does not exist or you do not have access to it.",
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
    },
    headers: { "x-request-id": "req_notfound000000000000000000000" },
  },
};

export const completion = (content = "Hello!") => ({
  id: "chatcmpl-fake",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
});

export async function startFakeUpstream() {
  const requests = [];
  const state = { handler: (rec, res) => reply(res, 200, completion()) };
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const rec = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks),
      at: performance.now(),
    };
    requests.push(rec);
    try {
      await state.handler(rec, res, req);
    } catch (e) {
      if (!res.headersSent) reply(res, 599, { error: { message: String(e) } });
      else res.destroy();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** Sets how the next requests are answered: (record, res, req) => void|Promise. */
    script(handler) {
      state.handler = handler;
      requests.length = 0;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}

export function reply(res, status, body, headers = {}) {
  const text = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_upstream_ok", ...headers });
  res.end(text);
}

export function replyError(res, e) {
  reply(res, e.status, e.body, e.headers);
}

/** Streams SSE chunks, waiting `delayMs` before each; returns when the stream ended. */
export async function sse(res, chunks, delayMs, onSent = () => {}) {
  res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_stream" });
  res.flushHeaders();
  for (const c of chunks) {
    await sleep(delayMs);
    res.write(`data: ${JSON.stringify(c)}\n\n`);
    onSent(performance.now());
  }
  await sleep(delayMs);
  res.end("data: [DONE]\n\n");
}

export const streamChunk = (content, i) => ({
  id: "chatcmpl-stream",
  object: "chat.completion.chunk",
  created: 1700000000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content } : { content }, finish_reason: null }],
});

/**
 * Streams `parts` (raw SSE text, each written as one chunk `delayMs` apart), then drops the
 * connection without ending the response: what a reset upstream looks like to the worker.
 */
export async function sseThenDrop(res, parts, delayMs = 20, headers = {}) {
  res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_stream_drop", ...headers });
  res.flushHeaders();
  for (const p of parts) {
    await sleep(delayMs);
    res.write(p);
  }
  await sleep(delayMs);
  res.socket.destroy();
}

/**
 * A fake `POST /v1/files` that watches each upload as it streams in (unlike `startFakeUpstream`,
 * which records a request once its body is complete): when the first body byte came, the bytes
 * and their sha256, the `content-length` / `transfer-encoding` it was sent with, and whether the
 * body completed or was cut off. Only a complete body becomes a file (answered with a file object
 * and listed in `files`); a cut one is recorded as `aborted` and answered with nothing.
 */
export async function startUploadUpstream() {
  const { createHash } = await import("node:crypto");
  const uploads = [];
  const files = [];
  const listeners = new Set();
  const changed = () => listeners.forEach((f) => f());
  /** `next`: answers complete uploads instead of creating a file, when set. */
  const answer = { next: null };
  const server = http.createServer((req, res) => {
    const rec = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      arrivedAt: performance.now(),
      firstByteAt: null,
      endedAt: null,
      bytes: 0,
      chunks: [],
      sha256: null,
      complete: false,
      aborted: false,
    };
    uploads.push(rec);
    const hash = createHash("sha256");
    req.on("data", (c) => {
      rec.firstByteAt ??= performance.now();
      rec.bytes += c.length;
      rec.chunks.push(c);
      hash.update(c);
      changed();
    });
    req.on("end", () => {
      rec.complete = true;
      rec.endedAt = performance.now();
      rec.sha256 = hash.digest("hex");
      if (answer.next) return answer.next(rec, res);
      const file = { id: `file-${files.length + 1}`, object: "file", bytes: rec.bytes, created_at: 1700000000, filename: "b.jsonl", purpose: "batch" };
      files.push(file);
      changed();
      reply(res, 200, file, { "x-request-id": "req_upload_ok" });
    });
    const cut = () => {
      if (rec.complete || rec.aborted) return;
      rec.aborted = true;
      rec.endedAt = performance.now();
      changed();
    };
    req.on("aborted", cut);
    req.on("error", cut);
    req.on("close", cut);
  });
  server.on("clientError", (e, socket) => socket.destroy());
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  /** Resolves when `pred()` holds, or rejects after `ms`. */
  const until = (pred, ms, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`fake upstream: no ${what} within ${ms} ms`));
      }, ms);
      listeners.add(check);
      check();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    uploads,
    files,
    /** The body bytes an upload brought. */
    body: (rec) => Buffer.concat(rec.chunks),
    /** Resolves once some upload's first body byte has arrived. */
    firstByte: (ms = 5000) => until(() => uploads.some((u) => u.firstByteAt !== null), ms, "body byte"),
    /** Resolves once every upload so far has completed or been cut off. */
    settled: (ms = 5000) => until(() => uploads.every((u) => u.complete || u.aborted), ms, "end of upload"),
    /** Answers complete uploads with `fn(rec, res)` instead of creating files (null: files again). */
    answerWith(fn) {
      answer.next = fn;
    },
    reset() {
      uploads.length = 0;
      files.length = 0;
      answer.next = null;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}

/**
 * Streams the first `at` bytes of `body` (a Buffer holding a whole recorded stream; the cut may
 * fall anywhere, mid-line or mid-character), in two chunks `delayMs` apart, then drops the
 * connection: an upstream reset inside an event whose bytes were already sent.
 */
export async function sseCutAt(res, body, at, delayMs = 20) {
  const half = Math.floor(at / 2);
  return sseThenDrop(res, [body.subarray(0, half), body.subarray(half, at)], delayMs);
}
