//! Masking secrets in text, and a key fingerprint that is safe to log.
