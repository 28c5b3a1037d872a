//! The local `host` device: runs ONNX models in-process on this machine's CPU with tract, a
//! pure-Rust inference engine, so a user with no AI Hub account still gets real answers and real
//! latency figures.
//!
//! What it measures, and the limits of each figure:
//! - `load_time_ms`: reading, parsing, optimising and planning the model (wall clock, once).
//! - `inference_ms`: wall clock of each timed `run` on a reused execution state: for each case,
//!   `warmup_runs` untimed runs then `measurement_repeats` timed ones (zero tensors of the input
//!   shapes when there are no cases).
//! - `peak_memory_bytes`: the process's peak resident set size (`VmHWM` in `/proc/self/status`)
//!   over the profile, reset first through `/proc/self/clear_refs` when the kernel allows. It is
//!   the whole edgegate process (binary, runtime, other devices running at the same time), so an
//!   upper bound of what the model needs; `None` where `/proc` does not exist (macOS, Windows).
//! - `layers`: `None`; a CPU has no NPU/GPU placement.
//!
//! Which errors mean what (the engine maps them to exit codes): `InvalidModel` for a file that is
//! not ONNX or uses an operator tract cannot run, `InvalidInput` for case tensors that do not fit
//! the model's inputs; both are problems of the user's files, not of the machine.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use tract_onnx::prelude::{
    DatumType, Framework, InferenceFact, InferenceModelExt, SimpleState, TValue, TVec,
    Tensor as TractTensor, TypedModel, TypedSimplePlan,
};

use super::{
    CaseInputs, CaseOutput, Device, DeviceError, InferResult, ModelArtifact, Prepared,
    ProfileResult, RunSettings,
};
use crate::config::ModelKind;
use crate::device::inputs::spec_dtype;
use crate::results::{JobKind, JobLink};
use crate::tensor::{DType, Tensor};

/// A `provider: local` device from `device_matrix`.
pub struct LocalDevice {
    name: String,
    loaded: Mutex<Option<Arc<Loaded>>>,
    run_lock: tokio::sync::Mutex<()>,
    runs: AtomicU64,
}

impl std::fmt::Debug for LocalDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A model loaded, optimised and planned once, shared by profile and infer.
struct Loaded {
    target_id: String,
    path: PathBuf,
    plan: TypedSimplePlan<TypedModel>,
    inputs: Vec<InputSig>,
    outputs: Vec<String>,
    load_time_ms: f64,
    size_bytes: u64,
}

/// One model input as the optimised model sees it; `None` dims are symbolic (any size).
#[derive(Debug, Clone)]
struct InputSig {
    name: String,
    dtype: Option<DType>,
    dims: Vec<Option<usize>>,
}

impl InputSig {
    fn describe(&self) -> String {
        let dims: Vec<String> = self
            .dims
            .iter()
            .map(|d| d.map_or_else(|| "?".to_owned(), |d| d.to_string()))
            .collect();
        let dtype = self.dtype.map_or("unsupported type", DType::name);
        format!("{dtype} [{}]", dims.join(", "))
    }
}

impl LocalDevice {
    /// A local device called `name` in results and reports.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            loaded: Mutex::new(None),
            run_lock: tokio::sync::Mutex::new(()),
            runs: AtomicU64::new(0),
        }
    }

    fn job(&self) -> JobLink {
        let n = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        JobLink {
            kind: JobKind::Local,
            id: format!("local-{}-{n}", self.name),
            url: None,
            reused: false,
        }
    }

    fn cached(&self) -> Option<Arc<Loaded>> {
        self.loaded.lock().ok().and_then(|g| g.clone())
    }

    fn loaded_for(&self, prepared: &Prepared) -> Result<Arc<Loaded>, DeviceError> {
        self.cached()
            .filter(|l| l.target_id == prepared.target_id)
            .ok_or_else(|| {
                DeviceError::Other(format!(
                    "device `{}` has not prepared model {}; call prepare first",
                    self.name, prepared.target_id
                ))
            })
    }
}

