// Airlock's page: wires the wasm rules (www/pkg/, built by `cargo xtask web`) to the page.
// Plain JS, no framework; all judgment happens in the wasm module.
import init, * as airlock from "./pkg/airlock_web.js";
import { TOKENIZER } from "./pkg/features.js";
import { EXAMPLES } from "./examples.js";

const $ = (id) => document.getElementById(id);
const LIMIT_NAMES = {
  RPM: "requests per minute", RPD: "requests per day", TPM: "tokens per minute",
  TPD: "tokens per day", IPM: "images per minute",
};

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function setFields(dl, rows) {
  dl.replaceChildren();
  for (const [name, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    dl.append(dt, dd);
  }
}

const number = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : n);

// ---------- Explain an error ----------

function explainNow() {
  const text = $("paste").value;
  if (!text.trim()) {
    $("result").hidden = true;
    $("secret-warning").hidden = true;
    $("status").textContent = "Paste an error above, or pick an example.";
    return;
  }
  const a = JSON.parse(airlock.analyze(text, $("b-endpoint").value, $("b-model").value, $("b-time").value));
  $("secret-warning").hidden = !a.secret;
  if (!a.found) {
    $("result").hidden = true;
    $("status").textContent = "No OpenAI API error recognised in this text."
      + (a.unread && a.unread.length ? " Could not read: " + a.unread.join("; ") : "");
    return;
  }
  const d = a.diagnosis;
  $("status").textContent = `Found: ${a.label}${d.status ? " (HTTP " + d.status + ")" : ""}. ${a.advice}`;
  $("h-label").textContent = a.label;
  $("h-status").textContent = d.status ? `HTTP ${d.status}` : "no HTTP status";
  const sdk = [];
  if (d.sdk.python) sdk.push(`Python: ${d.sdk.python}`);
  if (d.sdk.node) sdk.push(`Node: ${d.sdk.node}`);
  if (d.sdk.python_v0) sdk.push(`Python v0: ${d.sdk.python_v0}`);
  $("h-sdk").textContent = sdk.join(" · ");
  const advice = $("advice");
  advice.textContent = a.advice;
  advice.className = "advice " + d.retry.decision;
  $("meaning").textContent = d.meaning;
  $("first-fix").textContent = d.first_fix;
  setFields($("fields"), [
    ["Code", d.code], ["Type", d.type], ["Param", d.param], ["Message", d.message],
    ["Request ID", d.request_id], ["Category", d.category], ["Arrived", a.arrived],
    ["Confidence", d.confidence], ["Read as", d.format],
  ]);
  renderRateLimit(d);
  $("stream").hidden = !a.stream;
  $("stream").textContent = a.stream ? streamText(a.stream) : "";
  const unread = a.unread || [];
  $("unread").hidden = unread.length === 0;
  $("unread").textContent = "Not understood: " + unread.join("; ");
  $("bundle").value = a.bundle || "";
  $("result").hidden = false;
}

// Where and how a pasted stream ended (issue 7), like `airlock explain`'s text.
function streamText(s) {
  const kind = { responses: "Responses stream", chat_completions: "Chat Completions stream" }[s.kind] || "Event stream";
  const at = s.at_event ? ` at event ${s.at_event} of ${s.events}` : "";
  const st = s.state;
  let out;
  if (st.state === "completed") out = `Stream: ${kind} completed${at}.`;
  else if (st.state === "failed") {
    const e = st.error;
    out = `Stream: ${kind} failed${at}, in the \`${e.event}\` event`
      + (e.code ? `: ${e.code}` : "") + (e.message ? ` (${e.message})` : "")
      + (e.sequence_number != null ? `; sequence_number ${e.sequence_number}` : "") + ".";
  } else if (st.state === "incomplete") out = `Stream: ${kind} incomplete${at}: ${st.reason || "no reason given"}.`;
  else if (st.state === "cut") {
    const end = s.kind === "responses" ? "response.completed" : "data: [DONE]";
    out = `Stream: ${kind} cut after ${st.events} event${st.events === 1 ? "" : "s"} (${st.bytes} bytes); `
      + `last event: ${st.last_event || "none"}; ${end} never arrived, so the connection dropped `
      + "(or the paste is truncated) before the answer was complete.";
  } else out = `Stream: ${kind}, ${st.state}.`;
  return out + (s.finish_reason ? ` Last finish_reason: ${s.finish_reason}.` : "");
}

