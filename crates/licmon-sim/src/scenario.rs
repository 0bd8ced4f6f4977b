//! The scenario file: which fake license servers exist, how they behave and what they serve.
//! See README.md for the format; `licmon-sim example-scenario` prints a commented example.

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub seed: u64,
    /// Append one line per invocation here (`$LICMON_SIM_LOG` overrides it).
    pub log: Option<PathBuf>,
    #[serde(default, rename = "server")]
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Flexnet,
    Rlm,
    Lmx,
    #[serde(rename = "sentinel-rms")]
    SentinelRms,
    Dsls,
    #[serde(rename = "ibm-lum")]
    IbmLum,
    Mathlm,
    Lsdyna,
    Olicense,
    /// A status file in licmon's custom XML schema, written by `licmon-sim custom-xml`.
    #[serde(rename = "custom-xml")]
    CustomXml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Behaviour {
    Up,
    Down,
    Hang,
    Garbage,
    /// Down during a few deterministic minutes of every hour, up otherwise.
    Flap,
}

impl Behaviour {
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Up => "up",
            Behaviour::Down => "down",
            Behaviour::Hang => "hang",
            Behaviour::Garbage => "garbage",
            Behaviour::Flap => "flap",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub kind: Kind,
    /// `27000@host`, or a FlexNet triad `27000@h1,27000@h2,27000@h3`.
    pub address: String,
    /// Vendor daemon (FlexNet) or ISV (RLM) name; LM-X feature vendor.
    pub vendor: String,
    #[serde(default = "default_behaviour")]
    pub behaviour: Behaviour,
    /// Index (0-based) of a triad member that cannot be reached.
    pub triad_down_member: Option<usize>,
    /// lmgrd / rlm / LM-X server version printed in the status header.
    pub lmgrd_version: Option<String>,
    /// IANA name of the server's clock; timestamps in the output are in this zone. Default UTC.
    pub time_zone: Option<String>,
    #[serde(default, rename = "feature")]
    pub features: Vec<Feature>,
}

fn default_behaviour() -> Behaviour {
    Behaviour::Up
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub name: String,
    #[serde(default = "default_version")]
    pub version: String,
    /// Licenses issued; leave out and set `uncounted = true` for uncounted (FlexNet only).
    pub issued: Option<u64>,
    #[serde(default)]
    pub uncounted: bool,
    #[serde(default)]
    pub reserved: u64,
    /// `"2027-03-31"` or `"permanent"`.
    #[serde(default = "default_expires")]
    pub expires: String,
    /// How many distinct users use the feature over a day.
    #[serde(default = "default_users")]
    pub users: u32,
    /// Fraction of the (unreserved) licenses in use at peak hours.
    #[serde(default = "default_peak")]
    pub peak: f64,
    /// Queued requests at peak hours (scaled down by the daily curve off-peak). Shown only
    /// while the feature is fully used, as on a real server: use `peak = 1.0` to saturate.
    #[serde(default)]
    pub queued: u64,
    /// Checkouts that are borrowed (long-lived, shown with linger/borrow expiry).
    #[serde(default)]
    pub borrowed: u64,
    /// Licenses taken by each checkout (token-based features take many).
    #[serde(default = "default_per_checkout")]
    pub licenses_per_checkout: u64,
}

fn default_version() -> String {
    "1.0".to_string()
}
fn default_expires() -> String {
    "permanent".to_string()
}
fn default_users() -> u32 {
    10
}
fn default_peak() -> f64 {
    0.6
}
fn default_per_checkout() -> u64 {
    1
}

/// One `port@host` of a server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub port: u16,
    pub host: String,
}

impl Member {
    pub fn parse(s: &str) -> Option<Member> {
        let (port, host) = s.trim().split_once('@')?;
        let port = port.trim().parse().ok()?;
        let host = host.trim();
        if host.is_empty() {
            return None;
        }
        Some(Member {
            port,
            host: host.to_string(),
        })
    }

