//! The SSE parser and the stream watcher: cases from `tests/streams/`, each read whole, split at
//! every byte offset, byte by byte, and at random multi-splits, must give the same events and
//! the same final state.

use std::path::PathBuf;

use airlock_rules::sse::{
    Item, Limits, SseParser, StreamKind, StreamState, StreamWatch, describe_stream,
    interrupted_event,
};

fn cases() -> Vec<(String, Vec<u8>, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/streams");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/streams") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sse") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap();
        out.push((name, bytes, expect));
    }
    out.sort();
    assert!(
        out.len() >= 10,
        "expected the stream cases, found {}",
        out.len()
    );
    out
}

fn parse_chunks(chunks: &[&[u8]]) -> Vec<Item> {
    let mut p = SseParser::new();
    let mut items = Vec::new();
    for c in chunks {
        items.extend(p.push(c));
    }
    items.extend(p.finish());
    items
}

fn watch_chunks(chunks: &[&[u8]]) -> (StreamState, StreamKind, u64) {
    let mut w = StreamWatch::new();
    for c in chunks {
        w.push(c);
    }
    let s = w.finish();
    (s, w.kind(), w.events())
}

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn check_expect(name: &str, bytes: &[u8], expect: &str) {
    let s = describe_stream(core::str::from_utf8(bytes).unwrap()).expect(name);
    for pair in expect.split_whitespace() {
        let (k, v) = pair.split_once('=').unwrap();
        let got: Option<String> = match k {
            "kind" => Some(s.kind.as_str().into()),
            "state" => Some(s.state.as_str().into()),
            "events" => Some(s.events.to_string()),
            "at_event" => s.at_event.map(|n| n.to_string()),
            "last_event" => s.last_event.clone(),
            "finish_reason" => s.finish_reason.clone(),
            "reason" => match &s.state {
                StreamState::Incomplete { reason } => reason.clone(),
                _ => None,
            },
            "code" | "type" | "param" | "event" | "sequence_number" => match &s.state {
                StreamState::Failed { error } => match k {
                    "code" => error.code.clone(),
                    "type" => error.error_type.clone(),
                    "param" => error.param.clone(),
                    "event" => Some(error.event.clone()),
                    _ => error.sequence_number.map(|n| n.to_string()),
                },
                _ => None,
            },
            other => panic!("{name}: unknown expectation key {other}"),
        };
        assert_eq!(got.as_deref(), Some(v), "{name}: {k} in {s:?}");
    }
}

#[test]
fn cases_match_their_expectations() {
    for (name, bytes, expect) in cases() {
        check_expect(&name, &bytes, &expect);
    }
}

#[test]
fn every_split_point_gives_the_same_events_and_state() {
    for (name, bytes, _) in cases() {
        let whole = parse_chunks(&[&bytes]);
        let whole_state = watch_chunks(&[&bytes]);
        for k in 0..=bytes.len() {
            let (a, b) = bytes.split_at(k);
            assert_eq!(parse_chunks(&[a, b]), whole, "{name}: split at {k}");
            assert_eq!(watch_chunks(&[a, b]), whole_state, "{name}: split at {k}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_chunks(&singles), whole, "{name}: byte by byte");
        assert_eq!(watch_chunks(&singles), whole_state, "{name}: byte by byte");
    }
}

#[test]
fn random_multi_splits_give_the_same_events() {
    let mut rng = Lcg(0x5eed);
    for (name, bytes, _) in cases() {
        let whole = parse_chunks(&[&bytes]);
        let whole_state = watch_chunks(&[&bytes]);
        for round in 0..200 {
            let mut cuts: Vec<usize> = (0..1 + rng.next() % 12)
                .map(|_| (rng.next() as usize) % (bytes.len() + 1))
                .collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut at = 0;
            for c in cuts {
                chunks.push(&bytes[at..c]);
                at = c;
            }
            chunks.push(&bytes[at..]);
            assert_eq!(parse_chunks(&chunks), whole, "{name}: round {round}");
            assert_eq!(watch_chunks(&chunks), whole_state, "{name}: round {round}");
        }
    }
}

/// An event as (event, data, id, retry).
type Fields = (Option<String>, String, Option<String>, Option<u64>);

fn events(items: Vec<Item>) -> Vec<Fields> {
    items
        .into_iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some((e.event, e.data, e.id, e.retry)),
            _ => None,
        })
        .collect()
}

