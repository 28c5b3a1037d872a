//! Errors of the AI Hub client, one variant per thing a user can act on.
//!
//! Messages are lowercase fragments that read after "failed to …"; none of them contains the
//! API token.

use std::path::PathBuf;

/// Anything that can go wrong talking to AI Hub or its blob storage.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// No token anywhere in the configuration chain.
    #[error(
        "no ai hub api token configured: set QAIHUB_API_TOKEN, or run `qai-hub configure --api_token <token>` to write ~/.qai_hub/client.ini"
    )]
    MissingToken,
    /// The client.ini could not be parsed.
    #[error("invalid ai hub config file {path}: {reason}")]
    ConfigFile { path: PathBuf, reason: String },
    /// A configured base URL is unusable.
    #[error("invalid ai hub url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A path segment (an id or name) would change the route it is put into.
    #[error("invalid ai hub id {0:?}: ids may not contain '/', '?', '#', '%' or whitespace")]
    InvalidId(String),
    /// 401: the server did not accept the token.
    #[error(
        "ai hub token rejected (401): set a valid token in QAIHUB_API_TOKEN, or run `qai-hub configure --api_token <token>` (get one from your AI Hub account page)"
    )]
    Unauthorized,
    /// 404 on a route about one object.
    #[error("ai hub could not find {what}: {detail}")]
    NotFound { what: String, detail: String },
    /// 400, 403, 409 and other 4xx: the server refused and said why.
    #[error("ai hub refused the request ({status}): {detail}")]
    Rejected { status: u16, detail: String },
    /// 426: the server wants a newer client protocol.
    #[error("ai hub requires a newer client (426 upgrade required): {detail}; upgrade edgegate")]
    UpgradeRequired { detail: String },
    /// 429 persisted beyond the retry budget.
    #[error("ai hub kept rate limiting the request (429) after {attempts} attempts: {detail}")]
    RateLimited { attempts: u32, detail: String },
    /// 5xx persisted beyond the retry budget, or a 5xx that is not retried.
    #[error("ai hub server error ({status}) after {attempts} attempts: {detail}")]
    Server {
        status: u16,
        attempts: u32,
        detail: String,
    },
    /// Connection failures and timeouts persisted beyond the retry budget.
    #[error("could not reach {host} after {attempts} attempts")]
    Transport {
        host: String,
        attempts: u32,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A 2xx answer that is not what the protocol promises.
    #[error("unexpected answer from ai hub ({route}): {reason}")]
    Protocol { route: String, reason: String },
    /// The server wants the file moved with temporary S3 credentials, which edgegate never
    /// asks for (it sends no `supports_s3_credentials=true`) and cannot use.
    #[error(
        "ai hub answered {route} with temporary S3 credentials for a direct {transfer} (bucket {bucket}, key {key}, region {region}); edgegate moves files only through presigned urls and did not send supports_s3_credentials=true, so it cannot follow this answer"
    )]
    S3Credentials {
        route: String,
        transfer: &'static str,
        bucket: String,
        key: String,
        region: String,
    },
    /// The file cannot be uploaded as a model.
    #[error("cannot upload {path} as a model: {reason}")]
    UnsupportedModel { path: PathBuf, reason: String },
    /// A job ended FAILED; the server's reason is kept verbatim.
    #[error("ai hub job {job_id} failed: {reason}")]
    JobFailed {
        job_id: String,
        reason: String,
        failure_type: super::proto::JobFailureType,
        url: String,
    },
    /// The client-side wait limit passed before the job ended.
    #[error("ai hub job {job_id} did not finish within {waited_secs} s")]
    JobTimeout { job_id: String, waited_secs: u64 },
    /// No device matched the selection.
    #[error("ai hub device {0} is not available")]
    DeviceNotAvailable(String),
    /// An input or output dataset file could not be written or read.
    #[error("invalid ai hub dataset")]
    Dataset(#[from] super::dataset::DatasetError),
    /// An answer larger than its limit; refused, never read whole.
    #[error("ai hub's answer to {route} was refused: {reason}")]
    AnswerTooLarge { route: String, reason: String },
    /// The command's deadline passed, or waiting for a retry would pass it.
    #[error("stopped at the {deadline}: {reason}")]
    Deadline {
        deadline: crate::http::Deadline,
        reason: String,
    },
    /// A local file that is not a regular file within its limit (client.ini, the model).
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// Local file access.
    #[error("i/o error on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
