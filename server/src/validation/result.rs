//! The validation result (docs/PROTOCOL.md §4) and the tier transitions between two results.
//!
//! The result is `PartialEq` so that a room can push it only when it changed, and it is fully
//! deterministic for a given (problem, catalog, design): no maps with random order, no timestamps.

use serde::{Deserialize, Serialize};

pub use crate::design::{DesignIssue, Finding, IssueCode};
use crate::problems::TierSource;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ValidationResult {
    /// The problem id.
    pub problem: String,
    /// The number of leading tiers reached (0 = none).
    pub reached: usize,
    pub tiers: Vec<TierResult>,
    // Inline: the two are one generic type, which the OpenAPI document cannot name once for both.
    #[schema(inline)]
    pub design_issues: Vec<DesignIssue>,
    #[schema(inline)]
    pub advisories: Vec<Advisory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TierResult {
    pub id: String,
    pub title: String,
    /// Its own rules pass.
    pub passed: bool,
    /// It and every earlier tier pass.
    pub reached: bool,
    pub source: TierSource,
    pub rules: Vec<RuleResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleResult {
    /// The rule's text as the problem file has it (the seed's wording).
    pub text: String,
    pub kind: RuleKind,
    pub passed: bool,
    /// What was found, with the arithmetic, or what is missing.
    pub explanation: String,
    /// The node ids the rule concerns: those that satisfy it, or those that violate it.
    pub nodes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Include,
    MinCount,
    ConnectionFrom,
    ParamRange,
    Path,
    Redundant,
    Capacity,
    Latency,
}

/// Advice about the design that does not affect the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdvisoryCode {
    IsolatedNode,
    NoClientToStoragePath,
    SinglePointOfFailure,
}

pub type Advisory = Finding<AdvisoryCode>;

impl ValidationResult {
    /// Every tier is reached.
    pub fn all_reached(&self) -> bool {
        self.reached == self.tiers.len()
    }

    pub fn tier(&self, id: &str) -> Option<&TierResult> {
        self.tiers.iter().find(|t| t.id == id)
    }
}

/// A tier becoming reached or no longer reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierEvent {
    Reached,
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierTransition {
    pub tier: String,
    pub event: TierEvent,
}

/// The tier transitions from `before` to `after`, in tier order. With no `before` (a room's first
/// result) every reached tier counts as newly reached. Tiers are matched by id, so a tier that is
/// reached in `before` and absent from `after` is lost.
pub fn transitions(
    before: Option<&ValidationResult>,
    after: &ValidationResult,
) -> Vec<TierTransition> {
    let was_reached = |id: &str| {
        before
            .and_then(|b| b.tier(id))
            .is_some_and(|tier| tier.reached)
    };
    let mut out = Vec::new();
    if let Some(before) = before {
        for tier in &before.tiers {
            if tier.reached && after.tier(&tier.id).is_none() {
                out.push(TierTransition {
                    tier: tier.id.clone(),
                    event: TierEvent::Lost,
                });
            }
        }
    }
    for tier in &after.tiers {
        match (was_reached(&tier.id), tier.reached) {
            (false, true) => out.push(TierTransition {
                tier: tier.id.clone(),
                event: TierEvent::Reached,
            }),
            (true, false) => out.push(TierTransition {
                tier: tier.id.clone(),
                event: TierEvent::Lost,
            }),
            _ => {}
        }
    }
    out
}
