//! The structure and capacity rule kinds (`path`, `redundant`, `capacity`, `latency`) and the exact
//! matching of specific client types, on small designs whose verdicts and figures are worked out by hand
//! in the comments. The component catalog is the bank's own (`problems/catalog.toml`), whose capacities
//! the arithmetic uses: app 5,000 rps and 15 ms, lb 50,000 rps and 1 ms, db_primary 5,000 rps and 5 ms.

mod validation_fixture;

use std::path::PathBuf;
use std::sync::OnceLock;

use tierboard::design::{Design, DesignEdge, DesignNode};
use tierboard::problems::{Catalog, Problem, Rule};
use tierboard::validation::{RuleKind, RuleResult, validate};
use validation_fixture::{capacity, connection_from, include, latency, path, redundant, tier};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems/catalog.toml");
        Catalog::load(&path).expect("the bank's catalog loads")
    })
}

/// A problem with one tier holding `rules`, a stated peak of `peak` requests/s and a p99 target of 50 ms.
fn problem(rules: Vec<Rule>, peak: f64) -> Problem {
    let mut p = validation_fixture::blog();
    p.category = "classic".into();
    p.tiers = vec![tier("T0", "Under test", rules)];
    p.targets.peak_rate_per_sec = Some(peak);
    p.targets.latency_ms.insert("p99".into(), 50.0);
    p
}

/// Nodes `(id, type, instances)` and edges `(from, to)`.
fn design(nodes: &[(&str, &str, u64)], edges: &[(&str, &str)]) -> Design {
    let mut d = Design::default();
    for (id, ty, n) in nodes {
        d.nodes
            .push(DesignNode::new(*id, *ty, id.to_uppercase()).with_instances(*n));
    }
    for (i, (a, b)) in edges.iter().enumerate() {
        d.edges.push(DesignEdge::new(format!("e{i}"), *a, *b));
    }
    d
}

fn verdict(rule: Rule, peak: f64, d: &Design) -> RuleResult {
    let p = problem(vec![rule], peak);
    validate(&p, catalog(), d).tiers[0].rules[0].clone()
}

/// users → cdn → lb → app → db, one instance each unless stated.
fn chain(app: u64, db: u64) -> Design {
    design(
        &[
            ("users", "client", 1),
            ("cdn", "cdn", 1),
            ("lb", "lb", 1),
            ("app", "app", app),
            ("db", "db_primary", db),
        ],
        &[
            ("users", "cdn"),
            ("cdn", "lb"),
            ("lb", "app"),
            ("app", "db"),
        ],
    )
}

/// users → lb → app → db: no cache, every request reaches the app and the primary.
fn plain(app: u64, db: u64) -> Design {
    design(
        &[
            ("users", "client", 1),
            ("lb", "lb", 1),
            ("app", "app", app),
            ("db", "db_primary", db),
        ],
        &[("users", "lb"), ("lb", "app"), ("app", "db")],
    )
}

#[test]
fn a_path_may_pass_through_other_nodes_and_names_where_it_breaks() {
    let rule = || path(&["client", "lb", "app", "db_primary"]);
    let r = verdict(rule(), 1000.0, &chain(1, 1));
    assert!(r.passed, "{}", r.explanation);
    assert_eq!(r.kind, RuleKind::Path);
    assert_eq!(
        r.explanation,
        "path client → lb → app → db_primary found: 'USERS' → 'CDN' → 'LB' → 'APP' → 'DB'"
    );
    assert_eq!(r.nodes, ["users", "cdn", "lb", "app", "db"]);

    // Without app → db the path stops at the app.
    let mut d = chain(1, 1);
    d.edges.retain(|e| e.to != "db");
    let r = verdict(rule(), 1000.0, &d);
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "no path client → lb → app → db_primary: it breaks after client → lb → app: no db_primary node ('DB') can be reached along the edges from 'APP'"
    );
    assert_eq!(r.nodes, ["app", "db"]);

    // The order counts: the data does not call the client.
    let r = verdict(path(&["db_primary", "app"]), 1000.0, &chain(1, 1));
    assert!(!r.passed);
    assert!(
        r.explanation.contains("breaks after db_primary"),
        "{}",
        r.explanation
    );

    // A type the design lacks.
    let r = verdict(path(&["client", "cache"]), 1000.0, &chain(1, 1));
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "no path client → cache: the design has no cache node"
    );

    // Component bingo: every type, no edges.
    let mut d = chain(1, 1);
    d.edges.clear();
    let r = verdict(rule(), 1000.0, &d);
    assert!(!r.passed);
    assert!(
        r.explanation.contains("breaks after client"),
        "{}",
        r.explanation
    );

    // Two nodes of one listed type in a row need two distinct nodes joined by an edge.
    let d = design(&[("a", "app", 1), ("b", "app", 1)], &[("a", "b")]);
    assert!(verdict(path(&["app", "app"]), 1000.0, &d).passed);
    let d = design(&[("a", "app", 1)], &[]);
    assert!(!verdict(path(&["app", "app"]), 1000.0, &d).passed);
}

