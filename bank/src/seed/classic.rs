//! Parsers for the three smaller seeds: the 15 classic questions (003), the three design tests (000) and
//! the three practice scenarios (001). None of them has tiers, constants or a component list; their text
//! goes into `description`, `functional_requirements`, `non_functional_requirements` and verbatim
//! `sections`.

use tierboard::problems::model::{Origin, Problem, Requirement, Section};

use super::bank_file::block_text as text;
use super::{SeedError, numbers};

fn empty_problem(id: String, title: String, category: &str, file: &str, number: u32) -> Problem {
    let origin = Origin {
        file: file.to_string(),
        number,
    };
    Problem::new(id, title, category.to_string(), origin)
}

/// Lowercase ASCII words joined by `-`: "TinyURL (URL Shortener)" → "tinyurl-url-shortener".
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Splits `lines` at headings with exactly `level` `#`s, ignoring lines inside ``` fences.
fn split_headings<'a>(
    lines: &[&'a str],
    level: usize,
) -> (Vec<&'a str>, Vec<(&'a str, Vec<&'a str>)>) {
    let marker = format!("{} ", "#".repeat(level));
    let mut pre = Vec::new();
    let mut parts: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut fenced = false;
    for &l in lines {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && let Some(h) = l.strip_prefix(marker.as_str()) {
            parts.push((h.trim(), Vec::new()));
            continue;
        }
        match parts.last_mut() {
            Some(p) => p.1.push(l),
            None => pre.push(l),
        }
    }
    (pre, parts)
}

/// `- item`, `* item` or `1. item` → the item.
fn list_item(l: &str) -> Option<&str> {
    let t = l.trim();
    if let Some(r) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some(r.trim());
    }
    let (n, r) = t.split_once(". ")?;
    n.chars().all(|c| c.is_ascii_digit()).then_some(r.trim())
}

/// Document-level sections of 003 that are about all questions, not one.
const DOCUMENT_SECTIONS: &[&str] = &[
    "Interview Tips for All 4 Questions",
    "Summary of 15 Questions",
];

/// Seed 003: `# Question N: Design X`, each with `## Problem Statement` and free sections.
pub fn parse_questions(src: &str, file: &str) -> Result<Vec<Problem>, SeedError> {
    let lines: Vec<&str> = src.lines().collect();
    let (_, questions) = split_headings(&lines, 1);
    let mut out = Vec::new();
    for (heading, body) in questions {
        let Some(rest) = heading.strip_prefix("Question ") else {
            continue;
        };
        let (num, title) = rest.split_once(": ").ok_or_else(|| SeedError {
            file: file.into(),
            line: 0,
            problem: heading.into(),
            message: "expected 'Question N: Title'".into(),
        })?;
        let number: u32 = num.parse().unwrap_or(0);
        let name = title.strip_prefix("Design ").unwrap_or(title);
        let mut p = empty_problem(
            format!("classic-{}", slug(name)),
            title.to_string(),
            "classic",
            file,
            number,
        );
        let (_, parts) = split_headings(&body, 2);
        for (h, part) in parts {
            if DOCUMENT_SECTIONS.contains(&h) {
                continue;
            }
            if h == "Problem Statement" {
                let (intro, subs) = split_headings(&part, 3);
                p.description = text(&intro);
                p.functional_requirements = intro
                    .iter()
                    .filter_map(|l| list_item(l))
                    .map(String::from)
                    .collect();
                p.summary = summary_of(
                    p.description.lines().next().unwrap_or_default(),
                    &p.functional_requirements,
                );
                for (sh, sub) in subs {
                    p.sections.push(Section {
                        heading: sh.to_string(),
                        text: text(&sub),
                    });
                }
            } else {
                p.sections.push(Section {
                    heading: h.to_string(),
                    text: text(&part),
                });
            }
        }
        p.targets = numbers::targets(&scale_lines(&p.sections));
        p.difficulty = CLASSIC_DIFFICULTY
            .iter()
            .find(|(id, _)| *id == p.id)
            .map(|(_, d)| d.to_string());
        out.push(p);
    }
    Ok(out)
}

/// The seed gives the classics no level; these are the usual interview levels, in the bank's scale
/// (issue 24, item 5: a difficulty filter that leaves out the most asked questions is no filter).
const CLASSIC_DIFFICULTY: &[(&str, &str)] = &[
    ("classic-tinyurl-url-shortener", "Easy"),
    ("classic-rate-limiter", "Intermediate"),
    ("classic-notification-system", "Intermediate"),
    ("classic-api-gateway", "Intermediate"),
    ("classic-instagram", "Intermediate"),
    ("classic-twitter-x", "Intermediate"),
    ("classic-airbnb", "Intermediate"),
    ("classic-distributed-cache-redis-like", "Advanced"),
    ("classic-whatsapp-messaging", "Advanced"),
    ("classic-slack-team-chat", "Advanced"),
    ("classic-youtube", "Advanced"),
    ("classic-netflix-streaming", "Advanced"),
    ("classic-dropbox-file-storage-sync", "Advanced"),
    ("classic-uber-ride-hailing", "Advanced"),
    ("classic-google-docs-collaborative-editing", "Advanced"),
];

