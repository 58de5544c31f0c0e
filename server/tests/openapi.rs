//! The OpenAPI document (`GET /api/openapi.json`, issue 25) cannot drift from the router: every route
//! registered in `server/src` (found by reading the `.route(...)` calls) is in the document with its
//! method, every documented operation is a route, and a running server answers each documented
//! operation from its handler rather than from the API fallback.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{TestServer, http, sqlite_url};

const METHODS: [&str; 8] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

/// `(path, method)` of every `.route("path", method(handler))` in the crate's sources, with chained
/// methods (`get(a).post(b)`). The catch-all `any(...)` routes are the API fallback, not operations.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(path) = string_literal(rest) else {
                continue;
            };
            let after = &rest[rest.find(',').unwrap() + 1..];
            for method in methods_of(after) {
                found.insert((path.clone(), method));
            }
        }
    }
    found
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literal at the start of `s` (after whitespace).
fn string_literal(s: &str) -> Option<String> {
    let s = s.trim_start().strip_prefix('"')?;
    Some(s[..s.find('"')?].to_string())
}

/// The method router expression at the start of `s`: `get(handler)`, `axum::routing::post(x)`,
/// `get(a).post(b)`. `any` yields nothing.
fn methods_of(s: &str) -> Vec<String> {
    let mut methods = Vec::new();
    let mut s = s.trim_start();
    loop {
        let name_end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(s.len());
        let name = s[..name_end].rsplit("::").next().unwrap();
        if !s[name_end..].starts_with('(') {
            break;
        }
        if METHODS.contains(&name) {
            methods.push(name.to_string());
        } else if name != "any" {
            panic!("unrecognised method router `{name}` in a .route(...) call");
        }
        // Skip the balanced parentheses of the handler.
        let mut depth = 0;
        let mut end = name_end;
        for (i, c) in s[name_end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = name_end + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        match s[end..].trim_start().strip_prefix('.') {
            Some(next) => s = next,
            None => break,
        }
    }
    methods
}

#[test]
fn the_source_scanner_finds_routes() {
    assert_eq!(methods_of(" get(handler))"), ["get"]);
    assert_eq!(methods_of("axum::routing::post(x)\n)"), ["post"]);
    assert_eq!(methods_of("get(a).post(b(c)))"), ["get", "post"]);
    assert!(methods_of("axum::routing::any(|| async { 1 }))").is_empty());
    let routes = routes_in_source();
    assert!(routes.contains(&("/api/rooms".to_string(), "post".to_string())));
    assert!(routes.contains(&("/ws/{room}".to_string(), "get".to_string())));
}

#[tokio::test]
async fn every_route_is_documented_and_every_operation_is_a_route() {
    let (_dir, url) = sqlite_url();
    let server = TestServer::start(&url).await;
    let (status, doc) = http(server.addr, "GET", "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                documented.insert((path.clone(), method.clone()));
            }
        }
    }
    let routes = routes_in_source();
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api/openapi.json (add #[utoipa::path] and list them in openapi.rs): {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "documented operations with no route: {stale:?}"
    );

    // Each documented operation reaches its handler on the running server: not 405, and not the API
    // fallback's 404 (`not_found`: "an API route").
    for (path, method) in &documented {
        let concrete = path
            .replace("{room}", "no-such-room")
            .replace("{id}", "no-such-problem");
        let body = matches!(method.as_str(), "post" | "put").then_some("{}");
        let (status, json) = http(server.addr, &method.to_uppercase(), &concrete, body).await;
        assert_ne!(status, 405, "{method} {path}: {json}");
        assert!(
            !(status == 404 && json["code"] == "not_found"),
            "{method} {path} fell through to the API fallback: {json}"
        );
        // What it answered is one of the answers it documents (an unknown room is a 404 on every
        // room route; schemathesis found two report routes that did not say so).
        let responses = &doc["paths"][path.as_str()][method.as_str()]["responses"];
        assert!(
            responses.get(status.to_string()).is_some(),
            "{method} {path} answered {status}, which its responses do not document ({:?}): {json}",
            responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
        );
    }
    server.stop().await;
}
