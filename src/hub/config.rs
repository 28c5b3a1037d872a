//! Where the AI Hub token and URLs come from: explicit options, then `QAIHUB_API_TOKEN` /
//! `QAIHUB_API_URL`, then the INI file named by `QAIHUB_CLIENT_INI`, then `~/.qai_hub/client.ini`
//! (the official client's file), so a user who ran `qai-hub configure` needs nothing more.
//!
//! The token is wrapped in [`ApiToken`], whose `Debug` redacts it; nothing here prints it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use super::error::HubError;

/// The public AI Hub service, used when nothing else names an API or web URL.
pub const DEFAULT_HUB_URL: &str = "https://workbench.aihub.qualcomm.com";

/// Environment variable holding the API token.
pub const ENV_TOKEN: &str = "QAIHUB_API_TOKEN";
/// Environment variable holding the API base URL.
pub const ENV_URL: &str = "QAIHUB_API_URL";
/// Environment variable naming the INI file, as the official client reads it.
pub const ENV_INI: &str = "QAIHUB_CLIENT_INI";

/// An AI Hub API token; kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The secret itself, only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// A resolved AI Hub configuration: everything needed to talk to one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// The API token sent to API routes only.
    pub api_token: ApiToken,
    /// Base of the API; `api/v1/...` is joined onto it with urljoin semantics.
    pub api_url: Url,
    /// Base of the web UI, for job links.
    pub web_url: Url,
}

/// Values given explicitly (command-line flags, library callers); they win over everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubOptions {
    /// Explicit API token.
    pub api_token: Option<ApiToken>,
    /// Explicit API base URL.
    pub api_url: Option<String>,
    /// Explicit web UI base URL.
    pub web_url: Option<String>,
}

/// The process environment as this module reads it, so tests can supply their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubEnv {
    /// `QAIHUB_API_TOKEN`.
    pub token: Option<String>,
    /// `QAIHUB_API_URL`.
    pub api_url: Option<String>,
    /// `QAIHUB_CLIENT_INI`.
    pub client_ini: Option<PathBuf>,
    /// The home directory, for `~/.qai_hub/client.ini`.
    pub home: Option<PathBuf>,
    /// `QAIHUB_API_URL` is set but empty (treated as unset, with a warning).
    pub api_url_empty: bool,
}

impl HubEnv {
    /// Reads the real process environment; empty variables count as unset.
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            token: var(ENV_TOKEN),
            api_url: var(ENV_URL),
            client_ini: var(ENV_INI).map(PathBuf::from),
            home: std::env::home_dir(),
            api_url_empty: std::env::var_os(ENV_URL)
                .is_some_and(|v| v.to_string_lossy().trim().is_empty()),
        }
    }
}

/// The `[api]` section of a client.ini.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniApi {
    /// `api_token`.
    pub api_token: Option<ApiToken>,
    /// `api_url`.
    pub api_url: Option<String>,
    /// `web_url`.
    pub web_url: Option<String>,
}

/// Parses INI text the way Python's configparser reads client.ini: `[section]` headers,
/// `key = value` or `key: value`, case-insensitive keys, whole-line `#`/`;` comments.
pub fn parse_ini(text: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| format!("line {}: unterminated section header", i + 1))?;
            let name = name.trim().to_string();
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let split = line
            .find(['=', ':'])
            .ok_or_else(|| format!("line {}: expected `key = value`", i + 1))?;
        let (key, value) = line.split_at(split);
        let section = current
            .as_ref()
            .ok_or_else(|| format!("line {}: key outside of any [section]", i + 1))?;
        sections
            .entry(section.clone())
            .or_default()
            .insert(key.trim().to_lowercase(), value[1..].trim().to_string());
    }
    Ok(sections)
}

/// Reads the `[api]` section of a client.ini file.
///
/// `/dev/null` is read as an empty file, the usual way to say "no configuration file".
pub fn read_client_ini(path: &Path) -> Result<IniApi, HubError> {
    if path == Path::new("/dev/null") {
        return Ok(IniApi::default());
    }
    let text =
        crate::files::read_to_string(path, "ai hub config file", crate::files::CLIENT_INI_LIMIT)?;
    let sections = parse_ini(&text).map_err(|reason| HubError::ConfigFile {
        path: path.to_path_buf(),
        reason,
    })?;
    let api = sections.get("api").cloned().unwrap_or_default();
    let get = |k: &str| api.get(k).filter(|v| !v.is_empty()).cloned();
    Ok(IniApi {
        api_token: get("api_token").map(ApiToken::new),
        api_url: get("api_url"),
        web_url: get("web_url"),
    })
}

/// Resolves the configuration from explicit options, then the environment, then the INI file.
///
/// `QAIHUB_CLIENT_INI` replaces the default `~/.qai_hub/client.ini`; a file named that way must
/// exist, the default one may be missing. The web URL falls back to the API URL.
pub fn resolve(opts: &HubOptions, env: &HubEnv) -> Result<HubConfig, HubError> {
    let ini = match (&env.client_ini, &env.home) {
        (Some(path), _) => Some(read_client_ini(path)?),
        (None, Some(home)) => {
            let path = home.join(".qai_hub").join("client.ini");
            if path.is_file() {
                Some(read_client_ini(&path)?)
            } else {
                None
            }
        }
        (None, None) => None,
    }
    .unwrap_or_default();

    let api_token = opts
        .api_token
        .clone()
        .or_else(|| env.token.clone().map(ApiToken::new))
        .or(ini.api_token)
        .ok_or(HubError::MissingToken)?;
    let api_url = opts
        .api_url
        .clone()
        .or_else(|| env.api_url.clone())
        .or(ini.api_url)
        .unwrap_or_else(|| DEFAULT_HUB_URL.to_string());
    if opts.api_url.is_none() && env.api_url.is_none() && env.api_url_empty {
        tracing::warn!("{ENV_URL} is set but empty, so it is ignored: using {api_url}");
    }
    let web_url = opts
        .web_url
        .clone()
        .or(ini.web_url)
        .unwrap_or_else(|| api_url.clone());
    Ok(HubConfig {
        api_token,
        api_url: parse_base_url(&api_url)?,
        web_url: parse_base_url(&web_url)?,
    })
}

