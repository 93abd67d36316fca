//! Readers for everything a person might paste. Parsing never fails.

use crate::evidence::Evidence;

/// Reads any pasted text into evidence.
pub fn read(text: &str) -> Evidence {
    let _ = text;
    Evidence::default()
}

/// Reads an HTTP response the worker received: status, headers (any case) and body bytes.
pub fn read_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Evidence {
    let _ = (headers, body);
    Evidence {
        status: Some(status),
        ..Evidence::default()
    }
}
