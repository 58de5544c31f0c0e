//! In-memory ranked full-text search over the bank (BM25F: title, summary, description, requirements),
//! with category and difficulty facets and stable pagination.
//!
//! Built once at load (a few ms for ~640 problems); a query scores only the documents that contain one of
//! its terms. Ties are broken by a fixed order (classics, tutorials, easiest first, title) so that pages never
//! shuffle between requests. Every query word must match (title matches first) unless no document
//! holds them all; words are matched by prefix, and unknown words up to two edits away.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::problems::model::Problem;

/// Field weights: a term in the title counts more than one in the description.
const FIELDS: [(&str, f64); 4] = [
    ("title", 4.0),
    ("summary", 2.0),
    ("description", 1.0),
    ("requirements", 1.0),
];
const K1: f64 = 1.2;
const B: f64 = 0.75;
pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_PER_PAGE: usize = 100;

/// Lowercase alphanumeric words with a light plural fold ("limiters" → "limiter").
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix('s') {
                Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_string(),
                _ => w,
            }
        })
        .collect()
}

/// Difficulties from the easiest; others after them.
pub const DIFFICULTIES: [&str; 6] = [
    "Easy",
    "Foundation",
    "Intermediate",
    "Advanced",
    "L5-Staff",
    "L6-Principal",
];

fn default_rank(p: &Problem) -> (u8, u8, String) {
    let shelf = match p.category.as_str() {
        "classic" => 0,
        "tutorial" => 1,
        _ => 2,
    };
    let level = p
        .difficulty
        .as_deref()
        .and_then(|d| DIFFICULTIES.iter().position(|x| *x == d))
        .map_or(DIFFICULTIES.len() as u8, |i| i as u8);
    (shelf, level, p.title.to_lowercase())
}

#[derive(Debug, Default)]
struct Doc {
    id: String,
    category: String,
    difficulty: Option<String>,
    /// Order without a query: the classic interview questions, then tutorials, then easiest first,
    /// then by title.
    default_rank: (u8, u8, String),
    /// The problem's family ([`crate::problems::family`]), when it has one: its index in the bank's list.
    family: Option<usize>,
    /// Per field: term → count, and the field's length in terms.
    fields: [(HashMap<String, u32>, usize); 4],
}

#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Doc>,
    /// term → indices of the documents containing it.
    postings: HashMap<String, Vec<usize>>,
    /// Every term, sorted (prefix and typo matching).
    vocabulary: Vec<String>,
    avg_len: [f64; 4],
}

/// A search request (already validated).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub q: String,
    pub category: Option<String>,
    pub difficulty: Option<String>,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    /// Show a family once: its best-ranked matching variant stands for it, with the family's other
    /// matching variants in `variants`; pages count these groups.
    pub group_families: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f64,
    /// With `group_families`: the other matching variants of the hit's family, in rank order.
    pub variants: Vec<Hit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// Matching problems (every variant counted): what the facets add up to.
    pub total: usize,
    /// Matching cards: `total` less the variants grouped under another (equal to `total` without
    /// `group_families`).
    pub groups: usize,
    pub page: usize,
    pub per_page: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Facets {
    pub category: BTreeMap<String, usize>,
    pub difficulty: BTreeMap<String, usize>,
}

