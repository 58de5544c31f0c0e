//! HTTP routes: rooms, health, metrics, the built client. Handlers extract and delegate; errors go
//! through [`crate::Error`], which maps them to a status and `{"error", "code"}` in one place.

use std::path::Path;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::Response;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower::ServiceBuilder;
use tower_http::services::fs::ServeFileSystemResponseBody;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::RoomAccess;
use crate::clock::now_ms;
use crate::error::ErrorBody;
use crate::ids::{Mode, Role, RoomId, Token};
use crate::room::Room;
use crate::state::AppState;
use crate::store::NewRoom;
use crate::validation::ValidationResult;
use crate::{Error, Result};

/// `Json<T>` whose rejection is a crate error (400 `bad_json` with the parser's sentence).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::BytesRejection(e)) => Err(Error::TooLarge(e.body_text())),
            Err(e) => Err(Error::BadJson(e.body_text())),
        }
    }
}

/// The API routes and the WebSocket endpoint; the static client is added by [`crate::app`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/rooms", post(create_room))
        .route("/api/rooms/{room}", get(room_info))
        .route("/api/rooms/{room}/timeline", get(timeline))
        .route("/api/rooms/{room}/validation", get(room_validation))
        .route("/api/rooms/{room}/solution", get(room_solution))
        .route("/api/rooms/{room}/rotate", post(rotate))
        .route("/api/rooms/{room}/host", post(host_action))
        .route("/ws/{room}", get(crate::ws::handler))
}

/// `Cache-Control` of the build's hashed files (`/assets/<name>-<hash>.<ext>`): a new build has new
/// names, so a browser never needs to ask again.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of `index.html` and the other unhashed files: revalidate each time (cheap, the
/// answer is a 304), so a deploy is seen on the next load.
pub const NO_CACHE: &str = "no-cache";

/// Serves the built client with `index.html` for client-side routes, when it has been built.
///
/// Files come precompressed when the build wrote `<file>.br` / `<file>.gz` next to them (the client's
/// build does, at the highest levels); otherwise [`crate::app`]'s compression layer compresses them as
/// they are sent. A missing `/assets/...` file is a 404, never `index.html` under an immutable header.
pub fn static_client(dir: &Path) -> Option<Router> {
    let index = dir.join("index.html");
    if !index.is_file() {
        return None;
    }
    let cache = |ok: &'static str| {
        SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            move |r: &Response<ServeFileSystemResponseBody>| {
                Some(HeaderValue::from_static(if r.status().is_success() {
                    ok
                } else {
                    NO_CACHE
                }))
            },
        )
    };
    // Precompressed answers depend on Accept-Encoding too (the compression layer says so for the
    // ones it compresses).
    let vary = SetResponseHeaderLayer::appending(
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    );
    let assets = ServeDir::new(dir.join("assets"))
        .precompressed_br()
        .precompressed_gzip();
    let rest = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    Some(
        Router::new()
            .nest_service(
                "/assets",
                ServiceBuilder::new()
                    .layer(cache(IMMUTABLE))
                    .layer(vary.clone())
                    .service(assets),
            )
            .fallback_service(
                ServiceBuilder::new()
                    .layer(cache(NO_CACHE))
                    .layer(vary)
                    .service(rest),
            ),
    )
}

/// `GET /healthz`: what this instance holds.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// This process's random instance id (several instances may share a database and a bus).
    pub instance: String,
    /// Rooms loaded in memory.
    pub rooms: usize,
    /// Open WebSocket connections.
    pub connections: u64,
    pub uptime_secs: u64,
    /// Problems in the bank.
    pub problems: usize,
}

#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        instance: state.instance.to_string(),
        rooms: state.rooms.loaded(),
        connections: state
            .metrics
            .connections
            .load(std::sync::atomic::Ordering::Relaxed),
        uptime_secs: state.started.elapsed().as_secs(),
        problems: state.bank.len(),
    })
}

#[utoipa::path(get, path = "/metrics", tag = "server",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "`--metrics-token` is set and the request lacks it", body = ErrorBody),
    ))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    crate::browser::check_metrics_token(&headers, state.config.metrics_token.as_deref())?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    ))
}

