//! How AI Hub says where a file goes or comes from, decoded from either of the protocol's two
//! answer shapes (protocol notes §2.1, §3, §9 item 9).
//!
//! EdgeGate asks without `supports_s3_credentials=true`, so a server following the protocol
//! answers the legacy messages (`FileMultipartUploadURL`, `FileUploadURL`, `FileDownloadURL`).
//! A server that answers the `File*Response` wrappers anyway is understood as well: the legacy
//! message is tried first and the wrapper only when the legacy reading holds no http(s) URL
//! (the two shapes are not wire-compatible, and a wrapper read as a legacy message never yields
//! one). A wrapper carrying S3 credentials becomes [`HubError::S3Credentials`], which names what
//! the server asked for, never a decode error. Pure decoding: no HTTP here.

use prost::Message;

use super::error::HubError;
use super::proto::{
    FileDownloadResponse, FileDownloadUrl, FileMultipartUploadUrl, FileUploadResponse,
    FileUploadUrl, S3Credentials, file_download_response, file_upload_response,
};
use crate::http;

/// How the server wants a model uploaded.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelUpload {
    /// Presigned part URLs (the protocol's way for models).
    Parts(FileMultipartUploadUrl),
    /// One form POST (only in the wrapper's oneof; kept because a server may choose it).
    Form(FileUploadUrl),
}

/// The answer to `GET models/<id>/multipart_upload/`.
pub fn model_upload(bytes: &[u8], route: &str) -> Result<ModelUpload, HubError> {
    let legacy = FileMultipartUploadUrl::decode(bytes);
    if let Ok(m) = &legacy
        && !m.urls.is_empty()
        && m.urls.iter().all(|u| is_http_url(u))
    {
        return Ok(ModelUpload::Parts(m.clone()));
    }
    if let Ok(FileUploadResponse {
        method: Some(method),
    }) = FileUploadResponse::decode(bytes)
    {
        match method {
            file_upload_response::Method::MultipartUrl(m)
                if !m.urls.is_empty() && m.urls.iter().all(|u| is_http_url(u)) =>
            {
                return Ok(ModelUpload::Parts(m));
            }
            file_upload_response::Method::Url(f) if is_http_url(&f.url) => {
                return Ok(ModelUpload::Form(f));
            }
            file_upload_response::Method::Credentials(c) => {
                return Err(credentials(route, "upload", &c));
            }
            _ => {}
        }
    }
    legacy
        .map(ModelUpload::Parts)
        .map_err(|e| undecodable(route, e))
}

/// The answer to `GET datasets/<id>/upload_url/`: where to POST the form.
pub fn dataset_upload(bytes: &[u8], route: &str) -> Result<FileUploadUrl, HubError> {
    let legacy = FileUploadUrl::decode(bytes);
    if let Ok(f) = &legacy
        && is_http_url(&f.url)
    {
        return Ok(f.clone());
    }
    if let Ok(FileUploadResponse {
        method: Some(method),
    }) = FileUploadResponse::decode(bytes)
    {
        match method {
            file_upload_response::Method::Url(f) if is_http_url(&f.url) => return Ok(f),
            file_upload_response::Method::Credentials(c) => {
                return Err(credentials(route, "upload", &c));
            }
            file_upload_response::Method::MultipartUrl(_) => {
                return Err(HubError::Protocol {
                    route: route.to_string(),
                    reason: "the server asked for a multipart upload of a dataset; the protocol \
                             uploads datasets with one form POST"
                        .into(),
                });
            }
            _ => {}
        }
    }
    match legacy {
        Ok(f) => Err(no_url(route, "upload", &f.url)),
        Err(e) => Err(undecodable(route, e)),
    }
}

/// The answer to `GET models/<id>/download/` and `GET datasets/<id>/download_data/`.
pub fn download(bytes: &[u8], route: &str) -> Result<FileDownloadUrl, HubError> {
    let legacy = FileDownloadUrl::decode(bytes);
    if let Ok(u) = &legacy
        && is_http_url(&u.url)
    {
        return Ok(u.clone());
    }
    if let Ok(FileDownloadResponse {
        method: Some(method),
    }) = FileDownloadResponse::decode(bytes)
    {
        match method {
            file_download_response::Method::Url(u) if is_http_url(&u.url) => return Ok(u),
            file_download_response::Method::Credentials(c) => {
                return Err(credentials(route, "download", &c));
            }
            _ => {}
        }
    }
    match legacy {
        Ok(u) => Err(no_url(route, "download", &u.url)),
        Err(e) => Err(undecodable(route, e)),
    }
}

/// An absolute http(s) URL with no control characters: what every presigned URL is, and what
/// the bytes of a wrapper's sub-message (which start with a field tag) never are.
fn is_http_url(raw: &str) -> bool {
    let scheme = raw.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("http" | "https")) && !raw.chars().any(char::is_control)
}

fn credentials(route: &str, transfer: &'static str, c: &S3Credentials) -> HubError {
    let shown = |s: &str| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            http::server_text(s, false)
        }
    };
    HubError::S3Credentials {
        route: route.to_string(),
        transfer,
        bucket: shown(&c.bucket),
        key: shown(&c.key),
        region: shown(&c.region),
    }
}

fn no_url(route: &str, transfer: &str, url: &str) -> HubError {
    HubError::Protocol {
        route: route.to_string(),
        reason: if url.is_empty() {
            format!("the answer holds no {transfer} url")
        } else {
            format!(
                "the {transfer} url {:?} is not an http(s) url",
                http::server_text(url, false)
            )
        },
    }
}

