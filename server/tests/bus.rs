//! The room logic across instances, in one process: several registries ("instances", each with its own
//! SQLite file, persister and instance id) joined by an in-process [`LocalHub`], with fake connections
//! driven through the rooms' mailboxes. The hub loses messages and has outages on demand, so these tests
//! pin down reconciliation: lost inserts, lost deletes, an outage and its recovery, a joiner whose store
//! knows nothing. The same logic over real Redis is covered by `tests/node/multi.test.mjs`.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tierboard::bus::{LocalHub, RECONCILE_JITTER, RECONCILE_PERIOD};
use tierboard::clock::now_ms;
use tierboard::ids::{InstanceId, Role, RoomId};
use tierboard::metrics::Metrics;
use tierboard::queue;
use tierboard::room::{
    ConnControl, ConnHandle, ConnId, Inbound, RoomCommand, RoomDeps, RoomHandle,
};
use tierboard::rooms::Rooms;
use tierboard::store::{NewRoom, Persister, Store};
use tierboard::sync::protocol::{write_buf, write_var};
use tierboard::sync::{ClientMessage, parse_frame};
use yrs::updates::decoder::Decode;
use yrs::{
    Doc, GetString, Map, MapRef, ReadTxn, StateVector, Text, TextRef, Transact, TransactionMut,
    Update,
};

/// Longest time a lost message may take to heal while the bus is up (the stated bound: one reconcile
/// period plus jitter and a round trip), with slack for a loaded machine.
const HEAL: Duration = Duration::from_secs(8);

struct Instance {
    rooms: Rooms,
    metrics: Arc<Metrics>,
    _dir: tempfile::TempDir,
}

impl Instance {
    async fn start(hub: &Arc<LocalHub>, name: &str, room: &RoomId) -> Instance {
        let (dir, url) = common::sqlite_url();
        let instance = InstanceId(name.to_string());
        let store = Arc::new(Store::connect(&url, instance.clone()).await.unwrap());
        store.migrate().await.unwrap();
        store
            .create_room(&NewRoom {
                id: room.clone(),
                problem: "tutorial-simple-blog".into(),
                created_ms: now_ms(),
                tokens: Vec::new(),
            })
            .await
            .unwrap();
        let metrics = Arc::new(Metrics::default());
        let (persister, _task) = Persister::spawn(
            store.clone(),
            Duration::from_millis(20),
            64,
            metrics.clone(),
        );
        let rooms = Rooms::new(RoomDeps {
            store,
            bank: common::bank(),
            persister,
            metrics: metrics.clone(),
            bus: Arc::new(hub.bus(instance, metrics.clone())),
            idle: Duration::from_secs(60),
            persist_steady: tierboard::room::PERSIST_STEADY,
            presence_window: tierboard::room::PRESENCE_WINDOW,
            limits: Default::default(),
            results: Default::default(),
        });
        Instance {
            rooms,
            metrics,
            _dir: dir,
        }
    }

    fn counter(&self, f: impl Fn(&Metrics) -> &std::sync::atomic::AtomicU64) -> u64 {
        f(&self.metrics).load(Ordering::Relaxed)
    }
}

/// The shared types a test edits.
struct Roots {
    nodes: MapRef,
    notes: TextRef,
}

/// A fake connection with its own copy of the document.
struct Peer {
    doc: Doc,
    conn: ConnId,
    room: RoomHandle,
    outbox: queue::Receiver<Bytes>,
    /// Every awareness payload received.
    awareness: Vec<Bytes>,
}

impl Peer {
    async fn join(instance: &Instance, room: &RoomId) -> Peer {
        let (tx, outbox) = queue::channel(4096);
        let conn = ConnHandle {
            id: ConnId::next(),
            role: Role::Edit,
            token: None,
            outbox: Arc::new(tx),
            control: Arc::new(ConnControl::default()),
        };
        let handle = instance.rooms.join(room, conn.clone()).await.unwrap();
        let peer = Peer {
            doc: Doc::new(),
            conn: conn.id,
            room: handle,
            outbox,
            awareness: Vec::new(),
        };
        peer.send(vec![Inbound::SyncStep1(StateVector::default())])
            .await;
        peer
    }

    async fn send(&self, messages: Vec<Inbound>) {
        self.room
            .tx
            .send(RoomCommand::Inbound {
                conn: self.conn,
                messages,
            })
            .await
            .unwrap();
    }

    async fn edit(&self, f: impl FnOnce(&Roots, &mut TransactionMut)) {
        // Root types first: `get_or_insert_*` takes a write transaction of its own.
        let roots = Roots {
            nodes: self.doc.get_or_insert_map("nodes"),
            notes: self.doc.get_or_insert_text("notes"),
        };
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            f(&roots, &mut txn);
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send(vec![Inbound::Update(
            Update::decode_v1(&update).unwrap(),
            update.into(),
        )])
        .await;
    }

