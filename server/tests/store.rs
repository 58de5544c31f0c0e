//! Storage tests, each run against a SQLite file in a temporary folder and against the real PostgreSQL
//! at `postgres://postgres@127.0.0.1:5432/test` (in a fresh schema per test, dropped at the end, so
//! concurrent runs never see each other's tables).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::Connection;
use tierboard::clock::now_ms;
use tierboard::ids::{InstanceId, Role, RoomId, Token};
use tierboard::metrics::Metrics;
use tierboard::store::scratch::ScratchSchema;
use tierboard::store::{CompactOutcome, NewRoom, NewRow, Persister, RowKey, Store, Transition};
use tokio::sync::oneshot;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, Update};

const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_HINT: &str =
    "start PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Postgres,
}

/// One database for one test: a SQLite file or a private PostgreSQL schema.
struct Db {
    url: String,
    schema: Option<ScratchSchema>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    async fn new(kind: Kind) -> Db {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                // A folder that does not exist yet: connect must create it.
                let url = format!("sqlite://{}/nested/tierboard.db", dir.path().display());
                Db {
                    url,
                    schema: None,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres => {
                let schema = ScratchSchema::create(PG_BASE)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach {PG_BASE} ({e}); {PG_HINT}"));
                Db {
                    url: schema.url().to_string(),
                    schema: Some(schema),
                    _dir: None,
                }
            }
        }
    }

    async fn store(&self, instance: &str) -> Arc<Store> {
        let store = Store::connect(&self.url, InstanceId(instance.to_string()))
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}; {PG_HINT}", self.url));
        store.migrate().await.expect("migrate");
        Arc::new(store)
    }

    async fn drop_schema(self) {
        if let Some(schema) = self.schema {
            schema.drop_now().await.expect("drop schema");
        }
    }
}

async fn new_room(store: &Store) -> RoomId {
    let id = RoomId::random();
    store
        .create_room(&NewRoom {
            id: id.clone(),
            problem: "url-shortener".into(),
            created_ms: now_ms(),
            tokens: vec![],
        })
        .await
        .expect("create room");
    id
}

/// A document edited `n` times by one client, and the v1 update of every edit.
/// Mixes text inserts, text deletes (so compaction has something to collect) and map writes.
fn edits(client: u64, n: usize) -> (Doc, Vec<Vec<u8>>) {
    let doc = Doc::with_client_id(client);
    let updates = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let sink = updates.clone();
    doc.observe_update_v1("collect", move |_, e| {
        sink.lock().unwrap().push(e.update.clone());
    })
    .expect("observe");
    let text = doc.get_or_insert_text("text");
    let map = doc.get_or_insert_map("nodes");
    let mut rng = client.wrapping_mul(6364136223846793005).wrapping_add(1);
    for i in 0..n {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (rng >> 33) as u32;
        let mut txn = doc.transact_mut();
        let len = text.len(&txn);
        if i % 7 == 3 {
            map.insert(&mut txn, format!("n{}", r % 50), format!("v{i}"));
        } else if i % 4 == 1 && len > 0 {
            text.remove_range(&mut txn, r % len, 1);
        } else {
            let c = char::from(b'a' + (r % 26) as u8).to_string();
            text.insert(&mut txn, r % (len + 1), &c);
        }
    }
    let updates = std::mem::take(&mut *updates.lock().unwrap());
    assert_eq!(updates.len(), n, "one update per edit");
    (doc, updates)
}

fn doc_from<'a>(rows: impl IntoIterator<Item = &'a Vec<u8>>) -> Doc {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for row in rows {
            txn.apply_update(Update::decode_v1(row).expect("stored row decodes"))
                .expect("stored row applies");
        }
    }
    doc
}

