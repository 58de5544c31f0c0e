//! The validation engine on problems written by hand (tutorial-simple-blog's seed tiers, plus rules
//! of every kind), so the rule semantics are pinned independently of the problem bank's content.

mod validation_fixture;

use serde_json::json;
use tierboard::design::{Design, DesignEdge, DesignNode, ParamValue};
use tierboard::problems::{Catalog, Problem};
use tierboard::validation::{
    AdvisoryCode, IssueCode, RuleKind, TierEvent, TierTransition, ValidationResult, transitions,
    validate,
};
use validation_fixture::*;

fn rule<'a>(
    result: &'a ValidationResult,
    tier: &str,
    text: &str,
) -> &'a tierboard::validation::RuleResult {
    result
        .tier(tier)
        .unwrap_or_else(|| panic!("no tier {tier}"))
        .rules
        .iter()
        .find(|r| r.text == text)
        .unwrap_or_else(|| panic!("no rule {text:?} in {tier}"))
}

fn codes<C: Copy>(findings: &[tierboard::validation::Finding<C>]) -> Vec<C> {
    findings.iter().map(|f| f.code).collect()
}

#[test]
fn the_reference_design_reaches_every_tier() {
    let result = validate(&blog(), &catalog(), &blog_reference());
    assert_eq!(result.problem, "tutorial-simple-blog");
    assert_eq!(result.reached, 3);
    assert!(result.all_reached());
    assert!(result.tiers.iter().all(|t| t.passed && t.reached));
    assert!(
        result.design_issues.is_empty(),
        "{:#?}",
        result.design_issues
    );

    let r = rule(&result, "T0", "Must include: app");
    assert_eq!(r.kind, RuleKind::Include);
    assert_eq!(r.explanation, "found 1 node of kind app: 'App Servers'");
    assert_eq!(r.nodes, ["app"]);
    let r = rule(&result, "T0", "Must have connection from: app");
    assert_eq!(r.kind, RuleKind::ConnectionFrom);
    assert_eq!(
        r.explanation,
        "edge leaves app node 'App Servers' (to 'Primary DB')"
    );
    let r = rule(&result, "T2", "Minimum 7 of type: app");
    assert_eq!(r.kind, RuleKind::MinCount);
    assert_eq!(
        r.explanation,
        "found 8 app instances in 'App Servers' (needs ≥ 7)"
    );
    assert_eq!(r.nodes, ["app"]);

    // 99.9 % asked: the single load balancer is on every client → storage path; the app fleet is not
    // (8 instances), and neither database is (the other one is another way to storage).
    assert_eq!(
        codes(&result.advisories),
        [AdvisoryCode::SinglePointOfFailure]
    );
    assert_eq!(result.advisories[0].nodes, ["lb"]);
    assert!(
        result.advisories[0]
            .message
            .starts_with("'Load Balancer' is a single point of failure"),
        "{}",
        result.advisories[0].message
    );
}

#[test]
fn single_points_of_failure_only_at_high_availability() {
    let mut problem = blog();
    problem.targets.availability_percent = Some(99.5);
    let result = validate(&problem, &catalog(), &blog_reference());
    assert!(result.advisories.is_empty(), "{:#?}", result.advisories);
    problem.targets.availability_percent = None;
    assert!(
        validate(&problem, &catalog(), &blog_reference())
            .advisories
            .is_empty()
    );

    // A second load balancer in parallel removes it; a lone replica-less database becomes one.
    problem.targets.availability_percent = Some(99.99);
    let mut design = blog_reference();
    design
        .nodes
        .push(DesignNode::new("lb2", "lb", "Standby LB"));
    design.edges.push(DesignEdge::new("e5", "readers", "lb2"));
    design.edges.push(DesignEdge::new("e6", "lb2", "app"));
    design.nodes.retain(|n| n.id != "replica");
    design.edges.retain(|e| e.to != "replica");
    let result = validate(&problem, &catalog(), &design);
    let spofs: Vec<&str> = result
        .advisories
        .iter()
        .filter(|a| a.code == AdvisoryCode::SinglePointOfFailure)
        .flat_map(|a| a.nodes.iter().map(String::as_str))
        .collect();
    assert_eq!(spofs, ["primary"]);
}

