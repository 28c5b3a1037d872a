//! `job_summaries/`: the short job list the web UI and `qai-hub list-jobs` read, filtered by
//! state and type.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{RawQuery, State};

use crate::hub::proto::{self, JobState, job_summary};
use crate::sim::scenario::JobKind;
use crate::sim::state::SimState;
use crate::sim::store::{JobRec, Status, Store};

use super::results::peak_range;
use super::wire::{ApiResult, Query, bad, paginate, pb, ts};

pub(super) async fn job_summaries(
    State(s): State<Arc<SimState>>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let page = q.page()?;
    let states: Option<Vec<i32>> = match q.get("state").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.split(',')
                .map(|p| p.trim().parse::<i32>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad("`state` must be comma-separated integers"))?,
        ),
    };
    let kinds: Option<Vec<JobKind>> = match q.get("type").filter(|v| !v.is_empty()) {
        None => None,
        Some("compile") => Some(vec![JobKind::Compile]),
        Some("profile") | Some("inference") => Some(vec![JobKind::Profile, JobKind::Inference]),
        Some("quantize") | Some("link") => Some(vec![]),
        Some(other) => return Err(bad(format!("unknown job type {other:?}"))),
    };
    let store = s.store();
    let now = Instant::now();
    let summaries: Vec<proto::JobSummary> = store
        .job_order
        .iter()
        .rev()
        .filter_map(|id| store.jobs.get(id))
        .filter(|j| kinds.as_ref().is_none_or(|k| k.contains(&j.kind)))
        .map(|j| (j, store.status(j, now)))
        .filter(|(_, st)| {
            states
                .as_ref()
                .is_none_or(|v| v.contains(&(st.state as i32)))
        })
        .map(|(j, st)| summary(&s, &store, j, &st))
        .collect();
    let total = summaries.len() as u64;
    Ok(pb(&proto::JobSummaryList {
        job_summaries: paginate(summaries, page),
        total_query_count: total,
    }))
}

fn summary(s: &SimState, store: &Store, j: &JobRec, st: &Status) -> proto::JobSummary {
    let started = st.started.map(|t| s.unix(t)).and_then(ts);
    let finished = st.finished.map(|t| s.unix(t)).and_then(ts);
    let last = st
        .finished
        .or(st.started)
        .map(|t| s.unix(t))
        .unwrap_or(j.created);
    let done = st.state == JobState::Done;
    let inner = match j.kind {
        JobKind::Compile => job_summary::Job::CompileJobSummary(proto::CompileJobSummary {
            job_id: j.id.clone(),
            name: j.name.clone(),
            job_state: st.state as i32,
            device_name: j.device.name.clone(),
            device_os_version: j.device.os.clone(),
            creation_time: ts(j.created),
            start_time: started,
            completion_time: finished,
            last_updated_time: ts(last),
            queued_time: ts(j.created),
            target_model_type: j
                .target_model_id
                .as_ref()
                .and_then(|id| store.models.get(id))
                .map(|m| m.model_type),
            ..proto::CompileJobSummary::default()
        }),
        JobKind::Profile | JobKind::Inference => {
            let m = j.measurement.as_ref().filter(|_| done);
            job_summary::Job::InferenceJobSummary(proto::InferenceJobSummary {
                job_id: j.id.clone(),
                name: j.name.clone(),
                job_state: st.state as i32,
                device_name: j.device.name.clone(),
                device_os_version: j.device.os.clone(),
                creation_time: ts(j.created),
                start_time: started,
                completion_time: finished,
                last_updated_time: ts(last),
                queued_time: ts(j.created),
                target_model_type: store.models.get(&j.model_id).map(|m| m.model_type),
                execution_time: m.map(|m| m.inference_us),
                execution_peak_memory: m.map(peak_range),
                is_profiling_on: Some(j.kind == JobKind::Profile),
                ..proto::InferenceJobSummary::default()
            })
        }
    };
    proto::JobSummary {
        job: Some(inner),
        actor_authorization: None,
    }
}
