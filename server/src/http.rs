//! HTTP routes: rooms, health, metrics, the built client. Handlers extract and delegate; errors go
//! through [`crate::Error`], which maps them to a status and `{"error", "code"}` in one place.

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path as UrlPath, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower_http::services::{ServeDir, ServeFile};

use crate::config::ServeConfig;
use crate::ids::{InstanceId, Role, RoomId, Token};
use crate::metrics::Metrics;
use crate::problems::Bank;
use crate::room::Room;
use crate::rooms::Rooms;
use crate::store::{NewRoom, Store};
use crate::{Error, Result};

/// Everything the handlers share. Cheap to clone: every field is an `Arc` or small.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub store: Arc<Store>,
    pub bank: Arc<Bank>,
    pub rooms: Arc<Rooms>,
    pub metrics: Arc<Metrics>,
    pub instance: InstanceId,
    pub started: Instant,
    /// Every live WebSocket connection, so shutdown can wait for their close frames to go out.
    pub connections: tokio_util::task::TaskTracker,
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

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

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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
        .route("/ws/{room}", get(crate::ws::handler))
}

/// Serves the built client with `index.html` for client-side routes, when it has been built.
pub fn static_client(dir: &Path) -> Option<ServeDir<ServeFile>> {
    let index = dir.join("index.html");
    index
        .is_file()
        .then(|| ServeDir::new(dir).fallback(ServeFile::new(index)))
}

async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "instance": state.instance.to_string(),
        "rooms": state.rooms.loaded(),
        "connections": state.metrics.connections.load(std::sync::atomic::Ordering::Relaxed),
        "uptime_secs": state.started.elapsed().as_secs(),
        "problems": state.bank.len(),
    }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

#[derive(Debug, Deserialize)]
struct CreateRoom {
    problem: String,
}

async fn create_room(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRoom>,
) -> Result<impl IntoResponse> {
    if state.bank.get(&body.problem).is_none() {
        return Err(Error::UnknownProblem(body.problem));
    }
    let room = RoomId::random();
    let edit = Token::random();
    let view = Token::random();
    state
        .store
        .create_room(&NewRoom {
            id: room.clone(),
            problem: body.problem.clone(),
            created_ms: now_ms(),
            tokens: vec![(edit.hash(), Role::Edit), (view.hash(), Role::View)],
        })
        .await?;
    // The document starts with `meta.problem`, stored before anyone can connect.
    state
        .store
        .append(&[(room.clone(), Room::initial_update(&body.problem))])
        .await?;
    tracing::info!(room = %room, problem = %body.problem, "room created");
    Ok((
        StatusCode::CREATED,
        Json(json!({"room": room, "tokens": {"edit": edit.as_str(), "view": view.as_str()}})),
    ))
}

/// The token from `?token=` or `Authorization: Bearer`.
fn token_from(query: &TokenQuery, headers: &HeaderMap) -> Option<Token> {
    if let Some(t) = query.token.as_deref().filter(|t| !t.is_empty()) {
        return Some(Token::from_user(t));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .map(|t| Token::from_user(t.trim()))
}

/// Checks a room id and token; the role the token grants.
pub async fn authorize(
    state: &AppState,
    room: &str,
    query: &TokenQuery,
    headers: &HeaderMap,
) -> Result<(RoomId, Role)> {
    let room_id = RoomId::parse(room).ok_or_else(|| Error::UnknownRoom(room.to_string()))?;
    let token = token_from(query, headers).ok_or(Error::Unauthorized)?;
    match state.store.role_for(&room_id, &token.hash()).await? {
        Some(role) => Ok((room_id, role)),
        None if state.store.room(&room_id).await?.is_none() => {
            Err(Error::UnknownRoom(room.to_string()))
        }
        None => Err(Error::Unauthorized),
    }
}

/// A room route's caller, checked: the room exists and the token grants `role` in it.
pub struct RoomAccess {
    pub room: RoomId,
    pub role: Role,
}

impl FromRequestParts<AppState> for RoomAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let UrlPath(room) = UrlPath::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let Query(query) = Query::<TokenQuery>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let (room, role) = authorize(state, &room, &query, &parts.headers).await?;
        Ok(RoomAccess { room, role })
    }
}

async fn room_info(
    State(state): State<AppState>,
    RoomAccess {
        room: room_id,
        role,
    }: RoomAccess,
) -> Result<Json<Value>> {
    let record = state
        .store
        .room(&room_id)
        .await?
        .ok_or_else(|| Error::UnknownRoom(room_id.to_string()))?;
    let status = state.rooms.status(&room_id).await;
    Ok(Json(json!({
        "room": room_id,
        "problem": record.problem,
        "created": record.created_ms,
        "role": role.as_str(),
        "participants": status.as_ref().map_or(0, |s| s.participants),
        "connections": status.as_ref().map_or(0, |s| s.connections),
    })))
}

async fn timeline(
    State(state): State<AppState>,
    RoomAccess { room: room_id, .. }: RoomAccess,
) -> Result<Json<Value>> {
    let events = state.store.timeline(&room_id).await?;
    let events: Vec<Value> = events
        .into_iter()
        .map(|t| json!({"at": t.at_ms, "tier": t.tier, "event": t.event}))
        .collect();
    Ok(Json(json!({"events": events})))
}

async fn room_validation(
    State(state): State<AppState>,
    RoomAccess { room: room_id, .. }: RoomAccess,
) -> Result<Json<Value>> {
    match state.rooms.validation(&room_id).await? {
        Some(result) => Ok(Json(
            serde_json::to_value(&*result).map_err(|e| Error::Internal(e.to_string()))?,
        )),
        None => Err(Error::NotFound(format!(
            "a validation result for room {room_id} (its problem is not in the bank)"
        ))),
    }
}
