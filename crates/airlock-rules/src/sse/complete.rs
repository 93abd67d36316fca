//! Finishing a cut JSON object so that it carries an `error` key.
//!
//! When the upstream drops inside a `data:` line, the bytes of that line were already handed to
//! the client and cannot be taken back. What can still be done is to *continue* the line: read
//! the event's data so far as a JSON prefix and append the shortest text that makes it a valid
//! JSON object whose top level gains one more key, `"error": {...}`. Both official SDKs raise
//! `APIError` on a data object with a truthy `error`, and both JSON parsers keep the last of
//! duplicate keys, so an `error` the object already had is overridden.
//!
//! The reader is a small state machine (a stack of open containers and the state of the token
//! being read). It is strict in the way `serde_json` is (surrogate pairs must pair up, no control
//! characters in strings, no `NaN`), so whatever it completes also parses in Python's `json` and
//! JavaScript's `JSON.parse`. Anything it cannot complete (a top-level array or string, invalid
//! JSON, a value already closed) is reported as such and the caller falls back.

use alloc::vec::Vec;

/// What [`complete_object`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Completion {
    /// The top-level object is already closed: nothing can be added to it.
    Closed,
    /// Append these bytes to make the prefix a valid object with the error key.
    Tail(Vec<u8>),
    /// Not the start of a JSON object (or not valid JSON, or not valid UTF-8).
    NotAnObject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    Obj,
    Arr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    /// After `-`.
    Minus,
    /// After a leading `0`.
    Zero,
    /// In the integer digits.
    Int,
    /// After `.`.
    Dot,
    /// In the fraction digits.
    Frac,
    /// After `e` or `E`.
    Exp,
    /// After the exponent's sign.
    ExpSign,
    /// In the exponent digits.
    ExpDigits,
}

impl Num {
    /// True when the number can end here.
    fn complete(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::ExpDigits)
    }

    /// The next state on `b`, or `None` when `b` does not continue the number.
    fn next(self, b: u8) -> Option<Num> {
        let digit = b.is_ascii_digit();
        Some(match (self, b) {
            (Num::Minus, b'0') => Num::Zero,
            (Num::Minus, _) if digit => Num::Int,
            (Num::Int, _) if digit => Num::Int,
            (Num::Zero | Num::Int, b'.') => Num::Dot,
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::Exp,
            (Num::Dot | Num::Frac, _) if digit => Num::Frac,
            (Num::Exp, b'+' | b'-') => Num::ExpSign,
            (Num::Exp | Num::ExpSign | Num::ExpDigits, _) if digit => Num::ExpDigits,
            _ => return None,
        })
    }
}