impl Index {
    pub fn build<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> Index {
        let mut index = Index::default();
        for p in problems {
            let requirements = p
                .functional_requirements
                .iter()
                .cloned()
                .chain(
                    p.non_functional_requirements
                        .iter()
                        .map(|r| format!("{} {}", r.name, r.text)),
                )
                .collect::<Vec<_>>()
                .join("\n");
            let texts = [
                p.title.as_str(),
                p.summary.as_str(),
                p.description.as_str(),
                requirements.as_str(),
            ];
            let mut doc = Doc {
                id: p.id.clone(),
                category: p.category.clone(),
                difficulty: p.difficulty.clone(),
                default_rank: default_rank(p),
                ..Default::default()
            };
            for (f, text) in texts.iter().enumerate() {
                let tokens = tokenize(text);
                doc.fields[f].1 = tokens.len();
                for t in tokens {
                    *doc.fields[f].0.entry(t).or_insert(0) += 1;
                }
            }
            let n = index.docs.len();
            let mut terms: Vec<&String> = doc.fields.iter().flat_map(|(tf, _)| tf.keys()).collect();
            terms.sort();
            terms.dedup();
            for t in terms {
                index.postings.entry(t.clone()).or_default().push(n);
            }
            index.docs.push(doc);
        }
        index.vocabulary = index.postings.keys().cloned().collect();
        index.vocabulary.sort();
        let n = index.docs.len().max(1) as f64;
        for f in 0..FIELDS.len() {
            index.avg_len[f] =
                (index.docs.iter().map(|d| d.fields[f].1).sum::<usize>() as f64 / n).max(1.0);
        }
        index
    }

    /// Records the family of each problem (by id → the family's index); problems not in `of` have none.
    pub fn set_families(&mut self, of: &HashMap<String, usize>) {
        for d in &mut self.docs {
            d.family = of.get(&d.id).copied();
        }
    }

    /// BM25F contribution of one index term to one document.
    fn term_score(&self, doc: usize, t: &str) -> f64 {
        let n = self.docs.len() as f64;
        let d = &self.docs[doc];
        let df = self.postings.get(t).map_or(0, Vec::len) as f64;
        if df == 0.0 {
            return 0.0;
        }
        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
        let tf: f64 = FIELDS
            .iter()
            .enumerate()
            .map(|(f, (_, weight))| {
                let (tfs, len) = &d.fields[f];
                let raw = *tfs.get(t).unwrap_or(&0) as f64;
                weight * raw / (1.0 - B + B * *len as f64 / self.avg_len[f])
            })
            .sum();
        idf * tf / (K1 + tf)
    }

    /// The index terms a query word stands for, with a weight: the word itself (1), longer words it
    /// starts ("limit" → "limiter", 0.8), and, when the word is in no document, the words one or two
    /// edits away ("shortner" → "shortener", "twiter" → "twitter", 0.7). A word in no document that
    /// is two words run together ("ratelimit") becomes two query words.
    fn expand(&self, word: &str) -> Vec<Vec<(String, f64)>> {
        let exact = self.postings.contains_key(word);
        let mut group: Vec<(String, f64)> = Vec::new();
        if exact {
            group.push((word.to_string(), 1.0));
        }
        let chars = word.chars().count();
        if chars >= 4 {
            // "limiter" also finds "limit" and "limiting", "caching" finds "cache"; a word no
            // document has only the words it starts ("twiter" is a typo of "twitter", not "twitch").
            let base = if exact { stem(word) } else { word };
            for t in self.vocabulary_from(base) {
                if t != word {
                    group.push((t.to_string(), 0.8));
                }
            }
        }
        if exact || !group.is_empty() {
            return vec![group];
        }
        if chars >= 4 {
            let limit = if chars >= 8 { 2 } else { 1 };
            let fuzzy: Vec<(String, f64)> = self
                .vocabulary
                .iter()
                .filter(|t| t.chars().count().abs_diff(chars) <= limit)
                .filter(|t| within_edits(word, t, limit))
                .map(|t| (t.clone(), 0.7))
                .collect();
            if !fuzzy.is_empty() {
                return vec![fuzzy];
            }
        }
        // Two words run together: the longest known first part whose rest is known or a prefix.
        for (cut, _) in word.char_indices().rev() {
            let (a, b) = word.split_at(cut);
            if a.chars().count() < 2 || b.chars().count() < 2 || !self.postings.contains_key(a) {
                continue;
            }
            let rest = self.expand(b);
            if rest.iter().all(|g| !g.is_empty()) {
                let mut out = vec![vec![(a.to_string(), 1.0)]];
                out.extend(rest);
                return out;
            }
        }
        vec![group]
    }

