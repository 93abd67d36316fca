// Airlock's tokenizer in wasm under node: set-up time and MB/s on the bench texts.
// usage: node bench.mjs MODULE.wasm TEXTS_DIR [o200k_base|cl100k_base]
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const [wasmPath, dir, enc = "o200k_base"] = process.argv.slice(2);
const bytes = readFileSync(wasmPath);
let t0 = performance.now();
const { instance } = await WebAssembly.instantiate(bytes, {});
const instantiate = performance.now() - t0;
const x = instance.exports;
t0 = performance.now();
x.setup(enc === "o200k_base" ? 0 : 1);
const setup = performance.now() - t0;
console.log(`wasm ${enc}: instantiate ${instantiate.toFixed(1)} ms, tokenizer set-up ${setup.toFixed(1)} ms`);
for (const name of readdirSync(dir).sort()) {
  const text = readFileSync(join(dir, name));
  const run = () => {
    const ptr = x.buffer(text.length);
    new Uint8Array(x.memory.buffer, ptr, text.length).set(text);
    return x.count();
  };
  const n = run();
  // The fastest batch of at least 10 ms of runs within 700 ms (as the native bench), so time
  // lost to other processes on a shared machine counts less.
  let s = Infinity;
  t0 = performance.now();
  while (performance.now() - t0 < 700) {
    const b = performance.now();
    let runs = 0;
    while (performance.now() - b < 10) { run(); runs++; }
    s = Math.min(s, (performance.now() - b) / 1000 / runs);
  }
  console.log(`| ${name.replace(/^\d+-/, "").replaceAll("_", " ")} | ${(text.length / 1e6 / s).toFixed(1)} MB/s | ${n} tokens |`);
}
