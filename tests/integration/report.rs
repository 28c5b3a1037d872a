//! `edgegate report`: JUnit checked against a JUnit XSD and parsed back, Markdown and JUnit
//! snapshots, and the sticky comment against fake GitHub and GitLab APIs on 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, put};
use edgegate::report::markdown::{self, Budget, MarkdownOptions};
use edgegate::report::{junit, load_results};
use edgegate::results::Results;
use serde_json::{Value, json};

use crate::support::{Run, Sandbox, repo};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/results").join(name)
}

fn load(name: &str) -> Results {
    load_results(&fixture(name)).expect("fixture parses")
}

fn redact_junit(xml: &str) -> String {
    let time = regex::Regex::new(r#"time="[0-9.]+""#).expect("regex");
    let ts = regex::Regex::new(r#"timestamp="[^"]+""#).expect("regex");
    ts.replace_all(
        &time.replace_all(xml, r#"time="[time]""#),
        r#"timestamp="[timestamp]""#,
    )
    .into_owned()
}

fn redact_markdown(md: &str) -> String {
    let dur = regex::Regex::new(r"\| [0-9.]+ s \|").expect("regex");
    dur.replace_all(md, "| [time] |").into_owned()
}

fn full_markdown(r: &Results) -> String {
    markdown::render(
        r,
        &MarkdownOptions {
            template: None,
            budget: None,
            full_report: "The full report is `edgegate-results.json` in the CI run's artifacts."
                .into(),
        },
    )
    .expect("renders")
    .body
}

#[test]
fn junit_snapshots() {
    for name in ["passing", "failing", "erroring"] {
        let xml = junit::render(&load(&format!("{name}.json"))).expect("renders");
        insta::assert_snapshot!(format!("report_junit_{name}"), redact_junit(&xml));
    }
}

#[test]
fn markdown_snapshots() {
    for name in ["passing", "failing", "erroring"] {
        let md = full_markdown(&load(&format!("{name}.json")));
        insta::assert_snapshot!(format!("report_markdown_{name}"), redact_markdown(&md));
    }
}

#[test]
fn junit_is_valid_against_the_xsd_and_parses_back() {
    let xsd = Xsd::load(&repo().join("tests/fixtures/junit/junit.xsd"));
    for name in ["passing", "failing", "erroring", "passing-with-misses"] {
        let results = load(&format!("{name}.json"));
        let xml = junit::render(&results).expect("renders");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let problems = xsd.validate(&doc);
        assert!(problems.is_empty(), "{name}: {problems:#?}\n{xml}");

        let report = quick_junit::Report::deserialize_from_str(&xml).expect("quick-junit parses");
        assert_eq!(report.test_suites.len(), results.devices.len());
        let mut seen = BTreeSet::new();
        for (suite, device) in report.test_suites.iter().zip(&results.devices) {
            assert_eq!(
                suite.name.as_str(),
                format!("{}/{}", results.pipeline, device.name)
            );
            assert_eq!(
                suite.test_cases.len(),
                1 + device.gates.len() + device.cases.len(),
                "a testcase per device run, gate and case"
            );
            for tc in &suite.test_cases {
                let classname = tc.classname.as_ref().expect("classname").as_str();
                assert!(classname.starts_with("edgegate.Production_Gate_-_RB5."));
                assert_eq!(classname.matches('.').count(), 2, "{classname}");
                assert!(
                    seen.insert((classname.to_string(), tc.name.as_str().to_string())),
                    "duplicate (classname, name): {classname} {}",
                    tc.name.as_str()
                );
            }
            let failures = suite.failures;
            let gates_failed = device
                .gates
                .iter()
                .filter(|g| g.status == edgegate::results::GateStatus::Failed)
                .count();
            assert_eq!(
                failures, gates_failed,
                "only failed gates are failures: {name}/{}",
                device.name
            );
        }
    }
}

/// The `<failure>`/`<error>` test cases of a JUnit file, as (testcase name, element).
fn non_successes(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).expect("xml");
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .flat_map(|tc| {
            tc.children()
                .filter(|c| c.has_tag_name("failure") || c.has_tag_name("error"))
                .map(move |c| {
                    (
                        tc.attribute("name").unwrap_or_default().to_string(),
                        c.tag_name().name().to_string(),
                    )
                })
        })
        .collect()
}

#[test]
fn junit_is_red_exactly_when_the_gate_is() {
    // Passing run whose accuracy gate allows the cases that missed: no failure, no error,
    // the misses in the cases' system-out and properties.
    let results = load("passing-with-misses.json");
    assert!(results.summary.cases_failed > 0);
    let xml = junit::render(&results).expect("renders");
    assert_eq!(non_successes(&xml), vec![], "{xml}");
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    let dog = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("case:dog"))
        .expect("case:dog");
    let out = dog
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .and_then(|c| c.text())
        .expect("system-out");
    assert!(out.contains("missed: expected label 207 in top 5"), "{out}");
    assert!(out.contains("does not fail the run"), "{out}");
    assert!(
        dog.descendants().any(|p| p.has_tag_name("property")
            && p.attribute("name") == Some("case.status")
            && p.attribute("value") == Some("failed")),
        "{xml}"
    );

    // Failing run: the gates that failed are the failures, the case that missed is not; the
    // accuracy gate lists it.
    let xml = junit::render(&load("failing.json")).expect("renders");
    let red = non_successes(&xml);
    assert!(!red.is_empty());
    assert!(
        red.iter()
            .all(|(name, kind)| name.starts_with("gate:") && kind == "failure"),
        "{red:?}"
    );
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    let accuracy = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .find(|n| {
            n.attribute("name")
                .is_some_and(|a| a.starts_with("gate:accuracy"))
        })
        .and_then(|tc| tc.children().find(|c| c.has_tag_name("failure")))
        .and_then(|f| f.text())
        .expect("the accuracy gate's failure");
    assert!(accuracy.contains("missed cases (1):"), "{accuracy}");
}

#[test]
fn junit_property_names_are_unique_per_testcase_and_suites_named_pipeline_slash_device() {
    for name in ["passing", "failing", "erroring", "passing-with-misses"] {
        let results = load(&format!("{name}.json"));
        let xml = junit::render(&results).expect("renders");
        let doc = roxmltree::Document::parse(&xml).expect("xml");
        assert!(
            doc.descendants()
                .filter(|n| n.has_tag_name("testsuite"))
                .all(|s| !s.children().any(|c| c.has_tag_name("properties"))),
            "{name}: no suite-level properties (xunitparser merges them across suites)"
        );
        for props in doc.descendants().filter(|n| n.has_tag_name("properties")) {
            let names: Vec<&str> = props
                .children()
                .filter(|p| p.has_tag_name("property"))
                .filter_map(|p| p.attribute("name"))
                .collect();
            let unique: BTreeSet<&str> = names.iter().copied().collect();
            assert_eq!(unique.len(), names.len(), "{name}: {names:?}");
        }
        let suites: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        let expected: Vec<String> = results
            .devices
            .iter()
            .map(|d| format!("{}/{}", results.pipeline, d.name))
            .collect();
        assert_eq!(suites, expected, "{name}");
    }
    let xml = junit::render(&load("passing-with-misses.json")).expect("renders");
    for p in ["job.local.id", "job.local.2.id", "job.local.3.id"] {
        assert!(xml.contains(&format!("name=\"{p}\"")), "{p}: {xml}");
    }
}

#[test]
fn failed_gate_message_states_actual_operator_threshold_baseline_and_delta() {
    let xml = junit::render(&load("failing.json")).expect("renders");
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    let failure = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .find(|n| n.attribute("name") == Some("gate:inference_time_ms <= 150"))
        .and_then(|tc| tc.children().find(|c| c.has_tag_name("failure")))
        .expect("a failure on the latency gate");
    assert_eq!(failure.attribute("type"), Some("gate.threshold"));
    assert_eq!(
        failure.attribute("message"),
        Some("inference_time_ms 171.2 ms, must be ≤ 150 ms (baseline 142 ms, Δ +29.2 ms (+20.6%))")
    );

    let xml = junit::render(&load("erroring.json")).expect("renders");
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    let errors: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("error"))
        .map(|n| n.attribute("type").unwrap_or_default().to_string())
        .collect();
    assert!(
        errors.contains(&"infra.device_error".to_string()),
        "{errors:?}"
    );
    assert_eq!(errors.iter().filter(|t| *t == "gate.unmeasured").count(), 3);
    assert!(
        !xml.contains("<failure"),
        "an unmeasured gate is an error, never a failure"
    );
    assert!(xml.contains("https://app.aihub.qualcomm.com/jobs/jp9/"));
}

