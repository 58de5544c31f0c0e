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
