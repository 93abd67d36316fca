#!/usr/bin/env python3
"""Score an `airlock` binary on a corpus of real rejected requests.

    python3 tests/requests/score.py BINARY [DIR ...] [--only NEW_FILES_LIST] [--verbose]

DIR holds request bodies and an EXPECTED.json table (default: real_rejected/ and
heldout/real_rejected/ next to this script). Each case is run as

    BINARY check FILE --endpoint ENDPOINT --json

and counted as
  - right param: rejected, and the first error's `param` equals the expected one
    (`messages.[0]` and `messages[0]` are treated as the same path);
  - wrong param: rejected with another param;
  - missed: not rejected (a warning only counts as missed, except for cases marked
    `"airlock": "warning"`, which count as right when Airlock only warns);
  - caught, param not shown: rejected, for a case marked `"param_shown": false`
    (the 400 as quoted shows no param, so it cannot be compared).
`--only FILE` restricts the run to the case file names listed in FILE (one per line).
"""
import json
import os
import re
import subprocess
import sys


def norm(param):
    if param is None:
        return None
    return re.sub(r"\.\[", "[", param.strip("'"))


def run(binary, path, endpoint):
    proc = subprocess.run(
        [binary, "check", path, "--endpoint", endpoint, "--json"],
        capture_output=True,
        text=True,
    )
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None, proc.returncode, proc.stderr.strip()[:200]
    return out, proc.returncode, None


def score_dir(binary, directory, only=None, verbose=False):
    table = json.load(open(os.path.join(directory, "EXPECTED.json")))
    counts = {"n": 0, "right": 0, "wrong": 0, "missed": 0, "unshown": 0}
    rows = []
    for case in table:
        if only is not None and case["file"] not in only:
            continue
        counts["n"] += 1
        out, rc, err = run(binary, os.path.join(directory, case["file"]), case["endpoint"])
        errors = (out or {}).get("errors") or []
        warnings = (out or {}).get("warnings") or []
        first = errors[0] if errors else None
        if case.get("airlock") == "warning":
            verdict = "right" if (not errors and warnings) else ("wrong" if errors else "missed")
        elif not errors or rc == 0:
            verdict = "missed"
        elif case.get("param_shown") is False:
            verdict = "unshown"
        elif norm(first.get("param")) == norm(case.get("param")):
            verdict = "right"
        else:
            verdict = "wrong"
        counts[verdict] += 1
        got = f"{first.get('param')!r} {first.get('code')!r}" if first else (err or "ok")
        rows.append((verdict, case["file"], case.get("param"), got))
    if verbose:
        for verdict, file, want, got in rows:
            print(f"  {verdict:7} {file}: want {want!r}, got {got}")
    return counts


def main(argv):
    verbose = "--verbose" in argv
    argv = [a for a in argv if a != "--verbose"]
    only = None
    if "--only" in argv:
        i = argv.index("--only")
        only = {l.strip() for l in open(argv[i + 1]) if l.strip()}
        del argv[i : i + 2]
    if not argv:
        print(__doc__)
        return 2
    binary, dirs = argv[0], argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    if not dirs:
        dirs = [os.path.join(here, "real_rejected"), os.path.join(here, "heldout", "real_rejected")]
    for d in dirs:
        c = score_dir(binary, d, only, verbose)
        extra = f", caught (param not shown) {c['unshown']}" if c["unshown"] else ""
        print(
            f"{os.path.relpath(d, here)}: n={c['n']}, right param {c['right']}, "
            f"wrong param {c['wrong']}, missed {c['missed']}{extra}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
