//! The compact terminal summary of a run: devices × gates with each device's verdict, the gate
//! legend, what could not be measured, and the overall verdict in one line. Reads results only,
//! through `report::format`; must not reach into devices, the engine or commands.

use std::fmt::Write as _;

use crate::report::format::{Digits, delta_pct, gate_indices, pct, verdict_word};
use crate::results::{GateResult, GateStatus, Results};

/// The table `edgegate run` prints on stdout.
pub fn render(results: &Results) -> String {
    let mut o = String::new();
    let gate_ids = gate_indices(results);
    let mut header = vec!["device".to_string(), "verdict".to_string()];
    header.extend(gate_ids.iter().map(|i| format!("gate {i}")));
    let mut rows = vec![header];
    for d in &results.devices {
        let mut row = vec![d.name.clone(), verdict_word(d.verdict).to_string()];
        for i in &gate_ids {
            row.push(match d.gates.iter().find(|g| g.index == *i) {
                Some(g) => cell(g),
                None => "-".to_string(),
            });
        }
        rows.push(row);
    }
    let cols = rows.first().map(Vec::len).unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map(|s| s.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s}{}", " ".repeat(w - s.chars().count())))
            .collect();
        let _ = writeln!(o, "{}", line.join("  ").trim_end());
    }
    if !gate_ids.is_empty() {
        let _ = writeln!(o);
        for i in &gate_ids {
            if let Some(g) = results
                .devices
                .iter()
                .flat_map(|d| &d.gates)
                .find(|g| g.index == *i)
            {
                let _ = writeln!(o, "gate {i}: {}", gate_text(g));
            }
        }
    }
    let problems: Vec<String> = results
        .devices
        .iter()
        .flat_map(|d| {
            let mut v = Vec::new();
            if let Some(e) = &d.error {
                v.push(format!("{}: {e}", d.name));
            }
            for g in d.gates.iter().filter(|g| g.status != GateStatus::Passed) {
                v.push(format!("{} gate {}: {}", d.name, g.index, g.message));
            }
            v
        })
        .collect();
    let estimates: Vec<String> = super::format::estimates(results)
        .into_iter()
        .map(|(d, m, f)| format!("≈ {d} {}: {f}", m.as_str()))
        .collect();
    if !estimates.is_empty() {
        let _ = writeln!(o);
        for e in estimates {
            let _ = writeln!(o, "{e}");
        }
    }
    if !problems.is_empty() {
        let _ = writeln!(o);
        for p in problems {
            let _ = writeln!(o, "{p}");
        }
    }
    let s = &results.summary;
    let _ = writeln!(
        o,
        "\n{}: {} device{}, gates {} passed / {} failed / {} not measured, cases {} passed / {} failed / {} errors{}",
        verdict_word(results.verdict).to_uppercase(),
        s.devices,
        if s.devices == 1 { "" } else { "s" },
        s.gates_passed,
        s.gates_failed,
        s.gates_error,
        s.cases_passed,
        s.cases_failed,
        s.cases_error,
        if results.interrupted {
            " (interrupted: partial results)"
        } else {
            ""
        }
    );
    o
}

fn cell(g: &GateResult) -> String {
    let mark = match g.status {
        GateStatus::Passed => "✓",
        GateStatus::Failed => "✗",
        GateStatus::Error => "⚠",
    };
    let approx = if g.estimate.is_some() { "≈" } else { "" };
    match (g.actual, g.delta_pct) {
        (Some(a), Some(d)) => format!(
            "{mark} {approx}{} ({})",
            Digits::Column.num(a),
            delta_pct(d)
        ),
        (Some(a), None) => format!("{mark} {approx}{}", Digits::Column.num(a)),
        (None, _) => format!("{mark} n/a"),
    }
}

fn gate_text(g: &GateResult) -> String {
    match (g.operator, g.threshold, g.max_regression_pct) {
        (Some(op), Some(t), _) => format!(
            "{} {} {}",
            g.metric.as_str(),
            op.symbol(),
            Digits::Column.num(t)
        ),
        (_, _, Some(p)) => format!(
            "{} at most {} worse than the baseline",
            g.metric.as_str(),
            pct(p)
        ),
        _ => g.metric.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::types::{Metric, Operator, Provider};
    use crate::results::{DeviceResult, GateResult, Summary, Verdict};
    use std::collections::BTreeMap;

    fn gate(index: usize, status: GateStatus, actual: Option<f64>, msg: &str) -> GateResult {
        GateResult {
            index,
            metric: Metric::InferenceTimeMs,
            operator: Some(Operator::Lte),
            threshold: Some(10.0),
            max_regression_pct: None,
            description: None,
            actual,
            baseline: None,
            delta: None,
            delta_pct: None,
            status,
            message: msg.into(),
            interval: None,
            inconclusive: false,
            estimate: None,
        }
    }

    fn device(
        name: &str,
        verdict: Verdict,
        gates: Vec<GateResult>,
        error: Option<&str>,
    ) -> DeviceResult {
        DeviceResult {
            name: name.into(),
            provider: Provider::Aihub,
            hub_device: None,
            runtime: None,
            jobs: vec![],
            metrics: BTreeMap::new(),
            layers: None,
            cases: vec![],
            gates,
            verdict,
            error: error.map(str::to_string),
            invalid_input: false,
            duration_s: 1.0,
            baseline_metrics: Default::default(),
        }
    }

    #[test]
    fn the_table_shows_devices_by_gates_problems_and_the_verdict() {
        let devices = vec![
            device(
                "s24",
                Verdict::Failed,
                vec![gate(
                    0,
                    GateStatus::Failed,
                    Some(12.5),
                    "12.5 ms is over 10 ms",
                )],
                None,
            ),
            device(
                "RB5",
                Verdict::Error,
                vec![gate(0, GateStatus::Error, None, "not measured")],
                Some("compile job j1 failed: bad op"),
            ),
        ];
        let results = Results {
            results_version: 1,
            tool: crate::results::ToolInfo {
                name: "edgegate".into(),
                version: "0".into(),
            },
            pipeline: "p".into(),
            config_path: "edgegate.yaml".into(),
            config_digest: String::new(),
            model: crate::results::ModelInfo {
                path: "m".into(),
                kind: "onnx".into(),
                sha256: String::new(),
                size_bytes: 0,
            },
            promptpack: None,
            ci: None,
            baseline: None,
            baseline_model: None,
            environment: None,
            warnings: Vec::new(),
            started_at: String::new(),
            finished_at: String::new(),
            duration_s: 1.0,
            interrupted: false,
            shard: None,
            devices,
            summary: Summary {
                devices: 2,
                gates_failed: 1,
                gates_error: 1,
                ..Summary::default()
            },
            verdict: Verdict::Failed,
        };
        let text = render(&results);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "device  verdict  gate 0");
        assert_eq!(lines[1], "s24     failed   ✗ 12.50");
        assert_eq!(lines[2], "RB5     error    ⚠ n/a");
        assert!(text.contains("gate 0: inference_time_ms ≤ 10"));
        assert!(text.contains("RB5: compile job j1 failed: bad op"));
        assert!(text.contains("s24 gate 0: 12.5 ms is over 10 ms"));
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with("FAILED: 2 devices"))
        );
    }
}
