//! One simulated participant: a WebSocket connection that speaks y-websocket with a real yrs document.
//!
//! A client is a task that owns its socket and its `Doc` (one owner, so no lock is ever held across an
//! `.await`). It answers the server's sync step 1, applies every step 2 / update it receives, and, when
//! it is a writer, makes edits that look like dragging a node on the canvas (`nodes/<id>.x`, `.y`) and
//! that carry their own send time: edit number `n` sets slot `n % SLOTS` of the writer's own root map
//! `lat/<writer>` to `[n, the writer's clock reading]` (nanoseconds since the process-wide [`START`]).
//! After each received update has committed, i.e. the moment the observer's document holds it, an
//! observer looks up the slot of the next edit number it has not seen yet (a hash lookup each, no
//! event diffing) and turns each matching value into a latency sample. Edits merged into one update by
//! a server still yield one sample each, as long as the observer is fewer than [`SLOTS`] edits behind;
//! an edit whose slot was overwritten before the observer saw it is counted as skipped (a scenario
//! treats any as a failure). All clients live in one process, so writer and observer read the same
//! clock.
//!
//! Why a ring and not one key per edit: with a key per edit every document grew by one map entry per
//! edit, and since all writers of a scenario edit at one rate, every `lat/` map of every document (in
//! the generator and in the server) crossed the same hash-table capacity at the same moment. In
//! scenario 3 at 2 edits/s, ~40 s into the step, some 16,000 maps of ~200 entries rehashed within a
//! fraction of a second: perf on the generator showed both cores in SipHash under
//! `RawTable::reserve_rehash`, a hiccup meter in its runtime saw 200 ms stalls, and p99 failed on them.
//! A canvas does not grow like that (a drag overwrites `x` and `y`), so neither should the probe.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Any, Doc, GetString, In, Map, MapPrelim, MapRef, Number, Out, ReadTxn, StateVector, Text,
    Transact, TransactionMut, Update,
};

use crate::wire::{self, Incoming};

/// The one clock every client reads.
static START: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the process-wide start instant.
pub fn now_nanos() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Timing slots per writer (see the module docs). An observer more than this many edits behind a
/// writer loses samples (counted as skipped): at the scenarios' rates that is seconds late, far past
/// any latency limit, while the map reaches its final size within seconds and never rehashes again.
pub const SLOTS: u64 = 32;

/// Largest WebSocket message the generator accepts (the 20 MB document arrives as one step 2).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Commands a scenario gives a running client. The channel is small and scenarios await `send`, so a
/// client that falls behind slows its driver instead of queueing without bound.
pub enum Cmd {
    /// Make one edit now.
    Edit,
    /// Make one drag now: move the writer's node and bump its `seq`, without a latency entry, so
    /// that history grows and the document's state does not (scenario 6).
    Drag,
    /// Make this many drags in one update: history written before a scenario's load (scenario 3
    /// gives each client a different amount, so that the documents' block lists do not all double
    /// in the same second; see `scenarios::S3Fleet::history`).
    History(u32),
    /// Edit steadily at this many edits per second until told otherwise (0 stops).
    Rate(f64),
    /// Move the cursor (an awareness update carrying its send time) this many times a second until
    /// told otherwise (0 stops), as the web client does while the pointer moves over the canvas.
    Presence(f64),
    /// Insert `bytes` characters of text at the end of `notes` (document building).
    AppendNotes(usize),
    /// A summary of the document.
    Report(oneshot::Sender<Report>),
    /// Take the latency samples gathered so far and the edit count (cheap: no document summary).
    Drain(oneshot::Sender<Drained>),
    /// Close the connection and end the task.
    Close,
}

/// What a client hands back on [`Cmd::Report`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Edits this client made since it started.
    pub edits: u64,
    /// State vector of the document as sorted (client, clock) pairs: comparable across documents,
    /// unlike its v1 encoding, whose client order follows a hash map's iteration order.
    pub state_vector: Vec<(u64, u32)>,
    /// Digest of the document's content (see [`content_digest`]).
    pub digest: u64,
    /// Characters in `notes`.
    pub notes_len: u32,
    /// Edits present in the document: the sum over writers of the latest edit number in their
    /// `lat/<writer>` map.
    pub edits_present: u64,
    /// Edits this observer could not time because their slot was overwritten first.
    pub skipped: u64,
    /// Received updates that wait for missing predecessors (should be none).
    pub pending: String,
    /// Time from connect start to the first step 2, once synced.
    pub synced_after: Option<Duration>,
    /// Time from connect start until the document first had `Spec::expect_digest`.
    pub complete_after: Option<Duration>,
    /// Why the connection ended, if it did.
    pub closed: Option<String>,
}

/// What a client hands back on [`Cmd::Drain`].
#[derive(Debug, Clone, Default)]
pub struct Drained {
    pub samples: Vec<u64>,
    /// Cursor latencies (other clients' presence updates), nanoseconds.
    pub cursor_samples: Vec<u64>,
    /// Cursor moves this client sent since it started.
    pub presences: u64,
    pub edits: u64,
    pub finished: bool,
    /// Edits skipped since the last drain (see [`Report::skipped`]).
    pub skipped: u64,
}

