"""Writes tests/output/cases.json: requests that ask for a schema, and answers that follow it, do
not, are truncated or are refusals, for Chat Completions and Responses, streamed and not.

Read by crates/airlock-rules/tests/output.rs (the rules crate's check) and
tests/e2e/output.test.mjs (the worker's header and log line). Run: python3 tests/output/make_cases.py
"""

import json
import pathlib

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "population": {"type": ["integer", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["city", "population", "tags"],
    "additionalProperties": False,
}
WEATHER = {
    "type": "object",
    "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["location", "unit"],
    "additionalProperties": False,
}
# About 2 KB of request, as in the bench.
SYSTEM = "You extract facts about cities. " * 30

chat_format_req = {
    "model": "gpt-4o-2024-08-06",
    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Tell me about Oslo."}],
    "response_format": {"type": "json_schema", "json_schema": {"name": "city", "strict": True, "schema": SCHEMA}},
}
chat_tools_req = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Weather in Oslo?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": WEATHER}}],
}
resp_format_req = {
    "model": "gpt-4o-2024-08-06",
    "input": "Tell me about Oslo.",
    "text": {"format": {"type": "json_schema", "name": "city", "strict": True, "schema": SCHEMA}},
}
resp_tools_req = {
    "model": "gpt-4o-mini",
    "input": "Weather in Oslo?",
    "tools": [{"type": "function", "name": "get_weather", "strict": True, "parameters": WEATHER}],
}

GOOD = json.dumps({"city": "Oslo", "population": 709000, "tags": ["capital"]})
BAD = json.dumps({"city": "Oslo", "population": "many", "tags": ["capital"]})
CUT = '{"city": "Oslo", "popul'


def chat(content=None, finish="stop", refusal=None, calls=None):
    msg = {"role": "assistant", "content": content, "refusal": refusal}
    if calls:
        msg["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}} for i, (n, a) in enumerate(calls)
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def chat_sse(content=None, finish="stop", refusal=None, calls=None):
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-2024-08-06"}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "" if content is not None else None}, "finish_reason": None}]}]
    for text, key in ((content, "content"), (refusal, "refusal")):
        if text:
            for i in range(0, len(text), 7):
                events.append({**base, "choices": [{"index": 0, "delta": {key: text[i : i + 7]}, "finish_reason": None}]})
    for k, (name, args) in enumerate(calls or []):
        events.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": k, "id": f"call_{k}", "type": "function", "function": {"name": name, "arguments": ""}}]}, "finish_reason": None}]})
        for i in range(0, len(args), 5):
            events.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": k, "function": {"arguments": args[i : i + 5]}}]}, "finish_reason": None}]})
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


def response(output, status="completed", reason=None):
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "incomplete_details": {"reason": reason} if reason else None,
        "model": "gpt-4o-2024-08-06",
        "output": output,
        "usage": {"input_tokens": 10, "output_tokens": 10, "total_tokens": 20},
    }


def message(text=None, refusal=None):
    part = {"type": "output_text", "text": text, "annotations": []} if refusal is None else {"type": "refusal", "refusal": refusal}
    return {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [part]}


def call(name, args):
    return {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": name, "arguments": args, "status": "completed"}


def responses_sse(resp):
    terminal = {"completed": "response.completed", "incomplete": "response.incomplete"}[resp["status"]]
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": {**resp, "status": "in_progress", "output": []}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 1, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "…"}),
        (terminal, {"type": terminal, "sequence_number": 2, "response": resp}),
    ]
    return "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events)


cases = []


def add(name, api, request, answer, status, path=None, keyword=None):
    for stream in (False, True):
        if api == "chat":
            body = chat_sse(**answer) if stream else chat(**answer)
            endpoint = "/v1/chat/completions"
        else:
            r = response(**answer)
            body = responses_sse(r) if stream else r
            endpoint = "/v1/responses"
        cases.append({
            "name": f"{name}{' (stream)' if stream else ''}",
            "endpoint": endpoint,
            "stream": stream,
            "request": {**request, **({"stream": True} if stream else {})},
            "response": body,
            "status": status,
            "path": path,
            "keyword": keyword,
        })


add("chat format: valid", "chat", chat_format_req, {"content": GOOD}, "valid")
add("chat format: invalid", "chat", chat_format_req, {"content": BAD}, "invalid", "choices[0].message.content/population", "type")
add("chat format: not JSON", "chat", chat_format_req, {"content": "Oslo is nice."}, "invalid", "choices[0].message.content", "json")
add("chat format: truncated", "chat", chat_format_req, {"content": CUT, "finish": "length"}, "truncated", "choices[0].finish_reason")
add("chat format: refused", "chat", chat_format_req, {"refusal": "I'm sorry, I can't help with that."}, "refused", "choices[0].message.refusal")
add("chat tools: valid", "chat", chat_tools_req, {"calls": [("get_weather", '{"location":"Oslo","unit":"c"}')], "finish": "tool_calls"}, "valid")
add("chat tools: invalid", "chat", chat_tools_req, {"calls": [("get_weather", '{"location":"Oslo","unit":"kelvin"}')], "finish": "tool_calls"}, "invalid", "choices[0].message.tool_calls[0].function.arguments/unit", "enum")
add("chat tools: unknown function", "chat", chat_tools_req, {"calls": [("get_time", "{}")], "finish": "tool_calls"}, "invalid", "choices[0].message.tool_calls[0].function.name", "tool")
add("chat tools: truncated", "chat", chat_tools_req, {"calls": [("get_weather", '{"location":"Os')], "finish": "length"}, "truncated", "choices[0].finish_reason")
add("responses format: valid", "responses", resp_format_req, {"output": [message(GOOD)]}, "valid")
add("responses format: invalid", "responses", resp_format_req, {"output": [message(BAD)]}, "invalid", "output[0].content[0].text/population", "type")
add("responses format: truncated", "responses", resp_format_req, {"output": [message(CUT)], "status": "incomplete", "reason": "max_output_tokens"}, "truncated", "status")
add("responses format: refused", "responses", resp_format_req, {"output": [message(refusal="I'm sorry, I can't help with that.")]}, "refused", "output[0].content[0]")
add("responses tools: valid", "responses", resp_tools_req, {"output": [call("get_weather", '{"location":"Oslo","unit":"f"}')]}, "valid")
add("responses tools: invalid", "responses", resp_tools_req, {"output": [call("get_weather", '{"location":"Oslo"}')]}, "invalid", "output[0].arguments", "required")

out = pathlib.Path(__file__).resolve().parent / "cases.json"
out.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
print(f"{len(cases)} cases")
