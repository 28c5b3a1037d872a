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
    /// The bytes are not a `.npy` file, or its header is malformed.
    #[error("not a valid .npy file: {0}")]
    NpyFormat(String),
    /// The header declares more data than the file holds.
    #[error(
        "the .npy header declares shape {shape:?} of {dtype} ({want} bytes of data) but the file holds only {got}"
    )]
    NpyTruncated {
        /// The element type.
        dtype: DType,
        /// The declared shape.
        shape: Vec<usize>,
        /// Bytes the shape needs.
        want: usize,
        /// Bytes present after the header.
        got: usize,
    },
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
    ///
    /// Nothing is allocated on the header's word alone: the header is at most
    /// [`MAX_NPY_HEADER_BYTES`], and the data buffer grows only with bytes actually read, so a
    /// header claiming a huge shape over a short file is an error, not an allocation.
    pub fn read_npy(mut reader: impl Read) -> Result<Self, TensorError> {
        let mut pre = [0u8; 8];
        reader
            .read_exact(&mut pre)
            .map_err(|e| eof_as(e, "shorter than the .npy preamble"))?;
        if &pre[..6] != NPY_MAGIC {
            return Err(TensorError::NpyFormat("no \\x93NUMPY magic".into()));
        }
        let header_len = match (pre[6], pre[7]) {
            (1, 0) => {
                let mut b = [0u8; 2];
                reader
                    .read_exact(&mut b)
                    .map_err(|e| eof_as(e, "truncated header length"))?;
                usize::from(u16::from_le_bytes(b))
            }
            (2 | 3, 0) => {
                let mut b = [0u8; 4];
                reader
                    .read_exact(&mut b)
                    .map_err(|e| eof_as(e, "truncated header length"))?;
                usize::try_from(u32::from_le_bytes(b)).unwrap_or(usize::MAX)
            }
            (major, minor) => {
                return Err(TensorError::NpyFormat(format!(
                    "unsupported format version {major}.{minor}"
                )));
            }
        };
        if header_len > MAX_NPY_HEADER_BYTES {
            return Err(TensorError::NpyFormat(format!(
                "the header is {header_len} bytes, more than the {MAX_NPY_HEADER_BYTES}-byte limit"
            )));
        }
        let header = read_at_most(&mut reader, header_len)?;
        if header.len() < header_len {
            return Err(TensorError::NpyFormat(format!(
                "the header is cut short ({} of {header_len} bytes)",
                header.len()
            )));
        }
        let header = std::str::from_utf8(&header)
            .map_err(|_| TensorError::NpyFormat("the header is not text".into()))?;
        let NpyHeader {
            descr,
            fortran_order,
            shape,
        } = NpyHeader::parse(header)?;
        let (dtype, big_endian) = npy_descr(&descr)?;
        if fortran_order && shape.iter().filter(|&&d| d > 1).count() > 1 {
            return Err(TensorError::FortranOrder);
        }
        let want = element_count(&shape)?
            .checked_mul(dtype.size())
            .ok_or_else(|| TensorError::TooLarge(shape.clone()))?;
        let mut data = read_at_most(&mut reader, want)?;
        if data.len() < want {
            return Err(TensorError::NpyTruncated {
                dtype,
                shape,
                want,
                got: data.len(),
            });
        }
        if big_endian {
            data.chunks_exact_mut(dtype.size())
                .for_each(<[u8]>::reverse);
        }
        if dtype == DType::Bool
            && let Some(bad) = data.iter().find(|&&b| b > 1)
        {
            return Err(TensorError::NpyFormat(format!(
                "a bool element holds {bad}, not 0 or 1"
            )));
        }
        Self::new(dtype, shape, data)
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

/// The first bytes of every `.npy` file.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// The largest `.npy` header read, as numpy's own loader (`max_header_size`) refuses larger ones.
pub const MAX_NPY_HEADER_BYTES: usize = 10_000;

fn eof_as(e: std::io::Error, what: &str) -> TensorError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        TensorError::NpyFormat(what.to_string())
    } else {
        TensorError::Io(e)
    }
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

/// Reads up to `limit` bytes; the buffer grows with what is read, never with `limit`.
fn read_at_most(reader: &mut impl Read, limit: usize) -> Result<Vec<u8>, TensorError> {
    let mut out = Vec::new();
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    reader.take(limit).read_to_end(&mut out)?;
    Ok(out)
}

