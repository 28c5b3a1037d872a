//! Protobuf messages of package `qai_hub.api`, hand-written from the field tables of the protocol
//! reference (section 11), shared by the client and the simulator.
//!
//! Field numbers and proto3 `optional` presence follow the official schema exactly: presence
//! fields are `Option<T>` so that `false`, `0` and `""` are still put on the wire when set.
//! This file holds message shapes only (and the edge from [`DType`] to [`TensorDtype`]); it must
//! not reach into HTTP or the simulator.

use std::collections::BTreeMap;

use bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType};

use crate::tensor::DType;

/// `google.protobuf.Timestamp`, the only well-known type the schema imports.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// A timestamp at whole seconds, which is all the official client reads.
    pub fn from_seconds(seconds: i64) -> Self {
        Self { seconds, nanos: 0 }
    }
}

/// Lifecycle of a job; only DONE and FAILED end polling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum JobState {
    Unspecified = 0,
    Created = 1,
    Done = 10,
    Failed = 30,
    OptimizingModel = 50,
    ProvisioningDevice = 60,
    MeasuringPerformance = 70,
    RunningInference = 80,
    QuantizingModel = 90,
    LinkingModels = 100,
}

impl JobState {
    /// Whether polling can stop: the job reached an end state.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// Element type of a tensor in input specs and datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum TensorDtype {
    Unspecified = 0,
    Float32 = 1,
    Int32 = 2,
    Int64 = 3,
    Int8 = 4,
    Uint8 = 5,
    Int16 = 6,
    Uint16 = 7,
    Float16 = 8,
    Bool = 9,
}

impl From<DType> for TensorDtype {
    fn from(d: DType) -> Self {
        match d {
            DType::F32 => Self::Float32,
            DType::F16 => Self::Float16,
            DType::I8 => Self::Int8,
            DType::U8 => Self::Uint8,
            DType::I16 => Self::Int16,
            DType::U16 => Self::Uint16,
            DType::I32 => Self::Int32,
            DType::I64 => Self::Int64,
            DType::Bool => Self::Bool,
        }
    }
}

/// Weight and activation types of quantize jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum QuantizeDtype {
    Unspecified = 0,
    Int8 = 1,
    Uint8 = 2,
    Int16 = 3,
    Uint16 = 4,
    Int4 = 5,
    Uint4 = 6,
}

/// Format of a model file, which decides what a job can do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ModelType {
    Unspecified = 0,
    Torchscript = 1,
    Mlmodel = 2,
    DeprecatedUntracedTorchscript = 3,
    Tflite = 4,
    Mlmodelc = 5,
    Onnx = 6,
    Ort = 7,
    Mlpackage = 8,
    Tetrart = 9,
    QnnLibAarch64Android = 10,
    QnnContextBinary = 11,
    AimetOnnx = 12,
    AimetPt = 13,
    QnnLibX8664Linux = 14,
    QnnDlc = 15,
    TorchExportedProgram = 16,
}

/// Keys of `ModelMetadata.entries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ModelMetadataKey {
    Unspecified = 0,
    QnnSdkVersion = 1,
    QnnSdkVariant = 2,
    QairtSdkVersion = 3,
    QnnModelGraphNames = 30,
    QnnContextBinHexagonVersion = 31,
    QnnContextBinSocModel = 32,
    QnnContextBinBackend = 33,
    QnnContextBinVtcm = 34,
    QnnContextBinOptimizationLevel = 35,
}

/// Kind of job, as used by job summaries and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum JobType {
    Unspecified = 0,
    Profile = 1,
    Inference = 2,
    Compile = 3,
    Quantize = 4,
    Link = 5,
}

/// Why a job failed, in ranges per failing subsystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum JobFailureType {
    Unspecified = 0,
    Success = 1,
    Unknown = 2,
    Unsupported = 3,
    InternalUnknown = 1000,
    InternalLogic = 1001,
    RuntimeUnknown = 2000,
    RuntimeCrash = 2001,
    RuntimeOutOfDisk = 2002,
    RuntimeFailedDependency = 2003,
    RuntimeOutOfMemory = 2004,
    CloudApiError = 2100,
    CloudResourceMissing = 2101,
    QdcApiError = 2200,
    ModelUnknown = 3000,
    QnnToolError = 3050,
    RuntimeTimeout = 12000,
    RuntimeDeviceOom = 12001,
    CloudThrottled = 12102,
    InvalidInputs = 13000,
    InvalidArgument = 13001,
    ModelCorrupt = 13002,
    ModelInvalid = 13003,
    QnnVersionMismatch = 13050,
    DspVersionMismatch = 13051,
    RuntimeInternalServiceBusy = 21000,
}

/// Where a layer ran on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ComputeUnit {
    Unspecified = 0,
    Cpu = 1,
    Gpu = 2,
    Npu = 3,
}

/// Downloadable by-products of a job run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum JobArtifactType {
    Unspecified = 0,
    DeviceLog = 1,
    HubLog = 5,
    ProfileTrace = 6,
    NetronVizArchive = 7,
    QhasSummary = 8,
}

/// What the caller may do with a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DatasetPermission {
    CanView = 0,
    CanUpdate = 1,
}

/// What the caller may do with a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum JobPermission {
    CanView = 0,
    CanUpdate = 1,
}

/// What the caller may do with a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ModelPermission {
    CanView = 0,
    CanUpdate = 1,
}

/// Per-field validation messages the server may attach to a create/update answer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FieldError {
    #[prost(string, tag = "1")]
    pub field: String,
    #[prost(string, repeated, tag = "2")]
    pub messages: Vec<String>,
}

/// Why a create/update was refused.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidationError {
    #[prost(message, repeated, tag = "1")]
    pub field_errors: Vec<FieldError>,
    #[prost(string, repeated, tag = "2")]
    pub non_field_errors: Vec<String>,
}

/// The answer to every POST, PUT and PATCH; an empty `id` means the call failed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateUpdateResponse {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub status: String,
    #[prost(message, optional, tag = "3")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "4")]
    pub expiration_time: Option<Timestamp>,
    #[prost(message, optional, tag = "5")]
    pub validation_error: Option<ValidationError>,
}

/// A blob URL to GET (no auth) and the file name the server suggests.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileDownloadUrl {
    #[prost(string, tag = "1")]
    pub url: String,
    #[prost(string, tag = "2")]
    pub filename: String,
}

/// A form-POST upload target (S3 POST-policy style): `fields` go first, the file last.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileUploadUrl {
    #[prost(string, tag = "1")]
    pub url: String,
    #[prost(string, tag = "2")]
    pub file_field_name: String,
    #[prost(btree_map = "string, string", tag = "3")]
    pub fields: BTreeMap<String, String>,
}

