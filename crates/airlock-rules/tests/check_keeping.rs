//! Issue 14: the worker checks a body with `check_keeping` and reads what the answer must follow
//! from the tree it kept, instead of parsing the body again with
//! `Expectation::from_request_bytes`. On every body of `tests/requests/`, sent to both endpoints
//! that take a format or tools, the verdict must be `check`'s and the expectation the one read
//! from the bytes.

use airlock_rules::output::Expectation;
use airlock_rules::validate::{Config, check, check_keeping};

#[path = "support/request_bodies.rs"]
mod request_bodies;

#[test]
fn the_kept_tree_gives_the_same_verdict_and_expectation() {
    let files = request_bodies::all();
    assert!(files.len() > 1000, "only {} bodies", files.len());
    let config = Config::default();
    let (mut kept, mut expected) = (0, 0);
    for path in &files {
        let body = std::fs::read(path).unwrap();
        for endpoint in ["/v1/chat/completions", "/v1/responses"] {
            let (verdict, tree) = check_keeping(endpoint, &body, &config);
            assert_eq!(
                verdict,
                check(endpoint, &body, &config),
                "{} {endpoint}",
                path.display()
            );
            let Some(tree) = tree else { continue };
            kept += 1;
            let from_bytes = Expectation::from_request_bytes(endpoint, &body);
            expected += usize::from(from_bytes.is_some());
            assert_eq!(
                Expectation::from_request(endpoint, &tree),
                from_bytes,
                "{} {endpoint}",
                path.display()
            );
        }
    }
    // The comparison must have had something to compare.
    assert!(
        kept > 1000 && expected > 50,
        "kept {kept}, expected {expected}"
    );
}

#[test]
fn nothing_is_kept_where_nothing_was_parsed() {
    let config = Config::default();
    for (endpoint, body) in [
        ("/v1/chat/completions", &b"{not json"[..]),
        ("/v1/no/such/endpoint", br#"{"model": "gpt-4o"}"#),
    ] {
        let (verdict, tree) = check_keeping(endpoint, body, &config);
        assert!(tree.is_none(), "{endpoint}");
        assert_eq!(verdict, check(endpoint, body, &config));
    }
}
