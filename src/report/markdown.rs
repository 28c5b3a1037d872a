//! The Markdown report (PR/MR comment, job summary, `--markdown`), rendered from a minijinja
//! template shipped in the binary or given by the user, and kept under a size budget by showing
//! fewer rows, never by cutting the verdict. Reads results only, through `report::format`; must
//! not reach into devices, the engine or commands.

use serde::Serialize;

use crate::config::types::Metric;
use crate::report::error::ReportError;
use crate::report::format::{self, Digits};
use crate::results::{CaseStatus, DeviceResult, GateStatus, Results, Verdict};

/// The template shipped in the binary.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/report/summary.md.j2");

/// GitHub's limit on a comment body, characters.
pub const GITHUB_COMMENT_MAX_CHARS: usize = 65_536;

/// GitHub's limit on one step's job summary, bytes.
pub const STEP_SUMMARY_MAX_BYTES: usize = 1_048_576;

/// Longest expected/actual text shown in a table cell when a budget applies.
const CELL_CHARS: usize = 300;

/// How big a rendered report may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most characters.
    pub max_chars: usize,
    /// Most bytes of UTF-8.
    pub max_bytes: usize,
}

impl Budget {
    /// A budget for a GitHub or GitLab comment, leaving `reserve` characters for markers.
    pub fn comment(reserve: usize) -> Self {
        let max = GITHUB_COMMENT_MAX_CHARS - 1_024 - reserve;
        Budget {
            max_chars: max,
            max_bytes: usize::MAX,
        }
    }

    /// A budget for `$GITHUB_STEP_SUMMARY`.
    pub fn step_summary() -> Self {
        Budget {
            max_chars: usize::MAX,
            max_bytes: STEP_SUMMARY_MAX_BYTES - 16 * 1024,
        }
    }

    fn fits(&self, s: &str) -> bool {
        s.len() <= self.max_bytes && s.chars().count() <= self.max_chars
    }
}

/// What to render and how.
#[derive(Debug, Clone, Default)]
pub struct MarkdownOptions<'a> {
    /// A user template's source; the shipped one when `None`.
    pub template: Option<&'a str>,
    /// The size budget; unlimited when `None`.
    pub budget: Option<Budget>,
    /// One sentence saying where the full report is (an artifact, a CI run link).
    pub full_report: String,
}

/// A rendered report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The Markdown.
    pub body: String,
    /// True when rows were left out or the text was cut to fit the budget.
    pub truncated: bool,
}

/// Renders the Markdown report, fitting it into the budget.
pub fn render(results: &Results, opts: &MarkdownOptions<'_>) -> Result<Rendered, ReportError> {
    let env = environment(opts.template)?;
    let tmpl = env
        .get_template(TEMPLATE_NAME)
        .map_err(|source| template_error(opts, source))?;
    let Some(budget) = opts.budget else {
        let view = View::new(results, None, None, false, &opts.full_report);
        let body = render_view(&tmpl, results, &view, opts)?;
        return Ok(Rendered {
            body,
            truncated: false,
        });
    };
    let levels: [(Option<usize>, bool); 5] = [
        (None, false),
        (Some(50), false),
        (Some(10), false),
        (Some(3), true),
        (Some(0), true),
    ];
    let mut last = String::new();
    for (i, (cap, compact)) in levels.into_iter().enumerate() {
        let cell = if i == 0 { None } else { Some(CELL_CHARS) };
        let mut view = View::new(results, cap, cell, compact, &opts.full_report);
        view.truncated = view.devices.iter().any(|d| d.hidden_cases > 0) || compact;
        let body = render_view(&tmpl, results, &view, opts)?;
        if budget.fits(&body) {
            return Ok(Rendered {
                truncated: view.truncated,
                body,
            });
        }
        last = body;
    }
    Ok(Rendered {
        body: hard_cut(&last, &budget, &opts.full_report),
        truncated: true,
    })
}

const TEMPLATE_NAME: &str = "report.md";

/// Compiles a template without rendering it, so a broken `--template` fails before anything is posted.
pub fn check_template(source: &str) -> Result<(), ReportError> {
    environment(Some(source)).map(|_| ())
}

