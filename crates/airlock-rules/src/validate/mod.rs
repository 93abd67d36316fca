//! Request validators: what the OpenAI API certainly rejects, checked before a request is sent.
//!
//! The rule above all: never reject a request the real API accepts. What the rules do not know
//! (a new model, a parameter on an endpoint not modelled) passes, with a warning.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

mod common;
mod conversation;
mod media;
mod schema;
mod tools;

/// How a rule is applied.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A finding rejects the request.
    #[default]
    Enforce,
    /// A finding is reported as a warning; the request passes.
    Report,
    /// The rule is not run.
    Off,
}

/// Per-rule modes; rules not named use `default`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The mode of rules not named in `rules`.
    pub default: Mode,
    /// Modes by rule name.
    pub rules: BTreeMap<String, Mode>,
}

impl Config {
    /// The mode for `rule`.
    pub fn mode(&self, rule: &str) -> Mode {
        self.rules.get(rule).copied().unwrap_or(self.default)
    }
}

/// An error in OpenAI's shape: `{message, type, param, code}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApiError {
    /// The message, in OpenAI's wording where it has one.
    pub message: String,
    /// Always `invalid_request_error` for request checks.
    #[serde(rename = "type")]
    pub error_type: String,
    /// OpenAI's param path (`messages[0].role`, `tools[0].function.parameters`).
    pub param: Option<String>,
    /// OpenAI's code (`unknown_parameter`, `invalid_type`, …).
    pub code: Option<String>,
}

/// One finding: the rule that made it and the error as OpenAI would word it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule's name, as used in [`Config`].
    pub rule: String,
    /// The error in OpenAI's shape.
    pub error: ApiError,
}

/// The verdict on one request.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// What OpenAI would reject; the first is the one OpenAI would name.
    pub errors: Vec<Finding>,
    /// What looks wrong but may pass, and what the rules did not understand.
    pub warnings: Vec<Finding>,
    /// The endpoint understood (`/v1/chat/completions`), if modelled.
    pub endpoint: Option<String>,
    /// The model named in the body, if any.
    pub model: Option<String>,
}

impl Verdict {
    /// True when nothing is rejected.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks a request body for an endpoint path.
pub fn check(endpoint: &str, body: &[u8], config: &Config) -> Verdict {
    let mut ctx = Ctx::new(config);
    ctx.verdict.endpoint = Some(String::from(endpoint));
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        // Hand-written rules for nested structures.
        schema::check(&mut ctx, endpoint, &value);
        tools::check(&mut ctx, endpoint, &value);
        conversation::check(&mut ctx, endpoint, &value);
        media::check(&mut ctx, endpoint, &value);
    }
    ctx.verdict
}

/// The state shared by the rules while one request is checked: findings go through here so each
/// rule's [`Mode`] is applied in one place.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    config: &'a Config,
    pub(crate) verdict: Verdict,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(config: &'a Config) -> Self {
        Ctx {
            config,
            verdict: Verdict::default(),
        }
    }

    /// True unless `rule` is off.
    #[allow(dead_code)] // used by the rules as they land
    pub(crate) fn enabled(&self, rule: &str) -> bool {
        self.config.mode(rule) != Mode::Off
    }

    /// Something OpenAI certainly rejects: an error when `rule` is enforced, a warning when reported.
    #[allow(dead_code)] // used by the rules as they land
    pub(crate) fn reject(
        &mut self,
        rule: &str,
        code: &str,
        param: Option<String>,
        message: String,
    ) {
        let finding = finding(rule, code, param, message);
        match self.config.mode(rule) {
            Mode::Enforce => self.verdict.errors.push(finding),
            Mode::Report => self.verdict.warnings.push(finding),
            Mode::Off => {}
        }
    }

    /// Something that looks wrong, or that the rules did not understand: always only a warning.
    #[allow(dead_code)] // used by the rules as they land
    pub(crate) fn warn(&mut self, rule: &str, code: &str, param: Option<String>, message: String) {
        if self.enabled(rule) {
            self.verdict
                .warnings
                .push(finding(rule, code, param, message));
        }
    }
}

#[allow(dead_code)] // used by the rules as they land
fn finding(rule: &str, code: &str, param: Option<String>, message: String) -> Finding {
    Finding {
        rule: String::from(rule),
        error: ApiError {
            message,
            error_type: String::from("invalid_request_error"),
            param,
            code: if code.is_empty() {
                None
            } else {
                Some(String::from(code))
            },
        },
    }
}