#[test]
fn report_command_writes_files_and_exits_with_the_verdict() {
    let sb = Sandbox::new();
    for (name, code) in [("passing", 0), ("failing", 1), ("erroring", 3)] {
        let run = report_cmd(
            sb.path(),
            &[
                "--results",
                fixture(&format!("{name}.json")).to_str().expect("utf8"),
                "--junit",
                "out/junit.xml",
                "--markdown",
                "out/report.md",
            ],
            &[],
        );
        run.code(code);
        assert!(sb.path().join("out/junit.xml").exists());
        let md = std::fs::read_to_string(sb.path().join("out/report.md")).expect("markdown");
        assert!(md.starts_with("### "), "{md}");
    }
    let zero = report_cmd(
        sb.path(),
        &[
            "--results",
            fixture("failing.json").to_str().expect("utf8"),
            "--exit-zero",
        ],
        &[],
    );
    zero.code(0);
}

#[test]
fn broken_or_missing_results_exit_2_with_a_clear_error() {
    let sb = Sandbox::new();
    let missing = report_cmd(sb.path(), &["--results", "nope.json"], &[]);
    missing.code(2);
    assert!(
        missing
            .stderr
            .contains("failed to read results file nope.json"),
        "{}",
        missing.stderr
    );
    sb.write("broken.json", "{\"results_version\": 1, \"pipeline\": ");
    let broken = report_cmd(sb.path(), &["--results", "broken.json"], &[]);
    broken.code(2);
    assert!(
        broken
            .stderr
            .contains("broken.json is not a valid EdgeGate results file"),
        "{}",
        broken.stderr
    );
    sb.write("future.json", "{\"results_version\": 99}");
    let future = report_cmd(sb.path(), &["--results", "future.json"], &[]);
    future.code(2);
    assert!(
        future.stderr.contains("results_version 99"),
        "{}",
        future.stderr
    );
}

