//! `port@host` addresses, single or a redundant triad `port@h1,port@h2,port@h3`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.port, self.host)
    }
}

/// A license server's address: one node, or the three nodes of a FlexNet redundant triad.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerAddress {
    Single(HostPort),
    Triad([HostPort; 3]),
}

impl ServerAddress {
    pub fn nodes(&self) -> &[HostPort] {
        match self {
            ServerAddress::Single(n) => std::slice::from_ref(n),
            ServerAddress::Triad(ns) => ns,
        }
    }

    pub fn is_triad(&self) -> bool {
        matches!(self, ServerAddress::Triad(_))
    }

    /// Parses `port@host` or three of them comma-separated. The error says what is wrong in
    /// words a user can act on.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let nodes = parts
            .iter()
            .map(|p| parse_host_port(p))
            .collect::<Result<Vec<_>, _>>()?;
        match <[HostPort; 3]>::try_from(nodes) {
            Ok(triad) => Ok(ServerAddress::Triad(triad)),
            Err(nodes) if nodes.len() == 1 => Ok(ServerAddress::Single(
                nodes.into_iter().next().expect("one node"),
            )),
            Err(nodes) => Err(format!(
                "expected port@host or a triad of three port@host separated by commas, got {} addresses",
                nodes.len()
            )),
        }
    }
}

fn parse_host_port(part: &str) -> Result<HostPort, String> {
    let Some((port, host)) = part.split_once('@') else {
        return Err(format!(
            "\"{part}\" is not port@host (for example 27000@licsrv1)"
        ));
    };
    let port: u32 = port
        .parse()
        .map_err(|_| format!("port \"{port}\" in \"{part}\" is not a number"))?;
    if port == 0 || port > 65535 {
        return Err(format!("port {port} in \"{part}\" is out of range 1-65535"));
    }
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '[' | ']'));
    if !valid_host {
        return Err(format!(
            "host \"{host}\" in \"{part}\" is not a valid host name or IP address"
        ));
    }
    Ok(HostPort {
        host: host.to_string(),
        port: port as u16,
    })
}

impl std::fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for node in self.nodes() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{node}")?;
        }
        Ok(())
    }
}

impl Serialize for ServerAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ServerAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ServerAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_triad() {
        let single = ServerAddress::parse("1055@lic1").unwrap();
        assert_eq!(
            single.nodes(),
            &[HostPort {
                host: "lic1".into(),
                port: 1055
            }]
        );
        assert!(!single.is_triad());
        let triad = ServerAddress::parse("27000@a, 27000@b.example.com,27001@10.0.0.3").unwrap();
        assert!(triad.is_triad());
        assert_eq!(
            triad.to_string(),
            "27000@a,27000@b.example.com,27001@10.0.0.3"
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(
            ServerAddress::parse("lic1")
                .unwrap_err()
                .contains("not port@host")
        );
        assert!(
            ServerAddress::parse("70000@lic1")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            ServerAddress::parse("0@lic1")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            ServerAddress::parse("abc@lic1")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            ServerAddress::parse("1@a,1@b")
                .unwrap_err()
                .contains("got 2 addresses")
        );
        assert!(ServerAddress::parse("1@").unwrap_err().contains("host"));
        assert!(ServerAddress::parse("1@a b").unwrap_err().contains("host"));
    }
}