    /// Index terms starting with `prefix`, in order.
    fn vocabulary_from<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        let start = self.vocabulary.partition_point(|t| t.as_str() < prefix);
        self.vocabulary[start..]
            .iter()
            .take_while(move |t| t.starts_with(prefix))
    }

    pub fn search(&self, q: &Query) -> Results {
        let mut words = tokenize(&q.q);
        words.sort();
        words.dedup();
        // Each query word becomes a group of index terms; a document matches a group when it holds
        // one of them.
        let groups: Vec<Vec<(String, f64)>> = words
            .iter()
            .flat_map(|w| self.expand(w))
            .filter(|g| !g.is_empty())
            .collect();
        let unknown_words = !words.is_empty() && groups.is_empty();
        // Per matching document: rank key and score.
        let mut matching: Vec<(usize, Rank)> = if words.is_empty() {
            (0..self.docs.len()).map(|i| (i, Rank::default())).collect()
        } else if unknown_words {
            Vec::new()
        } else {
            let mut candidates: Vec<usize> = groups
                .iter()
                .flatten()
                .filter_map(|(t, _)| self.postings.get(t))
                .flatten()
                .copied()
                .collect();
            candidates.sort_unstable();
            candidates.dedup();
            candidates
                .into_iter()
                .map(|i| (i, self.rank(i, &groups)))
                .collect()
        };
        // All words before any word: when some document holds every word, only those match.
        if matching.iter().any(|(_, r)| r.matched == groups.len()) {
            matching.retain(|(_, r)| r.matched == groups.len());
        }
        let cat_ok = |d: &Doc| q.category.as_ref().is_none_or(|c| &d.category == c);
        let diff_ok = |d: &Doc| {
            q.difficulty.as_ref().is_none_or(|c| match &d.difficulty {
                Some(level) => level == c,
                None => c == NO_DIFFICULTY,
            })
        };
        // Facets count what each choice would give with the other filter applied (disjunctive
        // facets), over exactly the documents the query matches: a count is what its filter returns.
        let mut facets = Facets::default();
        for (i, _) in &matching {
            let d = &self.docs[*i];
            if diff_ok(d) {
                *facets.category.entry(d.category.clone()).or_insert(0) += 1;
            }
            if cat_ok(d) {
                let key = d
                    .difficulty
                    .clone()
                    .unwrap_or_else(|| NO_DIFFICULTY.to_string());
                *facets.difficulty.entry(key).or_insert(0) += 1;
            }
        }
        matching.retain(|(i, _)| cat_ok(&self.docs[*i]) && diff_ok(&self.docs[*i]));
        matching.sort_by(|(a, ra), (b, rb)| {
            rb.cmp_key(ra)
                .then_with(|| self.docs[*a].default_rank.cmp(&self.docs[*b].default_rank))
        });
        let total = matching.len();
        let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
        let page = q.page.max(1);
        let hit = |(i, r): (usize, Rank)| Hit {
            id: self.docs[i].id.clone(),
            score: r.score,
            variants: Vec::new(),
        };
        // Cards in rank order: a family's first matching variant stands for it, the others join it.
        let mut cards: Vec<Hit> = Vec::with_capacity(matching.len());
        let mut family_card: HashMap<usize, usize> = HashMap::new();
        for (i, r) in matching {
            match self.docs[i].family.filter(|_| q.group_families) {
                Some(f) => match family_card.get(&f) {
                    Some(&c) => cards[c].variants.push(hit((i, r))),
                    None => {
                        family_card.insert(f, cards.len());
                        cards.push(hit((i, r)));
                    }
                },
                None => cards.push(hit((i, r))),
            }
        }
        let groups = cards.len();
        let hits = cards
            .into_iter()
            // Saturating: `?page=` comes from the query string, and a huge one is past the end, not
            // an overflow.
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        Results {
            total,
            groups,
            page,
            per_page,
            hits,
            facets,
        }
    }

    fn rank(&self, doc: usize, groups: &[Vec<(String, f64)>]) -> Rank {
        let d = &self.docs[doc];
        let mut rank = Rank::default();
        let mut title_terms: Vec<&str> = Vec::new();
        for group in groups {
            let mut best = 0.0f64;
            let mut in_doc = false;
            let mut in_title: Option<&str> = None;
            let mut exact_in_title = false;
            for (t, weight) in group {
                if *weight >= 1.0 && d.fields[0].0.contains_key(t) {
                    exact_in_title = true;
                }
                if d.fields.iter().any(|(tf, _)| tf.contains_key(t)) {
                    in_doc = true;
                    best = best.max(weight * self.term_score(doc, t));
                    if in_title.is_none() && d.fields[0].0.contains_key(t) {
                        in_title = Some(t);
                    }
                }
            }
            rank.matched += usize::from(in_doc);
            rank.exact_in_title += usize::from(exact_in_title);
            if let Some(t) = in_title {
                rank.in_title += 1;
                title_terms.push(t);
            }
            rank.score += best;
        }
        // How much of the title the query covers ("twitter": "Design Twitter/X" before "Twitter-like
        // Timeline Cache"); "design" and the like say nothing about the problem.
        let (tf, _) = &d.fields[0];
        let words: usize = tf
            .iter()
            .filter(|(t, _)| !TITLE_FILLER.contains(&t.as_str()))
            .map(|(_, n)| *n as usize)
            .sum();
        let covered: usize = title_terms
            .iter()
            .filter(|t| !TITLE_FILLER.contains(t))
            .map(|t| tf[*t] as usize)
            .sum();
        rank.title_cover = (covered * 1000).checked_div(words).unwrap_or(0) as u32;
        rank
    }
}

