//! A room's life through the registry and a real server: starting and unloading (a join racing the
//! unload), idle unload with compaction and reload, a room with unsaved edits staying loaded, tier
//! transitions stored in the order the room broadcast them (SQLite and PostgreSQL), and `saved`
//! messages during steady editing.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use common::{TestServer, WsClient, sqlite_url};
use sqlx::Connection;
use tierboard::clock::now_ms;
use tierboard::config::ServeConfig;
use tierboard::ids::{InstanceId, Role, RoomId};
use tierboard::metrics::Metrics;
use tierboard::queue;
use tierboard::room::{ConnControl, ConnHandle, ConnId, Room, RoomCommand, RoomDeps};
use tierboard::rooms::Rooms;
use tierboard::store::scratch::ScratchSchema;
use tierboard::store::{NewRoom, Persister, Store};
use tierboard::validation::{TierEvent, ValidationResult, transitions};
use tokio::time::Instant;
use yrs::updates::decoder::Decode;
use yrs::{Map, ReadTxn, StateVector, Transact};

const PROBLEM: &str = "tutorial-simple-blog";

/// Polls `done` every few milliseconds until it holds; fails after `limit` with `what`.
async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A registry over a fresh SQLite store, with rooms that unload as soon as they may.
struct Registry {
    rooms: Rooms,
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

impl Registry {
    async fn new() -> Registry {
        let (dir, url) = sqlite_url();
        let store = Arc::new(Store::connect(&url, InstanceId::random()).await.unwrap());
        store.migrate().await.unwrap();
        let metrics = Arc::new(Metrics::default());
        let (persister, _task) = Persister::spawn(
            store.clone(),
            Duration::from_millis(10),
            64,
            metrics.clone(),
        );
        let bus = tierboard::bus::open(None, InstanceId::random(), metrics.clone()).unwrap();
        let rooms = Rooms::new(RoomDeps {
            store: store.clone(),
            bank: common::bank(),
            persister,
            metrics,
            bus,
            idle: Duration::ZERO,
            persist_steady: tierboard::room::PERSIST_STEADY,
            presence_window: tierboard::room::PRESENCE_WINDOW,
            limits: Default::default(),
            results: Default::default(),
        });
        Registry {
            rooms,
            store,
            _dir: dir,
        }
    }

    async fn room(&self) -> RoomId {
        let id = RoomId::random();
        self.store
            .create_room(&NewRoom {
                id: id.clone(),
                problem: PROBLEM.into(),
                created_ms: now_ms(),
                tokens: vec![],
            })
            .await
            .unwrap();
        self.store
            .append(&[(id.clone(), Room::initial_update(PROBLEM))])
            .await
            .unwrap();
        id
    }
}

fn conn() -> (ConnHandle, queue::Receiver<Bytes>) {
    conn_with_outbox(64)
}

fn conn_with_outbox(capacity: usize) -> (ConnHandle, queue::Receiver<Bytes>) {
    let (outbox, rx) = queue::channel(capacity);
    let handle = ConnHandle {
        id: ConnId::next(),
        role: Role::Edit,
        token: None,
        outbox: Arc::new(outbox),
        control: Arc::new(ConnControl::default()),
    };
    (handle, rx)
}

/// A join that comes just as the room unloads (its handle taken before, its mailbox closed after)
/// reaches a fresh actor, which the ended actor's removal leaves in the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_racing_an_unload_reaches_a_fresh_room() {
    let registry = Registry::new().await;
    let rooms = &registry.rooms;
    let id = registry.room().await;
    let stale = rooms.get_or_start(&id);
    // Nobody joins: with no idle time the room unloads and closes its mailbox.
    wait_until(Duration::from_secs(10), "the idle room to close", || {
        stale.tx.is_closed()
    })
    .await;
    let (conn, mut outbox) = conn();
    let conn_id = conn.id;
    let fresh = rooms
        .join(&id, conn)
        .await
        .expect("the join reaches a room");
    assert_ne!(fresh.generation, stale.generation, "a fresh actor");
    // Greeted: with the session first when the old actor's compaction has left one row (the
    // document is integrated while the greeting goes out), else after sync step 1.
    let mut greeting = Vec::new();
    while !greeting
        .iter()
        .any(|m: &Vec<u8>| m.windows(9).any(|w| w == b"\"session\""))
    {
        let next = tokio::time::timeout(Duration::from_secs(10), outbox.recv())
            .await
            .expect("greeted in time")
            .expect("the outbox stays open");
        greeting.push(next.to_vec());
        assert!(
            greeting.len() <= 2,
            "the session is among the first two messages"
        );
    }
    // The old actor's task ends (its removal and compaction done): the fresh one stays registered.
    wait_until(Duration::from_secs(10), "the old room task to end", || {
        rooms.running() == 1
    })
    .await;
    assert_eq!(rooms.loaded(), 1);
    assert_eq!(rooms.get_or_start(&id).generation, fresh.generation);
    assert_eq!(fresh.shared.connections.load(Ordering::Relaxed), 1);
    // Once its connection leaves, the fresh room unloads too and the registry forgets it.
    fresh
        .tx
        .send(RoomCommand::Leave { conn: conn_id })
        .await
        .unwrap();
    wait_until(Duration::from_secs(10), "the fresh room to unload", || {
        rooms.running() == 0 && rooms.loaded() == 0
    })
    .await;
}

