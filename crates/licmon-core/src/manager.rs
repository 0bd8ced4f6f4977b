//! The license-manager kinds licmon knows, as a closed enum: adding a kind is one variant here,
//! and the compiler lists every match that must learn it (SPEC §1 capability matrix).

use serde::{Deserialize, Serialize};

/// The three places usage data comes from (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    Remote,
    Import,
    EndUser,
}

impl DataSource {
    pub const ALL: [DataSource; 3] = [DataSource::Remote, DataSource::Import, DataSource::EndUser];

    pub fn api_name(self) -> &'static str {
        match self {
            DataSource::Remote => "remote",
            DataSource::Import => "import",
            DataSource::EndUser => "end_user",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ManagerKind {
    #[serde(rename = "flexnet")]
    Flexnet,
    #[serde(rename = "rlm")]
    Rlm,
    #[serde(rename = "lmx")]
    Lmx,
    #[serde(rename = "sentinel-rms")]
    SentinelRms,
    #[serde(rename = "dsls")]
    Dsls,
    #[serde(rename = "ibm-lum")]
    IbmLum,
    #[serde(rename = "mathlm")]
    Mathlm,
    #[serde(rename = "lsdyna")]
    Lsdyna,
    #[serde(rename = "olicense")]
    Olicense,
    #[serde(rename = "custom-xml")]
    CustomXml,
    #[serde(rename = "generic-log")]
    GenericLog,
    #[serde(rename = "agent-apps")]
    AgentApps,
}

impl ManagerKind {
    pub const ALL: [ManagerKind; 12] = [
        ManagerKind::Flexnet,
        ManagerKind::Rlm,
        ManagerKind::Lmx,
        ManagerKind::SentinelRms,
        ManagerKind::Dsls,
        ManagerKind::IbmLum,
        ManagerKind::Mathlm,
        ManagerKind::Lsdyna,
        ManagerKind::Olicense,
        ManagerKind::CustomXml,
        ManagerKind::GenericLog,
        ManagerKind::AgentApps,
    ];

    /// The id used in the API, the config and the database.
    pub fn api_id(self) -> &'static str {
        match self {
            ManagerKind::Flexnet => "flexnet",
            ManagerKind::Rlm => "rlm",
            ManagerKind::Lmx => "lmx",
            ManagerKind::SentinelRms => "sentinel-rms",
            ManagerKind::Dsls => "dsls",
            ManagerKind::IbmLum => "ibm-lum",
            ManagerKind::Mathlm => "mathlm",
            ManagerKind::Lsdyna => "lsdyna",
            ManagerKind::Olicense => "olicense",
            ManagerKind::CustomXml => "custom-xml",
            ManagerKind::GenericLog => "generic-log",
            ManagerKind::AgentApps => "agent-apps",
        }
    }

    pub fn from_api_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.api_id() == id)
    }

    /// The name a license administrator knows the product by.
    pub fn display_name(self) -> &'static str {
        match self {
            ManagerKind::Flexnet => "FlexNet",
            ManagerKind::Rlm => "RLM",
            ManagerKind::Lmx => "LM-X",
            ManagerKind::SentinelRms => "Sentinel RMS",
            ManagerKind::Dsls => "DSLS",
            ManagerKind::IbmLum => "IBM LUM",
            ManagerKind::Mathlm => "MathLM",
            ManagerKind::Lsdyna => "LS-DYNA",
            ManagerKind::Olicense => "OLicense",
            ManagerKind::CustomXml => "Custom (XML)",
            ManagerKind::GenericLog => "Generic log",
            ManagerKind::AgentApps => "Agent applications",
        }
    }

    /// The capability matrix of SPEC §1: whether this kind supports a data source at all.
    pub fn supports(self, source: DataSource) -> bool {
        use ManagerKind::*;
        match source {
            DataSource::Remote => !matches!(self, GenericLog | AgentApps),
            DataSource::Import => matches!(self, Flexnet | Rlm | Lmx | GenericLog),
            DataSource::EndUser => !matches!(self, CustomXml | GenericLog),
        }
    }

    /// Whether the kind has a network address (`port@host`). Custom XML reads a file, generic
    /// logs and agent applications have no server to talk to.
    pub fn needs_address(self) -> bool {
        self.supports(DataSource::Remote) && self != ManagerKind::CustomXml
    }

    /// The vendor's status utility licmon runs for remote monitoring, by default found on PATH.
    pub fn default_utility(self) -> Option<&'static str> {
        use ManagerKind::*;
        match self {
            Flexnet => Some("lmutil"),
            Rlm => Some("rlmutil"),
            Lmx => Some("lmxendutil"),
            SentinelRms => Some("lsmon"),
            Dsls => Some("DSLicSrv"),
            IbmLum => Some("i4blt"),
            Mathlm => Some("monitorlm"),
            Lsdyna => Some("lstc_qrun"),
            Olicense => Some("olixtool"),
            CustomXml | GenericLog | AgentApps => None,
        }
    }

    /// Whether a triad (three redundant hosts) is meaningful for this kind.
    pub fn supports_triad(self) -> bool {
        matches!(self, ManagerKind::Flexnet)
    }
}

impl std::fmt::Display for ManagerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.api_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_ids_round_trip_and_match_serde() {
        for kind in ManagerKind::ALL {
            assert_eq!(ManagerKind::from_api_id(kind.api_id()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.api_id()));
        }
        assert_eq!(ManagerKind::from_api_id("flexlm"), None);
    }

    #[test]
    fn capability_matrix_matches_spec() {
        use DataSource::*;
        use ManagerKind::*;
        let row = |k: ManagerKind| (k.supports(Remote), k.supports(Import), k.supports(EndUser));
        assert_eq!(row(Flexnet), (true, true, true));
        assert_eq!(row(Rlm), (true, true, true));
        assert_eq!(row(Lmx), (true, true, true));
        for k in [SentinelRms, Dsls, IbmLum, Mathlm, Lsdyna, Olicense] {
            assert_eq!(row(k), (true, false, true), "{k}");
        }
        assert_eq!(row(CustomXml), (true, false, false));
        assert_eq!(row(GenericLog), (false, true, false));
        assert_eq!(row(AgentApps), (false, false, true));
    }

    #[test]
    fn every_remote_kind_has_a_utility_except_custom_xml() {
        for k in ManagerKind::ALL {
            let has = k.default_utility().is_some();
            assert_eq!(has, k.needs_address(), "{k}");
        }
    }
}
