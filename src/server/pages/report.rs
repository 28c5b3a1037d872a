//! A run's report page: the verdict, links to its files and its pipeline's history, a latency
//! chart per gated latency metric, and the Markdown summary rendered to HTML with every piece of
//! raw HTML in it escaped (case and device names are the user's), bar a few harmless tags the
//! summary itself uses.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

use super::chart::{Bar, Mark, bar_chart};
use super::html::{esc, href, page, safe_url};
use crate::config::types::Metric;
use crate::results::{GateStatus, Results, Verdict};

/// Where a run's other views are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportLinks {
    /// results.json of the run.
    pub results_json: String,
    /// JUnit XML of the run.
    pub junit: String,
    /// The history page of the run's pipeline.
    pub history: String,
}

/// The report page of one run.
pub fn run_report_html(
    title: &str,
    results: &Results,
    markdown: &str,
    links: &ReportLinks,
) -> String {
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1>\n<p>{} <span class=\"muted\">pipeline <strong>{}</strong> · started {} · {} device{}</span></p>\n",
        esc(title),
        verdict_badge(results.verdict),
        esc(&results.pipeline),
        esc(&results.started_at),
        results.devices.len(),
        if results.devices.len() == 1 { "" } else { "s" },
    ));
    if results.interrupted {
        body.push_str(
            "<p><strong>The run was interrupted: these results are partial.</strong></p>\n",
        );
    }
    body.push_str(&format!(
        "<nav class=\"links\"><a href=\"{}\">results.json</a><a href=\"{}\">JUnit XML</a><a href=\"{}\">Pipeline history</a></nav>\n",
        href(&links.results_json),
        href(&links.junit),
        href(&links.history)
    ));
    body.push_str("<h2>Latency</h2>\n");
    let charts = latency_charts(results);
    if charts.is_empty() {
        body.push_str("<p class=\"muted\">No latency was measured in this run.</p>\n");
    } else {
        body.push_str("<div class=\"charts\">\n");
        for c in charts {
            body.push_str(&format!("<figure>{c}</figure>\n"));
        }
        body.push_str("</div>\n");
    }
    body.push_str("<h2>Summary</h2>\n<div class=\"summary\">\n");
    body.push_str(&markdown_html(markdown));
    body.push_str("</div>\n");
    page(title, &body)
}

pub(super) fn verdict_badge(v: Verdict) -> String {
    let (class, word) = match v {
        Verdict::Passed => ("passed", "passed"),
        Verdict::Failed => ("failed", "failed"),
        Verdict::Error => ("error", "not measured"),
    };
    format!("<span class=\"badge {class}\">{word}</span>")
}

/// Latency metrics, in the order reports list them.
const LATENCY: [Metric; 3] = [Metric::InferenceTimeMs, Metric::LoadTimeMs, Metric::TtftMs];

/// A bar chart per gated latency metric (or of inference time when none is gated but it was
/// measured), one bar per device.
fn latency_charts(results: &Results) -> Vec<String> {
    let gated: Vec<Metric> = LATENCY
        .into_iter()
        .filter(|m| {
            results
                .devices
                .iter()
                .any(|d| d.gates.iter().any(|g| g.metric == *m))
        })
        .collect();
    let metrics = if gated.is_empty() {
        let measured = results
            .devices
            .iter()
            .any(|d| d.metrics.contains_key(Metric::InferenceTimeMs.as_str()));
        if measured {
            vec![Metric::InferenceTimeMs]
        } else {
            Vec::new()
        }
    } else {
        gated
    };
    metrics
        .into_iter()
        .map(|m| {
            let bars: Vec<Bar> = results
                .devices
                .iter()
                .map(|d| {
                    let value = d.metrics.get(m.as_str());
                    let gates: Vec<_> = d.gates.iter().filter(|g| g.metric == m).collect();
                    let mark = if gates.is_empty() {
                        Mark::Plain
                    } else if gates.iter().any(|g| g.status == GateStatus::Failed) {
                        Mark::Failed
                    } else if gates.iter().any(|g| g.status == GateStatus::Error) {
                        Mark::Error
                    } else {
                        Mark::Passed
                    };
                    Bar {
                        label: match value.and_then(|v| v.estimate.as_ref()) {
                            Some(_) => format!("{} (≈ estimate)", d.name),
                            None => d.name.clone(),
                        },
                        value: value.map(|v| v.value),
                        p90: value.and_then(|v| v.p90),
                        threshold: gates.iter().find_map(|g| g.threshold),
                        mark,
                    }
                })
                .collect();
            let unit = results
                .devices
                .first()
                .map(|d| crate::report::format::unit(m, Some(d)))
                .unwrap_or("ms");
            bar_chart(m.as_str(), unit, &bars)
        })
        .collect()
}

