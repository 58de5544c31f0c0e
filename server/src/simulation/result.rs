//! The scenario a simulation is asked for and the result it gives (docs/PROTOCOL.md, `POST /api/simulate`).
//!
//! The result is `PartialEq` and deterministic for a given input (node figures in a `BTreeMap` by id,
//! no timestamps), so a room can push it only when it changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::graph::{Role, SimIssue};

/// The load of a scenario: the problem's normal or peak rate, or a multiple of peak.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Load {
    Normal,
    #[default]
    Peak,
    /// A multiple of the peak rate (`{"load": 10}` is a 10× spike), finite and ≥ 0.
    Times(f64),
}

impl<'de> Deserialize<'de> for Load {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Load, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match &value {
            serde_json::Value::String(s) if s == "normal" => Ok(Load::Normal),
            serde_json::Value::String(s) if s == "peak" => Ok(Load::Peak),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(m) if m.is_finite() && (0.0..=MAX_MULTIPLIER).contains(&m) => {
                    Ok(Load::Times(m))
                }
                _ => Err(serde::de::Error::custom(format!(
                    "`load` must be between 0 and {MAX_MULTIPLIER} times peak, got {n}"
                ))),
            },
            other => Err(serde::de::Error::custom(format!(
                "`load` must be \"normal\", \"peak\" or a multiple of peak, got {other}"
            ))),
        }
    }
}

impl Serialize for Load {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Load::Normal => serializer.serialize_str("normal"),
            Load::Peak => serializer.serialize_str("peak"),
            Load::Times(m) => serializer.serialize_f64(*m),
        }
    }
}

// Hand-written: `Load` (de)serialises by hand, as a name or a number.
impl utoipa::PartialSchema for Load {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["normal", "peak"])),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(0.0))
                    .maximum(Some(MAX_MULTIPLIER)),
            )
            .description(Some(
                "The problem's normal or peak rate, or a multiple of peak (`10` is a 10x spike)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Load {}

/// Largest spike multiplier accepted.
pub const MAX_MULTIPLIER: f64 = 1_000_000.0;

/// `{"load": "normal"|"peak"|<number>, "fail": ["<node id>"], "cold_cache": bool}`; every field optional
/// (peak, nothing failed, warm caches).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub load: Load,
    #[serde(default)]
    pub fail: Vec<String>,
    #[serde(default)]
    pub cold_cache: bool,
}

impl Scenario {
    pub fn peak() -> Scenario {
        Scenario::default()
    }
}

/// What the scenario offered, with the workload it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScenarioResult {
    pub load: Load,
    /// The rate as a multiple of peak (normal ÷ peak for `normal`).
    pub multiplier: f64,
    /// Requests/s entering at the clients.
    pub offered_rps: f64,
    pub read_share: f64,
    pub read_rps: f64,
    pub write_rps: f64,
    pub peak_rps: f64,
    pub normal_rps: f64,
    pub read_share_from: String,
    pub default_hit_rate: f64,
    pub latency_target_ms: f64,
    pub latency_percentile: String,
    pub availability_percent: f64,
    /// Failed nodes that exist in the design.
    pub fail: Vec<String>,
    pub cold_cache: bool,
    /// Workload figures the problem does not state, with the default used.
    pub defaults: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NodeResult {
    #[serde(rename = "type")]
    pub ty: String,
    pub label: String,
    pub role: Role,
    #[serde(rename = "async")]
    pub is_async: bool,
    pub instances: f64,
    /// The demand reaching the node: what arrives when every node upstream keeps up.
    pub offered_rps: f64,
    pub read_rps: f64,
    pub write_rps: f64,
    /// What it serves of that: capacity-bound (asynchronous nodes: the rest waits in the backlog).
    pub served_rps: f64,
    /// `instances × rps` (0 for clients and unknown types, which are not sized).
    pub capacity_rps: f64,
    pub utilisation: f64,
    /// Mean response time of the node itself (service + queueing), ms.
    pub latency_ms: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    /// Asynchronous nodes: arrivals beyond capacity per second (the backlog grows by this).
    pub backlog_rps: f64,
    pub failed: bool,
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EdgeResult {
    pub from: String,
    pub to: String,
    /// Requests per second along the edge.
    pub rps: f64,
    /// Off the request path (into an asynchronous node, or replication).
    pub off_path: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EndToEnd {
    /// Requests/s answered without error.
    pub throughput_rps: f64,
    pub error_rate: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Outcome of a capacity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// A figure to know, with no target to meet (the monthly cost without a stated budget).
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `sustains_peak`, `latency_target`, `no_single_point_of_failure`, `monthly_cost`.
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    /// What was found, with the arithmetic.
    pub explanation: String,
    /// The nodes the check concerns (the overloaded ones, the single points of failure ...).
    pub nodes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SimulationResult {
    pub problem: String,
    pub scenario: ScenarioResult,
    pub nodes: BTreeMap<String, NodeResult>,
    pub edges: BTreeMap<String, EdgeResult>,
    pub end_to_end: EndToEnd,
    /// The node with the highest utilisation (ties: the first id), if any node takes load.
    pub bottleneck: Option<String>,
    pub monthly_usd: f64,
    /// The capacity checks, always at the problem's peak (whatever the scenario).
    pub checks: Vec<Check>,
    /// The arithmetic behind the figures, one sentence each.
    pub explanations: Vec<String>,
    pub design_issues: Vec<SimIssue>,
}

impl SimulationResult {
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}
