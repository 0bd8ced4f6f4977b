//! `licmon demo`: the whole system on a fresh SQLite file, polling simulated license servers.
//!
//! The simulator is built into this binary: the demo makes a folder with symlinks named like
//! the vendor utilities (`lmutil`, `rlmutil`, `lmxendutil`) that point back at `licmon`, plus
//! the scenario they read; `main` hands such invocations to `licmon_sim`. The servers are
//! ordinary license servers whose utility path points into that folder, so the demo exercises
//! exactly the production poll path.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_store::ServerStore;

use crate::config::CommonFlags;

/// Names under which `licmon` acts as the simulator.
pub const SIMULATED_UTILITIES: [&str; 9] = [
    "lmutil",
    "rlmutil",
    "lmxendutil",
    "lsmon",
    "DSLicSrv",
    "i4blt",
    "monitorlm",
    "lstc_qrun",
    "olixtool",
];

/// The custom XML server's status file in the simulator folder, rewritten every few seconds
/// by the demo (as a site script would) from the scenario server at `CUSTOM_XML_ADDRESS`.
const CUSTOM_XML_FILE: &str = "custom-status.xml";
const CUSTOM_XML_ADDRESS: &str = "1@site-script";

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder for the demo's database and simulator (emptied of a previous demo's database).
    #[arg(long, value_name = "DIR", default_value = "licmon-demo")]
    pub data_dir: PathBuf,
    /// Generate N simulated license servers instead of the small demo set (a site of any size).
    #[arg(long, value_name = "N")]
    pub servers: Option<usize>,
    /// Query interval of the generated servers (with --servers).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(10..))]
    pub query_interval: u32,
    /// Run on this PostgreSQL database instead of a fresh SQLite file; servers already there
    /// (by name) are kept, so more nodes can join with `licmon serve --database` (same machine:
    /// the servers' utilities live in the demo folder).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

/// One simulated license server of the demo.
struct DemoServer {
    name: &'static str,
    kind: &'static str,
    vendor: &'static str,
    address: &'static str,
    time_zone: &'static str,
    interval: i64,
    utility: &'static str,
    description: &'static str,
}

const SERVERS: &[DemoServer] = &[
    DemoServer {
        name: "ansys-prod",
        kind: "flexnet",
        vendor: "ANSYS",
        address: "1055@ansys-lic1",
        time_zone: "Europe/Berlin",
        interval: 10,
        utility: "lmutil",
        description: "CFD and mechanical solvers",
    },
    DemoServer {
        name: "abaqus-triad",
        kind: "flexnet",
        vendor: "Dassault Systèmes",
        address: "27000@abq-a,27000@abq-b,27000@abq-c",
        time_zone: "Europe/Paris",
        interval: 15,
        utility: "lmutil",
        description: "Redundant triad; abq-c is unreachable",
    },
    DemoServer {
        name: "matlab-campus",
        kind: "flexnet",
        vendor: "MathWorks",
        address: "27000@mlm1",
        time_zone: "America/New_York",
        interval: 12,
        utility: "lmutil",
        description: "Reservations for teaching labs; queues at peak",
    },
    DemoServer {
        name: "nuke-render",
        kind: "rlm",
        vendor: "Foundry",
        address: "5053@rlm-vfx",
        time_zone: "America/Los_Angeles",
        interval: 20,
        utility: "rlmutil",
        description: "Compositing seats",
    },
    DemoServer {
        name: "converge-cfd",
        kind: "rlm",
        vendor: "Convergent Science",
        address: "5053@rlm-cfd",
        time_zone: "America/Chicago",
        interval: 20,
        utility: "rlmutil",
        description: "License server is down",
    },
    DemoServer {
        name: "altair-units",
        kind: "lmx",
        vendor: "Altair",
        address: "6200@lmx-altair",
        time_zone: "Europe/Berlin",
        interval: 15,
        utility: "lmxendutil",
        description: "HyperWorks units (token-based)",
    },
    DemoServer {
        name: "cadence-legacy",
        kind: "flexnet",
        vendor: "Cadence",
        address: "5280@cds-old",
        time_zone: "Asia/Tokyo",
        interval: 10,
        utility: "lmutil",
        description: "Old server whose lmutil hangs",
    },
    DemoServer {
        name: "aveva-plant",
        kind: "sentinel-rms",
        vendor: "AVEVA",
        address: "5093@rms-aveva",
        time_zone: "Europe/London",
        interval: 15,
        utility: "lsmon",
        description: "Sentinel RMS (lsmon)",
    },
    DemoServer {
        name: "catia-dsls",
        kind: "dsls",
        vendor: "Dassault Systèmes",
        address: "4085@dsls-lic",
        time_zone: "Europe/Paris",
        interval: 15,
        utility: "DSLicSrv",
        description: "DSLS, queried through DSLicSrv -admin",
    },
    DemoServer {
        name: "catia-v5-lum",
        kind: "ibm-lum",
        vendor: "Dassault Systèmes",
        address: "1515@lum-cad",
        time_zone: "America/New_York",
        interval: 15,
        utility: "i4blt",
        description: "IBM LUM (i4blt)",
    },
    DemoServer {
        name: "mathematica",
        kind: "mathlm",
        vendor: "Wolfram",
        address: "16286@mathlm1",
        time_zone: "America/Chicago",
        interval: 15,
        utility: "monitorlm",
        description: "MathLM (monitorlm)",
    },
    DemoServer {
        name: "ls-dyna-hpc",
        kind: "lsdyna",
        vendor: "Ansys LST",
        address: "31010@lstc-hpc",
        time_zone: "UTC",
        interval: 15,
        utility: "lstc_qrun",
        description: "LS-DYNA cluster licenses (lstc_qrun)",
    },
    DemoServer {
        name: "ftire",
        kind: "olicense",
        vendor: "cosin",
        address: "31212@olic1",
        time_zone: "Europe/Berlin",
        interval: 15,
        utility: "olixtool",
        description: "OLicense (olixtool)",
    },
    DemoServer {
        name: "in-house-solver",
        kind: "custom-xml",
        vendor: "ACME",
        address: "",
        time_zone: "UTC",
        interval: 10,
        utility: CUSTOM_XML_FILE,
        description: "Custom XML status file rewritten by a (simulated) site script",
    },
];

