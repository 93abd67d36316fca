//! The `context_length` rule: exact token counts against the model's context window.
//!
//! Rejects only what is certain: the text counted exactly (it equals tiktoken) alone over the
//! window of a model whose limits the data knows. The estimated parts (message framing, tools,
//! images) and the requested output only ever make a warning, and a model whose limits are not
//! known gets its tokens counted and nothing judged.

use alloc::format;
use alloc::string::String;

use serde_json::Value;

use super::{Counted, Ctx, TokenCount, TokenReport};
use crate::tokenizer::request::{self, Api, Limits};
use crate::tokenizer::{Encoding, Tokenizer};

const RULE: &str = "context_length";

#[cfg(feature = "std")]
fn with_tokenizer<R>(e: Encoding, f: impl FnOnce(&Tokenizer) -> R) -> R {
    f(Tokenizer::shared(e))
}

#[cfg(not(feature = "std"))]
fn with_tokenizer<R>(e: Encoding, f: impl FnOnce(&Tokenizer) -> R) -> R {
    f(&Tokenizer::new(e))
}

/// Runs the rule on a parsed body.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &Value) {
    if !ctx.enabled(RULE) {
        return;
    }
    let Some(api) = Api::from_endpoint(endpoint) else {
        return;
    };
    let Some(model) = body.get("model").and_then(Value::as_str) else {
        return;
    };
    let Some(encoding) = Encoding::for_model(model) else {
        return;
    };
    let limits = Limits::for_model(model);
    let max_cost = usize::try_from(ctx.config.bounds.tokenize_cost).unwrap_or(usize::MAX);
    // The lazy pass's counts when it tokenized every text: the exact ones, not counted twice.
    let mut counted = None;
    if ctx.config.token_count == TokenCount::Lazy {
        // Count exactly only where the verdict can depend on it.
        let most = request::upper_bound(api, body);
        if limits.is_none_or(|l| request::certainly_fits(&most, api, body, &l)) {
            estimated(ctx, api, model, encoding, limits, &most, body);
            return;
        }
        // Over at a token a byte: count texts in order only until the rest surely fits. If it
        // never does (the request may be over), the exact count below decides, as it would
        // have without this pass (at most twice the tokenizing bound in all).
        if let Some(l) = limits.filter(|_| api != Api::Embeddings) {
            let out = if l.output_in_window {
                request::requested_output(body)
                    .map(|o| o.0)
                    .or(l.default_output)
                    .unwrap_or(0)
            } else {
                0
            };
            let need = (most.total() + out).saturating_sub(l.context_window);
            let tight = with_tokenizer(encoding, |t| {
                request::tighten(&most, t, api, body, max_cost, need)
            });
            if request::certainly_fits(&tight, api, body, &l) {
                estimated(ctx, api, model, encoding, limits, &tight, body);
                return;
            }
            counted = tight.into_exact();
        }
    }
    let (input, verdict, uncertain) = with_tokenizer(encoding, |t| match &limits {
        Some(l) => {
            let b = match counted {
                Some(input) => request::budget_of(input, api, body, l),
                None => request::budget_within(t, api, body, l, max_cost),
            };
            (b.input, Some((b.error, b.warning)), b.uncertain)
        }
        None => (
            request::count_request_within(t, api, body, max_cost),
            None,
            false,
        ),
    });
    let (tokenized, not_tokenized) = (input.bytes_tokenized, input.bytes_not_tokenized);
    let report = TokenReport {
        input_exact: input.exact,
        input_estimated: input.estimated,
        per_input: input.per_input,
        uncounted: input.uncounted,
        bytes_tokenized: tokenized,
        bytes_not_tokenized: not_tokenized,
        ..report_for(api, encoding, limits, body, Counted::Exact)
    };
    if uncertain {
        let limit = ctx.config.bounds.tokenize_cost;
        ctx.partial(
            super::bounds::Bound {
                name: "tokenize_cost",
                limit,
                seen: tokenized + not_tokenized,
            },
            "partly_checked",
            format!(
                "The context length was only partly checked: {tokenized} of {} bytes of text were tokenized (Airlock's bound on tokenizing is {limit}). At least {} input tokens; whether the request fits the model's window is not certain.",
                tokenized + not_tokenized,
                report.input_total()
            ),
        );
    }
    if let (Some(l), Some((error, warning))) = (limits, verdict) {
        if let Some(e) = error {
            ctx.reject(RULE, e.code.as_deref().unwrap_or(""), e.param, e.message);
        } else if let Some(w) = warning {
            ctx.warn(
                RULE,
                "context_length_exceeded",
                w.param,
                over_message(&report, l.context_window),
            );
        }
        max_output(ctx, api, model, &report);
    }
    ctx.verdict.tokens = Some(report);
}

