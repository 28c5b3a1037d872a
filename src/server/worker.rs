//! The run worker: claims queued runs from the database (woken by the queue's bell, and polling
//! as a fallback), executes up to `max_concurrent_runs` at once through `execute::execute_run`,
//! and records status, verdict, results and error detail. On shutdown the runs in flight are
//! cancelled and recorded as error "interrupted".

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::results::{Results, Verdict};

use super::artifacts;
use super::db::now_ms;
use super::error::ApiError;
use super::execute::{self, ExecuteError, RunJob};
use super::integrations;
use super::pipelines;
use super::promptpacks;
use super::state::AppState;

const POLL: Duration = Duration::from_secs(2);

/// Runs the worker until shutdown, then waits for the runs in flight to be recorded.
pub async fn run_worker(state: AppState) {
    let slots = Arc::new(Semaphore::new(state.config.max_concurrent_runs.max(1)));
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = state.shutdown.cancelled() => break,
        };
        match claim(&state).await {
            Ok(Some(id)) => {
                let st = state.clone();
                running.spawn(async move {
                    execute_one(&st, &id).await;
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

/// Moves the oldest queued run to `running` and returns its id.
async fn claim(state: &AppState) -> Result<Option<String>, sqlx::Error> {
    loop {
        let row = sqlx::query(
            "SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1",
        )
        .fetch_optional(&state.db)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let done = sqlx::query("UPDATE runs SET status = 'running', started_at = $1 WHERE id = $2 AND status = 'queued'")
            .bind(now_ms())
            .bind(&id)
            .execute(&state.db)
            .await?;
        if done.rows_affected() == 1 {
            return Ok(Some(id));
        }
    }
}

async fn finish(
    state: &AppState,
    id: &str,
    status: &str,
    detail: Option<String>,
    outcome: Option<&execute::RunOutcome>,
) {
    let verdict = outcome.map(|o| verdict_text(o.results.verdict));
    let r = sqlx::query(
        "UPDATE runs SET status = $1, verdict = $2, error_detail = $3, results = $4, junit = $5, markdown = $6, finished_at = $7 WHERE id = $8",
    )
    .bind(status)
    .bind(verdict)
    .bind(detail)
    .bind(outcome.map(|o| o.results_json.clone()))
    .bind(outcome.map(|o| o.junit_xml.clone()))
    .bind(outcome.map(|o| o.markdown.clone()))
    .bind(now_ms())
    .bind(id)
    .execute(&state.db)
    .await;
    if let Err(e) = r {
        tracing::error!(run = %id, "failed to record a run's outcome: {e}");
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Error => "error",
    }
}

async fn execute_one(state: &AppState, id: &str) {
    let job = match prepare(state, id).await {
        Ok(job) => job,
        Err(detail) => {
            tracing::warn!(run = %id, "run could not start: {detail}");
            finish(state, id, "error", Some(detail), None).await;
            return;
        }
    };
    tracing::info!(run = %id, "run started");
    let cancel = state.shutdown.child_token();
    let result = execute::execute_run(job, cancel.clone()).await;
    if state.shutdown.is_cancelled() {
        finish(
            state,
            id,
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
            finish(state, id, status, detail, Some(&outcome)).await;
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
            finish(state, id, "error", Some(detail), None).await;
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
async fn prepare(state: &AppState, id: &str) -> Result<RunJob, String> {
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
    tokio::fs::create_dir_all(&work_dir)
        .await
        .map_err(|e| format!("failed to create the run folder ({e})"))?;
    // The engine links the stored blob into the run's folder itself (execute::execute_run).
    let model_path = artifacts::blob_path(state, &artifact.sha256);
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
            .data_dir
            .join("cache")
            .join(&ws)
            .join("jobs.json"),
    })
}