/// Raw HTML the summary template writes itself, kept as markup; these tags carry no attributes
/// that could run or fetch anything.
const KEPT_TAGS: [&str; 9] = [
    "<details>",
    "<details open>",
    "</details>",
    "<summary>",
    "</summary>",
    "<sub>",
    "</sub>",
    "<br>",
    "<br/>",
];

/// Escapes raw HTML, then restores the harmless tags of [`KEPT_TAGS`].
fn tame_html(raw: &str) -> String {
    let mut out = esc(raw);
    for tag in KEPT_TAGS {
        out = out.replace(&esc(tag), tag);
    }
    out
}

/// Markdown (GitHub flavour: tables, strikethrough, alerts) to HTML, with raw HTML escaped,
/// links only to http(s) or relative URLs, images shown as links (nothing is fetched), and the
/// Mermaid chart of the summary left out (the page draws its own).
pub(super) fn markdown_html(markdown: &str) -> String {
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_GFM
        | Options::ENABLE_TASKLISTS;
    let mut in_mermaid = false;
    let mut events: Vec<Event> = Vec::new();
    for ev in Parser::new_ext(markdown, opts) {
        match ev {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(ref info)))
                if info.trim() == "mermaid" =>
            {
                in_mermaid = true;
                events.push(Event::Start(Tag::Paragraph));
                events.push(Event::Text("(the chart is drawn above)".into()));
                events.push(Event::End(TagEnd::Paragraph));
            }
            Event::End(TagEnd::CodeBlock) if in_mermaid => in_mermaid = false,
            _ if in_mermaid => {}
            Event::Html(s) | Event::InlineHtml(s) => {
                events.push(Event::InlineHtml(CowStr::from(tame_html(&s))));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => events.push(Event::Start(Tag::Link {
                link_type,
                dest_url: safe_dest(dest_url),
                title,
                id,
            })),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => events.push(Event::Start(Tag::Link {
                link_type,
                dest_url: safe_dest(dest_url),
                title,
                id,
            })),
            Event::End(TagEnd::Image) => events.push(Event::End(TagEnd::Link)),
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

fn safe_dest(url: CowStr<'_>) -> CowStr<'_> {
    if safe_url(&url).is_some() {
        url
    } else {
        CowStr::from("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_in_markdown_is_escaped_but_the_summary_tags_stay() {
        let md = "### ✅ EdgeGate · <script>alert(1)</script>\n\n\
                  <details>\n<summary>⏭️ <img src=x onerror=alert(1)>: 1 case skipped</summary>\n\n\
                  | Case | Why |\n|---|---|\n| &lt;script&gt; | a<br>b |\n\n</details>\n\n\
                  [x](javascript:alert(1)) ![t](https://tracker.example/p.png)\n";
        let html = markdown_html(md);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("<details>") && html.contains("<summary>"),
            "{html}"
        );
        assert!(
            html.contains("<table>") && html.contains("a<br>b"),
            "{html}"
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("href=\"https://tracker.example/p.png\""),
            "{html}"
        );
    }

    #[test]
    fn the_mermaid_block_is_left_out() {
        let html = markdown_html("```mermaid\nxychart-beta\n  bar [1]\n```\n");
        assert!(!html.contains("xychart"), "{html}");
    }
}
