//! The structured sections of a room (issue 23): requirements, estimates, API and data model, held in
//! the room's Yjs document next to the design (schema: docs/PROTOCOL.md §3, "Sections"; the client's
//! twin is `client/src/report/sections.ts`), and the advisory checks the server runs on them against
//! the room's problem (`section_checks` message, §3).
//!
//! Every section is its own root type, so two clients that start a section at once never race to
//! create a nested type (the loser's edits would vanish):
//! - `req_functional`, `req_nonfunctional`: `Y.Text`, one requirement a line;
//! - `estimates`: `Y.Array<Y.Map>` of `{id, name, value, unit, arithmetic}`;
//! - `api`: `Y.Array<Y.Map>` of `{id, method, path, request, response}`;
//! - `data_model`: `Y.Array<Y.Map>` of `{id, name, fields, keys, indexes, partitioning}`.
//!
//! A field is a string or a `Y.Text` (read as its text); `value` may also be a number. Anything else
//! reads as empty: the checks are advice, a malformed entry is simply not counted.

use serde::{Deserialize, Serialize};
use yrs::types::ToJson;
use yrs::{Array, GetString, ReadTxn, Text, WriteTxn};

use crate::problems::Problem;
use crate::problems::model::ConstValue;

pub const FUNCTIONAL_KEY: &str = "req_functional";
pub const NONFUNCTIONAL_KEY: &str = "req_nonfunctional";
pub const ESTIMATES_KEY: &str = "estimates";
pub const API_KEY: &str = "api";
pub const DATA_MODEL_KEY: &str = "data_model";
/// Every root key of the sections, for observers.
pub const SECTION_KEYS: [&str; 5] = [
    FUNCTIONAL_KEY,
    NONFUNCTIONAL_KEY,
    ESTIMATES_KEY,
    API_KEY,
    DATA_MODEL_KEY,
];

