//! The crate graph keeps its shape: domain crates do no I/O, so they depend on no database
//! driver, async runtime, HTTP stack or broker client, not even indirectly. Read from
//! `cargo metadata` (normal dependencies, this platform). Every workspace crate must appear in
//! `RULES`, so a new crate states what it must not depend on.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Database drivers.
const DRIVERS: &[&str] = &["sqlx", "rusqlite", "libsqlite3-sys"];
/// HTTP stacks and broker clients.
const NET: &[&str] = &["axum", "hyper", "reqwest", "redis", "async-nats"];
/// The async runtime.
const RUNTIME: &[&str] = &["tokio"];

/// Each workspace crate and the crates it must not depend on (directly or through others),
/// as a union of lists.
const RULES: &[(&str, &[&[&str]])] = &[
    // The domains do no I/O.
    ("rialto-core", &[DRIVERS, RUNTIME, NET]),
    ("rialto-risk", &[DRIVERS, RUNTIME, NET]),
    (
        "rialto-ledger",
        &[DRIVERS, RUNTIME, NET, &["serde_json", "rialto-payments", "rialto-risk", "rialto-engine", "rialto-store"]],
    ),
    // Payments reach the risk rules and models through the `RiskStep` trait, not the crate;
    // their records hold no JSON values.
    ("rialto-payments", &[DRIVERS, RUNTIME, NET, &["serde_json", "rialto-risk", "rialto-store"]]),
    // Compliance plugs into the payments' `ComplianceGate`; it parses the lists' bytes but
    // opens no file, socket or database.
    ("rialto-compliance", &[DRIVERS, RUNTIME, NET, &["rialto-risk", "rialto-engine", "rialto-store"]]),
    (
        "rialto-recon",
        &[
            DRIVERS,
            RUNTIME,
            NET,
            &["rialto-payments", "rialto-risk", "rialto-compliance", "rialto-engine", "rialto-store"],
        ],
    ),
    // The engine runs the batch loop on tokio and knows storage and the domains only through
    // its `Backend` trait.
    (
        "rialto-engine",
        &[DRIVERS, NET, &["serde_json", "rialto-core", "rialto-payments", "rialto-risk", "rialto-store", "rialto-api"]],
    ),
    ("rialto-store", &[&["axum", "hyper", "reqwest", "rialto-api"]]),
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
        let forbidden = forbidden.iter().flat_map(|list| list.iter());
        broken.extend(forbidden.filter(|f| deps.contains(**f)).map(|f| format!("{name} depends on {f}")));
    }
    assert!(broken.is_empty(), "{broken:?}");
}

/// Longest function body, in lines (signature to closing brace), for new code.
const FUNCTION_LINES_MAX: usize = 70;

/// Functions longer than that when the limit came in: (file, function, lines). The list only
/// shrinks: a listed function may not grow, and one that gets under the limit leaves the list.
const LONG_FUNCTIONS: &[(&str, &str, usize)] = &[
    ("crates/api/src/idem.rs", "run_then", 85),
    ("crates/api/src/models.rs", "train", 92),
    ("crates/cli/src/bench.rs", "run", 134),
    ("crates/cli/src/bench.rs", "run_direct", 120),
    ("crates/cli/src/main.rs", "run", 137),
    ("crates/cli/src/model.rs", "bench", 150),
    ("crates/cli/src/model.rs", "train", 112),
    ("crates/risk/src/ml.rs", "train", 71),
    ("crates/risk/src/rule.rs", "parse_condition", 88),
    ("crates/risk/src/training.rs", "train", 76),
    ("crates/store/src/outbox.rs", "append", 80),
    ("crates/store/src/verify.rs", "verify", 110),
    ("crates/store/src/writer.rs", "load_state", 121),
    ("crates/store/src/writer/assess.rs", "assess", 124),
    ("crates/store/src/writer/assess.rs", "load", 81),
    ("crates/store/src/writer/backtest.rs", "backtest", 161),
];

/// Every `fn` with a body in `crates/*/src`: (file, name, lines). rustfmt puts a body's closing
/// brace alone on a line at the indentation of its `fn`, which is what this looks for.
fn function_lengths() -> Vec<(String, String, usize)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    let mut todo: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let shown = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            let rest = ["pub(crate) ", "pub(super) ", "pub "].iter().find_map(|p| body.strip_prefix(p)).unwrap_or(body);
            let rest = rest.strip_prefix("const ").unwrap_or(rest);
            let rest = rest.strip_prefix("async ").unwrap_or(rest);
            let Some(name) = rest.strip_prefix("fn ") else { continue };
            if line.trim_end().ends_with(';') {
                continue;
            }
            let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let close = format!("{indent}}}");
            if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
                out.push((shown.clone(), name, end + 2));
            }
        }
    }
    out
}

