//! The process and its connections: a shutdown no client and no closed log can hold up, read
//! timeouts and a bound on connections, verifiers that never create what they verify.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{App, ADMIN_KEY};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `rialto serve` on a fresh SQLite file with both output streams piped to this test; returns
/// once it says it listens.
fn spawn_serve(extra: &[&str]) -> (Child, u16) {
    let port = free_port();
    let db = std::env::temp_dir().join(format!("rialto-proc-{}.db", uuid::Uuid::new_v4().simple()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rialto"))
        .args(["serve", "--database", &format!("sqlite://{}", db.display()), "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("RIALTO_ADMIN_KEY", ADMIN_KEY)
        .env("RIALTO_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    (child, port)
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success();
    assert!(ok, "kill -TERM");
}

/// Waits up to `limit` for the child to exit; kills it and fails otherwise.
fn exits_within(child: &mut Child, limit: Duration, what: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("{what}: the server was still running {limit:?} after SIGTERM");
}

#[test]
fn a_closed_log_does_not_keep_the_server_alive() {
    let (mut child, port) = spawn_serve(&[]);
    // Nobody reads the log any more (as with `rialto serve 2>&1 | head -3`).
    drop(child.stderr.take());
    for _ in 0..5 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET /v1/accounts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 401"), "the server still answers: {answer}");
    }
    sigterm(&child);
    exits_within(&mut child, Duration::from_secs(15), "stderr closed");
}

#[test]
fn a_stalled_client_does_not_hold_the_shutdown_past_its_grace() {
    let (mut child, port) = spawn_serve(&["--shutdown-grace-seconds", "1", "--body-read-timeout-seconds", "120"]);
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"curr"
    );
    stalled.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&child);
    let took = exits_within(&mut child, Duration::from_secs(12), "a stalled client");
    assert!(took < Duration::from_secs(8), "shutdown took {took:?} with a 1 s grace");
}

#[test]
fn verifiers_never_create_what_they_verify() {
    let dir = std::env::temp_dir().join(format!("rialto-verify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("mistyped.db");
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for args in [&["verify"][..], &["audit", "verify"][..]] {
        for path in [&missing, &empty] {
            let out = Command::new(env!("CARGO_BIN_EXE_rialto"))
                .args(args)
                .args(["--database", &format!("sqlite://{}", path.display())])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} on {}: {stderr}", path.display());
            assert!(stderr.contains("cannot verify"), "{stderr}");
        }
        assert!(!missing.exists(), "{args:?} created the database it was to verify");
        assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "{args:?} migrated an empty file");
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn slow_limits(config: &mut rialto_api::Config) {
    config.limits.header_read_timeout = Duration::from_millis(800);
    config.limits.body_read_timeout = Duration::from_millis(800);
    config.limits.connections_max = 6;
}

/// True once the peer closed the connection (a read returns end of file or an error).
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an answer (408) before the close
            Err(e) => return !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        }
    }
}

async fn slow_clients_are_cut_off(app: App) {
    let addr = app.server.as_ref().unwrap().addr;
    // Half-sent headers, and connections that send nothing: all closed after the timeout.
    let mut half: Vec<TcpStream> = (0..6)
        .map(|i| {
            let mut s = TcpStream::connect(addr).unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET /v1/accounts HTTP/1.1\r\nHost: x\r\n").unwrap();
            }
            s
        })
        .collect();
    // More connections than the bound: the request waits for a slot, then is served.
    let started = Instant::now();
    let (status, _) = app.get("/v1/accounts").await;
    assert_eq!(status, 200);
    let waited = started.elapsed();
    for s in &mut half {
        assert!(closed_within(s, Duration::from_secs(5)), "a slow connection was left open");
    }
    assert!(waited < Duration::from_secs(5), "the bounded request waited {waited:?}");
    // A body that never finishes: 408 in the error shape, then the connection closes.
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"curr"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    // Nothing was written by the slow request.
    let (_, accounts) = app.get("/v1/accounts").await;
    assert_eq!(accounts["data"].as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_sqlite() {
    let app = App::start_with(crate::common::Backend::Sqlite, slow_limits).await.unwrap();
    slow_clients_are_cut_off(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn slow_clients_are_cut_off_postgres() {
    let app = App::start_with(crate::common::Backend::Postgres, slow_limits).await.unwrap();
    slow_clients_are_cut_off(app).await;
}

#[test]
fn bad_limits_stop_the_start_with_every_problem_named() {
    let dir = std::env::temp_dir().join(format!("rialto-limits-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("rialto.toml");
    std::fs::write(&config, "[limits]\nreview_above_minor = 20000000\nvelocity_max_count = 0\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rialto"))
        .args(["serve", "--database", &format!("sqlite://{}", dir.join("x.db").display()), "--listen", "127.0.0.1:0"])
        .args(["--config", config.to_str().unwrap(), "--settlement-fee-bps", "10001"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for problem in ["review_above_minor", "velocity_max_count", "settlement_fee_bps"] {
        assert!(stderr.contains(problem), "{problem} is not named: {stderr}");
    }
    std::fs::write(&config, "[limits]\nreview_above = 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rialto"))
        .args(["serve", "--database", &format!("sqlite://{}", dir.join("x.db").display()), "--listen", "127.0.0.1:0"])
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(1) && stderr.contains("review_above"), "an unknown key is refused: {stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_scorecard_that_does_not_check_stops_the_start() {
    let dir = std::env::temp_dir().join(format!("rialto-card-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut card = rialto_risk::credit::served().clone();
    // Leaving the first characteristic out would pay: refused.
    card.characteristics[0].missing.points = 100.0;
    let path = dir.join("card.json");
    for (text, problem) in
        [(serde_json::to_string(&card).unwrap(), "missing points"), ("{}".to_string(), "not a scorecard")]
    {
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_rialto"))
            .args([
                "serve",
                "--database",
                &format!("sqlite://{}", dir.join("x.db").display()),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--credit-scorecard", path.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code() == Some(1) && stderr.contains(problem), "{stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