#[test]
fn whatwg_field_rules() {
    // Examples in the spirit of the WHATWG event-stream section.
    let got = events(parse_chunks(&[
        b": comment\n\ndata: first\ndata\ndata:  two spaces\ndata:third\n\nevent: add\ndata: 73857293\nid: 3\nretry: 10x\n\nretry: 250\nid: bad\0id\ndata: x\n\n",
    ]));
    assert_eq!(
        got,
        vec![
            (None, "first\n\n two spaces\nthird".into(), None, None),
            (
                Some("add".into()),
                "73857293".into(),
                Some("3".into()),
                None
            ),
            // The id with a NUL is ignored; the last one persists.
            (None, "x".into(), Some("3".into()), Some(250)),
        ]
    );
}

#[test]
fn an_event_without_data_is_not_dispatched_and_unknown_fields_are_ignored() {
    let got = events(parse_chunks(&[b"event: ping\n\nfoo: bar\ndata: y\n\n"]));
    assert_eq!(got, vec![(None, "y".into(), None, None)]);
}

#[test]
fn a_bom_is_stripped_only_at_the_start() {
    let got = events(parse_chunks(&[
        b"\xEF\xBB",
        b"\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n",
    ]));
    // The second BOM makes the field name "\u{feff}data", which is not `data`.
    assert_eq!(got, vec![(None, "a".into(), None, None)]);
}

#[test]
fn cr_then_lf_in_separate_chunks_is_one_line_end() {
    let got = events(parse_chunks(&[
        b"data: a\r",
        b"\ndata: b\r",
        b"\n\r",
        b"\n",
    ]));
    assert_eq!(got, vec![(None, "a\nb".into(), None, None)]);
    // While a lone CR followed by data is a line end of its own.
    let got = events(parse_chunks(&[b"data: a\r", b"data: b\r\r"]));
    assert_eq!(got, vec![(None, "a\nb".into(), None, None)]);
}

#[test]
fn utf8_split_mid_character_is_kept_whole() {
    let text = "data: 👋é\n\n".as_bytes();
    for k in 0..text.len() {
        let got = events(parse_chunks(&[&text[..k], &text[k..]]));
        assert_eq!(got, vec![(None, "👋é".into(), None, None)], "split at {k}");
    }
}

#[test]
fn a_never_ending_line_is_bounded_and_reported() {
    let mut p = SseParser::with_limits(Limits {
        max_line: 1024,
        max_data: 4096,
    });
    let chunk = [b'a'; 1000];
    let mut items = p.push(b"data: ");
    for _ in 0..10_000 {
        items.extend(p.push(&chunk));
    }
    assert!(items.is_empty());
    items.extend(p.push(b"\n\ndata: ok\n\n"));
    assert_eq!(
        items[0],
        Item::LineTooLong {
            bytes: 6 + 10_000 * 1000
        }
    );
    // The event whose data line was dropped still happened.
    assert!(matches!(&items[1], Item::Event(e) if e.data.is_empty()));
    assert!(matches!(&items[2], Item::Event(e) if e.data == "ok"));

    // A terminal event with a huge data line (a base64 image) is still seen.
    let mut w = StreamWatch::with_limits(Limits {
        max_line: 1024,
        max_data: 1024,
    });
    w.push(
        b"event: response.created\ndata: {}\n\nevent: response.completed\ndata: {\"response\": \"",
    );
    for _ in 0..100 {
        w.push(&chunk);
    }
    w.push(b"\"}\n\n");
    assert_eq!(w.finish(), StreamState::Completed);
    assert_eq!(w.oversize(), 1);

    // Many short data lines: the event's data is capped too.
    let mut p = SseParser::with_limits(Limits {
        max_line: 1024,
        max_data: 100,
    });
    let mut items = Vec::new();
    for _ in 0..100 {
        items.extend(p.push(b"data: 0123456789\n"));
    }
    items.extend(p.push(b"\n"));
    assert!(matches!(items[0], Item::DataTooLong { .. }));
    assert!(matches!(&items[1], Item::Event(e) if e.data.len() <= 100));
}