#[test]
fn min_count_shows_the_arithmetic() {
    let problem = blog();
    let mut design = blog_reference();
    design.nodes[2] = DesignNode::new("app", "app", "App Servers").with_instances(2);
    let result = validate(&problem, &catalog(), &design);
    let r = rule(&result, "T2", "Minimum 7 of type: app");
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "needs ≥ 7 app instances; found 2 in 'App Servers'"
    );
    assert_eq!(r.nodes, ["app"]);
    assert!(rule(&result, "T1", "Minimum 2 of type: app").passed);
    assert_eq!(result.reached, 2);

    // Several nodes add up; a node without `instances` counts 1.
    design
        .nodes
        .push(DesignNode::new("app2", "app", "More Apps").with_instances(3));
    design.nodes.push(DesignNode::new("app3", "app", "One App"));
    let result = validate(&problem, &catalog(), &design);
    let r = rule(&result, "T2", "Minimum 7 of type: app");
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "needs ≥ 7 app instances; found 6 = 2 in 'App Servers' + 3 in 'More Apps' + 1 in 'One App'"
    );
    design
        .nodes
        .push(DesignNode::new("app4", "app", "").with_instances(1));
    let result = validate(&problem, &catalog(), &design);
    let r = rule(&result, "T2", "Minimum 7 of type: app");
    assert!(r.passed);
    assert_eq!(
        r.explanation,
        "found 7 app instances = 2 in 'App Servers' + 3 in 'More Apps' + 1 in 'One App' + 1 in 'app4' (needs ≥ 7)"
    );
    assert_eq!(r.nodes, ["app", "app2", "app3", "app4"]);

    // None at all.
    design.nodes.retain(|n| n.ty != "app");
    let result = validate(&problem, &catalog(), &design);
    assert_eq!(
        rule(&result, "T2", "Minimum 7 of type: app").explanation,
        "needs ≥ 7 app instances; found none"
    );
}

#[test]
fn tier_passed_and_reached_are_distinct() {
    let mut design = blog_reference();
    // Break T0 only: no edge leaves the app fleet any more.
    design.edges.retain(|e| e.from != "app");
    let result = validate(&blog(), &catalog(), &design);
    let t: Vec<(bool, bool)> = result.tiers.iter().map(|t| (t.passed, t.reached)).collect();
    assert_eq!(t, [(false, false), (true, false), (true, false)]);
    assert_eq!(result.reached, 0);
    let r = rule(&result, "T0", "Must have connection from: app");
    assert_eq!(
        r.explanation,
        "no edge leaves a node of kind app: 'App Servers' has no outgoing edge"
    );
    assert_eq!(r.nodes, ["app"]);
    // And the databases are now unreachable from the readers.
    assert!(codes(&result.advisories).contains(&AdvisoryCode::NoClientToStoragePath));
}

#[test]
fn connection_from_needs_an_edge_to_another_node() {
    let problem = Problem {
        tiers: vec![tier("T0", "Core", vec![connection_from("app")])],
        ..blog()
    };
    let mut design = Design {
        nodes: vec![DesignNode::new("a", "app", "App")],
        edges: vec![DesignEdge::new("loop", "a", "a")],
        read_issues: Vec::new(),
    };
    let result = validate(&problem, &catalog(), &design);
    assert!(
        !result.tiers[0].rules[0].passed,
        "a self-loop does not leave the node"
    );
    design.nodes.clear();
    design.edges.clear();
    let result = validate(&problem, &catalog(), &design);
    assert_eq!(
        result.tiers[0].rules[0].explanation,
        "no edge leaves a node of kind app: the design has no app node"
    );
}

