//! Unit tests of the room core: each drives a [`RoomCore`] with inputs at explicit instants and
//! asserts the effects it returns. No database, bus, socket or runtime.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use bytes::{Bytes, BytesMut};
use tokio::time::Instant;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, ReadTxn, StateVector, Transact, Update};

use super::core::{ANNOUNCE_SOON, HOUSEKEEPING, PERSIST_RETRY, PERSIST_STEADY, SAVED_HOLD};
use super::*;
use crate::close::CloseCode;
use crate::ids::{InstanceId, Role, RoomId};
use crate::metrics::Metrics;
use crate::problems::Bank;
use crate::rows::RowKey;
use crate::sync::peer::{BusMessage, SyncState};
use crate::sync::protocol;
use crate::sync::reconcile::{DocState, RECONCILE_PERIOD};

const PROBLEM: &str = "tutorial-simple-blog";

fn bank() -> Arc<Bank> {
    static BANK: OnceLock<Arc<Bank>> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
        Arc::new(Bank::load(&dir).expect("the committed problem bank loads"))
    })
    .clone()
}

fn config(fans_out: bool) -> CoreConfig {
    CoreConfig {
        id: RoomId::random(),
        problem_id: Some(PROBLEM.into()),
        mode: crate::ids::Mode::Practice,
        bank: bank(),
        metrics: Arc::new(Metrics::default()),
        fans_out,
        compact_rows: 64,
        persist_steady: PERSIST_STEADY,
        // Every awareness update relayed as it comes; the window's own tests set one.
        presence_window: Duration::ZERO,
        idle: Duration::from_secs(30),
        reconcile_jitter: Duration::ZERO,
        limits: RoomLimits::default(),
        results: Default::default(),
    }
}

/// A core and the instant the test is at.
struct Room {
    core: RoomCore,
    t0: Instant,
    metrics: Arc<Metrics>,
}

impl Room {
    fn with(config: CoreConfig, start: Start) -> Room {
        let t0 = Instant::now();
        let metrics = config.metrics.clone();
        Room {
            core: RoomCore::new(config, t0, start),
            t0,
            metrics,
        }
    }

    fn new() -> Room {
        Room::with(config(false), loaded(Doc::new()))
    }

    fn fanning_out() -> Room {
        Room::with(config(true), loaded(Doc::new()))
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn effects(&mut self) -> Vec<Effect> {
        let mut out = Vec::new();
        self.core.take_effects(&mut out);
        out
    }

    /// Joins `conn` at `ms` and returns the greeting's effects.
    fn join(&mut self, ms: u64, conn: u64, role: Role) -> Vec<Effect> {
        self.core.join(self.at(ms), ConnId(conn), role);
        self.effects()
    }

    fn send(&mut self, ms: u64, conn: u64, messages: Vec<Inbound>) -> Vec<Effect> {
        self.core.inbound(self.at(ms), ConnId(conn), messages);
        self.effects()
    }

    fn tick(&mut self, ms: u64) -> Vec<Effect> {
        self.core.tick(self.at(ms));
        self.effects()
    }

    fn validations(&self) -> u64 {
        self.metrics.validations.load(Ordering::Relaxed)
    }
}

fn loaded(doc: Doc) -> Start {
    Start {
        doc: Some(doc),
        ..Start::default()
    }
}

/// What a message is: `step1`, `step2`, `update`, `awareness` or a tierboard message's type.
fn kind(message: &[u8]) -> String {
    let mut reader = protocol::Reader::new(message);
    match reader.read_var().unwrap() {
        protocol::MSG_SYNC => match reader.read_var().unwrap() {
            protocol::SYNC_STEP1 => "step1".into(),
            protocol::SYNC_STEP2 => "step2".into(),
            _ => "update".into(),
        },
        protocol::MSG_AWARENESS => "awareness".into(),
        protocol::MSG_TIERBOARD => tierboard(message)["type"].as_str().unwrap().into(),
        other => format!("type {other}"),
    }
}

fn tierboard(message: &[u8]) -> serde_json::Value {
    let mut reader = protocol::Reader::new(message);
    assert_eq!(reader.read_var().unwrap(), protocol::MSG_TIERBOARD);
    serde_json::from_slice(reader.read_buf().unwrap()).unwrap()
}

/// The payload of a sync message (state vector or update).
fn sync_payload(message: &[u8]) -> Vec<u8> {
    let mut reader = protocol::Reader::new(message);
    assert_eq!(reader.read_var().unwrap(), protocol::MSG_SYNC);
    reader.read_var().unwrap();
    reader.read_buf().unwrap().to_vec()
}

/// The kinds of the messages sent to `conn` alone, in order.
fn sent_to(effects: &[Effect], conn: u64) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, message } if *to == ConnId(conn) => Some(kind(message)),
            _ => None,
        })
        .collect()
}

fn broadcasts(effects: &[Effect]) -> Vec<(String, Option<ConnId>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast { message, except } => Some((kind(message), *except)),
            _ => None,
        })
        .collect()
}

fn published(effects: &[Effect]) -> Vec<&BusMessage> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Publish(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn submissions(effects: Vec<Effect>) -> Vec<Submission> {
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Submit(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn closes(effects: &[Effect]) -> Vec<(ConnId, CloseCode)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { conn, code } => Some((*conn, *code)),
            _ => None,
        })
        .collect()
}

fn unloads(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::Unload))
}

/// A client document of its own id, making edits.
struct Client(Doc);

impl Client {
    fn new(id: u64) -> Client {
        Client(Doc::with_client_id(id))
    }

    /// Sets `key` in the `notes` map (not read by validation) and returns the update.
    fn note(&self, key: &str, value: i64) -> (Update, Vec<u8>) {
        let map = self.0.get_or_insert_map("notes");
        let bytes = {
            let mut txn = self.0.transact_mut();
            map.insert(&mut txn, key, value);
            txn.encode_update_v1()
        };
        (Update::decode_v1(&bytes).unwrap(), bytes)
    }

    fn edit(&self, key: &str, value: i64) -> Inbound {
        let (update, bytes) = self.note(key, value);
        Inbound::Update(update, Bytes::from(bytes))
    }

    fn design(&self, change: impl FnOnce(&mut yrs::TransactionMut)) -> Inbound {
        let bytes = {
            let mut txn = self.0.transact_mut();
            change(&mut txn);
            txn.encode_update_v1()
        };
        Inbound::Update(Update::decode_v1(&bytes).unwrap(), Bytes::from(bytes))
    }

    /// Adds an `app` node under `key`.
    fn add_node(&self, key: impl Into<String>) -> Inbound {
        let nodes = self.0.get_or_insert_map(crate::design::NODES_KEY);
        let key = key.into();
        self.design(|txn| {
            nodes.insert(txn, key, yrs::MapPrelim::from([("type", "app")]));
        })
    }

    /// Writes the problem's reference design (every tier reached).
    fn reference(&self) -> Inbound {
        let design = bank().get(PROBLEM).unwrap().reference_design().unwrap();
        self.design(|txn| design.write_to_txn(txn))
    }

    /// Removes every node and edge (every tier lost).
    fn clear(&self) -> Inbound {
        let nodes = self.0.get_or_insert_map(crate::design::NODES_KEY);
        let edges = self.0.get_or_insert_map(crate::design::EDGES_KEY);
        self.design(|txn| {
            nodes.clear(txn);
            edges.clear(txn);
        })
    }

    fn clock(&self) -> u32 {
        self.0.transact().state_vector().get(&self.0.client_id())
    }
}

/// The value of `key` in the `notes` map of a document made of `update`.
fn note_in(update: &[u8], key: &str) -> Option<String> {
    let doc = Doc::new();
    doc.transact_mut()
        .apply_update(Update::decode_v1(update).unwrap())
        .unwrap();
    let notes = doc.get_or_insert_map("notes");
    let txn = doc.transact();
    notes.get(&txn, key).map(|v| v.to_string(&txn))
}

/// An awareness update of one client: `[1, client, clock, state]`.
fn awareness(client: u64, clock: u64, state: &str) -> Bytes {
    let mut buf = BytesMut::new();
    protocol::write_var(&mut buf, 1);
    protocol::write_var(&mut buf, client);
    protocol::write_var(&mut buf, clock);
    protocol::write_buf(&mut buf, state.as_bytes());
    buf.freeze()
}

/// The clock of `client` in a `saved` message's state vector.
fn saved_clock(message: &[u8], client: &Client) -> u32 {
    let json = tierboard(message);
    assert_eq!(json["type"], "saved");
    let sv = base64::engine::general_purpose::STANDARD
        .decode(json["sv"].as_str().unwrap())
        .unwrap();
    StateVector::decode_v1(&sv)
        .unwrap()
        .get(&client.0.client_id())
}

/// The `saved` messages for `conn`, sent or held for its next update.
fn saved_to(effects: &[Effect], conn: u64) -> Vec<Bytes> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, message } | Effect::Hold { to, message }
                if *to == ConnId(conn) && kind(message) == "saved" =>
            {
                Some(message.clone())
            }
            _ => None,
        })
        .collect()
}

/// Submits what is pending at `ms` (after the coalescing window) and acknowledges it at `ack_ms`.
fn commit(room: &mut Room, ms: u64, ack_ms: u64) -> Vec<Effect> {
    let subs = submissions(room.tick(ms));
    assert_eq!(subs.len(), 1, "one submission at {ms} ms");
    let sub = subs.into_iter().next().unwrap();
    room.core
        .persisted(room.at(ack_ms), Ok(()), sub.saved_sv, sub.version);
    room.effects()
}

// ---- joining ---------------------------------------------------------------------------------

#[test]
fn a_fresh_room_greets_with_step1_then_session() {
    let mut room = Room::new();
    let effects = room.join(0, 1, Role::Edit);
    assert_eq!(sent_to(&effects, 1), ["step1", "session", "interview"]);
    let Effect::Send { message, .. } = &effects[1] else {
        panic!("a send")
    };
    let session = tierboard(message);
    assert_eq!(session["role"], "edit");
    assert_eq!(session["problem"], PROBLEM);
    assert_eq!(room.core.connections(), 1);
}

#[test]
fn the_greeting_is_step1_awareness_session_validation_saved_in_order() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![Inbound::Awareness(awareness(1, 1, "{}"))]);
    room.tick(50); // the baseline validation: a `validation` message exists
    room.send(61, 1, vec![a.edit("k", 1)]);
    commit(&mut room, 80, 90); // a stored state: a `saved` message exists
    let effects = room.join(100, 2, Role::View);
    assert_eq!(
        sent_to(&effects, 2),
        [
            "step1",
            "awareness",
            "session",
            "interview",
            "validation",
            "simulation",
            "section_checks",
            "saved"
        ]
    );
}

