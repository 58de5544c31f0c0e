//! The session report (issue 23): the scorecard the host fills in, sharing the report with the
//! candidate, the report itself and the replay of an interview room's history (docs/PROTOCOL.md §8).
//!
//! Routes: `GET /api/rooms/{room}/report`, `GET /api/rooms/{room}/history?at=`,
//! `GET|PUT /api/rooms/{room}/scorecard`, `POST /api/rooms/{room}/report/share`. The host's token
//! reads everything always; edit and view tokens only once the host shared the report (403 before).
//!
//! The report is computed when asked, from what is stored: the room's document (`doc_updates`), its
//! update history (`doc_history`, interview rooms), tier transitions, host actions, the interview
//! state and the scorecard. Replay applies the history rows in time order to a fresh document; the
//! costs are in docs/STORAGE.md ("History") and BENCHMARKS.md.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, ReadTxn, Transact, Update};

use crate::auth::RoomAccess;
use crate::clock::now_ms;
use crate::design::Design;
use crate::error::ErrorBody;
use crate::http::{ApiJson, RoomErrors, RoomTokenQuery};
use crate::ids::{Mode, RoomId};
use crate::problems::Problem;
use crate::room::{HostAction, Interview};
use crate::sections::{ApiOverride, SectionChecks, Sections, Status, apply_overrides};
use crate::simulation::{Scenario, SimulationResult};
use crate::state::AppState;
use crate::store::history::{HistoryRow, ReportRecord};
use crate::validation::ValidationResult;
use crate::{Error, Result};

/// The scorecard's dimensions: seed 001's evaluation criteria, then the interview's own.
/// `(id, title, what it judges)`.
pub const DIMENSIONS: &[(&str, &str, &str)] = &[
    (
        "code_quality",
        "Code quality",
        "seed 001: clean, readable code; proper error handling; good documentation; consistent style",
    ),
    (
        "architecture",
        "Architecture",
        "seed 001: scalable design; proper separation of concerns; efficient data flow; security considerations",
    ),
    (
        "performance",
        "Performance",
        "seed 001: meets performance requirements; efficient resource usage; proper caching; optimization techniques",
    ),
    (
        "documentation",
        "Documentation",
        "seed 001: clear architecture diagrams; detailed API documentation; setup instructions; deployment guide",
    ),
    (
        "requirements",
        "Requirements",
        "functional and non-functional requirements asked for, stated and prioritised",
    ),
    (
        "estimation",
        "Estimation",
        "back-of-envelope figures with units and the arithmetic, used to size the design",
    ),
    (
        "high_level_design",
        "High-level design",
        "components and data flow that meet the requirements",
    ),
    (
        "deep_dive",
        "Deep dive",
        "one part examined in depth: bottlenecks, failures, scaling, data model",
    ),
    (
        "trade_offs",
        "Trade-offs",
        "alternatives weighed, the choice justified",
    ),
    (
        "communication",
        "Communication",
        "clear, structured, collaborative; takes hints and feedback",
    ),
];

/// Every dimension is scored 1 to 4 (or left unscored).
pub const SCALE_MIN: u8 = 1;
pub const SCALE_MAX: u8 = 4;
pub const SCALE_LABELS: [&str; 4] = ["poor", "fair", "good", "excellent"];
/// Longest comment per dimension and longest summary (bytes).
pub const MAX_COMMENT: usize = 4096;
pub const MAX_SUMMARY: usize = 16 * 1024;
/// At most this many capacity samples in a report (one a minute of session, plus tier events).
pub const MAX_SAMPLES: usize = 240;

/// One dimension's score as the host gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Score {
    /// 1 (poor) to 4 (excellent); `null`: not scored.
    #[serde(default)]
    pub score: Option<u8>,
    #[serde(default)]
    pub comment: String,
}

/// `PUT /api/rooms/{room}/scorecard` body, and what is stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorecardInput {
    /// Dimension id → score (ids: `GET .../scorecard` `dimensions[].id`).
    #[serde(default)]
    pub scores: BTreeMap<String, Score>,
    /// Overall written feedback.
    #[serde(default)]
    pub summary: String,
    /// `strong_no_hire`, `no_hire`, `hire`, `strong_hire` or null.
    #[serde(default)]
    pub recommendation: Option<String>,
    /// No longer taken (400 when not empty): the host's API verdicts are the `api_override` host
    /// action (docs/PROTOCOL.md §7), live in the room. Kept so that scorecards stored before still
    /// read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(ignore)]
    pub api_overrides: BTreeMap<String, bool>,
}