const SCENARIO: &str = r#"# Written by `licmon demo`: the simulated license servers behind the demo.
seed = 2026

[[server]]
kind = "flexnet"
address = "1055@ansys-lic1"
vendor = "ansyslmd"
time_zone = "Europe/Berlin"
lmgrd_version = "v11.19.5"
[[server.feature]]
name = "cfd_solver"
version = "2025.1"
issued = 40
expires = "2027-03-31"
users = 45
peak = 0.9
[[server.feature]]
name = "mech_hpc"
version = "2025.1"
issued = 128
licenses_per_checkout = 16
expires = "2026-12-15"
users = 12
peak = 0.75
[[server.feature]]
name = "prepost"
version = "2025.1"
issued = 25
expires = "permanent"
users = 30
peak = 0.6
borrowed = 1

[[server]]
kind = "flexnet"
address = "27000@abq-a,27000@abq-b,27000@abq-c"
vendor = "ABAQUSLM"
triad_down_member = 2
time_zone = "Europe/Paris"
[[server.feature]]
name = "abaqus"
version = "6.24"
issued = 300
licenses_per_checkout = 12
expires = "2027-06-30"
users = 20
peak = 0.8
[[server.feature]]
name = "cae"
version = "6.24"
issued = 20
expires = "2027-06-30"
users = 25
peak = 0.7

[[server]]
kind = "flexnet"
address = "27000@mlm1"
vendor = "MLM"
time_zone = "America/New_York"
[[server.feature]]
name = "MATLAB"
version = "53"
issued = 50
reserved = 6
expires = "2026-12-31"
users = 90
peak = 1.0
queued = 3
[[server.feature]]
name = "Simulink"
version = "53"
issued = 20
reserved = 2
expires = "2026-12-31"
users = 30
peak = 0.8
[[server.feature]]
name = "Optimization_Toolbox"
version = "53"
issued = 10
expires = "2026-12-31"
users = 12
peak = 0.5

[[server]]
kind = "rlm"
address = "5053@rlm-vfx"
vendor = "foundry"
time_zone = "America/Los_Angeles"
[[server.feature]]
name = "nuke_i"
version = "2024.0701"
issued = 22
users = 30
peak = 0.7
expires = "permanent"
[[server.feature]]
name = "nukex_i"
version = "2024.0701"
issued = 8
users = 10
peak = 0.6
expires = "2027-01-31"

[[server]]
kind = "rlm"
address = "5053@rlm-cfd"
vendor = "csci"
behaviour = "down"
time_zone = "America/Chicago"
[[server.feature]]
name = "converge_super"
version = "3.0"
issued = 4
users = 4

