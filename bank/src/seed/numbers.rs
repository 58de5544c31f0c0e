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

/// Seconds in each time unit a rate can be stated per ("10k containers deployed/hr").
const PER: [(&str, f64); 4] = [
    ("second", 1.0),
    ("minute", 60.0),
    ("hour", 3600.0),
    ("day", 86_400.0),
];

/// Spellings of each time unit after `/` or `per `, by [`PER`] entry.
const UNIT_WORDS: [&[&str]; 4] = [
    &["s", "sec", "secs", "second", "seconds"],
    &["m", "min", "mins", "minute", "minutes"],
    &["h", "hr", "hrs", "hour", "hours"],
    &["d", "day", "days"],
];

/// Words that are themselves "per second": "10M QPS", "100K TPS", "100k IOPS".
const PER_SECOND_WORDS: [&str; 4] = ["qps", "rps", "tps", "iops"];

/// What a figure counts when it is not a request: data ("10GB/s", "6Mbps"), time ("500k hours/day of
/// uploads"), compute ("1 exaflop"). A rate of these is a bandwidth or a volume, not a request rate.
const NOT_REQUESTS: [&str; 18] = [
    "b", "kb", "mb", "gb", "tb", "pb", "bps", "kbps", "mbps", "gbps", "tbps", "pbps", "bytes",
    "bits", "hours", "minutes", "seconds", "days",
];

/// A word multiplier after a figure: "2 million requests per second".
const SCALE_WORDS: [(&str, f64); 3] = [("thousand", 1e3), ("million", 1e6), ("billion", 1e9)];

/// One figure of a rate text.
#[derive(Debug, Clone, Copy)]
struct Figure {
    /// Byte range of the figure (number and multiplier).
    start: usize,
    end: usize,
    /// The number with its multiplier applied.
    value: f64,
    /// Its multiplier ("50k": 1,000; "2 million": 1,000,000; "50": 1).
    scale: f64,
    /// Seconds per the time unit it is stated per, when it is a request rate.
    per: Option<f64>,
}

/// A figure at `i`: [`number_at`] (digits, separators, `k`/`K`/`M`/`B`) and an optional scale word
/// ("million"). Reads the original text: a multiplier's case matters ("10M" is a million, "10m" is not).
fn figure_at(s: &str, i: usize) -> Option<Figure> {
    let (value, len) = number_at(s, i)?;
    let mut figure = Figure {
        start: i,
        end: i + len,
        value,
        scale: match s.as_bytes()[i + len - 1] {
            b'k' | b'K' => 1e3,
            b'M' => 1e6,
            b'B' => 1e9,
            _ => 1.0,
        },
        per: None,
    };
    if figure.scale == 1.0 {
        let rest = s[figure.end..].trim_start_matches(' ');
        let word = rest
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some(&(w, scale)) = SCALE_WORDS.iter().find(|(w, _)| *w == word) {
            figure.value *= scale;
            figure.scale = scale;
            figure.end = s.len() - rest.len() + w.len();
        }
    }
    Some(figure)
}

/// The time unit a figure's phrase states its rate per (seconds per unit), if it is a request rate.
/// `phrase` is the lower-cased text from the end of the figure to the end of its clause.
fn rate_unit(phrase: &str) -> Option<f64> {
    let words: Vec<&str> = phrase
        .split(|c: char| c.is_whitespace() || c == '.')
        .filter(|w| !w.is_empty())
        .collect();
    let first = words.first().map(|w| w.split('/').next().unwrap_or(w));
    let is_rate_word = |w: &str| PER_SECOND_WORDS.contains(&w);
    // A letter right after the digits is a unit of measure ("10GB/s", "5m", "1080p60"), and "x" a
    // factor ("10x normal"): not a request count.
    let attached = phrase
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && !first.is_some_and(is_rate_word);
    if attached
        || first.is_some_and(|w| {
            NOT_REQUESTS.contains(&w) || w.starts_with("flop") || w.ends_with("flop")
        })
    {
        return None;
    }
    let unit = |w: &str| {
        let w = w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        UNIT_WORDS
            .iter()
            .position(|spellings| spellings.contains(&w))
            .map(|k| PER[k].1)
    };
    for (k, w) in words.iter().enumerate() {
        if is_rate_word(w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())) {
            return Some(1.0);
        }
        if let Some((_, after)) = w.split_once('/')
            && let Some(per) = unit(after)
        {
            return Some(per);
        }
        if *w == "per"
            && let Some(per) = words.get(k + 1).and_then(|next| unit(next))
        {
            return Some(per);
        }
    }
    None
}

