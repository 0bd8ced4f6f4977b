//! License server nodes and vendor daemons: the part of `lmstat -a` before `Feature usage info`.
//!
//! ```text
//! License server status: 27002@host1,27002@host2,27002@host3
//! host1: license server UP v11.13
//! host2: license server UP (MASTER) v11.13
//! host3: Cannot connect to license server system. (-15,570:115 "Operation now in progress")
//! Error getting status: Cannot connect to license server (-15,570:111 "Connection refused")
//! lmgrd is not running: License server machine is down or not responding. (-96,7:...)
//!     VENDOR1: UP v11.6
//!     vendor: The desired vendor daemon is down. (-97,121)
//! ```

use super::text::strip_v;
use crate::{ServerNode, UpDown, VendorDaemon};

/// What a node line or an error line says about a node.
struct NodeState {
    status: UpDown,
    master: bool,
    version: Option<String>,
    error: Option<String>,
}

struct NodeAcc {
    host: String,
    port: Option<u16>,
    state: Option<NodeState>,
}

/// The nodes named so far, in the order the output names them.
#[derive(Default)]
pub(super) struct Nodes {
    nodes: Vec<NodeAcc>,
}

impl Nodes {
    /// `27002@h1,27002@h2,27002@h3` (`port@host` with the literal word `port`: no port).
    pub fn add_specs(&mut self, specs: &str) {
        for spec in specs.split(',').map(str::trim) {
            let Some((port, host)) = spec.split_once('@') else {
                continue;
            };
            let host = host.trim();
            if host.is_empty() || self.find(host).is_some() {
                continue;
            }
            self.nodes.push(NodeAcc {
                host: host.to_owned(),
                port: port.trim().parse().ok(),
                state: None,
            });
        }
    }

    /// A `host: ...` line of the server section. Returns false when it is not one.
    pub fn node_line(&mut self, t: &str) -> bool {
        let Some((host, rest)) = t.split_once(": ") else {
            return false;
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return false;
        }
        let state = parse_node_state(rest.trim());
        let index = self.index_for(host);
        if let Some(node) = self.nodes.get_mut(index) {
            merge(&mut node.state, state);
        }
        true
    }

    /// `Error getting status: ...` / `lmgrd is not running: ...`: every node without a status of
    /// its own is down for this reason; with no node named at all, an anonymous one is.
    pub fn whole_server_error(&mut self, message: &str) {
        if self.nodes.is_empty() {
            self.nodes.push(NodeAcc {
                host: String::new(),
                port: None,
                state: None,
            });
        }
        for node in &mut self.nodes {
            match &mut node.state {
                None => node.state = Some(down(message)),
                Some(s) if s.status == UpDown::Down && s.error.is_none() => {
                    s.error = Some(message.to_owned())
                }
                Some(_) => {}
            }
        }
    }

    /// The nodes; one the output named but gave no status for is down, saying so.
    pub fn finish(self) -> Vec<ServerNode> {
        self.nodes
            .into_iter()
            .map(|n| {
                let s = n.state.unwrap_or_else(|| {
                    down("lmstat printed no status for this license server node")
                });
                ServerNode {
                    host: n.host,
                    port: n.port,
                    status: s.status,
                    master: s.master,
                    version: s.version,
                    error: s.error,
                }
            })
            .collect()
    }

    fn find(&self, host: &str) -> Option<usize> {
        self.nodes.iter().position(|n| same_host(&n.host, host))
    }

    /// The node a `host:` line is about. lmstat names the host as the license file's SERVER
    /// line does, which need not be what `-c` said (`27000@localhost`, an IP address): with a
    /// single node named and still without status, that is the one.
    fn index_for(&mut self, host: &str) -> usize {
        if let Some(i) = self.find(host) {
            return i;
        }
        if matches!(self.nodes.as_slice(), [only] if only.state.is_none()) {
            return 0;
        }
        self.nodes.push(NodeAcc {
            host: host.to_owned(),
            port: None,
            state: None,
        });
        self.nodes.len() - 1
    }
}

/// Host names compare without case (Windows lmstat prints `BVS15004` and `bvs15004` for one
/// server) and a short name matches its FQDN.
fn same_host(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.get(..short.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(short))
        && (long.len() == short.len() || long.as_bytes().get(short.len()) == Some(&b'.'))
}

