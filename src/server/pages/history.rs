//! A pipeline's history page: per gated metric and device, a line over the runs (oldest first)
//! with the threshold and failed runs marked, so slow drift shows; then the runs, newest first,
//! each linking to its report.

use super::chart::{Mark, Point, line_chart};
use super::html::{esc, href, num, page};
use crate::config::types::Metric;
use crate::results::{GateStatus, Results};

/// One run of a pipeline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryPoint {
    /// The run's id.
    pub run_id: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// Its status (`queued`, `running`, `passed`, `failed`, `error`, ...).
    pub status: String,
    /// Its results, once it has them.
    pub results: Option<Results>,
    /// Its report page; no link when empty.
    pub report_url: String,
}

/// A (metric, device) pair some run gated, in order of first appearance.
fn series(points: &[HistoryPoint]) -> Vec<(Metric, String)> {
    let mut out: Vec<(Metric, String)> = Vec::new();
    for r in points.iter().filter_map(|p| p.results.as_ref()) {
        for d in &r.devices {
            for m in Metric::ALL {
                if d.gates.iter().any(|g| g.metric == m)
                    && !out.iter().any(|(om, od)| *om == m && *od == d.name)
                {
                    out.push((m, d.name.clone()));
                }
            }
        }
    }
    out.sort_by_key(|(m, _)| Metric::ALL.iter().position(|x| x == m));
    out
}

fn date(created_at: &str) -> &str {
    created_at.get(..10).unwrap_or(created_at)
}

/// The history page of a pipeline; `points` are its runs, oldest first.
pub fn pipeline_history_html(pipeline_name: &str, points: &[HistoryPoint]) -> String {
    let title = format!("{pipeline_name} · history");
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"muted\">{} run{}, oldest first in the charts, newest first in the table.</p>\n",
        esc(&title),
        points.len(),
        if points.len() == 1 { "" } else { "s" }
    );
    body.push_str("<h2>Gated metrics</h2>\n");
    let all = series(points);
    if all.is_empty() {
        body.push_str("<p class=\"muted\">No run has gate results yet.</p>\n");
    } else {
        body.push_str("<div class=\"charts\">\n");
        for (metric, device) in &all {
            body.push_str(&format!(
                "<figure>{}</figure>\n",
                chart(points, *metric, device)
            ));
        }
        body.push_str("</div>\n");
    }
    body.push_str("<h2>Runs</h2>\n");
    if points.is_empty() {
        body.push_str("<p class=\"muted\">No runs yet.</p>\n");
    } else {
        body.push_str(&table(points));
    }
    page(&title, &body)
}

fn chart(points: &[HistoryPoint], metric: Metric, device: &str) -> String {
    let mut unit = crate::eval::format::unit(metric).to_string();
    let mut threshold = None;
    let pts: Vec<Point> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let d = p
                .results
                .as_ref()
                .and_then(|r| r.devices.iter().find(|d| d.name == device));
            let value = d
                .and_then(|d| d.metrics.get(metric.as_str()))
                .map(|m| m.value);
            let gates: Vec<_> = d
                .map(|d| d.gates.iter().filter(|g| g.metric == metric).collect())
                .unwrap_or_default();
            if let Some(d) = d {
                unit = crate::report::format::unit(metric, Some(d)).to_string();
            }
            if let Some(t) = gates.iter().find_map(|g| g.threshold) {
                threshold = Some(t);
            }
            let (mark, word) = if gates.iter().any(|g| g.status == GateStatus::Failed) {
                (Mark::Failed, "gate failed")
            } else if gates.iter().any(|g| g.status == GateStatus::Error) {
                (Mark::Error, "gate not measured")
            } else if gates.is_empty() {
                (Mark::Plain, "not gated")
            } else {
                (Mark::Passed, "gate passed")
            };
            let shown = match value.filter(|v| v.is_finite()) {
                Some(v) => format!("{} {unit}", num(v)),
                None => "not measured".into(),
            };
            Point {
                x_label: format!("#{}", i + 1),
                x_sub: date(&p.created_at).to_string(),
                tooltip: format!(
                    "#{} · run {} · {} · {shown} · {word} · {}",
                    i + 1,
                    p.run_id,
                    p.created_at,
                    p.status
                ),
                value,
                mark,
            }
        })
        .collect();
    line_chart(
        &format!("{} · {device}", metric.as_str()),
        &unit,
        &pts,
        threshold,
    )
}

fn table(points: &[HistoryPoint]) -> String {
    let mut out = String::from(
        "<table>\n<thead><tr><th>#</th><th>Run</th><th>Created</th><th>Status</th><th>Gates</th><th>Model</th></tr></thead>\n<tbody>\n",
    );
    for (i, p) in points.iter().enumerate().rev() {
        let run = if p.report_url.is_empty() {
            esc(&p.run_id)
        } else {
            format!("<a href=\"{}\">{}</a>", href(&p.report_url), esc(&p.run_id))
        };
        let (gates, model) = match &p.results {
            Some(r) => (
                format!(
                    "{} passed, {} failed, {} not measured",
                    r.summary.gates_passed, r.summary.gates_failed, r.summary.gates_error
                ),
                format!(
                    "<code>{}</code>",
                    esc(r.model.sha256.get(..12).unwrap_or(&r.model.sha256))
                ),
            ),
            None => ("–".to_string(), "–".to_string()),
        };
        let class = match p.status.as_str() {
            "passed" => "passed",
            "failed" => "failed",
            _ => "other",
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{run}</td><td>{}</td><td><span class=\"badge {class}\">{}</span></td><td>{gates}</td><td>{model}</td></tr>\n",
            i + 1,
            esc(&p.created_at),
            esc(&p.status),
        ));
    }
    out.push_str("</tbody>\n</table>\n");
    out
}
