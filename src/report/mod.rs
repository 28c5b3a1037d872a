//! Reports: results.json (the contract), JUnit XML, Markdown summaries, PR/MR comments.
//! This layer reads results only; it never talks to devices.

pub mod results;

pub use results::{
    CaseResult, CaseStatus, DeviceResult, GateResult, GateStatus, MetricValue, Results, Verdict,
};