/// Joins and leaves in quick succession against rooms that unload as soon as they are empty: every
/// join is answered by a live room, and nothing is left running at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_and_unloads_in_quick_succession_never_lose_a_join() {
    let registry = Registry::new().await;
    let id = registry.room().await;
    let Registry {
        rooms,
        store: _store,
        _dir,
    } = registry;
    let rooms = Arc::new(rooms);
    for round in 0..30 {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let rooms = rooms.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                let (conn, mut outbox) = conn();
                let conn_id = conn.id;
                let room = rooms.join(&id, conn).await.expect("joined");
                outbox.recv().await.expect("greeted by a live room");
                room.tx
                    .send(RoomCommand::Leave { conn: conn_id })
                    .await
                    .ok();
            }));
        }
        for task in tasks {
            task.await.unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
    wait_until(Duration::from_secs(10), "every room to unload", || {
        rooms.running() == 0 && rooms.loaded() == 0
    })
    .await;
}

/// The actor executes the core's effects: a connection whose outbox fills up is put behind (nothing
/// more is queued for it, it is not closed), the writer and a reader that keeps up carry on, and
/// once the slow connection's outbox drains the room catches it up to the whole document (issue 25,
/// item 11; a reader that never drains is dropped by its socket writer's timeout, in `ws.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_puts_only_that_connection_behind_until_it_drains() {
    let registry = Registry::new().await;
    let id = registry.room().await;
    let rooms = &registry.rooms;
    let (slow, mut slow_outbox) = conn_with_outbox(8);
    let slow_control = slow.control.clone();
    let (reader, mut reader_outbox) = conn();
    let reader_control = reader.control.clone();
    let (writer, _writer_outbox) = conn();
    let writer_id = writer.id;
    rooms.join(&id, slow).await.unwrap();
    rooms.join(&id, reader).await.unwrap();
    let room = rooms.join(&id, writer).await.unwrap();
    let doc = yrs::Doc::new();
    let notes = doc.get_or_insert_map("notes");
    // Far more updates than the slow outbox holds: without the catch-up it would be closed.
    const UPDATES: i64 = 100;
    let reader_doc = yrs::Doc::new();
    for i in 0..UPDATES {
        let update = {
            let mut txn = doc.transact_mut();
            notes.insert(&mut txn, format!("k{i}"), i);
            txn.encode_update_v1()
        };
        let decoded = yrs::Update::decode_v1(&update).unwrap();
        room.tx
            .send(RoomCommand::Inbound {
                conn: writer_id,
                messages: vec![tierboard::room::Inbound::Update(decoded, update.into())],
            })
            .await
            .unwrap();
        // The reader keeps up: it drains what reached it so far.
        while let Ok(Some(frame)) =
            tokio::time::timeout(Duration::from_millis(5), reader_outbox.recv()).await
        {
            apply_frame(&reader_doc, &frame);
        }
    }
    let expected = doc.transact().state_vector();
    let deadline = Instant::now() + Duration::from_secs(10);
    while reader_doc.transact().state_vector() != expected {
        assert!(
            Instant::now() < deadline,
            "the reader never got every update"
        );
        if let Ok(Some(frame)) =
            tokio::time::timeout(Duration::from_millis(50), reader_outbox.recv()).await
        {
            apply_frame(&reader_doc, &frame);
        }
    }
    assert!(!slow_control.is_stopped(), "a slow reader is not closed");
    assert!(
        !reader_control.is_stopped(),
        "the reader that keeps up stays"
    );
    assert_eq!(room.shared.connections.load(Ordering::Relaxed), 3);

    // The slow connection drains its outbox now: the room catches it up with one update.
    let slow_doc = yrs::Doc::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while slow_doc.transact().state_vector() != expected {
        assert!(
            Instant::now() < deadline,
            "the slow connection was never caught up"
        );
        if let Ok(Some(frame)) =
            tokio::time::timeout(Duration::from_millis(50), slow_outbox.recv()).await
        {
            apply_frame(&slow_doc, &frame);
        }
    }
    assert!(!slow_control.is_stopped());
    assert!(!room.tx.is_closed());
}

