//! Problem families: problems whose text is a near-copy of another's (the L5 staff problems written from
//! one template with another company and topic, the L6 principal problems from one sentence pattern) are
//! variants of one family, so that the browser can show a family once (issue 20, item 4).
//!
//! Computed from the text when the bank is loaded, never stored in the files: two problems of the same
//! category, difficulty and palette are near-copies when their statements (summary, goal, description,
//! functional and non-functional requirements, as lower-case words with every number masked) have a
//! word-level similarity `2 × LCS ÷ (|a| + |b|)` of at least [`SIMILARITY`]; a family is a connected group
//! of near-copies (two or more problems). On the committed bank the 171 L5 and 173 L6 near-copies fall
//! into 20 families (one per category and level) and every other problem stands alone; distinct problems
//! at a similarity of 0.7 or 0.9 give the same 20 (0.9 splits a few of them by topic).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::problems::model::Problem;

/// The least similarity of two statements for their problems to be variants of one family.
pub const SIMILARITY: f64 = 0.8;

/// A family of near-identical problems.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Family {
    /// The members' common id prefix (`l5-developer-productivity`), else the first member's id.
    pub id: String,
    /// What the variants have in common: the words of their goals (else summaries) that all of them
    /// share, in order, with `…` where they differ ("Design … solution for … supporting millions of
    /// users and thousands of engineers").
    pub title: String,
    /// The members' ids, sorted.
    pub variants: Vec<String>,
}

