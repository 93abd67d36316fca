//! When a pattern of errors deserves an alert: one rule per category (from `rules/alerts.toml`),
//! judged from per-minute counts. Pure: the counts and the clock (in whole minutes since the Unix
//! epoch) are arguments; the worker's Monitor does the storage and the webhook.
//!
//! ```
//! use airlock_rules::alert::{self, Decision};
//! use airlock_rules::Category;
//!
//! let rule = alert::rule_for(Category::ServerError);
//! // A burst of 500s in the current minute after a quiet hour.
//! let w = alert::window(rule, &[(1000, 12)], 1000);
//! assert_eq!(alert::evaluate(rule, w, 1000, None), Decision::Fire);
//! // One 500 is not a pattern.
//! let w = alert::window(rule, &[(1000, 1)], 1000);
//! assert_eq!(alert::evaluate(rule, w, 1000, None), Decision::Quiet);
//! ```

use crate::Category;
use crate::generated::alerts::ALERT_RULES;
use crate::generated::errors::{ERROR_RULES, STATUS_RULES};

/// The trailing span the baseline is read from, in minutes (before the window).
pub const BASELINE_MINUTES: u64 = 60;

/// How a category's alert fires.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fire {
    /// At least `min_count` in the window and at least `factor` × the trailing hour's rate.
    Jump,
    /// At least `min_count` in the window and none in the trailing hour.
    FirstAfterQuiet,
    /// Counted, never alerted.
    Never,
}

impl Fire {
    /// The name used in `rules/alerts.toml`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fire::Jump => "jump",
            Fire::FirstAfterQuiet => "first_after_quiet",
            Fire::Never => "never",
        }
    }
}

/// One category's alert rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertRule {
    /// The category it watches.
    pub category: Category,
    /// How it fires.
    pub fire: Fire,
    /// The last this many minutes (the current one included) are the window.
    pub window_minutes: u32,
    /// Fewest errors in the window that can fire.
    pub min_count: u32,
    /// `Jump`: the window's count must be at least this many times the trailing hour's count
    /// scaled to the window's length.
    pub factor: u32,
    /// After firing, no second alert for this long, in minutes.
    pub cooldown_minutes: u32,
    /// The `rules/errors` record whose meaning and first fix the alert carries.
    pub explained_by: &'static str,
    /// Why these numbers.
    pub source: &'static str,
}

impl AlertRule {
    /// What the category means, from the record the rule names.
    pub fn meaning(&self) -> &'static str {
        self.record().map_or("", |r| r.meaning)
    }

    /// The first fix, from the record the rule names.
    pub fn first_fix(&self) -> &'static str {
        self.record().map_or("", |r| r.first_fix)
    }

    fn record(&self) -> Option<&'static crate::classify::Rule> {
        STATUS_RULES
            .iter()
            .chain(ERROR_RULES)
            .find(|r| r.name == self.explained_by)
    }
}

/// Every category's rule, in [`Category::ALL`] order.
pub fn rules() -> &'static [AlertRule] {
    ALERT_RULES
}

/// The rule for `category` (codegen checks there is one per category).
pub fn rule_for(category: Category) -> &'static AlertRule {
    static NEVER: AlertRule = AlertRule {
        category: Category::ClientSide,
        fire: Fire::Never,
        window_minutes: 5,
        min_count: 1,
        factor: 1,
        cooldown_minutes: 60,
        explained_by: "",
        source: "",
    };
    ALERT_RULES
        .iter()
        .find(|r| r.category == category)
        .unwrap_or(&NEVER)
}

/// A category's counts around now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Errors in the window (the last `window_minutes` minutes, the current one included).
    pub recent: u64,
    /// Errors in the [`BASELINE_MINUTES`] before the window.
    pub baseline: u64,
}

/// Sums `counts` (minute, count; any order, minutes may repeat) into the rule's window ending at
/// minute `now` and the trailing hour before it. Counts from the future are ignored.
pub fn window(rule: &AlertRule, counts: &[(u64, u64)], now: u64) -> Window {
    let span = u64::from(rule.window_minutes.max(1));
    let window_start = now.saturating_sub(span - 1);
    let baseline_start = window_start.saturating_sub(BASELINE_MINUTES);
    let mut w = Window::default();
    for &(minute, n) in counts {
        if minute > now {
            continue;
        }
        if minute >= window_start {
            w.recent = w.recent.saturating_add(n);
        } else if minute >= baseline_start {
            w.baseline = w.baseline.saturating_add(n);
        }
    }
    w
}

/// What a rule makes of a window.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The pattern is not there.
    Quiet,
    /// The pattern is there and the category is not cooling down: send an alert now.
    Fire,
    /// The pattern is there but an alert went out less than `cooldown_minutes` ago.
    Cooling {
        /// The first minute a new alert may fire.
        until: u64,
    },
}

impl Decision {
    /// `quiet`, `firing` or `cooling`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Quiet => "quiet",
            Decision::Fire => "firing",
            Decision::Cooling { .. } => "cooling",
        }
    }
}

/// True when `w` shows the rule's pattern, cooldown aside.
pub fn pattern(rule: &AlertRule, w: Window) -> bool {
    if w.recent < u64::from(rule.min_count) {
        return false;
    }
    match rule.fire {
        Fire::Never => false,
        Fire::FirstAfterQuiet => w.baseline == 0,
        // recent / window >= factor × baseline / 60, in integers.
        Fire::Jump => {
            w.recent.saturating_mul(BASELINE_MINUTES)
                >= u64::from(rule.factor)
                    .saturating_mul(w.baseline)
                    .saturating_mul(u64::from(rule.window_minutes))
        }
    }
}

