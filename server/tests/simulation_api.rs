//! `POST /api/simulate` over a real socket on 127.0.0.1 against the committed bank, the component
//! capacities of `GET /api/components`, and the `tierboard simulate` binary.

mod common;

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Serves the simulation router with the committed bank on an ephemeral loopback port.
async fn serve() -> std::net::SocketAddr {
    let bank: Arc<tierboard::problems::Bank> = common::bank();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, tierboard::simulation::api::router(bank))
            .await
            .unwrap();
    });
    addr
}

async fn post(addr: std::net::SocketAddr, body: &str) -> (u16, Value) {
    common::http(addr, "POST", "/api/simulate", Some(body)).await
}

/// tutorial-simple-blog: 1,000 requests/s at peak, 90 % reads (read_qps 900, write_qps 100).
fn blog_design(apps: u32) -> Value {
    json!({
        "nodes": [
            {"id": "users", "type": "client"},
            {"id": "lb", "type": "lb"},
            {"id": "app", "type": "app", "params": {"instances": apps}},
            {"id": "db", "type": "db_primary"},
            {"id": "replica", "type": "db_replica"}
        ],
        "edges": [
            {"id": "e1", "from": "users", "to": "lb"},
            {"id": "e2", "from": "lb", "to": "app"},
            {"id": "e3", "from": "app", "to": "db"},
            {"id": "e4", "from": "app", "to": "replica"},
            {"id": "e5", "from": "db", "to": "replica"}
        ]
    })
}

#[tokio::test]
async fn simulates_a_design_of_the_bank() {
    let addr = serve().await;
    let problem = common::bank().get("tutorial-simple-blog").unwrap();
    let peak = problem.targets.peak_rate_per_sec.unwrap();
    let body = json!({"problem": "tutorial-simple-blog", "design": blog_design(2)});
    let (status, r) = post(addr, &body.to_string()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["problem"], "tutorial-simple-blog");
    assert_eq!(r["scenario"]["load"], "peak");
    assert_eq!(r["scenario"]["offered_rps"], peak);
    let app = &r["nodes"]["app"];
    let per_instance = app["capacity_rps"].as_f64().unwrap() / 2.0;
    assert_eq!(app["offered_rps"], peak);
    assert_eq!(
        app["utilisation"].as_f64().unwrap(),
        peak / (2.0 * per_instance)
    );
    // Reads go to the replica, writes to the primary.
    let read_share = r["scenario"]["read_share"].as_f64().unwrap();
    let replica_reads = r["nodes"]["replica"]["read_rps"].as_f64().unwrap();
    assert!((replica_reads - peak * read_share).abs() < 1e-6, "{r}");
    assert_eq!(r["nodes"]["db"]["read_rps"], 0.0);
    for key in ["throughput_rps", "error_rate", "p50_ms", "p99_ms"] {
        assert!(r["end_to_end"][key].is_number(), "{key}: {r}");
    }
    let checks: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "sustains_peak",
            "latency_target",
            "no_single_point_of_failure",
            "monthly_cost"
        ]
    );
    assert!(r["explanations"].as_array().unwrap().len() >= 2);

    // A 10× spike with one node failed.
    let body = json!({"problem": "tutorial-simple-blog", "design": blog_design(2),
                      "scenario": {"load": 10, "fail": ["replica"], "cold_cache": true}});
    let (status, spike) = post(addr, &body.to_string()).await;
    assert_eq!(status, 200, "{spike}");
    assert_eq!(spike["scenario"]["offered_rps"], 10.0 * peak);
    assert_eq!(spike["nodes"]["replica"]["failed"], true);
    // With the replica failed the primary takes the reads again.
    assert!(spike["nodes"]["db"]["read_rps"].as_f64().unwrap() > 0.0);
    // The checks stay at peak whatever the scenario.
    assert_eq!(spike["checks"], r["checks"]);
}

