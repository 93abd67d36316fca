//! Batch lint, explain and join on the files under `tests/batch/`.

use std::path::PathBuf;

use airlock_rules::batch::{
    BatchExplanation, Join, JoinState, LIMITS, LineError, LintState, explain_batch, lint_line,
    read_result_line,
};

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/batch")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Lints bytes as the CLI does: split on `\n`, one call per line.
fn lint(bytes: &[u8]) -> (Vec<LineError>, LintState) {
    let mut state = LintState::new();
    let mut errors = Vec::new();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let terminated = bytes.last() == Some(&b'\n');
    if terminated {
        lines.pop();
    }
    let n = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        errors.extend(lint_line(i as u64 + 1, line, &mut state));
        if i + 1 == n && !terminated {
            state.last_line_unterminated();
        }
    }
    errors.extend(state.finish());
    (errors, state)
}

#[test]
fn valid_files_are_clean_and_sized_exactly() {
    for name in [
        "valid_chat.jsonl",
        "valid_responses.jsonl",
        "valid_embeddings_crlf_bom.jsonl",
        "join_input.jsonl",
    ] {
        let bytes = data(name);
        let (errors, state) = lint(&bytes);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        assert_eq!(state.bytes(), bytes.len() as u64, "{name}");
        assert!(state.requests() >= 3, "{name}");
    }
}

#[test]
fn bad_file_errors_match_the_golden_list() {
    let (errors, state) = lint(&data("bad_chat.jsonl"));
    let got: Vec<String> = errors
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.line.map_or("-".into(), |l| l.to_string()),
                e.code,
                e.param.as_deref().unwrap_or("-")
            )
        })
        .collect();
    let want = String::from_utf8(data("bad_chat.expect")).unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got, want);
    assert_eq!(state.requests(), 11, "the blank line is not a request");
    assert_eq!(state.lines_with_errors(), 10);
    // The duplicate names the first line.
    assert!(
        errors[1].message.contains("line 1"),
        "{}",
        errors[1].message
    );
}

fn chat_line(id: &str, model: &str) -> String {
    format!(
        r#"{{"custom_id": "{id}", "method": "POST", "url": "/v1/chat/completions", "body": {{"model": "{model}", "messages": [{{"role": "user", "content": "Hi"}}]}}}}"#
    )
}

#[test]
fn the_endpoint_can_be_given_up_front() {
    let mut state = LintState::new();
    state.set_endpoint("/v1/responses");
    let errors = lint_line(1, chat_line("a", "gpt-4o-mini").as_bytes(), &mut state);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "invalid_url");
    assert!(errors[0].message.contains("the batch endpoint"));
}

#[test]
fn body_findings_come_from_the_validators() {
    let mut state = LintState::new();
    let line = r#"{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "o3", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50}}"#;
    let errors = lint_line(1, line.as_bytes(), &mut state);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "unsupported_parameter");
    assert_eq!(errors[0].custom_id.as_deref(), Some("a"));
    assert!(errors[0].rule.is_some());
}

#[test]
fn an_empty_file_is_reported() {
    let (errors, _) = lint(b"\n\n");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "empty_file");
    assert_eq!(errors[0].line, None);
}

#[test]
fn more_requests_than_the_limit_is_reported_at_the_first_line_over_it() {
    let mut state = LintState::new();
    for i in 1..=LIMITS.max_requests + 2 {
        // A line the cheap checks reject keeps this fast: the count is what is tested.
        let line = format!(
            r#"{{"custom_id": "id-{i}", "method": "POST", "url": "/v1/nope", "body": {{}}}}"#
        );
        let errors = lint_line(i, line.as_bytes(), &mut state);
        let over: Vec<_> = errors
            .iter()
            .filter(|e| e.code == "too_many_tasks")
            .collect();
        if i == LIMITS.max_requests + 1 {
            // Found at the line, so a streaming reader (the worker's upload linter) stops there.
            assert_eq!(over.len(), 1, "{errors:?}");
            assert_eq!(over[0].line, Some(i));
            assert!(over[0].message.contains("50001"), "{}", over[0].message);
        } else {
            assert!(over.is_empty(), "line {i}: {errors:?}");
        }
    }
    // Reported once: not again at the end.
    let file = state.finish();
    assert!(file.is_empty(), "{file:?}");
}

#[test]
fn a_file_over_the_size_limit_is_reported_at_the_line_that_crosses_it() {
    let mut state = LintState::new();
    let line = format!(
        r#"{{"custom_id": "x", "method": "POST", "url": "/v1/nope", "body": {{"pad": "{}"}}}}"#,
        "a".repeat(1 << 20)
    );
    let per_line = line.len() as u64 + 1;
    let crossing = LIMITS.max_bytes / per_line + 1;
    for i in 1..=crossing + 1 {
        let errors = lint_line(i, line.as_bytes(), &mut state);
        let big: Vec<_> = errors
            .iter()
            .filter(|e| e.code == "file_too_large")
            .collect();
        assert_eq!(big.len(), usize::from(i == crossing), "line {i}");
    }
    assert!(state.finish().iter().all(|e| e.code != "file_too_large"));
}

