//! `edgegate devices`: list AI Hub devices as a table or JSON. The CLI layer converts its clap
//! arguments into [`DevicesOptions`]; this file never sees clap.

use std::io::Write;
use std::time::Duration;

use super::client::{ClientOptions, HubClient};
use super::config::{HubEnv, HubOptions, resolve};
use super::devices::DeviceQuery;
use super::error::HubError;
use super::proto::Device;
use crate::exit;
use crate::http::Deadline;

/// What `edgegate devices` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevicesOptions {
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

/// Runs `edgegate devices` and returns the exit code.
pub fn devices(opts: &DevicesOptions) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return exit::COULD_NOT_COMPLETE;
        }
    };
    let env = HubEnv::from_process();
    let listed = runtime.block_on(async {
        let Some(limit) = opts.timeout else {
            return list(opts, &env).await;
        };
        let grace = Duration::from_secs(1);
        match tokio::time::timeout(limit.saturating_add(grace), list(opts, &env)).await {
            Ok(listed) => listed,
            Err(_) => Err(HubError::Deadline {
                deadline: Deadline::after(limit, "--timeout"),
                reason: "the device list did not arrive in time".into(),
            }),
        }
    });
    match listed {
        Ok(devices) => {
            let out = if opts.json {
                render_json(&devices)
            } else {
                render_table(&devices)
            };
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(out.as_bytes()).is_err() {
                return exit::COULD_NOT_COMPLETE;
            }
            exit::PASSED
        }
        Err(e) => {
            eprintln!("error: failed to list ai hub devices: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            exit_code(&e)
        }
    }
}

/// The exit code for a failed hub command: configuration mistakes are invalid input.
pub fn exit_code(e: &HubError) -> i32 {
    match e {
        HubError::MissingToken
        | HubError::InvalidUrl { .. }
        | HubError::ConfigFile { .. }
        | HubError::File(_)
        | HubError::InvalidId(_) => exit::INVALID_INPUT,
        _ => exit::COULD_NOT_COMPLETE,
    }
}

/// Resolves the configuration and lists the matching devices.
pub async fn list(opts: &DevicesOptions, env: &HubEnv) -> Result<Vec<Device>, HubError> {
    let deadline = opts.timeout.map(|t| Deadline::after(t, "--timeout"));
    let config = resolve(
        &HubOptions {
            api_url: opts.hub_url.clone(),
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
        name: opts.name.clone(),
        os: None,
        attributes: opts.attributes.clone(),
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
        assert_eq!(exit_code(&HubError::MissingToken), exit::INVALID_INPUT);
        assert_eq!(exit_code(&HubError::Unauthorized), exit::COULD_NOT_COMPLETE);
    }
}
