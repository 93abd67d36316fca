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
    # Issue 12, session 18 (helper 12e): paths with ids are checked with a made-up id, as a client
    # sends them (the rules find the template).
    "responses_compact": "/v1/responses/compact",
    "realtime_sessions": "/v1/realtime/sessions",
    "realtime_client_secrets": "/v1/realtime/client_secrets",
    "realtime_transcription_sessions": "/v1/realtime/transcription_sessions",
    "conversations": "/v1/conversations",
    "conversations_conversation": "/v1/conversations/conv_abc123",
    "conversations_conversation_items": "/v1/conversations/conv_abc123/items",
    "vector_stores": "/v1/vector_stores",
    "vector_stores_store": "/v1/vector_stores/vs_abc123",
    "vector_stores_store_files": "/v1/vector_stores/vs_abc123/files",
    "vector_stores_store_file_batches": "/v1/vector_stores/vs_abc123/file_batches",
    "vector_stores_store_search": "/v1/vector_stores/vs_abc123/search",
    "fine_tuning_jobs": "/v1/fine_tuning/jobs",
    "uploads": "/v1/uploads",
    "uploads_upload_complete": "/v1/uploads/upload_abc123/complete",
    "evals": "/v1/evals",
    "containers": "/v1/containers",
    "videos": "/v1/videos",
    "assistants": "/v1/assistants",
    "assistants_assistant": "/v1/assistants/asst_abc123",
    "threads": "/v1/threads",
    "threads_runs": "/v1/threads/runs",
    "threads_thread": "/v1/threads/thread_abc123",
    "threads_thread_messages": "/v1/threads/thread_abc123/messages",
    "threads_thread_runs": "/v1/threads/thread_abc123/runs",
    "threads_thread_runs_run_submit_tool_outputs": "/v1/threads/thread_abc123/runs/run_abc123/submit_tool_outputs",
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
