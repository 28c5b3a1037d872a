//! Upload URLs and their completion: a model's multipart upload (part URLs, then the ETags of
//! every part, checked against the protocol's split) and a dataset's form upload URL, or the S3
//! credentials a scenario asks for instead. The bytes themselves go to `blobs.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::hub::proto::{self, file_upload_response};
use crate::sim::blobs;
use crate::sim::scenario::TransferRoute;
use crate::sim::state::SimState;
use crate::sim::store::UploadRec;

use super::wire::{
    ApiError, ApiResult, Query, bad, decode, found, not_found, pb, s3_credentials, urm,
};

/// Upper bound of parts per upload, so a hostile `file_size` cannot make a huge answer.
const MAX_PARTS: u64 = 10_000;

pub(super) async fn multipart_urls(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let size = q.number("file_size")?;
    let part = s.scenario.upload.max_part_size;
    let split = match size {
        Some(0) | None => 1,
        Some(n) => n.div_ceil(part),
    };
    if split > MAX_PARTS {
        return Err(bad(format!(
            "file_size {} is too large for this simulator ({MAX_PARTS} parts of {part} bytes)",
            size.unwrap_or(0)
        )));
    }
    let parts = split
        .min(s.scenario.upload.part_urls.unwrap_or(split))
        .max(1);
    if s.scenario.s3_credentials(TransferRoute::ModelUpload) {
        let name = {
            let store = s.store();
            let model = store
                .models
                .get(&id)
                .ok_or_else(|| not_found(format!("Model {id} not found.")))?;
            model.name.clone()
        };
        return Ok(pb(&proto::FileUploadResponse {
            method: Some(file_upload_response::Method::Credentials(s3_credentials(
                format!("models/{id}/{name}"),
                name,
                s.now_unix(),
            ))),
        }));
    }
    let upload_id = {
        let mut store = s.store();
        if !store.models.contains_key(&id) {
            return Err(not_found(format!("Model {id} not found.")));
        }
        let upload_id = store.new_id('u');
        store.uploads.insert(
            upload_id.clone(),
            UploadRec {
                model_id: id.clone(),
                etags: vec![None; parts as usize],
                file_size: size,
                max_part_size: part,
            },
        );
        if let Some(m) = store.models.get_mut(&id) {
            m.upload = Some(upload_id.clone());
        }
        upload_id
    };
    let msg = proto::FileMultipartUploadUrl {
        urls: (0..parts)
            .map(|i| format!("{}/blobs/parts/{upload_id}/{i}", s.base_url))
            .collect(),
        upload_id,
        max_part_size: part,
    };
    Ok(if s.scenario.wrapped(q.flag("supports_s3_credentials")) {
        pb(&proto::FileUploadResponse {
            method: Some(file_upload_response::Method::MultipartUrl(msg)),
        })
    } else {
        pb(&msg)
    })
}

/// Checks the stored parts against the protocol's split (notes §3.1): every part but the last
/// is exactly `max_part_size` bytes and, when the client announced `file_size`, they add up to
/// it. A client that splits differently gets a 400 naming the part.
async fn check_split(parts: &[PathBuf], upload: &UploadRec) -> Result<(), ApiError> {
    let mut total = 0u64;
    for (i, path) in parts.iter().enumerate() {
        let len = tokio::fs::metadata(path)
            .await
            .map_err(|e| bad(format!("part {i} is unreadable: {e}")))?
            .len();
        if i + 1 < parts.len() && len != upload.max_part_size {
            return Err(bad(format!(
                "part {i} has {len} bytes; every part but the last must have max_part_size ({}) bytes",
                upload.max_part_size
            )));
        }
        total += len;
    }
    match upload.file_size {
        Some(size) if size != total => Err(bad(format!(
            "the parts add up to {total} bytes, but file_size was {size}"
        ))),
        _ => Ok(()),
    }
}

pub(super) async fn multipart_complete(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: proto::FileMultipartUploadComplete = decode(&body, "FileMultipartUploadComplete")?;
    let (parts, name, upload) = {
        let store = s.store();
        let model = found(store.models.get(&id), "Model", &id)?;
        let upload = store
            .uploads
            .get(&req.upload_id)
            .filter(|u| u.model_id == id)
            .ok_or_else(|| bad(format!("unknown upload_id {:?}", req.upload_id)))?;
        if req.etags.len() != upload.etags.len() {
            return Err(bad(format!(
                "expected {} etags, got {}",
                upload.etags.len(),
                req.etags.len()
            )));
        }
        for (i, (sent, stored)) in req.etags.iter().zip(&upload.etags).enumerate() {
            match stored {
                None => return Err(bad(format!("part {i} was never uploaded"))),
                Some(e) if e != sent => {
                    return Err(bad(format!("etag of part {i} does not match")));
                }
                Some(_) => {}
            }
        }
        let parts: Vec<_> = (0..upload.etags.len())
            .map(|i| blobs::part_path(&s, &req.upload_id, i))
            .collect();
        (parts, model.name.clone(), upload.clone())
    };
    check_split(&parts, &upload).await?;
    let out = blobs::file_path(&s, &format!("model-{id}"));
    let (sha, _size) = blobs::concat(&parts, &out)
        .await
        .map_err(|e| bad(format!("assembling the upload failed: {e}")))?;
    let (blob, _) = blobs::register(&s, out, &name);
    let mut store = s.store();
    store.uploads.remove(&req.upload_id);
    if let Some(m) = store.models.get_mut(&id) {
        m.blob = Some(blob);
        m.sha256 = Some(sha.clone());
        m.source_sha256 = Some(sha);
        m.upload = None;
    }
    Ok(urm(&id, None, None))
}

pub(super) async fn credentials_complete() -> Response {
    bad("no S3 stands behind this simulator's credentials, so nothing was uploaded; upload through the presigned URLs")
        .into_response()
}

pub(super) async fn dataset_upload_url(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    if !s.store().datasets.contains_key(&id) {
        return Err(not_found(format!("Dataset {id} not found.")));
    }
    if s.scenario.s3_credentials(TransferRoute::DatasetUpload) {
        return Ok(pb(&proto::FileUploadResponse {
            method: Some(file_upload_response::Method::Credentials(s3_credentials(
                format!("datasets/{id}/dataset.h5"),
                "dataset.h5".into(),
                s.now_unix(),
            ))),
        }));
    }
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("key".to_owned(), format!("datasets/{id}/dataset.h5"));
    fields.insert("policy".to_owned(), "edgegate-hub-sim".to_owned());
    let msg = proto::FileUploadUrl {
        url: format!("{}/blobs/forms/{id}", s.base_url),
        file_field_name: "file".into(),
        fields,
    };
    Ok(if s.scenario.wrapped(q.flag("supports_s3_credentials")) {
        pb(&proto::FileUploadResponse {
            method: Some(file_upload_response::Method::Url(msg)),
        })
    } else {
        pb(&msg)
    })
}
