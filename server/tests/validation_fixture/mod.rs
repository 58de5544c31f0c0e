//! Shared by the validation test suites: a small component catalog and tutorial-simple-blog written by
//! hand from the seed (004, problem 1), with its reference solution as a design.
#![allow(dead_code)]

use serde_json::json;
use tierboard::design::{Design, DesignEdge, DesignNode};
use tierboard::problems::{Catalog, ComponentType, Problem, Rule, Tier, TierSource};

pub fn catalog() -> Catalog {
    let types: Vec<ComponentType> = serde_json::from_value(json!([
        {"type": "client", "name": "Client", "kind": "client", "family": "edge", "icon": "user",
         "aliases": ["redirect_client"]},
        {"type": "redirect_client", "name": "Client", "kind": "client", "family": "edge", "icon": "user"},
        {"type": "lb", "name": "Load Balancer", "kind": "lb", "family": "network", "icon": "lb"},
        {"type": "app", "name": "App Server", "kind": "app", "family": "compute", "icon": "server",
         "params": [{"name": "instances", "type": "integer", "default": 1, "min": 1},
                    {"name": "cpu_cores", "type": "integer", "default": 4, "min": 1, "max": 192}]},
        {"type": "db_primary", "name": "Primary DB", "kind": "db_primary", "family": "storage", "icon": "db"},
        {"type": "db_replica", "name": "Read Replica", "kind": "db_replica", "family": "storage", "icon": "db"},
        {"type": "cache", "name": "Cache", "kind": "cache", "family": "cache", "icon": "bolt",
         "params": [{"name": "hit_rate", "type": "number", "default": 0.8, "min": 0, "max": 1}]},
        {"type": "redis", "name": "Redis", "kind": "cache", "family": "cache", "icon": "bolt"},
        {"type": "stream", "name": "Stream", "kind": "stream", "family": "messaging", "icon": "stream",
         "params": [{"name": "partitions", "type": "integer", "min": 1}]},
        {"type": "s3", "name": "S3", "kind": "object_store", "family": "storage", "icon": "bucket"},
        {"type": "note", "name": "Note", "kind": "note", "family": "annotation", "icon": "note"}
    ]))
    .unwrap();
    Catalog::new(types)
}

pub fn include(ty: &str) -> Rule {
    Rule::Include {
        ty: ty.into(),
        text: format!("Must include: {ty}"),
    }
}

pub fn min_count(ty: &str, count: u64) -> Rule {
    Rule::MinCount {
        ty: ty.into(),
        count,
        text: format!("Minimum {count} of type: {ty}"),
    }
}

pub fn connection_from(ty: &str) -> Rule {
    Rule::ConnectionFrom {
        ty: ty.into(),
        text: format!("Must have connection from: {ty}"),
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
    }
}

pub fn tier(id: &str, title: &str, rules: Vec<Rule>) -> Tier {
    Tier {
        id: id.into(),
        title: title.into(),
        source: TierSource::Seed,
        rules,
    }
}

/// tutorial-simple-blog as the seed states it (004, problem 1).
pub fn blog() -> Problem {
    Problem {
        id: "tutorial-simple-blog".into(),
        title: "Tutorial 1: Personal Blog Platform".into(),
        category: "tutorial".into(),
        difficulty: Some("Easy".into()),
        summary: "Learn the basics of system design".into(),
        available_components: vec![
            "client".into(),
            "lb".into(),
            "app".into(),
            "db_primary".into(),
            "db_replica".into(),
        ],
        tiers: vec![
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
        ],
        availability: Some(99.9),
    }
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
