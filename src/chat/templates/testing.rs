//! What the renderers' tests share: golden files, override directories, a card with real
//! scanner text.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde::Serialize;

use super::{Platform, TemplateRenderer};
use crate::chat::view::FindingCard;
use crate::chat::view::fixtures::{Story, new_finding};

/// `tests/golden/<platform>/<name>.json`.
fn golden_path(platform: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(platform)
        .join(format!("{name}.json"))
}

/// Compare with the checked-in file, or rewrite it when `UPDATE_GOLDEN=1`.
pub fn assert_golden(platform: &str, name: &str, message: &impl Serialize) {
    let path = golden_path(platform, name);
    let actual = serde_json::to_string_pretty(message).unwrap() + "\n";
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "{name} differs from {}; if the change is intended, rerun with UPDATE_GOLDEN=1 and \
         review the diff.\n--- actual ---\n{actual}",
        path.display()
    );
}

/// A directory holding these override files.
pub fn override_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

/// The error `P`'s renderer gives for a directory holding these override files.
pub fn override_error<P: Platform>(files: &[(&str, &str)]) -> String {
    let dir = override_dir(files);
    TemplateRenderer::<P>::new(Some(dir.path()))
        .unwrap_err()
        .to_string()
}

/// Strings made of these parts and of arbitrary characters, for escaping properties.
pub fn tricky(parts: &'static [&'static str]) -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(parts).prop_map(str::to_string),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(part, 0..40).prop_map(|parts| parts.concat())
}

/// A title and description from real scanner output (SARIF message texts), with `<`, `'`,
/// `{0}` and backticks: `sarif-sdk_ContrastSecurity_WebGoat.sarif` and
/// `defectdojo_taint-python-report.sarif` in the shared corpus.
pub fn scanner_card() -> FindingCard {
    let story = Story::new(new_finding(
        "The configuration in '{0}' has 'httpOnlyCookies' set to 'false' in an <httpCookies> section.",
        "Possibility for Cross-site scripting (XSS) when the http data at `value in display_tags.py:72` is returned to the user via `display_tags.py:74` without sanitization.",
    ));
    FindingCard::from_state(story.id, &story.state, story.now)
}

/// Every finding of the shared corpus's WebGoat SARIF log as a card; empty (with a note)
/// when the corpus is not there.
pub fn sarif_cards() -> Vec<FindingCard> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/findings/sarif/sarif-sdk_ContrastSecurity_WebGoat.sarif");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} not present", path.display());
        return Vec::new();
    };
    let findings = crate::ingest::sarif::parse(&bytes).unwrap();
    assert!(!findings.is_empty());
    findings
        .into_iter()
        .map(|f| {
            let story = Story::new(f);
            FindingCard::from_state(story.id, &story.state, story.now)
        })
        .collect()
}