fn state(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

fn text_of(doc: &Doc) -> String {
    let text = doc.get_or_insert_text("text");
    text.get_string(&doc.transact())
}

/// The stored document of `room` equals `expected`: same content, same state vector, same encoded state.
async fn assert_doc(store: &Store, room: &RoomId, expected: &Doc, what: &str) {
    let rows = store.load_doc(room).await.expect("load");
    let loaded = doc_from(&rows);
    assert_eq!(text_of(&loaded), text_of(expected), "{what}: text differs");
    assert_eq!(
        loaded.transact().state_vector(),
        expected.transact().state_vector(),
        "{what}: state vectors differ"
    );
    assert_eq!(
        state(&loaded),
        state(expected),
        "{what}: encoded states differ"
    );
}

async fn rooms_tokens_roles_revocation(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let id = RoomId::random();
    let (edit, view, other) = (Token::random(), Token::random(), Token::random());
    store
        .create_room(&NewRoom {
            id: id.clone(),
            problem: "chat".into(),
            created_ms: 1_700_000_000_123,
            tokens: vec![(edit.hash(), Role::Edit), (view.hash(), Role::View)],
        })
        .await
        .unwrap();
    let room = store.room(&id).await.unwrap().expect("room exists");
    assert_eq!(room.id, id);
    assert_eq!(room.problem, "chat");
    assert_eq!(room.created_ms, 1_700_000_000_123);
    assert_eq!(store.room(&RoomId::random()).await.unwrap(), None);

    assert_eq!(
        store.role_for(&id, &edit.hash()).await.unwrap(),
        Some(Role::Edit)
    );
    assert_eq!(
        store.role_for(&id, &view.hash()).await.unwrap(),
        Some(Role::View)
    );
    assert_eq!(store.role_for(&id, &other.hash()).await.unwrap(), None);
    // A token of this room does not open another room.
    let second = new_room(&store).await;
    assert_eq!(store.role_for(&second, &edit.hash()).await.unwrap(), None);

    assert!(store.revoke_token(&id, &view.hash()).await.unwrap());
    assert_eq!(store.role_for(&id, &view.hash()).await.unwrap(), None);
    assert!(!store.revoke_token(&id, &view.hash()).await.unwrap());
    assert!(!store.revoke_token(&second, &edit.hash()).await.unwrap());
    assert_eq!(
        store.role_for(&id, &edit.hash()).await.unwrap(),
        Some(Role::Edit)
    );

    // Creating the same room twice is an error, and leaves the first untouched.
    let again = store
        .create_room(&NewRoom {
            id: id.clone(),
            problem: "other".into(),
            created_ms: 1,
            tokens: vec![],
        })
        .await;
    assert!(again.is_err(), "duplicate room id accepted");
    assert_eq!(store.room(&id).await.unwrap().unwrap().problem, "chat");
    store.close().await;
    db.drop_schema().await;
}

async fn append_load_round_trip(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let other = new_room(&store).await;
    let (expected, updates) = edits(1, 300);
    let (_, noise) = edits(2, 10);

    let first: Vec<_> = updates[..100]
        .iter()
        .map(|u| (room.clone(), u.clone()))
        .collect();
    let mut second: Vec<_> = updates[100..]
        .iter()
        .map(|u| (room.clone(), u.clone()))
        .collect();
    second.extend(noise.iter().map(|u| (other.clone(), u.clone())));
    store.append(&first).await.unwrap();
    store.append(&second).await.unwrap();
    store.append(&[]).await.unwrap();

    assert_eq!(store.row_count(&room).await.unwrap(), 300);
    assert_eq!(store.row_count(&other).await.unwrap(), 10);
    assert_eq!(store.load_doc(&room).await.unwrap().len(), 300);
    assert_doc(&store, &room, &expected, "after append").await;

    // Compaction folds the log into one smaller row with the same document.
    let stored: usize = updates.iter().map(Vec::len).sum();
    match store.compact(&room).await.unwrap() {
        CompactOutcome::Compacted { rows, bytes } => {
            assert_eq!(rows, 300);
            assert!(
                bytes < stored,
                "snapshot {bytes} B not smaller than log {stored} B"
            );
        }
        other => panic!("expected a compaction, got {other:?}"),
    }
    assert_eq!(store.row_count(&room).await.unwrap(), 1);
    assert_eq!(
        store.compact(&room).await.unwrap(),
        CompactOutcome::NothingToDo
    );
    assert_doc(&store, &room, &expected, "after compaction").await;
    assert_eq!(
        store.row_count(&other).await.unwrap(),
        10,
        "other room untouched"
    );

    // A reconnecting store (new process, new instance id) reads the same document.
    store.close().await;
    let reopened = db.store("b").await;
    assert_doc(&reopened, &room, &expected, "after reopen").await;
    reopened.close().await;
    db.drop_schema().await;
}

async fn group_commit_batches(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let rooms = [
        new_room(&store).await,
        new_room(&store).await,
        new_room(&store).await,
    ];
    let metrics = Arc::new(Metrics::default());
    // A long interval, so every submission below lands in the same batch.
    let (persister, task) =
        Persister::spawn(store.clone(), Duration::from_secs(1), 1000, metrics.clone());
    let mut expected = Vec::new();
    let mut receivers = Vec::new();
    for (i, room) in rooms.iter().enumerate() {
        let (doc, updates) = edits(10 + i as u64, 40);
        for u in updates {
            receivers.push(
                persister
                    .try_submit(room.clone(), u)
                    .expect("queue has room"),
            );
        }
        expected.push(doc);
    }
    for rx in receivers {
        rx.await.expect("answered").expect("saved");
    }
    for (room, doc) in rooms.iter().zip(&expected) {
        assert_eq!(
            store.row_count(room).await.unwrap(),
            1,
            "a room's 40 updates of one batch are merged into one row"
        );
        assert_doc(&store, room, doc, "group commit").await;
    }
    assert_eq!(metrics.persisted_updates.load(ordering()), 120);
    let rendered = metrics.render();
    assert!(
        rendered.contains("tierboard_persist_latency_seconds_count 120"),
        "{rendered}"
    );

    // flush: resolves only once what was submitted before it is stored.
    let (doc, updates) = edits(20, 5);
    for u in updates {
        // Not awaited: `flush` below is what this checks.
        drop(persister.try_submit(rooms[0].clone(), u).unwrap());
    }
    persister.flush().await.unwrap();
    let rows = store.load_doc(&rooms[0]).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(text_of(&doc_from(&rows[1..])), text_of(&doc));

    persister.shutdown().await.unwrap();
    task.await.unwrap();
    store.close().await;
    db.drop_schema().await;
}

fn ordering() -> std::sync::atomic::Ordering {
    std::sync::atomic::Ordering::Relaxed
}

/// The queue is bounded: with the persister task unable to run (single-threaded runtime, no await),
/// exactly `QUEUE_CAPACITY` submissions are taken and the rest are handed back intact.
async fn full_queue_hands_updates_back(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let (persister, task) = Persister::spawn(
        store.clone(),
        Duration::from_millis(20),
        1000,
        Arc::new(Metrics::default()),
    );
    let (doc, updates) = edits(3, tierboard::store::persister::QUEUE_CAPACITY + 50);
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for u in &updates {
        match persister.try_submit(room.clone(), u.clone()) {
            Ok(rx) => accepted.push(rx),
            Err(back) => refused.push(back),
        }
    }
    assert_eq!(accepted.len(), tierboard::store::persister::QUEUE_CAPACITY);
    assert_eq!(refused.len(), 50);
    assert_eq!(
        refused,
        updates[tierboard::store::persister::QUEUE_CAPACITY..],
        "refused updates are handed back unchanged"
    );
    for rx in accepted {
        rx.await.unwrap().unwrap();
    }
    // The caller retries what was handed back; nothing is lost.
    for u in refused {
        drop(
            persister
                .try_submit(room.clone(), u)
                .expect("queue drained"),
        );
    }
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    assert_doc(&store, &room, &doc, "after retrying refused updates").await;
    store.close().await;
    db.drop_schema().await;
}

/// Runs one statement on the test database through a connection of its own.
async fn exec(db: &Db, sql: &'static str) {
    let mut conn = sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("connect");
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.ok();
}

/// A commit that fails keeps its data and stores it once the database accepts writes again; its
/// submitters are answered only then (an answer `Ok` means stored), a flush meanwhile with the error. Inserts are blocked for real: a trigger on the journal (SQLite) or a
/// CHECK constraint on the log (PostgreSQL) makes every commit fail.
async fn failed_commit_keeps_data_and_retries(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let metrics = Arc::new(Metrics::default());
    let (persister, task) = Persister::spawn(
        store.clone(),
        Duration::from_millis(10),
        1000,
        metrics.clone(),
    );
    let (block, unblock) = match kind {
        Kind::Sqlite => (
            "CREATE TRIGGER block_inserts BEFORE INSERT ON doc_journal \
             BEGIN SELECT RAISE(ABORT, 'blocked by the test'); END",
            "DROP TRIGGER block_inserts",
        ),
        Kind::Postgres => (
            "ALTER TABLE doc_updates ADD CONSTRAINT block_inserts CHECK (seq < 0) NOT VALID",
            "ALTER TABLE doc_updates DROP CONSTRAINT block_inserts",
        ),
    };
    let (doc, updates) = edits(9, 10);
    exec(&db, block).await;
    let mut first: Vec<_> = updates[..5]
        .iter()
        .map(|u| persister.try_submit(room.clone(), u.clone()).unwrap())
        .collect();
    let err = persister.flush().await.expect_err("insert is blocked");
    assert!(err.to_string().contains("not saved yet"), "{err}");
    for rx in &mut first {
        assert!(
            matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)),
            "a submission whose commit failed must wait for the retry, not be answered"
        );
    }
    assert!(metrics.errors.load(ordering()) >= 1);
    assert_eq!(store.row_count(&room).await.unwrap(), 0);
    // Submissions during the outage are accepted (the queue has room) and wait for the retry.
    let second: Vec<_> = updates[5..]
        .iter()
        .map(|u| persister.try_submit(room.clone(), u.clone()).unwrap())
        .collect();
    exec(&db, unblock).await;
    let mut flushed = persister.flush().await;
    for _ in 0..10 {
        if flushed.is_ok() {
            break;
        }
        flushed = persister.flush().await;
    }
    flushed.expect("stored once the database accepts writes");
    for rx in first.into_iter().chain(second) {
        rx.await
            .expect("answered")
            .expect("answered Ok once the retry stored it");
    }
    assert_doc(&store, &room, &doc, "after the outage").await;
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    store.close().await;
    db.drop_schema().await;
}

