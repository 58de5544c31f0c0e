//! Parser for the "All System Design Problems" format (seeds 004 and 002).
//!
//! A problem starts at `## N. Title` followed by `**ID:**`; some bodies contain `## ` headings of their own
//! (the walkthrough), so only that pair starts a problem. Inside a problem, `### ` headings from a fixed
//! list start sections; once `### Tutorial Narrative` starts, everything up to the next problem belongs to
//! the narrative.

use tierboard::problems::model::{
    Analysis, Block, Calculation, Checkpoint, ConstValue, Constant, Cost, Fact, Item,
    MigrationPhase, Origin, Phase, Problem, Requirement, Section, Staff, TradeOff, Tutorial,
};

use super::numbers;
use super::{SeedError, SeedTier};

/// What the seed says about one problem before tiers and the reference design are resolved against the
/// catalog (that happens in the importer).
#[derive(Debug, Clone)]
pub struct SeedProblem {
    pub problem: Problem,
    pub tiers: Vec<SeedTier>,
    pub reference: Option<SeedReference>,
}

/// `### Reference Solution`: prose, `Label (type)` components and `A → B` connections as written.
#[derive(Debug, Clone)]
pub struct SeedReference {
    pub text: String,
    pub components: Vec<(String, String)>,
    pub connections: Vec<(String, String)>,
}

const SECTIONS: &[&str] = &[
    "Summary",
    "Goal",
    "Description",
    "Functional Requirements",
    "Non-Functional Requirements",
    "Constants/Assumptions",
    "Available Components",
    "Hints",
    "Tiers/Checkpoints",
    "Reference Solution",
    "Solution Analysis",
    "Tutorial Narrative",
];

/// `## 12. Title` → (12, "Title").
fn problem_heading(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix("## ")?;
    let (num, title) = rest.split_once(". ")?;
    let n = num.parse().ok()?;
    Some((n, title.trim()))
}

/// Splits a whole file into problems.
pub fn parse(text: &str, file: &str) -> Result<Vec<SeedProblem>, SeedError> {
    let lines: Vec<&str> = text.lines().collect();
    let next_nonempty = |i: usize| {
        lines[i + 1..]
            .iter()
            .find(|l| !l.trim().is_empty())
            .copied()
    };
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            problem_heading(lines[i]).is_some()
                && next_nonempty(i).is_some_and(|l| l.starts_with("**ID:**"))
        })
        .collect();
    let mut out = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        out.push(parse_problem(&lines[start..end], file, start + 1)?);
    }
    Ok(out)
}

fn err(file: &str, line: usize, id: &str, message: impl Into<String>) -> SeedError {
    SeedError {
        file: file.to_string(),
        line,
        problem: id.to_string(),
        message: message.into(),
    }
}

/// Trims blank lines and trailing `---` separators from a block and joins it.
pub(super) fn block_text(lines: &[&str]) -> String {
    let mut v: Vec<&str> = lines.to_vec();
    while v
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim() == "---")
    {
        v.pop();
    }
    while v.first().is_some_and(|l| l.trim().is_empty()) {
        v.remove(0);
    }
    v.join("\n")
}

fn content_lines<'a>(lines: &[&'a str]) -> impl Iterator<Item = &'a str> {
    let text_end = lines
        .iter()
        .rposition(|l| !(l.trim().is_empty() || l.trim() == "---"))
        .map_or(0, |p| p + 1);
    lines[..text_end]
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
}

