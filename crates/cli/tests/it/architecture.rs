//! The crate graph keeps its shape: domain crates do no I/O, so they depend on no database
//! driver, async runtime, HTTP stack or broker client, not even indirectly. Read from
//! `cargo metadata` (normal dependencies, this platform). Every workspace crate must appear in
//! `RULES`, so a new crate states what it must not depend on.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What does I/O: drivers, runtimes, HTTP and broker clients.
const IO: &[&str] = &["sqlx", "rusqlite", "libsqlite3-sys", "tokio", "axum", "hyper", "reqwest", "redis", "async-nats"];

/// What the payments domain must not depend on: I/O, the risk crate, JSON, the store.
const PAYMENTS: &[&str] = &[
    "sqlx",
    "rusqlite",
    "libsqlite3-sys",
    "tokio",
    "axum",
    "hyper",
    "reqwest",
    "redis",
    "async-nats",
    "rialto-risk",
    "rialto-store",
    "serde_json",
];

/// Each workspace crate and the crates it must not depend on (directly or through others).
const RULES: &[(&str, &[&str])] = &[
    ("rialto-core", IO),
    ("rialto-risk", IO),
    // Payments reach the risk rules and models through the `RiskStep` trait, not the crate;
    // their records hold no JSON values.
    ("rialto-payments", PAYMENTS),
    ("rialto-store", &["axum", "hyper", "reqwest", "rialto-api"]),
    // The API reaches the database through rialto-store, which holds both drivers for now;
    // splitting the backends out of the store (so api depends on neither) is the next step.
    ("rialto-api", &[]),
    ("rialto", &[]),
];

/// Each workspace crate's normal dependencies, transitively, by name.
fn dependency_closures() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let host = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--manifest-path", manifest])
        .args(["--filter-platform", &host])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<&str, &str> = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut normal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in m["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()));
        normal.insert(node["id"].as_str().unwrap(), deps.map(|d| d["pkg"].as_str().unwrap()).collect());
    }
    let mut closures = BTreeMap::new();
    for member in m["workspace_members"].as_array().unwrap() {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![member.as_str().unwrap()]);
        while let Some(id) = todo.pop() {
            for dep in &normal[id] {
                if seen.insert(names[dep].to_string()) {
                    todo.push(dep);
                }
            }
        }
        closures.insert(names[member.as_str().unwrap()].to_string(), seen);
    }
    closures
}

#[test]
fn domain_crates_depend_on_no_io_and_every_crate_has_rules() {
    let closures = dependency_closures();
    let ruled: BTreeSet<&str> = RULES.iter().map(|(name, _)| *name).collect();
    for name in closures.keys() {
        assert!(ruled.contains(name.as_str()), "workspace crate {name} is missing from RULES");
    }
    let mut broken = Vec::new();
    for (name, forbidden) in RULES {
        let deps = closures.get(*name).unwrap_or_else(|| panic!("RULES names {name}, not a workspace crate"));
        broken.extend(forbidden.iter().filter(|f| deps.contains(**f)).map(|f| format!("{name} depends on {f}")));
    }
    assert!(broken.is_empty(), "{broken:?}");
}
