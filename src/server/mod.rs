//! `edgegate serve`: the `/v1` REST API. The parts here need no database: [`execute`] checks
//! pipeline and promptpack bodies and runs one pipeline run with the same loader, engine and
//! report code as `edgegate run`; [`pages`] renders the HTML pages (run report, pipeline history,
//! API docs) from results alone.

pub mod execute;
pub mod pages;
