//! The authoring step (`tierboard-bank author`): tiers and a reference design for every problem whose
//! seed has no tiers. Run once; its output is committed and from then on it is authored content that the
//! importer keeps (it never replaces tiers that already exist).
//!
//! Every authored rule carries `because = '<field>: "<phrase>"'`: the phrase is copied from that field of
//! the problem itself (a test checks it is there), so each rule can be traced to the text it comes from.
//! The tiers follow one progression (problems/README.md, "Authored tiers"), each titled by what it
//! checks:
//! - T0 working core: the component the problem is about (its title's topic) and where its data lives,
//!   connected;
//! - T1 load and redundancy: instance counts from the problem's stated rate through the capacity model
//!   (`⌈peak ÷ (0.8 × per-instance rps)⌉`), at least what the availability target asks, the entry point in
//!   front, replicated data;
//! - T2 distinctive requirement: the problem's remaining, specific components the text asks for.

pub mod classic;

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};
use crate::{import, reference};
use tierboard::design::ParamValue;
use tierboard::problems::catalog::Catalog;
use tierboard::problems::load;
use tierboard::problems::model::{
    Problem, RefEdge, RefNode, ReferenceSolution, Rule, Tier, TierSource,
};
use tierboard::validation::validate;

/// Words too generic to tie a component to a sentence.
const GENERIC: &[&str] = &[
    "service",
    "engine",
    "system",
    "layer",
    "node",
    "cluster",
    "manager",
    "server",
    "store",
    "network",
    "pipeline",
    "platform",
    "db",
    "api",
    "tool",
    "hub",
    "data",
    "array",
    "core",
    "interface",
];

/// Extra words that name a kind in prose.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("client", &["users", "clients", "client", "mobile"]),
    ("lb", &["load balanc", "traffic"]),
    (
        "app",
        &["service", "server", "api", "application", "microservice"],
    ),
    (
        "worker",
        &["worker", "transcod", "process", "job", "background"],
    ),
    (
        "db_primary",
        &[
            "database",
            "postgres",
            "mysql",
            "cassandra",
            "mongodb",
            "sql",
            "metadata",
            "store",
        ],
    ),
    ("db_replica", &["replica", "read"]),
    ("cache", &["cache", "caching", "redis", "memcached"]),
    (
        "queue",
        &["queue", "kafka", "rabbitmq", "sqs", "async", "message"],
    ),
    ("stream", &["stream", "kafka", "event"]),
    (
        "object_store",
        &["s3", "object stor", "blob", "files", "media stor"],
    ),
    ("cdn", &["cdn", "cloudfront", "edge"]),
    ("search", &["search", "elasticsearch"]),
    ("websocket", &["websocket", "real-time", "realtime"]),
    ("api_gateway", &["api gateway", "gateway", "api"]),
    ("service_mesh", &["service mesh", "mesh", "inter-service"]),
    ("rate_limiter", &["rate limit"]),
    (
        "auth_service",
        &["authenticat", "authoriz", "oauth", "jwt", "login"],
    ),
    ("monitoring", &["monitor"]),
    ("alert_manager", &["alert"]),
    (
        "stream_processor",
        &["aggregat", "stream processing", "real-time"],
    ),
    ("job_scheduler", &["airflow", "orchestrat", "schedul"]),
    ("operation_log", &["operation", "edit"]),
    ("crdt", &["crdt", "conflict", "concurrent edit"]),
];

/// A phrase of the problem's text and the field it is in.
#[derive(Debug, Clone)]
struct Phrase {
    field: &'static str,
    text: String,
}

impl Phrase {
    fn cite(&self) -> String {
        format!("{}: \"{}\"", self.field, self.text)
    }
}

/// Longest quote kept (cut on a char boundary, so it stays a substring of the field).
const MAX_QUOTE: usize = 180;

fn clip(s: &str) -> String {
    let s = s.trim();
    if s.len() <= MAX_QUOTE {
        return s.to_string();
    }
    let mut end = MAX_QUOTE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].trim_end().to_string()
}

