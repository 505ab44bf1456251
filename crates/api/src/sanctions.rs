//! Sanctions routes and the screener every process holds: screen a name, compare two names,
//! the lists in force and their versions, list uploads, a user's screening and a reviewer's
//! false-positive clearance. Users are screened when created or changed (in the same
//! transaction), payments screen their counterparty as they come in, and the worker
//! re-screens every user whose screening used older list versions.

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rialto_compliance::{
    compare, normalize, ofac, un, verdict, BirthDate, Clearance, EntityKind, NameError, ParsedList, Prepared, Query,
    Screener, ScreeningStatus, Source, Thresholds,
};
use rialto_core::ids::{self, new_id};
use rialto_store::{Command, ComplianceCommand, Db, ListImport, ScreeningRecord, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::contract::{handler, names, Operation, Verb};
use crate::error::ApiError;
use crate::http::{respond, write, Body};
use crate::input::{id_of, Fields, PathId};
use crate::permissions::Permission::{Administer, Read, Review};
use crate::AppState;

/// Matches a screening answer lists by default.
const LIMIT_DEFAULT: i64 = 10;
/// Identifiers a screening may give.
const IDENTIFIERS_MAX: usize = 10;
/// Bytes a list upload may hold (the OFAC files are about 2.7 MB, the UN file about 2 MB).
pub const UPLOAD_MAX: usize = 32 * 1024 * 1024;

/// The lists in force, indexed, and the thresholds that turn scores into decisions.
pub struct Lists {
    screener: RwLock<Arc<Screener>>,
    /// Review and block thresholds.
    pub thresholds: Thresholds,
}

impl Lists {
    /// No list loaded yet.
    pub fn new(thresholds: Thresholds) -> Lists {
        Lists { screener: RwLock::new(Arc::new(Screener::new(Vec::new()))), thresholds }
    }

    /// The screener in force.
    pub fn screener(&self) -> Arc<Screener> {
        self.screener.read().map_or_else(|p| p.into_inner().clone(), |s| s.clone())
    }

    /// Reloads the lists when the database holds newer versions than the screener; true
    /// when it did.
    pub async fn refresh(&self, db: &Db) -> Result<bool, StoreError> {
        let in_force = db.lists_in_force().await?;
        let held: Vec<(&str, i64)> = self.screener().versions().iter().map(|v| (v.source, v.version)).collect();
        let wanted: Vec<(&str, i64)> = in_force.iter().map(|(s, v)| (s.as_str(), *v)).collect();
        if held == wanted {
            return Ok(false);
        }
        let lists = db.list_entries().await?;
        let screener = tokio::task::spawn_blocking(move || Screener::new(lists))
            .await
            .map_err(|e| StoreError::Corrupt(format!("indexing the lists: {e}")))?;
        let (entries, names) = screener.size();
        tracing::info!(entries, names, versions = ?wanted, "sanctions lists loaded");
        match self.screener.write() {
            Ok(mut s) => *s = Arc::new(screener),
            Err(p) => *p.into_inner() = Arc::new(screener),
        }
        Ok(true)
    }

    /// The screening of a party by name: a name with nothing to compare is clear, a name in
    /// a script Rialto cannot transliterate goes to review (it could not be screened).
    pub fn screen(&self, user_id: &str, q: &Query, clearances: &[Clearance]) -> ScreeningRecord {
        let screener = self.screener();
        let versions = json!(screener.versions()).to_string();
        let record =
            |status: ScreeningStatus, score: f64, reason: String, matches: Value, cleared: Value| ScreeningRecord {
                user_id: user_id.to_string(),
                status,
                score_bp: (score * 10_000.0).round() as i64,
                reason,
                matches: matches.to_string(),
                cleared: cleared.to_string(),
                versions: versions.clone(),
                screened_at_us: 0,
            };
        if screener.versions().is_empty() {
            return record(ScreeningStatus::Clear, 0.0, "no sanctions list is loaded".into(), json!([]), json!([]));
        }
        match screener.screen(q, self.thresholds.review, 20) {
            Ok(matches) => {
                let v = verdict(matches, self.thresholds, clearances);
                record(v.status, v.score, v.reason, json!(v.matches), json!(v.cleared))
            }
            Err(NameError::Empty) => {
                record(ScreeningStatus::Clear, 0.0, "the name has no letters to screen".into(), json!([]), json!([]))
            }
            Err(e) => record(ScreeningStatus::Review, 0.0, format!("could not be screened: {e}"), json!([]), json!([])),
        }
    }
}

/// The refusal of a name that cannot be screened.
pub(crate) fn name_error(e: &NameError, param: &str) -> ApiError {
    let code = match e {
        NameError::Empty => "name_empty",
        NameError::TooLong => "name_too_long",
        NameError::UnsupportedScript(..) => "unsupported_script",
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()).param(param)
}

/// Parses a list's files into entries; a file that is malformed or truncated is refused with
/// its line and nothing is written.
pub fn parse_files(source: Source, files: &[(String, Vec<u8>)]) -> Result<ParsedList, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_list", m).param("files");
    let parsed = match source {
        Source::Ofac => {
            let mut f = ofac::Files::default();
            let mut sdn = None;
            for (name, bytes) in files {
                match ofac::file_role(name) {
                    Some("sdn") => sdn = Some(bytes.as_slice()),
                    Some("alt") => f.alt = Some(bytes),
                    Some("add") => f.add = Some(bytes),
                    Some("comments") => f.comments = Some(bytes),
                    _ => {
                        return Err(bad(format!(
                            "`{name}` is not an OFAC file (sdn.csv, alt.csv, add.csv, sdn_comments.csv)"
                        )))
                    }
                }
            }
            f.sdn = sdn.ok_or_else(|| bad("an OFAC import needs sdn.csv".into()))?;
            ofac::parse(&f)
        }
        Source::Un => match files {
            [(name, bytes)] => un::parse(bytes).map_err(|e| rialto_compliance::ParseError { file: name.clone(), ..e }),
            _ => return Err(bad("a UN import is one XML file".into())),
        },
    };
    let parsed = parsed.map_err(|e| bad(e.to_string()))?;
    if parsed.entries.is_empty() {
        return Err(bad("the list has no entries".into()));
    }
    Ok(parsed)
}