    async fn set_awareness(&self, client: u64, clock: u64, json: &str) {
        let mut buf = BytesMut::new();
        write_var(&mut buf, 1);
        write_var(&mut buf, client);
        write_var(&mut buf, clock);
        write_buf(&mut buf, json.as_bytes());
        self.send(vec![Inbound::Awareness(buf.freeze())]).await;
    }

    async fn leave(self) {
        self.room
            .tx
            .send(RoomCommand::Leave { conn: self.conn })
            .await
            .unwrap();
    }

    /// Applies everything the room has sent so far.
    fn pump(&mut self) {
        while let Some(frame) = self.outbox.try_recv() {
            // tierboard's own JSON messages (session, saved, validation) are not y-websocket messages.
            let Ok(messages) = parse_frame(&frame) else {
                continue;
            };
            for message in messages {
                match message {
                    ClientMessage::SyncStep2(u) | ClientMessage::Update(u) => {
                        self.doc
                            .transact_mut()
                            .apply_update(Update::decode_v1(&u).unwrap())
                            .unwrap();
                    }
                    ClientMessage::Awareness(a) => self.awareness.push(a),
                    _ => {}
                }
            }
        }
    }

    fn nodes(&self) -> Vec<String> {
        // Root types first: `get_or_insert_*` takes a write transaction of its own.
        let nodes = self.doc.get_or_insert_map("nodes");
        let txn = self.doc.transact();
        let mut keys: Vec<String> = nodes.keys(&txn).map(String::from).collect();
        keys.sort();
        keys
    }

    fn notes(&self) -> String {
        let text = self.doc.get_or_insert_text("notes");
        text.get_string(&self.doc.transact())
    }

