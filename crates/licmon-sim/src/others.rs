//! The status outputs of Sentinel RMS (`lsmon`), DSLS (`DSLicSrv -admin`), IBM LUM
//! (`i4blt -s -lc`), MathLM (`monitorlm -format text`), LS-DYNA (`lstc_qrun -R`), OLicense
//! (`olixtool -sv`) and licmon's custom status XML, from the same usage model as the others.
//!
//! Sentinel RMS, LS-DYNA and OLicense follow the real samples in `/work/shared/fixtures/`;
//! DSLS, IBM LUM and MathLM follow the vendors' documented layouts (no public sample exists),
//! as licmon-parse's documented fixtures do. Queued requests are not printed by these formats.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::common::{local, usages};
use crate::scenario::{Expiry, Kind, Member, Server};

fn expiry_or(e: Expiry, format: &str, permanent: &str) -> String {
    match e {
        Expiry::Permanent => permanent.to_string(),
        Expiry::On(d) => d.format(format).to_string(),
    }
}

fn version_or(server: &Server, default: &str) -> String {
    server
        .lmgrd_version
        .as_deref()
        .map(|v| v.trim_start_matches('v').to_string())
        .unwrap_or_else(|| default.to_string())
}

// ----- Sentinel RMS -----

const LSMON_BANNER: &str = "  Sentinel RMS Development Kit 9.1.0.0104 Application Monitor\n  Copyright (C) 2016 SafeNet, Inc.\n\n";

pub fn lsmon_first_line() -> String {
    LSMON_BANNER.lines().next().unwrap_or("").to_string() + "\n"
}

pub fn lsmon_cannot_connect(host: &str) -> String {
    format!(
        "{LSMON_BANNER} [Contacting Sentinel RMS Development Kit server on host \"{host}\"]\n\n Failed to contact the license server on host \"{host}\".\n"
    )
}

/// `lsmon HOST`, in the shape of `fixtures/sentinel-rms/`.
pub fn lsmon(seed: u64, server: &Server, host: &str, now: DateTime<Utc>) -> String {
    let tz = server.tz();
    let mut out = String::from(LSMON_BANNER);
    let _ = writeln!(
        out,
        " [Contacting Sentinel RMS Development Kit server on host \"{host}\"]\n\n"
    );
    for (f, usage) in usages(seed, server, now) {
        let exp = expiry_or(f.expiry(), "%a %b %d 23:59:59 %Y", "Unlimited");
        let issued = f.issued.unwrap_or(0);
        out.push_str(" |- Feature Information\n");
        let _ = writeln!(
            out,
            "   |- Feature name                   : \"{}\"  \t",
            f.name
        );
        let _ = writeln!(
            out,
            "   |- Feature version                : \"{}\"\n",
            f.version
        );
        out.push_str("   |- License type                   : \"Normal License\" \n");
        let _ = writeln!(out, "   |- Maximum concurrent user(s)     : {issued}");
        let _ = writeln!(
            out,
            "   |- Unreserved tokens in use       : {}",
            usage.checked_out()
        );
        out.push_str("   |- Reserved tokens in use         : 0\n");
        let _ = writeln!(out, "   |- Available reserved             : {}", f.reserved);
        let _ = writeln!(out, "   |- Expiration date                : {exp}\n");
        out.push_str("   |- License Information\n");
        out.push_str("     |- License status                 : Active\n");
        let _ = writeln!(out, "     |- Maximum concurrent user(s)     : {issued}");
        let _ = writeln!(out, "     |- Expiration date                : {exp}\n");
        for c in &usage.checkouts {
            out.push_str("   |- Client Information\n");
            let _ = writeln!(out, "     |- User name                      : {}", c.user);
            let _ = writeln!(out, "     |- Host name                      : {}", c.host);
            let _ = writeln!(
                out,
                "     |- X display name                 : {}",
                c.display
            );
            out.push_str("     |- Group name                     : DefaultGrp\n");
            let _ = writeln!(out, "     |- Number of tokens               : {}", c.count);
            let _ = writeln!(
                out,
                "     |- Status                         : Running since {} ",
                local(c.start, tz).format("%a %b %d %H:%M:%S %Y")
            );
            let commuter = if c.borrow_end.is_some() { "YES" } else { "NO" };
            let _ = writeln!(out, "     |- Is commuter token              : {commuter}\n");
        }
    }
    out.push_str(" Press Enter to continue . . .\n");
    out
}

// ----- DSLS -----

