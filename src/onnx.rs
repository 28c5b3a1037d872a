//! Running an ONNX model with tract (pure Rust, nothing to download): load and check a file,
//! match tensors to its inputs, run it, read its outputs. The local device times it, the
//! simulator asks it for answers; this file knows tensors only, never devices, HTTP or the engine.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use thiserror::Error;
use tract_onnx::prelude::{
    Datum, DatumType, Framework, InferenceFact, InferenceModelExt, SimpleState, TValue, TVec,
    Tensor as TractTensor, TractError, TypedModel, TypedSimplePlan, TypedSimpleState,
};

use crate::tensor::{DType, Tensor, Values};

/// Why a model could not be loaded or run; each message names the file or case and what to do.
#[derive(Debug, Clone, Error)]
pub enum OnnxError {
    /// The file is not ONNX, uses an operator tract cannot run, or cannot be planned.
    #[error("{0}")]
    InvalidModel(String),
    /// Tensors (or input specs) that do not fit the model's inputs.
    #[error("{0}")]
    InvalidInput(String),
    /// tract failed while running, or an output cannot be read.
    #[error("{0}")]
    Run(String),
}

/// A shape and element type to fix on a model input, for models whose inputs are dynamic.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// The model input's name.
    pub name: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Its element type.
    pub dtype: DType,
}

/// An ONNX model loaded, optimised and planned for this CPU once. Every method blocks.
pub struct OnnxModel {
    path: PathBuf,
    plan: TypedSimplePlan<TypedModel>,
    inputs: Vec<InputSig>,
    outputs: Vec<String>,
    load_time_ms: f64,
    size_bytes: u64,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
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

/// One case's tensors checked against the model's inputs, ready to be sent to a blocking thread.
#[derive(Debug)]
pub struct Feed {
    case: String,
    tensors: Vec<TractTensor>,
}

impl Feed {
    /// The case these tensors belong to.
    pub fn case(&self) -> &str {
        &self.case
    }

    /// The tensors as run inputs, cheap to run many times.
    pub fn into_inputs(self) -> Inputs {
        Inputs {
            values: self.tensors.into_iter().map(TValue::from).collect(),
            case: self.case,
        }
    }
}

/// A case's inputs as the runner takes them; running clones only handles, never the data.
pub struct Inputs {
    case: String,
    values: TVec<TValue>,
}

/// What one run produced, read into tensors by [`OnnxModel::read_outputs`].
pub struct Outputs(TVec<TValue>);

/// Repeated runs of one model on one thread, reusing the execution state between runs.
pub struct Session<'m> {
    model: &'m OnnxModel,
    state: TypedSimpleState<TypedModel, &'m TypedSimplePlan<TypedModel>>,
}

impl Session<'_> {
    /// Runs the model once; only the run itself happens here, so callers can time it.
    pub fn run(&mut self, inputs: &Inputs) -> Result<Outputs, OnnxError> {
        self.state
            .run(inputs.values.clone())
            .map(Outputs)
            .map_err(|e| run_error(&self.model.path, &inputs.case, &e))
    }
}

