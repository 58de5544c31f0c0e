//! Applying a client's update without letting it poison the room's document.
//!
//! yrs 0.28 decodes `ContentJSON` (the legacy Yjs content, info 2) with one string more than its
//! length says, and encodes it with as many strings as it holds. An item of that content is therefore
//! never read back as it was written. An update holding one applies cleanly; if its item cannot be
//! integrated yet (a missing origin), yrs keeps it as a pending update, and every later
//! `encode_state_as_update_v1` re-encodes the pending part and decodes it again in
//! `merge_pending_v1`, which `unwrap`s the decode error: every sync step 1 after it panics, the room
//! task dies and takes every connection with it. Integrated, the same item is fanned out and stored
//! in an encoding yrs itself cannot read back (the bus, the coalescing writer and a room reload all
//! decode it). `docs/upstream/yrs-merge-pending-panic.md` has the minimal reproduction.
//!
//! [`precheck`] runs on the raw payload before `Update::decode_v1` / `StateVector::decode_v1` (in the
//! connection's reader); [`apply_guarded`] is what the room calls instead of
//! `TransactionMut::apply_update`. Each check was found by the fuzz target (fuzz/README.md):
//!
//! 1. [`check_clocks`]: no block or deletion beyond [`MAX_CLOCK`], no wrapped range or block: yrs' unchecked
//!    u32 clock arithmetic otherwise wraps and the room panics at the next encode.
//! 2. No hole in a client's clocks (`Rejected::Gap`): yrs 0.28 integrates such blocks at once with
//!    placeholder blocks, a path that underflows.
//! 3. [`check_round_trip`]: the update's encoding decodes and encodes again to the same bytes. This
//!    catches the `ContentJSON` poison above. On the same encoding, [`check_block_ends`] adds up
//!    every block's clock range in 64 bits: a block whose length wraps u32 hides from the views of
//!    the update yrs offers, which step 1 reads.
//! 4. After applying, and only when the document holds pending (unintegrated) parts, the pending parts
//!    must decode the way `merge_pending_v1` decodes them. Should a poison ever pass step 3, the
//!    pending parts are dropped (logged as an error) instead of keeping a room that panics on every
//!    join: pending parts are not part of the document yet, and the peers that sent them send them
//!    again at their next sync. The common case (no pending parts) pays nothing here.
//!
//! Steps 1-3 cost one pass over the update's blocks, one encode of the update and a read of that
//! encoding (not of the document), plus a decode when the encoding differs from the bytes the
//! update came in, and leave the document untouched when they refuse. The read of the encoding also
//! tells where each client's blocks lie: an update that extends the document exactly and integrates
//! whole is then its own delta (`Verbatim`), without yrs' encode of the transaction.

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use std::ops::Range;
use std::panic::AssertUnwindSafe;

use super::protocol::{ProtocolError, Reader};
use yrs::{ClientID, Doc, IdSet, ReadTxn, StateVector, Transact, TransactionMut, Update, WriteTxn};

/// What an accepted update did to the document.
#[derive(Debug)]
pub struct Applied {
    /// What the transaction changed, as an update (v1): `[0, 0]` when nothing was integrated.
    pub delta: Vec<u8>,
    /// The pending parts failed the post-check and were dropped (see the module doc). The delta is
    /// still what was integrated and is fanned out and stored as usual.
    pub dropped_pending: bool,
    /// Encoded size of what the document holds as pending (unintegrated) after the update: 0 when
    /// nothing waits. Measured by the post-check's encode, so it costs nothing more.
    pub pending_bytes: usize,
    /// The document's state vector after the update (v1), when it changed something: read here
    /// because the blocks it walks are still in the cache. The room keeps it with the version for
    /// the submission's `saved`; read at submission, after the coalescing delay and the room's other
    /// work, those blocks are cold (BENCHMARKS.md, "Figures behind code choices").
    pub state_vector: Option<Vec<u8>>,
    /// The document's state vector before the update, when it changed something: the guard's
    /// clock check computed it already, and the room keeps it for connections that fall behind
    /// (`room/core/catchup.rs`) instead of walking the block lists again.
    pub before: Option<StateVector>,
}

impl Applied {
    /// What a transaction that applied one update did, read before it commits. `txn` is fresh: it
    /// applied this update only.
    fn read(txn: &TransactionMut, dropped_pending: bool, pending_bytes: usize) -> Applied {
        let delta = txn.encode_update_v1();
        let changed = delta.len() > 2;
        // yrs computes it from the integrated blocks and the transaction's inserts, which is what
        // the commit leaves too: the commit merges and collects blocks, it moves no client's clock.
        let state_vector = changed.then(|| txn.after_state().encode_v1());
        let before = changed.then(|| txn.before_state().clone());
        Applied {
            delta,
            dropped_pending,
            pending_bytes,
            state_vector,
            before,
        }
    }

    /// What a transaction did that applied one update which extended each of its clients from the
    /// document's clock and integrated whole ([`Verbatim`]): the delta is the bytes the update came
    /// in, and the state vector after it is the one before, moved to the spans' ends. yrs' own reads
    /// of both walk every client's block list of the document (twice: the delta encodes from the
    /// state before, and the state after is a fresh walk), which with the delta's encode was about
    /// 3 % of the server's CPU in a thousand cold rooms (scenario 3, BENCHMARKS.md "Figures behind code
    /// choices").
    fn verbatim(txn: &TransactionMut, received: &[u8], spans: &[ClientSpan]) -> Applied {
        let before = txn.before_state().clone();
        let mut after = before.clone();
        for span in spans {
            after.set_max(span.client, span.end);
        }
        Applied {
            delta: received.to_vec(),
            dropped_pending: false,
            pending_bytes: 0,
            state_vector: Some(after.encode_v1()),
            before: Some(before),
        }
    }

    /// Whether the update changed the document (a duplicate, or an update only held as pending,
    /// changes nothing that can be fanned out).
    pub fn changed(&self) -> bool {
        self.delta.len() > 2
    }
}

