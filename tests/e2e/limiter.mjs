// An upstream rate limiter the way OpenAI's behaves (issue 15): a token bucket per family
// (requests, tokens), each full at `rpm` / `tpm` and refilling continuously over a minute; a
// request is counted before it runs with OpenAI's documented rule (rules/rate_limit_cost.toml:
// max(output cap x n, ceil(characters / 4))); every answer carries the real x-ratelimit-* headers,
// and a request that does not fit gets OpenAI's 429 for the family it exceeds (requests first).
import { completion, reply, sleep } from "./fake-upstream.mjs";

/** Go-style durations as OpenAI sends them: `20ms`, `1.5s`, `6m0s`. */
export function duration(ms) {
  ms = Math.max(0, Math.ceil(ms));
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Number(((ms - m * 60_000) / 1000).toFixed(3))}s`;
}

/** Tokens OpenAI's limiter counts for a JSON body (the documented rule). */
export function limiterTokens(body) {
  let chars = 0;
  const walk = (v) => {
    if (typeof v === "string") chars += [...v].length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const [k, v] of Object.entries(body)) if (k !== "model") walk(v);
  const cap = body.max_completion_tokens ?? body.max_output_tokens ?? body.max_tokens ?? 0;
  const n = Math.min(Math.max(body.n ?? 1, 1), 128);
  return Math.max(cap * n, Math.ceil(chars / 4));
}

/**
 * A handler for `startFakeUpstream().script(...)`: answers chat completions within `rpm` / `tpm`,
 * after `latencyMs`; `initial` sets the buckets' levels at the first request (full by default). `stats` counts what it did: `ok`, `limited` (429s sent, by family), and the
 * arrival times.
 */
export function openaiLimiter({ rpm, tpm, latencyMs = 5, initial = {}, now = () => performance.now() }) {
  const buckets = {
    requests: { limit: rpm, level: initial.requests ?? rpm, at: null },
    tokens: { limit: tpm, level: initial.tokens ?? tpm, at: null },
  };
  const stats = { ok: 0, limited: { requests: 0, tokens: 0 }, arrivals: [] };
  // The buckets start at the first request (not when the limiter is made: a worker's start-up
  // would otherwise refill them first).
  const refill = (b, t) => {
    b.at ??= t;
    b.level = Math.min(b.limit, b.level + ((t - b.at) * b.limit) / 60_000);
    b.at = t;
  };
  const headers = () => {
    const out = {};
    for (const [family, b] of Object.entries(buckets)) {
      out[`x-ratelimit-limit-${family}`] = String(b.limit);
      out[`x-ratelimit-remaining-${family}`] = String(Math.max(0, Math.floor(b.level)));
      out[`x-ratelimit-reset-${family}`] = duration(((b.limit - b.level) * 60_000) / b.limit);
    }
    return out;
  };
  const handler = async (rec, res) => {
    const t = now();
    stats.arrivals.push(t);
    let body = {};
    try {
      body = JSON.parse(rec.body.toString("utf8"));
    } catch {}
    const cost = { requests: 1, tokens: limiterTokens(body) };
    for (const b of Object.values(buckets)) refill(b, t);
    const short = ["requests", "tokens"].find((f) => buckets[f].level < cost[f]);
    if (short) {
      stats.limited[short]++;
      const b = buckets[short];
      const waitMs = ((cost[short] - b.level) * 60_000) / b.limit;
      const [name, abbr] = short === "requests" ? ["requests", "RPM"] : ["tokens", "TPM"];
      const used = Math.ceil(b.limit - b.level);
      return reply(
        res,
        429,
        {
          error: {
            message: `Rate limit reached for ${body.model ?? "gpt-4o-mini"} in organization org-abc123 on ${name} per min (${abbr}): Limit ${b.limit}, Used ${used}, Requested ${cost[short]}. Please try again in ${duration(waitMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            type: short,
            param: null,
            code: "rate_limit_exceeded",
          },
        },
        { "x-request-id": "req_ratelimited", ...headers() },
      );
    }
    buckets.requests.level -= cost.requests;
    buckets.tokens.level -= cost.tokens;
    const h = headers();
    stats.ok++;
    if (latencyMs > 0) await sleep(latencyMs);
    reply(res, 200, completion("paced"), h);
  };
  return { handler, stats, buckets };
}
