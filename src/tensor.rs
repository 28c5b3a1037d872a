//! A small tensor: element type, shape and raw little-endian bytes, plus `.npy` read and write.
//!
//! It is the common currency of model inputs and outputs between promptpacks, AI Hub datasets
//! and the simulator; it does no arithmetic beyond what those need. [`Tensor::values`] is the one
//! decoder of the little-endian bytes and [`Tensor::from_values`] the one encoder; every format
//! (`.npy`, HDF5, tract) goes through them. Imports nothing of the crate.

use std::io::{Read, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Element type of a tensor.
// The one element type of the crate: the config's `dtype:` (serde names and schema below),
// tensors, `.npy` files, AI Hub datasets and protocol messages, and tract all convert at their
// edge. Variants are listed in the config schema's order and carry no doc comments, which
// schemars would turn into a `oneOf` and so change the committed schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "Dtype")]
pub enum DType {
    // IEEE single precision.
    #[default]
    #[serde(rename = "float32")]
    F32,
    // IEEE half precision.
    #[serde(rename = "float16")]
    F16,
    // Signed 8-bit integer.
    #[serde(rename = "int8")]
    I8,
    // Unsigned 8-bit integer.
    #[serde(rename = "uint8")]
    U8,
    // Signed 16-bit integer.
    #[serde(rename = "int16")]
    I16,
    // Unsigned 16-bit integer.
    #[serde(rename = "uint16")]
    U16,
    // Signed 32-bit integer.
    #[serde(rename = "int32")]
    I32,
    // Signed 64-bit integer.
    #[serde(rename = "int64")]
    I64,
    // One byte per element, 0 or 1.
    #[serde(rename = "bool")]
    Bool,
}

impl DType {
    /// Every supported element type, so callers can iterate without repeating the list.
    pub const ALL: [DType; 9] = [
        DType::F16,
        DType::F32,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::Bool,
    ];

    /// Bytes per element, to size and check raw buffers.
    pub fn size(self) -> usize {
        match self {
            DType::I8 | DType::U8 | DType::Bool => 1,
            DType::F16 | DType::I16 | DType::U16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::I64 => 8,
        }
    }

    /// The numpy spelling, as users write it in configs and as errors show it.
    pub fn name(self) -> &'static str {
        match self {
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::Bool => "bool",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a tensor could not be built, read or written.
#[derive(Debug, Error)]
pub enum TensorError {
    /// The byte count does not match shape × element size.
    #[error("tensor data has {got} bytes but shape {shape:?} of {dtype} needs {want}")]
    SizeMismatch {
        /// The element type.
        dtype: DType,
        /// The declared shape.
        shape: Vec<usize>,
        /// Bytes the shape needs.
        want: usize,
        /// Bytes supplied.
        got: usize,
    },
    /// The shape's element count overflows `usize`.
    #[error("tensor shape {0:?} is too large")]
    TooLarge(Vec<usize>),
    /// The `.npy` file holds a type EdgeGate does not support.
    #[error(
        "unsupported .npy element type `{0}` (supported: float16, float32, bool, int8, int16, int32, int64, uint8, uint16)"
    )]
    UnsupportedNpyType(String),
    /// The `.npy` file is in Fortran order.
    #[error(
        "Fortran-ordered .npy files are not supported; save the array with numpy's default C order"
    )]
    FortranOrder,
    /// Reading or writing the `.npy` bytes failed.
    #[error("failed to read or write .npy data")]
    Io(#[from] std::io::Error),
}

/// A dense, row-major tensor whose data is stored as raw little-endian bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    dtype: DType,
    shape: Vec<usize>,
    data: Vec<u8>,
}

/// A tensor's elements decoded from its little-endian bytes, one variant per [`DType`].
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    F16(Vec<half::f16>),
    F32(Vec<f32>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

fn element_count(shape: &[usize]) -> Result<usize, TensorError> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| TensorError::TooLarge(shape.to_vec()))
}

impl Tensor {
    /// Builds a tensor from raw little-endian bytes, checking the length against the shape.
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> Result<Self, TensorError> {
        let want = element_count(&shape)?
            .checked_mul(dtype.size())
            .ok_or_else(|| TensorError::TooLarge(shape.clone()))?;
        if want != data.len() {
            return Err(TensorError::SizeMismatch {
                dtype,
                shape,
                want,
                got: data.len(),
            });
        }
        Ok(Self { dtype, shape, data })
    }