/// Why an update was refused. The document is unchanged in every case but [`Rejected::Apply`], where
/// yrs may have integrated part of the update before it failed (as the room's plain apply did).
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    /// The update's own encoding does not decode again: applying it would poison the document.
    #[error("update does not survive a decode/encode round trip ({0}); refused as poison")]
    NotRoundTrip(yrs::encoding::read::Error),
    /// It decodes again, but to something else: yrs would store and send other content than it
    /// received.
    #[error("update changes under a decode/encode round trip; refused as poison")]
    Unstable,
    /// yrs refused it.
    #[error("update failed to apply: {0}")]
    Apply(#[from] yrs::error::UpdateError),
    /// A block or deletion reaches clocks no client ever gets to (see [`MAX_CLOCK`]).
    #[error("update reaches clock {clock}, beyond {MAX_CLOCK}; refused")]
    ClockRange { clock: u32 },
    /// Blocks of a client start beyond what the document has of it, or skip clocks.
    #[error("update leaves a hole in client {client}'s clocks ({from}..{to}); refused")]
    Gap { client: u64, from: u32, to: u32 },
    /// The leading count of an update or state vector is more than its bytes can hold.
    #[error("declares {declared} entries in {len} bytes")]
    Oversized { declared: u64, len: usize },
    /// The leading count is not a valid varint.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// Refuses an update (v1) or state vector (v1) whose leading count (clients) is more than its bytes
/// could hold, before yrs decodes it. Call it on every client payload before `Update::decode_v1` or
/// `StateVector::decode_v1`.
///
/// Why: yrs reserves a hash map for the declared count before reading any entry (`try_reserve`,
/// which succeeds for counts up to what the machine can map), and the map's control bytes are
/// written at once: the 11-byte message `[0, 2, 8, 0xff, 0xff, 0xff, 0xff, 0, 2, 8, 0xff]` makes
/// the decoder allocate and fill 512 MB before it fails. Every entry takes at least two bytes, so a
/// count above the length is a lie.
pub fn precheck(payload: &[u8]) -> Result<(), Rejected> {
    let mut reader = Reader::new(payload);
    let declared = reader.read_var()?;
    if declared > payload.len() as u64 {
        return Err(Rejected::Oversized {
            declared,
            len: payload.len(),
        });
    }
    Ok(())
}

/// Checks `update` (see the module doc) and applies it to `doc` in a transaction of its own.
/// Refusals are logged here (warn); the caller logs with its room and connection ids and closes
/// the sender with 4400 as for any malformed update.
pub fn apply_guarded(doc: &Doc, update: Update) -> Result<Applied, Rejected> {
    let mut txn = doc.transact_mut();
    let (dropped_pending, pending_bytes) = apply_checked(&mut txn, TxnState::Fresh, update, None)?;
    Ok(Applied::read(&txn, dropped_pending, pending_bytes))
}

/// [`apply_guarded`] within a transaction the caller holds (e.g. one for all of a room's stored
/// rows), for an update decoded from `received` when given (see [`try_apply_received`]). Returns
/// whether pending parts were dropped.
pub fn apply_guarded_in(
    txn: &mut TransactionMut,
    update: Update,
    received: Option<&[u8]>,
) -> Result<bool, Rejected> {
    apply_checked(txn, TxnState::Used, update, received).map(|(dropped, _)| dropped)
}

/// [`apply_guarded`] that hands the update back when a check refused it before applying (the
/// document is then untouched). The room holds an update refused with [`Rejected::Gap`] until the
/// clocks it waits for arrive, as yrs would hold it pending if it could do so safely.
pub fn try_apply_guarded(doc: &Doc, update: Update) -> Result<Applied, (Rejected, Option<Update>)> {
    try_apply_received(doc, update, None)
}

/// [`try_apply_guarded`] for an update decoded from `received`, the bytes that came in: its round
/// trip (step 3) then costs one encode and a byte comparison when the encoding gives those bytes back
/// (see [`check_round_trip_of`]).
pub fn try_apply_received(
    doc: &Doc,
    update: Update,
    received: Option<&[u8]>,
) -> Result<Applied, (Rejected, Option<Update>)> {
    let mut txn = doc.transact_mut();
    let verbatim = match check(&txn, TxnState::Fresh, &update, received) {
        Ok(verbatim) => verbatim,
        Err(e) => return Err((e, Some(update))),
    };
    let (dropped_pending, pending_bytes) =
        apply_after_check(&mut txn, update).map_err(|e| (e, None))?;
    // Integrated whole: nothing of it, and nothing that waited, is pending now.
    if let (Some(Verbatim(spans)), Some(bytes)) = (verbatim, received)
        && !dropped_pending
        && !txn.has_missing_updates()
    {
        return Ok(Applied::verbatim(&txn, bytes, &spans));
    }
    Ok(Applied::read(&txn, dropped_pending, pending_bytes))
}

/// Both of the above: whether pending parts were dropped, and the size of what stays pending.
fn apply_checked(
    txn: &mut TransactionMut,
    txn_state: TxnState,
    update: Update,
    received: Option<&[u8]>,
) -> Result<(bool, usize), Rejected> {
    check(txn, txn_state, &update, received)?;
    apply_after_check(txn, update)
}

/// An update that [`check`] found to extend the document exactly: its encoding is the bytes it came
/// in (up to the parent-sub flag, see [`check_round_trip_of`]); each client's blocks start at the
/// document's clock for that client, hold no skip and cover at least one clock; and the document held
/// nothing pending. If it then integrates whole (nothing pending after it), the transaction inserted
/// exactly its blocks, so yrs' encoding of the transaction would be those blocks again; its delete
/// set is the update's, plus any deletions that integrating implies (a concurrent map overwrite
/// deletes the loser), which every peer integrating the same bytes implies the same way. The bytes
/// are then a delta that every peer and a reload integrate to the same document, as the null relay
/// and Yjs servers forward them.
struct Verbatim(Vec<ClientSpan>);

/// Where one client's blocks lie in an update's encoding (read by [`check_block_ends`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClientSpan {
    client: ClientID,
    /// The first block's clock.
    start: u32,
    /// The clock after the last block.
    end: u32,
    /// Whether a skip (a hole placeholder) is among the blocks.
    skips: bool,
}

/// Whether a transaction has applied anything yet (see [`check_contiguous`]).
#[derive(Debug, Clone, Copy)]
enum TxnState {
    Fresh,
    Used,
}

/// Steps 1-3 of the module doc. A hole (`Gap`) is what an honest client's out-of-order update
/// looks like too, so it is not logged as poison here: the caller decides.
/// `received`: the bytes `update` was decoded from, when the caller has them.
/// `Some` when the update may be taken as its own delta ([`Verbatim`]), which needs the bytes.
fn check(
    txn: &TransactionMut,
    txn_state: TxnState,
    update: &Update,
    received: Option<&[u8]>,
) -> Result<Option<Verbatim>, Rejected> {
    let mut spans = Vec::new();
    let checked = check_clocks(update)
        .and_then(|inserted| check_contiguous(txn, txn_state, inserted))
        .and_then(|()| round_trip(update, received, &mut spans));
    match &checked {
        Err(Rejected::Gap { .. }) => {}
        Err(e) => tracing::warn!(error = %e, "poisoned update refused before applying"),
        Ok(_) => {}
    }
    let same_bytes = checked?;
    let extends = same_bytes
        && matches!(txn_state, TxnState::Fresh)
        && !spans.is_empty()
        && !txn.has_missing_updates()
        && spans.iter().all(|span| {
            !span.skips
                && span.end > span.start
                && span.start == txn.before_state().get(&span.client)
        });
    Ok(extends.then_some(Verbatim(spans)))
}

