//! The close-code table exists once, in `tierboard::close::CloseCode`; the client's `CLOSE_CODES` and
//! the table in docs/PROTOCOL.md must list exactly the same codes, with the same reconnect behaviour.

use std::collections::BTreeMap;
use std::path::Path;

use tierboard::close::CloseCode;

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn server_codes() -> BTreeMap<u16, bool> {
    CloseCode::ALL
        .iter()
        .map(|c| (c.code(), c.reconnects()))
        .collect()
}

/// Rows `| 4000 | meaning | reconnects |` under the "### Close codes" heading.
fn protocol_codes(doc: &str) -> BTreeMap<u16, bool> {
    let section = doc
        .split("### Close codes")
        .nth(1)
        .expect("docs/PROTOCOL.md has a '### Close codes' section");
    let mut codes = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(code) = cells[1].parse::<u16>() else {
            continue; // the header and its rule
        };
        let reconnects = match cells[3] {
            "reconnects" => true,
            "stops" => false,
            other => panic!("PROTOCOL.md close code {code}: unknown client behaviour '{other}'"),
        };
        assert!(
            codes.insert(code, reconnects).is_none(),
            "PROTOCOL.md lists {code} twice"
        );
    }
    codes
}

/// Keys of `export const CLOSE_CODES: Record<number, string> = { 1000: '...', ... }`.
fn client_codes(source: &str) -> Vec<u16> {
    let body = source
        .split("export const CLOSE_CODES")
        .nth(1)
        .and_then(|rest| rest.split_once('{'))
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(body, _)| body)
        .expect("client/src/protocol.ts defines CLOSE_CODES");
    body.lines()
        .filter_map(|line| line.trim().split_once(':'))
        .filter_map(|(key, _)| key.trim().parse().ok())
        .collect()
}

#[test]
fn protocol_doc_matches_the_server_table() {
    assert_eq!(
        protocol_codes(&repo_file("docs/PROTOCOL.md")),
        server_codes()
    );
}

#[test]
fn client_knows_every_code() {
    let client = client_codes(&repo_file("client/src/protocol.ts"));
    let server: Vec<u16> = server_codes().into_keys().collect();
    assert_eq!(client, server, "client CLOSE_CODES keys, in order");
}

#[test]
fn the_parsers_see_a_missing_code() {
    // The checks above compare whole sets; make sure a table without 4002 would not pass.
    let doc = "### Close codes\n| code | meaning | stock client |\n|---|---|---|\n| 1000 | normal | reconnects |\n";
    assert_ne!(protocol_codes(doc), server_codes());
    let client = "export const CLOSE_CODES: Record<number, string> = {\n  1000: 'closed',\n}\n";
    assert_eq!(client_codes(client), vec![1000]);
}