/// A connection's reader runs the room's turn itself (`RoomShared::try_inbound`) once the room has
/// loaded, and hands its messages back for the mailbox while any of its earlier ones waits there, so
/// one connection's messages are applied in the order they came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_runs_its_own_turn_only_while_nothing_of_its_waits_in_the_mailbox() {
    use tierboard::room::Inbound;
    let registry = Registry::new().await;
    let id = registry.room().await;
    let rooms = &registry.rooms;
    let (writer, _writer_outbox) = conn();
    let (writer_id, control) = (writer.id, writer.control.clone());
    let (observer, mut observer_outbox) = conn();
    rooms.join(&id, writer).await.unwrap();
    let room = rooms.join(&id, observer).await.unwrap();
    let doc = yrs::Doc::new();
    let notes = doc.get_or_insert_map("notes");
    let edit = |i: i64| -> Vec<Inbound> {
        let update = {
            let mut txn = doc.transact_mut();
            notes.insert(&mut txn, "n", i);
            txn.encode_update_v1()
        };
        let decoded = yrs::Update::decode_v1(&update).unwrap();
        vec![Inbound::Update(decoded, update.into())]
    };
    let observer_doc = yrs::Doc::new();

    // Once the room has loaded and replayed what it held, the writer's turn runs on this task.
    let mut first = edit(1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match room.shared.try_inbound(writer_id, &control, first) {
            Ok(()) => break,
            Err(back) => first = back,
        }
        assert!(
            Instant::now() < deadline,
            "the room never ran a reader's turn"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    seen(&observer_doc, 1, &mut observer_outbox).await;

    // One of its messages waits in the mailbox: the next is handed back, whole.
    control.queued.fetch_add(1, Ordering::AcqRel);
    let back = room
        .shared
        .try_inbound(writer_id, &control, edit(2))
        .expect_err("a message of this connection waits in the mailbox");
    assert_eq!(back.len(), 1, "the messages come back as they were given");
    room.tx
        .send(RoomCommand::Inbound {
            conn: writer_id,
            messages: back,
        })
        .await
        .unwrap();
    wait_until(Duration::from_secs(10), "the room to handle it", || {
        control.queued.load(Ordering::Acquire) == 0
    })
    .await;
    seen(&observer_doc, 2, &mut observer_outbox).await;
    // Nothing waits any more: the reader's own turn again.
    room.shared
        .try_inbound(writer_id, &control, edit(3))
        .expect("the turn is free and nothing waits");
    seen(&observer_doc, 3, &mut observer_outbox).await;
}

/// Applies what reaches `outbox` to `doc` until its `notes.n` is `n`; fails after 10 s.
async fn seen(doc: &yrs::Doc, n: i64, outbox: &mut queue::Receiver<Bytes>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = {
            let txn = doc.transact();
            txn.get_map("notes")
                .and_then(|notes| notes.get(&txn, "n"))
                .map(|v| v.to_string(&txn))
        };
        if value.as_deref() == Some(n.to_string().as_str()) {
            return;
        }
        assert!(Instant::now() < deadline, "the observer never saw n = {n}");
        if let Ok(Some(frame)) =
            tokio::time::timeout(Duration::from_millis(50), outbox.recv()).await
        {
            apply_frame(doc, &frame);
        }
    }
}

