//! The problem model as stored in `problems/<category>/<id>.toml` (field by field in `problems/README.md`).
//!
//! One struct per file section. Field order is the order the importer writes, so that files read top to
//! bottom like the seed: what the candidate sees first, then tiers, then the interviewer-only parts
//! (reference solution, analysis).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::design::{Design, DesignEdge, DesignNode, ParamValue};

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    pub id: String,
    pub title: String,
    pub category: String,
    /// `Easy`, `Foundation`, `Intermediate`, `Advanced`, `L5-Staff`, `L6-Principal`; absent when the seed gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<String>,
    /// Which seed file the problem comes from and its position there.
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub goal: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functional_requirements: Vec<String>,
    /// Component type ids offered in the palette for this problem.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_components: Vec<String>,
    /// Set when `available_components` was chosen by the authoring step (the seed lists none).
    #[serde(default, skip_serializing_if = "is_false")]
    pub available_components_authored: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// Machine-readable figures taken from the non-functional requirements.
    #[serde(default, skip_serializing_if = "Targets::is_empty")]
    pub targets: Targets,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_functional_requirements: Vec<Requirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constants: Vec<Constant>,
    /// Seed text that has no dedicated field (the classic questions' schemas, APIs, deliverables ...), verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tutorial: Option<Tutorial>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_solution: Option<ReferenceSolution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<Staff>,
}

impl Problem {
    /// A problem with only its identity set; the seed parsers fill in the rest.
    pub fn new(id: String, title: String, category: String, origin: Origin) -> Problem {
        Problem {
            id,
            title,
            category,
            difficulty: None,
            origin,
            summary: String::new(),
            goal: String::new(),
            description: String::new(),
            functional_requirements: vec![],
            available_components: vec![],
            available_components_authored: false,
            hints: vec![],
            targets: Targets::default(),
            non_functional_requirements: vec![],
            constants: vec![],
            sections: vec![],
            tutorial: None,
            tiers: vec![],
            reference_solution: None,
            analysis: None,
            staff: None,
        }
    }

    /// The availability target in percent (99.9 for "99.9% uptime"), from the non-functional requirements.
    pub fn availability_target(&self) -> Option<f64> {
        self.targets.availability_percent
    }

    /// The constant called `name`, as a number when it is one.
    pub fn constant_f64(&self, name: &str) -> Option<f64> {
        self.constants
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.value.as_f64())
    }

    /// The reference solution as the design JSON of docs/PROTOCOL.md §3.
    pub fn reference_design(&self) -> Option<Design> {
        self.reference_solution
            .as_ref()
            .map(ReferenceSolution::design)
    }

    /// Whether the tiers were written by hand (a tier carries a note): no tool rewrites them.
    pub fn tiers_by_hand(&self) -> bool {
        self.tiers.iter().any(|t| t.note.is_some())
    }

    /// Where the tiers come from: `seed`, `authored`, or `none`.
    pub fn tier_source(&self) -> &'static str {
        match self.tiers.first().map(|t| t.source) {
            Some(TierSource::Seed) => "seed",
            Some(TierSource::Authored) => "authored",
            None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// Seed file name, e.g. `004_8b9a9769bbf4307b.txt`.
    pub file: String,
    /// 1-based position of the problem in that file.
    pub number: u32,
}

/// Structured figures from the non-functional requirements (each one optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// "99.99% uptime" → 99.99.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_percent: Option<f64>,
    /// Latency bounds in milliseconds by percentile (`p50`, `p95`, `p99`, `p999`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_ms: BTreeMap<String, f64>,
    /// The largest per-second rate the request-rate requirement names (peak), in units per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rate_per_sec: Option<f64>,
    /// Where a hand-written `peak_rate_per_sec` comes from when no requirement states it: the problem's
    /// own phrase, as `<field>: "<phrase>"` (the classic questions state their peak in a section, e.g.
    /// `sections: "Peak traffic (3x): ~87,000 RPS"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rate_from: Option<String>,
    /// For a hand-written peak the text states only through other figures (users, a per-user action,
    /// a segment length): the estimate, as an interviewer writes it, whose first side evaluates to
    /// `peak_rate_per_sec` (`"300,000,000 concurrent streams ÷ 10 s per segment = 30,000,000 requests/s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rate_arithmetic: Option<String>,
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.availability_percent.is_none()
            && self.latency_ms.is_empty()
            && self.peak_rate_per_sec.is_none()
    }
}

/// One non-functional requirement, e.g. `name = "Latency"`, `text = "P99 < 200ms"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub name: String,
    /// `integer`, `float`, `boolean` or `string`.
    #[serde(rename = "type")]
    pub ty: String,
    pub value: ConstValue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConstValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
}

