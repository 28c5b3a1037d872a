//! Moving files to and from AI Hub: model multipart uploads streamed part by part from disk,
//! dataset form-POST uploads, and streamed downloads of models and datasets.
//!
//! Memory stays bounded by one read buffer whatever the file size: parts are streamed from a
//! `tokio::fs::File` limited with `take`, downloads are written chunk by chunk. Blob URLs get no
//! API headers and never the token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use prost::Message;
use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, ETAG};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;
use url::Url;

use super::client::{Failure, HubClient, classify, host_of};
use super::dataset::{self, NamedSamples};
use super::error::HubError;
use super::jobs::created_id;
use super::proto::{
    CreateUpdateResponse, Dataset, FileMultipartUploadComplete, FileMultipartUploadUrl,
    FileUploadUrl, Model, ModelType,
};
use super::transfer::{self, ModelUpload};
use crate::files;
use crate::http;

const READ_BUFFER: usize = 256 * 1024;

/// A model now held by AI Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedModel {
    /// Its id, for compile jobs.
    pub model_id: String,
    /// Bytes uploaded.
    pub size: u64,
    /// Number of parts the server asked for.
    pub parts: usize,
}

/// The AI Hub model type for a file, from its extension as the official client decides it.
pub fn model_type_for_path(path: &Path) -> Option<ModelType> {
    let name = path.file_name()?.to_str()?.to_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "pt" | "pth" => ModelType::Torchscript,
        "pt2" => ModelType::TorchExportedProgram,
        "tflite" => ModelType::Tflite,
        "onnx" => ModelType::Onnx,
        "bin" => ModelType::QnnContextBinary,
        "dlc" => ModelType::QnnDlc,
        "mlmodel" => ModelType::Mlmodel,
        "trtmodel" => ModelType::Tetrart,
        _ => return None,
    })
}

