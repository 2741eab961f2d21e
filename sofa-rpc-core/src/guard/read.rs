//! Reading one rule, field by field: every error names the rule and the field, and a field
//! the rule does not have is an error.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::RuleError;
use super::rules::{
    BreakerRule, BreakerScope, DegradeAction, DegradeRule, FaultAbort, FaultDelay, FaultRule,
    Limiter, Mode, RateLimitRule, Side,
};
use crate::error::ErrorKind;

/// The fields of one rule (or of a table inside it), taken one by one.
pub(crate) struct Fields<'a> {
    pub(crate) rule: &'a str,
    /// `table.` for fields of a nested table.
    pub(crate) prefix: String,
    pub(crate) map: Map<String, Value>,
}

impl Fields<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> RuleError {
        RuleError::new(self.rule, &format!("{}{field}", self.prefix), message)
    }

    fn take<T: DeserializeOwned>(&mut self, field: &str) -> Result<Option<T>, RuleError> {
        match self.map.remove(field) {
            None => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| self.error(field, e.to_string())),
        }
    }

    fn require<T: DeserializeOwned>(&mut self, field: &str) -> Result<T, RuleError> {
        self.take(field)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn table(&mut self, field: &str) -> Result<Option<Fields<'_>>, RuleError> {
        match self.map.remove(field) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                rule: self.rule,
                prefix: format!("{}{field}.", self.prefix),
                map,
            })),
            Some(_) => Err(self.error(field, "must be a table/object")),
        }
    }

    /// Fails on any field left: one the rule does not have.
    pub(crate) fn finish(&self) -> Result<(), RuleError> {
        match self.map.keys().next() {
            Some(unknown) => Err(self.error(unknown, "unknown field")),
            None => Ok(()),
        }
    }

    fn name(&mut self, field: &str) -> Result<String, RuleError> {
        let text: String = self.require(field)?;
        if text.trim().is_empty() {
            return Err(self.error(field, "must not be empty"));
        }
        Ok(text)
    }

    fn optional_name(&mut self, field: &str) -> Result<Option<String>, RuleError> {
        match self.take::<String>(field)? {
            Some(text) if text.trim().is_empty() => Err(self.error(field, "must not be empty")),
            other => Ok(other),
        }
    }

    fn positive(&self, field: &str, value: f64) -> Result<f64, RuleError> {
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(self.error(field, format!("must be a number above 0, not {value}")))
        }
    }

    fn percent(&self, field: &str, value: f64, zero_ok: bool) -> Result<f64, RuleError> {
        let low_ok = if zero_ok { value >= 0.0 } else { value > 0.0 };
        if value.is_finite() && low_ok && value <= 100.0 {
            Ok(value)
        } else {
            Err(self.error(
                field,
                format!("must be a percentage in 0..=100, not {value}"),
            ))
        }
    }

    fn at_least<T: PartialOrd + fmt::Display>(
        &self,
        field: &str,
        value: T,
        min: T,
    ) -> Result<T, RuleError> {
        if value >= min {
            Ok(value)
        } else {
            Err(self.error(field, format!("must be at least {min}, not {value}")))
        }
    }

    fn error_kind(&mut self, field: &str) -> Result<String, RuleError> {
        let kind = self.name(field)?;
        match ErrorKind::from_name(&kind) {
            Some(_) => Ok(kind),
            None => Err(self.error(
                field,
                format!("{kind:?} is not a SOFARPC error kind name (e.g. SERVER_BUSY)"),
            )),
        }
    }
}

