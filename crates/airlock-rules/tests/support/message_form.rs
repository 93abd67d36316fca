//! The form of an OpenAI error message, for comparing wordings whose values differ. Included
//! with `#[path = "support/message_form.rs"] mod message_form;`.

/// A message's form: quoted values as `'_'`, digits as `0`, and nothing after "Supported values
/// are:".
pub fn form(message: &str) -> String {
    let cut = message
        .find("Supported values are:")
        .map_or(message, |i| &message[..i]);
    let mut out = String::new();
    let mut quoted = false;
    for c in cut.chars() {
        match c {
            '\'' if quoted => {
                quoted = false;
                out.push_str("_'");
            }
            '\'' => {
                quoted = true;
                out.push('\'');
            }
            _ if quoted => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('0') {
                    out.push('0');
                }
            }
            c => out.push(c),
        }
    }
    out
}