/// An estimate passes when it is within this factor of the problem's figure (either way).
pub const ESTIMATE_FACTOR: f64 = 2.0;
/// An estimate's stated value and its arithmetic agree when they differ by at most this share.
pub const ARITHMETIC_TOLERANCE: f64 = 0.01;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sections {
    pub functional: Vec<String>,
    pub non_functional: Vec<String>,
    pub estimates: Vec<Estimate>,
    pub api: Vec<Endpoint>,
    pub data_model: Vec<Entity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Estimate {
    pub id: String,
    pub name: String,
    /// As written (`"2,300"`, `"1.2M"`); empty when the arithmetic alone gives it.
    pub value: String,
    pub unit: String,
    pub arithmetic: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub method: String,
    pub path: String,
    pub request: String,
    pub response: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub fields: String,
    pub keys: String,
    pub indexes: String,
    pub partitioning: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn field(map: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    match map.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The entries of a root `Y.Array<Y.Map>` as JSON objects (a `Y.Text` field reads as its text).
fn entries<T: ReadTxn>(txn: &T, key: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let Some(array) = txn.get_array(key) else {
        return vec![];
    };
    let any = array.to_json(txn);
    match serde_json::to_value(&any) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::Object(map) => Some(map),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

impl Sections {
    /// Reads the sections out of a room's document.
    pub fn from_txn<T: ReadTxn>(txn: &T) -> Sections {
        let text = |key: &str| {
            txn.get_text(key)
                .map(|t| lines(&t.get_string(txn)))
                .unwrap_or_default()
        };
        Sections {
            functional: text(FUNCTIONAL_KEY),
            non_functional: text(NONFUNCTIONAL_KEY),
            estimates: entries(txn, ESTIMATES_KEY)
                .iter()
                .map(|m| Estimate {
                    id: field(m, "id"),
                    name: field(m, "name"),
                    value: field(m, "value"),
                    unit: field(m, "unit"),
                    arithmetic: field(m, "arithmetic"),
                })
                .collect(),
            api: entries(txn, API_KEY)
                .iter()
                .map(|m| Endpoint {
                    id: field(m, "id"),
                    method: field(m, "method"),
                    path: field(m, "path"),
                    request: field(m, "request"),
                    response: field(m, "response"),
                })
                .collect(),
            data_model: entries(txn, DATA_MODEL_KEY)
                .iter()
                .map(|m| Entity {
                    id: field(m, "id"),
                    name: field(m, "name"),
                    fields: field(m, "fields"),
                    keys: field(m, "keys"),
                    indexes: field(m, "indexes"),
                    partitioning: field(m, "partitioning"),
                })
                .collect(),
        }
    }

    /// Writes the sections into a document as a client would (tests, benchmark).
    pub fn write_to_txn(&self, txn: &mut yrs::TransactionMut) {
        use yrs::MapPrelim;
        let put_text = |txn: &mut yrs::TransactionMut, key: &str, lines: &[String]| {
            let text = txn.get_or_insert_text(key);
            let len = text.len(txn);
            text.remove_range(txn, 0, len);
            text.insert(txn, 0, &lines.join("\n"));
        };
        put_text(txn, FUNCTIONAL_KEY, &self.functional);
        put_text(txn, NONFUNCTIONAL_KEY, &self.non_functional);
        let put_array =
            |txn: &mut yrs::TransactionMut, key: &str, rows: Vec<Vec<(&str, String)>>| {
                let array = txn.get_or_insert_array(key);
                let len = array.len(txn);
                array.remove_range(txn, 0, len);
                for row in rows {
                    let prelim: MapPrelim = row.into_iter().collect();
                    array.push_back(txn, prelim);
                }
            };
        put_array(
            txn,
            ESTIMATES_KEY,
            self.estimates
                .iter()
                .map(|e| {
                    vec![
                        ("id", e.id.clone()),
                        ("name", e.name.clone()),
                        ("value", e.value.clone()),
                        ("unit", e.unit.clone()),
                        ("arithmetic", e.arithmetic.clone()),
                    ]
                })
                .collect(),
        );
        put_array(
            txn,
            API_KEY,
            self.api
                .iter()
                .map(|e| {
                    vec![
                        ("id", e.id.clone()),
                        ("method", e.method.clone()),
                        ("path", e.path.clone()),
                        ("request", e.request.clone()),
                        ("response", e.response.clone()),
                    ]
                })
                .collect(),
        );
        put_array(
            txn,
            DATA_MODEL_KEY,
            self.data_model
                .iter()
                .map(|e| {
                    vec![
                        ("id", e.id.clone()),
                        ("name", e.name.clone()),
                        ("fields", e.fields.clone()),
                        ("keys", e.keys.clone()),
                        ("indexes", e.indexes.clone()),
                        ("partitioning", e.partitioning.clone()),
                    ]
                })
                .collect(),
        );
    }
}

/// `pass`, `fail` or `info` (nothing to judge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Info,
}

/// One line of a check: an estimate, a requirement, an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckItem {
    pub name: String,
    pub status: Status,
    pub explanation: String,
    /// The host's verdict on this item, when the host overrode the check (`api_coverage` only).
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub host_override: Option<ApiOverride>,
}

/// The host's verdict on one functional requirement of the API checklist (`api_coverage`): covered
/// or not, whatever the name matching says; who said so and when. Held in the interview state
/// (`api_override` host action, docs/PROTOCOL.md §7), so it is live, stored and on every instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiOverride {
    pub covered: bool,
    /// The host's display name as the host's client gave it (`host` when none).
    pub by: String,
    /// Epoch ms.
    pub at: i64,
}

/// One advisory check on the sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectionCheck {
    /// `estimates`, `non_functional`, `api_coverage` or `data_model_keys`.
    pub id: String,
    pub title: String,
    pub status: Status,
    pub explanation: String,
    pub items: Vec<CheckItem>,
}

/// The `result` of a `section_checks` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectionChecks {
    pub checks: Vec<SectionCheck>,
}

fn summarise(id: &str, title: &str, items: Vec<CheckItem>, empty: &str) -> SectionCheck {
    let failed = items.iter().filter(|i| i.status == Status::Fail).count();
    let passed = items.iter().filter(|i| i.status == Status::Pass).count();
    let (status, explanation) = if items.is_empty() {
        (Status::Info, empty.to_string())
    } else if failed > 0 {
        (
            Status::Fail,
            format!("{failed} of {} need attention", items.len()),
        )
    } else if passed > 0 {
        (Status::Pass, format!("all {} hold", items.len()))
    } else {
        (Status::Info, "nothing to compare with".to_string())
    };
    SectionCheck {
        id: id.into(),
        title: title.into(),
        status,
        explanation,
        items,
    }
}