const CRASH_URL: &str = "TB_CRASH_CHILD_URL";
const CRASH_ROOM: &str = "TB_CRASH_CHILD_ROOM";
const CRASH_UPDATES: usize = 3000;

/// `kill -9` of a process in the middle of a stream of edits loses nothing it had acknowledged: every
/// update whose `try_submit` receiver said `Ok` is in the database after the crash.
///
/// One test, two roles: run normally it is the parent, which starts this same test binary filtered to
/// this test with `TB_CRASH_CHILD_URL` set; with that variable it is the child, which persists edits and
/// prints `saved <i>` for each acknowledged one until the parent kills it with SIGKILL.
async fn kill_9_keeps_every_acknowledged_update(kind: Kind) {
    let (_, updates) = edits(77, CRASH_UPDATES);
    if let Ok(url) = std::env::var(CRASH_URL) {
        return crash_child(&url, &updates).await;
    }
    let db = Db::new(kind).await;
    let store = db.store("parent").await;
    let room = new_room(&store).await;
    let name = match kind {
        Kind::Sqlite => "sqlite::kill_9_keeps_every_acknowledged_update",
        Kind::Postgres => "postgres::kill_9_keeps_every_acknowledged_update",
    };
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CRASH_URL, &db.url)
        .env(CRASH_ROOM, room.as_str())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the child");
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut saved = 0usize;
    let mut last = 0usize;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("child went silent")
        .unwrap()
    {
        if let Some(i) = line.strip_prefix("saved ") {
            saved += 1;
            last = last.max(i.parse().unwrap());
            if saved >= 300 {
                break;
            }
        }
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.unwrap();
    assert!(
        saved >= 300,
        "the child stopped early ({saved} acknowledged)"
    );
    assert!(
        last + 1 < CRASH_UPDATES,
        "killed after the last edit: the test did not crash mid-stream"
    );

    // An `Ok` for update `last` means updates 0..=last are all stored (commits go in order).
    let prefix = doc_from(&updates[..=last]);
    let stored = doc_from(&store.load_doc(&room).await.unwrap());
    let before = state(&stored);
    {
        let mut txn = stored.transact_mut();
        txn.apply_update(Update::decode_v1(&state(&prefix)).unwrap())
            .unwrap();
    }
    assert_eq!(
        state(&stored),
        before,
        "acknowledged updates up to #{last} missing after kill -9"
    );
    println!(
        "{kind:?}: killed after {saved} acknowledgements (last #{last}); all of them were stored"
    );
    store.close().await;
    db.drop_schema().await;
}

