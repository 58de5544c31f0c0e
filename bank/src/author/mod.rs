//! The authoring step (`tierboard-bank author`): tiers and a reference design for every problem whose
//! seed has no tiers. Run once; its output is committed and from then on it is authored content that the
//! importer keeps (it never replaces tiers that already exist).
//!
//! Every authored rule carries `because = '<field>: "<phrase>"'`: the phrase is copied from that field of
//! the problem itself (a test checks it is there), so each rule can be traced to the text it comes from.
//! The tiers follow one progression (problems/README.md, "Authored tiers"):
//! - T0 working core: the problem's main compute and data components, connected;
//! - T1 scale and redundancy: instance counts from the availability target (or a count constant), the
//!   entry point in front, replicated data;
//! - T2 distinctive requirement: the problem's remaining, specific components.

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

fn listed(ty: &str) -> Phrase {
    Phrase {
        field: "available_components",
        text: ty.to_string(),
    }
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
    rest: Vec<String>,
}

fn roles(ac: &[String], catalog: &Catalog) -> Result<Roles, String> {
    let kind = |t: &str| catalog.kind_of(t).unwrap_or(t).to_string();
    let pick = |pred: &dyn Fn(&str) -> bool| ac.iter().find(|t| pred(t)).cloned();
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
    let rest = ac
        .iter()
        .filter(|t| !used.contains(&Some(t)))
        .cloned()
        .collect();
    Ok(Roles {
        client,
        entry,
        compute,
        data,
        replica,
        rest,
    })
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
        .unwrap_or_else(|| listed(&p.available_components[0]).cite());
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
/// (latency for caches, throughput for queues, data size for stores), else the component list.
fn fallback(p: &Problem, ty: &str, catalog: &Catalog) -> Phrase {
    let kind = catalog.kind_of(ty).unwrap_or(ty);
    let family = family(catalog, ty);
    let wanted: &[&str] = match (kind, family) {
        ("cache" | "cdn", _) | (_, "cache" | "edge") => &["latency"],
        ("queue" | "stream", _) | (_, "messaging") => &["throughput", "request rate", "per second"],
        (_, "storage") => &["dataset", "durability", "storage"],
        (_, "security") => &["security", "compliance"],
        _ => &[],
    };
    (!wanted.is_empty())
        .then(|| nfr(p, wanted))
        .flatten()
        .unwrap_or_else(|| listed(ty))
}

/// Authors the tiers for one problem.
pub fn tiers_for(p: &Problem, catalog: &Catalog) -> Result<Vec<Tier>, String> {
    let r = roles(&p.available_components, catalog)?;
    let ph = phrases(p);
    let cite = |ty: &str| {
        cite_component(ty, &ph, catalog)
            .unwrap_or_else(|| fallback(p, ty, catalog))
            .cite()
    };

    let mut t0 = vec![
        include(&r.compute, cite(&r.compute)),
        include(&r.data, cite(&r.data)),
    ];
    let link = nfr(p, &["consistency", "durability", "dataset"])
        .map_or_else(|| cite(&r.data), |x| x.cite());
    t0.push(connection_from(&r.compute, link));
    if let Some(c) = &r.client {
        t0.push(connection_from(c, cite(c)));
    }

    let (n, why) = core_count(p);
    let mut t1 = vec![min_count(&r.compute, n, why)];
    let load = nfr(
        p,
        &[
            "request rate",
            "throughput",
            "concurrent",
            "per second",
            "scal",
        ],
    );
    if let Some(e) = &r.entry {
        t1.push(include(
            e,
            load.clone().map_or_else(|| cite(e), |x| x.cite()),
        ));
    }
    let safe = nfr(p, &["durability", "availability", "uptime", "consistency"]);
    match &r.replica {
        Some(rep) => t1.push(include(rep, safe.map_or_else(|| cite(rep), |x| x.cite()))),
        None => t1.push(min_count(
            &r.data,
            2,
            safe.map_or_else(
                || cite(&r.data),
                |x| format!("{} (data kept on at least 2 nodes)", x.cite()),
            ),
        )),
    }

    let mut t2: Vec<Rule> = r.rest.iter().map(|t| include(t, cite(t))).collect();
    if t2.is_empty() {
        // Nothing specific left: the distinctive requirement is scale itself.
        let why = load.map_or_else(|| cite(&r.compute), |x| x.cite());
        t2.push(min_count(
            &r.compute,
            n * 2,
            format!("{why} (twice the redundant core)"),
        ));
    }
    let title = |s: &str| s.to_string();
    Ok(vec![
        Tier {
            id: "T0".into(),
            title: title("Working core"),
            source: TierSource::Authored,
            rules: t0,
        },
        Tier {
            id: "T1".into(),
            title: title("Scale and redundancy"),
            source: TierSource::Authored,
            rules: t1,
        },
        Tier {
            id: "T2".into(),
            title: title("Distinctive requirements"),
            source: TierSource::Authored,
            rules: t2,
        },
    ])
}

/// Authors a reference design that reaches `tiers`: client → entry → compute core → everything else.
pub fn reference_for(
    p: &Problem,
    tiers: &[Tier],
    catalog: &Catalog,
) -> Result<ReferenceSolution, String> {
    let r = roles(&p.available_components, catalog)?;
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
    let (front_types, back_types): (Vec<String>, Vec<String>) =
        r.rest.iter().cloned().partition(|t| is_front(t));
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

/// Authors every problem file under `dir` that has no tiers; returns how many it wrote.
pub fn run(dir: &Path) -> Result<usize> {
    let catalog = Catalog::load(&dir.join("catalog.toml"))?;
    let mut written = 0;
    for path in load::problem_files(dir)? {
        let mut p = load::parse_file(&path).map_err(|e| Error::Internal(e.to_string()))?;
        if !p.tiers.is_empty() {
            continue;
        }
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
        p.tiers = tiers_for(&p, &catalog).map_err(fail)?;
        if p.reference_solution.is_none() {
            p.reference_solution = Some(reference_for(&p, &p.tiers, &catalog).map_err(fail)?);
        }
        std::fs::write(&path, import::to_toml(&p)?)
            .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
        written += 1;
    }
    Ok(written)
}