/// The three keys of a `.npy` header dictionary.
struct NpyHeader {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

impl NpyHeader {
    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 64), }` (a Python literal),
    /// accepting exactly what numpy writes: those three keys, quoted strings, booleans and a
    /// tuple or list of non-negative integers.
    fn parse(text: &str) -> Result<Self, TensorError> {
        let bad = |what: &str| TensorError::NpyFormat(format!("malformed header: {what}"));
        let mut p = PyLiteral {
            s: text.as_bytes(),
            i: 0,
        };
        p.expect(b'{').ok_or_else(|| bad("expected `{`"))?;
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        loop {
            if p.eat(b'}') {
                break;
            }
            let key = p.string().ok_or_else(|| bad("expected a quoted key"))?;
            p.expect(b':').ok_or_else(|| bad("expected `:`"))?;
            match key.as_str() {
                "descr" if descr.is_none() => {
                    descr = Some(p.string().ok_or_else(|| {
                        TensorError::UnsupportedNpyType("a structured dtype".into())
                    })?);
                }
                "fortran_order" if fortran_order.is_none() => {
                    fortran_order = Some(
                        p.boolean()
                            .ok_or_else(|| bad("`fortran_order` is not True or False"))?,
                    );
                }
                "shape" if shape.is_none() => {
                    shape = Some(
                        p.dims()
                            .ok_or_else(|| bad("`shape` is not a tuple of sizes"))?,
                    );
                }
                other => return Err(bad(&format!("unexpected or repeated key `{other}`"))),
            }
            if !p.eat(b',') {
                p.expect(b'}').ok_or_else(|| bad("expected `,` or `}`"))?;
                break;
            }
        }
        if !p.rest_is_blank() {
            return Err(bad("text after the dictionary"));
        }
        Ok(Self {
            descr: descr.ok_or_else(|| bad("no `descr`"))?,
            fortran_order: fortran_order.ok_or_else(|| bad("no `fortran_order`"))?,
            shape: shape.ok_or_else(|| bad("no `shape`"))?,
        })
    }
}

/// A cursor over the Python literal of a `.npy` header; every method skips leading blanks.
struct PyLiteral<'a> {
    s: &'a [u8],
    i: usize,
}

impl PyLiteral<'_> {
    fn skip_blank(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_blank();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    fn string(&mut self) -> Option<String> {
        self.skip_blank();
        let quote = *self.s.get(self.i).filter(|q| matches!(q, b'\'' | b'"'))?;
        let start = self.i + 1;
        let len = self.s.get(start..)?.iter().position(|&c| c == quote)?;
        let body = self.s.get(start..start + len)?;
        if body.contains(&b'\\') {
            return None;
        }
        self.i = start + len + 1;
        String::from_utf8(body.to_vec()).ok()
    }

    fn word(&mut self, w: &str) -> bool {
        self.skip_blank();
        if self
            .s
            .get(self.i..)
            .is_some_and(|r| r.starts_with(w.as_bytes()))
        {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.word("True") {
            Some(true)
        } else if self.word("False") {
            Some(false)
        } else {
            None
        }
    }

    fn dims(&mut self) -> Option<Vec<usize>> {
        let close = if self.eat(b'(') {
            b')'
        } else if self.eat(b'[') {
            b']'
        } else {
            return None;
        };
        let mut dims = Vec::new();
        loop {
            if self.eat(close) {
                return Some(dims);
            }
            self.skip_blank();
            let digits = self
                .s
                .get(self.i..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            let text = std::str::from_utf8(self.s.get(self.i..self.i + digits)?).ok()?;
            dims.push(text.parse::<usize>().ok()?);
            self.i += digits;
            if self.s.get(self.i) == Some(&b'L') {
                self.i += 1;
            }
            if !self.eat(b',') {
                self.expect(close)?;
                return Some(dims);
            }
        }
    }

    fn rest_is_blank(&mut self) -> bool {
        self.skip_blank();
        self.i == self.s.len()
    }
}

/// The element type and byte order of a `descr` such as `<f4`, `>i8` or `|b1`.
fn npy_descr(descr: &str) -> Result<(DType, bool), TensorError> {
    let unsupported = || TensorError::UnsupportedNpyType(descr.to_string());
    let (big_endian, code) = match descr.as_bytes().first() {
        Some(b'<') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        Some(b'|') => (false, &descr[1..]),
        Some(b'=') => (cfg!(target_endian = "big"), &descr[1..]),
        _ => (false, descr),
    };
    let dtype = match code {
        "f2" | "e" => DType::F16,
        "f4" | "f" => DType::F32,
        "i1" | "b" => DType::I8,
        "i2" | "h" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" | "B" => DType::U8,
        "u2" | "H" => DType::U16,
        "b1" | "?" => DType::Bool,
        _ => return Err(unsupported()),
    };
    Ok((dtype, big_endian))
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

    /// A `.npy` file with a hand-written header (padded as numpy pads it) and `data`.
    fn npy(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut text = header.to_string();
        let pre = if version == 1 { 10 } else { 12 };
        while !(pre + text.len() + 1).is_multiple_of(64) {
            text.push(' ');
        }
        text.push('\n');
        let mut out = b"\x93NUMPY".to_vec();
        out.extend([version, 0]);
        if version == 1 {
            out.extend((text.len() as u16).to_le_bytes());
        } else {
            out.extend((text.len() as u32).to_le_bytes());
        }
        out.extend(text.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn numpy_headers_of_every_version_and_byte_order_are_read() {
        let le: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let be: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let want = Tensor::from_f32(vec![1, 2], &[1.5, -2.0]).unwrap();
        for (version, header, data) in [
            (
                1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                &le,
            ),
            (
                2,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                &le,
            ),
            (
                3,
                "{\"descr\": \">f4\", \"fortran_order\": False, \"shape\": [1L, 2L]}",
                &be,
            ),
            (
                1,
                "{'shape': (1, 2), 'fortran_order': True, 'descr': '<f4'}",
                &le,
            ),
        ] {
            let t = Tensor::read_npy(&npy(version, header, data)[..]).unwrap();
            assert_eq!(t, want, "{header}");
        }
        let scalar = npy(
            1,
            "{'descr': '|b1', 'fortran_order': False, 'shape': (), }",
            &[1],
        );
        let t = Tensor::read_npy(&scalar[..]).unwrap();
        assert_eq!(
            (t.dtype(), t.shape(), t.data()),
            (DType::Bool, &[][..], &[1u8][..])
        );
    }

    #[test]
    fn headers_claiming_more_than_the_file_holds_are_errors_before_any_allocation() {
        let huge = npy(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }",
            &[0; 16],
        );
        match Tensor::read_npy(&huge[..]).unwrap_err() {
            TensorError::NpyTruncated { want, got, .. } => assert_eq!((want, got), (1 << 42, 16)),
            e => panic!("{e}"),
        }
        let overflow = npy(
            1,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            &[],
        );
        assert!(matches!(
            Tensor::read_npy(&overflow[..]),
            Err(TensorError::TooLarge(_))
        ));
        let mut long_header = b"\x93NUMPY\x02\x00".to_vec();
        long_header.extend(u32::MAX.to_le_bytes());
        let e = Tensor::read_npy(&long_header[..]).unwrap_err().to_string();
        assert_eq!(
            e,
            "not a valid .npy file: the header is 4294967295 bytes, more than the 10000-byte limit"
        );
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        for (header, phrase) in [
            ("{'descr': '<f4', 'shape': (2,), }", "no `fortran_order`"),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
                "`fortran_order`",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
                "`shape`",
            ),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                "repeated key `descr`",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x",
                "text after",
            ),
            (
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
                "unsupported .npy element type",
            ),
            (
                "{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}",
                "`<c8`",
            ),
        ] {
            let e = Tensor::read_npy(&npy(1, header, &[0; 64])[..])
                .unwrap_err()
                .to_string();
            assert!(e.contains(phrase), "{header}: {e}");
        }
        let f = npy(
            1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}",
            &[0; 16],
        );
        assert!(matches!(
            Tensor::read_npy(&f[..]),
            Err(TensorError::FortranOrder)
        ));
        let b = npy(
            1,
            "{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}",
            &[1, 7],
        );
        assert!(
            Tensor::read_npy(&b[..])
                .unwrap_err()
                .to_string()
                .contains("holds 7")
        );
        assert!(
            Tensor::read_npy(&b"\x93NUMPY"[..])
                .unwrap_err()
                .to_string()
                .contains("preamble")
        );
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
