//! Presentation layers a paste picks up on its way to the reader, taken off before any reader
//! runs: they change how the error looks, never what it says (issue 13, presentation invariance).
//!
//! - a terminal's colours (ANSI escape sequences: `ESC [ … m` and the other CSI and OSC forms);
//! - Windows line ends (`\r\n`) and blanks padding the ends of lines;
//! - a structured log record around the paste (`{"level":"error","time":…,"msg":"Error code: 400 -
//!   {\"error\": …"}`, Docker's `{"log":"…","stream":"stderr",…}`): its message fields are the paste;
//! - HTML escaping (`&quot;`, `&#39;`, `&lt;`) in a text that holds no markup of its own;
//! - a prefix a log pipeline put before every line: an RFC 3339 timestamp (`docker logs -t`,
//!   Kubernetes), a syslog/journald head (`Dec 07 10:31:02 host unit[pid]: `), a Compose service bar
//!   (`api-1  | `), or the same bracketed tag (`[worker-3] `);
//! - the lines of a Markdown code fence (```` ``` ````, `~~~`) around it;
//! - a hard wrap at a fixed width (every line longer than 60 to 200 columns broken at its last
//!   space before that column): a line is joined to the next when the next one's first word would
//!   not have fitted after it.
//!
//! Each layer is recognised only when it covers the whole paste (every non-empty line), so a line
//! that merely starts like one is read as it is.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// The paste without its presentation layers, or `None` when it has none.
pub(crate) fn strip(text: &str) -> Option<String> {
    let mut out: Option<String> = None;
    // A log record's message may itself be coloured or prefixed: a few rounds take every layer off.
    for _ in 0..3 {
        let cur = out.as_deref().unwrap_or(text);
        let next = strip_once(cur);
        match next {
            Some(n) if n != cur => out = Some(n),
            _ => break,
        }
    }
    // A hard wrap comes off last, once: the layers above may have put the wrapped lines in place.
    if let Some(n) = unwrapped(out.as_deref().unwrap_or(text)) {
        out = Some(n);
    }
    out
}

/// The text with a hard wrap at a fixed width taken off (a mail client, a narrow terminal's copy
/// or an issue form's reflow breaks every line longer than its width at the last space before it):
/// a line is joined to the next, with the space the wrap took, when the next line's first word
/// would not have fitted after it within the width (the longest line, 60 to 200 columns) and the
/// next line continues it rather than starting a record of its own (an indented line, a log
/// line's head, a traceback's or a table's line).
fn unwrapped(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < 2 {
        return None;
    }
    // The width: the narrowest line length (60 to 200 columns) that every longer line could not
    // have been broken at, having no space before it (a URL, a frame or a minified body stays
    // long).
    let first_space = |l: &str| {
        let t = l.trim_start();
        let indent = l.chars().count() - t.chars().count();
        t.chars()
            .position(|c| c == ' ')
            .map_or(usize::MAX, |i| indent + i)
    };
    let shape: Vec<(usize, usize)> = lines
        .iter()
        .map(|l| (l.chars().count(), first_space(l)))
        .collect();
    let width = (60..=200).find(|&w| {
        shape.iter().any(|&(len, _)| len == w)
            && shape.iter().all(|&(len, space)| len <= w || space >= w)
    })?;
    let mut joins: Vec<bool> = Vec::with_capacity(lines.len());
    // Quotes and parentheses the logical line has opened so far (across the lines joined into it).
    let (mut quotes, mut parens) = (0usize, 0isize);
    for w in lines.windows(2) {
        let continued = joins.last() == Some(&true);
        if !continued {
            (quotes, parens) = (0, 0);
        }
        quotes += quote_marks(w[0]);
        parens += w[0].matches('(').count() as isize - w[0].matches(')').count() as isize;
        let open = quotes % 2 == 1 || parens > 0;
        joins.push(wraps_into(w[0], w[1], width, continued, open));
    }
    if !joins.contains(&true) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        if i + 1 < lines.len() {
            out.push(if joins[i] { ' ' } else { '\n' });
        }
    }
    Some(out)
}

/// The quotes in `line` that open or close a string: `"` and `'` not escaped by a backslash, and
/// not an apostrophe between two letters (`model's`).
fn quote_marks(line: &str) -> usize {
    let mut n = 0;
    let mut prev: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let escaped = prev == Some('\\');
        let apostrophe = c == '\''
            && prev.is_some_and(char::is_alphanumeric)
            && chars.peek().is_some_and(|n| n.is_alphanumeric());
        if matches!(c, '"' | '\'') && !escaped && !apostrophe {
            n += 1;
        }
        prev = Some(c);
    }
    n
}