/// A whole sentence for a card: the statement's first line introduces a list ("Design a rate limiter
/// that:"), so its connective is dropped and the first three items follow a colon ("Design a rate
/// limiter: limits requests per user/API key, …."). A first line that is already a sentence stays.
pub fn summary_of(first_line: &str, items: &[String]) -> String {
    let line = first_line.trim();
    let Some(head) = line.strip_suffix(':') else {
        return line.to_string();
    };
    let mut head = head.trim_end();
    for tail in [" where users can", " where", " that", " which", " with"] {
        if let Some(h) = head.strip_suffix(tail) {
            head = h;
            break;
        }
    }
    let lower_first = |s: &str| {
        let mut c = s.chars();
        match (c.next(), c.clone().next()) {
            // "TTL (time-to-live)" keeps its capitals; "Upload videos" starts lower case.
            (Some(a), Some(b)) if b.is_lowercase() => a.to_lowercase().chain(c).collect(),
            _ => s.to_string(),
        }
    };
    let listed: Vec<String> = items
        .iter()
        .take(3)
        .map(|i| lower_first(i.trim()))
        .collect();
    if listed.is_empty() {
        format!("{head}.")
    } else {
        format!("{head}: {}.", listed.join(", "))
    }
}

/// Lines of the "Scale Requirements" / "Requirements" sections as requirements, for the targets only.
fn scale_lines(sections: &[Section]) -> Vec<Requirement> {
    sections
        .iter()
        .filter(|s| s.heading.contains("Requirements"))
        .flat_map(|s| s.text.lines())
        .filter_map(list_item)
        .map(|l| Requirement {
            name: "Requirement".into(),
            text: l.to_string(),
        })
        .collect()
}

/// Ids for the design tests and practice scenarios, in seed order (their seed titles are generic).
const TEST_IDS: [&str; 3] = [
    "design-test-audio-streaming",
    "design-test-audiobook-api",
    "design-test-podcast-database",
];
const SCENARIO_IDS: [&str; 3] = [
    "practice-event-management",
    "practice-data-pipeline",
    "practice-realtime-analytics",
];

/// Seed 000: `## Test N - Title`, `Task: ...` and a fenced block of `Heading:` lists.
pub fn parse_tests(src: &str, file: &str) -> Result<Vec<Problem>, SeedError> {
    let lines: Vec<&str> = src.lines().collect();
    let (_, tests) = split_headings(&lines, 2);
    let mut out = Vec::new();
    for (k, (heading, body)) in tests.into_iter().enumerate() {
        let id = TEST_IDS.get(k).ok_or_else(|| SeedError {
            file: file.into(),
            line: 0,
            problem: heading.into(),
            message: "more tests than known ids".into(),
        })?;
        let mut p = empty_problem(
            id.to_string(),
            heading.to_string(),
            "design-test",
            file,
            k as u32 + 1,
        );
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for l in &body {
            let t = l.trim();
            if let Some(task) = t.strip_prefix("Task: ") {
                p.goal = task.to_string();
                p.summary = task.to_string();
            } else if t.ends_with(':') && !t.starts_with('-') {
                groups.push((t.trim_end_matches(':').to_string(), vec![]));
            } else if let (Some(item), Some(g)) = (list_item(t), groups.last_mut()) {
                g.1.push(item.to_string());
            }
        }
        fill_from_groups(&mut p, groups);
        out.push(p);
    }
    Ok(out)
}

/// Maps `Heading:` groups to fields: the first requirements group is functional, groups about scale or
/// design constraints are non-functional, everything else stays a section.
fn fill_from_groups(p: &mut Problem, groups: Vec<(String, Vec<String>)>) {
    for (h, items) in groups {
        let lower = h.to_lowercase();
        if lower.contains("non-functional")
            || lower.contains("scale")
            || lower.starts_with("design requirements")
        {
            p.non_functional_requirements
                .extend(items.into_iter().map(|text| Requirement {
                    name: h.clone(),
                    text,
                }));
        } else if lower.contains("requirements") && p.functional_requirements.is_empty() {
            p.functional_requirements = items;
        } else {
            p.sections.push(Section {
                heading: h,
                text: items
                    .iter()
                    .map(|i| format!("- {i}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
    }
    p.description = p
        .functional_requirements
        .iter()
        .map(|i| format!("- {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    p.targets = numbers::targets(&p.non_functional_requirements);
}

/// Seed 001: `## Scenario N: Title` with `#### ` requirement groups; the closing document-level sections
/// (how to approach, sample structure, evaluation criteria) apply to every scenario and are copied into each.
pub fn parse_scenarios(src: &str, file: &str) -> Result<Vec<Problem>, SeedError> {
    let lines: Vec<&str> = src.lines().collect();
    let (_, parts) = split_headings(&lines, 2);
    let shared: Vec<Section> = parts
        .iter()
        .filter(|(h, _)| !h.starts_with("Scenario "))
        .map(|(h, b)| Section {
            heading: h.to_string(),
            text: text(b),
        })
        .collect();
    let mut out = Vec::new();
    for (k, (heading, body)) in parts
        .iter()
        .filter(|(h, _)| h.starts_with("Scenario "))
        .enumerate()
    {
        let id = SCENARIO_IDS.get(k).ok_or_else(|| SeedError {
            file: file.into(),
            line: 0,
            problem: heading.to_string(),
            message: "more scenarios than known ids".into(),
        })?;
        let title = heading.split_once(": ").map_or(*heading, |(_, t)| t);
        let mut p = empty_problem(
            id.to_string(),
            title.to_string(),
            "practice-scenario",
            file,
            k as u32 + 1,
        );
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for l in body {
            let t = l.trim();
            if let Some(h) = t.strip_prefix("#### ").or_else(|| t.strip_prefix("### ")) {
                if h != "Requirements" {
                    groups.push((h.to_string(), vec![]));
                }
            } else if let (Some(item), Some(g)) = (list_item(t), groups.last_mut()) {
                g.1.push(item.to_string());
            }
        }
        p.summary = heading.to_string();
        fill_from_groups(&mut p, groups);
        p.sections.extend(shared.iter().cloned());
        out.push(p);
    }
    Ok(out)
}
