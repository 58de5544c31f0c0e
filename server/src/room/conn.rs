//! A connection as the room sees it: its id, role, bounded outbox and the [`ConnControl`] that tells
//! its reader and writer to stop (with a close code). The WebSocket layer creates them; the room's
//! actor fills the outbox and closes them as the core decides.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};

use bytes::Bytes;
use futures::task::AtomicWaker;

use crate::close::CloseCode;
use crate::ids::{Role, TokenHash};
use crate::queue;

/// A connection id, unique within the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

impl ConnId {
    pub fn next() -> ConnId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// How the room tells a connection's reader and writer to stop: a close code, then the flag.
///
/// Both loops check it on every wake-up, once per message sent or received. A `CancellationToken`
/// costs two uncontended mutex locks per check (its node's and its `Notify`'s); this is an atomic load
/// and a waker registration, one waker per loop.
#[derive(Debug, Default)]
pub struct ConnControl {
    stopped: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
    code: AtomicU16,
}

/// Which loop of a connection waits on [`ConnControl::stopped`].
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Reader,
    Writer,
}

/// Resolves once the connection is told to stop (see [`ConnControl`]).
pub struct Stopped<'a> {
    control: &'a ConnControl,
    side: Side,
}

impl std::future::Future for Stopped<'_> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let control = self.control;
        if control.is_stopped() {
            return std::task::Poll::Ready(());
        }
        match self.side {
            Side::Reader => control.reader.register(cx.waker()),
            Side::Writer => control.writer.register(cx.waker()),
        }
        // Checked again after registering: a `stop` in between woke the old waker, or none.
        if control.is_stopped() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl ConnControl {
    pub fn close(&self, code: CloseCode) {
        // First writer wins: a later reason never overwrites the first one.
        let _ = self
            .code
            .compare_exchange(0, code.code(), Ordering::Relaxed, Ordering::Relaxed);
        self.stop();
    }

    /// Tells both loops to end (with the code set by [`ConnControl::close`], if any).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.reader.wake();
        self.writer.wake();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// A future for one side's loop; create it once per loop, not per message.
    pub fn stopped(&self, side: Side) -> Stopped<'_> {
        Stopped {
            control: self,
            side,
        }
    }

    /// The code set by [`ConnControl::close`]; a normal close when none was.
    pub fn code(&self) -> CloseCode {
        CloseCode::from_code(self.code.load(Ordering::Relaxed)).unwrap_or(CloseCode::Normal)
    }
}

/// What the room keeps of a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub role: Role,
    /// The token the connection was authorised by (`None` in tests that make no token): revoking
    /// it closes the connection.
    pub token: Option<TokenHash>,
    /// Bounded outbox. When it is full the client is behind: nothing more is queued until it has
    /// drained, then the room sends it one update with everything it missed (`core/catchup.rs`).
    /// A client that stops reading is dropped by its writer's timeout.
    pub outbox: queue::Sender<Bytes>,
    pub control: Arc<ConnControl>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_stop_wakes_both_loops_of_a_connection_and_keeps_the_first_code() {
        let control = Arc::new(ConnControl::default());
        let wait = |side| {
            let control = control.clone();
            tokio::spawn(async move { control.stopped(side).await })
        };
        let (reader, writer) = (wait(Side::Reader), wait(Side::Writer));
        // On this single-threaded runtime the yield lets both tasks poll once and register.
        tokio::task::yield_now().await;
        assert!(!reader.is_finished() && !writer.is_finished());
        assert!(!control.is_stopped());
        control.close(CloseCode::SlowConsumer);
        control.close(CloseCode::Malformed);
        for task in [reader, writer] {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("a stopped loop wakes up")
                .expect("the task ran");
        }
        assert_eq!(
            control.code(),
            CloseCode::SlowConsumer,
            "the first reason wins"
        );
        // A loop that starts waiting after the stop does not wait at all.
        tokio::time::timeout(Duration::from_secs(5), control.stopped(Side::Reader))
            .await
            .expect("ready at once");
    }
}
