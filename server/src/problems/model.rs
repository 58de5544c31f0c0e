//! The problem model as stored in `problems/<category>/<id>.toml` (see `problems/README.md`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    pub id: String,
    pub title: String,
    pub category: String,
    pub difficulty: Option<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub available_components: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// The availability the problem asks for, in percent (99.9 for "99.9% uptime"), when it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
}

impl Problem {
    /// The availability target in percent, when the problem states one. Validation reports single points
    /// of failure only at 99.9 % or more.
    pub fn availability_target(&self) -> Option<f64> {
        self.availability
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierSource {
    Seed,
    Authored,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tier {
    pub id: String,
    pub title: String,
    pub source: TierSource,
    pub rules: Vec<Rule>,
}

/// One tier rule (docs/PROTOCOL.md §5). `text` is the seed's wording, kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    Include {
        #[serde(rename = "type")]
        ty: String,
        text: String,
    },
    MinCount {
        #[serde(rename = "type")]
        ty: String,
        count: u64,
        text: String,
    },
    ConnectionFrom {
        #[serde(rename = "type")]
        ty: String,
        text: String,
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
    },
}
