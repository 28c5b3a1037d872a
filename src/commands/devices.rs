//! `edgegate devices`: list AI Hub devices as a table or JSON. Must not reach into clap or the
//! AI Hub protocol: `hub` resolves the configuration and lists; this prints and picks the code.

use std::io::Write as _;
use std::time::Duration;

use crate::exit;
use crate::http::Deadline;
use crate::hub::devices::DeviceQuery;
use crate::hub::proto::Device;
use crate::hub::{ClientOptions, HubClient, HubEnv, HubError, HubOptions};

use super::error::finish;
use super::runtime::{RuntimeError, block_on};

/// What `edgegate devices` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevicesRequest {
    /// `--hub-url`, overriding the environment and client.ini.
    pub hub_url: Option<String>,
    /// `--name`, an AI Hub name or catalogue alias.
    pub name: Option<String>,
    /// `--attribute`, repeatable.
    pub attributes: Vec<String>,
    /// `--format json`.
    pub json: bool,
    /// `--timeout`: the whole command ends by then; `None` waits as long as retries allow.
    pub timeout: Option<Duration>,
}

/// Why no device list was printed.
#[derive(Debug, thiserror::Error)]
enum DevicesError {
    #[error("failed to list ai hub devices")]
    List(#[source] HubError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("failed to print the device list")]
    Print(#[source] std::io::Error),
}

fn devices_code(e: &DevicesError) -> i32 {
    match e {
        DevicesError::List(e) => code(e),
        DevicesError::Runtime(_) | DevicesError::Print(_) => exit::COULD_NOT_COMPLETE,
    }
}

/// The exit code of a failed AI Hub call: configuration mistakes are invalid input (2), the
/// service or the network could-not-complete (3).
pub fn code(e: &HubError) -> i32 {
    match e {
        HubError::MissingToken
        | HubError::InvalidUrl { .. }
        | HubError::ConfigFile { .. }
        | HubError::File(_)
        | HubError::InvalidId(_) => exit::INVALID_INPUT,
        _ => exit::COULD_NOT_COMPLETE,
    }
}

/// `edgegate devices`: prints the matching devices and returns the exit code.
pub fn devices(req: &DevicesRequest) -> i32 {
    finish(list_and_print(req), devices_code)
}

fn list_and_print(req: &DevicesRequest) -> Result<i32, DevicesError> {
    let env = HubEnv::from_process();
    let listed = block_on(async {
        let Some(limit) = req.timeout else {
            return list(req, &env).await;
        };
        let grace = Duration::from_secs(1);
        match tokio::time::timeout(limit.saturating_add(grace), list(req, &env)).await {
            Ok(listed) => listed,
            Err(_) => Err(HubError::Deadline {
                deadline: Deadline::after(limit, "--timeout"),
                reason: "the device list did not arrive in time".into(),
            }),
        }
    })?;
    let devices = listed.map_err(DevicesError::List)?;
    let out = if req.json {
        render_json(&devices)
    } else {
        render_table(&devices)
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(DevicesError::Print)?;
    Ok(exit::PASSED)
}

/// Resolves the AI Hub configuration (`--hub-url`, then `env`) and lists the matching devices.
pub async fn list(req: &DevicesRequest, env: &HubEnv) -> Result<Vec<Device>, HubError> {
    let deadline = req.timeout.map(|t| Deadline::after(t, "--timeout"));
    let config = crate::hub::config::resolve(
        &HubOptions {
            api_url: req.hub_url.clone(),
            ..HubOptions::default()
        },
        env,
    )?;
    let client = HubClient::new(
        config,
        ClientOptions {
            deadline,
            ..ClientOptions::default()
        },
    )?;
    let query = DeviceQuery {
        name: req.name.clone(),
        os: None,
        attributes: req.attributes.clone(),
    };
    client.list_devices(&query).await
}

fn attr<'a>(d: &'a Device, key: &str) -> Vec<&'a str> {
    d.attributes
        .iter()
        .filter_map(|a| a.split_once(':'))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect()
}

/// The devices as an aligned table, one device per line.
pub fn render_table(devices: &[Device]) -> String {
    let rows: Vec<[String; 4]> = devices
        .iter()
        .map(|d| {
            [
                d.name.clone(),
                d.os.clone(),
                attr(d, "chipset")
                    .first()
                    .copied()
                    .unwrap_or("")
                    .to_string(),
                attr(d, "framework").join(","),
            ]
        })
        .collect();
    let header = [
        "DEVICE".to_string(),
        "OS".into(),
        "CHIPSET".into(),
        "FRAMEWORKS".into(),
    ];
    let mut widths = header.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} device{}\n",
        devices.len(),
        if devices.len() == 1 { "" } else { "s" }
    ));
    out
}

/// The devices as a JSON array (`name`, `os`, `attributes`, `soc_description`).
pub fn render_json(devices: &[Device]) -> String {
    let v: Vec<serde_json::Value> = devices
        .iter()
        .map(|d| {
            serde_json::json!({
                "name": d.name,
                "os": d.os,
                "attributes": d.attributes,
                "soc_description": d.soc_description,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(name: &str, attrs: &[&str]) -> Device {
        Device {
            name: name.into(),
            os: "14".into(),
            attributes: attrs.iter().map(|a| a.to_string()).collect(),
            soc_description: String::new(),
        }
    }

    #[test]
    fn table_aligns_columns_and_counts_devices() {
        let out = render_table(&[
            dev(
                "Samsung Galaxy S24",
                &[
                    "chipset:qualcomm-snapdragon-8gen3",
                    "framework:qnn",
                    "framework:tflite",
                ],
            ),
            dev("RB5 (Proxy)", &["chipset:qualcomm-qrb5165"]),
        ]);
        assert_eq!(
            out,
            "DEVICE              OS  CHIPSET                    FRAMEWORKS\n\
             Samsung Galaxy S24  14  qualcomm-snapdragon-8gen3  qnn,tflite\n\
             RB5 (Proxy)         14  qualcomm-qrb5165\n\
             2 devices\n"
        );
    }

    #[test]
    fn json_lists_every_field() {
        let out = render_json(&[dev("X", &["os:android"])]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid json");
        assert_eq!(v[0]["name"], "X");
        assert_eq!(v[0]["attributes"][0], "os:android");
    }

    #[test]
    fn config_mistakes_exit_as_invalid_input() {
        assert_eq!(code(&HubError::MissingToken), exit::INVALID_INPUT);
        assert_eq!(code(&HubError::Unauthorized), exit::COULD_NOT_COMPLETE);
        assert_eq!(
            devices_code(&DevicesError::List(HubError::MissingToken)),
            exit::INVALID_INPUT
        );
    }
}