const RECOMMENDATIONS: [&str; 4] = ["strong_no_hire", "no_hire", "hire", "strong_hire"];

impl ScorecardInput {
    fn check(&self) -> Result<()> {
        for (id, score) in &self.scores {
            if !DIMENSIONS.iter().any(|(d, _, _)| d == id) {
                return Err(Error::BadJson(format!(
                    "unknown scorecard dimension '{id}'"
                )));
            }
            if let Some(s) = score.score
                && !(SCALE_MIN..=SCALE_MAX).contains(&s)
            {
                return Err(Error::BadJson(format!(
                    "score {s} of '{id}' is outside {SCALE_MIN}..={SCALE_MAX}"
                )));
            }
            if score.comment.len() > MAX_COMMENT {
                return Err(Error::TooLarge(format!(
                    "the comment of '{id}' is longer than {MAX_COMMENT} bytes"
                )));
            }
        }
        if self.summary.len() > MAX_SUMMARY {
            return Err(Error::TooLarge(format!(
                "the summary is longer than {MAX_SUMMARY} bytes"
            )));
        }
        if !self.api_overrides.is_empty() {
            return Err(Error::BadJson(
                "api_overrides moved to the host action {\"action\": \"api_override\", \"requirement\", \"covered\"} (POST /api/rooms/{room}/host)".into(),
            ));
        }
        if let Some(r) = &self.recommendation
            && !RECOMMENDATIONS.contains(&r.as_str())
        {
            return Err(Error::BadJson(format!(
                "recommendation must be one of {RECOMMENDATIONS:?}"
            )));
        }
        Ok(())
    }
}

/// `POST /api/rooms/{room}/report/share` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareInput {
    /// Whether the room's edit and view links may read the report and the scorecard.
    pub shared: bool,
    /// Whether the report carries the host's private notes (default false).
    #[serde(default)]
    pub include_notes: bool,
}

/// `?at=` of the history route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// A host, edit or view token of the room (or send `Authorization: Bearer <token>`).
    #[allow(dead_code)]
    token: Option<String>,
    /// Epoch milliseconds: the moment to rebuild (default: now).
    at: Option<i64>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/rooms/{room}/report", get(report))
        .route("/api/rooms/{room}/report/share", post(share))
        .route("/api/rooms/{room}/history", get(history))
        .route(
            "/api/rooms/{room}/scorecard",
            get(scorecard).put(put_scorecard),
        )
}

/// 403 for edit and view tokens until the host shares the report.
async fn may_read(state: &AppState, access: &RoomAccess) -> Result<ReportRecord> {
    let record = state.store.report_record(&access.room).await?;
    if !access.role.is_host() && !record.shared {
        tracing::info!(room = %access.room, role = access.role.as_str(), "report refused: not shared");
        return Err(Error::Forbidden(
            "the host has not shared this room's report".into(),
        ));
    }
    Ok(record)
}

fn problem_of(state: &AppState, problem: &str) -> Result<Arc<Problem>> {
    state
        .bank
        .get(problem)
        .ok_or_else(|| Error::NotFound(format!("problem {problem} in the bank")))
}

/// A document rebuilt from stored rows (in the given order; updates whose parts are missing wait
/// in the document, as in a room).
fn doc_of<'a>(rows: impl IntoIterator<Item = &'a [u8]>) -> Doc {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for data in rows {
            match Update::decode_v1(data) {
                Ok(update) => {
                    if let Err(e) = txn.apply_update(update) {
                        tracing::warn!(error = %e, "a stored row does not apply; skipped");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "a stored row does not decode; skipped"),
            }
        }
    }
    doc
}

/// What a document holds, judged: design, sections, validation, simulation at peak, section checks.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub design: Design,
    pub sections: Sections,
    pub validation: ValidationResult,
    pub simulation: SimulationResult,
    pub section_checks: SectionChecks,
}

pub fn judge(problem: &Problem, catalog: &crate::problems::Catalog, doc: &Doc) -> Judged {
    let txn = doc.transact();
    let design = Design::from_txn(&txn);
    let sections = Sections::from_txn(&txn);
    drop(txn);
    Judged {
        validation: crate::validation::validate(problem, catalog, &design),
        simulation: crate::simulation::simulate(problem, catalog, &design, &Scenario::peak()),
        section_checks: crate::sections::check(problem, &sections),
        design,
        sections,
    }
}