/// A figure without a unit of its own that continues the rate before it: "100M req/sec normal,
/// 1B during viral events", "5.8M during spikes".
fn continues_rate(phrase: &str) -> bool {
    let p = phrase.trim_start();
    ["during", "at peak", "peak", "in peak"]
        .iter()
        .any(|w| p.starts_with(w))
}

/// Every figure of a request-rate text, with the time unit it is stated per. A range's first figure
/// ("10-50k req/s") takes the second's multiplier and unit; a bare figure after a rate ("..., 1B during
/// peaks") takes the rate's unit.
fn rate_figures(text: &str) -> Vec<Figure> {
    let mut figures: Vec<Figure> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text
            .is_char_boundary(i)
            .then(|| figure_at(text, i))
            .flatten()
        {
            Some(f) => {
                i = f.end.max(i + 1);
                figures.push(f);
            }
            None => i += 1,
        }
    }
    // A clause ends at punctuation that separates figures ("1M vehicles × 10 tile fetches/sec").
    let clause_end = |from: usize, to: usize| {
        text[from..to]
            .find([',', ';', '(', ')', '=', '×', '+'])
            .or_else(|| text[from..to].find(". "))
            .map_or(to, |k| from + k)
    };
    let mut previous_per: Option<f64> = None;
    for k in 0..figures.len() {
        let next_start = figures.get(k + 1).map_or(text.len(), |n| n.start);
        let between = &text[figures[k].end..next_start];
        let range = matches!(between.trim(), "-" | "–" | "to");
        let phrase = text[figures[k].end..clause_end(figures[k].end, next_start)].to_lowercase();
        figures[k].per = if range {
            None
        } else {
            rate_unit(&phrase).or_else(|| previous_per.filter(|_| continues_rate(&phrase)))
        };
        if figures[k].per.is_some() {
            previous_per = figures[k].per;
        }
    }
    // Ranges, right to left so "1-2-5k" would chain: the low end shares the high end's scale and unit.
    for k in (0..figures.len().saturating_sub(1)).rev() {
        let between = &text[figures[k].end..figures[k + 1].start];
        if matches!(between.trim(), "-" | "–" | "to") {
            let high = figures[k + 1];
            if figures[k].scale == 1.0 {
                figures[k].value *= high.scale;
                figures[k].scale = high.scale;
            }
            figures[k].per = high.per;
        }
    }
    figures
}

/// The largest request rate a text states, per second ("10M queries/sec" → 10,000,000; "1M votes/minute"
/// → 16,667; "100M req/s normal, 1B during peaks" → 1,000,000,000). Bandwidths and counts that are not
/// rates ("10GB/s", "10M concurrent streams") are not request rates.
pub fn peak_rate(text: &str) -> Option<f64> {
    rate_figures(text)
        .into_iter()
        .filter_map(|f| f.per.map(|per| f.value / per))
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

    #[test]
    fn peak_rate_reads_multipliers_with_their_case() {
        let cases: [(&str, Option<f64>); 22] = [
            ("10M queries/sec from vehicles", Some(1e7)),
            ("100K TPS", Some(1e5)),
            ("50k req/s", Some(5e4)),
            ("2.5M requests per second", Some(2.5e6)),
            ("2 million requests per second", Some(2e6)),
            ("3 thousand orders per second", Some(3e3)),
            ("1 billion events/s", Some(1e9)),
            ("1M votes/minute", Some(1e6 / 60.0)),
            ("1M rides per hour peak", Some(1e6 / 3600.0)),
            ("10k containers deployed/hr", Some(1e4 / 3600.0)),
            ("100M videos/day", Some(1e8 / 86_400.0)),
            ("100M req/sec normal, 1B during viral events", Some(1e9)),
            (
                "580k transactions/sec normal, 5.8M during spikes",
                Some(5.8e6),
            ),
            ("10-50k req/s", Some(5e4)),
            ("~20k requests/sec", Some(2e4)),
            ("≈ 3M ops/sec", Some(3e6)),
            ("10k symbols × 100 ticks/sec = 1M ticks/sec", Some(1e6)),
            ("1M vehicles × 10 tile fetches/sec = 10M QPS", Some(1e7)),
            ("10GB/s neural data bandwidth", None),
            ("10M concurrent streams, 1B during viral events", None),
            ("500k hours/day uploads, 100M concurrent streams", None),
            (
                "100k requests/sec during Black Friday (10x normal)",
                Some(1e5),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(peak_rate(text), want, "{text}");
        }
        // Lower-case m is not a million (it would be metres or minutes).
        assert_eq!(peak_rate("5m req/s"), None);
    }
}