fn parse_problem(lines: &[&str], file: &str, first_line: usize) -> Result<SeedProblem, SeedError> {
    let (number, title) = problem_heading(lines[0]).expect("caller checked the heading");
    let mut id = String::new();
    let mut category = String::new();
    let mut difficulty = None;
    let mut i = 1;
    while i < lines.len() && !lines[i].starts_with("### ") {
        let l = lines[i].trim();
        if let Some(v) = l.strip_prefix("**ID:**") {
            id = v.trim().to_string();
        } else if let Some(v) = l.strip_prefix("**Category:**") {
            category = v.trim().to_string();
        } else if let Some(v) = l.strip_prefix("**Difficulty:**") {
            difficulty = Some(v.trim().to_string());
        } else if !l.is_empty() {
            return Err(err(
                file,
                first_line + i,
                &id,
                format!("unexpected line {l:?}"),
            ));
        }
        i += 1;
    }
    if id.is_empty() || category.is_empty() {
        return Err(err(
            file,
            first_line,
            title,
            "missing **ID:** or **Category:**",
        ));
    }

    // Group the remaining lines by section.
    let mut sections: Vec<(&str, usize, Vec<&str>)> = Vec::new();
    while i < lines.len() {
        let l = lines[i];
        let in_narrative = sections.last().is_some_and(|s| s.0 == "Tutorial Narrative");
        match l.strip_prefix("### ") {
            Some(h) if !in_narrative && SECTIONS.contains(&h.trim()) => {
                sections.push((h.trim(), first_line + i, Vec::new()));
            }
            _ => match sections.last_mut() {
                Some(s) => s.2.push(l),
                None => {
                    return Err(err(
                        file,
                        first_line + i,
                        &id,
                        "text before the first section",
                    ));
                }
            },
        }
        i += 1;
    }

    let mut p = Problem::new(
        id.clone(),
        title.to_string(),
        category,
        Origin {
            file: file.to_string(),
            number,
        },
    );
    p.difficulty = difficulty;
    let mut tiers = Vec::new();
    let mut reference = None;
    for (name, at, body) in sections {
        let e = |line: usize, m: String| err(file, line, &id, format!("{name}: {m}"));
        match name {
            "Summary" => p.summary = block_text(&body),
            "Goal" => p.goal = block_text(&body),
            "Description" => p.description = block_text(&body),
            "Functional Requirements" => {
                p.functional_requirements = bullets(&body).map_err(|m| e(at, m))?
            }
            "Available Components" => {
                p.available_components = bullets(&body).map_err(|m| e(at, m))?
            }
            "Hints" => p.hints = numbered(&body).map_err(|m| e(at, m))?,
            "Non-Functional Requirements" => {
                for l in content_lines(&body) {
                    let (name, text) = bold_pair(l).ok_or_else(|| e(at, format!("{l:?}")))?;
                    p.non_functional_requirements.push(Requirement {
                        name: name.to_string(),
                        text: text.to_string(),
                    });
                }
            }
            "Constants/Assumptions" => {
                for l in content_lines(&body) {
                    let (name, value) = bold_pair(l).ok_or_else(|| e(at, format!("{l:?}")))?;
                    let value = ConstValue::parse(value);
                    p.constants.push(Constant {
                        name: name.to_string(),
                        ty: value.type_name().to_string(),
                        value,
                    });
                }
            }
            "Tiers/Checkpoints" => tiers = parse_tiers(&body).map_err(|m| e(at, m))?,
            "Reference Solution" => reference = Some(parse_reference(&body).map_err(|m| e(at, m))?),
            "Solution Analysis" => {
                let (analysis, staff) = parse_analysis(&body);
                p.analysis = Some(analysis);
                p.staff = staff;
            }
            "Tutorial Narrative" => p.tutorial = Some(parse_tutorial(&body)),
            _ => p.sections.push(Section {
                heading: name.to_string(),
                text: block_text(&body),
            }),
        }
    }
    p.targets = numbers::targets(&p.non_functional_requirements);
    Ok(SeedProblem {
        problem: p,
        tiers,
        reference,
    })
}

/// `- **Name:** value` → (Name, value).
fn bold_pair(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("- **")?;
    let (name, value) = rest.split_once(":**")?;
    Some((name.trim(), value.trim()))
}

fn bullets(body: &[&str]) -> Result<Vec<String>, String> {
    content_lines(body)
        .map(|l| {
            l.strip_prefix("- ")
                .map(|s| s.trim().to_string())
                .ok_or_else(|| format!("expected '- item', got {l:?}"))
        })
        .collect()
}

fn numbered(body: &[&str]) -> Result<Vec<String>, String> {
    content_lines(body)
        .map(|l| {
            l.split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                .map(|(_, s)| s.trim().to_string())
                .ok_or_else(|| format!("expected 'N. item', got {l:?}"))
        })
        .collect()
}

fn parse_tiers(body: &[&str]) -> Result<Vec<SeedTier>, String> {
    let mut tiers: Vec<SeedTier> = Vec::new();
    for l in content_lines(body) {
        if let Some(h) = l
            .trim()
            .strip_prefix("**")
            .and_then(|h| h.strip_suffix("**"))
        {
            let (id, title) = h
                .split_once(": ")
                .ok_or_else(|| format!("tier heading {l:?}"))?;
            tiers.push(SeedTier {
                id: id.to_string(),
                title: title.to_string(),
                rules: vec![],
            });
        } else if let Some(rule) = l.trim_start().strip_prefix("- ") {
            tiers
                .last_mut()
                .ok_or_else(|| format!("rule before any tier: {l:?}"))?
                .rules
                .push(rule.trim().to_string());
        } else {
            return Err(format!("unexpected line {l:?}"));
        }
    }
    Ok(tiers)
}

