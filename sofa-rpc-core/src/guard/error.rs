//! [`RuleError`]: why a rule set was refused, naming the rule and the field.

use std::fmt;

/// Why a rule set was rejected: which rule (`kind[index]`, with its id when it has one),
/// which field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The rule, e.g. `rate_limit[2] "echo-limit"`; empty for the set as a whole.
    pub rule: String,
    /// The field, e.g. `token_bucket.burst`; empty when the rule as a whole is wrong.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(rule: &str, field: &str, message: impl Into<String>) -> Self {
        RuleError {
            rule: rule.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.rule.is_empty(), self.field.is_empty()) {
            (true, _) => write!(f, "guard rules: {}", self.message),
            (false, true) => write!(f, "guard rule {}: {}", self.rule, self.message),
            (false, false) => write!(
                f,
                "guard rule {}, field {}: {}",
                self.rule, self.field, self.message
            ),
        }
    }
}

impl std::error::Error for RuleError {}