[[server]]
kind = "lmx"
address = "6200@lmx-altair"
vendor = "ALTAIR"
time_zone = "Europe/Berlin"
[[server.feature]]
name = "HyperWorks"
version = "21.0"
issued = 100000
licenses_per_checkout = 5000
users = 15
peak = 0.6
expires = "2026-12-31"

[[server]]
kind = "flexnet"
address = "5280@cds-old"
vendor = "cdslmd"
behaviour = "hang"
time_zone = "Asia/Tokyo"
[[server.feature]]
name = "Virtuoso_Schematic_Editor_XL"
version = "22.1"
issued = 10
users = 10

[[server]]
kind = "sentinel-rms"
address = "5093@rms-aveva"
vendor = "AVEVA"
time_zone = "Europe/London"
[[server.feature]]
name = "AVEVA_E3D"
issued = 30
reserved = 2
users = 35
peak = 0.8
expires = "2026-11-19"
[[server.feature]]
name = "ARMS_ID"
issued = 50
users = 20
peak = 0.3

[[server]]
kind = "dsls"
address = "4085@dsls-lic"
vendor = "Dassault Systemes"
time_zone = "Europe/Paris"
[[server.feature]]
name = "MD2"
version = "424"
issued = 25
users = 30
peak = 0.8
expires = "2026-12-31"
[[server.feature]]
name = "SIMULIA_TOKENS"
version = "424"
issued = 300
licenses_per_checkout = 12
users = 12
peak = 0.7

[[server]]
kind = "ibm-lum"
address = "1515@lum-cad"
vendor = "Dassault Systemes"
time_zone = "America/New_York"
[[server.feature]]
name = "CATIA_MD2"
version = "5.22"
issued = 10
users = 14
peak = 0.9
expires = "2026-06-30"

[[server]]
kind = "mathlm"
address = "16286@mathlm1"
vendor = "Wolfram"
time_zone = "America/Chicago"
[[server.feature]]
name = "Mathematica"
version = "14.1"
issued = 40
users = 50
peak = 0.6
[[server.feature]]
name = "MathKernel"
version = "14.1"
issued = 80
licenses_per_checkout = 2
users = 30
peak = 0.5

[[server]]
kind = "lsdyna"
address = "31010@lstc-hpc"
vendor = "LSTC"
[[server.feature]]
name = "MPPDYNA"
issued = 500
licenses_per_checkout = 40
users = 10
peak = 0.85
expires = "2026-12-30"

[[server]]
kind = "olicense"
address = "31212@olic1"
vendor = "cosin"
time_zone = "Europe/Berlin"
[[server.feature]]
name = "ftire_adams"
issued = 6
users = 8
peak = 0.8
expires = "2026-12-31"