pub fn dsls_first_line() -> String {
    "DS License Server administration console\n".to_string()
}

pub fn dsls_cannot_connect(host: &str, port: u16) -> String {
    format!(
        "{}admin >connect {host} {port}\nERROR: cannot connect to {host}:{port} (Connection refused)\nadmin >getLicenseUsage -csv\nERROR: not connected\nadmin >quit\n",
        dsls_first_line()
    )
}

/// `DSLicSrv -admin` fed `connect HOST PORT`, `getLicenseUsage -csv`, `quit`.
pub fn dsls(seed: u64, server: &Server, m: &Member, now: DateTime<Utc>) -> String {
    let tz = server.tz();
    let mut out = dsls_first_line();
    let _ = writeln!(out, "admin >connect {} {}", m.host, m.port);
    let _ = writeln!(out, "Connected to {}:{}", m.host, m.port);
    let _ = writeln!(out, "  Software version: {}", version_or(server, "6.425.0"));
    out.push_str("  Ready: yes\nadmin >getLicenseUsage -csv\n");
    out.push_str("Editor,EditorId,Feature,Model,Commercial Type,Max Release Number,Max Release Date,Pricing Structure,Max Casual Duration,Expiration Date,Customer ID,Count,Inuse,Tokens,Casual Usage (mn),Host,User,Internal ID,Active Process,Client Code Version,Session ID,Granted Since,Last Used At,Granted At,Queue Position,\n");
    for (f, usage) in usages(seed, server, now) {
        let exp = expiry_or(f.expiry(), "%Y-%m-%d 23:59:00", "2099-12-31 23:59:00");
        let model = if f.licenses_per_checkout > 1 {
            "Token"
        } else {
            "ConcurrentUser"
        };
        let head = format!(
            "{},5A1BD8D1CD8A0000,{},{model},STD,{},2025-06-30 00:00:00,YLC,0,{exp},200000000012345,{},{}",
            server.vendor,
            f.name,
            f.version,
            f.issued.unwrap_or(0),
            usage.checked_out()
        );
        if usage.checkouts.is_empty() {
            let _ = writeln!(out, "{head},0,0,,,,,,,,,,,");
        }
        for c in &usage.checkouts {
            let tokens = if c.count > 1 { c.count } else { 0 };
            let at = local(c.start, tz).format("%Y-%m-%d %H:%M:%S");
            let _ = writeln!(
                out,
                "{head},{tokens},0,{},{},{},app.exe,{},{:08X},{at},{},{at},0,",
                c.host,
                c.user,
                c.user,
                f.version,
                c.handle,
                local(now, tz).format("%Y-%m-%d %H:%M:%S"),
            );
        }
    }
    out.push_str("admin >quit\n");
    out
}

// ----- IBM LUM -----

const I4BLT_BANNER: &str = "i4blt Version 4.6.8 Linux -- LUM Basic License Tool\n(c) Copyright 1995-2011, IBM Corporation, All Rights Reserved\nUS Government Users Restricted Rights - Use, duplication or disclosure\nrestricted by GSA ADP Schedule Contract with IBM Corp.\n\n";

pub fn i4blt_first_line() -> String {
    I4BLT_BANNER.lines().next().unwrap_or("").to_string() + "\n"
}

pub fn i4blt_cannot_connect(host: &str) -> String {
    format!("{I4BLT_BANNER}ADM-10054: Cannot contact the license server ip:{host}\n")
}

/// `i4blt -s -lc -n HOST`, in the documented layout (see licmon-parse's `ibm_lum`).
pub fn i4blt(seed: u64, server: &Server, host: &str, now: DateTime<Utc>) -> String {
    let tz = server.tz();
    let mut out = String::from(I4BLT_BANNER);
    out.push_str("==============================================\n============ S t a t u s  R e p o r t ========\n==============================================\n\n");
    for (f, usage) in usages(seed, server, now) {
        let _ = writeln!(out, "     Server Name:       ip:{host}");
        let _ = writeln!(out, "     Vendor Name:       {}", server.vendor);
        let _ = writeln!(out, "     Product Name:      {}", f.name);
        let _ = writeln!(out, "     Product Version:   {}", f.version);
        out.push_str("     License Type:      Concurrent Access\n");
        let _ = writeln!(out, "     Licenses Granted:  {}", f.issued.unwrap_or(0));
        let _ = writeln!(out, "     Licenses In Use:   {}", usage.checked_out());
        let exp = expiry_or(f.expiry(), "%a %b %d 23:59:59 %Y", "Unlimited");
        let _ = writeln!(out, "     Expiration Date:   {exp}\n");
        if !usage.checkouts.is_empty() {
            out.push_str(
                "     User Name     Node Name     Group Name    Licenses   Check Out Date\n",
            );
            out.push_str(
                "     ---------     ---------     ----------    --------   --------------\n",
            );
            for c in &usage.checkouts {
                let _ = writeln!(
                    out,
                    "     {:<13} {:<13} {:<13} {:<10} {}",
                    c.user,
                    c.host,
                    "users",
                    c.count,
                    local(c.start, tz).format("%a %b %d %H:%M:%S %Y")
                );
            }
            out.push('\n');
        }
        out.push_str("==============================================\n");
    }
    out
}

