//! The zone rule document: what a rule centre pushes and what `ZoneRules::from_json` /
//! `from_toml` read. Plain serde data; [`super::compile`] checks it whole and turns it into
//! the form calls are routed with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a zone holds, and so how calls of its services are placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ZoneKind {
    /// A unit owning a slice of the users: a call must reach the zone owning its user.
    #[serde(rename = "rzone", alias = "RZone")]
    RZone,
    /// Global data, one copy for all: any zone serves, the local one is preferred.
    #[serde(rename = "gzone", alias = "GZone")]
    GZone,
    /// City-level shared data: a zone of the caller's city is preferred.
    #[serde(rename = "czone", alias = "CZone")]
    CZone,
}

/// One zone: its name (what providers publish as their `zone` URL parameter), kind and city.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    /// The zone's name, e.g. `RZ00A`.
    pub name: String,
    /// What it holds.
    pub kind: ZoneKind,
    /// The city it runs in, e.g. `sh`; CZone services prefer providers of the caller's city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// How the calls of one service are placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The service interface, e.g. `com.example.AccountService`.
    pub service: String,
    /// Where its providers live.
    pub kind: ZoneKind,
    /// The rule finding the owning zone; required for RZone services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// Where a call's routing key is read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySpec {
    /// An argument of the call, by index; with `path`, a field inside it (dot-separated
    /// struct fields, map keys or sequence indexes, e.g. `user.id`).
    Arg {
        /// The argument's index (0 is the first).
        index: usize,
        /// The field path inside the argument; none for the argument itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// A baggage entry: it follows the call chain, so every hop routes by the same key.
    Baggage(String),
    /// An attachment (a request header for this hop only).
    Attachment(String),
}

/// How a routing key becomes a shard number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ShardSpec {
    /// The key's number modulo `n`: shards `0..n`.
    Modulo(u32),
    /// A slice of the key's last digits: `len` digits ending `from_end - len` characters
    /// before the end. LDC's strict mode takes the 2nd and 3rd last digits of a user id:
    /// `{from_end: 3, len: 2}`; the last two digits are `{from_end: 2, len: 2}`.
    Digits {
        /// How far from the end the slice starts (1 is the last character).
        from_end: u32,
        /// How many digits (1 to 6): shards `0..10^len`.
        len: u32,
    },
    /// The key's number by ranges of keys: shards `0..=max shard named`.
    Ranges(Vec<KeyRange>),
}

/// Keys `from..=to` belong to `shard`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRange {
    /// The first key.
    pub from: u64,
    /// The last key (inclusive).
    pub to: u64,
    /// The shard.
    pub shard: u32,
}

/// A condition on a call, for one level of a rule. `all` / `any` / `not` nest, at most
/// [`MAX_DEPTH`](super::MAX_DEPTH) deep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every condition holds (AND).
    All(Vec<Condition>),
    /// Some condition holds (OR).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// The key starts with this.
    Prefix(String),
    /// The key ends with this.
    Suffix(String),
    /// The key contains this.
    Contains(String),
    /// The key is one of these.
    Equals(Vec<String>),
    /// The key's shard is in these shard ranges (`"00-49"`, `"7"`).
    Shards(Vec<String>),
    /// The call's method is one of these.
    Method(Vec<String>),
}

/// Which shards go to which zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardMap {
    /// The shards, as a range `"00-49"` or one shard `"17"`.
    pub shards: String,
    /// The zone owning them.
    pub zone: String,
    /// Where they move when switched (disaster recovery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// Sends these shards to their backup zone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub switched: bool,
}

/// One level of a rule: when its condition holds, its shard map places the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// A name for errors and logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When this level applies; none means always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Every shard exactly once.
    pub shards: Vec<ShardMap>,
}

/// What a call whose key is missing, or matches no level or shard, does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fallback {
    /// Fails with a `ClientRouter` error naming service, key and rule.
    #[default]
    Error,
    /// Goes to the caller's own zone.
    Local,
    /// Goes to this zone.
    Zone(String),
}

/// A routing rule: key, shard function, big-customer overrides, levels, fallbacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule's name, which services refer to.
    pub name: String,
    /// Where the key comes from.
    pub key: KeySpec,
    /// How the key becomes a shard.
    pub shard: ShardSpec,
    /// Keys placed in a zone whatever the shard function says (big customers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// The levels, tried in order; the first whose condition holds places the call.
    pub levels: Vec<Level>,
    /// When the call has no key.
    #[serde(default)]
    pub on_missing: Fallback,
    /// When the key has no shard or no level applies.
    #[serde(default)]
    pub on_unmatched: Fallback,
}

/// The whole rule document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneRulesSpec {
    /// Every zone rules may name.
    pub zones: Vec<ZoneSpec>,
    /// The services placed by zone; others are not touched by the `zone` router.
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}
