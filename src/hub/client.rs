//! The HTTP layer of the AI Hub client: URL building, headers, the strict protobuf answer check,
//! status mapping and bounded retries. Routes and flows live in `devices`, `upload` and `jobs`.
//!
//! Header choice: `User-Agent: edgegate/<version>` names the real client honestly, while
//! `Client-Version: 0.56.0` and `Client-Mode: library` declare the protocol revision EdgeGate
//! speaks (that of `qai-hub` 0.56.0), which is what a server checks before answering 426.
//! The token is attached per request to API routes only; the blob client that talks to
//! presigned upload and download URLs never sees it.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use url::Url;

use super::config::HubConfig;
use super::error::HubError;
use super::retry::{PollPolicy, RetryPolicy, is_retryable_status, parse_retry_after};
use crate::http::{self, BodyError, Deadline};

/// The only content type the API answers with and accepts.
pub const PROTOBUF: &str = "application/x-protobuf";
/// The `qai-hub` protocol revision EdgeGate implements.
pub const CLIENT_VERSION: &str = "0.56.0";

/// Timeouts, retries and polling of one client; tests shrink them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientOptions {
    /// Retries of API and blob requests.
    pub retry: RetryPolicy,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Wait for an API answer (the service's web tier gives up at 26 s).
    pub api_timeout: Duration,
    /// Longest silence while downloading a blob, and the fixed part of an upload's time limit.
    pub blob_read_timeout: Duration,
    /// Slowest acceptable upload, in bytes per second: an upload of `n` bytes is abandoned
    /// (and retried) after `blob_read_timeout + n / min_upload_rate`, so a hung server cannot
    /// stall a run forever.
    pub min_upload_rate: u64,
    /// Job polling cadence.
    pub poll: PollPolicy,
    /// When the whole command must end (`--timeout`): no attempt runs and no retry waits past it.
    pub deadline: Option<Deadline>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_millis(3050),
            api_timeout: Duration::from_secs(28),
            blob_read_timeout: Duration::from_secs(30),
            min_upload_rate: 64 * 1024,
            poll: PollPolicy::default(),
            deadline: None,
        }
    }
}

/// Why one attempt failed, as the retry loop sees it.
pub(crate) enum Failure {
    /// A retryable status (429, 5xx gateway errors).
    Status {
        status: u16,
        retry_after: Option<Duration>,
        detail: String,
    },
    /// A dropped connection, reset or timeout.
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// Anything retrying cannot fix.
    Fatal(HubError),
}

impl Failure {
    /// A transport failure from any error (reqwest, a stalled read).
    pub(crate) fn transport(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Transport(e.into())
    }
}

impl From<HubError> for Failure {
    fn from(e: HubError) -> Self {
        Self::Fatal(e)
    }
}

/// A connection to one AI Hub service.
#[derive(Debug, Clone)]
pub struct HubClient {
    pub(crate) config: HubConfig,
    pub(crate) options: ClientOptions,
    api: reqwest::Client,
    pub(crate) blob: reqwest::Client,
}

impl HubClient {
    /// Builds the API and blob HTTP clients for a resolved configuration.
    pub fn new(config: HubConfig, options: ClientOptions) -> Result<Self, HubError> {
        let build = |b: reqwest::ClientBuilder| {
            b.connect_timeout(options.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| HubError::Protocol {
                    route: "client setup".into(),
                    reason: e.to_string(),
                })
        };
        let api = build(reqwest::Client::builder().timeout(options.api_timeout))?;
        let blob = build(reqwest::Client::builder())?;
        Ok(Self {
            config,
            options,
            api,
            blob,
        })
    }

    /// The time limit of one upload request of `bytes` bytes.
    pub fn upload_time_limit(&self, bytes: u64) -> Duration {
        let rate = self.options.min_upload_rate.max(1);
        self.options.blob_read_timeout + Duration::from_secs(bytes.div_ceil(rate))
    }

    /// The configuration this client talks with.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The timeouts, retries and polling in effect.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// `{api_url}/api/v1/<parts>/` with urljoin semantics (a base without a trailing slash loses
    /// its last path segment, as the official client does) and the query encoded like `requests`.
    pub fn api_url(&self, parts: &[&str], query: &[(&str, &str)]) -> Result<Url, HubError> {
        api_url(&self.config.api_url, parts, query)
    }

    /// The web page of a job, for links in reports.
    pub fn job_web_url(&self, job_id: &str) -> String {
        web_url(&self.config.web_url, "jobs", job_id)
    }