#[test]
fn no_function_grows_past_the_limit() {
    let found = function_lengths();
    assert!(found.len() > 500, "the scan finds the functions ({})", found.len());
    let mut problems = Vec::new();
    for (file, name, lines) in &found {
        if *lines <= FUNCTION_LINES_MAX {
            continue;
        }
        match LONG_FUNCTIONS.iter().find(|(f, n, _)| f == file && n == name) {
            None => problems.push(format!("{file}: fn {name} is {lines} lines (limit {FUNCTION_LINES_MAX}); split it")),
            Some((_, _, max)) if lines > max => {
                problems.push(format!("{file}: fn {name} grew to {lines} lines (was {max}); split it"))
            }
            Some(_) => {}
        }
    }
    for (file, name, _) in LONG_FUNCTIONS {
        let still_long = found.iter().any(|(f, n, l)| f == file && n == name && *l > FUNCTION_LINES_MAX);
        if !still_long {
            problems.push(format!("{file}: fn {name} is gone or under the limit; remove it from LONG_FUNCTIONS"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The modules of `crates/api/src` (a folder is one module) and the modules each names with
/// `crate::…`, comments left out.
fn api_module_imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).unwrap() {
                files.push((name.clone(), f.unwrap().path()));
            }
        } else if p.extension().is_some_and(|x| x == "rs") && name != "lib" {
            files.push((name, p));
        }
    }
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let text: String = std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let words: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                group.split('}').next().unwrap_or_default().split(',').collect()
            } else {
                vec![rest]
            };
            for w in words {
                let name: String = w.trim().chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if modules.contains(&name) && name != *module {
                    named.insert(name);
                }
            }
        }
        graph.entry(module.clone()).or_default().extend(named);
    }
    graph
}

#[test]
fn api_modules_import_each_other_without_cycles() {
    let graph = api_module_imports();
    assert!(graph.contains_key("http") && graph.contains_key("present"), "{graph:?}");
    // Depth-first search for a back edge.
    fn visit<'a>(
        g: &'a BTreeMap<String, BTreeSet<String>>,
        n: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == n) {
            return Some(path[i..].iter().map(|s| s.to_string()).chain([n.to_string()]).collect());
        }
        if !done.insert(n) {
            return None;
        }
        path.push(n);
        for m in g.get(n).into_iter().flatten() {
            if let Some(cycle) = visit(g, m, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(cycle) = visit(&graph, n, &mut Vec::new(), &mut done) {
            panic!("api modules import in a cycle: {}", cycle.join(" -> "));
        }
    }
    // The shared helpers and the renderers know no domain module.
    for shared in ["http", "present", "error", "input"] {
        let domains: Vec<&String> = graph[shared]
            .iter()
            .filter(|m| ["routes", "payments", "risk", "models", "credit", "webhooks"].contains(&m.as_str()))
            .collect();
        assert!(domains.is_empty(), "{shared} imports the domain modules {domains:?}");
    }
}

/// The router is read from the operation tables (`rialto_api::operations`), so it cannot serve
/// what the description lacks: `lib.rs` routes nothing by hand but the docs page's script.
#[test]
fn every_routed_operation_is_declared_once_with_its_permission() {
    let lib =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/lib.rs")).unwrap();
    let by_hand: Vec<&str> = lib.match_indices(".route(").map(|(i, _)| &lib[i..(i + 40).min(lib.len())]).collect();
    assert_eq!(by_hand.len(), 3, "routes declared outside the operation tables: {by_hand:?}");
    assert!(lib.contains(".route(\"/docs/app.js\"") && lib.contains(".route(op.path, route)"), "{by_hand:?}");
    let ops: Vec<&rialto_api::contract::Operation> = rialto_api::operations().collect();
    assert!(ops.len() >= 70, "{}", ops.len());
    for (i, o) in ops.iter().enumerate() {
        assert!(
            !ops[i + 1..].iter().any(|p| p.verb == o.verb && p.path == o.path),
            "{} {} declared twice",
            o.verb.as_str(),
            o.path
        );
        assert_eq!(o.permission.is_some(), o.path.starts_with("/v1/"), "{} {}", o.verb.as_str(), o.path);
    }
}
