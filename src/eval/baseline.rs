//! Reads the baseline that relative gates compare against: the results.json of an earlier run.

use std::path::{Path, PathBuf};

use crate::config::Gate;
use crate::files::FileError;
use crate::results::RESULTS_VERSION;
use crate::results::{DeviceResult, Results};

use super::gates;

/// Why a baseline file cannot be compared against; each message says what to pass instead.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Nothing at the path.
    #[error(
        "baseline file `{}` does not exist; pass the results file of an earlier `edgegate run` (written by `--json`, default `edgegate-results.json`)",
        path.display()
    )]
    NotFound { path: PathBuf },
    /// Not a readable regular file within the size limit.
    #[error("{source}; pass the results file of an earlier `edgegate run`")]
    Unreadable {
        #[source]
        source: FileError,
    },
    /// The file is not JSON.
    #[error(
        "baseline file `{}` is not JSON ({source}); pass the results file of an earlier `edgegate run`",
        path.display()
    )]
    NotJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but not a results file.
    #[error(
        "baseline file `{}` is not an EdgeGate results file (it has no `results_version`); pass the results file of an earlier `edgegate run`",
        path.display()
    )]
    NotResults { path: PathBuf },
    /// A results file of another format version.
    #[error(
        "baseline file `{}` has results_version {found}, but this edgegate reads version {RESULTS_VERSION}; re-run the baseline with this version of edgegate",
        path.display()
    )]
    Version {
        path: PathBuf,
        found: serde_json::Value,
    },
    /// The right version, but not its shape.
    #[error(
        "baseline file `{}` does not match the results format of version {RESULTS_VERSION}: {source}",
        path.display()
    )]
    Format {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A metric that no run measures (negative, NaN, infinite).
    #[error(
        "baseline file `{}`: device `{device}` has `{metric}` = {value}, which is not a measurement (metrics are finite and never negative); pass the unedited results file of an earlier `edgegate run`",
        path.display()
    )]
    NotMeasurement {
        path: PathBuf,
        device: String,
        metric: String,
        value: f64,
    },
    /// A folder given as `--baseline` holds no results file.
    #[error(
        "baseline folder `{}` holds no results file (`*.json` written by `edgegate run`); pass a folder of earlier results, or one results file",
        path.display()
    )]
    EmptyFolder { path: PathBuf },
    /// The folder cannot be listed.
    #[error("cannot list baseline folder `{}`: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The baseline measured something that cannot be compared with this run.
    #[error(
        "baseline `{}` is not comparable: {what}: the baseline has {theirs}, this run {ours}; {help}",
        path.display()
    )]
    Incomparable {
        path: PathBuf,
        what: String,
        theirs: String,
        ours: String,
        help: String,
    },
    /// A 0 that a relative gate would divide by.
    #[error(
        "baseline file `{}`: device `{device}` has `{metric}` = 0, which the relative gate `gates[{gate}]` would divide by; use an absolute gate (`operator` and `threshold`) on `{metric}`, or a baseline run that measured it",
        path.display()
    )]
    ZeroDivisor {
        path: PathBuf,
        device: String,
        metric: String,
        gate: usize,
    },
}

