//! Reads the baseline that relative gates compare against: the results.json of an earlier run.

use std::path::Path;

use crate::report::results::RESULTS_VERSION;
use crate::report::{DeviceResult, Results};

/// Loads a baseline results file; the error says what is wrong and what to pass instead.
pub fn load(path: &Path) -> Result<Results, String> {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "baseline file `{shown}` does not exist; pass the results file of an earlier `edgegate run` (written by `--json`, default `edgegate-results.json`)"
            ));
        }
        Err(e) => return Err(format!("cannot read baseline file `{shown}`: {e}")),
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