/// Presigned part URLs of a multipart upload; part `i` starts at `i * max_part_size`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileMultipartUploadUrl {
    #[prost(string, repeated, tag = "1")]
    pub urls: Vec<String>,
    #[prost(string, tag = "2")]
    pub upload_id: String,
    #[prost(uint64, tag = "3")]
    pub max_part_size: u64,
}

/// Finishes a multipart upload with the part ETags, verbatim and in part order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileMultipartUploadComplete {
    #[prost(string, tag = "1")]
    pub upload_id: String,
    #[prost(string, repeated, tag = "2")]
    pub etags: Vec<String>,
}

/// Temporary AWS credentials; EdgeGate never asks for them and rejects them if sent.
#[derive(Clone, PartialEq, prost::Message)]
pub struct S3Credentials {
    #[prost(string, tag = "1")]
    pub access_key_id: String,
    #[prost(string, tag = "2")]
    pub secret_access_key: String,
    #[prost(string, tag = "3")]
    pub session_token: String,
    #[prost(message, optional, tag = "4")]
    pub expiration: Option<Timestamp>,
    #[prost(string, tag = "5")]
    pub bucket: String,
    #[prost(string, tag = "6")]
    pub key: String,
    #[prost(string, tag = "7")]
    pub region: String,
    #[prost(bool, tag = "8")]
    pub use_transfer_acceleration: bool,
    #[prost(string, tag = "9")]
    pub filename: String,
}

/// How the server wants an upload done (answer to `supports_s3_credentials=true`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileUploadResponse {
    #[prost(oneof = "file_upload_response::Method", tags = "1, 2, 3")]
    pub method: Option<file_upload_response::Method>,
}

/// The oneof of [`FileUploadResponse`].
pub mod file_upload_response {
    /// One of the three upload methods.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Method {
        #[prost(message, tag = "1")]
        Url(super::FileUploadUrl),
        #[prost(message, tag = "2")]
        MultipartUrl(super::FileMultipartUploadUrl),
        #[prost(message, tag = "3")]
        Credentials(super::S3Credentials),
    }
}

/// How the server wants a download done (answer to `supports_s3_credentials=true`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileDownloadResponse {
    #[prost(oneof = "file_download_response::Method", tags = "1, 2")]
    pub method: Option<file_download_response::Method>,
}

/// The oneof of [`FileDownloadResponse`].
pub mod file_download_response {
    /// One of the two download methods.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Method {
        #[prost(message, tag = "1")]
        Url(super::FileDownloadUrl),
        #[prost(message, tag = "2")]
        Credentials(super::S3Credentials),
    }
}

/// One downloadable job artifact (log, trace).
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamedArtifactDownloadUrl {
    #[prost(string, tag = "1")]
    pub url: String,
    #[prost(string, tag = "2")]
    pub filename: String,
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub credentials: Option<S3Credentials>,
}

/// The artifacts of one type of one job run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamedArtifactDownloadUrlList {
    #[prost(message, repeated, tag = "1")]
    pub artifacts: Vec<NamedArtifactDownloadUrl>,
}

/// Renames a job (`PATCH jobs/<id>/`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobPublicUpdate {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
}

/// The service banner of `GET /status/`; empty means healthy.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ServiceStatus {
    #[prost(string, optional, tag = "1")]
    pub message: Option<String>,
}

/// An account, as embedded in owners of models, datasets and jobs.
#[derive(Clone, PartialEq, prost::Message)]
pub struct User {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(string, tag = "2")]
    pub first_name: String,
    #[prost(string, tag = "3")]
    pub last_name: String,
    #[prost(string, tag = "4")]
    pub email: String,
    #[prost(string, optional, tag = "5")]
    pub token: Option<String>,
    #[prost(uint64, tag = "6")]
    pub org_id: u64,
    #[prost(string, optional, tag = "7")]
    pub default_project_id: Option<String>,
    #[prost(string, optional, tag = "8")]
    pub default_project_slug: Option<String>,
}

/// A device type jobs can target; every attribute is one `key:value` string.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Device {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub os: String,
    #[prost(string, repeated, tag = "3")]
    pub attributes: Vec<String>,
    #[prost(string, tag = "4")]
    pub soc_description: String,
}

/// The answer to `GET devices/`, and the device list of a compile job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct DeviceList {
    #[prost(message, repeated, tag = "1")]
    pub devices: Vec<Device>,
    #[prost(uint64, tag = "2")]
    pub total_query_count: u64,
}

/// A runtime SDK version the service offers (QAIRT).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Framework {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub api_version: String,
    #[prost(string, repeated, tag = "3")]
    pub api_tags: Vec<String>,
    #[prost(string, tag = "4")]
    pub full_version: String,
}

/// The answer to `GET frameworks/`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct FrameworkList {
    #[prost(message, repeated, tag = "1")]
    pub frameworks: Vec<Framework>,
    #[prost(uint64, tag = "2")]
    pub total_query_count: u64,
}

/// Permissions of the caller on a dataset.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct DatasetAuthorization {
    #[prost(enumeration = "DatasetPermission", repeated, tag = "1")]
    pub permissions: Vec<i32>,
}

/// Permissions of the caller on a job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct JobAuthorization {
    #[prost(enumeration = "JobPermission", repeated, tag = "1")]
    pub permissions: Vec<i32>,
}

/// Permissions of the caller on a model.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ModelAuthorization {
    #[prost(enumeration = "ModelPermission", repeated, tag = "1")]
    pub permissions: Vec<i32>,
}

/// An HDF5 file of named input or output tensors held by the service.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dataset {
    #[prost(string, optional, tag = "1")]
    pub dataset_id: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub owner: Option<User>,
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "5")]
    pub expiration_time: Option<Timestamp>,
    #[prost(bool, optional, tag = "6")]
    pub file_upload_complete: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    pub read_only: Option<bool>,
    #[prost(bool, optional, tag = "8")]
    pub permanent: Option<bool>,
    #[prost(string, optional, tag = "9")]
    pub project_id: Option<String>,
    #[prost(string, optional, tag = "10")]
    pub project_slug: Option<String>,
    #[prost(message, optional, tag = "11")]
    pub actor_authorization: Option<DatasetAuthorization>,
}

/// The answer to `GET datasets/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DatasetList {
    #[prost(message, repeated, tag = "1")]
    pub datasets: Vec<Dataset>,
    #[prost(uint64, tag = "2")]
    pub total_query_count: u64,
}