#[test]
fn kinds_come_from_the_catalog_and_aliases_count() {
    let problem = Problem {
        tiers: vec![tier(
            "T0",
            "Kinds",
            vec![
                include("client"),
                include("redirect_client"),
                min_count("cache", 3),
                include("s3"),
            ],
        )],
        ..blog()
    };
    let design = Design {
        nodes: vec![
            DesignNode::new("u", "redirect_client", "Users"),
            DesignNode::new("r", "redis", "Redis").with_instances(2),
            DesignNode::new("c", "cache", "Memcached"),
            // `s3` and `object_store` are one kind, whichever the rule names.
            DesignNode::new("o", "object_store", "Bucket"),
            // An unknown type stands in for nothing.
            DesignNode::new("x", "s4", "Not S3"),
        ],
        edges: vec![],
        read_issues: Vec::new(),
    };
    let result = validate(&problem, &catalog(), &design);
    let rules = &result.tiers[0].rules;
    assert!(rules[0].passed && rules[1].passed, "{rules:#?}");
    assert_eq!(rules[0].explanation, "found 1 node of kind client: 'Users'");
    assert!(rules[2].passed);
    assert_eq!(
        rules[2].explanation,
        "found 3 cache instances = 2 in 'Redis' + 1 in 'Memcached' (needs ≥ 3)"
    );
    assert!(rules[3].passed);
    assert_eq!(
        rules[3].explanation,
        "found 1 node of kind object_store: 'Bucket'"
    );
    assert_eq!(rules[3].nodes, ["o"]);
    assert_eq!(codes(&result.design_issues), [IssueCode::UnknownType]);
}

#[test]
fn param_range_checks_every_node_of_the_kind() {
    let problem = Problem {
        tiers: vec![tier(
            "T0",
            "Hit rate",
            vec![param_range("cache", "hit_rate", 0.95, 1.0)],
        )],
        ..blog()
    };
    let check = |nodes: Vec<DesignNode>| {
        let design = Design {
            nodes,
            ..Design::default()
        };
        let result = validate(&problem, &catalog(), &design);
        result.tiers[0].rules[0].clone()
    };
    let hit = |id: &str, v: f64| {
        DesignNode::new(id, "cache", format!("Cache {id}"))
            .with_param("hit_rate", ParamValue::Number(v))
    };

    let r = check(vec![]);
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "no node of kind cache to check cache.hit_rate on"
    );

    let r = check(vec![hit("a", 0.97), hit("b", 0.99)]);
    assert!(r.passed);
    assert_eq!(
        r.explanation,
        "cache.hit_rate is within 0.95–1 on every cache node: 'Cache a' 0.97, 'Cache b' 0.99"
    );
    assert_eq!(r.nodes, ["a", "b"]);

    let r = check(vec![hit("a", 0.97), hit("b", 0.6)]);
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "cache.hit_rate 0.6 is below 0.95 on 'Cache b' (needs 0.95–1)"
    );
    assert_eq!(r.nodes, ["b"]);

    let r = check(vec![hit("a", 1.5)]);
    assert_eq!(
        r.explanation,
        "cache.hit_rate 1.5 is above 1 on 'Cache a' (needs 0.95–1)"
    );

    // Absent: the catalog default (0.8) applies and is said so.
    let r = check(vec![DesignNode::new("d", "cache", "Default")]);
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "cache.hit_rate 0.8 (the default) is below 0.95 on 'Default' (needs 0.95–1)"
    );

    // A string is not a number, whatever it says.
    let r = check(vec![
        DesignNode::new("s", "cache", "Str")
            .with_param("hit_rate", ParamValue::Text("0.99".into())),
    ]);
    assert!(!r.passed);
    assert_eq!(
        r.explanation,
        "cache.hit_rate '0.99' is not a number on 'Str' (needs 0.95–1)"
    );

    // Bounds are inclusive.
    assert!(check(vec![hit("a", 0.95), hit("b", 1.0)]).passed);

    // No default in the catalog: not set.
    let problem = Problem {
        tiers: vec![tier(
            "T0",
            "Partitions",
            vec![param_range("stream", "partitions", 12.0, 1e9)],
        )],
        ..blog()
    };
    let design = Design {
        nodes: vec![DesignNode::new("k", "stream", "Kafka")],
        ..Design::default()
    };
    let result = validate(&problem, &catalog(), &design);
    assert_eq!(
        result.tiers[0].rules[0].explanation,
        "stream.partitions is not set on 'Kafka' (needs 12–1000000000)"
    );
}

