//! HTTP routes of the bank (docs/PROTOCOL.md §1): the problem list with search and facets, one problem as
//! a candidate sees it (with its staff-level considerations), its reference solution and analysis (kept apart so that a later change can reserve
//! them for interviewers), and the component catalog.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::problems::Bank;
use crate::problems::search::{self, DEFAULT_PER_PAGE};
use crate::{Error, Result};

/// `GET /api/problems`, `GET /api/problems/{id}`, `GET /api/problems/{id}/solution`, `GET /api/components`.
pub fn router(bank: Arc<Bank>) -> Router {
    Router::new()
        .route("/api/problems", get(list))
        .route("/api/problems/{id}", get(one))
        .route("/api/problems/{id}/solution", get(solution))
        .route("/api/components", get(components))
        .with_state(bank)
}

fn number(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize> {
    match params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s.parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(|| {
            Error::BadRequest(format!("'{name}' must be a positive integer, got '{s}'"))
        }),
    }
}

fn text(params: &HashMap<String, String>, name: &str) -> Option<String> {
    params
        .get(name)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

async fn list(
    State(bank): State<Arc<Bank>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let query = search::Query {
        q: text(&params, "q").unwrap_or_default(),
        category: text(&params, "category"),
        difficulty: text(&params, "difficulty"),
        page: number(&params, "page", 1)?,
        per_page: number(&params, "per_page", DEFAULT_PER_PAGE)?,
    };
    let results = bank.search(&query);
    let items: Vec<Value> = results
        .hits
        .iter()
        .filter_map(|h| bank.get(&h.id))
        .map(|p| {
            json!({
                "id": p.id,
                "title": p.title,
                "category": p.category,
                "difficulty": p.difficulty,
                "summary": p.summary,
                "tier_count": p.tiers.len(),
                "tier_source": p.tier_source(),
                "offers": {
                    "tutorial": p.tutorial.is_some(),
                    "checkpoints": p.tutorial.as_ref().map_or(0, |t| t.checkpoints.len()),
                    "hints": p.hints.len(),
                    "reference": p.reference_solution.is_some(),
                    "analysis": p.analysis.is_some(),
                },
            })
        })
        .collect();
    Ok(Json(json!({
        "total": results.total,
        "page": results.page,
        "per_page": results.per_page,
        "items": items,
        "facets": results.facets,
    })))
}

/// Fields kept for after the attempt (the answer), and which a later change may reserve for interviewers.
/// `staff` considerations are part of the problem statement and stay visible.
const HIDDEN: [&str; 2] = ["reference_solution", "analysis"];

async fn one(State(bank): State<Arc<Bank>>, Path(id): Path<String>) -> Result<Json<Value>> {
    let p = bank.get(&id).ok_or(Error::UnknownProblem(id))?;
    let mut v = serde_json::to_value(&*p)
        .map_err(|e| Error::Internal(format!("serialising problem: {e}")))?;
    if let Some(map) = v.as_object_mut() {
        for k in HIDDEN {
            map.remove(k);
        }
    }
    Ok(Json(v))
}

async fn solution(State(bank): State<Arc<Bank>>, Path(id): Path<String>) -> Result<Json<Value>> {
    let p = bank.get(&id).ok_or(Error::UnknownProblem(id))?;
    Ok(Json(json!({
        "id": p.id,
        "reference_solution": p.reference_solution,
        "analysis": p.analysis,
        "staff": p.staff,
    })))
}

/// A type's capacity as `GET /api/components` serves it: the figures, and the source's text (with
/// its id and whether it is a guess) rather than only its id.
fn capacity_json(catalog: &crate::problems::Catalog, t: &crate::problems::ComponentType) -> Value {
    match &t.capacity {
        None => Value::Null,
        Some(c) => {
            let source = catalog.source(&c.source);
            json!({
                "rps": c.rps,
                "service_ms": c.service_ms,
                "monthly_usd": c.monthly_usd,
                "async": c.is_async,
                "source": source.map_or(c.source.as_str(), |s| s.text.as_str()),
                "source_id": c.source,
                "guess": source.is_some_and(|s| s.guess),
            })
        }
    }
}

async fn components(State(bank): State<Arc<Bank>>) -> Json<Value> {
    let catalog = bank.catalog();
    let list: Vec<Value> = catalog
        .iter()
        .map(|t| {
            json!({
                "type": t.ty,
                "name": t.name,
                "kind": t.kind,
                "family": t.family,
                "icon": t.icon,
                "aliases": t.aliases,
                "params": t.params,
                "capacity": capacity_json(catalog, t),
            })
        })
        .collect();
    Json(json!({ "components": list }))
}