/// Shape and element type of one tensor; a -1 dim is dynamic.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorType {
    #[prost(int64, repeated, tag = "1")]
    pub shape: Vec<i64>,
    #[prost(enumeration = "TensorDtype", tag = "2")]
    pub dtype: i32,
    #[prost(float, optional, tag = "3")]
    pub scale: Option<f32>,
    #[prost(double, optional, tag = "4")]
    pub zero_point: Option<f64>,
}

/// A named tensor of an input or output spec.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamedTensorType {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub tensor_type: Option<TensorType>,
    #[prost(string, optional, tag = "3")]
    pub graph_name: Option<String>,
}

/// An ordered input or output spec.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamedTensorTypeList {
    #[prost(message, repeated, tag = "1")]
    pub types: Vec<NamedTensorType>,
}

/// Facts about a compiled model, keyed by [`ModelMetadataKey`] values.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ModelMetadata {
    #[prost(btree_map = "uint32, string", tag = "1")]
    pub entries: BTreeMap<u32, String>,
}

/// A model held by the service: an upload, or the target model a compile job produced.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Model {
    #[prost(string, optional, tag = "1")]
    pub model_id: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub owner: Option<User>,
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub creation_time: Option<Timestamp>,
    #[prost(enumeration = "ModelType", optional, tag = "5")]
    pub model_type: Option<i32>,
    #[prost(bool, optional, tag = "6")]
    pub file_upload_complete: Option<bool>,
    #[prost(string, optional, tag = "7")]
    pub producer_id: Option<String>,
    #[prost(bool, optional, tag = "8")]
    pub read_only: Option<bool>,
    #[prost(bool, optional, tag = "9")]
    pub is_directory: Option<bool>,
    #[prost(bool, optional, tag = "10")]
    pub hidden: Option<bool>,
    #[prost(uint32, optional, tag = "11")]
    pub producer_attempt_number: Option<u32>,
    #[prost(message, optional, tag = "12")]
    pub metadata: Option<ModelMetadata>,
    #[prost(bool, optional, tag = "13")]
    pub has_vizgraph: Option<bool>,
    #[prost(message, optional, tag = "14")]
    pub input_spec: Option<NamedTensorTypeList>,
    #[prost(message, optional, tag = "15")]
    pub output_spec: Option<NamedTensorTypeList>,
    #[prost(string, optional, tag = "16")]
    pub project_id: Option<String>,
    #[prost(string, optional, tag = "17")]
    pub project_slug: Option<String>,
    #[prost(message, optional, tag = "18")]
    pub actor_authorization: Option<ModelAuthorization>,
}

impl Model {
    /// A reference to an existing model, as jobs carry it.
    pub fn reference(model_id: impl Into<String>) -> Self {
        Self {
            model_id: Some(model_id.into()),
            ..Self::default()
        }
    }
}

/// The answer to `GET models/`, and the inputs of a link job.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelList {
    #[prost(message, repeated, tag = "1")]
    pub models: Vec<Model>,
    #[prost(uint64, tag = "2")]
    pub total_query_count: u64,
}

/// A server note attached to a job.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Notice {
    #[prost(enumeration = "notice::Context", tag = "1")]
    pub context: i32,
    #[prost(enumeration = "notice::Severity", tag = "2")]
    pub severity: i32,
    #[prost(string, tag = "3")]
    pub message: String,
}

/// Nested enums of [`Notice`].
pub mod notice {
    /// How serious a notice is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum Severity {
        Debug = 0,
        Info = 1,
        Warning = 2,
        Error = 3,
    }

    /// What a notice is about.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum Context {
        Device = 0,
        Model = 1,
        User = 2,
    }
}

/// A compile job; `target_model` is seeded at creation when `seed_target_model=true`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CompileJob {
    #[prost(string, tag = "1")]
    pub compile_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(uint64, tag = "3")]
    pub user_id: u64,
    #[prost(message, optional, tag = "4")]
    pub model: Option<Model>,
    #[prost(enumeration = "JobState", tag = "5")]
    pub job_state: i32,
    #[prost(message, optional, tag = "6")]
    pub device: Option<Device>,
    #[prost(message, optional, tag = "7")]
    pub devices: Option<DeviceList>,
    #[prost(message, optional, tag = "8")]
    pub tensor_type_list: Option<NamedTensorTypeList>,
    #[prost(string, tag = "9")]
    pub name: String,
    #[prost(string, tag = "10")]
    pub options: String,
    #[prost(string, optional, tag = "11")]
    pub failure_reason: Option<String>,
    #[prost(message, optional, tag = "12")]
    pub target_model: Option<Model>,
    #[prost(bool, optional, tag = "13")]
    pub has_vizgraph: Option<bool>,
    #[prost(message, optional, tag = "14")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "15")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "16")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "17")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(string, optional, tag = "18")]
    pub admin_url: Option<String>,
    #[prost(message, optional, tag = "19")]
    pub target_tensor_type_list: Option<NamedTensorTypeList>,
    #[prost(message, optional, tag = "20")]
    pub calibration_dataset: Option<Dataset>,
    #[prost(message, optional, tag = "21")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "22")]
    pub error_details: Option<String>,
    #[prost(string, optional, tag = "23")]
    pub project_id: Option<String>,
    #[prost(string, optional, tag = "24")]
    pub project_slug: Option<String>,
}

/// A link job (several QNN DLC models into one context binary).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinkJob {
    #[prost(string, tag = "1")]
    pub link_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(uint64, tag = "3")]
    pub user_id: u64,
    #[prost(message, optional, tag = "4")]
    pub models: Option<ModelList>,
    #[prost(enumeration = "JobState", tag = "5")]
    pub job_state: i32,
    #[prost(string, tag = "6")]
    pub name: String,
    #[prost(string, tag = "7")]
    pub options: String,
    #[prost(string, optional, tag = "8")]
    pub failure_reason: Option<String>,
    #[prost(message, optional, tag = "9")]
    pub target_model: Option<Model>,
    #[prost(message, optional, tag = "10")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "11")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "12")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "13")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(string, optional, tag = "14")]
    pub admin_url: Option<String>,
    #[prost(message, optional, tag = "15")]
    pub queued_time: Option<Timestamp>,
    #[prost(message, optional, tag = "16")]
    pub device: Option<Device>,
    #[prost(string, optional, tag = "17")]
    pub project_id: Option<String>,
    #[prost(string, optional, tag = "18")]
    pub error_details: Option<String>,
    #[prost(string, optional, tag = "19")]
    pub project_slug: Option<String>,
}