/// The document the history rows make (read up to the moment to show), judged: what
/// `GET .../history?at=` answers.
pub fn replay_at(
    problem: &Problem,
    catalog: &crate::problems::Catalog,
    rows: &[HistoryRow],
) -> Judged {
    let doc = doc_of(rows.iter().map(|r| r.data.as_slice()));
    judge(problem, catalog, &doc)
}

/// The room's current stored document, judged.
async fn judged_now(state: &AppState, room: &RoomId, problem: &Problem) -> Result<Judged> {
    let rows = state.store.load_doc(room).await?;
    let problem = problem.clone();
    let bank = state.bank.clone();
    tokio::task::spawn_blocking(move || {
        let doc = doc_of(rows.iter().map(Vec::as_slice));
        judge(&problem, bank.catalog(), &doc)
    })
    .await
    .map_err(|e| Error::Internal(format!("report task failed: {e}")))
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Info => "info",
    }
}

/// The evidence shown beside each dimension: what the tiers, the simulation and the sections say.
fn evidence(id: &str, judged: &Judged) -> Vec<String> {
    let section = |check: &str| {
        judged
            .section_checks
            .checks
            .iter()
            .find(|c| c.id == check)
            .map(|c| format!("{}: {} ({})", c.title, status_word(c.status), c.explanation))
    };
    let sim = |check: &str| {
        judged
            .simulation
            .checks
            .iter()
            .find(|c| c.id == check)
            .map(|c| {
                format!(
                    "{}: {} ({})",
                    c.title,
                    serde_json::to_value(c.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    c.explanation
                )
            })
    };
    let tiers = format!(
        "tiers reached: {} of {}",
        judged.validation.reached,
        judged.validation.tiers.len()
    );
    let out: Vec<Option<String>> = match id {
        "architecture" | "high_level_design" => {
            vec![Some(tiers), sim("no_single_point_of_failure")]
        }
        "performance" => vec![sim("sustains_peak"), sim("latency_target")],
        "documentation" => vec![section("api_coverage"), section("data_model_keys")],
        "requirements" => vec![section("non_functional"), section("api_coverage")],
        "estimation" => vec![section("estimates")],
        "deep_dive" => vec![
            sim("sustains_peak"),
            sim("no_single_point_of_failure"),
            section("data_model_keys"),
        ],
        "trade_offs" => vec![sim("monthly_cost")],
        _ => vec![],
    };
    out.into_iter().flatten().collect()
}

/// The scorecard as routes answer it: every dimension with its score, comment and evidence.
fn scorecard_view(
    input: &ScorecardInput,
    judged: &Judged,
    overrides: &BTreeMap<String, ApiOverride>,
) -> Value {
    let dimensions: Vec<Value> = DIMENSIONS
        .iter()
        .map(|(id, title, criteria)| {
            let score = input.scores.get(*id).cloned().unwrap_or_default();
            json!({
                "id": id, "title": title, "criteria": criteria,
                "score": score.score, "comment": score.comment,
                "evidence": evidence(id, judged),
            })
        })
        .collect();
    json!({
        "scale": {"min": SCALE_MIN, "max": SCALE_MAX, "labels": SCALE_LABELS},
        "dimensions": dimensions,
        "summary": input.summary,
        "recommendation": input.recommendation,
        "api_overrides": overrides,
    })
}

/// The host's API verdicts, from the stored interview state (none before a host acted).
async fn api_overrides(state: &AppState, room: &RoomId) -> Result<BTreeMap<String, ApiOverride>> {
    Ok(state
        .store
        .load_interview(room)
        .await?
        .and_then(|s| Interview::from_stored(&s).ok())
        .map(|iv| iv.api_overrides)
        .unwrap_or_default())
}

fn stored_scorecard(record: &ReportRecord) -> ScorecardInput {
    record
        .scorecard
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

async fn room_record(state: &AppState, room: &RoomId) -> Result<crate::store::RoomRecord> {
    state
        .store
        .room(room)
        .await?
        .ok_or_else(|| Error::UnknownRoom(room.to_string()))
}

#[utoipa::path(get, path = "/api/rooms/{room}/scorecard", tag = "report",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The scorecard: scale, every dimension with score, comment and evidence, summary, recommendation", body = Object),
        RoomErrors,
        (status = 403, description = "An edit or view token before the host shared the report", body = ErrorBody),
    ))]