/// Step 4 of the module doc, after [`check`] passed.
fn apply_after_check(txn: &mut TransactionMut, update: Update) -> Result<(bool, usize), Rejected> {
    txn.apply_update(update)?;
    if !txn.has_missing_updates() {
        return Ok((false, 0));
    }
    match pending_size(txn) {
        Some(bytes) => Ok((false, bytes)),
        None => {
            tracing::error!(
                "pending parts of the document do not decode; dropped them to keep the room"
            );
            drop_pending(txn);
            Ok((true, 0))
        }
    }
}

/// A client's clock ranges in an update.
pub type ClientRanges = (ClientID, Vec<Range<u32>>);

/// The highest clock an update may reach (a client's clock counts what it ever inserted: two billion
/// is out of any room's reach). yrs adds and subtracts clocks in u32 without checks; an update with
/// blocks near `u32::MAX` (found by the fuzz target, `fuzz/corpus/room_input/seed-regression-clock-wrap`)
/// wraps them and the room panics while applying it or at the next encode.
pub const MAX_CLOCK: u32 = 1 << 31;

/// Refuses an update whose blocks or deletions end beyond [`MAX_CLOCK`]. yrs computes the ends
/// itself (`insertions`), with the same u32 additions that overflow later; with the overflow checks
/// the release profile enables for yrs they panic, so they run under `catch_unwind`. That is safe:
/// they read the decoded update, not the document. Returns each client's inserted clock ranges.
pub fn check_clocks(update: &Update) -> Result<Vec<ClientRanges>, Rejected> {
    let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let inserted = update.insertions(true);
        let mut highest = 0u32;
        let mut ranges_of = Vec::new();
        for (i, set) in [&inserted, update.delete_set()].into_iter().enumerate() {
            for (client, ranges) in set.iter() {
                let ranges: Vec<Range<u32>> = ranges.iter().cloned().collect();
                for range in &ranges {
                    // An inverted range (a length that wrapped) is as bad as a high clock.
                    let end = if range.start > range.end {
                        u32::MAX
                    } else {
                        range.end
                    };
                    highest = highest.max(end);
                }
                if i == 0 {
                    ranges_of.push((*client, ranges));
                }
            }
        }
        (highest, ranges_of)
    }));
    // A block whose length wraps its clock is dropped from `insertions` (an inverted range), but it
    // also makes yrs' own state vector of the update end at the wrapped clock: for a client whose
    // blocks start at 0, that end must cover every insertion (fuzz/open/find-index-div-zero: a GC
    // block of length u32::MAX at clock 1 ends at 0, and `find_index` divides by it).
    let checked = checked.map(|(highest, ranges)| {
        let ends = update.state_vector();
        let lower = update.state_vector_lower();
        let wrapped_from_zero = ranges.iter().any(|(client, ranges)| {
            lower.contains_client(client)
                && lower.get(client) == 0
                && ranges.iter().any(|r| r.end > ends.get(client))
        });
        // Every client's first block starts its ranges; a wrapped first block is missing from
        // them, and a block after a wrapped one starts below it.
        let wrapped_first = lower.iter().any(|(client, &first)| {
            let ranges = ranges.iter().find(|(c, _)| c == client).map(|(_, r)| r);
            !ranges.is_some_and(|r| {
                r.iter().any(|r| r.start == first) && r.iter().all(|r| r.start >= first)
            })
        });
        let wrapped = wrapped_from_zero || wrapped_first;
        (if wrapped { u32::MAX } else { highest }, ranges)
    });
    match checked {
        Ok((clock, ranges)) if clock <= MAX_CLOCK => Ok(ranges),
        Ok((clock, _)) => Err(Rejected::ClockRange { clock }),
        Err(_) => Err(Rejected::ClockRange { clock: u32::MAX }),
    }
}

/// Refuses an update that leaves a hole in a client's clocks: one starting beyond what the document
/// has of that client, or skipping clocks inside. yrs 0.28 integrates such blocks at once with
/// placeholder (skip) blocks, and the fuzz target found that path underflowing (`block_store.rs:320`)
/// and corrupting the store. A client sends its own updates in order on its connection, and after a
/// reconnect its sync step 2 carries everything the server lacks, so a hole only comes from a
/// crafted update (or a lost one: the refused client reconnects and resyncs). Updates that wait for
/// *another* client's blocks (pending parts) are unaffected.
fn check_contiguous(
    txn: &TransactionMut,
    txn_state: TxnState,
    inserted: Vec<ClientRanges>,
) -> Result<(), Rejected> {
    // In a fresh transaction the state before it is the document's now, and yrs computes it once per
    // transaction: encoding the delta after the apply needs it too (a separate `state_vector()` here
    // was a second walk of every client's blocks per update). A transaction that already applied
    // rows (`apply_guarded_in`) has moved on since it began.
    let owned;
    let sv = match txn_state {
        TxnState::Fresh => txn.before_state(),
        TxnState::Used => {
            owned = txn.state_vector();
            &owned
        }
    };
    for (client, mut ranges) in inserted {
        ranges.sort_by_key(|r| r.start);
        let mut reached = sv.get(&client);
        for range in ranges {
            if range.start > reached {
                return Err(Rejected::Gap {
                    client: client.get(),
                    from: reached,
                    to: range.start,
                });
            }
            reached = reached.max(range.end);
        }
    }
    Ok(())
}

/// Step 3: `update` encodes to bytes that decode to the same update. Compared as values, not as
/// bytes: an `Any` map (a JSON object, e.g. `{type, i}` set by a stock client) is a `HashMap` in
/// yrs, whose keys encode in an order that differs from one map to the next, so a byte comparison
/// refused honest updates (found by tests/node/durability.test.mjs once the room used the guard).
pub fn check_round_trip(update: &Update) -> Result<(), Rejected> {
    check_round_trip_of(update, None)
}

/// Step 3 for an update decoded from `received`, with [`check_block_ends`] on the same encoding.
///
/// When the update encodes to the bytes it came in, decoding its encoding is decoding `received`
/// again, which gave `update`: decoding is a function of the bytes, so the second decode and the
/// comparison of two decoded updates can be skipped. One difference is allowed: yrs drops the
/// parent-sub flag ([`yrs::block::HAS_PARENT_SUB`]) from the info byte of an item that has an origin,
/// where Yjs and yrs clients set it (every map overwrite has both), and its decoder never reads that
/// flag when an origin is there (the parent and its key come from the origin; the content reads only
/// the low four bits). So `received` may differ from the encoding exactly at such info bytes, by that
/// flag alone; [`check_block_ends`] reports where they are. The `ContentJSON` poison encodes to other
/// bytes (one string more or fewer), and so does an `Any` map whose keys come out in another order:
/// both take the full check.
pub fn check_round_trip_of(update: &Update, received: Option<&[u8]>) -> Result<(), Rejected> {
    round_trip(update, received, &mut Vec::new()).map(|_| ())
}

