// The built worker under bare `workerd serve` (as `bench/worker/run.mjs` runs it): one process, no
// Miniflare entry worker in front, so its memory is the worker's and the runtime's alone.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function workerdBinary() {
  const native = path.join(root, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");
  return fs.existsSync(native) ? native : path.join(root, "node_modules", ".bin", "workerd");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/**
 * Starts `script` (worker-build's `build/index.js`; every `.wasm` beside it is a module too, and
 * a lone `.js` worker works as well) with `vars` as text bindings, writing the config to `workDir`.
 * Collects workerd's stdout and stderr lines in `logs`.
 */
export async function startBareWorker(script, vars, workDir) {
  fs.mkdirSync(workDir, { recursive: true });
  const dir = path.dirname(path.resolve(script));
  const rel = (f) => JSON.stringify(path.relative(path.resolve(workDir), path.join(dir, f)));
  const modules = [`(name = ${JSON.stringify(path.basename(script))}, esModule = embed ${rel(path.basename(script))})`];
  for (const f of fs.readdirSync(dir).sort()) if (f.endsWith(".wasm")) modules.push(`(name = ${JSON.stringify(f)}, wasm = embed ${rel(f)})`);
  const bindings = Object.entries(vars).map(([k, v]) => `(name = ${JSON.stringify(k)}, text = ${JSON.stringify(v)})`);
  const port = await freePort();
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "airlock", worker = (
      modules = [${modules.join(", ")}],
      compatibilityDate = "2025-09-01",
      bindings = [${bindings.join(", ")}],
      globalOutbound = "loopback")),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "airlock", address = "127.0.0.1:${port}", http = (), service = "airlock")],
);
`;
  const file = path.join(workDir, "soak.capnp");
  fs.writeFileSync(file, config);
  const child = spawn(workerdBinary(), ["serve", file], { stdio: ["ignore", "pipe", "pipe"] });
  process.on("exit", () => child.exitCode === null && child.kill("SIGTERM"));
  const logs = [];
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream.on("data", (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        logs.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited ${child.exitCode}:\n${logs.join("\n")}`);
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      break;
    } catch {
      if (i > 400) throw new Error(`workerd did not answer on ${url}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: child.pid,
    logs,
    logLines: () =>
      logs
        .map((l) => {
          const at = l.indexOf("{");
          try {
            return at >= 0 ? JSON.parse(l.slice(at)) : null;
          } catch {
            return null;
          }
        })
        .filter(Boolean),
    dispose: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