#[test]
fn malformed_designs_become_design_issues() {
    let design: Design = serde_json::from_value(json!({
        "nodes": [
            {"id": "a", "type": "app", "label": "App", "params": {"instances": "lots", "cpu_cores": 1000}},
            {"id": "b", "type": "flux_capacitor", "label": "Flux"},
            {"id": "c", "label": "No type"},
            {"id": "a", "type": "app", "label": "Again"},
            {"id": "n", "type": "note", "label": "remember the cache"},
            {"id": "d", "type": "db_primary", "params": {"instances": 2.5}}
        ],
        "edges": [
            {"id": "e1", "from": "a", "to": "ghost"},
            {"id": "e2", "from": "a", "to": "n"},
            {"id": "e3", "from": "a"},
            {"id": "e4", "from": "a", "to": "d"},
            {"id": "e4", "from": "d", "to": "a"}
        ]
    }))
    .unwrap();
    let result = validate(&blog(), &catalog(), &design);
    let issues: Vec<(IssueCode, &str)> = result
        .design_issues
        .iter()
        .map(|i| (i.code, i.message.as_str()))
        .collect();
    assert_eq!(
        issues,
        [
            (
                IssueCode::BadParam,
                "node 'App': instances is 'lots', expected a whole number ≥ 1; counted as 1"
            ),
            (
                IssueCode::BadParam,
                "node 'App': cpu_cores is 1000, above the allowed maximum 192"
            ),
            (
                IssueCode::UnknownType,
                "node 'Flux' has unknown type 'flux_capacitor'"
            ),
            (IssueCode::MissingField, "node 'No type' has no type"),
            (
                IssueCode::DuplicateId,
                "two nodes have id 'a'; the later one ('Again') is ignored"
            ),
            (
                IssueCode::BadParam,
                "node 'd': instances is 2.5, expected a whole number ≥ 1; counted as 1"
            ),
            (
                IssueCode::DanglingEdge,
                "edge 'e1' goes to missing node 'ghost'"
            ),
            (IssueCode::MissingField, "edge 'e3' has no `to`"),
            (
                IssueCode::DuplicateId,
                "two edges have id 'e4'; the later one is ignored"
            ),
        ]
    );
    assert_eq!(result.design_issues[6].edges, ["e1"]);
    assert_eq!(result.design_issues[6].nodes, ["a"]);
    // The note is neither an issue nor isolated, and the edge to it is no dangling edge.
    let isolated: Vec<&str> = result
        .advisories
        .iter()
        .filter(|a| a.code == AdvisoryCode::IsolatedNode)
        .flat_map(|a| a.nodes.iter().map(String::as_str))
        .collect();
    assert_eq!(isolated, ["b", "c"]);
    // The rules still run on what is valid.
    assert!(rule(&result, "T0", "Must include: app").passed);
    assert!(rule(&result, "T0", "Must have connection from: app").passed);
    assert!(
        rule(&result, "T1", "Minimum 2 of type: app")
            .explanation
            .contains("found 1 in 'App'")
    );
}

#[test]
fn path_advisories() {
    let problem = blog();
    let only_app = Design {
        nodes: vec![DesignNode::new("a", "app", "App")],
        ..Design::default()
    };
    let result = validate(&problem, &catalog(), &only_app);
    assert_eq!(
        codes(&result.advisories),
        [
            AdvisoryCode::IsolatedNode,
            AdvisoryCode::NoClientToStoragePath
        ]
    );
    assert_eq!(
        result.advisories[1].message,
        "no node of kind client, so no request path from a client reaches storage"
    );

    let mut design = blog_reference();
    design.edges.retain(|e| e.id != "e2");
    let result = validate(&problem, &catalog(), &design);
    assert_eq!(
        codes(&result.advisories),
        [AdvisoryCode::NoClientToStoragePath]
    );
    assert_eq!(
        result.advisories[0].message,
        "no path along the edges from a client ('Blog Readers') to any storage node ('Primary DB', 'Read Replica')"
    );
    assert_eq!(result.advisories[0].nodes, ["readers"]);

    // An empty design has nothing to advise about.
    let result = validate(&problem, &catalog(), &Design::default());
    assert!(result.advisories.is_empty() && result.design_issues.is_empty());
    assert_eq!(result.reached, 0);
}

#[test]
fn unknown_rule_types_match_the_same_unknown_node_type_only() {
    let problem = Problem {
        tiers: vec![tier("T0", "Odd", vec![include("quantum_link")])],
        ..blog()
    };
    let result = validate(&problem, &Catalog::default(), &Design::default());
    assert_eq!(
        result.tiers[0].rules[0].explanation,
        "no node of kind quantum_link (a type the component catalog does not know)"
    );
    let design = Design {
        nodes: vec![DesignNode::new("q", "quantum_link", "Q")],
        ..Design::default()
    };
    let result = validate(&problem, &Catalog::default(), &design);
    assert!(result.tiers[0].rules[0].passed);
    assert_eq!(codes(&result.design_issues), [IssueCode::UnknownType]);
}