[[server]]
kind = "custom-xml"
address = "1@site-script"
vendor = "ACME"
[[server.feature]]
name = "acme_solver"
version = "7.2"
issued = 20
reserved = 1
users = 25
peak = 0.8
borrowed = 1
"#;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let flags = CommonFlags {
        data_dir: Some(args.data_dir.clone()),
        ..Default::default()
    };
    let mut config = crate::load_config(&flags)?;
    // A demo starts fresh on SQLite in its own folder, whatever the environment says, unless
    // --database names a PostgreSQL database for a multi-node trial.
    config.database = args.database.clone();
    config.monitoring = true;
    config.listen = args.listen;
    crate::init_logging(config.log_format);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let url = crate::serve::database_url(&config)?;
    if url.backend != licmon_store::Backend::Postgres && args.database.is_some() {
        anyhow::bail!(
            "licmon demo --database takes a postgres:// URL; without it the demo uses SQLite"
        );
    }
    let _single_node = crate::serve::lock_sqlite(&url)?;
    let leftovers = if args.database.is_some() {
        &[][..]
    } else {
        &["licmon.db", "licmon.db-wal", "licmon.db-shm"][..]
    };
    for leftover in leftovers {
        let path = args.data_dir.join(leftover);
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    let sim_dir = prepare_simulator(&args.data_dir)?;
    let store = crate::serve::open_store(&config).await?;
    let login = crate::demo_login::prepare(&store).await?;
    if let Some(n) = args.servers {
        std::fs::write(
            sim_dir.join("licmon-sim.toml"),
            crate::demo_site::scenario(n),
        )?;
        let inputs =
            crate::demo_site::servers(n, args.query_interval, &sim_dir.display().to_string());
        let created = create_in_batches(&store, inputs).await?;
        let listener = bind(config.listen).await?;
        println!(
            "licmon demo: {n} simulated license servers ({created} new), database {}",
            licmon_store::redact(&url.url)
        );
        println!("Open http://{}/ (Ctrl-C to stop)", listener.local_addr()?);
        println!("{login}");
        return crate::serve::run_node(config, store, listener, crate::serve::shutdown_signal())
            .await;
    }
    spawn_custom_xml_writer(&sim_dir)?;
    for s in SERVERS {
        let input = LicenseServerInput {
            name: s.name.into(),
            kind: s.kind.into(),
            vendor: s.vendor.into(),
            address: (!s.address.is_empty()).then(|| s.address.into()),
            description: s.description.into(),
            time_zone: Some(s.time_zone.into()),
            query_interval_secs: Some(s.interval),
            utility_path: Some(sim_dir.join(s.utility).display().to_string()),
            data_sources: Some(DataSourceInput {
                remote: Some(true),
                import: None,
                end_user: None,
            }),
        };
        let settings = input
            .validate()
            .map_err(|e| anyhow::anyhow!("demo server {}: {e}", s.name))?;
        store.create_server(&settings, Utc::now()).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (try --listen 127.0.0.1:8081)",
                config.listen
            )
        })?;
    let address = listener.local_addr()?;
    println!(
        "licmon demo: {} simulated license servers, database in {}",
        SERVERS.len(),
        args.data_dir.display()
    );
    println!("Open http://{address}/ (Ctrl-C to stop)");
    println!("{login}");
    crate::serve::run_node(config, store, listener, crate::serve::shutdown_signal()).await
}

async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (try --listen 127.0.0.1:8081)"))
}

/// Creates the servers not yet there (by name), a batch at a time with several in flight, so
/// that 10,000 servers take seconds on PostgreSQL. Returns how many were created.
async fn create_in_batches(
    store: &std::sync::Arc<licmon_store::SqlStore>,
    inputs: Vec<LicenseServerInput>,
) -> anyhow::Result<usize> {
    const IN_FLIGHT: usize = 16;
    let existing: std::collections::HashSet<String> = store
        .list_servers()
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut todo = Vec::new();
    for input in inputs.into_iter().filter(|i| !existing.contains(&i.name)) {
        let name = input.name.clone();
        todo.push(
            input
                .validate()
                .map_err(|e| anyhow::anyhow!("demo server {name}: {e}"))?,
        );
    }
    let now = Utc::now();
    for batch in todo.chunks(IN_FLIGHT * 16) {
        let mut tasks = tokio::task::JoinSet::new();
        for part in batch.chunks(16) {
            let store = store.clone();
            let part = part.to_vec();
            tasks.spawn(async move {
                for settings in &part {
                    store.create_server(settings, now).await?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
    }
    Ok(todo.len())
}

/// Plays the site script of the custom XML server: writes its status file now (so that the
/// first poll finds it) and rewrites it every 5 s from the scenario's usage model, through a
/// temporary file and a rename, until the demo stops.
fn spawn_custom_xml_writer(sim_dir: &Path) -> anyhow::Result<()> {
    let scenario = licmon_sim::scenario::Scenario::parse(SCENARIO)?;
    let path = sim_dir.join(CUSTOM_XML_FILE);
    licmon_sim::cli::write_custom_xml(&scenario, CUSTOM_XML_ADDRESS, &path, Utc::now())?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) =
                licmon_sim::cli::write_custom_xml(&scenario, CUSTOM_XML_ADDRESS, &path, Utc::now())
            {
                tracing::warn!(error = %e, "demo: cannot rewrite the custom XML status file");
            }
        }
    });
    Ok(())
}

/// The simulator folder: the scenario and a symlink per vendor utility pointing at this binary.
fn prepare_simulator(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let sim_dir = std::fs::canonicalize(data_dir)?.join("sim");
    std::fs::create_dir_all(&sim_dir)?;
    std::fs::write(sim_dir.join("licmon-sim.toml"), SCENARIO)?;
    let exe = std::env::current_exe()
        .context("cannot find the licmon binary to simulate utilities with")?;
    for name in SIMULATED_UTILITIES {
        let link = sim_dir.join(name);
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(&exe, &link)
            .with_context(|| format!("cannot create {}", link.display()))?;
    }
    Ok(sim_dir)
}
