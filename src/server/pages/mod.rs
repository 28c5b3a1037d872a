//! TEMPORARY placeholder until the `h12-runs` branch lands: the server's HTML pages.

use crate::results::Results;

/// Where a report page links to.
pub struct ReportLinks {
    pub results_json: String,
    pub junit: String,
    pub history: String,
}

/// The HTML report of one run.
pub fn run_report_html(
    title: &str,
    results: &Results,
    markdown: &str,
    links: &ReportLinks,
) -> String {
    let _ = (results, markdown);
    format!(
        "<!doctype html><title>{title}</title><a href=\"{}\">results.json</a> <a href=\"{}\">junit</a> <a href=\"{}\">history</a>",
        links.results_json, links.junit, links.history
    )
}

/// One run on a pipeline's history page.
pub struct HistoryPoint {
    pub run_id: String,
    pub created_at: String,
    pub status: String,
    pub results: Option<Results>,
}

/// A pipeline's history page (points oldest first).
pub fn pipeline_history_html(pipeline_name: &str, points: &[HistoryPoint]) -> String {
    format!(
        "<!doctype html><title>{pipeline_name}</title><p>{} runs</p>",
        points.len()
    )
}

/// The API docs page reading the OpenAPI document at `openapi_url`.
pub fn docs_html(openapi_url: &str) -> String {
    format!("<!doctype html><title>EdgeGate API</title><a href=\"{openapi_url}\">openapi.json</a>")
}

/// A static asset of the docs page.
pub fn docs_asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    let _ = name;
    None
}