#[test]
fn user_template_replaces_the_shipped_one() {
    let sb = Sandbox::new();
    sb.write(
        "t.md.j2",
        "{{ icon }} {{ pipeline }}: {{ verdict }} ({{ results.devices | length }} devices)\n",
    );
    let run = report_cmd(
        sb.path(),
        &[
            "--results",
            fixture("failing.json").to_str().expect("utf8"),
            "--template",
            "t.md.j2",
            "--markdown",
            "r.md",
        ],
        &[],
    );
    run.code(1);
    let md = std::fs::read_to_string(sb.path().join("r.md")).expect("md");
    assert_eq!(md, "❌ Production Gate - RB5: failed (2 devices)\n");

    sb.write("bad.md.j2", "{% if %}");
    let bad = report_cmd(
        sb.path(),
        &[
            "--results",
            fixture("failing.json").to_str().expect("utf8"),
            "--template",
            "bad.md.j2",
        ],
        &[],
    );
    bad.code(2);
    assert!(
        bad.stderr.contains("failed to render template --template"),
        "{}",
        bad.stderr
    );
}

#[test]
fn markdown_budget_truncates_with_a_note_and_keeps_the_verdict() {
    let big = big_results();
    let r: Results = serde_json::from_value(big).expect("results");
    let out = markdown::render(
        &r,
        &MarkdownOptions {
            template: None,
            budget: Some(Budget::comment(100)),
            full_report: "The full report is `edgegate-results.json`.".into(),
        },
    )
    .expect("renders");
    assert!(out.truncated);
    assert!(out.body.chars().count() < markdown::GITHUB_COMMENT_MAX_CHARS - 100);
    assert!(out.body.contains("**Failed**"));
    assert!(out.body.contains("truncated"));
    assert!(out.body.contains("more not shown"));
}

// ---------------------------------------------------------------- fake GitHub

#[derive(Default)]
struct Gh {
    comments: Vec<(u64, String)>,
    next_id: u64,
    forbidden: bool,
    base: String,
    list_pages: usize,
}

type GhState = Arc<Mutex<Gh>>;

const TOKEN: &str = "test-token-123";

fn comment_json(base: &str, id: u64, body: &str) -> Value {
    let u = "http://127.0.0.1/u";
    json!({
        "id": id, "node_id": format!("C{id}"),
        "url": format!("{base}/repos/acme/vision/issues/comments/{id}"),
        "html_url": format!("http://127.0.0.1/acme/vision/pull/7#issuecomment-{id}"),
        "body": body,
        "user": {"login": "bot", "id": 1, "node_id": "U1", "avatar_url": u, "gravatar_id": "",
            "url": u, "html_url": u, "followers_url": u, "following_url": u, "gists_url": u,
            "starred_url": u, "subscriptions_url": u, "organizations_url": u, "repos_url": u,
            "events_url": u, "received_events_url": u, "type": "Bot", "site_admin": false,
            "name": null, "patch_url": null},
        "created_at": "2026-11-25T22:00:00Z", "updated_at": "2026-11-25T22:00:00Z"
    })
}

fn gh_auth(h: &HeaderMap, st: &Gh) -> Option<Response> {
    let ok = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.ends_with(TOKEN));
    if !ok {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Bad credentials"})),
            )
                .into_response(),
        );
    }
    if st.forbidden {
        return Some(
            (
                StatusCode::FORBIDDEN,
                Json(json!({"message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest"})),
            )
                .into_response(),
        );
    }
    None
}

async fn gh_list(
    State(s): State<GhState>,
    h: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("lock");
    if let Some(r) = gh_auth(&h, &st) {
        return r;
    }
    st.list_pages += 1;
    let per_page: usize = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .min(100);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = st
        .comments
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(id, b)| comment_json(&st.base, *id, b))
        .collect();
    let mut headers = HeaderMap::new();
    if page * per_page < st.comments.len() {
        let link = format!(
            "<{}/repos/acme/vision/issues/7/comments?per_page={per_page}&page={}>; rel=\"next\"",
            st.base,
            page + 1
        );
        headers.insert("link", link.parse().expect("header"));
    }
    (headers, Json(Value::Array(items))).into_response()
}

async fn gh_create(State(s): State<GhState>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    let mut st = s.lock().expect("lock");
    if let Some(r) = gh_auth(&h, &st) {
        return r;
    }
    let body = b["body"].as_str().unwrap_or_default().to_string();
    if body.chars().count() > 65_536 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "body is too long"})),
        )
            .into_response();
    }
    st.next_id += 1;
    let id = st.next_id;
    st.comments.push((id, body.clone()));
    (StatusCode::CREATED, Json(comment_json(&st.base, id, &body))).into_response()
}

async fn gh_update(
    State(s): State<GhState>,
    h: HeaderMap,
    UrlPath(id): UrlPath<u64>,
    Json(b): Json<Value>,
) -> Response {
    let mut st = s.lock().expect("lock");
    if let Some(r) = gh_auth(&h, &st) {
        return r;
    }
    let body = b["body"].as_str().unwrap_or_default().to_string();
    if body.chars().count() > 65_536 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "body is too long"})),
        )
            .into_response();
    }
    let base = st.base.clone();
    match st.comments.iter_mut().find(|(i, _)| *i == id) {
        Some(c) => {
            c.1 = body.clone();
            Json(comment_json(&base, id, &body)).into_response()
        }
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response(),
    }
}

