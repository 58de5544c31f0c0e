//! Per-node latency from an M/M/c queue (Erlang C), docs/SIMULATION.md §3.
//!
//! A node of `c` instances, each serving `mu` requests/s, offered `lambda` requests/s, waits in queue
//! `Wq = C(c, a) / (c·mu − lambda)` on average, where `a = lambda / mu` and `C` is Erlang's C formula.
//! The wait is exponential beyond zero: `P(Wq > t) = C·exp(−(c·mu − lambda)·t)`, which gives its
//! percentiles. The node adds its service time (`service_ms`, 3× that at p99) to the wait.

/// Utilisation at which the queue is taken to be full: beyond it, load turns into errors, not latency.
pub const QUEUE_CAP: f64 = 0.99;
/// p99 of a node's service time as a multiple of its typical service time (simple tools use 1.5–3×).
pub const SERVICE_P99_FACTOR: f64 = 3.0;

/// Erlang C: the probability that an arrival waits, for `c` servers and offered load `a = lambda/mu`
/// (`a < c`). Computed through Erlang B's recurrence, which is stable for any `c`; the loop stops once
/// B is negligible (it only falls once k > a).
pub fn erlang_c(c: f64, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    let servers = c.max(1.0) as u64;
    let mut b = 1.0f64;
    for k in 1..=servers {
        b = a * b / (k as f64 + a * b);
        if (k as f64) > a && b < 1e-15 {
            b = 0.0;
            break;
        }
    }
    let rho = a / c;
    let denominator = 1.0 - rho * (1.0 - b);
    if denominator <= 0.0 {
        1.0
    } else {
        (b / denominator).clamp(0.0, 1.0)
    }
}

/// A node's latency figures in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The latency of a node with `instances` servers of `rps` each and service time `service_ms`,
/// offered `lambda` requests/s (utilisation capped at [`QUEUE_CAP`]).
pub fn node_latency(instances: f64, rps: f64, service_ms: f64, lambda: f64) -> Latency {
    if rps <= 0.0 || instances <= 0.0 {
        return Latency::default();
    }
    let capacity = instances * rps;
    let lambda = lambda.clamp(0.0, capacity * QUEUE_CAP);
    let c_wait = erlang_c(instances, lambda / rps);
    let drain = capacity - lambda; // per second, > 0
    let wait_quantile = |q: f64| {
        if c_wait <= 1.0 - q {
            0.0
        } else {
            (c_wait / (1.0 - q)).ln() / drain * 1000.0
        }
    };
    Latency {
        mean_ms: service_ms + c_wait / drain * 1000.0,
        p50_ms: service_ms + wait_quantile(0.5),
        p99_ms: SERVICE_P99_FACTOR * service_ms + wait_quantile(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_known_values() {
        // M/M/1: C = rho.
        assert!((erlang_c(1.0, 0.5) - 0.5).abs() < 1e-12);
        // c = 2, a = 1: C = 1/3 (textbook value).
        assert!((erlang_c(2.0, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // Many idle servers: nobody waits.
        assert!(erlang_c(1000.0, 10.0) < 1e-12);
    }

    #[test]
    fn mm1_mean_wait_is_rho_over_mu_minus_lambda() {
        // One server of 100/s at 50/s: Wq = 0.5 / 50 s = 10 ms; mean response = service + 10 ms.
        let l = node_latency(1.0, 100.0, 10.0, 50.0);
        assert!((l.mean_ms - 20.0).abs() < 1e-9, "{l:?}");
        // p50 of the wait: ln(0.5 / 0.5) = 0; p99: ln(0.5/0.01)/50 s = 78.2 ms.
        assert!((l.p50_ms - 10.0).abs() < 1e-9);
        assert!((l.p99_ms - (30.0 + (50.0f64).ln() / 50.0 * 1000.0)).abs() < 1e-9);
    }

    #[test]
    fn latency_grows_with_load_and_is_finite_past_saturation() {
        let mut last = node_latency(4.0, 1000.0, 5.0, 0.0);
        for step in 1..=60 {
            let l = node_latency(4.0, 1000.0, 5.0, step as f64 * 100.0);
            assert!(
                l.mean_ms >= last.mean_ms && l.p99_ms >= last.p99_ms,
                "{step}"
            );
            assert!(l.mean_ms.is_finite() && l.p99_ms.is_finite());
            last = l;
        }
        assert!(last.mean_ms > 5.0);
    }
}
