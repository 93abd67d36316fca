//! Gateway mode: clients present a gateway token; the worker swaps in the real key.

/// The bearer token from an `Authorization` header value (`Bearer <token>`, scheme in any case).
pub fn bearer(value: Option<&str>) -> Option<&str> {
    let value = value?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Equality whose time does not depend on where the inputs differ (it still depends on the
/// longer length, which is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    core::hint::black_box(diff) == 0
}

/// True when `presented` equals one of `tokens`. Every token is compared, match or not.
pub fn token_accepted(presented: Option<&str>, tokens: &[String]) -> bool {
    let presented = presented.unwrap_or("").as_bytes();
    let mut accepted = false;
    for token in tokens {
        accepted |= constant_time_eq(presented, token.as_bytes()) && !token.is_empty();
    }
    accepted && !presented.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn tokens() {
        let list = vec!["tok-one".to_owned(), "tok-two".to_owned()];
        assert!(token_accepted(Some("tok-two"), &list));
        assert!(!token_accepted(Some("tok-tw"), &list));
        assert!(!token_accepted(Some("tok-two2"), &list));
        assert!(!token_accepted(Some(""), &list));
        assert!(!token_accepted(None, &list));
        assert!(!token_accepted(Some(""), &[String::new()]));
        assert!(!token_accepted(Some("x"), &[]));
    }
}
