//! Reading figures out of seed prose: "1,000 req/sec", "50k", "99.99% uptime", "P95 < 50ms".

use std::collections::BTreeMap;

use tierboard::problems::model::{Requirement, Targets};

/// A number starting at byte `i` of `s` (digits with `,` separators and one `.`), with an optional
/// `k`/`K`/`M`/`B` multiplier right after it. Returns (value, byte length).
pub fn number_at(s: &str, i: usize) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    if i >= b.len()
        || !b[i].is_ascii_digit()
        || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
    {
        return None;
    }
    let mut j = i;
    let mut digits = String::new();
    while j < b.len() {
        let c = b[j];
        if c.is_ascii_digit() {
            digits.push(c as char);
        } else if c == b','
            && !digits.contains('.')
            && b.len() >= j + 4
            && b[j + 1..j + 4].iter().all(u8::is_ascii_digit)
            && !b.get(j + 4).is_some_and(u8::is_ascii_digit)
        {
            // A thousands separator: skip it.
        } else if c == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit) && !digits.contains('.')
        {
            digits.push('.');
        } else {
            break;
        }
        j += 1;
    }
    let mut v: f64 = digits.parse().ok()?;
    let mult = match b.get(j) {
        Some(b'k' | b'K') => 1e3,
        Some(b'M') => 1e6,
        Some(b'B') => 1e9,
        _ => 1.0,
    };
    // A multiplier must end the word ("50k", not "5Kafka").
    if mult != 1.0 && !b.get(j + 1).is_some_and(u8::is_ascii_alphabetic) {
        v *= mult;
        j += 1;
    }
    Some((v, j - i))
}

/// Every number in `s` with its byte position and length.
pub fn numbers(s: &str) -> Vec<(usize, f64, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s.is_char_boundary(i)
            && let Some((v, len)) = number_at(s, i)
        {
            out.push((i, v, len));
            i += len.max(1);
        } else {
            i += 1;
        }
    }
    out
}

/// The structured targets of a list of non-functional requirements.
pub fn targets(nfr: &[Requirement]) -> Targets {
    let mut t = Targets::default();
    for r in nfr {
        // The classic seeds put the topic in the text, not the name ("99.99% availability").
        let name = format!("{} {}", r.name, r.text).to_lowercase();
        if (name.contains("availability") || name.contains("uptime"))
            && t.availability_percent.is_none()
        {
            t.availability_percent = numbers(&r.text)
                .into_iter()
                .find(|&(i, _, len)| r.text[i + len..].starts_with('%'))
                .map(|(_, v, _)| v);
        }
        if name.contains("latency") {
            latency(&r.text, &mut t.latency_ms);
        }
        if (name.contains("request rate")
            || name.contains("throughput")
            || name.contains("per second"))
            && t.peak_rate_per_sec.is_none()
        {
            t.peak_rate_per_sec = peak_rate(&r.text);
        }
    }
    t
}

/// `P95 < 50ms`, `p99: 1s`, `P999 < 300ms` → percentile → milliseconds (first figure per percentile wins).
fn latency(text: &str, out: &mut BTreeMap<String, f64>) {
    let lower = text.to_lowercase();
    let b = lower.as_bytes();
    for (i, _) in lower.match_indices('p') {
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let digits: String = lower[i + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            continue;
        }
        let mut j = i + 1 + digits.len();
        // Skip separators: spaces, '<', ':', '=', '≤'.
        while let Some(c) = lower[j..].chars().next() {
            if matches!(c, ' ' | '<' | ':' | '=' | '≤') {
                j += c.len_utf8();
            } else {
                break;
            }
        }
        let Some((v, len)) = number_at(&lower, j) else {
            continue;
        };
        let unit = lower[j + len..].trim_start();
        let ms = if unit.starts_with("ms") {
            v
        } else if unit.starts_with("μs") || unit.starts_with("us") {
            v / 1000.0
        } else if unit.starts_with('s') || unit.starts_with("sec") {
            v * 1000.0
        } else if unit.starts_with("min") {
            v * 60_000.0
        } else {
            continue;
        };
        out.entry(format!("p{digits}")).or_insert(ms);
    }
}

/// The largest figure in a request-rate text that is stated per second.
fn peak_rate(text: &str) -> Option<f64> {
    let lower = text.to_lowercase();
    numbers(&lower)
        .into_iter()
        .filter(|&(i, _, len)| {
            let after: String = lower[i + len..].chars().take(28).collect();
            ["/s", "per second", "per sec", "qps", "rps", "tps"]
                .iter()
                .any(|u| after.contains(u))
        })
        .map(|(_, v, _)| v)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_with_separators_and_suffixes() {
        assert_eq!(number_at("1,000 req", 0), Some((1000.0, 5)));
        assert_eq!(number_at("50k creates", 0), Some((50000.0, 3)));
        assert_eq!(number_at("1M requests", 0), Some((1e6, 2)));
        assert_eq!(number_at("99.99%", 0), Some((99.99, 5)));
        assert_eq!(number_at("5Kafka", 0), Some((5.0, 1)));
    }

    #[test]
    fn structured_targets() {
        let nfr = vec![
            Requirement {
                name: "Latency".into(),
                text: "P95 < 50ms for redirects, P99 < 100ms, p999 < 1s".into(),
            },
            Requirement {
                name: "Request Rate".into(),
                text: "Start: 100 req/sec, Target: 1,000 req/sec".into(),
            },
            Requirement {
                name: "Availability".into(),
                text: "99.9% uptime (no single point of failure)".into(),
            },
        ];
        let t = targets(&nfr);
        assert_eq!(t.availability_percent, Some(99.9));
        assert_eq!(t.peak_rate_per_sec, Some(1000.0));
        assert_eq!(t.latency_ms.get("p95"), Some(&50.0));
        assert_eq!(t.latency_ms.get("p99"), Some(&100.0));
        assert_eq!(t.latency_ms.get("p999"), Some(&1000.0));
    }
}
