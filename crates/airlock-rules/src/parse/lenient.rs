//! A lenient reader for the value syntaxes people paste: JSON, Python reprs (`{'a': None}`) and
//! Node's `util.inspect` dumps (`{ status: 429, headers: Headers { … }, error: [Object] }`).
//!
//! It produces `serde_json::Value`s and never fails outright: at a syntax error or at the end of the
//! text it closes every open container and returns what it read, marked incomplete. It runs on an
//! explicit stack (no recursion), reads each byte at most a bounded number of times, and stops
//! building values below [`MAX_DEPTH`] so that dropping the result cannot overflow the stack either.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Number, Value};

/// Containers nested deeper than this are read but not kept.
pub(crate) const MAX_DEPTH: usize = 48;

/// The longest `[Placeholder]` (`[Object]`, `[Function: x]`, `[Errno 111]`) recognised.
const MAX_PLACEHOLDER: usize = 96;

/// A value read from the text.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// What was read.
    pub value: Value,
    /// Byte offset just past the last byte read.
    pub end: usize,
    /// False when the value was cut off (end of text or a syntax error) and closed by force.
    pub complete: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Obj,
    Arr,
    Paren,
}

#[derive(Debug)]
struct Frame {
    kind: Kind,
    map: Map<String, Value>,
    arr: Vec<Value>,
    key: Option<String>,
    /// The key of the last value read as a bare word (it may go on after a comma).
    last_bare: Option<String>,
}

impl Frame {
    fn new(kind: Kind) -> Self {
        Frame {
            kind,
            map: Map::new(),
            arr: Vec::new(),
            key: None,
            last_bare: None,
        }
    }

    fn into_value(self) -> Value {
        match self.kind {
            Kind::Obj => Value::Object(self.map),
            Kind::Arr => Value::Array(self.arr),
            Kind::Paren => {
                if !self.map.is_empty() {
                    // `Batch(id='batch_1', status='failed')`: keyword arguments read as an object.
                    return Value::Object(self.map);
                }
                let mut arr = self.arr;
                if arr.len() == 1 {
                    arr.pop().unwrap_or(Value::Null)
                } else {
                    Value::Array(arr)
                }
            }
        }
    }