/// Runs the four advisory checks of the sections against the problem.
pub fn check(problem: &Problem, sections: &Sections) -> SectionChecks {
    SectionChecks {
        checks: vec![
            summarise(
                "estimates",
                "Estimates against the problem's figures",
                check_estimates(problem, sections),
                "no estimates yet",
            ),
            summarise(
                "non_functional",
                "Non-functional requirements covered",
                check_nonfunctional(problem, sections),
                "the problem lists no non-functional requirements",
            ),
            summarise(
                "api_coverage",
                "API covers the functional requirements",
                check_api(problem, sections),
                "no functional requirements to cover",
            ),
            summarise(
                "data_model_keys",
                "Every entity has a key",
                check_keys(sections),
                "no entities yet",
            ),
        ],
    }
}

/// The host's API verdicts (requirement → verdict) replace the name matching of those items of the
/// `api_coverage` check; the check's status and explanation are recounted. Items the host did not
/// judge keep the matching's verdict; verdicts on requirements no longer listed are kept aside (the
/// candidate may write the line again).
pub fn apply_overrides(
    checks: &mut SectionChecks,
    overrides: &std::collections::BTreeMap<String, ApiOverride>,
) {
    if overrides.is_empty() {
        return;
    }
    for check in &mut checks.checks {
        if check.id != "api_coverage" {
            continue;
        }
        let mut touched = false;
        for item in &mut check.items {
            if let Some(o) = overrides.get(&item.name) {
                touched = true;
                item.status = if o.covered {
                    Status::Pass
                } else {
                    Status::Fail
                };
                item.explanation = format!(
                    "{} by the host ({}); the matching said: {}",
                    if o.covered { "covered" } else { "not covered" },
                    o.by,
                    item.explanation
                );
                item.host_override = Some(o.clone());
            }
        }
        if touched {
            let (id, title) = (check.id.clone(), check.title.clone());
            let items = std::mem::take(&mut check.items);
            *check = summarise(&id, &title, items, "");
        }
    }
}

// ---- numbers ----

