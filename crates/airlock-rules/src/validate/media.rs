//! Media parts inside messages: images and audio.
//!
//! Rules:
//! - `image_detail`: Chat `image_url.detail` is `auto`, `low` or `high` (`original`, which the
//!   Responses API takes, is only a warning in Chat); Responses `input_image.detail` is `auto`,
//!   `low`, `high` or `original`.
//! - `image_url`: an image URL is `http(s)://…` or a `data:` URL (anything else is refused); a
//!   Responses `input_image` data URL has an `image/…` MIME type.
//! - `image_data_url`: the bytes of a base64 data URL are PNG, JPEG, GIF or WEBP, sniffed from
//!   the first 16 base64 characters only (the image is never decoded whole). A data URL the rules
//!   cannot read is a warning, not a rejection: the API's own decoder may be more lenient.
//! - `audio_format`: Chat `input_audio.format` is `wav` or `mp3`.
//! - `file_data_url`: a PDF's `file_data` (Chat `file` part, Responses `input_file`) is a
//!   `data:` URL, not bare base64; a Chat `file_data` data URL has the `application/pdf` MIME
//!   type.

use alloc::format;
use alloc::string::String;

use serde_json::Value;

use super::Ctx;
use super::common::{Api, api, type_of};

/// Runs this module's rules on a parsed request body for `endpoint`.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &serde_json::Value) {
    match api(endpoint) {
        Some(Api::Chat) => chat(ctx, body),
        Some(Api::Responses) => responses(ctx, body),
        None => {}
    }
}

/// Whether a Chat image part may carry `image_url` as a bare URL string. Only the retired
/// vision-preview models were recorded taking one (dd-trace-py, 2023-11-27,
/// gpt-4-1106-vision-preview, answered 200); gpt-4o and gpt-4o-mini answer it with "Invalid type
/// for 'messages[1].content[1].image_url': expected an object, but got a string instead."
/// (if-ai/ComfyUI-IF_AI_tools#101, openai/openai-python#1635, param and code invalid_type
/// quoted, 2024-08). The refusal is the request schema's, not a model's, so every other model,
/// known or not, is held to the object.
fn takes_plain_image_url(body: &Value) -> bool {
    body.get("model")
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("gpt-4") && m.contains("vision-preview"))
}