/// Every sentence-sized phrase of the problem's text, in citation preference order.
fn phrases(p: &Problem) -> Vec<Phrase> {
    let mut out = Vec::new();
    let mut push_text = |field: &'static str, text: &str| {
        for line in text.lines() {
            // Box-drawing characters frame the ASCII diagrams of the classic questions: the text between
            // them is quotable on its own.
            for segment in line.split(|c: char| ('\u{2500}'..='\u{257F}').contains(&c)) {
                let segment = segment
                    .trim()
                    .trim_start_matches(['-', '*', '#', '•', '✓', '↓', ' '])
                    .trim();
                for s in segment.split(". ") {
                    let s = s.trim();
                    if s.len() >= 12 && !s.contains('"') {
                        out.push(Phrase {
                            field,
                            text: clip(s),
                        });
                    }
                }
            }
        }
    };
    for f in &p.functional_requirements {
        push_text("functional_requirements", f);
    }
    for h in &p.hints {
        push_text("hints", h);
    }
    for r in &p.non_functional_requirements {
        push_text(
            "non_functional_requirements",
            &format!("{}: {}", r.name, r.text),
        );
    }
    push_text("goal", &p.goal);
    push_text("description", &p.description);
    for s in &p.sections {
        push_text("sections", &s.text);
    }
    if let Some(t) = &p.tutorial {
        push_text("tutorial", &t.text);
    }
    push_text("summary", &p.summary);
    out
}

/// Words that tie a component type to prose.
fn words_for(ty: &str, catalog: &Catalog) -> Vec<String> {
    if let Some((_, syn)) = SYNONYMS.iter().find(|(k, _)| *k == ty) {
        return syn.iter().map(|s| s.to_string()).collect();
    }
    let kind = catalog.kind_of(ty).unwrap_or(ty);
    let mut words: Vec<String> = ty
        .split('_')
        .filter(|w| w.len() >= 3 && !GENERIC.contains(w))
        .map(|w| {
            w.chars()
                .take(if w.len() > 6 { w.len() - 1 } else { w.len() })
                .collect()
        })
        .collect();
    if let Some((_, syn)) = SYNONYMS.iter().find(|(k, _)| *k == kind) {
        words.extend(syn.iter().map(|s| s.to_string()));
    }
    if words.is_empty() {
        words.push(ty.replace('_', " "));
    }
    words
}

/// Whether `hay` (lowercase) mentions `word` at the start of a word ("rate" is not in "strategy").
fn mentions(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(i, _)| {
        !hay[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    })
}

/// The phrase that best names `ty` (most distinct words found; ties go to the earlier phrase).
fn cite_component(ty: &str, phrases: &[Phrase], catalog: &Catalog) -> Option<Phrase> {
    let words = words_for(ty, catalog);
    let mut best: Option<(usize, &Phrase)> = None;
    for ph in phrases {
        let lower = ph.text.to_lowercase();
        let score = words.iter().filter(|w| mentions(&lower, w)).count();
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, ph));
        }
    }
    best.map(|(_, p)| p.clone())
}

fn nfr(p: &Problem, names: &[&str]) -> Option<Phrase> {
    p.non_functional_requirements
        .iter()
        .find(|r| {
            names
                .iter()
                .any(|n| r.name.to_lowercase().contains(n) || r.text.to_lowercase().contains(n))
        })
        .map(|r| Phrase {
            field: "non_functional_requirements",
            text: clip(&format!("{}: {}", r.name, r.text)),
        })
}

/// The phrase that states what the system must do: the first functional requirement, else the goal,
/// the description, the summary. It is why the core of any design (a client, the service, where its data
/// lives) is there at all.
fn core_phrase(p: &Problem) -> Option<Phrase> {
    let all = phrases(p);
    [
        "functional_requirements",
        "goal",
        "description",
        "summary",
        "sections",
    ]
    .iter()
    .find_map(|f| all.iter().find(|ph| ph.field == *f).cloned())
}

fn include(ty: &str, because: String) -> Rule {
    Rule::Include {
        ty: ty.into(),
        text: format!("Must include: {ty}"),
        because: Some(because),
    }
}

fn min_count(ty: &str, count: u64, because: String) -> Rule {
    Rule::MinCount {
        ty: ty.into(),
        count,
        text: format!("Minimum {count} of type: {ty}"),
        because: Some(because),
    }
}

fn connection_from(ty: &str, because: String) -> Rule {
    Rule::ConnectionFrom {
        ty: ty.into(),
        text: format!("Must have connection from: {ty}"),
        because: Some(because),
    }
}

fn family<'a>(catalog: &'a Catalog, ty: &str) -> &'a str {
    catalog.get(ty).map_or("", |t| t.family.as_str())
}

/// The roles of a problem's components.
struct Roles {
    client: Option<String>,
    entry: Option<String>,
    compute: String,
    data: String,
    replica: Option<String>,
    /// The component the problem's title is about when it is neither core (a gateway problem's
    /// `api_gateway`, a feature store problem's `feature_store`).
    topic: Option<String>,
    rest: Vec<String>,
}