#[test]
fn a_joiner_of_a_loading_room_is_answered_from_the_snapshot_and_owed_its_step1() {
    let stored = Client::new(9);
    let (_, row) = stored.note("k", 7);
    let start = Start {
        doc: None,
        snapshot: Some(protocol::encode_step2(&row)),
        ..Start::default()
    };
    let mut room = Room::with(config(false), start);
    assert!(room.core.is_loading());
    let effects = room.join(0, 1, Role::Edit);
    assert_eq!(
        sent_to(&effects, 1),
        ["session", "interview"],
        "no step 1 while loading"
    );
    let effects = room.send(1, 1, vec![Inbound::SyncStep1(StateVector::default())]);
    assert_eq!(sent_to(&effects, 1), ["step2"]);
    let Effect::Send { message, .. } = &effects[0] else {
        panic!("a send")
    };
    assert_eq!(sync_payload(message), row, "the stored row is the answer");
    // The document arrives: the owed step 1 carries its state vector.
    let doc = Doc::new();
    doc.transact_mut()
        .apply_update(Update::decode_v1(&row).unwrap())
        .unwrap();
    room.core.loaded(doc.clone(), vec![]);
    let effects = room.effects();
    assert_eq!(sent_to(&effects, 1), ["step1"]);
    let Effect::Send { message, .. } = &effects[0] else {
        panic!("a send")
    };
    assert_eq!(
        sync_payload(message),
        doc.transact().state_vector().encode_v1()
    );
    assert!(!room.core.is_loading());
}

// ---- sync steps --------------------------------------------------------------------------------

#[test]
fn joiners_with_nothing_share_one_encoded_full_state_per_version() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    room.join(2, 2, Role::Edit);
    room.join(2, 3, Role::Edit);
    let first = room.send(3, 2, vec![Inbound::SyncStep1(StateVector::default())]);
    let second = room.send(3, 3, vec![Inbound::SyncStep1(StateVector::default())]);
    let (Effect::Send { message: m2, .. }, Effect::Send { message: m3, .. }) =
        (&first[0], &second[0])
    else {
        panic!("sends")
    };
    assert_eq!(kind(m2), "step2");
    assert_eq!(m2.as_ptr(), m3.as_ptr(), "one encoding shared by both");
    room.send(4, 1, vec![a.edit("k", 2)]);
    let third = room.send(5, 2, vec![Inbound::SyncStep1(StateVector::default())]);
    let Effect::Send { message: m4, .. } = &third[0] else {
        panic!("a send")
    };
    assert_ne!(m2, m4, "a new version is encoded anew");
}

#[test]
fn a_step1_is_answered_with_only_what_the_client_lacks() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    let (first, first_bytes) = a.note("one", 1);
    room.send(
        1,
        1,
        vec![Inbound::Update(first, Bytes::from(first_bytes.clone()))],
    );
    room.send(2, 1, vec![a.edit("two", 2)]);
    // A client that has the first edit only.
    let b = Doc::with_client_id(2);
    b.transact_mut()
        .apply_update(Update::decode_v1(&first_bytes).unwrap())
        .unwrap();
    room.join(3, 2, Role::Edit);
    let sv = b.transact().state_vector();
    let effects = room.send(4, 2, vec![Inbound::SyncStep1(sv)]);
    let Effect::Send { message, .. } = &effects[0] else {
        panic!("a send")
    };
    let diff = Update::decode_v1(&sync_payload(message)).unwrap();
    b.transact_mut().apply_update(diff).unwrap();
    let notes = b.get_or_insert_map("notes");
    let txn = b.transact();
    assert_eq!(notes.len(&txn), 2);
    // The diff holds the second edit only: smaller than the full state.
    let full =
        a.0.transact()
            .encode_state_as_update_v1(&StateVector::default());
    assert!(sync_payload(message).len() < full.len());
}

// ---- updates -----------------------------------------------------------------------------------

#[test]
fn an_update_is_broadcast_published_and_submitted_at_once_and_the_next_after_the_window() {
    let mut room = Room::fanning_out();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.effects();
    let steady = PERSIST_STEADY.as_millis() as u64;
    let effects = room.send(1, 1, vec![a.edit("k", 1)]);
    assert_eq!(broadcasts(&effects), [("update".into(), Some(ConnId(1)))]);
    assert!(matches!(published(&effects)[..], [BusMessage::Update(_)]));
    assert!(
        room.core.next_wake() <= room.at(1),
        "a lone edit is due at once (the actor ticks in the same turn)"
    );
    let first = submissions(room.tick(1));
    assert_eq!(first.len(), 1);
    let Rows::Update(first) = &first[0].rows else {
        panic!("an update")
    };
    // The next two come within the steady window: one submission at its end, holding both.
    room.send(2, 1, vec![a.edit("k", 2)]);
    room.send(3, 1, vec![a.edit("k", 3)]);
    assert!(submissions(room.tick(steady)).is_empty());
    let subs = submissions(room.tick(1 + steady));
    assert_eq!(subs.len(), 1, "both edits in one submission");
    let Rows::Update(bytes) = &subs[0].rows else {
        panic!("an update")
    };
    let both = yrs::merge_updates_v1([first, bytes]).unwrap();
    assert_eq!(note_in(&both, "k").as_deref(), Some("3"));
}

#[test]
fn steady_editing_is_submitted_once_a_window_and_a_lone_edit_at_once() {
    let mut room = Room::fanning_out();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.effects();
    let steady = PERSIST_STEADY.as_millis() as u64;
    // An edit every 20 ms for a second: the first goes at once, the rest at most once per steady
    // window, each submission holding every edit since the one before.
    let mut at = Vec::new();
    let mut stored = Vec::new();
    for ms in 1..=1000 + steady {
        let mut effects = Vec::new();
        if ms <= 1000 && ms % 20 == 1 {
            effects.extend(room.send(ms, 1, vec![a.edit("k", (ms / 20) as i64)]));
        }
        effects.extend(room.tick(ms));
        for sub in submissions(effects) {
            let Rows::Update(bytes) = &sub.rows else {
                panic!("an update")
            };
            at.push(ms);
            stored.push(bytes.clone());
        }
    }
    assert_eq!(at.first(), Some(&1), "the first edit goes at once");
    assert!(
        at.windows(2).all(|w| w[1] - w[0] >= steady),
        "at most one submission per steady window: {at:?}"
    );
    let most = 2 + 1000 / steady as usize;
    assert!(
        (2..=most).contains(&at.len()),
        "about one submission per {steady} ms over a second: {at:?}"
    );
    let merged = yrs::merge_updates_v1(&stored).unwrap();
    assert_eq!(
        note_in(&merged, "k").as_deref(),
        Some("49"),
        "every edit is submitted"
    );
    // After a quiet window, a lone edit goes at once again.
    let quiet = 1000 + 2 * steady;
    room.tick(quiet);
    room.send(quiet, 1, vec![a.edit("k", 99)]);
    assert_eq!(
        submissions(room.tick(quiet)).len(),
        1,
        "a lone edit is submitted at once"
    );
}

#[test]
fn a_duplicate_update_changes_nothing_and_is_not_fanned_out() {
    let mut room = Room::fanning_out();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    let (update, bytes) = a.note("k", 1);
    room.send(
        1,
        1,
        vec![Inbound::Update(update, Bytes::from(bytes.clone()))],
    );
    room.effects();
    let again = Update::decode_v1(&bytes).unwrap();
    let effects = room.send(2, 2, vec![Inbound::Update(again, Bytes::from(bytes))]);
    assert!(broadcasts(&effects).is_empty());
    assert!(published(&effects).is_empty());
}

#[test]
fn an_out_of_order_update_waits_for_its_dependency_then_both_go_out() {
    let mut room = Room::new();
    let a = Client::new(1);
    let (first, first_bytes) = a.note("k", 1);
    let (second, second_bytes) = a.note("k", 2);
    drop(first);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    let effects = room.send(
        1,
        1,
        vec![Inbound::Update(second, Bytes::from(second_bytes))],
    );
    assert!(
        broadcasts(&effects).is_empty(),
        "held back until its dependency"
    );
    assert!(
        submissions(room.tick(50)).is_empty(),
        "nothing integrated to store"
    );
    let first = Update::decode_v1(&first_bytes).unwrap();
    let effects = room.send(
        60,
        1,
        vec![Inbound::Update(first, Bytes::from(first_bytes))],
    );
    let deltas: Vec<Vec<u8>> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast { message, .. } => Some(sync_payload(message)),
            _ => None,
        })
        .collect();
    assert_eq!(deltas.len(), 2, "the first, then the held second");
    let merged = yrs::merge_updates_v1(&deltas).unwrap();
    assert_eq!(
        note_in(&merged, "k").as_deref(),
        Some("2"),
        "the deltas carry both edits"
    );
}

#[test]
fn a_view_connection_cannot_edit_but_is_present() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::View);
    room.join(0, 2, Role::Edit);
    let effects = room.send(1, 1, vec![a.edit("k", 1)]);
    assert!(broadcasts(&effects).is_empty());
    assert_eq!(room.metrics.rejected_messages.load(Ordering::Relaxed), 1);
    assert!(submissions(room.tick(100)).is_empty(), "nothing stored");
    let effects = room.send(101, 1, vec![Inbound::Awareness(awareness(1, 1, "{}"))]);
    assert_eq!(
        broadcasts(&effects),
        [("awareness".into(), Some(ConnId(1)))]
    );
}

#[test]
fn a_malformed_awareness_update_closes_its_connection_with_4400() {
    let mut room = Room::new();
    room.join(0, 1, Role::Edit);
    let effects = room.send(
        1,
        1,
        vec![
            Inbound::Awareness(Bytes::from_static(&[5, 1])),
            Inbound::QueryAwareness,
        ],
    );
    assert_eq!(closes(&effects), [(ConnId(1), CloseCode::Malformed)]);
    assert!(
        sent_to(&effects, 1).is_empty(),
        "the rest of the frame is ignored"
    );
    assert_eq!(room.core.connections(), 0);
}

#[test]
fn messages_from_a_connection_the_room_dropped_are_ignored() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.core.leave(room.at(1), ConnId(1));
    room.effects();
    let effects = room.send(2, 1, vec![a.edit("k", 1)]);
    assert!(effects.is_empty());
}

// ---- saved acknowledgements --------------------------------------------------------------------

#[test]
fn the_first_commit_is_acknowledged_at_once_to_the_editor_only() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    room.effects();
    commit(&mut room, 11, 60);
    let effects = room.tick(60);
    let saved = saved_to(&effects, 1);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved_clock(&saved[0], &a), a.clock());
    assert!(
        saved_to(&effects, 2).is_empty(),
        "no edits, nothing to tell"
    );
}