pub async fn scorecard(State(state): State<AppState>, access: RoomAccess) -> Result<Json<Value>> {
    let record = may_read(&state, &access).await?;
    let room = room_record(&state, &access.room).await?;
    let problem = problem_of(&state, &room.problem)?;
    let input = stored_scorecard(&record);
    let overrides = api_overrides(&state, &access.room).await?;
    let mut judged = judged_now(&state, &access.room, &problem).await?;
    apply_overrides(&mut judged.section_checks, &overrides);
    Ok(Json(scorecard_view(&input, &judged, &overrides)))
}

#[utoipa::path(put, path = "/api/rooms/{room}/scorecard", tag = "report",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    request_body = ScorecardInput,
    responses(
        (status = 200, description = "The stored scorecard, as `GET` answers it", body = Object),
        RoomErrors,
        (status = 400, description = "An unknown dimension, a score outside 1..=4, an unknown recommendation", body = ErrorBody),
        (status = 403, description = "Not the host's token", body = ErrorBody),
        (status = 413, description = "A comment or summary too long", body = ErrorBody),
    ))]
pub async fn put_scorecard(
    State(state): State<AppState>,
    access: RoomAccess,
    ApiJson(input): ApiJson<ScorecardInput>,
) -> Result<Json<Value>> {
    if !access.role.is_host() {
        tracing::info!(room = %access.room, role = access.role.as_str(), "scorecard refused: not the host");
        return Err(Error::Forbidden(
            "only the host fills in the scorecard".into(),
        ));
    }
    input.check()?;
    let room = room_record(&state, &access.room).await?;
    let problem = problem_of(&state, &room.problem)?;
    let text = serde_json::to_string(&input).map_err(|e| Error::Internal(e.to_string()))?;
    state
        .store
        .save_scorecard(&access.room, &text, now_ms())
        .await?;
    tracing::info!(room = %access.room, scored = input.scores.len(), "scorecard saved");
    let overrides = api_overrides(&state, &access.room).await?;
    let mut judged = judged_now(&state, &access.room, &problem).await?;
    apply_overrides(&mut judged.section_checks, &overrides);
    Ok(Json(scorecard_view(&input, &judged, &overrides)))
}

#[utoipa::path(post, path = "/api/rooms/{room}/report/share", tag = "report",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    request_body = ShareInput,
    responses(
        (status = 200, description = "`{\"shared\", \"include_notes\"}` as stored", body = Object),
        RoomErrors,
        (status = 403, description = "Not the host's token", body = ErrorBody),
    ))]
pub async fn share(
    State(state): State<AppState>,
    access: RoomAccess,
    ApiJson(input): ApiJson<ShareInput>,
) -> Result<Json<Value>> {
    if !access.role.is_host() {
        tracing::info!(room = %access.room, role = access.role.as_str(), "share refused: not the host");
        return Err(Error::Forbidden("only the host shares the report".into()));
    }
    state
        .store
        .share_report(&access.room, input.shared, input.include_notes, now_ms())
        .await?;
    tracing::info!(room = %access.room, shared = input.shared, notes = input.include_notes, "report sharing changed");
    Ok(Json(
        json!({"shared": input.shared, "include_notes": input.include_notes}),
    ))
}

/// Time spent in each phase of the clock, replayed from the host actions.
fn phases(actions: &[(i64, HostAction)], mode: Mode, hints: usize, now: i64) -> Vec<Value> {
    let mut interview = Interview::new(mode);
    let mut spent: Vec<i64> = vec![0; interview.clock.phases.len()];
    let mut started: Vec<Option<i64>> = vec![None; interview.clock.phases.len()];
    let mut last = None::<i64>;
    let account = |iv: &Interview, spent: &mut Vec<i64>, from: Option<i64>, to: i64| {
        if let Some(from) = from
            && iv.clock.ends_at.is_some()
            && let Some(s) = spent.get_mut(iv.clock.phase)
        {
            *s += (to - from).max(0);
        }
    };
    for (at, action) in actions {
        account(&interview, &mut spent, last, *at);
        let before_len = interview.clock.phases.clone();
        if interview.apply(action, *at, hints).is_err() {
            continue;
        }
        if interview.clock.phases != before_len {
            spent = vec![0; interview.clock.phases.len()];
            started = vec![None; interview.clock.phases.len()];
        }
        if interview.clock.ends_at.is_some()
            && let Some(s) = started.get_mut(interview.clock.phase)
            && s.is_none()
        {
            *s = Some(*at);
        }
        last = Some(*at);
    }
    account(&interview, &mut spent, last, now);
    interview
        .clock
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "name": p.name,
                "planned_ms": (p.minutes * 60_000.0).round() as i64,
                "spent_ms": spent[i],
                "started": started[i],
            })
        })
        .collect()
}