fn environment(user: Option<&str>) -> Result<minijinja::Environment<'static>, ReportError> {
    let mut env = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|source| ReportError::Template {
            name: template_label(user.is_some()),
            source,
        })?;
    env.set_syntax(syntax);
    env.add_filter("cell", cell);
    let source = user.unwrap_or(DEFAULT_TEMPLATE).to_string();
    env.add_template_owned(TEMPLATE_NAME, source)
        .map_err(|source| ReportError::Template {
            name: template_label(user.is_some()),
            source,
        })?;
    Ok(env)
}

fn template_label(user: bool) -> String {
    if user {
        "--template".into()
    } else {
        "templates/report/summary.md.j2".into()
    }
}

fn template_error(opts: &MarkdownOptions<'_>, source: minijinja::Error) -> ReportError {
    ReportError::Template {
        name: template_label(opts.template.is_some()),
        source,
    }
}

fn render_view(
    tmpl: &minijinja::Template<'_, '_>,
    results: &Results,
    view: &View,
    opts: &MarkdownOptions<'_>,
) -> Result<String, ReportError> {
    let mut ctx = serde_json::to_value(view).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut ctx {
        map.insert(
            "results".into(),
            serde_json::to_value(results).unwrap_or_default(),
        );
    }
    let mut body = tmpl
        .render(minijinja::Value::from(minijinja::value::Serde(&ctx)))
        .map_err(|source| template_error(opts, source))?;
    while body.contains("\n\n\n") {
        body = body.replace("\n\n\n", "\n\n");
    }
    Ok(body.trim().to_string() + "\n")
}

/// Escapes text for one Markdown table cell: no line breaks, no pipes, no raw HTML.
pub fn cell(value: String) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {}
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

fn hard_cut(body: &str, budget: &Budget, full_report: &str) -> String {
    let note = format!(
        "\n\n> [!NOTE]\n> This report was truncated to fit the comment size limit. {full_report}\n"
    );
    let room_chars = budget.max_chars.saturating_sub(note.chars().count() + 64);
    let room_bytes = budget.max_bytes.saturating_sub(note.len() + 64);
    let mut end = 0;
    for (count, (i, c)) in body.char_indices().enumerate() {
        if count >= room_chars || i + c.len_utf8() > room_bytes {
            break;
        }
        end = i + c.len_utf8();
    }
    let cut = &body[..end];
    let cut = match cut.rfind('\n') {
        Some(nl) => &cut[..nl],
        None => cut,
    };
    let mut out = cut.to_string();
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    let open = out.matches("<details").count();
    let closed = out.matches("</details>").count();
    for _ in closed..open {
        out.push_str("\n\n</details>");
    }
    out.push_str(&note);
    out
}

#[derive(Debug, Serialize)]
struct View {
    pipeline: String,
    verdict: &'static str,
    icon: &'static str,
    headline: String,
    model: ModelView,
    baseline: Option<BaselineView>,
    /// Set when the config has relative gates but the run had no `--baseline`: says plainly that
    /// those gates were not measured (exit 3), never passed.
    no_baseline: Option<String>,
    /// Values that are estimates, not measurements: "device `metric`: formula".
    estimates: Vec<String>,
    /// Caveats of the verdict from results.json `warnings`.
    warnings: Vec<String>,
    ci: CiView,
    summary: SummaryView,
    gate_rows: Vec<GateRow>,
    devices: Vec<DeviceView>,
    chart: Option<Chart>,
    truncated: bool,
    compact: bool,
    interrupted: bool,
    full_report: String,
}

#[derive(Debug, Serialize)]
struct ModelView {
    path: String,
    sha256: String,
    size: String,
}

#[derive(Debug, Serialize)]
struct BaselineView {
    path: String,
    model_sha256: String,
    started_at: String,
}

#[derive(Debug, Serialize, Default)]
struct CiView {
    run_url: Option<String>,
    sha: Option<String>,
}

#[derive(Debug, Serialize)]
struct SummaryView {
    devices: usize,
    gates_passed: usize,
    gates_failed: usize,
    gates_error: usize,
    cases_passed: usize,
    cases_failed: usize,
    cases_error: usize,
    cases_total: usize,
}