/// Loads a baseline results file; the error says what is wrong and what to pass instead.
pub fn load(path: &Path) -> Result<Results, BaselineError> {
    let text =
        match crate::files::read_to_string(path, "baseline file", crate::files::RESULTS_LIMIT) {
            Ok(t) => t,
            Err(FileError::NotFound { .. }) => {
                return Err(BaselineError::NotFound {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => return Err(BaselineError::Unreadable { source }),
        };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| BaselineError::NotJson {
            path: path.to_path_buf(),
            source,
        })?;
    match value.get("results_version") {
        None => {
            return Err(BaselineError::NotResults {
                path: path.to_path_buf(),
            });
        }
        Some(v) if v.as_u64() != Some(u64::from(RESULTS_VERSION)) => {
            return Err(BaselineError::Version {
                path: path.to_path_buf(),
                found: v.clone(),
            });
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|source| BaselineError::Format {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads every baseline: each path is a results file, or a folder whose `*.json` files are all
/// results files. Sorted oldest first by `started_at`, so the newest is last.
pub fn load_many(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Results)>, BaselineError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| BaselineError::Folder {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(BaselineError::EmptyFolder { path: p.clone() });
            }
            for f in files {
                let r = load(&f)?;
                out.push((f, r));
            }
        } else {
            let r = load(p)?;
            out.push((p.clone(), r));
        }
    }
    out.sort_by(|a, b| a.1.started_at.cmp(&b.1.started_at));
    Ok(out)
}

/// What this run is, for the comparability check against a baseline.
#[derive(Debug, Clone)]
pub struct ThisRun<'a> {
    /// The model format (`onnx`, `tflite`, ...).
    pub model_kind: &'a str,
    /// Each planned device: name, provider, AI Hub device, runtime.
    pub devices: Vec<(
        String,
        crate::config::Provider,
        Option<String>,
        Option<String>,
    )>,
    /// What the measurement depends on.
    pub environment: &'a crate::results::Environment,
    /// This edgegate's version.
    pub version: &'a str,
}

/// Checks that a baseline measured what this run measures. A different model format, or a
/// device name that means another device (provider, AI Hub device or runtime), is an error: the
/// numbers say nothing about each other. A different run policy, build, machine or edgegate
/// version is a warning naming both sides, as is a baseline too old to record them.
pub fn comparability(
    baseline: &Results,
    path: &Path,
    this: &ThisRun<'_>,
) -> Result<Vec<String>, BaselineError> {
    let refuse =
        |what: &str, theirs: String, ours: String, help: &str| BaselineError::Incomparable {
            path: path.to_path_buf(),
            what: what.to_string(),
            theirs,
            ours,
            help: help.to_string(),
        };
    if baseline.model.kind != this.model_kind {
        return Err(refuse(
            "model format",
            format!("a {} model", baseline.model.kind),
            format!("a {} model", this.model_kind),
            "a baseline must measure the same format; use the results of a run of the same kind of model",
        ));
    }
    for (name, provider, hub, runtime) in &this.devices {
        let Some(b) = device(baseline, name) else {
            continue;
        };
        let same_hub = match (&b.hub_device, hub) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        let same_runtime = match (&b.runtime, runtime) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        if b.provider != *provider || !same_hub || !same_runtime {
            let side = |p: &crate::config::Provider, h: &Option<String>, r: &Option<String>| {
                let mut t = match p {
                    crate::config::Provider::Local => "the local CPU".to_string(),
                    crate::config::Provider::Aihub => "AI Hub".to_string(),
                };
                if let Some(h) = h {
                    t.push_str(&format!(" device `{h}`"));
                }
                if let Some(r) = r {
                    t.push_str(&format!(" with runtime {r}"));
                }
                t
            };
            return Err(refuse(
                &format!("device `{name}`"),
                side(&b.provider, &b.hub_device, &b.runtime),
                side(provider, hub, runtime),
                "a baseline must come from the same device; use results measured there, or rename the device",
            ));
        }
    }
    let mut warnings = Vec::new();
    let p = path.display();
    let Some(env) = &baseline.environment else {
        warnings.push(format!(
            "baseline `{p}` records no run policy, build profile or machine (written by an older edgegate {}); the comparison may not be like for like: re-run the baseline with this edgegate",
            baseline.tool.version
        ));
        return Ok(warnings);
    };
    let ours = this.environment;
    let mut differ = |what: &str, theirs: String, mine: String| {
        if theirs != mine {
            warnings.push(format!(
                "baseline `{p}` differs in {what}: baseline {theirs}, this run {mine}; its numbers may not be comparable"
            ));
        }
    };
    differ(
        "run_policy",
        format!(
            "warmup_runs {} + measurement_repeats {} × runs {}",
            env.warmup_runs, env.measurement_repeats, env.runs
        ),
        format!(
            "warmup_runs {} + measurement_repeats {} × runs {}",
            ours.warmup_runs, ours.measurement_repeats, ours.runs
        ),
    );
    differ(
        "build profile",
        format!("`{}`", env.build_profile),
        format!("`{}`", ours.build_profile),
    );
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let host = this
        .devices
        .iter()
        .any(|(_, p, _, _)| *p == crate::config::Provider::Local);
    if host {
        differ(
            "CPU model",
            format!("`{}`", opt(&env.cpu_model)),
            format!("`{}`", opt(&ours.cpu_model)),
        );
        let cores = |c: Option<u32>| c.map_or("unknown".into(), |c| c.to_string());
        differ("CPU cores", cores(env.cpu_cores), cores(ours.cpu_cores));
    }
    differ(
        "edgegate version",
        baseline.tool.version.clone(),
        this.version.to_string(),
    );
    Ok(warnings)
}

/// Refuses results given as data (not read through [`load`]) whose format version is not the one
/// this edgegate reads; `path` is the name that stands for them in the message.
pub fn check_given(baseline: &Results, path: &Path) -> Result<(), BaselineError> {
    if baseline.results_version == RESULTS_VERSION {
        Ok(())
    } else {
        Err(BaselineError::Version {
            path: path.to_path_buf(),
            found: baseline.results_version.into(),
        })
    }
}

/// The baseline's entry for a device, matched by its `device_matrix` name (case-sensitive).
pub fn device<'a>(baseline: &'a Results, name: &str) -> Option<&'a DeviceResult> {
    baseline.devices.iter().find(|d| d.name == name)
}

