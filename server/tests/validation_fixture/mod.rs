//! Shared by the validation test suites: a small component catalog and tutorial-simple-blog written by
//! hand from the seed (004, problem 1), with its reference solution as a design.
#![allow(dead_code)]

use serde_json::json;
use tierboard::design::{Design, DesignEdge, DesignNode};
use tierboard::problems::model::Origin;
use tierboard::problems::{Catalog, ComponentType, Problem, Rule, Tier, TierSource};

pub fn catalog() -> Catalog {
    let instances =
        json!({"name": "instances", "type": "integer", "default": 1, "min": 1, "max": 100000});
    let mut types = json!([
        {"type": "client", "name": "Client", "kind": "client", "family": "client", "icon": "user"},
        {"type": "redirect_client", "name": "Client", "kind": "client", "family": "client", "icon": "user"},
        {"type": "lb", "name": "Load Balancer", "kind": "lb", "family": "network", "icon": "lb"},
        {"type": "app", "name": "App Server", "kind": "app", "family": "compute", "icon": "server",
         "params": [{"name": "cpu_cores", "type": "integer", "default": 4, "min": 1, "max": 192}]},
        {"type": "db_primary", "name": "Primary DB", "kind": "db_primary", "family": "storage", "icon": "db"},
        {"type": "db_replica", "name": "Read Replica", "kind": "db_replica", "family": "storage", "icon": "db"},
        {"type": "cache", "name": "Cache", "kind": "cache", "family": "cache", "icon": "bolt",
         "params": [{"name": "hit_rate", "type": "number", "default": 0.8, "min": 0, "max": 1}]},
        {"type": "redis", "name": "Redis", "kind": "cache", "family": "cache", "icon": "bolt"},
        {"type": "stream", "name": "Stream", "kind": "stream", "family": "messaging", "icon": "stream",
         "params": [{"name": "partitions", "type": "integer", "min": 1}]},
        {"type": "object_store", "name": "Object Store", "kind": "object_store", "family": "storage", "icon": "bucket"},
        {"type": "s3", "name": "S3", "kind": "object_store", "family": "storage", "icon": "bucket"},
        {"type": "note", "name": "Note", "kind": "note", "family": "annotation", "icon": "note"}
    ]);
    for t in types.as_array_mut().unwrap() {
        if t["type"] != "note" {
            let params = t
                .as_object_mut()
                .unwrap()
                .entry("params")
                .or_insert(json!([]));
            params.as_array_mut().unwrap().push(instances.clone());
        }
    }
    let types: Vec<ComponentType> = serde_json::from_value(types).unwrap();
    Catalog::new(types).unwrap()
}

pub fn include(ty: &str) -> Rule {
    Rule::Include {
        ty: ty.into(),
        text: format!("Must include: {ty}"),
        because: None,
    }
}

pub fn min_count(ty: &str, count: u64) -> Rule {
    Rule::MinCount {
        ty: ty.into(),
        count,
        text: format!("Minimum {count} of type: {ty}"),
        because: None,
    }
}

pub fn connection_from(ty: &str) -> Rule {
    Rule::ConnectionFrom {
        ty: ty.into(),
        text: format!("Must have connection from: {ty}"),
        because: None,
    }
}

pub fn param_range(ty: &str, param: &str, min: f64, max: f64) -> Rule {
    Rule::ParamRange {
        ty: ty.into(),
        param: param.into(),
        min,
        max,
        text: format!("Parameter range check: {ty}.{param}"),
        derived_from: None,
        because: None,
    }
}

pub fn path(types: &[&str]) -> Rule {
    Rule::Path {
        types: types.iter().map(|t| t.to_string()).collect(),
        text: format!("Path: {}", types.join(" → ")),
        because: None,
    }
}

pub fn redundant(ty: &str) -> Rule {
    Rule::Redundant {
        ty: ty.into(),
        text: format!("Redundant: {ty}"),
        because: None,
    }
}

pub fn capacity(ty: Option<&str>, max_utilisation: f64) -> Rule {
    Rule::Capacity {
        ty: ty.map(String::from),
        max_utilisation,
        text: format!("Holds the peak: {}", ty.unwrap_or("every node")),
        because: None,
    }
}

pub fn latency(max_ms: Option<f64>) -> Rule {
    Rule::Latency {
        max_ms,
        text: "p99 at peak within the target".into(),
        because: None,
    }
}

pub fn tier(id: &str, title: &str, rules: Vec<Rule>) -> Tier {
    Tier {
        id: id.into(),
        title: title.into(),
        source: TierSource::Seed,
        generated: false,
        note: None,
        rules,
    }
}

/// tutorial-simple-blog as the seed states it (004, problem 1).
pub fn blog() -> Problem {
    let mut p = Problem::new(
        "tutorial-simple-blog".into(),
        "Tutorial 1: Personal Blog Platform".into(),
        "tutorial".into(),
        Origin {
            file: "004_8b9a9769bbf4307b.txt".into(),
            number: 1,
        },
    );
    p.difficulty = Some("Easy".into());
    p.summary = "Learn the basics of system design".into();
    p.available_components = ["client", "lb", "app", "db_primary", "db_replica"]
        .map(String::from)
        .to_vec();
    p.tiers = vec![
        tier(
            "T0",
            "Basic Setup",
            vec![
                include("app"),
                include("db_primary"),
                connection_from("app"),
            ],
        ),
        tier(
            "T1",
            "High Availability",
            vec![include("lb"), min_count("app", 2)],
        ),
        tier(
            "T2",
            "Scale to 1,000 QPS",
            vec![min_count("app", 7), include("db_replica")],
        ),
    ];
    p.targets.availability_percent = Some(99.9);
    p
}

/// The seed's reference solution: Blog Readers → LB → App Servers (8x) → Primary DB / Read Replica.
pub fn blog_reference() -> Design {
    Design {
        nodes: vec![
            DesignNode::new("readers", "redirect_client", "Blog Readers"),
            DesignNode::new("lb", "lb", "Load Balancer"),
            DesignNode::new("app", "app", "App Servers").with_instances(8),
            DesignNode::new("primary", "db_primary", "Primary DB"),
            DesignNode::new("replica", "db_replica", "Read Replica"),
        ],
        edges: vec![
            DesignEdge::new("e1", "readers", "lb"),
            DesignEdge::new("e2", "lb", "app"),
            DesignEdge::new("e3", "app", "primary"),
            DesignEdge::new("e4", "app", "replica"),
        ],
        read_issues: Vec::new(),
    }
}