#[test]
fn a_file_of_exactly_the_size_limit_without_a_last_line_end_passes() {
    let mut state = LintState::new();
    let line = format!(
        r#"{{"custom_id": "x", "method": "POST", "url": "/v1/nope", "body": {{"pad": "{}"}}}}"#,
        "a".repeat(LIMITS.max_bytes as usize - 80)
    );
    let pad = LIMITS.max_bytes as usize - line.len();
    let line = line.replacen("\"pad\"", &format!("\"pad\"{}", " ".repeat(pad)), 1);
    assert_eq!(line.len() as u64, LIMITS.max_bytes);
    let errors = lint_line(1, line.as_bytes(), &mut state);
    state.last_line_unterminated();
    assert!(
        errors.iter().all(|e| e.code != "file_too_large"),
        "{errors:?}"
    );
    assert!(state.finish().iter().all(|e| e.code != "file_too_large"));
}

#[test]
fn exactly_the_limit_is_fine_and_ids_stay_distinct() {
    let mut state = LintState::new();
    for i in 1..=LIMITS.max_requests {
        let line = format!(
            r#"{{"custom_id": "id-{i}", "method": "POST", "url": "/v1/nope", "body": {{}}}}"#
        );
        let errors = lint_line(i, line.as_bytes(), &mut state);
        assert!(errors.iter().all(|e| e.code == "invalid_url"), "{errors:?}");
    }
    assert!(state.finish().is_empty());
}

#[test]
fn embeddings_inputs_are_counted_across_the_file() {
    let mut state = LintState::new();
    let inputs = serde_json::to_string(&vec!["x"; 2000]).unwrap();
    for i in 1..=26u64 {
        let line = format!(
            r#"{{"custom_id": "e{i}", "method": "POST", "url": "/v1/embeddings", "body": {{"model": "text-embedding-3-small", "input": {inputs}}}}}"#
        );
        let errors = lint_line(i, line.as_bytes(), &mut state);
        assert!(errors.is_empty(), "{errors:?}");
    }
    let file = state.finish();
    assert_eq!(file.len(), 1);
    assert_eq!(file[0].code, "too_many_embedding_inputs");
    assert!(file[0].message.contains("52000"));
}