#[test]
fn a_commit_covering_part_of_the_edits_says_what_is_stored_and_the_rest_follows() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    let stored_clock = a.clock();
    let subs = submissions(room.tick(11));
    room.send(20, 1, vec![a.edit("k", 2)]);
    let sub = subs.into_iter().next().unwrap();
    room.core
        .persisted(room.at(60), Ok(()), sub.saved_sv, sub.version);
    let effects = room.tick(60);
    let saved = saved_to(&effects, 1);
    assert_eq!(saved.len(), 1, "told what is stored so far");
    assert_eq!(saved_clock(&saved[0], &a), stored_clock);
    assert!(stored_clock < a.clock());
    // The second edit's submission goes a steady window after the first; its commit is told a
    // window after the first round.
    assert!(
        submissions(effects).is_empty(),
        "not within the steady window"
    );
    let sub = submissions(room.tick(11 + PERSIST_STEADY.as_millis() as u64))
        .into_iter()
        .next()
        .expect("the second edit's submission");
    room.core
        .persisted(room.at(120), Ok(()), sub.saved_sv, sub.version);
    assert!(saved_to(&room.tick(500), 1).is_empty(), "within the window");
    let effects = room.tick(1060);
    let saved = saved_to(&effects, 1);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved_clock(&saved[0], &a), a.clock());
    // Nothing unsaved any more: the next commit (another client's) tells it nothing.
    let b = Client::new(2);
    room.join(1100, 2, Role::Edit);
    room.send(1100, 2, vec![b.edit("x", 1)]);
    commit(&mut room, 1120, 1150);
    let effects = room.tick(2100);
    assert!(saved_to(&effects, 1).is_empty());
    assert_eq!(saved_to(&effects, 2).len(), 1);
}

#[test]
fn a_failed_commit_acknowledges_nothing_and_keeps_joiners_unsaved() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    let sub = submissions(room.tick(11)).into_iter().next().unwrap();
    room.core.persisted(
        room.at(60),
        Err(crate::Error::Internal("disk on fire".into())),
        sub.saved_sv,
        sub.version,
    );
    let effects = room.tick(2000);
    assert!(saved_to(&effects, 1).is_empty());
    let effects = room.join(2001, 2, Role::Edit);
    assert!(!sent_to(&effects, 2).contains(&"saved".to_string()));
}

/// Issue 25 item 7: with an edit every 50 ms (each commit acknowledged 40 ms later), the editor's
/// latest edit is never stored when a round goes out, yet it hears what is stored every second.
#[test]
fn steady_editing_is_acknowledged_at_least_once_a_second() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    let mut told = Vec::new();
    let mut in_flight: Option<(u64, Submission)> = None;
    for ms in (0..5000u64).step_by(5) {
        if ms % 50 == 0 {
            room.send(ms, 1, vec![a.edit("k", ms as i64)]);
        }
        if let Some((at, sub)) = in_flight.take_if(|(at, _)| *at <= ms) {
            let _ = at;
            room.core
                .persisted(room.at(ms), Ok(()), sub.saved_sv, sub.version);
        }
        let effects = room.tick(ms);
        for saved in saved_to(&effects, 1) {
            told.push((ms, saved_clock(&saved, &a)));
        }
        for sub in submissions(effects) {
            assert!(in_flight.is_none());
            in_flight = Some((ms + 40, sub));
        }
        let mut rest = Vec::new();
        room.core.take_effects(&mut rest);
        for saved in saved_to(&rest, 1) {
            told.push((ms, saved_clock(&saved, &a)));
        }
    }
    assert!(told.len() >= 4, "saved messages: {told:?}");
    let mut last = 0;
    for (i, (ms, clock)) in told.iter().enumerate() {
        let gap = if i == 0 { *ms } else { ms - told[i - 1].0 };
        assert!(gap <= 1100, "{gap} ms without a saved: {told:?}");
        assert!(*clock > last, "each round acknowledges more: {told:?}");
        last = *clock;
    }
}

#[test]
fn saved_rounds_go_out_at_most_once_a_second() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    let mut rounds = Vec::new();
    // An edit and its commit every 600 ms: each submission goes alone (see `PERSIST_STEADY`).
    for i in 0..6u64 {
        let ms = i * 600;
        room.send(ms, 1, vec![a.edit("k", i as i64)]);
        let effects = commit(&mut room, ms + 11, ms + 50);
        assert!(saved_to(&effects, 1).is_empty(), "told on the room's tick");
        for t in (ms + 50..ms + 600).step_by(10) {
            if !saved_to(&room.tick(t), 1).is_empty() {
                rounds.push(t);
            }
        }
    }
    assert_eq!(rounds[0], 50, "the first at once");
    for pair in rounds.windows(2) {
        assert!(pair[1] - pair[0] >= 1000, "rounds {rounds:?}");
    }
    assert!(rounds.len() >= 2, "rounds {rounds:?}");
}

/// `room/acks.rs`: a commit's answer wakes the room only when it would be told at once; inside
/// the `saved` window it waits for the room's next turn, and the room's timer takes it at the
/// window's end at the latest.
#[test]
fn commit_answers_wait_for_the_saved_window_only_while_it_runs() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    let sub = submissions(room.tick(1))
        .pop()
        .expect("a lone edit is submitted at once");
    assert!(
        room.core.acks_urgent(room.at(1)),
        "no round for a second: the answer is told at once"
    );
    room.core
        .persisted(room.at(40), Ok(()), sub.saved_sv, sub.version);
    assert_eq!(saved_to(&room.tick(40), 1).len(), 1, "the round at once");
    room.send(100, 1, vec![a.edit("k", 2)]);
    let sub = submissions(room.tick(100)).pop().expect("submitted");
    assert!(
        !room.core.acks_urgent(room.at(100)),
        "within the window the answer may wait"
    );
    let window_end = room.at(1040);
    assert_eq!(
        room.core.next_wake(),
        window_end,
        "the room wakes at the window's end to take it"
    );
    // Taken then (the actor takes answers at the start of every turn), told in the same turn.
    room.core
        .persisted(room.at(1040), Ok(()), sub.saved_sv, sub.version);
    let saved = saved_to(&room.tick(1040), 1);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved_clock(&saved[0], &a), a.clock());
    assert!(
        !room.core.acks_urgent(room.at(1040)),
        "a round just went: a new window"
    );
    // With nobody connected every answer is urgent: the room waits for its commits to unload.
    room.send(1100, 1, vec![a.edit("k", 3)]);
    let sub = submissions(room.tick(1100)).pop().expect("submitted");
    room.core.leave(room.at(1100), ConnId(1));
    assert!(room.core.acks_urgent(room.at(1100)));
    let idle = Duration::from_secs(30).as_millis() as u64;
    assert!(
        !room.core.may_unload(room.at(1100 + idle)),
        "a commit in flight keeps the room"
    );
    room.core
        .persisted(room.at(1150), Ok(()), sub.saved_sv, sub.version);
    assert!(
        room.core.may_unload(room.at(1100 + idle)),
        "its answer taken, the room may unload"
    );
}

#[test]
fn a_steady_round_is_held_for_the_next_update_and_flushed_after_a_while() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    let held = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| matches!(e, Effect::Hold { .. }))
            .count()
    };
    let flushes = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| matches!(e, Effect::FlushHeld))
            .count()
    };
    // The first round after a quiet second goes at once.
    room.send(0, 1, vec![a.edit("k", 1)]);
    let effects = commit(&mut room, 11, 50);
    assert!(effects.is_empty());
    let effects = room.tick(50);
    assert_eq!(saved_to(&effects, 1).len(), 1);
    assert_eq!(held(&effects), 0, "sent, not held");
    // Editing on: the next round is held back by the window, so it may wait for an update.
    room.send(600, 1, vec![a.edit("k", 2)]);
    commit(&mut room, 611, 650);
    assert!(
        saved_to(&room.tick(1000), 1).is_empty(),
        "within the window"
    );
    let effects = room.tick(1050);
    assert_eq!(held(&effects), 1, "held for the next update");
    let wake = SAVED_HOLD.as_millis() as u64 + 1050;
    assert_eq!(room.core.next_wake(), room.at(wake), "woken to flush it");
    assert_eq!(flushes(&room.tick(wake - 1)), 0);
    assert_eq!(flushes(&room.tick(wake)), 1, "what still waits goes alone");
    assert_eq!(flushes(&room.tick(wake + 1000)), 0, "once");
}

#[test]
fn a_joiner_gets_the_latest_saved_and_a_departed_editor_is_not_told() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    room.send(1, 2, vec![a.edit("j", 1)]);
    let sub = submissions(room.tick(11)).into_iter().next().unwrap();
    room.core.leave(room.at(20), ConnId(2));
    room.core
        .persisted(room.at(60), Ok(()), sub.saved_sv, sub.version);
    let effects = room.tick(60);
    assert_eq!(saved_to(&effects, 1).len(), 1);
    assert!(saved_to(&effects, 2).is_empty(), "it left");
    let effects = room.join(70, 3, Role::View);
    assert_eq!(saved_to(&effects, 3).len(), 1, "the latest, for the joiner");
}

#[test]
fn a_refused_submission_is_kept_first_and_retried() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    let sub = submissions(room.tick(11)).into_iter().next().unwrap();
    let Rows::Update(first) = sub.rows else {
        panic!("an update")
    };
    room.core
        .refused(room.at(11), Refused::Update(first.clone()));
    assert!(room.core.has_pending());
    room.send(12, 1, vec![a.edit("k", 2)]);
    assert!(submissions(room.tick(12 + PERSIST_RETRY.as_millis() as u64 - 2)).is_empty());
    let subs = submissions(room.tick(11 + PERSIST_RETRY.as_millis() as u64));
    let Rows::Update(retried) = &subs[0].rows else {
        panic!("an update")
    };
    // The retry carries the refused update with the newer one.
    assert_eq!(subs.len(), 1);
    let check = Doc::new();
    check
        .transact_mut()
        .apply_update(Update::decode_v1(retried).unwrap())
        .unwrap();
    assert_eq!(check.transact().state_vector().get(&a.0.client_id()), 2);
}

