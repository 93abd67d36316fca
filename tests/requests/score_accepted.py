#!/usr/bin/env python3
"""Blind-score an airlock binary on a corpus of requests OpenAI accepted.

Usage: score_accepted.py BINARY DIR [DIR ...] [--list FILE]

Each DIR holds per-endpoint folders (`chat_completions/`, `responses/`, ...) like
`real_accepted/`; the folder maps to the endpoint the same way as
`crates/airlock-rules/tests/requests.rs` (`endpoint_of`). Every body is checked with
`BINARY check FILE --endpoint E --json`; a non-zero exit or a non-empty `errors` list is a
false rejection. With --list, only the paths listed in FILE (one per line, relative to the
DIR they live in, e.g. `responses/x.json`) are scored.
"""
import json
import os
import subprocess
import sys

ENDPOINTS = {
    "responses": "/v1/responses",
    "responses_input_tokens": "/v1/responses/input_tokens",
    "chat_completions": "/v1/chat/completions",
    "embeddings": "/v1/embeddings",
    "images_generations": "/v1/images/generations",
    "images_edits": "/v1/images/edits",
    "audio_transcriptions": "/v1/audio/transcriptions",
    "audio_speech": "/v1/audio/speech",
    "files": "/v1/files",
    "batches": "/v1/batches",
    "completions": "/v1/completions",
    "moderations": "/v1/moderations",
}


def main(argv):
    only = None
    if "--list" in argv:
        i = argv.index("--list")
        only = {l.strip() for l in open(argv[i + 1]) if l.strip()}
        argv = argv[:i] + argv[i + 2:]
    if len(argv) < 3:
        print(__doc__)
        return 2
    binary, dirs = argv[1], argv[2:]
    n = rejected = warned = warnings = 0
    rows = []
    for root in dirs:
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            if not os.path.isdir(path):
                continue
            endpoint = ENDPOINTS.get(folder)
            if endpoint is None:
                raise SystemExit(f"{path}: unknown endpoint folder {folder}")
            for name in sorted(os.listdir(path)):
                if not name.endswith(".json"):
                    continue
                rel = f"{folder}/{name}"
                if only is not None and rel not in only:
                    continue
                n += 1
                p = subprocess.run(
                    [binary, "check", os.path.join(path, name), "--endpoint", endpoint, "--json"],
                    capture_output=True, text=True,
                )
                try:
                    out = json.loads(p.stdout)
                except ValueError:
                    out = {"errors": [{"rule": "unparsable-output", "message": p.stdout[:200] + p.stderr[:200]}], "warnings": []}
                errs = out.get("errors") or []
                warns = out.get("warnings") or []
                warnings += len(warns)
                if warns:
                    warned += 1
                if p.returncode != 0 or errs:
                    rejected += 1
                    msg = "; ".join(f"{e.get('rule')}: {e.get('message')}" for e in errs) or f"exit {p.returncode}"
                    rows.append(f"REJECTED {root}/{rel}: {msg}")
                for w in warns:
                    rows.append(f"warning  {root}/{rel}: {w.get('rule')}: {w.get('message')}")
    for r in rows:
        print(r)
    print(f"n={n} false_rejections={rejected} files_with_warnings={warned} warnings={warnings}")
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