/// [`check_round_trip_of`], which also reports whether `received` is the encoding (the shortcut was
/// taken) and, when it is given, where each client's blocks lie in it (`spans`).
fn round_trip(
    update: &Update,
    received: Option<&[u8]>,
    spans: &mut Vec<ClientSpan>,
) -> Result<bool, Rejected> {
    let first = update.encode_v1();
    // Where yrs may have dropped the flag: needed only to compare with `received`.
    let mut flag_dropped = Vec::new();
    read_block_ends(
        &first,
        |at| {
            if received.is_some() {
                flag_dropped.push(at);
            }
        },
        |span| {
            if received.is_some() {
                spans.push(span);
            }
        },
    )?;
    if received.is_some_and(|bytes| same_but_parent_sub(bytes, &first, &flag_dropped)) {
        return Ok(true);
    }
    let again = Update::decode_v1(&first).map_err(Rejected::NotRoundTrip)?;
    if again != *update {
        return Err(Rejected::Unstable);
    }
    Ok(false)
}

/// Whether `received` is `encoded` with the parent-sub flag set on some of the info bytes at `infos`
/// (positions in ascending order), and otherwise the same bytes.
fn same_but_parent_sub(received: &[u8], encoded: &[u8], infos: &[usize]) -> bool {
    use yrs::block::HAS_PARENT_SUB;
    received.len() == encoded.len()
        && received
            .iter()
            .zip(encoded)
            .enumerate()
            .all(|(i, (&r, &e))| {
                r == e
                    || (r == e | HAS_PARENT_SUB
                        && e & HAS_PARENT_SUB == 0
                        && infos.binary_search(&i).is_ok())
            })
}

/// Refuses an update with a block that ends beyond [`MAX_CLOCK`], read from its v1 encoding
/// (`encoded`, yrs' own encoding of the decoded update) block by block, the way yrs decodes it, with
/// the clocks added up in 64 bits. yrs keeps clocks and lengths in u32 and adds them without checks
/// in the release build, so a GC, skip or deleted block whose length is near `u32::MAX` wraps: its
/// range comes out inverted and [`check_clocks`] cannot see it in `insertions`, and yrs' own
/// `state_vector` of the update shows the wrapped end only for a client whose blocks start at clock
/// 0. Applied, such a block leaves the document's block list with a clock lower than the items
/// before it, and a later full-state encode of the document builds a string slice from those clocks
/// and panics (fuzz finding `tail-gc-wrap`: a GC block of length `u32::MAX - 4` after a client's
/// items, in an update that starts at clock 34; the room panicked at the next joiner, and with the
/// row stored, at every joiner after each reload).
///
/// `origin_info` hears the position in `encoded` of the info byte of every item with an origin (see
/// [`check_round_trip_of`]).
pub fn check_block_ends(encoded: &[u8], origin_info: impl FnMut(usize)) -> Result<(), Rejected> {
    read_block_ends(encoded, origin_info, |_| {})
}

/// [`check_block_ends`], which also hands each client's [`ClientSpan`] to `span`.
fn read_block_ends(
    encoded: &[u8],
    mut origin_info: impl FnMut(usize),
    mut span: impl FnMut(ClientSpan),
) -> Result<(), Rejected> {
    use yrs::block::{
        BLOCK_GC_REF_NUMBER, BLOCK_SKIP_REF_NUMBER, HAS_ORIGIN, HAS_PARENT_SUB, HAS_RIGHT_ORIGIN,
        ItemContent,
    };
    use yrs::encoding::read::Read;
    use yrs::updates::decoder::{Decoder, DecoderV1};

    let malformed = |e: yrs::encoding::read::Error| Rejected::NotRoundTrip(e);
    let mut decoder = DecoderV1::from(encoded);
    let clients: u32 = decoder.read_var().map_err(malformed)?;
    for _ in 0..clients {
        let blocks: u32 = decoder.read_var().map_err(malformed)?;
        let client = decoder.read_client().map_err(malformed)?;
        let start = decoder.read_var::<u32>().map_err(malformed)?;
        let mut clock = u64::from(start);
        let mut skips = false;
        for _ in 0..blocks {
            // The decoder has no position; what is left after it tells.
            let at = encoded.len() - decoder.read_to_end().map_err(malformed)?.len();
            let info = decoder.read_info().map_err(malformed)?;
            let len = match info {
                BLOCK_SKIP_REF_NUMBER => {
                    skips = true;
                    decoder.read_var::<u32>().map_err(malformed)?
                }
                BLOCK_GC_REF_NUMBER => decoder.read_len().map_err(malformed)?,
                info => {
                    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) != 0 {
                        origin_info(at);
                    }
                    if info & HAS_ORIGIN != 0 {
                        decoder.read_left_id().map_err(malformed)?;
                    }
                    if info & HAS_RIGHT_ORIGIN != 0 {
                        decoder.read_right_id().map_err(malformed)?;
                    }
                    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                        if decoder.read_parent_info().map_err(malformed)? {
                            decoder.read_string().map_err(malformed)?;
                        } else {
                            decoder.read_left_id().map_err(malformed)?;
                        }
                        if info & HAS_PARENT_SUB != 0 {
                            decoder.read_string().map_err(malformed)?;
                        }
                    }
                    ItemContent::decode(&mut decoder, info)
                        .map_err(malformed)?
                        .len_utf16()
                }
            };
            clock += u64::from(len);
            if clock > u64::from(MAX_CLOCK) {
                return Err(Rejected::ClockRange {
                    clock: u32::try_from(clock).unwrap_or(u32::MAX),
                });
            }
        }
        span(ClientSpan {
            client,
            start,
            // At most MAX_CLOCK, checked above.
            end: u32::try_from(clock).unwrap_or(u32::MAX),
            skips,
        });
    }
    Ok(())
}

/// Step 4: what `merge_pending_v1` will decode at every `encode_state_as_update_v1` decodes.
/// `Some(encoded size of the pending parts)` when it does, `None` when it does not.
fn pending_size(txn: &TransactionMut) -> Option<usize> {
    let store = txn.store();
    let mut bytes = 0;
    if let Some(pending) = store.pending_update() {
        let encoded = pending.update.encode_v1();
        Update::decode_v1(&encoded).ok()?;
        bytes += encoded.len();
    }
    if let Some(ds) = store.pending_ds() {
        let encoded = ds.encode_v1();
        IdSet::decode_v1(&encoded).ok()?;
        bytes += encoded.len();
    }
    Some(bytes)
}

/// Drops the document's pending (unintegrated) parts, logged by the caller: a room whose pending
/// parts passed its bound (see the room core). They are not part of the document and were never
/// stored or acknowledged; the clients that sent them still hold them and send them again when
/// they resync.
pub fn clear_pending(doc: &Doc) {
    drop_pending(&mut doc.transact_mut());
}