/// How strongly the problem's topic (title, summary, goal) names `ty`: the words of its type id and of
/// its catalog name found there ("CI/CD Pipeline" names `ci_pipeline`).
fn topic_score(p: &Problem, ty: &str, catalog: &Catalog) -> usize {
    let topic = format!("{} {} {}", p.title, p.summary, p.goal).to_lowercase();
    let topic_words: Vec<&str> = topic
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3)
        .collect();
    let name = catalog
        .get(ty)
        .map_or("", |t| t.name.as_str())
        .to_lowercase();
    let mut words: Vec<String> = ty
        .split('_')
        .chain(name.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.len() >= 3 && !GENERIC.contains(w))
        .map(str::to_string)
        .collect();
    words.sort();
    words.dedup();
    words
        .iter()
        .filter(|w| {
            topic_words
                .iter()
                .any(|t| t == *w || (w.len() >= 4 && t.starts_with(&w[..w.len() - 1])))
        })
        .count()
}

fn roles(p: &Problem, catalog: &Catalog) -> Result<Roles, String> {
    let ac = &p.available_components;
    let kind = |t: &str| catalog.kind_of(t).unwrap_or(t).to_string();
    // The candidate the problem's topic names best; ties go to the palette's order.
    let pick = |pred: &dyn Fn(&str) -> bool| {
        let mut best: Option<(usize, &String)> = None;
        for t in ac.iter().filter(|t| pred(t)) {
            let score = topic_score(p, t, catalog);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, t));
            }
        }
        best.map(|(_, t)| t.clone())
    };
    let client = pick(&|t| kind(t) == "client");
    let compute = pick(&|t| kind(t) == "app")
        .or_else(|| pick(&|t| family(catalog, t) == "compute"))
        .or_else(|| {
            pick(&|t| {
                Some(t.to_string()) != client
                    && !matches!(family(catalog, t), "network" | "edge" | "client")
            })
        })
        .ok_or("no component to act as the compute core")?;
    let data = pick(&|t| t != compute && kind(t) == "db_primary")
        .or_else(|| pick(&|t| t != compute && family(catalog, t) == "storage"))
        .or_else(|| pick(&|t| t != compute && family(catalog, t) == "cache"))
        .or_else(|| {
            pick(&|t| {
                t != compute
                    && Some(t.to_string()) != client
                    && !matches!(family(catalog, t), "network" | "edge")
            })
        })
        .or_else(|| pick(&|t| t != compute && Some(t.to_string()) != client))
        .ok_or("no second component for the data core")?;
    let entry = pick(&|t| {
        t != compute
            && t != data
            && (matches!(family(catalog, t), "network")
                && !kind(t).contains("mesh")
                && kind(t) != "network_fabric")
    });
    let replica = pick(&|t| kind(t) == "db_replica");
    let used = [
        Some(&compute),
        Some(&data),
        entry.as_ref(),
        replica.as_ref(),
        client.as_ref(),
    ];
    // The component the problem is about, when its topic names another one better than the cores.
    let core_score = topic_score(p, &compute, catalog).max(topic_score(p, &data, catalog));
    let topic = ac
        .iter()
        .filter(|t| Some(*t) != client.as_ref() && **t != compute && **t != data)
        .map(|t| (topic_score(p, t, catalog), t))
        .filter(|(score, _)| *score > core_score)
        .fold(None::<(usize, &String)>, |best, (score, t)| match best {
            Some((s, _)) if s >= score => best,
            _ => Some((score, t)),
        })
        .map(|(_, t)| t.clone());
    let rest = ac
        .iter()
        .filter(|t| !used.contains(&Some(t)) && Some(*t) != topic.as_ref())
        .cloned()
        .collect();
    Ok(Roles {
        client,
        entry,
        compute,
        data,
        replica,
        topic,
        rest,
    })
}

/// The catalog's bound on a node's instances.
const MAX_INSTANCES: f64 = 100_000.0;

/// Instances of `ty` the capacity model needs for the problem's stated peak under 80 % utilisation,
/// `⌈peak ÷ (0.8 × per-instance rps)⌉`, with that arithmetic: `Ok` when a node may have that many
/// (the catalog allows 100,000), `Err` with the arithmetic when it may not (the stated rate is beyond
/// what the model can hold with this component), `None` without a stated peak or a capacity.
fn rate_count(p: &Problem, ty: &str, catalog: &Catalog) -> Option<Result<(u64, String), String>> {
    use tierboard::simulation::num;
    let peak = p.targets.peak_rate_per_sec.filter(|x| *x > 0.0)?;
    let ct = catalog.get(ty)?;
    let rps = ct.capacity.as_ref()?.rps;
    let bound = tierboard::problems::model::DEFAULT_MAX_UTILISATION;
    let need = (peak / (bound * rps)).ceil().max(1.0);
    let arithmetic = format!(
        "{} ÷ ({} × {} per {}) = {}",
        num(peak),
        bound,
        num(rps),
        ct.name,
        num(need)
    );
    Some(if need <= MAX_INSTANCES {
        Ok((need as u64, arithmetic))
    } else {
        Err(arithmetic)
    })
}

