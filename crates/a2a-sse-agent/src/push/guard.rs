//! The address guard of webhooks (server-side request forgery): a receiver must be a
//! public address, unless its host is allowed by name.
//!
//! Refused: loopback, private (RFC 1918, IPv6 unique local), shared (100.64/10),
//! link-local (169.254/16 — cloud metadata services live there — and fe80::/10),
//! unspecified, broadcast, multicast, documentation, benchmarking and reserved addresses;
//! an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible or NAT64 (`64:ff9b::/96`) IPv6
//! address is judged by the IPv4 address it carries. A host name is judged by every
//! address it resolves to: one refused address refuses it. The check runs when a config is
//! created and again when a delivery connects (on the addresses it connects to), so a name
//! that later resolves elsewhere is caught too. A name that cannot be resolved when the
//! config is created (no DNS at that moment) does not refuse it: its deliveries are
//! checked when they connect.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an address is refused; `None` when it may receive webhooks.
#[must_use]
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let why = match (a, b, c) {
        (127, ..) => "a loopback address",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (169, 254, _) => "a link-local address (cloud metadata lives there)",
        (0, ..) => "an unspecified address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved or broadcast address",
        (192, 0, 0) => "a protocol-assignment address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        _ => return None,
    };
    Some(why)
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    // An IPv4 address carried in IPv6: mapped, compatible (deprecated) or NAT64.
    let carried = match segments {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] | [0x64, 0xff9b, 0, 0, 0, 0, ..] => {
            let [.., hi, lo] = segments;
            Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
        }
        _ => None,
    };
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if let Some(v4) = carried {
        return refused_v4(v4);
    }
    let why = match segments[0] {
        0xfc00..=0xfdff => "a unique local (private) address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if segments[1] == 0x0db8 => "a documentation address",
        _ => return None,
    };
    Some(why)
}

/// The hosts allowed whatever they resolve to, written as in URLs (brackets of IPv6
/// literals and case do not matter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Allowed(HashSet<String>);

impl Allowed {
    pub(crate) fn new(hosts: &[String]) -> Self {
        Self(hosts.iter().map(|host| normalize(host)).collect())
    }

    pub(crate) fn contains(&self, host: &str) -> bool {
        self.0.contains(&normalize(host))
    }

    /// Whether a receiver at `host` may be reached at `addrs` (what it resolved to): an
    /// allowed host always; another only when every address is public.
    pub(crate) fn check(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), String> {
        if self.contains(host) {
            return Ok(());
        }
        if addrs.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        for addr in addrs {
            if let Some(why) = refused(addr.ip()) {
                return Err(format!(
                    "{host} is {why} ({}); allow the host to reach it",
                    addr.ip()
                ));
            }
        }
        Ok(())
    }
}

fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Resolves `host` (a name, or an IP literal) to the addresses a connection would use.
pub(crate) async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    tokio::net::lookup_host((bare, port))
        .await
        .map(Iterator::collect)
        .map_err(|err| format!("{host} cannot be resolved: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for text in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.2",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(refused(ip(text)).is_some(), "{text} should be refused");
        }
        for text in ["8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert_eq!(refused(ip(text)), None, "{text} is public");
        }
    }

    #[test]
    fn an_allowed_host_passes_and_one_refused_address_refuses_a_name() {
        let allowed = Allowed::new(&["127.0.0.1".into(), "[::1]".into(), "Intranet".into()]);
        let at = |text: &str| SocketAddr::new(ip(text), 80);
        assert_eq!(allowed.check("127.0.0.1", &[at("127.0.0.1")]), Ok(()));
        assert_eq!(allowed.check("::1", &[at("::1")]), Ok(()));
        assert_eq!(allowed.check("intranet", &[at("10.0.0.1")]), Ok(()));
        let refused = allowed.check("127.0.0.2", &[at("127.0.0.2")]).unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        assert!(
            allowed
                .check("[::ffff:127.0.0.2]", &[at("::ffff:127.0.0.2")])
                .is_err()
        );
        let mixed = [at("93.184.216.34"), at("10.0.0.1")];
        assert!(allowed.check("example.test", &mixed).is_err());
        assert!(allowed.check("example.test", &[]).is_err());
        assert_eq!(
            allowed.check("example.test", &[at("93.184.216.34")]),
            Ok(())
        );
    }

    #[tokio::test]
    async fn literals_resolve_to_themselves() {
        assert_eq!(
            resolve("[::1]", 8080).await.unwrap(),
            [SocketAddr::new(ip("::1"), 8080)]
        );
        assert_eq!(
            resolve("localhost", 9).await.map(|a| !a.is_empty()),
            Ok(true)
        );
        assert!(resolve("no-such-host.invalid", 80).await.is_err());
    }
}