#[test]
fn the_room_snapshots_itself_every_compact_rows_submissions_and_a_refusal_restores_it() {
    let mut cfg = config(false);
    cfg.compact_rows = 3;
    let start = Start {
        doc: Some(Doc::new()),
        loaded_keys: vec![RowKey {
            writer: "w".into(),
            seq: 1,
        }],
        rows_since_snapshot: 1,
        ..Start::default()
    };
    let mut room = Room::with(cfg, start);
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    let mut kinds = Vec::new();
    // An edit every 600 ms: each one is a submission of its own (see `PERSIST_STEADY`).
    for i in 0..4u64 {
        room.send(i * 600, 1, vec![a.edit("k", i as i64)]);
        for sub in submissions(room.tick(i * 600 + 11)) {
            match sub.rows {
                Rows::Update(_) => kinds.push("update"),
                Rows::Snapshot {
                    replaces, restore, ..
                } if kinds.len() == 2 => {
                    kinds.push("snapshot");
                    assert_eq!(replaces.len(), 1, "the loaded row");
                    // Refused: the next attempt is a snapshot again, with the loaded row.
                    room.core.refused(
                        room.at(i * 600 + 11),
                        Refused::Snapshot { replaces, restore },
                    );
                    let again = submissions(room.tick(i * 600 + 40));
                    let Rows::Snapshot { replaces, .. } = &again[0].rows else {
                        panic!("a snapshot again")
                    };
                    assert_eq!(replaces.len(), 1);
                }
                Rows::Snapshot { .. } => kinds.push("snapshot"),
            }
        }
    }
    assert_eq!(kinds, ["update", "update", "snapshot", "update"]);
}

// ---- reconcile ---------------------------------------------------------------------------------

fn peer() -> InstanceId {
    InstanceId("peer000000000000".into())
}

fn sync_of(message: &BusMessage) -> &SyncState {
    match message {
        BusMessage::Sync(state) => state,
        other => panic!("a sync message, not {other:?}"),
    }
}

#[test]
fn a_loaded_room_announces_itself_and_asks_for_answers() {
    let mut room = Room::fanning_out();
    room.core.announce();
    let effects = room.effects();
    let published = published(&effects);
    assert_eq!(published.len(), 1);
    let state = sync_of(published[0]);
    assert!(state.hello && state.request);
}

#[test]
fn a_room_that_does_not_fan_out_publishes_nothing() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.core.announce();
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    room.send(2, 1, vec![Inbound::Awareness(awareness(1, 1, "{}"))]);
    let mut effects = room.effects();
    effects.extend(room.tick(10_000));
    assert!(published(&effects).is_empty());
}

#[test]
fn a_peer_that_lacks_our_edits_gets_the_diff() {
    let mut room = Room::fanning_out();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.send(1, 1, vec![a.edit("k", 1)]);
    room.effects();
    let empty = DocState::of(&Doc::new().transact());
    room.core.bus_message(
        room.at(2),
        &peer(),
        BusMessage::Sync(empty.to_message(true, false)),
    );
    let effects = room.effects();
    let published = published(&effects);
    assert_eq!(published.len(), 1, "the diff, no answer: {published:?}");
    let BusMessage::Update(diff) = published[0] else {
        panic!("a diff")
    };
    let b = Doc::new();
    b.transact_mut()
        .apply_update(Update::decode_v1(diff).unwrap())
        .unwrap();
    assert_eq!(b.transact().state_vector().get(&a.0.client_id()), 1);
}

#[test]
fn a_peer_ahead_of_us_that_asks_gets_our_state_back() {
    let mut room = Room::fanning_out();
    let other = Client::new(5);
    other.note("k", 1);
    let theirs = DocState::of(&other.0.transact());
    room.core.bus_message(
        room.at(1),
        &peer(),
        BusMessage::Sync(theirs.to_message(true, false)),
    );
    let effects = room.effects();
    let published = published(&effects);
    assert_eq!(published.len(), 1);
    let state = sync_of(published[0]);
    assert!(!state.request, "an answer never asks for an answer");
    // Without `request` there is nothing to say.
    room.core.bus_message(
        room.at(2),
        &peer(),
        BusMessage::Sync(theirs.to_message(false, false)),
    );
    assert!(published_now(&mut room).is_empty());
}

fn published_now(room: &mut Room) -> Vec<BusMessage> {
    room.effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Publish(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn a_room_with_connections_reconciles_every_period_and_stops_when_empty() {
    let mut room = Room::fanning_out();
    room.join(0, 1, Role::Edit);
    let first = published(&room.tick(0)).len();
    assert_eq!(first, 1, "the first state right after the join (no jitter)");
    let period = RECONCILE_PERIOD.as_millis() as u64;
    assert!(published(&room.tick(period - 1)).is_empty());
    let effects = room.tick(period);
    let states = published(&effects);
    assert_eq!(states.len(), 1);
    let state = sync_of(states[0]);
    assert!(state.request && !state.hello);
    room.core.leave(room.at(period + 1), ConnId(1));
    room.effects();
    room.tick(2 * period);
    assert!(published(&room.tick(3 * period)).is_empty(), "nobody here");
}

#[test]
fn a_dropped_message_makes_the_room_announce_soon() {
    let mut room = Room::fanning_out();
    room.core.announce();
    room.effects();
    room.core.publish_dropped(room.at(0));
    let soon = ANNOUNCE_SOON.as_millis() as u64;
    assert!(room.core.next_wake() <= room.at(soon));
    assert!(published(&room.tick(soon - 1)).is_empty());
    let effects = room.tick(soon);
    let states = published(&effects);
    assert_eq!(states.len(), 1);
    assert!(sync_of(states[0]).hello, "a full announcement");
}

#[test]
fn a_bus_update_is_applied_broadcast_and_stored_but_not_republished() {
    let mut room = Room::fanning_out();
    room.join(0, 1, Role::Edit);
    room.effects();
    let other = Client::new(5);
    let (_, bytes) = other.note("k", 1);
    room.core
        .bus_message(room.at(1), &peer(), BusMessage::Update(Bytes::from(bytes)));
    let effects = room.effects();
    assert_eq!(broadcasts(&effects), [("update".into(), None)]);
    assert!(published(&effects).is_empty());
    assert_eq!(submissions(room.tick(20)).len(), 1, "stored here too");
}

// ---- validation ---------------------------------------------------------------------------------

#[test]
fn the_first_validation_is_a_baseline_one_window_after_the_load() {
    let mut room = Room::new();
    room.join(0, 1, Role::Edit);
    let window = VALIDATION_INTERVAL.as_millis() as u64;
    assert_eq!(room.validations(), 0);
    assert!(broadcasts(&room.tick(window - 1)).is_empty());
    let effects = room.tick(window);
    assert_eq!(
        broadcasts(&effects),
        [
            ("validation".into(), None),
            ("simulation".into(), None),
            ("section_checks".into(), None)
        ]
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::RecordTransitions(_))),
        "the baseline is not a transition"
    );
    assert_eq!(room.validations(), 1);
}

#[test]
fn the_simulation_follows_the_design_and_greets_joiners() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.tick(50);
    room.send(60, 1, vec![a.reference()]);
    let window = VALIDATION_INTERVAL.as_millis() as u64;
    let effects = room.tick(60 + window);
    let simulation = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Broadcast { message, .. } if kind(message) == "simulation" => {
                Some(tierboard(message))
            }
            _ => None,
        })
    };
    let before = simulation(&effects).expect("the reference design is simulated");
    let app_capacity = |result: &serde_json::Value| {
        result["result"]["nodes"]["app-servers"]["capacity_rps"].as_f64()
    };
    let capacity = app_capacity(&before).expect("the app node has a capacity");
    // Ten times the app instances: ten times the capacity, pushed without a tier changing.
    let nodes = a.0.get_or_insert_map(crate::design::NODES_KEY);
    let more = a.design(|txn| {
        let Some(yrs::Out::YMap(node)) = nodes.get(txn, "app-servers") else {
            panic!("the reference has app-servers")
        };
        let Some(yrs::Out::YMap(params)) = node.get(txn, "params") else {
            panic!("a node has params")
        };
        let instances = params
            .get(txn, "instances")
            .and_then(|v| v.cast::<f64>().ok())
            .unwrap_or(1.0);
        params.insert(txn, "instances", instances * 10.0);
    });
    room.send(60 + 2 * window, 1, vec![more]);
    let effects = room.tick(60 + 3 * window);
    let after = simulation(&effects).expect("a changed design is simulated again");
    assert_eq!(app_capacity(&after), Some(capacity * 10.0));
    assert!(
        sent_to(&room.join(60 + 4 * window, 2, Role::View), 2).contains(&"simulation".to_string()),
        "a joiner is greeted with the latest simulation"
    );
}

#[test]
fn a_burst_of_design_edits_is_validated_once_per_window() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.tick(50);
    assert_eq!(room.validations(), 1);
    // The first edit after a quiet spell is judged at once ...
    room.send(200, 1, vec![a.add_node("n0")]);
    room.tick(200);
    assert_eq!(room.validations(), 2);
    // ... then ten edits in the next window cost one run, at the window's end.
    for i in 1..=10u64 {
        let key = format!("n{i}");
        room.send(200 + i * 4, 1, vec![a.add_node(key)]);
        room.tick(200 + i * 4);
    }
    assert_eq!(room.validations(), 2);
    room.tick(249);
    assert_eq!(room.validations(), 2);
    room.tick(250);
    assert_eq!(room.validations(), 3);
}

#[test]
fn dragging_a_node_or_changing_unread_keys_is_not_validated_but_other_changes_are() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.tick(50);
    let nodes = a.0.get_or_insert_map(crate::design::NODES_KEY);
    room.send(100, 1, vec![a.add_node("n")]);
    room.tick(100);
    let runs = room.validations();
    let node = |t: &yrs::TransactionMut| -> yrs::MapRef {
        match nodes.get(t, "n").unwrap() {
            yrs::Out::YMap(m) => m,
            other => panic!("a map, not {other:?}"),
        }
    };
    room.send(
        500,
        1,
        vec![a.design(|t| {
            let n = node(t);
            n.insert(t, "x", 10.0);
            n.insert(t, "y", 20.0);
        })],
    );
    room.tick(1000);
    assert_eq!(room.validations(), runs, "a move is not judged");
    // A key the design is not read from (a client's own bookkeeping), with a move.
    room.send(
        1020,
        1,
        vec![a.design(|t| {
            let n = node(t);
            n.insert(t, "x", 11.0);
            n.insert(t, "seq", 7);
            n.insert(t, "selectedBy", "ada");
        })],
    );
    room.tick(1050);
    assert_eq!(room.validations(), runs, "nothing validation reads changed");
    // A position that is not a number is a design issue, and a label is read: both judged.
    for (i, (ms, key, value)) in [(1060, "y", "top"), (1200, "label", "web")]
        .into_iter()
        .enumerate()
    {
        room.send(
            ms,
            1,
            vec![a.design(|t| {
                node(t).insert(t, key, value);
            })],
        );
        room.tick(ms);
        assert_eq!(room.validations(), runs + 1 + i as u64, "{key} changed");
    }
}

