//! Hand-written rules for one part of a request.

use super::Ctx;

/// Runs this module's rules on a parsed request body for `endpoint`.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &serde_json::Value) {
    let _ = (ctx, endpoint, body);
}
