//! The worker: what runs in the background beside the HTTP server, in every process.
//!
//! - [`scheduler`]: periodic tasks by lease (expiry sweep, settlement runs, idempotency clean-up,
//!   webhook delivery, the NATS relay), each run by one process at a time, runs recorded;
//! - [`delivery`]: webhook deliveries, signed, with retries;
//! - [`nats`]: the JetStream relay of the event stream;
//! - [`training`]: model training jobs;
//! - [`targets`]: where webhook deliveries may connect.
//!
//! The HTTP routes (`crate::routes`, `crate::webhooks`, …) only enqueue work for these; the
//! binary composes the server, the worker and the backend (`crate::start`).

pub mod delivery;
pub mod nats;
pub(crate) mod scheduler;
pub mod targets;
pub(crate) mod training;

pub(crate) use scheduler::spawn_all;
