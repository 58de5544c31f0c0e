//! First draft of a catalog entry for a component type name: kind, family, icon, display name, params.
//!
//! Used by `tierboard-bank import` to add types that `problems/catalog.toml` lacks; entries already in
//! the file are kept as they are (the file is authored content and may be edited by hand).

use serde_json::json;

use tierboard::problems::catalog::{ComponentType, NOTE, ParamDef};

/// Type ids that are the same component as another (type, kind). Only true synonyms: a `global_lb` is not
/// an `lb` for the purpose of a rule that asks for a global load balancer.
const SYNONYMS: &[(&str, &str)] = &[
    ("redirect_client", "client"),
    ("create_client", "client"),
    ("s3", "object_store"),
    ("storage", "object_store"),
    ("redis", "cache"),
    ("distributed_cache", "cache"),
    ("cache_layer", "cache"),
    ("cloudfront", "cdn"),
    ("cdn_cache", "cdn"),
    ("kafka", "stream"),
    ("pulsar_broker", "stream"),
    ("sqs", "queue"),
    ("message_broker", "queue"),
    ("cassandra", "db_primary"),
    ("cockroachdb", "db_primary"),
    ("tidb", "db_primary"),
    ("dynamodb", "db_primary"),
    ("postgres_shards", "db_primary"),
    ("websocket_cluster", "websocket"),
    ("audit_logger", "audit_log"),
    ("audit_system", "audit_log"),
    ("cdc_connector", "cdc_pipeline"),
    ("cdc_tool", "cdc_pipeline"),
    ("crdt_server", "crdt"),
    ("ml_serving", "model_server"),
    ("kafka_streams", "stream_processor"),
    ("flink", "stream_processor"),
    ("deployment_system", "deployment_service"),
    ("kubernetes", "k8s_master"),
];

/// Hand-written display names for the common types; others are built from the id.
const NAMES: &[(&str, &str)] = &[
    ("client", "Client"),
    ("redirect_client", "Client (redirect traffic)"),
    ("create_client", "Client (create traffic)"),
    ("lb", "Load Balancer"),
    ("app", "App Server"),
    ("worker", "Worker"),
    ("db_primary", "Primary Database"),
    ("db_replica", "Read Replica"),
    ("cache", "Cache"),
    ("cdn", "CDN"),
    ("queue", "Message Queue"),
    ("stream", "Event Stream"),
    ("object_store", "Object Store"),
    ("search", "Search Index"),
    ("s3", "S3 Bucket"),
    ("k8s_master", "Kubernetes Control Plane"),
    ("k8s_worker", "Kubernetes Worker"),
    ("tsdb", "Time-Series Database"),
    ("waf", "Web Application Firewall"),
    ("note", "Note"),
];

const ACRONYMS: &[&str] = &[
    "api", "cdn", "lb", "db", "ml", "gpu", "dns", "k8s", "cdc", "etl", "crdt", "hsm", "qkd", "dna",
    "pcr", "fhe", "zk", "zkp", "rdma", "fpga", "sfu", "srt", "abr", "ttl", "tsdb", "waf", "sqs",
    "s3", "ai", "ci", "otec", "thz", "cbdc", "dao", "dtn", "vrf", "iit", "qos", "rest", "dac",
    "pq", "hdfs", "sql", "webrtc", "graphql",
];

/// Families by keyword, first match wins (checked against the whole id and its words).
const FAMILY_RULES: &[(&str, &[&str])] = &[
    ("client", &["client"]),
    ("edge", &["cdn", "cloudfront", "edge_"]),
    (
        "cache",
        &[
            "cache",
            "redis",
            "memory_db",
            "session_store",
            "ephemeral_store",
        ],
    ),
    (
        "observability",
        &[
            "monitor",
            "alert",
            "metrics",
            "trace",
            "dashboard",
            "log_pipeline",
            "audit",
            "tracker",
            "visualization",
        ],
    ),
    (
        "security",
        &[
            "auth",
            "key_",
            "vault",
            "encrypt",
            "hsm",
            "waf",
            "privacy",
            "secure",
            "zk",
            "crypto",
            "fhe",
            "homomorphic",
            "compliance",
            "policy",
            "rate_limiter",
            "governor",
            "isolation",
            "enclave",
            "hardened",
            "verifier",
            "trusted",
        ],
    ),
    (
        "messaging",
        &[
            "queue",
            "stream",
            "kafka",
            "sqs",
            "pulsar",
            "broker",
            "cdc",
            "pipeline",
            "gossip",
            "subscription",
            "webhook",
            "bookkeeper",
            "operation_log",
        ],
    ),
    (
        "storage",
        &[
            "db",
            "database",
            "storage",
            "store",
            "s3",
            "lake",
            "warehouse",
            "hdfs",
            "cassandra",
            "tidb",
            "cockroach",
            "vitess",
            "ledger",
            "registry",
            "search",
            "index",
            "memory",
            "fs",
            "tree",
        ],
    ),
    (
        "network",
        &[
            "lb",
            "router",
            "ingress",
            "mesh",
            "gateway",
            "network",
            "proxy",
            "channel",
            "websocket",
            "signaling",
            "turn_server",
            "fabric",
            "interconnect",
            "uplink",
            "relay",
            "transceiver",
            "radio",
            "terminal",
            "routing",
            "tenant_router",
            "plugin",
            "bypass",
        ],
    ),
    (
        "compute",
        &[
            "app",
            "worker",
            "lambda",
            "k8s",
            "kube",
            "cluster",
            "service",
            "server",
            "engine",
            "scheduler",
            "orchestrator",
            "compiler",
            "processor",
            "runner",
            "api",
            "functions",
            "optimizer",
            "planner",
            "manager",
            "coordinator",
            "aggregator",
            "controller",
            "graphql",
            "dataloader",
            "sequencer",
        ],
    ),
];

