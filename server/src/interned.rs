//! Identical results shared between rooms instead of copied into each (issue 26, item 4).
//!
//! Every room keeps its latest validation, simulation and section-check results, and the messages
//! that announce them to joiners. Rooms on the same problem with the same design compute the same
//! ones: every new room on a problem until someone draws, and most of scenario 4's 2,500 rooms. A
//! heaptrack profile at that scenario's peak held 5.1 KB of such messages per room. An
//! [`Interner`] hands out one [`Shared`] per distinct message: a room that computes a result equal
//! to one another room holds gets that room's allocation and drops its own.
//!
//! The interner holds weak references only, so a result lives exactly as long as some room keeps it;
//! dead entries are swept when the table has doubled since the last sweep. Its lock is a std mutex
//! held for one hash-map lookup and never across an `.await`; rooms take it at most once per
//! validation run, which is at most one per room per 50 ms.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;

/// A result and the message that announces it, as shared by every room that holds it.
#[derive(Debug)]
pub struct Shared<T> {
    message: Bytes,
    value: T,
}

impl<T> Shared<T> {
    /// The message (already encoded for the wire): cloning it shares the bytes.
    pub fn message(&self) -> Bytes {
        self.message.clone()
    }

    pub fn value(&self) -> &T {
        &self.value
    }
}

/// One table of shared results of one kind (see the module docs).
#[derive(Debug)]
pub struct Interner<T> {
    entries: Mutex<Entries<T>>,
}

#[derive(Debug)]
struct Entries<T> {
    by_hash: HashMap<u64, Weak<Shared<T>>>,
    hasher: RandomState,
    /// The table's size at which dead entries are swept next.
    sweep_at: usize,
}

/// Entries below which the table is never swept.
const MIN_SWEEP: usize = 64;

impl<T> Default for Interner<T> {
    fn default() -> Interner<T> {
        Interner {
            entries: Mutex::new(Entries {
                by_hash: HashMap::new(),
                hasher: RandomState::new(),
                sweep_at: MIN_SWEEP,
            }),
        }
    }
}

impl<T> Interner<T> {
    /// The shared entry for `message`: an existing one with the same bytes, else a new one holding
    /// `value`. `value` must be what `message` announces (equal messages, equal values).
    pub fn intern(&self, message: Bytes, value: T) -> Arc<Shared<T>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let hash = entries.hasher.hash_one(&message[..]);
        if let Some(existing) = entries.by_hash.get(&hash).and_then(Weak::upgrade)
            && existing.message == message
        {
            return existing;
        }
        // New, or its hash's entry is dead or (rarely) another message: the new one takes the slot.
        let fresh = Arc::new(Shared { message, value });
        entries.by_hash.insert(hash, Arc::downgrade(&fresh));
        if entries.by_hash.len() >= entries.sweep_at {
            entries.by_hash.retain(|_, entry| entry.strong_count() > 0);
            entries.sweep_at = (entries.by_hash.len() * 2).max(MIN_SWEEP);
        }
        fresh
    }

    /// Entries in the table, live or not yet swept (for tests).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_hash
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_messages_share_one_allocation_and_others_do_not() {
        let interner = Interner::default();
        let a = interner.intern(Bytes::from(vec![1, 2, 3]), "first");
        let b = interner.intern(Bytes::from(vec![1, 2, 3]), "second");
        assert!(Arc::ptr_eq(&a, &b), "equal messages must share an entry");
        assert_eq!(*b.value(), "first", "the entry keeps the first value");
        assert_eq!(
            b.message().as_ptr(),
            a.message().as_ptr(),
            "one copy of the bytes"
        );
        let c = interner.intern(Bytes::from(vec![1, 2, 4]), "third");
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(*c.value(), "third");
    }

    #[test]
    fn an_entry_lives_only_while_a_holder_keeps_it_and_dead_ones_are_swept() {
        let interner = Interner::default();
        let kept = interner.intern(Bytes::from_static(b"kept"), 0u32);
        drop(interner.intern(Bytes::from_static(b"dropped"), 1u32));
        // Nobody holds "dropped": interning it again makes a new entry with the new value.
        let again = interner.intern(Bytes::from_static(b"dropped"), 2u32);
        assert_eq!(*again.value(), 2);
        drop(again);
        for i in 0..(MIN_SWEEP as u32 * 4) {
            drop(interner.intern(Bytes::from(i.to_be_bytes().to_vec()), i));
        }
        assert!(
            interner.len() <= MIN_SWEEP * 2,
            "dead entries must be swept: {} left",
            interner.len()
        );
        let still = interner.intern(Bytes::from_static(b"kept"), 9u32);
        assert!(Arc::ptr_eq(&kept, &still), "a live entry survives sweeps");
    }
}