pub(crate) fn rate_limit(f: &mut Fields<'_>) -> Result<RateLimitRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let app = f.optional_name("app")?;
    let side: Side = f.take("side")?.unwrap_or_default();
    let mode: Mode = f.take("mode")?.unwrap_or_default();
    if app.is_some() && side == Side::Consumer {
        return Err(f.error(
            "app",
            "a caller app is known on the provider side only: set side = \"provider\"",
        ));
    }
    let token = match f.table("token_bucket")? {
        Some(mut t) => {
            let rate = t.require("rate")?;
            let rate = t.positive("rate", rate)?;
            let burst: u32 = t.require("burst")?;
            let burst = t.at_least("burst", burst, 1)?;
            t.finish()?;
            Some(Limiter::TokenBucket { rate, burst })
        }
        None => None,
    };
    let leaky = match f.table("leaky_bucket")? {
        Some(mut t) => {
            let rate = t.require("rate")?;
            let rate = t.positive("rate", rate)?;
            let queue = t.require("queue")?;
            let max_wait_ms = t.require("max_wait_ms")?;
            t.finish()?;
            Some(Limiter::LeakyBucket {
                rate,
                queue,
                max_wait_ms,
            })
        }
        None => None,
    };
    let limiter = match (token, leaky) {
        (Some(limiter), None) | (None, Some(limiter)) => limiter,
        (None, None) => {
            return Err(f.error(
                "token_bucket",
                "a rate limit needs token_bucket or leaky_bucket",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(f.error(
                "leaky_bucket",
                "a rate limit has token_bucket or leaky_bucket, not both",
            ))
        }
    };
    Ok(RateLimitRule {
        id,
        service,
        method,
        app,
        side,
        mode,
        limiter,
    })
}

pub(crate) fn breaker(f: &mut Fields<'_>) -> Result<BreakerRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let scope: BreakerScope = f.take("scope")?.unwrap_or_default();
    let mode: Mode = f.take("mode")?.unwrap_or_default();
    let buckets = f.take("buckets")?.unwrap_or(6);
    let buckets = f.at_least("buckets", buckets, 1)?;
    let bucket_ms = f.take("bucket_ms")?.unwrap_or(10_000);
    let bucket_ms = f.at_least("bucket_ms", bucket_ms, 1)?;
    let min_requests = f.take("min_requests")?.unwrap_or(20);
    let min_requests = f.at_least("min_requests", min_requests, 1)?;
    let error_rate = f.take("error_rate")?.unwrap_or(50.0);
    let error_rate = f.percent("error_rate", error_rate, false)?;
    let slow_call_ms: Option<u64> = f.take("slow_call_ms")?;
    let slow_rate = match f.take::<f64>("slow_rate")? {
        Some(rate) => Some(f.percent("slow_rate", rate, false)?),
        None => None,
    };
    if slow_rate.is_some() != slow_call_ms.is_some() {
        return Err(f.error("slow_rate", "slow_rate and slow_call_ms go together"));
    }
    let sleep_ms = f.take("sleep_ms")?.unwrap_or(5_000);
    let sleep_ms = f.at_least("sleep_ms", sleep_ms, 1)?;
    let probes = f.take("probes")?.unwrap_or(1);
    let probes = f.at_least("probes", probes, 1)?;
    Ok(BreakerRule {
        id,
        service,
        method,
        scope,
        mode,
        buckets,
        bucket_ms,
        min_requests,
        error_rate,
        slow_call_ms,
        slow_rate,
        sleep_ms,
        probes,
    })
}

pub(crate) fn degrade(f: &mut Fields<'_>) -> Result<DegradeRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let action: String = f.require("action")?;
    let action = match action.as_str() {
        "empty" => DegradeAction::Empty,
        "fixed" => DegradeAction::Fixed {
            value: f.require("value")?,
        },
        "error" => {
            let kind = f.error_kind("kind")?;
            let message = f
                .take("message")?
                .unwrap_or_else(|| format!("degraded by guard rule {id}"));
            DegradeAction::Error { kind, message }
        }
        other => {
            return Err(f.error(
                "action",
                format!("{other:?} is not one of empty, fixed, error"),
            ))
        }
    };
    Ok(DegradeRule {
        id,
        service,
        method,
        action,
    })
}

pub(crate) fn fault(f: &mut Fields<'_>) -> Result<FaultRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let delay = match f.table("delay")? {
        Some(mut t) => {
            let ms = t.require("ms")?;
            let percent = t.require("percent")?;
            let percent = t.percent("percent", percent, true)?;
            t.finish()?;
            Some(FaultDelay { ms, percent })
        }
        None => None,
    };
    let abort = match f.table("abort")? {
        Some(mut t) => {
            let kind = t.error_kind("kind")?;
            let percent = t.require("percent")?;
            let percent = t.percent("percent", percent, true)?;
            t.finish()?;
            Some(FaultAbort { kind, percent })
        }
        None => None,
    };
    if delay.is_none() && abort.is_none() {
        return Err(f.error("delay", "a fault rule needs delay or abort"));
    }
    Ok(FaultRule {
        id,
        service,
        method,
        delay,
        abort,
    })
}