/// The import command of parsed files.
pub fn import_command(list: ParsedList, files: &[(String, Vec<u8>)], origin: &str, allow_shrink: bool) -> Command {
    let mut h = Sha256::new();
    for (name, bytes) in files {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(bytes);
    }
    Command::Compliance(ComplianceCommand::Import(Box::new(ListImport {
        id: new_id::<ids::SanctionsListId>(),
        source: list.source,
        entries: list.entries,
        digest: hex::encode(h.finalize()),
        origin: origin.to_string(),
        allow_shrink,
    })))
}

// ---- request types ----

names!(
    /// What a screened party is.
    PartyType: "individual", "entity", "vessel", "aircraft"
);
names!(
    /// A list publisher.
    SourceName: "ofac", "un"
);

/// A party to screen against the lists in force.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Usama bin Laden", "type": "individual", "date_of_birth": "1957", "country": "SA", "min_score": 0.8, "limit": 5}))]
#[allow(dead_code)]
pub struct ScreenRequest {
    /// Any script Rialto transliterates (Latin, Cyrillic, Greek, Arabic).
    #[schema(max_length = 300)]
    name: String,
    #[serde(rename = "type")]
    kind: Option<PartyType>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[schema(pattern = r"^\d{4}(-\d{2}(-\d{2})?)?$")]
    date_of_birth: Option<String>,
    /// ISO 3166 alpha-2 code or English name.
    #[schema(max_length = 100)]
    country: Option<String>,
    /// Passport, national id or registration numbers.
    #[schema(max_items = 10)]
    identifiers: Option<Vec<String>>,
    /// Default: the review threshold.
    #[schema(minimum = 0, maximum = 1)]
    min_score: Option<f64>,
    #[schema(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}

/// Two names to compare.
#[derive(ToSchema)]
#[schema(example = json!({"name1": "Mohammed Omar", "name2": "OMAR, Muhammad"}))]
#[allow(dead_code)]
pub struct CompareRequest {
    #[schema(max_length = 300)]
    name1: String,
    #[schema(max_length = 300)]
    name2: String,
}

/// A list upload: the publisher's files by name, as text.
#[derive(ToSchema)]
#[schema(example = json!({"files": {"consolidated.xml": "<?xml version=\"1.0\"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>TEST</FIRST_NAME><SECOND_NAME>PERSON</SECOND_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"}, "allow_shrink": true}))]
#[allow(dead_code)]
pub struct ListUpload {
    /// OFAC: `sdn.csv` and any of `alt.csv`, `add.csv`, `sdn_comments.csv`; UN: one XML file.
    files: std::collections::BTreeMap<String, String>,
    /// Accept a list less than half the size of the one in force.
    allow_shrink: Option<bool>,
}

/// A reviewer's false-positive decision on one list entry matching a user.
#[derive(ToSchema)]
#[schema(example = json!({"source": "ofac", "entry_id": "6365", "reason": "different date of birth and nationality; passport checked"}))]
#[allow(dead_code)]
pub struct ClearanceCreate {
    source: SourceName,
    #[schema(max_length = 64)]
    entry_id: String,
    #[schema(max_length = 1000, min_length = 1)]
    reason: String,
}

names!(
    /// What the thresholds make of a score.
    DecisionName: "clear", "review", "hit"
);
names!(
    /// A user's screening status (`unscreened` before the first).
    ScreeningStatusName: "clear", "review", "hit", "unscreened"
);
names!(
    /// How two tokens met.
    HowName: "exact", "fuzzy", "phonetic", "initial", "joined"
);
names!(
    /// A piece of secondary evidence.
    EvidenceField: "type", "date_of_birth", "country", "identifier"
);

// The answers are built from the compliance crate's types (serde); these describe them.

/// A list version a screening used.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ListInUse {
    source: SourceName,
    version: i64,
}

