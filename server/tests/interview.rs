//! Interview sessions (issue 22) on real servers: room modes and the three roles, hidden solutions,
//! rotated links, the host's interview state. Storage checks run on SQLite and on PostgreSQL.

mod common;

use std::time::Duration;

use common::{PG_URL, TestServer, WsClient, http, require_postgres, sqlite_url};
use tierboard::clock::now_ms;
use tierboard::ids::{InstanceId, Mode, Role, RoomId, Token};
use tierboard::store::scratch::ScratchSchema;
use tierboard::store::{NewRoom, Store};
use yrs::{Map, Transact};

const PROBLEM: &str = "tutorial-simple-blog";

/// `POST /api/rooms` with a mode; (room, host, edit, view).
async fn create(server: &TestServer, mode: Option<&str>) -> (String, String, String, String) {
    let body = match mode {
        Some(m) => serde_json::json!({ "problem": PROBLEM, "mode": m }),
        None => serde_json::json!({ "problem": PROBLEM }),
    };
    let (status, json) = http(server.addr, "POST", "/api/rooms", Some(&body.to_string())).await;
    assert_eq!(status, 201, "create room: {json}");
    let t = |r: &str| json["tokens"][r].as_str().expect("a token").to_string();
    (
        json["room"].as_str().unwrap().to_string(),
        t("host"),
        t("edit"),
        t("view"),
    )
}

/// The first tierboard message of `kind` a client received.
fn message<'a>(client: &'a WsClient, kind: &str) -> Option<&'a serde_json::Value> {
    client.tierboard.iter().find(|m| m["type"] == kind)
}

async fn session(server: &TestServer, room: &str, token: &str) -> serde_json::Value {
    let mut client = WsClient::connect(&server.ws_url(room, token)).await;
    assert!(
        client
            .pump_until(Duration::from_secs(5), |c| message(c, "session").is_some())
            .await,
        "a session message"
    );
    let session = message(&client, "session").unwrap().clone();
    client.close().await;
    session
}

// ---- step 1: modes and roles ----------------------------------------------------------------

