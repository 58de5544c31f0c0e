//! Tests of the bank tools over the committed bank: the importer and the authoring step reproduce
//! `problems/` byte for byte, and the seed tier sets are carried over verbatim.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tierboard::problems::model::{Problem, Rule, TierSource};
use tierboard::problems::{Bank, load};
use tierboard_bank::{author, import, seed};

/// The committed bank and its folder, loaded once for every test here.
fn committed_bank() -> &'static (PathBuf, Bank) {
    static BANK: OnceLock<(PathBuf, Bank)> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems");
        let bank = Bank::load(&dir).expect("the committed bank loads");
        (dir, bank)
    })
}

fn problems_dir() -> PathBuf {
    committed_bank().0.clone()
}

/// A problem of the committed bank that the seeds name.
fn seeded(id: &str) -> Arc<Problem> {
    committed_bank()
        .1
        .get(id)
        .unwrap_or_else(|| panic!("seed problem '{id}' is not in the bank"))
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() == "seeds" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn tree_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for f in load::problem_files(dir).unwrap() {
        out.insert(
            f.strip_prefix(dir).unwrap().to_path_buf(),
            std::fs::read(&f).unwrap(),
        );
    }
    out.insert(
        "catalog.toml".into(),
        std::fs::read(dir.join("catalog.toml")).unwrap(),
    );
    out
}

#[test]
fn tiers_seed_sets_verbatim_and_authored_sets_progressive() {
    let seeds = seed::read(&problems_dir().join("seeds")).unwrap();
    let mut seed_sets = 0;
    for s in &seeds.problems {
        let p = seeded(&s.problem.id);
        assert!(!p.tiers.is_empty(), "{} has no tiers", p.id);
        if s.tiers.is_empty() {
            assert!(
                p.tiers.len() >= 3,
                "{}: authored set of {}",
                p.id,
                p.tiers.len()
            );
            assert!(p.tiers.iter().all(|t| t.source == TierSource::Authored));
            continue;
        }
        seed_sets += 1;
        // The seed's tiers first, rule for rule and in order; after them only authored tiers.
        assert!(p.tiers.len() >= s.tiers.len(), "{}", p.id);
        assert!(
            p.tiers[s.tiers.len()..]
                .iter()
                .all(|t| t.source == TierSource::Authored),
            "{}",
            p.id
        );
        for (mine, seed) in p.tiers.iter().zip(&s.tiers) {
            assert_eq!(mine.source, TierSource::Seed);
            assert_eq!((&mine.id, &mine.title), (&seed.id, &seed.title), "{}", p.id);
            let texts: Vec<&str> = mine.rules.iter().map(Rule::text).collect();
            assert_eq!(
                texts,
                seed.rules.iter().map(String::as_str).collect::<Vec<_>>(),
                "{}",
                p.id
            );
        }
    }
    assert_eq!(seed_sets, 217);
}

#[test]
fn streaming_seed_002_matches_its_copies_in_004() {
    let seeds = seed::read(&problems_dir().join("seeds")).unwrap();
    assert_eq!(seeds.streaming.len(), 35);
    for s in &seeds.streaming {
        let p = seeded(&s.problem.id);
        assert_eq!(
            (p.title.as_str(), p.description.as_str()),
            (s.problem.title.as_str(), s.problem.description.as_str())
        );
    }
}

#[test]
fn importer_is_deterministic_and_keeps_authored_content() {
    let seeds = problems_dir().join("seeds");
    // Over a copy of the committed bank: nothing changes, authored tiers and designs included.
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&problems_dir(), copy.path());
    let report = import::run(&seeds, copy.path()).unwrap();
    // Every problem keeps authored tiers: the 422 without seed tiers, and the seed problems' generated
    // last tier.
    assert_eq!((report.problems, report.written), (639, 0));
    assert!(report.kept_authored >= 422, "{}", report.kept_authored);
    assert_eq!(tree_bytes(copy.path()), tree_bytes(&problems_dir()));

    // From nothing, twice: identical bytes, and the seed-derived files equal the committed ones.
    let fresh = tempfile::tempdir().unwrap();
    // The catalog is authored (capacities included): start from the committed one.
    std::fs::copy(
        problems_dir().join("catalog.toml"),
        fresh.path().join("catalog.toml"),
    )
    .unwrap();
    let first = import::run(&seeds, fresh.path()).unwrap();
    assert_eq!(first.written, 639);
    let once = tree_bytes(fresh.path());
    let second = import::run(&seeds, fresh.path()).unwrap();
    assert_eq!(second.written, 0);
    assert_eq!(tree_bytes(fresh.path()), once);
    // Import then `author --regenerate` rebuilds every seed-tiered file byte for byte (the generated
    // last tier and the reference design's extensions included).
    author::run(fresh.path(), true).unwrap();
    let regenerated = tree_bytes(fresh.path());
    let committed = tree_bytes(&problems_dir());
    let seed_tiered: Vec<_> = committed_bank()
        .1
        .iter()
        .filter(|p| p.tier_source() == "seed" && !p.tiers_by_hand())
        .map(|p| p.id.clone())
        .collect();
    // The catalog is authored content (drafted once, editable): only problem files are compared.
    let differ: Vec<_> = regenerated
        .iter()
        .filter(|(k, v)| {
            k.as_path() != Path::new("catalog.toml")
                && seed_tiered
                    .iter()
                    .any(|id| k.file_stem().and_then(|s| s.to_str()) == Some(id))
                && committed.get(*k) != Some(v)
        })
        .map(|(k, _)| k.display().to_string())
        .collect();
    assert!(
        differ.is_empty(),
        "seed-tiered files that differ from the committed ones: {differ:?}"
    );
}

#[test]
fn authoring_is_deterministic_and_keeps_what_exists() {
    let seeds = problems_dir().join("seeds");
    let catalog = std::fs::read(problems_dir().join("catalog.toml")).unwrap();
    let run = || {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("catalog.toml"), &catalog).unwrap();
        import::run(&seeds, dir.path()).unwrap();
        assert_eq!(author::run(dir.path(), false).unwrap().written, 422);
        // A second run finds every problem with tiers and writes nothing.
        assert_eq!(author::run(dir.path(), false).unwrap().written, 0);
        // Regenerating twice: the second writes nothing.
        author::run(dir.path(), true).unwrap();
        assert_eq!(author::run(dir.path(), true).unwrap().written, 0);
        let bytes = tree_bytes(dir.path());
        (dir, bytes)
    };
    let (_a, first) = run();
    let (_b, second) = run();
    assert_eq!(first, second);
}
