//! The run worker: claims queued runs from the database (woken by this process's queue bell, and
//! polling for runs queued by other processes), executes up to `max_concurrent_runs` at once
//! through `execute::execute_run`, and records status, verdict, results and error detail.
//!
//! Several workers may share one PostgreSQL database. A claim is a lease: the run's row names the
//! worker and an expiry the worker renews while the run executes. PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers never wait on nor take the same row; SQLite
//! (one process) claims with a compare-and-set on the attempt count. A run still `running` after
//! its lease expired belongs to a worker that died (`kill -9`, a lost machine): the next claim
//! takes it and executes it again, reading the AI Hub jobs that had finished from the shared job
//! cache instead of submitting them again; a run claimed more than [`MAX_ATTEMPTS`] times ends as
//! error "interrupted" with whatever results it has. A worker that cannot renew its lease stops
//! its run and records nothing, and every write of an outcome checks the lease is still its own,
//! so one run never executes on two workers at once. Each claim is a row of `run_attempts`.
//! On shutdown the runs in flight are cancelled and recorded as error "interrupted".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::Row as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::results::{Results, Verdict};

use super::artifacts;
use super::db::{Backend, new_id, now_ms};
use super::error::ApiError;
use super::execute::{self, ExecuteError, RunJob};
use super::integrations;
use super::pipelines;
use super::promptpacks;
use super::state::AppState;

/// How often an idle worker looks for runs queued by other processes.
const POLL: Duration = Duration::from_secs(1);
/// Claims of one run (the first and one after its worker died) before it ends as interrupted.
pub const MAX_ATTEMPTS: i64 = 2;

/// A run this worker holds the lease of.
#[derive(Debug, Clone)]
struct Claim {
    id: String,
    attempt: i64,
}

/// This worker's name in leases and `run_attempts`: host, process id and a random suffix.
fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let suffix: String = new_id().chars().take(8).collect();
    format!("{host}-{}-{suffix}", std::process::id())
}

/// Now, in unix ms, by the clock leases are compared on: the database server's on PostgreSQL (so
/// workers on machines whose clocks disagree still agree on when a lease expired), this
/// process's on SQLite (one process).
async fn clock(state: &AppState) -> Result<i64, sqlx::Error> {
    match state.backend {
        Backend::Sqlite => Ok(now_ms()),
        Backend::Postgres => {
            let row = sqlx::query(
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) AS now",
            )
            .fetch_one(&state.db)
            .await?;
            row.try_get("now")
        }
    }
}

fn lease_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.run_lease.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Runs the worker until shutdown, then waits for the runs in flight to be recorded.
pub async fn run_worker(state: AppState) {
    let worker: Arc<str> = worker_id().into();
    tracing::info!(worker = %worker, "worker started");
    let slots = Arc::new(Semaphore::new(state.config.max_concurrent_runs.max(1)));
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = state.shutdown.cancelled() => break,
        };
        match claim(&state, &worker).await {
            Ok(Some(claimed)) => {
                let st = state.clone();
                let w = worker.clone();
                running.spawn(async move {
                    execute_claimed(&st, &w, &claimed).await;
                    drop(permit);
                });
                continue;
            }
            Ok(None) => drop(permit),
            Err(e) => {
                tracing::error!("failed to claim a queued run: {e}");
                drop(permit);
            }
        }
        tokio::select! {
            _ = state.run_bell.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = state.shutdown.cancelled() => break,
        }
    }
    while running.join_next().await.is_some() {}
}

/// Which runs may be claimed at `$1` (now): queued ones, and running ones whose lease expired.
const CLAIMABLE: &str = "(status = 'queued' OR (status = 'running' AND \
     (lease_expires_at IS NULL OR lease_expires_at < $1)))";

