//! HTTP routes of the bank (docs/PROTOCOL.md §1): the problem list with search and facets, one problem as
//! a candidate sees it (with its staff-level considerations), its reference solution and analysis (kept apart so that a later change can reserve
//! them for interviewers), and the component catalog.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::error::ErrorBody;
use crate::problems::model::{Analysis, Problem, ReferenceSolution, Staff};
use crate::problems::search::{self, DEFAULT_PER_PAGE, Facets};
use crate::problems::{Bank, ParamDef};
use crate::{Error, Result};

/// `GET /api/problems`, `GET /api/problems/{id}`, `GET /api/problems/{id}/solution`, `GET /api/components`.
pub fn router(bank: Arc<Bank>) -> Router {
    router_with(bank, false)
}

/// As [`router`]; with `hide_solutions` (`--hide-solutions`, for interviews) the solution route
/// answers 404 and a problem is served without its hints and its tutorial (a worked solution): the
/// room route `GET /api/rooms/{room}/solution` serves them to whom the room allows.
pub fn router_with(bank: Arc<Bank>, hide_solutions: bool) -> Router {
    Router::new()
        .route("/api/problems", get(list))
        .route("/api/problems/{id}", get(one))
        .route("/api/problems/{id}/solution", get(solution))
        .route("/api/components", get(components))
        .with_state(BankState {
            bank,
            hide_solutions,
        })
}

/// The state of the bank's routes.
#[derive(Clone)]
pub struct BankState {
    bank: Arc<Bank>,
    hide_solutions: bool,
}

impl FromRef<BankState> for Arc<Bank> {
    fn from_ref(state: &BankState) -> Arc<Bank> {
        state.bank.clone()
    }
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

/// `GET /api/problems` query. Numbers are taken as text so that a bad one gets a sentence, not a
/// parser's rejection.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// Words to search for in titles, summaries, descriptions and requirements (BM25F ranking).
    q: Option<String>,
    /// Only this category (see `facets`).
    category: Option<String>,
    /// Only this difficulty (see `facets`).
    difficulty: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1)]
    page: Option<u64>,
    /// Items per page (at most 100).
    #[param(minimum = 1)]
    per_page: Option<u64>,
    /// `family`: show each family of near-identical problems once, its other matching variants in
    /// the item's `variants` (pages then count these groups).
    group: Option<String>,
}

/// One page of the bank, with facet counts over every match.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemList {
    /// Matching problems, every variant counted (the facets add up to it).
    pub total: usize,
    /// Items over all pages: `total` less the variants grouped under another item (with
    /// `group=family`), else `total`.
    pub groups: usize,
    pub page: usize,
    pub per_page: usize,
    pub items: Vec<ProblemSummary>,
    pub facets: Facets,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemSummary {
    pub id: String,
    pub title: String,
    pub category: String,
    pub difficulty: Option<String>,
    pub summary: String,
    pub tier_count: usize,
    /// `authored`, `seed` or `none`.
    pub tier_source: String,
    pub offers: Offers,
    /// The family of near-identical problems this one is a variant of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<FamilyRef>,
    /// With `group=family`: the family's other matching variants, in rank order (each without
    /// `variants`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub variants: Vec<ProblemSummary>,
}

/// A problem's family, as the list shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FamilyRef {
    pub id: String,
    /// The words the variants share (`…` where they differ).
    pub title: String,
    /// How many problems the family has in the whole bank.
    pub size: usize,
}

fn family_ref(bank: &Bank, id: &str) -> Option<FamilyRef> {
    bank.family_of(id).map(|f| FamilyRef {
        id: f.id.clone(),
        title: f.title.clone(),
        size: f.variants.len(),
    })
}

fn summary_of(bank: &Bank, p: &Problem) -> ProblemSummary {
    ProblemSummary {
        id: p.id.clone(),
        title: p.title.clone(),
        category: p.category.clone(),
        difficulty: p.difficulty.clone(),
        summary: card_summary(p),
        tier_count: p.tiers.len(),
        tier_source: p.tier_source().to_string(),
        offers: Offers {
            tutorial: p.tutorial.is_some(),
            checkpoints: p.tutorial.as_ref().map_or(0, |t| t.checkpoints.len()),
            hints: p.hints.len(),
            reference: p.reference_solution.is_some(),
            analysis: p.analysis.is_some(),
        },
        family: family_ref(bank, &p.id),
        variants: Vec::new(),
    }
}

/// What a problem comes with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Offers {
    pub tutorial: bool,
    pub checkpoints: usize,
    pub hints: usize,
    pub reference: bool,
    pub analysis: bool,
}

#[utoipa::path(get, path = "/api/problems", tag = "problems",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of matching problems", body = ProblemList),
        (status = 400, description = "A bad `page`, `per_page` or `group`", body = ErrorBody),
    ))]
pub async fn list(
    State(bank): State<Arc<Bank>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ProblemList>> {
    let group_families = match text(&params, "group").as_deref() {
        None => false,
        Some("family") => true,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "'group' can only be 'family', got '{other}'"
            )));
        }
    };
    let query = search::Query {
        q: text(&params, "q").unwrap_or_default(),
        category: text(&params, "category"),
        difficulty: text(&params, "difficulty"),
        page: number(&params, "page", 1)?,
        per_page: number(&params, "per_page", DEFAULT_PER_PAGE)?,
        group_families,
    };
    let results = bank.search(&query);
    let items = results
        .hits
        .iter()
        .filter_map(|h| {
            let mut item = summary_of(&bank, &*bank.get(&h.id)?);
            item.variants = h
                .variants
                .iter()
                .filter_map(|v| Some(summary_of(&bank, &*bank.get(&v.id)?)))
                .collect();
            Some(item)
        })
        .collect();
    Ok(Json(ProblemList {
        total: results.total,
        groups: results.groups,
        page: results.page,
        per_page: results.per_page,
        items,
        facets: results.facets,
    }))
}