/// An escape being read inside a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Esc {
    None,
    /// After `\`.
    Backslash,
    /// After `\u` and `digits` hex digits whose value is `value`.
    Unicode {
        digits: u8,
        value: u16,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A value is expected: at the start, after `:`, after `,` in an array.
    Value,
    /// After `[`: a value or `]`.
    ArrayFirst,
    /// After `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value: `,` or the container's end.
    After,
    /// In a string (a key when `key`).
    Str { key: bool },
    /// In a number.
    Num(Num),
    /// In `true`, `false` or `null`, with `at` bytes of `word` read.
    Lit { word: &'static [u8], at: usize },
    /// The top-level object has been closed.
    Done,
}

const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

struct Reader {
    stack: Vec<Ctx>,
    state: State,
    esc: Esc,
    /// The string's last character was a `\uD800`–`\uDBFF` escape: a `\uDC00`–`\uDFFF` must follow.
    high_surrogate: bool,
}

impl Reader {
    /// Reads one byte; `None` when the prefix cannot be (the start of) a JSON object.
    fn byte(&mut self, b: u8) -> Option<()> {
        match self.state {
            State::Str { key } => return self.string_byte(b, key),
            State::Num(n) => match n.next(b) {
                Some(n) => {
                    self.state = State::Num(n);
                    return Some(());
                }
                None if n.complete() => self.state = State::After,
                None => return None,
            },
            State::Lit { word, at } => {
                if word.get(at) != Some(&b) {
                    return None;
                }
                self.state = if at + 1 == word.len() {
                    State::After
                } else {
                    State::Lit { word, at: at + 1 }
                };
                return Some(());
            }
            _ => {}
        }
        if is_ws(b) {
            return Some(());
        }
        match self.state {
            State::Value => self.value(b),
            State::ArrayFirst if b == b']' => self.close(),
            State::ArrayFirst => self.value(b),
            State::ObjectFirst if b == b'}' => self.close(),
            State::ObjectFirst | State::Key if b == b'"' => {
                self.state = State::Str { key: true };
                Some(())
            }
            State::Colon if b == b':' => {
                self.state = State::Value;
                Some(())
            }
            State::After => match (b, self.stack.last()?) {
                (b',', Ctx::Obj) => {
                    self.state = State::Key;
                    Some(())
                }
                (b',', Ctx::Arr) => {
                    self.state = State::Value;
                    Some(())
                }
                (b'}', Ctx::Obj) | (b']', Ctx::Arr) => self.close(),
                _ => None,
            },
            _ => None,
        }
    }

    fn value(&mut self, b: u8) -> Option<()> {
        if self.stack.is_empty() && b != b'{' {
            // Only an object can gain a key.
            return None;
        }
        self.state = match b {
            b'{' => {
                self.stack.push(Ctx::Obj);
                State::ObjectFirst
            }
            b'[' => {
                self.stack.push(Ctx::Arr);
                State::ArrayFirst
            }
            b'"' => State::Str { key: false },
            b'-' => State::Num(Num::Minus),
            b'0' => State::Num(Num::Zero),
            b'1'..=b'9' => State::Num(Num::Int),
            b't' => State::Lit {
                word: b"true",
                at: 1,
            },
            b'f' => State::Lit {
                word: b"false",
                at: 1,
            },
            b'n' => State::Lit {
                word: b"null",
                at: 1,
            },
            _ => return None,
        };
        Some(())
    }

    fn close(&mut self) -> Option<()> {
        self.stack.pop()?;
        self.state = if self.stack.is_empty() {
            State::Done
        } else {
            State::After
        };
        Some(())
    }

    fn string_byte(&mut self, b: u8, key: bool) -> Option<()> {
        match self.esc {
            Esc::Backslash => {
                self.esc = match b {
                    b'u' => Esc::Unicode {
                        digits: 0,
                        value: 0,
                    },
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't'
                        if !self.high_surrogate =>
                    {
                        Esc::None
                    }
                    _ => return None,
                };
            }
            Esc::Unicode { digits, value } => {
                let d = (b as char).to_digit(16)? as u16;
                let value = value << 4 | d;
                if digits == 3 {
                    self.esc = Esc::None;
                    self.code_unit(value)?;
                } else {
                    self.esc = Esc::Unicode {
                        digits: digits + 1,
                        value,
                    };
                }
            }
            Esc::None if self.high_surrogate && b != b'\\' => return None,
            Esc::None => match b {
                b'"' => self.state = if key { State::Colon } else { State::After },
                b'\\' => self.esc = Esc::Backslash,
                0..0x20 => return None,
                _ => {}
            },
        }
        Some(())
    }

    /// A complete `\uXXXX` escape: surrogates must come in pairs (as `serde_json` requires).
    fn code_unit(&mut self, v: u16) -> Option<()> {
        let high = (0xD800..=0xDBFF).contains(&v);
        let low = (0xDC00..=0xDFFF).contains(&v);
        if self.high_surrogate {
            if !low {
                return None;
            }
            self.high_surrogate = false;
        } else if low {
            return None;
        } else {
            self.high_surrogate = high;
        }
        Some(())
    }

    /// Finishes the token being read (nothing after it is lost to the client: the upstream sent
    /// no more), then closes what is open down to the top-level object and adds the error key.
    fn finish(mut self, partial_utf8: &[u8], error: &[u8]) -> Completion {
        let mut tail = Vec::new();
        if !partial_utf8.is_empty() {
            // Only a string may hold a character cut in half.
            if !matches!(self.state, State::Str { .. }) || self.esc != Esc::None {
                return Completion::NotAnObject;
            }
            finish_utf8(partial_utf8, &mut tail);
        }
        // True when the top-level object was just opened or just got a comma.
        let mut bare = false;
        match self.state {
            State::Done => return Completion::Closed,
            State::Str { key } => {
                match self.esc {
                    Esc::None => {}
                    Esc::Backslash if self.high_surrogate => {
                        tail.extend_from_slice(b"uDC00");
                        self.high_surrogate = false;
                    }
                    Esc::Backslash => tail.push(b'\\'),
                    Esc::Unicode { digits, value } => {
                        let rest = 4 * u32::from(4 - digits);
                        let full = if self.high_surrogate {
                            // The smallest low surrogate that starts with the digits sent.
                            match (0xDC00u32..=0xDFFF).find(|w| w >> rest == u32::from(value)) {
                                Some(w) => w,
                                None => return Completion::NotAnObject,
                            }
                        } else {
                            u32::from(value) << rest
                        };
                        for i in (0..4 - u32::from(digits)).rev() {
                            let d = (full >> (4 * i)) & 0xF;
                            tail.push(b"0123456789ABCDEF"[d as usize]);
                        }
                        if self.code_unit(full as u16).is_none() {
                            return Completion::NotAnObject;
                        }
                    }
                }
                if self.high_surrogate {
                    tail.extend_from_slice(b"\\uDC00");
                }
                tail.push(b'"');
                if key {
                    tail.extend_from_slice(b":null");
                }
            }
            State::Num(n) => {
                if !n.complete() {
                    tail.push(b'0');
                }
            }
            State::Lit { word, at } => tail.extend_from_slice(&word[at..]),
            State::Colon => tail.extend_from_slice(b":null"),
            State::Value if self.stack.is_empty() => {
                tail.push(b'{');
                self.stack.push(Ctx::Obj);
                bare = true;
            }
            State::Value => tail.extend_from_slice(b"null"),
            State::ObjectFirst | State::Key if self.stack.len() == 1 => bare = true,
            State::Key => tail.extend_from_slice(b"\"_\":null"),
            State::ObjectFirst | State::ArrayFirst | State::After => {}
        }
        while self.stack.len() > 1 {
            tail.push(match self.stack.pop() {
                Some(Ctx::Obj) => b'}',
                _ => b']',
            });
        }
        if !bare {
            tail.push(b',');
        }
        tail.extend_from_slice(b"\"error\":");
        tail.extend_from_slice(error);
        tail.push(b'}');
        Completion::Tail(tail)
    }
}

/// Appends the continuation bytes that finish the cut UTF-8 sequence `partial` (1 to 3 bytes
/// that are a valid start of a sequence) with the smallest valid character.
pub(crate) fn finish_utf8(partial: &[u8], out: &mut Vec<u8>) {
    let lead = partial[0];
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    };
    for i in partial.len()..len {
        out.push(match (i, lead) {
            // The second byte's range is narrower after these leads (overlong and surrogate
            // forms are excluded); 0x80 is in range after every other lead, and after ED and F4.
            (1, 0xE0) => 0xA0,
            (1, 0xF0) => 0x90,
            _ => 0x80,
        });
    }
}

