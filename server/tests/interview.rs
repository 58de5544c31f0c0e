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