/// The phrase stating the problem's load (its request-rate requirement).
fn load_phrase(p: &Problem) -> Option<Phrase> {
    nfr(
        p,
        &[
            "request rate",
            "throughput",
            "per second",
            "qps",
            "rps",
            "requests",
            "/s",
            "peak",
        ],
    )
}

/// Instances asked for the compute core at T1: a count constant when the text gives one, else from the
/// availability target (≥ 99.99% → 3, N+2; otherwise 2, N+1).
fn core_count(p: &Problem) -> (u64, String) {
    for name in [
        "node_count",
        "nodes_per_cluster",
        "cluster_count",
        "committee_size",
        "build_machines",
    ] {
        if let Some(v) = p.constant_f64(name)
            && (2.0..=1000.0).contains(&v)
        {
            return (v as u64, format!("constants: \"{name} = {v}\""));
        }
    }
    let avail = p.availability_target();
    let n = if avail.is_some_and(|a| a >= 99.99) {
        3
    } else {
        2
    };
    let why = nfr(p, &["availability", "uptime"])
        .map(|ph| {
            format!(
                "{} (≥ 99.99% → 3 instances, else 2: no single instance may take the service down)",
                ph.cite()
            )
        })
        .or_else(|| {
            p.analysis.as_ref().and_then(|a| {
                a.phases
                    .iter()
                    .flat_map(|ph| &ph.figures)
                    .find(|f| f.name == "Redundancy")
                    .map(|f| format!("analysis: \"{}: {}\"", f.name, clip(&f.value)))
            })
        })
        .or_else(|| {
            nfr(
                p,
                &["concurrent", "users", "per second", "request", "throughput"],
            )
            .map(|ph| ph.cite())
        })
        .or_else(|| scale_phrase(p).map(|ph| ph.cite()))
        .or_else(|| core_phrase(p).map(|ph| ph.cite()))
        .unwrap_or_default();
    (n, why)
}

/// A phrase stating the problem's scale ("50 million daily active users", "1000 concurrent users").
fn scale_phrase(p: &Problem) -> Option<Phrase> {
    const SCALE: &[&str] = &[
        "million",
        "concurrent",
        "per second",
        "rps",
        "qps",
        "dau",
        "requests",
        "events per",
    ];
    phrases(p)
        .into_iter()
        .find(|ph| SCALE.iter().any(|w| mentions(&ph.text.to_lowercase(), w)))
}

/// The citation for a component without a sentence naming it: the requirement its kind answers
/// (latency for caches, throughput for queues, data size for stores). None when the problem's text gives
/// no reason for it: the palette offering a component is not a reason to require it.
fn fallback(p: &Problem, ty: &str, catalog: &Catalog) -> Option<Phrase> {
    let kind = catalog.kind_of(ty).unwrap_or(ty);
    let family = family(catalog, ty);
    let wanted: &[&str] = match (kind, family) {
        ("cache" | "cdn", _) | (_, "cache" | "edge") => &["latency"],
        ("queue" | "stream", _) | (_, "messaging") => &["throughput", "request rate", "per second"],
        (_, "storage") => &["dataset", "durability", "storage"],
        (_, "security") => &["security", "compliance"],
        _ => &[],
    };
    (!wanted.is_empty()).then(|| nfr(p, wanted)).flatten()
}