// ----- MathLM -----

pub fn monitorlm_first_line() -> String {
    "Online help is available at\n".to_string()
}

pub fn monitorlm_cannot_connect(host: &str) -> String {
    format!("Could not connect to MathLM server {host}\n")
}

/// `monitorlm HOST -format text`: one "Licenses in Use" row per license (MathLM checks out
/// one license per process), the duration since the checkout as hours:minutes.
pub fn monitorlm(seed: u64, server: &Server, host: &str, now: DateTime<Utc>) -> String {
    let tz = server.tz();
    let mut out =
        String::from("Online help is available at\nhttp://reference.wolfram.com/network\n\n");
    let _ = writeln!(out, "MathLM Version {} ", version_or(server, "14.1"));
    let _ = writeln!(out, "MathLM Server {host} ");
    let _ = writeln!(
        out,
        "Date : {} \n",
        local(now, tz).format("%A, %B %d %Y %H:%M:%S")
    );
    let all = usages(seed, server, now);
    out.push_str("License Usage Summary:\n                            License    Total    Total\nProgram                        Class    in Use    Authorized\n------------------------------------------------------\n\n");
    for (f, usage) in &all {
        let _ = writeln!(
            out,
            "{:<30} A        {:<8} {}",
            f.name,
            usage.checked_out(),
            f.issued.unwrap_or(0)
        );
    }
    out.push_str("\nLicenses in Use:\n                               License\nProgram            Version     Class    Username    Hostname              Duration\n----------------------------------------------------------------------------\n");
    for (f, usage) in &all {
        for c in &usage.checkouts {
            let minutes = (now - c.start).num_minutes().max(0);
            for _ in 0..c.count {
                let _ = writeln!(
                    out,
                    "{:<18} {:<11} A        {:<11} {:<21} {:02}:{:02}",
                    f.name,
                    f.version,
                    c.user,
                    c.host,
                    minutes / 60,
                    minutes % 60
                );
            }
        }
    }
    out
}

// ----- LS-DYNA -----

pub fn qrun_first_line(m: &Member) -> String {
    format!("Using user specified server {}@{}\n", m.port, m.host)
}

pub fn qrun_cannot_connect(m: &Member) -> String {
    format!(
        "{}*** ERROR failed to open server {}\n",
        qrun_first_line(m),
        m.host
    )
}

/// `lstc_qrun -s PORT@HOST -R`, in the shape of `fixtures/lsdyna/`; each feature a program of
/// its own (no license groups), pids from the checkout handles.
pub fn qrun(seed: u64, server: &Server, m: &Member, now: DateTime<Utc>) -> String {
    let mut out = qrun_first_line(m);
    out.push_str("\nLICENSE INFORMATION\n\nPROGRAM          EXPIRATION CPUS  USED   FREE    MAX | QUEUE\n---------------- ----------      ----- ------ ------ | -----\n");
    for (f, usage) in usages(seed, server, now) {
        let issued = f.issued.unwrap_or(0);
        let used = usage.checked_out();
        let _ = writeln!(
            out,
            "{:<16} {}     {:>6} {:>6} {:>6} | {:>5}",
            f.name,
            expiry_or(f.expiry(), "%m/%d/%Y", "12/31/2099"),
            used,
            issued.saturating_sub(used),
            issued,
            usage.queued.len()
        );
        for c in &usage.checkouts {
            let _ = writeln!(
                out,
                " {:<10} {:>6}@{}  {}",
                c.user,
                c.handle % 1_000_000,
                c.host,
                c.count
            );
        }
    }
    out
}

// ----- OLicense -----

const OLIXTOOL_BANNER: &str = "olixtool 4.8.0 - OLicense XML Status Application\nCopyright (C) 2007-2013 Optimum GmbH, Karlsruhe, Germany\n\n";

