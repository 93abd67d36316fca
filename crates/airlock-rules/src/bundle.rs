//! A short, sanitized text to send to OpenAI support.