async fn modes_and_host_tokens_are_stored(url: &str) {
    let store = Store::connect(url, InstanceId("interview-a".into()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let (host, edit) = (Token::random(), Token::random());
    let interview = RoomId::random();
    store
        .create_room_with_mode(
            &NewRoom {
                id: interview.clone(),
                problem: PROBLEM.into(),
                created_ms: now_ms(),
                tokens: vec![(host.hash(), Role::Host), (edit.hash(), Role::Edit)],
            },
            Mode::Interview,
        )
        .await
        .unwrap();
    let practice = RoomId::random();
    store
        .create_room(&NewRoom {
            id: practice.clone(),
            problem: PROBLEM.into(),
            created_ms: now_ms(),
            tokens: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        store.room(&interview).await.unwrap().unwrap().mode,
        Mode::Interview
    );
    assert_eq!(
        store.room(&practice).await.unwrap().unwrap().mode,
        Mode::Practice
    );
    assert_eq!(
        store.role_for(&interview, &host.hash()).await.unwrap(),
        Some(Role::Host)
    );
    assert_eq!(
        store.role_for(&interview, &edit.hash()).await.unwrap(),
        Some(Role::Edit)
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_modes_and_host_tokens_are_stored() {
    let (_dir, url) = sqlite_url();
    modes_and_host_tokens_are_stored(&url).await;
}

#[tokio::test]
async fn postgres_modes_and_host_tokens_are_stored() {
    require_postgres().await;
    let schema = ScratchSchema::create(PG_URL).await.expect("scratch schema");
    modes_and_host_tokens_are_stored(schema.url()).await;
    schema.drop_now().await.expect("drop schema");
}

#[tokio::test]
async fn rooms_have_a_mode_and_three_roles() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;

    // The mode defaults to practice; an unknown one is a 400.
    let (room, host, edit, view) = create(&server, None).await;
    let s = session(&server, &room, &host).await;
    assert_eq!(
        (s["role"].as_str(), s["mode"].as_str()),
        (Some("host"), Some("practice"))
    );
    let (status, json) = http(
        server.addr,
        "POST",
        "/api/rooms",
        Some(&serde_json::json!({"problem": PROBLEM, "mode": "exam"}).to_string()),
    )
    .await;
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("bad_json")),
        "{json}"
    );

    let (room, host, edit2, view2) = create(&server, Some("interview")).await;
    for (token, role) in [(&host, "host"), (&edit2, "edit"), (&view2, "view")] {
        let s = session(&server, &room, token).await;
        assert_eq!(s["role"], role);
        assert_eq!(s["mode"], "interview");
        let (status, info) = http(
            server.addr,
            "GET",
            &format!("/api/rooms/{room}?token={token}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            (info["role"].as_str(), info["mode"].as_str()),
            (Some(role), Some("interview"))
        );
    }
    // Tokens of one room open no other.
    let (status, _) = http(
        server.addr,
        "GET",
        &format!("/api/rooms/{room}?token={edit}"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let _ = view;

    // The host edits like an editor: its update reaches an editor.
    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit2)).await;
    let mut interviewer = WsClient::connect(&server.ws_url(&room, &host)).await;
    let meta = interviewer.doc.get_or_insert_map("meta");
    interviewer
        .edit(|_, txn| {
            meta.insert(txn, "by_host", "yes");
        })
        .await;
    let seen = candidate.doc.get_or_insert_map("meta");
    let arrived = candidate
        .pump_until(Duration::from_secs(5), |c| {
            seen.get(&c.doc.transact(), "by_host").is_some()
        })
        .await;
    assert!(arrived, "the host's edit reached the candidate");
    assert!(
        message(&interviewer, "error").is_none(),
        "the host is not read-only"
    );
    candidate.close().await;
    interviewer.close().await;
    server.stop().await;
}

// ---- step 2: hidden solutions --------------------------------------------------------------

async fn hiding_server(url: &str) -> TestServer {
    let mut config = tierboard::config::ServeConfig::for_test(url, "problems");
    config.hide_solutions = true;
    TestServer::start_with(config).await
}

#[tokio::test]
async fn hide_solutions_closes_the_public_routes_and_the_room_route_serves_the_host() {
    let (_dir, url) = sqlite_url();
    let server = hiding_server(&url).await;
    let problem = common::bank().get(PROBLEM).unwrap();
    assert!(!problem.hints.is_empty() && problem.reference_solution.is_some());

    let (status, json) = http(
        server.addr,
        "GET",
        &format!("/api/problems/{PROBLEM}/solution"),
        None,
    )
    .await;
    assert_eq!(
        (status, json["code"].as_str()),
        (404, Some("unknown_problem"))
    );
    let (status, json) = http(
        server.addr,
        "GET",
        &format!("/api/problems/{PROBLEM}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    for hidden in ["hints", "tutorial", "reference_solution", "analysis"] {
        assert!(
            json.get(hidden).is_none(),
            "{hidden} served by /api/problems/{{id}}"
        );
    }
    assert!(
        json.get("tiers").is_some() && json.get("title").is_some(),
        "the statement stays"
    );

    let solution = |room: String, token: String| {
        let addr = server.addr;
        async move {
            http(
                addr,
                "GET",
                &format!("/api/rooms/{room}/solution?token={token}"),
                None,
            )
            .await
        }
    };
    let (room, host, edit, view) = create(&server, Some("interview")).await;
    let (status, json) = solution(room.clone(), host.clone()).await;
    assert_eq!(status, 200, "{json}");
    assert!(
        json["reference_solution"]["nodes"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(
        json["hints"].as_array().map(Vec::len),
        Some(problem.hints.len())
    );
    assert!(json["analysis"].is_object());
    for token in [&edit, &view] {
        let (status, json) = solution(room.clone(), token.clone()).await;
        assert_eq!(
            (status, json["code"].as_str()),
            (403, Some("forbidden")),
            "{json}"
        );
        assert!(!json.to_string().contains(&problem.hints[0]));
    }
    let (status, _) = solution(room.clone(), "not-a-token".into()).await;
    assert_eq!(status, 401);

    // In a practice room everyone may look.
    let (room, _host, edit, view) = create(&server, None).await;
    for token in [edit, view] {
        let (status, json) = solution(room.clone(), token).await;
        assert_eq!(status, 200, "{json}");
    }
    server.stop().await;

    // Without the flag the public routes are as before.
    let (_dir2, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (status, _) = http(
        server.addr,
        "GET",
        &format!("/api/problems/{PROBLEM}/solution"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, json) = http(
        server.addr,
        "GET",
        &format!("/api/problems/{PROBLEM}"),
        None,
    )
    .await;
    assert!(json["hints"].as_array().is_some_and(|h| !h.is_empty()));
    server.stop().await;
}

// ---- step 3: rotated links -----------------------------------------------------------------

async fn rotate(
    server: &TestServer,
    room: &str,
    token: &str,
    role: &str,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "role": role }).to_string();
    http(
        server.addr,
        "POST",
        &format!("/api/rooms/{room}/rotate?token={token}"),
        Some(&body),
    )
    .await
}

/// Waits up to `limit` for the server to close `client`; its close code.
async fn closed_within(client: &mut WsClient, limit: Duration) -> Option<u16> {
    client.pump_until(limit, |c| c.close_code.is_some()).await;
    client.close_code
}

#[tokio::test]
async fn a_rotated_link_is_closed_with_4401_and_cannot_come_back() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, host, edit, view) = create(&server, Some("interview")).await;
    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let mut observer = WsClient::connect(&server.ws_url(&room, &view)).await;

    // Only the host rotates, and only edit and view links.
    for token in [&edit, &view] {
        let (status, json) = rotate(&server, &room, token, "view").await;
        assert_eq!(
            (status, json["code"].as_str()),
            (403, Some("forbidden")),
            "{json}"
        );
    }
    let (status, json) = rotate(&server, &room, &host, "host").await;
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("bad_json")),
        "{json}"
    );

    let (status, json) = rotate(&server, &room, &host, "edit").await;
    assert_eq!(status, 200, "{json}");
    let fresh = json["token"].as_str().unwrap().to_string();
    assert_ne!(fresh, edit);
    assert_eq!(
        closed_within(&mut candidate, Duration::from_secs(1)).await,
        Some(4401)
    );
    // The observer's link was not rotated.
    assert_eq!(
        closed_within(&mut observer, Duration::from_millis(300)).await,
        None
    );

    let mut again = WsClient::connect_unsynced(&server.ws_url(&room, &edit)).await;
    assert_eq!(
        closed_within(&mut again, Duration::from_secs(5)).await,
        Some(4401)
    );
    let (status, _) = http(
        server.addr,
        "GET",
        &format!("/api/rooms/{room}?token={edit}"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let s = session(&server, &room, &fresh).await;
    assert_eq!(s["role"], "edit");
    observer.close().await;
    server.stop().await;
}

/// Two instances sharing PostgreSQL and Redis.
async fn two_instances() -> (ScratchSchema, TestServer, TestServer) {
    require_postgres().await;
    let schema = ScratchSchema::create(PG_URL).await.expect("scratch schema");
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut config = tierboard::config::ServeConfig::for_test(schema.url(), "problems");
        config.redis_url = Some("redis://127.0.0.1:6379".into());
        config.hide_solutions = true;
        servers.push(TestServer::start_with(config).await);
    }
    let b = servers.pop().unwrap();
    let a = servers.pop().unwrap();
    (schema, a, b)
}

#[tokio::test]
async fn a_rotated_link_is_closed_on_every_instance() {
    let (schema, a, b) = two_instances().await;
    let (room, host, edit, view) = create(&a, Some("interview")).await;
    let mut on_b = WsClient::connect(&b.ws_url(&room, &edit)).await;
    let mut viewer_on_b = WsClient::connect(&b.ws_url(&room, &view)).await;
    // The host is on A: the room is loaded there too.
    let host_on_a = WsClient::connect(&a.ws_url(&room, &host)).await;

    let started = std::time::Instant::now();
    let (status, json) = rotate(&a, &room, &host, "edit").await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        closed_within(&mut on_b, Duration::from_secs(1)).await,
        Some(4401)
    );
    println!(
        "revoked connection on the other instance closed after {:?}",
        started.elapsed()
    );
    assert_eq!(
        closed_within(&mut viewer_on_b, Duration::from_millis(200)).await,
        None
    );
    let mut again = WsClient::connect_unsynced(&b.ws_url(&room, &edit)).await;
    assert_eq!(
        closed_within(&mut again, Duration::from_secs(5)).await,
        Some(4401)
    );

    // Rotating on B, where the room is not loaded any more than by this observer, reaches A.
    let (status, _) = rotate(&b, &room, &host, "view").await;
    assert_eq!(status, 200);
    assert_eq!(
        closed_within(&mut viewer_on_b, Duration::from_secs(1)).await,
        Some(4401)
    );
    host_on_a.close().await;
    a.stop().await;
    b.stop().await;
    schema.drop_now().await.expect("drop schema");
}

// ---- step 4: the interview state -----------------------------------------------------------

async fn act(
    server: &TestServer,
    room: &str,
    token: &str,
    action: serde_json::Value,
) -> (u16, serde_json::Value) {
    http(
        server.addr,
        "POST",
        &format!("/api/rooms/{room}/host?token={token}"),
        Some(&action.to_string()),
    )
    .await
}

/// The latest message of `kind` received.
fn latest<'a>(client: &'a WsClient, kind: &str) -> Option<&'a serde_json::Value> {
    client.tierboard.iter().rev().find(|m| m["type"] == kind)
}