/// A quantize job (ONNX in, QDQ ONNX out).
#[derive(Clone, PartialEq, prost::Message)]
pub struct QuantizeJob {
    #[prost(string, tag = "1")]
    pub quantize_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(uint64, tag = "3")]
    pub user_id: u64,
    #[prost(message, optional, tag = "4")]
    pub model: Option<Model>,
    #[prost(message, optional, tag = "5")]
    pub calibration_dataset: Option<Dataset>,
    #[prost(enumeration = "QuantizeDtype", tag = "6")]
    pub weights_dtype: i32,
    #[prost(enumeration = "QuantizeDtype", tag = "7")]
    pub activations_dtype: i32,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(enumeration = "JobState", tag = "9")]
    pub job_state: i32,
    #[prost(string, tag = "10")]
    pub options: String,
    #[prost(message, optional, tag = "11")]
    pub tensor_type_list: Option<NamedTensorTypeList>,
    #[prost(message, optional, tag = "12")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "13")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "14")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "15")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(string, optional, tag = "16")]
    pub failure_reason: Option<String>,
    #[prost(message, optional, tag = "17")]
    pub target_model: Option<Model>,
    #[prost(string, optional, tag = "18")]
    pub admin_url: Option<String>,
    #[prost(bool, optional, tag = "19")]
    pub has_vizgraph: Option<bool>,
    #[prost(message, optional, tag = "20")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "21")]
    pub project_id: Option<String>,
    #[prost(string, optional, tag = "22")]
    pub project_slug: Option<String>,
}

/// The legacy (≤0.55) profile job; decoded for old answers, never sent to 0.56 clients.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProfileJob {
    #[prost(string, tag = "1")]
    pub profile_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(uint64, tag = "3")]
    pub user_id: u64,
    #[prost(message, optional, tag = "4")]
    pub model: Option<Model>,
    #[prost(enumeration = "JobState", tag = "5")]
    pub job_state: i32,
    #[prost(message, optional, tag = "6")]
    pub device: Option<Device>,
    #[prost(message, optional, tag = "7")]
    pub tensor_type_list: Option<NamedTensorTypeList>,
    #[prost(message, optional, tag = "8")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub completion_time: Option<Timestamp>,
    #[prost(uint64, optional, tag = "11")]
    pub execution_time: Option<u64>,
    #[prost(string, optional, tag = "12")]
    pub failure_reason: Option<String>,
    #[prost(uint64, optional, tag = "13")]
    pub peak_memory_usage: Option<u64>,
    #[prost(string, tag = "14")]
    pub name: String,
    #[prost(string, tag = "15")]
    pub options: String,
    #[prost(message, optional, tag = "16")]
    pub dataset: Option<Dataset>,
    #[prost(message, optional, tag = "17")]
    pub target_model: Option<Model>,
    #[prost(message, optional, tag = "18")]
    pub execution_peak_memory: Option<Range>,
    #[prost(bool, optional, tag = "19")]
    pub has_vizgraph: Option<bool>,
    #[prost(message, optional, tag = "20")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(string, optional, tag = "21")]
    pub admin_url: Option<String>,
    #[prost(bool, tag = "22")]
    pub includes_compile: bool,
    #[prost(string, optional, tag = "23")]
    pub error_details: Option<String>,
    #[prost(message, optional, tag = "24")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "25")]
    pub project_id: Option<String>,
    #[prost(string, optional, tag = "26")]
    pub project_slug: Option<String>,
}

/// An inference job; with `is_profiling_on` it is also how 0.56 profiles a model.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InferenceJob {
    #[prost(string, tag = "1")]
    pub inference_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(message, optional, tag = "3")]
    pub model: Option<Model>,
    #[prost(message, optional, tag = "4")]
    pub device: Option<Device>,
    #[prost(enumeration = "JobState", tag = "5")]
    pub job_state: i32,
    #[prost(string, tag = "6")]
    pub name: String,
    #[prost(message, optional, tag = "7")]
    pub dataset: Option<Dataset>,
    #[prost(message, optional, tag = "8")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub completion_time: Option<Timestamp>,
    #[prost(string, optional, tag = "11")]
    pub failure_reason: Option<String>,
    #[prost(string, tag = "12")]
    pub options: String,
    #[prost(message, optional, tag = "13")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(string, optional, tag = "14")]
    pub admin_url: Option<String>,
    #[prost(string, optional, tag = "15")]
    pub error_details: Option<String>,
    #[prost(message, optional, tag = "16")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "17")]
    pub project_id: Option<String>,
    #[prost(uint64, tag = "18")]
    pub user_id: u64,
    #[prost(bool, optional, tag = "19")]
    pub is_profiling_on: Option<bool>,
    #[prost(uint64, optional, tag = "20")]
    pub execution_time: Option<u64>,
    #[prost(message, optional, tag = "21")]
    pub execution_peak_memory: Option<Range>,
    #[prost(bool, optional, tag = "22")]
    pub has_vizgraph: Option<bool>,
    #[prost(message, optional, tag = "23")]
    pub tensor_type_list: Option<NamedTensorTypeList>,
    #[prost(string, optional, tag = "24")]
    pub project_slug: Option<String>,
}

/// A job of any kind (`POST jobs/` body and `GET jobs/<id>/` answer).
///
/// `Message` is implemented by hand because the `job` oneof (tags 1, 2, 4, 6, 7) interleaves
/// with `hub_version` (3) and `read_only` (5), and the official encoder emits fields strictly in
/// tag order; a derived impl would put the whole oneof first.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct Job {
    /// The job itself: exactly one kind.
    pub job: Option<job::Job>,
    /// Tag 3.
    pub hub_version: Option<String>,
    /// Tag 5.
    pub read_only: Option<bool>,
    /// Tag 8.
    pub notices: Vec<Notice>,
    /// Tag 9, a [`JobFailureType`] value.
    pub failure_type: i32,
    /// Tag 10, [`JobArtifactType`] values.
    pub available_artifacts: Vec<i32>,
    /// Tag 11.
    pub actor_authorization: Option<JobAuthorization>,
}

/// The oneof of [`Job`].
pub mod job {
    /// One kind of job.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Job {
        #[prost(message, tag = "1")]
        ProfileJob(super::ProfileJob),
        #[prost(message, tag = "2")]
        InferenceJob(super::InferenceJob),
        #[prost(message, tag = "4")]
        CompileJob(super::CompileJob),
        #[prost(message, tag = "6")]
        QuantizeJob(super::QuantizeJob),
        #[prost(message, tag = "7")]
        LinkJob(super::LinkJob),
    }

    impl Job {
        /// The field number this variant is encoded under.
        pub fn tag(&self) -> u32 {
            match self {
                Self::ProfileJob(_) => 1,
                Self::InferenceJob(_) => 2,
                Self::CompileJob(_) => 4,
                Self::QuantizeJob(_) => 6,
                Self::LinkJob(_) => 7,
            }
        }
    }
}