    /// An all-zero tensor, the neutral default for synthetic inputs and outputs.
    pub fn zeros(dtype: DType, shape: Vec<usize>) -> Result<Self, TensorError> {
        let len = element_count(&shape)?
            .checked_mul(dtype.size())
            .ok_or_else(|| TensorError::TooLarge(shape.clone()))?;
        Ok(Self {
            dtype,
            shape,
            data: vec![0; len],
        })
    }

    /// Builds a float32 tensor from values, the common case in tests and examples.
    pub fn from_f32(shape: Vec<usize>, values: &[f32]) -> Result<Self, TensorError> {
        Self::from_values(shape, Values::F32(values.to_vec()))
    }

    /// Builds a tensor from typed elements, encoding them as little-endian bytes.
    pub fn from_values(shape: Vec<usize>, values: Values) -> Result<Self, TensorError> {
        let (dtype, data) = match values {
            Values::F16(v) => (DType::F16, to_le(v, half::f16::to_le_bytes)),
            Values::F32(v) => (DType::F32, to_le(v, f32::to_le_bytes)),
            Values::I8(v) => (DType::I8, to_le(v, i8::to_le_bytes)),
            Values::U8(v) => (DType::U8, v),
            Values::I16(v) => (DType::I16, to_le(v, i16::to_le_bytes)),
            Values::U16(v) => (DType::U16, to_le(v, u16::to_le_bytes)),
            Values::I32(v) => (DType::I32, to_le(v, i32::to_le_bytes)),
            Values::I64(v) => (DType::I64, to_le(v, i64::to_le_bytes)),
            Values::Bool(v) => (DType::Bool, v.into_iter().map(u8::from).collect()),
        };
        Self::new(dtype, shape, data)
    }

    /// The elements as their own type, decoded from the little-endian bytes.
    pub fn values(&self) -> Values {
        let d = &self.data;
        match self.dtype {
            DType::F16 => Values::F16(from_le(d, half::f16::from_le_bytes)),
            DType::F32 => Values::F32(from_le(d, f32::from_le_bytes)),
            DType::I8 => Values::I8(from_le(d, i8::from_le_bytes)),
            DType::U8 => Values::U8(d.clone()),
            DType::I16 => Values::I16(from_le(d, i16::from_le_bytes)),
            DType::U16 => Values::U16(from_le(d, u16::from_le_bytes)),
            DType::I32 => Values::I32(from_le(d, i32::from_le_bytes)),
            DType::I64 => Values::I64(from_le(d, i64::from_le_bytes)),
            DType::Bool => Values::Bool(d.iter().map(|&b| b != 0).collect()),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The dimensions, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The raw little-endian bytes, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Every element converted to f64, so comparisons (atol, cosine) work across types.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        fn all<T>(v: Vec<T>, f: impl Fn(T) -> f64) -> Vec<f64> {
            v.into_iter().map(f).collect()
        }
        match self.values() {
            Values::F16(v) => all(v, half::f16::to_f64),
            Values::F32(v) => all(v, f64::from),
            Values::I8(v) => all(v, f64::from),
            Values::U8(v) => all(v, f64::from),
            Values::I16(v) => all(v, f64::from),
            Values::U16(v) => all(v, f64::from),
            Values::I32(v) => all(v, f64::from),
            Values::I64(v) => all(v, |x| x as f64),
            Values::Bool(v) => all(v, |b| f64::from(u8::from(b))),
        }
    }

    /// Reads a `.npy` stream (C order, little- or big-endian) into a tensor.
    pub fn read_npy(reader: impl Read) -> Result<Self, TensorError> {
        let npy = npyz::NpyFile::new(reader)?;
        if npy.order() == npyz::Order::Fortran {
            return Err(TensorError::FortranOrder);
        }
        let shape: Vec<usize> = npy
            .shape()
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| TensorError::TooLarge(vec![])))
            .collect::<Result<_, _>>()?;
        let dtype = match npy.dtype() {
            npyz::DType::Plain(ts) => npy_dtype(&ts)?,
            other => return Err(TensorError::UnsupportedNpyType(other.descr())),
        };
        let values = match dtype {
            DType::F16 => Values::F16(npy.into_vec()?),
            DType::F32 => Values::F32(npy.into_vec()?),
            DType::I8 => Values::I8(npy.into_vec()?),
            DType::U8 => Values::U8(npy.into_vec()?),
            DType::I16 => Values::I16(npy.into_vec()?),
            DType::U16 => Values::U16(npy.into_vec()?),
            DType::I32 => Values::I32(npy.into_vec()?),
            DType::I64 => Values::I64(npy.into_vec()?),
            DType::Bool => Values::Bool(npy.into_vec()?),
        };
        Self::from_values(shape, values)
    }

    /// Writes the tensor as a little-endian, C-order `.npy` stream numpy can load.
    pub fn write_npy(&self, writer: impl Write) -> Result<(), TensorError> {
        let shape: Vec<u64> = self.shape.iter().map(|&d| d as u64).collect();
        match self.values() {
            Values::F16(v) => write_typed(writer, &shape, v),
            Values::F32(v) => write_typed(writer, &shape, v),
            Values::I8(v) => write_typed(writer, &shape, v),
            Values::U8(v) => write_typed(writer, &shape, v),
            Values::I16(v) => write_typed(writer, &shape, v),
            Values::U16(v) => write_typed(writer, &shape, v),
            Values::I32(v) => write_typed(writer, &shape, v),
            Values::I64(v) => write_typed(writer, &shape, v),
            Values::Bool(v) => write_typed(writer, &shape, v),
        }
    }
}

