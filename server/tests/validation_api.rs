//! `POST /api/validate` over a real socket on 127.0.0.1, and the `tierboard validate` binary.

mod common;
mod validation_fixture;

use std::sync::Arc;

use serde_json::{Value, json};
use tierboard::problems::Bank;
use tokio::net::TcpListener;
use validation_fixture::*;

/// Serves the validation router on an ephemeral loopback port.
async fn serve() -> std::net::SocketAddr {
    let bank = Arc::new(Bank::from_parts(vec![blog()], catalog()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, tierboard::validation::api::router(bank))
            .await
            .unwrap();
    });
    addr
}

async fn post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> (u16, Value) {
    common::http(addr, "POST", path, Some(std::str::from_utf8(body).unwrap())).await
}

#[tokio::test]
async fn validates_a_design() {
    let addr = serve().await;
    let body = json!({"problem": "tutorial-simple-blog", "design": blog_reference()});
    let (status, result) = post(addr, "/api/validate", body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["problem"], "tutorial-simple-blog");
    assert_eq!(result["reached"], 3);
    assert_eq!(
        result["tiers"][2]["rules"][0]["text"],
        "Minimum 7 of type: app"
    );
    assert_eq!(
        result["tiers"][2]["rules"][0]["explanation"],
        "found 8 app instances in 'App Servers' (needs ≥ 7)"
    );

    // A malformed design is still validated: its problems are design issues.
    let body = json!({"problem": "tutorial-simple-blog", "design": {
        "nodes": [{"id": "a", "type": "app", "params": {"instances": "two"}}, {"id": "b", "type": 3}],
        "edges": [{"id": "e", "from": "a", "to": "zzz"}]}});
    let (status, result) = post(addr, "/api/validate", body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["reached"], 0);
    let codes: Vec<&str> = result["design_issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "missing_field",
            "bad_param",
            "missing_field",
            "dangling_edge"
        ]
    );
}

#[tokio::test]
async fn refuses_bad_requests_with_the_error_shape() {
    let addr = serve().await;
    let (status, body) = post(addr, "/api/validate", b"{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "bad_json");
    assert!(body["error"].as_str().unwrap().starts_with("invalid JSON"));

    let (status, body) = post(addr, "/api/validate", br#"{"design": {}}"#).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "bad_json");
    assert!(
        body["error"].as_str().unwrap().contains("problem"),
        "{body}"
    );

    let (status, body) = post(addr, "/api/validate", br#"{"problem": "x", "design": 7}"#).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "bad_json");

    let (status, body) = post(
        addr,
        "/api/validate",
        br#"{"problem": "no-such-problem", "design": {"nodes": []}}"#,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "unknown_problem");
    assert_eq!(body["error"], "no problem with id 'no-such-problem'");
}

/// Through the whole application, on the committed bank: the route is wired and the tutorial's
/// reference design reaches every tier.
#[tokio::test]
async fn the_app_serves_validation_on_the_real_bank() {
    let (_dir, url) = common::sqlite_url();
    let server = common::TestServer::start(&url).await;
    let problem = common::bank().get("tutorial-simple-blog").unwrap();
    let body = json!({"problem": problem.id, "design": problem.reference_design().unwrap()});
    let (status, result) = post(server.addr, "/api/validate", body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["reached"], problem.tiers.len());
    let (status, body) = post(server.addr, "/api/validate", b"[").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_json")));
    server.stop().await;
}

#[test]
fn cli_reports_unreadable_input_with_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let design = dir.path().join("design.json");
    std::fs::write(&design, "[1, 2]").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
        .args(["validate", "--problem", "tutorial-simple-blog"])
        .arg(&design)
        .arg("--problems")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a design JSON"), "{stderr}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
        .args(["validate", "--problem", "tutorial-simple-blog"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the design file"));
}

#[test]
fn cli_table_shows_tiers_rules_and_explanations() {
    let problem = blog();
    let mut design = blog_reference();
    design.nodes[2] =
        tierboard::design::DesignNode::new("app", "app", "App Servers").with_instances(2);
    let result = tierboard::validation::validate(&problem, &catalog(), &design);
    let table = tierboard::validation::cli::render(&problem, &result);
    let expected = "\
Tutorial 1: Personal Blog Platform (tutorial-simple-blog)
2 of 3 tiers reached

✓ T0  Basic Setup  [reached]
    ✓ Must include: app
        found 1 node of kind app: 'App Servers'
    ✓ Must include: db_primary
        found 1 node of kind db_primary: 'Primary DB'
    ✓ Must have connection from: app
        edge leaves app node 'App Servers' (to 'Primary DB')
✓ T1  High Availability  [reached]
    ✓ Must include: lb
        found 1 node of kind lb: 'Load Balancer'
    ✓ Minimum 2 of type: app
        found 2 app instances in 'App Servers' (needs ≥ 2)
✗ T2  Scale to 1,000 QPS  [not reached]
    ✗ Minimum 7 of type: app
        needs ≥ 7 app instances; found 2 in 'App Servers'
    ✓ Must include: db_replica
        found 1 node of kind db_replica: 'Read Replica'

advisories:
  single_point_of_failure: 'Load Balancer' is a single point of failure: every path from a client to storage goes through it and it has 1 instance (availability target 99.9 %)
";
    assert_eq!(table, expected);
}

/// Issue 20's acceptance: over the committed bank, an empty design lists TinyURL's seed tiers first,
/// exactly as the seed writes them, then the generated last tier; and the create client's seed rule is
/// not met by a redirect client.
#[tokio::test]
async fn seed_tiers_come_first_and_a_specific_client_is_not_any_client() {
    let bank = common::bank();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, tierboard::validation::api::router(bank))
            .await
            .unwrap();
    });
    let body = json!({"problem": "tinyurl", "design": {"nodes": [], "edges": []}});
    let (status, result) = post(addr, "/api/validate", body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{result}");
    let tiers = result["tiers"].as_array().unwrap();
    let seen: Vec<(String, String, Vec<String>)> = tiers
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["source"].as_str().unwrap().to_string(),
                t["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["text"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let seed = |id: &str, rules: &[&str]| {
        (
            id.to_string(),
            "seed".to_string(),
            rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        seen[..4],
        [
            seed(
                "T0",
                &[
                    "Must have connection from: redirect_client",
                    "Must have connection from: create_client"
                ]
            ),
            seed("T1", &["Must include: app", "Must include: db_primary"]),
            seed("T2", &["Must include: cdn", "Must include: cache"]),
            seed(
                "T3",
                &[
                    "Minimum 50 of type: app",
                    "Parameter range check: cdn.hit_rate",
                    "Parameter range check: cache.hit_rate"
                ]
            ),
        ]
    );
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[4].1, "authored");
    assert_eq!(tiers[4]["rules"][0]["kind"], "path");

    // Only a redirect client: the create client's rule fails and says why.
    let body = json!({"problem": "tinyurl", "design": {
        "nodes": [{"id": "r", "type": "redirect_client", "label": "Redirect API"},
                  {"id": "a", "type": "app", "label": "App"}],
        "edges": [{"id": "e", "from": "r", "to": "a"}]}});
    let (_, result) = post(addr, "/api/validate", body.to_string().as_bytes()).await;
    let t0 = &result["tiers"][0]["rules"];
    assert_eq!(t0[0]["passed"], true, "{t0}");
    assert_eq!(t0[1]["passed"], false, "{t0}");
    assert_eq!(
        t0[1]["explanation"],
        "no edge leaves a node of kind create_client: the design has no create_client node"
    );
}