/// Authors the tiers for one problem.
pub fn tiers_for(p: &Problem, catalog: &Catalog) -> Result<Vec<Tier>, String> {
    let r = roles(p, catalog)?;
    let ph = phrases(p);
    // A component the text names (or whose requirement it states); None when only the palette has it.
    let cited = |ty: &str| {
        cite_component(ty, &ph, catalog)
            .or_else(|| fallback(p, ty, catalog))
            .map(|x| x.cite())
    };
    // The core (client, service, data) is required by what the system must do, named or not.
    let core = core_phrase(p).map(|x| x.cite()).unwrap_or_default();
    let cite = |ty: &str| cited(ty).unwrap_or_else(|| core.clone());
    let name = |ty: &str| {
        catalog
            .get(ty)
            .map_or_else(|| ty.to_string(), |t| t.name.clone())
    };

    let mut t0 = vec![
        include(&r.compute, cite(&r.compute)),
        include(&r.data, cite(&r.data)),
    ];
    // The component the title is about is part of the core (the title names it).
    if let Some(t) = &r.topic {
        t0.push(include(t, cited(t).unwrap_or_else(|| core.clone())));
    }
    let link = nfr(p, &["consistency", "durability", "dataset"])
        .map_or_else(|| cite(&r.data), |x| x.cite());
    t0.push(connection_from(&r.compute, link));
    if let Some(c) = &r.client {
        t0.push(connection_from(c, cite(c)));
    }
    let t0_title = match &r.topic {
        Some(t) => format!(
            "{} with {} reaching {}",
            name(t),
            name(&r.compute),
            name(&r.data)
        ),
        None => format!("{} reaches {}", name(&r.compute), name(&r.data)),
    };

    // T1: counts from the stated rate through the capacity model, at least what availability asks.
    let (n, why) = core_count(p);
    let load = load_phrase(p);
    let mut sized: Vec<String> = Vec::new();
    let mut beyond: Vec<String> = Vec::new();
    // A stated rate the compute core cannot hold within the catalog's bounds is not modelled at all:
    // sizing the other components for it would check a load the design can never carry.
    let modelled = !matches!(rate_count(p, &r.compute, catalog), Some(Err(_)));
    let mut counted = |ty: &str, least: u64, why: String| -> Rule {
        let rate = rate_count(p, ty, catalog).filter(|_| modelled || ty == r.compute);
        match (rate, &load) {
            (Some(Ok((need, arithmetic))), Some(l)) if need > least => {
                sized.push(format!("{} × {}", figure(need), name(ty)));
                min_count(
                    ty,
                    need,
                    format!(
                        "{} ({arithmetic} instances to stay under 80 % at the stated peak)",
                        l.cite()
                    ),
                )
            }
            (Some(Err(arithmetic)), Some(_)) => {
                beyond.push(name(ty));
                min_count(
                    ty,
                    least,
                    format!(
                        "{why}; the stated peak would need {arithmetic} instances, more than the \
                         100,000 a node may have, so the count is the availability's"
                    ),
                )
            }
            _ => min_count(ty, least, why),
        }
    };
    let mut t1 = vec![counted(&r.compute, n, why)];
    let scale = nfr(
        p,
        &[
            "request rate",
            "throughput",
            "concurrent",
            "per second",
            "scal",
        ],
    );
    if let Some(e) = &r.entry
        && let Some(why) = scale.clone().map(|x| x.cite()).or_else(|| cited(e))
    {
        // The entry point takes every request: sized like the core when the rate is stated.
        let rule = counted(e, 1, why.clone());
        t1.push(match rule {
            Rule::MinCount { count: 1, .. } => include(e, why),
            rule => rule,
        });
    }
    let safe = nfr(p, &["durability", "availability", "uptime", "consistency"]);
    let replicated = match &r.replica {
        Some(rep) => {
            t1.push(include(rep, safe.map_or_else(|| cite(rep), |x| x.cite())));
            "a read replica"
        }
        None => {
            let why = safe.map_or_else(
                || cite(&r.data),
                |x| format!("{} (data kept on at least 2 nodes)", x.cite()),
            );
            t1.push(counted(&r.data, 2, why));
            "data on 2 nodes or more"
        }
    };
    let t1_title = if sized.is_empty() {
        format!(
            "{} × {} for availability, {replicated}{}",
            figure(n),
            name(&r.compute),
            if beyond.is_empty() {
                ""
            } else {
                " (the stated rate is beyond the model)"
            }
        )
    } else {
        format!(
            "Sized for the stated {}/s: {}",
            tierboard::simulation::num(p.targets.peak_rate_per_sec.unwrap_or_default()),
            sized.join(", ")
        )
    };

    let t2: Vec<Rule> = r
        .rest
        .iter()
        .filter_map(|t| cited(t).map(|why| include(t, why)))
        .collect();
    let t2_title = {
        let names: Vec<String> = t2
            .iter()
            .filter_map(|rule| match rule {
                Rule::Include { ty, .. } => Some(name(ty)),
                _ => None,
            })
            .collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => format!("Adds {one}"),
            [init @ .., last] => format!("Adds {} and {last}", init.join(", ")),
        }
    };
    let tier = |id: &str, title: String, rules: Vec<Rule>| Tier {
        id: id.into(),
        title,
        source: TierSource::Authored,
        generated: false,
        note: None,
        rules,
    };
    let mut tiers = vec![tier("T0", t0_title, t0), tier("T1", t1_title, t1)];
    // Nothing specific left: no tier for it (a count with no reason would be a made-up rule).
    if !t2.is_empty() {
        tiers.push(tier("T2", t2_title, t2));
    }
    Ok(tiers)
}

