//! Masking the operator's secrets in bytes that pass through in pieces (pure, tested on the host).
//!
//! In gateway mode the real key is Airlock's, never the client's: an upstream that echoes the
//! `Authorization` header in an error body or a header (a misconfigured proxy, a debugging
//! endpoint) must not hand it to the client. [`Masker`] replaces every occurrence of each secret
//! with `***` in a byte stream cut anywhere, holding back at most the longest secret's length
//! minus one byte between chunks.

/// What a secret is replaced with.
pub const MASK: &[u8] = b"***";

/// Secrets shorter than this are not masked: a short "secret" would mangle ordinary text, and a
/// real key or token is longer.
pub const MIN_SECRET_LEN: usize = 8;

/// A streaming replacer of secrets.
#[derive(Debug, Clone)]
pub struct Masker {
    secrets: Vec<Vec<u8>>,
    held: Vec<u8>,
    keep: usize,
}

impl Masker {
    /// A masker for `secrets` (the ones shorter than [`MIN_SECRET_LEN`] are ignored); `None`
    /// when nothing is left to mask.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Option<Masker> {
        let secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .map(str::trim)
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let longest = secrets.iter().map(Vec::len).max()?;
        Some(Masker {
            secrets,
            held: Vec::new(),
            keep: longest - 1,
        })
    }

    /// Masks a whole text at once.
    pub fn mask_all(&self, bytes: &[u8]) -> Vec<u8> {
        let mut m = self.clone();
        let mut out = m.push(bytes);
        out.extend(m.finish());
        out
    }

    /// True when `bytes` hold one of the secrets.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        self.secrets
            .iter()
            .any(|s| bytes.windows(s.len()).any(|w| w == s.as_slice()))
    }

    /// Takes the next chunk; returns what may be passed on (everything but a tail that could be
    /// the start of a secret).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(chunk);
        let mut out = self.replace_in_held();
        let release = out.len().saturating_sub(self.keep);
        self.held = out.split_off(release);
        out
    }

    /// The rest, at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let out = self.replace_in_held();
        self.held.clear();
        out
    }

    /// `held` with every whole secret in it replaced. A replacement ends in `*`, which no secret
    /// is assumed to start with a run of, so masked text is never matched again.
    fn replace_in_held(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.held.len());
        let mut rest = self.held.as_slice();
        'scan: while let Some((&first, tail)) = rest.split_first() {
            for s in &self.secrets {
                if let Some(after) = rest.strip_prefix(s.as_slice()) {
                    out.extend_from_slice(MASK);
                    rest = after;
                    continue 'scan;
                }
            }
            out.push(first);
            rest = tail;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-proj-REALKEY0123456789abcdef";

    fn chunked(m: &Masker, text: &[u8], at: &[usize]) -> Vec<u8> {
        let mut m = m.clone();
        let mut out = Vec::new();
        let mut last = 0;
        for &cut in at {
            out.extend(m.push(&text[last..cut]));
            last = cut;
        }
        out.extend(m.push(&text[last..]));
        out.extend(m.finish());
        out
    }

    #[test]
    fn a_secret_split_anywhere_is_masked() {
        let m = Masker::new([KEY, "gw-token-one"]).unwrap();
        let text = format!(r#"{{"error":{{"message":"Bearer {KEY} rejected; again {KEY}"}}}}"#);
        let want = text.replace(KEY, "***");
        for a in 0..text.len() {
            for b in [a, (a + 7).min(text.len()), text.len()] {
                let got = chunked(&m, text.as_bytes(), &[a, b.max(a)]);
                assert_eq!(String::from_utf8(got).unwrap(), want, "cut at {a},{b}");
            }
        }
    }

    #[test]
    fn one_byte_chunks_and_no_secret() {
        let m = Masker::new([KEY]).unwrap();
        let text = b"plain text with sk-proj-REALKEY but not the whole key";
        let cuts: Vec<usize> = (1..text.len()).collect();
        assert_eq!(chunked(&m, text, &cuts), text.to_vec());
        assert!(!m.found_in(text));
        assert!(m.found_in(format!("x{KEY}y").as_bytes()));
    }

    #[test]
    fn short_secrets_are_ignored() {
        assert!(Masker::new(["abc", " "]).is_none());
        assert!(Masker::new(Vec::<&str>::new()).is_none());
    }
}
