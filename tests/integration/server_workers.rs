//! Several `edgegate serve` processes on one PostgreSQL database: one `--role api` and three
//! `--role worker`, sharing one artifact and job-cache directory, run 30 runs on an in-process
//! `hub-sim` with fixed job durations while one worker is killed with SIGKILL in the middle of a
//! run. Every run must end, no run may execute on two workers at once, the killed worker's run is
//! claimed again by another worker, and the AI Hub jobs that had finished before the kill are read
//! from the job cache, not submitted again. Needs PostgreSQL (`EDGEGATE_TEST_POSTGRES_URL`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;

use edgegate::sim::scenario::JobKind;
use edgegate::sim::{Scenario, SimConfig};

use crate::server_api::{
    Api, HUB_TOKEN, Server, guide_promptpack, model_bytes, populated_workspace,
};
use crate::server_backend::{Backend, TestDb, on_both_databases};

const RUNS: usize = 30;
const FAST: &str = "Samsung Galaxy S24";
const SLOW: &str = "RB5 (Proxy)";
/// Fixed job durations: a run's fast device finishes its profile well before its slow one, so
/// a worker can be killed while one profile is cached and the other is in flight.
const SCENARIO: &str = r#"
durations: { queue_s: 0, compile_s: 0.3, provision_s: 0.1, run_s: 0.2 }
devices:
  "Samsung Galaxy S24": { latency_ms: 5.0, peak_memory_mb: 40 }
  "RB5 (Proxy)": { latency_ms: 8.0, peak_memory_mb: 60, durations: { compile_s: 0.3, provision_s: 0.1, run_s: 2.5 } }
"#;

/// The example model with a distinct `doc_string` (ModelProto field 6) appended, so each run has
/// its own sha256 and its own AI Hub jobs.
fn distinct_model(i: usize) -> Vec<u8> {
    let mut bytes = model_bytes();
    let doc = format!("run {i}");
    bytes.push(0x32);
    bytes.push(u8::try_from(doc.len()).expect("short"));
    bytes.extend_from_slice(doc.as_bytes());
    bytes
}

fn pipeline() -> Value {
    json!({
        "name": "Two devices",
        "promptpack_ref": {"promptpack_id": "vision-qa", "version": "1.0.0"},
        "device_matrix": [
            {"name": "S24", "hub_device": FAST, "enabled": true},
            {"name": "RB5", "hub_device": SLOW, "enabled": true}
        ],
        "gates": [{"metric": "inference_time_ms", "operator": "lte", "threshold": 150.0}]
    })
}

/// Profile jobs of `sha256` in the shared job cache, by device.
fn cached_profiles(cache: &std::path::Path, sha256: &str) -> BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(cache) else {
        return BTreeSet::new();
    };
    let file: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    file["entries"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, e)| e["key"]["kind"] == "profile" && e["key"]["model_sha256"] == sha256)
        .filter_map(|(_, e)| e["key"]["device"].as_str().map(str::to_string))
        .collect()
}