/// A `ws://127.0.0.1:port/path?query` address, loopback only.
#[derive(Debug, Clone)]
pub struct WsUrl {
    pub addr: SocketAddr,
    pub path: String,
    /// How messages are addressed on this server (Hocuspocus names the document in each).
    pub framing: wire::Framing,
}

impl WsUrl {
    pub fn parse(url: &str) -> Result<WsUrl> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| anyhow!("{url}: only ws:// URLs are supported"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr: SocketAddr = host
            .parse()
            .with_context(|| format!("{url}: host must be an IP:port"))?;
        if !addr.ip().is_loopback() {
            bail!("{url}: load is only ever generated against loopback addresses");
        }
        Ok(WsUrl {
            addr,
            path: path.to_string(),
            framing: wire::Framing::Plain,
        })
    }

    pub fn to_url(&self) -> String {
        format!("ws://{}{}", self.addr, self.path)
    }
}

/// How a client behaves.
#[derive(Debug, Clone)]
pub struct Spec {
    pub url: WsUrl,
    /// Local address to connect from (spreading clients over 127.0.0.x multiplies the ephemeral ports).
    pub source_ip: IpAddr,
    /// This client's writer index, when it writes.
    pub writer: Option<u32>,
    /// Writer indices whose edits this client measures.
    pub observe: Vec<u32>,
    /// Announce an awareness state on connect, as the stock client does.
    pub awareness: bool,
    /// A stable number for spreading edit phases.
    pub seq: u64,
    /// The content digest this client waits for: the moment its document first has it is reported as
    /// `complete_after` (a server may answer step 1 before it has loaded the document).
    pub expect_digest: Option<u64>,
}

/// Small read buffers: ten thousand idle connections should cost the generator little memory (the
/// joiners of a large document read through [`crate::rawjoin`] instead).
const READ_BUFFER: usize = 4 * 1024;

