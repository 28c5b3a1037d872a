//! The built-in catalogue of Qualcomm AI Hub devices and the alias table that resolves the short
//! names people write in `device_matrix` (`RB5`, `s24`, `x-elite`) to AI Hub device names.
//!
//! It is data only: the config layer uses it to check names offline, the AI Hub client to pick a
//! device, and the simulator to serve a realistic device list. The names come from the device
//! section of the AI Hub protocol notes; AI Hub itself stays the authority at run time.

/// One AI Hub device as the catalogue knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubDevice {
    /// The exact AI Hub device name (`Device.name`).
    pub name: &'static str,
    /// The OS version AI Hub reports (`Device.os`).
    pub os: &'static str,
    /// The OS family, as in the `os:` attribute.
    pub os_family: &'static str,
    /// The chipset, as in the `chipset:` attribute.
    pub chipset: &'static str,
    /// Form factor, as in the `format:` attribute.
    pub form: &'static str,
    /// Vendor, as in the `vendor:` attribute.
    pub vendor: &'static str,
    /// Hexagon (HTP) version, as in the `hexagon:` attribute.
    pub hexagon: &'static str,
    /// Frameworks (target runtimes families) the device runs, as in `framework:` attributes.
    pub frameworks: &'static [&'static str],
    /// Short names that resolve to this device (matched after normalisation, see [`normalise`]).
    pub aliases: &'static [&'static str],
}

impl HubDevice {
    /// The `key:value` attributes AI Hub lists for this device.
    pub fn attributes(&self) -> Vec<String> {
        let mut attrs = vec![
            format!("chipset:{}", self.chipset),
            format!("os:{}", self.os_family),
            format!("format:{}", self.form),
            format!("vendor:{}", self.vendor),
            format!("hexagon:{}", self.hexagon),
        ];
        attrs.extend(self.frameworks.iter().map(|f| format!("framework:{f}")));
        attrs
    }
}

const ANDROID_FW: &[&str] = &["tflite", "qnn", "onnx"];
const LINUX_FW: &[&str] = &["tflite", "qnn"];
const WINDOWS_FW: &[&str] = &["qnn", "onnx"];

macro_rules! device {
    ($name:expr, $os:expr, $fam:expr, $chip:expr, $form:expr, $vendor:expr, $hex:expr, $fw:expr, [$($alias:expr),* $(,)?]) => {
        HubDevice {
            name: $name,
            os: $os,
            os_family: $fam,
            chipset: $chip,
            form: $form,
            vendor: $vendor,
            hexagon: $hex,
            frameworks: $fw,
            aliases: &[$($alias),*],
        }
    };
}