fn undecodable(route: &str, e: prost::DecodeError) -> HubError {
    HubError::Protocol {
        route: route.to_string(),
        reason: format!("undecodable protobuf (neither the legacy message nor the wrapper): {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(urls: &[&str]) -> FileMultipartUploadUrl {
        FileMultipartUploadUrl {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            upload_id: "u1".into(),
            max_part_size: 11,
        }
    }

    fn creds() -> S3Credentials {
        S3Credentials {
            access_key_id: "AKIASECRETISH".into(),
            secret_access_key: "very-secret".into(),
            session_token: "session-secret".into(),
            expiration: Some(crate::hub::proto::Timestamp::from_seconds(1_700_000_000)),
            bucket: "qai-hub-uploads".into(),
            key: "models/m1/model.onnx".into(),
            region: "us-west-2".into(),
            use_transfer_acceleration: true,
            filename: "model.onnx".into(),
        }
    }

    const ROUTE: &str = "GET /api/v1/models/m1/multipart_upload/";

    #[test]
    fn legacy_and_wrapped_part_urls_both_decode() {
        let legacy = parts(&["http://h/p0", "http://h/p1"]);
        assert_eq!(
            model_upload(&legacy.encode_to_vec(), ROUTE).expect("legacy"),
            ModelUpload::Parts(legacy.clone())
        );
        let wrapped = FileUploadResponse {
            method: Some(file_upload_response::Method::MultipartUrl(legacy.clone())),
        };
        assert_eq!(
            model_upload(&wrapped.encode_to_vec(), ROUTE).expect("wrapped"),
            ModelUpload::Parts(legacy)
        );
    }

    #[test]
    fn the_reference_test_vector_of_the_wrapper_decodes() {
        let bytes =
            hex::decode("12220a1a687474703a2f2f3132372e302e302e313a312f626c6f622f703012027531180b")
                .expect("hex");
        assert_eq!(
            model_upload(&bytes, ROUTE).expect("vector"),
            ModelUpload::Parts(parts(&["http://127.0.0.1:1/blob/p0"]))
        );
    }

    #[test]
    fn credentials_are_a_clear_error_on_every_route_and_keep_secrets_out() {
        let up = FileUploadResponse {
            method: Some(file_upload_response::Method::Credentials(creds())),
        }
        .encode_to_vec();
        let down = FileDownloadResponse {
            method: Some(file_download_response::Method::Credentials(creds())),
        }
        .encode_to_vec();
        let errors = [
            model_upload(&up, ROUTE).expect_err("model upload"),
            dataset_upload(&up, "GET /api/v1/datasets/d1/upload_url/").expect_err("dataset"),
            download(&down, "GET /api/v1/models/m1/download/").expect_err("download"),
        ];
        for err in errors {
            assert!(matches!(err, HubError::S3Credentials { .. }), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("qai-hub-uploads"), "{text}");
            assert!(text.contains("us-west-2"), "{text}");
            assert!(text.contains("models/m1/model.onnx"), "{text}");
            assert!(text.contains("supports_s3_credentials"), "{text}");
            for secret in ["AKIASECRETISH", "very-secret", "session-secret"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn forms_and_downloads_decode_in_both_shapes() {
        let form = FileUploadUrl {
            url: "https://bucket.example/".into(),
            file_field_name: "file".into(),
            fields: [("key".to_string(), "datasets/d1/x.h5".to_string())].into(),
        };
        let route = "GET /api/v1/datasets/d1/upload_url/";
        assert_eq!(
            dataset_upload(&form.encode_to_vec(), route).expect("legacy"),
            form
        );
        let wrapped = FileUploadResponse {
            method: Some(file_upload_response::Method::Url(form.clone())),
        };
        assert_eq!(
            dataset_upload(&wrapped.encode_to_vec(), route).expect("wrapped"),
            form
        );
        let dl = FileDownloadUrl {
            url: "http://h/blobs/b1/out.h5".into(),
            filename: "out.h5".into(),
        };
        let route = "GET /api/v1/datasets/d1/download_data/";
        assert_eq!(download(&dl.encode_to_vec(), route).expect("legacy"), dl);
        let wrapped = FileDownloadResponse {
            method: Some(file_download_response::Method::Url(dl.clone())),
        };
        assert_eq!(
            download(&wrapped.encode_to_vec(), route).expect("wrapped"),
            dl
        );
    }

    #[test]
    fn answers_without_a_usable_url_say_so() {
        let empty = download(&[], "GET /api/v1/models/m1/download/").expect_err("empty");
        assert!(empty.to_string().contains("no download url"), "{empty}");
        let ftp = FileDownloadUrl {
            url: "ftp://h/x".into(),
            filename: "x".into(),
        };
        let err = download(&ftp.encode_to_vec(), "GET /x/").expect_err("ftp");
        assert!(err.to_string().contains("not an http(s) url"), "{err}");
        let none = model_upload(&parts(&[]).encode_to_vec(), ROUTE).expect("decodes");
        assert_eq!(
            none,
            ModelUpload::Parts(parts(&[])),
            "checked by part_spans"
        );
        let junk = model_upload(&[0xff, 0xff], ROUTE).expect_err("junk");
        assert!(junk.to_string().contains("undecodable"), "{junk}");
    }
}
