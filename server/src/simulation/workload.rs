//! The workload of a problem: what the simulation offers a design (docs/SIMULATION.md §1).
//!
//! Pure: read from the problem's own fields. Every figure the problem does not state gets a documented
//! default, and [`Workload::defaults`] names each one so the result can say so.

use serde::Serialize;

use crate::problems::Problem;
use crate::problems::model::ConstValue;

/// Peak rate used when the problem states none (requests/s).
pub const DEFAULT_PEAK_RPS: f64 = 1_000.0;
/// Normal traffic as a fraction of peak when the problem states neither a normal rate nor a spike
/// multiplier: the common capacity-planning rule that the daily peak is about twice the average.
pub const NORMAL_FRACTION_OF_PEAK: f64 = 0.5;
/// p99 latency target used when the problem states none (ms).
pub const DEFAULT_LATENCY_MS: f64 = 200.0;
/// Availability target used when the problem states none (percent).
pub const DEFAULT_AVAILABILITY: f64 = 99.9;
/// Hit rate of a cache whose node does not set `hit_rate` and whose problem states no hit target.
pub const DEFAULT_HIT_RATE: f64 = 0.8;

/// Read share by category when the problem states no read/write split: reads dominate user-facing
/// systems (feeds, caches, search, CDNs: 0.9), pipelines and logs are mostly writes (0.2), the rest is
/// an even-ish mix weighted to reads (0.7). The value of each is in docs/SIMULATION.md.
pub fn default_read_share(category: &str) -> f64 {
    match category {
        "caching" | "search" | "gateway" | "api-platform" | "multiregion" | "cross-regional"
        | "tutorial" | "classic" => 0.9,
        "streaming"
        | "observability"
        | "data-platform"
        | "ml-platform"
        | "ai-infrastructure"
        | "compliance-security" => 0.2,
        _ => 0.7,
    }
}

/// A request rate with the way it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Peak requests per second (`targets.peak_rate_per_sec`, else [`DEFAULT_PEAK_RPS`]).
    pub peak_rps: f64,
    /// Normal requests per second.
    pub normal_rps: f64,
    /// Share of requests that are reads (0..1); the rest are writes.
    pub read_share: f64,
    /// Where the read share comes from (`constants read_qps/write_qps`, `text "..."`, `category default`).
    pub read_share_from: String,
    /// Hit rate for caches whose node sets none (the problem's hit target, else [`DEFAULT_HIT_RATE`]).
    pub default_hit_rate: f64,
    /// The latency target in ms and the percentile it is stated for (`p99`, `p95`, `p50`).
    pub latency_target_ms: f64,
    pub latency_percentile: String,
    /// The availability target in percent.
    pub availability_percent: f64,
    /// Figures that were not stated and took a documented default, by name.
    pub defaults: Vec<String>,
}

/// Constant-name words that mark read traffic and write traffic (for `<words>_qps` pairs).
const READ_WORDS: &[&str] = &[
    "read",
    "query",
    "search",
    "lookup",
    "fetch",
    "redirect",
    "get",
    "feed",
    "tile",
    "dashboard",
];
const WRITE_WORDS: &[&str] = &[
    "write",
    "create",
    "update",
    "post",
    "indexing",
    "insert",
    "upload",
    "purchase",
    "booking",
    "placement",
    "ingest",
];

fn words_of(name: &str) -> impl Iterator<Item = &str> {
    name.split('_')
}

/// Sums the `*_qps` / `*_rate` constants whose name has a read word and those with a write word.
fn read_share_from_constants(p: &Problem) -> Option<(f64, String)> {
    let (mut reads, mut writes) = (0.0, 0.0);
    let mut names = Vec::new();
    for c in &p.constants {
        let Some(v) = c.value.as_f64().filter(|v| v.is_finite() && *v > 0.0) else {
            continue;
        };
        if !(c.name.ends_with("_qps") || c.name.ends_with("_rate")) {
            continue;
        }
        let is = |list: &[&str]| words_of(&c.name).any(|w| list.contains(&w));
        match (is(READ_WORDS), is(WRITE_WORDS)) {
            (true, false) => reads += v,
            (false, true) => writes += v,
            _ => continue,
        }
        names.push(c.name.clone());
    }
    (reads > 0.0 && writes > 0.0).then(|| {
        (
            reads / (reads + writes),
            format!("constants {}", names.join(", ")),
        )
    })
}