/// A running client.
pub struct Handle {
    tx: mpsc::Sender<Cmd>,
    synced: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl Handle {
    pub async fn cmd(&self, cmd: Cmd) -> Result<()> {
        self.tx
            .send(cmd)
            .await
            .map_err(|_| anyhow!("client task has ended"))
    }

    /// Waits until the first step 2 arrived (or the connection ended).
    pub async fn wait_synced(&mut self) -> Result<()> {
        self.synced
            .wait_for(|s| *s)
            .await
            .map_err(|_| anyhow!("connection ended before it synced"))?;
        Ok(())
    }

    pub async fn report(&self) -> Result<Report> {
        let (tx, rx) = oneshot::channel();
        self.cmd(Cmd::Report(tx)).await?;
        rx.await.map_err(|_| anyhow!("client task ended"))
    }

    pub async fn drain(&self) -> Result<Drained> {
        let (tx, rx) = oneshot::channel();
        self.cmd(Cmd::Drain(tx)).await?;
        rx.await.map_err(|_| anyhow!("client task ended"))
    }

    pub async fn close(self) {
        if self.tx.send(Cmd::Close).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.task).await;
        } else {
            self.task.abort();
        }
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Opens the TCP connection from `source_ip` and does the WebSocket handshake.
async fn open(spec: &Spec) -> Result<WebSocketStream<TcpStream>> {
    let socket = match spec.url.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // A port left in TIME_WAIT by an earlier scenario may be reused for a different peer.
    socket.set_reuseaddr(true)?;
    if spec.url.addr.is_ipv4() == spec.source_ip.is_ipv4() {
        socket
            .bind(SocketAddr::new(spec.source_ip, 0))
            .with_context(|| format!("binding {}", spec.source_ip))?;
    }
    let stream = socket
        .connect(spec.url.addr)
        .await
        .with_context(|| format!("connecting to {}", spec.url.addr))?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(spec.url.to_url(), stream, Some(config))
            .await
            .with_context(|| format!("WebSocket handshake with {}", spec.url.to_url()))?;
    Ok(ws)
}

/// [`open`], again after a server error on the handshake (HTTP 5xx), three times at most.
///
/// y-sweet 0.9 answers 500 to some of the first connections when many arrive at once for a document
/// it has not loaded yet (scenario 4: 25 of 10,000); the stock client reconnects after such a
/// failure, so the generator does too, 50, 100 and 200 ms later. Other errors fail at once.
async fn open_retrying(spec: &Spec) -> Result<WebSocketStream<TcpStream>> {
    let mut delay = Duration::from_millis(50);
    for _ in 0..3 {
        match open(spec).await {
            Err(e) if is_server_error(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    open(spec).await
}

fn is_server_error(e: &anyhow::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    e.chain().any(|cause| {
        matches!(cause.downcast_ref::<Error>(), Some(Error::Http(response)) if response.status().is_server_error())
    })
}

/// Connects and starts the client task. Returns once the handshake is done.
pub async fn connect(spec: Spec) -> Result<Handle> {
    let started = Instant::now();
    let ws = open_retrying(&spec).await?;
    let (tx, rx) = mpsc::channel(16);
    let (synced_tx, synced) = watch::channel(false);
    let state = State::new(&spec, started);
    let task = tokio::spawn(run(spec, ws, rx, synced_tx, state));
    Ok(Handle { tx, synced, task })
}

/// The document side of a client.
struct State {
    doc: Doc,
    nodes: MapRef,
    notes: yrs::TextRef,
    /// The writer's own latency map and node id.
    own: Option<(MapRef, String)>,
    /// The observed writers' latency maps, with the next edit number expected from each.
    watched: Vec<(MapRef, u64)>,
    /// Which entry of `watched` each writer's Yjs client id stamps, once seen.
    authors: HashMap<u64, usize>,
    samples: Vec<u64>,
    cursor_samples: Vec<u64>,
    /// This client's awareness clock (1 is the state announced on connect).
    presence_clock: u64,
    seq: u64,
    skipped: u64,
    skipped_total: u64,
    edits: u64,
    started: Instant,
    synced_after: Option<Duration>,
    complete_after: Option<Duration>,
    expect_digest: Option<u64>,
    closed: Option<String>,
}

/// A Yjs client id as the stock JavaScript client draws it: a random 32-bit number.
///
/// yrs draws 53-bit ids, which no browser sends. y-sweet 0.9 (on an older yrs) stores and relays
/// such ids mangled: the writer got its own edits back under another client id and every observer's
/// document differed from the writer's. The generator stands for browsers, so it uses their ids.
fn js_client_id(seq: u64) -> u64 {
    // splitmix64 of the sequence number and the clock: distinct per client and per run.
    let mut z = seq
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(now_nanos());
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) & 0xffff_ffff
}

fn lat_name(writer: u32) -> String {
    format!("lat/w{writer}")
}

impl State {
    fn new(spec: &Spec, started: Instant) -> State {
        let doc = Doc::with_client_id(js_client_id(spec.seq));
        let nodes = doc.get_or_insert_map("nodes");
        let notes = doc.get_or_insert_text("notes");
        let watched = spec
            .observe
            .iter()
            .filter(|&&w| Some(w) != spec.writer)
            .map(|&w| (doc.get_or_insert_map(lat_name(w)), 1))
            .collect();
        let own = spec
            .writer
            .map(|w| (doc.get_or_insert_map(lat_name(w)), format!("w{w}")));
        State {
            doc,
            nodes,
            notes,
            own,
            watched,
            authors: HashMap::new(),
            samples: Vec::new(),
            cursor_samples: Vec::new(),
            presence_clock: 1,
            seq: spec.seq,
            skipped: 0,
            skipped_total: 0,
            edits: 0,
            started,
            synced_after: None,
            complete_after: None,
            expect_digest: spec.expect_digest,
            closed: None,
        }
    }

    /// One canvas edit: move this writer's node and record the send time. Returns the frame to send.
    fn edit(&mut self) -> Option<Vec<u8>> {
        self.change(true)
    }

    /// One drag step: move this writer's node and bump its `seq`, leaving no latency entry behind.
    fn drag(&mut self) -> Option<Vec<u8>> {
        self.change(false)
    }

    /// `moves` drags in one update (one transaction), as a session's earlier history: each moves the
    /// writer's node and bumps its `seq`, leaving no latency entry and not counting as edits (the
    /// observers time edits by their numbers). See [`Cmd::History`].
    fn history(&mut self, moves: u32) -> Option<Vec<u8>> {
        let (_, node_id) = self.own.as_ref()?;
        let mut txn = self.doc.transact_mut();
        let node = Self::own_node(&self.nodes, &mut txn, node_id);
        for i in 0..moves {
            let n = f64::from(i);
            node.insert(&mut txn, "x", (n * 11.0) % 1000.0);
            node.insert(&mut txn, "y", (n * 5.0) % 800.0);
            // Negative, apart from the drags' numbers, and never -0.0: Yjs writes -0 as an integer
            // and yrs reads that back as 0, so a JavaScript server's relay of a first move changed
            // the value (a room's documents then differed in content with equal state vectors).
            node.insert(&mut txn, "seq", -(n + 1.0));
        }
        Some(wire::update(&txn.encode_update_v1()))
    }

    /// The writer's node, created on its first change.
    fn own_node(nodes: &MapRef, txn: &mut TransactionMut, node_id: &str) -> MapRef {
        match nodes.get(txn, node_id) {
            Some(Out::YMap(node)) => node,
            _ => nodes.insert(
                txn,
                node_id,
                MapPrelim::from([
                    ("type", In::from("app")),
                    ("label", In::from(format!("App {node_id}"))),
                    ("x", In::from(0.0)),
                    ("y", In::from(0.0)),
                    ("params", In::Map(MapPrelim::from([("instances", 1.0)]))),
                ]),
            ),
        }
    }

    fn change(&mut self, timed: bool) -> Option<Vec<u8>> {
        let (lat, node_id) = self.own.as_ref()?;
        self.edits += 1;
        let n = self.edits as f64;
        let mut txn = self.doc.transact_mut();
        let node = Self::own_node(&self.nodes, &mut txn, node_id);
        node.insert(&mut txn, "x", (n * 7.0) % 1000.0);
        node.insert(&mut txn, "y", (n * 3.0) % 800.0);
        if timed {
            // Taken last so that the sample starts when the edit is complete in the writer's document.
            let stamp = Any::Array(vec![Any::from(n), Any::from(now_nanos() as f64)].into());
            lat.insert(&mut txn, slot_key(self.edits), stamp);
        } else {
            node.insert(&mut txn, "seq", n);
        }
        let update = txn.encode_update_v1();
        Some(wire::update(&update))
    }

    /// One cursor move: the next awareness state, stamped with its send time. The state has the
    /// web client's shape (`user` with name and colour, `cursor` in canvas coordinates).
    fn presence(&mut self) -> Vec<u8> {
        self.presence_clock += 1;
        let n = self.presence_clock as f64;
        let json = format!(
            r##"{{"user":{{"name":"bench-{}","color":"#2563eb"}},"cursor":{{"x":{},"y":{}}},"t":{}}}"##,
            self.seq,
            (n * 13.0) % 1200.0,
            (n * 7.0) % 800.0,
            now_nanos()
        );
        wire::awareness(self.doc.client_id().get(), self.presence_clock, &json)
    }

    /// Times the other clients' cursor moves in an awareness update.
    fn on_awareness(&mut self, payload: &[u8]) -> Result<()> {
        let now = now_nanos();
        let me = self.doc.client_id().get();
        for (client, state) in wire::awareness_entries(payload)? {
            if client != me
                && let Some(sent) = wire::presence_stamp(state)
            {
                self.cursor_samples.push(now.saturating_sub(sent));
            }
        }
        Ok(())
    }

    fn append_notes(&mut self, bytes: usize) -> Vec<u8> {
        // Printable, incompressible enough, cheap to make.
        let chunk: String = (0..bytes)
            .map(|i| (b'a' + ((i * 31 + self.edits as usize) % 26) as u8) as char)
            .collect();
        self.edits += 1;
        let mut txn = self.doc.transact_mut();
        let len = self.notes.len(&txn);
        self.notes.insert(&mut txn, len, &chunk);
        wire::update(&txn.encode_update_v1())
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
        let update = Update::decode_v1(update).context("decoding a received update")?;
        // The clients whose blocks the update carries (usually one writer's edit).
        let authors = update.state_vector_lower();
        {
            let mut txn = self.doc.transact_mut();
            txn.apply_update(update)
                .context("applying a received update")?;
        }
        // The transaction has committed: the document holds the edit now.
        let committed = self.started.elapsed();
        let now = now_nanos();
        let txn = self.doc.transact();
        // Only the timing rings of the update's authors can have changed. An author not yet known is
        // looked up in every watched ring and, once one of them yields a sample for an update with
        // no other author, remembered as that ring's writer: a map lookup per watched writer on
        // every delivery was 6 % of the generator's CPU in scenario 3.
        let learn = authors.len() == 1;
        for (author, _) in authors.iter() {
            let author = author.get();
            let known = self.authors.get(&author).copied();
            let rings = match known {
                Some(i) => i..i + 1,
                None => 0..self.watched.len(),
            };
            for i in rings {
                let (map, next) = &mut self.watched[i];
                let mut found = false;
                while let Some((n, sent)) = read_stamp(map.get(&txn, slot_key(*next))) {
                    if n < *next {
                        break; // not written yet: the slot still holds an older edit
                    }
                    found = true;
                    if n > *next {
                        // Overwritten before this observer saw it: edits next..=n-SLOTS are lost.
                        let resume = n + 1 - SLOTS;
                        self.skipped += resume.saturating_sub(*next);
                        *next = resume.max(*next + 1);
                        continue;
                    }
                    self.samples.push(now.saturating_sub(sent));
                    *next += 1;
                }
                if found && learn && known.is_none() {
                    self.authors.insert(author, i);
                }
            }
        }
        drop(txn);
        if let Some(want) = self.expect_digest
            && self.complete_after.is_none()
            && {
                type_roots(&self.doc);
                content_digest(&self.doc.transact()) == want
            }
        {
            // The moment the document held it; computing the digest is the check, not the sync.
            self.complete_after = Some(committed);
        }
        Ok(())
    }

    fn drain(&mut self, finished: bool) -> Drained {
        self.skipped_total += self.skipped;
        Drained {
            samples: std::mem::take(&mut self.samples),
            cursor_samples: std::mem::take(&mut self.cursor_samples),
            presences: self.presence_clock - 1,
            edits: self.edits,
            finished,
            skipped: std::mem::take(&mut self.skipped),
        }
    }

    fn report(&mut self) -> Report {
        type_roots(&self.doc);
        let txn = self.doc.transact();
        Report {
            edits: self.edits,
            state_vector: {
                let mut sv: Vec<(u64, u32)> = txn
                    .state_vector()
                    .iter()
                    .map(|(client, clock)| (client.get(), *clock))
                    .collect();
                sv.sort_unstable();
                sv
            },
            digest: content_digest(&txn),
            notes_len: self.notes.len(&txn),
            pending: format!(
                "{:?}",
                txn.store().pending_update().map(|p| p.missing.clone())
            ),
            edits_present: txn
                .root_refs()
                .filter(|(name, _)| name.starts_with("lat/"))
                .map(|(_, v)| match v {
                    Out::YMap(m) => m
                        .iter(&txn)
                        .filter_map(|(_, stamp)| read_stamp(Some(stamp)))
                        .map(|(n, _)| n)
                        .max()
                        .unwrap_or(0),
                    _ => 0,
                })
                .sum(),
            skipped: self.skipped_total + self.skipped,
            synced_after: self.synced_after,
            complete_after: self.complete_after,
            closed: self.closed.clone(),
        }
    }
}

/// The key of edit `n`'s timing slot (see the module docs).
fn slot_key(n: u64) -> &'static str {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| (0..SLOTS).map(|i| i.to_string()).collect());
    &keys[(n % SLOTS) as usize]
}

/// `[edit number, send time in ns]` as a writer stores it in a timing slot.
fn read_stamp(value: Option<Out>) -> Option<(u64, u64)> {
    match value? {
        Out::Any(Any::Array(items)) => match items.as_ref() {
            [Any::Number(n), Any::Number(sent)] => Some((number(*n) as u64, number(*sent) as u64)),
            _ => None,
        },
        _ => None,
    }
}

/// Gives every root its type. A root that only arrived in remote updates stays untyped until it is
/// first read as a type (yrs and yjs alike), and an untyped root shows no content; the canvas schema's
/// roots (docs/PROTOCOL.md §3) and the generator's own are maps, except the `notes` text.
pub fn type_roots(doc: &Doc) {
    let names: Vec<String> = doc
        .transact()
        .root_refs()
        .filter(|(_, v)| matches!(v, Out::UndefinedRef(_)))
        .map(|(n, _)| n.to_string())
        .collect();
    for name in names {
        if name == "notes" {
            doc.get_or_insert_text(name);
        } else {
            doc.get_or_insert_map(name);
        }
    }
}

/// A digest of the document's content that does not depend on map iteration order or on how blocks
/// happen to be split: two documents with the same content have the same digest. An empty root counts
/// as absent (a client that registered a map nobody wrote to has the same content as one that did not).
pub fn content_digest<T: ReadTxn>(txn: &T) -> u64 {
    let mut roots: Vec<(String, Any)> = txn
        .root_refs()
        .filter_map(|(name, value)| {
            let any = match value {
                Out::YText(text) => Any::from(text.get_string(txn)),
                Out::YArray(array) => array.to_json(txn),
                Out::YMap(map) => map.to_json(txn),
                other => Any::from(format!("{other:?}")),
            };
            let empty = match &any {
                Any::String(s) => s.is_empty(),
                Any::Array(items) => items.is_empty(),
                Any::Map(map) => map.is_empty(),
                _ => false,
            };
            (!empty).then(|| (name.to_string(), any))
        })
        .collect();
    roots.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Fnv::default();
    for (name, any) in &roots {
        h.write(name.as_bytes());
        hash_any(&mut h, any);
    }
    h.0
}

fn number(n: Number) -> f64 {
    match n {
        Number::Int(i) => i as f64,
        Number::Float(f) => f,
    }
}

#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn hash_any(h: &mut Fnv, any: &Any) {
    match any {
        Any::Map(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            h.write(b"{");
            for k in keys {
                h.write(k.as_bytes());
                hash_any(h, &map[k]);
            }
            h.write(b"}");
        }
        Any::Array(items) => {
            h.write(b"[");
            for item in items.iter() {
                hash_any(h, item);
            }
            h.write(b"]");
        }
        Any::String(s) => h.write(s.as_bytes()),
        // Integral floats may come back from the wire as integers: hash the value, not the form.
        Any::Number(n) => h.write(&number(*n).to_bits().to_le_bytes()),
        Any::Bool(b) => h.write(&[*b as u8]),
        Any::Buffer(b) => h.write(b),
        Any::Null => h.write(b"null"),
        Any::Undefined => h.write(b"undefined"),
    }
}

async fn run(
    spec: Spec,
    mut ws: WebSocketStream<TcpStream>,
    mut rx: mpsc::Receiver<Cmd>,
    synced_tx: watch::Sender<bool>,
    mut state: State,
) {
    match drive(&spec, &mut ws, &mut rx, &synced_tx, &mut state).await {
        Ok(Ended::ByUs) => return,
        Ok(Ended::ByServer) => {}
        Err(e) => {
            state.closed.get_or_insert_with(|| format!("{e:#}"));
        }
    }
    // Let a pending reporter still read the document after the socket is gone.
    let _ = synced_tx.send(state.synced_after.is_some());
    drop(synced_tx);
    while let Ok(Some(cmd)) = tokio::time::timeout(Duration::from_secs(600), rx.recv()).await {
        match cmd {
            Cmd::Report(tx) => {
                let _ = tx.send(state.report());
            }
            Cmd::Drain(tx) => {
                let _ = tx.send(state.drain(true));
            }
            Cmd::Close => break,
            _ => {}
        }
    }
}

/// How a connection ended without an error.
enum Ended {
    /// The scenario closed it (or dropped its handle): the task ends.
    ByUs,
    /// The server closed it: the task stays to answer reports until it is told to close.
    ByServer,
}

async fn drive(
    spec: &Spec,
    ws: &mut WebSocketStream<TcpStream>,
    rx: &mut mpsc::Receiver<Cmd>,
    synced_tx: &watch::Sender<bool>,
    state: &mut State,
) -> Result<Ended> {
    let framing = &spec.url.framing;
    if let Some(hello) = framing.hello() {
        ws.send(Message::binary(hello)).await?;
    }
    let sv = state.doc.transact().state_vector().encode_v1();
    // Two frames, as the stock client sends them: the reference server reads one message per frame.
    ws.send(Message::binary(framing.wrap(wire::step1(&sv))))
        .await?;
    if spec.awareness {
        let json = format!(r#"{{"user":{{"name":"bench-{}"}}}}"#, spec.seq);
        let frame = wire::awareness(state.doc.client_id().get(), 1, &json);
        ws.send(Message::binary(framing.wrap(frame))).await?;
    }

    // A far-future deadline stands for "not editing"; a changed rate restarts the schedule with a
    // per-client phase so that thousands of writers do not edit in lockstep.
    let mut period: Option<Duration> = None;
    let never = Instant::now() + Duration::from_secs(86_400);
    let mut next_edit = tokio::time::Instant::from_std(never);
    // One timer for the connection's life, moved with `reset` when the schedule changes: a fresh
    // `sleep_until` in the `select!` would register and remove a timer for every message received
    // (a lock on the runtime's timer wheel each time, thousands of times a second in scenario 3).
    let edit_timer = tokio::time::sleep_until(next_edit);
    tokio::pin!(edit_timer);
    let mut presence_period: Option<Duration> = None;
    let mut next_presence = tokio::time::Instant::from_std(never);
    let presence_timer = tokio::time::sleep_until(next_presence);
    tokio::pin!(presence_timer);
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(msg) = msg else {
                    state.closed = Some("connection closed by server".into());
                    return Ok(Ended::ByServer);
                };
                match msg? {
                    Message::Binary(frame) => {
                        if let Some(reply) = handle_frame(state, framing.strip(&frame)?, framing.one_message_per_frame(), synced_tx)? {
                            ws.send(Message::binary(framing.wrap(reply))).await?;
                        }
                    }
                    Message::Close(frame) => {
                        state.closed = Some(match frame {
                            Some(f) => format!("closed by server: {} {}", u16::from(f.code), f.reason),
                            None => "closed by server".into(),
                        });
                        return Ok(Ended::ByServer);
                    }
                    Message::Text(t) => bail!("server sent a text frame: {t}"),
                    _ => {}
                }
            }
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { return Ok(Ended::ByUs) };
                match cmd {
                    Cmd::Edit => {
                        if let Some(frame) = state.edit() {
                            ws.send(Message::binary(framing.wrap(frame))).await?;
                        }
                    }
                    Cmd::Drag => {
                        if let Some(frame) = state.drag() {
                            ws.send(Message::binary(framing.wrap(frame))).await?;
                        }
                    }
                    Cmd::History(moves) => {
                        if let Some(frame) = state.history(moves) {
                            ws.send(Message::binary(framing.wrap(frame))).await?;
                        }
                    }
                    Cmd::Rate(per_sec) => {
                        if per_sec > 0.0 {
                            let p = Duration::from_secs_f64(1.0 / per_sec);
                            // Golden-ratio phase spread over the period.
                            let phase = (spec.seq as f64 * 0.618_033_988_75).fract();
                            next_edit = tokio::time::Instant::now() + p.mul_f64(phase);
                            period = Some(p);
                        } else {
                            period = None;
                            next_edit = tokio::time::Instant::from_std(never);
                        }
                        edit_timer.as_mut().reset(next_edit);
                    }
                    Cmd::Presence(per_sec) => {
                        if per_sec > 0.0 {
                            let p = Duration::from_secs_f64(1.0 / per_sec);
                            let phase = (spec.seq as f64 * 0.381_966_011_25).fract();
                            next_presence = tokio::time::Instant::now() + p.mul_f64(phase);
                            presence_period = Some(p);
                        } else {
                            presence_period = None;
                            next_presence = tokio::time::Instant::from_std(never);
                        }
                        presence_timer.as_mut().reset(next_presence);
                    }
                    Cmd::AppendNotes(bytes) => {
                        let frame = state.append_notes(bytes);
                        ws.send(Message::binary(framing.wrap(frame))).await?;
                    }
                    Cmd::Report(tx) => {
                        let _ = tx.send(state.report());
                    }
                    Cmd::Drain(tx) => {
                        let _ = tx.send(state.drain(false));
                    }
                    Cmd::Close => {
                        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
                        return Ok(Ended::ByUs);
                    }
                }
            }
            _ = &mut presence_timer, if presence_period.is_some() => {
                let p = presence_period.expect("guarded");
                next_presence += p;
                let now = tokio::time::Instant::now();
                if next_presence < now {
                    next_presence = now + p;
                }
                presence_timer.as_mut().reset(next_presence);
                let frame = state.presence();
                ws.send(Message::binary(framing.wrap(frame))).await?;
            }
            _ = &mut edit_timer, if period.is_some() => {
                let p = period.expect("guarded");
                next_edit += p;
                let now = tokio::time::Instant::now();
                if next_edit < now {
                    // Fell behind: skip the missed slots rather than bursting (the achieved rate shows it).
                    next_edit = now + p;
                }
                edit_timer.as_mut().reset(next_edit);
                if let Some(frame) = state.edit() {
                    ws.send(Message::binary(framing.wrap(frame))).await?;
                }
            }
        }
    }
}