/// Applies the sync messages of a frame the room queued for a connection.
fn apply_frame(doc: &yrs::Doc, frame: &Bytes) {
    use tierboard::sync::protocol::{ClientMessage, parse_frame};
    for message in parse_frame(frame).expect("the room's frames parse") {
        if let ClientMessage::SyncStep2(update) | ClientMessage::Update(update) = message {
            let update = yrs::Update::decode_v1(&update).expect("the room's updates decode");
            doc.transact_mut().apply_update(update).expect("applies");
        }
    }
}

fn config(url: &str) -> ServeConfig {
    let mut config = ServeConfig::for_test(url, "problems");
    config.room_idle_secs = 1;
    config
}

fn notes(client: &WsClient) -> BTreeMap<String, String> {
    let map = client.doc.get_or_insert_map("notes");
    let txn = client.doc.transact();
    map.iter(&txn)
        .map(|(k, v)| (k.to_string(), v.to_string(&txn)))
        .collect()
}

fn latest_validation(client: &WsClient) -> Option<ValidationResult> {
    client
        .tierboard
        .iter()
        .rev()
        .find(|m| m["type"] == "validation")
        .map(|m| serde_json::from_value(m["result"].clone()).expect("a validation result"))
}

fn tiers() -> usize {
    common::bank().get(PROBLEM).unwrap().tiers.len()
}

async fn write_reference(client: &mut WsClient) {
    let design = common::bank()
        .get(PROBLEM)
        .unwrap()
        .reference_design()
        .unwrap();
    client.edit(|_, txn| design.write_to_txn(txn)).await;
}

async fn clear_design(client: &mut WsClient) {
    let nodes = client.doc.get_or_insert_map(tierboard::design::NODES_KEY);
    let edges = client.doc.get_or_insert_map(tierboard::design::EDGES_KEY);
    client
        .edit(|_, txn| {
            nodes.clear(txn);
            edges.clear(txn);
        })
        .await;
}

async fn note(client: &mut WsClient, key: &str, value: i64) {
    let map = client.doc.get_or_insert_map("notes");
    let key = key.to_string();
    client
        .edit(move |_, txn| {
            map.insert(txn, key, value);
        })
        .await;
}

