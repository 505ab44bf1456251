//! Events published to the real NATS JetStream server and read back by a consumer.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{App, Backend};
use serde_json::Value;

fn nats_url() -> Option<String> {
    // The tests are #[ignore]d when the suite was built without it (build.rs).
    let url = std::env::var("RIALTO_TEST_NATS_URL")
        .expect("RIALTO_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) must be set; .ci/run sets it");
    Some(url)
}

async fn events_reach_jetstream_once(backend: Backend) {
    let Some(url) = nats_url() else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (stream, prefix) = (format!("RIALTO_TEST_{tag}"), format!("rialtotest{tag}.events"));
    let Some(app) = App::start_with(backend, |c| {
        c.nats_url = Some(url.clone());
        c.nats_stream = stream.clone();
        c.nats_subject_prefix = prefix.clone();
        c.nats_interval = Duration::from_millis(50);
    })
    .await
    else {
        return;
    };
    let (funding, a) = app.funded("USD", 1_000).await;
    app.transfer(&a, &funding, 10, "USD").await;
    let (_, events) = app.get("/v1/events?limit=100").await;
    let events = events["data"].as_array().unwrap().clone();
    assert_eq!(events.len(), 4);

    let client = async_nats::connect(&url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut s = js.get_stream(&stream).await.unwrap();
    let mut count = 0;
    for _ in 0..200 {
        count = s.info().await.unwrap().state.messages;
        if count >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count, 4);
    for (i, e) in events.iter().enumerate() {
        let m = s.get_raw_message(i as u64 + 1).await.unwrap();
        let body: Value = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(body["id"], e["id"], "in stream order");
        assert_eq!(m.subject.as_str(), format!("{prefix}.{}", e["type"].as_str().unwrap()));
        assert_eq!(
            m.headers.get(async_nats::header::NATS_MESSAGE_ID).map(|v| v.as_str()),
            e["id"].as_str(),
            "{:?}",
            m.headers
        );
    }

    // A relay that dies after publishing republishes from its old position: JetStream drops
    // the duplicates by message id.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE relay_cursors SET position = 0 WHERE name = 'nats'").execute(&pool).await.unwrap();
    app.transfer(&a, &funding, 10, "USD").await;
    let mut count = 0;
    for _ in 0..200 {
        count = s.info().await.unwrap().state.messages;
        let pos: (i64,) =
            sqlx::query_as("SELECT position FROM relay_cursors WHERE name = 'nats'").fetch_one(&pool).await.unwrap();
        if pos.0 >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count, 5, "four republished events deduplicated, one new");
    pool.close().await;
    js.delete_stream(&stream).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_nats), ignore = "needs RIALTO_TEST_NATS_URL at build time")]
async fn events_reach_jetstream_once_sqlite() {
    events_reach_jetstream_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(rialto_postgres, rialto_nats)),
    ignore = "needs RIALTO_TEST_POSTGRES_URL and RIALTO_TEST_NATS_URL at build time"
)]
async fn events_reach_jetstream_once_postgres() {
    events_reach_jetstream_once(Backend::Postgres).await;
}