    /// Sends one API request with retries and decodes the protobuf answer.
    ///
    /// `what` names the object for a 404 ("job j123"), so the message says what was missing.
    pub async fn call<R: Message + Default>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<R, HubError> {
        let route = format!("{method} {}", url.path());
        let bytes = self.call_raw(method, url, body, what).await?;
        R::decode(bytes).map_err(|e| HubError::Protocol {
            route,
            reason: format!("undecodable protobuf: {e}"),
        })
    }

    /// Sends one API request with retries and returns the protobuf answer undecoded, for the
    /// routes whose answer may come in more than one shape (`upload`'s legacy and wrapped
    /// transfer answers).
    pub async fn call_raw(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<Bytes, HubError> {
        let body = body.map(Bytes::from);
        let route = format!("{method} {}", url.path());
        let host = host_of(&url);
        self.retrying(&host, || {
            let method = method.clone();
            let url = url.clone();
            let body = body.clone();
            let route = route.clone();
            async move {
                tracing::debug!(%route, "ai hub request");
                let mut req = self.api.request(method, url).headers(self.api_headers()?);
                if let Some(b) = body {
                    req = req.body(b);
                }
                let resp = req.send().await.map_err(Failure::transport)?;
                let status = resp.status();
                let headers = resp.headers().clone();
                if !status.is_success() {
                    let (bytes, cut) = http::read_prefix(resp, http::ERROR_BODY_LIMIT).await;
                    return Err(classify(status, &headers, &bytes, cut, what));
                }
                let bytes = http::read_body(resp, http::API_BODY_LIMIT)
                    .await
                    .map_err(|e| body_failure(&route, e))?;
                let ctype = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
                if ctype != Some(PROTOBUF.as_bytes()) {
                    return Err(Failure::Fatal(HubError::Protocol {
                        route,
                        reason: format!(
                            "status {} with content type {:?}, expected exactly {PROTOBUF}",
                            status.as_u16(),
                            ctype.map(String::from_utf8_lossy).unwrap_or_default()
                        ),
                    }));
                }
                Ok(bytes)
            }
        })
        .await
    }

    /// `GET` an API route.
    pub async fn get<R: Message + Default>(&self, url: Url, what: &str) -> Result<R, HubError> {
        self.call(Method::GET, url, None, what).await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry budget is spent.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        host: &str,
        mut attempt: F,
    ) -> Result<T, HubError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let policy = self.options.retry;
        let deadline = self.options.deadline;
        let max = policy.max_attempts.max(1);
        let mut n = 0u32;
        loop {
            n += 1;
            let outcome = match deadline {
                Some(d) => match tokio::time::timeout(d.remaining(), attempt()).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        return Err(HubError::Deadline {
                            deadline: d,
                            reason: format!("no answer from {host} in time (attempt {n})"),
                        });
                    }
                },
                None => attempt().await,
            };
            let failure = match outcome {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(f) => f,
            };
            if n >= max {
                return Err(match failure {
                    Failure::Status {
                        status: 429,
                        detail,
                        ..
                    } => HubError::RateLimited {
                        attempts: n,
                        detail,
                    },
                    Failure::Status { status, detail, .. } => HubError::Server {
                        status,
                        attempts: n,
                        detail,
                    },
                    Failure::Transport(source) => HubError::Transport {
                        host: host.to_string(),
                        attempts: n,
                        source,
                    },
                    Failure::Fatal(e) => e,
                });
            }
            let delay = match &failure {
                Failure::Status {
                    status,
                    retry_after,
                    ..
                } => {
                    let honoured = if matches!(status, 429 | 503) {
                        *retry_after
                    } else {
                        None
                    };
                    policy.delay(n - 1, honoured)
                }
                Failure::Transport(_) => policy.delay(n - 1, None),
                Failure::Fatal(_) => Duration::ZERO,
            };
            if let Some(d) = deadline
                && !d.allows(delay)
            {
                return Err(HubError::Deadline {
                    deadline: d,
                    reason: format!(
                        "the next retry would start in {}, after it; last failure: {}",
                        http::seconds_text(delay),
                        describe_failure(&failure, host)
                    ),
                });
            }
            match &failure {
                Failure::Status { status, .. } => {
                    tracing::warn!(status, attempt = n, "ai hub answered {status}; retrying");
                }
                Failure::Transport(e) => {
                    tracing::warn!(attempt = n, error = %e, "request to {host} failed; retrying");
                }
                Failure::Fatal(_) => {}
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn api_headers(&self) -> Result<HeaderMap, Failure> {
        let mut h = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("token {}", self.config.api_token.expose()))
            .map_err(|_| {
                Failure::Fatal(HubError::Protocol {
                    route: "authorization header".into(),
                    reason: "the api token contains characters not allowed in a header".into(),
                })
            })?;
        auth.set_sensitive(true);
        h.insert(AUTHORIZATION, auth);
        h.insert(CONTENT_TYPE, HeaderValue::from_static(PROTOBUF));
        h.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("edgegate/", env!("CARGO_PKG_VERSION"))),
        );
        h.insert("Client-Version", HeaderValue::from_static(CLIENT_VERSION));
        h.insert("Client-Mode", HeaderValue::from_static("library"));
        h.insert("OS-Type", HeaderValue::from_static(os_type()));
        Ok(h)
    }
}

