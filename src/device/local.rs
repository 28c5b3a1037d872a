//! The local `host` device: runs ONNX models on this machine's CPU in-process.

use async_trait::async_trait;

use super::{
    CaseInputs, Device, DeviceError, InferResult, ModelArtifact, Prepared, ProfileResult,
    RunSettings,
};

/// A `provider: local` device from `device_matrix`.
#[derive(Debug)]
pub struct LocalDevice {
    name: String,
}

impl LocalDevice {
    /// A local device called `name` in results and reports.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
        }
    }
}

#[async_trait]
impl Device for LocalDevice {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(&self, _model: &ModelArtifact) -> Result<Prepared, DeviceError> {
        Err(DeviceError::Unavailable(
            "the local device is not built yet".to_owned(),
        ))
    }

    async fn profile(
        &self,
        _prepared: &Prepared,
        _cases: &[CaseInputs],
        _settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError> {
        Err(DeviceError::Unavailable(
            "the local device is not built yet".to_owned(),
        ))
    }

    async fn infer(
        &self,
        _prepared: &Prepared,
        _cases: &[CaseInputs],
        _settings: &RunSettings,
    ) -> Result<InferResult, DeviceError> {
        Err(DeviceError::Unavailable(
            "the local device is not built yet".to_owned(),
        ))
    }
}
