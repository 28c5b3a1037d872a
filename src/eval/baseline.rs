//! Reads the baseline that relative gates compare against: the results.json of an earlier run.

use std::path::Path;

use crate::report::results::RESULTS_VERSION;
use crate::report::{DeviceResult, Results};

/// Loads a baseline results file; the error says what is wrong and what to pass instead.
pub fn load(path: &Path) -> Result<Results, String> {
    let shown = path.display();
    let text = match crate::files::read_to_string(
        path,
        "baseline file",
        crate::files::RESULTS_LIMIT,
    ) {
        Ok(t) => t,
        Err(crate::files::FileError::NotFound { .. }) => {
            return Err(format!(
                "baseline file `{shown}` does not exist; pass the results file of an earlier `edgegate run` (written by `--json`, default `edgegate-results.json`)"
            ));
        }
        Err(e) => {
            return Err(format!(
                "{e}; pass the results file of an earlier `edgegate run`"
            ));
        }
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "baseline file `{shown}` is not JSON ({e}); pass the results file of an earlier `edgegate run`"
        )
    })?;
    match value.get("results_version") {
        None => {
            return Err(format!(
                "baseline file `{shown}` is not an EdgeGate results file (it has no `results_version`); pass the results file of an earlier `edgegate run`"
            ));
        }
        Some(v) if v.as_u64() != Some(u64::from(RESULTS_VERSION)) => {
            return Err(format!(
                "baseline file `{shown}` has results_version {v}, but this edgegate reads version {RESULTS_VERSION}; re-run the baseline with this version of edgegate"
            ));
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|e| {
        format!(
            "baseline file `{shown}` does not match the results format of version {RESULTS_VERSION}: {e}"
        )
    })
}

/// The baseline's entry for a device, matched by its `device_matrix` name (case-sensitive).
pub fn device<'a>(baseline: &'a Results, name: &str) -> Option<&'a DeviceResult> {
    baseline.devices.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use crate::report::Verdict;
    use crate::report::results::{ModelInfo, Summary, ToolInfo};

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
            started_at: "2026-11-25T22:00:00Z".into(),
            finished_at: "2026-11-25T22:01:00Z".into(),
            duration_s: 60.0,
            interrupted: false,
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
        let e = load(&p).unwrap_err();
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
        let e = load(&p).unwrap_err();
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
        let e = load(&p).unwrap_err();
        assert!(
            e.ends_with("has results_version 99, but this edgegate reads version 1; re-run the baseline with this version of edgegate"),
            "{e}"
        );
        let p = write(&dir, r#"{"name": "something else"}"#);
        let e = load(&p).unwrap_err();
        assert!(
            e.contains("is not an EdgeGate results file (it has no `results_version`)"),
            "{e}"
        );
    }

    #[test]
    fn right_version_wrong_shape_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, r#"{"results_version": 1}"#);
        let e = load(&p).unwrap_err();
        assert!(
            e.contains("does not match the results format of version 1: missing field"),
            "{e}"
        );
    }
}