/// `1,234`, `2.5`, `100M`, `3k`, `1.2B`, `40%` → a number; `None` otherwise.
pub fn parse_number(text: &str) -> Option<f64> {
    let mut tokens = tokenize(text.trim());
    if tokens.len() != 1 {
        // "2,300 /s" is a value with a unit glued on: take its leading number.
        tokens.truncate(1);
    }
    match tokens.first() {
        Some(Tok::Num(n)) => Some(*n),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Op(char),
    Open,
    Close,
}

fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let mut s = String::new();
            while i < chars.len() {
                let d = chars[i];
                if d.is_ascii_digit() || d == '.' {
                    s.push(d);
                } else if d == ',' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                    // Thousands separator.
                } else if d == '_' {
                } else {
                    break;
                }
                i += 1;
            }
            let mut n: f64 = s.parse().unwrap_or(0.0);
            // A magnitude suffix directly after the number (not the start of a longer word such
            // as "ms" or "million", which are words).
            if let Some(&s) = chars.get(i) {
                let next_alpha = chars.get(i + 1).is_some_and(|c| c.is_alphabetic());
                let mult = match s {
                    'k' | 'K' if !next_alpha => Some(1e3),
                    'M' if !next_alpha => Some(1e6),
                    'B' | 'G' if !next_alpha => Some(1e9),
                    'T' if !next_alpha => Some(1e12),
                    '%' => Some(0.01),
                    _ => None,
                };
                if let Some(m) = mult {
                    n *= m;
                    i += 1;
                }
            }
            out.push(Tok::Num(n));
            continue;
        }
        match c {
            '×' | '*' | '·' => out.push(Tok::Op('*')),
            'x' | 'X'
                if !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
                    && (i == 0 || !chars[i - 1].is_alphanumeric()) =>
            {
                out.push(Tok::Op('*'))
            }
            '/' | '÷' => out.push(Tok::Op('/')),
            '+' => out.push(Tok::Op('+')),
            '-' | '−' => out.push(Tok::Op('-')),
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            c if c.is_alphabetic() => {
                // A word (a label such as "DAU", a unit such as "ms"): skipped, with its letters.
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Words took their operands with them ("/day", "(peak factor)"): drop an operator that no operand
    // follows, and parentheses left empty.
    let mut clean: Vec<Tok> = Vec::with_capacity(out.len());
    for (k, tok) in out.iter().enumerate() {
        match tok {
            Tok::Op(op) => {
                let next = out.get(k + 1);
                let operand = matches!(next, Some(Tok::Num(_)) | Some(Tok::Open))
                    || (*op != '-' && matches!(next, Some(Tok::Op('-'))));
                if operand {
                    clean.push(tok.clone());
                }
            }
            Tok::Close if clean.last() == Some(&Tok::Open) => {
                clean.pop();
            }
            _ => clean.push(tok.clone()),
        }
    }
    clean
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn expr(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.toks.get(self.pos).cloned() {
            self.pos += 1;
            let r = self.term()?;
            v = if op == '+' { v + r } else { v - r };
        }
        Some(v)
    }
    fn term(&mut self) -> Option<f64> {
        let mut v = self.atom()?;
        loop {
            match self.toks.get(self.pos).cloned() {
                Some(Tok::Op(op @ ('*' | '/'))) => {
                    self.pos += 1;
                    let r = self.atom()?;
                    v = if op == '*' { v * r } else { v / r };
                }
                // Juxtaposition ("2 (reads)" after a skipped word) multiplies.
                Some(Tok::Num(_)) | Some(Tok::Open) => {
                    let r = self.atom()?;
                    v *= r;
                }
                _ => return Some(v),
            }
        }
    }
    fn atom(&mut self) -> Option<f64> {
        match self.toks.get(self.pos).cloned()? {
            Tok::Num(n) => {
                self.pos += 1;
                Some(n)
            }
            Tok::Open => {
                self.pos += 1;
                let v = self.expr()?;
                if self.toks.get(self.pos) == Some(&Tok::Close) {
                    self.pos += 1;
                }
                Some(v)
            }
            Tok::Op('-') => {
                self.pos += 1;
                Some(-self.atom()?)
            }
            _ => None,
        }
    }
}

/// Evaluates an estimate's arithmetic: numbers (with `,` separators and `k`/`M`/`B`/`T`/`%`
/// suffixes), `× x * / ÷ + -` and parentheses; words are labels and skipped. With `=` signs, the
/// first side that holds a number is the expression (`peak = 100M × 2 / 86,400 = 2,315`).
pub fn evaluate(arithmetic: &str) -> Option<f64> {
    let side = arithmetic
        .split('=')
        .find(|s| s.chars().any(|c| c.is_ascii_digit()))?;
    let toks = tokenize(side);
    if toks.is_empty() {
        return None;
    }
    let mut p = Parser { toks, pos: 0 };
    let v = p.expr()?;
    (p.pos == p.toks.len() && v.is_finite()).then_some(v)
}

/// `2315.2` → `2,315`; small numbers keep up to two decimals.
pub fn show(n: f64) -> String {
    if n.abs() >= 100.0 || n.fract() == 0.0 {
        let r = n.round() as i64;
        let s = r.abs().to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if r < 0 { format!("-{out}") } else { out }
    } else {
        let s = format!("{n:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

// ---- words ----

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "into", "that", "this", "their", "them", "they", "are",
    "can", "should", "must", "will", "able", "allow", "allows", "support", "supports", "user",
    "users", "system", "each", "any", "all", "its", "has", "have", "via", "per", "when", "who",
    "what", "not", "new", "own", "other", "based",
];

fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    for suffix in ["ing", "es", "ed", "s"] {
        if w.len() > suffix.len() + 3
            && let Some(s) = w.strip_suffix(suffix)
        {
            return s.to_string();
        }
    }
    w
}

fn words(text: &str) -> Vec<String> {
    // Split camelCase too ("shortUrl" → "short", "url").
    let mut spaced = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_uppercase() && prev_lower {
            spaced.push(' ');
        }
        prev_lower = c.is_lowercase();
        spaced.push(c);
    }
    spaced
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3 && !STOPWORDS.contains(&w.to_lowercase().as_str()))
        .map(stem)
        .collect()
}

// ---- the checks ----