/// Announces an awareness state for `client_id` (so the connection owns that id).
async fn announce(client: &mut WsClient, client_id: u64) {
    use bytes::BytesMut;
    use tierboard::sync::protocol::{encode_awareness, write_buf, write_var};
    let mut payload = BytesMut::new();
    write_var(&mut payload, 1);
    write_var(&mut payload, client_id);
    write_var(&mut payload, 1);
    write_buf(&mut payload, br#"{"user":{"name":"T"}}"#);
    client.send(encode_awareness(&payload)).await;
}

/// Sends an edit setting `meta.<key>`.
async fn set_meta(client: &mut WsClient, key: &'static str) {
    let meta = client.doc.get_or_insert_map("meta");
    client
        .edit(|_, txn| {
            meta.insert(txn, key, 1.0);
        })
        .await;
}

/// Whether `client` sees `meta.<key>` within `limit`.
async fn sees(client: &mut WsClient, key: &str, limit: Duration) -> bool {
    let meta = client.doc.get_or_insert_map("meta");
    client
        .pump_until(limit, |c| meta.get(&c.doc.transact(), key).is_some())
        .await
}

#[tokio::test]
async fn lock_and_driver_refuse_a_candidates_edits() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, host, edit, view) = create(&server, Some("interview")).await;
    let mut interviewer = WsClient::connect(&server.ws_url(&room, &host)).await;
    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let mut peer = WsClient::connect(&server.ws_url(&room, &edit)).await;

    // Non-host tokens are refused.
    for token in [&edit, &view] {
        let (status, json) =
            act(&server, &room, token, serde_json::json!({"action": "lock"})).await;
        assert_eq!((status, json["code"].as_str()), (403, Some("forbidden")));
    }
    let (status, json) = act(
        &server,
        &room,
        &host,
        serde_json::json!({"action": "explode"}),
    )
    .await;
    assert_eq!(status, 400, "{json}");

    let (status, state) = act(&server, &room, &host, serde_json::json!({"action": "lock"})).await;
    assert_eq!(
        (status, state["locked"].as_bool()),
        (200, Some(true)),
        "{state}"
    );
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "interview")
                .is_some_and(|m| m["state"]["locked"] == true))
            .await
    );
    set_meta(&mut candidate, "while_locked").await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "error")
                .is_some_and(|m| m["code"] == "locked"))
            .await
    );
    assert!(
        !sees(&mut interviewer, "while_locked", Duration::from_millis(500)).await,
        "a locked edit was applied"
    );
    // The host still edits.
    set_meta(&mut interviewer, "host_while_locked").await;
    assert!(sees(&mut candidate, "host_while_locked", Duration::from_secs(5)).await);

    act(
        &server,
        &room,
        &host,
        serde_json::json!({"action": "unlock"}),
    )
    .await;
    announce(&mut candidate, 4242).await;
    announce(&mut peer, 777).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The driver is the peer (whose document never had an edit refused: a refused edit leaves a
    // gap that keeps the client's later edits pending, so clients must not edit while refused).
    let (status, state) = act(
        &server,
        &room,
        &host,
        serde_json::json!({"action": "driver", "client": 777}),
    )
    .await;
    assert_eq!((status, state["driver"].as_u64()), (200, Some(777)));
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "interview")
                .is_some_and(|m| m["state"]["driver"] == 777))
            .await
    );
    set_meta(&mut candidate, "not_the_driver").await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "error")
                .is_some_and(|m| m["code"] == "not_driver"))
            .await
    );
    set_meta(&mut peer, "the_driver").await;
    assert!(sees(&mut interviewer, "the_driver", Duration::from_secs(5)).await);
    assert!(
        !sees(
            &mut interviewer,
            "not_the_driver",
            Duration::from_millis(300)
        )
        .await
    );

    // Host actions over the WebSocket: refused from a candidate (nothing closed), applied from the host.
    candidate
        .send(tierboard::sync::protocol::encode_tierboard(
            r#"{"type":"host_action","action":"unlock"}"#,
        ))
        .await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "error")
                .is_some_and(|m| m["code"] == "forbidden"))
            .await
    );
    candidate
        .send(tierboard::sync::protocol::encode_tierboard("not json"))
        .await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "error")
                .is_some_and(|m| m["code"] == "bad_request"))
            .await
    );
    assert_eq!(candidate.close_code, None);
    interviewer
        .send(tierboard::sync::protocol::encode_tierboard(
            r#"{"type":"host_action","action":"driver","client":null}"#,
        ))
        .await;
    assert!(
        peer.pump_until(Duration::from_secs(5), |c| latest(c, "interview")
            .is_some_and(|m| m["state"]["driver"].is_null()))
            .await
    );
    set_meta(&mut peer, "everyone_again").await;
    assert!(sees(&mut interviewer, "everyone_again", Duration::from_secs(5)).await);
    for c in [interviewer, candidate, peer] {
        c.close().await;
    }
    server.stop().await;
}