#[test]
fn reaching_and_losing_tiers_records_transitions_in_order() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.tick(50);
    room.send(100, 1, vec![a.reference()]);
    let mut recorded = Vec::new();
    for effect in room.tick(100) {
        if let Effect::RecordTransitions(events) = effect {
            recorded.extend(events);
        }
    }
    room.send(200, 1, vec![a.clear()]);
    for effect in room.tick(200) {
        if let Effect::RecordTransitions(events) = effect {
            recorded.extend(events);
        }
    }
    let tiers = bank().get(PROBLEM).unwrap().tiers.len();
    let events: Vec<&str> = recorded.iter().map(|t| t.event.as_str()).collect();
    let mut expected = vec!["reached"; tiers];
    expected.extend(vec!["lost"; tiers]);
    assert_eq!(events, expected);
    let order: Vec<&str> = recorded
        .iter()
        .take(tiers)
        .map(|t| t.tier.as_str())
        .collect();
    let problem = bank().get(PROBLEM).unwrap();
    let tier_ids: Vec<&str> = problem.tiers.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(order, tier_ids, "in tier order");
}

#[test]
fn asking_for_the_validation_runs_a_pending_one_first() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.tick(50);
    room.send(60, 1, vec![a.reference()]);
    // Within the window: the run is pending, not done.
    room.send(61, 1, vec![a.clear()]);
    let result = room.core.validation_now(room.at(62)).expect("a result");
    assert_eq!(result.reached, 0);
    room.send(200, 1, vec![a.reference()]);
    let result = room.core.validation_now(room.at(200)).expect("a result");
    assert_eq!(result.reached, bank().get(PROBLEM).unwrap().tiers.len());
}

// ---- awareness ----------------------------------------------------------------------------------

#[test]
fn silent_awareness_expires_after_thirty_seconds_and_its_removal_goes_out() {
    let mut room = Room::fanning_out();
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.send(0, 1, vec![Inbound::Awareness(awareness(11, 1, "{}"))]);
    room.effects();
    assert_eq!(room.core.status().participants, 1);
    let timeout = AWARENESS_TIMEOUT.as_millis() as u64;
    let housekeeping = HOUSEKEEPING.as_millis() as u64;
    let mut at = housekeeping;
    while at < timeout {
        let effects = room.tick(at);
        assert!(
            !broadcasts(&effects).iter().any(|(k, _)| k == "awareness"),
            "not expired at {at} ms"
        );
        at += housekeeping;
    }
    let effects = room.tick(timeout + housekeeping);
    assert!(broadcasts(&effects).contains(&("awareness".into(), None)));
    assert!(
        published(&effects)
            .iter()
            .any(|m| matches!(m, BusMessage::Awareness(_))),
        "our own client's removal is published"
    );
    assert_eq!(room.core.status().participants, 0);
}

#[test]
fn a_departing_connection_takes_its_presence_with_it() {
    let mut room = Room::fanning_out();
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.send(
        1,
        1,
        vec![Inbound::Awareness(awareness(11, 1, "{\"a\":1}"))],
    );
    room.effects();
    room.core.leave(room.at(2), ConnId(1));
    let effects = room.effects();
    assert_eq!(broadcasts(&effects), [("awareness".into(), None)]);
    assert!(matches!(
        published(&effects)[..],
        [BusMessage::Awareness(_)]
    ));
    assert_eq!(room.core.status().participants, 0);
    let effects = room.send(3, 2, vec![Inbound::QueryAwareness]);
    assert!(sent_to(&effects, 2).is_empty(), "nobody left to report");
}

#[test]
fn a_connection_cannot_rewrite_or_remove_anothers_presence() {
    let mut room = Room::new();
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::View);
    room.join(0, 3, Role::View);
    let effects = room.send(
        1,
        1,
        vec![Inbound::Awareness(awareness(11, 1, "{\"name\":\"Ada\"}"))],
    );
    assert_eq!(
        broadcasts(&effects),
        [("awareness".into(), Some(ConnId(1)))]
    );
    // The viewer announces its own id, then tries to overwrite and to remove Ada's.
    room.send(2, 2, vec![Inbound::Awareness(awareness(12, 1, "{}"))]);
    let effects = room.send(
        3,
        2,
        vec![Inbound::Awareness(awareness(
            11,
            2,
            "{\"name\":\"IMPOSTOR\"}",
        ))],
    );
    assert!(
        broadcasts(&effects).is_empty(),
        "an impostor's state is not relayed"
    );
    assert!(published(&effects).is_empty(), "nor published");
    let effects = room.send(4, 2, vec![Inbound::Awareness(awareness(11, 3, "null"))]);
    assert!(broadcasts(&effects).is_empty(), "nor is its removal");
    let effects = room.send(5, 3, vec![Inbound::QueryAwareness]);
    let Some(Effect::Send { message, .. }) =
        effects.iter().find(|e| matches!(e, Effect::Send { .. }))
    else {
        panic!("the query is answered")
    };
    let text = String::from_utf8_lossy(message);
    assert!(text.contains("Ada") && !text.contains("IMPOSTOR"), "{text}");
}

#[test]
fn an_awareness_query_is_answered_with_everyone_present() {
    let mut room = Room::new();
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::View);
    room.send(1, 1, vec![Inbound::Awareness(awareness(11, 1, "{}"))]);
    room.send(1, 2, vec![Inbound::Awareness(awareness(12, 1, "{}"))]);
    let effects = room.send(2, 2, vec![Inbound::QueryAwareness]);
    assert_eq!(sent_to(&effects, 2), ["awareness"]);
    assert_eq!(room.core.status().participants, 2);
}

// ---- connections that fall behind (issue 25, item 11) -----------------------------------------------------------------------------

/// A reader's copy of the document, fed what the actor would queue for it: broadcasts not meant
/// to skip it and sends to it, except while `behind` (the actor skips a behind connection).
struct Reader {
    conn: ConnId,
    doc: Doc,
}

impl Reader {
    fn new(conn: u64) -> Reader {
        Reader {
            conn: ConnId(conn),
            doc: Doc::new(),
        }
    }

    /// Applies every sync message of `effects` meant for this reader; returns how many.
    fn receive(&self, effects: &[Effect]) -> usize {
        let mut applied = 0;
        for effect in effects {
            let message = match effect {
                Effect::Send { to, message } if *to == self.conn => message,
                Effect::Broadcast { message, except } if *except != Some(self.conn) => message,
                _ => continue,
            };
            if matches!(kind(message).as_str(), "update" | "step2") {
                let update = Update::decode_v1(&sync_payload(message)).unwrap();
                self.doc.transact_mut().apply_update(update).unwrap();
                applied += 1;
            }
        }
        applied
    }

    fn notes(&self) -> Vec<(String, String)> {
        let notes = self.doc.get_or_insert_map("notes");
        let txn = self.doc.transact();
        let mut all: Vec<_> = notes
            .iter(&txn)
            .map(|(k, v)| (k.to_string(), v.to_string(&txn)))
            .collect();
        all.sort();
        all
    }
}

fn sends_to(effects: &[Effect], conn: u64) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Send { to, .. } if *to == ConnId(conn)))
        .count()
}

#[test]
fn a_behind_connection_gets_one_catch_up_diff_once_drained_and_converges() {
    let mut room = Room::new();
    let writer = Client::new(1);
    let (slow, other) = (Reader::new(2), Reader::new(3));
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::View);
    room.join(0, 3, Role::View);
    let first = room.send(1, 1, vec![writer.edit("k0", 0)]);
    assert_eq!((slow.receive(&first), other.receive(&first)), (1, 1));
    // The next broadcast does not fit in the slow reader's outbox: the actor reports it.
    let missed = room.send(2, 1, vec![writer.edit("k1", 1)]);
    other.receive(&missed);
    room.core.slow_consumer(room.at(2), ConnId(2));
    room.core.slow_consumer(room.at(2), ConnId(2));
    assert!(room.core.is_behind(ConnId(2)));
    assert!(room.effects().is_empty(), "falling behind closes nothing");
    assert_eq!(room.core.connections(), 3);
    assert_eq!(room.metrics.fell_behind.load(Ordering::Relaxed), 1);
    // A burst: the room goes on for everyone else; nothing is queued for the slow reader.
    for i in 2..200 {
        let effects = room.send(3, 1, vec![writer.edit(&format!("k{i}"), i)]);
        assert_eq!(sends_to(&effects, 2), 0);
        other.receive(&effects);
    }
    assert_eq!(other.notes().len(), 200);
    assert_eq!(slow.notes().len(), 1);
    // The actor is woken to look at the outbox while the reader is behind.
    assert!(room.core.next_wake() <= room.at(2) + Duration::from_millis(20));
    room.tick(30);
    assert!(room.core.next_wake() <= room.at(50));
    // Drained: one update with everything missed, then the reader is current again.
    room.core.outbox_drained(room.at(31), ConnId(2));
    let catch_up = room.effects();
    assert_eq!(slow.receive(&catch_up), 1);
    assert_eq!(
        sent_to(&catch_up, 2)
            .iter()
            .filter(|k| *k == "update")
            .count(),
        1
    );
    assert_eq!(sends_to(&catch_up, 3), 0, "the others get nothing");
    assert!(broadcasts(&catch_up).is_empty());
    assert_eq!(slow.notes(), other.notes());
    assert_eq!(
        slow.doc.transact().state_vector(),
        writer.0.transact().state_vector()
    );
    assert_eq!(room.metrics.catch_ups.load(Ordering::Relaxed), 1);
    assert!(!room.core.is_behind(ConnId(2)));
    // Exactly one: a second drain report finds nothing owed.
    room.core.outbox_drained(room.at(32), ConnId(2));
    assert!(room.effects().is_empty());
    // And it hears the next edit like everyone else.
    let next = room.send(33, 1, vec![writer.edit("after", 1)]);
    assert_eq!((slow.receive(&next), other.receive(&next)), (1, 1));
    assert_eq!(slow.notes(), other.notes());
    // With nobody behind, no more polling (past the edit's submission, due within the steady window).
    room.tick(100);
    assert!(room.core.next_wake() > room.at(100 + 20));
}

#[test]
fn a_step2_that_did_not_fit_is_folded_into_the_catch_up() {
    let mut room = Room::new();
    let writer = Client::new(1);
    room.join(0, 1, Role::Edit);
    for i in 0..20 {
        room.send(1, 1, vec![writer.edit(&format!("k{i}"), i)]);
    }
    // A joiner's step 1 is answered with the whole document, which does not fit.
    let joiner = Reader::new(2);
    room.join(2, 2, Role::View);
    let answer = room.send(3, 2, vec![Inbound::SyncStep1(StateVector::default())]);
    assert_eq!(sent_to(&answer, 2), ["step2"]);
    room.core.slow_consumer(room.at(3), ConnId(2));
    room.effects();
    // Behind, its next step 1 is not answered but folded in.
    let again = room.send(4, 2, vec![Inbound::SyncStep1(StateVector::default())]);
    assert_eq!(sends_to(&again, 2), 0);
    room.send(5, 1, vec![writer.edit("late", 1)]);
    room.core.outbox_drained(room.at(6), ConnId(2));
    let catch_up = room.effects();
    assert_eq!(joiner.receive(&catch_up), 1);
    assert_eq!(
        joiner.notes().len(),
        21,
        "the whole document, not a diff from ours"
    );
}

