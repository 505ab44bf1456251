//! Training jobs: a model registered for training is trained on a blocking thread, and the
//! result (or the error) is recorded with it through the writer.

use rialto_risk::model::{ModelKind, TreeOptions};
use rialto_store::{Command, ModelChange, Reply};

/// Trains in a blocking thread and records the result (or the error) with the model.
pub(crate) fn spawn(
    writer: rialto_store::Writer,
    id: String,
    examples: Vec<rialto_store::Example>,
    kind: ModelKind,
    trees: TreeOptions,
) {
    tokio::spawn(async move {
        let rows: Vec<rialto_risk::training::Labelled> = examples
            .into_iter()
            .map(|e| rialto_risk::training::Labelled { features: e.features, merchant: e.merchant, fraud: e.fraud })
            .collect();
        let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let trained =
            tokio::task::spawn_blocking(move || rialto_risk::training::train(&rows, kind, trees, |_, _, _| {})).await;
        let result = match trained {
            Ok(Ok(t)) => Ok(Box::new(rialto_store::Trained {
                features: t.features,
                artifact: t.artifact,
                merchant_risk: crate::present::merchant_risk(&t.merchant_risk, t.default_merchant_risk),
                metadata: t.metadata.to_string(),
                dataset_rows: n,
            })),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("training stopped: {e}")),
        };
        if let Err(e) = record(&writer, &id, result).await {
            tracing::error!(model = %id, error = %e, "recording a trained model failed");
        }
    });
}

/// Records how a `training` model's training ended (audited as `system:training`).
pub(crate) async fn record(
    writer: &rialto_store::Writer,
    id: &str,
    result: Result<Box<rialto_store::Trained>, String>,
) -> Result<(), rialto_store::CommandError> {
    let audit = rialto_store::AuditContext { actor: "system:training".into(), request_id: None, ip: None };
    let change = Command::Model(ModelChange::Trained { id: id.to_string(), result });
    match writer.submit(change, None, Some(audit)).await {
        Reply::Done { outcome: Err(e), .. } => Err(e),
        _ => Ok(()),
    }
}
