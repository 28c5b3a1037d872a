//! `models/`: create, list, read and download models (uploaded sources and compiled targets).
//! The multipart upload of a model's bytes is in `uploads.rs`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use crate::hub::proto::{self, JobState, ModelType};
use crate::sim::blobs;
use crate::sim::scenario::TransferRoute;
use crate::sim::state::{Counters, SimState};
use crate::sim::store::ModelRec;

use super::wire::{
    ApiResult, Query, decode, download_answer, found, name_or, newest_page, not_found, pb,
    s3_credentials, ts, urm,
};

pub(super) fn model_msg(m: &ModelRec) -> proto::Model {
    proto::Model {
        model_id: Some(m.id.clone()),
        name: Some(m.name.clone()),
        creation_time: ts(m.created),
        model_type: Some(m.model_type),
        file_upload_complete: Some(m.blob.is_some()),
        producer_id: m.producer.clone(),
        read_only: Some(false),
        is_directory: Some(m.is_directory),
        hidden: Some(false),
        input_spec: m.input_spec.clone(),
        output_spec: m.output_spec.clone(),
        ..proto::Model::default()
    }
}

pub(super) async fn create_model(State(s): State<Arc<SimState>>, body: Bytes) -> ApiResult {
    let req: proto::Model = decode(&body, "Model")?;
    let created = s.now_unix();
    let id = {
        let mut store = s.store();
        let id = store.new_id('m');
        store.models.insert(
            id.clone(),
            ModelRec {
                id: id.clone(),
                name: name_or(req.name, "model"),
                model_type: req.model_type.unwrap_or(ModelType::Unspecified as i32),
                is_directory: req.is_directory.unwrap_or(false),
                created,
                blob: None,
                sha256: None,
                source_sha256: None,
                producer: None,
                input_spec: None,
                output_spec: None,
                upload: None,
            },
        );
        id
    };
    Counters::bump(&s.counters.models_created);
    Ok(urm(&id, Some(created), None))
}

pub(super) async fn list_models(
    State(s): State<Arc<SimState>>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let page = q.page()?;
    let producer = q.get("producer").map(str::to_owned);
    let store = s.store();
    let matching: Vec<&ModelRec> = store
        .models
        .values()
        .filter(|m| {
            producer
                .as_deref()
                .is_none_or(|p| m.producer.as_deref() == Some(p))
        })
        .collect();
    let (models, total) = newest_page(matching, page, |m: &ModelRec| (m.created, &m.id));
    Ok(pb(&proto::ModelList {
        models: models.into_iter().map(model_msg).collect(),
        total_query_count: total,
    }))
}

pub(super) async fn get_model(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> ApiResult {
    let store = s.store();
    let m = found(store.models.get(&id), "Model", &id)?;
    Ok(pb(&model_msg(m)))
}

pub(super) async fn download_model(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let store = s.store();
    let m = found(store.models.get(&id), "Model", &id)?;
    if let Some(job) = m.producer.as_ref().and_then(|j| store.jobs.get(j))
        && store.status(job, Instant::now()).state != JobState::Done
    {
        return Err(not_found(format!(
            "Model {id} is not available: its compile job has not succeeded"
        )));
    }
    let blob_id = m
        .blob
        .as_ref()
        .ok_or_else(|| not_found(format!("Model {id} has no uploaded file")))?;
    let blob = store
        .blobs
        .get(blob_id)
        .ok_or_else(|| not_found(format!("Model {id} has no uploaded file")))?;
    let url = blobs::blob_url(&s, blob_id, &blob.filename);
    let credentials = s
        .scenario
        .s3_credentials(TransferRoute::ModelDownload)
        .then(|| {
            s3_credentials(
                format!("models/{id}/{}", blob.filename),
                blob.filename.clone(),
                s.now_unix(),
            )
        });
    Ok(download_answer(
        url,
        blob.filename.clone(),
        s.scenario.wrapped(q.flag("supports_s3_credentials")),
        credentials,
    ))
}