#[async_trait]
impl Device for LocalDevice {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(&self, model: &ModelArtifact) -> Result<Prepared, DeviceError> {
        if model.kind != ModelKind::Onnx {
            return Err(DeviceError::InvalidModel(format!(
                "{} is a {} model, but the local device runs ONNX only; export it to ONNX, or run it on an AI Hub device",
                model.path.display(),
                model.kind.as_str()
            )));
        }
        let target_id = format!("local-{}", model.sha256);
        let loaded = match self.cached().filter(|l| l.target_id == target_id) {
            Some(l) => l,
            None => {
                let path = model.path.clone();
                let specs: Vec<(String, Vec<usize>, DType)> = model
                    .input_specs
                    .iter()
                    .map(|(n, s)| {
                        (
                            n.clone(),
                            s.shape.iter().map(|&d| d as usize).collect(),
                            spec_dtype(s.dtype),
                        )
                    })
                    .collect();
                let id = target_id.clone();
                let loaded = tokio::task::spawn_blocking(move || load(&path, &specs, id))
                    .await
                    .map_err(|e| {
                        DeviceError::Other(format!("loading the model panicked: {e}"))
                    })??;
                let loaded = Arc::new(loaded);
                if let Ok(mut g) = self.loaded.lock() {
                    *g = Some(loaded.clone());
                }
                loaded
            }
        };
        Ok(Prepared {
            target_id: loaded.target_id.clone(),
            jobs: vec![self.job()],
            model_size_bytes: Some(loaded.size_bytes),
        })
    }