/// Whether `line` was cut from a longer one by a wrap at `width` and `next` is its continuation;
/// `continued` when `line` itself continues the line before it, `open` when a quoted string or a
/// parenthesis is open at its end.
fn wraps_into(line: &str, next: &str, width: usize, continued: bool, open: bool) -> bool {
    let len = line.chars().count();
    // A wrapped line fills a good part of the width, unless it is the rest of a wrapped line
    // before a word too long to fit (`convert the Json` above a minified body), and ends in a word
    // (the wrap took the space). A line longer than the width had no space to break at, so the
    // wrap left it whole: what follows it is a line of the paste's own.
    if (len * 3 < width && !continued)
        || len > width
        || line.ends_with([' ', '\t'])
        || line.trim().is_empty()
    {
        return false;
    }
    // The continuation starts with a word, at the margin.
    let Some(first) = next.split(' ').next().filter(|w| !w.is_empty()) else {
        return false;
    };
    if next.starts_with([' ', '\t']) || len + 1 + first.chars().count() <= width {
        return false;
    }
    // A line that closes a sentence before one that opens another, or closes a document (`}`,
    // `]`), ends where its writer ended it; not inside a quoted string or a parenthesis left open
    // (a v0 log field's `error_message="… 4097 tokens.` / `However, …"`, `(i.e.` / `Authorization: …)`).
    let end = line.trim_end().chars().last();
    let sentence_ends = matches!(end, Some('.' | '!' | '?' | '。' | '！' | '？'))
        && !first.starts_with(|c: char| c.is_lowercase() || c.is_ascii_digit());
    if !open && (sentence_ends || matches!(end, Some('}' | ']'))) {
        return false;
    }
    // A table's or a box's rows (`| a | b |`, `+----+`, `│ └ …` below a frame's value), and a
    // record of its own, are not continuations; a frame's value (`│ └ {'messages': …`) has one.
    const FRAME: [char; 9] = ['|', '│', '┃', '║', '├', '└', '┌', '╰', '╭'];
    let ruler = |l: &str| {
        let t = l.trim_start();
        t.starts_with("+-") || t.starts_with("+=")
    };
    // A blockquote's marker (`> `) opens a quoted line, not a continuation.
    let starts_record = next.starts_with(FRAME)
        || next.starts_with('>')
        || ruler(next)
        || ruler(line)
        || line.ends_with(FRAME)
        || log_head_len(next) > 0
        || source_location_head(next)
        || rfc3339_prefix(next).is_some()
        || syslog_prefix(next).is_some()
        || [
            "Traceback ",
            "File \"",
            "During handling",
            "The above exception",
            "Caused by",
            "```",
        ]
        .iter()
        .any(|p| next.starts_with(p));
    !starts_record
}

/// Whether `line` opens with a source location as a log's head (Go's `log` with `Lshortfile`:
/// `handler.go:54: …`): a file name with an extension, a line number, a colon and a space.
fn source_location_head(line: &str) -> bool {
    let Some((file, rest)) = line.split_once(':') else {
        return false;
    };
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    !stem.is_empty()
        && stem
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
        && (1..=4).contains(&ext.len())
        && ext.bytes().all(|c| c.is_ascii_lowercase())
        && digits > 0
        && rest.as_bytes().get(digits) == Some(&b':')
        && rest.as_bytes().get(digits + 1) == Some(&b' ')
}

fn strip_once(text: &str) -> Option<String> {
    let mut cur: Option<String> = None;
    macro_rules! layer {
        ($f:expr) => {
            if let Some(n) = $f(cur.as_deref().unwrap_or(text)) {
                cur = Some(n);
            }
        };
    }
    layer!(without_ansi);
    layer!(without_crlf);
    layer!(log_record_message);
    layer!(html_unescaped);
    layer!(without_line_prefixes);
    layer!(without_trailing_blanks);
    layer!(without_fences);
    cur
}

/// The text without ANSI escape sequences (CSI `ESC [ params final`, OSC `ESC ] … BEL|ESC \`, and
/// two-byte escapes).
fn without_ansi(text: &str) -> Option<String> {
    if !text.contains('\u{1b}') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\u{1b}' {
            out.push(ch);
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                // Parameter and intermediate bytes, then one final byte in `@`..=`~`.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                    if !(' '..='?').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        if chars.peek() == Some(&'\\') {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            Some(c) if ('@'..='_').contains(c) => {
                chars.next();
            }
            _ => {}
        }
    }
    Some(out)
}

/// The text with `\r\n` (and lone `\r`) line ends as `\n`.
fn without_crlf(text: &str) -> Option<String> {
    text.contains("\r\n").then(|| text.replace("\r\n", "\n"))
}

/// The text without spaces and tabs at the ends of its lines (a terminal's rectangular copy pads
/// every line to the window's width).
fn without_trailing_blanks(text: &str) -> Option<String> {
    let padded = text
        .split('\n')
        .any(|l| l.ends_with([' ', '\t']) && !l.trim().is_empty());
    if !padded {
        return None;
    }
    let out: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t']))
        .collect();
    Some(out.join("\n"))
}

