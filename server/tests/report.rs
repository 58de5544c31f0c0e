//! The session report (issue 23) on a real server: a host and a candidate run an interview (clock,
//! notes, sections filled, a tier reached, lost and reached again), the host scores it; the report
//! holds the exact tier timeline, `history` at three moments returns the design and sections the
//! candidate had then, and the candidate's token reads nothing before the host shares. On SQLite and
//! on PostgreSQL.

mod common;

use std::time::Duration;

use common::{PG_URL, TestServer, WsClient, http, require_postgres, sqlite_url};
use serde_json::{Value, json};
use tierboard::clock::now_ms;
use tierboard::design::{Design, DesignEdge, DesignNode};
use tierboard::sections::{Endpoint, Entity, Estimate, Sections};
use tierboard::store::scratch::ScratchSchema;
use yrs::{Map, Transact, WriteTxn};

const PROBLEM: &str = "tutorial-simple-blog";

async fn create_interview(server: &TestServer) -> (String, String, String, String) {
    let body = json!({"problem": PROBLEM, "mode": "interview"}).to_string();
    let (status, json) = http(server.addr, "POST", "/api/rooms", Some(&body)).await;
    assert_eq!(status, 201, "{json}");
    let t = |r: &str| json["tokens"][r].as_str().unwrap().to_string();
    (
        json["room"].as_str().unwrap().to_string(),
        t("host"),
        t("edit"),
        t("view"),
    )
}

fn latest<'a>(client: &'a WsClient, kind: &str) -> Option<&'a Value> {
    client.tierboard.iter().rev().find(|m| m["type"] == kind)
}

fn reached(client: &WsClient) -> Option<u64> {
    latest(client, "validation").and_then(|m| m["result"]["reached"].as_u64())
}

/// What the candidate's document holds now: (design JSON, sections JSON).
fn snapshot(client: &WsClient) -> (Value, Value) {
    let txn = client.doc.transact();
    (
        serde_json::to_value(Design::from_txn(&txn)).unwrap(),
        serde_json::to_value(Sections::from_txn(&txn)).unwrap(),
    )
}

/// Waits until the server has stored every edit and validation says `tiers` reached; then the
/// moment (after a pause, so the next edits come strictly later) and what the candidate had.
async fn settle(client: &mut WsClient, tiers: u64) -> (i64, (Value, Value)) {
    assert!(
        client
            .pump_until(Duration::from_secs(10), |c| c.saved()
                && reached(c) == Some(tiers))
            .await,
        "saved with {tiers} tiers reached: {:?}",
        latest(client, "validation").map(|m| &m["result"]["reached"])
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    let at = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    (at, snapshot(client))
}

fn put_node(txn: &mut yrs::TransactionMut, node: DesignNode) {
    Design {
        nodes: vec![node],
        ..Default::default()
    }
    .write_to_txn(txn);
}

fn edge(txn: &mut yrs::TransactionMut) {
    Design {
        edges: vec![DesignEdge::new("e1", "app", "db")],
        ..Default::default()
    }
    .write_to_txn(txn);
}

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    http(server.addr, "GET", path, None).await
}

