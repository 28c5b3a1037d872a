//! A finished job's answers: `jobs/{id}/result/` (the profile with per-layer placement, or the
//! output dataset) and its logs (`artifact_list`). Reads jobs, never creates them.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};

use crate::hub::proto::{self, ComputeUnit, JobArtifactType, JobState, job_result};
use crate::sim::blobs;
use crate::sim::measure::{self, Measurement};
use crate::sim::scenario::JobKind;
use crate::sim::state::SimState;
use crate::sim::store::JobRec;

use super::wire::{ApiResult, bad, found, not_found, pb};

/// The QAIRT version the simulator claims.
const QAIRT: &str = "2.37.0";

pub(super) async fn job_result_handler(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = s.store();
    let j = found(store.jobs.get(&id), "Job", &id)?;
    let st = store.status(j, Instant::now());
    if st.state != JobState::Done {
        return Err(not_found(format!(
            "Job {id} has no result (state {:?}).",
            st.state
        )));
    }
    let result = match j.kind {
        JobKind::Compile => job_result::Result::CompileJobResult(proto::CompileJobResult {
            compile_job_id: j.id.clone(),
            compile_detail: Some(proto::CompileDetail {
                tool_versions: vec![proto::ToolVersion {
                    name: "QAIRT".into(),
                    version: QAIRT.into(),
                }],
            }),
        }),
        JobKind::Profile | JobKind::Inference => {
            let sha = store
                .models
                .get(&j.model_id)
                .and_then(|m| m.source_sha256.clone())
                .unwrap_or_default();
            job_result::Result::InferenceJobResult(proto::InferenceJobResult {
                inference_job_id: j.id.clone(),
                output_dataset_id: j.output_dataset_id.clone().unwrap_or_default(),
                detail: j.measurement.as_ref().map(|m| profile_detail(j, m, &sha)),
            })
        }
    };
    Ok(pb(&proto::JobResult {
        result: Some(result),
    }))
}

pub(super) async fn artifact_list(
    State(s): State<Arc<SimState>>,
    Path((id, attempt, kind)): Path<(String, String, String)>,
) -> ApiResult {
    let text = {
        let store = s.store();
        let j = found(store.jobs.get(&id), "Job", &id)?;
        if attempt != "latest" && attempt != "0" {
            return Err(not_found(format!("Job {id} has no attempt {attempt}.")));
        }
        let st = store.status(j, Instant::now());
        let kind: i32 = kind
            .parse()
            .map_err(|_| bad("the artifact type must be an integer"))?;
        let wanted = kind == JobArtifactType::HubLog as i32
            || (kind == JobArtifactType::DeviceLog as i32 && j.kind != JobKind::Compile);
        (st.state.is_terminal() && wanted).then(|| {
            (
                kind,
                format!(
                    "edgegate hub-sim {} job {} on {}: {:?}{}\n",
                    j.kind.name(),
                    j.id,
                    j.device.name,
                    st.state,
                    st.failure
                        .as_ref()
                        .map(|f| format!(" ({})", f.0))
                        .unwrap_or_default()
                ),
            )
        })
    };
    let mut artifacts = vec![];
    if let Some((kind, text)) = text {
        let which = if kind == JobArtifactType::HubLog as i32 {
            "hub"
        } else {
            "device"
        };
        let filename = format!("{id}_{which}.log");
        let key = format!("log-{id}-{which}-{}", s.store().new_id('l'));
        let (_, url) = blobs::store_bytes(&s, &key, &filename, text.as_bytes())
            .await
            .map_err(|e| bad(format!("storing the log failed: {e}")))?;
        artifacts.push(proto::NamedArtifactDownloadUrl {
            url,
            filename,
            name: Some(format!("{which} log")),
            credentials: None,
        });
    }
    Ok(pb(&proto::NamedArtifactDownloadUrlList { artifacts }))
}

pub(super) fn peak_range(m: &Measurement) -> proto::Range {
    proto::Range {
        lower: m.peak_memory_bytes / 8,
        upper: m.peak_memory_bytes,
    }
}

fn profile_detail(j: &JobRec, m: &Measurement, source_sha: &str) -> proto::ProfileDetail {
    let peak = m.peak_memory_bytes;
    let range = |lo: u64, hi: u64| {
        Some(proto::Range {
            lower: lo,
            upper: hi,
        })
    };
    let usage = |p: u64| {
        Some(proto::MemoryUsage {
            increase: range(0, p / 2),
            peak: range(p / 8, p),
        })
    };
    let total = (m.layers.npu + m.layers.gpu + m.layers.cpu).max(1);
    let per_layer = m.inference_us / u64::from(total);
    const KINDS: [&str; 5] = [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "ADD",
        "RELU",
        "FULLY_CONNECTED",
    ];
    let units = std::iter::repeat_n(ComputeUnit::Npu, m.layers.npu as usize)
        .chain(std::iter::repeat_n(ComputeUnit::Gpu, m.layers.gpu as usize))
        .chain(std::iter::repeat_n(ComputeUnit::Cpu, m.layers.cpu as usize));
    let layer_details = units
        .enumerate()
        .map(|(i, cu)| proto::LayerDetail {
            name: format!("layer_{i}"),
            compute_unit: cu as i32,
            layer_type_name: KINDS[i % KINDS.len()].to_owned(),
            id: i.to_string(),
            delegate_name: if cu == ComputeUnit::Cpu { "" } else { "QNN" }.to_owned(),
            delegate_extra_info: String::new(),
            execution_time: Some(per_layer),
            segment_id: Some("0".into()),
            delegate_reported_ops: vec![],
            execution_cycles: None,
        })
        .collect();
    let main_unit = if m.layers.npu > 0 {
        ComputeUnit::Npu
    } else if m.layers.gpu > 0 {
        ComputeUnit::Gpu
    } else {
        ComputeUnit::Cpu
    };
    proto::ProfileDetail {
        execution_time: m.inference_us,
        peak_memory_usage: peak,
        load_time: Some(m.cold_load_us),
        layer_details,
        major_version: 1,
        minor_version: 8,
        after_cold_load_peak_memory: peak / 2,
        after_compile_peak_memory: peak / 3,
        after_execution_peak_memory: peak,
        after_warm_load_peak_memory: peak / 2,
        cold_load_time: m.cold_load_us,
        compile_time: m.compile_us,
        warm_load_time: m.warm_load_us,
        compile_memory: usage(peak / 3),
        cold_load_memory: usage(peak / 2),
        warm_load_memory: usage(peak / 2),
        execution_memory: usage(peak),
        all_compile_times: vec![m.compile_us],
        all_cold_load_times: vec![m.cold_load_us],
        all_warm_load_times: vec![m.warm_load_us],
        all_execution_times: match &m.samples {
            Some(noise) => measure::noisy_iteration_times(
                source_sha,
                &j.device.name,
                m.inference_us,
                j.iterations,
                noise,
            ),
            None => {
                measure::iteration_times(source_sha, &j.device.name, m.inference_us, j.iterations)
            }
        },
        segment_details: vec![proto::SegmentDetail {
            id: "0".into(),
            compute_unit: main_unit as i32,
            delegate_name: "QNN".into(),
            delegate_extra_info: String::new(),
            execution_time: Some(m.inference_us),
        }],
        tool_versions: vec![proto::ToolVersion {
            name: "QAIRT".into(),
            version: QAIRT.into(),
        }],
        ..proto::ProfileDetail::default()
    }
}
