//! `edgegate serve` end to end: the real binary on 127.0.0.1:0 with a temporary data dir, driven
//! over HTTP with reqwest as the consumer guide's clients do, against an in-process `hub-sim`.
//! Every test that stores something runs on both databases (`server_backend`): the embedded
//! SQLite file and PostgreSQL.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server_backend::{Backend, TestDb, on_both_databases};
use crate::support::repo;

pub(crate) const HUB_TOKEN: &str = "hubtok-SECRET-9f3e1c76ab";
const PASSWORD: &str = "correct horse battery";
/// An AI Hub URL on loopback where nothing listens, for servers whose runs must not reach out.
const NO_HUB: &str = "http://127.0.0.1:9";

pub(crate) fn master_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([42u8; 32])
}

/// A running `edgegate serve`, stopped with SIGTERM when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    log: Arc<Mutex<String>>,
}

pub(crate) fn serve_command(data_dir: &Path, hub_url: Option<&str>, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgegate"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env_clear()
        .env("EDGEGENAI_MASTER_KEY", master_key())
        .env("EDGEGATE_JWT_SECRET", "test-jwt-secret")
        .env("EDGEGATE_LOG", "info")
        .env("HOME", data_dir);
    if let Some(url) = hub_url {
        cmd.env("QAIHUB_API_URL", url);
    }
    cmd
}

impl Server {
    /// Starts a server on the test's database.
    pub(crate) fn start_on(
        db: &TestDb,
        data_dir: &Path,
        hub_url: Option<&str>,
        extra: &[&str],
    ) -> Self {
        let mut args = db.args();
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::start(data_dir, hub_url, &args)
    }