/// `BENCH_DEBUG` set: log every received message (and the scenarios' own waits). Read once: reading
/// the environment takes a lock.
pub(crate) fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("BENCH_DEBUG").is_some())
}

fn handle_frame(
    state: &mut State,
    frame: &[u8],
    named: bool,
    synced_tx: &watch::Sender<bool>,
) -> Result<Option<Vec<u8>>> {
    let mut reader = wire::Reader::new(frame);
    let mut reply: Option<Vec<u8>> = None;
    while let Some(msg) = reader.next_message()? {
        if debug() {
            eprintln!(
                "recv at {:?} {:?}",
                state.started.elapsed(),
                match &msg {
                    Incoming::Update(u) | Incoming::Step2(u) =>
                        format!("update/step2 {} bytes", u.len()),
                    other => format!("{other:?}"),
                }
            );
        }
        match msg {
            Incoming::Step1(sv) => {
                let sv = StateVector::decode_v1(sv).context("decoding the server's step 1")?;
                let diff = state.doc.transact().encode_diff_v1(&sv);
                reply
                    .get_or_insert_with(Vec::new)
                    .extend(wire::step2(&diff));
            }
            Incoming::Step2(update) => {
                state.apply(update)?;
                if debug() {
                    eprintln!("step2 applied at {:?}", state.started.elapsed());
                }
                if state.synced_after.is_none() {
                    state.synced_after = Some(state.started.elapsed());
                    let _ = synced_tx.send(true);
                }
            }
            Incoming::Update(update) => state.apply(update)?,
            Incoming::Auth(kind, _) if named && kind == wire::HOCUSPOCUS_AUTHENTICATED => {}
            Incoming::Auth(_, reason) => {
                bail!("permission denied: {}", String::from_utf8_lossy(reason))
            }
            Incoming::Awareness(payload) => state.on_awareness(payload)?,
            Incoming::AwarenessQuery | Incoming::Tierboard(_) | Incoming::Other(_) => {}
        }
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(writer: Option<u32>, observe: Vec<u32>) -> Spec {
        Spec {
            url: WsUrl::parse("ws://127.0.0.1:1/r").unwrap(),
            source_ip: "127.0.0.1".parse().unwrap(),
            writer,
            observe,
            awareness: false,
            seq: 0,
            expect_digest: None,
        }
    }

    fn payload(frame: &[u8]) -> Vec<u8> {
        match wire::Reader::new(frame).next_message().unwrap() {
            Some(Incoming::Update(u)) => u.to_vec(),
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn an_observer_turns_each_received_edit_into_one_sample_and_converges() {
        let mut writer = State::new(&spec(Some(3), vec![]), Instant::now());
        let mut observer = State::new(&spec(None, vec![3]), Instant::now());
        for _ in 0..5 {
            let frame = writer.edit().unwrap();
            observer.apply(&payload(&frame)).unwrap();
        }
        let w = writer.report();
        let o = observer.report();
        assert_eq!(observer.drain(false).samples.len(), 5);
        assert_eq!(w.edits, 5);
        assert_eq!(w.state_vector, o.state_vector);
        assert_eq!(w.digest, o.digest);
    }

    #[test]
    fn history_is_one_update_of_blocks_that_leaves_the_timing_alone() {
        let mut writer = State::new(&spec(Some(2), vec![]), Instant::now());
        let mut observer = State::new(&spec(None, vec![2]), Instant::now());
        let history = payload(&writer.history(50).unwrap());
        observer.apply(&history).unwrap();
        // 50 moves of three keys plus the node's creation: the writer's clock moved by at least 150.
        let sv = observer.doc.transact().state_vector();
        assert!(sv.get(&writer.doc.client_id()) >= 150, "{sv:?}");
        assert_eq!(writer.edits, 0, "history is not counted as edits");
        for _ in 0..3 {
            observer.apply(&payload(&writer.edit().unwrap())).unwrap();
        }
        let drained = observer.drain(false);
        assert_eq!((drained.samples.len(), drained.skipped), (3, 0));
        assert_eq!(writer.report().digest, observer.report().digest);
        // No history at all is an empty move list, still a valid update.
        observer
            .apply(&payload(&writer.history(0).unwrap()))
            .unwrap();
        // A single move never writes -0.0 (Yjs relays it as the integer 0).
        let mut one = State::new(&spec(Some(5), vec![]), Instant::now());
        one.history(1).unwrap();
        let txn = one.doc.transact();
        let Some(Out::YMap(node)) = one.nodes.get(&txn, "w5") else {
            panic!("no node");
        };
        let Some(Out::Any(seq)) = node.get(&txn, "seq") else {
            panic!("no seq");
        };
        assert_eq!(seq, Any::from(-1.0));
    }

    #[test]
    fn writers_that_also_observe_time_each_others_edits() {
        // Scenario 3's room: four clients, each writing and timing the other three.
        let mut clients: Vec<State> = (0..4)
            .map(|w| {
                let others = (0..4).filter(|&o| o != w).collect();
                State::new(&spec(Some(w), others), Instant::now())
            })
            .collect();
        for round in 0..10 {
            for w in 0..4 {
                if (round + w) % 3 == 0 {
                    continue; // uneven rates, so no writer's numbering follows another's
                }
                let update = payload(&clients[w].edit().unwrap());
                for (o, client) in clients.iter_mut().enumerate() {
                    if o != w {
                        client.apply(&update).unwrap();
                    }
                }
            }
        }
        let written: u64 = clients.iter().map(|c| c.edits).sum();
        for c in &mut clients {
            let own = c.edits;
            let d = c.drain(false);
            assert_eq!(d.samples.len() as u64, written - own);
            assert_eq!(d.skipped, 0);
        }
    }

    #[test]
    fn roots_that_arrive_untyped_still_count() {
        // A joiner that registered nothing receives `lat/w0` as an untyped root.
        let mut writer = State::new(&spec(Some(0), vec![]), Instant::now());
        let mut joiner = State::new(&spec(None, vec![]), Instant::now());
        for _ in 0..3 {
            let frame = writer.edit().unwrap();
            joiner.apply(&payload(&frame)).unwrap();
        }
        let (w, j) = (writer.report(), joiner.report());
        assert_eq!(j.edits_present, 3);
        assert_eq!(w.digest, j.digest);
    }

    #[test]
    fn a_missed_edit_shows_in_the_digest() {
        let mut writer = State::new(&spec(Some(0), vec![]), Instant::now());
        let mut observer = State::new(&spec(None, vec![0]), Instant::now());
        let first = writer.edit().unwrap();
        let _lost = writer.edit().unwrap();
        observer.apply(&payload(&first)).unwrap();
        assert_ne!(writer.report().digest, observer.report().digest);
    }

    #[test]
    fn the_timing_ring_stays_bounded_and_counts_what_it_could_not_time() {
        let mut writer = State::new(&spec(Some(1), vec![]), Instant::now());
        let mut on_time = State::new(&spec(None, vec![1]), Instant::now());
        let mut late = State::new(&spec(None, vec![1]), Instant::now());
        let total = 3 * SLOTS + 5;
        let mut backlog = Vec::new();
        for _ in 0..total {
            let update = payload(&writer.edit().unwrap());
            on_time.apply(&update).unwrap();
            backlog.push(update);
        }
        // One merged update, as a server that fell far behind would send it.
        late.apply(&yrs::merge_updates_v1(&backlog).unwrap())
            .unwrap();
        let d = on_time.drain(false);
        assert_eq!((d.samples.len() as u64, d.skipped), (total, 0));
        let d = late.drain(false);
        assert_eq!(
            d.samples.len() as u64,
            SLOTS,
            "the last SLOTS edits are still there"
        );
        assert_eq!(d.skipped, total - SLOTS);
        let (w, l) = (writer.report(), late.report());
        assert_eq!(w.digest, l.digest);
        assert_eq!(l.edits_present, total);
        assert_eq!(l.skipped, total - SLOTS);
        let lat = late.doc.get_or_insert_map(lat_name(1));
        assert_eq!(u64::from(lat.len(&late.doc.transact())), SLOTS);
    }

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert!(WsUrl::parse("ws://10.0.0.1:80/x").is_err());
        assert!(WsUrl::parse("http://127.0.0.1:80/x").is_err());
        let url = WsUrl::parse("ws://127.0.0.1:9/ws/r?token=t").unwrap();
        assert_eq!(url.path, "/ws/r?token=t");
    }
}
