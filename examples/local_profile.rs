//! Profiles a config's model on the local `host` device and prints the figures as one JSON line.
//!
//! `cargo run --release --example local_profile -- examples/quickstart/edgegate.yaml`
//! Used by `scripts/bench-local.sh`; the figures are those `edgegate run` reports for `host`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use edgegate::config::load_project;
use edgegate::device::inputs::load_case_inputs;
use edgegate::device::local::LocalDevice;
use edgegate::device::{Device, ModelArtifact, RunSettings};
use sha2::Digest;

/// Linear interpolation between closest ranks (numpy's default), as `edgegate run` reports.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

async fn run(config: PathBuf) -> Result<serde_json::Value, String> {
    let project = load_project(&config)
        .map_err(|f| edgegate::config::load::render_all(&f.diagnostics, &f.sources))?;
    let bytes = std::fs::read(&project.model_path)
        .map_err(|e| format!("{}: {e}", project.model_path.display()))?;
    let model = ModelArtifact {
        path: project.model_path.clone(),
        kind: project.model_kind,
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        size_bytes: bytes.len() as u64,
        input_specs: project.config.model.input_specs.clone(),
    };
    let cases = load_case_inputs(&project, &model).map_err(|e| e.to_string())?;
    let policy = &project.config.run_policy;
    let settings = RunSettings {
        warmup_runs: policy.warmup_runs,
        measurement_repeats: policy.measurement_repeats,
        job_timeout: Duration::from_secs(600),
        round: 0,
        reuse_profiles: true,
    };
    let dev = LocalDevice::new("host");
    let prepared = dev.prepare(&model).await.map_err(|e| e.to_string())?;
    let p = dev
        .profile(&prepared, &cases, &settings)
        .await
        .map_err(|e| e.to_string())?;
    let mut sorted = p.inference_ms.clone();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Err("no samples".into());
    }
    Ok(serde_json::json!({
        "model": project.model_path,
        "cases": cases.len(),
        "samples": sorted.len(),
        "inference_time_ms": percentile(&sorted, 50.0),
        "inference_time_ms_p90": percentile(&sorted, 90.0),
        "load_time_ms": p.load_time_ms,
        "peak_memory_mb": p.peak_memory_bytes.map(|b| b as f64 / (1024.0 * 1024.0)),
        "model_size_mb": p.model_size_bytes.map(|b| b as f64 / (1024.0 * 1024.0)),
    }))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let Some(config) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: local_profile CONFIG.yaml");
        return ExitCode::from(2);
    };
    match run(config).await {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
