//! `POST /api/validate`: validate a design JSON against a problem's tiers, without a room.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::design::Design;
use crate::error::{ErrorBody, json_body};
use crate::problems::Bank;
use crate::{Error, Result};

use super::{ValidationResult, validate};

/// The request body: `{"problem": "<id>", "design": <design JSON, docs/PROTOCOL.md §3>}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ValidateRequest {
    /// A problem id of the bank.
    #[schema(example = "classic-tinyurl-url-shortener")]
    pub problem: String,
    pub design: Design,
}

/// The stateless validation route. Merge it into the application router.
pub fn router(bank: Arc<Bank>) -> Router {
    Router::new()
        .route("/api/validate", post(validate_design))
        .with_state(bank)
}

#[utoipa::path(post, path = "/api/validate", tag = "design",
    request_body = ValidateRequest,
    responses(
        (status = 200, description = "The validation result", body = ValidationResult),
        (status = 400, description = "Not JSON, or no `problem` / `design`", body = ErrorBody),
        (status = 404, description = "No such problem", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ))]
pub async fn validate_design(
    State(bank): State<Arc<Bank>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ValidationResult>> {
    // A design is read leniently (malformed parts become design issues); only JSON that does not
    // parse, or a request without `problem` / `design`, is refused.
    let request: ValidateRequest = json_body(body)?;
    let problem = bank
        .get(&request.problem)
        .ok_or_else(|| Error::UnknownProblem(request.problem.clone()))?;
    let result = validate(&problem, bank.catalog(), &request.design);
    tracing::debug!(
        problem = %request.problem,
        nodes = request.design.nodes.len(),
        reached = result.reached,
        "validated a design"
    );
    Ok(Json(result))
}
