// `cargo xtask dev` builds once at start and rebuilds exactly once when a crate file changes
// (issue 18). Slow (a real release build of the worker after the edit), so it is opt-in:
// `cargo xtask dev-test`, not part of `cargo xtask test`. Bounded: 20 minutes in all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { utimesSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function healthy(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

/// Waits until `ok()` holds, polling; fails with `what` after `ms`.
async function until(ok, ms, what, log) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(500);
  }
  assert.fail(`${what} within ${ms / 1000} s; output so far:\n${log()}`);
}

const count = (text, needle) => text.split(needle).length - 1;

test("editing a crate file while cargo xtask dev runs rebuilds once", { timeout: 20 * 60_000 }, async () => {
  const port = await freePort();
  let out = "";
  const dev = spawn("cargo", ["xtask", "dev", "--port", String(port)], {
    cwd: root,
    detached: true, // its own process group: wrangler and workerd are stopped with it
    stdio: ["ignore", "pipe", "pipe"],
  });
  dev.stdout.on("data", (d) => (out += d));
  dev.stderr.on("data", (d) => (out += d));
  const log = () => out.slice(-4000);
  try {
    await until(() => healthy(port), 15 * 60_000, "/healthz answered", log);
    // wrangler builds once when it starts and once when its watcher is ready: both must be no-ops.
    await until(() => count(out, "build-worker: up to date") >= 2, 60_000, "wrangler's two start builds were skipped", log);
    const startBuilds = count(out, "build-worker: building");
    assert.ok(startBuilds <= 1, `built ${startBuilds} times at start:\n${log()}`);
    await sleep(3000);
    const mark = out.length;
    const now = new Date();
    utimesSync(join(root, "crates", "airlock-worker", "src", "lib.rs"), now, now);
    await until(() => out.slice(mark).includes("build-worker: built in"), 10 * 60_000, "a rebuild after the edit", log);
    // Any second build would start within seconds of the first one's end; give it 20 s to show.
    await sleep(20_000);
    const after = out.slice(mark);
    assert.equal(count(after, "build-worker: building"), 1, `rebuilds after one edit:\n${after}`);
    await until(() => healthy(port), 60_000, "/healthz answered after the rebuild", log);
    // For the README's timings.
    console.log(`start: ${out.match(/dev: \S+ answered .*/)?.[0]}; after the edit: ${after.match(/build-worker: built in \d+ s/)?.[0]}`);
  } finally {
    try {
      process.kill(-dev.pid, "SIGTERM");
    } catch {}
    await sleep(2000);
    try {
      process.kill(-dev.pid, "SIGKILL");
    } catch {}
  }
});