#[test]
fn a_connection_that_leaves_while_behind_is_owed_nothing() {
    let mut room = Room::new();
    let writer = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::View);
    room.send(1, 1, vec![Inbound::Awareness(awareness(11, 1, "{}"))]);
    room.core.slow_consumer(room.at(1), ConnId(2));
    room.effects();
    room.send(2, 1, vec![writer.edit("k", 1)]);
    room.core.leave(room.at(3), ConnId(2));
    room.effects();
    room.core.outbox_drained(room.at(4), ConnId(2));
    assert!(room.effects().is_empty());
    assert_eq!(room.core.connections(), 1);
    room.tick(30);
    room.tick(60);
    assert!(
        room.core.next_wake() > room.at(60 + 20),
        "no polling for the departed"
    );
}

// ---- unloading ------------------------------------------------------------------------------------

#[test]
fn a_room_unloads_only_when_idle_empty_and_everything_is_stored() {
    let mut cfg = config(false);
    cfg.idle = Duration::from_secs(2);
    let mut room = Room::with(cfg, loaded(Doc::new()));
    let a = Client::new(1);
    // Nobody ever came: idle since the load.
    assert!(!unloads(&room.tick(1999)));
    assert!(unloads(&room.tick(2000)));
    // Someone connected: never.
    room.join(2100, 1, Role::Edit);
    assert!(!unloads(&room.tick(10_000)));
    // An edit not yet submitted, then in flight: not while unsaved.
    room.send(10_001, 1, vec![a.edit("k", 1)]);
    room.core.leave(room.at(10_002), ConnId(1));
    room.effects();
    assert!(room.core.has_pending());
    assert!(room.core.next_wake() <= room.at(10_011));
    let effects = room.tick(13_000);
    let subs = submissions(effects);
    assert_eq!(subs.len(), 1);
    assert!(!unloads(&room.tick(13_001)), "in flight");
    assert!(
        room.core.next_wake() > room.at(13_001),
        "no wake-up loop while a commit is awaited"
    );
    let sub = subs.into_iter().next().unwrap();
    room.core
        .persisted(room.at(13_050), Ok(()), sub.saved_sv, sub.version);
    room.effects();
    // Stored, nobody here, idle since the leave: now.
    assert!(room.core.next_wake() <= room.at(13_050));
    assert!(unloads(&room.tick(13_051)));
}

#[test]
fn the_idle_time_counts_from_the_last_departure() {
    let mut cfg = config(false);
    cfg.idle = Duration::from_secs(5);
    let mut room = Room::with(cfg, loaded(Doc::new()));
    room.join(0, 1, Role::Edit);
    room.core.leave(room.at(4000), ConnId(1));
    room.effects();
    assert!(!unloads(&room.tick(8999)));
    assert!(unloads(&room.tick(9000)));
}

// ---- the core stays sans-IO -----------------------------------------------------------------------

#[test]
fn the_core_files_import_no_networking_database_bus_or_tasks() {
    let files = [
        ("core/mod.rs", include_str!("core/mod.rs")),
        ("core/persist.rs", include_str!("core/persist.rs")),
        ("core/peers.rs", include_str!("core/peers.rs")),
        ("core/saved.rs", include_str!("core/saved.rs")),
        ("core/validate.rs", include_str!("core/validate.rs")),
        ("core/catchup.rs", include_str!("core/catchup.rs")),
        ("effect.rs", include_str!("effect.rs")),
    ];
    for (name, source) in files {
        for forbidden in [
            "crate::store",
            "crate::bus",
            "sqlx",
            "redis",
            "tokio::net",
            "tokio::sync",
            "tokio::task",
            "tokio::spawn",
        ] {
            assert!(
                !source.contains(forbidden),
                "room/{name} mentions {forbidden}"
            );
        }
    }
}

// ---- the guard and the room's limits (issue 25, items 4 and 8) ------------------------------------

/// 11 bytes: an item of client 1 held as pending (its origin, client 9, is missing) whose
/// `ContentJSON` yrs cannot read back. Plain yrs applies it, then panics at every encode of the state
/// (the next joiner's step 2): see `sync::guard`.
const POISON: &[u8] = &[1, 1, 1, 0, 0x82, 9, 0, 0, 1, b'1', 0];

fn poison() -> Inbound {
    Inbound::Update(
        Update::decode_v1(POISON).unwrap(),
        Bytes::from_static(POISON),
    )
}

fn limited(limits: RoomLimits) -> Room {
    let mut cfg = config(false);
    cfg.limits = limits;
    Room::with(cfg, loaded(Doc::new()))
}

#[test]
fn a_poisoned_update_closes_its_sender_with_4400_and_the_room_serves_the_others() {
    let mut room = Room::new();
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.send(1, 2, vec![a.edit("k", 1)]);
    let effects = room.send(2, 1, vec![poison()]);
    assert_eq!(closes(&effects), [(ConnId(1), CloseCode::Malformed)]);
    assert!(broadcasts(&effects).is_empty(), "nothing of it goes out");
    assert_eq!(
        room.metrics.rejected_messages.load(Ordering::Relaxed),
        1,
        "counted"
    );
    // A joiner is greeted with step 1 and its step 1 answered with the whole (unpoisoned) state.
    assert_eq!(sent_to(&room.join(3, 3, Role::Edit), 3)[0], "step1");
    let effects = room.send(4, 3, vec![Inbound::SyncStep1(StateVector::default())]);
    let step2 = effects
        .iter()
        .find_map(|e| match e {
            Effect::Send { to, message } if *to == ConnId(3) && kind(message) == "step2" => {
                Some(sync_payload(message))
            }
            _ => None,
        })
        .expect("the joiner's step 1 is answered");
    assert_eq!(note_in(&step2, "k").as_deref(), Some("1"));
    // And edits still flow.
    let effects = room.send(5, 2, vec![a.edit("k", 2)]);
    assert_eq!(broadcasts(&effects), [("update".into(), Some(ConnId(2)))]);
}

#[test]
fn a_clients_edits_out_of_order_are_held_and_applied_when_the_gap_closes() {
    let mut room = Room::fanning_out();
    let a = Client::new(1);
    let edits: Vec<(Update, Vec<u8>)> = (0..3).map(|i| a.note(&format!("k{i}"), i)).collect();
    let [(_, e0), (_, e1), (_, e2)] = &edits[..] else {
        unreachable!()
    };
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    room.effects();
    let decode =
        |b: &Vec<u8>| Inbound::Update(Update::decode_v1(b).unwrap(), Bytes::from(b.clone()));
    // The third and second edit first: both wait (yrs 0.28 cannot be trusted with the hole).
    let effects = room.send(1, 1, vec![decode(e2), decode(e1)]);
    assert!(closes(&effects).is_empty(), "not refused: {effects:?}");
    assert!(broadcasts(&effects).is_empty());
    assert_eq!(room.core.held_updates().0, 2);
    // The first closes the hole: all three go out, in order, and are published.
    let effects = room.send(2, 1, vec![decode(e0)]);
    assert_eq!(broadcasts(&effects).len(), 3);
    assert_eq!(published(&effects).len(), 3);
    assert_eq!(room.core.held_updates(), (0, 0));
    let stored = submissions(room.tick(20));
    let Rows::Update(stored) = &stored[0].rows else {
        panic!("one merged update")
    };
    for i in 0..3 {
        assert_eq!(note_in(stored, &format!("k{i}")), Some(i.to_string()));
    }
}

#[test]
fn updates_waiting_for_missing_parts_are_bounded_with_4415() {
    let mut room = limited(RoomLimits {
        max_pending_updates: 3,
        ..RoomLimits::default()
    });
    let a = Client::new(1);
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    // Four edits of client 1 without its first: three are held, the fourth is one too many.
    a.note("first", 0);
    let later: Vec<Inbound> = (1..=4).map(|i| a.edit("k", i)).collect();
    let effects = room.send(1, 1, later);
    assert_eq!(closes(&effects), [(ConnId(1), CloseCode::TooManyPending)]);
    assert_eq!(room.core.held_updates().0, 3);
    // Another client's edits are unaffected.
    let b = Client::new(2);
    let effects = room.send(2, 2, vec![b.edit("b", 1)]);
    assert_eq!(broadcasts(&effects).len(), 1);
}

#[test]
fn pending_parts_beyond_the_byte_bound_are_dropped_and_the_sender_closed() {
    let mut room = limited(RoomLimits {
        max_pending_bytes: 4096,
        ..RoomLimits::default()
    });
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    // Client 2 builds on client 1's item, which the room never gets: yrs holds client 2's edits as
    // pending. Each carries 1 KB.
    let a = Client::new(1);
    a.note("base", 0);
    let b = Client::new(2);
    b.0.transact_mut()
        .apply_update(
            Update::decode_v1(
                &a.0.transact()
                    .encode_state_as_update_v1(&StateVector::default()),
            )
            .unwrap(),
        )
        .unwrap();
    let text = "x".repeat(1024);
    let mut closed = Vec::new();
    let notes = b.0.get_or_insert_map("notes");
    for i in 0..8 {
        let edit = b.design(|txn| {
            notes.insert(txn, "base", text.clone());
        });
        let effects = room.send(1 + i, 1, vec![edit]);
        closed.extend(closes(&effects));
        if !closed.is_empty() {
            break;
        }
    }
    assert_eq!(closed, [(ConnId(1), CloseCode::TooManyPending)]);
    // The room still serves joiners and edits.
    room.join(20, 3, Role::Edit);
    let effects = room.send(21, 3, vec![Inbound::SyncStep1(StateVector::default())]);
    assert_eq!(sent_to(&effects, 3), ["step2"]);
    let effects = room.send(22, 2, vec![Client::new(3).edit("c", 1)]);
    assert_eq!(broadcasts(&effects).len(), 1);
}