fn parse_reference(body: &[&str]) -> Result<SeedReference, String> {
    let mut text = Vec::new();
    let mut components = Vec::new();
    let mut connections = Vec::new();
    let mut part = 0;
    for &l in body {
        match l.trim() {
            "**Components:**" => part = 1,
            "**Connections:**" => part = 2,
            _ if part == 0 => text.push(l),
            "" | "---" => {}
            t => {
                let item = t
                    .strip_prefix("- ")
                    .ok_or_else(|| format!("expected '- item', got {t:?}"))?;
                if part == 1 {
                    let (label, ty) = item
                        .strip_suffix(')')
                        .and_then(|s| s.rsplit_once(" ("))
                        .ok_or_else(|| format!("component {item:?} is not 'Label (type)'"))?;
                    components.push((label.trim().to_string(), ty.trim().to_string()));
                } else {
                    let (a, b) = item
                        .split_once(" → ")
                        .ok_or_else(|| format!("connection {item:?} is not 'A → B'"))?;
                    connections.push((a.trim().to_string(), b.trim().to_string()));
                }
            }
        }
    }
    Ok(SeedReference {
        text: block_text(&text),
        components,
        connections,
    })
}

/// Strips `*...:*` → the title, for an italic sub-heading line.
fn italic_heading(l: &str) -> Option<&str> {
    let t = l.trim();
    let inner = t.strip_prefix('*')?.strip_suffix(":*")?;
    (!inner.starts_with('*')).then_some(inner)
}

fn bold_heading(l: &str) -> Option<&str> {
    l.trim().strip_prefix("**")?.strip_suffix(":**")
}

fn fact(l: &str) -> Option<Fact> {
    let item = l.trim().strip_prefix("- ")?;
    let (name, value) = item.split_once(": ")?;
    Some(Fact {
        name: name.to_string(),
        value: value.to_string(),
    })
}

fn parse_analysis(body: &[&str]) -> (Analysis, Option<Staff>) {
    let mut a = Analysis::default();
    let mut staff: Option<Staff> = None;
    let mut block = "";
    let mut sub = String::new();
    let mut overview = Vec::new();
    // Inside a trade-off: whether the deeper items follow `- Cons:` (else `- Pros:`).
    let mut in_cons = false;
    for l in content_lines(body) {
        if let Some(h) = bold_heading(l) {
            block = match h {
                "Architecture Overview" => "overview",
                "Phase Analysis" => "phases",
                "Trade-offs" => "trade_offs",
                "Cost Analysis" => "cost",
                h if h.starts_with("L5 ") || h.starts_with("L6 ") => {
                    staff = Some(Staff {
                        heading: h.to_string(),
                        migration_phases: vec![],
                        blocks: vec![],
                    });
                    "staff"
                }
                _ => {
                    a.other.push(l.to_string());
                    ""
                }
            };
            sub.clear();
            continue;
        }
        if let Some(h) = italic_heading(l) {
            sub = h.to_string();
            match block {
                "phases" => a.phases.push(Phase {
                    name: match h {
                        "Normal Operation" => "normal".into(),
                        "Peak Load" => "peak".into(),
                        "Failure Scenarios" => "failure".into(),
                        other => other.to_lowercase(),
                    },
                    title: h.to_string(),
                    summary: String::new(),
                    figures: vec![],
                }),
                "staff" => {
                    if let Some(s) = staff.as_mut() {
                        s.blocks.push(Block {
                            title: h.to_string(),
                            items: vec![],
                        })
                    }
                }
                "cost" if h == "Breakdown" => {}
                _ => a.other.push(l.to_string()),
            }
            continue;
        }
        let handled = match block {
            "overview" => {
                overview.push(l);
                true
            }
            "phases" => match (a.phases.last_mut(), fact(l)) {
                (Some(ph), Some(f)) => {
                    ph.figures.push(f);
                    true
                }
                (Some(ph), None) if !l.trim_start().starts_with("- ") => {
                    if !ph.summary.is_empty() {
                        ph.summary.push('\n');
                    }
                    ph.summary.push_str(l.trim());
                    true
                }
                _ => false,
            },
            "trade_offs" => trade_off_line(&mut a.trade_offs, &mut in_cons, l),
            "cost" => match fact(l) {
                Some(f) => {
                    let cost = a.cost.get_or_insert_with(Cost::default);
                    if sub == "Breakdown" {
                        cost.breakdown.push(f);
                    } else {
                        cost.totals.push(f);
                    }
                    true
                }
                None => false,
            },
            "staff" => staff
                .as_mut()
                .and_then(|s| s.blocks.last_mut())
                .is_some_and(|b| item_line(&mut b.items, l)),
            _ => false,
        };
        if !handled {
            a.other.push(l.to_string());
        }
    }
    a.overview = overview.join("\n");
    if let Some(s) = staff.as_mut() {
        s.blocks.retain(|b| {
            if b.title != "Migration Strategy" {
                return true;
            }
            let phases: Option<Vec<MigrationPhase>> = b.items.iter().map(migration_phase).collect();
            match phases {
                Some(p) => {
                    s.migration_phases = p;
                    false
                }
                None => true,
            }
        });
    }
    (a, staff)
}

