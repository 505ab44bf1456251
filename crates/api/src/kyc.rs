//! KYC routes: a user's documents (submitted through a verification provider, the manual
//! reviewer first), reviewers' decisions, the level and limits they give, and the expiry task
//! that lapses documents past their date.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rialto_compliance::kyc::{
    DocumentCheck, DocumentKind, DocumentStatus, ManualReview, ProviderVerdict, VerificationProvider,
};
use rialto_core::ids::{self, new_id};
use rialto_store::{Command, ComplianceCommand, KycDocument};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::contract::{handler, names, Operation, Verb};
use crate::error::ApiError;
use crate::http::{respond, write, Body};
use crate::input::{id_of, Fields, PathId};
use crate::permissions::Permission::{Read, Review, Write};
use crate::AppState;

/// Documents the expiry task lapses per run at most.
const EXPIRE_BATCH_MAX: i64 = 1_000;

names!(
    /// A document type.
    DocumentKindName: "passport", "national_id", "driving_licence", "residence_permit", "proof_of_address"
);
names!(
    /// Where a document's verification stands.
    DocumentStatusName: "submitted", "verified", "rejected", "expired"
);
names!(
    /// A KYC level.
    KycLevelName: "none", "basic", "full"
);

/// A document for a user's KYC. The number is kept only as its last four characters and a
/// hash.
#[derive(ToSchema)]
#[schema(example = json!({"type": "passport", "issuing_country": "DE", "number": "C01X00T47", "expires_on": "2031-05-31"}))]
#[allow(dead_code)]
pub struct DocumentCreate {
    #[serde(rename = "type")]
    kind: DocumentKindName,
    /// ISO 3166 alpha-2.
    #[schema(pattern = "^[A-Z]{2}$")]
    issuing_country: String,
    /// 4 to 40 letters and digits (spaces and dashes are ignored).
    #[schema(min_length = 4, max_length = 60)]
    number: String,
    /// `YYYY-MM-DD`; required for identity documents.
    #[schema(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    expires_on: Option<String>,
}

/// A reviewer's decision on a document.
#[derive(ToSchema)]
#[schema(example = json!({"reason": "photo does not match"}))]
#[allow(dead_code)]
pub struct DocumentDecision {
    /// Required to reject.
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// A KYC document as shown (the number masked).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct KycDocumentView {
    /// `kyd_…`.
    id: String,
    /// Always `kyc_document`.
    object: String,
    user_id: String,
    #[schema(rename = "type")]
    r#type: DocumentKindName,
    issuing_country: String,
    /// `•••• 1234`.
    number: String,
    expires_on: Option<String>,
    status: DocumentStatusName,
    reason: Option<String>,
    /// The verification provider (`manual`).
    provider: String,
    reviewed_by: Option<String>,
    created_at: crate::present::Timestamp,
    updated_at: crate::present::Timestamp,
}

/// What a level may pay (minor units; null: no limit).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LevelLimitsView {
    single_max: Option<i64>,
    daily_max: Option<i64>,
    monthly_max: Option<i64>,
}

/// A user's KYC: level, documents, limits.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UserKyc {
    user_id: String,
    /// From the verified, unexpired documents.
    level: KycLevelName,
    /// The reviewer's overall decision (`pending|verified|rejected`), which the KYC threshold reads.
    kyc_status: String,
    /// The limits of this level.
    limits: LevelLimitsView,
    documents: Vec<KycDocumentView>,
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn day_of_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(text, &format).ok()?;
    Some(i64::from(d.to_julian_day()) - 2_440_588)
}

fn today() -> i64 {
    rialto_store::now_us().div_euclid(86_400_000_000)
}

/// `POST /v1/users/{id}/kyc/documents`
pub async fn submit(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PathId(id): PathId,
    body: Body,
) -> Response {
    let path = format!("/v1/users/{id}/kyc/documents");
    write(&s, &ctx, &headers, &path, body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<DocumentCreate>(b)?;
        let kind = f.string("type", 30)?;
        let kind = DocumentKind::parse(&kind)
            .ok_or_else(|| ApiError::invalid(format!("type must be {}", DocumentKind::names())).param("type"))?;
        let country = f.string("issuing_country", 2)?;
        if rialto_compliance::countries::code(&country) != Some(country.as_str()) {
            return Err(
                ApiError::invalid("issuing_country must be an ISO 3166 alpha-2 code, e.g. DE").param("issuing_country")
            );
        }
        let number: String =
            f.string("number", 60)?.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>().to_uppercase();
        if !(4..=40).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ApiError::invalid("number must be 4 to 40 letters and digits").param("number"));
        }
        let expires_on = f.opt_string("expires_on", 10)?;
        let expires_on_day = match &expires_on {
            Some(t) => Some(
                day_of_date(t).ok_or_else(|| ApiError::invalid("expires_on must be YYYY-MM-DD").param("expires_on"))?,
            ),
            None if kind.is_identity() => {
                return Err(ApiError::invalid("an identity document needs expires_on").param("expires_on"))
            }
            None => None,
        };
        let user_id = id_of::<ids::UserId>(&id)?;
        let provider = ManualReview;
        let check = DocumentCheck { kind, country: &country, expires_on_day };
        let (status, reason) = match provider.submit(&check, today()) {
            ProviderVerdict::Pending => (DocumentStatus::Submitted, None),
            ProviderVerdict::Verified => (DocumentStatus::Verified, None),
            ProviderVerdict::Rejected(why) => (DocumentStatus::Rejected, Some(why)),
        };
        Ok(Command::Compliance(ComplianceCommand::SubmitDocument(Box::new(KycDocument {
            id: new_id::<ids::KycDocumentId>(),
            user_id,
            kind,
            issuing_country: country,
            number_last4: number[number.len() - 4..].to_string(),
            number_hash: hex::encode(Sha256::digest(number.as_bytes())),
            expires_on,
            expires_on_day,
            status,
            reason,
            provider: provider.name().into(),
            reviewed_by: None,
            created_at_us: 0,
            updated_at_us: 0,
        }))))
    })
    .await
}