struct Attempt {
    attempt: i64,
    worker: String,
    started_at: i64,
    ended_at: Option<i64>,
    outcome: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_end_every_run_when_one_is_killed_mid_run() {
    let Some(db) = TestDb::create(Backend::Postgres, "the three-worker kill test").await else {
        return;
    };
    let hub = edgegate::sim::start(SimConfig {
        token: HUB_TOKEN.into(),
        scenario: Scenario::from_yaml(SCENARIO, "workers test").expect("scenario"),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let hub_url = hub.url();
    let shared = tempfile::tempdir().expect("shared dir");
    let homes: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().expect("dir")).collect();
    let shared_arg = shared.path().display().to_string();
    // All four start at once on an empty database: the migrations wait for each other.
    let mut servers: Vec<Server> = std::thread::scope(|s| {
        let handles: Vec<_> = homes
            .iter()
            .enumerate()
            .map(|(i, home)| {
                let role = if i == 0 { "api" } else { "worker" };
                let (db, hub_url, shared_arg) = (&db, &hub_url, &shared_arg);
                s.spawn(move || {
                    Server::start_on(
                        db,
                        home.path(),
                        Some(hub_url),
                        &[
                            "--role",
                            role,
                            "--shared-dir",
                            shared_arg,
                            "--run-lease-secs",
                            "8",
                            "--max-concurrent-runs",
                            "2",
                        ],
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("server starts"))
            .collect()
    });
    let api = Api::new(&servers[0].url);
    let (s, v) = api.get("/v1/workspaces").await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the api process serves /v1: {v}"
    );
    let worker_api = Api::new(&servers[1].url);
    assert_eq!(worker_api.get("/health").await.0, StatusCode::OK);
    assert_eq!(
        worker_api.get("/v1/workspaces").await.0,
        StatusCode::NOT_FOUND,
        "a worker serves no API"
    );

    let a = api.sign_up("fleet@example.com").await;
    let (s, ws) = a.post("/v1/workspaces", json!({"name": "Fleet"})).await;
    assert_eq!(s, StatusCode::CREATED, "{ws}");
    let ws = ws["id"].as_str().expect("id").to_string();
    let (s, v) = a
        .post(
            &format!("/v1/workspaces/{ws}/integrations/qaihub"),
            json!({"token": HUB_TOKEN}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = a
        .post(
            &format!("/v1/workspaces/{ws}/promptpacks"),
            guide_promptpack(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = a
        .json(
            reqwest::Method::PUT,
            &format!("/v1/workspaces/{ws}/promptpacks/vision-qa/1.0.0/publish"),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, p) = a
        .post(&format!("/v1/workspaces/{ws}/pipelines"), pipeline())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pipeline_id = p["id"].as_str().expect("id").to_string();
    let mut sha_of_run = BTreeMap::new();
    for i in 0..RUNS {
        let (s, art) = a.upload(&ws, distinct_model(i), "onnx").await;
        assert_eq!(s, StatusCode::CREATED, "{art}");
        let (s, run) = a
            .post(
                &format!("/v1/workspaces/{ws}/runs"),
                json!({"pipeline_id": pipeline_id, "model_artifact_id": art["id"]}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{run}");
        sha_of_run.insert(
            run["id"].as_str().expect("id").to_string(),
            art["sha256"].as_str().expect("sha").to_string(),
        );
    }

    // Kill the first worker once one of its runs has its fast profile cached and its slow
    // profile in flight on AI Hub.
    let pool = db.pool(shared.path()).await;
    let cache = shared.path().join("cache").join(&ws).join("jobs.json");
    let victim_pid = servers[1].child.id();
    let owner_pattern = format!("%-{victim_pid}-%");
    let mut killed: Option<(String, i64)> = None;
    for _ in 0..1200 {
        let rows =
            sqlx::query("SELECT id FROM runs WHERE status = 'running' AND lease_owner LIKE $1")
                .bind(&owner_pattern)
                .fetch_all(&pool)
                .await
                .expect("victim's runs");
        let jobs = hub.jobs();
        let ready = rows.iter().find_map(|r| {
            let id: String = r.get("id");
            let sha = sha_of_run.get(&id)?;
            let slow_in_flight = jobs.iter().any(|j| {
                j.kind == JobKind::Profile
                    && j.device == SLOW
                    && j.model_sha256.as_deref() == Some(sha)
            });
            let cached = cached_profiles(&cache, sha);
            (slow_in_flight && cached.contains(FAST) && !cached.contains(SLOW)).then_some(id)
        });
        if let Some(id) = ready {
            let pid = i32::try_from(victim_pid).expect("pid");
            // SAFETY: sending a signal to our own child process.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            let _ = servers[1].child.wait();
            killed = Some((id, edgegate_now_ms()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (killed_run, killed_at) = killed.expect("the first worker took a run and got mid-way");

    // Every run reaches an end.
    let mut statuses = BTreeMap::new();
    for id in sha_of_run.keys() {
        let path = format!("/v1/workspaces/{ws}/runs/{id}");
        let mut last = Value::Null;
        for _ in 0..1200 {
            let (s, v) = a.get(&path).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            last = v;
            if !matches!(last["status"].as_str(), Some("queued" | "running")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        statuses.insert(
            id.clone(),
            last["status"].as_str().unwrap_or("").to_string(),
        );
    }
    let not_passed: Vec<_> = statuses.iter().filter(|(_, s)| *s != "passed").collect();
    assert!(
        not_passed.is_empty(),
        "every run passes, the killed one too: {not_passed:?}; logs: {}",
        servers
            .iter()
            .map(Server::log)
            .collect::<Vec<_>>()
            .join("\n----\n")
    );

    // One claim per run, except the runs of the killed worker: claimed again by another worker
    // only after the kill, never overlapping.
    let rows = sqlx::query(
        "SELECT run_id, attempt, worker, started_at, ended_at, outcome FROM run_attempts \
         ORDER BY run_id, attempt",
    )
    .fetch_all(&pool)
    .await
    .expect("attempts");
    let mut attempts: BTreeMap<String, Vec<Attempt>> = BTreeMap::new();
    for r in &rows {
        attempts.entry(r.get("run_id")).or_default().push(Attempt {
            attempt: r.get("attempt"),
            worker: r.get("worker"),
            started_at: r.get("started_at"),
            ended_at: r.get("ended_at"),
            outcome: r.get("outcome"),
        });
    }
    assert_eq!(attempts.len(), RUNS);
    let victim_marker = format!("-{victim_pid}-");
    let mut reclaimed = BTreeSet::new();
    for (run, list) in &attempts {
        let numbers: Vec<i64> = list.iter().map(|a| a.attempt).collect();
        let expected: Vec<i64> = (1..=i64::try_from(list.len()).expect("len")).collect();
        assert_eq!(numbers, expected, "{run}");
        let last = list.last().expect("an attempt");
        assert!(
            !last.worker.contains(&victim_marker),
            "{run} ended on a live worker"
        );
        assert_eq!(last.outcome.as_deref(), Some("passed"), "{run}");
        for pair in list.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            assert!(
                before.worker.contains(&victim_marker),
                "{run}: only a killed worker loses a run"
            );
            assert_eq!(before.outcome.as_deref(), Some("lease expired"), "{run}");
            assert!(
                after.started_at > killed_at,
                "{run}: claimed again only after its worker was killed"
            );
            assert!(
                before.ended_at.is_some_and(|e| e <= after.started_at),
                "{run}: attempts never overlap"
            );
            reclaimed.insert(run.clone());
        }
        if list.len() == 1 {
            assert!(last.ended_at.is_some_and(|e| e >= last.started_at));
        }
    }
    assert!(
        reclaimed.contains(&killed_run),
        "the killed worker's run was claimed again: {reclaimed:?}"
    );

    // Each model's compile and profile jobs were submitted once per device; only the profile in
    // flight when its worker was killed was submitted twice. The rest came from the job cache.
    let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for j in hub.jobs() {
        let sha = j.model_sha256.clone().expect("job of an uploaded model");
        *counts
            .entry((sha, j.device.clone(), format!("{:?}", j.kind)))
            .or_default() += 1;
    }
    let killed_sha = &sha_of_run[&killed_run];
    for sha in sha_of_run.values() {
        for device in [FAST, SLOW] {
            for kind in [JobKind::Compile, JobKind::Profile] {
                let n = counts
                    .get(&(sha.clone(), device.to_string(), format!("{kind:?}")))
                    .copied()
                    .unwrap_or(0);
                let expected = if sha == killed_sha && device == SLOW && kind == JobKind::Profile {
                    2
                } else if reclaimed.iter().any(|r| &sha_of_run[r] == sha) && sha != killed_sha {
                    n.clamp(1, 2)
                } else {
                    1
                };
                assert_eq!(n, expected, "{kind:?} jobs on {device} for {sha}");
            }
        }
    }
    pool.close().await;
    for s in &mut servers[..] {
        if matches!(s.child.try_wait(), Ok(None)) {
            assert_eq!(s.stop(), Some(0), "a clean stop");
        }
    }
    let logs = servers
        .iter()
        .map(Server::log)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !logs.contains(HUB_TOKEN),
        "the AI Hub token is never logged"
    );
    if let Some(pw) = db.password() {
        assert!(!logs.contains(&pw), "the database password is never logged");
    }
}

on_both_databases!(a_worker_whose_lease_was_taken_stops_its_run_and_records_nothing => super::lease_taken);

async fn lease_taken(backend: Backend) {
    let Some(db) = TestDb::create(backend, "a taken lease").await else {
        return;
    };
    let hub = edgegate::sim::start(SimConfig {
        token: HUB_TOKEN.into(),
        scenario: Scenario::from_yaml(
            "durations: { queue_s: 0, compile_s: 0.2, provision_s: 0.2, run_s: 600 }",
            "long jobs",
        )
        .expect("scenario"),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_on(
        &db,
        dir.path(),
        Some(&hub.url()),
        &["--run-lease-secs", "2"],
    );
    let a = Api::new(&server.url).sign_up("lease@example.com").await;
    let (ws, pipeline, artifact) = populated_workspace(&a).await;
    let (s, v) = a
        .post(
            &format!("/v1/workspaces/{ws}/integrations/qaihub"),
            json!({"token": HUB_TOKEN}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, run) = a
        .post(
            &format!("/v1/workspaces/{ws}/runs"),
            json!({"pipeline_id": pipeline, "model_artifact_id": artifact}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{run}");
    let run = run["id"].as_str().expect("id").to_string();
    for _ in 0..600 {
        if hub.jobs().iter().any(|j| j.kind == JobKind::Profile) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        hub.jobs().iter().any(|j| j.kind == JobKind::Profile),
        "the run reached its (long) profile job"
    );

    // Another worker takes the lease (as if this one had stalled past it).
    let pool = db.pool(dir.path()).await;
    let taken = sqlx::query(
        "UPDATE runs SET lease_owner = 'another-worker', lease_expires_at = $1 \
         WHERE id = $2 AND status = 'running'",
    )
    .bind(edgegate_now_ms() + 3_600_000)
    .bind(&run)
    .execute(&pool)
    .await
    .expect("take the lease");
    assert_eq!(taken.rows_affected(), 1);
    let mut outcome = None;
    for _ in 0..600 {
        let row = sqlx::query("SELECT outcome FROM run_attempts WHERE run_id = $1 AND attempt = 1")
            .bind(&run)
            .fetch_one(&pool)
            .await
            .expect("attempt");
        outcome = row.get::<Option<String>, _>("outcome");
        if outcome.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outcome.as_deref(), Some("lease lost"), "{}", server.log());
    let row =
        sqlx::query("SELECT status, lease_owner, finished_at, results FROM runs WHERE id = $1")
            .bind(&run)
            .fetch_one(&pool)
            .await
            .expect("run");
    assert_eq!(row.get::<String, _>("status"), "running");
    assert_eq!(row.get::<String, _>("lease_owner"), "another-worker");
    assert_eq!(
        row.get::<Option<i64>, _>("finished_at"),
        None,
        "nothing recorded"
    );
    assert_eq!(
        row.get::<Option<String>, _>("results"),
        None,
        "nothing recorded"
    );
    assert!(
        server
            .log()
            .contains("lost the run's lease to another worker")
    );
    pool.close().await;
    assert_eq!(server.stop(), Some(0), "a clean stop");
}

fn edgegate_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
