//! `datasets/`: create, list, read, rename, complete and download datasets. The form upload of a
//! dataset's bytes is in `uploads.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use crate::hub::proto;
use crate::sim::blobs;
use crate::sim::scenario::TransferRoute;
use crate::sim::state::{Counters, SimState};
use crate::sim::store::DatasetRec;

use super::wire::{
    ApiResult, Query, bad, decode, download_answer, found, name_or, newest_page, not_found, pb,
    s3_credentials, ts, urm,
};

pub(super) fn dataset_msg(d: &DatasetRec) -> proto::Dataset {
    proto::Dataset {
        dataset_id: Some(d.id.clone()),
        name: Some(d.name.clone()),
        creation_time: ts(d.created),
        expiration_time: d.expires.and_then(ts),
        file_upload_complete: Some(d.complete),
        read_only: Some(false),
        permanent: Some(d.permanent),
        ..proto::Dataset::default()
    }
}

pub(super) async fn create_dataset(State(s): State<Arc<SimState>>, body: Bytes) -> ApiResult {
    let req: proto::Dataset = decode(&body, "Dataset")?;
    let created = s.now_unix();
    let permanent = req.permanent.unwrap_or(false);
    let name = name_or(req.name, "dataset");
    let (id, expires) = {
        let mut store = s.store();
        let d = store.add_dataset(name, created, permanent, None);
        (d.id.clone(), d.expires)
    };
    Counters::bump(&s.counters.datasets_created);
    Ok(urm(&id, Some(created), expires))
}

pub(super) async fn list_datasets(
    State(s): State<Arc<SimState>>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let page = Query::parse(q).page()?;
    let store = s.store();
    let (datasets, total) =
        newest_page(store.datasets.values().collect(), page, |d: &DatasetRec| {
            (d.created, &d.id)
        });
    Ok(pb(&proto::DatasetList {
        datasets: datasets.into_iter().map(dataset_msg).collect(),
        total_query_count: total,
    }))
}

pub(super) async fn get_dataset(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = s.store();
    let d = found(store.datasets.get(&id), "Dataset", &id)?;
    Ok(pb(&dataset_msg(d)))
}

pub(super) async fn patch_dataset(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: proto::Dataset = decode(&body, "Dataset")?;
    let mut store = s.store();
    let d = found(store.datasets.get_mut(&id), "Dataset", &id)?;
    if req.file_upload_complete == Some(true) {
        if d.blob.is_none() {
            return Err(bad(format!("no file was uploaded for dataset {id}")));
        }
        d.complete = true;
    }
    if let Some(name) = req.name.filter(|n| !n.is_empty()) {
        d.name = name;
    }
    Ok(urm(&id, None, None))
}

pub(super) async fn download_dataset(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let store = s.store();
    let d = found(store.datasets.get(&id), "Dataset", &id)?;
    let blob_id = d
        .blob
        .as_ref()
        .filter(|_| d.complete)
        .ok_or_else(|| not_found(format!("Dataset {id} has no data yet")))?;
    let filename = format!("{}.h5", d.name.trim_end_matches(".h5"));
    let url = blobs::blob_url(&s, blob_id, &filename);
    let credentials = s
        .scenario
        .s3_credentials(TransferRoute::DatasetDownload)
        .then(|| {
            s3_credentials(
                format!("datasets/{id}/{filename}"),
                filename.clone(),
                s.now_unix(),
            )
        });
    Ok(download_answer(
        url,
        filename,
        s.scenario.wrapped(q.flag("supports_s3_credentials")),
        credentials,
    ))
}
