//! A connection's sending side: the room writes framed messages straight into the socket; a writer
//! task takes over only when the socket is full.
//!
//! Every write goes through [`SocketOutlet::state`], a std mutex held for one non-blocking `send`
//! ([`SocketOutlet::send_now`]: a system call that never waits) and never across an `.await`, so
//! frames from the room, the reader (pongs) and the writer (keepalives, the backlog, the close) never
//! interleave.
//! While the backlog is empty a message costs the room one `write` and no task wake-up: that
//! hand-off (queue push, wake, poll, tungstenite's copy) was the largest cost per delivery the
//! relay did not pay (BENCHMARKS.md, "What limits each figure"). What does not fit waits in the
//! backlog, bounded by the outbox capacity in messages; the room then treats the connection as
//! behind, as it did with a full outbox. The writer task exists only while there is a backlog: an idle
//! connection has one task, its reader, which also sends the keepalives. A message the room holds
//! ([`Outlet::hold`]: a steady `saved`) waits outside the backlog and goes in the same write as the
//! next message, or alone when the room flushes it.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::task::AtomicWaker;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::frame;
use crate::metrics::{Metrics, inc};
use crate::room::{ConnControl, NotSent, Outgoing, Outlet, Stopped};
use crate::sync::protocol;

#[derive(Debug, Default)]
struct State {
    /// Frames (or what is left of the first one) waiting for the socket, in order.
    backlog: VecDeque<Bytes>,
    /// Whether the first frame in the backlog is partly written (it must then go on as it is).
    front_started: bool,
    /// Frames the writer took out of the backlog to merge them; while set, nothing is written
    /// directly (it would overtake them) and they count towards the capacity.
    aside: usize,
    /// No more frames are taken: the connection is closing or its socket failed.
    closed: bool,
    /// The socket failed.
    failed: bool,
    /// Frames were queued since the writer last merged.
    fresh: bool,
    /// A framed message to go out with the next one ([`Outlet::hold`]).
    held: Option<Bytes>,
    /// Someone drains the backlog: set (with a wake-up) by whoever queues the first frame, cleared by
    /// the drain that leaves the backlog empty, both under this lock, so one wake-up starts one
    /// writer and no frame is left behind with none.
    writer_active: bool,
    /// Something was written since the keepalive check last looked.
    wrote: bool,
    /// Keepalive checks in a row that found nothing written.
    silent_checks: u8,
}

/// Why writing stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The socket failed (the peer went away).
    Socket,
    /// No progress within the write timeout: the peer stopped reading.
    Blocked,
    /// The connection was told to stop while frames were waiting.
    Stopped,
}

#[derive(Debug)]
pub struct SocketOutlet {
    stream: Arc<TcpStream>,
    state: Mutex<State>,
    /// Frames wait in the backlog with nobody draining them: the reader, woken through
    /// `queued_waker`, starts the writer task. A flag and the reader's waker rather than a `Notify`:
    /// the reader's `select!` looks at it once per message it reads, and a `Notified` made for each
    /// look took the `Notify`'s lock twice (joining its waiters, then leaving them).
    queued: AtomicBool,
    queued_waker: AtomicWaker,
    /// The most messages the backlog holds before the connection counts as behind.
    capacity: usize,
    control: Arc<ConnControl>,
}