fn parse_base_url(raw: &str) -> Result<Url, HubError> {
    let url = Url::parse(raw.trim()).map_err(|e| HubError::InvalidUrl {
        url: raw.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(HubError::InvalidUrl {
            url: raw.to_string(),
            reason: "expected an http:// or https:// base url".into(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIGURE_OUTPUT: &str = "[api]\napi_token = X\napi_url = https://workbench.aihub.qualcomm.com\nweb_url = https://workbench.aihub.qualcomm.com\nverbose = True\nclient_mode = cli\n";

    fn write_ini(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("temp file is writable");
        path
    }

    #[test]
    fn parses_what_qai_hub_configure_writes() {
        let s = parse_ini(CONFIGURE_OUTPUT).expect("valid ini");
        let api = &s["api"];
        assert_eq!(api["api_token"], "X");
        assert_eq!(api["api_url"], "https://workbench.aihub.qualcomm.com");
        assert_eq!(api["client_mode"], "cli");
    }

    #[test]
    fn ini_keys_are_case_insensitive_and_colon_separated_values_work() {
        let s = parse_ini("# c\n; c\n[api]\nAPI_URL: http://h:1/x\n  api_token=a=b \n")
            .expect("valid ini");
        assert_eq!(s["api"]["api_url"], "http://h:1/x");
        assert_eq!(s["api"]["api_token"], "a=b");
    }

    #[test]
    fn ini_errors_name_the_line() {
        assert_eq!(
            parse_ini("[api]\nnonsense\n").unwrap_err(),
            "line 2: expected `key = value`"
        );
        assert_eq!(
            parse_ini("k = v\n").unwrap_err(),
            "line 1: key outside of any [section]"
        );
        assert_eq!(
            parse_ini("[api\n").unwrap_err(),
            "line 1: unterminated section header"
        );
    }

    #[test]
    fn precedence_is_options_then_env_then_ini() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ini = write_ini(
            dir.path(),
            "c.ini",
            "[api]\napi_token = ini-token\napi_url = http://ini:1\nweb_url = http://web:2\n",
        );
        let mut env = HubEnv {
            client_ini: Some(ini),
            ..HubEnv::default()
        };
        let cfg = resolve(&HubOptions::default(), &env).expect("resolves");
        assert_eq!(cfg.api_token.expose(), "ini-token");
        assert_eq!(cfg.api_url.as_str(), "http://ini:1/");
        assert_eq!(cfg.web_url.as_str(), "http://web:2/");

        env.token = Some("env-token".into());
        env.api_url = Some("http://env:3".into());
        let cfg = resolve(&HubOptions::default(), &env).expect("resolves");
        assert_eq!(cfg.api_token.expose(), "env-token");
        assert_eq!(cfg.api_url.as_str(), "http://env:3/");

        let opts = HubOptions {
            api_token: Some(ApiToken::new("flag-token")),
            api_url: Some("http://flag:4/prefix/".into()),
            web_url: None,
        };
        let cfg = resolve(&opts, &env).expect("resolves");
        assert_eq!(cfg.api_token.expose(), "flag-token");
        assert_eq!(cfg.api_url.as_str(), "http://flag:4/prefix/");
        assert_eq!(cfg.web_url.as_str(), "http://web:2/");
    }

    #[test]
    fn default_ini_is_read_from_home_and_missing_one_is_fine() {
        let home = tempfile::tempdir().expect("tempdir");
        let env = HubEnv {
            home: Some(home.path().to_path_buf()),
            ..HubEnv::default()
        };
        assert!(matches!(
            resolve(&HubOptions::default(), &env),
            Err(HubError::MissingToken)
        ));
        std::fs::create_dir(home.path().join(".qai_hub")).expect("mkdir");
        write_ini(
            &home.path().join(".qai_hub"),
            "client.ini",
            CONFIGURE_OUTPUT,
        );
        let cfg = resolve(&HubOptions::default(), &env).expect("resolves");
        assert_eq!(cfg.api_token.expose(), "X");
        assert_eq!(
            cfg.api_url.as_str(),
            "https://workbench.aihub.qualcomm.com/"
        );
    }

    #[test]
    fn named_ini_that_is_missing_is_an_error() {
        let env = HubEnv {
            client_ini: Some(PathBuf::from("/nonexistent/edgegate/client.ini")),
            token: Some("t".into()),
            ..HubEnv::default()
        };
        let err = resolve(&HubOptions::default(), &env).expect_err("missing ini");
        assert!(matches!(err, HubError::File(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "ai hub config file `/nonexistent/edgegate/client.ini` does not exist"
        );
    }

    #[test]
    fn token_never_shows_in_debug_output() {
        let cfg = HubConfig {
            api_token: ApiToken::new("s3cr3t-token"),
            api_url: Url::parse("http://127.0.0.1:1").expect("url"),
            web_url: Url::parse("http://127.0.0.1:1").expect("url"),
        };
        let shown = format!("{cfg:?} {:?}", HubOptions::default());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn non_http_urls_are_rejected() {
        let opts = HubOptions {
            api_token: Some(ApiToken::new("t")),
            api_url: Some("ftp://h/".into()),
            web_url: None,
        };
        assert!(matches!(
            resolve(&opts, &HubEnv::default()),
            Err(HubError::InvalidUrl { .. })
        ));
    }
}
