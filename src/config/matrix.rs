//! The device matrix with every default applied once, at load time: the AI Hub device name an
//! alias stands for, and the target runtime when the config names none. The plan, the run and
//! the results read these resolved values; nothing downstream picks a default again.
//! Knows the config types only (never AI Hub's protocol, devices or the engine).

use super::types::{Device, Provider, Runtime};

/// The AI Hub target runtime of a device whose config names none.
pub const DEFAULT_RUNTIME: Runtime = Runtime::Tflite;

/// One entry of `device_matrix`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixDevice {
    /// The name from `device_matrix`, used in results, gates and reports.
    pub name: String,
    /// Whether the run uses it (`enabled: false` keeps the entry but skips the device).
    pub enabled: bool,
    /// How the device is reached.
    pub target: Target,
}

/// Where a device of the matrix runs the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// This machine's CPU.
    Local,
    /// A Qualcomm AI Hub device.
    Aihub(HubTarget),
}

/// An AI Hub device with its runtime and options, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct HubTarget {
    /// The AI Hub device name: from `hub_device`, else the catalogue's name for `name`, else
    /// `name` as written (AI Hub is asked as is).
    pub hub_device: String,
    /// The target runtime: the config's, else [`DEFAULT_RUNTIME`].
    pub runtime: Runtime,
    /// Extra compile options, as written.
    pub compile_options: Option<String>,
    /// Extra profile and inference options, as written.
    pub profile_options: Option<String>,
}

impl MatrixDevice {
    /// A device of the config; `hub_device` is the AI Hub name its alias resolved to (ignored for
    /// local devices).
    pub fn resolve(device: &Device, hub_device: &str) -> Self {
        let target = match device.provider {
            Provider::Local => Target::Local,
            Provider::Aihub => Target::Aihub(HubTarget {
                hub_device: hub_device.to_string(),
                runtime: device.runtime.unwrap_or(DEFAULT_RUNTIME),
                compile_options: device.compile_options.clone(),
                profile_options: device.profile_options.clone(),
            }),
        };
        Self {
            name: device.name.clone(),
            enabled: device.enabled,
            target,
        }
    }
}

impl Target {
    /// Who runs the model.
    pub fn provider(&self) -> Provider {
        match self {
            Self::Local => Provider::Local,
            Self::Aihub(_) => Provider::Aihub,
        }
    }

    /// The AI Hub side of the target, for AI Hub devices.
    pub fn hub(&self) -> Option<&HubTarget> {
        match self {
            Self::Local => None,
            Self::Aihub(h) => Some(h),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(yaml: serde_json::Value) -> Device {
        serde_json::from_value(yaml).expect("device")
    }

    #[test]
    fn an_ai_hub_device_without_a_runtime_gets_the_default_once() {
        let d = MatrixDevice::resolve(&device(serde_json::json!({"name": "RB5"})), "RB5 (Proxy)");
        assert_eq!(
            d.target,
            Target::Aihub(HubTarget {
                hub_device: "RB5 (Proxy)".into(),
                runtime: Runtime::Tflite,
                compile_options: None,
                profile_options: None,
            })
        );
        let d = MatrixDevice::resolve(
            &device(serde_json::json!({"name": "s24", "runtime": "qnn_dlc", "enabled": false})),
            "Samsung Galaxy S24",
        );
        assert!(!d.enabled);
        assert_eq!(d.target.hub().map(|h| h.runtime), Some(Runtime::QnnDlc));
    }

    #[test]
    fn a_local_device_has_no_ai_hub_side() {
        let d = MatrixDevice::resolve(
            &device(serde_json::json!({"name": "host", "provider": "local"})),
            "host",
        );
        assert_eq!(d.target, Target::Local);
        assert_eq!(d.target.provider(), Provider::Local);
        assert!(d.target.hub().is_none());
    }
}