/// Two tokens that met.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenPair {
    /// The token of the first (screened) name.
    left: String,
    /// The token of the second (listed) name.
    right: String,
    /// 0..1.
    similarity: f64,
    /// The pair's weight in the score (the tokens' lengths, 1 to 8 each).
    weight: f64,
    how: HowName,
}

/// A name comparison, explained.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NameComparison {
    /// 0..1.
    score: f64,
    /// The pairs that met, best first.
    tokens: Vec<TokenPair>,
    unmatched_left: Vec<String>,
    unmatched_right: Vec<String>,
}

/// What a piece of secondary evidence did.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvidenceItem {
    field: EvidenceField,
    detail: String,
    /// Added to the score.
    effect: f64,
}

/// Why a match scored as it did.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MatchExplanation {
    name: NameComparison,
    /// The listed name is a weak alias (score × 0.9).
    weak_alias: bool,
    evidence: Vec<EvidenceItem>,
}

/// A list entry that matched.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SanctionsMatch {
    source: SourceName,
    entry_id: String,
    /// A clearance holds while the entry has this digest.
    entry_digest: String,
    kind: PartyType,
    primary_name: String,
    matched_name: String,
    programs: Vec<String>,
    /// 0..1, evidence included.
    score: f64,
    explanation: MatchExplanation,
}

/// The thresholds in force.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ScreeningThresholds {
    review: f64,
    block: f64,
}

/// A screening answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ScreeningAnswer {
    /// What the best match means under the thresholds.
    decision: DecisionName,
    /// Best first.
    matches: Vec<SanctionsMatch>,
    /// The list versions used.
    lists: Vec<ListInUse>,
    thresholds: ScreeningThresholds,
}

/// A comparison of two names.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ComparisonAnswer {
    /// 0..1.
    score: f64,
    /// The two names as compared.
    normalized: Vec<String>,
    explanation: NameComparison,
}

/// A list version: what an import changed.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ListVersionAnswer {
    /// `slv_…`.
    id: String,
    source: SourceName,
    version: i64,
    entries: i64,
    added: i64,
    changed: i64,
    removed: i64,
    /// SHA-256 of the files.
    digest: String,
    /// `api`, `cli` or `refresh <url>`.
    origin: String,
    imported_at: crate::present::Timestamp,
    /// On an import: false when the list was the one in force (no new version).
    created: Option<bool>,
}

/// A list's version in force.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ListInForce {
    source: SourceName,
    version: i64,
    entries: i64,
    imported_at: crate::present::Timestamp,
}

/// What this process has indexed.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ScreenerView {
    entries: i64,
    names: i64,
    versions: Vec<ListInUse>,
}

/// The sanctions lists.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SanctionsLists {
    in_force: Vec<ListInForce>,
    /// Every import that changed a list, newest first.
    versions: Vec<ListVersionAnswer>,
    screener: ScreenerView,
}