/// Appends what finishes a UTF-8 character cut at the end of `bytes`, if one is (the SDKs decode
/// each line as UTF-8; Python strictly).
pub(crate) fn finish_cut_char(bytes: &[u8], out: &mut Vec<u8>) {
    if let Err(e) = core::str::from_utf8(bytes) {
        if e.error_len().is_none() {
            finish_utf8(&bytes[e.valid_up_to()..], out);
        }
    }
}

/// Reads `prefix` (the data of an event so far, as the client will join it) as the start of a
/// JSON object, and returns what to append so that it becomes a valid object whose last
/// top-level key is `"error"` with the value `error` (a JSON object, written compactly).
pub(crate) fn complete_object(prefix: &[u8], error: &[u8]) -> Completion {
    let (text, partial) = match core::str::from_utf8(prefix) {
        Ok(_) => (prefix, &[][..]),
        Err(e) if e.error_len().is_none() => prefix.split_at(e.valid_up_to()),
        Err(_) => return Completion::NotAnObject,
    };
    let mut r = Reader {
        stack: Vec::new(),
        state: State::Value,
        esc: Esc::None,
        high_surrogate: false,
    };
    for &b in text.iter().chain(partial) {
        if r.state == State::Done {
            if is_ws(b) {
                continue;
            }
            return Completion::NotAnObject;
        }
        if r.byte(b).is_none() {
            return Completion::NotAnObject;
        }
    }
    r.finish(partial, error)
}

#[cfg(test)]
mod tests {
    use super::{Completion, complete_object};
    use alloc::string::String;
    use alloc::vec::Vec;

    const ERR: &[u8] = br#"{"code":"x"}"#;

    fn done(prefix: &str) -> String {
        match complete_object(prefix.as_bytes(), ERR) {
            Completion::Tail(t) => {
                let mut all = prefix.as_bytes().to_vec();
                all.extend(t);
                String::from_utf8(all).unwrap()
            }
            other => panic!("{prefix:?}: {other:?}"),
        }
    }

