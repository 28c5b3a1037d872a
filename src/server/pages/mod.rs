//! The HTML pages of the server, rendered from data alone (no database, no requests): a run's
//! report, a pipeline's history, and the OpenAPI viewer with the assets it is served from.
//! Every user-controlled string is escaped; the report and history pages carry no JavaScript and
//! fetch nothing: their charts are inline SVG drawn here.

mod chart;
mod docs;
mod history;
mod html;
mod report;

pub use docs::{docs_asset, docs_html};
pub use history::{HistoryPoint, pipeline_history_html};
pub use report::{ReportLinks, run_report_html};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{CaseStatus, Results};

    const XSS: &str = "<script>alert(1)</script>";

    fn hostile() -> Results {
        let text = include_str!("../../../tests/fixtures/results/failing.json");
        let mut r: Results = serde_json::from_str(text).expect("fixture");
        r.pipeline = format!("pipe {XSS}");
        for d in &mut r.devices {
            d.name = format!("{}{XSS}", d.name);
            for c in &mut d.cases {
                c.name = XSS.into();
                c.case_id = XSS.into();
                c.actual = format!("<img src=x onerror=alert(1)>{XSS}");
                c.status = CaseStatus::Failed;
            }
        }
        r
    }

    fn markdown(r: &Results) -> String {
        crate::report::markdown::render(r, &Default::default())
            .expect("markdown")
            .body
    }

    #[test]
    fn the_run_page_never_carries_user_markup() {
        let r = hostile();
        let links = ReportLinks {
            results_json: "/v1/runs/1/results.json".into(),
            junit: "javascript:alert(1)".into(),
            history: "/v1/pipelines/p/history".into(),
        };
        let html = run_report_html(&format!("Run {XSS}"), &r, &markdown(&r), &links);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg class=\"chart\""), "a latency chart");
        assert!(html.contains("href=\"/v1/runs/1/results.json\""));
        assert!(html.contains("<table>"), "the summary's tables render");
    }

    #[test]
    fn the_history_page_with_zero_one_and_many_runs() {
        let empty = pipeline_history_html(XSS, &[]);
        assert!(!empty.contains("<script") && empty.contains("No runs yet"));

        let r = hostile();
        let point = |i: usize, results: Option<Results>| HistoryPoint {
            run_id: format!("run-{i}{XSS}"),
            created_at: format!("2026-01-{:02}T10:00:00Z", i % 28 + 1),
            status: if i.is_multiple_of(3) {
                "failed".into()
            } else {
                XSS.into()
            },
            results,
            report_url: format!("/v1/runs/{i}"),
        };
        let one = pipeline_history_html("p", &[point(0, Some(r.clone()))]);
        assert!(!one.contains("<script"), "{one}");
        assert!(one.contains("<svg class=\"chart\"") && one.contains("href=\"/v1/runs/0\""));

        let many: Vec<HistoryPoint> = (0..30)
            .map(|i| {
                let mut ri = r.clone();
                for d in &mut ri.devices {
                    for m in d.metrics.values_mut() {
                        m.value = match i {
                            7 => f64::NAN,
                            _ => m.value * (1.0 + i as f64 / 100.0),
                        };
                    }
                }
                point(i, (i != 4).then_some(ri))
            })
            .collect();
        let html = pipeline_history_html("p", &many);
        assert!(!html.contains("<script") && !html.contains("NaN"), "{html}");
        assert!(html.contains("stroke-dasharray"), "threshold line");
        assert_eq!(html.matches("<tr>").count(), 31);
    }
}