    async fn until(&mut self, within: Duration, what: &str, cond: impl Fn(&Peer) -> bool) {
        let end = tokio::time::Instant::now() + within;
        loop {
            self.pump();
            if cond(self) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < end,
                "timed out after {within:?} waiting for {what}; nodes {:?}, notes {:?}",
                self.nodes(),
                self.notes()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn set_node(key: &'static str) -> impl FnOnce(&Roots, &mut TransactionMut) {
    move |roots, txn| {
        roots.nodes.insert(txn, key, 1);
    }
}

async fn pair() -> (Arc<LocalHub>, RoomId, Instance, Instance) {
    let hub = LocalHub::new();
    let room = RoomId::random();
    let a = Instance::start(&hub, "instance-a", &room).await;
    let b = Instance::start(&hub, "instance-b", &room).await;
    (hub, room, a, b)
}

#[tokio::test]
async fn updates_and_awareness_cross_instances_and_a_departure_is_published() {
    let (_hub, room, a, b) = pair().await;
    let pa = Peer::join(&a, &room).await;
    let mut pb = Peer::join(&b, &room).await;
    pa.edit(set_node("from-a")).await;
    pb.until(Duration::from_secs(5), "a's edit", |p| {
        p.nodes() == ["from-a"]
    })
    .await;
    pa.set_awareness(77, 1, r#"{"user":{"name":"ann"}}"#).await;
    pb.until(Duration::from_secs(5), "a's awareness", |p| {
        p.awareness
            .iter()
            .any(|a| String::from_utf8_lossy(a).contains("ann"))
    })
    .await;
    let seen = pb.awareness.len();
    pa.leave().await;
    // The removal of client 77 (clock 2, state null) reaches b at once, not after the 30 s timeout.
    pb.until(Duration::from_secs(5), "the removal of a's client", |p| {
        p.awareness[seen..]
            .iter()
            .any(|a| a.ends_with(b"null") && a.len() >= 4)
    })
    .await;
    assert!(a.counter(|m| &m.bus_published) >= 2);
    assert!(b.counter(|m| &m.bus_received) >= 2);
}

#[tokio::test]
async fn a_lost_update_heals_by_reconciliation() {
    let (hub, room, a, b) = pair().await;
    let pa = Peer::join(&a, &room).await;
    let mut pb = Peer::join(&b, &room).await;
    pa.edit(set_node("first")).await;
    pb.until(Duration::from_secs(5), "the first edit", |p| {
        p.nodes() == ["first"]
    })
    .await;
    hub.lose_next(1);
    pa.edit(set_node("lost")).await;
    pa.edit(set_node("after")).await;
    // "after" depends on nothing lost (a map key is its own item), so b may show it first; "lost"
    // arrives through reconciliation within the stated bound.
    pb.until(HEAL, "the lost edit to heal", |p| {
        p.nodes() == ["after", "first", "lost"]
    })
    .await;
    assert!(a.counter(|m| &m.reconcile_diffs) + b.counter(|m| &m.reconcile_diffs) >= 1);
}

#[tokio::test]
async fn a_lost_delete_heals_although_state_vectors_agree() {
    let (hub, room, a, b) = pair().await;
    let pa = Peer::join(&a, &room).await;
    let mut pb = Peer::join(&b, &room).await;
    pa.edit(|roots, txn| roots.notes.insert(txn, 0, "keep this, drop this"))
        .await;
    pb.until(Duration::from_secs(5), "the text", |p| {
        p.notes() == "keep this, drop this"
    })
    .await;
    hub.lose_next(1);
    pa.edit(|roots, txn| roots.notes.remove_range(txn, 9, 11))
        .await;
    pb.until(HEAL, "the lost delete to heal", |p| {
        p.notes() == "keep this"
    })
    .await;
}

#[tokio::test]
async fn an_outage_heals_as_soon_as_the_bus_is_back() {
    let (hub, room, a, b) = pair().await;
    let mut pa = Peer::join(&a, &room).await;
    let mut pb = Peer::join(&b, &room).await;
    pa.edit(set_node("before")).await;
    pb.until(Duration::from_secs(5), "the first edit", |p| {
        p.nodes() == ["before"]
    })
    .await;
    hub.go_down();
    pa.edit(set_node("during-a")).await;
    pb.edit(set_node("during-b")).await;
    tokio::time::sleep(RECONCILE_PERIOD + RECONCILE_JITTER + Duration::from_millis(300)).await;
    pa.pump();
    pb.pump();
    assert_eq!(
        pa.nodes(),
        ["before", "during-a"],
        "nothing crosses while the bus is down"
    );
    assert_eq!(pb.nodes(), ["before", "during-b"]);
    assert!(a.counter(|m| &m.bus_dropped) >= 1);
    hub.recover();
    // Both rooms announce on `Reconnected`: healed well before the next periodic reconcile.
    let all = ["before", "during-a", "during-b"];
    pa.until(RECONCILE_PERIOD, "recovery on a", |p| p.nodes() == all)
        .await;
    pb.until(RECONCILE_PERIOD, "recovery on b", |p| p.nodes() == all)
        .await;
}

#[tokio::test]
async fn a_joiner_whose_store_knows_nothing_gets_everything_from_its_peers() {
    // Separate databases: instance b's store never saw a's edits, so only the bus can bring them.
    let (_hub, room, a, b) = pair().await;
    let pa = Peer::join(&a, &room).await;
    for key in ["x", "y", "z"] {
        pa.edit(set_node(key)).await;
    }
    pa.edit(|roots, txn| roots.notes.insert(txn, 0, "hello"))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut pb = Peer::join(&b, &room).await;
    pb.until(Duration::from_secs(5), "the joiner to get a's state", |p| {
        p.nodes() == ["x", "y", "z"] && p.notes() == "hello"
    })
    .await;
    assert!(a.counter(|m| &m.reconcile_diffs) >= 1);
}

#[tokio::test]
async fn equal_rooms_exchange_no_diffs() {
    let (_hub, room, a, b) = pair().await;
    let pa = Peer::join(&a, &room).await;
    let mut pb = Peer::join(&b, &room).await;
    pa.edit(set_node("one")).await;
    pa.edit(|roots, txn| roots.notes.insert(txn, 0, "abc"))
        .await;
    pa.edit(|roots, txn| roots.notes.remove_range(txn, 1, 1))
        .await;
    pb.until(Duration::from_secs(5), "the edits", |p| p.notes() == "ac")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let diffs = a.counter(|m| &m.reconcile_diffs) + b.counter(|m| &m.reconcile_diffs);
    let reconciles = a.counter(|m| &m.reconciles) + b.counter(|m| &m.reconciles);
    // Two full periods: both rooms publish their state, nobody lacks anything, nothing else is sent.
    tokio::time::sleep(2 * (RECONCILE_PERIOD + RECONCILE_JITTER)).await;
    assert!(a.counter(|m| &m.reconciles) + b.counter(|m| &m.reconciles) >= reconciles + 2);
    assert_eq!(
        a.counter(|m| &m.reconcile_diffs) + b.counter(|m| &m.reconcile_diffs),
        diffs,
        "equal copies must not send diffs"
    );
}

/// A connection whose writer has gone (its outbox closed) while its `Leave` is still on the way is not a
/// slow consumer: the room skips it without closing it with 4000 or counting it, and the others go on.
#[tokio::test]
async fn a_departed_connection_is_not_taken_for_a_slow_consumer() {
    let (_hub, room, a, _b) = pair().await;
    let gone = Peer::join(&a, &room).await;
    let mut stays = Peer::join(&a, &room).await;
    let writer = Peer::join(&a, &room).await;
    let connections = a.rooms.status(&room).await.map(|s| s.connections);
    assert_eq!(connections, Some(3));
    // The connection's writer task ends (its receiver is dropped); no `Leave` is sent.
    let Peer { outbox, .. } = gone;
    drop(outbox);
    for key in ["one", "two", "three"] {
        writer.edit(set_node(key)).await;
    }
    stays
        .until(Duration::from_secs(5), "the three edits", |p| {
            p.nodes() == ["one", "three", "two"]
        })
        .await;
    assert_eq!(a.counter(|m| &m.slow_consumers), 0);
}