/// Decides at minute `now`, given the minute the category last fired (if ever).
pub fn evaluate(rule: &AlertRule, w: Window, now: u64, last_fired: Option<u64>) -> Decision {
    if !pattern(rule, w) {
        return Decision::Quiet;
    }
    match last_fired {
        Some(at) if now < at.saturating_add(u64::from(rule.cooldown_minutes)) => {
            Decision::Cooling {
                until: at.saturating_add(u64::from(rule.cooldown_minutes)),
            }
        }
        _ => Decision::Fire,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn rule(fire: Fire) -> AlertRule {
        AlertRule {
            category: Category::ServerError,
            fire,
            window_minutes: 5,
            min_count: 5,
            factor: 3,
            cooldown_minutes: 30,
            explained_by: "status_500",
            source: "",
        }
    }

    #[test]
    fn one_rule_per_category_in_order_with_an_explanation() {
        assert_eq!(rules().len(), Category::ALL.len());
        for (r, c) in rules().iter().zip(Category::ALL) {
            assert_eq!(r.category, c);
            assert_eq!(rule_for(c), r);
            assert!(!r.meaning().is_empty() && !r.first_fix().is_empty(), "{c}");
        }
        assert_eq!(rule_for(Category::Quota).fire, Fire::FirstAfterQuiet);
        assert_eq!(
            rule_for(Category::Authentication).fire,
            Fire::FirstAfterQuiet
        );
        assert_eq!(rule_for(Category::RateLimit).fire, Fire::Jump);
        assert_eq!(rule_for(Category::ClientSide).fire, Fire::Never);
    }

    #[test]
    fn window_and_baseline_spans() {
        let r = rule(Fire::Jump);
        // Window: minutes 96..=100; baseline: 36..=95.
        let counts = [(100, 1), (96, 2), (95, 4), (36, 8), (35, 16), (101, 32)];
        assert_eq!(
            window(&r, &counts, 100),
            Window {
                recent: 3,
                baseline: 12
            }
        );
        assert_eq!(window(&r, &[], 0), Window::default());
        assert_eq!(window(&r, &[(0, 3)], 2).recent, 3);
    }

    #[test]
    fn jump_needs_the_minimum_and_the_factor() {
        let r = rule(Fire::Jump);
        let at = |recent, baseline| {
            evaluate(&r, Window { recent, baseline }, 1000, None) == Decision::Fire
        };
        // Bound: the minimum count.
        assert!(!at(4, 0));
        assert!(at(5, 0));
        // Bound: 3 × the trailing hour scaled to 5 minutes. 120/h = 10 per 5 min -> 30 needed.
        assert!(!at(29, 120));
        assert!(at(30, 120));
        // A single 500 in a busy hour is never a pattern.
        assert!(!at(1, 0));
    }

    #[test]
    fn first_after_quiet() {
        let r = AlertRule {
            min_count: 1,
            ..rule(Fire::FirstAfterQuiet)
        };
        let w = |recent, baseline| Window { recent, baseline };
        assert_eq!(evaluate(&r, w(1, 0), 10, None), Decision::Fire);
        assert_eq!(evaluate(&r, w(0, 0), 10, None), Decision::Quiet);
        // Not after a quiet hour: no alert, however many.
        assert_eq!(evaluate(&r, w(50, 1), 10, None), Decision::Quiet);
    }

    #[test]
    fn cooldown_bounds() {
        let r = rule(Fire::Jump);
        let w = Window {
            recent: 10,
            baseline: 0,
        };
        assert_eq!(
            evaluate(&r, w, 100, Some(100)),
            Decision::Cooling { until: 130 }
        );
        assert_eq!(
            evaluate(&r, w, 129, Some(100)),
            Decision::Cooling { until: 130 }
        );
        assert_eq!(evaluate(&r, w, 130, Some(100)), Decision::Fire);
        assert_eq!(
            evaluate(&r, Window::default(), 110, Some(100)),
            Decision::Quiet
        );
    }

    #[test]
    fn never_fires() {
        let r = rule(Fire::Never);
        let w = Window {
            recent: u64::MAX,
            baseline: 0,
        };
        assert_eq!(evaluate(&r, w, 0, None), Decision::Quiet);
    }

    #[test]
    fn a_burst_fires_once_per_cooldown() {
        // Minute by minute: 10 errors a minute for 90 minutes, alerts counted as the Monitor would.
        let r = rule(Fire::Jump);
        let mut counts: Vec<(u64, u64)> = Vec::new();
        let mut last = None;
        let mut fired = Vec::new();
        for now in 0..90u64 {
            counts.push((now, 10));
            if evaluate(&r, window(&r, &counts, now), now, last) == Decision::Fire {
                last = Some(now);
                fired.push(now);
            }
        }
        // The first minute fires; a steady rate is its own baseline after that (no jump), so
        // the cooldown's end finds nothing to fire on.
        assert_eq!(fired, [0]);
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let r = rule(Fire::Jump);
        let w = Window {
            recent: u64::MAX,
            baseline: u64::MAX,
        };
        let _ = evaluate(&r, w, u64::MAX, Some(u64::MAX));
        let _ = window(&r, &[(u64::MAX, u64::MAX), (u64::MAX, 1)], u64::MAX);
    }
}
