//! In-memory ranked full-text search over the bank (BM25F: title, summary, description, requirements),
//! with category and difficulty facets and stable pagination.
//!
//! Built once at load (a few ms for ~640 problems); a query scores only the documents that contain one of
//! its terms. Ties are broken by id so that pages never shuffle between requests.

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

#[derive(Debug, Default)]
struct Doc {
    id: String,
    category: String,
    difficulty: Option<String>,
    /// Per field: term → count, and the field's length in terms.
    fields: [(HashMap<String, u32>, usize); 4],
}

#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Doc>,
    /// term → indices of the documents containing it.
    postings: HashMap<String, Vec<usize>>,
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
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub total: usize,
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
        let n = index.docs.len().max(1) as f64;
        for f in 0..FIELDS.len() {
            index.avg_len[f] =
                (index.docs.iter().map(|d| d.fields[f].1).sum::<usize>() as f64 / n).max(1.0);
        }
        index
    }

    fn score(&self, doc: usize, terms: &[String]) -> f64 {
        let n = self.docs.len() as f64;
        let d = &self.docs[doc];
        terms
            .iter()
            .map(|t| {
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
            })
            .sum()
    }

    pub fn search(&self, q: &Query) -> Results {
        let mut terms = tokenize(&q.q);
        terms.sort();
        terms.dedup();
        // Documents matching the text: any term (ranked), or all documents for an empty query.
        let matching: Vec<(usize, f64)> = if terms.is_empty() {
            (0..self.docs.len()).map(|i| (i, 0.0)).collect()
        } else {
            let mut candidates: Vec<usize> = terms
                .iter()
                .filter_map(|t| self.postings.get(t))
                .flatten()
                .copied()
                .collect();
            candidates.sort_unstable();
            candidates.dedup();
            candidates
                .into_iter()
                .map(|i| (i, self.score(i, &terms)))
                .collect()
        };
        let cat_ok = |d: &Doc| q.category.as_ref().is_none_or(|c| &d.category == c);
        let diff_ok = |d: &Doc| {
            q.difficulty
                .as_ref()
                .is_none_or(|c| d.difficulty.as_ref() == Some(c))
        };
        // Facets count what each choice would give with the other filter applied (disjunctive facets).
        let mut facets = Facets::default();
        for &(i, _) in &matching {
            let d = &self.docs[i];
            if diff_ok(d) {
                *facets.category.entry(d.category.clone()).or_insert(0) += 1;
            }
            if cat_ok(d) {
                let key = d.difficulty.clone().unwrap_or_else(|| "none".to_string());
                *facets.difficulty.entry(key).or_insert(0) += 1;
            }
        }
        let mut hits: Vec<Hit> = matching
            .into_iter()
            .filter(|&(i, _)| cat_ok(&self.docs[i]) && diff_ok(&self.docs[i]))
            .map(|(i, score)| Hit {
                id: self.docs[i].id.clone(),
                score,
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        let total = hits.len();
        let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
        let page = q.page.max(1);
        let hits = hits
            .into_iter()
            // Saturating: `?page=` comes from the query string, and a huge one is past the end, not
            // an overflow.
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        Results {
            total,
            page,
            per_page,
            hits,
            facets,
        }
    }
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