impl Job {
    /// The failure type as an enum; unknown values read as unspecified.
    pub fn failure_type(&self) -> JobFailureType {
        JobFailureType::try_from(self.failure_type).unwrap_or(JobFailureType::Unspecified)
    }

    fn encode_oneof_in(&self, tags: std::ops::RangeInclusive<u32>, buf: &mut impl BufMut) {
        if let Some(j) = &self.job
            && tags.contains(&j.tag())
        {
            j.encode(buf);
        }
    }
}

impl prost::Message for Job {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        self.encode_oneof_in(1..=2, buf);
        if let Some(v) = &self.hub_version {
            prost::encoding::string::encode(3, v, buf);
        }
        self.encode_oneof_in(4..=4, buf);
        if let Some(v) = &self.read_only {
            prost::encoding::bool::encode(5, v, buf);
        }
        self.encode_oneof_in(6..=7, buf);
        prost::encoding::message::encode_repeated(8, &self.notices, buf);
        if self.failure_type != 0 {
            prost::encoding::int32::encode(9, &self.failure_type, buf);
        }
        prost::encoding::int32::encode_packed(10, &self.available_artifacts, buf);
        if let Some(v) = &self.actor_authorization {
            prost::encoding::message::encode(11, v, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        match tag {
            1 | 2 | 4 | 6 | 7 => job::Job::merge(&mut self.job, tag, wire_type, buf, ctx),
            3 => prost::encoding::string::merge(
                wire_type,
                self.hub_version.get_or_insert_with(String::new),
                buf,
                ctx,
            ),
            5 => prost::encoding::bool::merge(
                wire_type,
                self.read_only.get_or_insert(false),
                buf,
                ctx,
            ),
            8 => prost::encoding::message::merge_repeated(wire_type, &mut self.notices, buf, ctx),
            9 => prost::encoding::int32::merge(wire_type, &mut self.failure_type, buf, ctx),
            10 => prost::encoding::int32::merge_repeated(
                wire_type,
                &mut self.available_artifacts,
                buf,
                ctx,
            ),
            11 => prost::encoding::message::merge(
                wire_type,
                self.actor_authorization
                    .get_or_insert_with(Default::default),
                buf,
                ctx,
            ),
            _ => prost::encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        self.job.as_ref().map_or(0, job::Job::encoded_len)
            + self
                .hub_version
                .as_ref()
                .map_or(0, |v| prost::encoding::string::encoded_len(3, v))
            + self
                .read_only
                .as_ref()
                .map_or(0, |v| prost::encoding::bool::encoded_len(5, v))
            + prost::encoding::message::encoded_len_repeated(8, &self.notices)
            + if self.failure_type != 0 {
                prost::encoding::int32::encoded_len(9, &self.failure_type)
            } else {
                0
            }
            + prost::encoding::int32::encoded_len_packed(10, &self.available_artifacts)
            + self
                .actor_authorization
                .as_ref()
                .map_or(0, |v| prost::encoding::message::encoded_len(11, v))
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}

/// The legacy answer to `GET jobs/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobList {
    #[prost(message, repeated, tag = "1")]
    pub jobs: Vec<Job>,
    #[prost(uint64, tag = "2")]
    pub total_query_count: u64,
}

/// Summary of a compile job in `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CompileJobSummary {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(enumeration = "JobState", tag = "4")]
    pub job_state: i32,
    #[prost(string, tag = "5")]
    pub device_name: String,
    #[prost(string, tag = "6")]
    pub device_os_version: String,
    #[prost(message, optional, tag = "7")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(message, optional, tag = "12")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "13")]
    pub project_id: Option<String>,
    #[prost(enumeration = "ModelType", optional, tag = "14")]
    pub target_model_type: Option<i32>,
    #[prost(string, optional, tag = "15")]
    pub project_slug: Option<String>,
}

/// Summary of a link job in `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinkJobSummary {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(enumeration = "JobState", tag = "4")]
    pub job_state: i32,
    #[prost(message, optional, tag = "5")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, tag = "11")]
    pub device_name: String,
    #[prost(string, tag = "12")]
    pub device_os_version: String,
    #[prost(string, optional, tag = "13")]
    pub project_id: Option<String>,
    #[prost(enumeration = "ModelType", optional, tag = "14")]
    pub target_model_type: Option<i32>,
    #[prost(string, optional, tag = "15")]
    pub project_slug: Option<String>,
}

/// Summary of a quantize job in `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QuantizeJobSummary {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(enumeration = "JobState", tag = "4")]
    pub job_state: i32,
    #[prost(message, optional, tag = "5")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "11")]
    pub project_id: Option<String>,
    #[prost(enumeration = "ModelType", optional, tag = "12")]
    pub target_model_type: Option<i32>,
    #[prost(string, optional, tag = "13")]
    pub project_slug: Option<String>,
}

/// Summary of a legacy profile job in `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProfileJobSummary {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(enumeration = "JobState", tag = "4")]
    pub job_state: i32,
    #[prost(string, tag = "5")]
    pub device_name: String,
    #[prost(string, tag = "6")]
    pub device_os_version: String,
    #[prost(message, optional, tag = "7")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(uint64, optional, tag = "12")]
    pub execution_time: Option<u64>,
    #[prost(message, optional, tag = "13")]
    pub execution_peak_memory: Option<Range>,
    #[prost(message, optional, tag = "14")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "15")]
    pub project_id: Option<String>,
    #[prost(enumeration = "ModelType", optional, tag = "16")]
    pub target_model_type: Option<i32>,
    #[prost(string, optional, tag = "17")]
    pub project_slug: Option<String>,
}

/// Summary of an inference (or profiling) job in `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InferenceJobSummary {
    #[prost(string, tag = "1")]
    pub job_id: String,
    #[prost(message, optional, tag = "2")]
    pub user: Option<User>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(enumeration = "JobState", tag = "4")]
    pub job_state: i32,
    #[prost(string, tag = "5")]
    pub device_name: String,
    #[prost(string, tag = "6")]
    pub device_os_version: String,
    #[prost(message, optional, tag = "7")]
    pub creation_time: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    pub completion_time: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub last_updated_time: Option<Timestamp>,
    #[prost(message, optional, tag = "12")]
    pub queued_time: Option<Timestamp>,
    #[prost(string, optional, tag = "13")]
    pub project_id: Option<String>,
    #[prost(enumeration = "ModelType", optional, tag = "14")]
    pub target_model_type: Option<i32>,
    #[prost(uint64, optional, tag = "15")]
    pub execution_time: Option<u64>,
    #[prost(message, optional, tag = "16")]
    pub execution_peak_memory: Option<Range>,
    #[prost(bool, optional, tag = "17")]
    pub is_profiling_on: Option<bool>,
    #[prost(string, optional, tag = "18")]
    pub project_slug: Option<String>,
}