/// yrs offers no way to remove the pending parts, but they can be emptied: an empty pending update
/// and delete set encode to `[0, 0]` and `[0]`, which merge harmlessly.
fn drop_pending(txn: &mut TransactionMut) {
    let store = txn.store_mut();
    if let Some(pending) = store.pending_update_mut() {
        pending.update = Update::new();
        pending.missing = StateVector::default();
    }
    if let Some(ds) = store.pending_ds_mut() {
        *ds = IdSet::default();
    }
}

/// Whether `snapshot` (a whole document as one v1 update) loads: it decodes and applies to an empty
/// document, as a room's load (`doc_from_rows`) would apply it. A document can hold a state that
/// does not (fuzz/findings/snapshot-invalid-parent: an item accepted as pending under a parent that
/// turns out to be a text item makes the full state fail with `InvalidParent`); a snapshot of it
/// must not replace the rows it was made from, which do load.
///
/// A hole in a client's clocks is not a failure here: with several writers, the log can hold a
/// client's later edits before its earlier ones are stored, and the snapshot carries them as the
/// rows did. A load holds such a row until the rows that close the hole have applied (the room's
/// load retries early rows), so the snapshot loads exactly when its rows would; it still has to
/// decode to itself (the round trip) like any update.
pub fn snapshot_loads(snapshot: &[u8]) -> Result<(), String> {
    let update = Update::decode_v1(snapshot).map_err(|e| format!("does not decode: {e}"))?;
    let doc = Doc::new();
    let mut txn = doc.transact_mut();
    match check(&txn, TxnState::Fresh, &update, Some(snapshot)) {
        Ok(_) => apply_after_check(&mut txn, update)
            .map(drop)
            .map_err(|e| format!("does not apply: {e}")),
        Err(Rejected::Gap { .. }) => check_round_trip_of(&update, Some(snapshot))
            .map_err(|e| format!("does not round-trip: {e}")),
        Err(e) => Err(format!("does not apply: {e}")),
    }
}