/// A reviewer's clearance.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClearanceView {
    /// `scl_…`.
    id: String,
    source: SourceName,
    entry_id: String,
    entry_digest: String,
    /// The match's score when cleared.
    score: f64,
    reason: String,
    created_by: String,
    created_at: crate::present::Timestamp,
}

/// A user's last screening.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UserScreening {
    user_id: String,
    status: ScreeningStatusName,
    /// The best score that counts.
    score: f64,
    reason: String,
    /// The matches at or above the review threshold no clearance covers.
    matches: Vec<SanctionsMatch>,
    /// The matches clearances cover.
    cleared: Vec<SanctionsMatch>,
    versions: Vec<ListInUse>,
    screened_at: Option<crate::present::Timestamp>,
    /// On `GET`: the clearances given.
    clearances: Option<Vec<ClearanceView>>,
}

/// A clearance and the user's screening after it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClearanceAnswer {
    id: String,
    user_id: String,
    source: SourceName,
    entry_id: String,
    entry_digest: String,
    score: f64,
    reason: String,
    created_by: String,
    created_at: crate::present::Timestamp,
    screening: UserScreening,
}

// ---- handlers ----

fn party_query(f: &mut Fields, name_field: &str) -> Result<Query, ApiError> {
    let name = f.string(name_field, rialto_compliance::normalize::NAME_MAX)?;
    normalize(&name).map_err(|e| name_error(&e, name_field))?;
    let kind =
        match f.opt_string("type", 20)? {
            None => None,
            Some(t) => Some(EntityKind::parse(&t).ok_or_else(|| {
                ApiError::invalid("type must be individual, entity, vessel or aircraft").param("type")
            })?),
        };
    let birth_date = match f.opt_string("date_of_birth", 10)? {
        None => None,
        Some(d) => Some(BirthDate::parse_iso(&d).ok_or_else(|| {
            ApiError::invalid("date_of_birth must be YYYY, YYYY-MM or YYYY-MM-DD").param("date_of_birth")
        })?),
    };
    let country = f.opt_string("country", 100)?;
    Ok(Query { name, kind, birth_date, country, identifiers: Vec::new() })
}

/// `POST /v1/sanctions/screen`
pub async fn screen(State(s): State<AppState>, body: Body) -> Response {
    respond(
        async {
            let bytes = crate::http::body_bytes(body)?;
            let mut f = Fields::of::<ScreenRequest>(&bytes)?;
            let mut q = party_query(&mut f, "name")?;
            if let Some(v) = f.opt_value("identifiers") {
                let bad = || {
                    ApiError::invalid(format!(
                        "identifiers must be at most {IDENTIFIERS_MAX} strings of at most 64 characters"
                    ))
                    .param("identifiers")
                };
                let list = v.as_array().ok_or_else(bad)?;
                if list.len() > IDENTIFIERS_MAX {
                    return Err(bad());
                }
                for i in list {
                    q.identifiers.push(i.as_str().filter(|t| t.chars().count() <= 64).ok_or_else(bad)?.to_string());
                }
            }
            let lists = &s.sanctions;
            let min_score = match f.opt_value("min_score") {
                None => lists.thresholds.review,
                Some(v) => v
                    .as_f64()
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| ApiError::invalid("min_score must be a number from 0 to 1").param("min_score"))?,
            };
            let limit = f.opt_int("limit", 1, 50)?.unwrap_or(LIMIT_DEFAULT);
            let screener = lists.screener();
            let matches = screener
                .screen(&q, min_score, usize::try_from(limit).unwrap_or(10))
                .map_err(|e| name_error(&e, "name"))?;
            let decision = verdict(matches.clone(), lists.thresholds, &[]).status;
            Ok(json!({
                "decision": decision.as_str(),
                "matches": matches,
                "lists": screener.versions(),
                "thresholds": {"review": lists.thresholds.review, "block": lists.thresholds.block},
            }))
        }
        .await,
    )
}