/// Keys of a structured log record that hold its level (pino, bunyan, zap, logrus, structlog,
/// Python's `logging` as JSON, Google Cloud Logging, ECS).
const LEVEL_KEYS: [&str; 5] = ["level", "levelname", "severity", "lvl", "log.level"];
/// Top-level fields that state an HTTP status: a record with one (Spring Boot's error body:
/// `{"timestamp": …, "status": 429, "error": …, "message": …}`) is read as it is.
const STATUS_KEYS: [&str; 4] = ["status", "statusCode", "status_code", "http_status"];
/// Keys of a structured log record that hold its text.
const MESSAGE_KEYS: [&str; 8] = [
    "msg",
    "message",
    "@message",
    "log",
    "textPayload",
    "error",
    "err",
    "exc_info",
];

/// The message fields of a structured log record that is the whole paste (a JSON object with a
/// level key, or Docker's json-file record, and at least one message key holding a string), joined
/// by line breaks. An error body (`{"error": {…}}`) has no level key and is left as it is, and so
/// is a record that states a status of its own.
fn log_record_message(text: &str) -> Option<String> {
    let t = text.trim();
    if !t.starts_with('{') || !t.ends_with('}') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let obj = v.as_object()?;
    // A logger's record names its level; Docker's json-file record holds `log` with `stream` or
    // `time`.
    let docker = obj.get("log").is_some_and(serde_json::Value::is_string)
        && (obj.contains_key("stream") || obj.contains_key("time"));
    let leveled = LEVEL_KEYS.iter().any(|k| obj.contains_key(*k));
    if !(docker || leveled) || STATUS_KEYS.iter().any(|k| obj.contains_key(*k)) {
        return None;
    }
    let parts: Vec<&str> = MESSAGE_KEYS
        .iter()
        .filter_map(|k| obj.get(*k).and_then(serde_json::Value::as_str))
        .filter(|s| !s.trim().is_empty())
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("\n"))
}

/// The text with HTML's character references resolved, when it is escaped text rather than markup:
/// it holds an escaped quote or angle bracket and no tag of its own (`<` before a letter, `/` or
/// `!`), so an HTML page keeps its entities.
fn html_unescaped(text: &str) -> Option<String> {
    const ESCAPES: [(&str, char); 9] = [
        ("&quot;", '"'),
        ("&#34;", '"'),
        ("&#x22;", '"'),
        ("&#39;", '\''),
        ("&#x27;", '\''),
        ("&apos;", '\''),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
    ];
    let escaped = ESCAPES[..8].iter().any(|(e, _)| text.contains(e));
    if !escaped {
        return None;
    }
    let has_markup = text.match_indices('<').any(|(i, _)| {
        text[i + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
    });
    if has_markup {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some((e, ch)) = ESCAPES.iter().find(|(e, _)| tail.starts_with(e)) {
            out.push(*ch);
            rest = &tail[e.len()..];
        } else {
            out.push('&');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The length of an RFC 3339 timestamp and the space after it at the start of `line`
/// (`2026-12-07T10:31:02.123456789Z `, `2026-12-07T10:31:02+01:00 `).
fn rfc3339_prefix(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let digits = |r: core::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let shape = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') if digits(i + 1..i + 3) => {
            i += 3;
            if b.get(i) == Some(&b':') {
                i += 1;
            }
            if digits(i..i + 2) {
                i += 2;
            }
        }
        _ => {}
    }
    (b.get(i) == Some(&b' ')).then_some(i + 1)
}

/// The length of a syslog/journald head at the start of `line` (`Dec 07 10:31:02 host unit[pid]: `).
fn syslog_prefix(line: &str) -> Option<usize> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = line.get(..3)?;
    if !MONTHS.contains(&month) || line.as_bytes().get(3) != Some(&b' ') {
        return None;
    }
    let mut words = line[4..].trim_start_matches(' ').splitn(4, ' ');
    let day = words.next()?;
    let time = words.next()?;
    let host = words.next()?;
    let rest = words.next()?;
    let time_ok = time.len() == 8
        && time.bytes().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                c == b':'
            } else {
                c.is_ascii_digit()
            }
        });
    if !(day.len() <= 2 && day.bytes().all(|c| c.is_ascii_digit()) && time_ok && !host.is_empty()) {
        return None;
    }
    // The unit (with an optional `[pid]`) ends with `: `.
    let end = rest.find(": ")?;
    let unit = &rest[..end];
    let unit_ok = !unit.is_empty()
        && unit
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@[]/".contains(c));
    unit_ok.then(|| line.len() - rest.len() + end + 2)
}