fn figure(n: u64) -> String {
    tierboard::simulation::num(n as f64)
}

/// Authors a reference design that reaches `tiers`: client → entry → compute core → everything else.
pub fn reference_for(
    p: &Problem,
    tiers: &[Tier],
    catalog: &Catalog,
) -> Result<ReferenceSolution, String> {
    let r = roles(p, catalog)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for rule in tiers.iter().flat_map(|t| &t.rules) {
        if let Rule::MinCount { ty, count, .. } = rule {
            let c = counts.entry(ty.clone()).or_insert(1);
            *c = (*c).max(*count);
        }
    }
    let mut nodes = Vec::new();
    let mut node = |ty: &str| {
        let id = ty.replace('_', "-");
        let mut params = BTreeMap::new();
        params.insert(
            "instances".to_string(),
            ParamValue::Number(*counts.get(ty).unwrap_or(&1) as f64),
        );
        nodes.push(RefNode {
            id: id.clone(),
            ty: ty.to_string(),
            label: catalog
                .get(ty)
                .map_or_else(|| ty.to_string(), |t| t.name.clone()),
            x: 0.0,
            y: 0.0,
            params,
            added: false,
            filled_in: vec![],
        });
        id
    };
    let mut edges: Vec<(String, String)> = Vec::new();
    let client = r.client.as_deref().map(&mut node);
    let entry = r.entry.as_deref().map(&mut node);
    let compute = node(&r.compute);
    let data = node(&r.data);
    let replica = r.replica.as_deref().map(&mut node);
    // Gateways and edge components of the remaining ones stand in front of the entry; the rest hang off
    // the compute core.
    let is_front = |t: &str| {
        matches!(family(catalog, t), "network" | "edge")
            && !t.contains("mesh")
            && !t.contains("fabric")
    };
    let (front_types, back_types): (Vec<String>, Vec<String>) = r
        .topic
        .iter()
        // The entry point or the replica already has its node.
        .filter(|t| Some(*t) != r.entry.as_ref() && Some(*t) != r.replica.as_ref())
        .chain(&r.rest)
        .cloned()
        .partition(|t| is_front(t));
    let fronts: Vec<String> = front_types.iter().map(|t| node(t)).collect();
    let rest: Vec<String> = back_types.iter().map(|t| node(t)).collect();
    let front = entry.clone().unwrap_or_else(|| compute.clone());
    let mut first = front.clone();
    for f in fronts.iter().rev() {
        edges.push((f.clone(), first.clone()));
        first = f.clone();
    }
    if let Some(c) = &client {
        edges.push((c.clone(), first.clone()));
    }
    if let Some(e) = &entry {
        edges.push((e.clone(), compute.clone()));
    }
    edges.push((compute.clone(), data.clone()));
    if let Some(rep) = replica {
        edges.push((data.clone(), rep));
    }
    for x in rest {
        edges.push((compute.clone(), x));
    }
    let mut sol = ReferenceSolution {
        source: TierSource::Authored,
        text: "Authored reference design (the seed has none): the entry point in front of the compute core, which \
               reaches the data core and every other component; instance counts are the least the tiers require."
            .into(),
        nodes,
        edges: edges
            .into_iter()
            .enumerate()
            .map(|(i, (from, to))| RefEdge { id: format!("e{}", i + 1), from, to, added: false })
            .collect(),
    };
    let changes = reference::complete(&mut sol, tiers, catalog);
    if !changes.is_empty() {
        return Err(format!("authored design misses its own tiers: {changes:?}"));
    }
    reference::layout(&mut sol);
    Ok(sol)
}

/// The title of the generated last tier.
pub const GENERATED_TITLE: &str = "Works end to end and holds the peak";
/// Its title on a problem without a stated workload (no capacity rule).
pub const GENERATED_TITLE_NO_LOAD: &str = "Works end to end";

