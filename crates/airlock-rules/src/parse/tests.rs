//! Tests of the paste readers on realistic pastes, one or more per format.

use alloc::string::String;
use alloc::vec::Vec;

use super::{read, read_counting, read_response};
use crate::evidence::{Evidence, Format, Transport};

fn r(text: &str) -> Evidence {
    read(text)
}

fn s(v: &Option<String>) -> Option<&str> {
    v.as_deref()
}

const QUOTA_MSG: &str = "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.";

// ---------- JSON bodies ----------

#[test]
fn json_error_body() {
    let e = r(r#"{
    "error": {
        "message": "Incorrect API key provided: sk-proj-********************abcd. You can find your API key at https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": null,
        "code": "invalid_api_key"
    }
}"#);
    assert_eq!(e.format, Format::Json);
    assert_eq!(s(&e.code), Some("invalid_api_key"));
    assert_eq!(s(&e.error_type), Some("invalid_request_error"));
    assert_eq!(e.param, None);
    assert!(
        e.message
            .as_deref()
            .unwrap()
            .starts_with("Incorrect API key provided")
    );
    assert_eq!(e.status, None);
    assert_eq!(e.transport, None);
}

#[test]
fn json_without_wrapper() {
    let e = r(
        r#"{"message": "Invalid 'messages[1].content': string too long. Expected a string with maximum length 1048576, but got a string with length 2000000 instead.", "type": "invalid_request_error", "param": "messages[1].content", "code": "string_above_max_length"}"#,
    );
    assert_eq!(s(&e.code), Some("string_above_max_length"));
    assert_eq!(s(&e.param), Some("messages[1].content"));
    // "maximum length 1048576" is not a status.
    assert_eq!(e.status, None);
}

#[test]
fn json_error_string_and_array() {
    let e = r(r#"{"error": "Unauthorized"}"#);
    assert_eq!(s(&e.message), Some("Unauthorized"));
    let e = r(
        r#"[{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}]"#,
    );
    assert_eq!(s(&e.code), Some("429"));
    assert_eq!(e.status, Some(429));
}

#[test]
fn json_embedded_in_text_and_truncated() {
    let e = r(
        r#"I keep getting this when I call the API: {"error": {"message": "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the request ID 3b7f9c2e8a1d4f6b0c5e2a9d7f1b3c4e in your message.)", "type": "server_error", "param": null, "code": null}} any idea?"#,
    );
    assert_eq!(s(&e.error_type), Some("server_error"));
    assert_eq!(s(&e.request_id), Some("3b7f9c2e8a1d4f6b0c5e2a9d7f1b3c4e"));

    let e = r(
        r#"{"error": {"message": "Rate limit reached for gpt-4 in organization org-AbC on tokens per min (TPM): Limit 10000, Used 9800, Requested 600. Please try again in 2.4s.", "type": "tokens", "param": null, "code": "rate_limit_exc"#,
    );
    assert_eq!(s(&e.error_type), Some("tokens"));
    assert_eq!(s(&e.code), Some("rate_limit_exc"));
    assert!(!e.unread.is_empty(), "the cut is noted");
    // "Limit 10000" is not a status.
    assert_eq!(e.status, None);
}

// ---------- Python SDK v1 ----------

#[test]
fn python_v1_traceback_quota() {
    let text = alloc::format!(
        r#"Traceback (most recent call last):
  File "/home/me/app/main.py", line 12, in <module>
    completion = client.chat.completions.create(
                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/home/me/.venv/lib/python3.11/site-packages/openai/_utils/_utils.py", line 275, in wrapper
    return func(*args, **kwargs)
           ^^^^^^^^^^^^^^^^^^^^^
  File "/home/me/.venv/lib/python3.11/site-packages/openai/_base_client.py", line 1020, in _request
    raise self._make_status_error_from_response(err.response) from None
openai.RateLimitError: Error code: 429 - {{'error': {{'message': '{QUOTA_MSG}', 'type': 'insufficient_quota', 'param': None, 'code': 'insufficient_quota'}}}}"#
    );
    let e = r(&text);
    assert_eq!(e.format, Format::PythonTraceback);
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.code), Some("insufficient_quota"));
    assert_eq!(s(&e.error_type), Some("insufficient_quota"));
    assert_eq!(e.param, None);
    assert_eq!(s(&e.message), Some(QUOTA_MSG));
    assert_eq!(s(&e.exception), Some("openai.RateLimitError"));
    assert_eq!(e.transport, None);
}

#[test]
fn python_v1_double_quoted_message() {
    let e = r(
        r#"openai.BadRequestError: Error code: 400 - {'error': {'message': "This model's maximum context length is 8192 tokens. However, your messages resulted in 9021 tokens. Please reduce the length of the messages.", 'type': 'invalid_request_error', 'param': 'messages', 'code': 'context_length_exceeded'}}"#,
    );
    assert_eq!(e.status, Some(400));
    assert_eq!(s(&e.code), Some("context_length_exceeded"));
    assert_eq!(s(&e.param), Some("messages"));
    assert!(
        e.message
            .unwrap()
            .starts_with("This model's maximum context length is 8192")
    );
    assert_eq!(s(&e.exception), Some("openai.BadRequestError"));
}