#[test]
fn an_update_beyond_the_document_quota_is_refused_with_4414() {
    let mut room = limited(RoomLimits {
        max_document_bytes: 16 * 1024,
        ..RoomLimits::default()
    });
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    let a = Client::new(1);
    let b = Client::new(2);
    let chunk = "y".repeat(3000);
    let mut accepted = 0;
    let mut closed = Vec::new();
    let notes = a.0.get_or_insert_map("notes");
    for i in 0..10 {
        let edit = a.design(|txn| {
            notes.insert(txn, format!("k{i}"), chunk.clone());
        });
        let effects = room.send(1 + i, 1, vec![edit]);
        closed = closes(&effects);
        if !closed.is_empty() {
            assert!(
                broadcasts(&effects).is_empty(),
                "the refused update goes nowhere"
            );
            break;
        }
        accepted += 1;
    }
    assert_eq!(closed, [(ConnId(1), CloseCode::DocumentQuota)]);
    assert_eq!(
        accepted, 5,
        "five edits of 3 KB fit 16 KiB, the sixth does not"
    );
    // Nothing stored is lost, and a small edit of another client still fits.
    let effects = room.send(30, 2, vec![b.edit("small", 1)]);
    assert_eq!(broadcasts(&effects).len(), 1);
    let stored = submissions(room.tick(50));
    let Rows::Update(stored) = &stored[0].rows else {
        panic!("one merged update")
    };
    assert!(note_in(stored, "k4").is_some() && note_in(stored, "k5").is_none());
}

/// fuzz/findings/snapshot-invalid-parent: a frame whose updates the guard accepts, leaving the room
/// with a full state that yrs cannot apply to an empty document. The room keeps serving, but must not
/// submit that state as a snapshot replacing rows that do load.
#[test]
fn a_snapshot_that_would_not_load_is_not_submitted_and_the_rows_stay() {
    let finding = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/findings/snapshot-invalid-parent"),
    )
    .unwrap();
    let mut cfg = config(false);
    cfg.compact_rows = 1;
    let start = Start {
        doc: Some(Doc::new()),
        loaded_keys: vec![RowKey {
            writer: "w".into(),
            seq: 1,
        }],
        rows_since_snapshot: 1,
        ..Start::default()
    };
    let mut room = Room::with(cfg, start);
    room.join(0, 1, Role::Edit);
    let mut updates = Vec::new();
    for message in crate::sync::parse_frame(&Bytes::from(finding)).unwrap() {
        if let crate::sync::ClientMessage::SyncStep2(u) | crate::sync::ClientMessage::Update(u) =
            message
        {
            // As the fuzz target decodes (the reader also refuses trailing bytes, which this
            // finding has; the room must not depend on that).
            crate::sync::guard::precheck(&u).unwrap();
            updates.push(Inbound::Update(Update::decode_v1(&u).unwrap(), u));
        }
    }
    let effects = room.send(1, 1, updates);
    assert!(closes(&effects).is_empty(), "accepted: {effects:?}");
    // The room's full state does not load (the finding still holds)...
    let effects = room.send(2, 1, vec![Inbound::SyncStep1(StateVector::default())]);
    let full = effects
        .iter()
        .find_map(|e| match e {
            Effect::Send { message, .. } if kind(message) == "step2" => Some(sync_payload(message)),
            _ => None,
        })
        .unwrap();
    assert!(crate::sync::guard::snapshot_loads(&full).is_err());
    // ...so what is pending goes as a plain row, and the loaded row is not replaced.
    let subs = submissions(room.tick(20));
    assert_eq!(subs.len(), 1);
    assert!(
        matches!(subs[0].rows, Rows::Update(_)),
        "a plain update, not a snapshot"
    );
    assert_eq!(
        room.metrics.errors.load(Ordering::Relaxed),
        1,
        "logged and counted"
    );
}
#[test]
fn a_revoked_token_closes_its_connections_here_and_on_peers_and_refuses_late_joins() {
    use crate::ids::Token;
    let mut room = Room::fanning_out();
    let (old, kept) = (Token::random().hash(), Token::random().hash());
    room.core
        .join_holding(room.at(0), ConnId(1), Role::Edit, Some(old.clone()));
    room.core
        .join_holding(room.at(0), ConnId(2), Role::View, Some(kept.clone()));
    room.effects();
    let effects = {
        room.core.revoke(room.at(10), vec![old.clone()], true);
        room.effects()
    };
    let closed: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { conn, code } => Some((conn.0, *code)),
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        vec![(1, CloseCode::Unauthorized)],
        "only the holder"
    );
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::Publish(BusMessage::Revoke(t)) if t == &vec![old.clone()])
        ),
        "told to the other instances"
    );
    // Sent again when the bus comes back (a revocation lost while Redis was down).
    room.core.bus_reconnected();
    assert!(
        room.effects().iter().any(
            |e| matches!(e, Effect::Publish(BusMessage::Revoke(t)) if t == &vec![old.clone()])
        )
    );
    // A connection authorised just before the revocation, joining after it.
    room.core
        .join_holding(room.at(20), ConnId(3), Role::Edit, Some(old.clone()));
    let effects = room.effects();
    assert!(matches!(
        effects.as_slice(),
        [Effect::Close {
            conn: ConnId(3),
            code: CloseCode::Unauthorized
        }]
    ));

    // From a peer: closed here, not published again.
    let mut other = Room::fanning_out();
    other
        .core
        .join_holding(other.at(0), ConnId(7), Role::Edit, Some(old.clone()));
    other.effects();
    other
        .core
        .bus_message(other.at(5), &peer(), BusMessage::Revoke(vec![old]));
    let effects = other.effects();
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Close {
            conn: ConnId(7),
            code: CloseCode::Unauthorized
        }
    )));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Publish(BusMessage::Revoke(_))))
    );
}

#[test]
fn host_actions_reach_each_audience_lock_refuses_edits_and_peers_keep_the_newest_state() {
    use crate::room::core::interview::{Action, Interview};
    let mut room = Room::fanning_out();
    room.join(0, 1, Role::Host);
    room.join(0, 2, Role::Edit);
    let candidate = Client::new(2);
    room.core
        .host_action(room.at(10), &Action::Lock)
        .expect("lock");
    let effects = room.effects();
    assert_eq!(sent_to(&effects, 1), ["host"]);
    assert_eq!(sent_to(&effects, 2), ["interview"]);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SaveInterview { version: 1, .. }))
    );
    let published = effects
        .iter()
        .find_map(|e| match e {
            Effect::Publish(BusMessage::Interview(state)) => Some(state.clone()),
            _ => None,
        })
        .expect("published");

    // Locked: the candidate's edit is refused and told, once a second.
    let effects = room.send(20, 2, vec![candidate.edit("k", 1)]);
    assert_eq!(sent_to(&effects, 2), ["error"]);
    assert!(broadcasts(&effects).is_empty(), "nothing applied");
    let effects = room.send(30, 2, vec![candidate.edit("k", 2)]);
    assert!(sent_to(&effects, 2).is_empty(), "told once a second");
    let effects = room.send(1100, 2, vec![candidate.edit("k", 3)]);
    assert_eq!(sent_to(&effects, 2), ["error"]);

    // A non-host's host action over the WebSocket: an error, nothing closed.
    let effects = room.send(
        1200,
        2,
        vec![Inbound::Tierboard(Bytes::from_static(
            br#"{"type":"host_action","action":"unlock"}"#,
        ))],
    );
    assert_eq!(sent_to(&effects, 2), ["error"]);
    assert!(!effects.iter().any(|e| matches!(e, Effect::Close { .. })));

    // A peer applies the newer copy and ignores an older one.
    let mut other = Room::fanning_out();
    other.join(0, 5, Role::Edit);
    let effects = {
        other.core.bus_message(
            other.at(1),
            &peer(),
            BusMessage::Interview(published.clone()),
        );
        other.effects()
    };
    assert_eq!(sent_to(&effects, 5), ["interview"]);
    assert_eq!(other.core.interview_state()["locked"], true);
    let stale = Interview::new(crate::ids::Mode::Interview).to_stored();
    other.core.bus_message(
        other.at(2),
        &peer(),
        BusMessage::Interview(Bytes::from(stale)),
    );
    assert!(sent_to(&other.effects(), 5).is_empty());
    assert_eq!(other.core.interview_state()["locked"], true);
}

#[test]
fn an_interview_state_lost_on_the_bus_is_sent_again_when_the_bus_comes_back() {
    use crate::room::core::interview::Action;
    let mut room = Room::fanning_out();
    room.core.announce();
    assert!(
        !room
            .effects()
            .iter()
            .any(|e| matches!(e, Effect::Publish(BusMessage::Interview(_)))),
        "nothing to tell before the host acted"
    );
    room.core.host_action(room.at(1), &Action::Lock).unwrap();
    room.effects();
    room.core.bus_reconnected();
    let effects = room.effects();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Publish(BusMessage::Interview(_)))),
        "the state goes out again"
    );
}

#[test]
fn a_flood_of_host_actions_is_refused_past_the_per_second_budget() {
    use crate::room::core::interview::{Action, ActionError, MAX_ACTIONS_PER_SECOND};
    let mut room = Room::new();
    for _ in 0..MAX_ACTIONS_PER_SECOND {
        room.core.host_action(room.at(100), &Action::Lock).unwrap();
    }
    assert_eq!(
        room.core.host_action(room.at(900), &Action::Unlock),
        Err(ActionError::TooFast)
    );
    assert_eq!(
        room.core.interview_state()["locked"],
        true,
        "refused: not applied"
    );
    room.core
        .host_action(room.at(1100), &Action::Unlock)
        .unwrap();
    assert_eq!(room.core.interview_state()["locked"], false);
}