/// A failed attempt in a few words, for the message of a deadline that cut retrying short.
fn describe_failure(failure: &Failure, host: &str) -> String {
    match failure {
        Failure::Status { status, detail, .. } => format!("ai hub answered {status}: {detail}"),
        Failure::Transport(e) => format!("request to {host} failed: {e}"),
        Failure::Fatal(e) => e.to_string(),
    }
}

/// A body that could not be taken: too large is final, a broken connection is retried.
pub(crate) fn body_failure(route: &str, e: BodyError) -> Failure {
    match e {
        BodyError::Transport(e) => Failure::transport(e),
        other => Failure::Fatal(HubError::AnswerTooLarge {
            route: route.to_string(),
            reason: other.to_string(),
        }),
    }
}

fn os_type() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows",
        _ => "Unknown",
    }
}

pub(crate) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.scheme().to_string(),
    }
}

/// Checks one path segment (an id or name) so it cannot change the route.
pub fn check_segment(part: &str) -> Result<&str, HubError> {
    if part.is_empty()
        || part == "."
        || part == ".."
        || part
            .chars()
            .any(|c| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace())
    {
        return Err(HubError::InvalidId(part.to_string()));
    }
    Ok(part)
}

/// Builds `{base}/api/v1/<parts>/?<query>` (see [`HubClient::api_url`]).
pub fn api_url(base: &Url, parts: &[&str], query: &[(&str, &str)]) -> Result<Url, HubError> {
    let mut path = String::from("api/v1/");
    for p in parts {
        path.push_str(check_segment(p)?);
        path.push('/');
    }
    let mut url = base.join(&path).map_err(|e| HubError::InvalidUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })?;
    if !query.is_empty() {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in query {
            ser.append_pair(k, v);
        }
        url.set_query(Some(&ser.finish()));
    }
    Ok(url)
}

fn web_url(base: &Url, kind: &str, id: &str) -> String {
    base.join(&format!("{kind}/{id}/"))
        .map(String::from)
        .unwrap_or_else(|_| format!("{base}{kind}/{id}/"))
}

/// Maps a non-2xx answer: retryable statuses go back to the loop, the rest become errors.
pub(crate) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    cut: bool,
    what: &str,
) -> Failure {
    let code = status.as_u16();
    let detail = detail_of(status, body, cut);
    if is_retryable_status(code) {
        return Failure::Status {
            status: code,
            retry_after: parse_retry_after(headers),
            detail,
        };
    }
    Failure::Fatal(match code {
        401 => HubError::Unauthorized,
        404 => HubError::NotFound {
            what: what.to_string(),
            detail,
        },
        426 => HubError::UpgradeRequired { detail },
        500..=599 => HubError::Server {
            status: code,
            attempts: 1,
            detail,
        },
        _ => HubError::Rejected {
            status: code,
            detail,
        },
    })
}

/// The server's explanation, shortened for a message: `detail` of a JSON body (also of the start
/// of one that was cut), else the body text, else the reason phrase.
pub(crate) fn detail_of(status: StatusCode, body: &[u8], cut: bool) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(d) = v.get("detail").and_then(|d| d.as_str())
    {
        return http::server_text(d, cut);
    }
    let text = String::from_utf8_lossy(body);
    if cut && let Some(d) = detail_prefix(&text) {
        return http::server_text(&d, true);
    }
    if text.trim().is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no detail")
            .to_lowercase();
    }
    http::server_text(&text, cut)
}