#[test]
fn python_v1_connection_chain() {
    let e = r(r#"Traceback (most recent call last):
  File "/usr/lib/python3.11/site-packages/httpx/_transports/default.py", line 69, in map_httpcore_exceptions
    yield
  File "/usr/lib/python3.11/site-packages/httpcore/_sync/connection.py", line 124, in _connect
    stream = self._network_backend.connect_tcp(**kwargs)
httpcore.ConnectError: [Errno 111] Connection refused

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/usr/lib/python3.11/site-packages/openai/_base_client.py", line 955, in _request
    response = self._client.send(
httpx.ConnectError: [Errno 111] Connection refused

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/run.py", line 8, in <module>
    r = client.chat.completions.create(model="gpt-4o", messages=msgs, timeout=30)
  File "/usr/lib/python3.11/site-packages/openai/_base_client.py", line 989, in _request
    raise APIConnectionError(request=request) from err
openai.APIConnectionError: Connection error."#);
    assert_eq!(s(&e.exception), Some("openai.APIConnectionError"));
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(e.status, None);
    assert_eq!(
        s(&e.message),
        Some("Connection error. (cause: [Errno 111] Connection refused)")
    );
    assert_eq!(e.format, Format::PythonTraceback);
}

#[test]
fn python_v1_timeout_chain() {
    let e = r(r#"httpcore.ReadTimeout: The read operation timed out

The above exception was the direct cause of the following exception:

httpx.ReadTimeout: The read operation timed out

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/x.py", line 3, in <module>
openai.APITimeoutError: Request timed out."#);
    assert_eq!(s(&e.exception), Some("openai.APITimeoutError"));
    assert_eq!(e.transport, Some(Transport::Timeout));
}

#[test]
fn go_eof_ends_an_error_chain() {
    // Go's `io.EOF` as the last link: the connection closed before an answer was read.
    let e = r("Post \"https://api.openai.com/v1/chat/completions\": EOF");
    assert_eq!(e.transport, Some(Transport::Connection));
    let e = r("session.go:79: openAIClient.CreateChatCompletion err=error, EOF");
    assert_eq!(e.transport, Some(Transport::Connection));
    // The next line of Go's log opens with its own source location: not a hard wrap's rest.
    let e = r(
        "session.go:79: openAIClient.CreateChatCompletion err=error, EOF\nhandler.go:54: [text] Response: 抱歉，出错了，请稍后重试~",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    // Not a class name, nor the word inside prose or another word.
    assert_eq!(r("EOFError: EOF when reading a line").transport, None);
    assert_eq!(r("Error: read until EOFMARK").transport, None);
}

#[test]
fn python_remote_protocol_and_ssl() {
    let e = r(
        "httpx.RemoteProtocolError: Server disconnected without sending a response.\n\nThe above exception was the direct cause of the following exception:\n\nopenai.APIConnectionError: Connection error.",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    let e = r(
        "ssl.SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(s(&e.exception), Some("ssl.SSLError"));
    // A connect timeout made no connection (issue 13): `connection`, not `timeout`.
    let e = r("httpx.ConnectTimeout: timed out");
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(s(&e.exception), Some("httpx.ConnectTimeout"));
}

#[test]
fn python_stream_error() {
    let e = r(r#"Traceback (most recent call last):
  File "/app/chat.py", line 20, in <module>
    for chunk in stream:
  File "/usr/lib/python3.12/site-packages/openai/_streaming.py", line 46, in __iter__
    for item in self._iterator:
  File "/usr/lib/python3.12/site-packages/openai/_streaming.py", line 72, in __stream__
    raise APIError(
openai.APIError: An error occurred during streaming"#);
    assert!(e.in_stream);
    assert_eq!(s(&e.exception), Some("openai.APIError"));
    assert_eq!(e.format, Format::PythonTraceback);
}

#[test]
fn python_server_error_request_id_in_message() {
    let e = r(
        r#"openai.InternalServerError: Error code: 500 - {'error': {'message': 'The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the request ID req_5a1b2c3d4e5f60718293a4b5c6d7e8f9 in your message.)', 'type': 'server_error', 'param': None, 'code': None}}"#,
    );
    assert_eq!(e.status, Some(500));
    assert_eq!(
        s(&e.request_id),
        Some("req_5a1b2c3d4e5f60718293a4b5c6d7e8f9")
    );
    assert_eq!(e.code, None);
    assert_eq!(s(&e.error_type), Some("server_error"));
}

// ---------- Python SDK v0 ----------

#[test]
fn python_v0_lines() {
    let e = r(
        "openai.error.InvalidRequestError: This model's maximum context length is 4097 tokens, however you requested 4250 tokens (3250 in your prompt; 1000 for the completion). Please reduce your prompt; or completion length.",
    );
    assert_eq!(e.format, Format::PythonLegacy);
    assert_eq!(s(&e.exception), Some("openai.error.InvalidRequestError"));
    assert!(
        e.message
            .unwrap()
            .starts_with("This model's maximum context length is 4097")
    );
    assert_eq!(e.status, None);

    let e = r("openai.error.ServiceUnavailableError: The server is overloaded or not ready yet.");
    assert_eq!(
        s(&e.exception),
        Some("openai.error.ServiceUnavailableError")
    );
    assert_eq!(
        s(&e.message),
        Some("The server is overloaded or not ready yet.")
    );
    assert_eq!(e.transport, None);

    let e = r(
        "openai.error.Timeout: Request timed out: HTTPSConnectionPool(host='api.openai.com', port=443): Read timed out. (read timeout=600)",
    );
    assert_eq!(e.transport, Some(Transport::Timeout));
    // port=443 is not a status.
    assert_eq!(e.status, None);
}

#[test]
fn python_v0_api_error_with_status_and_headers() {
    let e = r(
        r#"openai.error.APIError: The server had an error while processing your request. Sorry about that! {
  "error": {
    "message": "The server had an error while processing your request. Sorry about that!",
    "type": "server_error",
    "param": null,
    "code": null
  }
}
 500 {'error': {'message': 'The server had an error while processing your request. Sorry about that!', 'type': 'server_error', 'param': None, 'code': None}} {'Date': 'Mon, 10 Apr 2023 19:50:19 GMT', 'Content-Type': 'application/json', 'Content-Length': '176', 'Connection': 'keep-alive', 'access-control-allow-origin': '*', 'openai-model': 'gpt-3.5-turbo-0301', 'openai-organization': 'user-abc123', 'openai-processing-ms': '27640', 'openai-version': '2020-10-01', 'strict-transport-security': 'max-age=15724800; includeSubDomains', 'x-ratelimit-limit-requests': '3500', 'x-ratelimit-remaining-requests': '3499', 'x-ratelimit-reset-requests': '17ms', 'x-request-id': '2f5d6e0f3c6a7b8c9d0e1f2a3b4c5d6e', 'CF-Cache-Status': 'DYNAMIC', 'Server': 'cloudflare', 'CF-RAY': '7b5c1a2b3c4d5e6f-SJC', 'alt-svc': 'h3=":443"; ma=86400'}"#,
    );
    assert_eq!(e.status, Some(500));
    assert_eq!(s(&e.error_type), Some("server_error"));
    assert_eq!(s(&e.request_id), Some("2f5d6e0f3c6a7b8c9d0e1f2a3b4c5d6e"));
    assert_eq!(e.header("x-ratelimit-limit-requests"), Some("3500"));
    assert_eq!(e.header("cf-ray"), Some("7b5c1a2b3c4d5e6f-SJC"));
    assert_eq!(s(&e.exception), Some("openai.error.APIError"));
    assert_eq!(e.format, Format::PythonLegacy);
}

#[test]
fn python_v0_log_line() {
    let e = r(
        r#"INFO:openai:error_code=rate_limit_exceeded error_message='Rate limit reached for default-gpt-3.5-turbo in organization org-XyZ on requests per min. Limit: 3 / min. Please try again in 20s. Contact us through our help center at help.openai.com if you continue to have issues. Please add a payment method to your account to increase your rate limit.' error_param=None error_type=requests message='OpenAI API error received' stream_error=False"#,
    );
    assert_eq!(e.format, Format::PythonLegacy);
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));
    assert_eq!(s(&e.error_type), Some("requests"));
    assert_eq!(e.param, None);
    assert!(
        e.message
            .unwrap()
            .starts_with("Rate limit reached for default-gpt-3.5-turbo")
    );
    assert!(!e.in_stream);

    let e = r(
        r#"message='OpenAI API response' path=https://api.openai.com/v1/chat/completions processing_ms=None request_id=None response_code=502
error_code=None error_message='Bad gateway.' error_param=None error_type=cf_bad_gateway message='OpenAI API error received' stream_error=True"#,
    );
    assert_eq!(e.status, Some(502));
    assert_eq!(s(&e.error_type), Some("cf_bad_gateway"));
    assert!(e.in_stream);
}

// ---------- Node ----------

const NODE_QUOTA: &str = r#"RateLimitError: 429 You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.
    at APIError.generate (file:///app/node_modules/openai/error.mjs:62:20)
    at OpenAI.makeStatusError (file:///app/node_modules/openai/core.mjs:263:25)
    at OpenAI.makeRequest (file:///app/node_modules/openai/core.mjs:306:30)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
    at async main (file:///app/index.mjs:7:22) {
  status: 429,
  headers: {
    'alt-svc': 'h3=":443"; ma=86400',
    'cf-cache-status': 'DYNAMIC',
    'cf-ray': '84a1b2c3d4e5f6a7-IAD',
    connection: 'keep-alive',
    'content-length': '337',
    'content-type': 'application/json; charset=utf-8',
    date: 'Thu, 25 Jan 2024 10:00:00 GMT',
    server: 'cloudflare',
    'set-cookie': '__cf_bm=abc; path=/; expires=Thu, 25-Jan-24 10:30:00 GMT; domain=.api.openai.com; HttpOnly; Secure; SameSite=None',
    'strict-transport-security': 'max-age=15724800; includeSubDomains',
    vary: 'Origin',
    'x-request-id': 'req_3f1a2b3c4d5e6f708192a3b4c5d6e7f8'
  },
  request_id: 'req_3f1a2b3c4d5e6f708192a3b4c5d6e7f8',
  error: {
    message: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
    type: 'insufficient_quota',
    param: null,
    code: 'insufficient_quota'
  },
  code: 'insufficient_quota',
  param: null,
  type: 'insufficient_quota'
}"#;

#[test]
fn node_v4_dump() {
    let e = r(NODE_QUOTA);
    assert_eq!(e.format, Format::Node);
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.code), Some("insufficient_quota"));
    assert_eq!(s(&e.message), Some(QUOTA_MSG));
    assert_eq!(s(&e.exception), Some("RateLimitError"));
    assert_eq!(
        s(&e.request_id),
        Some("req_3f1a2b3c4d5e6f708192a3b4c5d6e7f8")
    );
    assert_eq!(e.header("cf-ray"), Some("84a1b2c3d4e5f6a7-IAD"));
    assert_eq!(e.header("set-cookie"), None);
}

#[test]
fn node_v5_headers_object_and_concat() {
    let e = r(
        r#"BadRequestError: 400 Invalid value: 'text'. Supported values are: 'image_url' and 'input_text'.
    at APIError.generate (/srv/node_modules/openai/core/error.js:45:20)
    at OpenAI.makeStatusError (/srv/node_modules/openai/client.js:156:32) {
  status: 400,
  headers: Headers {
    date: 'Wed, 02 Apr 2025 08:00:00 GMT',
    'content-type': 'application/json',
    'x-request-id': 'req_0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    'openai-processing-ms': '21'
  },
  requestID: 'req_0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  error: {
    message: "Invalid value: 'text'. Supported values are: 'image_url' and " +
      "'input_text'.",
    type: 'invalid_request_error',
    param: 'messages[0].content[0].type',
    code: 'invalid_value'
  },
  code: 'invalid_value',
  param: 'messages[0].content[0].type',
  type: 'invalid_request_error'
}"#,
    );
    assert_eq!(e.status, Some(400));
    assert_eq!(s(&e.code), Some("invalid_value"));
    assert_eq!(s(&e.param), Some("messages[0].content[0].type"));
    assert_eq!(
        s(&e.message),
        Some("Invalid value: 'text'. Supported values are: 'image_url' and 'input_text'.")
    );
    assert_eq!(
        s(&e.request_id),
        Some("req_0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    );
    assert_eq!(e.header("openai-processing-ms"), Some("21"));
}

#[test]
fn node_error_line_only() {
    let e = r(
        "Error: 429 Rate limit reached for gpt-4o-mini in organization org-abc on requests per day (RPD): Limit 200, Used 200, Requested 1. Please try again in 7m12s.",
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.exception), Some("Error"));
    assert_eq!(e.format, Format::Node);
    assert!(e.message.unwrap().starts_with("Rate limit reached"));
    let e = r("InternalServerError: 500 status code (no body)");
    assert_eq!(e.status, Some(500));
}

#[test]
fn axios_dump_request_headers_ignored() {
    let e = r(r#"Error: Request failed with status code 429
    at createError (/app/node_modules/axios/lib/core/createError.js:16:15)
    at settle (/app/node_modules/axios/lib/core/settle.js:17:12)
    at IncomingMessage.handleStreamEnd (/app/node_modules/axios/lib/adapters/http.js:322:11)
    at IncomingMessage.emit (node:events:525:35) {
  config: {
    transitional: { silentJSONParsing: true, forcedJSONParsing: true, clarifyTimeoutError: false },
    adapter: [Function: httpAdapter],
    headers: {
      Accept: 'application/json, text/plain, */*',
      'Content-Type': 'application/json',
      'User-Agent': 'OpenAI/NodeJS/3.2.1',
      Authorization: 'Bearer sk-abcdefghijklmnop1234567890',
      'Content-Length': 85
    },
    method: 'post',
    data: '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"hi"}]}',
    url: 'https://api.openai.com/v1/chat/completions'
  },
  request: <ref *1> ClientRequest {
    _events: [Object: null prototype] {
      abort: [Function (anonymous)],
      finish: [Function: requestOnFinish]
    },
    _header: 'POST /v1/chat/completions HTTP/1.1\r\n' +
      'Authorization: Bearer sk-abcdefghijklmnop1234567890\r\n' +
      'Host: api.openai.com\r\n' +
      '\r\n',
    [Symbol(kOutHeaders)]: [Object: null prototype] {
      authorization: [Array],
      host: [Array]
    }
  },
  response: {
    status: 429,
    statusText: 'Too Many Requests',
    headers: {
      date: 'Mon, 03 Apr 2023 10:00:00 GMT',
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      'openai-organization': 'user-abc'
    },
    config: { url: 'https://api.openai.com/v1/chat/completions' },
    request: <ref *1> ClientRequest {},
    data: { error: [Object] }
  },
  isAxiosError: true,
  toJSON: [Function: toJSON]
}"#);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.format, Format::Node);
    assert_eq!(s(&e.request_id), Some("a1b2c3d4e5f60718293a4b5c6d7e8f90"));
    assert_eq!(e.header("authorization"), None);
    assert_eq!(e.header("user-agent"), None);
    assert_eq!(e.header("openai-organization"), Some("user-abc"));
    assert_eq!(e.transport, None);
}

#[test]
fn axios_with_data() {
    let e = r(r#"AxiosError: Request failed with status code 401
  response: {
    status: 401,
    statusText: 'Unauthorized',
    data: { error: { message: 'Incorrect API key provided: sk-abc***xyz.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }
  }"#);
    assert_eq!(e.status, Some(401));
    assert_eq!(s(&e.code), Some("invalid_api_key"));
    assert_eq!(s(&e.exception), Some("AxiosError"));
}

#[test]
fn node_connection_error_with_fetch_cause() {
    let e = r(r#"APIConnectionError: Connection error.
    at OpenAI.makeRequest (file:///app/node_modules/openai/core.mjs:316:19)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {
  status: undefined,
  headers: undefined,
  request_id: undefined,
  error: undefined,
  code: undefined,
  param: undefined,
  type: undefined,
  cause: FetchError: request to https://api.openai.com/v1/chat/completions failed, reason: connect ECONNREFUSED 104.18.6.192:443
      at ClientRequest.<anonymous> (file:///app/node_modules/node-fetch/src/index.js:108:11)
      at ClientRequest.emit (node:events:517:28)
      at TLSSocket.socketErrorListener (node:_http_client:501:9) {
    type: 'system',
    errno: 'ECONNREFUSED',
    code: 'ECONNREFUSED',
    erroredSysCall: 'connect'
  }
}"#);
    assert_eq!(s(&e.exception), Some("APIConnectionError"));
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(e.status, None);
    assert_eq!(e.code, None, "ECONNREFUSED is not an API error code");
    assert_eq!(e.error_type, None, "a system error is not an error body");
    assert_eq!(e.format, Format::Node);
}

#[test]
fn node_network_codes() {
    let e = r(r#"TypeError: fetch failed
    at node:internal/deps/undici/undici:12345:11 {
  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: api.openai.com:443, timeout: 10000ms)
      at onConnectTimeout (node:internal/deps/undici/undici:6869:28) {
    code: 'UND_ERR_CONNECT_TIMEOUT'
  }
}"#);
    // Issue 13: a connect timeout means no connection was made.
    assert_eq!(e.transport, Some(Transport::Connection));
    let e = r(
        "Error: read ECONNRESET\n    at TLSWrap.onStreamRead (node:internal/stream_base_commons:217:20) {\n  errno: -104,\n  code: 'ECONNRESET',\n  syscall: 'read'\n}",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(s(&e.exception), Some("ECONNRESET"));
    let e = r("Error: getaddrinfo ENOTFOUND api.openai.com");
    assert_eq!(e.transport, Some(Transport::Connection));
    let e = r("Error: socket hang up\n    at connResetException (node:internal/errors:720:14)");
    assert_eq!(e.transport, Some(Transport::Connection));
    let e = r(
        "APIConnectionTimeoutError: Request timed out.\n    at OpenAI.makeRequest (/app/node_modules/openai/core.js:292:23)",
    );
    assert_eq!(e.transport, Some(Transport::Timeout));
    assert_eq!(s(&e.exception), Some("APIConnectionTimeoutError"));
}

// ---------- HTTP, curl, logs ----------

#[test]
fn curl_include_output() {
    let e = r(r#"HTTP/2 429 
date: Tue, 05 Mar 2024 12:00:00 GMT
content-type: application/json; charset=utf-8
x-ratelimit-limit-requests: 500
x-ratelimit-remaining-requests: 499
x-ratelimit-reset-requests: 120ms
x-ratelimit-limit-tokens: 30000
x-ratelimit-remaining-tokens: 0
x-ratelimit-reset-tokens: 6m0s
x-request-id: req_0123456789abcdef0123456789abcdef
retry-after: 2

{
    "error": {
        "message": "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 30000, Requested 512. Please try again in 1.024s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "type": "tokens",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}"#);
    assert_eq!(e.format, Format::Http);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.header("x-ratelimit-reset-tokens"), Some("6m0s"));
    assert_eq!(e.header("retry-after"), Some("2"));
    assert_eq!(
        s(&e.request_id),
        Some("req_0123456789abcdef0123456789abcdef")
    );
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));
}

#[test]
fn curl_verbose_output() {
    let e = r(r#"*   Trying 162.159.140.245:443...
* Connected to api.openai.com (162.159.140.245) port 443 (#0)
* ALPN: offers h2,http/1.1
> POST /v1/chat/completions HTTP/2
> Host: api.openai.com
> user-agent: curl/8.4.0
> accept: */*
> Content-Type: application/json
> Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789
> x-request-id: not-this-one
> Content-Length: 73
>
< HTTP/2 401
< date: Tue, 05 Mar 2024 12:00:00 GMT
< content-type: application/json; charset=utf-8
< vary: Origin
< x-request-id: req_9f8e7d6c5b4a39281706f5e4d3c2b1a0
< cf-ray: 85f1e2d3c4b5a697-FRA
<
{
  "error": {
    "message": "Incorrect API key provided: sk-proj-********************6789. You can find your API key at https://platform.openai.com/account/api-keys.",
    "type": "invalid_request_error",
    "param": null,
    "code": "invalid_api_key"
  }
}
* Connection #0 to host api.openai.com left intact"#);
    assert_eq!(e.status, Some(401));
    assert_eq!(e.header("authorization"), None);
    assert_eq!(
        s(&e.request_id),
        Some("req_9f8e7d6c5b4a39281706f5e4d3c2b1a0")
    );
    assert_eq!(e.header("cf-ray"), Some("85f1e2d3c4b5a697-FRA"));
    assert_eq!(s(&e.code), Some("invalid_api_key"));
    assert_eq!(e.transport, None);
    assert!(
        e.headers
            .iter()
            .all(|(k, v)| k != "user-agent" && !v.contains("sk-proj"))
    );
}

#[test]
fn curl_failures() {
    let e = r("curl: (28) Operation timed out after 30001 milliseconds with 0 bytes received");
    assert_eq!(e.transport, Some(Transport::Timeout));
    let e = r("curl: (6) Could not resolve host: api.openai.com");
    assert_eq!(e.transport, Some(Transport::Connection));
}

#[test]
fn raw_http_response() {
    let e = r(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After-Ms: 1500\r\n\r\n{\"error\":{\"message\":\"Slow Down\",\"type\":\"server_error\",\"param\":null,\"code\":\"slow_down\"}}",
    );
    assert_eq!(e.status, Some(503));
    assert_eq!(e.header("retry-after-ms"), Some("1500"));
    assert_eq!(s(&e.code), Some("slow_down"));
}

#[test]
fn httpx_log_lines() {
    let e = r(
        r#"2024-05-01 10:00:00,123 INFO httpx HTTP Request: POST https://api.openai.com/v1/chat/completions "HTTP/1.1 429 Too Many Requests"
2024-05-01 10:00:00,124 INFO openai._base_client Retrying request to /chat/completions in 0.412000 seconds
2024-05-01 10:00:01,001 INFO httpx HTTP Request: POST https://api.openai.com/v1/chat/completions "HTTP/1.1 429 Too Many Requests""#,
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(e.format, Format::LogLine);
}

// ---------- Other clients ----------

#[test]
fn go_openai() {
    let e = r(
        "error, status code: 429, status: 429 Too Many Requests, message: You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.message), Some(QUOTA_MSG));
    assert_eq!(e.format, Format::OtherClient);
    let e = r(
        "2024/01/02 15:04:05 ChatCompletion error: error, status code: 400, message: This model's maximum context length is 4097 tokens. However, your messages resulted in 5000 tokens. Please reduce the length of the messages.",
    );
    assert_eq!(e.status, Some(400));
    assert!(
        e.message
            .unwrap()
            .starts_with("This model's maximum context length")
    );
}

#[test]
fn dotnet_clients() {
    let e = r(
        r#"Unhandled exception. System.ClientModel.ClientResultException: HTTP 429 (insufficient_quota: insufficient_quota)

You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.
   at OpenAI.ClientPipelineExtensions.ProcessMessageAsync(ClientPipeline pipeline, PipelineMessage message, RequestOptions options)
   at OpenAI.Chat.ChatClient.CompleteChatAsync(IEnumerable`1 messages, ChatCompletionOptions options, CancellationToken cancellationToken)"#,
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.code), Some("insufficient_quota"));
    assert_eq!(s(&e.error_type), Some("insufficient_quota"));
    assert_eq!(s(&e.message), Some(QUOTA_MSG));
    assert_eq!(
        s(&e.exception),
        Some("System.ClientModel.ClientResultException")
    );
    assert_eq!(e.format, Format::OtherClient);

    let e = r(
        "System.ClientModel.ClientResultException: HTTP 403 (invalid_request_error: model_not_found)\nProject `proj_abc` does not have access to model `gpt-4o-mini`",
    );
    assert_eq!(e.status, Some(403));
    assert_eq!(s(&e.code), Some("model_not_found"));
    assert!(e.message.unwrap().starts_with("Project"));

    let e = r(
        r#"Azure.RequestFailedException: Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-02-15-preview have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.
Status: 429 (Too Many Requests)
ErrorCode: 429

Content:
{"error":{"code":"429","message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-02-15-preview have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}}

Headers:
Retry-After: 6
apim-request-id: 3e3d1f0a-1b2c-4d5e-8f90-a1b2c3d4e5f6
Date: Mon, 01 Jan 2024 00:00:00 GMT
Content-Type: application/json"#,
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(e.header("retry-after"), Some("6"));
    assert_eq!(
        s(&e.request_id),
        Some("3e3d1f0a-1b2c-4d5e-8f90-a1b2c3d4e5f6")
    );
    assert!(
        e.message
            .unwrap()
            .starts_with("Requests to the ChatCompletions_Create")
    );

    let e = r(
        "Azure.RequestFailedException: Service request failed.\nStatus: 401 (Unauthorized)\n\nContent:\n{\"statusCode\": 401, \"message\": \"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.\"}",
    );
    assert_eq!(e.status, Some(401));
}

#[test]
fn java_clients() {
    let e = r(
        "Exception in thread \"main\" com.openai.errors.RateLimitException: 429: You exceeded your current quota, please check your plan and billing details.\n\tat com.openai.errors.RateLimitException$Builder.build(RateLimitException.kt:88)",
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(
        s(&e.exception),
        Some("com.openai.errors.RateLimitException")
    );
    assert!(e.message.unwrap().starts_with("You exceeded"));
    assert_eq!(e.format, Format::OtherClient);

    let e = r(
        "com.theokanning.openai.OpenAiHttpException: Incorrect API key provided: sk-abc***. You can find your API key at https://platform.openai.com/account/api-keys.\n\tat com.theokanning.openai.service.OpenAiService.execute(OpenAiService.java:331)\nCaused by: retrofit2.adapter.rxjava2.HttpException: HTTP 401 ",
    );
    assert_eq!(e.status, Some(401));
    assert!(e.message.unwrap().starts_with("Incorrect API key"));

    let e = r(
        "java.util.concurrent.CompletionException: retrofit2.adapter.rxjava2.HttpException: HTTP 429 ",
    );
    assert_eq!(e.status, Some(429));
    let e = r(
        "java.net.SocketTimeoutException: timeout\n\tat okhttp3.internal.http2.Http2Stream$StreamTimeout.newTimeoutException(Http2Stream.kt:675)",
    );
    assert_eq!(e.transport, Some(Transport::Timeout));
}

#[test]
fn go_and_rust_clients() {
    let e = r(
        r#"Post "https://api.openai.com/v1/chat/completions": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"#,
    );
    assert_eq!(e.transport, Some(Transport::Timeout));
    let e = r(
        r#"Post "https://api.openai.com/v1/chat/completions": dial tcp: lookup api.openai.com: no such host"#,
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    let e = r(
        r#"Error: ApiError(ApiError { message: "Incorrect API key provided: sk-abc***. You can find your API key at https://platform.openai.com/account/api-keys.", type: Some("invalid_request_error"), param: None, code: Some("invalid_api_key") })"#,
    );
    assert_eq!(s(&e.code), Some("invalid_api_key"));
    assert_eq!(s(&e.error_type), Some("invalid_request_error"));
    assert_eq!(e.param, None);
    let e = r(
        r#"{"type":"error","code":"rate_limit_exceeded","message":"Rate limit reached","param":null}"#,
    );
    assert!(e.in_stream);
    assert_eq!(s(&e.stream_event), Some("error"));
}

#[test]
fn php_and_ruby_clients() {
    let e = r(
        "OpenAI\\Exceptions\\ErrorException: You exceeded your current quota, please check your plan and billing details.",
    );
    assert_eq!(s(&e.exception), Some("OpenAI\\Exceptions\\ErrorException"));
    assert!(e.message.unwrap().starts_with("You exceeded"));
    let e = r("Faraday::TooManyRequestsError: the server responded with status 429");
    assert_eq!(s(&e.exception), Some("Faraday::TooManyRequestsError"));
    assert_eq!(e.status, Some(429));
}

// ---------- Wrappers ----------

#[test]
fn litellm_wrappers() {
    let e = r(
        r#"litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s.', 'type': 'tokens', 'param': None, 'code': 'rate_limit_exceeded'}}"#,
    );
    assert_eq!(e.format, Format::Wrapper);
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));
    assert_eq!(s(&e.exception), Some("litellm.RateLimitError"));

    let e = r(
        "litellm.exceptions.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: OpenAIException - This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
    );
    assert_eq!(
        s(&e.exception),
        Some("litellm.exceptions.ContextWindowExceededError")
    );
    assert!(
        e.message
            .unwrap()
            .starts_with("This model's maximum context length")
    );

    let e = r("litellm.APIConnectionError: OpenAIException - Connection error.");
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(s(&e.message), Some("Connection error."));
}

#[test]
fn litellm_proxy_body() {
    let e = r(
        r#"{"error": {"message": "litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': 'You exceeded your current quota, please check your plan and billing details.', 'type': 'insufficient_quota', 'param': None, 'code': 'insufficient_quota'}}", "type": null, "param": null, "code": "429"}}"#,
    );
    assert_eq!(s(&e.code), Some("insufficient_quota"));
    assert_eq!(e.status, Some(429));
    assert!(e.message.unwrap().starts_with("You exceeded"));
}

#[test]
fn sse_body_in_a_response() {
    let body = br#"event: error
data: {"type":"error","error":{"type":"server_error","code":"server_error","message":"boom","param":null},"sequence_number":3}

"#;
    let e = read_response(200, &[("content-type", "text/event-stream")], body);
    assert_eq!(e.status, Some(200));
    assert!(e.in_stream);
    assert_eq!(e.format, Format::Sse);
    assert_eq!(s(&e.code), Some("server_error"));
}

#[test]
fn langchain_retry_and_plain_text() {
    let e = r(
        "Retrying langchain.llms.openai.completion_with_retry.<locals>._completion_with_retry in 4.0 seconds as it raised RateLimitError: Rate limit reached for default-text-davinci-003 in organization org-abc on tokens per min. Limit: 150000 / min. Current: 149000 / min.",
    );
    assert_eq!(s(&e.exception), Some("RateLimitError"));
    assert!(e.message.unwrap().starts_with("Rate limit reached"));
    assert_eq!(e.status, None, "Limit: 150000 is not a status");

    let e = r("You exceeded your current quota, please check your plan and billing details.");
    assert_eq!(e.format, Format::Text);
    assert_eq!(
        s(&e.message),
        Some("You exceeded your current quota, please check your plan and billing details.")
    );

    let e = r(
        "import openai\ntry:\n    client.chat.completions.create()\nexcept openai.RateLimitError:\n    pass",
    );
    assert!(e.is_empty(), "code is not an error: {e:?}");
    let e = r(
        "Traceback (most recent call last):\n  File \"r.py\", line 3, in <module>\nKeyError: 'amount'",
    );
    assert!(
        e.is_empty(),
        "a built-in exception alone is not an API error: {e:?}"
    );
    let e = r(
        "RetryError [AI_RetryError]: Failed after 3 attempts. Last error: Rate limit reached for gpt-4o",
    );
    assert_eq!(s(&e.exception), Some("RetryError"));
    assert!(e.message.unwrap().contains("Rate limit reached"));
    let e = r("Got status 429 from OpenAI, backing off");
    assert_eq!(e.status, Some(429));
    let e = r("hello, this is a nice day");
    assert!(e.is_empty());
    assert_eq!(e.format, Format::Unknown);
    assert!(!e.unread.is_empty());
}

// ---------- HTML ----------

#[test]
fn cloudflare_pages() {
    let e = r(r#"<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<head>
<title>api.openai.com | 524: A timeout occurred</title>
</head>
<body>
<span class="inline-block">Error code 524</span>
</body></html>"#);
    assert_eq!(e.format, Format::Html);
    assert_eq!(e.status, Some(524));
    assert_eq!(
        s(&e.html_title),
        Some("api.openai.com | 524: A timeout occurred")
    );
    assert_eq!(e.transport, None);

    let e = r(
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>",
    );
    assert_eq!(e.status, Some(502));
    assert_eq!(s(&e.html_title), Some("502 Bad Gateway"));

    let e = r(
        r#"openai.InternalServerError: Error code: 520 - <!DOCTYPE html><html><head><title>api.openai.com | 520: Web server is returning an unknown error</title></head><body>Error code 520</body></html>"#,
    );
    assert_eq!(e.status, Some(520));
    assert_eq!(s(&e.exception), Some("openai.InternalServerError"));
}

// ---------- SSE ----------

#[test]
fn sse_error_event() {
    let e = r(r#"event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress"}}

event: error
data: {"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}
"#);
    assert_eq!(e.format, Format::Sse);
    assert!(e.in_stream);
    assert_eq!(s(&e.stream_event), Some("error"));
    assert_eq!(s(&e.code), Some("ERR_SOMETHING"));
    assert_eq!(s(&e.message), Some("Something went wrong"));
}

#[test]
fn sse_chat_error_and_response_failed() {
    let e = r(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\": {\"message\": \"The server had an error while processing your request. Sorry about that!\", \"type\": \"server_error\", \"param\": null, \"code\": null}}\n\n",
    );
    assert!(e.in_stream);
    assert_eq!(s(&e.error_type), Some("server_error"));
    assert_eq!(e.format, Format::Sse);

    let e = r(r#"event: response.failed
data: {"type":"response.failed","sequence_number":7,"response":{"id":"resp_abc","object":"response","status":"failed","error":{"code":"server_error","message":"An error occurred while processing your request."},"incomplete_details":null}}"#);
    assert!(e.in_stream);
    assert_eq!(s(&e.stream_event), Some("response.failed"));
    assert_eq!(s(&e.code), Some("server_error"));

    let e = r(
        r#"data: {"type":"response.incomplete","response":{"id":"resp_1","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"error":null}}"#,
    );
    assert!(e.in_stream);
    assert_eq!(s(&e.stream_event), Some("response.incomplete"));
    assert_eq!(s(&e.code), Some("max_output_tokens"));
}

#[test]
fn incomplete_object_names_its_reason() {
    // A Responses object read back whole (no stream event around it): the reason is its code.
    let e = r(
        r#"{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"content_filter"},"error":null,"output":[]}"#,
    );
    assert!(!e.in_stream);
    assert_eq!(s(&e.code), Some("content_filter"));
    // An Assistants run, the same way.
    let e = r(
        r#"{"id":"run_1","object":"thread.run","status":"incomplete","last_error":null,"incomplete_details":{"reason":"max_prompt_tokens"}}"#,
    );
    assert_eq!(s(&e.code), Some("max_prompt_tokens"));
    // A completed object with no details is no error.
    let e =
        r(r#"{"id":"resp_2","object":"response","status":"completed","incomplete_details":null}"#);
    assert_eq!(s(&e.code), None);
}

#[test]
fn the_callers_abort_is_not_a_timeout() {
    use crate::{Category, RetryDecision};
    for text in [
        "APIUserAbortError: Request was aborted.",
        "Error: Request was aborted.\n    at ChatCompletionStream._createChatCompletion (node_modules/openai/lib/ChatCompletionStream.js:111:13)",
    ] {
        let d = crate::explain(text).diagnosis.expect(text);
        assert_eq!(d.category, Category::ClientSide, "{text}");
        assert_eq!(d.retry.decision, RetryDecision::AfterChange, "{text}");
    }
    // Near misses: the SDK's own timeout, and a signal that names its timeout.
    for text in [
        "APIConnectionTimeoutError: Request timed out.",
        "DOMException [TimeoutError]: The operation was aborted due to timeout",
    ] {
        let d = crate::explain(text).diagnosis.expect(text);
        assert_eq!(d.category, Category::Timeout, "{text}");
    }
}

#[test]
fn failed_object_without_its_error_is_a_failed_response() {
    use crate::{Category, Delivery, RetryDecision};
    // A run, a run step and a Responses object that ended `failed` with no error beside them:
    // the cause is not shown, and the object came in a response, not a stream.
    for text in [
        r#"{"id":"run_1","object":"thread.run","status":"failed","last_error":null}"#,
        r#"{"id":"step_1","object":"thread.run.step","status":"failed","last_error":null}"#,
        r#"{"id":"resp_1","object":"response","status":"failed","error":null,"incomplete_details":null}"#,
        r#"{"id":"x","object":"","thread_id":"t","assistant_id":"a","status":"failed","last_error":null}"#,
    ] {
        let d = crate::explain(text).diagnosis.expect(text);
        assert_eq!(d.category, Category::StreamError, "{text}");
        assert_eq!(d.retry.decision, RetryDecision::Yes, "{text}");
        assert_eq!(d.delivery, Delivery::Response, "{text}");
    }
    // Near misses: the error beside it is the cause; a run that did not fail is no error; a
    // `failed` status of something else (a file, a vector store file) is not read this way.
    let d = crate::explain(
        r#"{"id":"run_1","object":"thread.run","status":"failed","last_error":{"code":"rate_limit_exceeded","message":"Rate limit reached for gpt-4o."}}"#,
    )
    .diagnosis
    .unwrap();
    assert_eq!(d.category, Category::RateLimit);
    for text in [
        r#"{"id":"run_1","object":"thread.run","status":"completed","last_error":null}"#,
        r#"{"id":"file-1","object":"file","status":"failed","status_details":null}"#,
        r#"{"error":{"type":"failed","message":"Something nobody has seen before."}}"#,
    ] {
        let d = crate::explain(text).diagnosis;
        assert!(
            d.is_none_or(|d| d.category != Category::StreamError),
            "{text}"
        );
    }
}

// ---------- Batch ----------

#[test]
fn batch_object_and_lines() {
    let e = r(r#"{
  "id": "batch_abc123",
  "object": "batch",
  "endpoint": "/v1/chat/completions",
  "errors": {
    "object": "list",
    "data": [
      {"code": "invalid_json_line", "message": "This line is not parseable as valid JSON.", "param": null, "line": 3}
    ]
  },
  "input_file_id": "file-abc",
  "completion_window": "24h",
  "status": "failed"
}"#);
    assert_eq!(e.format, Format::Batch);
    assert!(e.in_batch);
    assert_eq!(s(&e.batch_status), Some("failed"));
    assert_eq!(s(&e.code), Some("invalid_json_line"));

    let e = r(
        r#"{"id": "batch_req_123", "custom_id": "request-2", "response": {"status_code": 400, "request_id": "req_6b1c2d3e4f5a69788796a5b4c3d2e1f0", "body": {"error": {"message": "Invalid 'max_tokens': integer below minimum value.", "type": "invalid_request_error", "param": "max_tokens", "code": "integer_below_min_value"}}}, "error": null}"#,
    );
    assert!(e.in_batch);
    assert_eq!(s(&e.custom_id), Some("request-2"));
    assert_eq!(e.status, Some(400));
    assert_eq!(
        s(&e.request_id),
        Some("req_6b1c2d3e4f5a69788796a5b4c3d2e1f0")
    );
    assert_eq!(s(&e.param), Some("max_tokens"));

    let e = r(
        r#"{"id": "batch_req_456", "custom_id": "task-9", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}"#,
    );
    assert_eq!(s(&e.code), Some("batch_expired"));
    assert_eq!(s(&e.custom_id), Some("task-9"));
    assert_eq!(
        e.request_id, None,
        "batch_req_ is a line id, not a request id"
    );
}

#[test]
fn escaped_and_string_bodies() {
    let e = r(
        r#"2024-05-01T10:00:00Z level=error msg="upstream failed" body="{\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\",\"code\":null}}" status=503"#,
    );
    assert_eq!(s(&e.error_type), Some("server_error"));
    assert_eq!(s(&e.message), Some("The server is overloaded"));
    assert_eq!(e.status, Some(503));

    let e = r(
        r#"{"statusCode": 429, "body": "{\"error\": {\"message\": \"Rate limit reached\", \"code\": \"rate_limit_exceeded\"}}"}"#,
    );
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));

    let e = r("openai.NotFoundError: Error code: 404 - {'detail': 'Not Found'}");
    assert_eq!(e.status, Some(404));
    assert_eq!(s(&e.message), Some("Not Found"));
    assert_eq!(e.format, Format::PythonTraceback);
}

#[test]
fn python_sdk_batch_repr() {
    let e = r(
        "Batch(id='batch_abc123', completion_window='24h', created_at=1711471533, endpoint='/v1/chat/completions', input_file_id='file-abc', object='batch', status='failed', cancelled_at=None, errors=Errors(data=[BatchError(code='invalid_json_line', line=1, message='This line is not parseable as valid JSON.', param=None)], object='list'), request_counts=BatchRequestCounts(completed=0, failed=0, total=0))",
    );
    assert!(e.in_batch);
    assert_eq!(s(&e.batch_status), Some("failed"));
    assert_eq!(s(&e.code), Some("invalid_json_line"));
}

// ---------- The structured entry ----------

#[test]
fn response_reader() {
    let body = br#"{"error":{"message":"The model `gpt-5-turbo` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
    let e = read_response(
        404,
        &[
            ("X-Request-Id", "req_1234567890abcdef"),
            ("Authorization", "Bearer sk-x"),
            ("Retry-After", "1"),
        ],
        body,
    );
    assert_eq!(e.status, Some(404));
    assert_eq!(s(&e.code), Some("model_not_found"));
    assert_eq!(s(&e.request_id), Some("req_1234567890abcdef"));
    assert_eq!(e.header("retry-after"), Some("1"));
    assert_eq!(e.header("authorization"), None);
    assert_eq!(e.format, Format::Http);

    let e = read_response(
        524,
        &[],
        b"<html><head><title>api.openai.com | 524: A timeout occurred</title></head></html>",
    );
    assert_eq!(e.status, Some(524));
    assert_eq!(e.format, Format::Html);
    assert_eq!(e.transport, None);

    let e = read_response(500, &[], &[0xff, 0xfe, b'{']);
    assert_eq!(e.status, Some(500));
    assert!(!e.unread.is_empty());
}

// ---------- Robustness ----------

/// A tiny deterministic generator (xorshift) so the loops below need no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn samples() -> Vec<String> {
    [
        NODE_QUOTA,
        r#"openai.BadRequestError: Error code: 400 - {'error': {'message': "It's bad", 'type': 'invalid_request_error', 'param': None, 'code': None}}"#,
        "HTTP/2 429\nx-request-id: req_0123456789abcdef\n\n{\"error\":{\"message\":\"x\",\"code\":\"rate_limit_exceeded\"}}",
        "event: error\ndata: {\"type\":\"error\",\"code\":\"x\",\"message\":\"y\"}\n",
        "<html><title>api.openai.com | 524: A timeout occurred</title></html>",
        "error_code=None error_message='a \\'b\\' c' error_param=None",
    ]
    .iter()
    .map(|s| String::from(*s))
    .collect()
}

const ALPHABET: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "'",
    "\"",
    "\\",
    ":",
    ",",
    "\n",
    " ",
    "`",
    "+",
    "=",
    "<",
    ">",
    "at ",
    "...",
    "Error: ",
    "HTTP/1.1 ",
    "429",
    "None",
    "null",
    "req_",
    "\u{e9}",
    "\u{1F600}",
    "\\u12",
    "\\x4",
    "data: ",
    "event: error\n",
];

#[test]
fn never_panics_on_random_text() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let n = rng.below(40);
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(ALPHABET[rng.below(ALPHABET.len())]);
        }
        let _ = read(&s);
        let _ = read_response(200, &[("a", "b")], s.as_bytes());
    }
}

#[test]
fn never_panics_on_mutated_pastes() {
    let mut rng = Rng(12345);
    let samples = samples();
    for _ in 0..1500 {
        let base = &samples[rng.below(samples.len())];
        let mut bytes: Vec<u8> = base.as_bytes().to_vec();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(3) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => {
                    let ins = ALPHABET[rng.below(ALPHABET.len())].as_bytes();
                    for (k, b) in ins.iter().enumerate() {
                        bytes.insert(at + k, *b);
                    }
                }
                _ => bytes.truncate(at),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = read(&text);
        let _ = read_response(429, &[], &bytes);
    }
}

#[test]
fn large_inputs_take_linear_work() {
    let mut cases: Vec<String> = Vec::new();
    let mut s = String::new();
    while s.len() < 1_000_000 {
        s.push_str(NODE_QUOTA);
        s.push('\n');
    }
    cases.push(s);
    cases.push("{".repeat(1_000_000));
    cases.push("[".repeat(1_000_000));
    cases.push("{'a{".repeat(250_000));
    cases.push("{\"error\":{\"message\":\"x\"}\n".repeat(40_000));
    cases.push("Error: E".repeat(125_000));
    // Values cut short by a syntax error, whose bytes are read a second time.
    cases.push("[Error: a \"{\n \"e\": (1}, [x {y: ".repeat(30_000));
    cases.push("a".repeat(1_000_000));
    cases.push("HTTP/1.1 429 Too Many Requests\nx-request-id: req_123456789012\n".repeat(20_000));
    let mut deep = String::new();
    for _ in 0..100_000 {
        deep.push_str("{\"error\": [");
    }
    cases.push(deep);
    for text in &cases {
        let (e, work) = read_counting(text);
        assert!(
            work <= 200 * text.len() + 1000,
            "work {work} for {} bytes",
            text.len()
        );
        let _ = e;
    }
    // The repeated Node dump is still read.
    let (e, _) = read_counting(&cases[0]);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.code.as_deref(), Some("insufficient_quota"));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn mutate(base: &str, edits: &[(usize, usize, usize)]) -> String {
        let mut bytes: Vec<u8> = base.as_bytes().to_vec();
        for &(op, at, piece) in edits {
            let at = at % (bytes.len() + 1);
            match op % 3 {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => {
                    let ins = ALPHABET[piece % ALPHABET.len()].as_bytes();
                    for (k, b) in ins.iter().enumerate() {
                        bytes.insert(at + k, *b);
                    }
                }
                _ => bytes.truncate(at),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn read_never_panics_on_any_string(s in any::<String>()) {
            let e = read(&s);
            prop_assert!(e.unread.len() <= 9);
        }

        #[test]
        fn read_never_panics_on_paste_tokens(parts in proptest::collection::vec(0..ALPHABET.len(), 0..80)) {
            let s: String = parts.iter().map(|&i| ALPHABET[i]).collect();
            let _ = read(&s);
            let _ = read_response(503, &[("Retry-After", "1")], s.as_bytes());
        }

        #[test]
        fn read_never_panics_on_mutated_pastes(
            which in 0usize..6,
            edits in proptest::collection::vec((0usize..3, any::<usize>(), any::<usize>()), 1..8),
        ) {
            let samples = samples();
            let text = mutate(&samples[which % samples.len()], &edits);
            let _ = read(&text);
        }

        #[test]
        fn read_response_never_panics_on_bytes(status in 0u16..1000, body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let e = read_response(status, &[], &body);
            prop_assert_eq!(e.status, Some(status));
        }
    }
}

#[test]
fn flattened_and_retry_wrapped() {
    let e = r(
        r#"File "/x/openai/_base_client.py", line 955, in _request return self._retry_request( ^^^^^^^^^^^^^^^^^^^^ File "/x/openai/_base_client.py", line 988, in _request raise APIConnectionError(request=request) from err openai.APIConnectionError: Connection error."#,
    );
    assert_eq!(s(&e.exception), Some("openai.APIConnectionError"));
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(s(&e.message), Some("Connection error."));

    let e = r(
        "tenacity.RetryError: RetryError[<Future at 0x1e2113c6b00 state=finished raised APIConnectionError>]",
    );
    assert_eq!(s(&e.exception), Some("APIConnectionError"));
    assert_eq!(e.transport, Some(Transport::Connection));

    let e = r(
        "ValueError: bad input openai.RateLimitError: Error code: 429 - {'error': {'message': 'slow', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}",
    );
    assert_eq!(s(&e.exception), Some("openai.RateLimitError"));
    assert_eq!(e.status, Some(429));
}

// ---------- shapes from tests/cases/real_world_more.toml ----------

#[test]
fn repr_string_broken_over_lines_is_joined_but_node_fields_are_not() {
    // A terminal broke a Python repr string; the rest of the dict still reads.
    let e = r(
        "litellm.exceptions.RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4 in organization\norg-x on tokens_usage_based per min: Limit 10000, Used 6353, Requested 4265. Please try again in 3.708s. Visit\nhttps://platform.openai.com/account/rate-limits to learn more.', 'type': 'tokens_usage_based', 'param': None, 'code': 'rate_limit_exceeded'}}",
    );
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));
    assert!(e.message.as_deref().unwrap().ends_with("to learn more."));
    // Prose with a colon and brackets goes on ("read the\ndocs: https://…").
    let e = r(
        "{\"error\": {\"message\": \"Invalid max_tokens value, the valid range\n of max_tokens is [1, 8192]\", \"type\": \"invalid_request_error\", \"code\": \"x\"}}",
    );
    assert_eq!(s(&e.error_type), Some("invalid_request_error"));
}

#[test]
fn tags_and_codes_before_a_message() {
    let e = r("Error: [429:insufficient_quota] You exceeded your current quota.");
    assert_eq!(e.status, Some(429));
    assert_eq!(s(&e.code), Some("insufficient_quota"));
    let e = r(
        "Upstream request failed: [unsupported_country_region_territory] Country, region, or territory not supported",
    );
    assert_eq!(s(&e.code), Some("unsupported_country_region_territory"));
    assert!(e.message.is_some());
    // A type tag is not a code.
    let e = r("OpenAIAPIError: [server_error] That model is currently overloaded.");
    assert_eq!(e.code, None);
}

#[test]
fn statuses_in_unusual_spellings() {
    assert_eq!(
        r("openai.APIStatusError: 408.0 RequestTimeout").status,
        Some(408)
    );
    assert_eq!(
        r("POST https://api.openai.com/v1/chat/completions 400 (Bad Request)").status,
        Some(400)
    );
    assert_eq!(
        r("401 Invalid model key or Incorrect local model configuration.").status,
        Some(401)
    );
    // A count is not a status.
    assert_eq!(r("404 lines read, error in line 3").status, None);
}

#[test]
fn ruby_class_named_in_prose() {
    let e = r("We get a `Faraday::TooManyRequestsError` when calling the OpenAI API.");
    assert_eq!(s(&e.exception), Some("Faraday::TooManyRequestsError"));
}

#[test]
fn openrouter_raw_body_and_bare_error_fields() {
    let e = r(
        r#"{"error": {"message": "Provider returned error", "code": 400, "metadata": {"raw": "{\"error\": {\"message\": \"Your organization must be verified to stream this model.\", \"type\": \"invalid_request_error\", \"param\": \"stream\", \"code\": \"unsupported_value\"}}", "provider_name": "OpenAI"}}}"#,
    );
    assert_eq!(s(&e.code), Some("unsupported_value"));
    assert_eq!(s(&e.param), Some("stream"));
    assert!(
        e.message
            .as_deref()
            .unwrap()
            .starts_with("Your organization")
    );
    // Azure's content filter logged without its message.
    let e = r(
        r#"{"type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}"#,
    );
    assert_eq!(s(&e.code), Some("content_filter"));
    assert_eq!(e.status, Some(400));
}

#[test]
fn exception_message_cut_by_a_line_break_goes_on() {
    let e = r(
        "openai.error.RateLimitError: Rate limit reached for default-global-with-image-limits in organization org-xxx\non requests per min. Limit: 60.000000 / min. Current: 120.000000 / min.",
    );
    assert!(
        e.message
            .as_deref()
            .unwrap()
            .contains("on requests per min")
    );
    // A frame on the next line is not part of the message.
    let e = r(
        "openai.error.APIError: Something failed while reading the stream body\n  at foo (bar.js:1:1)",
    );
    assert!(!e.message.as_deref().unwrap().contains("foo"));
}

#[test]
fn an_exception_repr_names_its_class_and_message() {
    // A Python log's `{e!r}`, alone or after a log record's prefix.
    for text in [
        "UserError(\"Unknown tool type: <class 'agents.handoffs.Handoff'>, tool\")",
        "2026-12-07 10:31:02,123 ERROR app.module: UserError(\"Unknown tool type: <class 'agents.handoffs.Handoff'>, tool\")",
    ] {
        let e = r(text);
        assert_eq!(s(&e.exception), Some("UserError"), "{text}");
        assert_eq!(
            s(&e.message),
            Some("Unknown tool type: <class 'agents.handoffs.Handoff'>, tool"),
            "{text}"
        );
    }
    // A call in quoted source is not a repr.
    let e = r("    raise UserError(\"bad\")");
    assert_ne!(s(&e.exception), Some("UserError"));
}

#[test]
fn a_log_tag_in_brackets_is_not_a_code() {
    let e = r("[app_server] Request failed: Error code: 429 - rate limited");
    assert_eq!(e.code, None);
}

#[test]
fn a_body_quoted_without_escaping_inside_a_wrapper_is_read() {
    // chatbot-ui: the wrapper's string ends at the body's first quote, and the array around it
    // breaks on the body's text; the body itself is still read.
    let e = r(
        "[Error: OpenAI API returned an error. responseStatusText: \"Bad Request\", responseStatusCode: \"400\", responseMessage: \"{\n  \"error\": {\n    \"message\": \"This model's maximum context length is 4097 tokens. However, you requested 4120 tokens (3120 in the messages, 1000 in the completion).\",\n    \"type\": \"invalid_request_error\",\n    \"code\": \"context_length_exceeded\"\n  }\n}\n\"]",
    );
    assert_eq!(s(&e.code), Some("context_length_exceeded"));
    assert_eq!(s(&e.error_type), Some("invalid_request_error"));
}

#[test]
fn a_transport_class_carried_by_a_wrapper_names_the_failure() {
    let e = r(
        "Caused by: java.lang.RuntimeException: java.net.SocketTimeoutException: timeout\n\tat io.reactivex.Single.blockingGet(Single.java:2870)",
    );
    assert_eq!(s(&e.exception), Some("java.net.SocketTimeoutException"));
    assert_eq!(e.transport, Some(Transport::Timeout));
    assert_eq!(s(&e.message), Some("timeout"));
    // A timeout in the connect phase: no connection was made.
    let e = r(
        "java.lang.RuntimeException: java.net.SocketTimeoutException: Connect timed out\n\tat io.reactivex.Single.blockingGet(Single.java:2002)",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    assert_eq!(s(&e.message), Some("Connect timed out"));
}

#[test]
fn a_builtin_class_with_the_apis_words_is_read() {
    let e = r(
        "[WARNING][chat_gpt_bot.py:141] - [CHATGPT] Exception: We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
    );
    assert!(s(&e.message).is_some_and(|m| m.starts_with("We could not parse the JSON body")));
}

#[test]
fn a_browser_console_status_and_a_body_cut_while_read() {
    let e = r(
        "api.openai.com/v1/chat/completions:1     Failed to load resource: the server responded with a status of 400 ()",
    );
    assert_eq!(e.status, Some(400));
    let e = r(
        "ERROR Turn execution failed: error decoding response body\nCaused by:\n0: error reading a body from connection\n1: Connection reset by peer (os error 54)",
    );
    assert!(e.in_stream);
    assert_eq!(e.transport, Some(Transport::Connection));
}

#[test]
fn a_class_opened_by_a_markdown_code_span_is_read() {
    let e = r(
        "Error while waiting\n`java.net.SocketTimeoutException: timeout\n\tat okhttp3.internal.http2.Http2Stream.takeHeaders(Http2Stream.java:154)",
    );
    assert_eq!(s(&e.exception), Some("java.net.SocketTimeoutException"));
    assert_eq!(e.transport, Some(Transport::Timeout));
    let e = r("**openai.RateLimitError: Error code: 429**");
    assert_eq!(s(&e.exception), Some("openai.RateLimitError"));
}

#[test]
fn a_network_error_shown_only_as_its_repr_is_the_cause() {
    let text = "\u{2502} \u{2502}   waiter = <Future finished exception=SSLCertVerificationError(1, '[SSL:   \u{2502} \u{2502}\n\u{2502} \u{2502}   CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get  \u{2502} \u{2502}\n\u{2502} \u{2502}   local issuer certificate (_ssl.c:1002)')>   \u{2502} \u{2502}\n\nAPIConnectionError: Error communicating with OpenAI";
    let e = r(text);
    let m = s(&e.message).unwrap_or("");
    assert!(m.contains("certificate verify failed"), "{m}");
    // A repr of a class that is not a network error adds nothing.
    let e =
        r("value = ValueError('certificate verify failed')\nAPIConnectionError: Connection error.");
    assert!(!s(&e.message).unwrap_or("").contains("certificate"));
}

#[test]
fn a_status_a_client_states_in_a_sentence_is_read_but_not_one_in_a_hint() {
    let e = r("gtp request error: gtp api status code not equals 200,code is 401");
    assert_eq!(e.status, Some(401));
    let e = r(
        "Error: Error: Request failed with status code 429\nNotice: If the status code is 404, you do not have right access to the model.",
    );
    assert_eq!(e.status, Some(429));
}

#[test]
fn a_body_decode_error_in_a_stream_is_a_stream() {
    let e = r(
        "I often encounter this error `Transport Error: error decoding response body` when calling the API.",
    );
    assert!(e.in_stream);
    let e = r("provider stream chunk error: error decoding response body");
    assert!(e.in_stream);
    // Not a stream: `upstream` is not the word `stream`, and a decode error that names what it
    // could not decode (serde's detail after a colon) is a client that could not read JSON.
    let e = r("upstream error: error decoding response body: expected value at line 1 column 1");
    assert!(!e.in_stream);
    // A decode error with nothing after it hides its cause: issue 13 names it a stream's cut
    // (batch W: a relay's `读取 Codex 上游响应失败: error decoding response body`).
    let e = r("upstream error: error decoding response body");
    assert!(e.in_stream);
    let e = r("Error: Reqwest(\"error decoding response body\")");
    assert!(e.in_stream);
}

#[test]
fn the_apis_sentence_naming_a_winning_cause_joins_an_apps_weaker_label() {
    let e = r(
        "ApiError: Rate limit exceeded. Please wait a moment and try again, or choose a different model.\nYou exceeded your current quota, please check your plan and billing details.\n    at makeError (file://x/dist/chunk.js:129:10)",
    );
    let m = s(&e.message).unwrap_or("");
    assert!(m.contains("current quota"), "{m}");
}

#[test]
fn a_requests_response_repr_states_its_status() {
    let e = r("\u{2502} \u{2502}        response = <Response [429]>     \u{2502} \u{2502}");
    assert_eq!(e.status, Some(429));
    assert_eq!(r("resp = <Response [200]>").status, None);
}

#[test]
fn an_okhttp_response_states_its_status() {
    let e = r(
        "java.io.IOException: Unexpected response code: Response{protocol=h2, code=400, message=, url=https://example.com/v1/chat/completions}",
    );
    assert_eq!(e.status, Some(400));
    // A `code=` outside OkHttp's response is not read as a status by this reader.
    assert_eq!(r("Response{protocol=h2, code=20015}").status, None);
}

#[test]
fn a_status_before_its_body_at_a_line_start_is_the_status() {
    let e = r(
        r#"401 {"error":{"message":"API key required","type":"authentication_error","code":"api_key_required"}}"#,
    );
    assert_eq!(e.status, Some(401));
    assert_eq!(s(&e.message), Some("API key required"));
    // Not a status: a number that is not an HTTP error status, or one inside a sentence.
    assert_eq!(r(r#"200 {"id":"chatcmpl-1"}"#).status, None);
    assert_ne!(
        r(r#"we saw 401 {"error":{"message":"x","type":"y"}} twice"#).status,
        Some(401),
        "only at the start of a line"
    );
}

#[test]
fn portkey_html_message_is_the_message() {
    let e = r(
        "openai.InternalServerError: Error code: 503 - {'html-message': 'fetch failed', 'provider': 'openai'}",
    );
    assert_eq!(e.status, Some(503));
    assert_eq!(s(&e.message), Some("fetch failed"));
}

#[test]
fn the_apis_words_on_their_own_line_join_a_generic_client_message() {
    let e = r("Error: Request failed with status code 404\n\
         This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?");
    assert_eq!(e.status, Some(404));
    let m = e.message.as_deref().unwrap();
    assert!(m.starts_with("Request failed with status code 404"), "{m}");
    assert!(m.contains("not a chat model and thus not supported"), "{m}");
    // A message that already says something the taxonomy knows is kept as it is.
    let e = r(
        "Error: You exceeded your current quota, please check your plan and billing details.\n\
         Rate limit reached for gpt-4 in organization org-x on tokens per min.",
    );
    assert!(!e.message.as_deref().unwrap().contains("Rate limit"));
    // So is a body's message next to its code: the code outranks any line of prose.
    let e = r(
        "{\"error\": {\"message\": \"Invalid value\", \"code\": \"invalid_value\"}}\nThis model's maximum context length is 8192 tokens.",
    );
    assert_eq!(s(&e.message), Some("Invalid value"));
    // Past the bound, no line is looked for (and the work stays linear).
    let long = alloc::format!(
        "Error: Request failed with status code 404\n{}\nThis is not a chat model and thus not supported",
        "x".repeat(20_001)
    );
    assert_eq!(
        s(&r(&long).message),
        Some("Request failed with status code 404")
    );
}

#[test]
fn an_error_object_trimmed_to_a_known_code_and_a_status_is_a_body() {
    let e = r(
        "the API returns a hard failure:\n\n{\n  \"code\": \"content_filter\",\n  \"status\": 400\n}",
    );
    assert_eq!(s(&e.code), Some("content_filter"));
    assert_eq!(e.status, Some(400));
    // A code the taxonomy does not know does not make two keys an error.
    assert_eq!(r(r#"{"code": "ok_done", "status": 400}"#).code, None);
}

#[test]
fn a_local_failure_whose_message_is_a_known_client_refusal_is_read() {
    let e = r(
        "ImportError: cannot import name 'OpenAI' from 'openai' (/usr/lib/python3/site-packages/openai/__init__.py)",
    );
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("cannot import name 'OpenAI'"))
    );
    // Any other import failure stays a local failure: no API error.
    assert!(r("ImportError: cannot import name 'foo' from 'bar'").is_empty());
}

#[test]
fn a_status_in_a_clients_own_words_is_the_status() {
    // Google Apps Script's execution log, and Java's `HttpURLConnection`.
    assert_eq!(
        r("11:46:14 AM\tError\tRequest failed with response code 401").status,
        Some(401)
    );
    assert_eq!(
        r("java.io.IOException: Server returned HTTP response code: 429 for URL: https://api.openai.com/v1/chat/completions").status,
        Some(429)
    );
    // Vercel's error page: the status and its name as one code at a line start.
    let e = r(
        "This Serverless Function has timed out.\n\n504: GATEWAY_TIMEOUT\nCode: FUNCTION_INVOCATION_TIMEOUT",
    );
    assert_eq!(e.status, Some(504));
    // A number before a colon and prose is not a status.
    assert_eq!(r("Step 404: check the logs").status, None);
}

#[test]
fn curl_failing_to_connect_is_a_connection_even_when_it_timed_out() {
    let e = r(
        "Error in curl::curl_fetch_memory(url, handle = handle) : \n  Timeout was reached: [api.openai.com] Failed to connect to api.openai.com port 443 after 5221 ms: Timed out",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    // A curl timeout after the connection was made stays a timeout.
    let e = r(
        "Timeout was reached: [api.openai.com] Operation timed out after 30001 milliseconds with 0 bytes received",
    );
    assert_eq!(e.transport, Some(Transport::Timeout));
}

#[test]
fn a_body_cut_after_its_head_is_the_streams_cut() {
    for text in [
        "h11._util.RemoteProtocolError: peer closed connection without sending complete message body (incomplete chunked read)",
        "TypeError: terminated\n    at Fetch.onAborted (node:internal/deps/undici/undici:12707:53)",
        // openai/openai-python#574 (a v0 `acreate` stream over aiohttp).
        "When using the `acreate` interface and attempting to utilize streaming output, I encountered \"aiohttp.client_exceptions.ClientPayloadError: Response payload is not completed\"",
        // openai/openai-python#218 (a v0 stream over requests) and acheong08/ChatGPT#1076.
        "requests.exceptions.ChunkedEncodingError : (\"Connection broken: InvalidChunkLength(got length b'', 0 bytes read)\"",
        "[Error]: (\"Connection broken: InvalidChunkLength(got length b'', 0 bytes read)\", InvalidChunkLength(got length b'', 0 bytes read))",
        // open-webui/pipelines#564: aiohttp's own 400, not a status.
        "I keep getting this error `Response payload is not completed: <TransferEncodingError: 400, message='Not enough data to satisfy transfer length header.'>\")>`",
    ] {
        let e = r(text);
        assert_eq!(e.transport, Some(Transport::Connection), "{text}");
        assert!(e.in_stream, "{text}");
    }
    // A connection refused before any response is not a stream's cut, nor is an HTTP/2
    // connection the server closed under the request.
    let e = r("connect ECONNREFUSED 127.0.0.1:443");
    assert!(!e.in_stream);
    let e = r(
        "Post \"https://api.openai.com/v1/chat/completions\": http2: server sent GOAWAY and closed the connection; LastStreamID=1999, ErrCode=NO_ERROR, debug=\"\"",
    );
    assert_eq!(e.transport, Some(Transport::Connection));
    assert!(!e.in_stream);
}

#[test]
fn a_websocket_close_frame_is_a_realtime_session() {
    let e = r(
        "Error in send_to_twilio: received 3000 (registered) invalid_request_error.invalid_api_key; then sent 3000 (registered) invalid_request_error.invalid_api_key",
    );
    assert!(e.realtime);
    // Closed without the peer's close frame: the session was cut.
    let e =
        r("websockets.exceptions.ConnectionClosedError: sent 1000 (OK); no close frame received");
    assert!(e.realtime && e.in_stream);
    assert_eq!(e.transport, Some(Transport::Connection));
    // A count of things sent is not a close frame.
    assert!(!r("Error: sent 2000 (approx) tokens, rate limit exceeded").realtime);
    // A Realtime session's time limit, in its own words.
    assert!(r("Error from OpenAI: Your session hit the maximum duration of 30 minutes.").realtime);
}

#[test]
fn an_operating_systems_own_words_for_a_failed_connection_are_read() {
    for text in [
        // Windows sockets, through Python and .NET.
        "ConnectionRefusedError: [WinError 10061] No connection could be made because the target machine actively refused it",
        "ConnectionResetError: [WinError 10054] An existing connection was forcibly closed by the remote host",
        "System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner exception.",
        // Apple's URL loading system.
        "Error Domain=NSURLErrorDomain Code=-1004 \"Could not connect to the server.\"",
        "Error Domain=NSURLErrorDomain Code=-1009 \"The Internet connection appears to be offline.\"",
        "Error Domain=NSURLErrorDomain Code=-1003 \"A server with the specified hostname could not be found.\"",
        "Error Domain=NSURLErrorDomain Code=-1200 \"An SSL error has occurred and a secure connection to the server cannot be made.\"",
        // Ruby's Net::HTTP.
        "Failed to open TCP connection to api.openai.com:443 (getaddrinfo: nodename nor servname provided, or not known) (SocketError)",
        "Net::OpenTimeout: execution expired",
        // Windows' connect timeout: no connection was made.
        "urllib3.exceptions.ConnectTimeoutError: [WinError 10060] A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond",
        "socket error: A connection attempt failed because the connected party did not properly respond after a period of time",
    ] {
        assert_eq!(r(text).transport, Some(Transport::Connection), "{text}");
    }
    // A status with none of those words has no network failure.
    assert_eq!(
        r("Error: Request failed with status code 500").transport,
        None
    );
}

/// Category, retry decision and rule that `explain` gives `text`.
fn cat(text: &str) -> (&'static str, &'static str, String) {
    let d = crate::explain(text).diagnosis.expect(text);
    (d.category.as_str(), d.retry.decision.as_str(), d.rule)
}

#[test]
fn an_r_rlang_condition_gives_its_deepest_cause() {
    // httr2 and rlang print the message as a `! ` bullet under each head; a cause's bullet is the
    // deepest, and indented detail bullets belong to it.
    let e = r(
        "Error in `req_perform()`:\n! Failed to perform HTTP request.\nCaused by error in `curl::curl_fetch_memory()`:\n! Timeout was reached: [api.openai.com] Operation timed out after 60001 milliseconds with 0 bytes received",
    );
    assert!(
        s(&e.message).is_some_and(|m| m.starts_with("Timeout was reached")),
        "{e:?}"
    );
    let e = r(
        "Error:\n! in callr subprocess.\nCaused by error in `get_key()`:\n! No token found\n   - Add your key to the \"OPENAI_API_KEY\" environment variable",
    );
    assert_eq!(
        s(&e.message),
        Some("No token found - Add your key to the \"OPENAI_API_KEY\" environment variable")
    );
    // A `! ` line that follows no error head is not a message.
    assert_eq!(r("Warning:\n! this is only a warning").message, None);
}

#[test]
fn the_families_of_batch_m_are_classified() {
    // A key variable the program never set, in an app's or package's own words: the client
    // sent nothing, so it is the client's refusal (client_side since session 11), not the API's.
    for text in [
        "Fatal: OPENAI_API_KEY is not set. Export it and run again.",
        "the bot didn't get OPENAI_API_KEY from the environment",
    ] {
        let (c, r, rule) = cat(text);
        assert_eq!(
            (c, r, rule.as_str()),
            ("client_side", "after_change", "client_missing_api_key"),
            "{text}"
        );
    }
    // A Realtime session past its limit, in any wrapper, is the session's own error.
    for text in [
        "websockets.exceptions.ConnectionClosedOK: received 1001 (going away) Your session hit the maximum duration of 15 minutes.; then sent 1001 (going away) Your session hit the maximum duration of 15 minutes.",
        "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":\"session_expired\",\"message\":\"Your session hit the maximum duration of 30 minutes.\"}}",
    ] {
        let (c, r, rule) = cat(text);
        assert_eq!(
            (c, r, rule.as_str()),
            ("invalid_request", "after_change", "session_expired"),
            "{text}"
        );
    }
    // A quota counted per minute or per day is a rate limit that resets, however it is worded;
    // OpenAI's spent balance stays a quota.
    let (c, r, _) = cat(
        "429 Quota exceeded for quota metric 'Generate content requests' and limit 'GenerateContentRequestsPerMinutePerProjectPerRegion' of service 'aiplatform.googleapis.com': tokens_per_minute",
    );
    assert_eq!((c, r), ("rate_limit", "yes"));
    let (c, r, _) = cat(&alloc::format!(
        "openai.RateLimitError: Error code: 429 - {QUOTA_MSG}"
    ));
    assert_eq!((c, r), ("quota", "no"));
    // Windows' COM refusing a script's own argument before anything is sent.
    let (c, r, _) = cat(
        "Error: 0x80070057 - The parameter is incorrect.\nSource: WinHttp.WinHttpRequest\nSpecifically: SetTimeouts",
    );
    assert_eq!((c, r), ("client_side", "after_change"));
}

#[test]
fn a_bracketed_label_around_a_body_with_nested_lists_is_read() {
    // A CLI's or app's `[Label: … ]` around a body whose error holds a list of its own: the body
    // is found inside the label.
    let e = r(
        "[Provider Error: {\n  \"error\": {\n    \"message\": \"Rate limit reached for requests\",\n    \"type\": \"requests\",\n    \"code\": \"rate_limit_exceeded\",\n    \"details\": [\n      {\"reason\": \"rateLimitExceeded\"}\n    ]\n  }\n}]",
    );
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));
    // A label around no error stays no error.
    assert!(
        crate::explain("[Build log: [1, 2, 3] done]")
            .diagnosis
            .is_none()
    );
}

#[test]
fn sdk_exception_names_across_languages_are_known() {
    for (text, want) in [
        // Kotlin (openai-kotlin) and Java (langchain4j) name the status in their classes.
        (
            "com.aallam.openai.api.exception.AuthenticationException: Incorrect API key",
            "authentication",
        ),
        (
            "com.aallam.openai.api.exception.PermissionException: not allowed",
            "permission",
        ),
        (
            "dev.langchain4j.exception.ModelNotFoundException: gpt-9",
            "not_found",
        ),
        (
            "dev.langchain4j.exception.ContentFilteredException: blocked",
            "content_policy",
        ),
        // PHP namespaces, including a class PHP's `Uncaught` names whatever its suffix.
        (
            "PHP Fatal error:  Uncaught OpenAI\\Exceptions\\TransporterException: cURL error 7: Failed to connect",
            "connection",
        ),
        (
            "PHP Fatal error:  Uncaught OpenAI\\Exceptions\\UnserializableResponse: Syntax error in /srv/vendor/openai-php/client/src/Transporters/HttpTransporter.php:129",
            "client_side",
        ),
        // Apps' own classes for a 5xx.
        ("OpenAIServerError: upstream failed", "server_error"),
    ] {
        assert_eq!(cat(text).0, want, "{text}");
    }
}

#[test]
fn stream_evidence_without_sse_framing_and_a_body_after_its_status() {
    // Chunks printed without `data:`, then the error object: it arrived inside the stream.
    let e = r(
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]} {"error":{"code":"500001","type":"INVOKE_MODEL_ERROR","message":"service error"}}"#,
    );
    assert!(e.in_stream);
    assert_eq!(s(&e.code), Some("500001"));
    // An image stream's failed event carries its error.
    let e = r(
        r#"{"type":"image_generation.partial_failed","image_index":1,"error":{"code":"OutputImageSensitiveContentDetected","message":"The request failed because the output image may contain sensitive information."}}"#,
    );
    assert_eq!(s(&e.stream_event), Some("image_generation.partial_failed"));
    assert_eq!(s(&e.code), Some("OutputImageSensitiveContentDetected"));
    // Anthropic's error body after the HTTP status a relay answered with is a response.
    let e = r(r#"500 {"error":{"type":"api_error","message":"Internal error"},"type":"error"}"#);
    assert!(!e.in_stream);
    assert_eq!(e.stream_event, None);
    assert_eq!(e.status, Some(500));
    // The same shape alone stays a Responses stream's error event.
    let e = r(
        r#"{"type":"error","error":{"type":"invalid_request_error","code":null,"message":"bad"}}"#,
    );
    assert_eq!(s(&e.stream_event), Some("error"));
}

fn full(text: &str) -> (&'static str, &'static str, String, &'static str) {
    let d = crate::explain(text).diagnosis.expect(text);
    (
        d.category.as_str(),
        d.retry.decision.as_str(),
        d.rule,
        d.delivery.as_str(),
    )
}

/// Asserts that every text reads as `client_side` / `after_change` from `rule`, delivered by the
/// client.
fn all_client_side(texts: &[&str], rule: &str) {
    for text in texts {
        let (c, r, got, d) = full(text);
        assert_eq!(
            (c, r, got.as_str(), d),
            ("client_side", "after_change", rule, "client"),
            "{text}"
        );
    }
}

#[test]
fn the_families_of_batch_o_are_classified() {
    // A client library that refused for a key nobody set sent nothing: client_side, delivered
    // by the client, whether its class is v0's `AuthenticationError` or v1's `OpenAIError`.
    all_client_side(
        &[
            "openai.error.AuthenticationError: No API key provided. You can set your API key in code using 'openai.api_key = <API-KEY>', or you can set the environment variable OPENAI_API_KEY=<API-KEY>).",
            "openai.OpenAIError: The api_key client option must be set either by passing api_key to the client or by setting the OPENAI_API_KEY environment variable",
        ],
        "client_missing_api_key",
    );
    // The server's 401 for a request that came without a key is the API's answer.
    let (c, r, _, d) = full(
        r#"401 {"error":{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).","type":"invalid_request_error","code":null}}"#,
    );
    assert_eq!((c, r, d), ("authentication", "no", "response"));

    // A client that could not decode what came back: the fix is in the client.
    all_client_side(
        &[
            "Swift.DecodingError.keyNotFound(CodingKeys(stringValue: \"id\", intValue: nil), Swift.DecodingError.Context(codingPath: [], debugDescription: \"No value associated with key\"))",
            "type 'Null' is not a subtype of type 'String' in type cast",
            "Error: data did not match any variant of untagged enum ResponseEvent",
            "unknown server event type: conversation.item.input_audio_transcription.delta",
        ],
        "client_cannot_decode_value",
    );
    // The API's own refusal of a bad value keeps its type, whatever else the text says.
    let (c, _, _, d) = full(
        r#"400 {"error":{"message":"Invalid type for 'messages[0].content': expected a string, but got null instead.","type":"invalid_request_error","param":"messages[0].content","code":"invalid_type"}}"#,
    );
    assert_eq!((c, d), ("invalid_request", "response"));

    // A program that failed on its own, before any call.
    for text in [
        "System.NullReferenceException: Object reference not set to an instance of an object.",
        "curl: no URL specified!",
    ] {
        let (c, _, rule, d) = full(text);
        assert_eq!(
            (c, rule.as_str(), d),
            ("client_side", "client_program_failed", "client"),
            "{text}"
        );
    }

    // A wording pasted without its spaces still matches when it is long...
    assert_eq!(
        cat("AttributeError:module'openai'hasnoattribute'ChatCompletion'").0,
        "client_side"
    );
    // ...but a short word inside a longer one does not.
    assert_eq!(cat("ratelimitless").2, "unrecognized");
}

#[test]
fn batch_lines_and_dial_errors_of_batch_o() {
    // A Batch output line whose request never got an answer (status 0) failed as a line.
    let line = r#"{"id":"batch_req_1","custom_id":"req-7","response":{"status_code":0,"request_id":"","body":{}},"error":null}"#;
    let (c, r, rule, d) = full(line);
    assert_eq!(
        (c, r, rule.as_str(), d),
        ("batch_error", "yes", "batch_line_failed", "batch_line")
    );
    // A line that succeeded is no error.
    assert!(crate::explain(
        r#"{"id":"batch_req_1","custom_id":"req-7","response":{"status_code":200,"request_id":"r","body":{"id":"chatcmpl-1","object":"chat.completion","choices":[]}},"error":null}"#
    )
    .diagnosis
    .is_none_or(|d| d.rule != "batch_line_failed"));
    // A job that expired keeps its own code.
    let (c, _, rule, _) = full(
        r#"{"id":"batch_1","object":"batch","status":"expired","errors":{"data":[{"code":"batch_expired","message":"This batch expired before it could be completed.","line":null,"param":null}]}}"#,
    );
    assert_eq!((c, rule.as_str()), ("batch_error", "batch_expired"));

    // A proxy's 500 that says it could not dial the upstream: the connection failed.
    let (c, _, _, _) = full(
        r#"500 {"error":{"message":"Post \"https://api.openai.com/v1/chat/completions\": dial tcp 104.18.6.192:443: connect: connection refused","type":"server_error"}}"#,
    );
    assert_eq!(c, "connection");
    // A plain 500 is the server's.
    let (c, _, _, _) = full(
        r#"500 {"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
    );
    assert_eq!(c, "server_error");

    // A parameter under `session.` is a Realtime session's.
    let (_, _, _, d) = full(
        r#"{"type":"error","event_id":"event_1","error":{"type":"invalid_request_error","code":"invalid_value","message":"Invalid value: 'whisper'. Supported values are: 'whisper-1'.","param":"session.input_audio_transcription.model"}}"#,
    );
    assert_eq!(d, "realtime");

    // openai-python's `InternalServerError` stands for a 5xx that arrived.
    let (c, _, _, d) = full("openai.InternalServerError: upstream connect error");
    assert_eq!((c, d), ("server_error", "response"));
    // Haskell http-client's response timeout: sent, no answer in time.
    let (c, r, _, d) = full(
        "HttpExceptionRequest Request {\n  host = \"api.openai.com\"\n  responseTimeout = ResponseTimeoutDefault\n} ResponseTimeout",
    );
    assert_eq!((c, r, d), ("timeout", "yes", "client"));
}

#[test]
fn typographic_quotes_around_keys_are_read_as_ascii_quotes() {
    // A forum turned the body's quotes into typographic ones: the body is read.
    let e = r(
        "{\n\u{201c}error\u{201d}: {\n\u{201c}message\u{201d}: \u{201c}Item with id \u{2018}rs_6834\u{2019} not found. Items are not persisted when store is set to false.\u{201d},\n\u{201c}type\u{201d}: \u{201c}invalid_request_error\u{201d},\n\u{201c}param\u{201d}: \u{201c}input\u{201d},\n\u{201c}code\u{201d}: null\n}\n}",
    );
    assert_eq!(s(&e.error_type), Some("invalid_request_error"));
    assert_eq!(s(&e.param), Some("input"));
    assert!(s(&e.message).unwrap().starts_with("Item with id 'rs_6834'"));
    // A Python dict through the same forum, and a Ruby hash (`=>`), and a fragment without braces.
    let e = r(
        "openai.RateLimitError: Error code: 429 - {\n\u{2018}error\u{2019}: {\n\u{2018}message\u{2019}: \u{201c}You\u{2019}ve exceeded the rate limit, please slow down and try again later.\u{201d},\n\u{2018}type\u{2019}: \u{2018}invalid_request_error\u{2019},\n\u{2018}param\u{2019}: None,\n\u{2018}code\u{2019}: \u{2018}rate_limit_exceeded\u{2019}\n}\n}",
    );
    assert_eq!(s(&e.code), Some("rate_limit_exceeded"));
    assert!(s(&e.message).unwrap().starts_with("You've exceeded"));
    let e = r(
        "{\u{201c}error\u{201d}=>\n{\u{201c}message\u{201d}=> \u{201c}Missing scopes: api.threads.read.\u{201d}, \u{201c}type\u{201d}=>\u{201c}invalid_request_error\u{201d}, \u{201c}param\u{201d}=>nil, \u{201c}code\u{201d}=>nil}}",
    );
    assert_eq!(s(&e.error_type), Some("invalid_request_error"));
    let (c, r_, rule) = cat(
        "\u{201c}code\u{201d}:\u{201c}rate_limit_exceeded\u{201d},\u{201c}message\u{201d}:\"Rate limit reached for gpt-4o-mini on requests per day (RPD): Limit 10000, Used 10000, Requested 1.",
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("rate_limit", "yes", "rate_limit_requests_per_day")
    );
    // Near misses: typographic quotes in prose or inside a message stay as they are.
    let body = "{\"error\": {\"message\": \"The prompt \u{201c}draw a cat\u{201d} was rejected as a result of our safety system.\", \"type\": \"invalid_request_error\", \"param\": null, \"code\": \"content_policy_violation\"}}";
    let e = r(body);
    assert_eq!(s(&e.code), Some("content_policy_violation"));
    assert!(
        s(&e.message)
            .unwrap()
            .contains("\u{201c}draw a cat\u{201d}")
    );
    let e = r("The model\u{2019}s answer said \u{201c}hello\u{201d}: nothing went wrong.");
    assert!(e.is_empty());
}

#[test]
fn a_google_quota_violation_names_the_limit_under_openais_quota_sentence() {
    // Gemini's free tier: OpenAI's quota sentence, but the quota is a per-day request limit.
    let text = r#"{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "250"}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "22s"}]}}"#;
    let e = r(text);
    assert_eq!(
        s(&e.code),
        Some("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(cat(text).0, "rate_limit");
    assert_eq!(cat(text).1, "yes");
    // Near misses: the same sentence with no violation is OpenAI's quota (a balance used up),
    // and a string code of the body's own is kept.
    let text = r#"{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED"}}"#;
    assert_eq!(cat(text).0, "quota");
    let text = r#"{"error": {"code": "insufficient_quota", "message": "You exceeded your current quota.", "details": [{"violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]}]}}"#;
    assert_eq!(s(&r(text).code), Some("insufficient_quota"));
    assert_eq!(cat(text).0, "quota");
}

#[test]
fn mid_stream_in_words_says_a_stream_delivered_the_error() {
    let text = "Mid-stream, the connection terminates with the generic error: \u{201c}An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists.\u{201d}";
    let d = crate::explain(text).diagnosis.unwrap();
    assert_eq!(d.category.as_str(), "server_error");
    assert_eq!(d.delivery.as_str(), "stream");
    // Near miss: `upstream` is not a stream's word.
    let d = crate::explain("The upstream returned: An error occurred while processing your request. You can retry your request.").diagnosis.unwrap();
    assert_eq!(d.delivery.as_str(), "response");
}

#[test]
fn a_realtime_commit_of_an_empty_audio_buffer_is_known() {
    let text = "error { code: input_audio_buffer_commit_empty, message: \u{201c}\u{2026}0.00ms of audio.\u{201d} }";
    let d = crate::explain(text).diagnosis.unwrap();
    assert_eq!(d.rule, "realtime_audio_buffer_empty");
    assert_eq!(d.delivery.as_str(), "realtime");
    let (c, r, rule) = cat(
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 0.00ms of audio.",
    );
    assert_eq!(
        (c, r, rule.as_str()),
        (
            "invalid_request",
            "after_change",
            "realtime_audio_buffer_empty"
        )
    );
    // Near miss: the event that confirms a commit is no error.
    assert!(crate::explain("{\"type\":\"input_audio_buffer.committed\",\"event_id\":\"event_1\",\"item_id\":\"item_1\"}").diagnosis.is_none());
}

#[test]
fn the_decoder_families_of_batch_q_are_classified() {
    // The whole body could not be read as the client's type: Swift, Go, a Java client's own
    // converter, reqwest with serde, kotlinx.serialization.
    all_client_side(
        &[
            "Error: dataCorrupted(Swift.DecodingError.Context(codingPath: [], debugDescription: \"The given data was not valid JSON.\", underlyingError: nil))",
            "Fatal error: Swift.DecodingError.dataCorrupted(Swift.DecodingError.Context(codingPath: [], debugDescription: \"The given data was not valid JSON.\", underlyingError: Optional(Error Domain=NSCocoaErrorDomain Code=3840 \"Invalid value around line 1, column 1.\")))",
            "chat: unmarshal response body: json: cannot unmarshal array into Go struct field apiError.error of type string",
            "error unmarshaling json response body: json: cannot unmarshal number into Go value of type string",
            "CleverClientException: Cannot convert the Json {\"id\":\"x\"} to class io.example.ChatResponse.",
            "Error: error decoding response body: missing field `choices` at line 1 column 40",
            "kotlinx.serialization.json.internal.JsonDecodingException: Unexpected JSON token at offset 12: Expected start of the object '{', but had 'd' instead at path: $",
        ],
        "client_cannot_read_response",
    );
    // A field or value that did not fit: kotlinx, Jackson, Newtonsoft, serde, the Vercel AI SDK.
    all_client_side(
        &[
            "kotlinx.serialization.MissingFieldException: Field 'created' is required for type with serial name 'x.ChatResponse', but it was missing",
            "com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize value of type `java.lang.String` from Array value (token `JsonToken.START_ARRAY`)",
            "com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException: Unrecognized field \"service_tier\" (class x.ChatResponse), not marked as ignorable (5 known properties)",
            "JsonSerializationException: Could not find member 'usage' on object of type 'ChatResponse'. Path 'usage', line 3, position 9.",
            "Error: missing field `object` at line 9 column 1",
            "AI_TypeValidationError: Type validation failed: Value: {\"id\":\"x\",\"usage\":{\"total_tokens\":3}}.\nError message: [{\"code\":\"invalid_type\",\"expected\":\"array\",\"path\":[\"choices\"],\"message\":\"Invalid input: expected array, received undefined\"}]",
        ],
        "client_cannot_decode_value",
    );
    // Near misses. The error body a client failed to validate is the cause when the paste shows it.
    let (c, r, _, _) = full(
        "Type validation failed: Value: {\"error\":{\"message\":\"The server had an error processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}.",
    );
    assert_eq!((c, r), ("server_error", "yes"));
    // The API's own 400 for a value it refused stays the API's, with its pattern wording.
    let (c, _, _, d) = full(
        r#"400 {"error":{"message":"Invalid 'tools[0].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.","type":"invalid_request_error","param":"tools[0].function.name","code":"invalid_value"}}"#,
    );
    assert_eq!((c, d), ("invalid_request", "response"));
    // An API's zod-style issue list as the body of a 400 is the request's fault, not the client's.
    let (c, r, _, _) =
        full(r#"400 {"error":{"message":"Invalid input","type":"invalid_request_error"}}"#);
    assert_eq!((c, r), ("invalid_request", "after_change"));
    // A relay that could not decode the request names the request: no `response body` there.
    let (c, _, _, _) = full(
        r#"{"error":{"message":"json: cannot unmarshal object into Go struct field Request.tool_choice of type string","type":"invalid_request_error"}}"#,
    );
    assert_eq!(c, "invalid_request");
    // The API's own wording of a missing parameter is not a client's refusal.
    assert_eq!(
        full(r#"400 {"error":{"message":"Missing required parameter: 'model'.","type":"invalid_request_error","param":"model","code":"missing_required_parameter"}}"#).0,
        "invalid_request"
    );
}

#[test]
fn local_key_refusals_and_batch_models_of_batch_q() {
    // The chatgpt npm client and the Vercel AI SDK refusing to start without a key.
    all_client_side(
        &[
            "Error: OpenAI missing required apiKey",
            "AI_LoadAPIKeyError: Anthropic API key is missing. Pass it using the 'apiKey' parameter or the ANTHROPIC_API_KEY environment variable.",
        ],
        "client_missing_api_key",
    );
    // Near miss: a server's 401 that says the key is missing is the API's answer.
    let (c, r, _, d) = full(
        r#"401 {"error":{"message":"You didn't provide an API key.","type":"invalid_request_error","code":null}}"#,
    );
    assert_eq!((c, r, d), ("authentication", "no", "response"));

    // A Batch input file naming a model the provider does not batch.
    let (c, r, rule, _) =
        full("JSONL file validation failed: Model grok-9 is not supported for batch processing.");
    assert_eq!(
        (c, r, rule.as_str()),
        ("batch_error", "after_change", "batch_model_not_supported")
    );
    // Near miss: a parameter a model does not support, outside any Batch, is the request's.
    let (c, _, rule, _) = full(
        r#"400 {"error":{"message":"'logprobs' is not supported with this model.","type":"invalid_request_error","param":"logprobs","code":"unsupported_parameter"}}"#,
    );
    assert_eq!(
        (c, rule.as_str()),
        ("invalid_request", "unsupported_parameter")
    );
}

#[test]
fn a_providers_body_quoted_by_a_gateway_is_a_response() {
    // OpenRouter's envelope printed without its `error` key: the raw Anthropic-shaped body is the
    // provider's HTTP answer, not a Responses stream's error event.
    let text = r#"400 Bad Request Reason: {"message":"Provider returned error","metadata":{"raw":"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'\"}}","provider_name":"Anthropic"}}"#;
    let (c, _, _, d) = full(text);
    assert_eq!((c, d), ("invalid_request", "response"));
    // Near miss: the same event in SSE framing is a stream's.
    let (_, _, _, d) = full(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n",
    );
    assert_eq!(d, "stream");
}

#[test]
fn a_status_word_in_any_corpus_language_states_the_status() {
    for (text, want) in [
        (
            "状态码: 400, 响应: {\"error\":{\"message\":\"openai_error\"}}",
            400,
        ),
        ("HTTP状态码：429", 429),
        ("ステータスコード：429", 429),
        ("상태 코드: 401", 401),
        ("Код ответа: 503", 503),
        ("código de estado: 429", 429),
        ("code d'état 500", 500),
        ("Der Statuscode ist 429", 429),
        ("status code = 502", 502),
        ("Exception : run code :400", 400),
        (
            "<400> InternalError.Algo.InvalidParameter: Range of max_tokens",
            400,
        ),
    ] {
        assert_eq!(r(text).status, Some(want), "{text}");
    }
}

#[test]
fn a_port_a_year_a_count_or_a_duration_after_a_status_word_is_not_a_status() {
    for text in [
        "监听端口: 8080, 状态码 200",
        "status code 2024 tickets",
        "ステータス: 500件のリクエスト",
        "状态码 429次",
        "Dialing <500ms> timeout",
        "статус: 4000",
        "rerun code 400",
    ] {
        assert_eq!(r(text).status, None, "{text}");
    }
}

#[test]
fn a_status_word_in_an_apps_hint_is_not_the_status() {
    let e = r(
        "Error: Request failed with status code 429\nNotice: If the status code is 400, the file exceeds token limit.",
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(r("如果状态码为 401,请检查密钥").status, None);
    // The same words stating the status are read.
    assert_eq!(r("状态码为 401,请检查密钥").status, Some(401));
}

#[test]
fn googles_retry_delay_is_read_as_the_bodys_wait() {
    let e = r(
        r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}"#,
    );
    assert_eq!(e.retry_delay_ms, Some(37_000));
    let e = r(
        "ClientError: 429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'details': [{'@type': 'type.googleapis.com/google.rpc.RetryInfo', 'retryDelay': '1.5s'}]}}",
    );
    assert_eq!(e.retry_delay_ms, Some(1_500));
    // Near misses: a setting named like it, a number without its unit, a longer word.
    assert_eq!(r(r#"{"maxRetryDelay": "60s"} 429"#).retry_delay_ms, None);
    assert_eq!(r(r#"429 "retryDelay": "37""#).retry_delay_ms, None);
    assert_eq!(r(r#"429 "retryDelay": "37sec""#).retry_delay_ms, None);
}

#[test]
fn googles_retry_delay_is_the_retrys_wait() {
    let d = crate::explain(
        r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"22s"}]}}"#,
    )
    .diagnosis
    .unwrap();
    assert_eq!(d.retry.after_ms, Some(22_000));
    // A Retry-After header the paste shows is the server's own word and comes first.
    let d = crate::explain(
        "HTTP/1.1 429 Too Many Requests\nretry-after: 5\n\n{\"error\":{\"code\":429,\"details\":[{\"retryDelay\":\"22s\"}]}}",
    )
    .diagnosis
    .unwrap();
    assert_eq!(d.retry.after_ms, Some(5_000));
}

#[test]
fn a_schema_validators_sentence_alone_is_the_requests_fault() {
    for (text, rule) in [
        ("[] is too short - 'messages'", "empty_array"),
        (
            "42 is not of type 'string' - 'messages.0.content'",
            "invalid_type",
        ),
        (
            "'hd' is not one of ['standard', 'low'] - 'quality'",
            "invalid_value",
        ),
    ] {
        let (c, r, got, d) = full(text);
        assert_eq!(
            (c, r, got.as_str(), d),
            ("invalid_request", "after_change", rule, "response"),
            "{text}"
        );
    }
    // Near misses: the same words in prose that states no error are not one.
    for text in [
        "This list is not one of the longest we have seen.",
        "The summary is too short, add a paragraph.",
        "The tool is not of type safe for children.",
    ] {
        assert!(crate::explain(text).diagnosis.is_none(), "{text}");
    }
}

#[test]
fn batch_file_size_spend_cap_and_azure_roles_of_batch_s() {
    // A Batch input file over the model's size limit is a Batch cause.
    let (c, r, rule, d) = full(
        "The batch input file is larger than the 104857600 maximum for the gpt-4o-mini model. Please try again with a smaller batch.",
    );
    assert_eq!(
        (c, r, rule.as_str(), d),
        (
            "batch_error",
            "after_change",
            "batch_too_many_requests",
            "batch_job"
        )
    );
    // Near miss: an upload over a size limit outside any Batch is the request's.
    let (c, _, _, _) = full(
        r#"413 {"error":{"message":"Request body too large","type":"invalid_request_error","code":"request_too_large"}}"#,
    );
    assert_eq!(c, "invalid_request");

    // The API's older sentence for a monthly usage limit: money, not a rate.
    let (c, r, _, _) = full(
        "You've reached your usage limit. See your usage dashboard and billing settings for more details.",
    );
    assert_eq!((c, r), ("quota", "no"));
    // Near miss: Codex's plan window resets; it stays a rate limit.
    let (c, r, rule, _) =
        full("You've hit your usage limit. Upgrade to Pro or try again in 4 days.");
    assert_eq!(
        (c, r, rule.as_str()),
        ("rate_limit", "yes", "usage_limit_reached")
    );

    // Azure's PermissionDenied under 401: the identity has no data-plane role.
    let (c, r, rule, _) = full(
        r#"Error code: 401 - {'error': {'code': 'PermissionDenied', 'message': 'Principal does not have access to API/Operation.'}}"#,
    );
    assert_eq!(
        (c, r, rule.as_str()),
        ("permission", "no", "azure_principal_lacks_role")
    );
    // Near miss: a wrong key or endpoint stays an authentication failure.
    let (c, r, rule, _) = full(
        r#"401 {"statusCode": 401, "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}"#,
    );
    assert_eq!(
        (c, r, rule.as_str()),
        ("authentication", "no", "azure_access_denied")
    );
}

#[test]
fn client_library_checks_of_batch_r_are_client_side() {
    // A typed SDK's own argument or setup check: LangChain4j's ValidationUtils and HTTP client
    // loader, .NET's ArgumentNullException from System.ClientModel's assertions.
    all_client_side(
        &[
            "java.lang.IllegalArgumentException: chatModel cannot be null\n\n\tat dev.langchain4j.internal.Exceptions.illegalArgument(Exceptions.java:23)\n\tat dev.langchain4j.internal.ValidationUtils.ensureNotNull(ValidationUtils.java:54)\n",
            "java.lang.IllegalArgumentException: modelName cannot be null or blank\n\tat dev.langchain4j.internal.ValidationUtils.ensureNotBlank(ValidationUtils.java:98)\n",
            "An error occurred while translating with AI: java.lang.IllegalStateException: No HTTP client has been found in the classpath\nat dev.langchain4j.http.client.HttpClientBuilderLoader.loadHttpClientBuilder(HttpClientBuilderLoader.java:27)\n",
            "Unhandled exception. System.ArgumentNullException: Value cannot be null. (Parameter 'model')\n   at System.ClientModel.Internal.Argument.AssertNotNullOrEmpty(String value, String name)\n",
        ],
        "client_argument_check_failed",
    );
    // An empty key refused by the key credential's constructor is the same check.
    all_client_side(
        &[
            "System.ArgumentNullException: Value cannot be null. (Parameter 'key')\n   at System.ClientModel.Internal.Argument.AssertNotNullOrEmpty(String value, String name)\n   at System.ClientModel.ApiKeyCredential..ctor(String key)\n",
        ],
        "client_argument_check_failed",
    );
    // Semantic Kernel looking up a service the kernel was not given.
    all_client_side(
        &["ValueError: TextCompletionClientBase service with service_id 'None' not found"],
        "client_rejected_setup",
    );
    // Near misses: an API body and status beside the library's frame are the cause; the same
    // Java exception without the library's frame says nothing about the API; a 404's "not found"
    // from the server stays the server's.
    let (c, r, _, d) = full(
        "400 {\"error\":{\"message\":\"'messages' must contain at least one message.\",\"type\":\"invalid_request_error\"}}\n\tat dev.langchain4j.internal.ValidationUtils.ensureNotNull(ValidationUtils.java:54)\n",
    );
    assert_eq!((c, r, d), ("invalid_request", "after_change", "response"));
    assert!(
        crate::explain("java.lang.IllegalArgumentException: chatModel cannot be null")
            .diagnosis
            .is_none()
    );
    let (c, _, _, _) = full(r#"404 {"error":{"message":"Resource not found","code":"404"}}"#);
    assert_eq!(c, "not_found");
}

#[test]
fn a_conversation_busy_with_another_request_is_a_conflict() {
    // openai-go's error string for a Responses conversation another request is working on.
    let (c, r, rule, d) = full(
        "failed to pick wine: POST \"https://api.openai.com/v1/responses\": 400 Bad Request {\n\"message\": \"Another process is currently operating on this conversation. Please retry in a few seconds.\",\n\"type\": \"invalid_request_error\",\n\"param\": \"conversation\",\n\"code\": \"conversation_locked\"\n}",
    );
    assert_eq!(
        (c, r, rule.as_str(), d),
        ("conflict", "yes", "conversation_locked", "response")
    );
    // Near miss: another 400 about the `conversation` parameter is the request's.
    let (c, r, _, _) = full(
        r#"400 {"error":{"message":"Invalid 'conversation': expected an ID that begins with 'conv'.","type":"invalid_request_error","param":"conversation","code":"invalid_value"}}"#,
    );
    assert_eq!((c, r), ("invalid_request", "after_change"));
}

#[test]
fn a_model_refused_for_the_account_is_not_a_model_on_the_wrong_endpoint() {
    // A 400 saying the account kind does not allow the model (Codex's websocket error frame).
    let (c, r, _, _) = full(
        r#"{"type":"error","status":400,"error":{"type":"invalid_request_error","message":"The 'gpt-5' model is not supported when using Codex with a ChatGPT account."}}"#,
    );
    assert_eq!((c, r), ("invalid_request", "after_change"));
    // Near misses: a chat model on the completions endpoint, and the code, stay the 404 record.
    let (c, _, rule, _) = full(
        "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?",
    );
    assert_eq!((c, rule.as_str()), ("not_found", "unsupported_model"));
    let (_, _, rule, _) = full(
        r#"{"error":{"message":"gpt-x is not supported here","type":"invalid_request_error","code":"model_not_supported"}}"#,
    );
    assert_eq!(rule, "unsupported_model");
}

#[test]
fn a_cloudflare_page_cut_from_its_middle_states_its_status_in_the_landing_link() {
    let page = "            </h1>\n            <div>\n               Visit <a href=\"https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_524&utm_campaign=example.com\" target=\"_blank\">cloudflare.com</a> for more information.\n            </div>\n<div id=\"cf-browser-status\" class=\"relative\">\n  <span class=\"leading-1.3 text-2xl text-green-success\">Working</span>\n</div>\n";
    assert_eq!(r(page).status, Some(524));
    let (c, r_, _, _) = full(page);
    assert_eq!((c, r_), ("timeout", "yes"));
    // A whole page keeps the status of its title.
    let whole = "<!DOCTYPE html><html><head><title>api.example.com | 522: Connection timed out</title></head><body><div>Visit <a href=\"https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_522\">cloudflare.com</a></div></body></html>";
    assert_eq!(r(whole).status, Some(522));
    // Near misses: a four-digit Cloudflare code is no HTTP status, and the link quoted in prose
    // (no page around it) is not read as one.
    assert_eq!(
        r("<div>Visit <a href=\"https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_1020\">cloudflare.com</a></div>").status,
        None
    );
    assert_eq!(
        r("see https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_524 for details")
            .status,
        None
    );
}

#[test]
fn a_timeout_class_named_inside_prose_is_the_clients_report() {
    for text in [
        "API requests to the o3 model were unresponsive, resulting in OpenAIAPITimeoutError.",
        "We keep getting APITimeoutError from the SDK after 600 seconds.",
    ] {
        let (c, r, _, d) = full(text);
        assert_eq!((c, r, d), ("timeout", "yes", "client"), "{text}");
    }
    assert_eq!(
        r("the job died with HttpReadTimeoutException").transport,
        Some(Transport::Timeout)
    );
    // Near misses: a gateway's timeout class is a status page, not a missing answer; a class
    // that merely holds the letters of a wording (`ModuleNotFoundError`, `enotfound`) is not it.
    assert_eq!(
        r("upstream raised GatewayTimeoutError twice").transport,
        None
    );
    assert_eq!(
        r("ModuleNotFoundError: No module named 'openai'").transport,
        None
    );
    // A platform's timeout page in words (Vercel) is still a response.
    let (_, _, _, d) = full("An error occurred with your deployment FUNCTION_INVOCATION_TIMEOUT");
    assert_eq!(d, "response");
}

#[test]
fn an_error_status_stated_before_an_anthropic_body_makes_it_a_response() {
    // Anthropic's body after a status the text states: the Python SDK's `Error code: 400 - `, a
    // client's tuple with its status sentence, a Rust client's `400 Bad Request -` with the body
    // on the next line. Each is an HTTP response's body, not a stream's error event.
    for text in [
        "Error code: 400 - {'type': 'error', 'error': {'type': 'invalid_request_error', 'message': 'messages: text content blocks must contain non-whitespace text'}}",
        "anthropic.BadRequestError: Error code: 400 - {'type': 'error', 'error': {'type': 'invalid_request_error', 'message': 'max_tokens: 100000 > 64000'}}",
        "Error: ('post request failed with status code: 400', {'type': 'error', 'error': {'type': 'invalid_request_error', 'message': 'anthropic-version: header is required'}})",
        "Error: Anthropic API error: 400 Bad Request -\n {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"response_format: Extra inputs are not permitted\"}}",
    ] {
        let (c, _, _, d) = full(text);
        assert_eq!((c, d), ("invalid_request", "response"), "{text}");
    }
    // Near misses: the object alone, or with the status only inside it (the Responses
    // websocket's wrapped error frame) or after it, is a stream's error event.
    for text in [
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        r#"{"type":"error","status":400,"error":{"type":"invalid_request_error","message":"The 'gpt-5' model is not supported when using Codex with a ChatGPT account."}}"#,
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\nretrying after status code 529",
    ] {
        assert_eq!(full(text).3, "stream", "{text}");
    }
}

#[test]
fn agents_own_words_for_a_rate_limit_an_output_limit_and_a_connect_failure() {
    // An agent's words for the 429 it waits out (browser-use), and a client's words for a
    // Responses `incomplete` stopped at the output limit (a Go plugin).
    let (c, r_, rule, _) = full(
        "WARNING  [agent] ❌ Result failed 1/3 times:\n Rate limit reached. Waiting before retry.",
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("rate_limit", "yes", "rate_limit_exceeded")
    );
    let (c, r_, rule, _) =
        full("failed to get title: response incomplete: max tokens reached before completion");
    assert_eq!(
        (c, r_, rule.as_str()),
        ("context_length", "after_change", "length_limit_reached")
    );
    // Near misses: the API's TPM sentence keeps its own record; Codex's plan window stays a
    // usage limit; a `max_tokens` above the model's output cap is the request's fault.
    assert_eq!(
        full("Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.").2,
        "rate_limit_tokens_per_minute"
    );
    assert_eq!(
        full("You've hit your usage limit. Upgrade to Pro or try again in 3 days.").2,
        "usage_limit_reached"
    );
    assert_eq!(
        full("max_tokens is too large: 100000. This model supports at most 16384 completion tokens, whereas you provided 100000.").2,
        "max_tokens_too_large"
    );
    // urllib3's NewConnectionError: the socket never connected, whatever its errno says
    // (`Operation timed out`); a read timeout on a made connection stays a timeout.
    let (c, _, _, d) = full(
        "Max retries exceeded with url: /v1/chat/completions (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x1134ab250>: Failed to establish a new connection: [Errno 60] Operation timed out'))",
    );
    assert_eq!((c, d), ("connection", "client"));
    assert_eq!(
        full("HTTPSConnectionPool(host='api.openai.com', port=443): Read timed out. (read timeout=600)").0,
        "timeout"
    );
}

#[test]
fn a_clients_words_for_an_error_event_of_a_streaming_response_say_stream() {
    let text = "openai-codex/gpt-5.5: fail_fast (contract_error): OpenAI-style streaming response reported an error event: server_error: An error occurred while processing your request. You can retry your request.";
    assert_eq!(
        full(text),
        (
            "server_error",
            "yes",
            String::from("server_error"),
            "stream"
        )
    );
    // Near misses: a Realtime session's error event is not a stream's; an error event with no
    // stream named stays a response.
    assert_eq!(
        full("Realtime error event while streaming audio: {\"type\":\"error\",\"error\":{\"type\":\"server_error\",\"message\":\"An error occurred\"}}").3,
        "realtime"
    );
    assert_eq!(
        full("The server logged an error event: server_error: The server had an error while processing your request.").3,
        "response"
    );
}

#[test]
fn litellms_own_refusal_geminis_exhausted_sentence_and_a_stream_without_its_end() {
    // LiteLLM refused a parameter before sending anything: a client-side refusal.
    let (c, r_, _, d) = full(
        "litellm.exceptions.UnsupportedParamsError: litellm.UnsupportedParamsError: gpt-5 models don't support temperature=0.2. Only temperature=1 is supported. To drop unsupported params set `litellm.drop_params = True`",
    );
    assert_eq!((c, r_, d), ("client_side", "after_change", "client"));
    // Near miss: the same words as a proxy's 400 body are a response's refusal.
    let (c, _, _, d) = full(
        "openai.BadRequestError: Error code: 400 - {'error': {'message': \"litellm.UnsupportedParamsError: gpt-5 models don't support temperature=0.2. Only temperature=1 is supported. To drop unsupported params set `litellm.drop_params = True`\", 'type': 'invalid_request_error', 'param': None, 'code': '400'}}",
    );
    assert_eq!((c, d), ("invalid_request", "response"));
    // Google's RESOURCE_EXHAUSTED sentence without its status field is a rate limit.
    let (c, r_, _, _) = full("Gemini 429 Resource has been exhausted (e.g. check quota)");
    assert_eq!((c, r_), ("rate_limit", "yes"));
    // A Responses stream that ended without its terminal event is the stream's own failure.
    let (c, r_, _, d) = full(
        "OpenAI agent loop failed: OpenAI API call failed: stream finished without response.completed event",
    );
    assert_eq!((c, r_, d), ("stream_error", "yes", "stream"));
    // Near misses: prose about exhausted resources and a completed stream say no error.
    assert!(
        crate::explain(
            "The team's resources have been exhausted this sprint, see the planning doc"
        )
        .diagnosis
        .is_none()
    );
    assert!(crate::explain("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"error\":null}}").diagnosis.is_none());
}

#[test]
fn batch_v_words_that_are_not_the_cause() {
    // JavaScript's JSON.parse failing on an HTML page under a relay's 500 is no Batch input line:
    // the stated status stands. OpenAI's own Batch sentence still names the bad line.
    let (c, r_, _, d) = full(
        "Error: 500 Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON (Click \"Retry\" below)",
    );
    assert_eq!((c, r_, d), ("server_error", "yes", "response"));
    assert_eq!(
        full("This line is not parseable as valid JSON.").2,
        "batch_invalid_json_line"
    );
    // A decoder's list of the values it accepts names values, not the cause: a client that
    // refused a chunk is not a content filter (serde, Jackson).
    let (c, r_, _, d) = full(
        "ERROR app: failed to get token: failed to deserialize api response: unknown variant ``, expected one of `stop`, `length`, `tool_calls`, `content_filter`, `function_call` at line 1 column 213",
    );
    assert_eq!((c, r_, d), ("client_side", "after_change", "client"));
    let (c, _, _, _) = full(
        "com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value of type `FinishReason` from String \"\": not one of the values accepted for Enum class: [stop, length, content_filter]",
    );
    assert_eq!(c, "client_side");
    // Near miss: a filter that did act stays the content filter, list words or not.
    let (c, _, _, _) = full(
        "Error: finish_reason was content_filter: The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    );
    assert_eq!(c, "content_policy");
}

#[test]
fn batch_v_client_decoders_and_transports_by_their_own_names() {
    // Swift's DecodingError.dataCorrupted at a field of a good response: the client's decoder.
    let (c, r_, _, d) = full(
        "Could not decode the response: dataCorrupted(Swift.DecodingError.Context(codingPath: [CodingKeys(stringValue: \"status\", intValue: nil)], debugDescription: \"Cannot initialize Status from invalid String value queued\", underlyingError: nil))",
    );
    assert_eq!((c, r_, d), ("client_side", "after_change", "client"));
    // libcurl's own strings and names: a certificate not verified is not retried as is; a
    // connection never made is; an operation timeout is a timeout.
    let (c, r_, _, d) = full(
        "OpenAI curl_easy_perform() failed: SSL peer certificate or SSH remote key was not OK",
    );
    assert_eq!((c, r_, d), ("connection", "no", "client"));
    assert_eq!(full("Type: CURLE_PEER_FAILED_VERIFICATION").0, "connection");
    let (c, r_, _, _) = full("request failed: CURLE_COULDNT_CONNECT (Couldn't connect to server)");
    assert_eq!((c, r_), ("connection", "yes"));
    let (c, r_, _, _) = full("request failed: CURLE_OPERATION_TIMEDOUT after 60000 ms");
    assert_eq!((c, r_), ("timeout", "yes"));
    // Windows socket errors by number, whatever the language of their text.
    // Nothing arrived: the client reported it.
    let (c, r_, _, d) =
        full("Network Error: Io Error: 远程主机强迫关闭了一个现有的连接。 (os error 10054)");
    assert_eq!((c, r_, d), ("connection", "yes", "client"));
    let (c, r_, _, _) =
        full("ConnectionRefusedError: [WinError 10061] 由于目标计算机积极拒绝，无法连接。");
    assert_eq!((c, r_), ("connection", "yes"));
    // Near miss: a gateway's body with the same words was its answer.
    assert_eq!(
        full("{\"status\": 200, \"body\": {\"html-message\": \"Network connection lost.\"}}").3,
        "response"
    );
    // Near miss: another OS error number is no socket failure.
    let d = crate::explain("Io Error: 系统找不到指定的文件。 (os error 2)").diagnosis;
    assert!(d.is_none_or(|d| d.category.as_str() != "connection"));
}

#[test]
fn batch_v_relays_and_proxies_naming_their_own_cause() {
    // new-api's "no channel serves this model in this group", without its status or code.
    let (c, r_, _, _) = full(
        "Error invoking remote method 'app:verify': Error: 分组 default 下模型 some-model 无可用渠道（distributor） (request id: 20260101000000000000000abcdefgh)",
    );
    assert_eq!((c, r_), ("not_found", "no"));
    // A pooling proxy with no credential available names its own 503.
    let (c, r_, _, _) = full(
        "unexpected status 503 Service Unavailable: auth_unavailable: no auth available (providers=some-provider, model=m1)",
    );
    assert_eq!((c, r_), ("server_error", "yes"));
    // Near miss: a bare 503 is still read as the API's overload.
    let (c, r_, _, _) = full("unexpected status 503 Service Unavailable");
    assert_eq!((c, r_), ("overloaded", "yes"));
    // A code the log line writes out is reported when it is the cause's.
    let d = crate::explain(
        "ERROR runtime: Error from v1/chat: invalid_request_error: This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. (param: messages) (code: context_length_exceeded)",
    )
    .diagnosis
    .unwrap();
    assert_eq!(d.category.as_str(), "context_length");
    assert_eq!(d.code.as_deref(), Some("context_length_exceeded"));
    // An SSE line a relay's debug log kept as a string is an event of that stream.
    let (c, r_, _, d) = full(
        "DEBUG relay receive stream event {\"url\": \"/v1/chat/completions\", \"event\": \"data: {\\\"type\\\":\\\"error\\\",\\\"sequence_number\\\":2,\\\"error\\\":{\\\"type\\\":\\\"server_error\\\",\\\"code\\\":\\\"server_error\\\",\\\"message\\\":\\\"An error occurred while processing your request.\\\"}}\"}",
    );
    assert_eq!((c, r_, d), ("server_error", "yes", "stream"));
}

#[test]
fn batch_v2_a_chat_template_naming_the_message_order_and_a_tls_handshake_error() {
    // A local server's chat template naming the request's message order beats its 500.
    let (c, r_, rule, _) = full(
        "Error code: 500 - {'error': {'code': 500, 'message': 'Message has tool role, but there was no previous assistant message with a tool call! at row 319, column 120'}}",
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("invalid_request", "after_change", "tool_call_sequence")
    );
    let (c, r_, _, _) = full(
        "openai.InternalServerError: Error code: 500 - {'error': {'message': 'Conversation roles must alternate user/assistant/user/assistant/...', 'type': 'InternalServerError'}}",
    );
    assert_eq!((c, r_), ("invalid_request", "after_change"));
    // Near miss: a 500 that names no cause stays a server error.
    let (c, r_, _, _) =
        full("Error code: 500 - {'error': {'code': 500, 'message': 'Internal server error'}}");
    assert_eq!((c, r_), ("server_error", "yes"));
    // A TLS handshake that failed (Godot's mbedTLS) made no connection.
    let (c, r_, _, _) = full(
        "ERROR: modules/mbedtls/stream_peer_mbedtls.cpp:88 - TLS handshake error: -27648\nERROR: core/variant/variant_utility.cpp:1098 - HTTP response: Result: 5, Response Code: 0, Headers: [], Body: []",
    );
    assert_eq!((c, r_), ("connection", "yes"));
}

#[test]
fn batch_w_gateways_envelopes_closes_and_cut_bodies() {
    // A Node framework's error envelope (Fastify, Hapi/Boom): its `error` is the reason phrase of
    // the app's own status, its `message` what failed; an upstream 429 the message names wins.
    let (c, r_, _, _) = full(
        r#"Response: 500 {"statusCode":500,"error":"Internal Server Error","message":"429 Rate limit is exceeded. Try again in 20 seconds."}"#,
    );
    assert_eq!((c, r_), ("rate_limit", "yes"));
    // Near misses: a message that names no cause leaves the status; an `error` that is not a
    // reason phrase stays the message.
    assert_eq!(
        full(r#"{"statusCode":500,"error":"Internal Server Error","message":"Something broke"}"#).0,
        "server_error"
    );
    let e = r(r#"{"error":"model_not_found","message":"see docs"}"#);
    assert_eq!(s(&e.message), Some("model_not_found"));

    // A gateway's prepaid balance short of max_tokens: asking for fewer tokens succeeds.
    for text in [
        "This request requires more credits, or fewer max_tokens. You requested up to 8192 tokens, but can only afford 512.",
        r#"402 {"error":{"message":"This request requires more credits, or fewer max_tokens. You requested up to 4096 tokens, but can only afford 100.","code":402}}"#,
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            (
                "quota",
                "after_change",
                "provider_credits_short_of_max_tokens"
            ),
            "{text}"
        );
    }
    // Near miss: a balance used up stays a quota nothing but a top-up cures.
    assert_eq!(
        full(r#"{"error":{"code":"quota_not_enough","message":"user quota is not enough"}}"#).1,
        "no"
    );

    // No endpoint of the model serves a feature the request uses: change the request.
    let (c, r_, _, _) = full(
        "Error code: 404 - {'error': {'message': 'No endpoints found that support image input', 'code': 404}}",
    );
    assert_eq!((c, r_), ("not_found", "after_change"));
    // Near miss: no endpoint for the model at all is a plain 404.
    assert_eq!(
        full("Error code: 404 - {'error': {'message': 'No endpoints found for acme/model-x:free.', 'code': 404}}").1,
        "no"
    );
    // The account's data policy (or the request's provider filter) leaves no endpoint: the
    // settings or the request change, in either privacy wording OpenRouter prints.
    for text in [
        r#""message": "No endpoints found matching your data policy (Zero data retention). Configure: https://openrouter.ai/settings/privacy""#,
        "No endpoints found matching your data policy (Paid model training). Configure: https://openrouter.ai/settings/privacy",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            (
                "not_found",
                "after_change",
                "provider_no_endpoint_for_request"
            ),
            "{text}"
        );
    }

    // A code written after its type with a dot in a WebSocket close reason, its name elided.
    let (c, r_, rule, d) = full(
        "websockets.exceptions.ConnectionClosedError: received 4000 ... invalid_request_error.beta_api_shape_disabled",
    );
    assert_eq!(
        (c, r_, rule.as_str(), d),
        (
            "invalid_request",
            "after_change",
            "realtime_beta_retired",
            "realtime"
        )
    );
    // Near misses: a dotted code no record knows is not taken for one; a type no record knows
    // does not introduce one.
    assert_ne!(
        full("ConnectionClosedError: received 4000 ... invalid_request_error.some_new_thing").2,
        "realtime_beta_retired"
    );
    assert!(
        crate::explain("see acme_error.beta_api_shape_disabled in the notes")
            .diagnosis
            .is_none_or(|d| d.rule != "realtime_beta_retired")
    );

    // reqwest's decode error with nothing after it: the body broke off while it was read.
    let (c, r_, _, d) =
        full(r#"{"error":{"message":"upstream read failed: error decoding response body"}}"#);
    assert_eq!((c, r_, d), ("stream_error", "yes", "stream"));
    // Near miss: the same error with serde's detail is a client that could not read the JSON.
    assert_eq!(
        full("Error: error decoding response body: missing field `id` at line 1 column 2").0,
        "client_side"
    );

    // A client's "Connect error": no connection was made.
    let (c, r_, _, d) = full(
        "Request error: https://api.openai.com/v1/responses: Connection Failed: Connect error",
    );
    assert_eq!((c, r_, d), ("connection", "yes", "client"));
    // Near miss: Envoy's reply keeps its own record, and the 503 it answered with.
    assert_eq!(
        full("503 upstream connect error or disconnect/reset before headers. reset reason: connection failure").2,
        "upstream_reset"
    );
    assert_eq!(
        full("upstream connect error or disconnect/reset before headers. reset reason: overflow").3,
        "response"
    );

    // A transcription model's duration cap, quoted bare.
    let (c, r_, rule, _) = full(
        "audio duration 1601.25 seconds is longer than 1500 seconds which is the maximum for this model",
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("invalid_request", "after_change", "audio_invalid")
    );
}

#[test]
fn batch_w2_provider_wordings_and_token_windows() {
    // A balance refusal in an OpenAI-compatible body beats the 401 a relay sent it with.
    let (c, r_, rule, _) = full(
        r#"Error: 401: {"message":"Insufficient balance. Top up to continue.","type":"CreditsError","param":"","code":null}"#,
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("quota", "no", "provider_quota_not_enough")
    );
    // Near miss: a 401 that names the key stays authentication.
    assert_eq!(
        full(r#"Error: 401: {"message":"Incorrect API key provided.","type":"invalid_request_error"}"#).0,
        "authentication"
    );

    // Providers' own words for an unknown model, sent as a 400: the model is what is missing.
    for text in [
        r#"API request failed: status 400, body: {"code":20012,"message":"Model does not exist. Please check it carefully.","data":null}"#,
        r#"Error code: 400 - {"error":{"message":"Model Not Exist","type":"invalid_request_error","param":null,"code":"invalid_request_error"}}"#,
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("not_found", "no", "model_not_found"),
            "{text}"
        );
    }
    // Near miss: another object that does not exist, at a 400, stays the request's fault.
    assert_ne!(
        full(r#"Error code: 400 - {"error":{"message":"The file does not exist.","type":"invalid_request_error"}}"#).0,
        "not_found"
    );

    // Hugging Face's token-window checks (TGI, TEI) and the embeddings input cap, bare or as a 422.
    for text in [
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 512 `max_new_tokens`",
        r#"Error: 422 "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. Given: 9000 `inputs` tokens and 100 `max_new_tokens`""#,
        "Input validation error: `inputs` must have less than 256 tokens. Given: 300",
        "embedding request rejected: 400 maximum input length is 8192 tokens",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("context_length", "after_change", "context_length_exceeded"),
            "{text}"
        );
    }
    // Near miss: a cap on `max_new_tokens` alone is not the window.
    let e = crate::explain(
        "Error 422: {'error': 'Input validation error: `max_new_tokens` must be <= 192. Given: 200'}",
    );
    assert_ne!(
        e.diagnosis.map(|d| d.category.as_str()),
        Some("context_length")
    );
}

#[test]
fn blockquoted_refusals_idle_stream_timeouts_unserved_models_refresh_failures_and_field_words() {
    // A Markdown blockquote is the quoted text: LiteLLM's own refusal inside an app's line.
    let (c, r_, _, d) = full(
        "> API request failed: litellm.UnsupportedParamsError: gpt-5 models (including gpt-5-codex) don't support temperature=0.2. Only temperature=1 is supported.",
    );
    assert_eq!((c, r_, d), ("client_side", "after_change", "client"));
    // Near miss: a `curl -v` trace keeps its `> ` request lines out of the answer.
    let ev = r(
        "> POST /v1/chat/completions HTTP/1.1\n> Host: api.openai.com\n> Error: not this\n< HTTP/1.1 429 Too Many Requests\n",
    );
    assert_eq!(ev.status, Some(429));
    // A stream that went silent past an idle limit is a timeout the stream delivered.
    let (c, r_, _, d) = full(
        "Reconnecting... 1/5\nstream disconnected before completion: idle timeout waiting for SSE",
    );
    assert_eq!((c, r_, d), ("timeout", "yes", "stream"));
    // Near miss: the same cut with no cause named stays the stream's own failure.
    let (c, _, _, d) =
        full("stream disconnected before completion: stream closed before response.completed");
    assert_eq!((c, d), ("stream_error", "stream"));
    // A model the endpoint does not serve to this account, whatever status came with it.
    let (c, r_, _, _) = full("BadRequestError: 400 Unavailable model: gpt-5");
    assert_eq!((c, r_), ("not_found", "no"));
    // A ChatGPT sign-in whose token could not be renewed: sign in again.
    let (c, r_, _, _) = full(
        "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.",
    );
    assert_eq!((c, r_), ("authentication", "no"));
    // A body's fields written as words after its message.
    let ev = r(
        "400 — \"Invalid schema for function 'search': In context=(), schema must have a 'type' key.\" — param: tools[2].function.parameters, code: invalid_function_parameters",
    );
    assert_eq!(s(&ev.code), Some("invalid_function_parameters"));
    assert_eq!(s(&ev.param), Some("tools[2].function.parameters"));
    // Near miss: `code: 400` is a status, not an error code.
    let ev = r("request failed, param: model, code: 400");
    assert_eq!(s(&ev.code), None);
}

#[test]
fn a_failure_that_names_the_status_it_received_is_that_status() {
    // An app's own "fetch failed" followed by the status it got: a response arrived.
    let (c, r_, _, _) = full(
        "XRayPlugin: Request finished with code 400\nXRayPlugin: Background fetch failed: HTTP 400",
    );
    assert_eq!((c, r_), ("invalid_request", "after_change"));
    // Near misses: undici's bare "fetch failed" stays a connection failure, and a proxy's bare
    // number after "tunnel connection failed" is not read as the API's status.
    let (c, _, _, _) = full("TypeError: fetch failed");
    assert_eq!(c, "connection");
    let (c, _, _, _) = full("ProxyError: Tunnel connection failed: 403 Forbidden");
    assert_eq!(c, "connection");
}

#[test]
fn policy_blocks_cors_refusals_region_refusals_google_field_violations_and_quota_metrics() {
    // A resource blocked by abuse monitoring: content policy, and no retry until it is lifted.
    let (c, r_, _, _) = full(
        r#"{"error":{"code":"403","message":"Your resource has been temporarily blocked because we detected behavior that may violate our content policy."}}"#,
    );
    assert_eq!((c, r_), ("content_policy", "no"));
    // Sora 2's moderation refusals: the blocked-by-moderation wording (on inputs, or without a
    // code) and the pre-generation `sentinel_block` code, which carries only a vague message.
    for text in [
        "The request is blocked by our moderation system when checking inputs. Possible reasons: self-harm",
        "Your request was blocked by our moderation system.",
        r#"{"error": {"code": "sentinel_block", "message": "Hmmm something didn't look right with your request. Please try again later or visit https://help.openai.com if this issue persists.", "param": null, "type": "invalid_request_error"}}"#,
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("content_policy", "after_change", "content_policy_violation"),
            "{text}"
        );
    }
    // Near miss: the same vague message without the code is no safety refusal.
    assert_ne!(
        full(r#"{"error": {"message": "Hmmm something didn't look right with your request.", "type": "invalid_request_error"}}"#).0,
        "content_policy"
    );
    // Near miss: a moderation system that failed is no refusal of the content.
    assert_ne!(
        full("Error code: 500 - {'error': {'message': 'Our moderation system timed out, please retry.', 'type': 'server_error'}}").0,
        "content_policy"
    );
    // Near miss: a prompt the safety system refused is changed and sent again.
    let (c, r_, _, _) = full("400 Your request was rejected as a result of our safety system.");
    assert_eq!((c, r_), ("content_policy", "after_change"));
    // A browser's CORS refusal: the page must call the API through a server.
    let (c, r_, rule, d) = full(
        "Access to XMLHttpRequest at 'https://api.openai.com/v1/audio/transcriptions' from origin 'https://example.app' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    );
    assert_eq!(
        (c, r_, rule.as_str(), d),
        (
            "client_side",
            "after_change",
            "client_cors_blocked",
            "client"
        )
    );
    // Near miss: a status the console shows beside it is the cause.
    let (c, _, _, _) = full(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.openai.com/v1/models. (Reason: CORS header 'Access-Control-Allow-Origin' missing). Status code: 401.",
    );
    assert_eq!(c, "authentication");
    // The Gemini API's region refusal under Google's client class, whatever its 400 says.
    let (c, r_, _, _) = full(
        "google.api_core.exceptions.FailedPrecondition: 400 User location is not supported for the API use.",
    );
    assert_eq!((c, r_), ("permission", "no"));
    let ev = r(
        "google.api_core.exceptions.FailedPrecondition: 400 User location is not supported for the API use.",
    );
    assert_eq!(ev.status, Some(400));
    // Google's list of field violations: the status before the bullet, the field as the param.
    let ev = r("Exception: 400 * GenerateContentRequest.contents: contents is not specified");
    assert_eq!(ev.status, Some(400));
    let d = crate::explain("400 * EmbedContentRequest.content.parts[0].text: must not be empty")
        .diagnosis
        .expect("field violation");
    assert_eq!(
        (d.category.as_str(), d.param.as_deref()),
        ("invalid_request", Some("content.parts[0].text"))
    );
    // Near miss: a built-in class whose message opens with a number that is no error status.
    let ev = r("Exception: 200 rows written");
    assert_eq!(ev.status, None);
    // Google Cloud's sentence for a rate quota: a limit per window, not an empty balance.
    let (c, r_, _, _) = full(
        "google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for quota metric 'Online prediction requests' and limit 'Online prediction requests per minute per region' of service 'aiplatform.googleapis.com' for consumer 'project_number:123456'.",
    );
    assert_eq!((c, r_), ("rate_limit", "yes"));
    // Near miss: OpenAI's sentence for an empty balance stays quota.
    let (c, r_, _, _) = full(&alloc::format!("429 {QUOTA_MSG}"));
    assert_eq!((c, r_), ("quota", "no"));
    // A status written in prose: before the word error, or after `failure:`.
    assert_eq!(
        r("We keep getting a 503 error from the endpoint today").status,
        Some(503)
    );
    assert_eq!(
        r("Hosted tool failure: 424: could not reach the MCP server").status,
        Some(424)
    );
    // Near miss: a hint names a status it is not reporting.
    assert_eq!(
        r("If you get a 429 error, wait and try again.").status,
        None
    );
}

#[test]
fn batch_y_package_checks_parse_snippets_named_timeouts_nsdictionaries_and_log_tags() {
    // An attribute the installed package's client object lacks, and an app's own check of the
    // installed version: the package does not match the code, nothing was sent.
    let (c, r_, rule, d) =
        full("AttributeError: 'AzureOpenAI' object has no attribute 'completions'");
    assert_eq!(
        (c, r_, rule.as_str(), d),
        (
            "client_side",
            "after_change",
            "client_outdated_package",
            "client"
        )
    );
    let (c, _, _, _) =
        full("RuntimeError: This feature requires openai package version >= 1.0.0, found 0.28.1");
    assert_eq!(c, "client_side");
    // Near miss: a missing attribute on something else (an answer read as None) is no package check.
    assert!(
        crate::explain("AttributeError: 'NoneType' object has no attribute 'choices'")
            .diagnosis
            .is_none()
    );

    // JSON.parse quoting the start of a plain-text answer: the start of one record's wording.
    let (c, r_, _, _) = full(
        "Uncaught (in promise) SyntaxError: Unexpected token 'I', \"Incorrect \"... is not valid JSON",
    );
    assert_eq!((c, r_), ("authentication", "no"));
    // Near miss: a start that several records' wordings share says nothing.
    assert!(
        crate::explain("SyntaxError: Unexpected token 'T', \"The model \"... is not valid JSON")
            .diagnosis
            .is_none()
    );

    // libcurl's operation timeout, stated with its figures, beats the 500 an app answered with.
    let (c, r_, _, _) = full(
        "GuzzleHttp\\Exception\\ConnectException: cURL error 28: Operation timed out after 60000 milliseconds with 0 out of 0 bytes received (see https://curl.haxx.se/libcurl/c/libcurl-errors.html)\nHTTP/1.1 500 Internal Server Error",
    );
    assert_eq!((c, r_), ("timeout", "yes"));
    // Near miss: a bare timeout word in a server's own 500 stays the server's.
    let (c, _, _, _) = full("Error: 500 Internal Server Error: Request timed out.");
    assert_eq!(c, "server_error");

    // An error map printed as an NSDictionary (Swift, Objective-C): read like a JSON body.
    let ev = r(
        "Optional([\"error\": {\n    code = \"rate_limit_exceeded\";\n    message = \"Rate limit reached for gpt-4o in organization org-FAKE on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.\";\n    param = \"<null>\";\n    type = requests;\n}])",
    );
    assert_eq!(s(&ev.code), Some("rate_limit_exceeded"));
    assert_eq!(s(&ev.param), None);
    let (c, r_, _, _) = full(
        "[\"error\": {\n    code = \"session_expired\";\n    message = \"Your session hit the maximum duration of 30 minutes.\";\n    type = \"invalid_request_error\";\n}]",
    );
    assert_eq!((c, r_), ("invalid_request", "after_change"));
    // Near miss: assignments in source code are no error map.
    assert!(
        crate::explain("let message = \"hello\";\nvar code = \"x\";")
            .diagnosis
            .is_none()
    );

    // Bracketed log tags before the message are a log line, not a JSON array.
    let (c, r_, _, _) = full(
        "[2024-05-01 10:00:00][WARN][bot.py:88] - OpenAI error: Invalid URL (POST /v1/chat/completion)",
    );
    assert_eq!((c, r_), ("not_found", "after_change"));
    // Near misses: an array of values stays a JSON document.
    assert!(crate::explain("[\"a\", \"b\"]").diagnosis.is_none());
    assert!(
        crate::explain("[1, 2, 3] - this is what I sent")
            .diagnosis
            .is_none()
    );

    // A JSON-schema validation message names its field after ` - `.
    let d = crate::explain(
        "openai error: '512x512' is not one of ['1024x1024', '1792x1024', '1024x1792'] - 'size'",
    )
    .diagnosis
    .expect("a diagnosis");
    assert_eq!(d.param.as_deref(), Some("size"));
}

#[test]
fn batch_y2_a_client_that_refuses_the_content_type_cannot_read_the_answer() {
    // aiohttp refusing to decode an answer sent as text/plain or text/html: the client could not
    // read what it got.
    let (c, r_, rule, d) = full(
        "aiohttp.client_exceptions.ContentTypeError: 0, message='Attempt to decode JSON with unexpected mimetype: text/html', url=URL('http://localhost:8080/v1/chat/completions')",
    );
    assert_eq!(
        (c, r_, rule.as_str(), d),
        (
            "client_side",
            "after_change",
            "client_unexpected_content_type",
            "client"
        )
    );
    // Near miss: an error status stated beside it is the cause.
    let (c, _, _, _) = full(
        "HTTP/1.1 502 Bad Gateway\naiohttp.client_exceptions.ContentTypeError: 502, message='Attempt to decode JSON with unexpected mimetype: text/html', url=URL('https://example.invalid/v1/chat/completions')",
    );
    assert_eq!(c, "server_error");
    // A status right after an exception's name, without a colon, starts its message.
    let ev =
        r("Resolves: BadRequestError 400 - Unrecognized file format error when transcribing audio");
    assert_eq!(ev.status, Some(400));
    let (c, r_, _, _) = full("openai.RateLimitError 429 - You exceeded your current quota");
    assert_eq!((c, r_), ("quota", "no"));
}

#[test]
fn batch_aa_a_status_after_failed_and_the_quota_sentence_in_a_reporters_words() {
    // A client's sentence with the status after `failed:` (a plugin's connection test, a
    // gateway's relay): the status is read, and a bare 429 is a rate limit.
    assert_eq!(
        r("the connection test keeps failing with: Streaming request failed: 429.").status,
        Some(429)
    );
    let (c, r_, _, _) = full("Upstream request failed: 502 while generating the summary");
    assert_eq!((c, r_), ("server_error", "yes"));
    // Near misses: a count or a success code after `failed:` is no error status.
    assert_eq!(r("Sync failed: 100 items could not be copied").status, None);
    assert_eq!(r("Health check failed: 200 OK but empty body").status, None);
    // The insufficient-quota cause told in the reporter's words beside a 429: the account's
    // quota, not a rate.
    let (c, r_, _, _) = full(
        "I'm getting a 429 error with my OpenAI API key, indicating that my usage has exceeded the usage quota",
    );
    assert_eq!((c, r_), ("quota", "no"));
    let (c, r_, _, _) = full("Error 429: looks like I exceeded my current quota on the new key");
    assert_eq!((c, r_), ("quota", "no"));
    // Near miss: a rate quota counted per minute stays a rate limit.
    let (c, r_, _, _) = full(
        "429 Quota exceeded for quota metric 'Generate Content API requests per minute' and limit 'GenerateContent request limit per minute for a region' of service 'generativelanguage.googleapis.com'",
    );
    assert_eq!((c, r_), ("rate_limit", "yes"));
}

#[test]
fn batch_aa_a_servers_message_only_reply_and_anthropics_body_with_its_request_id_are_responses() {
    // A server's whole reply as one `message` (a wrapper's, AWS API Gateway's): its body, so a
    // response arrived, even when the message reports a timeout further on.
    for text in [
        r#"{"message":"ChatGPT timed out waiting for response"}"#,
        r#"{"message": "Endpoint request timed out"}"#,
    ] {
        let (c, r_, _, d) = full(text);
        assert_eq!((c, r_, d), ("timeout", "yes", "response"), "{text}");
    }
    // Near miss: a Node system error as JSON names an errno: no response came.
    let (c, _, _, d) = full(r#"{"code":"ETIMEDOUT","message":"connect ETIMEDOUT 10.0.0.1:443"}"#);
    assert_eq!((c, d), ("connection", "client"));
    // Anthropic's HTTP error body names its request at the top level; a stream's error event,
    // outside SSE framing too, does not.
    let (c, _, _, d) = full(
        r#"HttpException: {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."},"request_id":"req_011FAKE"}"#,
    );
    assert_eq!((c, d), ("quota", "response"));
    let (c, _, _, d) = full(
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"},"request_id":"req_011FAKE2"}"#,
    );
    assert_eq!((c, d), ("rate_limit", "response"));
    let (_, _, _, d) =
        full(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
    assert_eq!(d, "stream");
}

#[test]
fn presentation_layers_come_off_before_reading() {
    let cat = |t: &str| crate::explain(t).diagnosis.map(|d| d.category.as_str());
    // A coloured status line (a terminal logger's red), read as the same line uncoloured.
    assert_eq!(
        cat("\x1b[31m503 该模型遇到官方限速,请稍后重试\x1b[0m"),
        Some("rate_limit")
    );
    // A structured log record whose message holds the paste, over two lines.
    let record = r#"{"level":"error","ts":"2026-12-07T10:31:02Z","msg":"upstream said:\n429 当前分组上游负载已饱和，请稍后再试"}"#;
    assert_eq!(cat(record), Some("rate_limit"));
    // journald's head before every line of a successful body: no error, as without it.
    let journal = "Dec 07 10:31:02 web-01 bot[2417]: {\nDec 07 10:31:02 web-01 bot[2417]:   \"id\": \"resp_fake\",\nDec 07 10:31:02 web-01 bot[2417]:   \"status\": \"completed\",\nDec 07 10:31:02 web-01 bot[2417]:   \"error\": null\nDec 07 10:31:02 web-01 bot[2417]: }";
    assert_eq!(cat(journal), None);
    // A fenced body, and one below prose that names no error: no error either.
    assert_eq!(
        cat(
            "```json\n{\"id\":\"resp_fake\",\"object\":\"response\",\"status\":\"completed\",\"error\":null}\n```"
        ),
        None
    );
    let ok = "Voici la réponse :\n{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"choices\":[],\"error\":null}\nMerci.";
    assert_eq!(cat(ok), None);
    // Prose that names a failure around such a body is still read.
    let named = "The request failed with a timeout, the response was:\n{\"id\":\"chatcmpl-fake\",\"choices\":[]}";
    assert!(cat(named).is_some());
    // A status that opens a line behind a logger's head or below prose, as at the very start.
    let head = "2026-12-07 10:31:02.123 WARN relay: 429 上游负载已饱和，请稍后再试";
    assert_eq!(cat(head), Some("rate_limit"));
    let below = "Depuis hier :\n401 Invalid model key or Incorrect local model configuration.";
    assert_eq!(cat(below), Some("authentication"));
    // A status line behind a logger's head, with the body the server sent.
    let dump = "2026-12-07 10:31:02,123 ERROR app.http: HTTP/2 503\ncontent-type: application/json\n\n{\"error\":{\"message\":\"Slow Down\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
    assert_eq!(cat(dump), Some("overloaded"));
    // A body cut at the end of a line inside its message, with the reporter's words below.
    let cut = "Error code: 500 - {'error': {'code': 500, 'message': 'Message has tool role, but there was no previous assistant message with a tool call! at row 3\nAny idea?";
    assert_eq!(cat(cut), Some("invalid_request"));
    // Near miss: Spring Boot's error body has a timestamp and a message but no level; it is a
    // body, not a log record, and keeps its status.
    let spring = r#"{"timestamp":"2026-12-07T10:31:02.123+00:00","status":429,"error":"Too Many Requests","message":"No message available","path":"/v1/chat/completions"}"#;
    let d = crate::explain(spring).diagnosis.expect("an error");
    assert_eq!((d.category.as_str(), d.status), ("rate_limit", Some(429)));
    // Code padded to a terminal's width is still code, not an error.
    let padded = "from openai import OpenAI   \n\nclient = OpenAI()   \ntry:   \n    models = client.models.list()   \nexcept openai.RateLimitError:   \n    time.sleep(5)   ";
    assert_eq!(cat(padded), None);
    // Near misses: an HTML page keeps its entities; one bracketed tag on one line is the line's.
    let page =
        "<html><head><title>502 Bad Gateway</title></head><body>&quot;upstream&quot;</body></html>";
    assert_eq!(cat(page), Some("server_error"));
    assert_eq!(cat("[ERROR] 429 [object Object]"), Some("rate_limit"));
}

#[test]
fn batch_ab_providers_model_refusals_busy_servers_window_words_and_sdk_argument_checks() {
    // A model the provider does not serve, in its own code, type or sentence: not_found, no.
    for text in [
        r#"400 {"error":{"message":"Unable to access non-serverless model meta-llama/Fake-70B. Please start a dedicated endpoint.","type":"invalid_request_error","param":null,"code":"model_not_available"}}"#,
        r#"{"error":{"message":"Invalid model 'sonar-huge'. Permitted models can be found in the documentation.","type":"invalid_model","code":400}}"#,
        "Request failed: Invalid model 'pplx-70b-online'. Permitted models can be found in the documentation at https://docs.perplexity.ai/models.",
        "Error: 404 No models loaded. Please load a model first.",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("not_found", "no", "model_not_found"),
            "{text}"
        );
    }
    // Near misses: OpenAI's Realtime code `invalid_model` (a model the mode does not support) stays
    // a request to change, and an app's "Invalid model key" stays a key refusal.
    let (c, _, _, _) = full(
        r#"{"type":"error","error":{"type":"invalid_request_error","code":"invalid_model","message":"Model \"gpt-x-transcribe\" is not supported in transcription mode."}}"#,
    );
    assert_eq!(c, "invalid_request");
    let (c, _, _, _) = full("401 Invalid model key or Incorrect local model configuration.");
    assert_eq!(c, "authentication");
    // A service that says it is busy, in English or Chinese, alone: capacity that passes.
    for text in [
        "The server is busy. Please try again later.",
        "Sorry, the server is currently busy, please retry in a minute",
        "服务器繁忙，请稍后再试。",
    ] {
        let (c, r_, _, _) = full(text);
        assert_eq!((c, r_), ("overloaded", "yes"), "{text}");
    }
    // Near miss: a question about whether a server is busy is no error.
    assert!(
        crate::explain("Is the server busy on weekends? Asking for a schedule.")
            .diagnosis
            .is_none()
    );
    // Moonshot's 429 type, and its window named by the abbreviation before "rate limit".
    let d = crate::explain(
        r#"429 {"error":{"type":"rate_limit_reached_error","message":"Your account fake request reached organization RPM rate limit, current: 7, limit: 3"}}"#,
    )
    .diagnosis
    .unwrap();
    assert_eq!(
        (d.category.as_str(), d.retry.decision.as_str()),
        ("rate_limit", "yes")
    );
    assert_eq!(
        d.rate_limit.and_then(|i| i.kind).map(|k| k.as_str()),
        Some("RPM")
    );
    // An SDK's own argument check, raised before any request: client_side.
    all_client_side(
        &[
            "qianfan.errors.InvalidArgumentError: The provided model `ERNIE-Fake-8K` is not in the list of supported models.",
            "InvalidArgumentError: Invalid argument for parameter maxRetries: maxRetries must be >= 0",
        ],
        "client_argument_check_failed",
    );
    // Near miss: a status stated beside the class is the cause (an answer arrived).
    let (c, _, _, d) = full("InvalidArgumentError: Error code: 429 - rate limited");
    assert_eq!((c, d), ("rate_limit", "response"));
}

#[test]
fn batch_ac_runner_crashes_window_words_route_words_per_minute_codes_and_dotnet_status_lines() {
    // Ollama's model runner crashed: a failure on the server's side, retried.
    for text in [
        "ollama._types.ResponseError: llama runner process no longer running: -1 ",
        "Error: 500 Internal Server Error: llama runner process has terminated: exit status 2",
        "\"model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details\"",
    ] {
        let (c, r_, _, _) = full(text);
        assert_eq!((c, r_), ("server_error", "yes"), "{text}");
    }
    // Near miss: the runner's own start line is no error.
    assert!(crate::explain(
        "time=2026-02-05T12:40:01.000+01:00 level=INFO source=server.go:630 msg=\"llama runner started in 3.21 seconds\""
    )
    .diagnosis
    .is_none());
    // llama-cpp-python's context window, as its server logs it and as its class raises it.
    for text in [
        "[llama-cpp] | Exception: Requested tokens (2285) exceed context window of 2048",
        "ValueError: Requested tokens (1130) exceed context window of 512",
    ] {
        let (c, r_, _, _) = full(text);
        assert_eq!((c, r_), ("context_length", "after_change"), "{text}");
    }
    // Near miss: a load line naming the window is no error.
    assert!(
        crate::explain("llama_new_context_with_model: n_ctx      = 2048")
            .diagnosis
            .is_none()
    );
    // xAI's 404 for a path it does not serve: the URL must change.
    for text in [
        "litellm.NotFoundError: NotFoundError: XaiException - Error code: 404 - {'code': 'Some requested entity was not found', 'error': 'No handler found on route. Please double check your URL and consult https://api.x.ai/docs for more information.'}",
        r#"{"code":"Some requested entity was not found","error":"No handler found on route. Please double check your URL and consult https://api.x.ai/docs for more information."}"#,
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("not_found", "after_change", "route_not_found"),
            "{text}"
        );
    }
    // Near miss: a 404 for a model that does not exist stays a model to change, not a URL.
    let (c, r_, _, _) = full(
        "Error code: 404 - {'code': 'Some requested entity was not found', 'error': 'The model grok-9 does not exist or your team does not have access to it.'}",
    );
    assert_eq!((c, r_), ("not_found", "no"));
    // Cerebras' per-minute limits: its code names a quota, the window is a minute; the longer
    // wording beats the context window's "too many tokens" inside it.
    for text in [
        r#"System.Exception: {"message":"Requests per minute limit exceeded - too many requests sent.","type":"too_many_requests_error","param":"quota","code":"request_quota_exceeded"}"#,
        "429 \"Tokens per minute limit exceeded - too many tokens processed.\"",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("rate_limit", "yes", "rate_limit_quota_per_window"),
            "{text}"
        );
    }
    // Near miss: another code that names a used-up quota stays the quota.
    let (c, _, _, _) = full(
        r#"{"error":{"code":"monthly_quota_exceeded","message":"Your plan's monthly allowance is used up."}}"#,
    );
    assert_eq!(c, "quota");
    // .NET's `EnsureSuccessStatusCode`: `HttpRequestException` stating the status it got is an
    // answer, read by its status.
    for (text, want) in [
        (
            "Unhandled exception. System.Net.Http.HttpRequestException: Response status code does not indicate success: 404 (Not Found).",
            ("not_found", "no"),
        ),
        (
            "System.Net.Http.HttpRequestException: Response status code does not indicate success: 429 (Too Many Requests).",
            ("rate_limit", "yes"),
        ),
        (
            "System.Net.Http.HttpRequestException: Response status code does not indicate success: 401 (Unauthorized).",
            ("authentication", "no"),
        ),
    ] {
        let (c, r_, _, d) = full(text);
        assert_eq!(((c, r_), d), (want, "response"), "{text}");
    }
    // Near misses: the same class for a connection never made stays a connection.
    for text in [
        "System.Net.Http.HttpRequestException: No such host is known. (api.openai.com:443)",
        "System.Net.Http.HttpRequestException: An error occurred while sending the request.",
    ] {
        let (c, _, _, _) = full(text);
        assert_eq!(c, "connection", "{text}");
    }
}

#[test]
fn batch_ac_a_go_realtime_maps_event_id_and_a_status_before_a_body_after_a_label() {
    // A Realtime error event printed as a Go map holds `event_id` between `code` and `message`:
    // the code ends before it.
    for (text, code, param) in [
        (
            "2026-08-27T04:09:02.980Z [WARN] {a37e1331} [RT] API error: map[code:unknown_parameter event_id:<nil> message:Unknown parameter: 'session.input_audio_format'. param:session.input_audio_format type:invalid_request_error]",
            "unknown_parameter",
            "session.input_audio_format",
        ),
        (
            "[RT] API error: map[code:invalid_value event_id:evt_FAKE123 message:Invalid value: 'ash2'. Supported values are: 'alloy' and 'ash'. param:session.voice type:invalid_request_error]",
            "invalid_value",
            "session.voice",
        ),
    ] {
        let d = crate::explain(text).diagnosis.expect(text);
        assert_eq!(
            (d.code.as_deref(), d.param.as_deref(), d.category.as_str()),
            (Some(code), Some(param), "invalid_request"),
            "{text}"
        );
    }
    // Near miss: a map without `event_id` reads as before.
    let d = crate::explain("Error from API: map[code:model_not_found message:The model `gpt-9` does not exist param:<nil> type:invalid_request_error]")
        .diagnosis
        .unwrap();
    assert_eq!(
        (d.code.as_deref(), d.category.as_str()),
        (Some("model_not_found"), "not_found")
    );
    // A status right before an Anthropic-shaped body, after a client's label and its colon or in
    // parentheses: a response carried it, not a stream's error event.
    for text in [
        r#"Failed to process message with Claude: Error: Claude API error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your organization's rate limit of 10,000 input tokens per minute "#,
        r#"API Error (429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})"#,
    ] {
        let (c, r_, _, d) = full(text);
        assert_eq!((c, r_, d), ("rate_limit", "yes", "response"), "{text}");
    }
    // Near misses: the same shape as an SSE event, or alone, stays a stream's error event.
    for text in [
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ] {
        let (_, _, _, d) = full(text);
        assert_eq!(d, "stream", "{text}");
    }
}

#[test]
fn hard_wraps_come_off_before_reading() {
    let cat = |t: &str| crate::explain(t).diagnosis.map(|d| d.category.as_str());
    let strip = super::present::strip;
    // Every line longer than `width` broken at its last space before that column.
    let wrap = |text: &str, width: usize| {
        let mut out = Vec::new();
        for line in text.split('\n') {
            let mut rest = line;
            while rest.chars().count() > width {
                let cut = rest
                    .char_indices()
                    .nth(width)
                    .map_or(rest.len(), |(i, _)| i);
                let Some(sp) = rest[..cut].rfind(' ').filter(|&sp| sp > 0) else {
                    break;
                };
                out.push(&rest[..sp]);
                rest = &rest[sp + 1..];
            }
            out.push(rest);
        }
        out.join("\n")
    };
    // A v0 log field's quoted message broken inside, at 80 and at 100 columns, reads as the line
    // it was.
    let v0 = "WARNING:openai:error_code=None error_message=\"The model's maximum context length is 16385 tokens. However, you requested 17020 tokens (15020 in the messages, 2000 in the completion). Please shorten the messages.\" error_param=None error_type=invalid_request_error message='OpenAI API error received' stream_error=False";
    assert_eq!(cat(v0), Some("context_length"));
    for width in [80, 100] {
        let wrapped = wrap(v0, width);
        assert!(wrapped.lines().count() > 2);
        assert_eq!(strip(&wrapped).as_deref(), Some(v0));
    }
    // A status torn from its word at another width (an exception's `HTTP` / `403`).
    let torn = "Exception in thread \"worker-2\" com.example.llm.client.UpstreamCallException: request to the model gateway failed with HTTP\n403 Forbidden: the project key is not allowed to use this model family\n\tat com.example.llm.client.Gateway.send(Gateway.java:88)";
    let joined = torn.replacen("HTTP\n403", "HTTP 403", 1);
    assert_eq!(
        strip(torn).as_deref(),
        Some(joined.as_str()),
        "the wrap comes off, the stack frame stays on its line"
    );
    // A transport failure's wording split over two lines of prose.
    let prose = "We run the bot behind a corporate proxy and every call to the chat endpoint fails, reason: socket\nhang up (it worked last week with the same settings).";
    assert_eq!(cat(prose), Some("connection"));

    // Near misses: short lines that are no wrap are read as they are.
    // A table whose rows are all as wide.
    let table = "| model                     | status | message                                  |\n| gpt-4o-mini               | 429    | Rate limit reached for requests per min  |\n| text-embedding-3-small    | 200    | ok                                       |";
    assert_eq!(strip(table), None);
    let ruler = "+---------------------------------------------------------------------+\n| status: 500 Internal Server Error from the upstream model provider  |\n+---------------------------------------------------------------------+";
    assert_eq!(strip(ruler), None);
    // A stack trace: frames are indented, a log's next record opens with its head.
    let trace = "openai.APIConnectionError: Connection error. The request could not reach the server at all\n  File \"/srv/app/venv/lib/python3.12/site-packages/httpx/_transports/default.py\", line 69\n    yield\n2026-12-07 10:31:02,123 ERROR app.worker: retrying the request after the connection error";
    assert_eq!(strip(trace), None);
    // A line that ends well inside the width, and the next one fitting after it, stay two lines.
    let short = "The service answered with an error this morning and again this afternoon.\nNo idea why.\nThe body it sent was an empty object, with nothing in it about what went wrong there.";
    assert_eq!(strip(short), None);
    // The longest line closing a sentence before one that opens another, or closing a document,
    // ends where its writer ended it.
    let sentences = "Error: The upstream rejected the request because the organization has no credits left.\nContact your administrator to add a payment method for the project.";
    assert_eq!(strip(sentences), None);
    let document = "Here is what came back:\n{\"error\":{\"message\":\"Service unavailable, try later\",\"type\":\"server_error\"}}\nThanks for any help.";
    assert_eq!(strip(document), None);
}

#[test]
fn source_code_that_handles_a_class_names_no_failure() {
    // A retry loop, a Python `isinstance` check and a Kotlin handler: each names a class it would
    // catch, none reports one.
    for code in [
        "for attempt in range(3):\n    try:\n        resp = client.chat.completions.create(model=\"gpt-4o\", messages=msgs)\n        break\n    except openai.APITimeoutError:\n        time.sleep(2)\n",
        "try:\n    r = client.chat.completions.create(model=\"gpt-4o\", messages=m)\nexcept Exception as e:\n    if isinstance(e, openai.RateLimitError):\n        time.sleep(5)\n",
        "try {\n  val r = client.chat(req)\n} catch (e: RateLimitError) {\n  delay(5000)\n}\n",
        // Ruby: a `rescue` clause, one listing two classes, one after a joined hard wrap.
        "begin\n  x\nrescue Faraday::TimeoutError => e\n  retry\nend\n",
        "def ask\n  client.chat(parameters: params)\nrescue Net::ReadTimeout, Faraday::TimeoutError\n  sleep 2\n  retry\nend\n",
        "begin\n  response = client.chat(parameters: { model: \"gpt-4o\", messages: msgs })\nrescue Faraday::TimeoutError => e\n  retries += 1\n  retry if retries < 3\nend\n",
    ] {
        assert!(crate::explain(code).diagnosis.is_none(), "{code}");
    }
    // A Ruby class raised, not rescued, still counts (`… rescued` in prose is not the clause).
    let (c, _, _, _) = full(
        "Faraday::TimeoutError: Net::ReadTimeout with #<TCPSocket:(closed)>\n  from /app/lib/client.rb:12:in `chat'\n",
    );
    assert_eq!(c, "timeout");
    let (c, _, _, _) =
        full("the job rescued it, but I saw Faraday::TooManyRequestsError in the log");
    assert_eq!(c, "rate_limit");
    // Near misses: the failure itself, printed below such code or at the end of a traceback
    // whose frames show the handler, still counts.
    let (c, r_, _, _) = full(
        "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\n    except openai.APITimeoutError:\n  File \"app.py\", line 9, in <module>\n    resp = client.chat.completions.create(model=\"gpt-4o\", messages=m)\nopenai.APITimeoutError: Request timed out.\n",
    );
    assert_eq!((c, r_), ("timeout", "yes"));
    let (c, r_, _, _) = full(
        "try {\n  const r = await client.chat.completions.create(req);\n} catch (e) {\n  console.error(e);\n}\n\nRateLimitError: 429 You exceeded your current quota, please check your plan and billing details.\n",
    );
    assert_eq!((c, r_), ("quota", "no"));
    let (c, _, _, _) = full(
        "I get this:\nopenai.RateLimitError: Error code: 429 - {\"error\": {\"message\": \"Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s.\", \"type\": \"tokens\", \"param\": null, \"code\": \"rate_limit_exceeded\"}}\n\nmy code:\nexcept openai.RateLimitError:\n    time.sleep(2)\n",
    );
    assert_eq!(c, "rate_limit");
}

#[test]
fn batch_ae_requests_over_the_whole_limit_alternation_unreachable_servers_and_chinese_labels() {
    // One request that asks for more than the whole limit never fits: the request must shrink,
    // whether the count is exact or Groq's estimate with a tilde.
    for text in [
        "Error code: 429 - {'error': {'message': 'Rate limit reached for model `llama3-70b-8192` in organization `org_01x` on tokens per minute (TPM): Limit 7000, Used 0, Requested ~12903. Please try again in 50.597142857s.', 'type': 'tokens', 'code': 'rate_limit_exceeded'}}",
        "429 Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 0, Requested 45000. Please try again in 90s.",
    ] {
        let (c, r_, _, _) = full(text);
        assert_eq!((c, r_), ("rate_limit", "after_change"), "{text}");
    }
    // Near misses: a window already spent by earlier requests (used over the limit, this request
    // small) resets; a request that fits waits too.
    for text in [
        "Error: Failed after 2 attempts. Last error: Rate limit reached for model `llama3-70b-8192` in organization `org_01x` on : Limit 500000, Used 500370, Requested 252. Please try again in 1m47.5854s.",
        "429 Rate limit reached for model `llama-3.3-70b-versatile` on tokens per day (TPD): Limit 100000, Used 97050, Requested 3619. Please try again in 9m38.016s.",
    ] {
        let (c, r_, _, _) = full(text);
        assert_eq!((c, r_), ("rate_limit", "yes"), "{text}");
    }
    // Perplexity's turn-order refusals, the current wording and the earlier one.
    for text in [
        "After the (optional) system message(s), user or tool message(s) should alternate with assistant message(s).",
        "Error: 400 After the (optional) system message(s), user and assistant roles should be alternating.",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            (
                "invalid_request",
                "after_change",
                "chat_template_message_order"
            ),
            "{text}"
        );
    }
    // A server the client could not reach at all.
    for text in [
        "Ollama at http://localhost:11434 could not be reached while requesting a response with model \"llama3\". Check that the provider is running and the configured base URL is correct.",
        "Error: The server at http://127.0.0.1:1234 could not be reached.",
    ] {
        let (c, r_, _, _) = full(text);
        assert_eq!((c, r_), ("connection", "yes"), "{text}");
    }
    // Chinese wordings of a few ideographs say as much as a long English one in prose, and an app's
    // Chinese label with its colon states the status the answer came with.
    let d = crate::explain("使用glm模型连接时提示：400 模型不存在，请检查模型代码。")
        .diagnosis
        .expect("zhipu");
    assert_eq!(
        (d.category.as_str(), d.retry.decision.as_str(), d.status),
        ("not_found", "no", Some(400))
    );
    let d = crate::explain("调用接口报错：429 余额不足")
        .diagnosis
        .expect("label");
    assert_eq!((d.category.as_str(), d.status), ("quota", Some(429)));
    // Near misses: a count after a label without its colon is no status, and a short everyday
    // phrase is no error.
    assert!(crate::explain("今天错误 500 次").diagnosis.is_none());
    assert!(crate::explain("模型很好用").diagnosis.is_none());
}

#[test]
fn batch_af_agent_max_turns_phone_verification_and_tool_choice_outside_tools() {
    // An agent runner's own turn limit: nothing the API said, the client stopped the run.
    all_client_side(
        &[
            "agents.exceptions.MaxTurnsExceeded: Max turns (5) exceeded",
            "MaxTurnsExceededError: Max turns (25) exceeded\n    at Runner.run (node_modules/@openai/agents-core/dist/run.mjs:412:23)",
            "❌ Streaming error: Max turns (10) exceeded",
        ],
        "agent_runner_max_turns",
    );
    // Near miss: a setting that names the limit is no error.
    assert!(
        crate::explain("Runner.run(agent, input, max_turns=10)")
            .diagnosis
            .is_none()
    );
    // An account that must verify a phone number: by its code or type, whatever wraps it.
    for text in [
        r#"{"error":{"message":"You must verify a phone number before continuing.","type":"phone_number_required","param":null,"code":"phone_number_required"}}"#,
        r#"{"error": {"message": "API request failed: 400 - {\n  \"error\": {\n    \"message\": \"You must verify a phone number before continuing.\",\n    \"type\": \"phone_number_required\",\n    \"param\": null,\n    \"code\": \"phone_number_required\"\n  }\n}", "type": "server_error", "param": null, "code": null}}"#,
        "Error: 400 You must verify your phone number before continuing.",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("permission", "no", "phone_verification_required"),
            "{text}"
        );
    }
    // A forced tool the request's `tools` does not hold: the request must change, it is no
    // missing resource.
    for text in [
        "Tool choice 'image_generation' not found in 'tools' parameter.",
        r#"Error code: 400 - {'error': {'message': "Tool choice 'web_search_preview' not found in 'tools' parameter.", 'type': 'invalid_request_error', 'param': 'tool_choice', 'code': None}}"#,
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            (
                "invalid_request",
                "after_change",
                "tool_choice_not_in_tools"
            ),
            "{text}"
        );
    }
    // Near miss: a plain "not found" stays a missing resource.
    let (c, _, _, _) = full("404 Not Found: tool 'image_generation' not found");
    assert_eq!(c, "not_found");
}

#[test]
fn a_built_in_error_raised_inside_the_openai_library_is_the_clients() {
    // openai/openai-node#1588: an object passed where a vector store ID goes.
    let node = "TypeError: Cannot convert object to primitive value\n    at node_modules\\openai\\src\\internal\\utils\\path.ts:29:69\n    at Array.reduce (<anonymous>)\n    at path (node_modules\\openai\\src\\internal\\utils\\path.ts:24:26)\n    at OpenaiService.list (src\\app\\openai\\openai.service.ts:53:53)";
    // openai-python's `_files.py` refusing a path given as a string (its own RuntimeError).
    let python = "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n    client.files.create(file=\"data.jsonl\", purpose=\"batch\")\n  File \"/usr/lib/python3.11/site-packages/openai/_files.py\", line 62, in _transform_file\n    raise RuntimeError(\nRuntimeError: Expected entry at `file` to be bytes, an io.IOBase instance, PathLike or a tuple but received <class 'str'> instead.";
    for text in [node, python] {
        let (category, retry, rule) = cat(text);
        assert_eq!(
            (category, retry, rule.as_str()),
            ("client_side", "after_change", "client_library_raised"),
            "{text}"
        );
    }
    // Near misses: the innermost frame is the program's own (the library is further out), the
    // error is the SDK's own class for an API answer, or a network failure is named beside it.
    let own_frame = "TypeError: Cannot read properties of undefined (reading 'content')\n    at reply (src/bot.ts:40:31)\n    at node_modules/openai/core.mjs:100:2";
    assert!(crate::explain(own_frame).diagnosis.is_none(), "{own_frame}");
    let own_python = "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/site-packages/openai/_base_client.py\", line 9, in request\n    return self._process()\n  File \"/app/main.py\", line 12, in handle\n    text = resp.choices[0].message.content.strip()\nAttributeError: 'NoneType' object has no attribute 'strip'";
    assert!(
        crate::explain(own_python).diagnosis.is_none(),
        "{own_python}"
    );
    let (category, _, _) = cat(
        "TypeError: fetch failed\n    at node_modules/openai/core.mjs:100:2\n  [cause]: Error: connect ECONNREFUSED 127.0.0.1:443",
    );
    assert_eq!(category, "connection");
    let (category, _, _) = cat(
        "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/site-packages/openai/_base_client.py\", line 1050, in request\n    raise self._make_status_error_from_response(err.response) from None\nopenai.RateLimitError: Error code: 429 - {\"error\": {\"message\": \"Rate limit reached\", \"type\": \"requests\", \"code\": \"rate_limit_exceeded\"}}",
    );
    assert_eq!(category, "rate_limit");
}

#[test]
fn batch_ao_alamofire_status_graph_recursion_limit_and_rate_limit_label() {
    // Swift's Alamofire prints the refused status inside its enum case.
    let text = "responseValidationFailed(reason: Alamofire.AFError.ResponseValidationFailureReason.unacceptableStatusCode(code: 401))";
    assert_eq!(r(text).status, Some(401));
    assert_eq!(cat(text).0, "authentication");
    // Near miss: the word alone inside another identifier states no status.
    assert_eq!(r("lastStatusCode(code: x) 401").status, None);

    // LangGraph's step limit is the runner's own stop, like MaxTurnsExceeded.
    let text = "langgraph.errors.GraphRecursionError: Recursion limit of 25 reached without hitting a stop condition. You can increase the limit by setting the recursion_limit config key.";
    assert_eq!(
        cat(text),
        (
            "client_side",
            "after_change",
            String::from("agent_runner_max_turns")
        )
    );
    // Near miss: Python's own RecursionError in a program is not an agent runner's limit.
    assert!(
        crate::explain(
            "RecursionError: maximum recursion depth exceeded while calling a Python object"
        )
        .diagnosis
        .is_none_or(|d| d.rule != "agent_runner_max_turns")
    );

    // An app's own label for a 429.
    assert_eq!(cat("[agent] OpenAI threw rate limit error").0, "rate_limit");
}

#[test]
fn status_number_wrapped_to_next_line() {
    // Weaviate's 500 over Azure OpenAI's 400, hard-wrapped after `failed with status:`.
    let e = r(
        "UnexpectedStatusCodeError: Object was not added! Unexpected status code: 500, with response body: \n\
{'error': [{'message': 'update vector: connection to: Azure OpenAI API failed with status:\n\
400 request-id: 0c80d879-09c2-44b1-84ac-2bd4052efb8b\n\
error: This model does not support specifying dimensions.'}]}",
    );
    assert_eq!(e.status, Some(400));
    // A weak prefix at a line's end does not take the next line's number.
    let e = r("Something went wrong, error\n404 items were skipped");
    assert_ne!(e.status, Some(404));
}

#[test]
fn dotnet_parameter_line_after_head() {
    // openai-dotnet's ClientResultException text without a stack trace: the `Parameter:` line
    // is the param and the sentence after it the message, also when the code is empty.
    for text in [
        "System.ClientModel.ClientResultException: HTTP 400 (invalid_request_error: unsupported_parameter)\nParameter: max_tokens\n\nUnsupported parameter: 'max_tokens' is not supported with this model.",
        "System.ClientModel.ClientResultException: 'HTTP 400 (invalid_request_error: )\nParameter: messages.[0].content\nInvalid value for 'content': expected a string, got null.'",
    ] {
        let e = r(text);
        assert_eq!(e.status, Some(400));
        assert_eq!(s(&e.error_type), Some("invalid_request_error"));
        assert!(e.param.is_some(), "{text}");
        assert!(!e.message.unwrap().starts_with("Parameter"), "{text}");
    }
    // A message on the head's own line stays the message.
    let e = r(
        "System.ClientModel.ClientResultException: HTTP 400 (Bad Request): The model does not exist.",
    );
    assert_eq!(e.param, None);
    assert_eq!(s(&e.message), Some("The model does not exist."));
}

/// azure-core's `(Code) message` head gives the code when the rules know it and the parenthesis
/// opens a line or follows `: `; prose in parentheses, an unknown word, or a known code in the
/// middle of a sentence gives none (batch AU, session 19).
#[test]
fn azure_core_paren_code() {
    let e = r(
        "azure.core.exceptions.ClientAuthenticationError: (PermissionDenied) The principal XXXX lacks the required data action Microsoft.CognitiveServices/accounts/AIServices/agents/read to perform this operation.",
    );
    assert_eq!(s(&e.code), Some("PermissionDenied"));
    let e = r("(DeploymentNotFound) The API deployment for this resource does not exist.");
    assert_eq!(s(&e.code), Some("DeploymentNotFound"));
    for text in [
        "Error: (see the logs) something went wrong",
        "Error: (SomethingUnheardOf) something went wrong",
        "the call failed (PermissionDenied) twice",
    ] {
        assert_eq!(r(text).code, None, "{text}");
    }
}

/// A Node `util.inspect` dump cut above its head: a `key: '…'` line whose single-quoted string
/// holds JSON with escaped quotes is read once the literal's escapes are undone, not cut at the
/// first escaped quote (batch AV, session 20).
#[test]
fn inspect_string_with_escaped_json_after_a_cut_head() {
    let e = r(
        "  responseBody: '{\"error\":\"model \\\\\"llama-x\\\\\" not found, try pulling it first\"}',\n  isRetryable: false,\n}",
    );
    assert_eq!(
        s(&e.message),
        Some("model \"llama-x\" not found, try pulling it first")
    );
    // A single-quoted JSON string without escaped quotes reads as before.
    let e = r("  responseBody: '{\"error\":{\"message\":\"plain\"}}',\n}");
    assert_eq!(s(&e.message), Some("plain"));
}

#[test]
fn batch_aw_finish_reasons_stream_ends_and_php_factories() {
    // A choice that stopped at the output limit or at the filter, as a client prints or quotes
    // it: the reason is the cause.
    for text in [
        "`\"finish_reason\":\"length\"`",
        "responses truncating with `finish_reason`: 'length' despite not being at the token limit",
        "Choice(finish_reason='length', index=0, logprobs=None)",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("context_length", "after_change", "length_limit_reached"),
            "{text}"
        );
    }
    assert_eq!(
        full("{\"object\": \"chat.completion\", \"choices\": [{\"finish_reason\": \"content_filter\", \"index\": 0,")
            .0,
        "content_policy"
    );
    // Near misses: a normal end, a comparison in code and a longer word are no finding.
    for text in [
        "\"finish_reason\":\"stop\"",
        "if choice.finish_reason == \"length\":",
        "finish_reason: lengthy",
    ] {
        assert!(crate::explain(text).diagnosis.is_none(), "{text}");
    }
    // A client's own check that the stream closed before its terminal marker.
    let (c, r_, rule, _) = full(
        "Error: OpenAI stream ended prematurely without [DONE] sentinel (retries exhausted or partial output already emitted)",
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("stream_error", "yes", "stream_ended_early")
    );
    // openai-php's response factory refusing a null field: the SDK could not build its object.
    let (c, r_, _, _) = full(
        "OpenAI\\Responses\\FineTuning\\RetrieveJobResponseHyperparameters::from(): Argument #1 ($attributes) must be of type array, null given, called in ...",
    );
    assert_eq!((c, r_), ("client_side", "after_change"));
}

#[test]
fn batch_ay_a_relays_upstream_error_stand_in_keeps_the_upstream_bodys_cause() {
    // The upstream's own body names its cause; the relay's `upstream_error` body after it (plain
    // or in a failed response event) only says the failure was passed on.
    let (c, r_, _, _) = full(
        "upstream said: {\"error\":{\"code\":\"context_length_exceeded\",\"message\":\"Input tokens exceed the configured limit.\",\"type\":\"invalid_request_error\"}}\nclient got 502: {\"error\":{\"message\":\"Upstream request failed\",\"type\":\"upstream_error\"}}",
    );
    assert_eq!((c, r_), ("context_length", "after_change"));
    // Alone, the stand-in is what there is: a failed stream with its cause hidden.
    let (c, r_, _, _) = full(
        "data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"upstream_error\",\"message\":\"Upstream request failed\"}}}",
    );
    assert_eq!((c, r_), ("stream_error", "yes"));
    // A relay's body that is itself specific (its own code) is read as usual, last wins.
    let (c, _, _, _) = full(
        "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"Rate limit reached\",\"type\":\"requests\"}}\n{\"error\":{\"code\":\"insufficient_quota\",\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\"}}",
    );
    assert_eq!(c, "quota");
}

#[test]
fn batch_bb_azure_filter_results_alone_and_the_older_capacity_quota_wording() {
    // Azure's content filter result printed without the error around it: a category the filter
    // blocked is the refusal's cause (a Python dict over several lines, JSON with a jailbreak
    // detection, escaped JSON inside a log string, a paste cut inside the map).
    for text in [
        "{\n    'code': 'ResponsibleAIPolicyViolation',\n    'content_filter_result': {\n        'hate': {\n            'filtered': False,\n            'severity': 'safe'\n        },\n        'violence': {\n            'filtered': True,\n            'severity': 'medium'\n        }\n    }\n}",
        "\"content_filter_result\": {\n  \"jailbreak\": {\"detected\": true, \"filtered\": true},\n  \"hate\":      {\"filtered\": false, \"severity\": \"safe\"}\n}",
        "log: \"{\\\"content_filter_results\\\":{\\\"sexual\\\":{\\\"filtered\\\":true,\\\"severity\\\":\\\"high\\\"}}}\"",
        "'content_filter_result': {'hate': {'filtered': False, 'severity': 'safe'}, 'self_harm': {'filtered': True, '",
    ] {
        let (c, r_, rule, _) = full(text);
        assert_eq!(
            (c, r_, rule.as_str()),
            ("content_policy", "after_change", "content_filter"),
            "{text}"
        );
    }
    // Near misses: the annotation every Azure answer carries (nothing filtered, a jailbreak only
    // detected), a `filtered` true outside a filter result, a longer key, are no finding.
    for text in [
        "{\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},\"jailbreak\":{\"filtered\":false,\"detected\":true}}}],\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"content_filter_results\":{\"violence\":{\"filtered\":false,\"severity\":\"safe\"}}}]}",
        "{\"results\": [{\"filtered\": true, \"count\": 3}]}",
        "content_filter_results_enabled = {\"filtered\": true}",
    ] {
        assert!(crate::explain(text).diagnosis.is_none(), "{text}");
    }
    // Azure's older wording of the deployment-capacity quota refusal on provisioning.
    let (c, r_, rule, _) = full(
        "InsufficientQuota: The specified capacity '1' of account deployment is bigger than available capacity '0' for UsageName 'Tokens Per Minute (thousands) - Text-Davinci-003'.",
    );
    assert_eq!(
        (c, r_, rule.as_str()),
        ("quota", "no", "azure_deployment_capacity_quota")
    );
    // Near miss: a capacity out of range is the request's own value, not the quota.
    let (c, _, rule, _) = full(
        "Error type: InvalidCapacity\nError Message: The specified capacity '-250' of account deployment should be at least 1 and no more than 1000000.",
    );
    assert_ne!(c, "quota");
    assert_ne!(rule, "azure_deployment_capacity_quota");
}

/// The filter-result reader's bounds: it reads the first 32 keys and 4 KB of each map, so a map
/// whose blocked category lies past 4 KB is not read, and a paste of many keys each followed by a
/// long map costs at most 32 maps' reading.
#[test]
fn filter_results_are_read_within_their_bounds() {
    let padding = alloc::format!("'note': '{}', ", "x".repeat(5000));
    let far =
        alloc::format!("'content_filter_result': {{{padding}'violence': {{'filtered': True}}}}");
    assert!(crate::explain(&far).diagnosis.is_none());
    let near = "'content_filter_result': {'violence': {'filtered': True}}";
    assert_eq!(full(near).2, "content_filter");
    // Past the 32nd key the blocked one is not looked at.
    let many = alloc::format!(
        "{}{near}",
        "'content_filter_result': {'hate': {'filtered': False}} ".repeat(40)
    );
    assert!(crate::explain(&many).diagnosis.is_none());
    let few = alloc::format!(
        "{}{near}",
        "'content_filter_result': {'hate': {'filtered': False}} ".repeat(31)
    );
    assert_eq!(full(&few).2, "content_filter");
}