function renderRateLimit(d) {
  const rl = d.rate_limit;
  const h = d.rate_limit_headers;
  $("ratelimit").hidden = !rl && !h;
  setFields($("rl-fields"), rl ? [
    ["Limit hit", rl.kind ? `${rl.kind} (${LIMIT_NAMES[rl.kind] || rl.kind})` : null],
    ["Model", rl.model], ["Organization", rl.organization],
    ["Limit", number(rl.limit)], ["Used", number(rl.used)], ["Requested", number(rl.requested)],
    ["Try again in", rl.retry_after_ms != null ? airlock.duration(rl.retry_after_ms) : null],
  ] : []);
  const body = $("rl-headers").tBodies[0];
  body.replaceChildren();
  const now = Date.now();
  for (const [name, w] of [["Requests", h && h.requests], ["Tokens", h && h.tokens]]) {
    if (!w) continue;
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = name;
    tr.append(th);
    let inText = w.reset || "";
    if (w.reset_ms != null) {
      const nice = airlock.duration(w.reset_ms);
      const same = inText.replace(/\s/g, "") === nice.replace(/\s/g, "");
      inText = inText && !same ? `${nice} (${inText})` : nice;
    }
    const at = w.reset_ms != null ? new Date(now + w.reset_ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" }) : "";
    for (const v of [number(w.limit), number(w.remaining), inText, at]) {
      const td = document.createElement("td");
      td.textContent = v ?? "";
      tr.append(td);
    }
    body.append(tr);
  }
  $("rl-headers-wrap").hidden = body.rows.length === 0;
}

// ---------- Check a request ----------

let tokenizer = null; // the lazily loaded tokenizer module, once loaded

async function loadTokenizer() {
  if (!tokenizer) {
    const mod = await import("./pkg/tokenizer/airlock_web.js");
    await mod.default();
    tokenizer = mod;
  }
  return tokenizer;
}

function checkNow() {
  const endpoint = $("endpoint").value;
  const body = $("body").value;
  const verdict = $("verdict");
  const answer = $("answer");
  const warnings = $("warnings");
  answer.hidden = true;
  warnings.hidden = true;
  $("tokens").textContent = "";
  if (!body.trim()) {
    verdict.className = "status";
    verdict.textContent = "Paste a request body to check it.";
    return;
  }
  const c = JSON.parse(airlock.check(endpoint, body));
  if (c.not_json && c.ok) {
    verdict.className = "status bad";
    verdict.textContent = `This body is not valid JSON (${c.not_json}); OpenAI would answer 400, "We could not parse the JSON body of your request."`;
  } else if (c.ok) {
    verdict.className = "status ok";
    verdict.textContent = `OpenAI would accept this request for ${endpoint} (as far as Airlock's rules know).`;
  } else {
    verdict.className = "status bad";
    const first = c.verdict.errors[0].error;
    verdict.textContent = `OpenAI would reject this request: HTTP ${c.status}${first.code ? " " + first.code : ""}. ${first.message}`;
    answer.textContent = c.answer;
    answer.hidden = false;
  }
  const notes = c.verdict.warnings || [];
  warnings.replaceChildren(...notes.map((w) => {
    const li = document.createElement("li");
    li.textContent = `Warning (${w.rule}): ${w.error.message}`;
    return li;
  }));
  warnings.hidden = notes.length === 0;
  showTokens(endpoint, body, c.ok && !c.not_json);
}

async function showTokens(endpoint, body, ok) {
  const out = $("tokens");
  if (!TOKENIZER) {
    out.textContent = "Token counts are not part of this build.";
    return;
  }
  out.textContent = "Counting tokens…";
  try {
    const t = JSON.parse((await loadTokenizer()).count_request(endpoint, body));
    if (body !== $("body").value || endpoint !== $("endpoint").value) return; // a newer check runs
    if (t.error) {
      out.textContent = `Token count: ${t.error}.`;
      return;
    }
    out.textContent = budgetText(t);
    // The budget rule runs only in the tokenizer module: its findings join the verdict here.
    if (ok && t.errors.length) {
      const first = t.errors[0].error;
      const verdict = $("verdict");
      verdict.className = "status bad";
      verdict.textContent = `OpenAI would reject this request: HTTP 400 ${first.code}. ${first.message}`;
      $("answer").textContent = t.answer;
      $("answer").hidden = false;
    }
    const warnings = $("warnings");
    for (const w of t.warnings) {
      const li = document.createElement("li");
      li.textContent = `Warning (${w.rule}): ${w.error.message}`;
      warnings.append(li);
      warnings.hidden = false;
    }
  } catch (e) {
    out.textContent = "Token counts could not be loaded.";
  }
}

/** "Tokens (o200k_base): 8 input (2 exact, 6 estimated) + 100 output (max_tokens) · context window 128,000 · max output 16,384" */
function budgetText(t) {
  let s = `Tokens (${t.encoding}): ${number(t.input_total)} input (${number(t.input_exact)} exact, ${number(t.input_estimated)} estimated)`;
  if (t.per_input && t.per_input.length > 1) s += `, largest input ${number(Math.max(...t.per_input))}`;
  if (t.output != null) s += ` + ${number(t.output)} output (${t.output_param})`;
  if (t.context_window == null) s += " · context window not known for this model";
  else s += ` · ${t.output_in_window ? "context window" : "input limit"} ${number(t.context_window)}`;
  if (t.max_output != null) s += ` · max output ${number(t.max_output)}`;
  if (t.uncounted && t.uncounted.length) s += ` · not counted: ${t.uncounted.join(", ")}`;
  return s;
}

// ---------- Link (state in the URL fragment, keys masked) ----------

function makeLink() {
  const params = new URLSearchParams();
  const paste = $("paste").value;
  if (paste.trim()) params.set("paste", airlock.redact(paste));
  const body = $("body").value;
  if (body.trim()) {
    params.set("endpoint", $("endpoint").value);
    params.set("body", airlock.redact(body));
  }
  const url = new URL(location.href);
  url.hash = params.toString();
  history.replaceState(null, "", url.hash || location.pathname);
  $("link").value = url.href;
  copy($("link"), "Link copied; it holds the paste with keys masked, after #, which browsers never send to a server.");
}

function restore() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("paste")) $("paste").value = params.get("paste");
  if (params.has("endpoint")) $("endpoint").value = params.get("endpoint");
  if (params.has("body")) $("body").value = params.get("body");
  explainNow();
  checkNow();
}