fn fake_github(seeded: usize, forbidden: bool) -> (String, GhState) {
    let state: GhState = Arc::new(Mutex::new(Gh {
        comments: (1..=seeded as u64)
            .map(|i| (i, format!("LGTM, comment {i}")))
            .collect(),
        next_id: seeded as u64,
        forbidden,
        ..Gh::default()
    }));
    let app = axum::Router::new()
        .route(
            "/api/v3/repos/acme/vision/issues/7/comments",
            get(gh_list).post(gh_create),
        )
        .route(
            "/api/v3/repos/acme/vision/issues/comments/{id}",
            patch(gh_update).post(gh_update),
        )
        .with_state(state.clone());
    let addr = serve(app);
    let base = format!("http://{addr}/api/v3");
    state.lock().expect("lock").base = base.clone();
    (base, state)
}

fn serve(app: axum::Router) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            let _ = axum::serve(listener, app).await;
        });
    });
    rx.recv().expect("server address")
}

fn github_env(sb: &Sandbox, api: &str) -> Vec<(&'static str, String)> {
    let event = sb.write(
        "event.json",
        json!({"pull_request": {"number": 7,
            "head": {"repo": {"full_name": "acme/vision"}},
            "base": {"repo": {"full_name": "acme/vision"}}}})
        .to_string(),
    );
    vec![
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_API_URL", api.into()),
        ("GITHUB_TOKEN", TOKEN.into()),
        ("GITHUB_REPOSITORY", "acme/vision".into()),
        ("GITHUB_EVENT_NAME", "pull_request".into()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        (
            "GITHUB_STEP_SUMMARY",
            sb.path().join("summary.md").display().to_string(),
        ),
    ]
}

fn report_cmd(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_edgegate"))
        .arg("report")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run edgegate");
    Run::from(out)
}

fn sticky(comments: &[(u64, String)]) -> Vec<&(u64, String)> {
    comments
        .iter()
        .filter(|(_, b)| b.contains("<!-- edgegate:Production Gate - RB5 -->"))
        .collect()
}

#[test]
fn github_three_reports_leave_one_comment_with_the_latest_body_and_a_step_summary() {
    let (api, state) = fake_github(130, false);
    let sb = Sandbox::new();
    let env = github_env(&sb, &api);
    for (name, code) in [("passing", 0), ("failing", 1), ("erroring", 3)] {
        let run = report_cmd(
            sb.path(),
            &[
                "--results",
                fixture(&format!("{name}.json")).to_str().expect("utf8"),
            ],
            &env,
        );
        run.code(code);
        assert!(
            run.stderr.contains("report comment on acme/vision PR #7"),
            "{}",
            run.stderr
        );
    }
    let st = state.lock().expect("lock");
    assert_eq!(
        st.comments.len(),
        131,
        "130 others + exactly one sticky comment"
    );
    let mine = sticky(&st.comments);
    assert_eq!(mine.len(), 1);
    assert!(
        mine[0].1.contains("**Could not complete**"),
        "{}",
        mine[0].1
    );
    assert!(mine[0].1.contains("<!-- edgegate-run:1003 -->"));
    assert!(st.list_pages >= 6, "every report paged through both pages");

    let summary = std::fs::read_to_string(sb.path().join("summary.md")).expect("step summary");
    assert!(summary.contains("**Passed**"));
    assert!(summary.contains("**Failed**"));
    assert!(summary.contains("**Could not complete**"));
}

#[test]
fn github_huge_results_give_a_truncated_comment_under_the_limit() {
    let (api, state) = fake_github(3, false);
    let sb = Sandbox::new();
    let path = sb.write(
        "big.json",
        serde_json::to_string_pretty(&big_results()).expect("json"),
    );
    let size = std::fs::metadata(&path).expect("size").len();
    assert!(size > 280_000, "results file is {size} bytes");
    let env = github_env(&sb, &api);
    let run = report_cmd(sb.path(), &["--results", "big.json"], &env);
    run.code(1);
    assert!(run.stderr.contains("truncated"), "{}", run.stderr);
    let st = state.lock().expect("lock");
    let mine = sticky(&st.comments);
    assert_eq!(mine.len(), 1);
    let body = &mine[0].1;
    assert!(
        body.chars().count() <= 65_536,
        "{} chars",
        body.chars().count()
    );
    assert!(body.contains("This report was truncated"));
    assert!(body.contains("`big.json`"));
    assert!(body.contains("**Failed**"));
}

#[test]
fn github_403_explains_the_permission_and_keeps_the_exit_code() {
    let (api, state) = fake_github(0, true);
    let sb = Sandbox::new();
    let env = github_env(&sb, &api);
    for (name, code) in [("failing", 1), ("passing", 0)] {
        let run = report_cmd(
            sb.path(),
            &[
                "--results",
                fixture(&format!("{name}.json")).to_str().expect("utf8"),
                "--comment",
                "github",
            ],
            &env,
        );
        run.code(code);
        assert!(
            run.stderr.contains("permissions: pull-requests: write"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("workflow_run"), "{}", run.stderr);
        assert!(!run.stderr.contains(TOKEN), "the token is never printed");
    }
    assert!(state.lock().expect("lock").comments.is_empty());
}

// ---------------------------------------------------------------- fake GitLab

#[derive(Default)]
struct Gl {
    notes: Vec<(u64, String)>,
    next_id: u64,
}

type GlState = Arc<Mutex<Gl>>;

fn gl_auth(h: &HeaderMap) -> Option<Response> {
    if h.get("private-token").and_then(|v| v.to_str().ok()) == Some(TOKEN) {
        None
    } else {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "401 Unauthorized"})),
            )
                .into_response(),
        )
    }
}

