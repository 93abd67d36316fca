// The worker's small JavaScript I/O helpers (issue 14), one module for both entries: the Rust
// `fetch` imports them through wasm-bindgen (`src/plumbing.rs`, `#[wasm_bindgen(module =
// "/js/io.mjs")]`) and the JavaScript entry (`js/entry.js`) imports them directly;
// `cargo xtask build-worker` writes this file beside the entry as `build/io.mjs` (an `.mjs`, so
// Miniflare loads it as an ES module). Each helper does in one call what would otherwise be many
// crossings of the JS boundary.

/** Every header name of `h` (lowercase, in the runtime's order; a name the runtime lists twice,
 * only ever `set-cookie`, listed twice), comma-separated: a header name cannot hold a comma. */
export function headerNames(h) {
  let s = "";
  for (const k of h.keys()) s = s === "" ? k : s + "," + k;
  return s;
}

/** Every header of `h` as `name\nvalue\n` pairs, each name once with its value as `get` returns
 * it (a repeated `set-cookie` joined). A header value cannot hold a line feed. */
export function headerPairs(h) {
  let s = "";
  let last;
  for (const k of h.keys()) {
    if (k === last) continue;
    last = k;
    s += k + "\n" + h.get(k) + "\n";
  }
  return s;
}

/** Deletes from `h` every name of `names` (comma-separated; empty: none). */
export function deleteHeaders(h, names) {
  if (names === "") return;
  for (const name of names.split(",")) {
    try {
      h.delete(name);
    } catch {}
  }
}

/** A checked request body of known `length`, whole (`body::read_request`, the entry's fast path).
 * The runtime delimits a body by its `content-length` unless `transfer-encoding` overrides it, so
 * such a body is read in one native call and its length checked; one that also names a transfer
 * coding (a chunked body can run past its stated length) goes through `FixedLengthStream`, which
 * errors on a byte more or less. Both stop at `length`, within `MAX_CHECK_BYTES`. */
export function readWhole(request, length) {
  if (request.headers.has("transfer-encoding")) {
    const fixed = new FixedLengthStream(length);
    const piped = request.body.pipeTo(fixed.writable);
    return Promise.all([new Response(fixed.readable).arrayBuffer(), piped]).then(([b]) => new Uint8Array(b));
  }
  return request.arrayBuffer().then((b) => {
    if (b.byteLength !== length) throw new RangeError("body length differs from content-length");
    return new Uint8Array(b);
  });
}

/** `fetch(url, init)` raced against `ms` milliseconds: the response, 0 (timed out: `controller`,
 * whose signal `init` carries, aborted with reason `airlock: upstream timeout`), or 1 (failed). */
export function fetchWithin(url, init, ms, controller) {
  return new Promise((resolve) => {
    const call = fetch(url, init);
    const timer = setTimeout(() => {
      controller.abort("airlock: upstream timeout");
      resolve(0);
    }, ms);
    call.then(
      (r) => (clearTimeout(timer), resolve(r)),
      () => (clearTimeout(timer), resolve(1)),
    );
  });
}

/** A JSON answer to check, read as `body::read_prefix` reads (`output.rs`): at most `cap` bytes plus
 * the chunk that crossed it, within `ms` from now, gathered here and handed over as one array:
 * `[bytes, end, rest]`, `end` being `complete`, `more`, `stalled` or `failed`, and `rest` the reader
 * of the unread rest (a read still pending at the deadline is its first). Throws when `body` is
 * locked. */
export function readAnswer(body, cap, ms) {
  const reader = body.getReader();
  const chunks = [];
  let size = 0;
  // One promise for the whole read, settled by the reads or by the deadline's timer, whichever
  // comes first (issue 17: a `Promise.race` per chunk cost a promise and two handlers each).
  return new Promise((resolve) => {
    let over = false;
    let pending;
    const done = (end, first) => {
      over = true;
      clearTimeout(timer);
      let bytes = chunks.length === 1 ? chunks[0] : new Uint8Array(size);
      if (chunks.length !== 1) {
        let at = 0;
        for (const c of chunks) {
          bytes.set(c, at);
          at += c.byteLength;
        }
      }
      let rest = reader;
      if (first) {
        first.catch(() => {});
        rest = {
          read() {
            if (first) {
              const p = first;
              first = null;
              return p;
            }
            return reader.read();
          },
          cancel(why) {
            return reader.cancel(why);
          },
        };
      }
      resolve([bytes, end, rest]);
    };
    const timer = setTimeout(() => {
      if (!over) done("stalled", pending);
    }, ms);
    const step = () => {
      pending = reader.read();
      pending.then(
        (r) => {
          if (over) return;
          if (r.done) return done("complete");
          if (!(r.value instanceof Uint8Array)) return done("failed");
          chunks.push(r.value);
          size += r.value.byteLength;
          if (size > cap) return done("more");
          step();
        },
        () => {
          if (!over) done("failed");
        },
      );
    };
    step();
  });
}