#[test]
fn a_curveball_rejudges_the_tiers_and_clearing_it_gives_them_back() {
    use crate::room::core::interview::Action;
    use crate::simulation::{Load, Scenario};
    let mut room = Room::with(
        CoreConfig {
            mode: crate::ids::Mode::Interview,
            ..config(false)
        },
        loaded(Doc::new()),
    );
    let a = Client::new(2);
    room.join(0, 1, Role::Host);
    room.join(0, 2, Role::Edit);
    room.tick(50);
    room.send(100, 2, vec![a.reference()]);
    room.tick(100);
    let problem = bank().get(PROBLEM).unwrap();
    let tiers = problem.tiers.len();
    // The last tier is the one with the capacity rule: held at the peak of 1,000 rps.
    let capacity_tier = problem
        .tiers
        .iter()
        .position(|t| {
            t.rules
                .iter()
                .any(|r| matches!(r, crate::problems::Rule::Capacity { .. }))
        })
        .expect("the tutorial has a capacity tier");
    assert_eq!(capacity_tier, tiers - 1);
    let tier_id = problem.tiers[capacity_tier].id.clone();
    let reached = |room: &mut Room| room.core.validation_now(room.at(0)).unwrap().reached;
    assert_eq!(
        reached(&mut room),
        tiers,
        "the reference holds every tier at peak"
    );

    // What the host's action pushes: the validation, its transitions, the simulation.
    let judged = |effects: &[Effect]| {
        let mut validation = None;
        let mut simulation = None;
        let mut events = Vec::new();
        for effect in effects {
            match effect {
                Effect::Broadcast { message, .. } if kind(message) == "validation" => {
                    validation = Some(tierboard(message)["result"].clone())
                }
                Effect::Broadcast { message, .. } if kind(message) == "simulation" => {
                    simulation = Some(tierboard(message)["result"].clone())
                }
                Effect::RecordTransitions(list) => events.extend(
                    list.iter()
                        .map(|t| format!("{} {}", t.event, t.tier))
                        .collect::<Vec<_>>(),
                ),
                _ => {}
            }
        }
        (validation, simulation, events)
    };
    let check = |sim: &serde_json::Value, id: &str| -> String {
        let checks = sim["checks"].as_array().unwrap();
        let c = checks.iter().find(|c| c["id"] == id).unwrap();
        c["status"].as_str().unwrap().to_string()
    };

    // A 100× spike: 100,000 rps. The capacity tier is lost, recorded, and pushed to everyone, and the
    // simulation's capacity check is judged under the spike too.
    let spike = Scenario {
        load: Load::Times(100.0),
        ..Scenario::default()
    };
    room.core
        .host_action(room.at(200), &Action::Curveball { scenario: spike })
        .unwrap();
    let effects = room.effects();
    let (validation, simulation, events) = judged(&effects);
    let validation = validation.expect("the curveball re-judges the tiers at once");
    assert_eq!(validation["reached"], capacity_tier);
    assert_eq!(events, [format!("lost {tier_id}")]);
    let rules = &validation["tiers"][capacity_tier]["rules"];
    let capacity = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "capacity")
        .unwrap();
    assert_eq!(capacity["passed"], false);
    let explanation = capacity["explanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("at 100× peak (100,000 rps)"),
        "{explanation}"
    );
    let simulation = simulation.expect("and the simulation");
    assert_eq!(simulation["scenario"]["multiplier"], 100.0);
    assert_eq!(check(&simulation, "sustains_peak"), "fail");
    assert!(
        broadcasts(&effects).contains(&("validation".to_string(), None)),
        "everyone hears it, the candidate too"
    );

    // Cleared: the tier is reached again, and the check passes at the plain peak.
    room.core
        .host_action(room.at(300), &Action::ClearCurveball)
        .unwrap();
    let (validation, simulation, events) = judged(&room.effects());
    assert_eq!(validation.expect("re-judged")["reached"], tiers);
    assert_eq!(events, [format!("reached {tier_id}")]);
    let simulation = simulation.expect("simulated at peak again");
    assert_eq!(check(&simulation, "sustains_peak"), "pass");

    // A curveball the design holds (half the peak) loses nothing: no transition.
    let calm = Scenario {
        load: Load::Times(0.5),
        ..Scenario::default()
    };
    room.core
        .host_action(room.at(400), &Action::Curveball { scenario: calm })
        .unwrap();
    let (_, _, events) = judged(&room.effects());
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reached(&mut room), tiers);
}

#[test]
fn rooms_with_equal_results_hold_one_copy_and_send_the_same_bytes() {
    let results = Arc::new(SharedResults::default());
    let sharing = || CoreConfig {
        results: results.clone(),
        ..config(false)
    };
    let mut a = Room::with(sharing(), loaded(Doc::new()));
    let mut b = Room::with(sharing(), loaded(Doc::new()));
    for room in [&mut a, &mut b] {
        room.join(0, 1, Role::Edit);
        room.tick(100);
    }
    assert_eq!(
        results.counts(),
        [1, 1, 1],
        "two rooms with the same problem and design: one validation, simulation and section result"
    );
    let validation_sent_to_joiner = |room: &mut Room| {
        room.join(200, 3, Role::Edit)
            .into_iter()
            .find_map(|e| match e {
                Effect::Send { message, .. } if kind(&message) == "validation" => Some(message),
                _ => None,
            })
            .expect("a joiner is greeted with the validation result")
    };
    let (from_a, from_b) = (
        validation_sent_to_joiner(&mut a),
        validation_sent_to_joiner(&mut b),
    );
    assert_eq!(from_a, from_b);
    assert_eq!(from_a.as_ptr(), from_b.as_ptr(), "one copy of the message");
    // One room's design changes: its new result is its own, the other room keeps the shared one.
    a.send(300, 1, vec![Client::new(2).reference()]);
    a.tick(400);
    assert_eq!(results.counts()[0], 2, "a different result is a new entry");
    let after = validation_sent_to_joiner(&mut b);
    assert_eq!(after.as_ptr(), from_b.as_ptr());
}

/// One awareness entry: client id, clock, state JSON.
type Entry = (u64, u64, String);

/// The entries of a broadcast awareness message.
fn awareness_entries(message: &[u8]) -> Vec<Entry> {
    let mut reader = protocol::Reader::new(message);
    assert_eq!(reader.read_var().unwrap(), protocol::MSG_AWARENESS);
    let update = reader.read_buf().unwrap();
    let mut reader = protocol::Reader::new(update);
    (0..reader.read_var().unwrap())
        .map(|_| {
            let client = reader.read_var().unwrap();
            let clock = reader.read_var().unwrap();
            let state = String::from_utf8(reader.read_buf().unwrap().to_vec()).unwrap();
            (client, clock, state)
        })
        .collect()
}

fn awareness_broadcasts(effects: &[Effect]) -> Vec<(Vec<Entry>, Option<ConnId>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast { message, except } if kind(message) == "awareness" => {
                Some((awareness_entries(message), *except))
            }
            _ => None,
        })
        .collect()
}

/// A room with a 20 ms presence window and `conns` editors joined.
fn presence_room(fans_out: bool, conns: u64) -> Room {
    let mut cfg = config(fans_out);
    cfg.presence_window = Duration::from_millis(20);
    let mut room = Room::with(cfg, loaded(Doc::new()));
    for conn in 1..=conns {
        room.join(0, conn, Role::Edit);
    }
    room
}

#[test]
fn a_big_rooms_cursor_moves_in_one_window_go_out_merged_with_the_latest_states() {
    let mut room = presence_room(true, 6);
    // The first move after a quiet window goes at once, to everyone but its sender.
    let effects = room.send(
        1,
        1,
        vec![Inbound::Awareness(awareness(11, 1, "{\"x\":1}"))],
    );
    assert_eq!(
        awareness_broadcasts(&effects),
        [(vec![(11, 1, "{\"x\":1}".to_string())], Some(ConnId(1)))]
    );
    // Within the window: nothing goes out, but every move is published to the other instances
    // and in the table at once (a joiner would see it).
    for (ms, conn, client, clock, x) in [(5, 2, 12, 1, 2), (8, 1, 11, 2, 3), (9, 1, 11, 3, 4)] {
        let state = format!("{{\"x\":{x}}}");
        let effects = room.send(
            ms,
            conn,
            vec![Inbound::Awareness(awareness(client, clock, &state))],
        );
        assert!(awareness_broadcasts(&effects).is_empty(), "held at {ms} ms");
        assert_eq!(published(&effects).len(), 1);
    }
    assert!(
        room.core.next_wake() <= room.at(21),
        "the room wakes for the window's end"
    );
    assert!(awareness_broadcasts(&room.tick(20)).is_empty());
    // At the window's end: one update with each client's latest state, to everyone (two senders).
    let effects = room.tick(21);
    assert_eq!(
        awareness_broadcasts(&effects),
        [(
            vec![
                (12, 1, "{\"x\":2}".to_string()),
                (11, 3, "{\"x\":4}".to_string())
            ],
            None
        )]
    );
    assert!(awareness_broadcasts(&room.tick(60)).is_empty(), "sent once");
    // A move after a quiet window goes at once again.
    let effects = room.send(
        80,
        2,
        vec![Inbound::Awareness(awareness(12, 2, "{\"x\":5}"))],
    );
    assert_eq!(
        awareness_broadcasts(&effects),
        [(vec![(12, 2, "{\"x\":5}".to_string())], Some(ConnId(2)))]
    );
}

#[test]
fn an_interviews_cursor_moves_are_relayed_as_they_come() {
    let mut room = presence_room(false, 3);
    for (ms, clock) in [(1, 1), (2, 2), (3, 3)] {
        let effects = room.send(
            ms,
            1,
            vec![Inbound::Awareness(awareness(11, clock, "{\"x\":1}"))],
        );
        assert_eq!(awareness_broadcasts(&effects).len(), 1, "at {ms} ms");
    }
}

#[test]
fn a_departure_inside_the_window_sends_what_waited_first() {
    let mut room = presence_room(false, 6);
    room.send(
        1,
        1,
        vec![Inbound::Awareness(awareness(11, 1, "{\"x\":1}"))],
    );
    room.send(
        2,
        2,
        vec![Inbound::Awareness(awareness(12, 1, "{\"x\":1}"))],
    );
    // The stock client clears its state (same clock, null) as it closes: that waits for the window.
    room.send(3, 1, vec![Inbound::Awareness(awareness(11, 1, "null"))]);
    room.core.leave(room.at(4), ConnId(1));
    // What waited goes out before the connection's entries leave the table, or the removal would
    // be lost with them (the table drops a removed state without a word).
    assert_eq!(
        awareness_broadcasts(&room.effects()),
        [(
            vec![
                (12, 1, "{\"x\":1}".to_string()),
                (11, 1, "null".to_string())
            ],
            None
        )]
    );
    assert!(awareness_broadcasts(&room.tick(21)).is_empty());
}

#[test]
fn a_cursor_move_that_came_alone_is_relayed_as_the_message_it_came_in() {
    let mut room = Room::new();
    room.join(0, 1, Role::Edit);
    room.join(0, 2, Role::Edit);
    let update = awareness(11, 2, r#"{"cursor":{"x":1}}"#);
    let message = protocol::encode_awareness(&update);
    let payload = message.slice(message.len() - update.len()..);
    let effects = room.send(
        5,
        1,
        vec![Inbound::AwarenessMessage {
            update: payload,
            message: message.clone(),
        }],
    );
    let relayed: Vec<&Bytes> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast { message, except } if kind(message) == "awareness" => {
                assert_eq!(*except, Some(ConnId(1)), "to everyone but the sender");
                Some(message)
            }
            _ => None,
        })
        .collect();
    assert_eq!(relayed.len(), 1);
    assert_eq!(
        relayed[0].as_ptr(),
        message.as_ptr(),
        "the message itself, not a copy"
    );
    assert_eq!(relayed[0], &message);
    // An echo of the same state changes nothing, so nothing is relayed.
    let again = room.send(
        6,
        1,
        vec![Inbound::AwarenessMessage {
            update: message.slice(message.len() - update.len()..),
            message: message.clone(),
        }],
    );
    assert!(awareness_broadcasts(&again).is_empty());
}
