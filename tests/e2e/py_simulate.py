"""Drives the official `openai` Python SDK for tests/e2e/simulate.test.mjs, one job per stdin line.

Each line is a JSON job {"base_url", "api_key", "max_retries", "timeout", "call": "chat" |
"chat_stream" | "responses_stream", "headers": {...}}; each answer is one JSON line on stdout:
what the SDK returned or raised, the events a stream yielded, and the time the call took. One
process for every job, so the SDK is imported once and the test can count the worker's log
lines between two jobs.
"""
import json
import sys
import time

import openai

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}


def run(job: dict) -> dict:
    client = openai.OpenAI(
        base_url=job["base_url"],
        api_key=job.get("api_key", "sk-test"),
        max_retries=job.get("max_retries", 2),
        timeout=job.get("timeout", 30),
    )
    headers = job.get("headers", {})
    out: dict = {"ok": False, "events": []}
    started = time.monotonic()
    try:
        if job["call"] == "chat_stream":
            stream = client.chat.completions.create(stream=True, extra_headers=headers, **CHAT)
            for chunk in stream:
                out["events"].append(chunk.object)
        elif job["call"] == "responses_stream":
            stream = client.responses.create(
                stream=True, extra_headers=headers, model="gpt-4o-mini", input="Say hello"
            )
            for event in stream:
                out["events"].append(event.type)
        else:
            resp = client.chat.completions.create(extra_headers=headers, **CHAT)
            out["content"] = resp.choices[0].message.content
        out["ok"] = True
    except openai.APIStatusError as e:
        out.update(error=type(e).__name__, status=e.status_code, code=e.code, type=e.type)
    except openai.APIError as e:
        out.update(error=type(e).__name__, code=getattr(e, "code", None), message=str(e))
    out["elapsed_ms"] = (time.monotonic() - started) * 1000
    return out


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