async fn crash_child(url: &str, updates: &[Vec<u8>]) {
    let room = RoomId::parse(&std::env::var(CRASH_ROOM).unwrap()).unwrap();
    let store = Arc::new(
        Store::connect(url, InstanceId("child".into()))
            .await
            .unwrap(),
    );
    let (persister, _task) = Persister::spawn(
        store,
        Duration::from_millis(50),
        64,
        Arc::new(Metrics::default()),
    );
    for (i, u) in updates.iter().enumerate() {
        let rx = persister.try_submit(room.clone(), u.clone()).unwrap();
        tokio::spawn(async move {
            if let Ok(Ok(())) = rx.await {
                println!("saved {i}");
            }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The parent kills this process long before; exit by ourselves if it never does.
    tokio::time::sleep(Duration::from_secs(30)).await;
}

/// Rows of a room still in the SQLite journal when its compaction reads the log: at most
/// `compact_rows` (store module docs, "Bound on stored rows per room"); none on PostgreSQL.
fn journal_bound(kind: Kind, compact_rows: u64) -> u64 {
    match kind {
        Kind::Sqlite => compact_rows,
        Kind::Postgres => 0,
    }
}

/// The stated bound (store module docs): `compact_rows + 1 + c + j` rows, `c` the rows committed while
/// a compaction is queued or running, `j` the room's rows in the SQLite journal. The test commits back
/// to back (no persist interval between commits), the worst case for `c`; it asserts `c <= compact_rows`.
async fn ten_thousand_updates_stay_bounded(kind: Kind) {
    const COMPACT_ROWS: u64 = 16;
    let bound = 2 * COMPACT_ROWS + 1 + journal_bound(kind, COMPACT_ROWS);
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let metrics = Arc::new(Metrics::default());
    let (persister, task) = Persister::spawn(
        store.clone(),
        Duration::from_millis(5),
        COMPACT_ROWS,
        metrics.clone(),
    );
    let (expected, updates) = edits(7, 10_000);
    let mut max_rows = 0;
    for (i, chunk) in updates.chunks(10).enumerate() {
        let receivers: Vec<_> = chunk
            .iter()
            .map(|u| persister.try_submit(room.clone(), u.clone()).unwrap())
            .collect();
        for rx in receivers {
            rx.await.unwrap().unwrap();
        }
        if i % 5 == 0 {
            let rows = store.row_count(&room).await.unwrap();
            max_rows = max_rows.max(rows);
            assert!(
                rows <= bound,
                "{rows} rows after {} updates, bound {bound}",
                (i + 1) * 10
            );
        }
    }
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    let rows = store.row_count(&room).await.unwrap();
    assert!(rows <= bound, "{rows} rows at the end, bound {bound}");
    let compactions = metrics.compactions.load(ordering());
    assert!(
        compactions >= 20,
        "only {compactions} compactions for ~1000 commits"
    );
    assert_eq!(metrics.persisted_updates.load(ordering()), 10_000);
    println!(
        "{kind:?}: 10,000 updates, {compactions} compactions, max {max_rows} rows sampled, {rows} at the end"
    );
    assert_doc(&store, &room, &expected, "after 10,000 updates").await;
    store.close().await;
    db.drop_schema().await;
}

/// Two stores (two server instances) append to and compact one room at the same time.
async fn concurrent_compaction_two_stores(kind: Kind) {
    let db = Db::new(kind).await;
    let a = db.store("instance-a").await;
    let b = db.store("instance-b").await;
    let room = new_room(&a).await;
    let (doc_a, updates_a) = edits(100, 1500);
    let (doc_b, updates_b) = edits(200, 1500);

    async fn writer(store: Arc<Store>, room: RoomId, updates: Vec<Vec<u8>>) -> Vec<CompactOutcome> {
        let mut outcomes = Vec::new();
        for (i, chunk) in updates.chunks(5).enumerate() {
            let batch: Vec<_> = chunk.iter().map(|u| (room.clone(), u.clone())).collect();
            store.append(&batch).await.expect("append");
            if i % 4 == 3 {
                outcomes.push(store.compact(&room).await.expect("compact"));
            }
        }
        outcomes
    }
    async fn compactor(store: Arc<Store>, room: RoomId, rounds: usize) -> Vec<CompactOutcome> {
        let mut outcomes = Vec::new();
        for _ in 0..rounds {
            outcomes.push(store.compact(&room).await.expect("compact"));
            tokio::task::yield_now().await;
        }
        outcomes
    }
    let tasks = [
        tokio::spawn(writer(a.clone(), room.clone(), updates_a)),
        tokio::spawn(writer(b.clone(), room.clone(), updates_b)),
        tokio::spawn(compactor(a.clone(), room.clone(), 60)),
        tokio::spawn(compactor(b.clone(), room.clone(), 60)),
    ];
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.expect("task"));
    }
    let compacted = outcomes
        .iter()
        .filter(|o| matches!(o, CompactOutcome::Compacted { .. }))
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|o| **o == CompactOutcome::Conflict)
        .count();
    println!(
        "{kind:?}: {} compaction calls, {compacted} compacted, {conflicts} conflicts",
        outcomes.len()
    );
    assert!(compacted > 0, "no compaction happened");

    // Expected: both clients' edits, each exactly once.
    let expected = Doc::new();
    {
        let mut txn = expected.transact_mut();
        for d in [&doc_a, &doc_b] {
            let u = d
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            txn.apply_update(Update::decode_v1(&u).unwrap()).unwrap();
        }
    }
    assert_doc(&a, &room, &expected, "seen from instance a").await;
    assert_doc(&b, &room, &expected, "seen from instance b").await;
    assert!(matches!(
        a.compact(&room).await.unwrap(),
        CompactOutcome::Compacted { .. } | CompactOutcome::NothingToDo
    ));
    assert_eq!(a.row_count(&room).await.unwrap(), 1);
    assert_doc(&b, &room, &expected, "after the final compaction").await;
    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

/// Two instances, each with its own persister (group commit and background compaction), write one
/// room at once. Every edit of both is stored, and the rows stay under the several-writer bound
/// `W × (compact_rows + c + j) + 1` with `W = 2`, `c <= compact_rows` and `j` the journal's share.
async fn two_persisters_one_room(kind: Kind) {
    const COMPACT_ROWS: u64 = 8;
    let bound = 2 * (2 * COMPACT_ROWS + journal_bound(kind, COMPACT_ROWS)) + 1;
    let db = Db::new(kind).await;
    let a = db.store("instance-a").await;
    let b = db.store("instance-b").await;
    let room = new_room(&a).await;
    let metrics = Arc::new(Metrics::default());
    let mut expected_updates = Vec::new();
    let mut writers = Vec::new();
    for (client, store) in [(500u64, a.clone()), (600, b.clone())] {
        let (_, updates) = edits(client, 2000);
        expected_updates.extend(updates.iter().cloned());
        let (persister, task) = Persister::spawn(
            store.clone(),
            Duration::from_millis(2),
            COMPACT_ROWS,
            metrics.clone(),
        );
        let (room, probe) = (room.clone(), store.clone());
        writers.push(tokio::spawn(async move {
            let mut max_rows = 0;
            for chunk in updates.chunks(5) {
                let receivers: Vec<_> = chunk
                    .iter()
                    .map(|u| persister.try_submit(room.clone(), u.clone()).unwrap())
                    .collect();
                for rx in receivers {
                    rx.await.unwrap().unwrap();
                }
                max_rows = max_rows.max(probe.row_count(&room).await.unwrap());
            }
            persister.shutdown().await.unwrap();
            task.await.unwrap();
            max_rows
        }));
    }
    let mut max_rows = 0;
    for w in writers {
        max_rows = max_rows.max(w.await.unwrap());
    }
    println!(
        "{kind:?}: two persisters, {} compactions, max {max_rows} rows",
        metrics.compactions.load(ordering())
    );
    assert!(max_rows <= bound, "{max_rows} rows, bound {bound}");
    assert!(metrics.compactions.load(ordering()) > 0);
    let expected = doc_from(&expected_updates);
    assert_doc(&a, &room, &expected, "two persisters, seen from a").await;
    assert_doc(&b, &room, &expected, "two persisters, seen from b").await;
    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

/// The interleaving that matters, forced: instance a has read the rows when instance b compacts them
/// and appends a new update. On PostgreSQL a's delete then comes up short and a rolls back; on SQLite
/// a holds the write lock from its read, so b waits and runs after it. Either way one compaction wins,
/// nothing is lost and nothing is duplicated.
async fn interleaved_compaction(kind: Kind) {
    let db = Db::new(kind).await;
    let a = db.store("instance-a").await;
    let b = db.store("instance-b").await;
    let room = new_room(&a).await;
    let (doc, updates) = edits(300, 41);
    let batch: Vec<_> = updates[..40]
        .iter()
        .map(|u| (room.clone(), u.clone()))
        .collect();
    a.append(&batch).await.unwrap();

    let (b2, room2, last) = (b.clone(), room.clone(), updates[40].clone());
    let mut other = None;
    let outcome_a = a
        .compact_with(&room, async {
            other = Some(tokio::spawn(async move {
                let compacted = b2.compact(&room2).await.expect("b compacts");
                b2.append(&[(room2.clone(), last)])
                    .await
                    .expect("b appends");
                compacted
            }));
            tokio::time::sleep(Duration::from_millis(300)).await;
        })
        .await
        .unwrap();
    let outcome_b = other.unwrap().await.unwrap();
    println!("{kind:?}: a {outcome_a:?}, b {outcome_b:?}");
    match kind {
        Kind::Postgres => {
            assert!(matches!(
                outcome_b,
                CompactOutcome::Compacted { rows: 40, .. }
            ));
            assert_eq!(outcome_a, CompactOutcome::Conflict);
        }
        Kind::Sqlite => {
            assert!(matches!(
                outcome_a,
                CompactOutcome::Compacted { rows: 40, .. }
            ));
            assert_eq!(outcome_b, CompactOutcome::NothingToDo);
        }
    }
    // One snapshot plus b's appended update.
    assert_eq!(a.row_count(&room).await.unwrap(), 2);
    assert_doc(&a, &room, &doc, "after interleaved compaction").await;
    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

/// Upgrading a database created by migration 1 keeps its rows; after migration 2 a row for a room
/// missing from `rooms` no longer fails a group commit (and with it every other room of the batch).
/// On SQLite the upgrade also rebuilds the log clustered by room (`WITHOUT ROWID`).
async fn upgrade_keeps_rows_and_drops_the_batch_poisoning_key(kind: Kind) {
    let db = Db::new(kind).await;
    let store = Store::connect(&db.url, InstanceId("a".into()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}; {PG_HINT}"));
    store.migrate_to(1).await.unwrap();
    let room = new_room(&store).await;
    let (doc, updates) = edits(4, 20);
    let batch: Vec<_> = updates.iter().map(|u| (room.clone(), u.clone())).collect();
    store.append(&batch).await.unwrap();
    let unknown = RoomId::random();
    assert!(
        store
            .append(&[(unknown.clone(), updates[0].clone())])
            .await
            .is_err(),
        "migration 1 has the foreign key"
    );

    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    assert_eq!(store.row_count(&room).await.unwrap(), 20);
    assert_doc(&store, &room, &doc, "after the upgrade").await;
    if let Kind::Sqlite = kind {
        // The rows moved into the clustered table (checked above) and the old one is gone.
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'doc_updates%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(tables.len(), 1, "{tables:?}");
        assert!(tables[0].contains("WITHOUT ROWID"), "{}", tables[0]);
    }
    store
        .append(&[
            (unknown.clone(), updates[0].clone()),
            (room.clone(), updates[0].clone()),
        ])
        .await
        .expect("a batch with an unknown room commits");
    assert_eq!(store.row_count(&unknown).await.unwrap(), 1);
    store.close().await;
    db.drop_schema().await;
}

/// Compaction keeps updates whose dependencies are not stored yet (with several writers, instance b
/// may store an edit built on one that instance a has not committed): they stay pending in the
/// temporary document and are part of the snapshot, and the document is whole once the missing
/// update arrives.
async fn compaction_keeps_updates_with_missing_dependencies(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let (doc, updates) = edits(8, 60);
    // Everything but the first 10 updates, which every later one builds on.
    let later: Vec<_> = updates[10..]
        .iter()
        .map(|u| (room.clone(), u.clone()))
        .collect();
    store.append(&later).await.unwrap();
    let partial = doc_from(&updates[10..]);
    assert!(
        partial.transact().has_missing_updates(),
        "the later updates should depend on the first ten"
    );
    assert!(matches!(
        store.compact(&room).await.unwrap(),
        CompactOutcome::Compacted { rows: 50, .. }
    ));
    let early: Vec<_> = updates[..10]
        .iter()
        .map(|u| (room.clone(), u.clone()))
        .collect();
    store.append(&early).await.unwrap();
    assert_doc(
        &store,
        &room,
        &doc,
        "missing dependencies arrived after compaction",
    )
    .await;
    store.compact(&room).await.unwrap();
    assert_eq!(store.row_count(&room).await.unwrap(), 1);
    assert_doc(&store, &room, &doc, "compacted again").await;
    store.close().await;
    db.drop_schema().await;
}

/// Bytes that are not a Yjs update (rooms never submit such, but a store must survive them): the
/// persister cannot merge that room's batch, so it stores each update as its own row rather than lose
/// any; compaction leaves the bad row where it is and compacts the rest.
async fn undecodable_rows_are_kept_and_do_not_block_compaction(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let (persister, task) = Persister::spawn(
        store.clone(),
        Duration::from_millis(50),
        1000,
        Arc::new(Metrics::default()),
    );
    let (doc, updates) = edits(11, 20);
    let garbage = vec![0xff_u8; 12];
    assert!(Update::decode_v1(&garbage).is_err());
    let mut receivers = Vec::new();
    for u in updates[..10]
        .iter()
        .chain([&garbage])
        .chain(updates[10..].iter())
    {
        receivers.push(persister.try_submit(room.clone(), u.clone()).unwrap());
    }
    for rx in receivers {
        rx.await.unwrap().expect("stored");
    }
    assert_eq!(
        store.row_count(&room).await.unwrap(),
        21,
        "one row per update"
    );
    match store.compact(&room).await.unwrap() {
        CompactOutcome::Compacted { rows, .. } => assert_eq!(rows, 20),
        other => panic!("expected a compaction, got {other:?}"),
    }
    let rows = store.load_doc(&room).await.unwrap();
    assert_eq!(rows.len(), 2, "the snapshot and the bad row");
    assert!(rows.contains(&garbage));
    let good: Vec<_> = rows.into_iter().filter(|r| *r != garbage).collect();
    assert_eq!(text_of(&doc_from(&good)), text_of(&doc));
    assert_eq!(state(&doc_from(&good)), state(&doc));
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    store.close().await;
    db.drop_schema().await;
}

async fn transitions(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let other = new_room(&store).await;
    let t = |at_ms, tier: &str, event: &str| Transition {
        at_ms,
        tier: tier.into(),
        event: event.into(),
    };
    store
        .record_transitions(&room, &[t(10, "mvp", "reached"), t(20, "scale", "reached")])
        .await
        .unwrap();
    store
        .record_transitions(&room, &[t(30, "scale", "lost")])
        .await
        .unwrap();
    store.record_transitions(&room, &[]).await.unwrap();
    // Same millisecond: kept in the order recorded.
    store
        .record_transitions(&room, &[t(30, "scale", "reached")])
        .await
        .unwrap();
    assert_eq!(
        store.timeline(&room).await.unwrap(),
        vec![
            t(10, "mvp", "reached"),
            t(20, "scale", "reached"),
            t(30, "scale", "lost"),
            t(30, "scale", "reached"),
        ]
    );
    assert_eq!(store.timeline(&other).await.unwrap(), vec![]);
    store.close().await;
    db.drop_schema().await;
}

/// A tier's events alternate: a repeated report of the latest state (a reloaded room, or a second
/// instance validating the same room) is dropped, also when two instances record it at the same moment.
async fn transitions_are_deduplicated_across_instances(kind: Kind) {
    let db = Db::new(kind).await;
    let a = db.store("instance-a").await;
    let b = db.store("instance-b").await;
    let room = new_room(&a).await;
    let t = |at_ms, tier: &str, event: &str| Transition {
        at_ms,
        tier: tier.into(),
        event: event.into(),
    };
    a.record_transitions(&room, &[t(10, "mvp", "reached")])
        .await
        .unwrap();
    b.record_transitions(&room, &[t(11, "mvp", "reached")])
        .await
        .unwrap();
    a.record_transitions(&room, &[t(12, "mvp", "reached"), t(12, "scale", "reached")])
        .await
        .unwrap();
    assert_eq!(
        a.timeline(&room).await.unwrap(),
        vec![t(10, "mvp", "reached"), t(12, "scale", "reached")]
    );
    // Both instances see the same change and record it at once, many times over.
    for round in 0..20 {
        let event = if round % 2 == 0 { "lost" } else { "reached" };
        let at = 100 + 10 * round;
        let (ra, rb) = (room.clone(), room.clone());
        let (sa, sb) = (a.clone(), b.clone());
        let ta =
            tokio::spawn(async move { sa.record_transitions(&ra, &[t(at, "mvp", event)]).await });
        let tb =
            tokio::spawn(
                async move { sb.record_transitions(&rb, &[t(at + 1, "mvp", event)]).await },
            );
        ta.await.unwrap().unwrap();
        tb.await.unwrap().unwrap();
    }
    let mvp: Vec<String> = b
        .timeline(&room)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.tier == "mvp")
        .map(|e| e.event)
        .collect();
    assert_eq!(mvp.len(), 21, "{mvp:?}");
    assert!(
        mvp.windows(2).all(|w| w[0] != w[1]),
        "events must alternate: {mvp:?}"
    );
    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

/// Rows of one table of a SQLite test database, through a connection of its own.
async fn sqlite_rows(db: &Db, table: &str) -> i64 {
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    n
}

/// SQLite's journal (store module docs, "The journal"): commits land in it and readers see them
/// there; a fold moves them into the log; compaction leaves journal rows alone; a store opened after a
/// process stopped without folding folds what it left; the persister folds on shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_journal_is_read_folded_and_recovered() {
    let db = Db::new(Kind::Sqlite).await;
    let store = db.store("a").await;
    assert!(store.has_journal());
    let room = new_room(&store).await;
    let (doc, updates) = edits(31, 40);
    let rows = |us: &[Vec<u8>]| -> Vec<(RoomId, Vec<u8>)> {
        us.iter().map(|u| (room.clone(), u.clone())).collect()
    };

    store.append(&rows(&updates[..20])).await.unwrap();
    assert_eq!(sqlite_rows(&db, "doc_journal").await, 20);
    assert_eq!(sqlite_rows(&db, "doc_updates").await, 0);
    assert_eq!(store.row_count(&room).await.unwrap(), 20);
    assert_eq!(
        store.row_counts(std::slice::from_ref(&room)).await.unwrap()[&room],
        20
    );
    assert_eq!(store.load_doc(&room).await.unwrap().len(), 20);

    assert_eq!(store.fold_journal().await.unwrap(), 20);
    assert_eq!(sqlite_rows(&db, "doc_journal").await, 0);
    assert_eq!(sqlite_rows(&db, "doc_updates").await, 20);
    assert_eq!(
        store.fold_journal().await.unwrap(),
        0,
        "nothing left to fold"
    );
    assert_eq!(store.row_count(&room).await.unwrap(), 20);

    // The persister's compaction reads the log only: the 10 rows still in the journal survive next to
    // the snapshot.
    store.append(&rows(&updates[20..30])).await.unwrap();
    match store.compact_log(&room).await.unwrap() {
        CompactOutcome::Compacted { rows, .. } => assert_eq!(rows, 20),
        other => panic!("expected a compaction, got {other:?}"),
    }
    assert_eq!(store.row_count(&room).await.unwrap(), 11);
    assert_eq!(sqlite_rows(&db, "doc_journal").await, 10);
    assert_doc(
        &store,
        &room,
        &doc_from(&updates[..30]),
        "log snapshot and journal",
    )
    .await;

    // The process stops without folding; the next start folds before serving.
    store.close().await;
    let reopened = db.store("b").await;
    assert_eq!(sqlite_rows(&db, "doc_journal").await, 0);
    assert_eq!(reopened.row_count(&room).await.unwrap(), 11);

    // A persister's last act is a fold.
    let (persister, task) = Persister::spawn(
        reopened.clone(),
        Duration::from_millis(5),
        1000,
        Arc::new(Metrics::default()),
    );
    for u in &updates[30..] {
        persister.try_submit(room.clone(), u.clone()).unwrap();
    }
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    assert_eq!(sqlite_rows(&db, "doc_journal").await, 0);
    assert_doc(
        &reopened,
        &room,
        &doc,
        "after folds, a compaction and a restart",
    )
    .await;
    // `compact` folds first: one row for everything.
    assert!(matches!(
        reopened.compact(&room).await.unwrap(),
        CompactOutcome::Compacted { .. }
    ));
    assert_eq!(reopened.row_count(&room).await.unwrap(), 1);
    assert_doc(&reopened, &room, &doc, "after a full compaction").await;
    reopened.close().await;
}

/// A fold that fails (inserts into the log blocked by a trigger, while commits to the journal go on)
/// leaves the rows in the journal, where readers still find them, is retried about once a second rather
/// than in a loop, and succeeds once the database accepts it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_fold_keeps_rows_and_retries_calmly() {
    let db = Db::new(Kind::Sqlite).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let metrics = Arc::new(Metrics::default());
    // compact_rows 4: the fold is due at once (a room with 4 rows in the journal), every time.
    let (persister, task) =
        Persister::spawn(store.clone(), Duration::from_millis(5), 4, metrics.clone());
    exec(
        &db,
        "CREATE TRIGGER block_fold BEFORE INSERT ON doc_updates \
         BEGIN SELECT RAISE(ABORT, 'blocked by the test'); END",
    )
    .await;
    let (doc, updates) = edits(41, 30);
    for u in &updates {
        persister
            .try_submit(room.clone(), u.clone())
            .unwrap()
            .await
            .unwrap()
            .expect("commits to the journal still succeed");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let errors = metrics.errors.load(ordering());
    assert!(
        (1..=5).contains(&errors),
        "{errors} failed folds in 2.5 s: expected about one a second"
    );
    assert!(sqlite_rows(&db, "doc_journal").await > 0);
    assert_doc(&store, &room, &doc, "rows still in the journal").await;

    exec(&db, "DROP TRIGGER block_fold").await;
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    assert_eq!(sqlite_rows(&db, "doc_journal").await, 0);
    assert_doc(&store, &room, &doc, "after the fold went through").await;
    store.close().await;
}

#[tokio::test]
async fn bad_url_is_a_clear_error() {
    let err = Store::connect("mysql://x", InstanceId::random())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unsupported database URL"),
        "{err}"
    );
}

/// A room loads with its record and its rows in the order they were written (by time, across
/// writers), not in key order (writer, seq); on SQLite from the log and the journal together. The
/// store sorts the rows itself since its query stopped asking the database to sort whole rows.
async fn a_room_loads_its_record_and_rows_in_write_order(kind: Kind) {
    let db = Db::new(kind).await;
    let a = db.store("a").await;
    let b = db.store("b").await;
    let room = new_room(&a).await;
    let (expected, updates) = edits(1, 6);
    let mut written = Vec::new();
    for (i, update) in updates.iter().enumerate() {
        // a, b, a, b, ...: key order would put a's rows first.
        let (store, writer) = if i % 2 == 0 { (&a, "a") } else { (&b, "b") };
        store
            .append(&rows_of(&room, std::slice::from_ref(update)))
            .await
            .unwrap();
        written.push(writer);
        if i == 3 {
            // The first four into the log (SQLite; a no-op on PostgreSQL), the rest stay in the journal.
            a.fold_journal().await.unwrap();
        }
        // Rows are stamped in milliseconds: keep the stamps apart.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }

    let (record, rows) = a.load_room(&room).await.unwrap();
    assert_eq!(record.expect("the room's record").problem, "url-shortener");
    let writers: Vec<&str> = rows.iter().map(|r| r.key.writer.as_str()).collect();
    assert_eq!(writers, written, "rows in the order they were written");
    let data: Vec<&Vec<u8>> = rows.iter().map(|r| &r.data).collect();
    assert_eq!(
        data,
        updates.iter().collect::<Vec<_>>(),
        "each row's bytes as written"
    );
    assert_eq!(text_of(&doc_from(data)), text_of(&expected));
    assert_eq!(
        a.load_rows(&room).await.unwrap().len(),
        updates.len(),
        "load_rows reads the same rows"
    );

    let (none, no_rows) = a.load_room(&RoomId::random()).await.unwrap();
    assert!(
        none.is_none() && no_rows.is_empty(),
        "an unknown room has neither"
    );
    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Postgres).await
                }
            )*
        }
    };
}

