//! `devices/` and `frameworks/`: the device catalogue (filtered like AI Hub does) and the QAIRT
//! versions the simulator claims. Reads the shared state only.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::hub::proto;
use crate::sim::devices;
use crate::sim::state::SimState;

use super::wire::{Query, bad, pb};

pub(super) async fn list_devices(
    State(s): State<Arc<SimState>>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = Query::parse(q);
    let attrs = q.all("attributes");
    match devices::filter(
        &s.devices,
        q.get("name"),
        q.get("os"),
        &attrs,
        q.flag("select"),
    ) {
        Ok(list) => pb(&proto::DeviceList {
            total_query_count: list.len() as u64,
            devices: list.into_iter().cloned().collect(),
        }),
        Err(devices::BadQuery(m)) => bad(m).into_response(),
    }
}

pub(super) async fn list_frameworks() -> Response {
    let fw = |v: &str, full: &str, tags: &[&str]| proto::Framework {
        name: "QAIRT".into(),
        api_version: v.into(),
        api_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        full_version: full.into(),
    };
    pb(&proto::FrameworkList {
        frameworks: vec![
            fw("2.37", "2.37.0.250724175447_124859", &["default", "latest"]),
            fw("2.36", "2.36.0.250627144407_121548", &[]),
        ],
        total_query_count: 2,
    })
}
