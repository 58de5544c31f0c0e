//! `POST /api/simulate`: simulate a design JSON for a problem under a scenario, without a room.

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

use super::{Scenario, SimulationResult, simulate};

/// Most nodes a design may have here. A room's design is bounded by the WebSocket message size; this
/// stateless route bounds the work one request can ask for (the single-point-of-failure check runs
/// one scenario per node).
pub const MAX_NODES: usize = 2_000;
/// Most edges a design may have here.
pub const MAX_EDGES: usize = 10_000;
/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The request body: `{"problem": "<id>", "design": <design JSON>, "scenario": {...}}` (`scenario`
/// optional: peak).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// A problem id of the bank.
    #[schema(example = "classic-tinyurl-url-shortener")]
    pub problem: String,
    pub design: Design,
    #[serde(default)]
    pub scenario: Scenario,
}

/// The stateless simulation route. Merge it into the application router.
pub fn router(bank: Arc<Bank>) -> Router {
    Router::new()
        .route("/api/simulate", post(simulate_design))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(bank)
}

#[utoipa::path(post, path = "/api/simulate", tag = "design",
    request_body = SimulateRequest,
    responses(
        (status = 200, description = "The simulation result", body = SimulationResult),
        (status = 400, description = "Not JSON, or not of this shape", body = ErrorBody),
        (status = 404, description = "No such problem", body = ErrorBody),
        (status = 413, description = "The body or the design is too large", body = ErrorBody),
    ))]
pub async fn simulate_design(
    State(bank): State<Arc<Bank>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SimulationResult>> {
    let request: SimulateRequest = json_body(body)?;
    let (nodes, edges) = (request.design.nodes.len(), request.design.edges.len());
    if nodes > MAX_NODES || edges > MAX_EDGES {
        return Err(Error::TooLarge(format!(
            "design has {nodes} nodes and {edges} edges; at most {MAX_NODES} nodes and {MAX_EDGES} edges are simulated"
        )));
    }
    let problem = bank
        .get(&request.problem)
        .ok_or_else(|| Error::UnknownProblem(request.problem.clone()))?;
    // Pure and bounded (MAX_NODES), but the failure check is O(nodes × (nodes + edges)): off the
    // async workers.
    let catalog_bank = bank.clone();
    let result = tokio::task::spawn_blocking(move || {
        simulate(
            &problem,
            catalog_bank.catalog(),
            &request.design,
            &request.scenario,
        )
    })
    .await
    .map_err(|e| Error::Internal(format!("simulation task: {e}")))?;
    tracing::debug!(
        problem = %result.problem,
        nodes,
        error_rate = result.end_to_end.error_rate,
        "simulated a design"
    );
    Ok(Json(result))
}