/// What the exact and the estimated report say alike: the encoding, the requested output (none
/// for embeddings), the model's limits and how it was counted; the counts are the caller's.
fn report_for(
    api: Api,
    encoding: Encoding,
    limits: Option<Limits>,
    body: &Value,
    counted: Counted,
) -> TokenReport {
    let output = if api == Api::Embeddings {
        None
    } else {
        request::requested_output(body)
    };
    TokenReport {
        encoding: String::from(encoding.as_str()),
        output: output.as_ref().map(|o| o.0),
        output_param: output.map(|o| o.1),
        context_window: limits.map(|l| l.context_window),
        output_in_window: limits.is_none_or(|l| l.output_in_window),
        max_output: limits.and_then(|l| l.max_output),
        counted,
        ..TokenReport::default()
    }
}

/// A request whose verdict does not depend on its exact count ([`TokenCount::Lazy`]): no
/// tokenizing, OpenAI's rate-limiter estimate in the report, and the one check that does not need
/// the input (the requested output against the model's maximum).
fn estimated(
    ctx: &mut Ctx<'_>,
    api: Api,
    model: &str,
    encoding: Encoding,
    limits: Option<Limits>,
    most: &request::RequestTokens,
    body: &Value,
) {
    let base = report_for(api, encoding, limits, body, Counted::Estimate);
    let report = TokenReport {
        input_estimated: request::rate_limit_estimate(most.chars, base.output),
        uncounted: most.uncounted.clone(),
        bytes_tokenized: most.bytes_tokenized,
        ..base
    };
    if limits.is_some() {
        max_output(ctx, api, model, &report);
    }
    ctx.verdict.tokens = Some(report);
}

/// The warning when the estimated parts or the requested output push the request over.
fn over_message(r: &TokenReport, window: u64) -> String {
    let out = match (&r.output_param, r.output_in_window) {
        (Some(p), true) => format!(" + {} requested output ({p})", r.output.unwrap_or(0)),
        _ => String::new(),
    };
    let sum = r.input_total()
        + if r.output_in_window {
            r.output.unwrap_or(0)
        } else {
            0
        };
    let what = if r.output_in_window {
        "context window"
    } else {
        "input limit"
    };
    format!(
        "This request may not fit the model's {what}: {} input tokens counted exactly + {} estimated (message framing, tools, images){out} = {sum} > {window}. OpenAI may answer with context_length_exceeded.",
        r.input_exact, r.input_estimated
    )
}