/// A figure of the problem an estimate can be held against.
struct Figure {
    value: f64,
    /// Where it comes from (`targets.peak_rate_per_sec`, `constants.daily_active_users`).
    source: String,
    /// How to say it: "the problem's stated peak".
    what: String,
    per_second: bool,
}

fn expand(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        match w {
            "dau" => out.extend(["daily", "active", "user"].map(String::from)),
            "mau" => out.extend(["monthly", "active", "user"].map(String::from)),
            "qps" | "rps" => out.extend(["request", "second"].map(String::from)),
            w => out.push(stem(w).trim_end_matches('s').to_string()),
        }
    }
    out
}

fn figure_for(problem: &Problem, name: &str) -> Option<Figure> {
    let lower = name.to_lowercase();
    // A constant all of whose name's words the estimate names is the most specific figure.
    let mine = expand(name);
    for c in &problem.constants {
        let value = match c.value {
            ConstValue::Integer(i) => i as f64,
            ConstValue::Float(f) => f,
            _ => continue,
        };
        let theirs = expand(&c.name);
        let significant: Vec<&String> = theirs.iter().filter(|w| w.len() >= 3).collect();
        if !significant.is_empty() && significant.iter().all(|w| mine.contains(w)) {
            let per_second = c.name.contains("per_sec") || c.name.ends_with("_qps");
            return Some(Figure {
                value,
                source: format!("constants.{}", c.name),
                what: format!("the problem's {}", c.name.replace('_', " ")),
                per_second,
            });
        }
    }
    if let Some(peak) = problem.targets.peak_rate_per_sec
        && (lower.contains("peak") || lower.contains("rps") || lower.contains("qps"))
    {
        return Some(Figure {
            value: peak,
            source: "targets.peak_rate_per_sec".into(),
            what: "the problem's stated peak".into(),
            per_second: true,
        });
    }
    for p in ["p50", "p95", "p99", "p999"] {
        if lower.contains(p)
            && let Some(ms) = problem.targets.latency_ms.get(p)
        {
            return Some(Figure {
                value: *ms,
                source: format!("targets.latency_ms.{p}"),
                what: format!("the problem's {p} latency target (ms)"),
                per_second: false,
            });
        }
    }
    if (lower.contains("availability") || lower.contains("uptime"))
        && let Some(a) = problem.targets.availability_percent
    {
        return Some(Figure {
            value: a,
            source: "targets.availability_percent".into(),
            what: "the problem's availability target (%)".into(),
            per_second: false,
        });
    }
    None
}

/// Divides a figure given per day / hour / minute down to per second, from its unit.
fn per_second(value: f64, unit: &str) -> f64 {
    let u = unit.to_lowercase();
    if u.contains("day") || u.ends_with("/d") {
        value / 86_400.0
    } else if u.contains("hour") || u.ends_with("/h") || u.ends_with("/hr") {
        value / 3_600.0
    } else if u.contains("min") {
        value / 60.0
    } else {
        value
    }
}

