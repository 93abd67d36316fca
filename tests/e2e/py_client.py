"""Drives the official `openai` Python SDK for the end-to-end tests.

Usage: py_client.py '<json job>' where the job is
{"base_url", "api_key", "max_retries", "call": "chat" | "chat_stream" | "responses_stream" | "upload",
"params": {...}}.
Prints one JSON object: what the SDK returned or raised.
"""
import json
import sys
import time

import openai


def main() -> None:
    job = json.loads(sys.argv[1])
    client = openai.OpenAI(
        base_url=job["base_url"],
        api_key=job.get("api_key", "sk-test"),
        max_retries=job.get("max_retries", 2),
        timeout=job.get("timeout", 30),
    )
    out: dict = {"ok": False}
    try:
        if job["call"] == "chat_stream":
            stream = client.chat.completions.create(stream=True, **job["params"])
            out["chunks"] = []
            for chunk in stream:
                text = chunk.choices[0].delta.content if chunk.choices else None
                out["chunks"].append({"at": time.monotonic(), "content": text})
        elif job["call"] == "responses_stream":
            stream = client.responses.create(stream=True, **job["params"])
            out["events"] = []
            for event in stream:
                out["events"].append(event.type)
        elif job["call"] == "upload":
            p = job["params"]
            f = client.files.create(file=("b.jsonl", p["text"].encode()), purpose=p["purpose"])
            out["id"] = f.id
        elif job["call"] == "chat_many":
            # `count` chat completions one after another (pacing e2e and bench-burst): each
            # outcome, with the retries the SDK made on its own (x-stainless-retry-count).
            out["results"] = []
            for _ in range(job.get("count", 1)):
                start = time.monotonic()
                try:
                    raw = client.chat.completions.with_raw_response.create(**job["params"])
                    raw.parse()
                    out["results"].append({"ok": True, "ms": (time.monotonic() - start) * 1000,
                                           "retries": int(raw.retries_taken)})
                except openai.APIStatusError as e:
                    out["results"].append({"ok": False, "status": e.status_code, "code": e.code,
                                           "ms": (time.monotonic() - start) * 1000})
                except openai.APIError as e:
                    out["results"].append({"ok": False, "error": type(e).__name__,
                                           "ms": (time.monotonic() - start) * 1000})
        else:
            resp = client.chat.completions.create(**job["params"])
            out["content"] = resp.choices[0].message.content
        out["ok"] = True
    except openai.APIStatusError as e:
        out.update(
            error=type(e).__name__,
            status=e.status_code,
            code=e.code,
            param=e.param,
            type=e.type,
            request_id=e.request_id,
            body=e.body,
        )
    except openai.APIError as e:
        out.update(error=type(e).__name__, message=str(e), code=getattr(e, "code", None))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