/// Issue 18 item 7: with `--room-idle-secs 1`, a room nobody is connected to unloads, is compacted
/// to one row, and reloads with its whole document and its validation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_room_unloads_compacts_and_reloads_with_its_state_and_validation() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start_with(config(&url)).await;
    let (room, edit, view) = server.create_room(PROBLEM).await;
    let room_id = RoomId::parse(&room).unwrap();
    let mut client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    write_reference(&mut client).await;
    for i in 0..5 {
        note(&mut client, &format!("k{i}"), i).await;
        assert!(
            client
                .pump_until(Duration::from_secs(10), |c| c.saved())
                .await,
            "edit {i} saved"
        );
    }
    assert!(
        client
            .pump_until(Duration::from_secs(10), |c| {
                latest_validation(c).is_some_and(|v| v.reached == tiers())
            })
            .await,
        "the reference design reaches every tier"
    );
    // A loaded room takes a random head start on its first snapshot (room/load.rs), so one of the
    // edits above may have been stored as a snapshot that replaced every row. The next edit after
    // a snapshot is a plain row (the following snapshot is `compact_rows` rows away), so one more
    // edit always leaves several rows for the unload to compact.
    let mut rows = server.state.store.row_count(&room_id).await.unwrap();
    if rows == 1 {
        note(&mut client, "after-snapshot", 5).await;
        assert!(
            client
                .pump_until(Duration::from_secs(10), |c| c.saved())
                .await,
            "the edit after the snapshot saved"
        );
        rows = server.state.store.row_count(&room_id).await.unwrap();
    }
    assert!(rows > 1, "several rows before the unload ({rows})");
    let before = notes(&client);
    let nodes_before = client
        .doc
        .get_or_insert_map(tierboard::design::NODES_KEY)
        .len(&client.doc.transact());
    client.close().await;

    let rooms = &server.state.rooms;
    wait_until(Duration::from_secs(15), "the idle room to unload", || {
        rooms.loaded() == 0 && rooms.running() == 0
    })
    .await;
    assert_eq!(server.state.metrics.rooms_loaded.load(Ordering::Relaxed), 0);
    assert_eq!(
        server.state.store.row_count(&room_id).await.unwrap(),
        1,
        "compacted on unload"
    );

    let mut client = WsClient::connect(&server.ws_url(&room, &view)).await;
    assert_eq!(notes(&client), before, "the document reloads whole");
    assert_eq!(
        client
            .doc
            .get_or_insert_map(tierboard::design::NODES_KEY)
            .len(&client.doc.transact()),
        nodes_before
    );
    assert!(
        client
            .pump_until(Duration::from_secs(10), |c| {
                latest_validation(c).is_some_and(|v| v.reached == tiers())
            })
            .await,
        "the reloaded room validates its design again"
    );
    let (status, json) = common::http(
        server.addr,
        "GET",
        &format!("/api/rooms/{room}/validation?token={view}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["reached"], tiers());
    client.close().await;
    server.stop().await;
}

/// A room whose last edits are not stored (the database refuses writes) stays loaded past its idle
/// time, and unloads once they are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_with_unsaved_edits_does_not_unload() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start_with(config(&url)).await;
    let (room, edit, _) = server.create_room(PROBLEM).await;
    let mut client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    note(&mut client, "stored", 1).await;
    assert!(
        client
            .pump_until(Duration::from_secs(10), |c| c.saved())
            .await
    );
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER block_inserts BEFORE INSERT ON doc_journal \
         BEGIN SELECT RAISE(ABORT, 'blocked by the test'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let errors = server.state.metrics.errors.load(Ordering::Relaxed);
    note(&mut client, "unsaved", 2).await;
    client
        .pump_until(Duration::from_millis(100), |_| false)
        .await;
    client.close().await;
    // Six failed commits are 100 + 200 + 400 + 800 + 1600 ms of backoff: well past the 1 s idle time.
    let metrics = &server.state.metrics;
    wait_until(Duration::from_secs(30), "six failed commits", || {
        metrics.errors.load(Ordering::Relaxed) >= errors + 6
    })
    .await;
    assert_eq!(server.state.rooms.loaded(), 1, "unsaved: still loaded");
    assert_eq!(server.state.rooms.running(), 1);
    sqlx::query("DROP TRIGGER block_inserts")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    let rooms = &server.state.rooms;
    wait_until(Duration::from_secs(30), "the stored room to unload", || {
        rooms.loaded() == 0 && rooms.running() == 0
    })
    .await;
    let client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let stored = notes(&client);
    assert_eq!(stored.get("unsaved").map(String::as_str), Some("2"));
    client.close().await;
    server.stop().await;
}

/// Issue 18 item 5: tier changes made in quick succession are stored in the order the room
/// broadcast them: the stored timeline equals the transitions between consecutive `validation`
/// messages. While the changes are made, another connection holds the transitions table locked,
/// so every write waits and they would all race once it is released, were they not one after the
/// other (on PostgreSQL two concurrent writes of one tier compute the same `n` and one is dropped).
async fn timeline_follows_the_broadcasts(database_url: &str, lock: &[&'static str]) {
    let server = TestServer::start_with(config(database_url)).await;
    let (room, edit, _) = server.create_room(PROBLEM).await;
    let room_id = RoomId::parse(&room).unwrap();
    let mut client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    assert!(
        client
            .pump_until(Duration::from_secs(10), |c| latest_validation(c).is_some())
            .await,
        "the baseline validation"
    );
    let mut blocker = sqlx::AnyConnection::connect(database_url).await.unwrap();
    for statement in lock {
        sqlx::query(*statement).execute(&mut blocker).await.unwrap();
    }
    for round in 0..8 {
        if round % 2 == 0 {
            write_reference(&mut client).await;
        } else {
            clear_design(&mut client).await;
        }
        // Just past the room's validation window: each change is judged on its own, and the room
        // stores transitions while earlier ones may still be in flight.
        client
            .pump_until(Duration::from_millis(60), |_| false)
            .await;
    }
    assert!(
        client
            .pump_until(Duration::from_secs(10), |c| {
                latest_validation(c).is_some_and(|v| v.reached == 0)
            })
            .await,
        "the last change (a clear) judged"
    );
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    blocker.close().await.unwrap();
    let results: Vec<ValidationResult> = client
        .tierboard
        .iter()
        .filter(|m| m["type"] == "validation")
        .map(|m| serde_json::from_value(m["result"].clone()).unwrap())
        .collect();
    let expected: Vec<(String, String)> = results
        .windows(2)
        .flat_map(|pair| transitions(Some(&pair[0]), &pair[1]))
        .map(|t| {
            let event = match t.event {
                TierEvent::Reached => "reached",
                TierEvent::Lost => "lost",
            };
            (t.tier, event.to_string())
        })
        .collect();
    assert!(
        expected.len() >= 4 * tiers(),
        "enough transitions broadcast: {expected:?}"
    );
    let store = &server.state.store;
    let deadline = Instant::now() + Duration::from_secs(15);
    let stored = loop {
        let stored: Vec<(String, String)> = store
            .timeline(&room_id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.tier, t.event))
            .collect();
        if stored.len() >= expected.len() || Instant::now() > deadline {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(stored, expected, "the stored timeline is the broadcast one");
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_transitions_are_stored_in_order_on_sqlite() {
    let (_dir, url) = sqlite_url();
    timeline_follows_the_broadcasts(&url, &["BEGIN IMMEDIATE"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_transitions_are_stored_in_order_on_postgres() {
    common::require_postgres().await;
    let schema = ScratchSchema::create(common::PG_URL)
        .await
        .expect("a scratch schema");
    timeline_follows_the_broadcasts(
        schema.url(),
        &["BEGIN", "LOCK TABLE tier_transitions IN EXCLUSIVE MODE"],
    )
    .await;
    schema.drop_now().await.expect("drop the scratch schema");
}

/// The client clock `sv` (base64 of a v1 state vector) holds for `client`.
fn clock_in(message: &serde_json::Value, client: &WsClient) -> u32 {
    let sv = base64::engine::general_purpose::STANDARD
        .decode(message["sv"].as_str().unwrap())
        .unwrap();
    StateVector::decode_v1(&sv)
        .unwrap()
        .get(&client.doc.client_id())
}

/// Issue 25 item 7: a client editing steadily (every `period`) hears a `saved` at least about once
/// a second, each acknowledging more of its edits, though its latest edit is never yet stored when
/// a round goes out.
async fn steady_editing_hears_saved(period: Duration) {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, edit, _) = server.create_room(PROBLEM).await;
    let mut client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let start = Instant::now();
    let mut heard: Vec<(Duration, u32)> = Vec::new();
    let mut i = 0;
    while start.elapsed() < Duration::from_millis(4000) {
        note(&mut client, "k", i).await;
        i += 1;
        let seen = client.tierboard.len();
        client.pump_until(period, |_| false).await;
        for message in &client.tierboard[seen..] {
            if message["type"] == "saved" {
                heard.push((start.elapsed(), clock_in(message, &client)));
            }
        }
    }
    let local = client
        .doc
        .transact()
        .state_vector()
        .get(&client.doc.client_id());
    assert!(heard.len() >= 3, "{i} edits, saved heard at {heard:?}");
    let mut last = (Duration::ZERO, 0);
    for &(at, clock) in &heard {
        // Once a second by the protocol; the margin is for a loaded CI machine.
        assert!(
            at - last.0 <= Duration::from_millis(2000),
            "a gap of {:?} without a saved: {heard:?}",
            at - last.0
        );
        assert!(clock > last.1, "each saved acknowledges more: {heard:?}");
        assert!(clock <= local);
        last = (at, clock);
    }
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_every_4_ms_hears_saved_every_second() {
    steady_editing_hears_saved(Duration::from_millis(4)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_every_50_ms_hears_saved_every_second() {
    steady_editing_hears_saved(Duration::from_millis(50)).await;
}