/// Every device the catalogue knows, newest phones first.
pub const CATALOGUE: &[HubDevice] = &[
    device!(
        "Samsung Galaxy S25",
        "15",
        "android",
        "qualcomm-snapdragon-8-elite-for-galaxy",
        "phone",
        "samsung",
        "v79",
        ANDROID_FW,
        ["s25", "galaxy-s25", "8-elite"]
    ),
    device!(
        "Samsung Galaxy S24",
        "14",
        "android",
        "qualcomm-snapdragon-8gen3",
        "phone",
        "samsung",
        "v75",
        ANDROID_FW,
        ["s24", "galaxy-s24", "8gen3"]
    ),
    device!(
        "Samsung Galaxy S23",
        "13",
        "android",
        "qualcomm-snapdragon-8gen2",
        "phone",
        "samsung",
        "v73",
        ANDROID_FW,
        ["s23", "galaxy-s23", "8gen2"]
    ),
    device!(
        "Samsung Galaxy S22 5G",
        "12",
        "android",
        "qualcomm-snapdragon-8gen1",
        "phone",
        "samsung",
        "v69",
        ANDROID_FW,
        ["s22", "galaxy-s22", "8gen1"]
    ),
    device!(
        "Samsung Galaxy S21",
        "11",
        "android",
        "qualcomm-snapdragon-888",
        "phone",
        "samsung",
        "v68",
        ANDROID_FW,
        ["s21", "galaxy-s21", "sd888"]
    ),
    device!(
        "Samsung Galaxy A73 5G",
        "12",
        "android",
        "qualcomm-snapdragon-778g",
        "phone",
        "samsung",
        "v68",
        ANDROID_FW,
        ["a73", "galaxy-a73"]
    ),
    device!(
        "Samsung Galaxy Tab S8",
        "12",
        "android",
        "qualcomm-snapdragon-8gen1",
        "tablet",
        "samsung",
        "v69",
        ANDROID_FW,
        ["tab-s8"]
    ),
    device!(
        "Google Pixel 5a 5G",
        "12",
        "android",
        "qualcomm-snapdragon-765g",
        "phone",
        "google",
        "v66",
        ANDROID_FW,
        ["pixel5a"]
    ),
    device!(
        "Google Pixel 4",
        "10",
        "android",
        "qualcomm-snapdragon-855",
        "phone",
        "google",
        "v66",
        ANDROID_FW,
        ["pixel4"]
    ),
    device!(
        "Xiaomi 12",
        "12",
        "android",
        "qualcomm-snapdragon-8gen1",
        "phone",
        "xiaomi",
        "v69",
        ANDROID_FW,
        ["xiaomi12"]
    ),
    device!(
        "Snapdragon 7 Gen 4 QRD",
        "15",
        "android",
        "qualcomm-snapdragon-7gen4",
        "phone",
        "qualcomm",
        "v73",
        ANDROID_FW,
        ["7gen4", "7gen4-qrd"]
    ),
    device!(
        "Snapdragon X Elite CRD",
        "11",
        "windows",
        "qualcomm-snapdragon-x-elite",
        "compute",
        "qualcomm",
        "v73",
        WINDOWS_FW,
        ["x-elite", "xelite"]
    ),
    device!(
        "Snapdragon X Plus 8-Core CRD",
        "11",
        "windows",
        "qualcomm-snapdragon-x-plus-8-core",
        "compute",
        "qualcomm",
        "v73",
        WINDOWS_FW,
        ["x-plus", "xplus"]
    ),
    device!(
        "QCS8550 (Proxy)",
        "12",
        "android",
        "qualcomm-qcs8550-proxy",
        "iot",
        "qualcomm",
        "v73",
        ANDROID_FW,
        ["qcs8550"]
    ),
    device!(
        "RB5 (Proxy)",
        "12",
        "android",
        "qualcomm-qcs8250-proxy",
        "iot",
        "qualcomm",
        "v66",
        ANDROID_FW,
        ["rb5", "qrb5165", "qcs8250"]
    ),
    device!(
        "Dragonwing RB3 Gen 2 Vision Kit",
        "1.6",
        "qc_linux",
        "qualcomm-qcs6490",
        "iot",
        "qualcomm",
        "v68",
        LINUX_FW,
        ["rb3", "rb3-gen2", "qcs6490"]
    ),
    device!(
        "Dragonwing IQ-9075 EVK",
        "1.9",
        "qc_linux",
        "qualcomm-qcs9075",
        "iot",
        "qualcomm",
        "v73",
        LINUX_FW,
        ["iq-9075", "qcs9075"]
    ),
    device!(
        "SA8775P ADP",
        "14",
        "android",
        "qualcomm-sa8775p",
        "auto",
        "qualcomm",
        "v73",
        ANDROID_FW,
        ["sa8775p"]
    ),
    device!(
        "SA8295P ADP",
        "14",
        "android",
        "qualcomm-sa8295p",
        "auto",
        "qualcomm",
        "v68",
        ANDROID_FW,
        ["sa8295p"]
    ),
];

/// The name of the local CPU device (`provider: local`).
pub const HOST_DEVICE: &str = "host";