/// Replays the history in time order: who added which node, and the capacity at sampled moments.
/// What one walk through the history gives the report.
struct Replayed {
    /// Per Yjs client id: updates, first and last edit, components added.
    edits: Vec<Value>,
    components: Vec<Value>,
    capacity: Vec<Value>,
    /// The rows up to `frame_at` and the document they make, judged: the replay's first frame.
    frame: (usize, Judged),
}

fn replay_report(
    rows: &[HistoryRow],
    problem: &Problem,
    catalog: &crate::problems::Catalog,
    tier_times: &[i64],
    frame_at: i64,
) -> Replayed {
    let doc = Doc::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut components = Vec::new();
    let mut clients: BTreeMap<u64, (usize, i64, i64, usize)> = BTreeMap::new();
    // Sample times: each minute after the first row, and each tier event.
    let mut samples: Vec<i64> = Vec::new();
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        let mut t = first.at_ms + 60_000;
        while t < last.at_ms && samples.len() < MAX_SAMPLES {
            samples.push(t);
            t += 60_000;
        }
        samples.push(last.at_ms);
    }
    samples.extend(tier_times.iter().copied());
    samples.sort_unstable();
    samples.dedup();
    samples.truncate(MAX_SAMPLES * 2);
    let mut capacity = Vec::new();
    let mut next_sample = 0;
    // Most minutes of a session only move nodes (drags) or type: a sample whose design is the last
    // one's but for positions (which the simulation does not read) repeats its figures.
    let mut last: Option<(Design, Value)> = None;
    let mut sample = |doc: &Doc, at: i64, capacity: &mut Vec<Value>| {
        let mut design = Design::from_txn(&doc.transact());
        for n in &mut design.nodes {
            (n.x, n.y) = (0.0, 0.0);
        }
        let figures = match &last {
            Some((d, figures)) if *d == design => figures.clone(),
            _ => {
                let sim = crate::simulation::simulate(problem, catalog, &design, &Scenario::peak());
                let peak = sim
                    .checks
                    .iter()
                    .find(|c| c.id == "sustains_peak")
                    .and_then(|c| serde_json::to_value(c.status).ok());
                let figures = json!({
                    "throughput_rps": sim.end_to_end.throughput_rps,
                    "error_rate": sim.end_to_end.error_rate, "p99_ms": sim.end_to_end.p99_ms,
                    "bottleneck": sim.bottleneck, "monthly_usd": sim.monthly_usd,
                    "sustains_peak": peak, "nodes": design.nodes.len(),
                });
                last = Some((design, figures.clone()));
                figures
            }
        };
        let mut point = json!({"at": at});
        if let (Some(p), Value::Object(f)) = (point.as_object_mut(), figures) {
            p.extend(f);
        }
        capacity.push(point);
    };
    let mut frame = None;
    for (i, row) in rows.iter().enumerate() {
        if frame.is_none() && row.at_ms > frame_at {
            frame = Some((i, judge(problem, catalog, &doc)));
        }
        while next_sample < samples.len() && samples[next_sample] < row.at_ms {
            sample(&doc, samples[next_sample], &mut capacity);
            next_sample += 1;
        }
        let Ok(update) = Update::decode_v1(&row.data) else {
            continue;
        };
        // The authors: the clients whose clocks the update advanced.
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            if txn.apply_update(update).is_err() {
                continue;
            }
        }
        let after = doc.transact().state_vector();
        let authors: Vec<u64> = after
            .iter()
            .filter(|(c, clock)| before.get(c) < **clock)
            .map(|(c, _)| c.get())
            .collect();
        for &c in &authors {
            let e = clients.entry(c).or_insert((0, row.at_ms, row.at_ms, 0));
            e.0 += 1;
            e.2 = row.at_ms;
        }
        let txn = doc.transact();
        if let Some(nodes) = txn.get_map(crate::design::NODES_KEY) {
            for (id, value) in nodes.iter(&txn) {
                if seen.contains(id) {
                    continue;
                }
                seen.insert(id.to_string());
                let (ty, label) = match value {
                    yrs::Out::YMap(m) => {
                        let s = |k: &str| {
                            m.get(&txn, k)
                                .map(|v| v.to_string(&txn))
                                .unwrap_or_default()
                        };
                        (s("type"), s("label"))
                    }
                    _ => (String::new(), String::new()),
                };
                let by = (authors.len() == 1).then(|| authors[0]);
                if let Some(by) = by {
                    clients.entry(by).and_modify(|e| e.3 += 1);
                }
                components.push(json!({
                    "node": id, "type": ty, "label": label, "client": by, "at": row.at_ms,
                }));
            }
        }
    }
    while next_sample < samples.len() {
        sample(&doc, samples[next_sample], &mut capacity);
        next_sample += 1;
    }
    let edits = clients
        .into_iter()
        .map(|(client, (updates, first, last, added))| {
            json!({"client": client, "updates": updates, "first": first, "last": last, "components_added": added})
        })
        .collect();
    let frame = frame.unwrap_or_else(|| (rows.len(), judge(problem, catalog, &doc)));
    Replayed {
        edits,
        components,
        capacity,
        frame,
    }
}