    /// Host names compare case-insensitively, as DNS does. Port 0 is "any port": utilities
    /// that take only a host (`lsmon`, `monitorlm`, `i4blt`) query with it.
    pub fn same(&self, other: &Member) -> bool {
        (self.port == other.port || self.port == 0 || other.port == 0)
            && self.host.eq_ignore_ascii_case(&other.host)
    }
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.port, self.host)
    }
}

/// The members of an address list (`27000@a,27000@b` or the `:`-separated form lmutil also
/// accepts). Entries that are not `port@host` (license file paths) are skipped.
pub fn members(spec: &str) -> Vec<Member> {
    spec.split([',', ':', ';'])
        .filter_map(Member::parse)
        .collect()
}

/// Expiry of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Permanent,
    On(NaiveDate),
}

impl Feature {
    pub fn expiry(&self) -> Expiry {
        // Validated in `Scenario::validate`, so a parse failure cannot happen here.
        match NaiveDate::parse_from_str(&self.expires, "%Y-%m-%d") {
            Ok(d) => Expiry::On(d),
            Err(_) => Expiry::Permanent,
        }
    }
}

impl Server {
    pub fn members(&self) -> Vec<Member> {
        members(&self.address)
    }

    pub fn tz(&self) -> Tz {
        self.time_zone
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(Tz::UTC)
    }

    /// True when the queried address list names this server (any member matches).
    pub fn matches(&self, query: &[Member]) -> bool {
        let mine = self.members();
        query.iter().any(|q| mine.iter().any(|m| m.same(q)))
    }
}

impl Scenario {
    pub fn parse(text: &str) -> anyhow::Result<Scenario> {
        let scenario: Scenario = toml::from_str(text).context("invalid scenario TOML")?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Load and validate a whole scenario file.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario file {}", path.display()))?;
        Scenario::parse(&text).with_context(|| format!("in scenario file {}", path.display()))
    }

    /// Load the parts of a scenario file that `query` needs (see [`Scenario::parse_for`]).
    pub fn load_for(path: &std::path::Path, query: &[Member]) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario file {}", path.display()))?;
        Scenario::parse_for(&text, query)
            .with_context(|| format!("in scenario file {}", path.display()))
    }

    /// Parse only what a query needs: the top-level keys and the `[[server]]` blocks whose
    /// `address` line names a queried member (blocks whose address cannot be read cheaply are
    /// kept too). Large scale-benchmark scenarios then cost a text scan, not a full TOML parse
    /// of thousands of servers, per invocation.
    pub fn parse_for(text: &str, query: &[Member]) -> anyhow::Result<Scenario> {
        let mut selected = String::new();
        let mut block_start = None;
        let mut offset = 0;
        let keep = |block: &str, selected: &mut String| {
            let wanted = block_address(block).is_none_or(|addr| {
                members(addr)
                    .iter()
                    .any(|m| query.iter().any(|q| q.same(m)))
            });
            if wanted {
                selected.push_str(block);
            }
        };
        for line in text.split_inclusive('\n') {
            if line.trim_start().starts_with("[[server]]") {
                match block_start {
                    Some(start) => keep(&text[start..offset], &mut selected),
                    None => selected.push_str(&text[..offset]),
                }
                block_start = Some(offset);
            }
            offset += line.len();
        }
        match block_start {
            Some(start) => keep(&text[start..], &mut selected),
            None => selected.push_str(text),
        }
        Scenario::parse(&selected)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for s in &self.servers {
            let members = s.members();
            let at = || format!("server {:?}", s.address);
            if members.is_empty() || members.len() != s.address.split(',').count() {
                bail!(
                    "{}: address must be port@host or port@h1,port@h2,port@h3",
                    at()
                );
            }
            if members.len() != 1 && (members.len() != 3 || s.kind != Kind::Flexnet) {
                bail!(
                    "{}: only FlexNet servers can be a triad of exactly 3 members",
                    at()
                );
            }
            if let Some(i) = s.triad_down_member
                && i >= members.len()
            {
                bail!("{}: triad_down_member {i} is not a member index", at());
            }
            if let Some(tz) = &s.time_zone
                && tz.parse::<Tz>().is_err()
            {
                bail!(
                    "{}: unknown time_zone {tz:?} (use an IANA name like Europe/Paris)",
                    at()
                );
            }
            for f in &s.features {
                let at = || format!("{}, feature {:?}", at(), f.name);
                if f.name.is_empty() || f.name.contains(char::is_whitespace) {
                    bail!("{}: feature names cannot be empty or contain spaces", at());
                }
                match (f.issued, f.uncounted) {
                    (None, false) => bail!("{}: set issued = N or uncounted = true", at()),
                    (Some(_), true) => bail!("{}: issued and uncounted exclude each other", at()),
                    (None, true) if s.kind != Kind::Flexnet => {
                        bail!("{}: uncounted features exist only on FlexNet", at())
                    }
                    _ => {}
                }
                if f.expires != "permanent"
                    && NaiveDate::parse_from_str(&f.expires, "%Y-%m-%d").is_err()
                {
                    bail!("{}: expires must be YYYY-MM-DD or \"permanent\"", at());
                }
                if !(0.0..=1.0).contains(&f.peak) {
                    bail!("{}: peak is a fraction between 0 and 1", at());
                }
                if f.licenses_per_checkout == 0 {
                    bail!("{}: licenses_per_checkout must be at least 1", at());
                }
            }
        }
        Ok(())
    }

    /// The server a query names, if any.
    pub fn find(&self, query: &[Member]) -> Option<&Server> {
        self.servers.iter().find(|s| s.matches(query))
    }
}