/// Takes the oldest claimable run: sets it `running` under this worker's lease, counts the
/// attempt, and records it in `run_attempts` (ending the attempt of a worker that died). On
/// PostgreSQL all of it is one transaction.
async fn claim(state: &AppState, worker: &str) -> Result<Option<Claim>, sqlx::Error> {
    let now = clock(state).await?;
    let expires = now.saturating_add(lease_ms(state));
    match state.backend {
        Backend::Postgres => {
            let mut tx = state.db.begin().await?;
            let row = sqlx::query(&format!(
                "UPDATE runs SET status = 'running', lease_owner = $2, lease_expires_at = $3, \
                 attempts = attempts + 1, started_at = COALESCE(started_at, $1) \
                 WHERE id = (SELECT id FROM runs WHERE {CLAIMABLE} \
                 ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, attempts"
            ))
            .bind(now)
            .bind(worker)
            .bind(expires)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Ok(None);
            };
            let claimed = Claim {
                id: row.try_get("id")?,
                attempt: row.try_get("attempts")?,
            };
            record_attempt(&mut tx, &claimed, worker, now).await?;
            tx.commit().await?;
            Ok(Some(claimed))
        }
        Backend::Sqlite => {
            let mut conn = state.db.acquire().await?;
            loop {
                let row = sqlx::query(&format!(
                    "SELECT id, attempts FROM runs WHERE {CLAIMABLE} ORDER BY created_at, id LIMIT 1"
                ))
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let id: String = row.try_get("id")?;
                let attempts: i64 = row.try_get("attempts")?;
                let done = sqlx::query(&format!(
                    "UPDATE runs SET status = 'running', lease_owner = $2, lease_expires_at = $3, \
                     attempts = attempts + 1, started_at = COALESCE(started_at, $1) \
                     WHERE id = $4 AND attempts = $5 AND {CLAIMABLE}"
                ))
                .bind(now)
                .bind(worker)
                .bind(expires)
                .bind(&id)
                .bind(attempts)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 1 {
                    let claimed = Claim {
                        id,
                        attempt: attempts + 1,
                    };
                    record_attempt(&mut conn, &claimed, worker, now).await?;
                    return Ok(Some(claimed));
                }
            }
        }
    }
}

