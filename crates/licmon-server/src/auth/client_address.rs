//! Who a request comes from, for the login rate limit and the log of logins.
//!
//! Why not simply `X-Forwarded-For`: anyone can send that header, and a rate limit keyed by
//! a value the client chooses limits nothing. Why not simply the TCP peer: behind a reverse
//! proxy every request comes from the proxy, so one person's failed logins would lock out
//! everybody. So the header is believed only from the proxies an administrator names
//! (`trusted_proxies`), and only as far as it runs through them: reading the chain from the
//! right, the first address that is not a trusted proxy is the client.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` licmon believes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.5`, `::1`) and networks (`10.0.0.0/8`); an error names the
    /// entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                IpNet::from_str(e)
                    .or_else(|_| IpAddr::from_str(e).map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: {e:?} is not an IP address or network (like 10.0.0.0/8)"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(&peer) {
            return peer;
        }
        let mut chain = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return peer;
            };
            for entry in text.split(',') {
                match IpAddr::from_str(entry.trim()) {
                    Ok(ip) => chain.push(ip),
                    // A chain we cannot read is not believed at all.
                    Err(_) => return peer,
                }
            }
        }
        chain
            .iter()
            .rev()
            .find(|ip| !self.trusts(ip))
            .or(chain.first())
            .copied()
            .unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), &forwarded(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_last_untrusted_address_is_the_client() {
        let proxies = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        // The client claims 6.6.6.6 itself; the proxies appended what they saw.
        let h = forwarded(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &h), ip("198.51.100.7"));
        // A request straight from a client: its header is not believed.
        assert_eq!(proxies.client(ip("198.51.100.8"), &h), ip("198.51.100.8"));
        // Only proxies in the chain: the first is as far as it goes.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &forwarded(&["10.9.9.9"])),
            ip("10.9.9.9")
        );
        // No header from the proxy: the proxy itself.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
        // An unreadable chain is not believed.
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &forwarded(&["1.2.3.4, unknown"])),
            ip("127.0.0.1")
        );
        let v6 = TrustedProxies::parse(&["::1"]).unwrap();
        assert_eq!(
            v6.client(ip("::1"), &forwarded(&["2001:db8::5"])),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn a_bad_entry_is_named() {
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.0/8", "proxy.example"]).unwrap_err(),
            "trusted_proxies: \"proxy.example\" is not an IP address or network (like 10.0.0.0/8)"
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }
}