/// "Read:write ratio 20:1", "100:1 read/write", "read-to-write ratio of 10:1".
fn read_share_from_text(p: &Problem) -> Option<(f64, String)> {
    let texts = p
        .non_functional_requirements
        .iter()
        .map(|r| r.text.as_str())
        .chain(p.functional_requirements.iter().map(String::as_str))
        .chain([p.description.as_str()]);
    for text in texts {
        let lower = text.to_lowercase();
        let Some(at) = lower.find("read").filter(|_| lower.contains("write")) else {
            continue;
        };
        // The first "A:B" after (or just before) the mention of reads.
        let from = at.saturating_sub(12);
        let bytes = lower.as_bytes();
        let mut i = from;
        while i < bytes.len() {
            if bytes[i] == b':' && i > 0 && bytes[i - 1].is_ascii_digit() {
                let start = lower[..i]
                    .rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                    .map_or(0, |s| s + 1);
                let end = lower[i + 1..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                    .map_or(lower.len(), |e| i + 1 + e);
                let a: Option<f64> = lower[start..i].replace(',', "").parse().ok();
                let b: Option<f64> = lower[i + 1..end].replace(',', "").parse().ok();
                if let (Some(a), Some(b)) = (a, b)
                    && a + b > 0.0
                    && a >= 0.0
                    && b >= 0.0
                {
                    // "write:read" order names writes first.
                    let writes_first = lower[from..i].contains("write:read")
                        || lower[from..i].contains("write/read")
                        || lower[from..i].contains("write-to-read");
                    let share = if writes_first {
                        b / (a + b)
                    } else {
                        a / (a + b)
                    };
                    return Some((share, format!("text \"{}\"", text.trim())));
                }
            }
            i += 1;
        }
    }
    None
}

fn normal_from_constants(p: &Problem, peak: f64) -> Option<(f64, String)> {
    let spike = p
        .constants
        .iter()
        .find(|c| c.name == "spike_multiplier")
        .and_then(|c| match &c.value {
            ConstValue::Integer(_) | ConstValue::Float(_) => c.value.as_f64(),
            _ => None,
        })
        .filter(|m| m.is_finite() && *m >= 1.0)?;
    Some((peak / spike, format!("peak ÷ spike_multiplier {spike}")))
}

impl Workload {
    /// The workload of `problem`.
    pub fn of(problem: &Problem) -> Workload {
        let mut defaults = Vec::new();
        let t = &problem.targets;
        let peak_rps = match t.peak_rate_per_sec.filter(|r| r.is_finite() && *r > 0.0) {
            Some(r) => r,
            None => {
                defaults.push(format!("peak rate: {DEFAULT_PEAK_RPS} req/s (none stated)"));
                DEFAULT_PEAK_RPS
            }
        };
        let normal_rps = match normal_from_constants(problem, peak_rps) {
            Some((n, _)) => n,
            None => {
                defaults.push(format!(
                    "normal rate: {NORMAL_FRACTION_OF_PEAK} × peak (none stated)"
                ));
                peak_rps * NORMAL_FRACTION_OF_PEAK
            }
        };
        let (read_share, read_share_from) = read_share_from_constants(problem)
            .or_else(|| read_share_from_text(problem))
            .unwrap_or_else(|| {
                let share = default_read_share(&problem.category);
                defaults.push(format!(
                    "read share: {share} (default for category '{}')",
                    problem.category
                ));
                (share, format!("category default ({})", problem.category))
            });
        let hit_target = problem
            .constants
            .iter()
            .filter(|c| c.name.ends_with("_hit_target") || c.name == "cache_hit_rate")
            .find_map(|c| c.value.as_f64())
            .filter(|h| (0.0..=1.0).contains(h));
        let default_hit_rate = hit_target.unwrap_or(DEFAULT_HIT_RATE);
        let latency = ["p99", "p95", "p999", "p50"].iter().find_map(|k| {
            t.latency_ms
                .get(*k)
                .filter(|v| v.is_finite() && **v > 0.0)
                .map(|v| (*v, k.to_string()))
        });
        let (latency_target_ms, latency_percentile) = latency.unwrap_or_else(|| {
            defaults.push(format!(
                "latency target: p99 {DEFAULT_LATENCY_MS} ms (none stated)"
            ));
            (DEFAULT_LATENCY_MS, "p99".into())
        });
        let availability_percent = match t
            .availability_percent
            .filter(|a| a.is_finite() && (0.0..=100.0).contains(a))
        {
            Some(a) => a,
            None => {
                defaults.push(format!(
                    "availability target: {DEFAULT_AVAILABILITY}% (none stated)"
                ));
                DEFAULT_AVAILABILITY
            }
        };
        Workload {
            peak_rps,
            normal_rps,
            read_share: read_share.clamp(0.0, 1.0),
            read_share_from,
            default_hit_rate,
            latency_target_ms,
            latency_percentile,
            availability_percent,
            defaults,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::model::{Constant, Origin, Requirement};

    fn problem(category: &str) -> Problem {
        Problem::new(
            "p".into(),
            "P".into(),
            category.into(),
            Origin {
                file: "f".into(),
                number: 1,
            },
        )
    }

    fn constant(name: &str, value: ConstValue) -> Constant {
        Constant {
            name: name.into(),
            ty: value.type_name().into(),
            value,
        }
    }

    #[test]
    fn unstated_figures_take_flagged_defaults() {
        let w = Workload::of(&problem("storage"));
        assert_eq!(w.peak_rps, DEFAULT_PEAK_RPS);
        assert_eq!(w.normal_rps, DEFAULT_PEAK_RPS * NORMAL_FRACTION_OF_PEAK);
        assert_eq!(w.read_share, 0.7);
        assert_eq!(w.latency_target_ms, DEFAULT_LATENCY_MS);
        assert_eq!(w.availability_percent, DEFAULT_AVAILABILITY);
        assert_eq!(w.defaults.len(), 5, "{:?}", w.defaults);
    }

    #[test]
    fn stated_figures_are_used() {
        let mut p = problem("tutorial");
        p.targets.peak_rate_per_sec = Some(1000.0);
        p.targets.availability_percent = Some(99.99);
        p.targets.latency_ms.insert("p95".into(), 15.0);
        p.constants = vec![
            constant("read_qps", ConstValue::Integer(900)),
            constant("write_qps", ConstValue::Integer(100)),
            constant("spike_multiplier", ConstValue::Integer(4)),
            constant("cache_hit_target", ConstValue::Float(0.95)),
        ];
        let w = Workload::of(&p);
        assert_eq!(w.peak_rps, 1000.0);
        assert_eq!(w.normal_rps, 250.0);
        assert!((w.read_share - 0.9).abs() < 1e-12);
        assert_eq!(w.read_share_from, "constants read_qps, write_qps");
        assert_eq!(
            (w.latency_target_ms, w.latency_percentile.as_str()),
            (15.0, "p95")
        );
        assert_eq!(w.availability_percent, 99.99);
        assert_eq!(w.default_hit_rate, 0.95);
        assert!(w.defaults.is_empty(), "{:?}", w.defaults);
    }

    #[test]
    fn a_stated_ratio_in_the_text_gives_the_read_share() {
        let mut p = problem("classic");
        p.non_functional_requirements = vec![Requirement {
            name: "Scale".into(),
            text: "100M URLs/day, Read:write ratio 20:1".into(),
        }];
        let w = Workload::of(&p);
        assert!(
            (w.read_share - 20.0 / 21.0).abs() < 1e-12,
            "{}",
            w.read_share
        );
        p.non_functional_requirements[0].text = "write:read ratio 1:4".into();
        assert!((Workload::of(&p).read_share - 0.8).abs() < 1e-12);
    }

    /// The files whose stated peak is right (the rate text has no unit suffix to misread).
    #[test]
    fn bank_problems_with_a_plain_rate_give_that_peak() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems");
        for (file, peak) in [
            ("tutorial/tutorial-simple-blog.toml", 1000.0),
            ("gateway/quota-gateway.toml", 120_000.0),
        ] {
            let p = crate::problems::load::parse_file(&dir.join(file)).unwrap();
            let w = Workload::of(&p);
            assert_eq!(w.peak_rps, peak, "{file}");
            assert!(w.normal_rps > 0.0 && w.normal_rps <= w.peak_rps);
        }
        let blog =
            crate::problems::load::parse_file(&dir.join("tutorial/tutorial-simple-blog.toml"))
                .unwrap();
        assert!(Workload::of(&blog).read_share_from.starts_with("constants"));
    }
}