/// `POST /v1/sanctions/compare`
pub async fn compare_names(body: Body) -> Response {
    respond(
        async {
            let bytes = crate::http::body_bytes(body)?;
            let mut f = Fields::of::<CompareRequest>(&bytes)?;
            let max = rialto_compliance::normalize::NAME_MAX;
            let (a, b) = (f.string("name1", max)?, f.string("name2", max)?);
            let na = normalize(&a).map_err(|e| name_error(&e, "name1"))?;
            let nb = normalize(&b).map_err(|e| name_error(&e, "name2"))?;
            let s = compare(&Prepared::new(&na), &Prepared::new(&nb));
            Ok(json!({"score": (s.score * 10_000.0).round() / 10_000.0, "normalized": [na.text(), nb.text()], "explanation": s}))
        }
        .await,
    )
}

/// `GET /v1/sanctions/lists`
pub async fn lists(State(s): State<AppState>) -> Response {
    respond(
        async {
            let versions = s.db.list_versions().await?;
            let screener = s.sanctions.screener();
            let in_force: Vec<Value> = s
                .db
                .lists_in_force()
                .await?
                .into_iter()
                .filter_map(|(source, version)| {
                    let v = versions.iter().find(|v| v.source == source && v.version == version)?;
                    Some(json!({"source": source.as_str(), "version": version, "entries": v.entries, "imported_at": crate::present::time_text(v.imported_at_us)}))
                })
                .collect();
            let (entries, names) = screener.size();
            Ok(json!({
                "in_force": in_force,
                "versions": versions.iter().map(crate::present::list_version).collect::<Vec<_>>(),
                "screener": {"entries": entries, "names": names, "versions": screener.versions()},
            }))
        }
        .await,
    )
}

/// `POST /v1/sanctions/lists/{source}`
pub async fn upload(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PathId(source): PathId,
    body: Body,
) -> Response {
    let path = format!("/v1/sanctions/lists/{source}");
    let response = write(&s, &ctx, &headers, &path, body, StatusCode::OK, |b| {
        let source = Source::parse(&source).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no list source `{source}` (ofac or un)"))
        })?;
        let mut f = Fields::of::<ListUpload>(b)?;
        let files =
            f.opt_object("files")?.ok_or_else(|| ApiError::invalid("missing required field `files`").param("files"))?;
        let allow_shrink = f.opt_bool("allow_shrink")?.unwrap_or(false);
        let mut named = Vec::new();
        for (name, text) in files {
            let text = text.as_str().ok_or_else(|| ApiError::invalid("each file must be a string").param("files"))?;
            named.push((name, text.as_bytes().to_vec()));
        }
        let parsed = parse_files(source, &named)?;
        Ok(import_command(parsed, &named, "api", allow_shrink))
    })
    .await;
    if response.status().is_success() {
        if let Err(e) = s.sanctions.refresh(&s.db).await {
            tracing::warn!(error = %e, "the lists could not be reloaded after an import");
        }
    }
    response
}

/// `GET /v1/users/{id}/screening`
pub async fn user_screening(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::UserId>(&id)?;
            s.db.user(&id).await?.ok_or_else(|| ApiError::not_found("user", &id))?;
            let mut v = crate::present::screening(s.db.screening(&id).await?.as_ref(), &id);
            let clearances: Vec<Value> = s
                .db
                .clearances(&id)
                .await?
                .iter()
                .map(|c| json!({"id": c.id, "source": c.source, "entry_id": c.entry_id, "entry_digest": c.entry_digest, "score": c.score_bp as f64 / 10_000.0, "reason": c.reason, "created_by": c.created_by, "created_at": crate::present::time_text(c.created_at_us)}))
                .collect();
            v["clearances"] = json!(clearances);
            Ok(v)
        }
        .await,
    )
}

/// The clearances a user has, as the matcher reads them.
pub async fn clearances_of(db: &Db, user_id: &str) -> Result<Vec<Clearance>, StoreError> {
    Ok(db
        .clearances(user_id)
        .await?
        .into_iter()
        .map(|c| Clearance { source: c.source, entry_id: c.entry_id, entry_digest: c.entry_digest })
        .collect())
}