/// Words of a statement, numbers masked as `#`.
fn statement(p: &Problem) -> Vec<String> {
    let mut text = vec![p.summary.as_str(), p.goal.as_str(), p.description.as_str()];
    text.extend(p.functional_requirements.iter().map(String::as_str));
    let nfr: Vec<String> = p
        .non_functional_requirements
        .iter()
        .map(|r| format!("{} {}", r.name, r.text))
        .collect();
    text.extend(nfr.iter().map(String::as_str));
    text.iter()
        .flat_map(|t| t.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.')))
        .map(|w| w.trim_matches(['.', '-']))
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.starts_with(|c: char| c.is_ascii_digit()) {
                "#".to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect()
}

/// Length of the longest common subsequence of two word lists (two rows of the table).
fn lcs_len(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `2 × LCS ÷ (|a| + |b|)`: 1 for equal statements, 0 for statements with no word in common.
pub fn similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    2.0 * lcs_len(a, b) as f64 / (a.len() + b.len()) as f64
}

/// The words common to `a` and `b` in order, `…` (once) where either has words the other lacks.
fn common_words(a: &[String], b: &[String]) -> Vec<String> {
    let (n, m) = (a.len(), b.len());
    let mut t = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if a[i] == b[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let mut out: Vec<String> = Vec::new();
    let gap = |out: &mut Vec<String>| {
        if out.last().is_none_or(|w| w != "…") {
            out.push("…".into());
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(a[i].clone());
            i += 1;
            j += 1;
        } else {
            gap(&mut out);
            if t[i + 1][j] >= t[i][j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    if i < n || j < m {
        gap(&mut out);
    }
    out
}

fn title_of(members: &[&Problem]) -> String {
    let words = |p: &Problem| -> Vec<String> {
        let text = if p.goal.trim().is_empty() {
            &p.summary
        } else {
            &p.goal
        };
        text.split_whitespace().map(str::to_string).collect()
    };
    let mut common = words(members[0]);
    for p in &members[1..] {
        // A gap is a word no statement has: it stays a gap.
        common = common_words(&common, &words(p));
    }
    common.join(" ")
}

fn id_of(members: &[&Problem]) -> String {
    let first = &members[0].id;
    let mut len = first.len();
    for p in &members[1..] {
        len = first
            .char_indices()
            .zip(p.id.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    let prefix = first[..len].trim_end_matches(['-', '_']);
    // A prefix that is only a level or a letter ("l5") says nothing: name the family by its first member.
    if prefix.len() < 4 {
        first.clone()
    } else {
        prefix.to_string()
    }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Category, difficulty and palette: only problems that share them can be copies of each other.
type Bucket<'a> = (&'a str, Option<&'a str>, &'a [String]);

/// The families of `problems` (two or more near-copies each), by id.
pub fn families<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> Vec<Family> {
    let mut problems: Vec<&Problem> = problems.into_iter().collect();
    problems.sort_by(|a, b| a.id.cmp(&b.id));
    let words: Vec<Vec<String>> = problems.iter().map(|p| statement(p)).collect();
    let mut parent: Vec<usize> = (0..problems.len()).collect();
    let mut buckets: BTreeMap<Bucket, Vec<usize>> = BTreeMap::new();
    for (i, p) in problems.iter().enumerate() {
        buckets
            .entry((
                p.category.as_str(),
                p.difficulty.as_deref(),
                p.available_components.as_slice(),
            ))
            .or_default()
            .push(i);
    }
    for members in buckets.values() {
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                if find(&mut parent, a) == find(&mut parent, b) {
                    continue;
                }
                let (la, lb) = (words[a].len() as f64, words[b].len() as f64);
                // The LCS is at most the shorter list: skip pairs that cannot reach the bound.
                if 2.0 * la.min(lb) / (la + lb) < SIMILARITY {
                    continue;
                }
                if similarity(&words[a], &words[b]) >= SIMILARITY {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                    parent[ra.max(rb)] = ra.min(rb);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Problem>> = BTreeMap::new();
    for (i, p) in problems.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(p);
    }
    let mut out: Vec<Family> = groups
        .into_values()
        .filter(|m| m.len() >= 2)
        .map(|m| Family {
            id: id_of(&m),
            title: title_of(&m),
            variants: m.iter().map(|p| p.id.clone()).collect(),
        })
        .collect();
    // Two families with one id prefix (never on the committed bank): the later one is named by its
    // first member.
    out.sort_by(|a, b| a.variants[0].cmp(&b.variants[0]));
    let mut seen = std::collections::BTreeSet::new();
    for f in &mut out {
        if !seen.insert(f.id.clone()) {
            f.id = f.variants[0].clone();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::model::{Origin, Requirement};

    fn problem(id: &str, goal: &str, description: &str) -> Problem {
        let mut p = Problem::new(
            id.into(),
            id.into(),
            "infra".into(),
            Origin {
                file: "x".into(),
                number: 1,
            },
        );
        p.goal = goal.into();
        p.description = description.into();
        p.difficulty = Some("L5-Staff".into());
        p.available_components = vec!["app".into(), "db_primary".into()];
        p.non_functional_requirements = vec![Requirement {
            name: "Request Rate".into(),
            text: "15M requests per second".into(),
        }];
        p
    }

    const TEMPLATE: &str = "needs to implement a platform to support their growing infrastructure. The \
                            system must handle millions of users while maintaining high availability \
                            and supporting hundreds of engineering teams.";

    #[test]
    fn near_copies_are_one_family_and_distinct_problems_stand_alone() {
        let a = problem(
            "l5-infra-1",
            "Design kubernetes for Vultr supporting millions of users",
            &format!("Vultr {TEMPLATE}"),
        );
        let mut b = problem(
            "l5-infra-2",
            "Design edge computing for EKS supporting millions of users",
            &format!("EKS {TEMPLATE}"),
        );
        b.non_functional_requirements[0].text = "16M requests per second".into();
        let c = problem(
            "l5-infra-google",
            "Design Google's cluster scheduler",
            "Borg schedules every job of every datacenter onto machines with bin packing and preemption.",
        );
        let fams = families([&a, &b, &c]);
        assert_eq!(fams.len(), 1, "{fams:?}");
        assert_eq!(fams[0].id, "l5-infra");
        assert_eq!(fams[0].variants, vec!["l5-infra-1", "l5-infra-2"]);
        assert_eq!(
            fams[0].title, "Design … for … supporting millions of users",
            "{fams:?}"
        );
        // Another palette: not a copy, whatever the text.
        let mut d = b.clone();
        d.id = "l5-infra-3".into();
        d.available_components.push("cache".into());
        assert_eq!(families([&a, &d]).len(), 0);
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let w = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(similarity(&w("a b c"), &w("a b c")), 1.0);
        assert_eq!(similarity(&w("a b c"), &w("d e f")), 0.0);
        let (x, y) = (w("a b c d"), w("a x c d e"));
        assert_eq!(similarity(&x, &y), similarity(&y, &x));
        assert!((similarity(&x, &y) - 6.0 / 9.0).abs() < 1e-12);
    }
}
