//! CODEOWNERS: which owners a path has. GitHub's rules: one pattern and its owners per
//! line, `#` comments, and the last matching line wins. Patterns follow gitignore
//! conventions: a leading `/` anchors at the root, a trailing `/` matches a directory and
//! everything below it, a pattern without `/` matches at any depth.

use globset::{Glob, GlobMatcher};

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    matchers: Vec<GlobMatcher>,
    owners: Vec<String>,
}

/// A parsed CODEOWNERS file.
#[derive(Debug, Clone, Default)]
pub struct CodeOwners {
    rules: Vec<Rule>,
}

impl CodeOwners {
    /// Parse the text; a line whose pattern is not a valid glob is an error naming it.
    pub fn parse(text: &str) -> Result<CodeOwners, String> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let Some(pattern) = parts.next() else {
                continue;
            };
            let owners: Vec<String> = parts
                .take_while(|p| !p.starts_with('#'))
                .map(str::to_string)
                .collect();
            let matchers =
                globs(pattern).map_err(|e| format!("line {}: `{pattern}`: {e}", n + 1))?;
            rules.push(Rule {
                pattern: pattern.to_string(),
                matchers,
                owners,
            });
        }
        Ok(CodeOwners { rules })
    }

    /// The owners of `path` and the pattern that decided it (last match wins); `None` when
    /// no line matches or the last matching line has no owners.
    pub fn owners_of(&self, path: &str) -> Option<(&[String], &str)> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        self.rules
            .iter()
            .rev()
            .find(|r| r.matchers.iter().any(|m| m.is_match(path)))
            .filter(|r| !r.owners.is_empty())
            .map(|r| (r.owners.as_slice(), r.pattern.as_str()))
    }
}

/// The globs a CODEOWNERS pattern stands for.
fn globs(pattern: &str) -> Result<Vec<GlobMatcher>, globset::Error> {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let body = pattern.trim_start_matches('/');
    let dir = body.ends_with('/');
    let body = body.trim_end_matches('/');
    let base = if anchored {
        body.to_string()
    } else {
        format!("**/{body}")
    };
    let mut out = vec![Glob::new(&base)?.compile_matcher()];
    // A directory (or a name that may be one) also owns everything below it.
    if dir || !body.contains('*') {
        out.push(Glob::new(&format!("{base}/**"))?.compile_matcher());
    }
    if dir {
        out.remove(0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# Default owners
*       @acme/security
*.js    @acme/frontend
/docs/  @acme/docs
src/payments/ @acme/payments @alice   # two owners
apps/**/README.md
";

    #[test]
    fn the_last_matching_line_wins() {
        let c = CodeOwners::parse(FILE).unwrap();
        let owner = |p: &str| c.owners_of(p).map(|(o, _)| o.join(" "));
        assert_eq!(owner("main.rs").as_deref(), Some("@acme/security"));
        assert_eq!(owner("web/app.js").as_deref(), Some("@acme/frontend"));
        assert_eq!(owner("docs/a/b.md").as_deref(), Some("@acme/docs"));
        assert_eq!(
            owner("src/docs/b.md").as_deref(),
            Some("@acme/security"),
            "/docs/ is anchored"
        );
        assert_eq!(
            owner("src/payments/db.js").as_deref(),
            Some("@acme/payments @alice")
        );
        assert_eq!(
            owner("./src/payments/x.py").as_deref(),
            Some("@acme/payments @alice")
        );
        assert_eq!(
            owner("apps/a/README.md"),
            None,
            "a line without owners unsets ownership"
        );
        assert_eq!(c.owners_of("src/payments/x.py").unwrap().1, "src/payments/");
    }

    #[test]
    fn a_bad_pattern_names_its_line() {
        let err = CodeOwners::parse("ok @a\nsrc/[bad @b\n").unwrap_err();
        assert!(err.starts_with("line 2: `src/[bad`"), "{err}");
    }
}