async fn gl_list(
    State(s): State<GlState>,
    h: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(r) = gl_auth(&h) {
        return r;
    }
    let st = s.lock().expect("lock");
    let per_page: usize = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .min(100);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = st
        .notes
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(id, b)| json!({"id": id, "body": b, "system": false}))
        .collect();
    let mut headers = HeaderMap::new();
    let next = if page * per_page < st.notes.len() {
        (page + 1).to_string()
    } else {
        String::new()
    };
    headers.insert("x-next-page", next.parse().expect("header"));
    (headers, Json(Value::Array(items))).into_response()
}

async fn gl_create(State(s): State<GlState>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    if let Some(r) = gl_auth(&h) {
        return r;
    }
    let mut st = s.lock().expect("lock");
    st.next_id += 1;
    let id = st.next_id;
    let body = b["body"].as_str().unwrap_or_default().to_string();
    st.notes.push((id, body.clone()));
    (StatusCode::CREATED, Json(json!({"id": id, "body": body}))).into_response()
}

async fn gl_update(
    State(s): State<GlState>,
    h: HeaderMap,
    UrlPath(id): UrlPath<u64>,
    Json(b): Json<Value>,
) -> Response {
    if let Some(r) = gl_auth(&h) {
        return r;
    }
    let mut st = s.lock().expect("lock");
    let body = b["body"].as_str().unwrap_or_default().to_string();
    match st.notes.iter_mut().find(|(i, _)| *i == id) {
        Some(n) => {
            n.1 = body.clone();
            Json(json!({"id": id, "body": body})).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "404 Not found"})),
        )
            .into_response(),
    }
}

#[test]
fn gitlab_note_is_upserted_and_an_older_pipeline_never_overwrites_a_newer_one() {
    let state: GlState = Arc::new(Mutex::new(Gl {
        notes: (1..=150).map(|i| (i, format!("note {i}"))).collect(),
        next_id: 150,
    }));
    let app = axum::Router::new()
        .route(
            "/api/v4/projects/42/merge_requests/5/notes",
            get(gl_list).post(gl_create),
        )
        .route(
            "/api/v4/projects/42/merge_requests/5/notes/{id}",
            put(gl_update),
        )
        .with_state(state.clone());
    let addr = serve(app);
    let sb = Sandbox::new();
    let env = vec![
        ("GITLAB_CI", "true".to_string()),
        ("CI_API_V4_URL", format!("http://{addr}/api/v4")),
        ("CI_PROJECT_ID", "42".into()),
        ("CI_MERGE_REQUEST_IID", "5".into()),
        ("GITLAB_TOKEN", TOKEN.into()),
    ];
    let run = |name: &str| {
        report_cmd(
            sb.path(),
            &["--results", fixture(name).to_str().expect("utf8")],
            &env,
        )
    };

    let first = run("failing.json");
    first.code(1);
    assert!(
        first
            .stderr
            .contains("posted the report comment on merge request !5"),
        "{}",
        first.stderr
    );
    let second = run("erroring.json");
    second.code(3);
    assert!(
        second.stderr.contains("updated the report comment"),
        "{}",
        second.stderr
    );
    let older = run("passing.json");
    older.code(0);
    assert!(
        older.stderr.contains("written by a newer run (1003)"),
        "{}",
        older.stderr
    );

    let st = state.lock().expect("lock");
    assert_eq!(st.notes.len(), 151);
    let mine = sticky(&st.notes);
    assert_eq!(mine.len(), 1);
    assert!(mine[0].1.contains("<!-- edgegate-run:1003 -->"));
    assert!(mine[0].1.contains("**Could not complete**"));
    drop(st);

    let mut bad_env = env.clone();
    bad_env.retain(|(k, _)| *k != "GITLAB_TOKEN");
    bad_env.push(("GITLAB_TOKEN", "wrong".into()));
    let denied = report_cmd(
        sb.path(),
        &["--results", fixture("failing.json").to_str().expect("utf8")],
        &bad_env,
    );
    denied.code(1);
    assert!(
        denied.stderr.contains("CI_JOB_TOKEN cannot"),
        "{}",
        denied.stderr
    );
}

// ---------------------------------------------------------------- big results

fn big_results() -> Value {
    let text = std::fs::read_to_string(fixture("failing.json")).expect("fixture");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    let cases = v["devices"][0]["cases"].as_array_mut().expect("cases");
    for i in 0..1200 {
        cases.push(json!({
            "case_id": format!("case_{i:04}"),
            "name": format!("generated case {i}"),
            "expected_type": "contains",
            "expected": format!("contains \"answer {i}\""),
            "actual": format!("{} | unexpected answer {i}", "the model rambled on ".repeat(8)),
            "status": "failed",
            "reason": "the expected text is missing"
        }));
    }
    v["summary"]["cases_failed"] = json!(1201);
    v
}

// ---------------------------------------------------------------- a small XSD checker

/// The subset of XSD our schema uses: top-level elements, `ref`s in sequences and choices,
/// attributes with `use` and simple types, simple content.
struct Xsd {
    elements: BTreeMap<String, Decl>,
}