async fn decide(s: AppState, ctx: Ctx, headers: HeaderMap, id: String, body: Body, verify: bool) -> Response {
    let path = format!("/v1/kyc/documents/{id}/{}", if verify { "verify" } else { "reject" });
    let by = ctx.caller.key_id.clone();
    write(&s, &ctx, &headers, &path, body, StatusCode::OK, |b| {
        let mut f = Fields::of::<DocumentDecision>(b)?;
        let reason = f.opt_string("reason", 1000)?.filter(|r| !r.trim().is_empty());
        if !verify && reason.is_none() {
            return Err(ApiError::invalid("a rejection needs a reason").param("reason"));
        }
        let id = id_of::<ids::KycDocumentId>(&id)?;
        Ok(Command::Compliance(ComplianceCommand::ReviewDocument { id, verify, reason, by }))
    })
    .await
}

/// `POST /v1/kyc/documents/{id}/verify`
pub async fn verify(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PathId(id): PathId,
    body: Body,
) -> Response {
    decide(s, ctx, headers, id, body, true).await
}

/// `POST /v1/kyc/documents/{id}/reject`
pub async fn reject(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PathId(id): PathId,
    body: Body,
) -> Response {
    decide(s, ctx, headers, id, body, false).await
}

/// `GET /v1/users/{id}/kyc`
pub async fn user_kyc(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::UserId>(&id)?;
            let user = s.db.user(&id).await?.ok_or_else(|| ApiError::not_found("user", &id))?;
            let docs = s.db.kyc_documents(&id).await?;
            let facts: Vec<_> = docs
                .iter()
                .map(|d| rialto_compliance::kyc::DocumentFacts {
                    kind: d.kind,
                    status: d.status,
                    expires_on_day: d.expires_on_day,
                })
                .collect();
            let level = rialto_compliance::kyc::level(&facts, today());
            let l = s.config.policies.kyc_limits.of(level);
            Ok(json!({
                "user_id": id, "level": level.as_str(), "kyc_status": user.kyc_status.as_str(),
                "limits": {"single_max": l.single_max, "daily_max": l.daily_max, "monthly_max": l.monthly_max},
                "documents": docs.iter().map(crate::present::kyc_document).collect::<Vec<_>>(),
            }))
        }
        .await,
    )
}

/// The expiry task: verified documents past their date become `expired`, each audited.
pub async fn expire(state: &AppState) -> Result<i64, String> {
    let ids = state.db.expired_kyc_documents(today(), EXPIRE_BATCH_MAX).await.map_err(|e| e.to_string())?;
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let writer = state.writer.clone();
        tasks.spawn(async move {
            let audit =
                Some(rialto_store::AuditContext { actor: "system:kyc_expiry".into(), request_id: None, ip: None });
            writer.submit(Command::Compliance(ComplianceCommand::ExpireDocument { id }), None, audit).await
        });
    }
    let mut expired = 0;
    while let Some(r) = tasks.join_next().await {
        if let Ok(rialto_store::Reply::Done { outcome: Ok(_), .. }) = r {
            expired += 1;
        }
    }
    Ok(expired)
}

/// The KYC operations.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<KycDocumentView>(Verb::Post, "/v1/users/{id}/kyc/documents", Write, "Submit a KYC document (type, issuing country, number, expiry) to the verification provider; the number is kept masked", handler!(submit)).body::<DocumentCreate>().status(201),
    Operation::new::<UserKyc>(Verb::Get, "/v1/users/{id}/kyc", Read, "A user's KYC level, the limits it allows and the documents", handler!(user_kyc)),
    Operation::new::<KycDocumentView>(Verb::Post, "/v1/kyc/documents/{id}/verify", Review, "Verify a submitted document", handler!(verify)).body::<DocumentDecision>().status(200),
    Operation::new::<KycDocumentView>(Verb::Post, "/v1/kyc/documents/{id}/reject", Review, "Reject a submitted document, saying why", handler!(reject)).body::<DocumentDecision>().status(200),
];