/// What the Python SDK (`_streaming.py`) does with one event: raise `APIError` when the data is
/// an object with a truthy `error` (for any event name), stop at `[DONE]`.
fn python_raises(e: &airlock_rules::sse::Event) -> bool {
    if e.data.starts_with("[DONE]") {
        return false;
    }
    let v: serde_json::Value = serde_json::from_str(&e.data).expect("python: json.loads");
    v.get("error")
        .is_some_and(|x| !x.is_null() && x != &serde_json::json!({}) && x != false)
}

/// What the Node SDK (`streaming.ts`) does: for no event name or `response.*`, throw when
/// `data.error`; for `event: error`, always throw.
fn node_throws(e: &airlock_rules::sse::Event) -> bool {
    if e.data.starts_with("[DONE]") {
        return false;
    }
    let v: serde_json::Value = serde_json::from_str(&e.data).expect("node: JSON.parse");
    match e.event.as_deref() {
        None => v.get("error").is_some_and(|x| !x.is_null()),
        Some(n) if n.starts_with("response.") => v.get("error").is_some_and(|x| !x.is_null()),
        Some("error") => true,
        Some(_) => false,
    }
}

#[test]
fn the_interrupted_event_makes_both_sdks_raise() {
    for kind in [
        StreamKind::ChatCompletions,
        StreamKind::Responses,
        StreamKind::Unknown,
    ] {
        let text = interrupted_event(kind, "The upstream connection closed mid-stream.", Some(7));
        let evs: Vec<_> = parse_chunks(&[text.as_bytes()])
            .into_iter()
            .filter_map(|i| match i {
                Item::Event(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(evs.len(), 1, "{kind:?}");
        assert!(python_raises(&evs[0]), "{kind:?}: python would not raise");
        assert!(node_throws(&evs[0]), "{kind:?}: node would not throw");
        let s = describe_stream(&text).unwrap();
        let StreamState::Failed { error } = s.state else {
            panic!("{kind:?}: {s:?}")
        };
        assert_eq!(error.code.as_deref(), Some("stream_interrupted"));
        assert_eq!(
            error.message.as_deref(),
            Some("The upstream connection closed mid-stream.")
        );
        if kind == StreamKind::Responses {
            assert_eq!(error.sequence_number, Some(7));
        }
    }
}

#[test]
fn a_stream_cut_anywhere_before_its_end_closes_as_failed() {
    for (name, bytes, expect) in cases() {
        if !expect.contains("state=completed") {
            continue;
        }
        // The terminal event starts after the last blank line before the end.
        let body = &bytes[..bytes.len() - 2];
        let last_start = body
            .windows(2)
            .rposition(|w| w == b"\n\n" || w == b"\r\r")
            .map_or(0, |i| i + 2);
        let unparseable = |items: &[Item]| {
            items
                .iter()
                .filter(|i| match i {
                    Item::Event(e) => {
                        !e.data.starts_with("[DONE]")
                            && serde_json::from_str::<serde_json::Value>(&e.data).is_err()
                    }
                    _ => false,
                })
                .count()
        };
        let broken_before = unparseable(&parse_chunks(&[&bytes]));
        for k in 0..last_start {
            let mut w = StreamWatch::new();
            w.push(&bytes[..k]);
            assert!(w.terminal().is_none());
            let closing = w.closing_bytes("upstream closed");
            let mut all = bytes[..k].to_vec();
            all.extend_from_slice(&closing);
            let mut again = StreamWatch::new();
            again.push(&all);
            match again.finish() {
                StreamState::Failed { error } => {
                    assert_eq!(
                        error.code.as_deref(),
                        Some("stream_interrupted"),
                        "{name}: cut at {k}"
                    )
                }
                other => panic!("{name}: cut at {k}: {other:?}"),
            }
            // The appended error is one whole event at the end: both SDKs see it (if they got
            // past the partial event) and raise.
            let items = parse_chunks(&[&all]);
            let Some(Item::Event(last)) = items.last() else {
                panic!("{name}: cut at {k}: no event")
            };
            assert!(
                python_raises(last) && node_throws(last),
                "{name}: cut at {k}"
            );
            // Outside data already sent, no event the SDKs would choke on was made: they reach
            // the error event and raise APIError. (Inside such data, the data is continued into
            // an error object instead; `stream_drops.rs` checks every offset of that.)
            if !w.parser().pending_data() {
                assert!(
                    unparseable(&items) <= broken_before,
                    "{name}: cut at {k}: {:?}",
                    String::from_utf8_lossy(&all)
                );
            }
        }
    }
}

#[test]
fn describe_stream_ignores_text_without_events() {
    assert!(describe_stream("Traceback (most recent call last):\n  nothing here").is_none());
}

/// Streams cut by the upstream, followed by the bytes a proxy appends: committed under
/// `tests/streams/interrupted/` so end-to-end tests can serve them to the real SDKs.
/// `AIRLOCK_BLESS=1` rewrites them.
#[test]
fn interrupted_fixtures_are_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/streams");
    let src = |name: &str| std::fs::read(root.join(name)).unwrap();
    let nth_event_end = |bytes: &[u8], n: usize| -> usize {
        let mut at = 0;
        for _ in 0..n {
            at += bytes[at..].windows(2).position(|w| w == b"\n\n").unwrap() + 2;
        }
        at
    };
    let chat = src("chat_completed.sse");
    let resp = src("responses_completed.sse");
    let crlf = src("chat_crlf_comments.sse");
    let crlf_cut = crlf
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .nth(5)
        .unwrap()
        .0
        + 1; // right after a `\r`
    let cases: Vec<(&str, &[u8])> = vec![
        ("chat_at_event_boundary", &chat[..nth_event_end(&chat, 2)]),
        ("chat_mid_line", &chat[..nth_event_end(&chat, 2) + 40]),
        ("chat_after_cr", &crlf[..crlf_cut]),
        (
            "responses_at_event_boundary",
            &resp[..nth_event_end(&resp, 3)],
        ),
        ("responses_mid_event", &resp[..nth_event_end(&resp, 3) + 35]),
        ("before_any_event", &b""[..]),
    ];
    let dir = root.join("interrupted");
    let bless = std::env::var_os("AIRLOCK_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, cut) in cases {
        let mut w = StreamWatch::new();
        w.push(cut);
        let mut all = cut.to_vec();
        all.extend(
            w.closing_bytes("The upstream connection closed before the response was complete."),
        );
        let path = dir.join(format!("{name}.sse"));
        if bless {
            std::fs::write(&path, &all).unwrap();
        } else {
            let have = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run with AIRLOCK_BLESS=1)", path.display()));
            assert!(have == all, "{name} is stale (run with AIRLOCK_BLESS=1)");
        }
        let mut again = StreamWatch::new();
        again.push(&all);
        assert!(
            matches!(again.finish(), StreamState::Failed { .. }),
            "{name}"
        );
    }
}

#[test]
fn a_paste_without_blank_lines_is_read_event_by_event() {
    let text = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n  data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\ndata: [DONE]\n";
    let s = describe_stream(text).unwrap();
    assert_eq!(s.events, 3);
    assert_eq!(s.state, StreamState::Completed);
    assert_eq!(s.finish_reason.as_deref(), Some("length"));
}

#[test]
fn summaries_give_the_classifier_stream_evidence() {
    for (name, bytes, expect) in cases() {
        let s = describe_stream(core::str::from_utf8(&bytes).unwrap()).unwrap();
        match s.evidence() {
            None => assert!(expect.contains("state=completed"), "{name}"),
            Some(e) => {
                assert!(!expect.contains("state=completed"), "{name}");
                assert!(e.in_stream, "{name}");
                let d = airlock_rules::diagnose(&e);
                // The error's own category where it has one (rate_limit, context_length, …);
                // a stream that broke off is a stream_error.
                if expect.contains("state=cut") {
                    assert_eq!(d.category.as_str(), "stream_error", "{name}");
                }
            }
        }
    }
}
