//! `airlock batch explain` on the real Batch objects, errors and lines of `tests/batch/real/`
//! (sources in its README), as a user runs it (issue 7).

mod common;

use common::{airlock, stdout};

use std::path::PathBuf;

fn real(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/batch/real")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Each fixture is explained (exit 0), names its code, and says whether to retry.
#[test]
fn real_fixtures_get_meaning_fix_and_retry() {
    for (file, must) in [
        (
            "token_limit_exceeded.txt",
            &[
                "token_limit_exceeded",
                "fix: Wait for in-progress batches",
                "retry: yes",
            ][..],
        ),
        (
            "azure_token_limit_exceeded.json",
            &["batch errors:", "token_limit_exceeded", "retry: yes"][..],
        ),
        (
            "invalid_json_line.txt",
            &[
                "status failed",
                "line 2: invalid_json_line",
                "retry: only after changing",
            ][..],
        ),
        (
            "streaming_unsupported.txt",
            &["line 2: streaming_unsupported (body.stream)", "stream"][..],
        ),
        (
            "invalid_url_endpoint_mismatch.txt",
            &["line 1: invalid_url (url)", "the batch was created for"][..],
        ),
        (
            "model_not_found.txt",
            &["line 1: model_not_found (body.model)", "Batch API"][..],
        ),
        (
            "batch_expired.jsonl",
            &[
                "request-3: failed",
                "batch_expired",
                "Resubmit",
                "retry: yes",
            ][..],
        ),
        (
            "context_length_exceeded.json",
            &[
                "request-5: failed (HTTP 400)",
                "context_length_exceeded",
                "retry: after_change",
            ][..],
        ),
        (
            "completed_all_failed.txt",
            &["status completed", "every request in it failed", "9 failed"][..],
        ),
    ] {
        let o = airlock(&["batch", "explain", &real(file)], "");
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{file}: {out}");
        for m in must {
            assert!(out.contains(m), "{file}: no {m:?} in\n{out}");
        }
    }
}

/// `--json` carries the retry advice per error, for scripts.
#[test]
fn json_has_retry_per_error() {
    let o = airlock(
        &[
            "batch",
            "explain",
            &real("missing_required_parameter.txt"),
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0));
    let v = common::json_output(&o, "batch-explain");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 4);
    for (i, e) in errors.iter().enumerate() {
        assert_eq!(e["line"], i as u64 + 1);
        assert_eq!(e["code"], "missing_required_parameter");
        assert_eq!(e["retry"], "after_change");
    }
}
