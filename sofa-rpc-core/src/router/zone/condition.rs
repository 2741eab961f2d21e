//! Level conditions, checked once when rules are loaded and then evaluated per call.

use super::model::Condition;
use super::shard::parse_range;

/// How deep `all` / `any` / `not` may nest. Bank rule centres allow 16 levels of conditions;
/// a deeper rule is rejected rather than evaluated with unbounded recursion.
pub const MAX_DEPTH: usize = 16;

/// A checked condition.
#[derive(Clone, Debug)]
pub(crate) enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Equals(Vec<String>),
    Shards(Vec<(u32, u32)>),
    Method(Vec<String>),
}

/// What a condition sees of a call.
pub(crate) struct Subject<'a> {
    pub(crate) key: &'a str,
    pub(crate) shard: Option<u32>,
    pub(crate) method: &'a str,
}

impl Cond {
    /// Checks `spec` (nested at `depth`, 1 for a level's own condition) against the rule's
    /// shard count; the error names the field (relative to `at`) and the reason.
    pub(crate) fn compile(
        spec: &Condition,
        at: &str,
        depth: usize,
        shards: u32,
    ) -> Result<Cond, (String, String)> {
        if depth > MAX_DEPTH {
            return Err((
                at.to_string(),
                format!("conditions nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        let nested = |list: &[Condition], op: &str| -> Result<Vec<Cond>, (String, String)> {
            if list.is_empty() {
                return Err((format!("{at}.{op}"), "is empty".into()));
            }
            list.iter()
                .enumerate()
                .map(|(i, c)| Cond::compile(c, &format!("{at}.{op}[{i}]"), depth + 1, shards))
                .collect()
        };
        Ok(match spec {
            Condition::All(list) => Cond::All(nested(list, "all")?),
            Condition::Any(list) => Cond::Any(nested(list, "any")?),
            Condition::Not(c) => Cond::Not(Box::new(Cond::compile(
                c,
                &format!("{at}.not"),
                depth + 1,
                shards,
            )?)),
            Condition::Prefix(s) => Cond::Prefix(s.clone()),
            Condition::Suffix(s) => Cond::Suffix(s.clone()),
            Condition::Contains(s) => Cond::Contains(s.clone()),
            Condition::Equals(v) => Cond::Equals(v.clone()),
            Condition::Method(v) => Cond::Method(v.clone()),
            Condition::Shards(ranges) => {
                let mut parsed = Vec::with_capacity(ranges.len());
                for (i, text) in ranges.iter().enumerate() {
                    match parse_range(text) {
                        Some((lo, hi)) if hi < shards => parsed.push((lo, hi)),
                        Some(_) => {
                            return Err((
                                format!("{at}.shards[{i}]"),
                                format!("{text:?} is past the last shard {}", shards - 1),
                            ))
                        }
                        None => {
                            return Err((
                                format!("{at}.shards[{i}]"),
                                format!("{text:?} is not a shard range like \"00-49\""),
                            ))
                        }
                    }
                }
                Cond::Shards(parsed)
            }
        })
    }

    /// Whether the condition holds for `s`.
    pub(crate) fn eval(&self, s: &Subject<'_>) -> bool {
        match self {
            Cond::All(list) => list.iter().all(|c| c.eval(s)),
            Cond::Any(list) => list.iter().any(|c| c.eval(s)),
            Cond::Not(c) => !c.eval(s),
            Cond::Prefix(p) => s.key.starts_with(p.as_str()),
            Cond::Suffix(p) => s.key.ends_with(p.as_str()),
            Cond::Contains(p) => s.key.contains(p.as_str()),
            Cond::Equals(v) => v.iter().any(|x| x == s.key),
            Cond::Method(v) => v.iter().any(|x| x == s.method),
            Cond::Shards(ranges) => s
                .shard
                .is_some_and(|n| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&n))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nest(depth: usize) -> Condition {
        let mut c = Condition::Prefix("B".into());
        for i in 1..depth {
            c = if i % 2 == 0 {
                Condition::All(vec![c])
            } else {
                Condition::Any(vec![c, Condition::Equals(vec!["never".into()])])
            };
        }
        c
    }

    #[test]
    fn sixteen_levels_work_seventeen_are_rejected() {
        let ok = Cond::compile(&nest(MAX_DEPTH), "levels[0].when", 1, 100).unwrap();
        let subject = Subject {
            key: "B_1",
            shard: Some(1),
            method: "m",
        };
        assert!(ok.eval(&subject));
        let (field, why) = Cond::compile(&nest(MAX_DEPTH + 1), "levels[0].when", 1, 100)
            .err()
            .unwrap();
        assert!(field.starts_with("levels[0].when."), "{field}");
        assert!(why.contains("deeper than 16"), "{why}");
    }

    #[test]
    fn shard_and_method_conditions() {
        let c = Cond::compile(
            &Condition::All(vec![
                Condition::Shards(vec!["00-49".into()]),
                Condition::Not(Box::new(Condition::Method(vec!["audit".into()]))),
            ]),
            "w",
            1,
            100,
        )
        .unwrap();
        let at = |shard, method| Subject {
            key: "k",
            shard: Some(shard),
            method,
        };
        assert!(c.eval(&at(17, "pay")));
        assert!(!c.eval(&at(50, "pay")));
        assert!(!c.eval(&at(17, "audit")));
        let (field, _) =
            Cond::compile(&Condition::Shards(vec!["90-120".into()]), "w", 1, 100).unwrap_err();
        assert_eq!(field, "w.shards[0]");
    }
}
