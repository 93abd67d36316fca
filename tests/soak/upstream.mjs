// The soak's fake OpenAI upstream on 127.0.0.1, with faults on command.
//
// The client names the fault in a request header, `x-soak-fault`, which the worker forwards like
// any other header. Every answer this server makes carries `x-fake-upstream: 1` (the worker passes
// response headers on), so a client can always tell an upstream's status passed on from one the
// worker made itself. No 5xx body here looks like the worker's own errors (those carry Airlock's
// codes `upstream_unreachable`, `upstream_timeout`, `airlock_*`).
//
// Faults (`x-soak-fault`):
// - (none) / `ok`: a normal answer for the path (chat completion, Responses object, file object),
//   an event stream when the body has `"stream": true`;
// - `sse-cut`: an event stream that drops the connection after a few events;
// - `429`, `500`, `503`: OpenAI's own error bodies with that status;
// - `big-error`: a 500 whose OpenAI-shaped body is 5 MB;
// - `stall-error`: a 503's headers and half its body, then nothing for `STALL_MS`, then the rest;
// - `reset-200`: a JSON 200 with a content-length, half the body, then a reset;
// - `continue`: `100 Continue` (unsolicited if the request did not ask) before the real answer;
// - `drop`: the connection closed before any answer (the worker should answer 502);
// - `slow`: no headers for `SLOW_MS` (beyond the worker's UPSTREAM_TIMEOUT_MS: it should answer 504).
import http from "node:http";

import { completion, errors, sleep, streamChunk } from "../e2e/fake-upstream.mjs";

export const STALL_MS = 8000;
export const SLOW_MS = 7000;
const MiB = 1024 * 1024;

const MARK = { "x-fake-upstream": "1" };

const overloaded = {
  status: 503,
  body: {
    error: {
      message: "The engine is currently overloaded, please try again later.",
      type: "server_error",
      param: null,
      code: null,
    },
  },
  headers: { "x-request-id": "req_overloaded000000000000000000" },
};

const bigError = Buffer.from(
  JSON.stringify({
    error: {
      message: "The server had an error while processing your request. " + "x".repeat(5 * MiB),
      type: "server_error",
      param: null,
      code: null,
    },
  }),
);

const responseObject = (text = "Hello!") => ({
  id: "resp_soak",
  object: "response",
  created_at: 1700000000,
  status: "completed",
  model: "gpt-4o-mini-2024-07-18",
  output: [
    {
      id: "msg_soak",
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    },
  ],
  usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
});

const fileObject = (bytes) => ({
  id: "file-soak",
  object: "file",
  bytes,
  created_at: 1700000000,
  filename: "input.jsonl",
  purpose: "batch",
});

