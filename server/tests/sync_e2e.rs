//! End-to-end through real WebSockets with a yrs client: long histories are compacted and reload
//! identically, on a SQLite file and on PostgreSQL.

mod common;

use std::time::Duration;

use common::{TestServer, WsClient, require_postgres, sqlite_url};
use std::collections::BTreeMap;
use tierboard::ids::{InstanceId, RoomId};
use tierboard::store::Store;

use yrs::types::ToJson;
use yrs::{Map, MapRef, ReadTxn, Transact};

/// The stated bound (docs/ARCHITECTURE.md): at most `compact_rows + 1 + c` rows per room with one
/// writer, where `c ≤ compact_rows` rows are committed while a compaction is queued or running.
const COMPACT_ROWS: u64 = 64;
const ROW_BOUND: u64 = 2 * COMPACT_ROWS + 1;

/// A map's content in key order, for comparison.
fn entries(map: &MapRef, doc: &yrs::Doc) -> BTreeMap<String, String> {
    let txn = doc.transact();
    map.iter(&txn)
        .map(|(k, v)| (k.to_string(), v.to_string(&txn)))
        .collect()
}

async fn ten_thousand_updates_stay_bounded_and_reload(database_url: &str) {
    let server = TestServer::start(database_url).await;
    let (room, edit, _) = server.create_room("tutorial-simple-blog").await;
    let mut client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let nodes = client.doc.get_or_insert_map("nodes");
    for i in 0..10_000u32 {
        let nodes = nodes.clone();
        client
            .edit(move |_, txn| {
                nodes.insert(txn, format!("k{}", i % 500), i);
            })
            .await;
    }
    assert!(
        client
            .pump_until(Duration::from_secs(60), |c| c.saved())
            .await,
        "all edits saved"
    );
    let expected_json = entries(&nodes, &client.doc);
    let expected_sv = client.doc.transact().state_vector();
    client.close().await;

    // Compaction runs in the background: give it a moment, then count the rows.
    let store = Store::connect(database_url, InstanceId::random())
        .await
        .unwrap();
    let room_id = RoomId::parse(&room).unwrap();
    let mut rows = u64::MAX;
    for _ in 0..100 {
        rows = store.row_count(&room_id).await.unwrap();
        if rows <= ROW_BOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        rows <= ROW_BOUND,
        "room holds {rows} rows, bound {ROW_BOUND}"
    );
    server.stop().await;
    assert_eq!(
        store.row_count(&room_id).await.unwrap(),
        1,
        "a graceful stop leaves each room as one snapshot row"
    );

    // The restarted server answers joiners from that row while it integrates the document; an
    // edit sent at once, before the joiner is synced, waits for the document and is not lost.
    let server = TestServer::start(database_url).await;
    let mut early = WsClient::connect_unsynced(&server.ws_url(&room, &edit)).await;
    let early_nodes = early.doc.get_or_insert_map("nodes");
    early
        .edit(|_, txn| {
            early_nodes.insert(txn, "late", 1u32);
        })
        .await;
    let mut fresh = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let nodes = fresh.doc.get_or_insert_map("nodes");
    assert!(
        early
            .pump_until(Duration::from_secs(10), |c| c.synced && c.saved())
            .await,
        "the early client synced and its edit was saved"
    );
    assert!(
        fresh
            .pump_until(Duration::from_secs(10), |c| {
                c.doc.get_or_insert_map("nodes").len(&c.doc.transact()) == 501
            })
            .await,
        "the early edit reached the fresh client"
    );
    let mut want = expected_json.clone();
    want.insert("late".into(), "1".into());
    assert_eq!(entries(&nodes, &fresh.doc), want);
    assert_eq!(entries(&early_nodes, &early.doc), want);
    assert_eq!(
        fresh.doc.transact().state_vector(),
        early.doc.transact().state_vector()
    );
    for (client, _) in expected_sv.iter() {
        assert_eq!(
            fresh.doc.transact().state_vector().get(client),
            expected_sv.get(client)
        );
    }
    fresh.close().await;
    early.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_bounds_rows_and_reloads_identically_on_sqlite() {
    let (_dir, url) = sqlite_url();
    ten_thousand_updates_stay_bounded_and_reload(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_bounds_rows_and_reloads_identically_on_postgres() {
    require_postgres().await;
    ten_thousand_updates_stay_bounded_and_reload(common::PG_URL).await;
}

/// A room compacts itself (store module docs, "Snapshots from the room"): edited at a pace where each
/// edit is its own submission, it submits its document every `compact_rows` submissions in place of
/// the rows it covers, and a restarted server's room replaces the rows it loaded the same way. The
/// document reloads identically throughout.
async fn rooms_snapshot_themselves_and_reload(database_url: &str, postgres: bool) {
    const ROWS: u64 = 8;
    const EDITS: u32 = 120;
    let config = || {
        let mut config = tierboard::config::ServeConfig::for_test(database_url, "problems");
        config.compact_rows = ROWS;
        // Every edit its own submission (a steady room would merge them, fewer rows than counted).
        config.persist_steady_ms = 0;
        config
    };
    let store = Store::connect(database_url, InstanceId::random())
        .await
        .unwrap();
    let mut expected = BTreeMap::new();
    let mut room: Option<(String, String)> = None;
    for round in 0..2 {
        let server = TestServer::start_with(config()).await;
        let (room_id, edit) = match &room {
            Some(r) => r.clone(),
            None => {
                let (r, e, _) = server.create_room("tutorial-simple-blog").await;
                room = Some((r.clone(), e.clone()));
                (r, e)
            }
        };
        let mut client = WsClient::connect(&server.ws_url(&room_id, &edit)).await;
        let nodes = client.doc.get_or_insert_map("nodes");
        assert_eq!(
            entries(&nodes, &client.doc),
            expected,
            "round {round}: reloaded"
        );
        for i in 0..EDITS {
            let nodes = nodes.clone();
            client
                .edit(move |_, txn| {
                    nodes.insert(txn, format!("r{round}k{}", i % 30), i);
                })
                .await;
            // Paced, each edit its own submission (a lone edit goes at once, no steady window here).
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        assert!(
            client
                .pump_until(Duration::from_secs(20), |c| c.saved())
                .await,
            "round {round}: all edits saved"
        );
        expected = entries(&nodes, &client.doc);
        let snapshots = server
            .state
            .metrics
            .room_snapshots
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            snapshots >= u64::from(EDITS) / ROWS / 2,
            "round {round}: {snapshots} snapshots over {EDITS} paced edits (one per {ROWS} expected)"
        );
        let rows = store
            .row_count(&RoomId::parse(&room_id).unwrap())
            .await
            .unwrap();
        // PostgreSQL: at most the snapshot and the rows since (the first round also the room's
        // initial row, replaced only by the restarted room, which loads it). SQLite also keeps, until
        // the next snapshot, what was still in the journal at the last one (up to a second of commits).
        let bound = if postgres {
            ROWS + 2
        } else {
            u64::from(EDITS) / 2
        };
        assert!(
            rows <= bound,
            "round {round}: {rows} rows stored, bound {bound}"
        );
        client.close().await;
        server.stop().await;
    }
    let server = TestServer::start_with(config()).await;
    let (room_id, edit) = room.unwrap();
    let client = WsClient::connect(&server.ws_url(&room_id, &edit)).await;
    let nodes = client.doc.get_or_insert_map("nodes");
    assert_eq!(
        entries(&nodes, &client.doc),
        expected,
        "after the second restart"
    );
    assert_eq!(expected.len(), 60);
    client.close().await;
    server.stop().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_snapshot_themselves_on_sqlite() {
    let (_dir, url) = sqlite_url();
    rooms_snapshot_themselves_and_reload(&url, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_snapshot_themselves_on_postgres() {
    require_postgres().await;
    rooms_snapshot_themselves_and_reload(common::PG_URL, true).await;
}

/// Runs the room's pending validation, if any (the route does that first), and returns how many
/// validation runs the server has made so far.
async fn validations_after_pending(server: &TestServer, room: &str, token: &str) -> u64 {
    let (status, json) = common::http(
        server.addr,
        "GET",
        &format!("/api/rooms/{room}/validation?token={token}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    server
        .state
        .metrics
        .validations
        .load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dragging_nodes_is_not_revalidated_but_changing_them_is() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, edit, _) = server.create_room("tutorial-simple-blog").await;
    let mut client = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let nodes = client.doc.get_or_insert_map("nodes");
    let add = nodes.clone();
    client
        .edit(move |_, txn| {
            add.insert(
                txn,
                "n1",
                yrs::MapPrelim::from([
                    ("type", yrs::In::from("app")),
                    ("label", yrs::In::from("App")),
                    ("x", yrs::In::from(0.0)),
                    ("y", yrs::In::from(0.0)),
                ]),
            );
        })
        .await;
    let saved = |c: &WsClient| c.saved();
    assert!(client.pump_until(Duration::from_secs(10), saved).await);
    let added = validations_after_pending(&server, &room, &edit).await;
    assert!(added >= 1, "the new node was validated");

    let node = |client: &WsClient| match nodes.get(&client.doc.transact(), "n1") {
        Some(yrs::Out::YMap(node)) => node,
        other => panic!("node n1: {other:?}"),
    };
    for i in 0..50 {
        let n1 = node(&client);
        client
            .edit(move |_, txn| {
                n1.insert(txn, "x", f64::from(i) * 10.0);
                n1.insert(txn, "y", f64::from(i) * 5.0);
            })
            .await;
    }
    assert!(client.pump_until(Duration::from_secs(10), saved).await);
    assert_eq!(
        validations_after_pending(&server, &room, &edit).await,
        added,
        "50 drags ran no validation"
    );

    let n1 = node(&client);
    client
        .edit(move |_, txn| {
            n1.insert(txn, "type", "cache");
        })
        .await;
    assert!(client.pump_until(Duration::from_secs(10), saved).await);
    let retyped = validations_after_pending(&server, &room, &edit).await;
    assert!(retyped > added, "a changed type is validated");

    // A position that is not a number is an issue in the result, so it is validated too.
    let n1 = node(&client);
    client
        .edit(move |_, txn| {
            n1.insert(txn, "x", "left");
        })
        .await;
    assert!(client.pump_until(Duration::from_secs(10), saved).await);
    assert!(validations_after_pending(&server, &room, &edit).await > retyped);
    client.close().await;
    server.stop().await;
}

/// A reader that falls behind a burst of edits gets the updates queued for it merged (fewer messages
/// than edits), stays connected, and ends with the writer's document.
#[tokio::test]
async fn a_lagging_reader_gets_queued_updates_merged_and_converges() {
    const EDITS: usize = 300;
    // 32 KB per edit: 300 of them (9.6 MB) are far more than the kernel buffers between a reader
    // that is not reading and the server, so the connection's writer blocks and updates queue.
    let blob = "x".repeat(32 * 1024);
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (room, edit, _) = server.create_room("tutorial-simple-blog").await;
    let mut reader = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let mut writer = WsClient::connect(&server.ws_url(&room, &edit)).await;
    let metrics = server.state.metrics.clone();
    let updates_in =
        |m: &tierboard::metrics::Metrics| m.updates_in.load(std::sync::atomic::Ordering::Relaxed);
    let before = updates_in(&metrics);
    let map = writer.doc.get_or_insert_map("notes_blob");
    for i in 0..EDITS {
        let value = format!("{i}:{blob}");
        writer
            .edit(|_, txn| {
                map.insert(txn, "blob", value);
                map.insert(txn, "n", i as f64);
            })
            .await;
    }
    // Every edit has reached the room before the reader reads anything.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while updates_in(&metrics) < before + EDITS as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the room took in {} of {EDITS} edits within 30 s",
            updates_in(&metrics) - before
        );
        // Keep the writer's own inbox moving (saved / validation messages).
        writer
            .pump_until(Duration::from_millis(20), |_| false)
            .await;
    }
    let last = (EDITS - 1) as f64;
    let read_map = reader.doc.get_or_insert_map("notes_blob");
    let caught_up = reader
        .pump_until(Duration::from_secs(30), |c| {
            let txn = c.doc.transact();
            match read_map.get(&txn, "n") {
                Some(yrs::Out::Any(yrs::Any::Number(yrs::Number::Float(n)))) => n == last,
                Some(yrs::Out::Any(yrs::Any::Number(yrs::Number::Int(n)))) => n as f64 == last,
                _ => false,
            }
        })
        .await;
    assert!(
        caught_up,
        "the reader never saw the last edit (closed with {:?})",
        reader.close_code
    );
    assert_eq!(reader.close_code, None, "the lagging reader was closed");
    let merged = metrics
        .updates_coalesced
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(merged > 0, "no queued updates were merged");
    assert!(
        reader.updates_received < EDITS,
        "{} update messages for {EDITS} edits: nothing was merged on the way to the reader",
        reader.updates_received
    );
    let (w, r) = (writer.doc.transact(), reader.doc.transact());
    assert_eq!(w.state_vector(), r.state_vector());
    assert_eq!(map.to_json(&w), read_map.to_json(&r));
    drop((w, r));
    reader.close().await;
    writer.close().await;
    server.stop().await;
}
