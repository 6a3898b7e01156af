use super::*;
use crate::domain::Fingerprint;

fn finding(
    source: &str,
    severity: Severity,
    asset: &str,
    location: &str,
    tags: &[&str],
) -> NewFinding {
    NewFinding {
        fingerprint: Fingerprint::derive(source, "r", asset, location),
        source: source.into(),
        rule_id: "r".into(),
        title: "t".into(),
        description: String::new(),
        severity,
        asset: asset.into(),
        location: location.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        references: vec![],
        owner: None,
    }
}

fn route(name: &str) -> RouteFile {
    RouteFile {
        name: name.into(),
        ..RouteFile::default()
    }
}

fn router() -> Router {
    let owners = CodeOwners::parse("* @acme/security\nsrc/payments/ @acme/payments\n").unwrap();
    let routes = vec![
        RouteFile {
            severity: Some(vec![Severity::Critical]),
            tags: Some(vec!["pci".into()]),
            owner: Some("slack:U0PCI".into()),
            slack_channels: vec!["#pci-critical".into()],
            ..route("pci-critical")
        },
        RouteFile {
            codeowner: Some(vec!["@acme/payments".into()]),
            owner: Some("codeowners".into()),
            discord_channels: vec!["1234".into()],
            ..route("payments-code")
        },
        RouteFile {
            source: Some(vec!["trivy*".into(), "grype".into()]),
            asset: Some(vec!["registry.acme.test/**".into()]),
            owner: Some("platform-team".into()),
            ..route("images")
        },
        RouteFile {
            owner: Some("security-team".into()),
            slack_channels: vec!["#security".into()],
            ..route("default")
        },
    ];
    Router::new(&routes, Some(owners)).unwrap()
}

#[test]
fn the_first_matching_rule_wins() {
    let r = router();
    let crit = finding(
        "semgrep",
        Severity::Critical,
        "payments",
        "src/payments/db.py:4",
        &["pci"],
    );
    let routed = r.route(&crit);
    assert_eq!(routed.route.as_deref(), Some("pci-critical"));
    assert_eq!(routed.owner.as_deref(), Some("slack:U0PCI"));
    assert_eq!(routed.slack_channels, ["#pci-critical"]);

    let high = finding(
        "semgrep",
        Severity::High,
        "payments",
        "src/payments/db.py:4",
        &["pci"],
    );
    let routed = r.route(&high);
    assert_eq!(routed.route.as_deref(), Some("payments-code"));
    assert_eq!(
        routed.owner.as_deref(),
        Some("@acme/payments"),
        "owner from CODEOWNERS"
    );

    let image = finding(
        "trivy",
        Severity::Low,
        "registry.acme.test/app/api",
        "libssl3@3.0.1",
        &[],
    );
    assert_eq!(r.route(&image).owner.as_deref(), Some("platform-team"));
    let other = finding(
        "trivy",
        Severity::Low,
        "docker.io/library/nginx",
        "libssl3@3.0.1",
        &[],
    );
    assert_eq!(r.route(&other).route.as_deref(), Some("default"));
}

#[test]
fn explain_says_why_each_rule_did_or_did_not_match() {
    let r = router();
    let f = finding(
        "semgrep",
        Severity::High,
        "payments",
        "src/payments/db.py:4",
        &["pci"],
    );
    let (steps, routed) = r.explain(&f);
    assert_eq!(routed.route.as_deref(), Some("payments-code"));
    assert_eq!(steps.len(), 2);
    assert!(!steps[0].matched);
    assert_eq!(steps[0].reasons, ["severity high not in [critical]"]);
    assert!(steps[1].matched);
    assert_eq!(
        steps[1].reasons,
        [
            "CODEOWNERS gives `src/payments/db.py` to @acme/payments (line `src/payments/`), one of [@acme/payments]"
        ]
    );
}

#[test]
fn unreachable_rules_and_a_missing_default_are_reported() {
    let err = Router::new(
        &[
            route("all"),
            RouteFile {
                severity: Some(vec![Severity::High]),
                ..route("high")
            },
        ],
        None,
    )
    .unwrap_err();
    assert_eq!(err.0, "routes[1] (high)");
    assert!(
        err.1
            .contains("`all` (routes[0]) before it matches every finding"),
        "{}",
        err.1
    );

    let twice = RouteFile {
        source: Some(vec!["semgrep".into()]),
        ..route("a")
    };
    let err = Router::new(
        &[
            twice.clone(),
            RouteFile {
                name: "b".into(),
                ..twice
            },
            route("default"),
        ],
        None,
    )
    .unwrap_err();
    assert!(err.1.contains("same conditions"), "{}", err.1);

    let err = Router::new(
        &[
            RouteFile {
                tags: Some(vec![]),
                ..route("none")
            },
            route("default"),
        ],
        None,
    )
    .unwrap_err();
    assert!(err.1.contains("empty list can never match"), "{}", err.1);

    let err = Router::new(
        &[RouteFile {
            severity: Some(vec![Severity::Low]),
            ..route("low")
        }],
        None,
    )
    .unwrap_err();
    assert_eq!(err.0, "routes");
    assert!(err.1.contains("a default route is required"));

    let err = Router::new(
        &[RouteFile {
            owner: Some("codeowners".into()),
            ..route("x")
        }],
        None,
    )
    .unwrap_err();
    assert_eq!(err.0, "routes[0].owner");

    let err = Router::new(
        &[
            RouteFile {
                asset: Some(vec!["a[".into()]),
                ..route("bad")
            },
            route("d"),
        ],
        None,
    )
    .unwrap_err();
    assert_eq!(err.0, "routes[0].asset");
}

#[test]
fn location_paths_drop_line_and_column() {
    assert_eq!(location_path("src/db.py:42"), "src/db.py");
    assert_eq!(location_path("src/db.py:42:7"), "src/db.py");
    assert_eq!(
        location_path("package-lock.json semver"),
        "package-lock.json"
    );
    assert_eq!(location_path("C:/x.rs"), "C:/x.rs");
    assert_eq!(location_path(""), "");
}

#[test]
fn no_rules_route_nowhere() {
    let r = Router::default();
    assert!(r.is_empty());
    assert!(r.problems().is_empty());
    assert_eq!(
        r.route(&finding("x", Severity::Low, "a", "", &[])).route,
        None
    );
}
