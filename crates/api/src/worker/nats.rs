//! Publishing the event stream to NATS JetStream (when `RIALTO_NATS_URL` is set).
//!
//! The relay task (one runner at a time, by lease) reads events after its position, publishes
//! each to `<prefix>.<type>` with the event id as `Nats-Msg-Id`, waits for every
//! acknowledgement, then advances its position. A relay that dies between publishing and
//! advancing republishes on the next run; JetStream drops the duplicates by message id
//! within the stream's duplicate window, so many Rialto processes can feed one stream.

use std::time::Duration;

use async_nats::jetstream;

use crate::AppState;

/// Events published per relay run at most.
const PUBLISH_BATCH_MAX: usize = 500;
/// How long JetStream remembers message ids for deduplication.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// Tries to create the stream at start (with backoff: 0.2, 0.4, 0.8, 1.6 s between them).
const STREAM_ATTEMPTS: u32 = 5;

/// A connection to JetStream and where to publish.
pub struct NatsRelay {
    js: jetstream::Context,
    prefix: String,
}

impl NatsRelay {
    /// Connects and makes sure the stream exists (subjects `<prefix>.>`).
    pub async fn connect(url: &str, stream: &str, prefix: &str) -> Result<NatsRelay, String> {
        let client = async_nats::connect(url).await.map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?;
        let js = jetstream::new(client);
        let config = jetstream::stream::Config {
            name: stream.to_string(),
            subjects: vec![format!("{prefix}.>")],
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        // A server can refuse for a moment (a cluster electing a leader, a store directory
        // being cleaned up as another stream goes): a few tries before giving up.
        let mut attempt = 0;
        loop {
            match js.get_or_create_stream(config.clone()).await {
                Ok(_) => break,
                Err(e) if attempt >= STREAM_ATTEMPTS - 1 => {
                    return Err(format!("cannot create the JetStream stream {stream}: {e}"));
                }
                Err(e) => {
                    attempt += 1;
                    tracing::warn!(stream, attempt, error = %e, "JetStream refused to create the stream; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
                }
            }
        }
        Ok(NatsRelay { js, prefix: prefix.to_string() })
    }

    /// Publishes the events after the relay's position; returns how many.
    pub async fn publish_new(&self, state: &AppState) -> Result<i64, String> {
        let after = state.db.relay_position("nats").await.map_err(|e| e.to_string())?;
        let page = state.db.events(after, PUBLISH_BATCH_MAX, None).await.map_err(|e| e.to_string())?;
        let Some(last) = page.data.last().map(|e| e.seq) else {
            return Ok(0);
        };
        let mut acks = Vec::with_capacity(page.data.len());
        for e in &page.data {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, e.id.as_str());
            let subject = format!("{}.{}", self.prefix, e.kind);
            let body = serde_json::to_string(&crate::present::event(e)).unwrap_or_default();
            let ack = self
                .js
                .publish_with_headers(subject, headers, body.into())
                .await
                .map_err(|e| format!("publish failed: {e}"))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| format!("JetStream did not acknowledge: {e}"))?;
        }
        state.db.set_relay_position("nats", last).await.map_err(|e| e.to_string())?;
        Ok(i64::try_from(page.data.len()).unwrap_or(i64::MAX))
    }
}