#[test]
fn the_result_serialises_as_the_protocol_says() {
    let mut design = blog_reference();
    design.nodes.push(DesignNode::new("x", "foo", "X"));
    let result = validate(&blog(), &catalog(), &design);
    let value = serde_json::to_value(&result).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&value),
        ["advisories", "design_issues", "problem", "reached", "tiers"]
    );
    assert_eq!(
        keys(&value["tiers"][0]),
        ["id", "passed", "reached", "rules", "source", "title"]
    );
    assert_eq!(value["tiers"][0]["source"], "seed");
    assert_eq!(
        keys(&value["tiers"][0]["rules"][0]),
        ["explanation", "kind", "nodes", "passed", "text"]
    );
    assert_eq!(value["tiers"][0]["rules"][2]["kind"], "connection_from");
    assert_eq!(value["tiers"][1]["rules"][1]["kind"], "min_count");
    assert_eq!(
        value["design_issues"][0],
        json!({"code": "unknown_type", "message": "node 'X' has unknown type 'foo'", "nodes": ["x"], "edges": []})
    );
    assert_eq!(value["advisories"][0]["code"], "isolated_node");
    let back: ValidationResult = serde_json::from_value(value).unwrap();
    assert_eq!(back, result);
}

#[test]
fn transitions_between_results() {
    let problem = blog();
    let full = validate(&problem, &catalog(), &blog_reference());
    let mut design = blog_reference();
    design.nodes.retain(|n| n.id != "primary");
    design.edges.retain(|e| e.to != "primary");
    let broken = validate(&problem, &catalog(), &design);
    assert_eq!(broken.reached, 0);

    let t = |tier: &str, event| TierTransition {
        tier: tier.into(),
        event,
    };
    assert_eq!(
        transitions(None, &full),
        [
            t("T0", TierEvent::Reached),
            t("T1", TierEvent::Reached),
            t("T2", TierEvent::Reached)
        ]
    );
    assert_eq!(
        transitions(Some(&full), &broken),
        [
            t("T0", TierEvent::Lost),
            t("T1", TierEvent::Lost),
            t("T2", TierEvent::Lost)
        ]
    );
    assert!(transitions(Some(&full), &full).is_empty());
    assert!(transitions(None, &broken).is_empty());
    assert_eq!(
        serde_json::to_value(t("T0", TierEvent::Lost)).unwrap(),
        json!({"tier": "T0", "event": "lost"})
    );
}

#[test]
fn five_thousand_nodes_of_garbage_validate() {
    // Deterministic pseudo-random garbage: unknown types, strings where numbers belong, dangling and
    // self edges, duplicate ids, huge labels, notes, NaN-ish values.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let types = [
        "app",
        "lb",
        "cache",
        "db_primary",
        "db_replica",
        "client",
        "note",
        "",
        "???",
        "s3",
        "stream",
    ];
    let mut nodes = Vec::new();
    for i in 0..5_000u64 {
        let r = next();
        let id = if r % 97 == 0 {
            "dup".to_string()
        } else {
            format!("n{i}")
        };
        let ty = types[(r % types.len() as u64) as usize];
        let label = match r % 5 {
            0 => String::new(),
            1 => "é".repeat(500),
            _ => format!("node {i}"),
        };
        let instances = match (r >> 8) % 7 {
            0 => json!("many"),
            1 => json!(-3),
            2 => json!(1e300),
            3 => json!(null),
            4 => json!([1]),
            5 => json!(true),
            _ => json!((r >> 16) % 20),
        };
        nodes.push(json!({"id": id, "type": ty, "label": label, "x": if r % 3 == 0 { json!("left") } else { json!(1.5) },
            "params": {"instances": instances, "hit_rate": if r % 2 == 0 { json!("high") } else { json!(0.97) }}}));
    }
    let mut edges = Vec::new();
    for i in 0..6_000u64 {
        let r = next();
        let from = format!("n{}", r % 5_500);
        let to = if r % 11 == 0 {
            json!(null)
        } else {
            json!(format!("n{}", (r >> 20) % 5_500))
        };
        edges.push(json!({"id": format!("e{}", i % 5_900), "from": from, "to": to}));
    }
    let design: Design = serde_json::from_value(json!({"nodes": nodes, "edges": edges})).unwrap();
    let mut problem = blog();
    problem.tiers.push(tier(
        "T3",
        "Everything",
        vec![
            param_range("cache", "hit_rate", 0.95, 1.0),
            connection_from("client"),
            include("nope"),
            min_count("app", u64::MAX),
        ],
    ));
    problem.targets.availability_percent = Some(99.99);
    let result = validate(&problem, &catalog(), &design);
    assert_eq!(result.tiers.len(), 4);
    assert!(!result.design_issues.is_empty());
    for code in [
        IssueCode::UnknownType,
        IssueCode::BadParam,
        IssueCode::DanglingEdge,
        IssueCode::MissingField,
        IssueCode::DuplicateId,
    ] {
        assert!(
            result.design_issues.iter().any(|i| i.code == code),
            "no {code:?} issue"
        );
    }
    // Labels are cut in messages, so one garbage label cannot blow up the result.
    let longest = result
        .design_issues
        .iter()
        .map(|i| &i.message)
        .max_by_key(|m| m.chars().count())
        .unwrap();
    assert!(longest.chars().count() < 400, "{longest}");
    // Same input, same result.
    assert_eq!(validate(&problem, &catalog(), &design), result);
    serde_json::to_string(&result).unwrap();
}

