#!/usr/bin/env python3
"""Airlock's tokenizer against OpenAI's Python tiktoken, token ID for token ID.

Usage: tiktoken_compare.py TOKENIZE_BIN

TOKENIZE_BIN is the `tokenize` example of airlock-rules (it writes the generated corpus and
prints Airlock's token IDs). The `.tiktoken` vocabularies are rebuilt from Airlock's own compact (`ATK2`)
files (crates/airlock-rules/src/generated/tokenizer/*.bin), and tiktoken loads them offline from
TIKTOKEN_CACHE_DIR, where each file is named by the sha1 hex of its download URL. tiktoken checks
the sha256 of a cached vocabulary against OpenAI's, so this also proves the compact files hold the
official vocabularies exactly (a mismatch makes tiktoken try to download, which fails offline). Texts are read as bytes and decoded with errors="replace" (so `\r` is kept, as
with newline="", and invalid UTF-8 is replaced as Airlock's byte API does).
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile

URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
ENCODINGS = ["o200k_base", "cl100k_base"]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def atk2_tokens(data):
    """The tokens of an `ATK2` file in rank order (the format is described in
    xtask/src/codegen/vocab.rs: prefix ranks as three byte planes, suffix lengths, suffixes)."""
    assert data[:4] == b"ATK2"
    n = int.from_bytes(data[4:8], "little")
    hi, mid, lo = data[8:8 + n], data[8 + n:8 + 2 * n], data[8 + 2 * n:8 + 3 * n]
    lens = data[8 + 3 * n:8 + 4 * n]
    pos = 8 + 4 * n
    tokens = []
    for r in range(n):
        x = (hi[r] << 16) | (mid[r] << 8) | lo[r]
        prefix = tokens[x - 1] if x else b""
        suffix = data[pos:pos + lens[r]]
        pos += lens[r]
        tokens.append(prefix + suffix)
    assert pos == len(data)
    return tokens


def tiktoken_file(name):
    """The `.tiktoken` text of a committed compact vocabulary."""
    with open(os.path.join(ROOT, "crates/airlock-rules/src/generated/tokenizer", name + ".bin"), "rb") as f:
        data = f.read()
    lines = [base64.b64encode(t) + b" " + str(rank).encode() for rank, t in enumerate(atk2_tokens(data))]
    return b"\n".join(lines) + b"\n"


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    tokenize = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        os.mkdir(cache)
        for name in ENCODINGS:
            key = hashlib.sha1(URL.format(name).encode()).hexdigest()
            with open(os.path.join(cache, key), "wb") as f:
                f.write(tiktoken_file(name))
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
        import tiktoken

        corpus = os.path.join(tmp, "corpus")
        subprocess.run([tokenize, "corpus", corpus], check=True)
        files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
        out = subprocess.run([tokenize, "encode", *files], check=True, capture_output=True)
        ours = {}
        for line in out.stdout.decode().splitlines():
            enc, path, ids = line.split("\t")
            ours[(enc, path)] = [int(i) for i in ids.split()]

        total_bytes = sum(os.path.getsize(f) for f in files)
        failures = 0
        for name in ENCODINGS:
            enc = tiktoken.get_encoding(name)
            tokens = 0
            for path in files:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", errors="replace")
                want = enc.encode_ordinary(text)
                got = ours[(name, path)]
                tokens += len(want)
                if got != want:
                    failures += 1
                    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                             min(len(got), len(want)))
                    ctx = lambda ids: [enc.decode_single_token_bytes(t) for t in ids[max(0, i - 3):i + 4]]
                    print(f"MISMATCH {name} {os.path.basename(path)} at token {i}: "
                          f"tiktoken {ctx(want)} airlock {ctx(got)}")
            print(f"{name}: {len(files)} texts, {total_bytes} bytes, {tokens} tokens compared")
        print("tiktoken", tiktoken.__version__)
        if failures:
            print(f"{failures} texts differ from tiktoken")
            return 1
        print("all token IDs equal tiktoken's")
        return 0


if __name__ == "__main__":
    sys.exit(main())