#[test]
fn a_batch_object_is_explained() {
    let text = String::from_utf8(data("batch_failed.json")).unwrap();
    let Some(BatchExplanation::Batch {
        status,
        errors,
        meaning,
        ..
    }) = explain_batch(&text)
    else {
        panic!("not read as a batch")
    };
    assert_eq!(status.as_deref(), Some("failed"));
    assert!(meaning.unwrap().contains("validation"));
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].code.as_deref(), Some("duplicate_custom_id"));
    assert_eq!(errors[0].line, Some(3));
    assert!(errors[0].first_fix.is_some());

    for status in [
        "validating",
        "failed",
        "in_progress",
        "finalizing",
        "completed",
        "expired",
        "cancelling",
        "cancelled",
    ] {
        let t = format!(
            r#"{{"id": "batch_1", "object": "batch", "status": "{status}", "input_file_id": "file-1"}}"#
        );
        match explain_batch(&t) {
            Some(BatchExplanation::Batch { meaning, .. }) => assert!(meaning.is_some(), "{status}"),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn result_lines_are_read() {
    let out = String::from_utf8(data("output.jsonl")).unwrap();
    let lines: Vec<_> = out
        .lines()
        .map(|l| read_result_line(l.as_bytes()).unwrap())
        .collect();
    assert!(lines[0].ok && lines[1].ok);
    assert!(!lines[2].ok);
    assert_eq!(lines[2].status_code, Some(400));
    let e = lines[2].error.as_ref().unwrap();
    assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
    assert_eq!(e.param.as_deref(), Some("messages"));
    assert_eq!(lines[2].request_id.as_deref(), Some("req_c2"));

    match explain_batch(out.lines().nth(2).unwrap()) {
        Some(BatchExplanation::Line { line, diagnosis }) => {
            assert_eq!(line.custom_id.as_deref(), Some("request-2"));
            let d = diagnosis.expect("a diagnosis for a failed line");
            assert_eq!(d.status, Some(400));
        }
        other => panic!("{other:?}"),
    }
    // A 5xx without a body error is still a failure.
    let r = read_result_line(
        br#"{"custom_id": "x", "response": {"status_code": 500, "body": "oops"}, "error": null}"#,
    )
    .unwrap();
    assert!(!r.ok);
    assert!(r.error.unwrap().message.unwrap().contains("500"));
    // Not a result line.
    assert!(read_result_line(br#"{"custom_id": "x", "method": "POST"}"#).is_none());
}

#[test]
fn join_follows_custom_ids_not_order() {
    let mut j = Join::new();
    for (i, l) in String::from_utf8(data("join_input.jsonl"))
        .unwrap()
        .lines()
        .enumerate()
    {
        j.input_line(i as u64 + 1, l.as_bytes());
    }
    for name in ["output.jsonl", "errors.jsonl"] {
        for l in String::from_utf8(data(name)).unwrap().lines() {
            j.result_line(l.as_bytes());
        }
    }
    let rows = j.finish();
    let states: Vec<(String, Option<u64>, &str, Option<String>)> = rows
        .iter()
        .map(|r| {
            let (s, code) = match &r.state {
                JoinState::Ok { .. } => ("ok", None),
                JoinState::Failed { code, .. } => ("failed", code.clone()),
                _ => ("missing", None),
            };
            (r.custom_id.clone(), r.line, s, code)
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("request-1".into(), Some(1), "ok", None),
            (
                "request-2".into(),
                Some(2),
                "failed",
                Some("context_length_exceeded".into())
            ),
            ("request-3".into(), Some(3), "ok", None),
            (
                "request-4".into(),
                Some(4),
                "failed",
                Some("batch_expired".into())
            ),
            ("request-5".into(), Some(5), "missing", None),
            (
                "request-99".into(),
                None,
                "failed",
                Some("batch_expired".into())
            ),
        ]
    );
}

#[test]
fn a_success_wins_over_an_error_line_for_the_same_request() {
    let mut j = Join::new();
    j.input_line(1, br#"{"custom_id": "a"}"#);
    j.result_line(
        br#"{"custom_id": "a", "response": {"status_code": 200, "body": {}}, "error": null}"#,
    );
    j.result_line(br#"{"custom_id": "a", "response": null, "error": {"code": "batch_expired", "message": "m"}}"#);
    assert_eq!(
        j.finish()[0].state,
        JoinState::Ok {
            status_code: Some(200)
        }
    );
}

#[test]
fn the_python_sdk_repr_of_a_batch_is_read() {
    // As printed by `print(client.batches.retrieve(...))` in openai-python.
    let text = "Batch(id='batch_69c3c347282c81908ede48ecc95bf201', completion_window='24h', created_at=1774437191, endpoint='/v1/responses', input_file_id='file-2qvouj6sKUCGTbu3odouhk', object='batch', status='failed', cancelled_at=None, cancelling_at=None, completed_at=None, error_file_id=None, errors=Errors(data=[BatchError(code='invalid_json_line', line=2, message=\"This line is not parseable as valid JSON. Can't read it.\", param=None), BatchError(code='duplicate_custom_id', line=5, message='The custom_id for this request is a duplicate of another request.', param=None)], object='list'), expired_at=None, expires_at=1774523591, failed_at=1774437199, finalizing_at=None, in_progress_at=None, metadata={'description': 'Evaluation: run 1'}, model=None, output_file_id=None, request_counts=BatchRequestCounts(completed=0, failed=0, total=0), usage=None)";
    let Some(BatchExplanation::Batch {
        id,
        status,
        errors,
        request_counts,
        ..
    }) = explain_batch(&format!("Traceback or log line: {text}\n"))
    else {
        panic!("not read")
    };
    assert_eq!(
        id.as_deref(),
        Some("batch_69c3c347282c81908ede48ecc95bf201")
    );
    assert_eq!(status.as_deref(), Some("failed"));
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].line, Some(2));
    assert_eq!(
        errors[0].message.as_deref(),
        Some("This line is not parseable as valid JSON. Can't read it.")
    );
    assert_eq!(errors[1].code.as_deref(), Some("duplicate_custom_id"));
    assert_eq!(request_counts.unwrap().total, 0);
}

#[test]
fn chunks_cut_anywhere_lint_like_lines() {
    use airlock_rules::batch::BatchLinter;
    for name in [
        "bad_chat.jsonl",
        "valid_responses.jsonl",
        "valid_embeddings_crlf_bom.jsonl",
    ] {
        let bytes = data(name);
        let (want, want_state) = lint(&bytes);
        for k in 0..=bytes.len() {
            let mut l = BatchLinter::new();
            let mut got = l.push(&bytes[..k]);
            got.extend(l.push(&bytes[k..]));
            got.extend(l.finish());
            assert_eq!(got, want, "{name}: split at {k}");
            assert_eq!(
                l.state().bytes(),
                want_state.bytes(),
                "{name}: split at {k}"
            );
            assert_eq!(l.state().bytes(), bytes.len() as u64, "{name}");
        }
    }
}