impl SocketOutlet {
    pub fn new(stream: Arc<TcpStream>, capacity: usize, control: Arc<ConnControl>) -> SocketOutlet {
        SocketOutlet {
            stream,
            state: Mutex::new(State::default()),
            queued: AtomicBool::new(false),
            queued_waker: AtomicWaker::new(),
            capacity,
            control,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding it cannot leave the state half-changed in a way that matters more
        // than losing the connection; go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes what it can of `frame` now when nothing waits before it, and queues the rest.
    fn write_or_queue(&self, state: &mut State, frame: &Bytes) {
        if state.backlog.is_empty() && state.aside == 0 {
            let written = self.write_some(state, frame);
            if written == frame.len() || state.closed {
                return;
            }
            state.backlog.push_back(frame.slice(written..));
            state.front_started = written > 0;
        } else {
            state.backlog.push_back(frame.clone());
        }
        state.fresh = true;
        if !state.writer_active {
            state.writer_active = true;
            self.queued.store(true, Ordering::Release);
            self.queued_waker.wake();
        }
    }

    /// Writes as much of `bytes` as the socket takes without waiting. A failed socket closes the
    /// outlet and stops the connection.
    fn write_some(&self, state: &mut State, bytes: &[u8]) -> usize {
        let mut written = 0;
        while written < bytes.len() {
            match self.send_now(&bytes[written..]) {
                Ok(0) => {
                    self.fail(state);
                    break;
                }
                Ok(n) => {
                    written += n;
                    state.wrote = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.fail(state);
                    break;
                }
            }
        }
        written
    }

    /// One non-blocking `send` of `bytes` to the socket.
    ///
    /// On Linux the call goes to the socket's descriptor directly, not through tokio's `try_write`:
    /// that wrapper first reads the connection's readiness word, a cache line of its own in tokio's
    /// I/O driver, which a fan-out to 1,500 connections missed once per connection (`try_io`'s own
    /// code was 3.4 % of scenario 2's server samples, 86 % of it that one load; without it the server
    /// spent 5.60 µs per delivery against 5.83, medians of six alternating runs, BENCHMARKS.md,
    /// "Figures behind code choices"). The readiness is still kept right: a send that would block is
    /// made again through `try_write`, which then clears it, so the writer task's `writable()` waits
    /// for room instead of spinning (`a_full_socket_is_waited_for_not_spun_on`).
    #[cfg(target_os = "linux")]
    fn send_now(&self, bytes: &[u8]) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor belongs to `self.stream`, which `self` keeps alive, so it stays open
        // (and cannot be reused for another file) for the whole call; `send` reads at most
        // `bytes.len()` bytes from `bytes`. MSG_NOSIGNAL: a peer that went away gives EPIPE, not
        // SIGPIPE, as mio's own sends do.
        let sent = unsafe {
            libc::send(
                self.stream.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if sent >= 0 {
            return Ok(sent as usize);
        }
        let error = std::io::Error::last_os_error();
        if error.kind() == ErrorKind::WouldBlock {
            self.stream.try_write(bytes)
        } else {
            Err(error)
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn send_now(&self, bytes: &[u8]) -> std::io::Result<usize> {
        self.stream.try_write(bytes)
    }

    fn fail(&self, state: &mut State) {
        Self::discard(state);
        state.failed = true;
        self.control.stop();
    }

    /// Takes no more messages and drops what waits.
    fn discard(state: &mut State) {
        state.closed = true;
        state.backlog.clear();
        state.front_started = false;
        state.held = None;
    }

    /// Sends a frame outside the capacity (pongs, keepalives): refused only once closed.
    pub fn send_control(&self, frame: &Bytes) {
        let mut state = self.lock();
        if !state.closed {
            self.write_or_queue(&mut state, frame);
        }
    }

    /// Takes no more messages; `last` (a close frame) goes out after what is already waiting.
    /// Returns false when it was closed already (and `last` was not queued).
    pub fn close_with(&self, last: Option<Bytes>) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        if let Some(last) = last {
            self.write_or_queue(&mut state, &last);
        }
        state.closed = true;
        true
    }

    /// Takes no more messages and drops what waits: the peer stopped reading, and nothing more is
    /// written to it (not even a close frame).
    pub fn abandon(&self) {
        Self::discard(&mut self.lock());
    }

    /// Whether a keepalive is due: called by the reader every half keepalive period, it says yes
    /// after two checks in a row found nothing written (so a silence lasts 1.5 periods at most).
    pub fn keepalive_due(&self) -> bool {
        let mut state = self.lock();
        if std::mem::take(&mut state.wrote) {
            state.silent_checks = 0;
            return false;
        }
        state.silent_checks += 1;
        if state.silent_checks >= 2 {
            state.silent_checks = 0;
            return true;
        }
        false
    }

    /// Waits until frames wait in the backlog with nobody draining it: then start a writer.
    /// One task waits at a time (the connection's reader); each signal is taken once, like a
    /// `Notify` permit.
    pub fn queued(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.queued.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            self.queued_waker.register(cx.waker());
            // Looked at again after registering: a signal in between woke the old waker, or none.
            if self.queued.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// Writes the backlog until it is empty. Each wait for the socket is bounded by `limit` (a lack
    /// of progress, not the time the backlog takes as a whole) and raced against `stopped` when
    /// given. Runs of queued updates are merged first (one message instead of many for a client
    /// that is behind).
    pub async fn drain(
        &self,
        limit: Duration,
        mut stopped: Option<&mut Stopped<'_>>,
        metrics: &Metrics,
    ) -> Result<(), WriteError> {
        loop {
            self.merge_queued(metrics);
            {
                let mut state = self.lock();
                let state = &mut *state;
                while let Some(front) = state.backlog.front().cloned() {
                    let written = self.write_some(state, &front);
                    if written == front.len() {
                        state.backlog.pop_front();
                        state.front_started = false;
                    } else {
                        if let Some(front) = state.backlog.front_mut()
                            && written > 0
                        {
                            *front = front.slice(written..);
                            state.front_started = true;
                        }
                        break;
                    }
                }
                if state.failed {
                    state.writer_active = false;
                    return Err(WriteError::Socket);
                }
                if state.backlog.is_empty() {
                    state.writer_active = false;
                    return Ok(());
                }
            }
            let ready = async {
                match timeout(limit, self.stream.writable()).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(_)) => Err(WriteError::Socket),
                    Err(_) => Err(WriteError::Blocked),
                }
            };
            match stopped.as_deref_mut() {
                Some(stopped) => tokio::select! {
                    biased;
                    _ = stopped => return Err(WriteError::Stopped),
                    ready = ready => ready?,
                },
                None => ready.await?,
            }
        }
    }

    /// Merges runs of updates among the frames waiting (not the one partly written), off the lock:
    /// they are set aside meanwhile, and the room queues behind them instead of writing.
    fn merge_queued(&self, metrics: &Metrics) {
        let taken: Vec<Bytes> = {
            let mut state = self.lock();
            let skip = usize::from(state.front_started);
            if !std::mem::take(&mut state.fresh) || state.backlog.len() < skip + 2 {
                return;
            }
            let taken: Vec<Bytes> = state.backlog.drain(skip..).collect();
            state.aside = taken.len();
            taken
        };
        let payloads: Option<Vec<Bytes>> = taken.iter().map(frame::single_binary_payload).collect();
        let merged = match payloads {
            Some(mut payloads) => {
                let merged = protocol::coalesce_updates(&mut payloads);
                if merged > 0 {
                    inc(&metrics.updates_coalesced, merged as u64);
                    payloads.iter().map(|p| frame::binary(p)).collect()
                } else {
                    taken
                }
            }
            // A control frame among them: left as they are (rare: a pong or a keepalive).
            None => taken,
        };
        let mut state = self.lock();
        let skip = usize::from(state.front_started);
        // Whatever was queued meanwhile goes after them, in order.
        let later: Vec<Bytes> = state.backlog.drain(skip..).collect();
        state.backlog.extend(merged);
        state.backlog.extend(later);
        state.aside = 0;
    }
}

impl SocketOutlet {
    /// Writes or queues `frame` after the held message, if one waits (one write for both).
    fn send_after_held(&self, state: &mut State, frame: &Bytes) -> Result<(), NotSent> {
        if state.closed {
            return Err(NotSent::Closed);
        }
        if state.backlog.len() + state.aside >= self.capacity {
            return Err(NotSent::Full);
        }
        match state.held.take() {
            // Straight into the socket: both in one write.
            Some(held) if state.backlog.is_empty() && state.aside == 0 => {
                let mut both = bytes::BytesMut::with_capacity(held.len() + frame.len());
                both.extend_from_slice(&held);
                both.extend_from_slice(frame);
                self.write_or_queue(state, &both.freeze());
            }
            // Into the backlog: as two frames, so that the writer can still merge runs of updates
            // (it merges only single frames).
            Some(held) => {
                self.write_or_queue(state, &held);
                self.write_or_queue(state, frame);
            }
            None => self.write_or_queue(state, frame),
        }
        if state.closed {
            return Err(NotSent::Closed);
        }
        Ok(())
    }
}

impl Outlet for SocketOutlet {
    fn try_send(&self, message: &Outgoing) -> Result<(), NotSent> {
        let mut state = self.lock();
        self.send_after_held(&mut state, message.framed(frame::binary))
    }

    fn hold(&self, message: &Outgoing) -> Result<(), NotSent> {
        let mut state = self.lock();
        if state.closed {
            return Err(NotSent::Closed);
        }
        state.held = Some(message.framed(frame::binary).clone());
        Ok(())
    }

    fn flush_held(&self) -> Result<(), NotSent> {
        let mut state = self.lock();
        match state.held.take() {
            Some(held) => self.send_after_held(&mut state, &held),
            None => Ok(()),
        }
    }

    fn is_empty(&self) -> bool {
        let state = self.lock();
        state.backlog.is_empty() && state.aside == 0
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;

    /// An outlet writing to one end of a real TCP connection on 127.0.0.1, and the other end.
    async fn pair() -> (SocketOutlet, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let outlet = SocketOutlet::new(
            Arc::new(accepted.unwrap().0),
            8,
            Arc::new(ConnControl::default()),
        );
        (outlet, client.unwrap())
    }

    /// Reads exactly the bytes of `frames` and returns them.
    async fn read_frames(client: &mut TcpStream, frames: &[&Bytes]) -> Vec<u8> {
        let len = frames.iter().map(|f| f.len()).sum();
        let mut got = vec![0u8; len];
        timeout(Duration::from_secs(5), client.read_exact(&mut got))
            .await
            .expect("the frames arrive")
            .unwrap();
        got
    }

    fn message(text: &'static str) -> Outgoing {
        Outgoing::new(Bytes::from_static(text.as_bytes()))
    }

    #[tokio::test]
    async fn a_held_message_goes_before_the_next_one_or_alone_when_flushed() {
        let (outlet, mut client) = pair().await;
        let (saved, newer, update) = (message("saved 1"), message("saved 2"), message("update"));
        outlet.hold(&saved).unwrap();
        outlet.hold(&newer).unwrap();
        assert!(outlet.is_empty(), "nothing queued");
        outlet.try_send(&update).unwrap();
        let expected = [newer.framed(frame::binary), update.framed(frame::binary)];
        let got = read_frames(&mut client, &expected).await;
        let both: Vec<u8> = expected.iter().flat_map(|f| f.iter().copied()).collect();
        assert_eq!(got, both, "the newer held message, then the update");

        outlet.flush_held().unwrap();
        outlet.hold(&saved).unwrap();
        outlet.flush_held().unwrap();
        outlet.flush_held().unwrap();
        let got = read_frames(&mut client, &[saved.framed(frame::binary)]).await;
        assert_eq!(
            got,
            saved.framed(frame::binary).to_vec(),
            "flushed alone, once"
        );
        outlet.try_send(&update).unwrap();
        let got = read_frames(&mut client, &[update.framed(frame::binary)]).await;
        assert_eq!(got, update.framed(frame::binary).to_vec());

        // A closed outlet holds nothing.
        assert!(outlet.close_with(None));
        assert_eq!(outlet.hold(&saved), Err(NotSent::Closed));
    }

    #[tokio::test]
    async fn behind_a_backlog_the_held_message_waits_as_a_frame_of_its_own() {
        let (outlet, mut client) = pair().await;
        // More than the loopback socket takes at once: the rest waits in the backlog.
        let big = Outgoing::new(Bytes::from(vec![7u8; 32 << 20]));
        outlet.try_send(&big).unwrap();
        assert!(!outlet.is_empty(), "part of it waits");
        let (saved, update) = (message("saved"), message("update"));
        outlet.hold(&saved).unwrap();
        outlet.try_send(&update).unwrap();
        {
            let state = outlet.lock();
            let tail: Vec<&Bytes> = state.backlog.iter().rev().take(2).collect();
            assert_eq!(
                tail,
                [update.framed(frame::binary), saved.framed(frame::binary)]
            );
        }
        let metrics = Metrics::default();
        let expected = [
            big.framed(frame::binary),
            saved.framed(frame::binary),
            update.framed(frame::binary),
        ];
        let (drained, got) = tokio::join!(
            outlet.drain(Duration::from_secs(5), None, &metrics),
            read_frames(&mut client, &expected)
        );
        drained.expect("the backlog drains");
        let all: Vec<u8> = expected.iter().flat_map(|f| f.iter().copied()).collect();
        assert!(got == all, "everything, in order");
    }

    /// CPU time of the calling thread.
    #[cfg(target_os = "linux")]
    fn thread_cpu() -> Duration {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes one `timespec` to the pointer it is given, a valid local.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        assert_eq!(rc, 0, "clock_gettime");
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    /// The direct `send` (`send_now`) leaves tokio's readiness alone when it succeeds; when the
    /// socket is full, the writer task must still wait for room instead of finding the socket
    /// "writable" again and again. The drain runs on this thread (one-thread runtime) while the
    /// peer, on a thread of its own, reads nothing for 300 ms and then everything: a drain that spun
    /// would use this thread for those 300 ms (without `send_now`'s fallback to `try_write` it does).
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn a_full_socket_is_waited_for_not_spun_on() {
        use std::io::Read;

        let (outlet, client) = pair().await;
        let first = Outgoing::new(Bytes::from(vec![1u8; 16 << 20]));
        outlet.try_send(&first).unwrap();
        assert!(!outlet.is_empty(), "the socket is full and the rest waits");
        let second = message("after the backlog");
        outlet.try_send(&second).unwrap();
        let expected: Vec<u8> = [first.framed(frame::binary), second.framed(frame::binary)]
            .iter()
            .flat_map(|f| f.iter().copied())
            .collect();
        let client = client.into_std().unwrap();
        client.set_nonblocking(false).unwrap();
        let len = expected.len();
        let peer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let mut got = vec![0u8; len];
            (&client).read_exact(&mut got).map(|()| got)
        });
        let metrics = Metrics::default();
        let before = thread_cpu();
        timeout(
            Duration::from_secs(10),
            outlet.drain(Duration::from_secs(10), None, &metrics),
        )
        .await
        .expect("the drain ends once the peer reads")
        .expect("the backlog drains");
        let used = thread_cpu() - before;
        let got = peer.join().unwrap().expect("the peer reads everything");
        assert!(
            used < Duration::from_millis(100),
            "the drain waited for the socket, it did not spin: {used:?} of CPU while the peer \
             read nothing for 300 ms and then {len} bytes"
        );
        assert!(got == expected, "everything, in order");
    }
}
