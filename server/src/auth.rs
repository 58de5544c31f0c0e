//! Who may do what in a room: one [`authorize`] for HTTP routes and WebSocket upgrades alike.
//!
//! A token arrives as `?token=` (what the stock y-websocket client can send) or
//! `Authorization: Bearer`; only its hash is looked up. A wrong token for an existing room is
//! `Unauthorized`, an unknown room `UnknownRoom`, so HTTP answers 401 / 404 and WebSocket closes
//! with 4401 / 4404 (the mapping lives in [`crate::error`]).

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Deserialize;

use crate::ids::{Role, RoomId, Token, TokenHash};
use crate::state::AppState;
use crate::{Error, Result};

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// The token from `?token=` or `Authorization: Bearer`.
fn token_from(query: &TokenQuery, headers: &HeaderMap) -> Option<Token> {
    if let Some(t) = query.token.as_deref().filter(|t| !t.is_empty()) {
        return Some(Token::from_user(t));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(Token::from_user)
}

/// Checks a room id and token; the role the token grants. A database failure is `Unavailable`
/// (503, close 1013): the caller may retry, and nothing about the token is revealed.
pub async fn authorize(
    state: &AppState,
    room: &str,
    query: &TokenQuery,
    headers: &HeaderMap,
) -> Result<(RoomId, Role)> {
    authorize_holder(state, room, query, headers)
        .await
        .map(|(room, role, _)| (room, role))
}

/// As [`authorize`], with the hash of the token: a connection keeps it, so that revoking the token
/// closes the connection (issue 22).
pub async fn authorize_holder(
    state: &AppState,
    room: &str,
    query: &TokenQuery,
    headers: &HeaderMap,
) -> Result<(RoomId, Role, TokenHash)> {
    let room_id = RoomId::parse(room).ok_or_else(|| Error::UnknownRoom(room.to_string()))?;
    let token = token_from(query, headers).ok_or(Error::Unauthorized)?;
    let unavailable = |e: Error| {
        tracing::error!(room = %room_id, error = %e, "token check failed");
        Error::Unavailable("token check failed, retry".into())
    };
    match state
        .store
        .role_for(&room_id, &token.hash())
        .await
        .map_err(unavailable)?
    {
        Some(role) => Ok((room_id, role, token.hash())),
        None if state
            .store
            .room(&room_id)
            .await
            .map_err(unavailable)?
            .is_none() =>
        {
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
        let Path(room) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let Query(query) = Query::<TokenQuery>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let (room, role) = authorize(state, &room, &query, &parts.headers).await?;
        Ok(RoomAccess { room, role })
    }
}
