//! Process-wide counters for `GET /metrics`, rendered in the Prometheus text format.
//!
//! Plain atomics rather than a metrics crate: the set is small and fixed, and the hot path (every
//! update in and out) must cost one relaxed atomic add.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A fixed-bucket latency histogram in seconds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

const PERSIST_BOUNDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Every figure the server exports. One instance per process, shared through `Arc`.
#[derive(Debug)]
pub struct Metrics {
    pub connections: AtomicU64,
    pub connections_total: AtomicU64,
    pub rooms_loaded: AtomicU64,
    pub updates_in: AtomicU64,
    pub updates_out: AtomicU64,
    pub updates_coalesced: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub rejected_messages: AtomicU64,
    pub slow_consumers: AtomicU64,
    pub fell_behind: AtomicU64,
    pub catch_ups: AtomicU64,
    pub errors: AtomicU64,
    pub persisted_updates: AtomicU64,
    pub compactions: AtomicU64,
    pub room_snapshots: AtomicU64,
    pub validations: AtomicU64,
    pub bus_published: AtomicU64,
    pub bus_received: AtomicU64,
    pub bus_errors: AtomicU64,
    pub bus_dropped: AtomicU64,
    pub bus_lagged: AtomicU64,
    pub bus_up: AtomicU64,
    pub reconciles: AtomicU64,
    pub reconcile_diffs: AtomicU64,
    pub persist_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            connections: AtomicU64::new(0),
            connections_total: AtomicU64::new(0),
            rooms_loaded: AtomicU64::new(0),
            updates_in: AtomicU64::new(0),
            updates_out: AtomicU64::new(0),
            updates_coalesced: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            rejected_messages: AtomicU64::new(0),
            slow_consumers: AtomicU64::new(0),
            fell_behind: AtomicU64::new(0),
            catch_ups: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            persisted_updates: AtomicU64::new(0),
            compactions: AtomicU64::new(0),
            room_snapshots: AtomicU64::new(0),
            validations: AtomicU64::new(0),
            bus_published: AtomicU64::new(0),
            bus_received: AtomicU64::new(0),
            bus_errors: AtomicU64::new(0),
            bus_dropped: AtomicU64::new(0),
            bus_lagged: AtomicU64::new(0),
            bus_up: AtomicU64::new(0),
            reconciles: AtomicU64::new(0),
            reconcile_diffs: AtomicU64::new(0),
            persist_latency: Histogram::new(PERSIST_BOUNDS),
        }
    }
}

/// Shorthand for a relaxed increment.
pub fn inc(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Shorthand for a relaxed decrement of a gauge.
pub fn dec(gauge: &AtomicU64) {
    gauge.fetch_sub(1, Ordering::Relaxed);
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let rows: [(&str, &str, &str, &AtomicU64); 25] = [
            (
                "tierboard_connections",
                "gauge",
                "Open WebSocket connections",
                &self.connections,
            ),
            (
                "tierboard_connections_total",
                "counter",
                "WebSocket connections accepted",
                &self.connections_total,
            ),
            (
                "tierboard_rooms_loaded",
                "gauge",
                "Rooms held in memory",
                &self.rooms_loaded,
            ),
            (
                "tierboard_updates_in_total",
                "counter",
                "Document updates accepted from clients",
                &self.updates_in,
            ),
            (
                "tierboard_updates_out_total",
                "counter",
                "Document updates sent to clients",
                &self.updates_out,
            ),
            (
                "tierboard_updates_coalesced_total",
                "counter",
                "Queued update messages saved by merging them into the update before them",
                &self.updates_coalesced,
            ),
            (
                "tierboard_bytes_in_total",
                "counter",
                "WebSocket payload bytes received",
                &self.bytes_in,
            ),
            (
                "tierboard_bytes_out_total",
                "counter",
                "WebSocket payload bytes sent",
                &self.bytes_out,
            ),
            (
                "tierboard_rejected_messages_total",
                "counter",
                "Messages rejected (malformed, too large, read-only)",
                &self.rejected_messages,
            ),
            (
                "tierboard_slow_consumers_total",
                "counter",
                "Connections dropped because a write to them made no progress",
                &self.slow_consumers,
            ),
            (
                "tierboard_fell_behind_total",
                "counter",
                "Times a connection's outbox was full and it fell behind",
                &self.fell_behind,
            ),
            (
                "tierboard_catch_ups_total",
                "counter",
                "Connections that fell behind and were caught up with one update",
                &self.catch_ups,
            ),
            (
                "tierboard_errors_total",
                "counter",
                "Internal errors",
                &self.errors,
            ),
            (
                "tierboard_persisted_updates_total",
                "counter",
                "Updates written to the store",
                &self.persisted_updates,
            ),
            (
                "tierboard_compactions_total",
                "counter",
                "Room logs compacted into a snapshot from the stored rows",
                &self.compactions,
            ),
            (
                "tierboard_room_snapshots_total",
                "counter",
                "Snapshots rooms submitted of their own documents, each replacing the rows it covers",
                &self.room_snapshots,
            ),
            (
                "tierboard_validations_total",
                "counter",
                "Validation runs",
                &self.validations,
            ),
            (
                "tierboard_bus_published_total",
                "counter",
                "Messages published on the fan-out bus",
                &self.bus_published,
            ),
            (
                "tierboard_bus_received_total",
                "counter",
                "Messages received from the fan-out bus",
                &self.bus_received,
            ),
            (
                "tierboard_bus_errors_total",
                "counter",
                "Fan-out bus failures (Redis commands, connection losses, undecodable messages)",
                &self.bus_errors,
            ),
            (
                "tierboard_bus_dropped_total",
                "counter",
                "Messages not published (bus down or publish queue full); healed by reconciliation",
                &self.bus_dropped,
            ),
            (
                "tierboard_bus_lagged_total",
                "counter",
                "Bus messages dropped because a room's bus inbox was full; healed by reconciliation",
                &self.bus_lagged,
            ),
            (
                "tierboard_bus_up",
                "gauge",
                "1 while the Redis bus is connected (0 when down or not configured)",
                &self.bus_up,
            ),
            (
                "tierboard_reconciles_total",
                "counter",
                "Room states published for reconciliation between instances",
                &self.reconciles,
            ),
            (
                "tierboard_reconcile_diffs_total",
                "counter",
                "Diffs published because a peer instance lacked part of a room",
                &self.reconcile_diffs,
            ),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        self.persist_latency.render(
            &mut out,
            "tierboard_persist_latency_seconds",
            "Time from an update's acceptance to its durable commit",
        );
        crate::memory::render(&mut out);
        out
    }
}