/// The live path on a real yrs document: the design is read out of the doc as a client writes it,
/// a result is reported as changed only when it is, and deleting `db_primary` loses T0.
#[test]
fn revalidating_a_document_reports_changes_and_transitions() {
    use tierboard::validation::revalidate;
    use yrs::{Map, Transact, WriteTxn};

    let (problem, catalog) = (blog(), catalog());
    let doc = yrs::Doc::new();
    let empty = revalidate(&problem, &catalog, &Design::from_txn(&doc.transact()), None);
    assert!(empty.changed && empty.transitions.is_empty());
    assert_eq!(empty.result.reached, 0);

    blog_reference().write_to_doc(&doc);
    let full = revalidate(
        &problem,
        &catalog,
        &Design::from_txn(&doc.transact()),
        Some(&empty.result),
    );
    assert!(full.changed);
    assert_eq!(full.result.reached, 3);
    let reached: Vec<(&str, TierEvent)> = full
        .transitions
        .iter()
        .map(|t| (t.tier.as_str(), t.event))
        .collect();
    assert_eq!(
        reached,
        [
            ("T0", TierEvent::Reached),
            ("T1", TierEvent::Reached),
            ("T2", TierEvent::Reached)
        ]
    );

    // A change that does not change the verdict (moving a node) is not pushed.
    {
        let mut txn = doc.transact_mut();
        let nodes = txn.get_or_insert_map("nodes");
        let Some(yrs::Out::YMap(app)) = nodes.get(&txn, "app") else {
            panic!("app node is a map")
        };
        app.insert(&mut txn, "x", 300.0);
    }
    let moved = revalidate(
        &problem,
        &catalog,
        &Design::from_txn(&doc.transact()),
        Some(&full.result),
    );
    assert!(!moved.changed && moved.transitions.is_empty());

    // Delete the primary database: T0 is lost, and with it every later tier.
    {
        let mut txn = doc.transact_mut();
        txn.get_or_insert_map("nodes").remove(&mut txn, "primary");
    }
    let lost = revalidate(
        &problem,
        &catalog,
        &Design::from_txn(&doc.transact()),
        Some(&moved.result),
    );
    assert!(lost.changed);
    assert_eq!(lost.result.reached, 0);
    assert_eq!(lost.transitions[0].tier, "T0");
    assert_eq!(lost.transitions[0].event, TierEvent::Lost);
    let t0 = &lost.result.tiers[0];
    assert_eq!(t0.rules[1].explanation, "no node of kind db_primary");
    // The edge to the deleted node is still in the document: a dangling edge now.
    assert_eq!(lost.result.design_issues[0].code, IssueCode::DanglingEdge);
    assert_eq!(
        lost.result.design_issues[0].message,
        "edge 'e3' goes to missing node 'primary'"
    );
}