/// The card's line: the summary, or for a problem without one the description's first sentence.
fn card_summary(p: &Problem) -> String {
    if !p.summary.trim().is_empty() {
        return p.summary.clone();
    }
    let first = p.description.lines().next().unwrap_or_default().trim();
    match first.find(". ") {
        Some(end) => first[..=end].to_string(),
        None if first.is_empty() || first.ends_with(['.', '!', '?']) => first.to_string(),
        None => format!("{first}."),
    }
}

/// Fields kept for after the attempt (the answer), and which a later change may reserve for interviewers.
/// `staff` considerations are part of the problem statement and stay visible.
const HIDDEN: [&str; 2] = ["reference_solution", "analysis"];
/// Also left out on a server started with `--hide-solutions`: the hints, and the tutorial (it walks
/// through the solution, its checkpoints carry answers).
const HIDDEN_FOR_INTERVIEWS: [&str; 2] = ["hints", "tutorial"];

#[utoipa::path(get, path = "/api/problems/{id}", tag = "problems",
    params(("id" = String, Path, description = "Problem id", example = "classic-tinyurl-url-shortener")),
    responses(
        (status = 200, description = "The problem as a candidate sees it (no `reference_solution`, no `analysis`)", body = Problem),
        (status = 404, description = "No such problem", body = ErrorBody),
    ))]
pub async fn one(State(state): State<BankState>, Path(id): Path<String>) -> Result<Json<Value>> {
    let p = state.bank.get(&id).ok_or(Error::UnknownProblem(id))?;
    let mut v = serde_json::to_value(&*p)
        .map_err(|e| Error::Internal(format!("serialising problem: {e}")))?;
    if let Some(map) = v.as_object_mut() {
        for k in HIDDEN {
            map.remove(k);
        }
        if state.hide_solutions {
            for k in HIDDEN_FOR_INTERVIEWS {
                map.remove(k);
            }
        }
    }
    Ok(Json(v))
}

/// `GET /api/problems/{id}/solution`: the answer to a problem.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Solution {
    pub id: String,
    pub reference_solution: Option<ReferenceSolution>,
    pub analysis: Option<Analysis>,
    pub staff: Option<Staff>,
}

#[utoipa::path(get, path = "/api/problems/{id}/solution", tag = "problems",
    params(("id" = String, Path, description = "Problem id", example = "classic-tinyurl-url-shortener")),
    responses(
        (status = 200, description = "The reference solution and analysis", body = Solution),
        (status = 404, description = "No such problem", body = ErrorBody),
    ))]
pub async fn solution(
    State(state): State<BankState>,
    Path(id): Path<String>,
) -> Result<Json<Solution>> {
    if state.hide_solutions {
        // The same answer as for a problem that does not exist: nothing tells a candidate the
        // solution is there to be had.
        return Err(Error::UnknownProblem(id));
    }
    let p = state.bank.get(&id).ok_or(Error::UnknownProblem(id))?;
    Ok(Json(Solution::of(&p)))
}

impl Solution {
    pub fn of(p: &Problem) -> Solution {
        Solution {
            id: p.id.clone(),
            reference_solution: p.reference_solution.clone(),
            analysis: p.analysis.clone(),
            staff: p.staff.clone(),
        }
    }
}

/// `GET /api/components`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Components {
    pub components: Vec<Component>,
}

/// A component type of the catalog.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Component {
    #[serde(rename = "type")]
    pub ty: String,
    pub name: String,
    /// The canonical kind validation matches on; aliases share their target's kind.
    pub kind: String,
    pub family: String,
    pub icon: String,
    /// Other type ids of the same kind.
    pub aliases: Vec<String>,
    pub params: Vec<ParamDef>,
    /// Per-instance capacity for the simulation (absent for notes).
    pub capacity: Option<ComponentCapacity>,
}

/// A type's capacity as `GET /api/components` serves it: the figures, and the source's text (with
/// its id and whether it is a guess) rather than only its id.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComponentCapacity {
    pub rps: f64,
    pub service_ms: f64,
    pub monthly_usd: f64,
    #[serde(rename = "async")]
    pub is_async: bool,
    pub source: String,
    pub source_id: String,
    pub guess: bool,
}

fn capacity(
    catalog: &crate::problems::Catalog,
    t: &crate::problems::ComponentType,
) -> Option<ComponentCapacity> {
    t.capacity.as_ref().map(|c| {
        let source = catalog.source(&c.source);
        ComponentCapacity {
            rps: c.rps,
            service_ms: c.service_ms,
            monthly_usd: c.monthly_usd,
            is_async: c.is_async,
            source: source.map_or(c.source.clone(), |s| s.text.clone()),
            source_id: c.source.clone(),
            guess: source.is_some_and(|s| s.guess),
        }
    })
}

#[utoipa::path(get, path = "/api/components", tag = "problems",
    responses((status = 200, description = "The component catalog", body = Components)))]
pub async fn components(State(bank): State<Arc<Bank>>) -> Json<Components> {
    let catalog = bank.catalog();
    let components = catalog
        .iter()
        .map(|t| Component {
            ty: t.ty.clone(),
            name: t.name.clone(),
            kind: t.kind.clone(),
            family: t.family.clone(),
            icon: t.icon.clone(),
            aliases: t.aliases.clone(),
            params: t.params.clone(),
            capacity: capacity(catalog, t),
        })
        .collect();
    Json(Components { components })
}