    async fn profile(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError> {
        let loaded = self.loaded_for(prepared)?;
        let feeds = if cases.is_empty() {
            vec![zero_feed(&loaded)?]
        } else {
            cases
                .iter()
                .map(|c| feed(&loaded, c))
                .collect::<Result<Vec<_>, _>>()?
        };
        let (warmup, repeats) = (settings.warmup_runs, settings.measurement_repeats.max(1));
        let _guard = self.run_lock.lock().await;
        let cancel = CancelOnDrop::default();
        let flag = cancel.0.clone();
        let l = loaded.clone();
        let work = tokio::task::spawn_blocking(move || {
            let reset = reset_peak_rss();
            let mut state = SimpleState::new(&l.plan).map_err(|e| run_error(&l, "", &e))?;
            let mut samples = Vec::with_capacity(feeds.len() * repeats as usize);
            for (case, tensors) in feeds {
                let inputs: TVec<TValue> = tensors.into_iter().map(TValue::from).collect();
                let case = case.as_str();
                for _ in 0..warmup {
                    check_cancel(&flag)?;
                    state
                        .run(inputs.clone())
                        .map_err(|e| run_error(&l, case, &e))?;
                }
                for _ in 0..repeats {
                    check_cancel(&flag)?;
                    let t = Instant::now();
                    let out = state.run(inputs.clone());
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    out.map_err(|e| run_error(&l, case, &e))?;
                    samples.push(ms);
                }
            }
            Ok::<_, DeviceError>((samples, peak_rss_bytes(), reset))
        });
        let (samples, peak, _reset) = tokio::time::timeout(settings.job_timeout, work)
            .await
            .map_err(|_| DeviceError::Timeout {
                what: "the profile run on the local CPU".into(),
                after: settings.job_timeout,
            })?
            .map_err(|e| DeviceError::Other(format!("the profile run panicked: {e}")))??;
        drop(cancel);
        Ok(ProfileResult {
            inference_ms: samples,
            load_time_ms: Some(loaded.load_time_ms),
            peak_memory_bytes: peak,
            layers: None,
            model_size_bytes: Some(loaded.size_bytes),
            jobs: vec![self.job()],
        })
    }

    async fn infer(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<InferResult, DeviceError> {
        let loaded = self.loaded_for(prepared)?;
        let feeds = cases
            .iter()
            .map(|c| feed(&loaded, c))
            .collect::<Result<Vec<_>, _>>()?;
        let _guard = self.run_lock.lock().await;
        let cancel = CancelOnDrop::default();
        let flag = cancel.0.clone();
        let l = loaded.clone();
        let work = tokio::task::spawn_blocking(move || {
            let mut state = SimpleState::new(&l.plan).map_err(|e| run_error(&l, "", &e))?;
            let mut outputs = Vec::with_capacity(feeds.len());
            for (case, tensors) in feeds {
                check_cancel(&flag)?;
                let inputs: TVec<TValue> = tensors.into_iter().map(TValue::from).collect();
                let t = Instant::now();
                let out = state.run(inputs);
                let ms = t.elapsed().as_secs_f64() * 1e3;
                let out = out.map_err(|e| run_error(&l, &case, &e))?;
                let named = l
                    .outputs
                    .iter()
                    .zip(out.iter())
                    .map(|(name, v)| {
                        from_tract(v).map(|t| (name.clone(), t)).map_err(|e| {
                            DeviceError::Other(format!(
                                "case `{case}`: output `{name}` cannot be read: {e}"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                outputs.push(CaseOutput {
                    case_id: case,
                    outputs: named,
                    latency_ms: Some(ms),
                });
            }
            Ok::<_, DeviceError>(outputs)
        });
        let outputs = tokio::time::timeout(settings.job_timeout, work)
            .await
            .map_err(|_| DeviceError::Timeout {
                what: "the inference run on the local CPU".into(),
                after: settings.job_timeout,
            })?
            .map_err(|e| DeviceError::Other(format!("the inference run panicked: {e}")))??;
        drop(cancel);
        Ok(InferResult {
            outputs,
            jobs: vec![self.job()],
        })
    }
}

/// An ONNX model loaded and planned for this CPU, for callers that need answers rather than
/// timings (the simulator's inference outputs). Every method blocks.
pub struct OnnxModel(Loaded);

impl OnnxModel {
    /// Loads, checks and optimises an ONNX file; errors are those of [`LocalDevice::prepare`].
    pub fn load(path: &Path) -> Result<Self, DeviceError> {
        load(path, &[], String::new()).map(Self)
    }

    /// Output names, in the model's order.
    pub fn output_names(&self) -> &[String] {
        &self.0.outputs
    }

    /// Runs the model once on named tensors (by name; by position for a single input).
    pub fn run(
        &self,
        case_id: &str,
        tensors: &[(String, Tensor)],
    ) -> Result<Vec<(String, Tensor)>, DeviceError> {
        let (_, inputs) = feed_tensors(&self.0, case_id, tensors)?;
        let inputs: TVec<TValue> = inputs.into_iter().map(TValue::from).collect();
        let out = self
            .0
            .plan
            .run(inputs)
            .map_err(|e| run_error(&self.0, case_id, &e))?;
        self.0
            .outputs
            .iter()
            .zip(out.iter())
            .map(|(name, v)| {
                from_tract(v).map(|t| (name.clone(), t)).map_err(|e| {
                    DeviceError::Other(format!("case `{case_id}`: output `{name}`: {e}"))
                })
            })
            .collect()
    }
}

/// Tells a blocking run to stop when the future that waits for it is dropped (timeout, Ctrl-C).
#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn check_cancel(flag: &AtomicBool) -> Result<(), DeviceError> {
    if flag.load(Ordering::Relaxed) {
        Err(DeviceError::Interrupted)
    } else {
        Ok(())
    }
}

fn run_error(l: &Loaded, case: &str, e: &tract_onnx::prelude::TractError) -> DeviceError {
    let which = if case.is_empty() {
        String::new()
    } else {
        format!("case `{case}`: ")
    };
    DeviceError::Other(format!(
        "{which}tract failed to run {}: {e:#}",
        l.path.display()
    ))
}

fn not_onnx(path: &Path, why: &str) -> DeviceError {
    DeviceError::InvalidModel(format!(
        "{} is not an ONNX model ({why}); export it to ONNX, or run it on an AI Hub device",
        path.display()
    ))
}

/// Reads, checks, optimises and plans an ONNX model; blocking.
fn load(
    path: &Path,
    specs: &[(String, Vec<usize>, DType)],
    target_id: String,
) -> Result<Loaded, DeviceError> {
    let started = Instant::now();
    let size_bytes = crate::files::check(path, "model", crate::files::ONNX_LIMIT)
        .map_err(|e| DeviceError::InvalidModel(format!("{e}; check `model.path`")))?;
    let onnx = tract_onnx::onnx();
    let proto = onnx
        .proto_model_for_path(path)
        .map_err(|e| not_onnx(path, &format!("{e:#}")))?;
    let graph = match &proto.graph {
        Some(g) if proto.ir_version > 0 && !g.output.is_empty() => g,
        _ => {
            return Err(not_onnx(
                path,
                "no ONNX graph with outputs found in the file",
            ));
        }
    };
    let mut unsupported: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for node in &graph.node {
        if !onnx.op_register.0.contains_key(&node.op_type) && seen.insert(node.op_type.clone()) {
            let domain = if node.domain.is_empty() {
                String::new()
            } else {
                format!(" (domain `{}`)", node.domain)
            };
            let at = if node.name.is_empty() {
                String::new()
            } else {
                format!(" at node `{}`", node.name)
            };
            unsupported.push(format!("`{}`{domain}{at}", node.op_type));
        }
    }
    if !unsupported.is_empty() {
        return Err(DeviceError::InvalidModel(format!(
            "{}: the local CPU engine (tract) cannot run operator{} {}; run this model on an AI Hub device, or re-export it without {}",
            path.display(),
            if unsupported.len() == 1 { "" } else { "s" },
            unsupported.join(", "),
            if unsupported.len() == 1 {
                "that operator"
            } else {
                "those operators"
            }
        )));
    }
    let output_names: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    let dir = path.parent().and_then(Path::to_str);
    let parsed = onnx.parse(&proto, dir).map_err(|e| {
        DeviceError::InvalidModel(format!(
            "{}: tract cannot read this ONNX graph: {e:#}; run it on an AI Hub device",
            path.display()
        ))
    })?;
    if !parsed.unresolved_inputs.is_empty() {
        return Err(DeviceError::InvalidModel(format!(
            "{}: the graph refers to values it never defines: {}",
            path.display(),
            parsed.unresolved_inputs.join(", ")
        )));
    }
    let mut model = parsed.model;
    let input_names: Vec<String> = model
        .input_outlets()
        .map_err(|e| DeviceError::InvalidModel(format!("{}: {e:#}", path.display())))?
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    if let Some((unknown, _, _)) = specs.iter().find(|(n, _, _)| !input_names.contains(n)) {
        return Err(DeviceError::InvalidInput(format!(
            "`model.input_specs` names input `{unknown}`, but {} has inputs {}; use the model's input names",
            path.display(),
            backticked(&input_names)
        )));
    }
    for (ix, name) in input_names.iter().enumerate() {
        if let Some((_, shape, dtype)) = specs.iter().find(|(n, _, _)| n == name) {
            let fact = InferenceFact::dt_shape(datum_type(*dtype), shape.clone());
            model
                .set_input_fact(ix, fact)
                .map_err(|e| DeviceError::InvalidModel(format!("{}: {e:#}", path.display())))?;
        }
    }
    let typed = model.into_optimized().map_err(|e| {
        DeviceError::InvalidModel(format!(
            "{}: tract cannot prepare this model for the CPU: {e:#}; if its input shapes are dynamic give `model.input_specs`, or run it on an AI Hub device",
            path.display()
        ))
    })?;
    let mut inputs = Vec::with_capacity(input_names.len());
    for (ix, name) in input_names.into_iter().enumerate() {
        let fact = typed
            .input_fact(ix)
            .map_err(|e| DeviceError::InvalidModel(format!("{}: {e:#}", path.display())))?;
        inputs.push(InputSig {
            name,
            dtype: our_dtype(fact.datum_type),
            dims: fact
                .shape
                .iter()
                .map(|d| d.to_i64().ok().and_then(|v| usize::try_from(v).ok()))
                .collect(),
        });
    }
    let plan = typed.into_runnable().map_err(|e| {
        DeviceError::InvalidModel(format!(
            "{}: tract cannot plan this model: {e:#}",
            path.display()
        ))
    })?;
    Ok(Loaded {
        target_id,
        path: path.to_owned(),
        plan,
        inputs,
        outputs: output_names,
        load_time_ms: started.elapsed().as_secs_f64() * 1e3,
        size_bytes,
    })
}

fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Matches a case's tensors to the model inputs (by name; by position for a single input) and
/// checks element type and shape.
fn feed(l: &Loaded, case: &CaseInputs) -> Result<(String, Vec<TractTensor>), DeviceError> {
    feed_tensors(l, &case.case_id, &case.tensors)
}

fn feed_tensors(
    l: &Loaded,
    id: &str,
    tensors: &[(String, Tensor)],
) -> Result<(String, Vec<TractTensor>), DeviceError> {
    let expected = || backticked(&l.inputs.iter().map(|i| i.name.clone()).collect::<Vec<_>>());
    if tensors.is_empty() {
        return Err(DeviceError::InvalidInput(format!(
            "case `{id}` gives no input tensors, but the model takes {}; add `inputs:` to the case",
            expected()
        )));
    }
    let single = l.inputs.len() == 1 && tensors.len() == 1;
    if !single
        && let Some((n, _)) = tensors
            .iter()
            .find(|(n, _)| !l.inputs.iter().any(|i| &i.name == n))
    {
        return Err(DeviceError::InvalidInput(format!(
            "case `{id}` gives input `{n}`, but the model's inputs are {}; rename it in the promptpack",
            expected()
        )));
    }
    let mut values = Vec::new();
    for sig in &l.inputs {
        let given = if single {
            tensors.first()
        } else {
            tensors.iter().find(|(n, _)| n == &sig.name)
        };
        let Some((given_name, t)) = given else {
            return Err(DeviceError::InvalidInput(format!(
                "case `{id}` does not give input `{}` ({}); add it to the case's `inputs:`",
                sig.name,
                sig.describe()
            )));
        };
        let label = if given_name == &sig.name {
            format!("input `{}`", sig.name)
        } else {
            format!("input `{given_name}` (fed to model input `{}`)", sig.name)
        };
        let shape_ok = t.shape().len() == sig.dims.len()
            && t.shape()
                .iter()
                .zip(&sig.dims)
                .all(|(g, w)| w.is_none_or(|w| w == *g));
        if Some(t.dtype()) != sig.dtype || !shape_ok {
            return Err(DeviceError::InvalidInput(format!(
                "case `{id}`, {label}: the model expects {} but the case gives {} {:?}; regenerate the input to match, or check that the promptpack belongs to this model",
                sig.describe(),
                t.dtype(),
                t.shape()
            )));
        }
        let tt = to_tract(t)
            .map_err(|e| DeviceError::InvalidInput(format!("case `{id}`, {label}: {e}")))?;
        values.push(tt);
    }
    Ok((id.to_owned(), values))
}

/// Zero tensors of every input's shape, for profiling a model whose config has no cases.
fn zero_feed(l: &Loaded) -> Result<(String, Vec<TractTensor>), DeviceError> {
    let mut values = Vec::new();
    for sig in &l.inputs {
        let dims: Option<Vec<usize>> = sig.dims.iter().copied().collect();
        let (Some(dims), Some(dtype)) = (dims, sig.dtype) else {
            return Err(DeviceError::InvalidInput(format!(
                "there are no cases to profile with and input `{}` has shape {}; add cases or give `model.input_specs`",
                sig.name,
                sig.describe()
            )));
        };
        let t = Tensor::zeros(dtype, dims).map_err(|e| DeviceError::InvalidInput(e.to_string()))?;
        let tt = to_tract(&t).map_err(DeviceError::InvalidInput)?;
        values.push(tt);
    }
    Ok(("zeros".to_owned(), values))
}

fn datum_type(d: DType) -> DatumType {
    match d {
        DType::F16 => DatumType::F16,
        DType::F32 => DatumType::F32,
        DType::I8 => DatumType::I8,
        DType::I16 => DatumType::I16,
        DType::I32 => DatumType::I32,
        DType::I64 => DatumType::I64,
        DType::U8 => DatumType::U8,
        DType::U16 => DatumType::U16,
        DType::Bool => DatumType::Bool,
    }
}

fn our_dtype(d: DatumType) -> Option<DType> {
    Some(match d {
        DatumType::F16 => DType::F16,
        DatumType::F32 => DType::F32,
        DatumType::I8 => DType::I8,
        DatumType::I16 => DType::I16,
        DatumType::I32 => DType::I32,
        DatumType::I64 => DType::I64,
        DatumType::U8 => DType::U8,
        DatumType::U16 => DType::U16,
        DatumType::Bool => DType::Bool,
        _ => return None,
    })
}

fn chunks<const N: usize>(data: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    data.chunks_exact(N).map(|c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        a
    })
}

/// Converts our tensor into tract's.
fn to_tract(t: &Tensor) -> Result<TractTensor, String> {
    let s = t.shape();
    let d = t.data();
    let r = match t.dtype() {
        DType::F16 => TractTensor::from_shape(
            s,
            &chunks::<2>(d)
                .map(half::f16::from_le_bytes)
                .collect::<Vec<_>>(),
        ),
        DType::F32 => TractTensor::from_shape(
            s,
            &chunks::<4>(d).map(f32::from_le_bytes).collect::<Vec<_>>(),
        ),
        DType::I8 => TractTensor::from_shape(s, &d.iter().map(|&b| b as i8).collect::<Vec<_>>()),
        DType::I16 => TractTensor::from_shape(
            s,
            &chunks::<2>(d).map(i16::from_le_bytes).collect::<Vec<_>>(),
        ),
        DType::I32 => TractTensor::from_shape(
            s,
            &chunks::<4>(d).map(i32::from_le_bytes).collect::<Vec<_>>(),
        ),
        DType::I64 => TractTensor::from_shape(
            s,
            &chunks::<8>(d).map(i64::from_le_bytes).collect::<Vec<_>>(),
        ),
        DType::U8 => TractTensor::from_shape(s, d),
        DType::U16 => TractTensor::from_shape(
            s,
            &chunks::<2>(d).map(u16::from_le_bytes).collect::<Vec<_>>(),
        ),
        DType::Bool => TractTensor::from_shape(s, &d.iter().map(|&b| b != 0).collect::<Vec<_>>()),
    };
    r.map_err(|e| format!("{e:#}"))
}

fn le<T, const N: usize>(t: &TractTensor, f: fn(T) -> [u8; N]) -> Result<Vec<u8>, String>
where
    T: tract_onnx::prelude::Datum + Copy,
{
    Ok(t.as_slice::<T>()
        .map_err(|e| format!("{e:#}"))?
        .iter()
        .flat_map(|v| f(*v))
        .collect())
}

/// Converts a tract output into our tensor; f64 becomes float32, u32/u64 become int64.
fn from_tract(v: &TValue) -> Result<Tensor, String> {
    let t: &TractTensor = v;
    let shape = t.shape().to_vec();
    let (dtype, data) = match t.datum_type() {
        DatumType::F16 => (DType::F16, le::<half::f16, 2>(t, half::f16::to_le_bytes)?),
        DatumType::F32 => (DType::F32, le::<f32, 4>(t, f32::to_le_bytes)?),
        DatumType::F64 => {
            let v = t.as_slice::<f64>().map_err(|e| format!("{e:#}"))?;
            (
                DType::F32,
                v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect(),
            )
        }
        DatumType::I8 => (DType::I8, le::<i8, 1>(t, i8::to_le_bytes)?),
        DatumType::I16 => (DType::I16, le::<i16, 2>(t, i16::to_le_bytes)?),
        DatumType::I32 => (DType::I32, le::<i32, 4>(t, i32::to_le_bytes)?),
        DatumType::I64 => (DType::I64, le::<i64, 8>(t, i64::to_le_bytes)?),
        DatumType::U8 => (DType::U8, le::<u8, 1>(t, u8::to_le_bytes)?),
        DatumType::U16 => (DType::U16, le::<u16, 2>(t, u16::to_le_bytes)?),
        DatumType::U32 => {
            let v = t.as_slice::<u32>().map_err(|e| format!("{e:#}"))?;
            (
                DType::I64,
                v.iter().flat_map(|x| i64::from(*x).to_le_bytes()).collect(),
            )
        }
        DatumType::U64 => {
            let v = t.as_slice::<u64>().map_err(|e| format!("{e:#}"))?;
            (
                DType::I64,
                v.iter().flat_map(|x| (*x as i64).to_le_bytes()).collect(),
            )
        }
        DatumType::Bool => {
            let v = t.as_slice::<bool>().map_err(|e| format!("{e:#}"))?;
            (DType::Bool, v.iter().map(|b| u8::from(*b)).collect())
        }
        other => return Err(format!("element type {other:?} is not supported")),
    };
    Tensor::new(dtype, shape, data).map_err(|e| e.to_string())
}

/// Resets the process's peak RSS so the next reading covers only what follows (Linux 4.0+).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident set size (`VmHWM`), in bytes, where `/proc` exists.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{Expected, Project, load_project};
    use crate::device::inputs::load_case_inputs;

    fn quickstart(config: &str) -> (Project, ModelArtifact, Vec<CaseInputs>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/quickstart")
            .join(config);
        let project = match load_project(&path) {
            Ok(p) => p,
            Err(f) => panic!("{:?}", f.diagnostics),
        };
        let model = artifact(&project.model_path, ModelKind::Onnx);
        let cases = load_case_inputs(&project, &model).unwrap();
        (project, model, cases)
    }

    fn artifact(path: &Path, kind: ModelKind) -> ModelArtifact {
        let bytes = std::fs::read(path).unwrap();
        ModelArtifact {
            path: path.to_owned(),
            kind,
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            size_bytes: bytes.len() as u64,
            input_specs: Default::default(),
        }
    }

    fn settings(warmup_runs: u32, measurement_repeats: u32) -> RunSettings {
        RunSettings {
            warmup_runs,
            measurement_repeats,
            job_timeout: Duration::from_secs(120),
        }
    }

    fn argmax(t: &Tensor) -> usize {
        let v = t.to_f64_vec();
        (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
    }

    async fn accuracy(config: &str) -> f64 {
        let (project, model, cases) = quickstart(config);
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        let result = dev.infer(&prepared, &cases, &settings(0, 1)).await.unwrap();
        let pack = project.promptpack.unwrap();
        assert_eq!(result.outputs.len(), pack.cases.len());
        let mut right = 0;
        for (out, case) in result.outputs.iter().zip(&pack.cases) {
            assert_eq!(out.case_id, case.case_id);
            assert_eq!(out.outputs.len(), 1);
            let (name, probs) = &out.outputs[0];
            assert_eq!(name, "probabilities");
            assert_eq!(probs.shape(), &[1, 10]);
            assert_eq!(probs.dtype(), DType::F32);
            let sum: f64 = probs.to_f64_vec().iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "softmax sums to {sum}");
            assert!(out.latency_ms.is_some_and(|ms| ms > 0.0));
            let Expected::Label { label, .. } = &case.expected else {
                panic!("quickstart cases expect labels");
            };
            if argmax(probs).to_string() == *label {
                right += 1;
            }
        }
        f64::from(right) / pack.cases.len() as f64
    }

    #[tokio::test]
    async fn quickstart_model_recognises_the_held_out_digits() {
        let good = accuracy("edgegate.yaml").await;
        assert!(good >= 0.95, "good model accuracy {good}");
    }

    #[tokio::test]
    async fn regressed_model_is_less_accurate() {
        let good = accuracy("edgegate.yaml").await;
        let bad = accuracy("edgegate-regressed.yaml").await;
        assert!(bad < good, "regressed {bad} vs good {good}");
        assert!(
            bad < 0.9,
            "regressed model accuracy {bad} should fail the 0.9 gate"
        );
    }

    #[tokio::test]
    async fn profile_times_every_repeat_of_every_case() {
        let (_, model, cases) = quickstart("edgegate.yaml");
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        assert_eq!(prepared.model_size_bytes, Some(model.size_bytes));
        assert_eq!(prepared.jobs[0].kind, JobKind::Local);
        let p = dev
            .profile(&prepared, &cases[..3], &settings(1, 4))
            .await
            .unwrap();
        assert_eq!(p.inference_ms.len(), 12);
        assert!(p.inference_ms.iter().all(|ms| *ms > 0.0 && *ms < 1000.0));
        assert!(p.load_time_ms.is_some_and(|ms| ms > 0.0));
        assert_eq!(p.model_size_bytes, Some(model.size_bytes));
        assert!(p.layers.is_none());
        if cfg!(target_os = "linux") {
            let peak = p.peak_memory_bytes.unwrap();
            assert!(peak > 1 << 20 && peak < 8 << 30, "{peak}");
        }
        let again = dev.prepare(&model).await.unwrap();
        assert_eq!(again.target_id, prepared.target_id);
        assert_ne!(again.jobs[0].id, prepared.jobs[0].id);
    }

    #[tokio::test]
    async fn profile_without_cases_runs_on_zero_tensors() {
        let (_, model, _) = quickstart("edgegate.yaml");
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        let p = dev.profile(&prepared, &[], &settings(0, 3)).await.unwrap();
        assert_eq!(p.inference_ms.len(), 3);
    }

    #[tokio::test]
    async fn wrong_shape_and_dtype_name_case_input_and_both_sides() {
        let (_, model, cases) = quickstart("edgegate.yaml");
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        let mut bad = cases[0].clone();
        bad.tensors[0].1 = Tensor::zeros(DType::F32, vec![1, 8, 8]).unwrap();
        let err = dev
            .infer(&prepared, &[bad.clone()], &settings(0, 1))
            .await
            .unwrap_err();
        let DeviceError::InvalidInput(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("case `digit_000`, input `image`"), "{msg}");
        assert!(msg.contains("expects float32 [1, 64]"), "{msg}");
        assert!(msg.contains("gives float32 [1, 8, 8]"), "{msg}");
        bad.tensors[0].1 = Tensor::zeros(DType::I64, vec![1, 64]).unwrap();
        let err = dev
            .profile(&prepared, &[bad.clone()], &settings(0, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidInput(m) if m.contains("gives int64 [1, 64]")),
            "{err:?}"
        );
        bad.tensors
            .push(("mask".into(), Tensor::zeros(DType::F32, vec![1]).unwrap()));
        let err = dev
            .infer(&prepared, &[bad], &settings(0, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidInput(m) if m.contains("gives input `mask`") && m.contains("`image`")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_onnx_is_an_invalid_model() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, "this is not a protobuf\n".repeat(10)).unwrap();
        let err = LocalDevice::new("host")
            .prepare(&artifact(&path, ModelKind::Onnx))
            .await
            .unwrap_err();
        let DeviceError::InvalidModel(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("model.onnx is not an ONNX model"), "{msg}");
        assert!(
            msg.contains("export it to ONNX, or run it on an AI Hub device"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_tflite_model_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.tflite");
        std::fs::write(&path, b"TFL3").unwrap();
        let err = LocalDevice::new("host")
            .prepare(&artifact(&path, ModelKind::Tflite))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidModel(m) if m.contains("is a tflite model") && m.contains("ONNX only")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_unknown_operator_is_named() {
        let (project, _, _) = quickstart("edgegate.yaml");
        let bytes = std::fs::read(&project.model_path).unwrap();
        let at = bytes.windows(7).position(|w| w == b"Softmax").unwrap();
        let mut patched = bytes.clone();
        patched[at..at + 7].copy_from_slice(b"FancyOp");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fancy.onnx");
        std::fs::write(&path, patched).unwrap();
        let err = LocalDevice::new("host")
            .prepare(&artifact(&path, ModelKind::Onnx))
            .await
            .unwrap_err();
        let DeviceError::InvalidModel(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("cannot run operator `FancyOp`"), "{msg}");
        assert!(msg.contains("AI Hub"), "{msg}");
    }

    #[tokio::test]
    async fn input_specs_must_use_the_model_input_names() {
        let (_, mut model, _) = quickstart("edgegate.yaml");
        model.input_specs.insert(
            "pixels".into(),
            crate::config::types::TensorSpec {
                shape: vec![1, 64],
                dtype: crate::config::types::Dtype::Float32,
            },
        );
        let err = LocalDevice::new("host").prepare(&model).await.unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidInput(m) if m.contains("`pixels`") && m.contains("`image`")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn profile_before_prepare_is_an_error_not_a_panic() {
        let dev = LocalDevice::new("host");
        let prepared = Prepared {
            target_id: "local-x".into(),
            jobs: vec![],
            model_size_bytes: None,
        };
        let err = dev
            .profile(&prepared, &[], &settings(0, 1))
            .await
            .unwrap_err();
        assert!(matches!(err, DeviceError::Other(_)), "{err:?}");
    }
}