on_both!(
    rooms_tokens_roles_revocation,
    append_load_round_trip,
    group_commit_batches,
    failed_commit_keeps_data_and_retries,
    ten_thousand_updates_stay_bounded,
    concurrent_compaction_two_stores,
    two_persisters_one_room,
    interleaved_compaction,
    transitions,
    transitions_are_deduplicated_across_instances,
    undecodable_rows_are_kept_and_do_not_block_compaction,
    compaction_keeps_updates_with_missing_dependencies,
    kill_9_keeps_every_acknowledged_update,
    upgrade_keeps_rows_and_drops_the_batch_poisoning_key,
    room_snapshot_replaces_own_rows_and_named_keys_only,
    persister_commits_room_snapshots,
    a_room_loads_its_record_and_rows_in_write_order,
    retention_deletes_untouched_rooms_whole_and_keeps_the_rest,
);

/// The retention policy's store step (`--room-retention-days`): a room neither created, loaded nor
/// edited since the cutoff goes with its tokens, rows (log and journal) and timeline; a room loaded
/// (touched) or edited since, or loaded on this instance, stays.
async fn retention_deletes_untouched_rooms_whole_and_keeps_the_rest(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    const DAY: i64 = 24 * 3600 * 1000;
    let now = now_ms();
    let created = |days_ago: i64| {
        let store = store.clone();
        async move {
            let id = RoomId::random();
            let token = Token::random();
            store
                .create_room(&NewRoom {
                    id: id.clone(),
                    problem: "chat".into(),
                    created_ms: now - days_ago * DAY,
                    tokens: vec![(token.hash(), Role::Edit)],
                })
                .await
                .unwrap();
            (id, token)
        }
    };
    let (abandoned, abandoned_token) = created(100).await;
    let (touched, _) = created(100).await;
    let (edited, _) = created(100).await;
    let (loaded_here, _) = created(100).await;
    let (young, _) = created(10).await;
    let (_, updates) = edits(41, 3);
    // Rows of the abandoned room, folded into the log and left in the journal, and a timeline:
    // all of it goes. (Rows are stamped now; the cutoff below is set after them.)
    store
        .append(&rows_of(&abandoned, &updates[..2]))
        .await
        .unwrap();
    if store.has_journal() {
        store.fold_journal().await.unwrap();
    }
    store
        .append(&rows_of(&abandoned, &updates[2..]))
        .await
        .unwrap();
    store
        .record_transitions(
            &abandoned,
            &[Transition {
                at_ms: now,
                tier: "t1".into(),
                event: "reached".into(),
            }],
        )
        .await
        .unwrap();
    store
        .save_interview(
            &abandoned,
            r#"{"locked":true}"#,
            1,
            r#"{"action":"lock"}"#,
            now,
        )
        .await
        .unwrap();
    // Edited: a row newer than the cutoff. Touched: loaded after the cutoff.
    store.touch_room(&touched, now + 2 * DAY).await.unwrap();
    let keep: std::collections::HashSet<RoomId> = [loaded_here.clone()].into();

    // Cutoff 90 days ago: only the rows of `abandoned` and `edited` are recent; nothing goes yet
    // but the rooms with neither a recent row nor a recent touch or creation.
    store
        .append(&rows_of(&edited, &updates[..1]))
        .await
        .unwrap();
    let deleted = store
        .delete_untouched_rooms(now - 90 * DAY, &keep, 100)
        .await
        .unwrap();
    assert!(deleted.is_empty(), "{deleted:?}");

    // A cutoff one day ahead: every row is older than it now.
    let cutoff = now + DAY;
    let mut deleted = store
        .delete_untouched_rooms(cutoff, &keep, 100)
        .await
        .unwrap();
    deleted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut expected = vec![abandoned.clone(), edited.clone(), young.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(deleted, expected);
    for gone in [&abandoned, &edited, &young] {
        assert_eq!(store.room(gone).await.unwrap(), None);
        assert!(store.load_doc(gone).await.unwrap().is_empty());
        assert_eq!(store.row_count(gone).await.unwrap(), 0);
    }
    assert_eq!(
        store
            .role_for(&abandoned, &abandoned_token.hash())
            .await
            .unwrap(),
        None
    );
    assert!(store.timeline(&abandoned).await.unwrap().is_empty());
    assert_eq!(store.load_interview(&abandoned).await.unwrap(), None);
    assert!(store.host_actions(&abandoned).await.unwrap().is_empty());
    for kept in [&touched, &loaded_here] {
        assert!(store.room(kept).await.unwrap().is_some(), "{kept} kept");
    }
    // The limit bounds a round.
    let (a, _) = created(100).await;
    let (b, _) = created(100).await;
    let first = store
        .delete_untouched_rooms(cutoff, &keep, 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let second = store
        .delete_untouched_rooms(cutoff, &keep, 1)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert!(first[0] != second[0] && [&a, &b].contains(&&first[0]));
    store.close().await;
    db.drop_schema().await;
}

fn rows_of(room: &RoomId, updates: &[Vec<u8>]) -> Vec<(RoomId, Vec<u8>)> {
    updates.iter().map(|u| (room.clone(), u.clone())).collect()
}

/// A room's snapshot (store module docs, "Snapshots from the room") replaces this instance's own
/// older rows and the rows it names, and nothing else. Another instance's row it does not name
/// survives, and so does a compaction's snapshot, which is written under `<instance>~c` because it
/// may hold another instance's update that this instance's room never received (here: all of b's).
async fn room_snapshot_replaces_own_rows_and_named_keys_only(kind: Kind) {
    let db = Db::new(kind).await;
    let a = db.store("a").await;
    let b = db.store("b").await;
    let room = new_room(&a).await;
    let (_, ups_a) = edits(1, 30);
    let (_, ups_b) = edits(2, 10);
    let (_, ups_c) = edits(3, 10);
    a.append(&rows_of(&room, &ups_a[..10])).await.unwrap();
    b.append(&rows_of(&room, &ups_b)).await.unwrap();
    assert!(matches!(
        a.compact(&room).await.unwrap(),
        CompactOutcome::Compacted { rows: 20, .. }
    ));
    // a's room holds only a's own edits: the compaction's snapshot (holding b's) must survive.
    a.append(&rows_of(&room, &ups_a[10..20])).await.unwrap();
    a.fold_journal().await.unwrap(); // the snapshot replaces rows of the log (SQLite: not the journal)
    let own = state(&doc_from(&ups_a[..20]));
    a.append_rows(&[NewRow {
        room: room.clone(),
        data: own,
        replaces: Some(vec![]),
    }])
    .await
    .unwrap();
    assert_eq!(
        a.row_count(&room).await.unwrap(),
        2,
        "the compaction's snapshot and the room's: a's ten later rows are replaced"
    );
    assert_doc(
        &a,
        &room,
        &doc_from(ups_a[..20].iter().chain(&ups_b)),
        "after a's snapshot",
    )
    .await;

    // b stores c's edits in two rows; a's room loads the first (its key), not the second.
    b.append(&rows_of(&room, &ups_c[..5])).await.unwrap();
    a.fold_journal().await.unwrap();
    let loaded: Vec<RowKey> = a
        .load_rows(&room)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(loaded.len(), 7, "two snapshots and c's five rows");
    b.append(&rows_of(&room, &ups_c[5..])).await.unwrap();
    a.fold_journal().await.unwrap();
    // a's room (loaded from those seven rows, plus a's last ten edits) snapshots and names them.
    let held = doc_from(ups_a.iter().chain(&ups_b).chain(&ups_c[..5]));
    a.append_rows(&[NewRow {
        room: room.clone(),
        data: state(&held),
        replaces: Some(loaded),
    }])
    .await
    .unwrap();
    assert_eq!(
        a.row_count(&room).await.unwrap(),
        6,
        "the room's new snapshot and the five rows of c it did not load"
    );
    assert_doc(
        &a,
        &room,
        &doc_from(ups_a.iter().chain(&ups_b).chain(&ups_c)),
        "after the snapshot that names what it loaded",
    )
    .await;
    a.close().await;
    b.close().await;
    db.drop_schema().await;
}

/// Through the persister: updates submitted before a snapshot in the same batch are dropped (the
/// snapshot holds them), updates after it are merged into its row, and the commit replaces the
/// room's earlier rows; the row count resets, so no compaction follows.
async fn persister_commits_room_snapshots(kind: Kind) {
    let db = Db::new(kind).await;
    let store = db.store("a").await;
    let room = new_room(&store).await;
    let metrics = Arc::new(Metrics::default());
    let (persister, task) = Persister::spawn(
        store.clone(),
        Duration::from_millis(20),
        24,
        metrics.clone(),
    );
    let (doc, updates) = edits(4, 60);
    for u in &updates[..20] {
        drop(persister.try_submit(room.clone(), u.clone()).unwrap());
        persister.flush().await.unwrap();
    }
    store.fold_journal().await.unwrap();
    assert_eq!(store.row_count(&room).await.unwrap(), 20);
    for u in &updates[20..25] {
        drop(persister.try_submit(room.clone(), u.clone()).unwrap());
    }
    let (done, saved) = oneshot::channel();
    persister
        .try_submit_snapshot(
            room.clone(),
            state(&doc_from(&updates[..25])),
            vec![],
            Box::new(move |r| {
                let _ = done.send(r);
            }),
        )
        .unwrap();
    for u in &updates[25..30] {
        drop(persister.try_submit(room.clone(), u.clone()).unwrap());
    }
    persister.flush().await.unwrap();
    saved.await.unwrap().expect("the snapshot is stored");
    assert_eq!(
        store.row_count(&room).await.unwrap(),
        1,
        "one row: the snapshot with the later updates merged in"
    );
    assert_doc(
        &store,
        &room,
        &doc_from(&updates[..30]),
        "after the snapshot",
    )
    .await;
    // 20 more rows keep the room under compact_rows (24) counting from the snapshot: no compaction.
    for u in &updates[30..50] {
        persister.try_submit(room.clone(), u.clone()).unwrap();
        persister.flush().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        metrics.compactions.load(ordering()),
        0,
        "the snapshot reset the row count"
    );
    assert_eq!(store.row_count(&room).await.unwrap(), 21);
    for u in &updates[50..] {
        persister.try_submit(room.clone(), u.clone()).unwrap();
        persister.flush().await.unwrap();
    }
    persister.shutdown().await.unwrap();
    task.await.unwrap();
    assert_doc(&store, &room, &doc, "at the end").await;
    store.close().await;
    db.drop_schema().await;
}

/// Needs a single-threaded runtime (the persister must not run while the queue is filled).
mod queue {
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_full_queue_hands_updates_back() {
        super::full_queue_hands_updates_back(super::Kind::Sqlite).await
    }
    #[tokio::test(flavor = "current_thread")]
    async fn postgres_full_queue_hands_updates_back() {
        super::full_queue_hands_updates_back(super::Kind::Postgres).await
    }
}

/// `tierboard migrate` from an unrelated working directory: the migrations are embedded, the SQLite
/// file and its folders are created, and a second run is a no-op.
#[test]
fn migrate_command_creates_and_migrates_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/a/b/tb.db", dir.path().display());
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
            .args(["migrate", "--database-url", &url])
            .current_dir(dir.path())
            .env_remove("TIERBOARD_DATABASE_URL")
            .output()
            .expect("run tierboard migrate");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::connect(&url, InstanceId::random()).await.unwrap();
        assert_eq!(store.row_count(&RoomId::random()).await.unwrap(), 0);
        assert!(new_room(&store).await.as_str().len() >= 16);
    });
}