/// The value of a `address = "..."` line of a server block, if written plainly.
fn block_address(block: &str) -> Option<&str> {
    block.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix("address")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &rest[1..];
        inner.find(quote).map(|end| &inner[..end])
    })
}

/// Printed by `licmon-sim example-scenario`.
pub const EXAMPLE_SCENARIO: &str = include_str!("example-scenario.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_scenario_parses() {
        let s = Scenario::parse(EXAMPLE_SCENARIO).unwrap();
        assert!(s.servers.len() >= 3);
    }

    #[test]
    fn triad_matches_any_member_case_insensitively() {
        let s = Scenario::parse(
            r#"
            [[server]]
            kind = "flexnet"
            address = "27000@h1,27000@h2,27000@h3"
            vendor = "v"
            "#,
        )
        .unwrap();
        assert!(s.find(&members("27000@H2")).is_some());
        assert!(s.find(&members("27001@h2")).is_none());
    }

    #[test]
    fn parse_for_keeps_only_the_queried_server() {
        let text = r#"
            seed = 5
            [[server]]
            kind = "flexnet"
            address = "27000@a"
            vendor = "va"
            [[server.feature]]
            name = "f"
            issued = 1
            [[server]] # comment
            kind = "rlm"
            address = '5053@b'
            vendor = "vb"
            [[server]]
            kind = "lmx"
            address = "6200@c"
            vendor = "vc"
            behaviour = "bogus"
            "#;
        let s = Scenario::parse_for(text, &members("5053@B")).unwrap();
        assert_eq!(s.seed, 5);
        assert_eq!(s.servers.len(), 1);
        assert_eq!(s.servers[0].vendor, "vb");
        let s = Scenario::parse_for(text, &members("27000@a")).unwrap();
        assert_eq!(s.servers[0].features.len(), 1);
        // The broken block is only an error when it is asked for.
        assert!(Scenario::parse_for(text, &members("6200@c")).is_err());
        assert!(
            Scenario::parse_for(text, &members("1@nowhere"))
                .unwrap()
                .servers
                .is_empty()
        );
    }

    #[test]
    fn rejects_bad_fields() {
        for bad in [
            "[[server]]\nkind='rlm'\naddress='5053@a,5053@b,5053@c'\nvendor='x'",
            "[[server]]\nkind='flexnet'\naddress='nope'\nvendor='x'",
            "[[server]]\nkind='flexnet'\naddress='1@a'\nvendor='x'\n[[server.feature]]\nname='f'",
            "[[server]]\nkind='flexnet'\naddress='1@a'\nvendor='x'\ntime_zone='Mars/Base'",
            "[[server]]\nkind='flexnet'\naddress='1@a'\nvendor='x'\ncolour='red'",
        ] {
            assert!(Scenario::parse(bad).is_err(), "{bad}");
        }
    }
}