fn chat(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return;
    };
    for (i, m) in messages.iter().enumerate() {
        let Some(parts) = m.get("content").and_then(Value::as_array) else {
            continue;
        };
        // OpenAI takes image parts from user messages only, and names the message
        // (openai/openai-node#1030: an assistant turn; OpenHands#7700: a tool result).
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        if role != "user" && parts.iter().any(|p| type_of(p) == Some("image_url")) {
            ctx.reject(
                "image_role",
                "",
                Some(format!("messages[{i}]")),
                format!(
                    "Invalid 'messages[{i}]'. Image URLs are only allowed for messages with role 'user', but this message with role '{role}' contains an image URL."
                ),
            );
            continue;
        }
        for (j, part) in parts.iter().enumerate() {
            let at = format!("messages[{i}].content[{j}]");
            match type_of(part) {
                Some("image_url") => {
                    if part.get("image_url").is_some_and(Value::is_string)
                        && !takes_plain_image_url(body)
                    {
                        // The spec's object, which the schema's `also_string` override relaxes
                        // for the retired vision-preview models only (see below).
                        ctx.reject(
                            "request_schema",
                            "invalid_type",
                            Some(format!("{at}.image_url")),
                            format!(
                                "Invalid type for '{at}.image_url': expected an object, but got a string instead."
                            ),
                        );
                        continue;
                    }
                    let Some(image) = part.get("image_url").filter(|v| v.is_object()) else {
                        continue;
                    };
                    if let Some(detail) = image.get("detail").and_then(Value::as_str) {
                        detail_rule(ctx, &format!("{at}.image_url.detail"), detail, false);
                    }
                    if let Some(url) = image.get("url").and_then(Value::as_str) {
                        url_rules(ctx, &format!("{at}.image_url.url"), url, false);
                    }
                }
                Some("file") => {
                    let file = part.get("file");
                    let data = file
                        .and_then(|f| f.get("file_data"))
                        .and_then(Value::as_str);
                    let name = file.and_then(|f| f.get("filename")).and_then(Value::as_str);
                    if let Some(data) = data {
                        file_data_rule(ctx, &format!("{at}.file.file_data"), data, name);
                        chat_file_data_mime(ctx, &format!("{at}.file.file_data"), data);
                    }
                }
                Some("input_audio") => {
                    let format = part
                        .get("input_audio")
                        .and_then(|a| a.get("format"))
                        .and_then(Value::as_str);
                    if let Some(f) = format {
                        if f != "wav" && f != "mp3" {
                            ctx.reject(
                                "audio_format",
                                "invalid_value",
                                Some(format!("{at}.input_audio.format")),
                                format!(
                                    "Invalid value: '{f}'. Supported values are: 'wav' and 'mp3'."
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn responses(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(items) = body.get("input").and_then(Value::as_array) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        // A computer call's output is a screenshot object, which OpenAI names by what it is
        // ("Invalid type for 'input[0].output': expected a computer call output, but got a
        // string instead.", browserbase/stagehand-python#149, computer-use-preview).
        if type_of(item) == Some("computer_call_output") {
            if let Some(output) = item.get("output").filter(|o| !o.is_object()) {
                ctx.reject(
                    "request_schema",
                    "invalid_type",
                    Some(format!("input[{i}].output")),
                    format!(
                        "Invalid type for 'input[{i}].output': expected a computer call output, but got {} instead.",
                        super::params::got(output)
                    ),
                );
                continue;
            }
        }
        // Message content, and tool outputs that carry content parts.
        for key in ["content", "output"] {
            let Some(parts) = item.get(key).and_then(Value::as_array) else {
                continue;
            };
            for (j, part) in parts.iter().enumerate() {
                let at = format!("input[{i}].{key}[{j}]");
                if type_of(part) == Some("input_file") {
                    let data = part.get("file_data").and_then(Value::as_str);
                    let name = part.get("filename").and_then(Value::as_str);
                    if let Some(data) = data {
                        file_data_rule(ctx, &format!("{at}.file_data"), data, name);
                    }
                    continue;
                }
                if type_of(part) != Some("input_image") {
                    continue;
                }
                if let Some(detail) = part.get("detail").and_then(Value::as_str) {
                    detail_rule(ctx, &format!("{at}.detail"), detail, true);
                }
                let has_file = part.get("file_id").is_some_and(|f| !f.is_null());
                if let Some(url) = part.get("image_url").and_then(Value::as_str) {
                    if !(url.is_empty() && has_file) {
                        url_rules(ctx, &format!("{at}.image_url"), url, true);
                    }
                }
            }
        }
    }
}

/// `file_data` is a data URL. Only PDFs are judged: OpenAI's wording names the PDF MIME type, and
/// what it says for other files is not known.
fn file_data_rule(ctx: &mut Ctx<'_>, param: &str, data: &str, filename: Option<&str>) {
    let pdf = filename
        .is_none_or(|n| n.len() >= 4 && n.as_bytes()[n.len() - 4..].eq_ignore_ascii_case(b".pdf"));
    if !pdf || data.is_empty() || starts_with_ignore_case(data.trim_start(), "data:") {
        return;
    }
    ctx.reject(
        "file_data_url",
        "invalid_value",
        Some(String::from(param)),
        format!(
            "Invalid '{param}'. Expected a base64-encoded data URL with an application/pdf MIME type (e.g. 'data:application/pdf;base64,...'), but got a value without the 'data:' prefix."
        ),
    );
}

/// Chat's `file.file_data` takes PDFs only: a data URL of another MIME type is refused in OpenAI's
/// words ("Invalid file data: 'messages[3].content[2].file.file_data'. Expected a base64-encoded
/// data URL with an application/pdf MIME type (e.g. …), but got unsupported MIME type
/// 'text/markdown'.", param the path, code `invalid_value`; trpc-group/trpc-agent-go#1816,
/// 2026-05). The Responses `input_file` takes more types and is not judged here.
fn chat_file_data_mime(ctx: &mut Ctx<'_>, param: &str, data: &str) {
    let data = data.trim_start();
    if !starts_with_ignore_case(data, "data:") {
        return;
    }
    let Some(rest) = data.get(5..) else {
        return;
    };
    let Some(header) = rest.split(',').next().filter(|_| rest.contains(',')) else {
        return;
    };
    let mime = header.split(';').next().unwrap_or("").trim();
    if mime.is_empty() || mime.eq_ignore_ascii_case("application/pdf") {
        return;
    }
    ctx.reject(
        "file_data_url",
        "invalid_value",
        Some(String::from(param)),
        format!(
            "Invalid file data: '{param}'. Expected a base64-encoded data URL with an application/pdf MIME type (e.g. 'data:application/pdf;base64,SGVsbG8sIFdvcmxkIQ=='), but got unsupported MIME type '{mime}'."
        ),
    );
}

fn detail_rule(ctx: &mut Ctx<'_>, param: &str, detail: &str, responses: bool) {
    if matches!(detail, "auto" | "low" | "high") {
        return;
    }
    if detail == "original" {
        if !responses {
            ctx.warn(
                "image_detail",
                "invalid_value",
                Some(String::from(param)),
                String::from(
                    "Image detail 'original' is documented for the Responses API only; Chat Completions documents 'auto', 'low' and 'high'.",
                ),
            );
        }
        return;
    }
    let supported = if responses {
        "'low', 'high', 'auto', and 'original'"
    } else {
        "'auto', 'low', and 'high'"
    };
    ctx.reject(
        "image_detail",
        "invalid_value",
        Some(String::from(param)),
        format!("Invalid value: '{detail}'. Supported values are: {supported}."),
    );
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// `responses`: the URL is a Responses `input_image.image_url`, whose data-URL MIME type OpenAI
/// checks in words of its own (below).
fn url_rules(ctx: &mut Ctx<'_>, param: &str, url: &str, responses: bool) {
    let url = url.trim_start();
    if starts_with_ignore_case(url, "http://") || starts_with_ignore_case(url, "https://") {
        return;
    }
    if !starts_with_ignore_case(url, "data:") {
        ctx.reject(
            "image_url",
            "invalid_value",
            Some(String::from(param)),
            format!(
                // OpenAI's words (Alibaba-NLP/OmniSearch#3).
                "Invalid image URL: '{param}'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value without the 'data:' prefix."
            ),
        );
        return;
    }
    let rest = &url[5..];
    let Some(comma) = rest.find(',') else {
        ctx.warn(
            "image_data_url",
            "invalid_image_url",
            Some(String::from(param)),
            String::from("The data URL has no ',' separating its header from its data."),
        );
        return;
    };
    let header = &rest[..comma];
    let data = &rest[comma + 1..];
    let base64 = header
        .rsplit(';')
        .next()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("base64"));
    let mime = header.split(';').next().unwrap_or("").trim();
    if !base64 {
        ctx.warn(
            "image_data_url",
            "invalid_image_url",
            Some(String::from(param)),
            String::from(
                "The data URL is not base64-encoded (';base64' is missing from its header).",
            ),
        );
        return;
    }
    if data.trim().is_empty() {
        // anomalyco/opencode#23983: "Invalid 'input[101].content[1].image_url'. Expected a
        // base64-encoded data URL with an image MIME type (e.g. …), but got empty base64-encoded
        // bytes." (the code is not quoted there; `invalid_value` as for the missing prefix).
        ctx.reject(
            "image_url",
            "invalid_value",
            Some(String::from(param)),
            format!(
                "Invalid '{param}'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got empty base64-encoded bytes."
            ),
        );
        return;
    }
    if responses && !mime.is_empty() && !starts_with_ignore_case(mime, "image/") {
        // mkht/PSOpenAI#43 (o3-mini, a PDF sent as an input_image, 2025-06): "Invalid
        // 'input[0].content[1].image_url'. Expected a base64-encoded data URL with an image MIME
        // type (e.g. …), but got unsupported MIME type 'application/pdf'." The MIME type is judged
        // before the bytes. Chat Completions' answer to the same is not known: a warning there.
        ctx.reject(
            "image_url",
            "invalid_value",
            Some(String::from(param)),
            format!(
                "Invalid '{param}'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME type '{mime}'."
            ),
        );
        return;
    }
    if !starts_with_ignore_case(mime, "image/") {
        ctx.warn(
            "image_data_url",
            "invalid_image_url",
            Some(String::from(param)),
            format!("The data URL's MIME type '{mime}' is not an image type."),
        );
    }
    match sniff(data) {
        Sniff::Image | Sniff::TooShort => {}
        Sniff::Malformed => ctx.warn(
            "image_data_url",
            "invalid_image_url",
            Some(String::from(param)),
            String::from("The data URL's data does not look like base64."),
        ),
        Sniff::Other => ctx.reject(
            "image_data_url",
            "invalid_image_format",
            None,
            String::from(
                "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
            ),
        ),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Sniff {
    /// PNG, JPEG, GIF or WEBP.
    Image,
    /// Fewer than 12 bytes: nothing certain.
    TooShort,
    /// A character outside the base64 alphabets early on.
    Malformed,
    /// Readable, and none of the four formats.
    Other,
}

fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes the first 12 bytes of base64 `data` (skipping whitespace) and names the format.
fn sniff(data: &str) -> Sniff {
    let mut bytes = [0u8; 12];
    let mut n_bytes = 0;
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in data.bytes() {
        if n_bytes == bytes.len() {
            break;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            break;
        }
        let Some(v) = b64_value(c) else {
            return Sniff::Malformed;
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes[n_bytes] = (acc >> bits) as u8;
            n_bytes += 1;
            acc &= (1 << bits) - 1;
        }
    }
    if n_bytes < bytes.len() {
        return Sniff::TooShort;
    }
    let b = &bytes;
    let png = b[..8] == [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let jpeg = b[..3] == [0xFF, 0xD8, 0xFF];
    let gif = &b[..6] == b"GIF87a" || &b[..6] == b"GIF89a";
    let webp = &b[..4] == b"RIFF" && &b[8..12] == b"WEBP";
    if png || jpeg || gif || webp {
        Sniff::Image
    } else {
        Sniff::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_four_formats_from_a_prefix() {
        // 1x1 PNG, JPEG, GIF and WEBP prefixes.
        assert_eq!(sniff("iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"), Sniff::Image);
        assert_eq!(sniff("/9j/4AAQSkZJRgABAQAAAQABAAD"), Sniff::Image);
        assert_eq!(
            sniff("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="),
            Sniff::Image
        );
        assert_eq!(
            sniff("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA"),
            Sniff::Image
        );
        // Line-wrapped base64 still sniffs.
        assert_eq!(sniff("iVBORw0K\nGgoAAAANSUhEUgAA"), Sniff::Image);
        // BMP ("BM...") and PDF are other formats.
        assert_eq!(
            sniff("Qk02AAAAAAAAADYAAAAoAAAAAQAAAAEAAAABABgAAAAAAAA"),
            Sniff::Other
        );
        assert_eq!(
            sniff("JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3Ro"),
            Sniff::Other
        );
        assert_eq!(sniff("iVBO"), Sniff::TooShort);
        assert_eq!(sniff("%%%%%%%%%%%%%%%%"), Sniff::Malformed);
    }

    fn first_error(
        endpoint: &str,
        body: &str,
    ) -> Option<(String, Option<String>, Option<String>, String)> {
        let v = crate::validate::check(
            endpoint,
            body.as_bytes(),
            &crate::validate::Config::default(),
        );
        v.errors.first().map(|f| {
            (
                f.rule.clone(),
                f.error.code.clone(),
                f.error.param.clone(),
                f.error.message.clone(),
            )
        })
    }

    const CHAT: &str = "/v1/chat/completions";

    #[test]
    fn plain_string_image_url_only_for_the_vision_previews() {
        let body = |model: &str| {
            alloc::format!(
                r#"{{"model":"{model}","messages":[{{"role":"user","content":[{{"type":"text","text":"what is it?"}},{{"type":"image_url","image_url":"https://example.com/a.png"}}]}}]}}"#
            )
        };
        for model in ["gpt-4o", "gpt-4o-mini", "gpt-5", "some-future-model"] {
            let (rule, code, param, message) = first_error(CHAT, &body(model)).unwrap();
            assert_eq!(rule, "request_schema");
            assert_eq!(code.as_deref(), Some("invalid_type"));
            assert_eq!(param.as_deref(), Some("messages[0].content[1].image_url"));
            assert_eq!(
                message,
                "Invalid type for 'messages[0].content[1].image_url': expected an object, but got a string instead."
            );
        }
        // The near miss: the recorded 200 of 2023, and the object form.
        assert!(first_error(CHAT, &body("gpt-4-1106-vision-preview")).is_none());
        assert!(first_error(
            CHAT,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#
        )
        .is_none());
    }

    #[test]
    fn computer_call_output_is_an_object() {
        let body = |output: &str| {
            alloc::format!(
                r#"{{"model":"computer-use-preview","truncation":"auto","tools":[{{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"}}],"previous_response_id":"resp_1","input":[{{"type":"computer_call_output","call_id":"call_1","output":{output}}}]}}"#
            )
        };
        let (rule, code, param, message) =
            first_error("/v1/responses", &body(r#""Clicked.""#)).unwrap();
        assert_eq!(
            (rule.as_str(), code.as_deref(), param.as_deref()),
            (
                "request_schema",
                Some("invalid_type"),
                Some("input[0].output")
            )
        );
        assert_eq!(
            message,
            "Invalid type for 'input[0].output': expected a computer call output, but got a string instead."
        );
        assert!(first_error(
            "/v1/responses",
            &body(r#"{"type":"computer_screenshot","image_url":"data:image/png;base64,iVBORw0KGgo="}"#)
        )
        .is_none());
    }

    #[test]
    fn logit_bias_keys_are_token_ids() {
        let body = |bias: &str| {
            alloc::format!(
                r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi"}}],"logit_bias":{bias}}}"#
            )
        };
        let (rule, code, param, message) = first_error(CHAT, &body(r#"{"AI":10}"#)).unwrap();
        assert_eq!(
            (rule.as_str(), code, param.as_deref()),
            ("invalid_value", None, Some("logit_bias"))
        );
        assert_eq!(
            message,
            "Invalid key in 'logit_bias': AI. You should only be submitting non-negative integers."
        );
        assert!(first_error(CHAT, &body(r#"{"-1":5}"#)).is_some());
        // The near miss: token ids, and the empty map.
        assert!(first_error(CHAT, &body(r#"{"50256":-100,"2435":-100}"#)).is_none());
        assert!(first_error(CHAT, &body("{}")).is_none());
        // Legacy completions: the key is reported before the other parameters (go-openai#129).
        let (_, _, param, _) = first_error(
            "/v1/completions",
            r#"{"model":"davinci-002","prompt":"x","logprobs":30,"logit_bias":{" You":6}}"#,
        )
        .unwrap();
        assert_eq!(param.as_deref(), Some("logit_bias"));
    }

    #[test]
    fn a_tool_answer_without_its_id_is_named_before_the_pairing() {
        let (rule, _, param, message) = first_error(
            CHAT,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r"}]}"#,
        )
        .unwrap();
        assert_eq!(rule, "tool_call_pairing");
        assert_eq!(param.as_deref(), Some("messages.[2].tool_call_id"));
        assert_eq!(
            message,
            "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'."
        );
        assert!(first_error(
            CHAT,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"r"}]}"#
        )
        .is_none());
    }
}
