//! The two pre-tokenizer patterns of tiktoken, as hand-written scanners.
//!
//! Each `next_*` function returns where the regex match starting at `i` ends, exactly as the
//! backtracking engine tiktoken uses (`fancy-regex` over `regex`) would find it. The input is the
//! bytes of a `&str` (valid UTF-8) and `i` is on a character boundary below `b.len()`.
//!
//! o200k_base:
//! ```text
//! [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! ```
//! cl100k_base:
//! ```text
//! '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+
//! |\s++$|\s*[\r\n]|\s+(?!\S)|\s
//! ```

use super::unicode::{Class, class};

/// The code point at `i`, its length in bytes and its class.
#[inline(always)]
fn at(b: &[u8], i: usize) -> (u32, usize, Class) {
    let b0 = b[i];
    if b0 < 0x80 {
        return (b0 as u32, 1, ASCII[b0 as usize]);
    }
    let (cp, l) = if b0 < 0xE0 {
        ((((b0 & 0x1F) as u32) << 6) | (b[i + 1] & 0x3F) as u32, 2)
    } else if b0 < 0xF0 {
        (
            (((b0 & 0x0F) as u32) << 12)
                | (((b[i + 1] & 0x3F) as u32) << 6)
                | (b[i + 2] & 0x3F) as u32,
            3,
        )
    } else {
        (
            (((b0 & 0x07) as u32) << 18)
                | (((b[i + 1] & 0x3F) as u32) << 12)
                | (((b[i + 2] & 0x3F) as u32) << 6)
                | (b[i + 3] & 0x3F) as u32,
            4,
        )
    };
    (cp, l, class(cp))
}

/// Classes of the ASCII characters (the same as the generated table says for them).
static ASCII: [Class; 128] = {
    let mut t = [Class::Other; 128];
    let mut c = 0;
    while c < 128 {
        t[c] = match c as u8 {
            b'A'..=b'Z' => Class::Upper,
            b'a'..=b'z' => Class::Lower,
            b'0'..=b'9' => Class::Number,
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => Class::Space,
            _ => Class::Other,
        };
        c += 1;
    }
    t
};