/// Long strings of a JSON value (the distinctive text of a reference or an analysis).
fn long_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if s.len() >= 24 => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| long_strings(v, out)),
        serde_json::Value::Object(m) => m.values().for_each(|v| long_strings(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn a_candidate_receives_no_byte_of_the_answer_hints_or_notes_until_revealed() {
    let (_dir, url) = sqlite_url();
    let server = hiding_server(&url).await;
    let problem = common::bank().get(PROBLEM).unwrap();
    let (room, host, edit, view) = create(&server, Some("interview")).await;
    let mut interviewer = WsClient::connect(&server.ws_url(&room, &host)).await;
    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let mut observer = WsClient::connect(&server.ws_url(&room, &view)).await;
    let notes = "candidate forgot the cache; probe on consistency";
    for action in [
        serde_json::json!({"action": "notes", "text": notes}),
        serde_json::json!({"action": "reveal_hint", "index": 1}),
        serde_json::json!({"action": "clock_start"}),
    ] {
        let (status, json) = act(&server, &room, &host, action).await;
        assert_eq!(status, 200, "{json}");
    }
    assert!(
        interviewer
            .pump_until(Duration::from_secs(5), |c| latest(c, "host")
                .is_some_and(|m| m["notes"] == notes))
            .await
    );
    let host_view = latest(&interviewer, "host").unwrap();
    assert_eq!(
        host_view["hints"].as_array().unwrap().len(),
        problem.hints.len()
    );
    for client in [&mut candidate, &mut observer] {
        assert!(
            client
                .pump_until(Duration::from_secs(5), |c| latest(c, "interview")
                    .is_some_and(|m| m["state"]["revealed_hints"]
                        .as_array()
                        .is_some_and(|h| h.len() == 1)))
                .await
        );
        client
            .pump_until(Duration::from_millis(500), |_| false)
            .await;
        let wire = String::from_utf8_lossy(&client.raw).to_string();
        assert!(
            wire.contains(&problem.hints[1]),
            "the revealed hint arrives"
        );
        assert!(!wire.contains(notes), "host notes on a candidate's wire");
        for (i, hint) in problem.hints.iter().enumerate() {
            if i != 1 {
                assert!(
                    !wire.contains(hint.as_str()),
                    "unrevealed hint {i} on a candidate's wire"
                );
            }
        }
        let mut secret = Vec::new();
        long_strings(
            &serde_json::to_value(&problem.reference_solution).unwrap(),
            &mut secret,
        );
        long_strings(
            &serde_json::to_value(&problem.analysis).unwrap(),
            &mut secret,
        );
        assert!(secret.len() > 3, "the test looks for something");
        for s in &secret {
            assert!(
                !wire.contains(s.as_str()),
                "reference or analysis text on a candidate's wire: {s}"
            );
        }
        assert!(latest(client, "host").is_none());
        assert!(!wire.contains(&host), "the host token");
    }
    // The solution route opens to them once revealed, and closes again.
    let solution = |token: &str| format!("/api/rooms/{room}/solution?token={token}");
    assert_eq!(
        http(server.addr, "GET", &solution(&edit), None).await.0,
        403
    );
    act(
        &server,
        &room,
        &host,
        serde_json::json!({"action": "reveal_solution"}),
    )
    .await;
    assert_eq!(
        http(server.addr, "GET", &solution(&edit), None).await.0,
        200
    );
    assert_eq!(
        http(server.addr, "GET", &solution(&view), None).await.0,
        200
    );
    act(
        &server,
        &room,
        &host,
        serde_json::json!({"action": "hide_solution"}),
    )
    .await;
    assert_eq!(
        http(server.addr, "GET", &solution(&edit), None).await.0,
        403
    );
    for c in [interviewer, candidate, observer] {
        c.close().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn the_interview_state_and_its_actions_survive_a_restart() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, host, edit, _view) = create(&server, Some("interview")).await;
    for action in [
        serde_json::json!({"action": "lock"}),
        serde_json::json!({"action": "reveal_hint", "index": 0}),
        serde_json::json!({"action": "clock_start"}),
        serde_json::json!({"action": "curveball", "scenario": {"load": 3, "cold_cache": true}}),
    ] {
        assert_eq!(act(&server, &room, &host, action).await.0, 200);
    }
    let (_, before) = act(
        &server,
        &room,
        &host,
        serde_json::json!({"action": "next_phase"}),
    )
    .await;
    // Stopped at once: a graceful shutdown waits for the writes of the last actions.
    server.stop().await;

    let server = TestServer::start(&url).await;
    let actions = server
        .state
        .store
        .host_actions(&RoomId::parse(&room).unwrap())
        .await
        .unwrap();
    assert_eq!(actions.len(), 5, "every host action stored: {actions:?}");
    assert!(actions[0].1.contains("\"lock\"") && actions[4].1.contains("next_phase"));
    let mut candidate = WsClient::connect(&server.ws_url(&room, &edit)).await;
    assert!(
        candidate
            .pump_until(Duration::from_secs(5), |c| latest(c, "simulation")
                .is_some()
                && latest(c, "interview").is_some())
            .await
    );
    let state = &latest(&candidate, "interview").unwrap()["state"];
    assert_eq!(state, &before, "the same state after a restart");
    assert_eq!(state["clock"]["phase"], 1);
    assert_eq!(state["curveball"]["cold_cache"], true);
    // The simulation is judged under the curveball.
    let sim = &latest(&candidate, "simulation").unwrap()["result"]["scenario"];
    assert_eq!(
        (sim["cold_cache"].as_bool(), sim["multiplier"].as_f64()),
        (Some(true), Some(3.0)),
        "{sim}"
    );
    candidate.close().await;
    server.stop().await;
}

#[tokio::test]
async fn the_clock_and_state_agree_across_instances() {
    let (schema, a, b) = two_instances().await;
    let (room, host, edit, _view) = create(&a, Some("interview")).await;
    let mut on_a = WsClient::connect(&a.ws_url(&room, &edit)).await;
    let mut on_b = WsClient::connect(&b.ws_url(&room, &edit)).await;
    let (status, state) = act(
        &a,
        &room,
        &host,
        serde_json::json!({"action": "clock_start"}),
    )
    .await;
    assert_eq!(status, 200);
    let ends_at = state["clock"]["ends_at"].as_i64().expect("running");
    for c in [&mut on_a, &mut on_b] {
        assert!(
            c.pump_until(Duration::from_secs(2), |c| latest(c, "interview")
                .is_some_and(|m| m["state"]["clock"]["ends_at"] == ends_at))
                .await
        );
    }
    // A curveball thrown on B re-judges on A.
    let (status, _) = act(
        &b,
        &room,
        &host,
        serde_json::json!({"action": "curveball", "scenario": {"load": 5}}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        on_a.pump_until(Duration::from_secs(2), |c| latest(c, "simulation")
            .is_some_and(|m| m["result"]["scenario"]["multiplier"] == 5.0))
            .await
    );
    // Locked on B: a candidate on A is refused.
    act(&b, &room, &host, serde_json::json!({"action": "lock"})).await;
    assert!(
        on_a.pump_until(Duration::from_secs(2), |c| latest(c, "interview")
            .is_some_and(|m| m["state"]["locked"] == true))
            .await
    );
    set_meta(&mut on_a, "locked_on_a").await;
    assert!(
        on_a.pump_until(Duration::from_secs(5), |c| latest(c, "error")
            .is_some_and(|m| m["code"] == "locked"))
            .await
    );
    assert!(!sees(&mut on_b, "locked_on_a", Duration::from_millis(500)).await);
    on_a.close().await;
    on_b.close().await;
    a.stop().await;
    b.stop().await;
    schema.drop_now().await.expect("drop schema");
}
