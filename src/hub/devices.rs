//! Device listing and selection (`GET devices/`), with catalogue aliases such as `RB5` resolved
//! to AI Hub names before asking the service.

use crate::config::catalog::{Resolution, resolve_device_name};

use super::client::HubClient;
use super::error::HubError;
use super::proto::{Device, DeviceList};

/// Which devices to ask for; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceQuery {
    /// Exact AI Hub name, or a catalogue alias.
    pub name: Option<String>,
    /// OS version: `""` (latest), `"14"` or a right-open interval such as `"[12,13)"`.
    pub os: Option<String>,
    /// `key:value` attributes, ANDed.
    pub attributes: Vec<String>,
}

/// The AI Hub name for a user-written device name: aliases map to the catalogue name, anything
/// else is passed through so devices newer than the catalogue still work.
pub fn hub_device_name(name: &str) -> String {
    match resolve_device_name(name) {
        Resolution::Exact(d) | Resolution::Alias(d) => d.name.to_string(),
        Resolution::Unknown { .. } => name.to_string(),
    }
}

impl DeviceQuery {
    /// The `devices/` query, in the order and spelling of the official client.
    pub fn to_query(&self, select: bool) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(n) = self.name.as_deref().filter(|n| !n.is_empty()) {
            q.push(("name", hub_device_name(n)));
        }
        if let Some(os) = self.os.as_deref().filter(|o| !o.is_empty()) {
            q.push(("os", os.to_string()));
        }
        q.push(("select", if select { "True" } else { "False" }.to_string()));
        for a in &self.attributes {
            q.push(("attributes", a.clone()));
        }
        q
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.name {
            parts.push(format!("{:?}", hub_device_name(n)));
        }
        if let Some(os) = self.os.as_deref().filter(|o| !o.is_empty()) {
            parts.push(format!("os {os}"));
        }
        if !self.attributes.is_empty() {
            parts.push(format!("with {}", self.attributes.join(", ")));
        }
        if parts.is_empty() {
            "(any)".to_string()
        } else {
            parts.join(" ")
        }
    }
}

impl HubClient {
    /// Lists the devices matching a query.
    pub async fn list_devices(&self, query: &DeviceQuery) -> Result<Vec<Device>, HubError> {
        Ok(self.query_devices(query, false).await?.devices)
    }

    /// Asks the service to pick one device for a job (`select=True`); the full device it returns
    /// is what a job request must carry.
    pub async fn select_device(&self, query: &DeviceQuery) -> Result<Device, HubError> {
        let list = self.query_devices(query, true).await?;
        let mut devices = list.devices.into_iter();
        match (devices.next(), devices.next()) {
            (Some(d), None) => Ok(d),
            (None, _) => Err(HubError::DeviceNotAvailable(query.describe())),
            (Some(_), Some(_)) => Err(HubError::Protocol {
                route: "GET devices/?select=True".into(),
                reason: "the server returned more than one device for a selection".into(),
            }),
        }
    }

    async fn query_devices(
        &self,
        query: &DeviceQuery,
        select: bool,
    ) -> Result<DeviceList, HubError> {
        let q = query.to_query(select);
        let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = self.api_url(&["devices"], &pairs)?;
        self.get(url, "devices").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_hub_names_and_unknown_names_pass_through() {
        assert_eq!(hub_device_name("Samsung Galaxy S24"), "Samsung Galaxy S24");
        assert_eq!(hub_device_name("A Device From 2030"), "A Device From 2030");
        assert_eq!(hub_device_name("RB5"), "RB5 (Proxy)");
    }

    #[test]
    fn query_order_and_spelling_match_the_official_client() {
        let q = DeviceQuery {
            name: Some("Samsung Galaxy S24".into()),
            os: Some("14".into()),
            attributes: vec!["framework:qnn".into(), "os:android".into()],
        };
        let s = |v: &str| v.to_string();
        assert_eq!(
            q.to_query(true),
            vec![
                ("name", s("Samsung Galaxy S24")),
                ("os", s("14")),
                ("select", s("True")),
                ("attributes", s("framework:qnn")),
                ("attributes", s("os:android")),
            ]
        );
        assert_eq!(
            DeviceQuery::default().to_query(false),
            vec![("select", "False".to_string())]
        );
    }
}