/// `history` at `at` equals the snapshot; the history rows are written off the room's task, so it
/// may take a moment for the latest ones.
async fn history_equals(
    server: &TestServer,
    room: &str,
    token: &str,
    at: i64,
    want: &(Value, Value),
) {
    let path = format!("/api/rooms/{room}/history?token={token}&at={at}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = get(server, &path).await;
        assert_eq!(status, 200, "{body}");
        if body["design"] == want.0 && body["sections"] == want.1 {
            assert_eq!(body["at"], at);
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "history at {at}: got design {} sections {}, want {} / {}",
                body["design"], body["sections"], want.0, want.1
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_session_makes_a_report(url: &str) {
    let server = TestServer::start(url).await;
    let (room, host, edit, view) = create_interview(&server).await;
    let created = now_ms();
    let host_action = |body: Value| {
        let path = format!("/api/rooms/{room}/host?token={host}");
        let addr = server.addr;
        async move {
            let (status, json) = http(addr, "POST", &path, Some(&body.to_string())).await;
            assert_eq!(status, 200, "{json}");
        }
    };
    // A compressed clock: 1.2 s phases, so the test sees every phase counted.
    host_action(json!({"action": "clock_start", "phases": [
        {"name": "requirements", "minutes": 0.02}, {"name": "estimates", "minutes": 0.02},
        {"name": "api_and_data_model", "minutes": 0.02}, {"name": "high_level_design", "minutes": 0.02}]}))
    .await;
    host_action(json!({"action": "notes", "text": "strong on estimates; missed caching"})).await;

    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit)).await;
    // The room's first validation is its baseline (what a loaded design already meets is no
    // transition): edits come after it.
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| reached(c) == Some(0))
            .await
    );

    // Phase 1: requirements, and the first design (T0: app, db, app → db).
    let mut sections = Sections {
        functional: vec!["Read blog posts".into(), "Publish new posts".into()],
        non_functional: vec!["p99 under 200 ms".into(), "99.9% uptime".into()],
        ..Default::default()
    };
    let s = sections.clone();
    candidate
        .edit(move |_, txn| {
            s.write_to_txn(txn);
            put_node(txn, DesignNode::new("app", "app", "App"));
            put_node(txn, DesignNode::new("db", "db_primary", "DB"));
            edge(txn);
        })
        .await;
    let (t1, s1) = settle(&mut candidate, 1).await;

    host_action(json!({"action": "next_phase"})).await;
    // Phase 2: estimates; the edge goes: T0 lost.
    sections.estimates = vec![Estimate {
        id: "est1".into(),
        name: "peak rps".into(),
        value: "1,000".into(),
        unit: "/s".into(),
        arithmetic: "5M req/day / 86,400 × 17.28 (peak factor)".into(),
    }];
    let s = sections.clone();
    candidate
        .edit(move |doc, txn| {
            s.write_to_txn(txn);
            let _ = doc;
            let edges = txn.get_or_insert_map("edges");
            edges.remove(txn, "e1");
        })
        .await;
    let (t2, s2) = settle(&mut candidate, 0).await;

    host_action(json!({"action": "next_phase"})).await;
    // Phase 3: API and data model; the edge is back: T0 reached again.
    sections.api = vec![
        Endpoint {
            id: "a1".into(),
            method: "GET".into(),
            path: "/posts/{id}".into(),
            request: String::new(),
            response: "{post}".into(),
        },
        Endpoint {
            id: "a2".into(),
            method: "POST".into(),
            path: "/posts".into(),
            request: "{title, body}".into(),
            response: "{id}".into(),
        },
    ];
    sections.data_model = vec![
        Entity {
            id: "d1".into(),
            name: "post".into(),
            fields: "id, author, title, body".into(),
            keys: "id".into(),
            indexes: "author".into(),
            partitioning: "hash(id)".into(),
        },
        Entity {
            id: "d2".into(),
            name: "comment".into(),
            fields: "id, post_id, text".into(),
            ..Default::default()
        },
    ];
    let s = sections.clone();
    candidate
        .edit(move |_, txn| {
            s.write_to_txn(txn);
            edge(txn);
            put_node(txn, DesignNode::new("lb", "lb", "LB"));
        })
        .await;
    let (t3, s3) = settle(&mut candidate, 1).await;

    // The advisory checks reached the candidate: the estimate against the problem's peak, the data
    // model's keyless entity.
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "section_checks")
                .is_some_and(|m| m["result"]["checks"][3]["status"] == "fail"))
            .await
    );
    let checks = latest(&candidate, "section_checks").unwrap()["result"]["checks"].clone();
    assert_eq!(checks[0]["id"], "estimates");
    assert_eq!(checks[0]["status"], "pass", "{checks}");
    let explanation = checks[0]["items"][0]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("your peak rps: 1,000/s")
            && explanation.contains("stated peak: 1,000/s"),
        "{explanation}"
    );
    assert_eq!(checks[3]["items"][1]["name"], "comment");
    assert_eq!(checks[3]["items"][1]["status"], "fail");

    // The tier transitions are written off the room's task: wait for all three.
    let timeline_path = format!("/api/rooms/{room}/timeline?token={host}");
    let mut timeline = Value::Null;
    for _ in 0..100 {
        timeline = get(&server, &timeline_path).await.1;
        if timeline["events"].as_array().map_or(0, Vec::len) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = timeline["events"].as_array().unwrap().clone();
    let shape: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["tier"].as_str().unwrap().into(),
                e["event"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [("T0", "reached"), ("T0", "lost"), ("T0", "reached")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let at = |i: usize| events[i]["at"].as_i64().unwrap();
    assert!(
        created <= at(0) && at(0) <= t1 && t1 < at(1) && at(1) <= t2 && t2 < at(2) && at(2) <= t3
    );

    // Before the host shares: the candidate and the observer read nothing of it.
    for token in [&edit, &view] {
        for path in [
            format!("/api/rooms/{room}/report?token={token}"),
            format!("/api/rooms/{room}/scorecard?token={token}"),
            format!("/api/rooms/{room}/history?token={token}&at={t3}"),
        ] {
            let (status, body) = get(&server, &path).await;
            assert_eq!(status, 403, "{path}: {body}");
            assert_eq!(body["code"], "forbidden");
        }
    }
    let scorecard = json!({
        "scores": {"estimation": {"score": 4, "comment": "peak within 1×"},
                   "code_quality": {"score": 2, "comment": "n/a in a whiteboard"},
                   "communication": {"score": 3}},
        "summary": "Solid basics.",
        "recommendation": "hire"
    })
    .to_string();
    let (status, body) = http(
        server.addr,
        "PUT",
        &format!("/api/rooms/{room}/scorecard?token={edit}"),
        Some(&scorecard),
    )
    .await;
    assert_eq!(status, 403, "the candidate cannot score: {body}");
    let bad = json!({"scores": {"estimation": {"score": 9}}}).to_string();
    let (status, _) = http(
        server.addr,
        "PUT",
        &format!("/api/rooms/{room}/scorecard?token={host}"),
        Some(&bad),
    )
    .await;
    assert_eq!(status, 400);
    let (status, card) = http(
        server.addr,
        "PUT",
        &format!("/api/rooms/{room}/scorecard?token={host}"),
        Some(&scorecard),
    )
    .await;
    assert_eq!(status, 200, "{card}");
    let dims = card["dimensions"].as_array().unwrap();
    assert_eq!(dims.len(), 10);
    assert_eq!(dims[0]["id"], "code_quality");
    let estimation = dims.iter().find(|d| d["id"] == "estimation").unwrap();
    assert_eq!(estimation["score"], 4);
    assert!(
        estimation["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with("Estimates against the problem's figures: pass"),
        "{estimation}"
    );

    // The host's report.
    let (status, report) = get(&server, &format!("/api/rooms/{room}/report?token={host}")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["tier_timeline"], timeline["events"],
        "the exact tier timeline"
    );
    assert_eq!(report["sections"], s3.1);
    assert_eq!(report["design"], s3.0);
    assert_eq!(report["notes"], "strong on estimates; missed caching");
    assert_eq!(report["scorecard"]["recommendation"], "hire");
    assert_eq!(report["problem"]["id"], PROBLEM);
    let phases = report["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    assert!(phases[0]["spent_ms"].as_i64().unwrap() > 0, "{phases:?}");
    assert!(phases[1]["spent_ms"].as_i64().unwrap() > 0, "{phases:?}");
    assert!(phases[2]["started"].as_i64().is_some(), "{phases:?}");
    // Who added which component: the candidate's Yjs client added all three.
    let me = candidate.doc.client_id().get();
    let components = report["components"].as_array().unwrap();
    let mut added: Vec<&str> = components
        .iter()
        .map(|c| c["node"].as_str().unwrap())
        .collect();
    added.sort();
    assert_eq!(added, ["app", "db", "lb"]);
    assert!(
        components.iter().all(|c| c["client"] == me),
        "{components:?}"
    );
    assert_eq!(report["participants"][0]["client"], me);
    assert!(!report["capacity"].as_array().unwrap().is_empty());

    // The replay's first frame comes with the report: what `history` says at that moment.
    let start = &report["replay_start"];
    let last_event = timeline["events"].as_array().unwrap().last().unwrap()["at"]
        .as_i64()
        .unwrap();
    assert!(start["at"].as_i64().unwrap() >= last_event, "{start}");
    let (_, then) = get(
        &server,
        &format!("/api/rooms/{room}/history?token={host}&at={}", start["at"]),
    )
    .await;
    for key in [
        "at",
        "rows",
        "design",
        "sections",
        "validation",
        "section_checks",
    ] {
        assert_eq!(start[key], then[key], "replay_start.{key}");
    }

    // Replay: the three moments, and before anything was drawn.
    history_equals(&server, &room, &host, t3, &s3).await;
    history_equals(&server, &room, &host, t1, &s1).await;
    history_equals(&server, &room, &host, t2, &s2).await;
    let (_, before) = get(
        &server,
        &format!("/api/rooms/{room}/history?token={host}&at={created}"),
    )
    .await;
    assert_eq!(before["design"], json!({"nodes": [], "edges": []}));
    assert_eq!(before["rows"], 0);

    // Shared without the notes: the candidate reads the report and the scorecard, not the notes.
    let (status, body) = http(
        server.addr,
        "POST",
        &format!("/api/rooms/{room}/report/share?token={edit}"),
        Some(r#"{"shared": true}"#),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = http(
        server.addr,
        "POST",
        &format!("/api/rooms/{room}/report/share?token={host}"),
        Some(r#"{"shared": true}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, theirs) = get(&server, &format!("/api/rooms/{room}/report?token={edit}")).await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs["tier_timeline"], timeline["events"]);
    assert_eq!(theirs["notes"], Value::Null);
    assert!(
        !theirs.to_string().contains("missed caching"),
        "the notes stay the host's"
    );
    let (status, card) = get(
        &server,
        &format!("/api/rooms/{room}/scorecard?token={view}"),
    )
    .await;
    assert_eq!(status, 200, "{card}");
    assert_eq!(card["summary"], "Solid basics.");
    history_equals(&server, &room, &edit, t2, &s2).await;

    candidate.close().await;
    server.stop().await;
}

#[tokio::test]
async fn sqlite_a_session_makes_a_report() {
    let (_dir, url) = sqlite_url();
    a_session_makes_a_report(&url).await;
}

#[tokio::test]
async fn postgres_a_session_makes_a_report() {
    require_postgres().await;
    let schema = ScratchSchema::create(PG_URL).await.expect("scratch schema");
    a_session_makes_a_report(schema.url()).await;
    schema.drop_now().await.expect("drop schema");
}

/// Practice rooms keep no history: the route says so rather than replaying nothing.
#[tokio::test]
async fn practice_rooms_keep_no_history() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let body = json!({"problem": PROBLEM}).to_string();
    let (_, created) = http(server.addr, "POST", "/api/rooms", Some(&body)).await;
    let room = created["room"].as_str().unwrap();
    let host = created["tokens"]["host"].as_str().unwrap();
    let (status, body) = get(
        &server,
        &format!("/api/rooms/{room}/history?token={host}&at=1"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = get(&server, &format!("/api/rooms/{room}/report?token={host}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["history"]["rows"], 0);
    assert_eq!(body["replay_start"], Value::Null);
    server.stop().await;
}

/// The item of the `api_coverage` check named `name`, in the latest `section_checks` a client got.
fn api_item(client: &WsClient, name: &str) -> Option<Value> {
    latest(client, "section_checks")?["result"]["checks"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == "api_coverage")?["items"]
        .as_array()?
        .iter()
        .find(|i| i["name"] == name)
        .cloned()
}

async fn wait_item(client: &mut WsClient, name: &str, status: &str, by: Option<&str>) -> Value {
    let ok = client
        .pump_until(Duration::from_secs(5), |c| {
            api_item(c, name).is_some_and(|i| {
                i["status"] == status
                    && match by {
                        Some(by) => i["override"]["by"] == by,
                        None => i.get("override").is_none(),
                    }
            })
        })
        .await;
    assert!(
        ok,
        "{name}: want {status} by {by:?}, got {:?}",
        api_item(client, name)
    );
    api_item(client, name).unwrap()
}

/// The host's verdicts on the API checklist (issue 23 item 2): only the host gives them (HTTP or
/// WebSocket); everyone in the room sees them at once in `section_checks`, with who gave them; they
/// are stored (a restart keeps them) and the report, its scorecard and `history` show them.
async fn the_host_overrides_the_api_checklist(url: &str) {
    let server = TestServer::start(url).await;
    let (room, host, edit, view) = create_interview(&server).await;
    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let mut host_ws = WsClient::connect(&server.ws_url(&room, &host)).await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| reached(c) == Some(0))
            .await
    );
    let sections = Sections {
        functional: vec!["Read blog posts".into(), "Moderate spam".into()],
        api: vec![Endpoint {
            id: "a1".into(),
            method: "GET".into(),
            path: "/posts/{id}".into(),
            request: String::new(),
            response: "{post}".into(),
        }],
        ..Default::default()
    };
    candidate
        .edit(move |_, txn| sections.write_to_txn(txn))
        .await;
    // The name matching: posts are read, nothing moderates.
    wait_item(&mut candidate, "Read blog posts", "pass", None).await;
    wait_item(&mut candidate, "Moderate spam", "fail", None).await;

    // The candidate cannot override: over the WebSocket (an `error` forbidden) nor over HTTP (403),
    // nor can the observer.
    let before = candidate.tierboard.len();
    candidate
        .send(tierboard::sync::protocol::encode_tierboard(
            &json!({"type": "host_action", "action": "api_override",
                    "requirement": "Moderate spam", "covered": true})
            .to_string(),
        ))
        .await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| c.tierboard[before..]
                .iter()
                .any(|m| m["type"] == "error" && m["code"] == "forbidden"))
            .await
    );
    let action = |requirement: &str, covered: Value, by: Option<&str>| {
        let mut a =
            json!({"action": "api_override", "requirement": requirement, "covered": covered});
        if let Some(by) = by {
            a["by"] = json!(by);
        }
        a.to_string()
    };
    for token in [&edit, &view] {
        let (status, body) = http(
            server.addr,
            "POST",
            &format!("/api/rooms/{room}/host?token={token}"),
            Some(&action("Moderate spam", json!(true), Some("Mallory"))),
        )
        .await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    }
    // A bad verdict: no requirement, a name too long.
    for bad in [
        action("  ", json!(true), None),
        action("Moderate spam", json!(true), Some(&"x".repeat(81))),
    ] {
        let (status, body) = http(
            server.addr,
            "POST",
            &format!("/api/rooms/{room}/host?token={host}"),
            Some(&bad),
        )
        .await;
        assert_eq!(status, 400, "{body}");
    }
    // Nothing changed for anyone.
    tokio::time::sleep(Duration::from_millis(200)).await;
    candidate
        .pump_until(Duration::from_millis(100), |_| false)
        .await;
    assert_eq!(
        api_item(&candidate, "Moderate spam").unwrap()["status"],
        "fail"
    );

    // The host says "Moderate spam" is covered (HTTP): the candidate sees it live, with the name.
    let (status, state) = http(
        server.addr,
        "POST",
        &format!("/api/rooms/{room}/host?token={host}"),
        Some(&action("Moderate spam", json!(true), Some("Hana"))),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["api_overrides"]["Moderate spam"]["covered"], true);
    let item = wait_item(&mut candidate, "Moderate spam", "pass", Some("Hana")).await;
    assert!(
        item["explanation"]
            .as_str()
            .unwrap()
            .starts_with("covered by the host (Hana); the matching said: no endpoint"),
        "{item}"
    );
    // And "Read blog posts" is not (WebSocket, no name): `by` is "host".
    host_ws
        .send(tierboard::sync::protocol::encode_tierboard(
            &json!({"type": "host_action", "action": "api_override",
                    "requirement": "Read blog posts", "covered": false})
            .to_string(),
        ))
        .await;
    wait_item(&mut candidate, "Read blog posts", "fail", Some("host")).await;
    let api_check =
        |c: &WsClient| latest(c, "section_checks").unwrap()["result"]["checks"][2].clone();
    assert_eq!(api_check(&candidate)["status"], "fail");
    assert_eq!(
        api_check(&candidate)["explanation"],
        "1 of 2 need attention"
    );
    // Everyone's interview state carries the verdicts (the host's console, a reload).
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "interview")
                .is_some_and(
                    |m| m["state"]["api_overrides"]["Read blog posts"]["by"] == "host"
                ))
            .await
    );
    let after_verdicts = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;

    // A restart: the verdicts are stored with the interview state.
    candidate.close().await;
    host_ws.close().await;
    server.stop().await;
    let server = TestServer::start(url).await;
    let mut again = WsClient::connect(&server.ws_url(&room, &view)).await;
    wait_item(&mut again, "Moderate spam", "pass", Some("Hana")).await;
    wait_item(&mut again, "Read blog posts", "fail", Some("host")).await;

    // The report, its scorecard and the history show them with who gave them.
    let (status, report) = get(&server, &format!("/api/rooms/{room}/report?token={host}")).await;
    assert_eq!(status, 200, "{report}");
    let items = report["section_checks"]["checks"][2]["items"].clone();
    assert_eq!(items[1]["name"], "Moderate spam");
    assert_eq!(items[1]["status"], "pass");
    assert_eq!(items[1]["override"]["by"], "Hana");
    assert_eq!(items[0]["override"]["covered"], false);
    let overrides = &report["scorecard"]["api_overrides"];
    assert_eq!(overrides["Moderate spam"]["covered"], true);
    assert_eq!(overrides["Moderate spam"]["by"], "Hana");
    assert!(overrides["Moderate spam"]["at"].as_i64().unwrap() <= after_verdicts);
    let recorded: Vec<&str> = report["host_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"]["action"].as_str())
        .collect();
    assert_eq!(
        recorded,
        ["api_override", "api_override"],
        "refused ones are not recorded"
    );
    let (_, now) = get(
        &server,
        &format!("/api/rooms/{room}/history?token={host}&at={after_verdicts}"),
    )
    .await;
    assert_eq!(
        now["section_checks"]["checks"][2]["items"][1]["override"]["by"],
        "Hana"
    );
    // The scorecard no longer takes verdicts: they are the host action.
    let (status, body) = http(
        server.addr,
        "PUT",
        &format!("/api/rooms/{room}/scorecard?token={host}"),
        Some(r#"{"api_overrides": {"Moderate spam": true}}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("api_override"),
        "{body}"
    );

    // Back to the name matching.
    let (status, _) = http(
        server.addr,
        "POST",
        &format!("/api/rooms/{room}/host?token={host}"),
        Some(&action("Moderate spam", Value::Null, None)),
    )
    .await;
    assert_eq!(status, 200);
    wait_item(&mut again, "Moderate spam", "fail", None).await;

    again.close().await;
    server.stop().await;
}

#[tokio::test]
async fn sqlite_the_host_overrides_the_api_checklist() {
    let (_dir, url) = sqlite_url();
    the_host_overrides_the_api_checklist(&url).await;
}

#[tokio::test]
async fn postgres_the_host_overrides_the_api_checklist() {
    require_postgres().await;
    let schema = ScratchSchema::create(PG_URL).await.expect("scratch schema");
    the_host_overrides_the_api_checklist(schema.url()).await;
    schema.drop_now().await.expect("drop schema");
}