#[inline(always)]
fn class_at(b: &[u8], i: usize) -> Class {
    at(b, i).2
}

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`: the end of the match, or `i`.
#[inline]
fn contraction(b: &[u8], i: usize) -> usize {
    if i >= b.len() || b[i] != b'\'' {
        return i;
    }
    // A letter folded to ASCII lowercase, with its length: `(?i:s)` also matches U+017F.
    let letter = |k: usize| -> Option<(u8, usize)> {
        match b.get(k)? {
            c @ (b'A'..=b'Z' | b'a'..=b'z') => Some((c.to_ascii_lowercase(), 1)),
            0xC5 if b.get(k + 1) == Some(&0xBF) => Some((b's', 2)),
            _ => None,
        }
    };
    match letter(i + 1) {
        Some((b's' | b't' | b'm' | b'd', l)) => i + 1 + l,
        Some((first @ (b'r' | b'v' | b'l'), l)) => {
            let second = if first == b'l' { b'l' } else { b'e' };
            match letter(i + 1 + l) {
                Some((c, l2)) if c == second => i + 1 + l + l2,
                _ => i,
            }
        }
        _ => i,
    }
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` from `start`.
#[inline]
fn o200k_lower_word(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    let mut last_b = None;
    while j < b.len() {
        let (_, l, c) = at(b, j);
        match c {
            Class::Upper => {}
            Class::LetterOther | Class::Mark => last_b = Some(j + l),
            _ => break,
        }
        j += l;
    }
    if j < b.len() && class_at(b, j) == Class::Lower {
        while j < b.len() {
            let (_, l, c) = at(b, j);
            if !matches!(c, Class::Lower | Class::LetterOther | Class::Mark) {
                break;
            }
            j += l;
        }
        return Some(j);
    }
    // Backtrack: the B+ part is the last B character of the A run.
    last_b
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` from `start`.
#[inline]
fn o200k_upper_word(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    while j < b.len() {
        let (_, l, c) = at(b, j);
        if !matches!(c, Class::Upper | Class::LetterOther | Class::Mark) {
            break;
        }
        j += l;
    }
    if j == start {
        return None;
    }
    while j < b.len() {
        let (_, l, c) = at(b, j);
        if !matches!(c, Class::Lower | Class::LetterOther | Class::Mark) {
            break;
        }
        j += l;
    }
    Some(j)
}

/// The whitespace run from `i`: (end, end of its last `\r`/`\n`, start of its last character).
#[inline]
fn space_run(b: &[u8], i: usize) -> (usize, Option<usize>, usize) {
    let mut j = i;
    let mut last_nl = None;
    let mut last_start = i;
    while j < b.len() {
        let (cp, l, c) = at(b, j);
        if c != Class::Space {
            break;
        }
        if cp == u32::from(b'\r') || cp == u32::from(b'\n') {
            last_nl = Some(j + l);
        }
        last_start = j;
        j += l;
    }
    (j, last_nl, last_start)
}

/// `[^\s\p{L}\p{N}]+` from `j` (which is such a character), then the trailing characters allowed.
#[inline]
fn punct_run(b: &[u8], mut j: usize, slash: bool) -> usize {
    while j < b.len() {
        let (_, l, c) = at(b, j);
        if !c.is_punct() {
            break;
        }
        j += l;
    }
    while j < b.len() && (b[j] == b'\r' || b[j] == b'\n' || (slash && b[j] == b'/')) {
        j += 1;
    }
    j
}

/// Up to three `\p{N}` from `i` (which is one).
#[inline]
fn numbers(b: &[u8], i: usize) -> usize {
    let mut j = i;
    for _ in 0..3 {
        if j >= b.len() {
            break;
        }
        let (_, l, c) = at(b, j);
        if c != Class::Number {
            break;
        }
        j += l;
    }
    j
}

/// ASCII fast path for the commonest pre-tokens, decided from ASCII bytes alone; `None` sends
/// the caller to the general path (a non-ASCII byte where it matters, or a shape not covered).
///
/// Words: `[^\r\n\p{L}\p{N}]?[A-Z]*[a-z]+` or, when no lowercase letter follows,
/// `[^\r\n\p{L}\p{N}]?[A-Z]+` (o200k, then the contraction), `[^\r\n\p{L}\p{N}]?+[A-Za-z]++`
/// (cl100k), ending at an ASCII byte that cannot continue them. Both patterns try the word
/// alternatives first, so when the optional prefix is followed by a letter the word wins (except
/// cl100k's leading contraction, so `'` is left to the general path there).
///
/// Punctuation: `[^\s\p{L}\p{N}]+` and what may follow, when the next byte is ASCII and not a
/// letter (so no word alternative can match), optionally after one space. Digits: `\p{N}{1,3}`.
#[inline(always)]
fn ascii_fast(b: &[u8], i: usize, o200k: bool) -> Option<usize> {
    let c0 = b[i];
    if c0 >= 0x80 {
        return None;
    }
    let next = b.get(i + 1).copied();
    let mut j = i;
    match ASCII[c0 as usize] {
        Class::Upper | Class::Lower => {}
        Class::Number => return Some(numbers(b, i)),
        _ if c0 == b'\r' || c0 == b'\n' => return None,
        _ => match next {
            Some(c) if c.is_ascii_alphabetic() => {
                if !o200k && c0 == b'\'' {
                    return None;
                }
                j += 1;
            }
            Some(c) if c >= 0x80 => return None,
            _ if c0 == b' ' => match next {
                Some(c) if ASCII[c as usize] == Class::Other => {
                    return Some(punct_run(b, i + 1, o200k));
                }
                _ => return None,
            },
            _ if ASCII[c0 as usize] == Class::Other => {
                if !o200k && c0 == b'\'' {
                    return None;
                }
                return Some(punct_run(b, i, o200k));
            }
            _ => return None,
        },
    }
    let start = j;
    if o200k {
        while j < b.len() && b[j].is_ascii_uppercase() {
            j += 1;
        }
        // Byte by byte: measured as fast as eight at a time here, on English prose.
        while j < b.len() && b[j].is_ascii_lowercase() {
            j += 1;
        }
    } else {
        j = letter_run(b, j);
    }
    debug_assert!(j > start);
    match b.get(j) {
        None => Some(j),
        Some(&c) if c >= 0x80 => None,
        Some(b'\'') if o200k => Some(contraction(b, j)),
        Some(_) => Some(j),
    }
}

const HI: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// One bit (bit 7 of each byte) per byte of `w` whose seven low bits `l` (a byte of `l7`, which
/// is `w` less its high bits, maybe with bits added) are within `a`–`z` and whose high bit is
/// clear. Each byte of `l7` is below 0x80, so the sums stay within their byte.
#[inline(always)]
fn a_to_z_in(l7: u64, w: u64) -> u64 {
    let ge_a = l7 + (0x80 - u64::from(b'a')) * ONES;
    let gt_z = l7 + (0x80 - u64::from(b'z') - 1) * ONES;
    ge_a & !gt_z & !w & HI
}

/// One bit (bit 7 of each byte) per byte of `w` that is an ASCII letter.
#[inline(always)]
fn letters_in(w: u64) -> u64 {
    // A–Z folded onto a–z (and nothing else into a–z).
    a_to_z_in((w & !HI) | (0x20 * ONES), w)
}

/// One bit (bit 7 of each byte) per byte of `w` that is an ASCII lowercase letter.
#[inline(always)]
fn lowers_in(w: u64) -> u64 {
    a_to_z_in(w & !HI, w)
}

/// The end of the run from `j` of the bytes `lanes` marks (eight at a time) and `byte` accepts.
#[inline(always)]
fn run_of(b: &[u8], mut j: usize, lanes: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> usize {
    while j + 8 <= b.len() {
        let w = u64::from_le_bytes(b[j..j + 8].try_into().unwrap());
        let other = !lanes(w) & HI;
        if other != 0 {
            return j + (other.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < b.len() && byte(b[j]) {
        j += 1;
    }
    j
}

/// The end of the run of ASCII letters from `j`, eight bytes at a time.
#[inline(always)]
fn letter_run(b: &[u8], j: usize) -> usize {
    run_of(b, j, letters_in, |c| c.is_ascii_alphabetic())
}

/// The end of the run of ASCII lowercase letters from `j`, eight bytes at a time.
#[inline(always)]
fn lower_run(b: &[u8], j: usize) -> usize {
    run_of(b, j, lowers_in, |c| c.is_ascii_lowercase())
}

/// The commonest pre-token of prose, an ASCII word with at most a space before it, when its end
/// is certain from ASCII bytes alone: `( )?[A-Z]*[a-z]+` or `( )?[A-Z]+` (o200k; not before an
/// apostrophe, which may start a contraction), `( )?[A-Za-z]+` (cl100k), followed by the end of
/// the text or an ASCII byte that cannot continue it. `None` sends the caller to the general
/// scanner. What [`ascii_fast`] finds for the same pieces, in fewer steps; small enough to inline
/// into the loops over pieces.
#[inline(always)]
fn word_fast(b: &[u8], i: usize, o200k: bool) -> Option<usize> {
    let start = i + usize::from(b[i] == b' ');
    if !b.get(start)?.is_ascii_alphabetic() {
        return None;
    }
    let j = if o200k {
        let mut j = start;
        while j < b.len() && b[j].is_ascii_uppercase() {
            j += 1;
        }
        lower_run(b, j)
    } else {
        letter_run(b, start)
    };
    match b.get(j) {
        None => Some(j),
        Some(&c) if c >= 0x80 || (o200k && c == b'\'') => None,
        Some(_) => Some(j),
    }
}

/// The end of the o200k_base pre-token starting at `i`.
#[inline(always)]
pub(crate) fn next_o200k(b: &[u8], i: usize) -> usize {
    match word_fast(b, i, true) {
        Some(e) => e,
        None => next_o200k_general(b, i),
    }
}

/// The end of the cl100k_base pre-token starting at `i`.
#[inline(always)]
pub(crate) fn next_cl100k(b: &[u8], i: usize) -> usize {
    match word_fast(b, i, false) {
        Some(e) => e,
        None => next_cl100k_general(b, i),
    }
}

/// [`next_o200k`] for every piece.
#[inline(never)]
fn next_o200k_general(b: &[u8], i: usize) -> usize {
    if let Some(e) = ascii_fast(b, i, true) {
        return e;
    }
    let (cp, l, c) = at(b, i);
    let prefix =
        cp != u32::from(b'\r') && cp != u32::from(b'\n') && !c.is_letter() && c != Class::Number;
    if prefix {
        if let Some(e) = o200k_lower_word(b, i + l) {
            return contraction(b, e);
        }
    }
    if let Some(e) = o200k_lower_word(b, i) {
        return contraction(b, e);
    }
    if prefix {
        if let Some(e) = o200k_upper_word(b, i + l) {
            return contraction(b, e);
        }
    }
    if let Some(e) = o200k_upper_word(b, i) {
        return contraction(b, e);
    }
    if c == Class::Number {
        return numbers(b, i);
    }
    if cp == u32::from(b' ') && i + 1 < b.len() && class_at(b, i + 1).is_punct() {
        return punct_run(b, i + 1, true);
    }
    if c.is_punct() {
        return punct_run(b, i, true);
    }
    // `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
    let (end, last_nl, last_start) = space_run(b, i);
    if let Some(e) = last_nl {
        return e;
    }
    if end == b.len() || last_start == i {
        return end;
    }
    last_start
}

/// [`next_cl100k`] for every piece.
#[inline(never)]
fn next_cl100k_general(b: &[u8], i: usize) -> usize {
    if let Some(e) = ascii_fast(b, i, false) {
        return e;
    }
    let (cp, l, c) = at(b, i);
    if cp == u32::from(b'\'') {
        let e = contraction(b, i);
        if e > i {
            return e;
        }
    }
    // `[^\r\n\p{L}\p{N}]?+\p{L}++`
    let letters_from = if c.is_letter() {
        Some(i)
    } else if cp != u32::from(b'\r')
        && cp != u32::from(b'\n')
        && c != Class::Number
        && i + l < b.len()
        && class_at(b, i + l).is_letter()
    {
        Some(i + l)
    } else {
        None
    };
    if let Some(mut j) = letters_from {
        while j < b.len() {
            let (_, l, c) = at(b, j);
            if !c.is_letter() {
                break;
            }
            j += l;
        }
        return j;
    }
    if c == Class::Number {
        return numbers(b, i);
    }
    if cp == u32::from(b' ') && i + 1 < b.len() && class_at(b, i + 1).is_punct() {
        return punct_run(b, i + 1, false);
    }
    if c.is_punct() {
        return punct_run(b, i, false);
    }
    // `\s++$`, `\s*[\r\n]`, `\s+(?!\S)`, `\s`.
    let (end, last_nl, last_start) = space_run(b, i);
    if end == b.len() {
        return end;
    }
    if let Some(e) = last_nl {
        return e;
    }
    if last_start > i {
        return last_start;
    }
    i + l
}

#[cfg(test)]
mod tests {
    /// Where the word fast path answers, it answers what the general scanners answer: every
    /// word shape it takes and every byte after it, at every offset within the eight-byte steps.
    #[test]
    fn word_fast_agrees_with_the_general_scanners() {
        let mut answered = 0;
        for word in [
            "a",
            "the",
            "The",
            "THE",
            "tHe",
            "McDonald",
            "abcdefghijklmnop",
            "X",
            "iPhone",
        ] {
            for lead in ["", " ", "  ", ".", "\n"] {
                for after in 0..=255u8 {
                    for pad in 0..9 {
                        let mut t = alloc::vec::Vec::new();
                        t.extend_from_slice(lead.as_bytes());
                        t.extend_from_slice(word.as_bytes());
                        t.extend(core::iter::repeat_n(b'z', pad));
                        if after < 0x80 {
                            t.push(after);
                        } else {
                            t.extend_from_slice("é中".as_bytes());
                        }
                        t.extend_from_slice(b"s more");
                        let t = &t[..];
                        for (o200k, general) in [
                            (true, super::next_o200k_general as fn(&[u8], usize) -> usize),
                            (false, super::next_cl100k_general),
                        ] {
                            if let Some(e) = super::word_fast(t, 0, o200k) {
                                answered += 1;
                                assert_eq!(
                                    e,
                                    general(t, 0),
                                    "{:?} o200k {o200k}",
                                    core::str::from_utf8(t)
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(answered > 20_000, "{answered}");
    }

    /// The eight-byte tests (letters, lowercase letters) agree with the byte tests on every byte
    /// in every lane, and their runs end where the byte loops end.
    #[test]
    fn eight_byte_tests_match_the_byte_tests() {
        type Lanes = fn(u64) -> u64;
        type Run = fn(&[u8], usize) -> usize;
        type Byte = fn(&u8) -> bool;
        let tests: [(Lanes, Byte, Run, &[u8]); 2] = [
            (
                super::letters_in,
                u8::is_ascii_alphabetic,
                super::letter_run,
                b"",
            ),
            (
                super::lowers_in,
                u8::is_ascii_lowercase,
                super::lower_run,
                b"AZ'",
            ),
        ];
        for (lanes, byte, run, more_stops) in tests {
            for c in 0..=255u8 {
                for lane in 0..8 {
                    let mut w = [b'a'; 8];
                    w[lane] = c;
                    let m = lanes(u64::from_le_bytes(w));
                    assert_eq!(m >> (8 * lane + 7) & 1 == 1, byte(&c), "{c:#x} lane {lane}");
                    let rest = m & !(0x80 << (8 * lane));
                    assert_eq!(rest.count_ones(), 7, "{c:#x} lane {lane}");
                }
            }
            // Every end position within and after the eight-byte steps.
            for n in 0..40 {
                for &stop in [b' ', b'@', b'[', b'`', b'{', 0xC3, b'0']
                    .iter()
                    .chain(more_stops)
                {
                    let mut t = alloc::vec![b'q'; n];
                    t.push(stop);
                    t.extend_from_slice(b"abcdefghij");
                    assert_eq!(run(&t, 0), n, "{n} {stop:#x}");
                    assert_eq!(run(&t[..n], 0), n);
                }
            }
        }
    }
}