/// The room's joiner path on a guarded document: its state vector and its step 2 for `sv`.
/// Used by the tests and the fuzz target to check that the document still serves joiners.
pub fn serve_joiner(doc: &Doc, sv: &StateVector) -> (Vec<u8>, Vec<u8>) {
    let txn = doc.transact();
    (
        txn.state_vector().encode_v1(),
        txn.encode_state_as_update_v1(sv),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, Mutex};

    use yrs::{Array, Map, Transact};

    use super::*;

    /// 11 bytes: one block of client 1 at clock 0 with a left origin (client 9, clock 0) that the
    /// document lacks, so it stays pending, and `ContentJSON` declaring 0 strings followed by one
    /// string (yrs reads length + 1 strings); an empty delete set.
    pub(crate) const PENDING_JSON: &[u8] = &[1, 1, 1, 0, 0x82, 9, 0, 0, 1, b'1', 0];

    /// The same content under the root map `a`: it integrates at once.
    const ROOT_JSON: &[u8] = &[1, 1, 1, 0, 2, 1, 1, b'a', 0, 1, b'1', 0];

    fn decode(bytes: &[u8]) -> Update {
        Update::decode_v1(bytes).expect("decodes")
    }

    /// `count` edits of one client, each as the update its transaction produced. Each appends to an
    /// array, so each edit's item has the previous one as its origin: applied out of order, it waits.
    fn edits(client: u64, count: usize) -> (Doc, Vec<Vec<u8>>) {
        let doc = Doc::with_client_id(client);
        let nodes = doc.get_or_insert_array("nodes");
        let updates = (0..count)
            .map(|i| {
                let mut txn = doc.transact_mut();
                nodes.push_back(&mut txn, format!("n{i}"));
                txn.encode_update_v1()
            })
            .collect();
        (doc, updates)
    }

    fn full_state(doc: &Doc) -> Vec<u8> {
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The document as a fresh peer sees it after a joiner's sync: state vector and `nodes` items.
    fn as_joiner_sees_it(doc: &Doc) -> (StateVector, Vec<String>) {
        let (sv, step2) = serve_joiner(doc, &StateVector::default());
        let peer = Doc::new();
        peer.transact_mut()
            .apply_update(Update::decode_v1(&step2).expect("step 2 decodes"))
            .expect("step 2 applies");
        let nodes = peer.get_or_insert_array("nodes");
        let txn = peer.transact();
        let items = nodes.iter(&txn).map(|v| v.to_string(&txn)).collect();
        (
            StateVector::decode_v1(&sv).expect("state vector decodes"),
            items,
        )
    }

    /// Runs `f` with a subscriber that records every event's formatted line.
    fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let out = tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        (out, text)
    }

    /// The upstream bug on plain yrs: the poison applies cleanly, then every encode of the state
    /// panics in `merge_pending_v1`. When this test fails, yrs has fixed it and the guard's
    /// round-trip check can be reconsidered (docs/upstream/yrs-merge-pending-panic.md).
    #[test]
    fn plain_yrs_panics_at_the_step_after_the_poison() {
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(decode(PENDING_JSON))
            .expect("the poison applies cleanly");
        assert!(doc.transact().has_missing_updates(), "held as pending");
        let panicked = catch_unwind(AssertUnwindSafe(|| full_state(&doc))).is_err();
        assert!(
            panicked,
            "encode_state_as_update_v1 panics on the poisoned document"
        );
        // The root cause: ContentJSON does not survive yrs' own round trip.
        let once = decode(PENDING_JSON).encode_v1();
        assert!(Update::decode_v1(&once).is_err(), "{once:?} decodes again");
    }

    #[test]
    fn the_poison_is_refused_before_applying_and_logged() {
        let doc = Doc::new();
        let (result, log) = logged(|| apply_guarded(&doc, decode(PENDING_JSON)));
        assert!(
            matches!(result, Err(Rejected::NotRoundTrip(_))),
            "{result:?}"
        );
        assert!(log.contains("poisoned update refused"), "log: {log}");
        let txn = doc.transact();
        assert!(!txn.has_missing_updates(), "nothing was kept");
        assert!(txn.state_vector().is_empty());
    }

    /// Given the bytes it was decoded from, the poison still takes the full round trip: its encoding
    /// is not those bytes. An honest update's is, and it passes on the byte comparison alone.
    #[test]
    fn the_received_bytes_shortcut_never_lets_the_poison_through() {
        let doc = Doc::new();
        let result = try_apply_received(&doc, decode(PENDING_JSON), Some(PENDING_JSON));
        assert!(
            matches!(result, Err((Rejected::NotRoundTrip(_), _))),
            "{:?}",
            result.map(|a| a.delta)
        );
        assert_ne!(decode(PENDING_JSON).encode_v1(), PENDING_JSON);
        assert!(!doc.transact().has_missing_updates(), "nothing was kept");

        let (source, updates) = edits(7, 3);
        for update in &updates {
            assert_eq!(&decode(update).encode_v1(), update, "the shortcut's case");
            try_apply_received(&doc, decode(update), Some(update)).expect("accepted");
        }
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
    }

    /// A map overwrite (an item with an origin and a key) comes from yrs and Yjs clients with the
    /// parent-sub flag that yrs' own encoding leaves out: the shortcut still applies, and only for
    /// that flag on those bytes.
    #[test]
    fn a_map_overwrite_takes_the_shortcut_despite_the_parent_sub_flag() {
        let client = Doc::with_client_id(3);
        let map = client.get_or_insert_map("nodes");
        let updates: Vec<Vec<u8>> = (0..3)
            .map(|i| {
                let mut txn = client.transact_mut();
                yrs::Map::insert(&map, &mut txn, "x", f64::from(i));
                txn.encode_update_v1()
            })
            .collect();
        let overwrite = &updates[2];
        let first = decode(overwrite).encode_v1();
        assert_ne!(
            &first, overwrite,
            "yrs drops the flag of an item with an origin"
        );
        let mut infos = Vec::new();
        check_block_ends(&first, |at| infos.push(at)).unwrap();
        assert_eq!(infos.len(), 1, "one item with an origin");
        assert!(same_but_parent_sub(overwrite, &first, &infos));
        // The same flag on any other byte is a difference.
        let mut elsewhere = overwrite.clone();
        for i in 0..elsewhere.len() {
            if infos.contains(&i) || elsewhere[i] & 0x20 != 0 {
                continue;
            }
            elsewhere[i] |= 0x20;
            assert!(!same_but_parent_sub(&elsewhere, &first, &infos), "byte {i}");
            elsewhere[i] &= !0x20;
        }
        let doc = Doc::new();
        for u in &updates {
            try_apply_received(&doc, decode(u), Some(u)).expect("accepted");
        }
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&client));
    }

    /// The update as its own delta ([`Verbatim`]) against yrs' encoding of the transaction: three
    /// writers' map overwrites (with a concurrent one), nested maps, text, an array and deletions,
    /// delivered out of order, twice and late. Each step must report the same outcome, change and
    /// state vectors both ways, and peers fed either path's deltas must end with the same document.
    #[test]
    fn an_update_taken_as_its_own_delta_is_what_yrs_would_have_sent() {
        use yrs::types::ToJson;
        use yrs::{GetString, MapPrelim, Text};
        let writers: Vec<Doc> = [3u64, 4, 5].into_iter().map(Doc::with_client_id).collect();
        let mut updates = Vec::new();
        for round in 0..12u32 {
            for (w, doc) in writers.iter().enumerate() {
                let nodes = doc.get_or_insert_map("nodes");
                let notes = doc.get_or_insert_text("notes");
                let list = doc.get_or_insert_array("list");
                let mut txn = doc.transact_mut();
                match (round + w as u32) % 4 {
                    0 => {
                        nodes.insert(&mut txn, "shared", f64::from(round));
                        nodes.insert(
                            &mut txn,
                            format!("n{w}"),
                            MapPrelim::from([("x", f64::from(round))]),
                        );
                    }
                    1 => {
                        let len = notes.len(&txn);
                        notes.insert(&mut txn, len, &format!("w{w}r{round} "));
                    }
                    2 => {
                        list.push_back(&mut txn, f64::from(round));
                        if list.len(&txn) > 2 {
                            list.remove(&mut txn, 0);
                        }
                    }
                    _ => {
                        let len = notes.len(&txn);
                        if len > 3 {
                            notes.remove_range(&mut txn, 0, 2);
                        }
                        nodes.remove(&mut txn, "shared");
                    }
                }
                updates.push(txn.encode_update_v1());
            }
            // Every few rounds the writers sync, so later edits build on each other's items.
            if round % 3 == 2 {
                for a in &writers {
                    let state = full_state(a);
                    for b in &writers {
                        b.transact_mut().apply_update(decode(&state)).unwrap();
                    }
                }
            }
        }
        // Each writer's updates in its own order (as its connection delivers them), the writers
        // interleaved at random: an item whose origin is another writer's item not yet delivered
        // waits as pending. Some updates come twice.
        let mut queues: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); 3];
        for i in 0..updates.len() {
            queues[i % 3].push_back(i);
        }
        let mut seed = 0x2545_f491_u64;
        let mut delivered = Vec::new();
        while queues.iter().any(|q| !q.is_empty()) {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let w = (seed >> 33) as usize % 3;
            if let Some(i) = queues[w].pop_front() {
                delivered.push(i);
                if delivered.len() % 7 == 3 {
                    delivered.push(delivered[delivered.len() / 2]);
                }
            }
        }
        let (fast, plain) = (Doc::new(), Doc::new());
        let (fast_peer, plain_peer) = (Doc::new(), Doc::new());
        let (mut verbatim, mut refused, mut unchanged) = (0, 0, 0);
        for &i in &delivered {
            let u = &updates[i];
            let a = try_apply_received(&fast, decode(u), Some(u));
            let b = try_apply_guarded(&plain, decode(u));
            let (a, b) = match (a, b) {
                (Ok(a), Ok(b)) => (a, b),
                (Err((ea, _)), Err((eb, _))) => {
                    assert_eq!(format!("{ea}"), format!("{eb}"), "update {i}");
                    refused += 1;
                    continue;
                }
                (a, b) => panic!(
                    "update {i}: {:?} against {:?}",
                    a.map(|_| ()),
                    b.map(|_| ())
                ),
            };
            assert_eq!(a.changed(), b.changed(), "update {i}");
            assert_eq!(a.before, b.before, "update {i}");
            assert_eq!(a.pending_bytes, b.pending_bytes, "update {i}");
            let sv = |s: &Option<Vec<u8>>| s.as_deref().map(|s| StateVector::decode_v1(s).unwrap());
            assert_eq!(sv(&a.state_vector), sv(&b.state_vector), "update {i}");
            assert_eq!(
                sv(&a.state_vector),
                a.changed().then(|| fast.transact().state_vector())
            );
            if &a.delta == u {
                verbatim += 1;
            }
            if !a.changed() {
                unchanged += 1;
                continue;
            }
            fast_peer
                .transact_mut()
                .apply_update(decode(&a.delta))
                .unwrap();
            plain_peer
                .transact_mut()
                .apply_update(decode(&b.delta))
                .unwrap();
        }
        // The update held for a hole is what the room retries later; here every writer's full
        // state closes the holes on both documents alike.
        for w in &writers {
            let state = full_state(w);
            for doc in [&fast, &plain] {
                let _ = try_apply_received(doc, decode(&state), Some(&state));
            }
        }
        assert!(verbatim > 10, "{verbatim} updates taken as their own delta");
        assert!(
            refused + unchanged > 3,
            "{refused} refused, {unchanged} unchanged"
        );
        let content = |doc: &Doc| {
            let nodes = doc.get_or_insert_map("nodes");
            let notes = doc.get_or_insert_text("notes");
            let list = doc.get_or_insert_array("list");
            let txn = doc.transact();
            (
                nodes.to_json(&txn),
                notes.get_string(&txn),
                list.to_json(&txn),
                txn.state_vector(),
            )
        };
        assert_eq!(content(&fast), content(&plain));
        assert_eq!(content(&fast_peer), content(&plain_peer));
        assert_eq!(decode(&full_state(&fast)), decode(&full_state(&plain)));
        assert_eq!(
            decode(&full_state(&fast_peer)),
            decode(&full_state(&plain_peer))
        );
    }

    /// An update that changes the document reports the state vector from before it (the room keeps
    /// it for connections that fall behind); a duplicate reports none.
    #[test]
    fn an_applied_update_reports_the_state_before_it() {
        let writer = Doc::new();
        let nodes = writer.get_or_insert_map("nodes");
        let edit = |value: f64| {
            let mut txn = writer.transact_mut();
            nodes.insert(&mut txn, "a", value);
            txn.encode_update_v1()
        };
        let (first, second) = (edit(1.0), edit(2.0));
        let doc = Doc::new();
        let applied = try_apply_guarded(&doc, decode(&first)).expect("accepted");
        assert_eq!(applied.before, Some(StateVector::default()));
        let before = doc.transact().state_vector();
        let applied = try_apply_guarded(&doc, decode(&second)).expect("accepted");
        assert_eq!(applied.before, Some(before));
        let again = try_apply_guarded(&doc, decode(&second)).expect("accepted");
        assert!(!again.changed());
        assert_eq!(again.before, None);
    }

    /// Integrated, the same content is stored and fanned out in an encoding yrs cannot read back.
    #[test]
    fn integrated_json_content_is_refused_too() {
        let plain = Doc::new();
        plain
            .transact_mut()
            .apply_update(decode(ROOT_JSON))
            .expect("applies");
        assert!(
            Update::decode_v1(&full_state(&plain)).is_err(),
            "plain yrs cannot read its own state back"
        );
        let guarded = Doc::new();
        let result = apply_guarded(&guarded, decode(ROOT_JSON));
        assert!(
            matches!(result, Err(Rejected::NotRoundTrip(_))),
            "{result:?}"
        );
        assert!(Update::decode_v1(&full_state(&guarded)).is_ok());
    }

    #[test]
    fn normal_and_out_of_order_updates_still_apply() {
        // Client 8 appends after client 7's items: its update depends on blocks of client 7.
        let (source, updates) = edits(7, 2);
        let other = Doc::with_client_id(8);
        other
            .transact_mut()
            .apply_update(decode(&full_state(&source)))
            .unwrap();
        let later = {
            let nodes = other.get_or_insert_array("nodes");
            let mut txn = other.transact_mut();
            nodes.push_back(&mut txn, "from 8");
            txn.encode_update_v1()
        };
        let doc = Doc::new();
        // Client 8's edit first: held as pending, nothing to fan out yet.
        let held = apply_guarded(&doc, decode(&later)).expect("accepted");
        assert!(!held.changed() && !held.dropped_pending);
        assert!(doc.transact().has_missing_updates());
        // Client 7's second edit before its first leaves a hole in its clocks: refused.
        let gap = apply_guarded(&doc, decode(&updates[1]));
        assert!(
            matches!(
                gap,
                Err(Rejected::Gap {
                    client: 7,
                    from: 0,
                    to: 1
                })
            ),
            "{gap:?}"
        );
        assert!(held.state_vector.is_none(), "nothing integrated, no state");
        for update in &updates {
            let applied = apply_guarded(&doc, decode(update)).expect("accepted");
            assert!(applied.changed());
            // The state vector read inside the transaction is the one after its commit, including
            // the held edit of client 8 that the second update let in.
            let sv = applied.state_vector.expect("a change has a state vector");
            assert_eq!(
                StateVector::decode_v1(&sv).expect("decodes"),
                doc.transact().state_vector()
            );
        }
        assert_eq!(doc.transact().state_vector().get(&ClientID::new(8)), 1);
        assert!(
            !doc.transact().has_missing_updates(),
            "the pending edit got integrated"
        );
        // A duplicate changes nothing.
        assert!(!apply_guarded(&doc, decode(&updates[1])).unwrap().changed());
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&other));
    }

    #[test]
    fn consecutive_rows_apply_in_one_transaction_and_a_hole_is_still_refused() {
        // A room's load applies its stored rows in one transaction: each row continues the clocks
        // the previous one reached in that same transaction, which the state before it does not
        // have (the check must read the document as it is, not as the transaction began).
        let (source, updates) = edits(7, 3);
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for update in &updates[..2] {
                apply_guarded_in(&mut txn, decode(update), Some(update))
                    .expect("a contiguous row is accepted");
            }
        }
        let mut txn = doc.transact_mut();
        apply_guarded_in(&mut txn, decode(&updates[2]), None).expect("the next row too");
        drop(txn);
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
        // A fresh transaction on an empty document: the second edit alone leaves a hole.
        let empty = Doc::new();
        let mut txn = empty.transact_mut();
        let gap = apply_guarded_in(&mut txn, decode(&updates[1]), None);
        assert!(
            matches!(gap, Err(Rejected::Gap { client: 7, .. })),
            "{gap:?}"
        );
        drop(txn);
        let gap = try_apply_guarded(&empty, decode(&updates[1]));
        assert!(
            matches!(gap, Err((Rejected::Gap { client: 7, .. }, Some(_)))),
            "{:?}",
            gap.err().map(|(e, _)| e)
        );
    }

    #[test]
    fn the_document_serves_step1_and_step2_after_a_refusal() {
        let (source, updates) = edits(11, 2);
        let doc = Doc::new();
        apply_guarded(&doc, decode(&updates[0])).expect("accepted");
        assert!(apply_guarded(&doc, decode(PENDING_JSON)).is_err());
        apply_guarded(&doc, decode(&updates[1])).expect("accepted");
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
        // A peer that has the first edit gets exactly the second.
        let mut partial = StateVector::default();
        partial.set_max(yrs::ClientID::new(11), 1);
        let (_, diff) = serve_joiner(&doc, &partial);
        let peer = Doc::new();
        peer.transact_mut()
            .apply_update(decode(&updates[0]))
            .unwrap();
        peer.transact_mut().apply_update(decode(&diff)).unwrap();
        assert_eq!(as_joiner_sees_it(&peer), as_joiner_sees_it(&source));
    }

    /// Found by the fuzz target (fuzz/corpus/room_input/seed-regression-clock-wrap, the payload of its
    /// `[0, 2, len]` message): client 7's blocks start near `u32::MAX`. Debug builds' overflow checks
    /// make the decoder panic on it (the reader catches that); in release the guard must refuse it.
    const CLOCK_WRAP: &[u8] = &[
        1, 3, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 0, 4, 1, 0xca, 1, 1, 1, 0, 0, 2, 0, 0, 3, 1, 7, 5,
    ];

    /// An item of client 7 at clock 0, then a GC block at clock 1 of length `u32::MAX` (its end wraps
    /// to 0): plain yrs divides by zero in `find_index` when the next update touches client 7.
    const GC_WRAP: &[u8] = &[
        1, 3, 7, 0, 0x14, 1, 1, 0x74, 1, 0x61, 0x84, 7, 0x62, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f,
        0, 0,
    ];

    /// One GC block of client 1234567 at clock 98566016 of length `u32::MAX` (found by the fuzz
    /// target: plain yrs underflows in `BlockStore::push`, inside the transaction, and aborts).
    const GC_WRAP_HIGH: &[u8] = &[
        1, 1, 0x87, 0xad, 0x4b, 0x80, 0xff, 0xff, 0x2e, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0,
    ];

    /// One GC block of client 7 at clock `u32::MAX - 15`, 15 long: decodes in every build.
    const HIGH_CLOCK: &[u8] = &[1, 1, 7, 0xf0, 0xff, 0xff, 0xff, 0x0f, 0, 15, 0];

    /// fuzz/corpus/room_input/seed-regression-tail-gc-wrap (found 2026-12-06): a frame of seven
    /// updates of client 42; the sixth ends with a GC block at clock 41 of length `u32::MAX - 4`,
    /// whose end wraps to 37, in an update whose blocks start at 34. Applied, the document's
    /// full-state encode panicked (capacity overflow building a string slice) about one time in
    /// four, depending on hash order.
    #[test]
    fn a_wrapped_block_at_the_end_of_a_client_is_refused() {
        let frame = std::fs::read(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/corpus/room_input/seed-regression-tail-gc-wrap"),
        )
        .expect("the seed is in the repository");
        let updates: Vec<bytes::Bytes> = crate::sync::parse_frame(&bytes::Bytes::from(frame))
            .expect("the frame parses")
            .into_iter()
            .filter_map(|m| match m {
                crate::sync::ClientMessage::SyncStep2(u)
                | crate::sync::ClientMessage::Update(u) => Some(u),
                _ => None,
            })
            .collect();
        // Read from the bytes: in every build (a debug build's yrs panics decoding the sixth).
        let ends: Vec<bool> = updates
            .iter()
            .map(|u| check_block_ends(u, |_| {}).is_ok())
            .collect();
        assert_eq!(ends[..6], [true, true, true, true, true, false], "{ends:?}");
        assert!(matches!(
            check_block_ends(&updates[5], |_| {}),
            Err(Rejected::ClockRange { clock: u32::MAX })
        ));
        // Through the guard as the room applies them (release builds decode the sixth).
        let doc = Doc::new();
        let mut refused = Vec::new();
        for u in &updates {
            let Ok(Ok(update)) = catch_unwind(|| Update::decode_v1(u)) else {
                continue;
            };
            if let Err((e, _)) = try_apply_received(&doc, update, Some(u)) {
                refused.push(e);
            }
        }
        if cfg!(debug_assertions) {
            assert!(refused.is_empty(), "{refused:?}");
        } else {
            assert!(
                matches!(refused[..], [Rejected::ClockRange { .. }]),
                "{refused:?}"
            );
        }
        for _ in 0..64 {
            full_state(&doc);
        }
    }

    #[test]
    fn clocks_near_the_u32_limit_are_refused() {
        let (source, updates) = edits(9, 1);
        let doc = Doc::new();
        let result = apply_guarded(&doc, decode(HIGH_CLOCK));
        assert!(
            matches!(result, Err(Rejected::ClockRange { clock: 0xffff_ffff })),
            "{result:?}"
        );
        // Debug builds' decoder refuses these itself (what the reader does with them); release
        // builds decode them, and the guard must refuse them.
        for wrapping in [CLOCK_WRAP, GC_WRAP, GC_WRAP_HIGH] {
            if let Ok(Ok(update)) = catch_unwind(|| Update::decode_v1(wrapping)) {
                let result = apply_guarded(&doc, update);
                assert!(
                    matches!(result, Err(Rejected::ClockRange { .. })),
                    "{result:?}"
                );
            }
        }
        apply_guarded(&doc, decode(&updates[0])).expect("a normal update still applies");
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
        check_clocks(&decode(&updates[0])).expect("normal clocks pass");
    }

    /// A JSON object of several keys (what a stock client's `map.set(k, {type, i})` sends) encodes
    /// its keys in `HashMap` order: the round trip must compare values, not bytes.
    #[test]
    fn objects_of_several_keys_pass_the_round_trip() {
        let doc = Doc::with_client_id(4);
        let nodes = doc.get_or_insert_map("nodes");
        let updates: Vec<Vec<u8>> = (0..50)
            .map(|i| {
                let mut txn = doc.transact_mut();
                let value: yrs::Any = yrs::Any::from(std::collections::HashMap::from([
                    ("type".to_string(), yrs::Any::from("app")),
                    ("i".to_string(), yrs::Any::from(i as f64)),
                    ("label".to_string(), yrs::Any::from(format!("n{i}"))),
                    ("x".to_string(), yrs::Any::from(1.5)),
                ]));
                yrs::Map::insert(&nodes, &mut txn, format!("n{i}"), value);
                txn.encode_update_v1()
            })
            .collect();
        let room = Doc::new();
        for u in &updates {
            apply_guarded(&room, decode(u)).expect("an object value is no poison");
        }
    }

    /// What yrs does with a lying count, and what `precheck` refuses.
    #[test]
    fn precheck_refuses_counts_the_bytes_cannot_hold() {
        let bomb: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0, 2, 8, 0xff];
        assert!(matches!(
            precheck(bomb),
            Err(Rejected::Oversized {
                declared: 268_435_455,
                len: 8
            })
        ));
        assert!(matches!(precheck(&[0x80]), Err(Rejected::Protocol(_))));
        assert!(matches!(
            precheck(&[4, 0, 0]),
            Err(Rejected::Oversized { .. })
        ));
        let (doc, updates) = edits(3, 2);
        for u in &updates {
            precheck(u).expect("a real update passes");
        }
        precheck(&doc.transact().state_vector().encode_v1()).expect("a real state vector passes");
        precheck(&StateVector::default().encode_v1()).expect("an empty state vector passes");
        precheck(&[0, 0]).expect("an empty update passes");
    }

    /// The second lock: a document that already holds poisoned pending parts (here put there by a
    /// plain apply) is healed by the next guarded apply instead of panicking at every join.
    #[test]
    fn poisoned_pending_parts_are_dropped_and_logged() {
        let (source, updates) = edits(5, 1);
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(decode(PENDING_JSON))
            .unwrap();
        let (applied, log) = logged(|| apply_guarded(&doc, decode(&updates[0])));
        let applied = applied.expect("the good update is accepted");
        assert!(applied.dropped_pending && applied.changed());
        assert!(
            log.contains("pending parts of the document do not decode"),
            "log: {log}"
        );
        assert_eq!(as_joiner_sees_it(&doc), as_joiner_sees_it(&source));
    }
}
