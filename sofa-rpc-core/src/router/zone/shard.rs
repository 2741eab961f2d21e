//! Shard functions: a routing key to a shard number.

use super::model::{KeyRange, ShardSpec};

/// The most digits a digit slice may take: a million shards is already more than any
/// deployment keeps a table for.
const MAX_DIGITS: u32 = 6;
/// The most shards a modulo or range function may make.
const MAX_SHARDS: u32 = 1_000_000;

/// A checked shard function.
#[derive(Clone, Debug)]
pub(crate) enum ShardFn {
    Modulo(u64),
    Digits {
        from_end: usize,
        len: usize,
    },
    /// Sorted by `from`, not overlapping.
    Ranges(Vec<KeyRange>),
}

impl ShardFn {
    /// Checks `spec`; returns the function and its shard count, or what is wrong (the field
    /// and the reason).
    pub(crate) fn compile(spec: &ShardSpec) -> Result<(ShardFn, u32), (String, String)> {
        match spec {
            ShardSpec::Modulo(n) if *n == 0 || *n > MAX_SHARDS => Err((
                "shard.modulo".into(),
                format!("must be 1 to {MAX_SHARDS}, not {n}"),
            )),
            ShardSpec::Modulo(n) => Ok((ShardFn::Modulo(u64::from(*n)), *n)),
            ShardSpec::Digits { from_end, len } => {
                if *len == 0 || *len > MAX_DIGITS {
                    return Err((
                        "shard.digits.len".into(),
                        format!("must be 1 to {MAX_DIGITS}, not {len}"),
                    ));
                }
                if from_end < len {
                    return Err((
                        "shard.digits.from_end".into(),
                        format!("{from_end} leaves no room for {len} digits before the end"),
                    ));
                }
                let f = ShardFn::Digits {
                    from_end: *from_end as usize,
                    len: *len as usize,
                };
                Ok((f, 10u32.pow(*len)))
            }
            ShardSpec::Ranges(ranges) => {
                let mut sorted = ranges.clone();
                sorted.sort_by_key(|r| r.from);
                let mut count = 0u32;
                for (i, r) in sorted.iter().enumerate() {
                    if r.from > r.to {
                        return Err((
                            "shard.ranges".into(),
                            format!("range {}-{} ends before it starts", r.from, r.to),
                        ));
                    }
                    if r.shard >= MAX_SHARDS {
                        return Err((
                            "shard.ranges".into(),
                            format!("shard {} is past {}", r.shard, MAX_SHARDS - 1),
                        ));
                    }
                    if let Some(prev) = i.checked_sub(1).and_then(|p| sorted.get(p)) {
                        if prev.to >= r.from {
                            return Err((
                                "shard.ranges".into(),
                                format!(
                                    "keys {}-{} overlap {}-{}",
                                    r.from, r.to, prev.from, prev.to
                                ),
                            ));
                        }
                    }
                    count = count.max(r.shard + 1);
                }
                if sorted.is_empty() {
                    return Err(("shard.ranges".into(), "no range".into()));
                }
                Ok((ShardFn::Ranges(sorted), count))
            }
        }
    }

    /// The shard of `key`, if the function gives it one.
    pub(crate) fn shard(&self, key: &str) -> Option<u32> {
        match self {
            ShardFn::Modulo(n) => Some((number(key)? % n) as u32),
            ShardFn::Digits { from_end, len } => {
                let start = key.len().checked_sub(*from_end)?;
                let digits = key.as_bytes().get(start..start + len)?;
                digits.iter().try_fold(0u32, |acc, b| {
                    b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
                })
            }
            ShardFn::Ranges(ranges) => {
                let n = number(key)?;
                let i = ranges.partition_point(|r| r.from <= n).checked_sub(1)?;
                ranges.get(i).filter(|r| n <= r.to).map(|r| r.shard)
            }
        }
    }
}

/// A key's number: its trailing digits (`B_20210817` is 20210817), at most 19 of them.
fn number(key: &str) -> Option<u64> {
    let digits = key
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count()
        .min(19);
    if digits == 0 {
        return None;
    }
    key.get(key.len() - digits..)?.parse().ok()
}

/// Parses `"00-49"` or `"17"` into an inclusive range.
pub(crate) fn parse_range(text: &str) -> Option<(u32, u32)> {
    let (lo, hi) = match text.split_once('-') {
        Some((lo, hi)) => (lo.trim().parse().ok()?, hi.trim().parse().ok()?),
        None => {
            let one = text.trim().parse().ok()?;
            (one, one)
        }
    };
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(spec: ShardSpec) -> (ShardFn, u32) {
        ShardFn::compile(&spec).unwrap()
    }

    #[test]
    fn digit_slices() {
        let (ldc, n) = compile(ShardSpec::Digits {
            from_end: 3,
            len: 2,
        });
        assert_eq!(n, 100);
        assert_eq!(ldc.shard("2088123456789"), Some(78));
        let (last2, _) = compile(ShardSpec::Digits {
            from_end: 2,
            len: 2,
        });
        assert_eq!(last2.shard("B_20210817"), Some(17));
        assert_eq!(last2.shard("7"), None, "too short");
        assert_eq!(last2.shard("B_2021081x"), None, "not digits");
        assert!(ShardFn::compile(&ShardSpec::Digits {
            from_end: 1,
            len: 2
        })
        .is_err());
    }

    #[test]
    fn modulo_and_ranges() {
        let (m, _) = compile(ShardSpec::Modulo(10));
        assert_eq!(m.shard("123"), Some(3));
        assert_eq!(m.shard("u_45"), Some(5));
        assert_eq!(m.shard("abc"), None);
        let (r, n) = compile(ShardSpec::Ranges(vec![
            KeyRange {
                from: 1000,
                to: 1999,
                shard: 1,
            },
            KeyRange {
                from: 0,
                to: 999,
                shard: 0,
            },
        ]));
        assert_eq!(n, 2);
        assert_eq!(r.shard("5"), Some(0));
        assert_eq!(r.shard("1500"), Some(1));
        assert_eq!(r.shard("2000"), None);
        let overlap = ShardSpec::Ranges(vec![
            KeyRange {
                from: 0,
                to: 10,
                shard: 0,
            },
            KeyRange {
                from: 10,
                to: 20,
                shard: 1,
            },
        ]);
        let (field, why) = ShardFn::compile(&overlap).unwrap_err();
        assert_eq!(field, "shard.ranges");
        assert!(why.contains("overlap"), "{why}");
    }

    #[test]
    fn shard_ranges_parse() {
        assert_eq!(parse_range("00-49"), Some((0, 49)));
        assert_eq!(parse_range("17"), Some((17, 17)));
        assert_eq!(parse_range("49-00"), None);
        assert_eq!(parse_range("x"), None);
    }
}