impl OnnxModel {
    /// Reads, checks, optimises and plans an ONNX file, with the shapes and dtypes of `specs`
    /// fixed on the inputs they name; blocking.
    pub fn load(path: &Path, specs: &[InputSpec]) -> Result<Self, OnnxError> {
        let started = Instant::now();
        let size_bytes = crate::files::check(path, "model", crate::files::ONNX_LIMIT)
            .map_err(|e| OnnxError::InvalidModel(format!("{e}; check `model.path`")))?;
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
            if !onnx.op_register.0.contains_key(&node.op_type) && seen.insert(node.op_type.clone())
            {
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
            return Err(OnnxError::InvalidModel(format!(
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
            OnnxError::InvalidModel(format!(
                "{}: tract cannot read this ONNX graph: {e:#}; run it on an AI Hub device",
                path.display()
            ))
        })?;
        if !parsed.unresolved_inputs.is_empty() {
            return Err(OnnxError::InvalidModel(format!(
                "{}: the graph refers to values it never defines: {}",
                path.display(),
                parsed.unresolved_inputs.join(", ")
            )));
        }
        let mut model = parsed.model;
        let input_names: Vec<String> = model
            .input_outlets()
            .map_err(|e| OnnxError::InvalidModel(format!("{}: {e:#}", path.display())))?
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect();
        if let Some(InputSpec { name: unknown, .. }) =
            specs.iter().find(|s| !input_names.contains(&s.name))
        {
            return Err(OnnxError::InvalidInput(format!(
                "`model.input_specs` names input `{unknown}`, but {} has inputs {}; use the model's input names",
                path.display(),
                backticked(&input_names)
            )));
        }
        for (ix, name) in input_names.iter().enumerate() {
            if let Some(spec) = specs.iter().find(|s| &s.name == name) {
                let fact = InferenceFact::dt_shape(datum_type(spec.dtype), spec.shape.clone());
                model
                    .set_input_fact(ix, fact)
                    .map_err(|e| OnnxError::InvalidModel(format!("{}: {e:#}", path.display())))?;
            }
        }
        let typed = model.into_optimized().map_err(|e| {
            OnnxError::InvalidModel(format!(
                "{}: tract cannot prepare this model for the CPU: {e:#}; if its input shapes are dynamic give `model.input_specs`, or run it on an AI Hub device",
                path.display()
            ))
        })?;
        let mut inputs = Vec::with_capacity(input_names.len());
        for (ix, name) in input_names.into_iter().enumerate() {
            let fact = typed
                .input_fact(ix)
                .map_err(|e| OnnxError::InvalidModel(format!("{}: {e:#}", path.display())))?;
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
            OnnxError::InvalidModel(format!(
                "{}: tract cannot plan this model: {e:#}",
                path.display()
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            plan,
            inputs,
            outputs: output_names,
            load_time_ms: started.elapsed().as_secs_f64() * 1e3,
            size_bytes,
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Each input's name, element type (`None` when EdgeGate has no such type) and dimensions
    /// (`None` where symbolic), in the model's order.
    pub fn input_sigs(&self) -> Vec<(String, Option<DType>, Vec<Option<usize>>)> {
        self.inputs
            .iter()
            .map(|i| (i.name.clone(), i.dtype, i.dims.clone()))
            .collect()
    }

    /// Output names, in the model's order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Wall-clock time of reading, parsing, optimising and planning.
    pub fn load_time_ms(&self) -> f64 {
        self.load_time_ms
    }

    /// Size of the file in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// Matches one case's tensors to the model inputs (by name; by position for a single input)
    /// and checks element type and shape.
    pub fn feed(&self, id: &str, tensors: &[(String, Tensor)]) -> Result<Feed, OnnxError> {
        let expected = || {
            backticked(
                &self
                    .inputs
                    .iter()
                    .map(|i| i.name.clone())
                    .collect::<Vec<_>>(),
            )
        };
        if tensors.is_empty() {
            return Err(OnnxError::InvalidInput(format!(
                "case `{id}` gives no input tensors, but the model takes {}; add `inputs:` to the case",
                expected()
            )));
        }
        let single = self.inputs.len() == 1 && tensors.len() == 1;
        if !single
            && let Some((n, _)) = tensors
                .iter()
                .find(|(n, _)| !self.inputs.iter().any(|i| &i.name == n))
        {
            return Err(OnnxError::InvalidInput(format!(
                "case `{id}` gives input `{n}`, but the model's inputs are {}; rename it in the promptpack",
                expected()
            )));
        }
        let mut values = Vec::new();
        for sig in &self.inputs {
            let given = if single {
                tensors.first()
            } else {
                tensors.iter().find(|(n, _)| n == &sig.name)
            };
            let Some((given_name, t)) = given else {
                return Err(OnnxError::InvalidInput(format!(
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
                return Err(OnnxError::InvalidInput(format!(
                    "case `{id}`, {label}: the model expects {} but the case gives {} {:?}; regenerate the input to match, or check that the promptpack belongs to this model",
                    sig.describe(),
                    t.dtype(),
                    t.shape()
                )));
            }
            let tt = to_tract(t)
                .map_err(|e| OnnxError::InvalidInput(format!("case `{id}`, {label}: {e}")))?;
            values.push(tt);
        }
        Ok(Feed {
            case: id.to_owned(),
            tensors: values,
        })
    }

    /// Zero tensors of every input's shape, for profiling a model whose config has no cases.
    pub fn zero_feed(&self) -> Result<Feed, OnnxError> {
        let mut values = Vec::new();
        for sig in &self.inputs {
            let dims: Option<Vec<usize>> = sig.dims.iter().copied().collect();
            let (Some(dims), Some(dtype)) = (dims, sig.dtype) else {
                return Err(OnnxError::InvalidInput(format!(
                    "there are no cases to profile with and input `{}` has shape {}; add cases or give `model.input_specs`",
                    sig.name,
                    sig.describe()
                )));
            };
            let t =
                Tensor::zeros(dtype, dims).map_err(|e| OnnxError::InvalidInput(e.to_string()))?;
            let tt = to_tract(&t).map_err(OnnxError::InvalidInput)?;
            values.push(tt);
        }
        Ok(Feed {
            case: "zeros".to_owned(),
            tensors: values,
        })
    }

    /// A runner for repeated runs on this thread.
    pub fn session(&self) -> Result<Session<'_>, OnnxError> {
        let state = SimpleState::new(&self.plan).map_err(|e| run_error(&self.path, "", &e))?;
        Ok(Session { model: self, state })
    }

    /// The outputs of a run as named tensors, in the model's order.
    pub fn read_outputs(
        &self,
        case: &str,
        out: Outputs,
    ) -> Result<Vec<(String, Tensor)>, OnnxError> {
        self.outputs
            .iter()
            .zip(out.0.iter())
            .map(|(name, v)| {
                from_tract(v).map(|t| (name.clone(), t)).map_err(|e| {
                    OnnxError::Run(format!(
                        "case `{case}`: output `{name}` cannot be read: {e}"
                    ))
                })
            })
            .collect()
    }

    /// Runs the model once on named tensors (by name; by position for a single input).
    pub fn run(
        &self,
        case_id: &str,
        tensors: &[(String, Tensor)],
    ) -> Result<Vec<(String, Tensor)>, OnnxError> {
        let inputs = self.feed(case_id, tensors)?.into_inputs();
        let out = self
            .plan
            .run(inputs.values)
            .map_err(|e| run_error(&self.path, case_id, &e))?;
        self.read_outputs(case_id, Outputs(out))
    }
}

fn run_error(path: &Path, case: &str, e: &TractError) -> OnnxError {
    let which = if case.is_empty() {
        String::new()
    } else {
        format!("case `{case}`: ")
    };
    OnnxError::Run(format!(
        "{which}tract failed to run {}: {e:#}",
        path.display()
    ))
}

fn not_onnx(path: &Path, why: &str) -> OnnxError {
    OnnxError::InvalidModel(format!(
        "{} is not an ONNX model ({why}); export it to ONNX, or run it on an AI Hub device",
        path.display()
    ))
}

fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// Converts our tensor into tract's.
fn to_tract(t: &Tensor) -> Result<TractTensor, String> {
    let s = t.shape();
    let r = match t.values() {
        Values::F16(v) => TractTensor::from_shape(s, &v),
        Values::F32(v) => TractTensor::from_shape(s, &v),
        Values::I8(v) => TractTensor::from_shape(s, &v),
        Values::U8(v) => TractTensor::from_shape(s, &v),
        Values::I16(v) => TractTensor::from_shape(s, &v),
        Values::U16(v) => TractTensor::from_shape(s, &v),
        Values::I32(v) => TractTensor::from_shape(s, &v),
        Values::I64(v) => TractTensor::from_shape(s, &v),
        Values::Bool(v) => TractTensor::from_shape(s, &v),
    };
    r.map_err(|e| format!("{e:#}"))
}

/// Converts a tract output into our tensor; f64 becomes float32, u32/u64 become int64.
fn from_tract(v: &TValue) -> Result<Tensor, String> {
    fn all<T: Datum + Copy, U>(t: &TractTensor, f: impl Fn(T) -> U) -> Result<Vec<U>, String> {
        Ok(t.as_slice::<T>()
            .map_err(|e| format!("{e:#}"))?
            .iter()
            .map(|v| f(*v))
            .collect())
    }
    let t: &TractTensor = v;
    let values = match t.datum_type() {
        DatumType::F16 => Values::F16(all(t, |x: half::f16| x)?),
        DatumType::F32 => Values::F32(all(t, |x: f32| x)?),
        DatumType::F64 => Values::F32(all(t, |x: f64| x as f32)?),
        DatumType::I8 => Values::I8(all(t, |x: i8| x)?),
        DatumType::I16 => Values::I16(all(t, |x: i16| x)?),
        DatumType::I32 => Values::I32(all(t, |x: i32| x)?),
        DatumType::I64 => Values::I64(all(t, |x: i64| x)?),
        DatumType::U8 => Values::U8(all(t, |x: u8| x)?),
        DatumType::U16 => Values::U16(all(t, |x: u16| x)?),
        DatumType::U32 => Values::I64(all(t, |x: u32| i64::from(x))?),
        DatumType::U64 => Values::I64(all(t, |x: u64| x as i64)?),
        DatumType::Bool => Values::Bool(all(t, |x: bool| x)?),
        other => return Err(format!("element type {other:?} is not supported")),
    };
    Tensor::from_values(t.shape().to_vec(), values).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dtype_survives_the_trip_through_tract() {
        for dtype in DType::ALL {
            let t = crate::tensor::counting(dtype, vec![3]);
            let tract = to_tract(&t).expect("to tract");
            let back = from_tract(&TValue::from(tract)).expect("from tract");
            assert_eq!(back, t, "{dtype}");
        }
    }

    #[test]
    fn a_session_runs_a_feed_and_names_the_outputs() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/model.onnx");
        let model = OnnxModel::load(&path, &[]).expect("quickstart model");
        let zeros = Tensor::zeros(DType::F32, vec![1, 64]).expect("zeros");
        let inputs = model
            .feed("c", &[("image".into(), zeros)])
            .expect("fits")
            .into_inputs();
        let mut session = model.session().expect("session");
        let out = session.run(&inputs).expect("runs");
        let named = model.read_outputs("c", out).expect("readable");
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, "probabilities");
        assert_eq!(named[0].1.shape(), &[1, 10]);
        let wrong = Tensor::zeros(DType::F32, vec![1, 4]).expect("zeros");
        let err = model.feed("c", &[("image".into(), wrong)]).unwrap_err();
        assert!(
            matches!(&err, OnnxError::InvalidInput(m) if m.contains("expects float32 [1, 64]")),
            "{err:?}"
        );
    }
}