#[derive(Default, Debug)]
struct Decl {
    attrs: BTreeMap<String, (String, bool)>,
    children: BTreeMap<String, (usize, Option<usize>)>,
    choices: Vec<Vec<String>>,
    text: bool,
}

impl Xsd {
    fn load(path: &Path) -> Xsd {
        let text = std::fs::read_to_string(path).expect("xsd");
        let doc = roxmltree::Document::parse(&text).expect("xsd parses");
        let mut elements = BTreeMap::new();
        for el in doc
            .root_element()
            .children()
            .filter(|n| n.has_tag_name("element"))
        {
            let name = el.attribute("name").expect("named").to_string();
            let mut d = Decl::default();
            if el.attribute("type") == Some("xs:string") {
                d.text = true;
            }
            for n in el.descendants() {
                match n.tag_name().name() {
                    "simpleContent" => d.text = true,
                    "attribute" => {
                        d.attrs.insert(
                            n.attribute("name").expect("attr name").into(),
                            (
                                n.attribute("type").unwrap_or("xs:string").into(),
                                n.attribute("use") == Some("required"),
                            ),
                        );
                    }
                    "element" if n.attribute("ref").is_some() => {
                        let min = n
                            .attribute("minOccurs")
                            .map_or(1, |v| v.parse().expect("min"));
                        let max = match n.attribute("maxOccurs") {
                            Some("unbounded") => None,
                            Some(v) => Some(v.parse().expect("max")),
                            None => Some(1),
                        };
                        d.children
                            .insert(n.attribute("ref").expect("ref").into(), (min, max));
                    }
                    "choice" => d.choices.push(
                        n.children()
                            .filter_map(|c| c.attribute("ref").map(String::from))
                            .collect(),
                    ),
                    _ => {}
                }
            }
            elements.insert(name, d);
        }
        Xsd { elements }
    }

    fn validate(&self, doc: &roxmltree::Document<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        let root = doc.root_element();
        if root.tag_name().name() != "testsuites" {
            problems.push(format!("root is <{}>", root.tag_name().name()));
        }
        self.check(root, &mut problems);
        problems
    }

    fn check(&self, node: roxmltree::Node<'_, '_>, problems: &mut Vec<String>) {
        let name = node.tag_name().name();
        let Some(decl) = self.elements.get(name) else {
            problems.push(format!("<{name}> is not declared"));
            return;
        };
        for a in node.attributes() {
            match decl.attrs.get(a.name()) {
                None => problems.push(format!("<{name}> has undeclared attribute {}", a.name())),
                Some((ty, _)) if !type_ok(ty, a.value()) => problems.push(format!(
                    "<{name} {}=\"{}\"> is not {ty}",
                    a.name(),
                    a.value()
                )),
                _ => {}
            }
        }
        for (attr, (_, required)) in &decl.attrs {
            if *required && node.attribute(attr.as_str()).is_none() {
                problems.push(format!("<{name}> lacks required attribute {attr}"));
            }
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for c in node.children() {
            if c.is_element() {
                let cname = c.tag_name().name();
                if !decl.children.contains_key(cname) {
                    problems.push(format!("<{cname}> is not allowed in <{name}>"));
                }
                *counts.entry(cname).or_default() += 1;
                self.check(c, problems);
            } else if c.is_text() && !decl.text && !c.text().unwrap_or("").trim().is_empty() {
                problems.push(format!("<{name}> may not contain text"));
            }
        }
        for (child, (min, max)) in &decl.children {
            let n = counts.get(child.as_str()).copied().unwrap_or(0);
            let in_choice = decl.choices.iter().any(|c| c.contains(child));
            if n < *min && !in_choice {
                problems.push(format!("<{name}> needs at least {min} <{child}>"));
            }
            if max.is_some_and(|m| n > m) {
                problems.push(format!("<{name}> has {n} <{child}>, at most {max:?}"));
            }
        }
        for choice in &decl.choices {
            let n: usize = choice
                .iter()
                .map(|c| counts.get(c.as_str()).copied().unwrap_or(0))
                .sum();
            if n > 1 {
                problems.push(format!("<{name}> has {n} of {choice:?}, at most one"));
            }
        }
    }
}

fn type_ok(ty: &str, v: &str) -> bool {
    match ty {
        "xs:nonNegativeInteger" => v.parse::<u64>().is_ok(),
        "xs:decimal" => v.parse::<f64>().is_ok_and(f64::is_finite) && !v.contains(['e', 'E']),
        "xs:dateTime" => chrono::DateTime::parse_from_rfc3339(v).is_ok(),
        _ => true,
    }
}

#[test]
fn the_xsd_checker_rejects_what_consumers_reject() {
    let xsd = Xsd::load(&repo().join("tests/fixtures/junit/junit.xsd"));
    let bad = r#"<testsuites><testsuite name="a" tests="x"><testcase name="n"><failure/><error/></testcase><bogus/></testsuite></testsuites>"#;
    let doc = roxmltree::Document::parse(bad).expect("xml");
    let problems = xsd.validate(&doc).join("\n");
    assert!(
        problems.contains("tests=\"x\"> is not xs:nonNegativeInteger"),
        "{problems}"
    );
    assert!(
        problems.contains("lacks required attribute classname"),
        "{problems}"
    );
    assert!(problems.contains("at most one"), "{problems}");
    assert!(problems.contains("<bogus> is not allowed"), "{problems}");
}

// ---------------------------------------------------------------- action.yml and CI examples

fn yaml(path: &Path) -> (String, Value) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (text, value)
}