/// Refuses a baseline whose values are not measurements, before anything runs: a negative or
/// non-finite metric anywhere in the file, or a 0 that a relative gate on one of `devices` would
/// divide by. Such a file would make every relative gate pass (or none), so it is invalid input.
pub fn check(
    baseline: &Results,
    path: &Path,
    gates: &[Gate],
    devices: &[&str],
) -> Result<(), BaselineError> {
    for d in &baseline.devices {
        for (metric, m) in &d.metrics {
            if !m.value.is_finite() || m.value < 0.0 {
                return Err(BaselineError::NotMeasurement {
                    path: path.to_path_buf(),
                    device: d.name.clone(),
                    metric: metric.clone(),
                    value: m.value,
                });
            }
        }
    }
    for &name in devices {
        let Some(d) = device(baseline, name) else {
            continue;
        };
        for (i, g) in gates::applicable(gates, name) {
            let metric = g.metric.as_str();
            if g.max_regression_pct.is_some()
                && g.metric.better().is_some()
                && d.metrics.get(metric).is_some_and(|m| m.value == 0.0)
            {
                return Err(BaselineError::ZeroDivisor {
                    path: path.to_path_buf(),
                    device: name.to_string(),
                    metric: metric.to_string(),
                    gate: i,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use crate::results::Verdict;
    use crate::results::{ModelInfo, Summary, ToolInfo};

    fn results(names: &[&str]) -> Results {
        Results {
            results_version: RESULTS_VERSION,
            tool: ToolInfo {
                name: "edgegate".into(),
                version: "0.1.0".into(),
            },
            pipeline: "p".into(),
            config_path: "edgegate.yaml".into(),
            config_digest: "d".into(),
            model: ModelInfo {
                path: "m.onnx".into(),
                kind: "onnx".into(),
                sha256: "ab".into(),
                size_bytes: 1,
            },
            promptpack: None,
            ci: None,
            baseline: None,
            baseline_model: None,
            environment: None,
            warnings: Vec::new(),
            started_at: "2026-11-25T22:00:00Z".into(),
            finished_at: "2026-11-25T22:01:00Z".into(),
            duration_s: 60.0,
            interrupted: false,
            shard: None,
            devices: names
                .iter()
                .map(|n| DeviceResult {
                    name: n.to_string(),
                    provider: Provider::Local,
                    hub_device: None,
                    runtime: None,
                    jobs: Vec::new(),
                    metrics: Default::default(),
                    layers: None,
                    cases: Vec::new(),
                    gates: Vec::new(),
                    verdict: Verdict::Passed,
                    error: None,
                    invalid_input: false,
                    duration_s: 1.0,
                    baseline_metrics: Default::default(),
                })
                .collect(),
            summary: Summary::default(),
            verdict: Verdict::Passed,
        }
    }

    fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let p = dir.path().join("base.json");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn loads_a_results_file_and_finds_devices_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let r = results(&["RB5", "host"]);
        let p = write(&dir, &serde_json::to_string(&r).unwrap());
        let loaded = load(&p).unwrap();
        assert_eq!(loaded, r);
        assert_eq!(
            device(&loaded, "host").map(|d| d.name.as_str()),
            Some("host")
        );
        assert!(device(&loaded, "rb5").is_none());
        assert!(device(&loaded, "S24").is_none());
    }

    #[test]
    fn missing_file_says_what_to_pass() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope.json");
        let e = load(&p).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "baseline file `{}` does not exist; pass the results file of an earlier `edgegate run` (written by `--json`, default `edgegate-results.json`)",
                p.display()
            )
        );
    }

    #[test]
    fn not_json_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "<html>");
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("is not JSON ("), "{e}");
        assert!(
            e.ends_with("pass the results file of an earlier `edgegate run`"),
            "{e}"
        );
    }

    #[test]
    fn wrong_or_missing_results_version_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = serde_json::to_value(results(&["host"])).unwrap();
        v["results_version"] = serde_json::json!(99);
        let p = write(&dir, &v.to_string());
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("has results_version 99, but this edgegate reads version 1; re-run the baseline with this version of edgegate"),
            "{e}"
        );
        let p = write(&dir, r#"{"name": "something else"}"#);
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("is not an EdgeGate results file (it has no `results_version`)"),
            "{e}"
        );
    }

    fn with_metric(mut r: Results, device: &str, metric: &str, value: f64) -> Results {
        if let Some(d) = r.devices.iter_mut().find(|d| d.name == device) {
            d.metrics.insert(
                metric.into(),
                crate::results::MetricValue {
                    value,
                    unit: "ms".into(),
                    p90: None,
                    samples: Vec::new(),
                    runs: Vec::new(),
                    estimate: None,
                },
            );
        }
        r
    }

    fn gate(yaml: &str) -> Gate {
        serde_json::from_value(crate::config::yaml::parse(yaml).unwrap().value).unwrap()
    }

    #[test]
    fn negative_or_non_finite_values_are_refused_naming_file_device_and_metric() {
        let p = Path::new("base.json");
        let relative = [gate(
            "{ metric: inference_time_ms, max_regression_pct: 10 }",
        )];
        for bad in [-5974.0, f64::NAN, f64::INFINITY] {
            let b = with_metric(results(&["RB5", "host"]), "RB5", "inference_time_ms", bad);
            let e = check(&b, p, &relative, &["host"]).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "baseline file `base.json`: device `RB5` has `inference_time_ms` = {bad}, which is not a measurement (metrics are finite and never negative); pass the unedited results file of an earlier `edgegate run`"
                )
            );
        }
        let ok = with_metric(results(&["host"]), "host", "inference_time_ms", 0.5);
        assert_eq!(
            check(&ok, p, &relative, &["host"]).map_err(|e| e.to_string()),
            Ok(())
        );
    }

    #[test]
    fn zero_is_refused_only_where_a_relative_gate_divides_by_it() {
        let p = Path::new("base.json");
        let b = with_metric(results(&["host", "RB5"]), "host", "load_time_ms", 0.0);
        let relative = [gate("{ metric: load_time_ms, max_regression_pct: 10 }")];
        let absolute = [gate(
            "{ metric: load_time_ms, operator: lte, threshold: 5 }",
        )];
        let scoped = [gate(
            "{ metric: load_time_ms, max_regression_pct: 10, devices: [RB5] }",
        )];
        assert_eq!(
            check(&b, p, &relative, &["host"]).unwrap_err().to_string(),
            "baseline file `base.json`: device `host` has `load_time_ms` = 0, which the relative gate `gates[0]` would divide by; use an absolute gate (`operator` and `threshold`) on `load_time_ms`, or a baseline run that measured it"
        );
        assert_eq!(
            check(&b, p, &absolute, &["host"]).map_err(|e| e.to_string()),
            Ok(())
        );
        assert_eq!(
            check(&b, p, &scoped, &["host", "RB5"]).map_err(|e| e.to_string()),
            Ok(())
        );
        assert_eq!(
            check(&b, p, &relative, &["RB5"]).map_err(|e| e.to_string()),
            Ok(())
        );
    }

    #[test]
    fn right_version_wrong_shape_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, r#"{"results_version": 1}"#);
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("does not match the results format of version 1: missing field"),
            "{e}"
        );
    }
}