/** The events of a normal stream for `path`, as raw SSE text parts. */
function streamParts(path) {
  if (path.startsWith("/v1/responses")) {
    const ev = (type, extra) => `event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
    return [
      ev("response.created", { sequence_number: 0, response: { ...responseObject(), status: "in_progress", output: [] } }),
      ...["Hel", "lo", "!"].map((delta, i) =>
        ev("response.output_text.delta", { sequence_number: i + 1, item_id: "msg_soak", output_index: 0, content_index: 0, delta }),
      ),
      ev("response.completed", { sequence_number: 4, response: responseObject() }),
    ];
  }
  const parts = ["Hel", "lo", "!"].map((c, i) => `data: ${JSON.stringify(streamChunk(c, i))}\n\n`);
  parts.push(
    `data: ${JSON.stringify({ ...streamChunk("", 3), choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
    "data: [DONE]\n\n",
  );
  return parts;
}

function send(res, status, body, headers = {}) {
  const text = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_upstream_ok", ...headers, ...MARK });
  res.end(text);
}

const sendError = (res, e) => send(res, e.status, e.body, e.headers);

/**
 * Starts the upstream. `secret`: the planted key; `stats.sawSecret` counts requests that brought it
 * (in `authorization` or the body), proof that it was planted where the worker could log it.
 */
export async function startSoakUpstream({ secret }) {
  const stats = { requests: 0, byFault: {}, sawSecret: 0, bytesIn: 0, handlerErrors: 0 };
  const sockets = new Set();

  async function handle(req, res) {
    const fault = String(req.headers["x-soak-fault"] ?? "ok");
    stats.requests += 1;
    stats.byFault[fault] = (stats.byFault[fault] ?? 0) + 1;
    // `continue`: a 100 Continue before anything else, asked for or not (an unsolicited 1xx is
    // legal HTTP/1.1). Any other request that asked for one gets it as a normal server would.
    if (fault === "continue" || /100-continue/i.test(String(req.headers.expect ?? ""))) res.writeContinue();
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    stats.bytesIn += body.length;
    if (String(req.headers.authorization ?? "").includes(secret) || body.includes(secret)) stats.sawSecret += 1;
    const path = req.url ?? "/";
    let streaming = false;
    if (body.length && body.length < MiB && (req.headers["content-type"] ?? "").includes("json")) {
      try {
        streaming = JSON.parse(body).stream === true;
      } catch {}
    }
    const ok = () => {
      if (path.startsWith("/v1/files")) return send(res, 200, fileObject(body.length), { "x-request-id": "req_upload_ok" });
      if (path.startsWith("/v1/responses")) return send(res, 200, responseObject());
      return send(res, 200, completion());
    };

    switch (fault) {
      case "ok":
      case "continue":
        if (!streaming) return ok();
        res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_stream", ...MARK });
        for (const p of streamParts(path)) {
          res.write(p);
          await sleep(10);
        }
        return res.end();
      case "sse-cut": {
        res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_stream_cut", ...MARK });
        const parts = streamParts(path);
        for (const p of parts.slice(0, 2)) {
          res.write(p);
          await sleep(10);
        }
        // Half of the third event, then a reset: the drop falls inside a `data:` line.
        res.write(parts[2].slice(0, Math.floor(parts[2].length / 2)));
        await sleep(10);
        return res.socket.destroy();
      }
      case "429":
        return sendError(res, errors.rateLimitRpm);
      case "500":
        return sendError(res, errors.serverError);
      case "503":
        return sendError(res, overloaded);
      case "big-error":
        return send(res, 500, bigError, { "x-request-id": "req_big_error" });
      case "stall-error": {
        const text = Buffer.from(JSON.stringify(overloaded.body));
        const half = Math.floor(text.length / 2);
        res.writeHead(503, { "content-type": "application/json", "content-length": text.length, "x-request-id": "req_stall", ...MARK });
        res.write(text.subarray(0, half));
        await sleep(STALL_MS);
        return res.end(text.subarray(half));
      }
      case "reset-200": {
        const text = Buffer.from(JSON.stringify(completion("This answer will be cut off half way through.")));
        res.writeHead(200, { "content-type": "application/json", "content-length": text.length, "x-request-id": "req_reset", ...MARK });
        res.write(text.subarray(0, Math.floor(text.length / 2)));
        await sleep(20);
        return res.socket.destroy();
      }
      case "drop":
        return req.socket.destroy();
      case "slow":
        await sleep(SLOW_MS);
        if (!res.destroyed && !res.socket?.destroyed) return ok();
        return undefined;
      default:
        return send(res, 400, { error: { message: `soak upstream: unknown fault ${fault}`, type: "invalid_request_error", param: null, code: null } });
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      stats.handlerErrors += 1;
      if (!res.headersSent) res.socket?.destroy();
      else res.destroy();
    });
  });
  // Handled by `handle`, which decides whether and when to send 100 Continue.
  server.on("checkContinue", (req, res) => server.emit("request", req, res));
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("clientError", (e, socket) => socket.destroy());
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  };
}