#[derive(Debug, Serialize)]
struct GateRow {
    rule: String,
    cells: Vec<String>,
}

#[derive(Debug, Serialize)]
struct DeviceView {
    name: String,
    verdict: &'static str,
    icon: &'static str,
    target: String,
    duration: String,
    error: Option<String>,
    jobs: Vec<JobView>,
    problems: Vec<Problem>,
    failing_cases: Vec<CaseView>,
    cases_not_passed: usize,
    hidden_cases: usize,
    /// Cases that were not run, each with why (e.g. a prompt without `inputs:`).
    skipped_cases: Vec<CaseView>,
}

#[derive(Debug, Serialize)]
struct Problem {
    icon: &'static str,
    text: String,
}

#[derive(Debug, Serialize)]
struct JobView {
    kind: String,
    id: String,
    url: Option<String>,
    reused: bool,
}

#[derive(Debug, Serialize)]
struct CaseView {
    icon: &'static str,
    id: String,
    expected: String,
    actual: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Chart {
    metric: &'static str,
    unit: String,
    labels: String,
    current: String,
    baseline: Option<String>,
}

fn verdict_words(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Passed => ("passed", "✅"),
        Verdict::Failed => ("failed", "❌"),
        Verdict::Error => ("could not complete", "⚠️"),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl View {
    fn new(
        r: &Results,
        case_cap: Option<usize>,
        cell_chars: Option<usize>,
        compact: bool,
        full_report: &str,
    ) -> View {
        let (verdict, icon) = verdict_words(r.verdict);
        let s = &r.summary;
        let checks = s.gates_passed + s.gates_failed + s.gates_error;
        let devices_failed = r
            .devices
            .iter()
            .filter(|d| d.verdict == Verdict::Failed)
            .count();
        let headline = match r.verdict {
            Verdict::Passed => format!(
                "**Passed**: all {} held on {}.",
                plural(checks, "gate check"),
                plural(r.devices.len(), "device")
            ),
            Verdict::Failed => format!(
                "**Failed**: {} of {} failed on {} of {}{}.",
                s.gates_failed,
                plural(checks, "gate check"),
                devices_failed,
                plural(r.devices.len(), "device"),
                if s.gates_error > 0 {
                    format!("; {} could not be measured", s.gates_error)
                } else {
                    String::new()
                }
            ),
            Verdict::Error => format!(
                "**Could not complete**: no gate failed, but {} could not be measured{}.",
                plural(s.gates_error, "gate check"),
                match r.devices.iter().filter(|d| d.error.is_some()).count() {
                    0 => String::new(),
                    n => format!(" ({} unavailable or failed)", plural(n, "device")),
                }
            ),
        };
        let clip = |t: &str| match cell_chars {
            Some(n) => format::clip(t, n),
            None => t.to_string(),
        };
        View {
            pipeline: r.pipeline.clone(),
            verdict,
            icon,
            headline,
            model: ModelView {
                path: r.model.path.clone(),
                sha256: short_sha(&r.model.sha256),
                size: size(r.model.size_bytes),
            },
            no_baseline: no_baseline_note(r),
            estimates: estimate_notes(r),
            warnings: r.warnings.iter().map(|w| clip(w)).collect(),
            baseline: r.baseline.as_ref().map(|b| BaselineView {
                path: b.path.clone(),
                model_sha256: short_sha(&b.model_sha256),
                started_at: b.started_at.clone(),
            }),
            ci: r
                .ci
                .as_ref()
                .map(|c| CiView {
                    run_url: c.run_url.clone(),
                    sha: c.sha.as_deref().map(short_sha),
                })
                .unwrap_or_default(),
            summary: SummaryView {
                devices: s.devices,
                gates_passed: s.gates_passed,
                gates_failed: s.gates_failed,
                gates_error: s.gates_error,
                cases_passed: s.cases_passed,
                cases_failed: s.cases_failed,
                cases_error: s.cases_error,
                cases_total: r.devices.iter().map(|d| d.cases.len()).sum(),
            },
            gate_rows: gate_rows(r),
            devices: r
                .devices
                .iter()
                .map(|d| device_view(d, case_cap, &clip))
                .collect(),
            chart: chart(r),
            truncated: false,
            compact,
            interrupted: r.interrupted,
            full_report: full_report.to_string(),
        }
    }
}

fn device_view(
    d: &DeviceResult,
    case_cap: Option<usize>,
    clip: &dyn Fn(&str) -> String,
) -> DeviceView {
    let (verdict, icon) = verdict_words(d.verdict);
    let not_passed: Vec<_> = d
        .cases
        .iter()
        .filter(|c| matches!(c.status, CaseStatus::Failed | CaseStatus::Error))
        .collect();
    let shown = case_cap.unwrap_or(usize::MAX).min(not_passed.len());
    let mut problems = Vec::new();
    if let Some(err) = &d.error {
        problems.push(Problem {
            icon: "⚠️",
            text: clip(err),
        });
    }
    for g in &d.gates {
        let unit = format::unit(g.metric, Some(d));
        match g.status {
            GateStatus::Failed => problems.push(Problem {
                icon: "❌",
                text: clip(&format::gate_statement(g, unit)),
            }),
            GateStatus::Error => problems.push(Problem {
                icon: "⚠️",
                text: clip(&g.message),
            }),
            GateStatus::Passed => {}
        }
    }
    DeviceView {
        name: d.name.clone(),
        verdict,
        icon,
        target: match d.provider {
            crate::config::types::Provider::Local => "local CPU".into(),
            crate::config::types::Provider::Aihub => {
                [d.hub_device.as_deref(), d.runtime.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ")
            }
        },
        duration: format!(
            "{} s",
            Digits::REPORT.num((d.duration_s * 10.0).round() / 10.0)
        ),
        error: d.error.clone(),
        jobs: d
            .jobs
            .iter()
            .map(|j| JobView {
                kind: format::job_kind(j.kind).to_string(),
                id: j.id.clone(),
                url: j.url.clone(),
                reused: j.reused,
            })
            .collect(),
        problems,
        failing_cases: not_passed[..shown]
            .iter()
            .map(|c| CaseView {
                icon: if c.status == CaseStatus::Failed {
                    "❌"
                } else {
                    "⚠️"
                },
                id: c.case_id.clone(),
                expected: clip(&c.expected),
                actual: clip(&c.actual),
                reason: clip(c.reason.as_deref().unwrap_or("")),
            })
            .collect(),
        cases_not_passed: not_passed.len(),
        hidden_cases: not_passed.len() - shown,
        skipped_cases: d
            .cases
            .iter()
            .filter(|c| c.status == CaseStatus::Skipped && c.reason.is_some())
            .take(case_cap.unwrap_or(usize::MAX))
            .map(|c| CaseView {
                icon: "⏭️",
                id: c.case_id.clone(),
                expected: clip(&c.expected),
                actual: String::new(),
                reason: clip(c.reason.as_deref().unwrap_or("")),
            })
            .collect(),
    }
}

fn gate_rows(r: &Results) -> Vec<GateRow> {
    format::gate_indices(r)
        .into_iter()
        .filter_map(|idx| {
            let (first_dev, first) = r
                .devices
                .iter()
                .find_map(|d| d.gates.iter().find(|g| g.index == idx).map(|g| (d, g)))?;
            let unit = format::unit(first.metric, Some(first_dev));
            let rule = format!("`{}` {}", first.metric.as_str(), format::rule(first, unit));
            let cells = r
                .devices
                .iter()
                .map(|d| match d.gates.iter().find(|g| g.index == idx) {
                    None => "—".to_string(),
                    Some(g) => gate_cell(g, d, r.baseline.is_none()),
                })
                .collect();
            Some(GateRow { rule, cells })
        })
        .collect()
}

/// One line per device and metric whose value is an estimate: "**device** `metric`: formula".
fn estimate_notes(r: &Results) -> Vec<String> {
    format::estimates(r)
        .into_iter()
        .map(|(d, m, f)| format!("**{d}** `{}`: {f}", m.as_str()))
        .collect()
}

/// The relative gate checks that could not be compared because the run had no baseline at all.
fn unbaselined_checks(r: &Results) -> usize {
    if r.baseline.is_some() {
        return 0;
    }
    r.devices
        .iter()
        .flat_map(|d| &d.gates)
        .filter(|g| {
            g.max_regression_pct.is_some() && g.baseline.is_none() && g.status == GateStatus::Error
        })
        .count()
}

fn no_baseline_note(r: &Results) -> Option<String> {
    let which = match unbaselined_checks(r) {
        0 => return None,
        1 => "The relative gate check counts".to_string(),
        n => format!("All {n} relative gate checks count"),
    };
    Some(format!(
        "**No baseline: relative gates not measured** — the default branch has no results yet, \
         or no `--baseline` was passed. {which} as not measured (exit 3), never as passed. Once a \
         run on the default branch keeps its `edgegate-results.json`, changes are compared \
         against it."
    ))
}

fn gate_cell(g: &crate::results::GateResult, d: &DeviceResult, no_baseline: bool) -> String {
    let unit = format::unit(g.metric, Some(d));
    let icon = match g.status {
        GateStatus::Passed => "✅",
        GateStatus::Failed => "❌",
        GateStatus::Error => "⚠️",
    };
    let actual = match g.actual {
        Some(a) if g.estimate.is_some() => {
            format!("≈ {} (estimate)", Digits::REPORT.with_unit(a, unit))
        }
        Some(a) => Digits::REPORT.with_unit(a, unit),
        None => "not measured".into(),
    };
    match format::delta(g, unit) {
        Some(delta) => format!("{icon} {actual} (Δ {delta})"),
        None if no_baseline && g.max_regression_pct.is_some() && g.status == GateStatus::Error => {
            format!("{icon} {actual} (no baseline)")
        }
        None => format!("{icon} {actual}"),
    }
}

fn chart(r: &Results) -> Option<Chart> {
    let metric = Metric::InferenceTimeMs;
    let rows: Vec<(&DeviceResult, f64)> = r
        .devices
        .iter()
        .filter_map(|d| d.metrics.get(metric.as_str()).map(|m| (d, m.value)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let baselines: Vec<Option<f64>> = rows
        .iter()
        .map(|(d, _)| {
            d.gates
                .iter()
                .filter(|g| g.metric == metric)
                .find_map(|g| g.baseline)
        })
        .collect();
    let baseline = if baselines.iter().all(Option::is_some) {
        Some(
            baselines
                .iter()
                .flatten()
                .map(|v| Digits::REPORT.num(*v))
                .collect::<Vec<_>>()
                .join(", "),
        )
    } else {
        None
    };
    Some(Chart {
        metric: metric.as_str(),
        unit: format::unit(metric, Some(rows[0].0)).to_string(),
        labels: rows
            .iter()
            .map(|(d, _)| format!("\"{}\"", d.name.replace(['"', '\n', '`'], "'")))
            .collect::<Vec<_>>()
            .join(", "),
        current: rows
            .iter()
            .map(|(_, v)| Digits::REPORT.num(*v))
            .collect::<Vec<_>>()
            .join(", "),
        baseline,
    })
}

fn short_sha(s: &str) -> String {
    s.chars().take(12).collect()
}

fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!(
            "{} MiB",
            Digits::REPORT.num((b / 1024.0 / 1024.0 * 10.0).round() / 10.0)
        )
    } else if b >= 1024.0 {
        format!(
            "{} KiB",
            Digits::REPORT.num((b / 1024.0 * 10.0).round() / 10.0)
        )
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table() {
        assert_eq!(cell("a|b\nc<d>".into()), "a\\|b<br>c&lt;d&gt;");
    }

    #[test]
    fn hard_cut_closes_fences_and_details_and_says_so() {
        let body = format!("<details>\n```\n{}\n", "x\n".repeat(1000));
        let budget = Budget {
            max_chars: 400,
            max_bytes: usize::MAX,
        };
        let out = hard_cut(&body, &budget, "See the artifact.");
        assert!(out.chars().count() <= 400);
        assert_eq!(out.matches("```").count() % 2, 0);
        assert!(out.contains("</details>"));
        assert!(out.contains("truncated"));
    }
}
