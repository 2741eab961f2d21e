//! Whether a provider's host is this machine: loopback, `localhost`, the host name, or an
//! address of one of the machine's interfaces.
//!
//! The interface addresses are read once per process, without a dependency: on Linux from
//! `/proc/net/fib_trie` (IPv4, the `/32 host LOCAL` entries) and `/proc/net/if_inet6`
//! (IPv6); elsewhere only loopback and `localhost` are recognised. Addresses that appear
//! later (a new interface) are not seen until a restart, an accepted limit for a preference.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// This machine's addresses and names.
#[derive(Debug, Default)]
struct Local {
    addrs: HashSet<IpAddr>,
    /// Lower-cased host names that mean this machine.
    names: HashSet<String>,
}

fn local() -> &'static Local {
    static LOCAL: OnceLock<Local> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let mut local = Local::default();
        local.names.insert("localhost".into());
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok());
        if let Some(name) = hostname.map(|n| n.trim().to_ascii_lowercase()) {
            if !name.is_empty() {
                local.names.insert(name);
            }
        }
        if let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") {
            local.addrs.extend(fib_trie_locals(&trie).map(IpAddr::V4));
        }
        if let Ok(table) = std::fs::read_to_string("/proc/net/if_inet6") {
            local.addrs.extend(if_inet6_addrs(&table).map(IpAddr::V6));
        }
        local
    })
}

/// The IPv4 addresses `/proc/net/fib_trie` marks `/32 host LOCAL`: each follows the
/// `|-- a.b.c.d` line it belongs to.
fn fib_trie_locals(trie: &str) -> impl Iterator<Item = Ipv4Addr> + '_ {
    let mut last = None;
    trie.lines().filter_map(move |line| {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = addr.parse().ok();
            None
        } else if line.starts_with("/32 host LOCAL") {
            last
        } else {
            None
        }
    })
}

/// The addresses in `/proc/net/if_inet6`: the first field of each line, 32 hex digits.
fn if_inet6_addrs(table: &str) -> impl Iterator<Item = Ipv6Addr> + '_ {
    table.lines().filter_map(|line| {
        let hex = line.split_whitespace().next()?;
        u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
    })
}

/// `true` when `host` (an IP literal, bracketed or not, or a name) is this machine.
pub(crate) fn is_local(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || local().addrs.contains(&ip),
        Err(_) => local().names.contains(&bare.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_localhost_are_local() {
        assert!(is_local("127.0.0.1"));
        assert!(is_local("127.0.1.1"));
        assert!(is_local("::1"));
        assert!(is_local("[::1]"));
        assert!(is_local("LocalHost"));
        // Documentation addresses (RFC 5737, 3849) and a made-up name are nobody's.
        assert!(!is_local("203.0.113.7"));
        assert!(!is_local("2001:db8::7"));
        assert!(!is_local("no-such-host.invalid"));
    }

    #[test]
    fn reads_the_kernel_tables() {
        let trie =
            "Local:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.1.2.3\n        /32 host LOCAL\n     \
                    |-- 10.1.2.255\n        /32 link BROADCAST\n";
        assert_eq!(
            fib_trie_locals(trie).collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 1, 2, 3)]
        );
        let table = "fd000000000000000000000000000002 04 40 00 82     eth0\n";
        let v6: Vec<_> = if_inet6_addrs(table).collect();
        assert_eq!(v6, ["fd00::2".parse::<Ipv6Addr>().unwrap()]);
    }
}