/// `POST /api/rooms` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateRoom {
    /// A problem id of the bank (`GET /api/problems`).
    #[schema(example = "classic-tinyurl-url-shortener")]
    pub problem: String,
    /// `practice` (the default) or `interview`.
    #[serde(default)]
    pub mode: Mode,
}

/// A new room and its three tokens, shown once: only their hashes are stored.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedRoom {
    pub room: String,
    pub mode: Mode,
    pub tokens: RoomTokens,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomTokens {
    /// The room's creator: everything `edit` grants, plus running the room (host actions, the
    /// reference solution, rotating the other links). Keep it private.
    pub host: String,
    /// Grants editing.
    pub edit: String,
    /// Grants reading and presence only.
    pub view: String,
}

#[utoipa::path(post, path = "/api/rooms", tag = "rooms",
    request_body = CreateRoom,
    responses(
        (status = 201, description = "Room created", body = CreatedRoom, links(
            ("info" = (operation_id = "room_info", parameters(
                ("room" = "$response.body#/room"), ("token" = "$response.body#/tokens/edit")))),
            ("timeline" = (operation_id = "timeline", parameters(
                ("room" = "$response.body#/room"), ("token" = "$response.body#/tokens/view")))),
            ("validation" = (operation_id = "room_validation", parameters(
                ("room" = "$response.body#/room"), ("token" = "$response.body#/tokens/view")))),
        )),
        (status = 400, description = "The body is not JSON of this shape", body = ErrorBody),
        (status = 404, description = "No such problem", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many rooms from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The store failed", body = ErrorBody),
    ))]
pub async fn create_room(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(body): ApiJson<CreateRoom>,
) -> Result<impl IntoResponse> {
    // Anyone may create rooms, so each address may create only so many a minute. The address comes
    // from the accept loop (`listen.rs`); behind a proxy it is the proxy's, so limit there too.
    if let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<std::net::SocketAddr>>()
        && let Err(wait) = state
            .room_creations
            .check(peer.ip(), std::time::Instant::now())
    {
        tracing::info!(peer = %peer.ip(), "room creation rate limited");
        return Err(Error::RateLimited(wait));
    }
    if state.bank.get(&body.problem).is_none() {
        return Err(Error::UnknownProblem(body.problem));
    }
    let room = RoomId::random();
    let host = Token::random();
    let edit = Token::random();
    let view = Token::random();
    state
        .store
        .create_room_with_mode(
            &NewRoom {
                id: room.clone(),
                problem: body.problem.clone(),
                created_ms: now_ms(),
                tokens: vec![
                    (host.hash(), Role::Host),
                    (edit.hash(), Role::Edit),
                    (view.hash(), Role::View),
                ],
            },
            body.mode,
        )
        .await?;
    // The document starts with `meta.problem`, stored before anyone can connect.
    state
        .store
        .append(&[(room.clone(), Room::initial_update(&body.problem))])
        .await?;
    tracing::info!(room = %room, problem = %body.problem, mode = body.mode.as_str(), "room created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedRoom {
            room: room.to_string(),
            mode: body.mode,
            tokens: RoomTokens {
                host: host.as_str().to_string(),
                edit: edit.as_str().to_string(),
                view: view.as_str().to_string(),
            },
        }),
    ))
}

/// `GET /api/rooms/{room}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomInfo {
    pub room: String,
    pub problem: String,
    /// Creation time, epoch milliseconds.
    pub created: i64,
    /// What the token grants: `host`, `edit` or `view`.
    #[schema(value_type = RoleName)]
    pub role: String,
    /// `practice` or `interview`.
    pub mode: Mode,
    /// Participants with presence on this instance (0 when the room is not loaded here).
    pub participants: usize,
    /// WebSocket connections on this instance.
    pub connections: usize,
}

/// A token's role.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum RoleName {
    Host,
    Edit,
    View,
}