/// The `detail` string at the start of a JSON body that was cut before its end.
fn detail_prefix(text: &str) -> Option<String> {
    let rest = text
        .trim_start()
        .strip_prefix('{')?
        .trim_start()
        .strip_prefix("\"detail\"")?
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(ch);
                    }
                }
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Url {
        Url::parse(s).expect("valid url")
    }

    #[test]
    fn api_urls_end_with_a_slash_and_follow_urljoin() {
        let b = base("http://127.0.0.1:8000");
        assert_eq!(
            api_url(&b, &["devices"], &[]).expect("url").as_str(),
            "http://127.0.0.1:8000/api/v1/devices/"
        );
        assert_eq!(
            api_url(&b, &["models", "mabc12345", "multipart_upload"], &[])
                .expect("url")
                .as_str(),
            "http://127.0.0.1:8000/api/v1/models/mabc12345/multipart_upload/"
        );
        assert_eq!(
            api_url(&base("http://h/prefix"), &["jobs"], &[])
                .expect("url")
                .as_str(),
            "http://h/api/v1/jobs/"
        );
        assert_eq!(
            api_url(&base("http://h/prefix/"), &["jobs"], &[])
                .expect("url")
                .as_str(),
            "http://h/prefix/api/v1/jobs/"
        );
    }

    #[test]
    fn queries_are_encoded_like_requests() {
        let url = api_url(
            &base("http://h"),
            &["devices"],
            &[
                ("name", "Samsung Galaxy S24"),
                ("os", "[12,13)"),
                ("select", "True"),
                ("attributes", "chipset:qualcomm-snapdragon-8gen3"),
                ("attributes", "framework:qnn"),
            ],
        )
        .expect("url");
        assert_eq!(
            url.query(),
            Some(
                "name=Samsung+Galaxy+S24&os=%5B12%2C13%29&select=True&attributes=chipset%3Aqualcomm-snapdragon-8gen3&attributes=framework%3Aqnn"
            )
        );
    }

    #[test]
    fn ids_cannot_escape_their_route() {
        for bad in ["a/b", "..", "", "x?y", "a b", "%2e"] {
            assert!(
                matches!(
                    api_url(&base("http://h"), &["jobs", bad], &[]),
                    Err(HubError::InvalidId(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn web_links_point_at_the_job_page() {
        assert_eq!(
            web_url(
                &base("https://workbench.aihub.qualcomm.com"),
                "jobs",
                "j5wy64q6g"
            ),
            "https://workbench.aihub.qualcomm.com/jobs/j5wy64q6g/"
        );
    }

    #[test]
    fn statuses_map_to_actionable_errors() {
        let h = HeaderMap::new();
        let f = |code: u16, body: &str| {
            classify(
                StatusCode::from_u16(code).expect("status"),
                &h,
                body.as_bytes(),
                false,
                "job j1",
            )
        };
        assert!(matches!(f(401, ""), Failure::Fatal(HubError::Unauthorized)));
        match f(404, r#"{"detail":"Not found."}"#) {
            Failure::Fatal(HubError::NotFound { what, detail }) => {
                assert_eq!(what, "job j1");
                assert_eq!(detail, "Not found.");
            }
            _ => panic!("404 must be not-found"),
        }
        match f(409, r#"{"detail":"model upload not complete"}"#) {
            Failure::Fatal(HubError::Rejected { status, detail }) => {
                assert_eq!(status, 409);
                assert_eq!(detail, "model upload not complete");
            }
            _ => panic!("409 must be rejected"),
        }
        assert!(matches!(
            f(426, "please upgrade"),
            Failure::Fatal(HubError::UpgradeRequired { detail }) if detail == "please upgrade"
        ));
        assert!(matches!(f(503, ""), Failure::Status { status: 503, .. }));
        assert!(matches!(f(429, ""), Failure::Status { status: 429, .. }));
        assert!(matches!(
            f(501, ""),
            Failure::Fatal(HubError::Server { status: 501, .. })
        ));
    }

    #[test]
    fn server_details_are_shortened_even_from_a_cut_body() {
        let long = format!(r#"{{"detail":"{}"}}"#, "no ".repeat(1000));
        let whole = detail_of(StatusCode::BAD_REQUEST, long.as_bytes(), false);
        assert!(whole.starts_with("no no no"), "{whole}");
        assert!(whole.ends_with("… (2999 bytes)"), "{whole}");
        let cut = detail_of(StatusCode::BAD_REQUEST, &long.as_bytes()[..500], true);
        assert!(cut.starts_with("no no no"), "{cut}");
        assert!(
            cut.ends_with("bytes)") && cut.contains("(more than "),
            "{cut}"
        );
        assert_eq!(
            detail_of(StatusCode::BAD_REQUEST, br#"{"detail":"a\"b"}"#, false),
            "a\"b"
        );
        assert_eq!(
            detail_of(StatusCode::BAD_GATEWAY, b"", false),
            "bad gateway"
        );
    }

    #[test]
    fn unauthorized_message_says_how_to_set_the_token() {
        let msg = HubError::Unauthorized.to_string();
        assert!(msg.contains("token rejected"));
        assert!(msg.contains("QAIHUB_API_TOKEN"));
        assert!(msg.contains("qai-hub configure"));
    }
}
