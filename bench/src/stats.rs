//! Latency summaries: exact percentiles over every sample (no sampling, no histogram buckets).

use serde::Serialize;

/// Percentiles of one set of latency samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Latency {
    pub samples: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Summarises samples given in nanoseconds.
    pub fn from_nanos(mut samples: Vec<u64>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let n = samples.len();
        // Nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
        let at = |p: f64| {
            let rank = ((p / 100.0) * n as f64).ceil() as usize;
            samples[rank.clamp(1, n) - 1] as f64 / 1e6
        };
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        Latency {
            samples: n as u64,
            p50_ms: at(50.0),
            p90_ms: at(90.0),
            p99_ms: at(99.0),
            max_ms: samples[n - 1] as f64 / 1e6,
            mean_ms: (sum as f64 / n as f64) / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |x: u64| x * 1_000_000;
        let l = Latency::from_nanos((1..=100).map(ms).collect());
        assert_eq!(l.samples, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p90_ms, 90.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(l.mean_ms, 50.5);
        assert_eq!(Latency::from_nanos(vec![]).samples, 0);
        assert_eq!(Latency::from_nanos(vec![ms(3)]).p99_ms, 3.0);
    }
}