    pub(crate) fn start(data_dir: &Path, hub_url: Option<&str>, extra: &[&str]) -> Self {
        let mut child = serve_command(data_dir, hub_url, extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn edgegate serve");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.lock().expect("log").push_str(&line);
                line.clear();
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("first line");
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
        });
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "announces its url, got {first:?}; log: {}",
                    log.lock().expect("log")
                )
            })
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Self { child, url, log }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// SIGTERM, then wait for the process to exit.
    pub(crate) fn stop(&mut self) -> Option<i32> {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// A simulator on the test's runtime accepting only [`HUB_TOKEN`].
async fn start_hub() -> edgegate::sim::SimHandle {
    edgegate::sim::start(edgegate::sim::SimConfig {
        token: HUB_TOKEN.into(),
        ..edgegate::sim::SimConfig::default()
    })
    .await
    .expect("sim starts")
}

/// A client that remembers every response body, to check none leaks the AI Hub token.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Api {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_string(),
            token: None,
            seen: Arc::default(),
        }
    }

    fn as_user(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        self.seen.lock().expect("seen").push(text.clone());
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    pub(crate) async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.send(
            self.http
                .request(method, format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.json(reqwest::Method::POST, path, body).await
    }

    pub(crate) async fn upload(&self, ws: &str, bytes: Vec<u8>, kind: &str) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("model.onnx"),
            );
        self.send(
            self.http
                .post(format!("{}/v1/workspaces/{ws}/artifacts", self.base))
                .multipart(form),
        )
        .await
    }

    /// Registers and logs in with the guide's form; returns a client acting as that user.
    pub(crate) async fn sign_up(&self, email: &str) -> Api {
        let (s, user) = self
            .post(
                "/v1/auth/register",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{user}");
        assert!(user.get("password_hash").is_none() && user.get("password").is_none());
        let (s, token) = self
            .send(
                self.http
                    .post(format!("{}/v1/auth/login", self.base))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form_body(email)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{token}");
        assert_eq!(token["token_type"], "bearer");
        self.as_user(token["access_token"].as_str().expect("access_token"))
    }
}

pub(crate) fn guide_promptpack() -> Value {
    json!({
        "promptpack_id": "vision-qa",
        "version": "1.0.0",
        "content": {
            "promptpack_id": "vision-qa",
            "version": "1.0.0",
            "name": "Vision QA Suite",
            "cases": [{
                "case_id": "detect_object",
                "name": "Detect Robot",
                "prompt": "What is in this image?",
                "expected": {"type": "exact", "text": "robot"}
            }]
        }
    })
}

pub(crate) fn guide_pipeline() -> Value {
    json!({
        "name": "Production Gate - RB5",
        "promptpack_ref": {"promptpack_id": "vision-qa", "version": "1.0.0"},
        "device_matrix": [{"name": "RB5", "enabled": true}],
        "gates": [{"metric": "inference_time_ms", "operator": "lte", "threshold": 150.0}]
    })
}

pub(crate) fn model_bytes() -> Vec<u8> {
    std::fs::read(repo().join("examples/aihub/model.onnx")).expect("example model")
}

/// Polls `path` until `field` leaves the given in-progress values (bounded, not timed).
pub(crate) async fn poll_until_done(api: &Api, path: &str, busy: &[&str]) -> Value {
    for _ in 0..1200 {
        let (s, v) = api.get(path).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if !busy.contains(&v["status"].as_str().unwrap_or("")) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never finished");
}

/// A workspace with a published promptpack, a pipeline and an artifact; returns their ids.
pub(crate) async fn populated_workspace(a: &Api) -> (String, String, String) {
    let (s, ws) = a
        .post("/v1/workspaces", json!({"name": "Robotics Fleet A"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ws}");
    let ws = ws["id"].as_str().expect("id").to_string();
    let (s, pack) = a
        .post(
            &format!("/v1/workspaces/{ws}/promptpacks"),
            guide_promptpack(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pack}");
    let (s, _) = a
        .json(
            reqwest::Method::PUT,
            &format!("/v1/workspaces/{ws}/promptpacks/vision-qa/1.0.0/publish"),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, p) = a
        .post(&format!("/v1/workspaces/{ws}/pipelines"), guide_pipeline())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, art) = a.upload(&ws, model_bytes(), "onnx").await;
    assert_eq!(s, StatusCode::CREATED, "{art}");
    (
        ws,
        p["id"].as_str().expect("id").into(),
        art["id"].as_str().expect("id").into(),
    )
}

on_both_databases!(the_guide_flow_runs_against_hub_sim_and_never_shows_the_hub_token => super::guide_flow);

async fn guide_flow(backend: Backend) {
    let Some(db) = TestDb::create(backend, "the guide flow").await else {
        return;
    };
    let hub = start_hub().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_on(&db, dir.path(), Some(&hub.url()), &[]);
    let anon = Api::new(&server.url);
    let (s, health) = anon.get("/health").await;
    assert_eq!((s, health), (StatusCode::OK, json!({"status": "ok"})));
    let a = anon.sign_up("guide@example.com").await;
    let (s, me) = a.get("/v1/auth/me").await;
    assert_eq!(
        (s, me["email"].as_str()),
        (StatusCode::OK, Some("guide@example.com"))
    );

    let (s, ws) = a
        .post("/v1/workspaces", json!({"name": "Robotics Fleet A"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(ws["name"], "Robotics Fleet A");
    let ws = ws["id"].as_str().expect("id").to_string();

    let (s, probe) = a
        .post(
            &format!("/v1/workspaces/{ws}/capabilities/probe"),
            Value::Null,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FAILED_DEPENDENCY,
        "no integration yet: {probe}"
    );

    let (s, integ) = a
        .post(
            &format!("/v1/workspaces/{ws}/integrations/qaihub"),
            json!({"token": HUB_TOKEN}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{integ}");
    assert_eq!(integ["token_last4"], "76ab");
    assert_eq!(integ["status"], "active");

    let (s, task) = a
        .post(
            &format!("/v1/workspaces/{ws}/capabilities/probe"),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{task}");
    let task_id = task["task_id"].as_str().expect("task_id");
    let done = poll_until_done(
        &a,
        &format!("/v1/workspaces/{ws}/tasks/{task_id}"),
        &["queued", "running"],
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let devices = done["result"]["devices"].as_array().expect("devices");
    let rb5 = devices
        .iter()
        .find(|d| d["name"] == "RB5 (Proxy)")
        .unwrap_or_else(|| panic!("RB5 in {done}"));
    assert!(rb5["chipset"].is_string(), "{rb5}");
    assert!(
        rb5["runtimes"].as_array().is_some_and(|r| !r.is_empty()),
        "{rb5}"
    );

    let (s, pack) = a
        .post(
            &format!("/v1/workspaces/{ws}/promptpacks"),
            guide_promptpack(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pack}");
    assert_eq!(pack["case_count"], 1);
    assert_eq!(pack["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(pack["published"], false);
    let (s, pub1) = a
        .json(
            reqwest::Method::PUT,
            &format!("/v1/workspaces/{ws}/promptpacks/vision-qa/1.0.0/publish"),
            Value::Null,
        )
        .await;
    assert_eq!((s, &pub1["published"]), (StatusCode::OK, &json!(true)));
    let (s, pub2) = a
        .json(
            reqwest::Method::PUT,
            &format!("/v1/workspaces/{ws}/promptpacks/vision-qa/1.0.0/publish"),
            Value::Null,
        )
        .await;
    assert_eq!(
        (s, &pub2["published_at"]),
        (StatusCode::OK, &pub1["published_at"]),
        "idempotent"
    );

    let (s, pipeline) = a
        .post(&format!("/v1/workspaces/{ws}/pipelines"), guide_pipeline())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pipeline}");
    assert_eq!(pipeline["name"], "Production Gate - RB5");
    let pipeline_id = pipeline["id"].as_str().expect("id").to_string();

    let bytes = model_bytes();
    let (s, art) = a.upload(&ws, bytes.clone(), "onnx").await;
    assert_eq!(s, StatusCode::CREATED, "{art}");
    let artifact_id = art["id"].as_str().expect("id").to_string();
    use sha2::Digest as _;
    assert_eq!(
        art["sha256"].as_str(),
        Some(hex::encode(sha2::Sha256::digest(&bytes)).as_str())
    );
    assert_eq!(art["size_bytes"].as_u64(), Some(bytes.len() as u64));
    let (s, again) = a.upload(&ws, bytes.clone(), "onnx").await;
    assert_eq!(
        (s, &again["id"]),
        (StatusCode::OK, &art["id"]),
        "same bytes, same artifact"
    );
    let dl = reqwest::Client::new()
        .get(format!(
            "{}/v1/workspaces/{ws}/artifacts/{artifact_id}/download",
            server.url
        ))
        .bearer_auth(a.token.as_deref().expect("token"))
        .send()
        .await
        .expect("download");
    assert_eq!(dl.status(), StatusCode::OK);
    assert_eq!(dl.bytes().await.expect("bytes").to_vec(), bytes);

    let (s, run) = a
        .post(
            &format!("/v1/workspaces/{ws}/runs"),
            json!({"pipeline_id": pipeline_id, "model_artifact_id": artifact_id}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{run}");
    assert_eq!(run["status"], "queued");
    let run_id = run["id"].as_str().expect("id").to_string();
    let report_url = run["report_url"].as_str().expect("report_url").to_string();
    assert!(
        report_url.starts_with(&format!("/v1/workspaces/{ws}/runs/{run_id}/report?key=")),
        "{report_url}"
    );
    let done = poll_until_done(
        &a,
        &format!("/v1/workspaces/{ws}/runs/{run_id}"),
        &["queued", "running"],
    )
    .await;
    {
        assert_eq!(done["status"], "passed", "{done}");
        assert_eq!(done["verdict"], "passed");
        assert!(
            done["devices"][0]["jobs"]
                .as_array()
                .is_some_and(|j| !j.is_empty()),
            "{done}"
        );
        let (s, results) = a
            .get(&format!("/v1/workspaces/{ws}/runs/{run_id}/results.json"))
            .await;
        assert_eq!((s, &results["verdict"]), (StatusCode::OK, &json!("passed")));
        // The run measured the uploaded model itself (and left the stored artifact whole).
        assert_eq!(
            (
                &results["model"]["sha256"],
                results["model"]["size_bytes"].as_u64()
            ),
            (&art["sha256"], Some(bytes.len() as u64)),
            "{results}"
        );
        let (s, again) = a
            .get(&format!("/v1/workspaces/{ws}/artifacts/{artifact_id}"))
            .await;
        assert_eq!(
            (s, again["size_bytes"].as_u64()),
            (StatusCode::OK, Some(bytes.len() as u64))
        );
        let (s, _) = a
            .get(&format!("/v1/workspaces/{ws}/runs/{run_id}/report"))
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = a
            .get(&format!("/v1/workspaces/{ws}/runs/{run_id}/junit.xml"))
            .await;
        assert_eq!(s, StatusCode::OK);

        // An ended run's answer is served from the cache the second time, with the same links.
        let (s, again) = a.get(&format!("/v1/workspaces/{ws}/runs/{run_id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(again, done, "the cached answer is the answer");
        assert!(!again.to_string().contains("@@"), "{again}");
        // The links the API gives open in a browser (no Authorization header): the page key.
        for link in ["report_url", "results_url", "junit_url", "history_url"] {
            let url = done[link].as_str().expect(link);
            let (s, body) = anon.get(url).await;
            assert_eq!(s, StatusCode::OK, "{link}: {body}");
        }
        let (s, page) = anon.get(&report_url).await;
        assert_eq!(s, StatusCode::OK);
        let page = page.as_str().expect("html").to_string();
        assert!(
            page.contains("results.json?key="),
            "the report's links carry the key"
        );
        // Without the key, or with it on another workspace's page, or as an API token: 401.
        let bare = report_url.split('?').next().expect("path");
        assert_eq!(anon.get(bare).await.0, StatusCode::UNAUTHORIZED);
        let key = report_url.split("?key=").nth(1).expect("key");
        let (s, other) = a.post("/v1/workspaces", json!({"name": "other"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let other_ws = other["id"].as_str().expect("id");
        let (s, _) = anon
            .get(&format!(
                "/v1/workspaces/{other_ws}/pipelines/{pipeline_id}/history?key={key}"
            ))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(
            anon.as_user(key)
                .get(&format!("/v1/workspaces/{ws}/runs/{run_id}"))
                .await
                .0,
            StatusCode::UNAUTHORIZED,
            "a page key is not an API token"
        );
    }
    let (s, page) = a
        .get(&format!(
            "/v1/workspaces/{ws}/pipelines/{pipeline_id}/runs?limit=10"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (page["total"].as_i64(), &page["items"][0]["id"]),
        (Some(1), &json!(run_id))
    );
    let (s, _) = a
        .get(&format!(
            "/v1/workspaces/{ws}/pipelines/{pipeline_id}/history"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, doc) = anon.get("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        doc["paths"]["/v1/workspaces/{ws}/runs/{id}"]["get"].is_object(),
        "{doc}"
    );
    let (s, _) = anon.get("/docs").await;
    assert_eq!(s, StatusCode::OK);

    let (s, rotated) = a
        .json(
            reqwest::Method::PUT,
            &format!("/v1/workspaces/{ws}/integrations/qaihub"),
            json!({"token": "another-token-0000"}),
        )
        .await;
    assert_eq!(
        (s, &rotated["token_last4"]),
        (StatusCode::OK, &json!("0000"))
    );
    let (s, off) = a
        .json(
            reqwest::Method::PATCH,
            &format!("/v1/workspaces/{ws}/integrations/qaihub"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!((s, &off["status"]), (StatusCode::OK, &json!("disabled")));
    let (s, _) = a
        .post(
            &format!("/v1/workspaces/{ws}/capabilities/probe"),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::FAILED_DEPENDENCY, "disabled integration");

    for body in a.seen.lock().expect("seen").iter() {
        assert!(
            !body.contains(HUB_TOKEN) && !body.contains("another-token"),
            "token in a response: {body}"
        );
    }
    let stored = match backend {
        Backend::Sqlite => {
            String::from_utf8_lossy(&std::fs::read(dir.path().join("edgegate.db")).expect("db"))
                .into_owned()
        }
        Backend::Postgres => {
            let pool = db.pool(dir.path()).await;
            let mut all = String::new();
            for q in [
                "SELECT token_sealed || token_last4 AS t FROM integrations",
                "SELECT COALESCE(results, '') || COALESCE(junit, '') || COALESCE(markdown, '') || COALESCE(error_detail, '') AS t FROM runs",
                "SELECT COALESCE(result, '') || COALESCE(error, '') AS t FROM tasks",
            ] {
                for row in sqlx::query(q).fetch_all(&pool).await.expect("read back") {
                    all.push_str(&sqlx::Row::get::<String, _>(&row, "t"));
                }
            }
            pool.close().await;
            assert!(all.contains("\"verdict\""), "the run's results are stored");
            all
        }
    };
    assert!(!stored.contains(HUB_TOKEN), "token stored in clear");
    let log = server.log();
    if let Some(pw) = db.password() {
        assert!(!log.contains(&pw), "database password in the log");
    }
    assert!(
        log.contains("POST /v1/workspaces"),
        "request lines are logged: {log}"
    );
    assert!(
        !log.contains(HUB_TOKEN) && !log.contains("another-token"),
        "token in the log: {log}"
    );
}

on_both_databases!(every_status_code_and_no_route_crosses_workspaces => super::status_codes);

async fn status_codes(backend: Backend) {
    let Some(db) = TestDb::create(backend, "every status code").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_on(&db, dir.path(), Some(NO_HUB), &["--max-artifact-mb", "1"]);
    let anon = Api::new(&server.url);
    let a = anon.sign_up("alice@example.com").await;
    let b = anon.sign_up("bob@example.com").await;

    let (s, e) = anon
        .post(
            "/v1/auth/register",
            json!({"email": "ALICE@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = anon
        .post(
            "/v1/auth/register",
            json!({"email": "c@example.com", "password": "short"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at least 8")),
        "{e}"
    );
    let (s, e) = anon.post("/v1/auth/register", json!({"email": 5})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = anon
        .send(
            anon.http
                .post(format!("{}/v1/workspaces", server.url))
                .header("content-type", "application/json")
                .body("{\"name\""),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "auth comes first: {e}");
    let (s, e) = a
        .send(
            a.http
                .post(format!("{}/v1/workspaces", server.url))
                .header("content-type", "application/json")
                .body("{\"name\""),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["detail"].is_string());
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(5 << 20));
    let (s, _) = a
        .send(
            reqwest::Client::new()
                .post(format!("{}/v1/workspaces", server.url))
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    let (s, _) = anon.get("/v1/auth/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = anon.as_user("not.a.jwt").get("/v1/workspaces").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let (ws, pipeline, artifact) = populated_workspace(&a).await;
    let (s, _) = a
        .post(
            &format!("/v1/workspaces/{ws}/integrations/qaihub"),
            json!({"token": HUB_TOKEN}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, run) = a
        .post(
            &format!("/v1/workspaces/{ws}/runs"),
            json!({"pipeline_id": pipeline, "model_artifact_id": artifact}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let run = run["id"].as_str().expect("id").to_string();

    let (s, e) = a
        .post(
            &format!("/v1/workspaces/{ws}/promptpacks"),
            guide_promptpack(),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, _) = a
        .delete(&format!("/v1/workspaces/{ws}/promptpacks/vision-qa/1.0.0"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "published versions are permanent");
    let mut bad = guide_promptpack();
    bad["version"] = json!("2.0.0");
    bad["content"]["version"] = json!("2.0.0");
    bad["content"]["cases"] = json!("nope");
    let (s, e) = a
        .post(&format!("/v1/workspaces/{ws}/promptpacks"), bad)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["detail"][0]["pointer"]
            .as_str()
            .is_some_and(|p| p.starts_with("/content")),
        "{e}"
    );
    let mut draft = guide_promptpack();
    draft["version"] = json!("1.1.0");
    draft["content"]["version"] = json!("1.1.0");
    let (s, _) = a
        .post(&format!("/v1/workspaces/{ws}/promptpacks"), draft)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut unpublished = guide_pipeline();
    unpublished["promptpack_ref"]["version"] = json!("1.1.0");
    let (s, e) = a
        .post(&format!("/v1/workspaces/{ws}/pipelines"), unpublished)
        .await;
    assert_eq!(s, StatusCode::FAILED_DEPENDENCY, "{e}");
    let mut missing = guide_pipeline();
    missing["promptpack_ref"]["promptpack_id"] = json!("nope");
    let (s, _) = a
        .post(&format!("/v1/workspaces/{ws}/pipelines"), missing)
        .await;
    assert_eq!(s, StatusCode::FAILED_DEPENDENCY);
    let (s, e) = a
        .post(
            &format!("/v1/workspaces/{ws}/pipelines"),
            json!({"gates": []}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = a.upload(&ws, b"model".to_vec(), "safetensors").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let limit = 1usize << 20;
    let over = a.upload(&ws, vec![7u8; limit + 1], "onnx").await;
    assert_eq!(over.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", over.1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("tmp"))
        .expect("tmp")
        .collect();
    assert!(
        leftovers.is_empty(),
        "the refused upload's temp file is gone"
    );
    let (s, _) = a.upload(&ws, vec![7u8; limit], "onnx").await;
    assert_eq!(s, StatusCode::CREATED, "exactly the limit is fine");

    let w = format!("/v1/workspaces/{ws}");
    let reads = [
        w.clone(),
        format!("{w}/members"),
        format!("{w}/integrations/qaihub"),
        format!("{w}/promptpacks"),
        format!("{w}/promptpacks/vision-qa/1.0.0"),
        format!("{w}/pipelines"),
        format!("{w}/pipelines/{pipeline}"),
        format!("{w}/pipelines/{pipeline}/runs"),
        format!("{w}/pipelines/{pipeline}/history"),
        format!("{w}/artifacts/{artifact}"),
        format!("{w}/artifacts/{artifact}/download"),
        format!("{w}/runs/{run}"),
        format!("{w}/runs/{run}/results.json"),
        format!("{w}/runs/{run}/junit.xml"),
        format!("{w}/runs/{run}/report"),
        format!("{w}/tasks/some-task"),
    ];
    for path in &reads {
        let (s, e) = b.get(path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "GET {path} as a stranger: {e}");
    }
    let writes: Vec<(reqwest::Method, String, Value)> = vec![
        (reqwest::Method::PATCH, w.clone(), json!({"name": "mine"})),
        (
            reqwest::Method::POST,
            format!("{w}/members"),
            json!({"email": "bob@example.com", "role": "owner"}),
        ),
        (
            reqwest::Method::POST,
            format!("{w}/integrations/qaihub"),
            json!({"token": "x-1234"}),
        ),
        (
            reqwest::Method::PATCH,
            format!("{w}/integrations/qaihub"),
            json!({"enabled": false}),
        ),
        (
            reqwest::Method::POST,
            format!("{w}/capabilities/probe"),
            Value::Null,
        ),
        (
            reqwest::Method::POST,
            format!("{w}/promptpacks"),
            guide_promptpack(),
        ),
        (
            reqwest::Method::PUT,
            format!("{w}/promptpacks/vision-qa/1.1.0/publish"),
            Value::Null,
        ),
        (
            reqwest::Method::POST,
            format!("{w}/pipelines"),
            guide_pipeline(),
        ),
        (
            reqwest::Method::PUT,
            format!("{w}/pipelines/{pipeline}"),
            guide_pipeline(),
        ),
        (
            reqwest::Method::POST,
            format!("{w}/runs"),
            json!({"pipeline_id": pipeline, "model_artifact_id": artifact}),
        ),
    ];
    for (method, path, body) in &writes {
        let (s, e) = b.json(method.clone(), path, body.clone()).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{method} {path} as a stranger: {e}"
        );
    }
    let deletes = [
        format!("{w}/promptpacks/vision-qa/1.1.0"),
        format!("{w}/pipelines/{pipeline}"),
        format!("{w}/integrations/qaihub"),
        w.clone(),
    ];
    for path in &deletes {
        let (s, _) = b.delete(path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "DELETE {path} as a stranger");
    }
    let (s, e) = b.upload(&ws, b"x".to_vec(), "onnx").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    let (s, listed) = b.get("/v1/workspaces").await;
    assert_eq!((s, listed), (StatusCode::OK, json!([])));

    let (s, m) = a
        .post(
            &format!("{w}/members"),
            json!({"email": "bob@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(
        (s, &m["role"]),
        (StatusCode::CREATED, &json!("viewer")),
        "{m}"
    );
    let (s, _) = b.get(&format!("{w}/pipelines/{pipeline}")).await;
    assert_eq!(s, StatusCode::OK, "a viewer reads");
    for (method, path, body) in &writes {
        let (s, e) = b.json(method.clone(), path, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path} as a viewer: {e}");
    }
    let (s, _) = b.delete(&w).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = b.upload(&ws, b"x".to_vec(), "onnx").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Role changes and removals take effect at once (the role cache is dropped on a change).
    let (s, m) = a
        .post(
            &format!("{w}/members"),
            json!({"email": "bob@example.com", "role": "admin"}),
        )
        .await;
    assert!(s.is_success(), "{m}");
    let (s, e) = b
        .json(
            reqwest::Method::PATCH,
            &w,
            json!({"name": "renamed by bob"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "an admin now writes: {e}");
    let bob = m["user_id"].as_str().expect("user_id");
    let (s, _) = a.delete(&format!("{w}/members/{bob}")).await;
    assert!(s.is_success());
    let (s, _) = b.get(&format!("{w}/pipelines/{pipeline}")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a removed member sees nothing at once"
    );

    for _ in 0..5 {
        let (s, _) = anon
            .post(
                "/v1/auth/login",
                json!({"email": "alice@example.com", "password": "wrong password"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let locked = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body("alice@example.com"))
        .send()
        .await
        .expect("login");
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().get("retry-after").is_some());
    let (s, _) = anon
        .post(
            "/v1/auth/login",
            json!({"email": "bob@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "another email is not locked");
}

#[test]
fn serve_refuses_to_start_without_a_valid_master_key_or_jwt_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, Option<&str>, Option<&str>); 4] = [
        ("missing", None, Some("s")),
        ("not base64", Some("not base64!!"), Some("s")),
        ("16 bytes", Some("AAAAAAAAAAAAAAAAAAAAAA=="), Some("s")),
        (
            "no jwt secret",
            Some("KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio="),
            None,
        ),
    ];
    for (name, key, secret) in cases {
        let mut cmd = serve_command(dir.path(), None, &[]);
        cmd.env_remove("EDGEGENAI_MASTER_KEY")
            .env_remove("EDGEGATE_JWT_SECRET");
        if let Some(k) = key {
            cmd.env("EDGEGENAI_MASTER_KEY", k);
        }
        if let Some(s) = secret {
            cmd.env("EDGEGATE_JWT_SECRET", s);
        }
        let out = cmd.output().expect("run serve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: never announced a url");
        if secret.is_some() {
            assert!(
                stderr.contains("EDGEGENAI_MASTER_KEY")
                    && stderr.contains("openssl rand -base64 32"),
                "{name}: {stderr}"
            );
        } else {
            assert!(stderr.contains("EDGEGATE_JWT_SECRET"), "{name}: {stderr}");
        }
    }
}

#[test]
fn serve_refuses_bad_database_and_role_settings_without_printing_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &["--database-url", "mysql://edgegate:pw-SECRET-1@db/edgegate"],
            2,
            "unsupported database URL mysql://edgegate:***@db/edgegate",
        ),
        (&["--role", "api"], 2, "--role api needs PostgreSQL"),
        (&["--role", "worker"], 2, "--role worker needs PostgreSQL"),
        (
            &["--run-lease-secs", "1"],
            2,
            "--run-lease-secs must be at least 2",
        ),
        (
            &[
                "--database-url",
                "postgres://edgegate:pw-SECRET-1@127.0.0.1:9/edgegate",
            ],
            3,
            "failed to connect to the database postgres://edgegate:***@127.0.0.1:9/edgegate",
        ),
    ];
    for (args, code, message) in cases {
        let out = serve_command(dir.path(), None, args)
            .output()
            .expect("run serve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("pw-SECRET-1"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: never announced a url");
    }
}

on_both_databases!(a_run_left_running_by_a_dead_worker_runs_again_once_then_is_interrupted => super::left_running);

/// Marks a run as a worker killed mid-run leaves it: `running`, its lease long expired.
async fn leave_running(db: &TestDb, data_dir: &Path, run: &str) {
    let pool = db.pool(data_dir).await;
    let done = sqlx::query(
        "UPDATE runs SET status = 'running', error_detail = NULL, finished_at = NULL, \
         lease_owner = 'a-worker-that-died', lease_expires_at = 1 WHERE id = $1",
    )
    .bind(run)
    .execute(&pool)
    .await
    .expect("mark running");
    assert_eq!(done.rows_affected(), 1);
    pool.close().await;
}

async fn attempts(db: &TestDb, data_dir: &Path, run: &str) -> Vec<(i64, Option<String>)> {
    let pool = db.pool(data_dir).await;
    let rows =
        sqlx::query("SELECT attempt, outcome FROM run_attempts WHERE run_id = $1 ORDER BY attempt")
            .bind(run)
            .fetch_all(&pool)
            .await
            .expect("attempts");
    pool.close().await;
    rows.iter()
        .map(|r| {
            (
                sqlx::Row::get::<i64, _>(r, "attempt"),
                sqlx::Row::get::<Option<String>, _>(r, "outcome"),
            )
        })
        .collect()
}

async fn left_running(backend: Backend) {
    let Some(db) = TestDb::create(backend, "a run left running").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_on(&db, dir.path(), Some(NO_HUB), &[]);
    let a = Api::new(&server.url).sign_up("restart@example.com").await;
    let (ws, pipeline, artifact) = populated_workspace(&a).await;
    let (s, run) = a
        .post(
            &format!("/v1/workspaces/{ws}/runs"),
            json!({"pipeline_id": pipeline, "model_artifact_id": artifact}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let run = run["id"].as_str().expect("id").to_string();
    let path = format!("/v1/workspaces/{ws}/runs/{run}");
    let first = poll_until_done(&a, &path, &["queued", "running"]).await;
    assert_eq!(first["status"], "error", "AI Hub is unreachable: {first}");
    assert_ne!(first["error_detail"], "interrupted", "{first}");
    assert_eq!(server.stop(), Some(0), "a clean stop on SIGTERM");

    // Its worker died: the next start claims it again and runs it to an end.
    leave_running(&db, dir.path(), &run).await;
    let mut server = Server::start_on(&db, dir.path(), Some(NO_HUB), &[]);
    let a = Api::new(&server.url)
        .sign_up_again("restart@example.com")
        .await;
    let second = poll_until_done(&a, &path, &["queued", "running"]).await;
    assert_eq!(
        (&second["status"], &second["error_detail"]),
        (&first["status"], &first["error_detail"]),
        "run again to the same end: {second}"
    );
    assert_eq!(
        attempts(&db, dir.path(), &run).await,
        vec![(1, Some("error".into())), (2, Some("error".into()))]
    );
    assert_eq!(server.stop(), Some(0));

    // Its worker died again: it is not run a third time but ends interrupted, results kept.
    leave_running(&db, dir.path(), &run).await;
    let server = Server::start_on(&db, dir.path(), Some(NO_HUB), &[]);
    let a = Api::new(&server.url)
        .sign_up_again("restart@example.com")
        .await;
    let after = poll_until_done(&a, &path, &["queued", "running"]).await;
    assert_eq!(
        (&after["status"], &after["error_detail"]),
        (&json!("error"), &json!("interrupted")),
        "{after}"
    );
    assert!(after["finished_at"].is_string());
    assert_eq!(after["devices"], second["devices"], "its results are kept");
    assert_eq!(
        attempts(&db, dir.path(), &run).await,
        vec![
            (1, Some("error".into())),
            (2, Some("error".into())),
            (3, Some("error".into()))
        ]
    );
    let (s, _) = a.delete(&format!("/v1/workspaces/{ws}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        attempts(&db, dir.path(), &run).await,
        vec![],
        "deleted with its runs"
    );
}

impl Api {
    /// Logs in as an existing user (JSON body).
    async fn sign_up_again(&self, email: &str) -> Api {
        let (s, t) = self
            .post(
                "/v1/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        self.as_user(t["access_token"].as_str().expect("token"))
    }
}

/// The OAuth2 password form the guide's clients send.
fn form_body(email: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("username", email)
        .append_pair("password", PASSWORD)
        .finish()
}
