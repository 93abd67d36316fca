// `cargo xtask bench-burst` (issue 15; a bench, not a test): a burst against an upstream that
// enforces RPM and TPM the way OpenAI does (tests/e2e/limiter.mjs), with pacing off and on, in one
// run. Clients are the official SDKs with their default retries (2): Node SDK clients in this
// process and Python SDK clients as processes (tests/e2e/py_client.py `chat_many`). Each client
// sends its requests one after another; all clients start at once.
//
// Prints a Markdown table: upstream 429s (wasted calls), what the clients saw (SDK retries on 429,
// errors raised), total time against the capacity-bound minimum, p50 / p99 time per request
// (queueing and retries included), requests lost; and the load average next to the figures.
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";

import { startFakeUpstream } from "../../tests/e2e/fake-upstream.mjs";
import { python, startWorker } from "../../tests/e2e/harness.mjs";
import { limiterTokens, openaiLimiter } from "../../tests/e2e/limiter.mjs";

const env = (name, d) => Number(process.env[name] ?? d);
const RPM = env("BURST_RPM", 600);
const TPM = env("BURST_TPM", 150_000);
const CLIENTS = env("BURST_CLIENTS", 50);
const PER_CLIENT = env("BURST_REQUESTS", 20);
const PY_CLIENTS = Math.min(CLIENTS, env("BURST_PY_CLIENTS", 5));
const LATENCY_MS = env("BURST_LATENCY_MS", 20);
const MAX_TOKENS = env("BURST_MAX_TOKENS", 200);

const body = (i) => ({ model: "gpt-4o-mini", max_tokens: MAX_TOKENS, messages: [{ role: "user", content: `Summarise item ${i} in one line.` }] });
const loadavg = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/** The shortest time the upstream's limits allow for the whole burst (buckets start full). */
function capacityMinimumMs() {
  const n = CLIENTS * PER_CLIENT;
  const tokens = n * limiterTokens(body(0));
  return Math.max(0, ((n - RPM) * 60_000) / RPM, ((tokens - TPM) * 60_000) / TPM);
}

async function run(label, upstream, vars) {
  const limiter = openaiLimiter({ rpm: RPM, tpm: TPM, latencyMs: LATENCY_MS });
  upstream.script(limiter.handler);
  const w = await startWorker({ UPSTREAM_URL: upstream.url, ...vars }, { pacer: true });
  const key = `sk-burst-${label}-${Date.now()}`;
  const seen429 = { n: 0 };
  const counting = async (url, init) => {
    const r = await fetch(url, init);
    if (r.status === 429) seen429.n++;
    return r;
  };
  const samples = [];
  let errors = 0;
  let retries = 0;
  const t0 = performance.now();
  const node = Array.from({ length: CLIENTS - PY_CLIENTS }, async (_, c) => {
    const sdk = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: key, fetch: counting });
    for (let i = 0; i < PER_CLIENT; i++) {
      const s = performance.now();
      try {
        await sdk.chat.completions.create(body(c * PER_CLIENT + i));
        samples.push(performance.now() - s);
      } catch {
        errors++;
      }
    }
  });
  const py = Array.from({ length: PY_CLIENTS }, async (_, c) => {
    const out = await python({ base_url: `${w.url}/v1`, api_key: key, call: "chat_many", count: PER_CLIENT, params: body(c), timeout: 120 });
    for (const r of out.results ?? []) {
      if (r.ok) {
        samples.push(r.ms);
        retries += r.retries;
      } else errors++;
    }
  });
  await Promise.all([...node, ...py]);
  const total = performance.now() - t0;
  await w.dispose();
  const sorted = samples.sort((a, b) => a - b);
  return {
    label,
    upstream429: limiter.stats.limited.requests + limiter.stats.limited.tokens,
    clientRetries: seen429.n + retries,
    errors,
    served: limiter.stats.ok,
    total,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    lost: CLIENTS * PER_CLIENT - samples.length,
    load: loadavg(),
  };
}

const upstream = await startFakeUpstream();
const minimum = capacityMinimumMs();
const rows = [];
for (const [label, vars] of [["off", {}], ["on", { PACING: "on" }]]) {
  rows.push(await run(label, upstream, vars));
  console.error(`pacing ${label}: done (${(rows.at(-1).total / 1000).toFixed(1)} s)`);
}
await upstream.close();
const s = (ms) => (ms / 1000).toFixed(1);
console.log(
  [
    `Upstream ${RPM} RPM / ${TPM} TPM (buckets full at start, ${LATENCY_MS} ms per answer), ${CLIENTS} clients (${CLIENTS - PY_CLIENTS} Node SDK, ${PY_CLIENTS} Python SDK, default retries) x ${PER_CLIENT} requests of ${limiterTokens(body(0))} limiter tokens, released at once. Capacity-bound minimum: ${s(minimum)} s.`,
    "",
    "| pacing | upstream 429s (wasted calls) | 429s the SDKs retried | errors raised to clients | requests lost | total time (s) | total / minimum | p50 / p99 per request (s) | load average |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.upstream429} | ${r.clientRetries} | ${r.errors} | ${r.lost} | ${s(r.total)} | ${minimum > 0 ? (r.total / minimum).toFixed(2) + "x" : "n/a"} | ${s(r.p50)} / ${s(r.p99)} | ${r.load} |`,
    ),
  ].join("\n"),
);
process.exit(0);
