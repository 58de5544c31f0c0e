//! The process's memory: the allocator's settings, and gauges of where the memory is.
//!
//! The server allocates through mimalloc (see `main.rs` for why). Two facts learnt from the hour's
//! soak (issue 25, `scripts/soak`) shape this module:
//!
//! - Resident memory alone cannot tell a leak from an allocator keeping pages: `/metrics` reports
//!   what SQLite holds and what mimalloc has committed beside it ([`render`]). A heaptrack run of
//!   the soak held a flat ~25 MB of live heap from minute 9 to minute 18 while mimalloc's committed
//!   memory rose in steps.
//! - The steps came with the hostile clients' multi-megabyte frames (a 4 MB frame of awareness
//!   queries, an 8 MB padded presence frame): a huge block placed in one of mimalloc's arenas leaves
//!   the arena fragmented once it is freed, so the next one lands on fresh address space and the
//!   committed total ratchets up. [`tune_allocator`] sends blocks above [`ARENA_MAX_OBJECT_KIB`]
//!   straight to the OS instead (an `mmap` each, unmapped when freed). Such blocks are rare in
//!   normal traffic (a first sync of a very large document, a compaction of one) and an `mmap` is
//!   small next to the work that made them.

use std::fmt::Write;

/// Blocks above this size (KiB) are allocated from the OS, not from mimalloc's arenas.
pub const ARENA_MAX_OBJECT_KIB: i64 = 1024;

/// `mi_option_arena_max_object_size` in mimalloc 3's `mi_option_e` (the crate's bindings stop at
/// older options). A unit test checks that the number names this option by its default.
const MI_OPTION_ARENA_MAX_OBJECT_SIZE: libmimalloc_sys::mi_option_t = 45;

/// Applies the settings above. Call first thing in `main`, before the runtime starts allocating.
pub fn tune_allocator() {
    // SAFETY: setting an option is a plain store into mimalloc's option table; the option is read
    // on each arena allocation, so setting it after start-up is allowed.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_MAX_OBJECT_SIZE, ARENA_MAX_OBJECT_KIB as _)
    };
}

/// Where the process's memory is, for the soak (issue 25) and operators: resident memory alone
/// cannot tell a leak from a cache filling up.
pub fn render(out: &mut String) {
    // SAFETY: both are plain reads of SQLite's global allocation counters; SQLite documents them
    // as thread-safe and callable at any time (the `reset` flag 0 leaves the high-water mark alone).
    let (sqlite, sqlite_peak) = unsafe {
        (
            libsqlite3_sys::sqlite3_memory_used(),
            libsqlite3_sys::sqlite3_memory_highwater(0),
        )
    };
    let mut commit = 0usize;
    let mut peak_commit = 0usize;
    let mut ignore = [0usize; 6];
    let [elapsed, user, system, rss, peak_rss, faults] = &mut ignore;
    // SAFETY: mimalloc writes each out-pointer once; all point at live locals.
    unsafe {
        libmimalloc_sys::mi_process_info(
            elapsed,
            user,
            system,
            rss,
            peak_rss,
            &mut commit,
            &mut peak_commit,
            faults,
        );
    }
    let rows: [(&str, &str, i64); 4] = [
        (
            "tierboard_sqlite_memory_bytes",
            "Memory SQLite holds (page caches of every connection, statements, schema)",
            sqlite,
        ),
        (
            "tierboard_sqlite_memory_peak_bytes",
            "The most memory SQLite has held since the start",
            sqlite_peak,
        ),
        (
            "tierboard_heap_committed_bytes",
            "Memory the allocator (mimalloc) has committed from the system",
            commit as i64,
        ),
        (
            "tierboard_heap_committed_peak_bytes",
            "The most memory the allocator has committed since the start",
            peak_commit as i64,
        ),
    ];
    for (name, help, value) in rows {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_number_is_mimallocs_arena_max_object_size() {
        // SAFETY: a read of mimalloc's option table.
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_MAX_OBJECT_SIZE) };
        // Its documented default, 2 GiB in KiB on 64-bit; no other option defaults to this. The
        // test binary does not call `tune_allocator`, so the value is that default, or what the
        // environment sets (MIMALLOC_ARENA_MAX_OBJECT_SIZE: a plain number is bytes, kept in KiB).
        let expected = match std::env::var("MIMALLOC_ARENA_MAX_OBJECT_SIZE") {
            Ok(set) => {
                set.parse::<i64>()
                    .expect("MIMALLOC_ARENA_MAX_OBJECT_SIZE as a plain number of bytes")
                    / 1024
            }
            Err(_) => 2 * 1024 * 1024,
        };
        assert_eq!(default, expected);
    }

    #[test]
    fn the_gauges_are_rendered() {
        let mut out = String::new();
        render(&mut out);
        for name in [
            "tierboard_sqlite_memory_bytes",
            "tierboard_heap_committed_bytes",
        ] {
            assert!(out.contains(&format!("\n{name} ")), "{name} in {out}");
        }
    }
}
