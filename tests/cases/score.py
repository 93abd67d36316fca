#!/usr/bin/env python3
"""Scores an `airlock` binary on case files: right = category and retry decision both as expected.

    python3 tests/cases/score.py BINARY FILE.toml [FILE.toml ...] [--misses]

Cases whose name's SHA-256 starts with a hex digit 0-3 are the held-out split (about 25 %),
reported apart. Used to record the blind score of each new batch with the binary of the code
before any fix (tests/cases/README.md); `cargo test` runs the same comparison on the current code.
"""
import hashlib, json, subprocess, sys, tempfile, tomllib


def held_out(name: str) -> bool:
    return hashlib.sha256(name.strip().encode()).hexdigest()[0] in "0123"


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--misses" in sys.argv
    binary, files = args[0], args[1:]
    score = {True: [0, 0], False: [0, 0]}
    for path in files:
        with open(path, "rb") as f:
            cases = tomllib.load(f)["case"]
        for c in cases:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as t:
                t.write(c["input"])
            out = subprocess.run([binary, "explain", t.name, "--json"], capture_output=True, text=True).stdout
            try:
                d = json.loads(out)
            except json.JSONDecodeError:
                d = {}
            got = (d.get("category"), (d.get("retry") or {}).get("decision"))
            want = (c.get("category"), c.get("retry"))
            ok = got == want
            h = held_out(c["name"])
            score[h][0] += ok
            score[h][1] += 1
            if show and not ok:
                print(f"MISS {'H' if h else 'T'} {c['name']}: want {want} got {got} rule {d.get('rule')}")
    for h, label in ((False, "tuned split"), (True, "held-out split")):
        r, n = score[h]
        print(f"{label}: {r}/{n}" + (f" ({100*r/n:.1f} %)" if n else ""))
    r = score[True][0] + score[False][0]
    n = score[True][1] + score[False][1]
    print(f"all: {r}/{n}" + (f" ({100*r/n:.1f} %)" if n else ""))


if __name__ == "__main__":
    main()
