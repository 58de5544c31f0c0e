//! HTTP routes: rooms, health, metrics, the built client. Handlers extract and delegate; errors go
//! through [`crate::Error`], which maps them to a status and `{"error", "code"}` in one place.

use std::path::Path;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower_http::services::{ServeDir, ServeFile};

use crate::auth::RoomAccess;
use crate::clock::now_ms;
use crate::ids::{Role, RoomId, Token};
use crate::room::Room;
use crate::state::AppState;
use crate::store::NewRoom;
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

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse> {
    crate::browser::check_metrics_token(&headers, state.config.metrics_token.as_deref())?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    ))
}

#[derive(Debug, Deserialize)]
struct CreateRoom {
    problem: String,
}

async fn create_room(
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