/// One entry of `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobSummary {
    #[prost(oneof = "job_summary::Job", tags = "1, 2, 4, 5, 6")]
    pub job: Option<job_summary::Job>,
    #[prost(message, optional, tag = "7")]
    pub actor_authorization: Option<JobAuthorization>,
}

/// The oneof of [`JobSummary`].
pub mod job_summary {
    /// One kind of job summary.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Job {
        #[prost(message, tag = "1")]
        ProfileJobSummary(super::ProfileJobSummary),
        #[prost(message, tag = "2")]
        InferenceJobSummary(super::InferenceJobSummary),
        #[prost(message, tag = "4")]
        CompileJobSummary(super::CompileJobSummary),
        #[prost(message, tag = "5")]
        QuantizeJobSummary(super::QuantizeJobSummary),
        #[prost(message, tag = "6")]
        LinkJobSummary(super::LinkJobSummary),
    }
}

/// The answer to `GET job_summaries/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobSummaryList {
    #[prost(message, repeated, tag = "1")]
    pub job_summaries: Vec<JobSummary>,
    #[prost(uint64, tag = "2")]
    pub total_query_count: u64,
}

/// A tool and its version, as reported by compile, link, quantize and profile runs.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ToolVersion {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

/// Details of a finished compile job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CompileDetail {
    #[prost(message, repeated, tag = "1")]
    pub tool_versions: Vec<ToolVersion>,
}

/// Details of a finished link job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LinkDetail {
    #[prost(message, repeated, tag = "1")]
    pub tool_versions: Vec<ToolVersion>,
}

/// Details of a finished quantize job, with PSNR per output.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QuantizeDetail {
    #[prost(message, repeated, tag = "1")]
    pub tool_versions: Vec<ToolVersion>,
    #[prost(btree_map = "string, float", tag = "2")]
    pub psnr: BTreeMap<String, f32>,
}

/// Result of a compile job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CompileJobResult {
    #[prost(string, tag = "1")]
    pub compile_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub compile_detail: Option<CompileDetail>,
}

/// Result of a link job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LinkJobResult {
    #[prost(string, tag = "1")]
    pub link_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub link_detail: Option<LinkDetail>,
}

/// Result of a quantize job.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QuantizeJobResult {
    #[prost(string, tag = "1")]
    pub quantize_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub quantize_detail: Option<QuantizeDetail>,
}

/// Result of a legacy profile job.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProfileJobResult {
    #[prost(string, tag = "1")]
    pub profile_job_id: String,
    #[prost(message, optional, tag = "2")]
    pub profile: Option<ProfileDetail>,
}

/// Result of an inference job: the output dataset and, when profiled, the profile.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InferenceJobResult {
    #[prost(string, tag = "1")]
    pub inference_job_id: String,
    #[prost(string, tag = "2")]
    pub output_dataset_id: String,
    #[prost(message, optional, tag = "3")]
    pub detail: Option<ProfileDetail>,
}

/// The answer to `GET jobs/<id>/result/`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JobResult {
    #[prost(oneof = "job_result::Result", tags = "1, 2, 3, 4, 5")]
    pub result: Option<job_result::Result>,
}

/// The oneof of [`JobResult`].
pub mod job_result {
    /// One kind of job result.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Result {
        #[prost(message, tag = "1")]
        ProfileJobResult(super::ProfileJobResult),
        #[prost(message, tag = "2")]
        InferenceJobResult(super::InferenceJobResult),
        #[prost(message, tag = "3")]
        CompileJobResult(super::CompileJobResult),
        #[prost(message, tag = "4")]
        QuantizeJobResult(super::QuantizeJobResult),
        #[prost(message, tag = "5")]
        LinkJobResult(super::LinkJobResult),
    }
}

/// A closed interval of bytes (memory) as measured across runs.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Range {
    #[prost(uint64, tag = "1")]
    pub lower: u64,
    #[prost(uint64, tag = "2")]
    pub upper: u64,
}

/// `ProfileDetail.MemoryUsage`: memory increase and peak of one phase, in bytes.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct MemoryUsage {
    #[prost(message, optional, tag = "1")]
    pub increase: Option<Range>,
    #[prost(message, optional, tag = "2")]
    pub peak: Option<Range>,
}

/// One layer of a profiled model and where it ran.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LayerDetail {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(enumeration = "ComputeUnit", tag = "2")]
    pub compute_unit: i32,
    #[prost(string, tag = "3")]
    pub layer_type_name: String,
    #[prost(string, tag = "4")]
    pub id: String,
    #[prost(string, tag = "5")]
    pub delegate_name: String,
    #[prost(string, tag = "6")]
    pub delegate_extra_info: String,
    #[prost(uint64, optional, tag = "7")]
    pub execution_time: Option<u64>,
    #[prost(string, optional, tag = "8")]
    pub segment_id: Option<String>,
    #[prost(string, repeated, tag = "9")]
    pub delegate_reported_ops: Vec<String>,
    #[prost(uint64, optional, tag = "10")]
    pub execution_cycles: Option<u64>,
}

/// A run of consecutive layers on one compute unit.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SegmentDetail {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(enumeration = "ComputeUnit", tag = "2")]
    pub compute_unit: i32,
    #[prost(string, tag = "3")]
    pub delegate_name: String,
    #[prost(string, tag = "4")]
    pub delegate_extra_info: String,
    #[prost(uint64, optional, tag = "5")]
    pub execution_time: Option<u64>,
}

/// One key/value of a runtime configuration.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RuntimeConfigProperty {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A runtime configuration used during profiling.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RuntimeConfig {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, repeated, tag = "2")]
    pub properties: Vec<RuntimeConfigProperty>,
}