async function copy(field, message) {
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.select();
    document.execCommand("copy");
  }
  $("status").textContent = message;
}


// ---------- Traffic (issue 16): the worker's Monitor, for its operator ----------
// Nothing is asked of the server until the visitor gives a token and presses the button. The
// token lives only in `trafficToken` (this tab's memory): never in storage, the URL or a log.
// The charts are inline SVG drawn here (no charting library: the smallest one is tens of kB,
// more than this whole view).

let trafficToken = "";
let categories = []; // the rules' categories: name, label, meaning, first_fix, alert

const SVG = "http://www.w3.org/2000/svg";

/** A small bar chart of `counts` (oldest first) as inline SVG, with its text equivalent. */
function barChart(counts, ok, label) {
  const svg = document.createElementNS(SVG, "svg");
  const w = counts.length * 4;
  svg.setAttribute("viewBox", `0 0 ${w} 36`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const max = Math.max(1, ...counts);
  counts.forEach((n, i) => {
    if (!n) return;
    const h = Math.max(2, Math.round((n / max) * 34));
    const r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", String(i * 4 + 0.5));
    r.setAttribute("y", String(36 - h));
    r.setAttribute("width", "3");
    r.setAttribute("height", String(h));
    r.setAttribute("class", ok ? "bar ok" : "bar");
    svg.append(r);
  });
  return svg;
}

const sum = (a) => (a || []).reduce((x, y) => x + y, 0);

function trafficMessage(text) {
  $("traffic-status").textContent = text;
}

function renderTraffic(s) {
  const hour = s.hour?.categories || {};
  const day = s.day?.categories || {};
  const alerts = new Map((s.alerts || []).map((a) => [a.category, a]));
  const info = new Map(categories.map((c) => [c.name, c]));
  const names = ["ok", ...categories.map((c) => c.name)]
    .filter((n) => sum(day[n]) > 0 || sum(hour[n]) > 0 || ["firing", "cooling"].includes(alerts.get(n)?.state));
  const charts = $("traffic-charts");
  charts.replaceChildren();
  const tbody = $("traffic-table").tBodies[0];
  tbody.replaceChildren();
  if (names.length) {
    for (const t of ["Category", "Last hour (per minute, now at the right)", "Last 24 h (per hour)"]) {
      const h = document.createElement("div");
      h.className = "head";
      h.setAttribute("aria-hidden", "true");
      h.textContent = t;
      charts.append(h);
    }
  }
  for (const name of names) {
    const c = info.get(name);
    const label = name === "ok" ? "Succeeded" : c?.label || name;
    const hourCounts = hour[name] || new Array(60).fill(0);
    const dayCounts = day[name] || new Array(24).fill(0);
    const cell = document.createElement("div");
    cell.className = "name";
    cell.textContent = label;
    const small = document.createElement("small");
    small.textContent = `${name}: ${number(sum(hourCounts))} / ${number(sum(dayCounts))}`;
    cell.append(small);
    charts.append(cell,
      barChart(hourCounts, name === "ok", `${label}: ${sum(hourCounts)} in the last hour, at most ${Math.max(0, ...hourCounts)} in one minute`),
      barChart(dayCounts, name === "ok", `${label}: ${sum(dayCounts)} in the last 24 hours, at most ${Math.max(0, ...dayCounts)} in one hour`));
    const a = alerts.get(name);
    const tr = document.createElement("tr");
    tr.dataset.category = name;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = `${label} (${name})`;
    tr.append(th);
    const alertText = !a ? "" : a.state === "quiet" ? `quiet (${a.recent} in ${a.window_minutes} min)`
      : `${a.state}${a.last_fired ? ", fired " + new Date(a.last_fired).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }) : ""}`;
    for (const v of [number(sum(hourCounts)), number(sum(dayCounts)), alertText,
      name === "ok" ? "Answered without an error." : c?.meaning || "", name === "ok" ? "" : c?.first_fix || ""]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    tbody.append(tr);
  }
  const hot = (s.alerts || []).filter((a) => a.state === "firing" || a.state === "cooling");
  const alertsLine = $("traffic-alerts");
  alertsLine.replaceChildren();
  if (!hot.length) alertsLine.textContent = "Alerts: none firing or cooling down.";
  else {
    alertsLine.append("Alerts: ");
    hot.forEach((a, i) => {
      const span = document.createElement("span");
      span.className = a.state;
      span.textContent = `${info.get(a.category)?.label || a.category} ${a.state === "cooling" ? "fired, cooling down" : "firing"}`;
      alertsLine.append(...(i ? ["; ", span] : [span]));
    });
  }
  const totals = s.totals_24h || {};
  const list = (items) => items.map((x) => `${x.key} ${number(x.count)}`).join(", ");
  const streams = (totals.stream || []).filter((x) => x.count > 0);
  $("traffic-streams").textContent = streams.length ? `Streams ended (24 h): ${list(streams)}.` : "";
  const simulated = (totals.simulated || []).filter((x) => x.count > 0);
  $("traffic-simulated").textContent = simulated.length
    ? `Simulated answers (24 h; x-airlock-simulate, not in the counts above, never alerted on): ${list(simulated)}.` : "";
  $("traffic-time").textContent = s.now ? `As of ${new Date(s.now).toLocaleString([], { hourCycle: "h23", timeZoneName: "short" })}.` : "";
  $("traffic-view").hidden = false;
  trafficMessage(names.length ? `Traffic of this worker: ${names.length} categor${names.length === 1 ? "y" : "ies"} seen in the last 24 hours.`
    : "Nothing counted in the last 24 hours.");
}

function hideTraffic() {
  $("traffic-view").hidden = true;
  $("traffic-charts").replaceChildren();
  $("traffic-table").tBodies[0].replaceChildren();
  for (const id of ["traffic-alerts", "traffic-streams", "traffic-simulated", "traffic-time"]) $(id).textContent = "";
}

async function loadTraffic() {
  const token = trafficToken;
  if (!token) {
    hideTraffic();
    trafficMessage("Enter the worker's ADMIN_TOKEN or a gateway token first.");
    return;
  }
  trafficMessage("Loading traffic…");
  let res;
  try {
    res = await fetch("/airlock/status", {
      headers: { authorization: `Bearer ${token}` }, cache: "no-store", credentials: "omit", redirect: "error", referrerPolicy: "no-referrer",
    });
  } catch {
    hideTraffic();
    trafficMessage("Traffic is unavailable: the worker could not be reached (offline?). Explaining errors still works.");
    return;
  }
  if (res.status === 401) {
    hideTraffic();
    trafficToken = "";
    trafficMessage("Traffic is unavailable: the token was not accepted (HTTP 401). Use the worker's ADMIN_TOKEN or a gateway token.");
    return;
  }
  let s = null;
  try {
    if (res.ok && /json/.test(res.headers.get("content-type") || "")) s = await res.json();
  } catch {
    s = null;
  }
  if (!s) {
    hideTraffic();
    trafficMessage(`Traffic is unavailable: this page is not served by an Airlock worker (HTTP ${res.status} for /airlock/status).`);
    return;
  }
  if (s.monitor === "unbound") {
    hideTraffic();
    trafficMessage("Traffic is unavailable: this worker has no MONITOR Durable Object bound, so nothing is counted.");
    return;
  }
  renderTraffic(s);
}

function startTraffic() {
  categories = JSON.parse(airlock.categories());
  $("traffic-form").addEventListener("submit", (e) => {
    e.preventDefault();
    // An empty field refreshes with the token already given.
    const typed = $("traffic-token").value.trim();
    if (typed) trafficToken = typed;
    $("traffic-token").value = "";
    loadTraffic();
  });
  $("traffic-forget").addEventListener("click", () => {
    trafficToken = "";
    $("traffic-token").value = "";
    hideTraffic();
    trafficMessage("Token forgotten.");
  });
}

// ---------- Start ----------

async function start() {
  try {
    await init();
  } catch (e) {
    $("status").textContent = "Could not load Airlock's rules (WebAssembly): " + e;
    return;
  }
  $("data-version").textContent = `Rule data ${airlock.data_version()}.`;
  for (const ex of EXAMPLES) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = ex.label;
    b.dataset.example = ex.id;
    b.addEventListener("click", () => {
      $("paste").value = ex.text;
      explainNow();
    });
    $("example-buttons").append(b);
  }
  for (const e of JSON.parse(airlock.endpoints())) {
    $("endpoint").append(new Option(e, e));
  }
  const explainSoon = debounce(explainNow, 120);
  $("paste").addEventListener("input", explainSoon);
  for (const id of ["b-endpoint", "b-model", "b-time"]) $(id).addEventListener("input", explainSoon);
  $("body").addEventListener("input", debounce(checkNow, 150));
  $("endpoint").addEventListener("change", checkNow);
  $("make-link").addEventListener("click", makeLink);
  $("copy-bundle").addEventListener("click", () => copy($("bundle"), "Support bundle copied (keys masked)."));
  window.addEventListener("hashchange", restore);
  startTraffic();
  restore();
  document.body.dataset.ready = "true";
}

start();