/// The types along the reference design's request path from a client to where the data lives: the
/// shortest path (fewest edges) from any client to a storage node, else to a cache, else to the node
/// farthest from the clients; in a design without a client, from the nodes nothing points at. Types
/// the palette does not offer are left out (the rule allows other nodes between the listed ones),
/// repeats collapsed. None without a path of 2 types.
pub fn data_path(
    p: &Problem,
    sol: &ReferenceSolution,
    catalog: &Catalog,
    data: Option<&str>,
) -> Option<Vec<String>> {
    let n = sol.nodes.len();
    let index = |id: &str| sol.nodes.iter().position(|x| x.id == id);
    let mut depth = vec![usize::MAX; n];
    let mut parent = vec![usize::MAX; n];
    let mut queue = std::collections::VecDeque::new();
    for (i, node) in sol.nodes.iter().enumerate() {
        if catalog.kind_of(&node.ty) == Some("client") {
            depth[i] = 0;
            queue.push_back(i);
        }
    }
    // A design without a client (a pipeline, a backup system) starts where nothing points: its entry.
    if queue.is_empty() {
        for (i, node) in sol.nodes.iter().enumerate() {
            if !sol.edges.iter().any(|e| e.to == node.id) {
                depth[i] = 0;
                queue.push_back(i);
            }
        }
    }
    while let Some(v) = queue.pop_front() {
        for e in sol.edges.iter().filter(|e| e.from == sol.nodes[v].id) {
            if let Some(w) = index(&e.to)
                && depth[w] == usize::MAX
            {
                depth[w] = depth[v] + 1;
                parent[w] = v;
                queue.push_back(w);
            }
        }
    }
    let reached = |fam: &str| {
        (0..n)
            .filter(|&i| {
                depth[i] != usize::MAX && depth[i] > 0 && family(catalog, &sol.nodes[i].ty) == fam
            })
            .min_by_key(|&i| depth[i])
    };
    // An authored problem names where its data lives (T0's data core): the path ends there.
    let end = data
        .and_then(|ty| {
            (0..n)
                .filter(|&i| depth[i] != usize::MAX && depth[i] > 0 && sol.nodes[i].ty == ty)
                .min_by_key(|&i| depth[i])
        })
        .or_else(|| reached("storage"))
        .or_else(|| reached("cache"))
        .or_else(|| {
            (0..n)
                .filter(|&i| depth[i] != usize::MAX && depth[i] > 0)
                .max_by_key(|&i| (depth[i], std::cmp::Reverse(i)))
        })?;
    let mut chain = vec![end];
    while parent[*chain.last()?] != usize::MAX {
        chain.push(parent[*chain.last()?]);
    }
    chain.reverse();
    let mut types: Vec<String> = Vec::new();
    for i in chain {
        let ty = &sol.nodes[i].ty;
        // A specific type the palette does not list (a seed design's `redirect_client` where the palette
        // offers `client`) is named by its kind, which any type of the kind meets.
        let ty = if load::in_palette(p, catalog, ty) {
            ty.clone()
        } else if let Some(kind) = catalog
            .kind_of(ty)
            .filter(|k| load::in_palette(p, catalog, k))
        {
            kind.to_string()
        } else {
            continue;
        };
        if types.last() != Some(&ty) {
            types.push(ty);
        }
    }
    (types.len() >= 2).then_some(types)
}

/// The generated last tier: the request path from the entry client to the data (derived from the
/// reference design's edges), and the peak held under 80 % utilisation where the problem states its
/// workload. Marked `generated`: `author --regenerate` rewrites it.
pub fn generated_tier(p: &Problem, sol: &ReferenceSolution, catalog: &Catalog) -> Option<Tier> {
    let mut rules = Vec::new();
    // Where an authored problem's data lives: its T0 data core (seed problems: the design's storage).
    let data = p
        .tiers
        .iter()
        .all(|t| t.source == TierSource::Authored)
        .then(|| roles(p, catalog).ok().map(|r| r.data))
        .flatten();
    if let Some(types) = data_path(p, sol, catalog, data.as_deref())
        && let Some(why) = core_phrase(p)
    {
        rules.push(Rule::Path {
            text: format!("Requests flow: {}", types.join(" → ")),
            because: Some(format!(
                "{} (a request must reach the data: the path of the reference design)",
                why.cite()
            )),
            types,
        });
    }
    let load = load_phrase(p).or_else(|| scale_phrase(p));
    let mut held = false;
    // The simulated peak enters at clients: a palette without one cannot carry it.
    if let Some(peak) = p.targets.peak_rate_per_sec
        && let Some(why) = load
        && load::in_palette(p, catalog, "client")
    {
        held = true;
        rules.push(Rule::Capacity {
            ty: None,
            max_utilisation: tierboard::problems::model::DEFAULT_MAX_UTILISATION,
            text: format!(
                "Holds the peak of {} requests/s with every node under 80 %",
                tierboard::simulation::num(peak)
            ),
            because: Some(why.cite()),
        });
    }
    if rules.is_empty() {
        return None;
    }
    Some(Tier {
        id: next_tier_id(&p.tiers),
        title: if held {
            GENERATED_TITLE
        } else {
            GENERATED_TITLE_NO_LOAD
        }
        .into(),
        source: TierSource::Authored,
        generated: true,
        note: None,
        rules,
    })
}