/// The errors of every room route: its extractor ([`RoomAccess`]) and the store.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum RoomErrors {
    /// A malformed query string.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// A missing or wrong token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No such room (`unknown_room`); for the validation route also a room whose problem is not in
    /// the bank (`not_found`).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The store failed.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The token could not be checked, or the room not loaded: retry.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The parameters every room route takes: the room id, and its token (`?token=` or
/// `Authorization: Bearer`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RoomTokenQuery {
    /// A host, edit or view token of the room (or send `Authorization: Bearer <token>`).
    token: Option<String>,
}

#[utoipa::path(get, path = "/api/rooms/{room}", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The room", body = RoomInfo),
        RoomErrors,
    ))]
pub async fn room_info(
    State(state): State<AppState>,
    RoomAccess {
        room: room_id,
        role,
    }: RoomAccess,
) -> Result<Json<RoomInfo>> {
    let record = state
        .store
        .room(&room_id)
        .await?
        .ok_or_else(|| Error::UnknownRoom(room_id.to_string()))?;
    let status = state.rooms.status(&room_id).await;
    Ok(Json(RoomInfo {
        room: room_id.to_string(),
        problem: record.problem,
        created: record.created_ms,
        role: role.as_str().to_string(),
        mode: record.mode,
        participants: status.as_ref().map_or(0, |s| s.participants),
        connections: status.as_ref().map_or(0, |s| s.connections),
    }))
}

/// `GET /api/rooms/{room}/timeline`: when each tier was reached or lost, oldest first.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timeline {
    pub events: Vec<TimelineEvent>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    /// Epoch milliseconds.
    pub at: i64,
    /// The tier id.
    pub tier: String,
    /// `reached` or `lost`.
    #[schema(value_type = crate::validation::TierEvent)]
    pub event: String,
}

#[utoipa::path(get, path = "/api/rooms/{room}/timeline", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The tier timeline", body = Timeline),
        RoomErrors,
    ))]
pub async fn timeline(
    State(state): State<AppState>,
    RoomAccess { room: room_id, .. }: RoomAccess,
) -> Result<Json<Timeline>> {
    let events = state.store.timeline(&room_id).await?;
    Ok(Json(Timeline {
        events: events
            .into_iter()
            .map(|t| TimelineEvent {
                at: t.at_ms,
                tier: t.tier,
                event: t.event,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/rooms/{room}/validation", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The room's current validation result", body = ValidationResult),
        RoomErrors,
    ))]
pub async fn room_validation(
    State(state): State<AppState>,
    RoomAccess { room: room_id, .. }: RoomAccess,
) -> Result<Json<ValidationResult>> {
    match state.rooms.validation(&room_id).await? {
        Some(result) => Ok(Json((*result).clone())),
        None => Err(Error::NotFound(format!(
            "a validation result for room {room_id} (its problem is not in the bank)"
        ))),
    }
}

/// `GET /api/rooms/{room}/solution`: the answer to the room's problem, with its hints and tutorial.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoomSolution {
    #[serde(flatten)]
    pub solution: crate::problems::api::Solution,
    pub hints: Vec<String>,
    pub tutorial: Option<crate::problems::model::Tutorial>,
}

#[utoipa::path(get, path = "/api/rooms/{room}/solution", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The reference solution, analysis, hints and tutorial of the room's problem", body = RoomSolution),
        (status = 403, description = "An interview room whose host has not revealed the solution, asked with an edit or view token", body = ErrorBody),
        RoomErrors,
    ))]
pub async fn room_solution(
    State(state): State<AppState>,
    RoomAccess {
        room: room_id,
        role,
    }: RoomAccess,
) -> Result<Json<RoomSolution>> {
    let record = state
        .store
        .room(&room_id)
        .await?
        .ok_or_else(|| Error::UnknownRoom(room_id.to_string()))?;
    // The host always; everyone in a practice room; in an interview room the others only once the
    // host has revealed it.
    let allowed = role.is_host()
        || record.mode == Mode::Practice
        || state.rooms.solution_revealed(&room_id).await?;
    if !allowed {
        tracing::info!(room = %room_id, role = role.as_str(), "solution refused: not revealed");
        return Err(Error::Forbidden(
            "the host has not revealed the solution of this interview".into(),
        ));
    }
    let problem = state
        .bank
        .get(&record.problem)
        .ok_or_else(|| Error::NotFound(format!("problem {} in the bank", record.problem)))?;
    Ok(Json(RoomSolution {
        solution: crate::problems::api::Solution::of(&problem),
        hints: problem.hints.clone(),
        tutorial: problem.tutorial.clone(),
    }))
}