    fn put(&mut self, v: Value) {
        self.last_bare = None;
        match self.kind {
            Kind::Obj => {
                if let Some(k) = self.key.take() {
                    self.map.insert(k, v);
                }
            }
            Kind::Paren => match self.key.take() {
                Some(k) => {
                    self.map.insert(k, v);
                }
                None => self.arr.push(v),
            },
            Kind::Arr => self.arr.push(v),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Value,
    Key,
    After,
}

enum StrEnd {
    Closed,
    Eof,
    Newline,
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.' | b'-') || c >= 0x80
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    /// Skips spaces and tabs only; returns the next byte on the same line.
    fn peek_same_line(&self) -> Option<u8> {
        let mut j = self.i;
        while j < self.b.len() && matches!(self.b[j], b' ' | b'\t') {
            j += 1;
        }
        self.b.get(j).copied()
    }

    fn skip_spaces(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t') {
            self.i += 1;
        }
    }

    /// True when only spaces stand between the start of the line and `at`.
    fn starts_line(&self, at: usize) -> bool {
        let mut j = at.min(self.b.len());
        while j > 0 && matches!(self.b[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        j == 0 || self.b[j - 1] == b'\n'
    }

    fn line_end(&self, at: usize) -> usize {
        let mut j = at;
        while j < self.b.len() && self.b[j] != b'\n' {
            j += 1;
        }
        j
    }

    /// Where a quoted string that reaches a newline at `self.i` closes, when it plainly goes on
    /// over at most eight more lines (a narrow terminal breaks every few words): no object or escape in between, no continuation line that
    /// starts like a field (`type: 'tokens',`, `"param": null`), and a `,` `}` `]` or line end after
    /// the closing quote. Prose may hold brackets and colons ("the valid range of max_tokens is
    /// [1, 8192]", "read the\ndocs: https://…", "per min: Limit 10000"). Single-quoted strings (a
    /// Python repr's) qualify too, since a repr escapes any quote inside them.
    fn wrapped_string_end(&self, q: u8) -> Option<usize> {
        if q != b'"' && q != b'\'' {
            return None;
        }
        let rest = &self.b[self.i..];
        let close = rest.iter().take(600).position(|&c| c == q)?;
        let seg = &rest[..close];
        if seg.iter().filter(|&&c| c == b'\n').count() > 8
            || seg.iter().any(|&c| matches!(c, b'{' | b'}' | b'\\'))
        {
            return None;
        }
        // A continuation line that starts with a key (`type: 'tokens',`, `"param": null`) is the
        // next field, not more of the string; "docs: https://…" is prose.
        let keyed = seg.split(|&c| c == b'\n').skip(1).any(key_line);
        if keyed || seg.starts_with(b"\n") && seg[1..].trim_ascii().is_empty() {
            return None;
        }
        let after = rest[close + 1..]
            .iter()
            .find(|&&c| c != b' ' && c != b'\t' && c != b'\r');
        match after {
            None | Some(b',' | b'}' | b']' | b'\n') => Some(self.i + close),
            _ => None,
        }
    }

    /// Reads a quoted string starting at the quote. Strings end at a newline unless backquoted.
    fn string(&mut self) -> (String, StrEnd) {
        let q = self.b[self.i];
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.b.len() {
                let c = self.b[self.i];
                if c == q || c == b'\\' || (c == b'\n' && q != b'`') {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.s[start..self.i]);
            let Some(c) = self.peek() else {
                return (out, StrEnd::Eof);
            };
            if c == q {
                self.i += 1;
                return (out, StrEnd::Closed);
            }
            if c == b'\n' {
                if let Some(close) = self.wrapped_string_end(q) {
                    // A string a terminal or a chat window broke over lines: join them.
                    let mut k = self.i;
                    let mut seg = String::new();
                    while k < close {
                        let ch = self.b[k];
                        if ch == b'\n' || ch == b'\r' {
                            if !seg.is_empty() {
                                out.push_str(seg.trim());
                                out.push(' ');
                                seg.clear();
                            }
                            k += 1;
                            continue;
                        }
                        let end = self.s[k..close].find(['\n', '\r']).map_or(close, |e| k + e);
                        seg.push_str(&self.s[k..end]);
                        k = end;
                    }
                    out.push_str(seg.trim());
                    let trimmed = out.trim_end().len();
                    out.truncate(trimmed);
                    self.i = close + 1;
                    return (out, StrEnd::Closed);
                }
                if self.b[self.i..].iter().all(u8::is_ascii_whitespace) {
                    // The paste was cut inside the string: what came is all there is.
                    return (out, StrEnd::Eof);
                }
                return (out, StrEnd::Newline);
            }
            // A backslash escape.
            self.i += 1;
            let Some(e) = self.peek() else {
                return (out, StrEnd::Eof);
            };
            self.i += 1;
            match e {
                b'n' => out.push('\n'),
                b't' => out.push('\t'),
                b'r' => out.push('\r'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'0' => out.push('\0'),
                b'\n' => {}
                b'u' => {
                    let cp = self.hex(4);
                    match cp {
                        Some(hi @ 0xD800..=0xDBFF) => {
                            let lo = if self.b.get(self.i) == Some(&b'\\')
                                && self.b.get(self.i + 1) == Some(&b'u')
                            {
                                self.i += 2;
                                self.hex(4)
                            } else {
                                None
                            };
                            let c = match lo {
                                Some(lo @ 0xDC00..=0xDFFF) => {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                }
                                _ => None,
                            };
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        Some(cp) => out.push(char::from_u32(cp).unwrap_or('\u{FFFD}')),
                        None => out.push('\u{FFFD}'),
                    }
                }
                b'x' => match self.hex(2).and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push('\u{FFFD}'),
                },
                b'U' => match self.hex(8).and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push('\u{FFFD}'),
                },
                c if c < 0x80 => out.push(c as char),
                _ => {
                    // A backslash before a multi-byte character: keep the character.
                    let start = self.i - 1;
                    let mut end = self.i;
                    while end < self.b.len() && (self.b[end] & 0xC0) == 0x80 {
                        end += 1;
                    }
                    out.push_str(&self.s[start..end]);
                    self.i = end;
                }
            }
        }
    }

    fn hex(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let digits = self.b.get(self.i..end)?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16)?;
        }
        self.i = end;
        Some(v)
    }

    /// Reads a string and any JS `+` concatenations that follow it.
    fn string_concat(&mut self) -> (String, StrEnd) {
        let (mut s, mut end) = self.string();
        while matches!(end, StrEnd::Closed) {
            let save = self.i;
            self.ws();
            if self.peek() != Some(b'+') {
                self.i = save;
                break;
            }
            self.i += 1;
            self.ws();
            if !matches!(self.peek(), Some(b'\'' | b'"' | b'`')) {
                self.i = save;
                break;
            }
            let (more, e) = self.string();
            s.push_str(&more);
            end = e;
        }
        (s, end)
    }

    /// If a `[Placeholder]` starts here (`[Object]`, `[Function: f]`, `[Errno 111]`), its inside.
    fn placeholder(&self) -> Option<(&str, usize)> {
        let first = *self.b.get(self.i + 1)?;
        if !(first.is_ascii_uppercase() || first == b'@') {
            return None;
        }
        let limit = (self.i + MAX_PLACEHOLDER).min(self.b.len());
        let mut j = self.i + 1;
        while j < limit {
            match self.b[j] {
                b']' => return Some((&self.s[self.i + 1..j], j + 1)),
                b'[' | b'{' | b'"' | b'\'' | b',' | b'\n' => return None,
                _ => j += 1,
            }
        }
        None
    }

    /// Reads a key: a quoted string, a `[bracketed]` key or a bare word.
    fn key(&mut self) -> Option<String> {
        match self.peek()? {
            b'"' | b'\'' | b'`' => match self.string() {
                (k, StrEnd::Closed) => Some(k),
                _ => None,
            },
            b'[' => {
                let limit = (self.i + MAX_PLACEHOLDER).min(self.b.len());
                let mut j = self.i + 1;
                while j < limit && self.b[j] != b']' && self.b[j] != b'\n' {
                    j += 1;
                }
                if j < limit && self.b[j] == b']' {
                    let k = String::from(&self.s[self.i + 1..j]);
                    self.i = j + 1;
                    Some(k)
                } else {
                    None
                }
            }
            c if is_ident_byte(c) => {
                let start = self.i;
                while self.i < self.b.len() && is_ident_byte(self.b[self.i]) {
                    self.i += 1;
                }
                Some(String::from(&self.s[start..self.i]))
            }
            _ => None,
        }
    }

    /// After a bare word in a Node dump, skips the stack frames (`    at …`) that follow it. Returns
    /// true when the last frame line ends with `{` (the error's own properties follow).
    fn skip_stack_frames(&mut self) -> bool {
        let mut opened = false;
        loop {
            let mut j = self.i;
            // Go to the next line.
            while j < self.b.len() && self.b[j] != b'\n' {
                if !matches!(self.b[j], b' ' | b'\t' | b'\r') {
                    return opened;
                }
                j += 1;
            }
            if j >= self.b.len() {
                return opened;
            }
            let ls = j + 1;
            let le = self.line_end(ls);
            let line = self.s[ls..le].trim();
            if line.starts_with("at ") || line.starts_with("...") {
                self.i = le;
                opened = line.ends_with('{');
                if opened {
                    return true;
                }
            } else {
                return opened;
            }
        }
    }
}

/// Whether a line starts like a field of an object: a key (bare or quoted), a colon, and the
/// start of a value.
fn key_line(line: &[u8]) -> bool {
    let line = line.trim_ascii_start();
    let (line, quoted) = match line.first() {
        Some(b'"' | b'\'') => (&line[1..], true),
        _ => (line, false),
    };
    let key = line
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
        .count();
    if key == 0 {
        return false;
    }
    let mut rest = &line[key..];
    if quoted {
        match rest.first() {
            Some(b'"' | b'\'') => rest = &rest[1..],
            _ => return false,
        }
    }
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let value = rest.trim_ascii_start();
    if value.len() == rest.len() && !rest.is_empty() {
        // `https://…`: no space after the colon.
        return false;
    }
    match value.first() {
        None => true,
        Some(c) if matches!(c, b'\'' | b'"' | b'`' | b'[' | b'{' | b'-') || c.is_ascii_digit() => {
            true
        }
        Some(_) => [
            "null",
            "true",
            "false",
            "undefined",
            "None",
            "True",
            "False",
        ]
        .iter()
        .any(|w| value.starts_with(w.as_bytes())),
    }
}

fn literal(tok: &str) -> Option<Value> {
    Some(match tok {
        "null" | "None" | "undefined" | "NaN" | "nil" | "Infinity" | "-Infinity" => Value::Null,
        "true" | "True" => Value::Bool(true),
        "false" | "False" => Value::Bool(false),
        _ => return None,
    })
}

fn number(tok: &str) -> Option<Value> {
    let first = *tok.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'-') {
        return None;
    }
    if !tok
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    if let Ok(u) = tok.parse::<u64>() {
        return Some(Value::Number(u.into()));
    }
    if let Ok(i) = tok.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    let f = tok.parse::<f64>().ok()?;
    Number::from_f64(f).map(Value::Number)
}