/// Types the keyword rules would misfile.
const FAMILY_OVERRIDES: &[(&str, &str)] = &[
    ("ci_pipeline", "compute"),
    ("ml_platform", "compute"),
    ("presto", "compute"),
    ("control_plane", "compute"),
    ("zookeeper", "compute"),
    ("webrtc_sfu", "network"),
    ("srt_ingest", "edge"),
    ("traffic_ingestion", "messaging"),
    ("data_sync", "messaging"),
    ("cbdc_ledger", "storage"),
    ("delay_tolerant_ledger", "storage"),
];

fn family_of(ty: &str) -> &'static str {
    if ty == NOTE {
        return "annotation";
    }
    if let Some((_, f)) = FAMILY_OVERRIDES.iter().find(|(t, _)| *t == ty) {
        return f;
    }
    for (family, words) in FAMILY_RULES {
        if words.iter().any(|w| ty == *w || ty.contains(w)) {
            return family;
        }
    }
    "specialised"
}

fn icon_of(kind: &str, family: &str) -> &'static str {
    match kind {
        "client" => "user",
        "lb" | "global_lb" | "multi_cloud_lb" => "scale",
        "app" => "server",
        "worker" => "cog",
        "db_primary" | "db_replica" | "regional_db" => "database",
        "cache" => "bolt",
        "cdn" => "globe",
        "queue" => "inbox",
        "stream" => "activity",
        "object_store" => "archive",
        "search" => "search",
        "api_gateway" => "door",
        _ => match family {
            "compute" => "cpu",
            "storage" => "database",
            "cache" => "bolt",
            "messaging" => "activity",
            "network" => "network",
            "edge" => "globe",
            "observability" => "chart",
            "security" => "shield",
            "annotation" => "note",
            "client" => "user",
            _ => "sparkles",
        },
    }
}

/// "neural_interface" → "Neural Interface", "api_gateway" → "API Gateway".
pub fn display_name(ty: &str) -> String {
    if let Some((_, n)) = NAMES.iter().find(|(t, _)| *t == ty) {
        return n.to_string();
    }
    ty.split('_')
        .map(|w| {
            if ACRONYMS.contains(&w) {
                match w {
                    "graphql" => "GraphQL".to_string(),
                    "webrtc" => "WebRTC".to_string(),
                    "k8s" => "K8s".to_string(),
                    _ => w.to_uppercase(),
                }
            } else {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn param(
    name: &str,
    ty: &str,
    unit: Option<&str>,
    default: serde_json::Value,
    min: f64,
    max: f64,
    description: &str,
) -> ParamDef {
    ParamDef {
        name: name.into(),
        ty: ty.into(),
        unit: unit.map(String::from),
        default: Some(default),
        min: Some(min),
        max: Some(max),
        description: description.into(),
    }
}

/// The parameters a kind carries.
pub fn params_for(kind: &str) -> Vec<ParamDef> {
    if kind == NOTE {
        return vec![];
    }
    let mut p = vec![param(
        "instances",
        "integer",
        None,
        json!(1),
        1.0,
        100_000.0,
        "Fleet size: how many instances this node stands for.",
    )];
    if matches!(kind, "cache" | "cdn") {
        p.push(param(
            "hit_rate",
            "number",
            Some("ratio"),
            json!(0.0),
            0.0,
            1.0,
            "Fraction of requests served from this layer (0 to 1).",
        ));
    }
    if matches!(kind, "stream" | "queue") {
        p.push(param(
            "partitions",
            "integer",
            None,
            json!(1),
            1.0,
            100_000.0,
            "Partitions (or shards) the topic is split into; bounds consumer parallelism.",
        ));
    }
    p
}

/// A first catalog entry for `ty`.
pub fn entry_for(ty: &str) -> ComponentType {
    let kind = SYNONYMS
        .iter()
        .find(|(t, _)| *t == ty)
        .map_or(ty, |(_, k)| *k)
        .to_string();
    let family = if ty == NOTE {
        "annotation"
    } else {
        family_of(&kind)
    };
    ComponentType {
        ty: ty.to_string(),
        name: display_name(ty),
        icon: icon_of(&kind, family).to_string(),
        family: family.to_string(),
        params: params_for(&kind),
        kind,
        aliases: vec![],
        capacity: None,
    }
}

/// The synonym targets, so that authoring can make sure each kind's canonical type is in the catalog.
pub fn synonym_targets() -> impl Iterator<Item = &'static str> {
    SYNONYMS.iter().map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_entries() {
        let e = entry_for("redirect_client");
        assert_eq!(
            (e.kind.as_str(), e.family.as_str(), e.icon.as_str()),
            ("client", "client", "user")
        );
        assert_eq!(entry_for("s3").kind, "object_store");
        assert_eq!(entry_for("api_gateway").name, "API Gateway");
        assert!(
            entry_for("cache")
                .params
                .iter()
                .any(|p| p.name == "hit_rate")
        );
        assert!(
            entry_for("kafka")
                .params
                .iter()
                .any(|p| p.name == "partitions")
        );
        assert_eq!(entry_for("quantum_repeater").family, "specialised");
        assert_eq!(entry_for(NOTE).family, "annotation");
    }
}