    #[test]
    fn shortest_completions() {
        let cases = [
            ("", r#"{"error":{"code":"x"}}"#),
            ("  {", r#"  {"error":{"code":"x"}}"#),
            (r#"{"a":1,"#, r#"{"a":1,"error":{"code":"x"}}"#),
            (r#"{"a":-"#, r#"{"a":-0,"error":{"code":"x"}}"#),
            (r#"{"a":1.5e"#, r#"{"a":1.5e0,"error":{"code":"x"}}"#),
            (r#"{"a":-1.5e-"#, r#"{"a":-1.5e-0,"error":{"code":"x"}}"#),
            (r#"{"a":12"#, r#"{"a":12,"error":{"code":"x"}}"#),
            (r#"{"a":tr"#, r#"{"a":true,"error":{"code":"x"}}"#),
            (r#"{"a":nul"#, r#"{"a":null,"error":{"code":"x"}}"#),
            (r#"{"a""#, r#"{"a":null,"error":{"code":"x"}}"#),
            (r#"{"ke"#, r#"{"ke":null,"error":{"code":"x"}}"#),
            (r#"{"a":"#, r#"{"a":null,"error":{"code":"x"}}"#),
            (r#"{"a":"x\"#, r#"{"a":"x\\","error":{"code":"x"}}"#),
            (r#"{"a":"\u00"#, r#"{"a":"\u0000","error":{"code":"x"}}"#),
            (
                r#"{"a":"\ud83d"#,
                r#"{"a":"\ud83d\uDC00","error":{"code":"x"}}"#,
            ),
            (
                r#"{"a":"\ud83d\"#,
                r#"{"a":"\ud83d\uDC00","error":{"code":"x"}}"#,
            ),
            (
                r#"{"a":"\ud83d\u"#,
                r#"{"a":"\ud83d\uDC00","error":{"code":"x"}}"#,
            ),
            (
                r#"{"a":"\ud83d\uD"#,
                r#"{"a":"\ud83d\uDC00","error":{"code":"x"}}"#,
            ),
            (
                r#"{"a":"\ud83d\ude"#,
                r#"{"a":"\ud83d\ude00","error":{"code":"x"}}"#,
            ),
            (
                r#"{"a":"\uD8"#,
                r#"{"a":"\uD800\uDC00","error":{"code":"x"}}"#,
            ),
            (r#"{"a":[1,"#, r#"{"a":[1,null],"error":{"code":"x"}}"#),
            (r#"{"a":["#, r#"{"a":[],"error":{"code":"x"}}"#),
            (r#"{"a":{"#, r#"{"a":{},"error":{"code":"x"}}"#),
            (
                r#"{"a":{"b":1,"#,
                r#"{"a":{"b":1,"_":null},"error":{"code":"x"}}"#,
            ),
            (
                r#"{"a":[{"b":[true,{"c""#,
                r#"{"a":[{"b":[true,{"c":null}]}],"error":{"code":"x"}}"#,
            ),
            (
                r#"{"error":{"m":"#,
                r#"{"error":{"m":null},"error":{"code":"x"}}"#,
            ),
        ];
        for (prefix, want) in cases {
            assert_eq!(done(prefix), want, "{prefix}");
            let v: serde_json::Value = serde_json::from_str(want).unwrap();
            assert_eq!(v["error"]["code"], "x", "{prefix}");
        }
    }

    #[test]
    fn a_character_cut_in_half_is_finished_validly() {
        for ch in [
            'é',
            'ह',
            '\u{FFFD}',
            '\u{D7FF}',
            '\u{E000}',
            '😀',
            '\u{10FFFF}',
            '\u{800}',
        ] {
            let mut s = String::from(r#"{"a":""#);
            s.push(ch);
            let bytes = s.as_bytes();
            for cut in bytes.len() - ch.len_utf8() + 1..bytes.len() {
                let prefix = &bytes[..cut];
                let Completion::Tail(t) = complete_object(prefix, ERR) else {
                    panic!("{ch}: {cut}")
                };
                let mut all: Vec<u8> = prefix.to_vec();
                all.extend(t);
                let text = core::str::from_utf8(&all).expect("valid UTF-8");
                let v: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(v["error"]["code"], "x");
            }
        }
    }

    #[test]
    fn what_cannot_be_completed() {
        for p in [
            "[",
            "\"abc",
            "1",
            "{\"a\":1}",
            "{\"a\":1} ",
            "{\"a\":1}x",
            "{\"a\" 1",
            "{\"a\":01",
            "{\"a\":\"x\ny\"",
            "{\"a\":-\n",
            "{\"a\":\"\\x",
            "{\"a\":\"\\ud83dx",
            "{\"a\":\"\\udc00",
            "{\"a\":\"\\ud83d\\u00",
            "{\"a\":NaN",
            "{,",
        ] {
            let got = complete_object(p.as_bytes(), ERR);
            assert!(
                matches!(got, Completion::NotAnObject | Completion::Closed),
                "{p:?}: {got:?}"
            );
        }
        assert_eq!(complete_object(b"{\"a\":1}\n", ERR), Completion::Closed);
        // Invalid UTF-8 in the middle, not a cut character.
        assert_eq!(
            complete_object(b"{\"a\":\"\xC3x", ERR),
            Completion::NotAnObject
        );
        assert_eq!(
            complete_object(b"{\"a\":\"\xE0\x80", ERR),
            Completion::NotAnObject
        );
        // A cut character outside a string.
        assert_eq!(complete_object(b"{\xC3", ERR), Completion::NotAnObject);
    }
}
