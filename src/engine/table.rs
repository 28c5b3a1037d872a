//! The compact terminal summary of a run: devices × gates with each device's verdict, the gate
//! legend, what could not be measured, and the overall verdict in one line.

use std::fmt::Write as _;

use crate::report::results::{GateResult, GateStatus};
use crate::report::{Results, Verdict};

/// The table `edgegate run` prints on stdout.
pub fn render(results: &Results) -> String {
    let mut o = String::new();
    let mut gate_ids: Vec<usize> = results
        .devices
        .iter()
        .flat_map(|d| d.gates.iter().map(|g| g.index))
        .collect();
    gate_ids.sort_unstable();
    gate_ids.dedup();
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

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Error => "error",
    }
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn cell(g: &GateResult) -> String {
    let mark = match g.status {
        GateStatus::Passed => "✓",
        GateStatus::Failed => "✗",
        GateStatus::Error => "⚠",
    };
    match (g.actual, g.delta_pct) {
        (Some(a), Some(d)) => format!("{mark} {} ({d:+.1}%)", num(a)),
        (Some(a), None) => format!("{mark} {}", num(a)),
        (None, _) => format!("{mark} n/a"),
    }
}

fn gate_text(g: &GateResult) -> String {
    match (g.operator, g.threshold, g.max_regression_pct) {
        (Some(op), Some(t), _) => format!("{} {} {}", g.metric.as_str(), op.symbol(), num(t)),
        (_, _, Some(p)) => format!("{} at most {p}% worse than the baseline", g.metric.as_str()),
        _ => g.metric.as_str().to_string(),
    }
}
