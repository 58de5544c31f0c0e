//! The SQLite write connection's thread runs at a lower CPU priority than the threads that serve
//! rooms (Linux; elsewhere nothing changes).
//!
//! Why: sqlx runs each SQLite connection on a thread of its own, and every write of the process goes
//! through the one write connection: the group commits, and the bursts that are background work (the
//! journal's fold about once a second, WAL checkpoints, compactions). With a thousand rooms editing,
//! a fold is 60 to 100 ms of CPU in one piece (perf of scenario 3, 2026-12-06). On a machine whose
//! cores are nearly busy, that burst takes a core from the runtime's workers, and the edits that
//! arrive in that window wait for it. At a lower priority the burst runs in the time the workers
//! leave, which a machine that keeps up has (the runs behind this are in BENCHMARKS.md, "Figures
//! behind code choices"). RocksDB lowers its compaction threads' priority for the same reason
//! (`Env::LowerThreadPoolCPUPriority`).
//!
//! What it costs: under full load a commit waits longer for the CPU, so the `saved` answers and the
//! stored-within bound (`--persist-steady-ms` plus one commit) stretch by that wait; when a core is
//! free, as in every durability test, nothing changes. The priority is the niceness of the thread
//! alone: Linux's `setpriority(PRIO_PROCESS, tid)` applies to the one thread, never to the process.
//! It is set once, when the store opens: SQLite connections are never recycled (store module), and
//! one the pool had to reopen after an error would run at the default priority.

use std::collections::HashSet;

/// The niceness of the SQLite write connection's thread (0 is the default; 19 the lowest priority).
/// At 10 a thread gets about a tenth of a core that nice-0 threads also want, and all of an idle one.
pub const WRITER_NICENESS: i32 = 10;

/// How sqlx names an SQLite connection's thread (`sqlx-sqlite-worker-{n}`), as Linux keeps it: the
/// first 15 bytes.
const SQLITE_THREAD: &str = "sqlx-sqlite-wor";

/// The ids of this process's SQLite connection threads.
pub fn sqlite_threads() -> HashSet<u32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return HashSet::new();
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim_end().starts_with(SQLITE_THREAD))
        })
        .filter_map(|task| task.file_name().to_str()?.parse().ok())
        .collect()
}

/// Lowers the priority of the SQLite threads started since `before` was taken (the write
/// connection's: the caller opened only that one in between). Failures are logged, never fatal:
/// the store works the same at any priority.
pub fn lower_new_sqlite_threads(before: &HashSet<u32>) {
    let new: Vec<u32> = sqlite_threads().difference(before).copied().collect();
    if new.is_empty() {
        tracing::debug!("SQLite: no new connection thread found to lower the priority of");
        return;
    }
    for tid in new {
        match lower(tid, WRITER_NICENESS) {
            Ok(()) => {
                tracing::debug!(
                    tid,
                    niceness = WRITER_NICENESS,
                    "SQLite write connection's thread"
                )
            }
            Err(e) => {
                tracing::warn!(tid, error = %e, "could not lower the SQLite writer thread's priority")
            }
        }
    }
}

/// Sets the niceness of thread `tid` of this process.
#[cfg(target_os = "linux")]
pub fn lower(tid: u32, niceness: i32) -> std::io::Result<()> {
    // SAFETY: `setpriority` only reads its three integer arguments. On Linux `PRIO_PROCESS` with a
    // thread id sets that thread's niceness alone (setpriority(2), NOTES); raising niceness needs no
    // privilege.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, niceness) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub fn lower(_tid: u32, _niceness: i32) -> std::io::Result<()> {
    Ok(())
}

/// The niceness of thread `tid` of this process (Linux; for tests).
#[cfg(target_os = "linux")]
pub fn niceness_of(tid: u32) -> std::io::Result<i32> {
    // `stat`'s 19th field is the niceness; the 2nd (the name, in parentheses) may hold spaces, so
    // fields are counted after its closing parenthesis.
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))?;
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| std::io::Error::other("unexpected /proc stat"))?;
    after_name
        .split_whitespace()
        .nth(16)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| std::io::Error::other("no niceness in /proc stat"))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A thread of this process made nicer reads back with that niceness, and its neighbours keep
    /// theirs: the call is per thread, not per process.
    #[test]
    fn lowering_a_thread_leaves_the_others_alone() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            // SAFETY: `gettid` has no arguments and cannot fail.
            tx.send(unsafe { libc::gettid() } as u32).unwrap();
            done_rx.recv().ok();
        });
        let tid = rx.recv().unwrap();
        // SAFETY: as above.
        let me = unsafe { libc::gettid() } as u32;
        let mine = niceness_of(me).unwrap();
        // Nicer than the process is now (making a thread less nice would need a privilege).
        let target = (mine + 3).min(19);
        lower(tid, target).unwrap();
        assert_eq!(niceness_of(tid).unwrap(), target);
        assert_eq!(niceness_of(me).unwrap(), mine);
        done_tx.send(()).unwrap();
        worker.join().unwrap();
    }
}