/// The largest part edgegate sends in one PUT: S3's limit for one part of a multipart upload
/// (5 GiB), so a server answer that would need more is refused before any byte is sent.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The byte span `(offset, len)` of each part of a multipart upload, by the protocol's rule
/// (notes §3.1): as many parts as URLs given, part `i` starts at `i * max_part_size`, and the
/// last part takes the rest, whatever its size. A server may hand out fewer URLs than
/// `⌈size / max_part_size⌉`; what cannot be uploaded (no URL, an empty or negative part, a part
/// over [`MAX_PART_BYTES`]) is an error that says why.
pub fn part_spans(size: u64, max_part_size: u64, parts: usize) -> Result<Vec<(u64, u64)>, String> {
    let n = parts as u64;
    if parts == 0 {
        return Err("the server gave no part urls".into());
    }
    if size == 0 {
        return if parts == 1 {
            Ok(vec![(0, 0)])
        } else {
            Err(format!(
                "{parts} part urls for an empty file (only one empty part can be uploaded)"
            ))
        };
    }
    if n > size {
        return Err(format!(
            "{parts} part urls for a file of {size} bytes: more parts than bytes"
        ));
    }
    if parts > 1 && max_part_size == 0 {
        return Err(format!(
            "{parts} part urls with max_part_size 0: every part but the last would be empty"
        ));
    }
    let head = (n - 1)
        .checked_mul(max_part_size)
        .filter(|&h| h < size)
        .ok_or_else(|| {
            format!(
                "{parts} part urls for {size} bytes in parts of {max_part_size}: the first {} \
                 parts already hold the whole file, so part {parts} would be empty",
                n - 1
            )
        })?;
    let last = size - head;
    let biggest = if parts > 1 {
        last.max(max_part_size)
    } else {
        last
    };
    if biggest > MAX_PART_BYTES {
        return Err(format!(
            "{parts} part urls for {size} bytes in parts of {max_part_size} make a part of \
             {biggest} bytes, over the {MAX_PART_BYTES}-byte (5 GiB) limit of one part"
        ));
    }
    Ok((0..n)
        .map(|i| {
            let offset = i * max_part_size;
            let len = if i + 1 == n { last } else { max_part_size };
            (offset, len)
        })
        .collect())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + '_ {
    move |source| HubError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn parse_blob_url(raw: &str) -> Result<Url, HubError> {
    Url::parse(raw).map_err(|e| HubError::Protocol {
        route: "blob url".into(),
        reason: format!("invalid url {}: {e}", http::server_text(raw, false)),
    })
}

async fn file_body(path: &Path, offset: u64, len: u64) -> Result<reqwest::Body, Failure> {
    let opened = files::open(path, "upload", files::MODEL_LIMIT).map_err(HubError::from)?;
    let mut file = tokio::fs::File::from_std(opened.file);
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(io_err(path))?;
    let reader = tokio::io::AsyncReadExt::take(file, len);
    Ok(reqwest::Body::wrap_stream(ReaderStream::with_capacity(
        reader,
        READ_BUFFER,
    )))
}

impl HubClient {
    /// Creates a model and uploads the file, streamed part by part as the server asks.
    pub async fn upload_model(
        &self,
        path: &Path,
        name: Option<&str>,
    ) -> Result<UploadedModel, HubError> {
        if path.is_dir() {
            return Err(HubError::UnsupportedModel {
                path: path.to_path_buf(),
                reason: "directory models are not supported yet; zip it or export one file".into(),
            });
        }
        let size = files::check(path, "model", files::MODEL_LIMIT)?;
        let model_type = model_type_for_path(path).ok_or_else(|| HubError::UnsupportedModel {
            path: path.to_path_buf(),
            reason: "unknown extension (expected .onnx, .tflite, .pt, .pt2, .bin, .dlc, .mlmodel)"
                .into(),
        })?;
        let name = name
            .map(str::to_string)
            .or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "model".into());
        let create = Model {
            name: Some(name),
            model_type: Some(model_type as i32),
            is_directory: Some(false),
            ..Model::default()
        };
        let url = self.api_url(&["models"], &[])?;
        let urm: CreateUpdateResponse = self
            .call(Method::POST, url, Some(create.encode_to_vec()), "models")
            .await?;
        let model_id = created_id(urm, "POST models/")?;

        // No `supports_s3_credentials=true` on any transfer route, deliberately (protocol notes
        // §2.1, §3, §10). With the flag the server may answer `credentials` (temporary S3 keys for
        // a SigV4 upload straight to a bucket), which edgegate cannot follow: it moves files only
        // through presigned URLs, and a client that advertises what it cannot do fails on the
        // very answer it asked for. Without the flag the server answers the legacy messages
        // (`FileMultipartUploadURL` here, `FileUploadURL` for datasets, `FileDownloadURL` for
        // downloads), which always carry URLs; the 0.45 client and the 0.56 client's own
        // `download_data` call use them. `transfer` also reads the wrappers, should a server
        // send them anyway, and turns a `credentials` answer into an error naming it.
        let size_s = size.to_string();
        let url = self.api_url(
            &["models", &model_id, "multipart_upload"],
            &[("use_acceleration", "false"), ("file_size", &size_s)],
        )?;
        let route = format!("GET {}", url.path());
        let answer = self
            .call_raw(Method::GET, url, None, &format!("model {model_id}"))
            .await?;
        let parts = match transfer::model_upload(&answer, &route)? {
            ModelUpload::Parts(m) => self.upload_parts(&model_id, path, size, m).await?,
            ModelUpload::Form(form) => {
                self.post_form(&form, path, size).await?;
                let url = self.api_url(&["models", &model_id, "upload_complete"], &[])?;
                let urm: CreateUpdateResponse = self
                    .call(
                        Method::POST,
                        url,
                        Some(Vec::new()),
                        &format!("model {model_id}"),
                    )
                    .await?;
                created_id(urm, "POST models/<id>/upload_complete/")?;
                1
            }
        };
        Ok(UploadedModel {
            model_id,
            size,
            parts,
        })
    }

    async fn upload_parts(
        &self,
        model_id: &str,
        path: &Path,
        size: u64,
        m: FileMultipartUploadUrl,
    ) -> Result<usize, HubError> {
        let spans = part_spans(size, m.max_part_size, m.urls.len()).map_err(|reason| {
            HubError::Protocol {
                route: format!("GET models/{model_id}/multipart_upload/"),
                reason,
            }
        })?;
        let mut etags = Vec::with_capacity(spans.len());
        for (raw, (offset, len)) in m.urls.iter().zip(spans) {
            let url = parse_blob_url(raw)?;
            tracing::debug!(offset, len, "uploading model part");
            etags.push(self.put_part(&url, path, offset, len).await?);
        }
        let parts = etags.len();
        let complete = FileMultipartUploadComplete {
            upload_id: m.upload_id,
            etags,
        };
        let url = self.api_url(&["models", model_id, "multipart_upload"], &[])?;
        let urm: CreateUpdateResponse = self
            .call(
                Method::POST,
                url,
                Some(complete.encode_to_vec()),
                &format!("model {model_id}"),
            )
            .await?;
        created_id(urm, "POST models/<id>/multipart_upload/")?;
        Ok(parts)
    }

    async fn put_part(
        &self,
        url: &Url,
        path: &Path,
        offset: u64,
        len: u64,
    ) -> Result<String, HubError> {
        self.retrying(&host_of(url), || async move {
            let body = file_body(path, offset, len).await?;
            let limit = self.upload_time_limit(len);
            let send = self
                .blob
                .put(url.clone())
                .header(CONTENT_LENGTH, len)
                .body(body)
                .send();
            let resp = tokio::time::timeout(limit, send)
                .await
                .map_err(|_| Failure::transport(too_slow(limit)))?
                .map_err(Failure::transport)?;
            if !resp.status().is_success() {
                let status = resp.status();
                let headers = resp.headers().clone();
                let (text, cut) = http::read_prefix(resp, http::ERROR_BODY_LIMIT).await;
                return Err(classify(status, &headers, &text, cut, "upload part"));
            }
            let etag = resp
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            etag.ok_or_else(|| {
                Failure::Fatal(HubError::Protocol {
                    route: format!("PUT {}", url.path()),
                    reason: "the part upload answer has no ETag header".into(),
                })
            })
        })
        .await
    }

    async fn post_form(
        &self,
        form: &FileUploadUrl,
        path: &Path,
        size: u64,
    ) -> Result<(), HubError> {
        let url = parse_blob_url(&form.url)?;
        let mime = if path.extension().is_some_and(|e| e == "h5") {
            "application/x-hdf5"
        } else {
            "application/octet-stream"
        };
        self.retrying(&host_of(&url), || {
            let url = url.clone();
            async move {
                let body = file_body(path, 0, size).await?;
                let part = reqwest::multipart::Part::stream_with_length(body, size)
                    .file_name("model")
                    .mime_str(mime)
                    .map_err(|e| {
                        Failure::Fatal(HubError::Protocol {
                            route: "form upload".into(),
                            reason: e.to_string(),
                        })
                    })?;
                let mut multipart = reqwest::multipart::Form::new();
                for (k, v) in &form.fields {
                    multipart = multipart.text(k.clone(), v.clone());
                }
                multipart = multipart.part(form.file_field_name.clone(), part);
                let limit = self.upload_time_limit(size);
                let send = self.blob.post(url).multipart(multipart).send();
                let resp = tokio::time::timeout(limit, send)
                    .await
                    .map_err(|_| Failure::transport(too_slow(limit)))?
                    .map_err(Failure::transport)?;
                if resp.status().is_success() {
                    return Ok(());
                }
                let status = resp.status();
                let headers = resp.headers().clone();
                let (text, cut) = http::read_prefix(resp, http::ERROR_BODY_LIMIT).await;
                Err(classify(status, &headers, &text, cut, "dataset upload"))
            }
        })
        .await
    }

    /// Creates a dataset from an HDF5 file in the AI Hub layout and uploads it; returns its id.
    pub async fn upload_dataset_file(&self, path: &Path, name: &str) -> Result<String, HubError> {
        let size = files::check(path, "dataset", files::DATASET_LIMIT)?;
        let create = Dataset {
            name: Some(name.to_string()),
            permanent: Some(false),
            ..Dataset::default()
        };
        let url = self.api_url(&["datasets"], &[])?;
        let urm: CreateUpdateResponse = self
            .call(Method::POST, url, Some(create.encode_to_vec()), "datasets")
            .await?;
        let dataset_id = created_id(urm, "POST datasets/")?;
        let what = format!("dataset {dataset_id}");
        let size_s = size.to_string();
        // No `supports_s3_credentials=true`: see `upload_model`.
        let url = self.api_url(
            &["datasets", &dataset_id, "upload_url"],
            &[("use_acceleration", "false"), ("file_size", &size_s)],
        )?;
        let route = format!("GET {}", url.path());
        let answer = self.call_raw(Method::GET, url, None, &what).await?;
        let form = transfer::dataset_upload(&answer, &route)?;
        self.post_form(&form, path, size).await?;
        let done = Dataset {
            file_upload_complete: Some(true),
            ..Dataset::default()
        };
        let url = self.api_url(&["datasets", &dataset_id], &[])?;
        let urm: CreateUpdateResponse = self
            .call(Method::PATCH, url, Some(done.encode_to_vec()), &what)
            .await?;
        created_id(urm, "PATCH datasets/<id>/")?;
        Ok(dataset_id)
    }

    /// Writes named input tensors as an HDF5 dataset in the AI Hub layout and uploads it;
    /// returns the dataset id for an inference job.
    pub async fn upload_inputs(
        &self,
        inputs: Vec<NamedSamples>,
        name: &str,
    ) -> Result<String, HubError> {
        let dir = tempfile::tempdir().map_err(io_err(Path::new("temporary directory")))?;
        let path = dir.path().join("inputs.h5");
        let write_to = path.clone();
        tokio::task::spawn_blocking(move || dataset::write(&write_to, &inputs))
            .await
            .map_err(|e| HubError::Io {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })??;
        self.upload_dataset_file(&path, name).await
    }

    /// Downloads a dataset (e.g. an inference job's outputs) and decodes its named tensors.
    pub async fn download_outputs(&self, dataset_id: &str) -> Result<Vec<NamedSamples>, HubError> {
        let dir = tempfile::tempdir().map_err(io_err(Path::new("temporary directory")))?;
        let path = dir.path().join("outputs.h5");
        self.download_dataset(dataset_id, &path).await?;
        let read_from = path.clone();
        let entries = tokio::task::spawn_blocking(move || super::dataset_child::read(&read_from))
            .await
            .map_err(|e| HubError::Io {
                path,
                source: std::io::Error::other(e.to_string()),
            })??;
        Ok(entries)
    }

    /// Downloads a model (e.g. a compiled target model) to `dest`; a directory gets the server's
    /// file name. Returns the written path.
    pub async fn download_model(&self, model_id: &str, dest: &Path) -> Result<PathBuf, HubError> {
        self.download_object(
            &["models", model_id, "download"],
            &format!("model {model_id}"),
            dest,
            http::MODEL_DOWNLOAD_LIMIT,
        )
        .await
    }

    /// Downloads a dataset's HDF5 file (e.g. inference outputs) to `dest`.
    pub async fn download_dataset(
        &self,
        dataset_id: &str,
        dest: &Path,
    ) -> Result<PathBuf, HubError> {
        self.download_object(
            &["datasets", dataset_id, "download_data"],
            &format!("dataset {dataset_id}"),
            dest,
            files::DATASET_LIMIT,
        )
        .await
    }

    async fn download_object(
        &self,
        parts: &[&str],
        what: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<PathBuf, HubError> {
        // No `supports_s3_credentials=true`: see `upload_model`.
        let url = self.api_url(parts, &[("use_acceleration", "false")])?;
        let route = format!("GET {}", url.path());
        let answer = self.call_raw(Method::GET, url, None, what).await?;
        let u = transfer::download(&answer, &route)?;
        let target = if dest.is_dir() {
            let name = Path::new(&u.filename)
                .file_name()
                .map(|n| n.to_os_string())
                .filter(|n| !n.is_empty() && n != "." && n != "..")
                .unwrap_or_else(|| "download".into());
            dest.join(name)
        } else {
            dest.to_path_buf()
        };
        self.download_blob(&parse_blob_url(&u.url)?, &target, limit)
            .await?;
        Ok(target)
    }

    /// Streams a blob URL to a file (no auth) of at most `limit` bytes, retrying from scratch on
    /// transient failures.
    pub async fn download_blob(&self, url: &Url, dest: &Path, limit: u64) -> Result<u64, HubError> {
        let stall = self.options.blob_read_timeout;
        let route = format!("GET {}", url.path());
        let too_large = |reason: String| {
            Failure::Fatal(HubError::AnswerTooLarge {
                route: route.clone(),
                reason,
            })
        };
        self.retrying(&host_of(url), || async move {
            let resp = tokio::time::timeout(stall, self.blob.get(url.clone()).send())
                .await
                .map_err(|_| Failure::transport(stalled(stall)))?
                .map_err(Failure::transport)?;
            if !resp.status().is_success() {
                let status = resp.status();
                let headers = resp.headers().clone();
                let (text, cut) = http::read_prefix(resp, http::ERROR_BODY_LIMIT).await;
                return Err(classify(status, &headers, &text, cut, "download"));
            }
            if let Some(length) = resp.content_length()
                && length > limit
            {
                return Err(too_large(
                    http::BodyError::Announced { length, limit }.to_string(),
                ));
            }
            let mut file = tokio::fs::File::create(dest).await.map_err(io_err(dest))?;
            let mut stream = resp.bytes_stream();
            let mut written = 0u64;
            loop {
                let next = tokio::time::timeout(stall, stream.next())
                    .await
                    .map_err(|_| Failure::transport(stalled(stall)))?;
                match next {
                    None => break,
                    Some(chunk) => {
                        let chunk = chunk.map_err(Failure::transport)?;
                        written += chunk.len() as u64;
                        if written > limit {
                            return Err(too_large(http::BodyError::TooLong { limit }.to_string()));
                        }
                        file.write_all(&chunk).await.map_err(io_err(dest))?;
                    }
                }
            }
            file.flush().await.map_err(io_err(dest))?;
            Ok(written)
        })
        .await
    }
}

fn too_slow(limit: Duration) -> String {
    format!("upload did not finish within {} s", limit.as_secs())
}

fn stalled(after: Duration) -> String {
    format!("no data for {} ms", after.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_types_follow_the_extension() {
        let t = |p: &str| model_type_for_path(Path::new(p));
        assert_eq!(t("m.onnx"), Some(ModelType::Onnx));
        assert_eq!(t("dir/M.TFLITE"), Some(ModelType::Tflite));
        assert_eq!(t("a.pt"), Some(ModelType::Torchscript));
        assert_eq!(t("a.pt2"), Some(ModelType::TorchExportedProgram));
        assert_eq!(t("ctx.bin"), Some(ModelType::QnnContextBinary));
        assert_eq!(t("m.dlc"), Some(ModelType::QnnDlc));
        assert_eq!(t("m.txt"), None);
        assert_eq!(t("noext"), None);
    }

    #[test]
    fn parts_cover_the_file_exactly() {
        assert_eq!(
            part_spans(25, 10, 3).expect("valid"),
            vec![(0, 10), (10, 10), (20, 5)]
        );
        assert_eq!(
            part_spans(20, 10, 2).expect("valid"),
            vec![(0, 10), (10, 10)]
        );
        assert_eq!(part_spans(11, 11, 1).expect("valid"), vec![(0, 11)]);
        assert_eq!(part_spans(0, 10, 1).expect("valid"), vec![(0, 0)]);
        let big = 2 * 1024 * 1024 * 1024u64 + 1;
        let spans = part_spans(big, 256 * 1024 * 1024, 9).expect("valid");
        assert_eq!(spans.last(), Some(&(8 * 256 * 1024 * 1024, 1)));
        assert_eq!(spans.iter().map(|s| s.1).sum::<u64>(), big);
    }

    #[test]
    fn fewer_urls_than_the_default_split_give_the_rest_to_the_last_part() {
        assert_eq!(
            part_spans(25, 10, 2).expect("valid"),
            vec![(0, 10), (10, 15)]
        );
        assert_eq!(part_spans(25, 10, 1).expect("valid"), vec![(0, 25)]);
        assert_eq!(part_spans(25, 0, 1).expect("valid"), vec![(0, 25)]);
    }

    #[test]
    fn impossible_splits_say_what_is_wrong() {
        let err = |size, max, parts| part_spans(size, max, parts).expect_err("impossible");
        assert!(err(25, 10, 0).contains("no part urls"));
        assert!(err(0, 10, 2).contains("empty file"));
        assert!(err(3, 1, 4).contains("more parts than bytes"));
        assert!(err(25, 10, 4).contains("part 4 would be empty"));
        assert!(err(25, 0, 3).contains("max_part_size 0"));
        assert!(err(25, u64::MAX, 3).contains("would be empty"));
        let six_gib = 6 * 1024 * 1024 * 1024u64;
        let over = err(six_gib, 1024, 1);
        assert!(over.contains("5 GiB"), "{over}");
        assert!(err(six_gib, six_gib - 1, 2).contains("5 GiB"));
        assert!(part_spans(six_gib, 4 * 1024 * 1024 * 1024, 2).is_ok());
    }
}