/// How a device name from a config resolves against the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The exact AI Hub name.
    Exact(&'static HubDevice),
    /// A known alias (or a case/spacing variant) of an AI Hub name.
    Alias(&'static HubDevice),
    /// Not in the catalogue; the closest known names, best first.
    Unknown { suggestions: Vec<&'static str> },
}

impl Resolution {
    /// The catalogue device, when the name resolved.
    pub fn device(&self) -> Option<&'static HubDevice> {
        match self {
            Resolution::Exact(d) | Resolution::Alias(d) => Some(d),
            Resolution::Unknown { .. } => None,
        }
    }
}

/// Lowercases and drops everything but letters and digits, so `Galaxy S24`, `galaxy-s24` and
/// `GALAXY_S24` compare equal.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Resolves a device name or alias to a catalogue device.
pub fn resolve_device_name(name: &str) -> Resolution {
    if let Some(d) = CATALOGUE.iter().find(|d| d.name == name) {
        return Resolution::Exact(d);
    }
    let key = normalise(name);
    if key.is_empty() {
        return Resolution::Unknown {
            suggestions: Vec::new(),
        };
    }
    for d in CATALOGUE {
        let without_suffix = d.name.trim_end_matches(" (Proxy)");
        if normalise(d.name) == key
            || normalise(without_suffix) == key
            || d.aliases.iter().any(|a| normalise(a) == key)
        {
            return Resolution::Alias(d);
        }
    }
    let mut scored: Vec<(f64, &'static str)> = CATALOGUE
        .iter()
        .map(|d| {
            let best = std::iter::once(d.name)
                .chain(d.aliases.iter().copied())
                .map(|cand| strsim::jaro_winkler(&key, &normalise(cand)))
                .fold(0.0, f64::max);
            (best, d.name)
        })
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    Resolution::Unknown {
        suggestions: scored.into_iter().take(3).map(|(_, n)| n).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_resolve_exactly() {
        assert_eq!(
            resolve_device_name("Samsung Galaxy S24")
                .device()
                .map(|d| d.name),
            Some("Samsung Galaxy S24")
        );
        assert!(matches!(
            resolve_device_name("Samsung Galaxy S24"),
            Resolution::Exact(_)
        ));
    }

    #[test]
    fn aliases_and_variants_resolve() {
        for (alias, name) in [
            ("RB5", "RB5 (Proxy)"),
            ("rb5", "RB5 (Proxy)"),
            ("galaxy-s24", "Samsung Galaxy S24"),
            ("samsung galaxy s23", "Samsung Galaxy S23"),
            ("QCS8550", "QCS8550 (Proxy)"),
            ("x-elite", "Snapdragon X Elite CRD"),
        ] {
            let r = resolve_device_name(alias);
            assert!(matches!(r, Resolution::Alias(_)), "{alias}");
            assert_eq!(r.device().map(|d| d.name), Some(name), "{alias}");
        }
    }

    #[test]
    fn unknown_names_get_suggestions() {
        match resolve_device_name("Galaxy S42") {
            Resolution::Unknown { suggestions } => {
                assert!(
                    suggestions
                        .iter()
                        .any(|s| s.starts_with("Samsung Galaxy S")),
                    "{suggestions:?}"
                )
            }
            other => panic!("expected unknown, got {other:?}"),
        }
        assert_eq!(
            resolve_device_name("!!!"),
            Resolution::Unknown {
                suggestions: vec![]
            }
        );
    }

    #[test]
    fn every_attribute_has_exactly_one_colon() {
        for d in CATALOGUE {
            for a in d.attributes() {
                assert_eq!(a.matches(':').count(), 1, "{a}");
            }
            assert!(d.attributes().iter().any(|a| a.starts_with("framework:")));
        }
    }

    #[test]
    fn aliases_are_unambiguous() {
        let mut seen = std::collections::HashMap::new();
        for d in CATALOGUE {
            for key in std::iter::once(d.name).chain(d.aliases.iter().copied()) {
                if let Some(prev) = seen.insert(normalise(key), d.name) {
                    assert_eq!(prev, d.name, "alias {key} is ambiguous");
                }
            }
        }
    }
}