/// `POST /v1/users/{id}/screening/clearances`
pub async fn clear(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PathId(id): PathId,
    body: Body,
) -> Response {
    let path = format!("/v1/users/{id}/screening/clearances");
    // The user and its clearances are read first; the body is still checked before a
    // missing user is reported.
    let (user, existing) = match id_of::<ids::UserId>(&id) {
        Ok(uid) => match (s.db.user(&uid).await, clearances_of(&s.db, &uid).await) {
            (Ok(u), Ok(c)) => (u, c),
            (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
        },
        Err(_) => (None, Vec::new()),
    };
    let actor = ctx.caller.key_id.clone();
    write(&s, &ctx, &headers, &path, body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<ClearanceCreate>(b)?;
        let source = f.string("source", 10)?;
        let source =
            Source::parse(&source).ok_or_else(|| ApiError::invalid("source must be ofac or un").param("source"))?;
        let entry_id = f.string("entry_id", 64)?;
        let reason = f.string("reason", 1000)?;
        if reason.trim().is_empty() {
            return Err(ApiError::invalid("reason must not be empty").param("reason"));
        }
        id_of::<ids::UserId>(&id)?;
        let user = user.ok_or_else(|| ApiError::not_found("user", &id))?;
        let q = Query { name: user.name.clone(), ..Query::default() };
        let (clearance, score_bp) = current_match(&s.sanctions, &user.id, &q, &existing, source, &entry_id)?;
        let mut all = existing.clone();
        all.push(clearance.clone());
        let after = s.sanctions.screen(&user.id, &q, &all);
        Ok(Command::Compliance(ComplianceCommand::Clear {
            clearance: Box::new(rialto_store::ClearanceRecord {
                id: new_id::<ids::SanctionsClearanceId>(),
                user_id: user.id.clone(),
                source: clearance.source,
                entry_id,
                entry_digest: clearance.entry_digest,
                score_bp,
                reason,
                created_by: actor,
                created_at_us: 0,
            }),
            screening: Box::new(after),
        }))
    })
    .await
}

/// The clearance of `source` `entry_id` as it matches the user now (409 when it does not),
/// and its score in ten-thousandths.
fn current_match(
    lists: &Lists,
    user_id: &str,
    q: &Query,
    existing: &[Clearance],
    source: Source,
    entry_id: &str,
) -> Result<(Clearance, i64), ApiError> {
    let now = lists.screen(user_id, q, existing);
    let matches: Vec<Value> = serde_json::from_str(&now.matches).unwrap_or_default();
    let m = matches.iter().find(|m| m["source"] == source.as_str() && m["entry_id"] == entry_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_such_match",
            format!("{source} entry `{entry_id}` does not match this user now"),
        )
        .param("entry_id")
    })?;
    let clearance = Clearance {
        source: source.as_str().to_string(),
        entry_id: entry_id.to_string(),
        entry_digest: m["entry_digest"].as_str().unwrap_or_default().to_string(),
    };
    Ok((clearance, (m["score"].as_f64().unwrap_or(0.0) * 10_000.0).round() as i64))
}

/// Re-screens users whose screening used other list versions than the ones in force (or who
/// were never screened), at most `limit` per run; returns how many.
pub async fn rescreen(state: &AppState, limit: i64) -> Result<i64, String> {
    let lists = &state.sanctions;
    lists.refresh(&state.db).await.map_err(|e| e.to_string())?;
    let versions = json!(lists.screener().versions()).to_string();
    let users = state.db.users_to_rescreen(&versions, limit).await.map_err(|e| e.to_string())?;
    // Screened here, written through the writer concurrently so they share batches.
    let mut tasks = tokio::task::JoinSet::new();
    for (id, name) in users {
        let q = Query { name, ..Query::default() };
        let mut record = lists.screen(&id, &q, &[]);
        if record.status != ScreeningStatus::Clear || record.matches != "[]" {
            let clearances = clearances_of(&state.db, &id).await.map_err(|e| e.to_string())?;
            record = lists.screen(&id, &q, &clearances);
        }
        let writer = state.writer.clone();
        tasks.spawn(async move {
            let audit = Some(rialto_store::AuditContext {
                actor: "system:sanctions_rescreen".into(),
                request_id: None,
                ip: None,
            });
            (id, writer.submit(Command::Compliance(ComplianceCommand::Screen(Box::new(record))), None, audit).await)
        });
    }
    let mut done = 0;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((_, rialto_store::Reply::Done { outcome: Ok(_), .. })) => done += 1,
            Ok((id, rialto_store::Reply::Done { outcome: Err(e), .. })) => {
                tracing::warn!(user = %id, error = %e, "re-screening refused");
            }
            _ => return Err("the writer did not answer".into()),
        }
    }
    Ok(done)
}

