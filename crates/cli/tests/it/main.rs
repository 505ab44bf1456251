//! The integration suite in one binary: every scenario starts a real server on an ephemeral
//! port and talks HTTP to it, on SQLite and on PostgreSQL. Variants that need a service whose
//! URL was not set when the suite was built are reported as ignored (see `build.rs`).
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

mod architecture;

mod compliance;
mod durability;
mod edges;
mod http_edge;
mod kyc;
mod ledger_api;
mod nats;
mod outbox;
mod payments;
mod process;
mod recon;
mod risk;
mod risk_models;
mod risk_windows;
mod sanctions;
mod snapshots;
mod upgrade;
mod webhooks;