#[test]
fn a_rule_naming_a_specific_client_is_met_only_by_that_client() {
    // TinyURL's seed T0 with only the redirect client: the create client's rule must fail.
    let d = design(
        &[("redirect", "redirect_client", 1), ("app", "app", 1)],
        &[("redirect", "app")],
    );
    let r = verdict(connection_from("create_client"), 1000.0, &d);
    assert!(!r.passed, "{}", r.explanation);
    assert_eq!(
        r.explanation,
        "no edge leaves a node of kind create_client: the design has no create_client node"
    );
    assert!(!verdict(include("create_client"), 1000.0, &d).passed);
    assert!(verdict(connection_from("redirect_client"), 1000.0, &d).passed);
    // A rule about clients in general is met by any client.
    let r = verdict(connection_from("client"), 1000.0, &d);
    assert!(r.passed);
    assert_eq!(r.nodes, ["redirect"]);
    assert!(verdict(path(&["client", "app"]), 1000.0, &d).passed);
    assert!(!verdict(path(&["create_client", "app"]), 1000.0, &d).passed);
}

#[test]
fn redundant_asks_for_two_instances_a_balanced_sibling_or_a_replica() {
    // One app instance behind the balancer: a single instance on the request path.
    let r = verdict(redundant("app"), 1000.0, &chain(1, 1));
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "'APP' is a single instance on the request path (1 instance, no balancer in front of a second app node, no replica): losing it stops the requests through it"
    );
    assert_eq!(r.nodes, ["app"]);
    // Two instances.
    let r = verdict(redundant("app"), 1000.0, &chain(2, 1));
    assert!(r.passed, "{}", r.explanation);
    assert!(
        r.explanation.contains("'APP' has 2 instances"),
        "{}",
        r.explanation
    );
    // Two nodes of one instance behind one balancer.
    let d = design(
        &[
            ("users", "client", 1),
            ("lb", "lb", 1),
            ("a1", "app", 1),
            ("a2", "app", 1),
        ],
        &[("users", "lb"), ("lb", "a1"), ("lb", "a2")],
    );
    let r = verdict(redundant("app"), 1000.0, &d);
    assert!(r.passed, "{}", r.explanation);
    assert!(
        r.explanation.contains("shares balancer 'LB'"),
        "{}",
        r.explanation
    );
    // A primary that replicates to a read replica.
    let mut d = chain(2, 1);
    d.nodes.push(DesignNode::new("rep", "db_replica", "REP"));
    d.edges.push(DesignEdge::new("er", "db", "rep"));
    let r = verdict(redundant("db_primary"), 1000.0, &d);
    assert!(r.passed, "{}", r.explanation);
    assert!(
        r.explanation.contains("replicated with 'REP'"),
        "{}",
        r.explanation
    );
    // Ten instances off the request path do not count.
    let d = design(&[("users", "client", 1), ("app", "app", 10)], &[]);
    let r = verdict(redundant("app"), 1000.0, &d);
    assert!(!r.passed);
    assert!(
        r.explanation
            .starts_with("no app node is on a request path"),
        "{}",
        r.explanation
    );
}