/// The length of a Docker Compose service bar at the start of `line` (`api-1  | `).
fn compose_prefix(line: &str) -> Option<usize> {
    let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))?;
    if name_end == 0 {
        return None;
    }
    let after = &line[name_end..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    if spaces == 0 {
        return None;
    }
    let bar = &after[spaces..];
    if bar == "|" {
        return Some(line.len());
    }
    bar.starts_with("| ").then_some(name_end + spaces + 2)
}

/// The length of a bracketed tag and its space at the start of `line` (`[worker-3] `): the tag
/// holds no quote, brace or bracket, so a JSON array is not one.
fn tag_prefix(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('[')?;
    let end = rest.find(']')?;
    let tag = &rest[..end];
    let ok = !tag.is_empty() && tag.len() <= 40 && !tag.contains(['"', '\'', '{', '}', '[', ',']);
    (ok && rest[end + 1..].starts_with(' ')).then(|| &line[..end + 3])
}

/// The text without a prefix that a log pipeline put before every non-empty line.
fn without_line_prefixes(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let filled = || lines.iter().filter(|l| !l.trim().is_empty());
    filled().next()?;
    type Recogniser = fn(&str) -> Option<usize>;
    let recognisers: [Recogniser; 3] = [rfc3339_prefix, syslog_prefix, compose_prefix];
    for r in recognisers {
        if filled().all(|l| r(l).is_some()) {
            let out: Vec<&str> = lines.iter().map(|l| r(l).map_or(*l, |n| &l[n..])).collect();
            return Some(out.join("\n"));
        }
    }
    // The same bracketed tag before every line, on two lines at least (one line's tag is the log
    // line's own, which the readers know: `[ERROR] 429 …`).
    let first = tag_prefix(filled().next()?)?;
    if filled().nth(1).is_some() && filled().all(|l| tag_prefix(l) == Some(first)) {
        let out: Vec<&str> = lines
            .iter()
            .map(|l| l.strip_prefix(first).unwrap_or(l))
            .collect();
        return Some(out.join("\n"));
    }
    None
}

/// The text without the marker lines of Markdown code fences (```` ```lang ````, `~~~`), when they
/// come in pairs.
fn without_fences(text: &str) -> Option<String> {
    let is_fence = |l: &str| {
        let t = l.trim();
        (t.starts_with("```") || t.starts_with("~~~"))
            && !t[3..].contains('`')
            && t[3..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+ ".contains(c))
    };
    let fences = text.split('\n').filter(|l| is_fence(l)).count();
    if fences == 0 || fences % 2 != 0 {
        return None;
    }
    let out: Vec<&str> = text
        .split('\n')
        .map(|l| if is_fence(l) { "" } else { l })
        .collect();
    Some(out.join("\n").trim().to_owned())
}

/// The length of a logger's head at the start of `line`: a timestamp (`2026-12-07 10:31:02,123 `,
/// RFC 3339), a level (`ERROR`, `[WARNING]`) and a logger's name before `: ` or ` - `, in the
/// shapes Python's `logging`, Log4j/Logback and Go's `log` print; at least a timestamp or a level.
/// 0 when the line has none.
pub(crate) fn log_head_len(line: &str) -> usize {
    const LEVELS: [&str; 8] = [
        "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "CRITICAL", "FATAL", "TRACE",
    ];
    let b = line.as_bytes();
    let mut i = 0;
    let digits =
        |r: core::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    // A date and a time, `T` or a space between them.
    let stamped = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b' '))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if stamped {
        i = 19;
        while b.get(i).is_some_and(|c| {
            c.is_ascii_digit() || matches!(c, b'.' | b',' | b'Z' | b'+' | b'-' | b':')
        }) {
            i += 1;
        }
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    let rest = &line[i..];
    let bracketed = rest.starts_with('[');
    let r = rest.trim_start_matches('[');
    let level = LEVELS.iter().find(|l| r.starts_with(*l));
    if let Some(l) = level {
        let mut j = rest.len() - r.len() + l.len();
        if bracketed && rest[j..].starts_with(']') {
            j += 1;
        }
        let after = &rest[j..];
        if after.starts_with(": ") {
            return i + j + 2;
        }
        if !after.starts_with([' ', ':']) {
            return if stamped { i } else { 0 };
        }
        i += j;
        // `ERROR:app.module:` (logging's basic format) or ` app.module: ` / ` app.module - `.
        let after = &line[i..];
        let name_from = usize::from(after.starts_with([' ', ':']));
        let name = &after[name_from..];
        let name_len = name
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(name.len());
        let tail = &name[name_len..];
        for sep in [": ", ":", " - "] {
            if name_len > 0 && tail.starts_with(sep) {
                return i + name_from + name_len + sep.len();
            }
        }
        return i + usize::from(after.starts_with(' '));
    }
    if stamped { i } else { 0 }
}