fn check_estimates(problem: &Problem, sections: &Sections) -> Vec<CheckItem> {
    let mut items = Vec::new();
    for e in &sections.estimates {
        if e.name.trim().is_empty() && e.arithmetic.trim().is_empty() && e.value.trim().is_empty() {
            continue;
        }
        let name = if e.name.trim().is_empty() {
            "(unnamed)".to_string()
        } else {
            e.name.trim().to_string()
        };
        let computed = evaluate(&e.arithmetic);
        let stated = parse_number(&e.value);
        let unit = e.unit.trim();
        let shown_unit = if unit.is_empty() {
            String::new()
        } else if unit.starts_with('/') {
            unit.to_string()
        } else {
            format!(" {unit}")
        };
        // The arithmetic must give the stated value, when both are there.
        if let (Some(c), Some(s)) = (computed, stated)
            && (c - s).abs() > ARITHMETIC_TOLERANCE * s.abs().max(c.abs())
        {
            items.push(CheckItem {
                name,
                status: Status::Fail,
                explanation: format!(
                    "your arithmetic {} gives {}, not the stated {}{shown_unit}",
                    e.arithmetic.trim(),
                    show(c),
                    show(s)
                ),
                host_override: None,
            });
            continue;
        }
        let Some(value) = stated.or(computed) else {
            items.push(CheckItem {
                name,
                status: Status::Info,
                explanation: "no number to check: give a value or arithmetic".into(),
                host_override: None,
            });
            continue;
        };
        let working = if e.arithmetic.trim().is_empty() {
            String::new()
        } else {
            format!(" ({})", e.arithmetic.trim())
        };
        let Some(figure) = figure_for(problem, &name) else {
            items.push(CheckItem {
                name: name.clone(),
                status: Status::Info,
                explanation: format!(
                    "your {name}: {}{shown_unit}{working}; the problem states no figure for it",
                    show(value)
                ),
                host_override: None,
            });
            continue;
        };
        let mine = if figure.per_second {
            per_second(value, unit)
        } else {
            value
        };
        let ratio = if figure.value == 0.0 || mine == 0.0 {
            f64::INFINITY
        } else {
            (mine / figure.value).max(figure.value / mine)
        };
        let within = ratio <= ESTIMATE_FACTOR;
        let suffix = if figure.per_second { "/s" } else { "" };
        items.push(CheckItem {
            name: name.clone(),
            status: if within { Status::Pass } else { Status::Fail },
            explanation: format!(
                "your {name}: {}{suffix}{working}; {}: {}{suffix} ({}): {} {ESTIMATE_FACTOR}×",
                show(mine),
                figure.what,
                show(figure.value),
                figure.source,
                if within {
                    if ratio <= 1.0 + 1e-9 {
                        "equal, within".to_string()
                    } else {
                        format!("{}× apart, within", show(ratio))
                    }
                } else if ratio.is_finite() {
                    format!("{}× apart, beyond", show(ratio))
                } else {
                    "beyond".to_string()
                }
            ),
            host_override: None,
        });
    }
    items
}

/// Words that say a requirement is about the same quality, beyond its own name.
fn synonyms(name: &str) -> Vec<&'static str> {
    let n = name.to_lowercase();
    let mut out = Vec::new();
    if n.contains("latenc") || n.contains("response") || n.contains("performance") {
        out.extend([
            "latency",
            "p99",
            "p95",
            "p50",
            "ms",
            "response time",
            "fast",
        ]);
    }
    if n.contains("availab") || n.contains("uptime") || n.contains("reliab") {
        out.extend([
            "availability",
            "available",
            "uptime",
            "99.9",
            "nines",
            "failover",
        ]);
    }
    if n.contains("rate") || n.contains("throughput") || n.contains("traffic") || n.contains("qps")
    {
        out.extend([
            "rps",
            "qps",
            "requests",
            "throughput",
            "/s",
            "per second",
            "peak",
        ]);
    }
    if n.contains("consisten") {
        out.extend([
            "consistent",
            "consistency",
            "linearizab",
            "read-your-writes",
        ]);
    }
    if n.contains("durab") {
        out.extend(["durable", "durability", "data loss", "replicat"]);
    }
    if n.contains("scal") || n.contains("size") || n.contains("storage") || n.contains("dataset") {
        out.extend(["scale", "storage", "tb", "pb", "gb", "data size", "dataset"]);
    }
    if n.contains("secur") || n.contains("privacy") || n.contains("complian") {
        out.extend([
            "security",
            "secure",
            "auth",
            "encrypt",
            "privacy",
            "compliance",
        ]);
    }
    if n.contains("cost") || n.contains("budget") {
        out.extend(["cost", "budget", "$"]);
    }
    out
}

fn contains_word(line: &str, word: &str) -> bool {
    let line = line.to_lowercase();
    // Short keywords ("ms", "tb") must stand alone; longer ones may start a word.
    if word.len() <= 3 && word.chars().all(char::is_alphanumeric) {
        line.split(|c: char| !c.is_alphanumeric()).any(|w| {
            w == word
                || (w.ends_with(word)
                    && w[..w.len() - word.len()]
                        .chars()
                        .all(|c| c.is_ascii_digit()))
        })
    } else {
        line.contains(word)
    }
}