/// A word without its last suffix ("limiter" → "limit", "caching" → "cach"), when at least four
/// letters remain: the prefix that finds the word's relatives.
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ion", "er", "ed", "e"] {
        if let Some(base) = word.strip_suffix(suffix)
            && base.chars().count() >= 4
        {
            return base;
        }
    }
    word
}

/// The difficulty facet's name for problems without one, and the filter value that selects them.
pub const NO_DIFFICULTY: &str = "none";

/// Title words that do not tell problems apart.
const TITLE_FILLER: [&str; 4] = ["design", "build", "a", "the"];

/// Why a document ranks where it does, most significant first.
#[derive(Debug, Default, Clone, Copy)]
struct Rank {
    /// Query words found anywhere in the document.
    matched: usize,
    /// Query words found in the title.
    in_title: usize,
    /// Query words found in the title as typed (not a relative or a correction).
    exact_in_title: usize,
    /// Share of the title's words that are query words, in thousandths.
    title_cover: u32,
    /// BM25F over the matched words.
    score: f64,
}

impl Rank {
    fn cmp_key(&self, other: &Rank) -> std::cmp::Ordering {
        self.matched
            .cmp(&other.matched)
            .then(self.in_title.cmp(&other.in_title))
            .then(self.exact_in_title.cmp(&other.exact_in_title))
            .then(self.title_cover.cmp(&other.title_cover))
            .then(self.score.total_cmp(&other.score))
    }
}

/// Whether `a` and `b` are at most `limit` edits apart (insert, delete, substitute, swap two
/// neighbours).
fn within_edits(a: &str, b: &str, limit: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        if cur.iter().min().is_some_and(|m| *m > limit) {
            return false;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()] <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_and_folds_plurals() {
        assert_eq!(
            tokenize("Rate Limiters, API-gateway!"),
            vec!["rate", "limiter", "api", "gateway"]
        );
        assert_eq!(tokenize("class bus"), vec!["class", "bus"]);
    }

    #[test]
    fn a_page_past_any_end_is_empty() {
        let mut p = Problem::new(
            "a".into(),
            "Rate limiter".into(),
            "infra".into(),
            crate::problems::model::Origin {
                file: "f".into(),
                number: 1,
            },
        );
        p.summary = "limits".into();
        let index = Index::build([&p]);
        let results = index.search(&Query {
            q: "rate".into(),
            page: usize::MAX,
            per_page: MAX_PER_PAGE,
            ..Query::default()
        });
        assert_eq!(results.total, 1);
        assert!(results.hits.is_empty());
    }
}