#[tokio::test]
async fn refuses_bad_requests_with_the_error_shape() {
    let addr = serve().await;
    let (status, body) = post(addr, "{not json").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_json")),
        "{body}"
    );
    assert!(body["error"].as_str().unwrap().starts_with("invalid JSON"));

    let (status, body) = post(addr, r#"{"design": {}}"#).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_json")),
        "{body}"
    );

    let (status, body) = post(
        addr,
        r#"{"problem": "tutorial-simple-blog", "design": {}, "scenario": {"load": "huge"}}"#,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_json")),
        "{body}"
    );
    assert!(body["error"].as_str().unwrap().contains("`load`"), "{body}");

    let (status, body) = post(
        addr,
        r#"{"problem": "no-such-problem", "design": {"nodes": []}}"#,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_problem")),
        "{body}"
    );
    assert_eq!(body["error"], "no problem with id 'no-such-problem'");

    // Oversized: more nodes than the route simulates, and a body above the limit.
    let nodes: Vec<Value> = (0..=tierboard::simulation::api::MAX_NODES)
        .map(|i| json!({"id": format!("n{i}"), "type": "app"}))
        .collect();
    let body = json!({"problem": "tutorial-simple-blog", "design": {"nodes": nodes}});
    let (status, body) = post(addr, &body.to_string()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("too_large")),
        "{body}"
    );
    assert!(body["error"].as_str().unwrap().contains("nodes"), "{body}");
    let padding = "x".repeat(tierboard::simulation::api::MAX_BODY_BYTES + 1);
    let body = json!({"problem": "tutorial-simple-blog", "design": {}, "pad": padding});
    let (status, body) = post(addr, &body.to_string()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("too_large")),
        "{body}"
    );
}

/// Through the whole application: the route is merged and the catalog serves capacities.
#[tokio::test]
async fn the_app_serves_simulation_and_component_capacities() {
    let (_dir, url) = common::sqlite_url();
    let server = common::TestServer::start(&url).await;
    let body = json!({"problem": "tutorial-simple-blog", "design": blog_design(8)});
    let (status, r) = post(server.addr, &body.to_string()).await;
    assert_eq!(status, 200, "{r}");
    assert!(r["bottleneck"].is_string(), "{r}");
    let (status, list) = common::http(server.addr, "GET", "/api/components", None).await;
    assert_eq!(status, 200);
    let components = list["components"].as_array().unwrap();
    assert!(components.len() > 300);
    for c in components {
        if c["type"] == "note" {
            assert!(c["capacity"].is_null());
            continue;
        }
        let cap = &c["capacity"];
        for key in ["rps", "service_ms", "monthly_usd"] {
            assert!(cap[key].is_number(), "{}: {key}", c["type"]);
        }
        assert!(
            cap["async"].is_boolean() && cap["guess"].is_boolean(),
            "{}",
            c["type"]
        );
        assert!(
            cap["source"].as_str().is_some_and(|s| s.len() > 20),
            "{}",
            c["type"]
        );
    }
    let queue = components.iter().find(|c| c["type"] == "queue").unwrap();
    assert_eq!(queue["capacity"]["async"], true);
    server.stop().await;
}

#[test]
fn cli_prints_the_table_and_exits_by_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    let design = dir.path().join("design.json");
    std::fs::write(&design, blog_design(1).to_string()).unwrap();
    let problems = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
        .args(["simulate", "--problem", "tutorial-simple-blog"])
        .arg(&design)
        .args(["--load", "normal", "--fail", "replica", "--problems"])
        .arg(&problems)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("failed: replica"), "{stdout}");
    assert!(
        stdout.contains("util") && stdout.contains("mean/p99 ms"),
        "{stdout}"
    );
    assert!(stdout.contains("No single point of failure"), "{stdout}");
    // One app instance, one database: single points of failure, so a check fails.
    assert_eq!(output.status.code(), Some(1), "{stdout}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
        .args([
            "simulate",
            "--problem",
            "tutorial-simple-blog",
            "--load",
            "lots",
        ])
        .arg(&design)
        .arg("--problems")
        .arg(&problems)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--load"));
}