fn down(message: &str) -> NodeState {
    NodeState {
        status: UpDown::Down,
        master: false,
        version: None,
        error: Some(message.to_owned()),
    }
}

/// `license server UP (MASTER) v11.7`, `license server DOWN`, or an error message.
fn parse_node_state(rest: &str) -> NodeState {
    let Some(words) = rest.strip_prefix("license server ") else {
        return down(rest);
    };
    let mut state = NodeState {
        status: UpDown::Down,
        master: false,
        version: None,
        error: None,
    };
    for word in words.split_whitespace() {
        match word {
            "UP" => state.status = UpDown::Up,
            "DOWN" => state.status = UpDown::Down,
            "(MASTER)" => state.master = true,
            v if v.starts_with('v') && v.len() > 1 => state.version = Some(strip_v(v).to_owned()),
            _ => {}
        }
    }
    if state.status == UpDown::Down {
        state.error = Some(rest.to_owned());
    }
    state
}

/// A second line about the same node (the upper/lower-case pair of Windows) adds to the first.
fn merge(slot: &mut Option<NodeState>, new: NodeState) {
    match slot {
        None => *slot = Some(new),
        Some(old) => {
            old.master |= new.master;
            if old.version.is_none() {
                old.version = new.version;
            }
        }
    }
}

/// A line of the vendor daemon section: `VENDOR1: UP v11.6`, `vendor: DOWN`, or
/// `vendor: The desired vendor daemon is down. (-97,121)`. `None` when it is not one.
pub(super) fn parse_daemon_line(t: &str) -> Option<VendorDaemon> {
    let (name, rest) = t.split_once(':')?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim();
    let mut words = rest.split_whitespace();
    let daemon = match words.next() {
        Some("UP") => VendorDaemon {
            name: name.to_owned(),
            status: UpDown::Up,
            version: words
                .next()
                .filter(|v| v.starts_with('v'))
                .map(|v| strip_v(v).to_owned()),
            error: None,
            denied: None,
        },
        _ => VendorDaemon {
            name: name.to_owned(),
            status: UpDown::Down,
            version: None,
            error: (!rest.is_empty()).then(|| rest.to_owned()),
            denied: None,
        },
    };
    Some(daemon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triad_with_a_down_node() {
        let mut nodes = Nodes::default();
        nodes.add_specs(" 28000@host1,28000@host2,28000@host3");
        assert!(nodes.node_line("host1: license server UP v11.13.0"));
        assert!(nodes.node_line("host2: license server UP (MASTER) v11.13.0"));
        assert!(
            nodes.node_line("host3: Cannot connect to license server system. (-15,570:115 \"x\")")
        );
        let n = nodes.finish();
        assert_eq!(n.len(), 3);
        assert_eq!(
            (n[1].status, n[1].master, n[1].version.as_deref(), n[1].port),
            (UpDown::Up, true, Some("11.13.0"), Some(28000))
        );
        assert_eq!(n[2].status, UpDown::Down);
        assert!(
            n[2].error
                .as_deref()
                .is_some_and(|e| e.starts_with("Cannot connect"))
        );
    }

    #[test]
    fn hosts_match_without_case_and_domain() {
        assert!(same_host("BVS15004", "bvs15004"));
        assert!(same_host("host1", "host1.domain.net"));
        assert!(!same_host("host1", "host10"));
        assert!(!same_host("", "x"));
    }

    #[test]
    fn error_without_spec_makes_an_anonymous_node() {
        let mut nodes = Nodes::default();
        nodes.whole_server_error("Cannot connect to license server");
        let n = nodes.finish();
        assert_eq!(
            (n.len(), n[0].host.as_str(), n[0].port, n[0].status),
            (1, "", None, UpDown::Down)
        );
    }

    #[test]
    fn daemons() {
        let d = parse_daemon_line("VENDOR1: UP v11.6");
        assert_eq!(
            d.map(|d| (d.status, d.version)),
            Some((UpDown::Up, Some("11.6".into())))
        );
        let d = parse_daemon_line("vendor: The desired vendor daemon is down. (-97,121)");
        assert_eq!(
            d.and_then(|d| d.error),
            Some("The desired vendor daemon is down. (-97,121)".into())
        );
        assert!(parse_daemon_line("no colon here").is_none());
    }
}