fn npy_dtype(ts: &npyz::TypeStr) -> Result<DType, TensorError> {
    use npyz::TypeChar;
    let dtype = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 2) => DType::F16,
        (TypeChar::Float, 4) => DType::F32,
        (TypeChar::Int, 1) => DType::I8,
        (TypeChar::Int, 2) => DType::I16,
        (TypeChar::Int, 4) => DType::I32,
        (TypeChar::Int, 8) => DType::I64,
        (TypeChar::Uint, 1) => DType::U8,
        (TypeChar::Uint, 2) => DType::U16,
        (TypeChar::Bool, 1) => DType::Bool,
        _ => return Err(TensorError::UnsupportedNpyType(ts.to_string())),
    };
    Ok(dtype)
}

/// The one little-endian decoder: `N`-byte chunks into elements.
fn from_le<T, const N: usize>(data: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            f(a)
        })
        .collect()
}

/// The one little-endian encoder: elements into their bytes, in order.
fn to_le<T, const N: usize>(values: Vec<T>, f: fn(T) -> [u8; N]) -> Vec<u8> {
    values.into_iter().flat_map(f).collect()
}

fn write_typed<T>(writer: impl Write, shape: &[u64], values: Vec<T>) -> Result<(), TensorError>
where
    T: npyz::AutoSerialize,
{
    use npyz::WriterBuilder;
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(writer)
        .begin_nd()?;
    w.extend(values)?;
    w.finish()?;
    Ok(())
}

/// A tensor whose bytes count up (bools alternate), so a conversion that reorders, truncates or
/// retypes elements shows in a comparison.
#[cfg(test)]
pub(crate) fn counting(dtype: DType, shape: Vec<usize>) -> Tensor {
    let n: usize = shape.iter().product();
    let data = (0..n * dtype.size())
        .map(|i| {
            if dtype == DType::Bool {
                (i % 2) as u8
            } else {
                i as u8
            }
        })
        .collect();
    Tensor { dtype, shape, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_roundtrip_keeps_type_shape_and_bytes() {
        for dtype in DType::ALL {
            let t = counting(dtype, vec![2, 3]);
            let mut buf = Vec::new();
            t.write_npy(&mut buf).unwrap();
            assert_eq!(&buf[..6], b"\x93NUMPY");
            let back = Tensor::read_npy(&buf[..]).unwrap();
            assert_eq!(back, t, "{dtype}");
        }
    }

    #[test]
    fn size_mismatch_is_an_error_not_a_panic() {
        let err = Tensor::new(DType::F32, vec![2, 2], vec![0; 15]).unwrap_err();
        assert!(err.to_string().contains("needs 16"), "{err}");
    }

    #[test]
    fn to_f64_reads_every_type() {
        let t = Tensor::from_f32(vec![2], &[1.5, -2.0]).unwrap();
        assert_eq!(t.to_f64_vec(), vec![1.5, -2.0]);
        let t = Tensor::new(DType::I16, vec![1], (-3i16).to_le_bytes().to_vec()).unwrap();
        assert_eq!(t.to_f64_vec(), vec![-3.0]);
    }
}