pub fn olixtool_first_line() -> String {
    OLIXTOOL_BANNER.lines().next().unwrap_or("").to_string() + "\n"
}

pub fn olixtool_cannot_connect(host: &str, port: u16) -> String {
    format!(
        "{OLIXTOOL_BANNER}Server: <{host}:{port}:0> (Proxy: <>)\n\nOlComm 454 Request cannot connect to target\n"
    )
}

/// `olixtool -sv HOST:PORT`, in the shape of `fixtures/olicense/`: one license block holding
/// every feature as a module.
pub fn olixtool(seed: u64, server: &Server, m: &Member, now: DateTime<Utc>) -> String {
    let mut out = String::from(OLIXTOOL_BANNER);
    let _ = writeln!(out, "Server: <{}:{}:0> (Proxy: <>)\n", m.host, m.port);
    out.push_str("List of requested licenses:\n\n==============================================\n");
    let _ = writeln!(out, "Application:\t{}", server.vendor);
    let _ = writeln!(out, "VersionRange:\t0-{}", version_or(server, "20251"));
    let _ = writeln!(out, "Licenser:\t{} software", server.vendor);
    out.push_str("Licensee:\tExample Engineering GmbH\n");
    let _ = writeln!(out, "License-ID:\t{}-0001@sim", server.vendor);
    out.push_str("Modules:\n  Name; LicenseType; FloatCount; Expiration\n  --------------------------------------------\n");
    for (f, usage) in usages(seed, server, now) {
        let _ = writeln!(
            out,
            "  {};         \tFreeFloating;\t{};\t{};",
            f.name,
            f.issued.unwrap_or(0),
            expiry_or(f.expiry(), "%Y-%m-%d 23:59:59", "unlimited")
        );
        if !usage.checkouts.is_empty() {
            let _ = writeln!(out, "    {} FloatsLockedBy:", usage.checked_out());
            for c in &usage.checkouts {
                let _ = writeln!(out, "      {}@{} #{}", c.user, c.host, c.count);
            }
        }
    }
    out.push_str("\n\n");
    out
}

// ----- custom XML -----

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The custom XML status file (licmon's schema, docs/custom-xml.md) of a scenario server of
/// kind `custom-xml` (or any kind: the usage model is the same). `down` writes a down status.
pub fn custom_xml(seed: u64, server: &Server, now: DateTime<Utc>, down: bool) -> String {
    let host = server
        .members()
        .first()
        .map(|m| m.host.clone())
        .unwrap_or_default();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let generated = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if down {
        let _ = writeln!(
            out,
            "<licmon-status version=\"1\" vendor=\"{}\" server=\"{}\" status=\"down\" message=\"site script: license service stopped\" generated=\"{generated}\"/>",
            xml_escape(&server.vendor),
            xml_escape(&host)
        );
        return out;
    }
    let _ = writeln!(
        out,
        "<licmon-status version=\"1\" vendor=\"{}\" server=\"{}\" status=\"up\" generated=\"{generated}\">",
        xml_escape(&server.vendor),
        xml_escape(&host)
    );
    for (f, usage) in usages(seed, server, now) {
        let issued = match f.issued {
            Some(n) => format!(" issued=\"{n}\""),
            None => String::new(),
        };
        let expires = expiry_or(f.expiry(), "%Y-%m-%d", "permanent");
        let _ = writeln!(
            out,
            "  <feature name=\"{}\" version=\"{}\"{issued} used=\"{}\" reserved=\"{}\" borrowed=\"{}\" queued=\"{}\" expires=\"{expires}\">",
            xml_escape(&f.name),
            xml_escape(&f.version),
            usage.checked_out(),
            f.reserved,
            usage.borrowed(),
            usage.queued_licenses()
        );
        for c in &usage.checkouts {
            let borrow = match c.borrow_end {
                Some(end) => format!(
                    " borrow-expires=\"{}\"",
                    end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "    <user name=\"{}\" host=\"{}\" count=\"{}\" checkout=\"{}\"{borrow}/>",
                xml_escape(&c.user),
                xml_escape(&c.host),
                c.count,
                c.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        out.push_str("  </feature>\n");
    }
    out.push_str("</licmon-status>\n");
    out
}

/// Whether a scenario kind is one of this module's.
pub fn is_other(kind: Kind) -> bool {
    !matches!(kind, Kind::Flexnet | Kind::Rlm | Kind::Lmx)
}