async fn record_attempt(
    conn: &mut sqlx::AnyConnection,
    claimed: &Claim,
    worker: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    if claimed.attempt > 1 {
        sqlx::query(
            "UPDATE run_attempts SET ended_at = $1, outcome = 'lease expired' \
             WHERE run_id = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(&claimed.id)
        .execute(&mut *conn)
        .await?;
        tracing::warn!(run = %claimed.id, attempt = claimed.attempt,
            "claimed a run whose worker stopped renewing its lease");
    }
    sqlx::query(
        "INSERT INTO run_attempts (run_id, attempt, worker, started_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&claimed.id)
    .bind(claimed.attempt)
    .bind(worker)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Renews the lease every third of its length until `done` is cancelled. When the lease is
/// someone else's (or cannot be renewed before it expires) it sets `lost` and cancels `run`.
async fn keep_lease(
    state: AppState,
    worker: Arc<str>,
    id: String,
    run: CancellationToken,
    done: CancellationToken,
    lost: Arc<AtomicBool>,
) {
    let lease = lease_ms(&state);
    let every = (state.config.run_lease / 3).max(Duration::from_millis(200));
    let mut held_until = Instant::now() + state.config.run_lease;
    loop {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let asked = Instant::now();
        let renewed = match clock(&state).await {
            Ok(now) => {
                sqlx::query(
                    "UPDATE runs SET lease_expires_at = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
                )
                .bind(now.saturating_add(lease))
                .bind(&id)
                .bind(&*worker)
                .execute(&state.db)
                .await
            }
            Err(e) => Err(e),
        };
        match renewed {
            Ok(r) if r.rows_affected() == 1 => held_until = asked + state.config.run_lease,
            Ok(_) => {
                tracing::warn!(run = %id, "lost the run's lease to another worker; stopping it");
                break;
            }
            Err(e) if Instant::now() >= held_until => {
                tracing::warn!(run = %id, "could not renew the run's lease before it expired ({e}); stopping it");
                break;
            }
            Err(e) => tracing::warn!(run = %id, "failed to renew the run's lease: {e}"),
        }
    }
    lost.store(true, Ordering::SeqCst);
    run.cancel();
}

/// Records a run's end, if this worker still holds its lease; a run without an outcome keeps
/// the results it had (partial results of an interrupted run).
async fn finish(
    state: &AppState,
    worker: &str,
    claim: &Claim,
    status: &str,
    detail: Option<String>,
    outcome: Option<&execute::RunOutcome>,
) {
    let id = &claim.id;
    let verdict = outcome.map(|o| verdict_text(o.results.verdict));
    let now = clock(state).await.unwrap_or_else(|_| now_ms());
    let r = sqlx::query(
        "UPDATE runs SET status = $1, verdict = $2, error_detail = $3, \
         results = COALESCE($4, results), junit = COALESCE($5, junit), \
         markdown = COALESCE($6, markdown), finished_at = $7, \
         lease_owner = NULL, lease_expires_at = NULL \
         WHERE id = $8 AND lease_owner = $9 AND status = 'running'",
    )
    .bind(status)
    .bind(verdict)
    .bind(detail)
    .bind(outcome.map(|o| o.results_json.clone()))
    .bind(outcome.map(|o| o.junit_xml.clone()))
    .bind(outcome.map(|o| o.markdown.clone()))
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(&state.db)
    .await;
    match r {
        Ok(done) if done.rows_affected() == 0 => {
            tracing::warn!(run = %id, "the run's lease is no longer this worker's; its outcome is not recorded");
            end_attempt(state, claim, now, "lease lost").await;
        }
        Ok(_) => end_attempt(state, claim, now, status).await,
        Err(e) => tracing::error!(run = %id, "failed to record a run's outcome: {e}"),
    }
}

async fn end_attempt(state: &AppState, claim: &Claim, now: i64, outcome: &str) {
    let r = sqlx::query(
        "UPDATE run_attempts SET ended_at = $1, outcome = $2 \
         WHERE run_id = $3 AND attempt = $4 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(outcome)
    .bind(&claim.id)
    .bind(claim.attempt)
    .execute(&state.db)
    .await;
    if let Err(e) = r {
        tracing::error!(run = %claim.id, "failed to record the end of a run attempt: {e}");
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Error => "error",
    }
}

async fn execute_claimed(state: &AppState, worker: &Arc<str>, claim: &Claim) {
    let id = claim.id.as_str();
    if claim.attempt > MAX_ATTEMPTS {
        tracing::warn!(run = %id, attempts = claim.attempt - 1,
            "the run's worker stopped {} times; recording it as interrupted", claim.attempt - 1);
        finish(
            state,
            worker,
            claim,
            "error",
            Some("interrupted".into()),
            None,
        )
        .await;
        return;
    }
    let job = match prepare(state, id, claim.attempt).await {
        Ok(job) => job,
        Err(detail) => {
            tracing::warn!(run = %id, "run could not start: {detail}");
            finish(state, worker, claim, "error", Some(detail), None).await;
            return;
        }
    };
    tracing::info!(run = %id, attempt = claim.attempt, worker = %worker, "run started");
    let cancel = state.shutdown.child_token();
    let done = CancellationToken::new();
    let lost = Arc::new(AtomicBool::new(false));
    let lease = tokio::spawn(keep_lease(
        state.clone(),
        worker.clone(),
        id.to_string(),
        cancel.clone(),
        done.clone(),
        lost.clone(),
    ));
    let result = execute::execute_run(job, cancel.clone()).await;
    done.cancel();
    let _ = lease.await;
    if lost.load(Ordering::SeqCst) {
        let now = clock(state).await.unwrap_or_else(|_| now_ms());
        end_attempt(state, claim, now, "lease lost").await;
        return;
    }
    if state.shutdown.is_cancelled() {
        finish(
            state,
            worker,
            claim,
            "error",
            Some("interrupted".into()),
            result.as_ref().ok(),
        )
        .await;
        return;
    }
    match result {
        Ok(outcome) => {
            let status = verdict_text(outcome.results.verdict);
            let detail = (outcome.results.verdict == Verdict::Error)
                .then(|| not_measured_detail(&outcome.results));
            tracing::info!(run = %id, status, "run finished");
            finish(state, worker, claim, status, detail, Some(&outcome)).await;
        }
        Err(e) => {
            let detail = match &e {
                ExecuteError::Invalid(issues) => format!(
                    "invalid run input: {}",
                    issues
                        .iter()
                        .map(|i| format!("{}: {}", i.pointer, i.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                ExecuteError::NotMeasured(reason) => format!("not measured: {reason}"),
                ExecuteError::Failed(reason) => reason.clone(),
            };
            tracing::warn!(run = %id, "run ended in error: {detail}");
            finish(state, worker, claim, "error", Some(detail), None).await;
        }
    }
}

fn not_measured_detail(results: &Results) -> String {
    let errors: Vec<String> = results
        .devices
        .iter()
        .filter_map(|d| d.error.as_ref().map(|e| format!("{}: {e}", d.name)))
        .collect();
    if errors.is_empty() {
        "not measured: no gate failed, but something could not be measured".into()
    } else {
        format!("not measured: {}", errors.join("; "))
    }
}

/// Gathers what a run needs; `Err` is the run's error detail.
async fn prepare(state: &AppState, id: &str, attempt: i64) -> Result<RunJob, String> {
    let internal = |e: ApiError| format!("server error while preparing the run ({})", e.detail);
    let row = sqlx::query(
        "SELECT workspace_id, pipeline_id, artifact_id, baseline_run_id FROM runs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&state.db)
    .await
    .map_err(|e| format!("server error while preparing the run ({e})"))?;
    let get = |c: &str| row.try_get::<String, _>(c).map_err(|e| e.to_string());
    let ws = get("workspace_id")?;
    let pipeline_id = get("pipeline_id")?;
    let artifact_id = get("artifact_id")?;
    let baseline_id: Option<String> = row.try_get("baseline_run_id").map_err(|e| e.to_string())?;
    let pipeline = pipelines::load(state, &ws, &pipeline_id)
        .await
        .map_err(internal)?
        .ok_or("the pipeline was deleted")?;
    let promptpack = promptpacks::published_content(
        state,
        &ws,
        &pipeline.promptpack_id,
        &pipeline.promptpack_version,
    )
    .await
    .map_err(internal)?
    .ok_or_else(|| {
        format!(
            "promptpack {} version {} is not published",
            pipeline.promptpack_id, pipeline.promptpack_version
        )
    })?;
    let artifact = artifacts::load(state, &ws, &artifact_id)
        .await
        .map_err(internal)?
        .ok_or("the model artifact was deleted")?;
    let hub_token = integrations::hub_token(state, &ws)
        .await
        .map_err(internal)?;
    let baseline_query = match &baseline_id {
        Some(b) => sqlx::query("SELECT id, results FROM runs WHERE id = $1 AND workspace_id = $2 AND results IS NOT NULL")
            .bind(b.clone())
            .bind(ws.clone()),
        None => sqlx::query(
            "SELECT id, results FROM runs WHERE pipeline_id = $1 AND workspace_id = $2 AND status = 'passed' AND id <> $3 \
             ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .bind(pipeline.id.clone())
        .bind(ws.clone())
        .bind(id.to_string()),
    };
    let baseline_row = baseline_query
        .fetch_optional(&state.db)
        .await
        .map_err(|e| e.to_string())?;
    let baseline = match baseline_row {
        Some(r) => {
            let bid: String = r.try_get("id").map_err(|e| e.to_string())?;
            let text: String = r.try_get("results").map_err(|e| e.to_string())?;
            let results: Results = serde_json::from_str(&text)
                .map_err(|e| format!("baseline run {bid} has unreadable results ({e})"))?;
            if baseline_id.is_none() {
                let _ = sqlx::query("UPDATE runs SET baseline_run_id = $1 WHERE id = $2")
                    .bind(&bid)
                    .bind(id)
                    .execute(&state.db)
                    .await;
            }
            Some(results)
        }
        None if baseline_id.is_some() => return Err("the baseline run has no results".into()),
        None => None,
    };
    let work_dir = state.config.data_dir.join("runs").join(id);
    if attempt > 1 && work_dir.exists() {
        tokio::fs::remove_dir_all(&work_dir)
            .await
            .map_err(|e| format!("failed to clear the run folder of an earlier attempt ({e})"))?;
    }
    tokio::fs::create_dir_all(&work_dir)
        .await
        .map_err(|e| format!("failed to create the run folder ({e})"))?;
    // The engine links the stored blob into the run's folder itself (execute::execute_run).
    let model_path = state
        .artifacts
        .local_path(&artifact.sha256)
        .map_err(|e| format!("the model artifact cannot be read ({e})"))?;
    Ok(RunJob {
        pipeline: pipeline.body,
        promptpack,
        model_path,
        model_kind: artifact.kind,
        hub_url: state.config.hub_url.clone(),
        hub_token,
        baseline,
        work_dir,
        cache_path: state
            .config
            .shared_dir()
            .join("cache")
            .join(&ws)
            .join("jobs.json"),
    })
}
