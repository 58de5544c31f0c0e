//! One crate error, mapped to HTTP status codes and WebSocket close codes in one place.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::close::CloseCode;

/// The body of every error answer: a sentence for people and a stable code for programs.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in one sentence (server errors say only "internal error").
    pub error: String,
    /// One of the codes of [`Error::code`].
    #[schema(value_type = ErrorCode)]
    pub code: String,
}

/// The stable error codes (docs/PROTOCOL.md), as the OpenAPI document lists them.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum ErrorCode {
    BadRequest,
    BadJson,
    Unauthorized,
    Forbidden,
    MethodNotAllowed,
    RateLimited,
    UnknownProblem,
    UnknownRoom,
    NotFound,
    TooLarge,
    UpgradeRequired,
    Unavailable,
    Internal,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid JSON: {0}")]
    BadJson(String),
    #[error("missing or invalid token")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// Too many actions from one address; retry after the given time.
    #[error("too many requests from this address: retry in {} s", .0.as_secs().max(1))]
    RateLimited(std::time::Duration),
    #[error("no problem with id '{0}'")]
    UnknownProblem(String),
    #[error("no room with id '{0}'")]
    UnknownRoom(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    /// A plain HTTP request (or another WebSocket version) on the WebSocket endpoint.
    #[error("{0}")]
    UpgradeRequired(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) | Error::BadJson(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::UnknownProblem(_) | Error::UnknownRoom(_) | Error::NotFound(_) => {
                StatusCode::NOT_FOUND
            }
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UpgradeRequired(_) => StatusCode::UPGRADE_REQUIRED,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::BadJson(_) => "bad_json",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::RateLimited(_) => "rate_limited",
            Error::UnknownProblem(_) => "unknown_problem",
            Error::UnknownRoom(_) => "unknown_room",
            Error::NotFound(_) => "not_found",
            Error::TooLarge(_) => "too_large",
            Error::UpgradeRequired(_) => "upgrade_required",
            Error::Unavailable(_) => "unavailable",
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => "internal",
        }
    }

    /// One error of each code, for tests that check a table against [`Error::code`].
    #[cfg(test)]
    pub(crate) fn examples() -> Vec<Error> {
        let s = String::new;
        vec![
            Error::BadRequest(s()),
            Error::BadJson(s()),
            Error::Unauthorized,
            Error::Forbidden(s()),
            Error::MethodNotAllowed,
            Error::RateLimited(std::time::Duration::ZERO),
            Error::UnknownProblem(s()),
            Error::UnknownRoom(s()),
            Error::NotFound(s()),
            Error::TooLarge(s()),
            Error::UpgradeRequired(s()),
            Error::Unavailable(s()),
            Error::Internal(s()),
        ]
    }

    /// The WebSocket close code for an error that ends a connection (docs/PROTOCOL.md §2).
    pub fn close_code(&self) -> CloseCode {
        match self {
            Error::Unauthorized | Error::Forbidden(_) => CloseCode::Unauthorized,
            Error::UnknownRoom(_) | Error::UnknownProblem(_) | Error::NotFound(_) => {
                CloseCode::UnknownRoom
            }
            Error::TooLarge(_) => CloseCode::TooLarge,
            Error::BadRequest(_)
            | Error::BadJson(_)
            | Error::UpgradeRequired(_)
            | Error::MethodNotAllowed => CloseCode::Malformed,
            Error::Unavailable(_) | Error::RateLimited(_) => CloseCode::TryAgainLater,
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => CloseCode::Internal,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
        // Internal details stay in the log; the client gets a stable sentence.
        let message = if status.is_server_error() && !matches!(self, Error::Unavailable(_)) {
            "internal error".to_string()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: message,
                code: self.code().to_string(),
            }),
        )
            .into_response();
        if let Error::RateLimited(wait) = &self {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Reads a JSON request body taken as `Result<Bytes, BytesRejection>` (any content type): a body over
/// the route's limit is 413 `too_large`, an unreadable one 400, JSON that does not parse into `T`
/// 400 `bad_json` with the parser's sentence.
pub fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge(format!("request body: {}", rejection.body_text()))
        } else {
            Error::BadRequest(rejection.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|e| Error::BadJson(e.to_string()))
}