/// The participants the room recorded (names and roles from their presence) joined with what the
/// history says each client id did; client ids that edited without a name are listed too.
fn join_participants(
    named: &[(u64, String, String, i64)],
    edits: Vec<Value>,
    components: &mut [Value],
) -> Vec<Value> {
    let names: HashMap<u64, &str> = named.iter().map(|(c, n, _, _)| (*c, n.as_str())).collect();
    for c in components.iter_mut() {
        let name = c["client"].as_u64().and_then(|id| names.get(&id).copied());
        c["by"] = json!(name);
    }
    let mut by_client: HashMap<u64, Value> = edits
        .into_iter()
        .filter_map(|e| Some((e["client"].as_u64()?, e)))
        .collect();
    let mut out: Vec<Value> = named
        .iter()
        .map(|(client, name, role, first_seen)| {
            let edits = by_client.remove(client);
            json!({
                "client": client, "name": name, "role": role, "joined": first_seen,
                "updates": edits.as_ref().map_or(json!(0), |e| e["updates"].clone()),
                "first": edits.as_ref().map_or(Value::Null, |e| e["first"].clone()),
                "last": edits.as_ref().map_or(Value::Null, |e| e["last"].clone()),
                "components_added": edits.as_ref().map_or(json!(0), |e| e["components_added"].clone()),
            })
        })
        .collect();
    let mut rest: Vec<(u64, Value)> = by_client.into_iter().collect();
    rest.sort_by_key(|(c, _)| *c);
    for (_, mut e) in rest {
        e["name"] = Value::Null;
        e["role"] = Value::Null;
        e["joined"] = Value::Null;
        out.push(e);
    }
    out
}

#[utoipa::path(get, path = "/api/rooms/{room}/report", tag = "report",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The session report (docs/PROTOCOL.md §8)", body = Object),
        RoomErrors,
        (status = 403, description = "An edit or view token before the host shared the report", body = ErrorBody),
    ))]
