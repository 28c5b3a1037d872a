//! A small tensor: element type, shape and raw little-endian bytes, plus `.npy` read and write.
//!
//! It is the common currency of model inputs and outputs between promptpacks, AI Hub datasets
//! and the simulator; it does no arithmetic beyond what those need.

use std::io::{Read, Write};

use thiserror::Error;

/// The element types AI Hub datasets and `TensorType` accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// IEEE half precision.
    F16,
    /// IEEE single precision.
    F32,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// One byte per element, 0 or 1.
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

    /// Parses the numpy spelling, so configs and CLI flags can name a type.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
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
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self::new(DType::F32, shape, data)
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
        let sz = self.dtype.size();
        self.data
            .chunks_exact(sz)
            .map(|c| match self.dtype {
                DType::F16 => half::f16::from_le_bytes([c[0], c[1]]).to_f64(),
                DType::F32 => f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                DType::I8 => f64::from(c[0] as i8),
                DType::I16 => f64::from(i16::from_le_bytes([c[0], c[1]])),
                DType::I32 => f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                DType::I64 => {
                    i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64
                }
                DType::U8 | DType::Bool => f64::from(c[0]),
                DType::U16 => f64::from(u16::from_le_bytes([c[0], c[1]])),
            })
            .collect()
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
        let data: Vec<u8> = match dtype {
            DType::F16 => to_le(npy.into_vec::<half::f16>()?, half::f16::to_le_bytes),
            DType::F32 => to_le(npy.into_vec::<f32>()?, f32::to_le_bytes),
            DType::I8 => to_le(npy.into_vec::<i8>()?, i8::to_le_bytes),
            DType::I16 => to_le(npy.into_vec::<i16>()?, i16::to_le_bytes),
            DType::I32 => to_le(npy.into_vec::<i32>()?, i32::to_le_bytes),
            DType::I64 => to_le(npy.into_vec::<i64>()?, i64::to_le_bytes),
            DType::U8 => npy.into_vec::<u8>()?,
            DType::U16 => to_le(npy.into_vec::<u16>()?, u16::to_le_bytes),
            DType::Bool => npy.into_vec::<bool>()?.into_iter().map(u8::from).collect(),
        };
        Self::new(dtype, shape, data)
    }

    /// Writes the tensor as a little-endian, C-order `.npy` stream numpy can load.
    pub fn write_npy(&self, writer: impl Write) -> Result<(), TensorError> {
        let shape: Vec<u64> = self.shape.iter().map(|&d| d as u64).collect();
        let c = &self.data;
        match self.dtype {
            DType::F16 => write_typed(
                writer,
                &shape,
                c.chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]])),
            ),
            DType::F32 => write_typed(
                writer,
                &shape,
                c.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
            DType::I8 => write_typed(writer, &shape, c.iter().map(|&b| b as i8)),
            DType::I16 => write_typed(
                writer,
                &shape,
                c.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])),
            ),
            DType::I32 => write_typed(
                writer,
                &shape,
                c.chunks_exact(4)
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
            DType::I64 => write_typed(
                writer,
                &shape,
                c.chunks_exact(8)
                    .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
            ),
            DType::U8 => write_typed(writer, &shape, c.iter().copied()),
            DType::U16 => write_typed(
                writer,
                &shape,
                c.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])),
            ),
            DType::Bool => write_typed(writer, &shape, c.iter().map(|&b| b != 0)),
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

fn to_le<T, const N: usize>(values: Vec<T>, f: fn(T) -> [u8; N]) -> Vec<u8> {
    values.into_iter().flat_map(f).collect()
}

fn write_typed<T>(
    writer: impl Write,
    shape: &[u64],
    values: impl Iterator<Item = T>,
) -> Result<(), TensorError>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_roundtrip_keeps_type_shape_and_bytes() {
        for dtype in DType::ALL {
            let n = 6;
            let data: Vec<u8> = (0..n * dtype.size())
                .map(|i| {
                    if dtype == DType::Bool {
                        (i % 2) as u8
                    } else {
                        i as u8
                    }
                })
                .collect();
            let t = Tensor::new(dtype, vec![2, 3], data).unwrap();
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