/// Requested output above the model's maximum output (the catalog's number): a warning, unless
/// the `model_max_tokens` rule already judges it with an observed cap.
fn max_output(ctx: &mut Ctx<'_>, api: Api, model: &str, r: &TokenReport) {
    let (Some(max), Some(out), Some(param)) = (r.max_output, r.output, r.output_param.as_deref())
    else {
        return;
    };
    if out <= max {
        return;
    }
    let observed_cap = api == Api::ChatCompletions
        && super::models::lookup(model)
            .and_then(|k| k.family)
            .is_some_and(|f| f.chat_max_completion_tokens.is_some());
    if observed_cap {
        return;
    }
    ctx.warn(
        RULE,
        "",
        Some(String::from(param)),
        format!(
            "{param} is too large: {out}. This model supports at most {max} completion tokens, whereas you provided {out}."
        ),
    );
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use serde_json::json;

    use crate::validate::{Config, Mode, Verdict, check};

    /// `n` words of one token each in o200k_base and cl100k_base (" word" repeated).
    fn words(n: usize) -> String {
        " word".repeat(n)
    }

    fn run(endpoint: &str, body: &Value) -> Verdict {
        check(endpoint, body.to_string().as_bytes(), &Config::default())
    }

    use super::*;

    fn pick(f: &[crate::validate::Finding]) -> Vec<&str> {
        f.iter()
            .filter(|f| f.rule == RULE)
            .map(|f| f.error.message.as_str())
            .collect()
    }

    fn rule_findings(v: &Verdict) -> (Vec<&str>, Vec<&str>) {
        (pick(&v.errors), pick(&v.warnings))
    }

    #[test]
    fn text_alone_over_the_window_is_rejected_in_openai_words() {
        let body =
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": words(128_001)}]});
        let v = run("/v1/chat/completions", &body);
        let tokens = v.tokens.clone().unwrap();
        assert!(tokens.input_exact > 128_000);
        assert_eq!(tokens.context_window, Some(128_000));
        let e = &v.errors.iter().find(|f| f.rule == RULE).unwrap().error;
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        assert_eq!(e.param.as_deref(), Some("messages"));
        assert!(e.message.starts_with(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in "
        ));
        assert!(
            e.message
                .ends_with(" tokens. Please reduce the length of the messages.")
        );
        // With an output limit in the request, OpenAI names both parts.
        let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": words(128_001)}], "max_tokens": 10});
        let v = run("/v1/chat/completions", &body);
        let e = &v.errors.iter().find(|f| f.rule == RULE).unwrap().error;
        assert!(e.message.starts_with(
            "This model's maximum context length is 128000 tokens. However, you requested "
        ));
        assert!(
            e.message
                .contains(" in the messages, 10 in the completion)")
        );
    }

    #[test]
    fn responses_input_over_the_window_names_input() {
        let body = json!({"model": "gpt-4o", "input": words(128_100)});
        let v = run("/v1/responses", &body);
        let e = &v.errors.iter().find(|f| f.rule == RULE).unwrap().error;
        assert_eq!(e.param.as_deref(), Some("input"));
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        assert_eq!(
            e.message,
            "Your input exceeds the context window of this model. Please adjust your input and try again."
        );
    }

    #[test]
    fn under_the_window_with_a_large_output_only_warns() {
        let body = json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": words(120_000)}],
            "max_tokens": 16_000
        });
        let v = run("/v1/chat/completions", &body);
        let (errors, warnings) = rule_findings(&v);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("16000 requested output (max_tokens)"));
        assert_eq!(v.tokens.unwrap().output, Some(16_000));
    }

    #[test]
    fn estimated_framing_pushing_it_over_only_warns() {
        // Exactly 128000 tokens of text: the window holds it, the message framing does not.
        let body =
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": words(127_999)}]});
        let v = run("/v1/chat/completions", &body);
        assert_eq!(v.tokens.as_ref().unwrap().input_exact, 128_000); // + "user"
        let (errors, warnings) = rule_findings(&v);
        assert!(errors.is_empty());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn unknown_models_are_counted_but_never_rejected() {
        // A snapshot the data does not list and a model it does not know at all.
        for model in ["gpt-4o-2099-01-01", "my-gpt-4o"] {
            let body =
                json!({"model": model, "messages": [{"role": "user", "content": words(200_000)}]});
            let v = run("/v1/chat/completions", &body);
            let (errors, warnings) = rule_findings(&v);
            assert!(errors.is_empty() && warnings.is_empty(), "{model}");
        }
    }

    #[test]
    fn gpt5_input_limit_is_its_own_budget() {
        let body = json!({
            "model": "gpt-5",
            "messages": [{"role": "user", "content": words(200_000)}],
            "max_completion_tokens": 128_000
        });
        let v = run("/v1/chat/completions", &body);
        let (errors, warnings) = rule_findings(&v);
        assert!(errors.is_empty() && warnings.is_empty());
        let body =
            json!({"model": "gpt-5", "messages": [{"role": "user", "content": words(272_001)}]});
        let v = run("/v1/chat/completions", &body);
        let e = &v.errors.iter().find(|f| f.rule == RULE).unwrap().error;
        assert!(e.message.starts_with(
            "Input tokens exceed the configured limit of 272000 tokens. Your messages resulted in "
        ));
    }

    #[test]
    fn embeddings_per_input_limit() {
        let body = json!({"model": "text-embedding-3-small", "input": ["short", words(8193)]});
        let v = run("/v1/embeddings", &body);
        let e = &v.errors.iter().find(|f| f.rule == RULE).unwrap().error;
        assert_eq!(e.param.as_deref(), Some("input"));
        assert!(e.message.starts_with(
            "This model's maximum context length is 8192 tokens, however you requested 8193 tokens"
        ));
        let body = json!({"model": "text-embedding-3-small", "input": [words(8192)]});
        assert!(rule_findings(&run("/v1/embeddings", &body)).0.is_empty());
    }

    #[test]
    fn output_above_the_catalog_maximum_warns_once() {
        // gpt-4o: the model_max_tokens rule has the observed cap; no second finding here.
        let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20_000});
        let v = run("/v1/chat/completions", &body);
        assert!(v.errors.iter().any(|f| f.rule == "model_max_tokens"));
        assert!(rule_findings(&v).1.is_empty());
        // Responses has no observed cap: the catalog's number makes a warning.
        let body = json!({"model": "gpt-4o", "input": "hi", "max_output_tokens": 20_000});
        let v = run("/v1/responses", &body);
        let (errors, warnings) = rule_findings(&v);
        assert!(errors.is_empty());
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("max_output_tokens is too large: 20000."))
        );
    }

    #[test]
    fn the_rule_follows_its_mode() {
        let body =
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": words(128_001)}]});
        let mut config = Config::default();
        config.rules.insert(RULE.into(), Mode::Report);
        let v = check("/v1/chat/completions", body.to_string().as_bytes(), &config);
        assert!(v.ok());
        assert!(v.warnings.iter().any(|f| f.rule == RULE));
        config.rules.insert(RULE.into(), Mode::Off);
        let v = check("/v1/chat/completions", body.to_string().as_bytes(), &config);
        assert!(v.tokens.is_none() && !v.warnings.iter().any(|f| f.rule == RULE));
    }
}