pub async fn report(State(state): State<AppState>, access: RoomAccess) -> Result<Json<Value>> {
    let record = may_read(&state, &access).await?;
    let room = room_record(&state, &access.room).await?;
    let problem = problem_of(&state, &room.problem)?;
    let now = now_ms();
    let timeline = state.store.timeline(&access.room).await?;
    let actions: Vec<(i64, HostAction)> = state
        .store
        .host_actions(&access.room)
        .await?
        .into_iter()
        .filter_map(|(at, a)| serde_json::from_str(&a).ok().map(|a| (at, a)))
        .collect();
    let interview: Option<Interview> = state
        .store
        .load_interview(&access.room)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok());
    let include_notes = record.include_notes || access.role.is_host();
    let input = stored_scorecard(&record);
    let history = state.store.history(&access.room, None).await?;
    let (history_rows, history_bytes) = (
        history.len(),
        history.iter().map(|r| r.data.len()).sum::<usize>(),
    );
    let live = judged_now(&state, &access.room, &problem).await?;
    let tier_times: Vec<i64> = timeline.iter().map(|t| t.at_ms).collect();
    let bank = state.bank.clone();
    let p = problem.clone();
    let named = state.store.participants(&access.room).await?;
    let started = actions
        .iter()
        .find(|(_, a)| matches!(a, HostAction::ClockStart { .. }))
        .map(|(at, _)| *at);
    let ended = [
        timeline.last().map(|t| t.at_ms),
        actions.last().map(|(at, _)| *at),
    ]
    .into_iter()
    .flatten()
    .max();
    // Where the report page's replay starts (its end: `max(ended ?? generated, start + 1 s)`): that
    // frame comes with the report, so opening costs one replay of the history, not two.
    let frame_at = ended
        .unwrap_or(now)
        .max(started.unwrap_or(room.created_ms) + 1000);
    let replayed = tokio::task::spawn_blocking(move || {
        replay_report(&history, &p, bank.catalog(), &tier_times, frame_at)
    })
    .await
    .map_err(|e| Error::Internal(format!("report task failed: {e}")))?;
    let Replayed {
        edits,
        mut components,
        capacity,
        frame: (frame_rows, mut frame),
    } = replayed;
    let participants = join_participants(&named, edits, &mut components);
    let mut judged = live;
    let overrides = interview
        .as_ref()
        .map(|iv| iv.api_overrides.clone())
        .unwrap_or_default();
    apply_overrides(&mut judged.section_checks, &overrides);
    let mut overrides_then = overrides.clone();
    overrides_then.retain(|_, o| o.at <= frame_at);
    apply_overrides(&mut frame.section_checks, &overrides_then);
    let host_actions: Vec<Value> = actions
        .iter()
        .filter(|(_, a)| include_notes || !matches!(a, HostAction::Notes { .. }))
        .map(|(at, a)| json!({"at": at, "action": a}))
        .collect();
    let revealed_hints: Vec<Value> = interview
        .as_ref()
        .map(|iv| {
            iv.revealed_hints
                .iter()
                .filter_map(|&i| problem.hints.get(i).map(|t| json!({"index": i, "text": t})))
                .collect()
        })
        .unwrap_or_default();
    let notes = if include_notes {
        interview.as_ref().map(|iv| iv.notes.clone())
    } else {
        None
    };
    Ok(Json(json!({
        "room": access.room.as_str(),
        "mode": room.mode,
        "created": room.created_ms,
        "generated": now,
        "shared": record.shared,
        "include_notes": record.include_notes,
        "problem": {"id": problem.id, "title": problem.title, "summary": problem.summary,
                    "functional_requirements": problem.functional_requirements,
                    "non_functional_requirements": problem.non_functional_requirements},
        "participants": participants,
        "started": started,
        "ended": ended,
        "phases": phases(&actions, room.mode, problem.hints.len(), now),
        "tier_timeline": timeline.iter().map(|t| json!({"at": t.at_ms, "tier": t.tier, "event": t.event})).collect::<Vec<_>>(),
        "capacity": capacity,
        "components": components,
        "design": judged.design,
        "validation": judged.validation,
        "simulation": {"end_to_end": judged.simulation.end_to_end, "checks": judged.simulation.checks,
                       "bottleneck": judged.simulation.bottleneck, "monthly_usd": judged.simulation.monthly_usd},
        "sections": judged.sections,
        "section_checks": judged.section_checks,
        "revealed_hints": revealed_hints,
        "curveball": interview.as_ref().and_then(|iv| iv.curveball.clone()),
        "host_actions": host_actions,
        "scorecard": scorecard_view(&input, &judged, &overrides),
        "notes": notes,
        "history": {"rows": history_rows, "bytes": history_bytes},
        "replay_start": (room.mode == Mode::Interview).then(|| json!({
            "at": frame_at, "rows": frame_rows, "design": frame.design, "sections": frame.sections,
            "validation": frame.validation, "section_checks": frame.section_checks,
        })),
    })))
}