/// "T<n>" after the highest numbered tier id.
fn next_tier_id(tiers: &[Tier]) -> String {
    let next = tiers
        .iter()
        .filter_map(|t| t.id.strip_prefix('T')?.parse::<u32>().ok())
        .max()
        .map_or(0, |n| n + 1);
    format!("T{next}")
}

/// What `run` did.
#[derive(Debug, Default)]
pub struct AuthorReport {
    /// Files written.
    pub written: usize,
    /// Problems whose tiers carry a hand-written note (left alone).
    pub by_hand: usize,
    /// Problems that got a generated last tier.
    pub generated: usize,
    /// Reference designs extended for the new rules (changes made).
    pub extended: usize,
}

/// Authors every problem file under `dir` that has no tiers; with `regenerate`, also rewrites the
/// authored tiers (and the generated last tier after seed tiers) of every problem whose tiers carry no
/// hand-written note. Seed tiers are kept rule for rule, first and in order.
pub fn run(dir: &Path, regenerate: bool) -> Result<AuthorReport> {
    let catalog = Catalog::load(&dir.join("catalog.toml"))?;
    let mut report = AuthorReport::default();
    for path in load::problem_files(dir)? {
        let mut p = load::parse_file(&path).map_err(|e| Error::Internal(e.to_string()))?;
        if p.tiers_by_hand() {
            // Hand-written tiers are never rewritten; the reference design is still completed for them
            // (what it adds is marked).
            report.by_hand += 1;
            let before = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(mut sol) = p.reference_solution.take() {
                let mut changes = reference::complete(&mut sol, &p.tiers, &catalog);
                changes.extend(reference::complete_structure(&mut sol, &p, &catalog));
                report.extended += usize::from(!changes.is_empty());
                p.reference_solution = Some(sol);
            }
            let text = import::to_toml(&p)?;
            if text != before {
                std::fs::write(&path, text)
                    .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
                report.written += 1;
            }
            continue;
        }
        if !p.tiers.is_empty() && !regenerate {
            continue;
        }
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        if p.available_components.is_empty() {
            let ac = classic::available_components(&p.id).ok_or_else(|| {
                Error::Internal(format!(
                    "{}: no available components and no authored list",
                    path.display()
                ))
            })?;
            p.available_components = ac.iter().map(|s| s.to_string()).collect();
            p.available_components_authored = true;
        }
        let fail = |m: String| Error::Internal(format!("{}: {m}", path.display()));
        let seeded = p.tiers.iter().any(|t| t.source == TierSource::Seed);
        if seeded {
            p.tiers.retain(|t| t.source == TierSource::Seed);
        } else {
            p.tiers = tiers_for(&p, &catalog).map_err(fail)?;
        }
        // Regenerated tiers get a design authored for them (the one kept from before was made for the
        // tiers they replace); a seed's design is kept.
        let mut sol = match p.reference_solution.take() {
            Some(sol) if seeded || sol.source != TierSource::Authored => sol,
            _ => reference_for(&p, &p.tiers, &catalog).map_err(fail)?,
        };
        let mut changes = reference::complete(&mut sol, &p.tiers, &catalog);
        let base = sol.clone();
        if let Some(tier) = generated_tier(&p, &sol, &catalog) {
            p.tiers.push(tier);
            report.generated += 1;
        }
        let mut extended = base.clone();
        let mut more = reference::complete_structure(&mut extended, &p, &catalog);
        // A peak no design within the catalog's bounds can hold (100,000 instances of a node): an
        // impossible rule is a defect, so the generated tier keeps only its path.
        let result = validate(&p, &catalog, &extended.design());
        if !result.all_reached()
            && let Some(last) = p.tiers.last_mut()
            && last.generated
            && last
                .rules
                .iter()
                .any(|r| matches!(r, Rule::Capacity { .. }))
        {
            tracing::info!(problem = %p.id, "the reference design cannot hold the peak within the catalog's bounds; no capacity rule");
            last.rules.retain(|r| !matches!(r, Rule::Capacity { .. }));
            last.title = GENERATED_TITLE_NO_LOAD.into();
            if last.rules.is_empty() {
                p.tiers.pop();
                report.generated -= 1;
            }
            extended = base.clone();
            more = reference::complete_structure(&mut extended, &p, &catalog);
        }
        sol = extended;
        changes.extend(more);
        if !changes.is_empty() {
            report.extended += 1;
            for c in &changes {
                tracing::debug!(problem = %p.id, change = %c, "reference design extended");
            }
        }
        p.reference_solution = Some(sol);
        let text = import::to_toml(&p)?;
        if text != before {
            std::fs::write(&path, text)
                .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
            report.written += 1;
        }
    }
    Ok(report)
}