// By hand: an integer is also a number, so the document says `anyOf`, not the derive's `oneOf`.
impl utoipa::PartialSchema for ConstValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .into()
    }
}

impl utoipa::ToSchema for ConstValue {}

impl ConstValue {
    /// Reads a seed value: `900` → integer, `0.95` → float, `true` → boolean, anything else text.
    pub fn parse(raw: &str) -> ConstValue {
        let raw = raw.trim();
        if let Ok(i) = raw.parse::<i64>() {
            ConstValue::Integer(i)
        } else if let Ok(f) = raw.parse::<f64>() {
            ConstValue::Float(f)
        } else if raw == "true" || raw == "false" {
            ConstValue::Bool(raw == "true")
        } else {
            ConstValue::Text(raw.to_string())
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            ConstValue::Bool(_) => "boolean",
            ConstValue::Integer(_) => "integer",
            ConstValue::Float(_) => "float",
            ConstValue::Text(_) => "string",
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ConstValue::Integer(i) => Some(*i as f64),
            ConstValue::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// A block of seed text kept verbatim under its heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub heading: String,
    pub text: String,
}

/// The tutorial narrative: the full text, plus its calculations and checkpoint questions pulled out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tutorial {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calculations: Vec<Calculation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<Checkpoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Calculation {
    pub title: String,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub question: String,
    pub answer: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierSource {
    Seed,
    Authored,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub id: String,
    pub title: String,
    pub source: TierSource,
    /// Written by `tierboard-bank author` from the problem's data (not by hand, not by the seed): a
    /// re-run of the tool may replace it. Left out when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub generated: bool,
    /// Who may change the tier, e.g. [`BY_HAND`]: `tierboard-bank author` never rewrites the tiers of a
    /// problem whose tiers carry a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub rules: Vec<Rule>,
}

/// The note on hand-written tiers.
pub const BY_HAND: &str = "authored by hand, never regenerated";

/// One tier rule (docs/PROTOCOL.md §5). `text` is the seed's wording, kept verbatim.
///
/// Authored rules carry `because`: the phrase of the problem's own text the rule comes from.
/// `include`, `min_count`, `connection_from` and `param_range` are the seed's kinds; `path`, `redundant`,
/// `capacity` and `latency` judge how the design is wired and whether it holds the problem's peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    Include {
        #[serde(rename = "type")]
        ty: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    MinCount {
        #[serde(rename = "type")]
        ty: String,
        count: u64,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    ConnectionFrom {
        #[serde(rename = "type")]
        ty: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    ParamRange {
        #[serde(rename = "type")]
        ty: String,
        param: String,
        min: f64,
        max: f64,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        derived_from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    /// Nodes of `types[0]`, `types[1]`, ... joined by one directed path in that order (other nodes may
    /// lie between them).
    Path {
        types: Vec<String>,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    /// No node of the type on the request path is a single instance.
    Redundant {
        #[serde(rename = "type")]
        ty: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    /// At the problem's peak (simulated), the nodes of `type` (the whole design when absent) stay at or
    /// under `max_utilisation` and serve without errors.
    Capacity {
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        ty: Option<String>,
        #[serde(default = "default_max_utilisation")]
        max_utilisation: f64,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
    /// The simulated p99 at the problem's peak is at most `max_ms` (the problem's latency target when
    /// absent).
    Latency {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_ms: Option<f64>,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because: Option<String>,
    },
}

/// The utilisation bound of a `capacity` rule that states none: the headroom interviewers ask for
/// (80 %). The simulation's `HEADROOM` is this value; it is defined here because the simulation reads
/// problems, not the other way round.
pub const DEFAULT_MAX_UTILISATION: f64 = 0.8;

fn default_max_utilisation() -> f64 {
    DEFAULT_MAX_UTILISATION
}

impl Rule {
    /// The component type the rule names, for the rules that name exactly one (`path` names several,
    /// `latency` none, `capacity` one or none).
    pub fn ty(&self) -> Option<&str> {
        match self {
            Rule::Include { ty, .. }
            | Rule::MinCount { ty, .. }
            | Rule::ConnectionFrom { ty, .. }
            | Rule::ParamRange { ty, .. }
            | Rule::Redundant { ty, .. } => Some(ty),
            Rule::Capacity { ty, .. } => ty.as_deref(),
            Rule::Path { .. } | Rule::Latency { .. } => None,
        }
    }

    /// Every component type the rule names, in order.
    pub fn types(&self) -> &[String] {
        match self {
            Rule::Include { ty, .. }
            | Rule::MinCount { ty, .. }
            | Rule::ConnectionFrom { ty, .. }
            | Rule::ParamRange { ty, .. }
            | Rule::Redundant { ty, .. } => std::slice::from_ref(ty),
            Rule::Capacity { ty, .. } => ty.as_slice(),
            Rule::Path { types, .. } => types,
            Rule::Latency { .. } => &[],
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Rule::Include { text, .. }
            | Rule::MinCount { text, .. }
            | Rule::ConnectionFrom { text, .. }
            | Rule::ParamRange { text, .. }
            | Rule::Path { text, .. }
            | Rule::Redundant { text, .. }
            | Rule::Capacity { text, .. }
            | Rule::Latency { text, .. } => text,
        }
    }

    pub fn because(&self) -> Option<&str> {
        match self {
            Rule::Include { because, .. }
            | Rule::MinCount { because, .. }
            | Rule::ConnectionFrom { because, .. }
            | Rule::ParamRange { because, .. }
            | Rule::Path { because, .. }
            | Rule::Redundant { because, .. }
            | Rule::Capacity { because, .. }
            | Rule::Latency { because, .. } => because.as_deref(),
        }
    }

    /// The `kind` tag as it appears in JSON: `include`, `min_count`, `connection_from`, `param_range`,
    /// `path`, `redundant`, `capacity`, `latency`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Include { .. } => "include",
            Rule::MinCount { .. } => "min_count",
            Rule::ConnectionFrom { .. } => "connection_from",
            Rule::ParamRange { .. } => "param_range",
            Rule::Path { .. } => "path",
            Rule::Redundant { .. } => "redundant",
            Rule::Capacity { .. } => "capacity",
            Rule::Latency { .. } => "latency",
        }
    }

    /// Whether answering the rule needs the capacity simulation (`capacity`, `latency`).
    pub fn needs_simulation(&self) -> bool {
        matches!(self, Rule::Capacity { .. } | Rule::Latency { .. })
    }
}

/// A reference design: the seed's `**Components:**` / `**Connections:**` lists as a graph, or an authored one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSolution {
    pub source: TierSource,
    /// The seed's prose about the solution (verbatim), or the authoring note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    pub nodes: Vec<RefNode>,
    #[serde(default)]
    pub edges: Vec<RefEdge>,
}

impl ReferenceSolution {
    pub fn design(&self) -> Design {
        Design {
            nodes: self
                .nodes
                .iter()
                .map(|n| DesignNode {
                    id: n.id.clone(),
                    ty: n.ty.clone(),
                    label: n.label.clone(),
                    x: n.x,
                    y: n.y,
                    params: n.params.clone(),
                })
                .collect(),
            edges: self
                .edges
                .iter()
                .map(|e| DesignEdge {
                    id: e.id.clone(),
                    from: e.from.clone(),
                    to: e.to.clone(),
                    label: None,
                })
                .collect(),
            read_issues: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefNode {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// `instances` always; `hit_rate`, `partitions` ... where a tier checks them.
    pub params: BTreeMap<String, ParamValue>,
    /// True when the seed's solution lacks this component and the importer added it for its own tiers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub added: bool,
    /// Params whose value the seed text does not state (set to the least value the tiers require).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled_in: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefEdge {
    pub id: String,
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub added: bool,
}

/// `### Solution Analysis`: architecture overview, phases with figures, trade-offs and cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub overview: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trade_offs: Vec<TradeOff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Lines of the section no structured field holds, verbatim (kept so that nothing is dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

/// `*Normal Operation:*`, `*Peak Load:*`, `*Failure Scenarios:*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// `normal`, `peak` or `failure` (other names kept as written).
    pub name: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<Fact>,
}

/// `- Name: value` as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TradeOff {
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pros: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cons: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub best_for: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cost: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// `Monthly Total`, `Yearly Total`, `Cost per Request`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub totals: Vec<Fact>,
    /// `Compute`, `Storage`, `Network` ... with the amount and its working as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<Fact>,
}

/// The staff / principal-level considerations that end the L5 and L6 problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    /// `L5 Staff-Level Considerations` or `L6 Principal-Level Innovations`.
    pub heading: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migration_phases: Vec<MigrationPhase>,
    /// Blocks as written (`Organizational Impact`, `Research Foundations`, `Novel Algorithms`, `Industry Vision` ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationPhase {
    pub phase: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub teams: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rollback: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub title: String,
    pub items: Vec<Item>,
}

/// A list item with its indented sub-items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}