fn check_nonfunctional(problem: &Problem, sections: &Sections) -> Vec<CheckItem> {
    problem
        .non_functional_requirements
        .iter()
        .map(|req| {
            let mut keys: Vec<String> = req
                .name
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() >= 4)
                .map(|w| w.to_lowercase())
                .collect();
            keys.extend(synonyms(&req.name).into_iter().map(String::from));
            let hit = sections
                .non_functional
                .iter()
                .find(|line| keys.iter().any(|k| contains_word(line, k)));
            match hit {
                Some(line) => CheckItem {
                    name: req.name.clone(),
                    status: Status::Pass,
                    explanation: format!("covered by '{line}' (the problem: {})", req.text),
                    host_override: None,
                },
                None => CheckItem {
                    name: req.name.clone(),
                    status: Status::Fail,
                    explanation: format!(
                        "no non-functional requirement mentions {} (the problem: {})",
                        req.name.to_lowercase(),
                        req.text
                    ),
                    host_override: None,
                },
            }
        })
        .collect()
}

fn check_api(problem: &Problem, sections: &Sections) -> Vec<CheckItem> {
    let (requirements, source) = if sections.functional.is_empty() {
        (problem.functional_requirements.clone(), "the problem's")
    } else {
        (sections.functional.clone(), "your")
    };
    let endpoints: Vec<(String, Vec<String>)> = sections
        .api
        .iter()
        .map(|e| {
            let label = format!("{} {}", e.method.trim().to_uppercase(), e.path.trim());
            let all = format!("{} {} {}", e.path, e.request, e.response);
            (label, words(&all))
        })
        .collect();
    requirements
        .iter()
        .map(|req| {
            let mine = words(req);
            let hit = endpoints.iter().find_map(|(label, ws)| {
                mine.iter()
                    .find(|w| ws.contains(w))
                    .map(|w| (label.clone(), w.clone()))
            });
            match hit {
                Some((label, word)) => CheckItem {
                    name: req.clone(),
                    status: Status::Pass,
                    explanation: format!("{label} (matches '{word}')"),
                    host_override: None,
                },
                None => CheckItem {
                    name: req.clone(),
                    status: Status::Fail,
                    explanation: format!(
                        "no endpoint names any of {} ({source} requirement)",
                        if mine.is_empty() {
                            "its words".to_string()
                        } else {
                            mine.join(", ")
                        }
                    ),
                    host_override: None,
                },
            }
        })
        .collect()
}