#[test]
fn migrate_command_reports_a_bad_url() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
        .args(["migrate", "--database-url", "mysql://nowhere"])
        .output()
        .expect("run tierboard migrate");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
}

/// `sqlite::memory:` works (one connection that the pool keeps).
#[tokio::test]
async fn in_memory_sqlite() {
    let store = Store::connect("sqlite::memory:", InstanceId::random())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let room = new_room(&store).await;
    let (doc, updates) = edits(5, 30);
    let batch: Vec<_> = updates.iter().map(|u| (room.clone(), u.clone())).collect();
    store.append(&batch).await.unwrap();
    store.compact(&room).await.unwrap();
    assert_doc(&store, &room, &doc, "in memory").await;
}

/// On a SQLite file the write connection's thread runs below the others' priority
/// (`store::niceness`): its background bursts (the journal's fold, checkpoints) must not take a core
/// from the rooms. The thread is found by the niceness it was given.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn sqlite_writer_thread_runs_at_a_lower_priority() {
    use tierboard::store::niceness;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/tb.db", dir.path().display());
    // SAFETY: `gettid` has no arguments and cannot fail.
    let me = unsafe { libc::gettid() } as u32;
    let mine = niceness::niceness_of(me).unwrap();
    assert!(
        mine < niceness::WRITER_NICENESS,
        "the test runs at niceness {mine}: it cannot tell a lowered thread from the others"
    );
    let store = Store::connect(&url, InstanceId::random()).await.unwrap();
    store.migrate().await.unwrap();
    let levels: Vec<i32> = niceness::sqlite_threads()
        .into_iter()
        .filter_map(|tid| niceness::niceness_of(tid).ok())
        .collect();
    assert!(
        levels.contains(&niceness::WRITER_NICENESS),
        "no SQLite thread at niceness {}: {levels:?}",
        niceness::WRITER_NICENESS
    );
    // The store works on that thread as on any other.
    assert_eq!(store.row_count(&RoomId::random()).await.unwrap(), 0);
}