#[utoipa::path(get, path = "/api/rooms/{room}/history", tag = "report",
    params(("room" = String, Path, description = "Room id"), AtQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "`{\"at\", \"rows\", \"design\", \"sections\", \"validation\"}`: the room as it was at `at`", body = Object),
        RoomErrors,
        (status = 403, description = "An edit or view token before the host shared the report", body = ErrorBody),
        (status = 404, description = "No such room, or a practice room (no history is kept)", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<AppState>,
    access: RoomAccess,
    Query(query): Query<AtQuery>,
) -> Result<Json<Value>> {
    may_read(&state, &access).await?;
    let room = room_record(&state, &access.room).await?;
    if room.mode != Mode::Interview {
        return Err(Error::NotFound(format!(
            "a history of room {} (practice rooms keep none)",
            access.room
        )));
    }
    let problem = problem_of(&state, &room.problem)?;
    let at = query.at.unwrap_or_else(now_ms);
    let rows = state.store.history(&access.room, Some(at)).await?;
    let n = rows.len();
    let bank = state.bank.clone();
    let mut judged =
        tokio::task::spawn_blocking(move || replay_at(&problem, bank.catalog(), &rows))
            .await
            .map_err(|e| Error::Internal(format!("history task failed: {e}")))?;
    // The host's verdicts as they stand, those given by then.
    let mut overrides = api_overrides(&state, &access.room).await?;
    overrides.retain(|_, o| o.at <= at);
    apply_overrides(&mut judged.section_checks, &overrides);
    Ok(Json(json!({
        "at": at,
        "rows": n,
        "design": judged.design,
        "sections": judged.sections,
        "validation": judged.validation,
        "section_checks": judged.section_checks,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{DesignEdge, DesignNode};
    use yrs::WriteTxn;

    /// Capacity samples of minutes that only moved nodes repeat the figures; a bigger fleet changes
    /// them.
    #[test]
    fn capacity_samples_follow_the_design_not_its_positions() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
        let bank = crate::problems::Bank::load(&dir).expect("bank");
        let problem = bank.get("tutorial-simple-blog").expect("problem");
        let doc = Doc::with_client_id(7);
        let mut rows = Vec::new();
        let mut at = 1_800_000_000_000i64;
        let mut edit = |f: &dyn Fn(&mut yrs::TransactionMut), at: i64| {
            let mut txn = doc.transact_mut();
            f(&mut txn);
            rows.push(HistoryRow {
                at_ms: at,
                data: txn.encode_update_v1(),
            });
        };
        edit(
            &|txn| {
                Design {
                    nodes: vec![
                        DesignNode::new("app", "app", "App"),
                        DesignNode::new("db", "db_primary", "DB"),
                    ],
                    ..Default::default()
                }
                .write_to_txn(txn)
            },
            at,
        );
        // Three minutes of drags.
        for k in 1..=6 {
            at += 30_000;
            edit(
                &move |txn| {
                    let nodes = txn.get_or_insert_map("nodes");
                    if let Some(yrs::Out::YMap(n)) = nodes.get(txn, "app") {
                        n.insert(txn, "x", 10.0 * k as f64);
                    }
                },
                at,
            );
        }
        at += 60_000;
        edit(
            &|txn| {
                Design {
                    edges: vec![DesignEdge::new("e1", "app", "db")],
                    ..Default::default()
                }
                .write_to_txn(txn);
                let nodes = txn.get_or_insert_map("nodes");
                if let Some(yrs::Out::YMap(n)) = nodes.get(txn, "app")
                    && let Some(yrs::Out::YMap(params)) = n.get(txn, "params")
                {
                    params.insert(txn, "instances", 4.0);
                }
            },
            at,
        );
        let Replayed {
            components,
            capacity,
            frame,
            ..
        } = replay_report(&rows, &problem, bank.catalog(), &[], at - 1);
        // The frame just before the last row: every node, the fleet still one.
        assert_eq!(frame.0, rows.len() - 1);
        assert_eq!(frame.1.design.nodes.len(), 2);
        assert!(frame.1.design.edges.is_empty());
        assert_eq!(components.len(), 2);
        let figures = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().unwrap().remove("at");
            v
        };
        // Minutes 1, 2, 3 (drags only) and the edge's minute.
        assert!(capacity.len() >= 4, "{capacity:?}");
        assert_eq!(figures(&capacity[0]), figures(&capacity[1]));
        assert_eq!(figures(&capacity[1]), figures(&capacity[2]));
        assert!(capacity[0]["at"].as_i64() < capacity[1]["at"].as_i64());
        assert_eq!(capacity[0]["nodes"], 2);
        let end = capacity.last().unwrap();
        assert_ne!(
            figures(end),
            figures(&capacity[0]),
            "four app servers cost more than one: {capacity:?}"
        );
        // A fresh simulation of the final design gives the last sample's figures.
        let design = Design::from_txn(&doc.transact());
        let sim = crate::simulation::simulate(&problem, bank.catalog(), &design, &Scenario::peak());
        assert_eq!(end["monthly_usd"], json!(sim.monthly_usd));
        assert_eq!(end["throughput_rps"], json!(sim.end_to_end.throughput_rps));
    }
}