/// `POST /api/rooms/{room}/rotate` body: which link to replace.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Rotate {
    pub role: RotatedRole,
}

/// The links a host can take back (the host link itself cannot be rotated: it has no one above it).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RotatedRole {
    Edit,
    View,
}

/// The new link's token, shown once.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rotated {
    pub token: String,
}

#[utoipa::path(post, path = "/api/rooms/{room}/rotate", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    request_body = Rotate,
    responses(
        (status = 200, description = "The new token; the old one no longer opens the room and its connections are closed with 4401 on every instance", body = Rotated),
        (status = 403, description = "Not the host's token", body = ErrorBody),
        RoomErrors,
    ))]
pub async fn rotate(
    State(state): State<AppState>,
    RoomAccess {
        room: room_id,
        role,
    }: RoomAccess,
    ApiJson(body): ApiJson<Rotate>,
) -> Result<Json<Rotated>> {
    if !role.is_host() {
        tracing::info!(room = %room_id, role = role.as_str(), "rotate refused: not the host");
        return Err(Error::Forbidden("only the host may rotate links".into()));
    }
    let rotated = match body.role {
        RotatedRole::Edit => Role::Edit,
        RotatedRole::View => Role::View,
    };
    let token = Token::random();
    let old = state
        .store
        .rotate_token(&room_id, rotated, &token.hash())
        .await?;
    tracing::info!(room = %room_id, role = rotated.as_str(), revoked = old.len(), "link rotated");
    // The store already refuses the old tokens; now their open connections, on every instance.
    state.rooms.revoke(&room_id, old).await?;
    Ok(Json(Rotated {
        token: token.as_str().to_string(),
    }))
}

/// `POST /api/rooms/{room}/host` body: `{"action": "lock"|"unlock"|"reveal_hint"|"reveal_solution"|
/// "hide_solution"|"clock_start"|"clock_pause"|"next_phase"|"driver"|"curveball"|"clear_curveball"|
/// "notes"|"api_override", ...}` (docs/PROTOCOL.md §7).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct HostActionBody {
    /// The action's name.
    action: String,
    /// `reveal_hint`: the hint's index.
    index: Option<usize>,
    /// `driver`: an awareness client id, or null for everyone.
    client: Option<u64>,
    /// `curveball`: a scenario as `POST /api/simulate` takes it.
    scenario: Option<crate::simulation::Scenario>,
    /// `notes`: the host's private notes.
    text: Option<String>,
    /// `api_override`: the functional requirement (as the `api_coverage` check names it).
    requirement: Option<String>,
    /// `api_override`: covered (true), not covered (false), or back to the name matching (null).
    covered: Option<bool>,
    /// `api_override`: the host's display name, shown with the verdict.
    by: Option<String>,
}

#[utoipa::path(post, path = "/api/rooms/{room}/host", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    security((), ("bearer" = [])),
    request_body = HostActionBody,
    responses(
        (status = 200, description = "The room's interview state after the action", body = Object),
        (status = 403, description = "Not the host's token", body = ErrorBody),
        (status = 429, description = "More than 20 host actions a second in this room", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        RoomErrors,
    ))]
pub async fn host_action(
    State(state): State<AppState>,
    RoomAccess {
        room: room_id,
        role,
    }: RoomAccess,
    ApiJson(action): ApiJson<crate::room::HostAction>,
) -> Result<Json<serde_json::Value>> {
    if !role.is_host() {
        tracing::warn!(room = %room_id, role = role.as_str(), action = action.name(), "host action refused: not the host");
        return Err(Error::Forbidden("host actions need the host link".into()));
    }
    Ok(Json(state.rooms.host_action(&room_id, action).await?))
}
