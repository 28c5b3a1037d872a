//! The simulator's device list (from the built-in catalogue) and the `GET devices/` filter rules:
//! exact name, OS as a version or right-open interval, attributes ANDed, `select` → at most one.

use crate::config::catalog::CATALOGUE;
use crate::hub::proto;

/// Every catalogue device as AI Hub would list it.
pub fn default_devices() -> Vec<proto::Device> {
    CATALOGUE
        .iter()
        .map(|d| proto::Device {
            name: d.name.to_owned(),
            os: d.os.to_owned(),
            attributes: d.attributes(),
            soc_description: d.chipset.to_owned(),
        })
        .collect()
}

/// Why a device query is malformed (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery(pub String);

/// Applies the `GET devices/` query: name, os, attributes, select.
pub fn filter<'a>(
    devices: &'a [proto::Device],
    name: Option<&str>,
    os: Option<&str>,
    attributes: &[String],
    select: bool,
) -> Result<Vec<&'a proto::Device>, BadQuery> {
    let os_match = match os.filter(|s| !s.is_empty()) {
        Some(spec) => Some(OsSpec::parse(spec)?),
        None => None,
    };
    let mut out: Vec<&proto::Device> = devices
        .iter()
        .filter(|d| name.is_none_or(|n| n.is_empty() || d.name == n))
        .filter(|d| os_match.as_ref().is_none_or(|m| m.matches(&d.os)))
        .filter(|d| attributes.iter().all(|a| d.attributes.contains(a)))
        .collect();
    if select {
        out.truncate(1);
    }
    Ok(out)
}

enum OsSpec {
    Exact(String),
    Range(Option<Vec<u64>>, Option<Vec<u64>>),
}

fn version_key(v: &str) -> Option<Vec<u64>> {
    v.trim().split('.').map(|p| p.parse().ok()).collect()
}

impl OsSpec {
    fn parse(spec: &str) -> Result<Self, BadQuery> {
        let bad = || {
            BadQuery(format!(
                "invalid os {spec:?}: use a version (14) or [12,13), [12,) or [,13)"
            ))
        };
        if let Some(inner) = spec.strip_prefix('[') {
            let inner = inner.strip_suffix(')').ok_or_else(bad)?;
            let (lo, hi) = inner.split_once(',').ok_or_else(bad)?;
            let bound = |s: &str| -> Result<Option<Vec<u64>>, BadQuery> {
                if s.trim().is_empty() {
                    Ok(None)
                } else {
                    version_key(s).map(Some).ok_or_else(bad)
                }
            };
            Ok(OsSpec::Range(bound(lo)?, bound(hi)?))
        } else {
            Ok(OsSpec::Exact(spec.to_owned()))
        }
    }

    fn matches(&self, os: &str) -> bool {
        match self {
            OsSpec::Exact(v) => os == v,
            OsSpec::Range(lo, hi) => {
                let Some(k) = version_key(os) else {
                    return false;
                };
                lo.as_ref().is_none_or(|l| &k >= l) && hi.as_ref().is_none_or(|h| &k < h)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_has_one_colon_and_frameworks_are_listed() {
        let devs = default_devices();
        assert!(
            devs.iter()
                .any(|d| d.name == "Samsung Galaxy S24" && d.os == "14")
        );
        for d in &devs {
            assert!(
                d.attributes.iter().all(|a| a.matches(':').count() == 1),
                "{d:?}"
            );
            assert!(
                d.attributes.iter().any(|a| a.starts_with("framework:")),
                "{d:?}"
            );
        }
    }

    #[test]
    fn filters_by_name_os_interval_attributes_and_select() {
        let devs = default_devices();
        let by_name = filter(&devs, Some("Samsung Galaxy S24"), None, &[], false).unwrap();
        assert_eq!(by_name.len(), 1);
        let android14 =
            filter(&devs, None, Some("[14,15)"), &["os:android".into()], false).unwrap();
        assert!(android14.iter().all(|d| d.os == "14"));
        assert!(!android14.is_empty());
        let qnn = filter(&devs, None, None, &["framework:qnn".into()], true).unwrap();
        assert_eq!(qnn.len(), 1);
        assert!(filter(&devs, None, Some("[14"), &[], false).is_err());
        let none = filter(&devs, Some("No Such Phone"), None, &[], true).unwrap();
        assert!(none.is_empty());
    }
}
