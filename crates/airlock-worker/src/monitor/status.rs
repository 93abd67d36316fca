//! `GET /airlock/status`: the Monitor's counts and alert state, as JSON, for a gateway token or
//! the `ADMIN_TOKEN` secret only. Anyone else gets a 401 in OpenAI's shape that says nothing
//! about the traffic (and the same 401 when no token is configured at all: never open).

use airlock_rules::RetryDecision;
use worker::{Env, Request, Response, Result};

use crate::errors::{ApiError, Reject};
use crate::gateway;
use crate::settings::Settings;

/// The status view's path.
pub const PATH: &str = "/airlock/status";

/// True when `presented` is one of the gateway tokens or the admin token.
pub fn allowed(presented: Option<&str>, gateway_tokens: &[String], admin: Option<&str>) -> bool {
    let mut accepted: Vec<String> = gateway_tokens.to_vec();
    if let Some(admin) = admin.filter(|a| !a.is_empty()) {
        accepted.push(admin.to_owned());
    }
    gateway::token_accepted(presented, &accepted)
}

/// The 401 for the status view.
pub fn unauthorized() -> Reject<'static> {
    Reject {
        status: 401,
        error: ApiError {
            message: "The status view needs a gateway token or the ADMIN_TOKEN as the Bearer \
                      token in the Authorization header."
                .to_owned(),
            error_type: "invalid_request_error",
            param: None,
            code: Some("invalid_api_key"),
        },
        category: "authentication",
        retry: RetryDecision::No,
        rule: None,
    }
}

/// Answers `GET /airlock/status` (`None`: not authorized; the caller answers [`unauthorized`]).
pub async fn handle(req: &Request, env: &Env, settings: &Settings) -> Result<Option<Response>> {
    let auth = req.headers().get("authorization")?;
    let presented = gateway::bearer(auth.as_deref());
    let admin = env.secret("ADMIN_TOKEN").ok().map(|s| s.to_string());
    let tokens = settings
        .gateway
        .as_ref()
        .map_or(&[][..], |g| g.tokens.as_slice());
    if !allowed(presented, tokens, admin.as_deref()) {
        return Ok(None);
    }
    if super::stub(env).is_err() {
        let mut r = Response::from_json(&serde_json::json!({
            "monitor": "unbound",
            "message": "No MONITOR Durable Object binding: nothing is counted.",
        }))?;
        r.headers_mut().set("cache-control", "no-store")?;
        return Ok(Some(r));
    }
    super::flush_now(env).await;
    let mut resp = super::stub(env)?
        .fetch_with_str("https://monitor/status")
        .await?;
    let text = resp.text().await?;
    let mut out = Response::ok(text)?;
    out.headers_mut().set("content-type", "application/json")?;
    out.headers_mut().set("cache-control", "no-store")?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_a_configured_token_opens_it() {
        let tokens = vec!["gw-1".to_owned()];
        assert!(allowed(Some("gw-1"), &tokens, None));
        assert!(allowed(Some("adm"), &tokens, Some("adm")));
        assert!(allowed(Some("adm"), &[], Some("adm")));
        assert!(!allowed(Some("adm"), &tokens, None));
        assert!(!allowed(None, &tokens, Some("adm")));
        // Nothing configured: closed, whatever is presented.
        assert!(!allowed(Some(""), &[], None));
        assert!(!allowed(Some("x"), &[], Some("")));
    }
}