/// The files of a list at its configured URL: OFAC's four files under a base URL, or the UN
/// XML itself.
fn file_urls(source: Source, url: &str) -> Vec<(String, String)> {
    match source {
        Source::Ofac => ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"]
            .iter()
            .map(|f| ((*f).to_string(), format!("{}/{f}", url.trim_end_matches('/'))))
            .collect(),
        Source::Un => vec![("consolidated.xml".into(), url.to_string())],
    }
}

/// Fetches every configured list and imports it (a new version only when it changed); a
/// download or file that fails leaves that list's version in force. Returns the lists that
/// changed.
pub async fn fetch_all(state: &AppState) -> Result<i64, String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let mut changed = 0;
    let mut problems = Vec::new();
    for (source, url) in &state.config.sanctions_sources {
        match fetch_one(state, &client, *source, url).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%source, %url, error = %e, "sanctions list refresh failed; the version in force stays");
                problems.push(format!("{source}: {e}"));
            }
        }
    }
    state.sanctions.refresh(&state.db).await.map_err(|e| e.to_string())?;
    if problems.is_empty() {
        Ok(changed)
    } else {
        Err(problems.join("; "))
    }
}

async fn fetch_one(state: &AppState, client: &reqwest::Client, source: Source, url: &str) -> Result<bool, String> {
    let mut files = Vec::new();
    for (name, u) in file_urls(source, url) {
        let response = client.get(&u).send().await.map_err(|e| format!("{u}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{u}: HTTP {}", response.status()));
        }
        let bytes = response.bytes().await.map_err(|e| format!("{u}: {e}"))?;
        if bytes.len() > UPLOAD_MAX {
            return Err(format!("{u}: more than {UPLOAD_MAX} bytes"));
        }
        files.push((name, bytes.to_vec()));
    }
    let parsed = parse_files(source, &files).map_err(|e| e.body()["error"]["message"].to_string())?;
    let command = import_command(parsed, &files, &format!("refresh {url}"), false);
    let audit =
        Some(rialto_store::AuditContext { actor: "system:sanctions_refresh".into(), request_id: None, ip: None });
    match state.writer.submit(command, None, audit).await {
        rialto_store::Reply::Done { outcome: Ok(rialto_store::Output::ListImport(o)), .. } => Ok(o.created),
        rialto_store::Reply::Done { outcome: Err(e), .. } => Err(e.to_string()),
        _ => Err("the writer did not answer".into()),
    }
}

/// Every process reloads the lists when another one imported a new version.
pub async fn watch(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(state.config.sanctions_rescreen_interval) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = state.sanctions.refresh(&state.db).await {
            tracing::warn!(error = %e, "could not check the sanctions lists in force");
        }
    }
}

/// The sanctions operations.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<ScreeningAnswer>(Verb::Post, "/v1/sanctions/screen", Read, "Screen a name (with type, date of birth, country, identifiers) against the lists in force: ranked, explained matches", handler!(screen)).body::<ScreenRequest>().status(200).without_idempotency(),
    Operation::new::<ComparisonAnswer>(Verb::Post, "/v1/sanctions/compare", Read, "Compare two names: the score and its token-by-token explanation", handler!(compare_names)).body::<CompareRequest>().status(200).without_idempotency(),
    Operation::new::<SanctionsLists>(Verb::Get, "/v1/sanctions/lists", Read, "The sanctions lists: versions in force, every import, what this process has indexed", handler!(lists)),
    Operation::new::<ListVersionAnswer>(Verb::Post, "/v1/sanctions/lists/{source}", Administer, "Import a list (ofac: the legacy CSV files; un: the consolidated XML): a new version when anything changed; a malformed or truncated file is refused and the version in force stays", handler!(upload)).body::<ListUpload>().status(200).body_limit(UPLOAD_MAX),
    Operation::new::<UserScreening>(Verb::Get, "/v1/users/{id}/screening", Read, "A user's last sanctions screening and the clearances given", handler!(user_screening)),
    Operation::new::<ClearanceAnswer>(Verb::Post, "/v1/users/{id}/screening/clearances", Review, "Clear a list entry matching a user as a false positive (until the entry changes); the user is re-screened with it", handler!(clear)).body::<ClearanceCreate>().status(201),
];
