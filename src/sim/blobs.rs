//! Stand-ins for presigned storage URLs: part PUTs (answering an `ETag`), form POSTs and GETs,
//! none of which needs the API token. Bytes are streamed to files in the simulator's temporary
//! folder, so a 1 GiB upload never sits in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::reply::detail;
use super::state::{Counters, SimState};
use super::store::BlobRec;

/// The blob routes, without auth and without a body size limit.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/blobs/parts/{upload}/{index}", put(put_part))
        .route("/blobs/forms/{dataset}", post(post_form))
        .route("/blobs/{id}/{filename}", get(get_blob))
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Where part `index` of an upload is kept.
pub(crate) fn part_path(state: &SimState, upload: &str, index: usize) -> PathBuf {
    state.blob_dir.path().join(format!("part-{upload}-{index}"))
}

/// A new file path in the blob folder for `key`.
pub(crate) fn file_path(state: &SimState, key: &str) -> PathBuf {
    state.blob_dir.path().join(key)
}

/// Registers a stored file and returns its download URL.
pub(crate) fn register(state: &SimState, path: PathBuf, filename: &str) -> (String, String) {
    let mut store = state.store();
    let id = store.new_id('b');
    store.blobs.insert(
        id.clone(),
        BlobRec {
            path,
            filename: filename.to_owned(),
        },
    );
    let url = blob_url(state, &id, filename);
    (id, url)
}

/// The URL a blob is served at.
pub(crate) fn blob_url(state: &SimState, id: &str, filename: &str) -> String {
    let safe: String = url::form_urlencoded::byte_serialize(filename.as_bytes()).collect();
    format!("{}/blobs/{id}/{safe}", state.base_url)
}

/// Concatenates upload parts into one file, returning its sha256 hex and size.
pub(crate) async fn concat(parts: &[PathBuf], out: &Path) -> std::io::Result<(String, u64)> {
    let mut dst = tokio::fs::File::create(out).await?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for part in parts {
        let mut src = tokio::fs::File::open(part).await?;
        loop {
            let n = src.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            dst.write_all(&buf[..n]).await?;
            size += n as u64;
        }
    }
    dst.flush().await?;
    for part in parts {
        let _ = tokio::fs::remove_file(part).await;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Writes bytes to a new blob file and registers it.
pub(crate) async fn store_bytes(
    state: &SimState,
    key: &str,
    filename: &str,
    bytes: &[u8],
) -> std::io::Result<(String, String)> {
    let path = file_path(state, key);
    tokio::fs::write(&path, bytes).await?;
    Ok(register(state, path, filename))
}

async fn put_part(
    State(state): State<Arc<SimState>>,
    UrlPath((upload, index)): UrlPath<(String, String)>,
    body: Body,
) -> Response {
    let Ok(index) = index.parse::<usize>() else {
        return detail(StatusCode::NOT_FOUND, "no such upload part");
    };
    let known = state
        .store()
        .uploads
        .get(&upload)
        .is_some_and(|u| index < u.etags.len());
    if !known {
        return detail(StatusCode::NOT_FOUND, "no such upload part");
    }
    let path = part_path(&state, &upload, index);
    let (sha, _size) = match stream_to_file(body.into_data_stream(), &path).await {
        Ok(v) => v,
        Err(e) => return detail(StatusCode::BAD_REQUEST, &format!("upload failed: {e}")),
    };
    Counters::bump(&state.counters.upload_parts);
    let etag = format!("\"{}\"", &sha[..32]);
    if let Some(u) = state.store().uploads.get_mut(&upload)
        && let Some(slot) = u.etags.get_mut(index)
    {
        *slot = Some(etag.clone());
    }
    let mut resp = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

async fn stream_to_file<S, E>(mut stream: S, path: &Path) -> std::io::Result<(String, u64)>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path).await?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()))?;
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
        size += chunk.len() as u64;
    }
    file.flush().await?;
    Ok((hex::encode(hasher.finalize()), size))
}

async fn post_form(
    State(state): State<Arc<SimState>>,
    UrlPath(dataset): UrlPath<String>,
    mut form: Multipart,
) -> Response {
    if !state.store().datasets.contains_key(&dataset) {
        return detail(StatusCode::NOT_FOUND, "no such upload target");
    }
    let path = file_path(&state, &format!("dataset-{dataset}.h5"));
    let mut got_file = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return detail(StatusCode::BAD_REQUEST, &format!("bad form: {e}")),
        };
        if field.name() != Some("file") {
            continue;
        }
        let stream = futures_util::stream::unfold(field, |mut f| async move {
            match f.chunk().await {
                Ok(Some(c)) => Some((Ok(c), f)),
                Ok(None) => None,
                Err(e) => Some((Err(e), f)),
            }
        });
        if let Err(e) = stream_to_file(Box::pin(stream), &path).await {
            return detail(StatusCode::BAD_REQUEST, &format!("upload failed: {e}"));
        }
        got_file = true;
    }
    if !got_file {
        return detail(StatusCode::BAD_REQUEST, "the form has no `file` part");
    }
    let filename = format!("{dataset}.h5");
    let (blob, _) = register(&state, path, &filename);
    if let Some(d) = state.store().datasets.get_mut(&dataset) {
        d.blob = Some(blob);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn get_blob(
    State(state): State<Arc<SimState>>,
    UrlPath((id, _filename)): UrlPath<(String, String)>,
) -> Response {
    let Some(path) = state.store().blobs.get(&id).map(|b| b.path.clone()) else {
        return detail(StatusCode::NOT_FOUND, "no such blob");
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return detail(StatusCode::NOT_FOUND, "no such blob"),
    };
    let len = file.metadata().await.map(|m| m.len()).ok();
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        body,
    )
        .into_response();
    if let Some(len) = len {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp
}