/// A profile: times in microseconds, memory in bytes, one entry per layer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProfileDetail {
    #[prost(uint64, tag = "1")]
    pub execution_time: u64,
    #[prost(uint64, tag = "2")]
    pub peak_memory_usage: u64,
    #[prost(uint64, optional, tag = "3")]
    pub load_time: Option<u64>,
    #[prost(message, repeated, tag = "4")]
    pub layer_details: Vec<LayerDetail>,
    #[prost(uint64, tag = "5")]
    pub major_version: u64,
    #[prost(uint64, tag = "6")]
    pub minor_version: u64,
    #[prost(uint64, tag = "7")]
    pub after_cold_load_peak_memory: u64,
    #[prost(uint64, tag = "8")]
    pub after_compile_peak_memory: u64,
    #[prost(uint64, tag = "9")]
    pub after_execution_peak_memory: u64,
    #[prost(uint64, tag = "10")]
    pub after_warm_load_peak_memory: u64,
    #[prost(uint64, tag = "11")]
    pub before_cold_load_current_memory: u64,
    #[prost(uint64, tag = "12")]
    pub before_cold_load_peak_memory: u64,
    #[prost(uint64, tag = "13")]
    pub before_compile_current_memory: u64,
    #[prost(uint64, tag = "14")]
    pub before_compile_peak_memory: u64,
    #[prost(uint64, tag = "15")]
    pub before_execution_current_memory: u64,
    #[prost(uint64, tag = "16")]
    pub before_execution_peak_memory: u64,
    #[prost(uint64, tag = "17")]
    pub before_warm_load_current_memory: u64,
    #[prost(uint64, tag = "18")]
    pub before_warm_load_peak_memory: u64,
    #[prost(uint64, tag = "19")]
    pub cold_load_time: u64,
    #[prost(uint64, tag = "20")]
    pub compile_time: u64,
    #[prost(uint64, tag = "21")]
    pub warm_load_time: u64,
    #[prost(uint64, tag = "22")]
    pub after_cold_load_current_memory: u64,
    #[prost(uint64, tag = "23")]
    pub after_warm_load_current_memory: u64,
    #[prost(uint64, tag = "24")]
    pub after_compile_current_memory: u64,
    #[prost(uint64, tag = "25")]
    pub after_execution_current_memory: u64,
    #[prost(message, optional, tag = "26")]
    pub compile_memory: Option<MemoryUsage>,
    #[prost(message, optional, tag = "27")]
    pub cold_load_memory: Option<MemoryUsage>,
    #[prost(message, optional, tag = "28")]
    pub warm_load_memory: Option<MemoryUsage>,
    #[prost(message, optional, tag = "29")]
    pub execution_memory: Option<MemoryUsage>,
    #[prost(uint64, repeated, tag = "30")]
    pub all_compile_times: Vec<u64>,
    #[prost(uint64, repeated, tag = "31")]
    pub all_cold_load_times: Vec<u64>,
    #[prost(uint64, repeated, tag = "32")]
    pub all_warm_load_times: Vec<u64>,
    #[prost(uint64, repeated, tag = "33")]
    pub all_execution_times: Vec<u64>,
    #[prost(message, repeated, tag = "34")]
    pub segment_details: Vec<SegmentDetail>,
    #[prost(message, repeated, tag = "35")]
    pub runtime_config: Vec<RuntimeConfig>,
    #[prost(message, repeated, tag = "36")]
    pub tool_versions: Vec<ToolVersion>,
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn hex_of<M: Message>(m: &M) -> String {
        hex::encode(m.encode_to_vec())
    }

    fn decode<M: Message + Default>(h: &str) -> M {
        let bytes = hex::decode(h).expect("golden hex is valid");
        M::decode(bytes.as_slice()).expect("golden bytes decode")
    }

    fn s24(attributes: &[&str]) -> Device {
        Device {
            name: "Samsung Galaxy S24".into(),
            os: "14".into(),
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            soc_description: String::new(),
        }
    }

    const DEVICE_LIST: &str = "0a560a1253616d73756e672047616c61787920533234120231341a21636869707365743a7175616c636f6d6d2d736e6170647261676f6e2d3867656e331a0d6672616d65776f726b3a716e6e1a0a6f733a616e64726f69641001";

    #[test]
    fn device_list_golden() {
        let m = DeviceList {
            devices: vec![s24(&[
                "chipset:qualcomm-snapdragon-8gen3",
                "framework:qnn",
                "os:android",
            ])],
            total_query_count: 1,
        };
        assert_eq!(hex_of(&m), DEVICE_LIST);
        assert_eq!(decode::<DeviceList>(DEVICE_LIST), m);
    }

    const MODEL_CREATE: &str = "1a0974696e792e6f6e6e7828064800";

    #[test]
    fn model_create_keeps_false_is_directory() {
        let m = Model {
            name: Some("tiny.onnx".into()),
            model_type: Some(ModelType::Onnx as i32),
            is_directory: Some(false),
            ..Model::default()
        };
        assert_eq!(hex_of(&m), MODEL_CREATE);
        let back = decode::<Model>(MODEL_CREATE);
        assert_eq!(back, m);
        assert_eq!(back.is_directory, Some(false));
        assert_eq!(back.model_id, None);
    }

    const CREATE_UPDATE: &str = "0a096a61626331323334351a060880e2cfaa06";

    #[test]
    fn create_update_response_golden() {
        let m = CreateUpdateResponse {
            id: "jabc12345".into(),
            creation_time: Some(Timestamp::from_seconds(1_700_000_000)),
            ..CreateUpdateResponse::default()
        };
        assert_eq!(hex_of(&m), CREATE_UPDATE);
        assert_eq!(decode::<CreateUpdateResponse>(CREATE_UPDATE), m);
    }

    const COMPILE_SUBMIT: &str = "2265220b0a096d61626331323334353a280a240a1253616d73756e672047616c61787920533234120231341a0a6f733a616e64726f69641001420d0a0b0a017812060a02010410014a0474696e7952172d2d7461726765745f72756e74696d652074666c697465";

    #[test]
    fn compile_job_submit_golden() {
        let m = Job {
            job: Some(job::Job::CompileJob(CompileJob {
                model: Some(Model::reference("mabc12345")),
                devices: Some(DeviceList {
                    devices: vec![s24(&["os:android"])],
                    total_query_count: 1,
                }),
                tensor_type_list: Some(NamedTensorTypeList {
                    types: vec![NamedTensorType {
                        name: "x".into(),
                        tensor_type: Some(TensorType {
                            shape: vec![1, 4],
                            dtype: TensorDtype::Float32 as i32,
                            ..TensorType::default()
                        }),
                        graph_name: None,
                    }],
                }),
                name: "tiny".into(),
                options: "--target_runtime tflite".into(),
                ..CompileJob::default()
            })),
            ..Job::default()
        };
        assert_eq!(hex_of(&m), COMPILE_SUBMIT);
        assert_eq!(m.encoded_len(), COMPILE_SUBMIT.len() / 2);
        assert_eq!(decode::<Job>(COMPILE_SUBMIT), m);
    }

    const PROFILE_SUBMIT: &str = "123c1a0b0a096d616263313233343522240a1253616d73756e672047616c61787920533234120231341a0a6f733a616e64726f6964320474696e79980101";

    #[test]
    fn profile_submit_is_an_inference_job_golden() {
        let m = Job {
            job: Some(job::Job::InferenceJob(InferenceJob {
                model: Some(Model::reference("mabc12345")),
                device: Some(s24(&["os:android"])),
                name: "tiny".into(),
                is_profiling_on: Some(true),
                ..InferenceJob::default()
            })),
            ..Job::default()
        };
        assert_eq!(hex_of(&m), PROFILE_SUBMIT);
        assert_eq!(m.encoded_len(), PROFILE_SUBMIT.len() / 2);
        assert_eq!(decode::<Job>(PROFILE_SUBMIT), m);
    }

    const COMPILE_DONE: &str =
        "1a017822270a096a6162633132333435280a62180a096d746774303030303128043a096a6162633132333435";

    #[test]
    fn compile_job_done_golden_orders_hub_version_before_oneof() {
        let m = Job {
            hub_version: Some("x".into()),
            job: Some(job::Job::CompileJob(CompileJob {
                compile_job_id: "jabc12345".into(),
                job_state: JobState::Done as i32,
                target_model: Some(Model {
                    model_id: Some("mtgt00001".into()),
                    model_type: Some(ModelType::Tflite as i32),
                    producer_id: Some("jabc12345".into()),
                    ..Model::default()
                }),
                ..CompileJob::default()
            })),
            ..Job::default()
        };
        assert_eq!(hex_of(&m), COMPILE_DONE);
        assert_eq!(m.encoded_len(), COMPILE_DONE.len() / 2);
        let back = decode::<Job>(COMPILE_DONE);
        assert_eq!(back, m);
        let Some(job::Job::CompileJob(c)) = back.job else {
            panic!("expected a compile job");
        };
        assert_eq!(c.job_state(), JobState::Done);
        assert!(c.target_model.is_some());
    }

    const PROFILE_RESULT: &str = "123e0a096a61626331323334351a3108c41c22140a05636f6e763110031a07434f4e565f32443864280130084880a0bf4fea010c120a088080a20110a099e512";

    #[test]
    fn inference_result_with_profile_golden() {
        let m = JobResult {
            result: Some(job_result::Result::InferenceJobResult(InferenceJobResult {
                inference_job_id: "jabc12345".into(),
                output_dataset_id: String::new(),
                detail: Some(ProfileDetail {
                    execution_time: 3652,
                    layer_details: vec![LayerDetail {
                        name: "conv1".into(),
                        compute_unit: ComputeUnit::Npu as i32,
                        layer_type_name: "CONV_2D".into(),
                        execution_time: Some(100),
                        ..LayerDetail::default()
                    }],
                    major_version: 1,
                    minor_version: 8,
                    after_execution_peak_memory: 166_711_296,
                    execution_memory: Some(MemoryUsage {
                        increase: None,
                        peak: Some(Range {
                            lower: 2_654_208,
                            upper: 39_406_752,
                        }),
                    }),
                    ..ProfileDetail::default()
                }),
            })),
        };
        assert_eq!(hex_of(&m), PROFILE_RESULT);
        assert_eq!(decode::<JobResult>(PROFILE_RESULT), m);
    }

    const MULTIPART_URL: &str =
        "12220a1a687474703a2f2f3132372e302e302e313a312f626c6f622f703012027531180b";

    #[test]
    fn file_upload_response_multipart_golden() {
        let m = FileUploadResponse {
            method: Some(file_upload_response::Method::MultipartUrl(
                FileMultipartUploadUrl {
                    urls: vec!["http://127.0.0.1:1/blob/p0".into()],
                    upload_id: "u1".into(),
                    max_part_size: 11,
                },
            )),
        };
        assert_eq!(hex_of(&m), MULTIPART_URL);
        assert_eq!(decode::<FileUploadResponse>(MULTIPART_URL), m);
    }

    const MULTIPART_COMPLETE: &str =
        "0a027531122222323962663632396231323864616630343030386135316635663865656364613222";

    #[test]
    fn multipart_complete_keeps_quoted_etags_golden() {
        let m = FileMultipartUploadComplete {
            upload_id: "u1".into(),
            etags: vec!["\"29bf629b128daf04008a51f5f8eecda2\"".into()],
        };
        assert_eq!(hex_of(&m), MULTIPART_COMPLETE);
        assert_eq!(decode::<FileMultipartUploadComplete>(MULTIPART_COMPLETE), m);
    }

    #[test]
    fn dataset_confirm_golden() {
        let m = Dataset {
            file_upload_complete: Some(true),
            ..Dataset::default()
        };
        assert_eq!(hex_of(&m), "3001");
        assert_eq!(decode::<Dataset>("3001"), m);
    }

    #[test]
    fn job_roundtrips_every_field_of_the_hand_written_impl() {
        let m = Job {
            job: Some(job::Job::LinkJob(LinkJob {
                link_job_id: "jlink".into(),
                ..LinkJob::default()
            })),
            hub_version: Some(String::new()),
            read_only: Some(false),
            notices: vec![Notice {
                context: notice::Context::Model as i32,
                severity: notice::Severity::Warning as i32,
                message: "slow".into(),
            }],
            failure_type: JobFailureType::RuntimeFailedDependency as i32,
            available_artifacts: vec![
                JobArtifactType::DeviceLog as i32,
                JobArtifactType::HubLog as i32,
            ],
            actor_authorization: Some(JobAuthorization {
                permissions: vec![JobPermission::CanView as i32],
            }),
        };
        let bytes = m.encode_to_vec();
        assert_eq!(bytes.len(), m.encoded_len());
        let back = Job::decode(bytes.as_slice()).expect("roundtrip decodes");
        assert_eq!(back, m);
        assert_eq!(back.failure_type(), JobFailureType::RuntimeFailedDependency);
    }

    #[test]
    fn file_upload_url_fields_map_roundtrips() {
        let m = FileUploadUrl {
            url: "http://127.0.0.1:1/form".into(),
            file_field_name: "file".into(),
            fields: [("key".to_string(), "d1".to_string())].into(),
        };
        let back = FileUploadUrl::decode(m.encode_to_vec().as_slice()).expect("decodes");
        assert_eq!(back, m);
    }
}