#[test]
fn capacity_shows_the_arithmetic_at_the_problems_peak() {
    // 10,000 rps through users → lb → app → db (no cache, so every request reaches the app): the app gets 10,000 rps, 2 × 5,000 = 10,000 capacity, 100 %:
    // ⌈10,000 ÷ (0.8 × 5,000)⌉ = 3 instances. The primary takes every read and write: 10,000 rps on
    // 1 × 5,000, 200 %, half its requests fail.
    let r = verdict(capacity(Some("app"), 0.8), 10_000.0, &plain(2, 1));
    assert!(!r.passed);
    assert_eq!(r.kind, RuleKind::Capacity);
    assert_eq!(
        r.explanation,
        "at the peak of 10,000 rps (bound 80 % per app node): 'APP' 10,000 rps, 2 × 5,000 = 10,000 capacity, 100 %: needs ≥ 3 instances (10,000 ÷ (0.8 × 5,000))"
    );
    assert_eq!(r.nodes, ["app"]);
    // 3 app instances: 10,000 ÷ 15,000 = 66.67 %.
    let r = verdict(capacity(Some("app"), 0.8), 10_000.0, &plain(3, 1));
    assert!(r.passed, "{}", r.explanation);
    assert!(
        r.explanation.starts_with(
            "at the peak of 10,000 rps every app node stays under 80 % without errors; busiest: 'APP' 10,000 rps, 3 × 5,000 = 15,000 capacity, 66.67 %"
        ),
        "{}",
        r.explanation
    );
    // The whole design: the primary is over, with errors.
    let r = verdict(capacity(None, 0.8), 10_000.0, &plain(3, 1));
    assert!(!r.passed);
    assert!(
        r.explanation.contains(
            "'DB' 10,000 rps, 1 × 5,000 = 5,000 capacity, 200 %: needs ≥ 3 instances (10,000 ÷ (0.8 × 5,000)); 50 % of its requests fail"
        ),
        "{}",
        r.explanation
    );
    assert!(
        r.explanation.contains("end to end 50 % of requests fail"),
        "{}",
        r.explanation
    );
    assert_eq!(r.nodes, ["db"]);
    assert!(verdict(capacity(None, 0.8), 10_000.0, &plain(3, 3)).passed);
    // A looser bound lets 2 app instances at 100 % pass the app rule only when it allows 100 %.
    assert!(verdict(capacity(Some("app"), 1.0), 10_000.0, &plain(2, 1)).passed);
    // No edges: nothing is measured, nothing passes.
    let mut d = plain(3, 3);
    d.edges.clear();
    let r = verdict(capacity(None, 0.8), 10_000.0, &d);
    assert!(!r.passed);
    assert!(
        r.explanation.contains("no traffic enters the design"),
        "{}",
        r.explanation
    );
    // A type with no node.
    let r = verdict(capacity(Some("cache"), 0.8), 10_000.0, &plain(3, 3));
    assert_eq!(
        (r.passed, r.explanation.as_str()),
        (false, "no node of kind cache")
    );
}

#[test]
fn latency_compares_the_simulated_p99_with_the_bound() {
    // 100 rps, every node with 2 instances: no queueing wait at the p99 (Erlang C below 1 %), so each
    // node's p99 is 3 × its service time: lb 3 × 1 + app 3 × 15 + db 3 × 5 = 63 ms.
    let d = design(
        &[
            ("users", "client", 1),
            ("lb", "lb", 2),
            ("app", "app", 2),
            ("db", "db_primary", 2),
        ],
        &[("users", "lb"), ("lb", "app"), ("app", "db")],
    );
    let r = verdict(latency(Some(64.0)), 100.0, &d);
    assert!(r.passed, "{}", r.explanation);
    assert_eq!(r.kind, RuleKind::Latency);
    assert!(
        r.explanation
            .starts_with("simulated p99 at the peak of 100 rps: 63 ms, within the bound of 64 ms; slowest: 'APP' p99 45 ms"),
        "{}",
        r.explanation
    );
    let r = verdict(latency(Some(62.0)), 100.0, &d);
    assert!(!r.passed);
    // The problem's own target (p99 < 50 ms) when the rule states none.
    let r = verdict(latency(None), 100.0, &d);
    assert!(!r.passed);
    assert!(
        r.explanation
            .starts_with("simulated p99 at the peak of 100 rps: 63 ms, over the bound of 50 ms, the problem's p99 target"),
        "{}",
        r.explanation
    );
    // No edges: no latency to measure is not a pass.
    let mut d = d;
    d.edges.clear();
    assert!(!verdict(latency(Some(1000.0)), 100.0, &d).passed);
}