fn plain_ident(tok: &str) -> bool {
    !tok.is_empty() && tok.bytes().all(is_ident_byte)
}

/// Reads the value that starts at byte `start` of `s` (which should be `{`, `[`, a quote or a
/// scalar). Returns `None` when nothing could be read there. `work` grows by the bytes read.
pub(crate) fn parse_at(s: &str, start: usize, work: &mut usize) -> Option<Parsed> {
    let mut r = Reader {
        s,
        b: s.as_bytes(),
        i: start,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut skip = 0usize;
    let mut state = State::Value;
    let mut root: Option<Value> = None;
    let mut complete = false;

    // Pushes a value into the innermost container, or makes it the root.
    macro_rules! emit {
        ($v:expr) => {{
            let v: Value = $v;
            if skip > 0 {
                // Deeper than MAX_DEPTH: dropped.
            } else if let Some(top) = stack.last_mut() {
                top.put(v);
            } else {
                root = Some(v);
                complete = true;
                break;
            }
            state = State::After;
            continue;
        }};
    }
    macro_rules! open {
        ($kind:expr) => {{
            if skip > 0 || stack.len() >= MAX_DEPTH {
                skip += 1;
            } else {
                stack.push(Frame::new($kind));
            }
            state = if $kind == Kind::Obj {
                State::Key
            } else {
                State::Value
            };
        }};
    }

    loop {
        match state {
            State::Value => {
                r.ws();
                let Some(c) = r.peek() else { break };
                match c {
                    b'{' => {
                        r.i += 1;
                        open!(Kind::Obj);
                    }
                    b'(' => {
                        r.i += 1;
                        open!(Kind::Paren);
                    }
                    b'[' => {
                        if let Some((inner, end)) = r.placeholder() {
                            let inner = String::from(inner);
                            r.i = end;
                            if matches!(r.peek_same_line(), Some(b'{' | b'[')) {
                                // `[Object: null prototype] {`: the object follows.
                                r.skip_spaces();
                                continue;
                            }
                            emit!(Value::String(inner));
                        } else {
                            r.i += 1;
                            open!(Kind::Arr);
                        }
                    }
                    b'}' | b']' | b')' => {
                        // A trailing comma, or an empty container closed by the wrong bracket.
                        state = State::After;
                    }
                    b',' => emit!(Value::Null),
                    b'"' | b'\'' | b'`' => {
                        let (text, end) = r.string_concat();
                        match end {
                            StrEnd::Closed => emit!(Value::String(text)),
                            StrEnd::Eof => {
                                if skip == 0 {
                                    if let Some(top) = stack.last_mut() {
                                        top.put(Value::String(text));
                                    } else {
                                        root = Some(Value::String(text));
                                    }
                                }
                                break;
                            }
                            // A value cut inside a string at the end of its line, with more
                            // text after it (the reporter's own words below a cut paste): what
                            // came of the string is kept, as at the end of the text.
                            StrEnd::Newline => {
                                if skip == 0
                                    && let Some(top) = stack.last_mut()
                                {
                                    top.put(Value::String(text));
                                }
                                break;
                            }
                        }
                    }
                    _ => {
                        // Python string prefixes: b'…', r"…", u'…', f'…', rb'…'.
                        let mut j = r.i;
                        while j < r.b.len()
                            && j < r.i + 2
                            && matches!(
                                r.b[j],
                                b'b' | b'B' | b'r' | b'R' | b'u' | b'U' | b'f' | b'F'
                            )
                        {
                            j += 1;
                        }
                        if j > r.i && matches!(r.b.get(j), Some(b'\'' | b'"')) {
                            r.i = j;
                            continue;
                        }
                        if c == b'<' {
                            // `<ref *1> Error: …`: skip the marker.
                            let limit = (r.i + 16).min(r.b.len());
                            if let Some(k) = r.b[r.i..limit].iter().position(|&x| x == b'>') {
                                r.i += k + 1;
                                r.skip_spaces();
                                if r.peek().is_some_and(|x| x != b'\n') {
                                    continue;
                                }
                            }
                        }
                        // A keyword argument inside `Name(…)`: `status='failed'`.
                        if skip == 0 && stack.last().is_some_and(|f| f.kind == Kind::Paren) {
                            let mut j = r.i;
                            while j < r.b.len()
                                && (r.b[j].is_ascii_alphanumeric() || r.b[j] == b'_')
                            {
                                j += 1;
                            }
                            if j > r.i && r.b.get(j) == Some(&b'=') && r.b.get(j + 1) != Some(&b'=')
                            {
                                let k = String::from(&s[r.i..j]);
                                if let Some(top) = stack.last_mut() {
                                    top.key = Some(k);
                                }
                                r.i = j + 1;
                                continue;
                            }
                        }
                        let tstart = r.i;
                        while r.i < r.b.len()
                            && !matches!(
                                r.b[r.i],
                                b',' | b'}' | b']' | b')' | b'(' | b'{' | b'[' | b'\n'
                            )
                        {
                            r.i += 1;
                        }
                        let tok = s[tstart..r.i].trim();
                        if plain_ident(tok) {
                            if let Some(v) = literal(tok) {
                                emit!(v);
                            }
                            if let Some(v) = number(tok) {
                                emit!(v);
                            }
                            match r.peek() {
                                // `Headers({...})`, `Map(2) {…}`, `datetime.datetime(2024, 1, 1)`.
                                Some(b'(') => {
                                    r.i += 1;
                                    open!(Kind::Paren);
                                    continue;
                                }
                                // `Headers {…}`, `AxiosHeaders {…}`: a class name before an object.
                                Some(b'{' | b'[') => continue,
                                _ => {}
                            }
                        } else if !tok.is_empty() && matches!(r.peek(), Some(b'(' | b'{' | b'[')) {
                            // Prose with brackets: read on to the end of the value.
                            while r.i < r.b.len() && !matches!(r.b[r.i], b',' | b'}' | b']' | b'\n')
                            {
                                r.i += 1;
                            }
                        }
                        let tok = s[tstart..r.i].trim();
                        if tok.is_empty() {
                            if r.i == tstart {
                                // Nothing readable here.
                                break;
                            }
                            emit!(Value::Null);
                        }
                        let tok = String::from(tok);
                        if !stack.is_empty() && r.skip_stack_frames() {
                            // `cause: FetchError: …\n    at … {`: the error's properties follow.
                            if skip > 0 || stack.len() >= MAX_DEPTH {
                                skip += 1;
                            } else {
                                let mut f = Frame::new(Kind::Obj);
                                f.map.insert(String::from("message"), Value::String(tok));
                                stack.push(f);
                            }
                            r.i += 1;
                            state = State::Key;
                            continue;
                        }
                        let bare_key = stack.last().and_then(|f| f.key.clone());
                        if skip == 0 {
                            if let Some(top) = stack.last_mut() {
                                top.put(Value::String(tok));
                                top.last_bare = bare_key;
                                state = State::After;
                                continue;
                            }
                        }
                        emit!(Value::String(tok));
                    }
                }
            }
            State::Key => {
                r.ws();
                let Some(c) = r.peek() else { break };
                if matches!(c, b'}' | b']' | b')') {
                    state = State::After;
                    continue;
                }
                if c == b',' {
                    r.i += 1;
                    continue;
                }
                let at = r.i;
                let key = r.key();
                r.skip_spaces();
                let sep = match r.peek() {
                    Some(b':') => {
                        r.i += 1;
                        true
                    }
                    Some(b'=') if r.b.get(r.i + 1) == Some(&b'>') => {
                        r.i += 2;
                        true
                    }
                    // Java `toString()`: `OpenAIError{additionalProperties={message=…, code=…}}`.
                    Some(b'=') if r.b.get(r.i + 1) != Some(&b'=') => {
                        r.i += 1;
                        true
                    }
                    _ => false,
                };
                match key {
                    Some(k) if sep => {
                        if let Some(top) = stack.last_mut() {
                            top.key = Some(k);
                        }
                        state = State::Value;
                    }
                    _ if skip == 0
                        && stack.last().is_some_and(|f| f.last_bare.is_some())
                        && !matches!(r.b.get(at), Some(b'{' | b'[' | b'"' | b'\'')) =>
                    {
                        // `message=Limit 30000, Used 29871, …` (Java): the comma was part of
                        // the value.
                        let mut j = at;
                        while j < r.b.len() && !matches!(r.b[j], b',' | b'}' | b']' | b'\n') {
                            j += 1;
                        }
                        if let Some(top) = stack.last_mut() {
                            if let Some(Value::String(prev)) =
                                top.last_bare.as_ref().and_then(|k| top.map.get_mut(k))
                            {
                                prev.push_str(", ");
                                prev.push_str(s[at..j].trim());
                            }
                        }
                        r.i = j;
                        state = State::After;
                    }
                    _ => {
                        // Node stack frames inside an object: skip the line.
                        let has_keys = skip > 0 || stack.last().is_some_and(|f| !f.map.is_empty());
                        let frame = s[at..].starts_with("at ") || s[at..].starts_with("...");
                        if has_keys && frame && r.starts_line(at) {
                            r.i = r.line_end(at);
                            continue;
                        }
                        r.i = at.max(r.i);
                        break;
                    }
                }
            }
            State::After => {
                r.ws();
                let Some(c) = r.peek() else { break };
                match c {
                    b',' => {
                        r.i += 1;
                        state = if skip == 0 && stack.last().is_some_and(|f| f.kind == Kind::Obj) {
                            State::Key
                        } else {
                            State::Value
                        };
                        if skip > 0 {
                            // Inside dropped containers we cannot tell objects from arrays; a key
                            // read as a value is harmless there.
                            state = State::Value;
                        }
                    }
                    b'}' | b']' | b')' => {
                        r.i += 1;
                        if skip > 0 {
                            skip -= 1;
                            state = State::After;
                            continue;
                        }
                        let Some(top) = stack.pop() else { break };
                        let expected = match top.kind {
                            Kind::Obj => b'}',
                            Kind::Arr => b']',
                            Kind::Paren => b')',
                        };
                        if c != expected {
                            stack.push(top);
                            r.i -= 1;
                            break;
                        }
                        let was_paren = top.kind == Kind::Paren;
                        let v = top.into_value();
                        if was_paren && matches!(r.peek_same_line(), Some(b'{' | b'[')) {
                            // `Map(2) {…}`: the container that follows is the value.
                            state = State::Value;
                            continue;
                        }
                        emit!(v);
                    }
                    b':' if skip > 0 => {
                        r.i += 1;
                        state = State::Value;
                    }
                    _ => {
                        // A missing comma (Node dumps across lines): carry on if it reads.
                        if skip > 0 {
                            state = State::Value;
                        } else {
                            match stack.last().map(|f| f.kind) {
                                Some(Kind::Obj) => state = State::Key,
                                Some(_) => state = State::Value,
                                None => break,
                            }
                        }
                    }
                }
            }
        }
    }

    // Close whatever is still open.
    while let Some(top) = stack.pop() {
        let v = top.into_value();
        match stack.last_mut() {
            Some(parent) => parent.put(v),
            None => root = Some(v),
        }
    }
    *work += r.i.saturating_sub(start) + 1;
    let value = root?;
    Some(Parsed {
        value,
        end: r.i.max(start + 1),
        complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> (Value, bool) {
        let mut w = 0;
        let r = parse_at(s, 0, &mut w).expect("a value");
        (r.value, r.complete)
    }

    #[test]
    fn json() {
        let (v, c) =
            p(r#"{"error": {"message": "a \"b\" \u00e9", "param": null, "n": [1, 2.5, -3]}}"#);
        assert!(c);
        assert_eq!(
            v,
            json!({"error": {"message": "a \"b\" é", "param": null, "n": [1, 2.5, -3]}})
        );
    }

    #[test]
    fn python_repr() {
        let (v, c) = p(
            r#"{'error': {'message': "This model's max", 'type': 'x', 'param': None, 'ok': True, 'esc': 'it\'s \\ \x41'}}"#,
        );
        assert!(c);
        assert_eq!(
            v,
            json!({"error": {"message": "This model's max", "type": "x", "param": null, "ok": true, "esc": "it's \\ A"}})
        );
    }

    #[test]
    fn node_inspect() {
        let text = "{\n  status: 400,\n  headers: Headers {\n    'x-request-id': 'req_1',\n  },\n  error: {\n    message: 'Invalid value: ' +\n      'more',\n    type: 'invalid_request_error', param: null, code: undefined\n  },\n  extra: [Object], list: [Array], fn: [Function: bound fetch]\n}";
        let (v, c) = p(text);
        assert!(c);
        assert_eq!(v["status"], json!(400));
        assert_eq!(v["headers"]["x-request-id"], json!("req_1"));
        assert_eq!(v["error"]["message"], json!("Invalid value: more"));
        assert_eq!(v["error"]["code"], Value::Null);
        assert_eq!(v["extra"], json!("Object"));
    }

    #[test]
    fn node_cause_with_stack() {
        let text = "{\n  status: undefined,\n  cause: FetchError: request to https://api.openai.com/v1/x failed, reason: connect ECONNREFUSED 1.2.3.4:443\n      at ClientRequest.<anonymous> (/a/index.js:1:1)\n      at ClientRequest.emit (node:events:517:28) {\n    type: 'system',\n    errno: 'ECONNREFUSED',\n    code: 'ECONNREFUSED'\n  }\n}";
        let (v, c) = p(text);
        assert!(c, "{v:?}");
        assert_eq!(v["reason"]["code"], json!("ECONNREFUSED"));
    }

    #[test]
    fn truncated_reads_what_is_there() {
        let (v, c) = p(r#"{"error": {"message": "You exceeded your cur"#);
        assert!(!c);
        assert_eq!(v["error"]["message"], json!("You exceeded your cur"));
    }

    #[test]
    fn python_call_wrappers() {
        let (v, _) = p("Headers({'x-request-id': 'req_9', 'retry-after': '2'})");
        assert_eq!(v["x-request-id"], json!("req_9"));
        let (v, _) = p("Map(2) { 'a' => 1, 'b' => 2 }");
        assert_eq!(v["a"], json!(1));
        let (v, _) = p(
            "Batch(id='batch_1', errors=Errors(data=[BatchError(code='x', line=2, param=None)], object='list'), status='failed')",
        );
        assert_eq!(v["status"], json!("failed"));
        assert_eq!(v["errors"]["data"][0]["line"], json!(2));
    }

    #[test]
    fn continuation_lines_that_start_like_a_field() {
        assert!(key_line(b"  type: 'tokens',"));
        assert!(key_line(b"    \"param\": null,"));
        assert!(key_line(b"code: 429"));
        assert!(!key_line(b"docs: https://platform.openai.com/docs"));
        assert!(!key_line(b"org-x on tokens per min: Limit 10000"));
        assert!(!key_line(
            b"https://platform.openai.com/account/rate-limits to"
        ));
    }

    #[test]
    fn prose_is_not_an_object() {
        let mut w = 0;
        assert!(parse_at("{model} is missing", 0, &mut w).is_none_or(|p| !p.complete));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut s = String::new();
        for _ in 0..200_000 {
            s.push_str("{\"a\":[");
        }
        let mut w = 0;
        let r = parse_at(&s, 0, &mut w).expect("partial value");
        assert!(!r.complete);
        assert!(w <= s.len() + 1);
        drop(r);
    }
}