/// `Phase: X` with details `Teams: ...` and `Rollback: ...`; None when the item has another shape.
fn migration_phase(item: &Item) -> Option<MigrationPhase> {
    let mut m = MigrationPhase {
        phase: item.text.strip_prefix("Phase: ")?.to_string(),
        teams: String::new(),
        rollback: String::new(),
    };
    for d in &item.details {
        if let Some(t) = d.strip_prefix("Teams: ") {
            m.teams = t.to_string();
        } else if let Some(r) = d.strip_prefix("Rollback: ") {
            m.rollback = r.to_string();
        } else {
            return None;
        }
    }
    Some(m)
}

/// `- text` starts an item, `  - detail` adds to the last one.
fn item_line(items: &mut Vec<Item>, l: &str) -> bool {
    if let Some(t) = l.strip_prefix("- ") {
        items.push(Item {
            text: t.trim().to_string(),
            details: vec![],
        });
        true
    } else if let (Some(t), Some(last)) = (l.trim_start().strip_prefix("- "), items.last_mut()) {
        last.details.push(t.trim().to_string());
        true
    } else {
        false
    }
}

fn trade_off_line(list: &mut Vec<TradeOff>, in_cons: &mut bool, l: &str) -> bool {
    let t = l.trim();
    if let Some((n, title)) = t.split_once(". ")
        && !l.starts_with(' ')
        && n.chars().all(|c| c.is_ascii_digit())
    {
        list.push(TradeOff {
            title: title.to_string(),
            pros: vec![],
            cons: vec![],
            best_for: String::new(),
            cost: String::new(),
        });
        *in_cons = false;
        return true;
    }
    let (Some(last), Some(item)) = (list.last_mut(), t.strip_prefix("- ")) else {
        return false;
    };
    let indent = l.len() - l.trim_start().len();
    if indent > 3 {
        if *in_cons {
            last.cons.push(item.to_string());
        } else {
            last.pros.push(item.to_string());
        }
    } else if let Some(v) = item.strip_prefix("Best for: ") {
        last.best_for = v.to_string();
    } else if let Some(v) = item.strip_prefix("Cost: ") {
        last.cost = v.to_string();
    } else if item == "Pros:" || item == "Cons:" {
        *in_cons = item == "Cons:";
    } else {
        return false;
    }
    true
}

fn parse_tutorial(body: &[&str]) -> Tutorial {
    let text = block_text(body);
    let mut calculations: Vec<Calculation> = Vec::new();
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    let mut current = 0; // 1 calculation, 2 checkpoint
    for l in body {
        let t = l.trim();
        if let Some(h) = t
            .strip_prefix("*Calculation: ")
            .and_then(|h| h.strip_suffix('*'))
        {
            calculations.push(Calculation {
                title: h.to_string(),
                steps: vec![],
            });
            current = 1;
        } else if let Some(h) = t
            .strip_prefix("*Checkpoint: ")
            .and_then(|h| h.strip_suffix('*'))
        {
            checkpoints.push(Checkpoint {
                question: h.to_string(),
                answer: String::new(),
                hint: String::new(),
            });
            current = 2;
        } else if let (Some(item), true) = (t.strip_prefix("- "), l.starts_with("  ")) {
            match current {
                1 => {
                    if let Some(c) = calculations.last_mut() {
                        c.steps.push(item.to_string())
                    }
                }
                2 => {
                    if let Some(c) = checkpoints.last_mut() {
                        if let Some(a) = item.strip_prefix("Correct Answer: ") {
                            c.answer = a.to_string();
                        } else if let Some(h) = item.strip_prefix("Hint: ") {
                            c.hint = h.to_string();
                        }
                    }
                }
                _ => {}
            }
        } else if t == "-" && current == 1 {
            // An empty step line ("  - ") inside a calculation: keep the calculation open.
        } else if !t.is_empty() {
            current = 0;
        }
    }
    // Steps keep only non-empty lines; the full text keeps everything verbatim.
    Tutorial {
        text,
        calculations,
        checkpoints,
    }
}
