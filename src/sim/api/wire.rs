//! How the simulator's API answers: protobuf bodies with the exact content type the official client
//! requires, `{"detail": …}` errors, create/update receipts, query strings and pages. Knows no
//! resource; every route file uses it and it imports none of them.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;

use crate::hub::client::PROTOBUF;
use crate::hub::proto::{self, file_download_response};
use crate::sim::reply::detail;

/// What a route answers: a protobuf body or an error answer.
pub(super) type ApiResult = Result<Response, ApiError>;

/// An error answer: status and the `detail` text.
pub(super) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        detail(self.0, &self.1)
    }
}

/// A protobuf body with the content type the official client insists on.
pub(super) fn pb<M: Message>(m: &M) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, PROTOBUF)],
        m.encode_to_vec(),
    )
        .into_response()
}

/// A 400 answer.
pub(super) fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

/// The record a lookup found, or the 404 the hub answers for a missing `kind` ("Model", "Job").
pub(super) fn found<R>(rec: Option<R>, kind: &str, id: &str) -> Result<R, ApiError> {
    rec.ok_or_else(|| not_found(format!("{kind} {id} not found.")))
}

/// A 404 answer.
pub(super) fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, msg.into())
}

/// The request body as message `M`, or a 400 naming it.
pub(super) fn decode<M: Message + Default>(body: &[u8], what: &str) -> Result<M, ApiError> {
    M::decode(body).map_err(|e| bad(format!("malformed {what} message: {e}")))
}

/// A protobuf timestamp of Unix seconds.
pub(super) fn ts(seconds: i64) -> Option<proto::Timestamp> {
    Some(proto::Timestamp::from_seconds(seconds))
}

/// The receipt of a create or update: the id and its times.
pub(super) fn urm(id: &str, created: Option<i64>, expires: Option<i64>) -> Response {
    pb(&proto::CreateUpdateResponse {
        id: id.to_owned(),
        status: String::new(),
        creation_time: created.and_then(ts),
        expiration_time: expires.and_then(ts),
        validation_error: None,
    })
}

/// Where to download a file: the `FileDownloadResponse` wrapper when `wrapped`, else the legacy
/// bare `FileDownloadURL`; S3 credentials instead of the URL when `credentials` (always wrapped,
/// the only shape that can carry them).
pub(super) fn download_answer(
    url: String,
    filename: String,
    wrapped: bool,
    credentials: Option<proto::S3Credentials>,
) -> Response {
    if let Some(c) = credentials {
        return pb(&proto::FileDownloadResponse {
            method: Some(file_download_response::Method::Credentials(c)),
        });
    }
    let msg = proto::FileDownloadUrl { url, filename };
    if wrapped {
        pb(&proto::FileDownloadResponse {
            method: Some(file_download_response::Method::Url(msg)),
        })
    } else {
        pb(&msg)
    }
}

/// Temporary S3 credentials for object `key`, for scenarios that stage a server insisting on
/// direct S3 transfers (`transfers.s3_credentials`). They are fake: no S3 stands behind them.
pub(super) fn s3_credentials(key: String, filename: String, now: i64) -> proto::S3Credentials {
    proto::S3Credentials {
        access_key_id: "ASIAEDGEGATEHUBSIM00".into(),
        secret_access_key: "hub-sim-fake-secret-access-key".into(),
        session_token: "hub-sim-fake-session-token".into(),
        expiration: ts(now + 3600),
        bucket: "edgegate-hub-sim".into(),
        key,
        region: "us-west-2".into(),
        use_transfer_acceleration: false,
        filename,
    }
}

/// Query pairs in order, keeping repeated keys (`attributes=a&attributes=b`).
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(raw: Option<String>) -> Self {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub(super) fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| matches!(v, "true" | "True" | "1"))
    }

    pub(super) fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| bad(format!("`{key}` must be a non-negative integer"))),
        }
    }

    pub(super) fn page(&self) -> Result<(usize, usize), ApiError> {
        let offset = self.number("offset")?.unwrap_or(0);
        let limit = self.number("limit")?.unwrap_or(50).min(1000);
        Ok((
            usize::try_from(offset).unwrap_or(usize::MAX),
            limit as usize,
        ))
    }
}

/// One page (`offset`, `limit`) of a list.
/// The name a create request gave, or `default` when it gave none or an empty one.
pub(super) fn name_or(name: Option<String>, default: &str) -> String {
    name.filter(|n| !n.is_empty())
        .unwrap_or_else(|| default.into())
}

/// One page of records, newest first (ties: the larger id first), and how many there are in all.
pub(super) fn newest_page<T>(
    mut recs: Vec<&T>,
    page: (usize, usize),
    created_and_id: impl Fn(&T) -> (i64, &str),
) -> (Vec<&T>, u64) {
    recs.sort_by(|a, b| created_and_id(b).cmp(&created_and_id(a)));
    let total = recs.len() as u64;
    (paginate(recs, page), total)
}

pub(super) fn paginate<T>(items: Vec<T>, (offset, limit): (usize, usize)) -> Vec<T> {
    items.into_iter().skip(offset).take(limit).collect()
}