fn action_inputs() -> BTreeSet<String> {
    let (_, action) = yaml(&repo().join("action.yml"));
    action["inputs"]
        .as_object()
        .expect("inputs")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn action_yml_is_a_valid_composite_action_using_only_declared_inputs() {
    let (text, action) = yaml(&repo().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action_inputs();
    for needed in ["config", "model", "baseline", "comment", "junit", "token"] {
        assert!(inputs.contains(needed), "input {needed} is missing");
    }
    for out in ["verdict", "results"] {
        assert!(action["outputs"][out]["value"].is_string(), "output {out}");
    }
    let used = regex::Regex::new(r"inputs\.([A-Za-z0-9_-]+)").expect("regex");
    for cap in used.captures_iter(&text) {
        assert!(
            inputs.contains(&cap[1]),
            "inputs.{} is used but not declared",
            &cap[1]
        );
    }
    let steps = action["runs"]["steps"].as_array().expect("steps");
    let ids: BTreeSet<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    let step_ref = regex::Regex::new(r"steps\.([A-Za-z0-9_-]+)\.outputs").expect("regex");
    for cap in step_ref.captures_iter(&text) {
        assert!(ids.contains(&cap[1]), "steps.{} is not a step id", &cap[1]);
    }
    for step in steps {
        if step.get("run").is_some() {
            assert!(
                step["shell"].is_string(),
                "composite run steps need a shell: {step}"
            );
        }
    }
}

/// Every workflow in `examples/github/` (whatever its name), parsed.
fn github_examples() -> Vec<(PathBuf, String, Value)> {
    let dir = repo().join("examples/github");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/github")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
        .into_iter()
        .map(|f| {
            let (text, wf) = yaml(&f);
            (f, text, wf)
        })
        .collect()
}

#[test]
fn github_examples_parse_and_pass_only_declared_inputs() {
    let inputs = action_inputs();
    let step_ref = regex::Regex::new(r"steps\.([A-Za-z0-9_-]+)\.outputs").expect("regex");
    let mut triggers = BTreeSet::new();
    for (f, text, wf) in github_examples() {
        let f = f.display();
        assert!(wf["name"].is_string(), "{f}: a workflow name");
        for t in wf["on"].as_object().expect("on").keys() {
            triggers.insert(t.clone());
        }
        let mut ids = BTreeSet::new();
        for (name, job) in wf["jobs"].as_object().expect("jobs") {
            assert!(job["runs-on"].is_string(), "{f}: job {name} has runs-on");
            let steps = job["steps"].as_array().expect("steps");
            ids.extend(steps.iter().filter_map(|s| s["id"].as_str()));
            for step in steps {
                assert!(
                    step["uses"].is_string() ^ step["run"].is_string(),
                    "{f}: a step has either uses or run: {step}"
                );
                if step["uses"]
                    .as_str()
                    .is_some_and(|u| u.contains("/edgegate@"))
                {
                    for key in step["with"].as_object().expect("with").keys() {
                        assert!(inputs.contains(key), "{f}: input {key} is not declared");
                    }
                }
            }
        }
        for cap in step_ref.captures_iter(&text) {
            assert!(
                ids.contains(&cap[1]),
                "{f}: steps.{} is not a step id",
                &cap[1]
            );
        }
    }
    assert!(triggers.contains("pull_request"));
    assert!(triggers.contains("workflow_run"), "the fork-safe pair");
    assert!(
        triggers.contains("push"),
        "the default branch keeps a baseline"
    );
}

/// The workflows that run the gate on pull requests also run it on pushes to the default branch,
/// keep its results as `edgegate-baseline`, and pass the newest one as `baseline`; a missing
/// baseline leaves the input empty (relative gates then report "not measured").
#[test]
fn github_examples_keep_and_use_a_default_branch_baseline() {
    for name in ["edgegate.yml", "edgegate-fork-run.yml"] {
        let (text, wf) = yaml(&repo().join("examples/github").join(name));
        assert!(wf["on"]["push"]["branches"].is_array(), "{name}: push");
        assert!(wf["on"]["pull_request"].is_object() || wf["on"]["pull_request"].is_null());
        assert_eq!(wf["permissions"]["actions"], "read", "{name}");
        let steps = wf["jobs"]["gate"]["steps"].as_array().expect("steps");
        let find = |id: &str| {
            steps
                .iter()
                .find(|s| s["id"] == id)
                .unwrap_or_else(|| panic!("{name}: step {id}"))
        };
        let fetch = find("baseline")["run"].as_str().expect("run");
        assert!(fetch.contains("gh run list"), "{name}: {fetch}");
        assert!(fetch.contains("--event push"), "{name}: only push runs");
        assert!(fetch.contains("--name edgegate-baseline"), "{name}");
        assert!(fetch.contains("no baseline"), "{name}: says when none");
        assert!(fetch.contains("path=$found"), "{name}: empty when none");
        assert_eq!(
            find("edgegate")["with"]["baseline"],
            "${{ steps.baseline.outputs.path }}",
            "{name}"
        );
        let keep = steps
            .iter()
            .find(|s| s["with"]["name"] == "edgegate-baseline")
            .unwrap_or_else(|| panic!("{name}: the baseline upload"));
        let cond = keep["if"].as_str().expect("if");
        assert!(
            cond.contains("always()"),
            "{name}: kept after a failed gate"
        );
        assert!(cond.contains("github.event_name == 'push'"), "{name}");
        assert_eq!(keep["with"]["path"], "edgegate-results.json");
        assert_eq!(keep["with"]["retention-days"], 90);
        assert!(!text.contains("cargo "), "{name}");
    }
}

#[test]
fn gitlab_example_publishes_junit_always_and_comments_from_a_separate_job() {
    let (text, ci) = yaml(&repo().join("examples/gitlab/.gitlab-ci.yml"));
    let jobs = ci.as_object().expect("jobs");
    let keywords = ["stages", "variables", "default", "workflow", "include"];
    let real: Vec<&String> = jobs
        .keys()
        .filter(|k| !k.starts_with('.') && !keywords.contains(&k.as_str()))
        .collect();
    assert!(real.len() >= 4, "{real:?}");
    // Resolves `extends` (one or more levels) the way GitLab merges hashes.
    fn resolved(jobs: &serde_json::Map<String, Value>, name: &str) -> Value {
        let job = &jobs[name];
        let mut out = match job["extends"].as_str() {
            Some(parent) => resolved(jobs, parent),
            None => Value::Object(Default::default()),
        };
        merge(&mut out, job);
        out
    }
    fn merge(into: &mut Value, from: &Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
            (slot, v) => *slot = v.clone(),
        }
    }
    let stages: Vec<&str> = ci["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in &real {
        let job = resolved(jobs, name);
        let script = &job["script"];
        assert!(
            script.as_array().is_some_and(|s| !s.is_empty()) || script.is_string(),
            "job {name} has a script: {job}"
        );
        let stage = job["stage"].as_str().unwrap_or("test");
        assert!(
            stage.starts_with('.') || stages.contains(&stage),
            "job {name}: stage {stage} is not in {stages:?}"
        );
        assert!(job["rules"].is_array(), "job {name} has rules");
        if !job["cache"].is_null() {
            assert_eq!(
                job["cache"]["when"], "always",
                "job {name}: {}",
                job["cache"]
            );
        }
        for need in job["needs"].as_array().into_iter().flatten() {
            let need = need["job"].as_str().or(need.as_str()).expect("needs job");
            assert!(jobs.contains_key(need), "job {name} needs {need}");
        }
    }
    let gate = resolved(jobs, "edgegate");
    assert_eq!(gate["artifacts"]["when"], "always");
    assert_eq!(gate["artifacts"]["reports"]["junit"], "edgegate-junit.xml");
    let gate_script = gate["script"].to_string();
    assert!(gate_script.contains("--baseline"), "{gate_script}");
    assert!(!gate_script.contains("GITLAB_TOKEN"));
    let report = resolved(jobs, "edgegate-report");
    let script = report["script"].to_string();
    assert!(script.contains("--comment gitlab"), "{script}");

    // Works outside this repository: the image or the installer, never a build.
    for banned in ["cargo ", "apt-get", "apt ", "scripts/setup.sh", "--path ."] {
        assert!(!text.contains(banned), "{banned:?} in the GitLab example");
    }
    assert_eq!(
        ci[".edgegate"]["image"]["entrypoint"],
        serde_json::json!([""])
    );
    assert!(
        text.contains("scripts/install.sh | sh -s -- --version"),
        "{text}"
    );
    assert!(
        text.contains("--to \"$CI_PROJECT_DIR/.edgegate-bin\""),
        "{text}"
    );
    assert!(text.contains("placeholder"), "{text}");
    // The token advice that lets merge requests from feature branches get a note.
    assert!(text.contains("\"Mask variable\" ON"), "{text}");
    assert!(text.contains("\"Protect variable\" OFF"), "{text}");
    assert!(!text.contains("protected+masked"), "{text}");

    // Baselines: the default branch keeps its results; merge requests fetch them.
    let main = resolved(jobs, "edgegate-default-branch");
    assert_eq!(
        main["rules"][0]["if"],
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
    );
    assert!(
        main["artifacts"]["paths"]
            .as_array()
            .expect("paths")
            .contains(&Value::from("edgegate-results.json"))
    );
    assert_eq!(main["allow_failure"]["exit_codes"], serde_json::json!([3]));
    assert_eq!(
        ci["variables"]["EDGEGATE_BASELINE_JOB"],
        "edgegate-default-branch"
    );
    let fetch = resolved(jobs, "edgegate-baseline")["script"].to_string();
    assert!(
        fetch.contains(
            "/jobs/artifacts/$ref_path/raw/edgegate-results.json?job=$EDGEGATE_BASELINE_JOB"
        ),
        "{fetch}"
    );
    assert!(fetch.contains("JOB-TOKEN: $CI_JOB_TOKEN"), "{fetch}");
    assert!(fetch.contains("--fail"), "{fetch}");
    assert!(fetch.contains("No baseline"), "{fetch}");
}

#[test]
fn report_help() {
    let sb = Sandbox::new();
    let run = report_cmd(sb.path(), &["--help"], &[]);
    run.code(0);
    insta::assert_snapshot!("report_help", run.stdout);
}