fn check_keys(sections: &Sections) -> Vec<CheckItem> {
    sections
        .data_model
        .iter()
        .filter(|e| !e.name.trim().is_empty())
        .map(|e| {
            if e.keys.trim().is_empty() {
                CheckItem {
                    name: e.name.trim().to_string(),
                    status: Status::Fail,
                    explanation: "no key: how is a row found?".into(),
                    host_override: None,
                }
            } else {
                let mut explanation = format!("key {}", e.keys.trim());
                if !e.partitioning.trim().is_empty() {
                    explanation.push_str(&format!("; partitioned by {}", e.partitioning.trim()));
                }
                CheckItem {
                    name: e.name.trim().to_string(),
                    status: Status::Pass,
                    explanation,
                    host_override: None,
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_evaluates_the_issue_example() {
        let v = evaluate("peak writes = 100M DAU × 2 / 86,400 × 3").unwrap();
        assert!((v - 6944.44).abs() < 0.01, "{v}");
        assert_eq!(evaluate("(2 + 3) x 4"), Some(20.0));
        assert_eq!(evaluate("1.2k * 10%"), Some(120.0));
        assert_eq!(evaluate("no numbers"), None);
        assert_eq!(
            evaluate("5M req/day / 86,400 × 17.28 (peak factor)").map(f64::round),
            Some(1000.0)
        );
        assert_eq!(parse_number("2,300"), Some(2300.0));
        assert_eq!(parse_number("1.5M"), Some(1_500_000.0));
        assert_eq!(show(2315.2), "2,315");
        assert_eq!(show(1.25), "1.25");
    }

    fn problem() -> Problem {
        let mut p = Problem::new(
            "p".into(),
            "P".into(),
            "classic".into(),
            crate::problems::model::Origin {
                file: "f".into(),
                number: 1,
            },
        );
        p.targets.peak_rate_per_sec = Some(2315.0);
        p.functional_requirements = vec![
            "Shorten a long URL".into(),
            "Track clicks and analytics".into(),
        ];
        p.non_functional_requirements = vec![
            crate::problems::model::Requirement {
                name: "Latency".into(),
                text: "P99 < 100ms".into(),
            },
            crate::problems::model::Requirement {
                name: "Availability".into(),
                text: "99.99%".into(),
            },
        ];
        p
    }

    #[test]
    fn checks_compare_with_the_problem() {
        let sections = Sections {
            functional: vec![],
            non_functional: vec!["p99 under 100 ms".into()],
            estimates: vec![Estimate {
                name: "peak writes".into(),
                value: "2,300".into(),
                unit: "/s".into(),
                arithmetic: "200M / 86,400".into(),
                ..Default::default()
            }],
            api: vec![Endpoint {
                method: "POST".into(),
                path: "/urls".into(),
                request: "{longUrl}".into(),
                response: "{shortUrl}".into(),
                ..Default::default()
            }],
            data_model: vec![
                Entity {
                    name: "url".into(),
                    keys: "code".into(),
                    ..Default::default()
                },
                Entity {
                    name: "click".into(),
                    ..Default::default()
                },
            ],
        };
        let result = check(&problem(), &sections);
        let by = |id: &str| result.checks.iter().find(|c| c.id == id).unwrap().clone();
        let est = by("estimates");
        assert_eq!(est.status, Status::Pass, "{est:?}");
        assert!(
            est.items[0].explanation.contains("2,300/s")
                && est.items[0].explanation.contains("2,315/s"),
            "{est:?}"
        );
        let nfr = by("non_functional");
        assert_eq!(nfr.items[0].status, Status::Pass);
        assert_eq!(nfr.items[1].status, Status::Fail);
        let api = by("api_coverage");
        assert_eq!(api.items[0].status, Status::Pass, "{api:?}");
        assert_eq!(api.items[1].status, Status::Fail, "{api:?}");
        let keys = by("data_model_keys");
        assert_eq!(keys.status, Status::Fail);
        assert_eq!(keys.items[1].name, "click");

        // Arithmetic that contradicts its value, and a figure 3× off.
        let mut wrong = sections.clone();
        wrong.estimates[0].value = "9,000".into();
        assert_eq!(by_id(&check(&problem(), &wrong), "estimates"), Status::Fail);
        wrong.estimates[0].arithmetic = String::new();
        let r = check(&problem(), &wrong);
        assert_eq!(by_id(&r, "estimates"), Status::Fail);
        assert!(r.checks[0].items[0].explanation.contains("beyond 2×"));
    }

    #[test]
    fn the_hosts_verdicts_replace_the_matching() {
        let sections = Sections {
            api: vec![Endpoint {
                method: "POST".into(),
                path: "/url".into(),
                request: "{longUrl}".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut r = check(&problem(), &sections);
        assert_eq!(r.checks[2].items[0].status, Status::Pass, "{r:?}");
        assert_eq!(r.checks[2].status, Status::Fail);
        let mut overrides = std::collections::BTreeMap::new();
        // A verdict on a requirement nobody lists changes nothing.
        overrides.insert(
            "Not a requirement".to_string(),
            ApiOverride {
                covered: false,
                by: "Hana".into(),
                at: 5,
            },
        );
        let before = r.clone();
        apply_overrides(&mut r, &overrides);
        assert_eq!(r, before);
        overrides.insert(
            "Track clicks and analytics".to_string(),
            ApiOverride {
                covered: true,
                by: "Hana".into(),
                at: 7,
            },
        );
        apply_overrides(&mut r, &overrides);
        let api = &r.checks[2];
        assert_eq!(api.status, Status::Pass, "{api:?}");
        assert_eq!(api.explanation, "all 2 hold");
        let item = &api.items[1];
        assert_eq!(item.status, Status::Pass);
        assert!(
            item.explanation
                .starts_with("covered by the host (Hana); the matching said: no endpoint"),
            "{item:?}"
        );
        assert_eq!(item.host_override.as_ref().map(|o| o.at), Some(7));
        let json = serde_json::to_value(item).unwrap();
        assert_eq!(json["override"]["by"], "Hana");
        // Items the host left alone have no `override` on the wire.
        assert!(
            serde_json::to_value(&api.items[0])
                .unwrap()
                .get("override")
                .is_none()
        );
        // The other checks are untouched.
        assert_eq!(r.checks[0], before.checks[0]);
    }

    fn by_id(r: &SectionChecks, id: &str) -> Status {
        r.checks.iter().find(|c| c.id == id).unwrap().status
    }
}
