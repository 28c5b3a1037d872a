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
