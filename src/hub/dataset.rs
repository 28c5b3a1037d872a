//! AI Hub dataset files: named tensors with N samples each, in the HDF5 layout the official client
//! writes and reads (protocol notes §3.3).
//!
//! ```text
//! /data/<i>            group; attrs name (UTF-8 string), order (int64) = i, batch_count (int64) = N
//! /data/<i>/batch_<j>  one sample, gzip-compressed, j = 0..N-1
//! ```
//! Inputs uploaded by a client and outputs returned by AI Hub (or the simulator) share the layout.
//! This module only converts between files and tensors; it knows nothing of HTTP.

use std::path::Path;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5_metno as hdf5;
use thiserror::Error;

use crate::tensor::{DType, Tensor, TensorError, Values};

/// The gzip level used for every sample, as the official client uses gzip.
const GZIP_LEVEL: u8 = 4;
/// The largest sample read, so a file declaring a huge shape is refused instead of exhausting memory.
pub const MAX_SAMPLE_BYTES: usize = 4 << 30;
/// Deflate never inflates data by more than this factor (zlib's limit is about 1032:1), so a
/// deflated sample larger than its stored bytes times this is a lie of the header.
pub const DEFLATE_MAX_RATIO: u64 = 1032;

/// One named input or output with its samples (AI Hub calls a sample a batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedSamples {
    /// The tensor name, e.g. the model input `image`.
    pub name: String,
    /// One tensor per sample, in order.
    pub samples: Vec<Tensor>,
}

/// Why a dataset file could not be written or read.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// The HDF5 library reported an error (bad file, I/O).
    #[error("HDF5 error: {0}")]
    Hdf5(#[from] hdf5::Error),
    /// The file is valid HDF5 but not in the AI Hub dataset layout.
    #[error("not an AI Hub dataset: {0}")]
    Layout(String),
    /// A sample does not form a valid tensor.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// The file is not a regular file within its limit.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// Temporary-file I/O around the HDF5 library failed.
    #[error("dataset file I/O failed")]
    Io(#[from] std::io::Error),
    /// The isolated reader found the file unusable; its reason, verbatim.
    #[error("{0}")]
    Refused(String),
    /// The isolated reader died (libhdf5 crashed on the file, or it ran out of memory).
    #[error(
        "the HDF5 library stopped abnormally reading the file ({status}), so the file is malformed{}",
        if stderr.is_empty() { String::new() } else { format!(": {stderr}") }
    )]
    ReaderCrashed {
        /// How the reader process ended.
        status: String,
        /// What it printed last.
        stderr: String,
    },
    /// The isolated reader did not finish in time (libhdf5 loops on some malformed files).
    #[error(
        "the HDF5 library did not finish reading the file within {} s, so the file is malformed",
        .0.as_secs()
    )]
    ReaderTimedOut(std::time::Duration),
    /// The isolated reader's answer could not be decoded.
    #[error("the dataset reader's answer is unusable: {0}")]
    ReaderOutput(String),
}

/// Writes named tensors to `path` in the AI Hub layout; every entry must have the same sample count.
pub fn write(path: &Path, entries: &[NamedSamples]) -> Result<(), DatasetError> {
    if let Some(first) = entries.first() {
        let n = first.samples.len();
        if let Some(bad) = entries.iter().find(|e| e.samples.len() != n) {
            return Err(DatasetError::Layout(format!(
                "`{}` has {} samples but `{}` has {n}; every tensor needs the same number",
                bad.name,
                bad.samples.len(),
                first.name
            )));
        }
    }
    let file = hdf5::File::create(path)?;
    let data = file.create_group("data")?;
    for (i, entry) in entries.iter().enumerate() {
        let group = data.create_group(&i.to_string())?;
        let name: VarLenUnicode = entry.name.parse().map_err(|_| {
            DatasetError::Layout(format!(
                "tensor name {:?} is not a valid string",
                entry.name
            ))
        })?;
        group
            .new_attr::<VarLenUnicode>()
            .create("name")?
            .write_scalar(&name)?;
        group
            .new_attr::<i64>()
            .create("order")?
            .write_scalar(&(i as i64))?;
        group
            .new_attr::<i64>()
            .create("batch_count")?
            .write_scalar(&(entry.samples.len() as i64))?;
        for (j, sample) in entry.samples.iter().enumerate() {
            write_sample(&group, &format!("batch_{j}"), sample)?;
        }
    }
    file.close()?;
    Ok(())
}

/// Reads a dataset file in this process (what the isolated child runs): every sample's declared
/// size is checked against the bytes the file stores before anything is allocated for it.
pub fn read_here(path: &Path) -> Result<Vec<NamedSamples>, DatasetError> {
    let file_len = crate::files::check(path, "dataset file", crate::files::DATASET_LIMIT)?;
    let file = hdf5::File::open(path)?;
    let data = file
        .group("data")
        .map_err(|_| DatasetError::Layout("no /data group".into()))?;
    let mut keyed = Vec::new();
    for member in data.member_names()? {
        let group = data
            .group(&member)
            .map_err(|_| DatasetError::Layout(format!("/data/{member} is not a group")))?;
        let name = read_string_attr(&group, "name").unwrap_or_else(|| member.clone());
        let order = group
            .attr("order")
            .ok()
            .and_then(|a| a.read_scalar::<i64>().ok());
        let members = group.member_names()?;
        let count = match group
            .attr("batch_count")
            .ok()
            .and_then(|a| a.read_scalar::<i64>().ok())
        {
            Some(n) => usize::try_from(n)
                .map_err(|_| DatasetError::Layout(format!("/data/{member} has batch_count {n}")))?,
            None => members.iter().filter(|m| m.starts_with("batch_")).count(),
        };
        let mut samples = Vec::with_capacity(count.min(members.len()));
        for j in 0..count {
            let ds = group
                .dataset(&format!("batch_{j}"))
                .map_err(|_| DatasetError::Layout(format!("/data/{member} has no batch_{j}")))?;
            samples.push(read_sample(&ds, file_len)?);
        }
        let fallback = member.parse::<i64>().ok();
        keyed.push((order, fallback, member, NamedSamples { name, samples }));
    }
    if keyed.iter().all(|k| k.0.is_some()) {
        keyed.sort_by_key(|k| k.0);
    } else {
        keyed.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.2.cmp(&b.2)));
    }
    Ok(keyed.into_iter().map(|k| k.3).collect())
}

/// Encodes a dataset to bytes (through a temporary file, as libhdf5 needs one).
pub fn to_bytes(entries: &[NamedSamples]) -> Result<Vec<u8>, DatasetError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dataset.h5");
    write(&path, entries)?;
    Ok(std::fs::read(&path)?)
}

/// Decodes dataset bytes in this process (through a temporary file, as libhdf5 needs one).
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<NamedSamples>, DatasetError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dataset.h5");
    std::fs::write(&path, bytes)?;
    read_here(&path)
}

fn read_string_attr(group: &hdf5::Group, name: &str) -> Option<String> {
    let attr = group.attr(name).ok()?;
    if let Ok(s) = attr.read_scalar::<VarLenUnicode>() {
        return Some(s.as_str().to_owned());
    }
    attr.read_scalar::<VarLenAscii>()
        .ok()
        .map(|s| s.as_str().to_owned())
}

fn write_sample(group: &hdf5::Group, name: &str, t: &Tensor) -> Result<(), DatasetError> {
    fn typed<T: hdf5::H5Type>(
        group: &hdf5::Group,
        name: &str,
        shape: &[usize],
        values: Vec<T>,
    ) -> Result<(), DatasetError> {
        let builder = group.new_dataset::<T>();
        let compress = !shape.is_empty() && shape.iter().all(|&d| d > 0);
        let ds = if compress {
            builder
                .deflate(GZIP_LEVEL)
                .shape(shape.to_vec())
                .create(name)?
        } else {
            builder.shape(shape.to_vec()).create(name)?
        };
        ds.write_raw(&values)?;
        Ok(())
    }
    let shape = t.shape();
    match t.values() {
        Values::F16(v) => typed(group, name, shape, v),
        Values::F32(v) => typed(group, name, shape, v),
        Values::I8(v) => typed(group, name, shape, v),
        Values::U8(v) => typed(group, name, shape, v),
        Values::I16(v) => typed(group, name, shape, v),
        Values::U16(v) => typed(group, name, shape, v),
        Values::I32(v) => typed(group, name, shape, v),
        Values::I64(v) => typed(group, name, shape, v),
        Values::Bool(v) => typed(group, name, shape, v),
    }
}

/// A bool element read as its byte: libhdf5 writes 0xff for a value its enum does not map, which
/// must be an error here, not an invalid `bool`.
#[derive(Clone, Copy)]
#[repr(transparent)]
struct BoolByte(u8);

// SAFETY: a one-byte, plain-old-data type described as the same enum `bool` uses, so libhdf5
// writes exactly one byte per element into it; every byte value is a valid `BoolByte`.
unsafe impl hdf5::H5Type for BoolByte {
    fn type_descriptor() -> TypeDescriptor {
        TypeDescriptor::Boolean
    }
}

/// Refuses a sample whose declared size the file cannot back, before anything is allocated for
/// it: the bytes it stores must exist in the file, and decoding them (at most one deflate, plus
/// shuffle or checksum) must be able to yield the declared shape and chunk.
fn check_storage(
    ds: &hdf5::Dataset,
    want: usize,
    element: usize,
    file_len: u64,
) -> Result<(), DatasetError> {
    let name = ds.name();
    let refuse = |why: String| DatasetError::Layout(format!("{name} {why}"));
    let dcpl = ds.dcpl()?;
    if !matches!(
        dcpl.layout(),
        hdf5::dataset::Layout::Compact
            | hdf5::dataset::Layout::Contiguous
            | hdf5::dataset::Layout::Chunked
    ) {
        return Err(refuse("is a virtual dataset, which is not read".into()));
    }
    if !dcpl.external().is_empty() {
        return Err(refuse(
            "keeps its data in external files, which are not read".into(),
        ));
    }
    let mut ratio = 1;
    for f in dcpl.filters() {
        match f {
            hdf5::filters::Filter::Deflate(_) if ratio == 1 => ratio = DEFLATE_MAX_RATIO,
            hdf5::filters::Filter::Shuffle | hdf5::filters::Filter::Fletcher32 => {}
            other => {
                return Err(refuse(format!(
                    "uses the HDF5 filter {other:?}; only gzip, shuffle and fletcher32 are read"
                )));
            }
        }
    }
    let stored = ds.storage_size();
    if stored > file_len {
        return Err(refuse(format!(
            "claims {stored} stored bytes in a {file_len}-byte file"
        )));
    }
    let backed = stored.saturating_mul(ratio);
    let too_big = |bytes: Option<usize>| {
        bytes
            .and_then(|b| u64::try_from(b).ok())
            .is_none_or(|b| b > backed)
    };
    if too_big(Some(want)) {
        return Err(refuse(format!(
            "declares {want} bytes of data but stores only {stored}"
        )));
    }
    if let Some(chunk) = dcpl.chunk()
        && too_big(chunk.iter().try_fold(element, |acc, &d| acc.checked_mul(d)))
    {
        return Err(refuse(format!(
            "declares chunks of {chunk:?} elements, more than its {stored} stored bytes can hold"
        )));
    }
    Ok(())
}

/// A sample's elements as little-endian bytes, in one allocation of exactly their size.
fn le_bytes<T: hdf5::H5Type, const N: usize>(
    ds: &hdf5::Dataset,
    to_le: fn(T) -> [u8; N],
) -> Result<Vec<u8>, DatasetError> {
    let values = ds.read_raw::<T>()?;
    let mut out = Vec::with_capacity(values.len().saturating_mul(N));
    for v in values {
        out.extend(to_le(v));
    }
    Ok(out)
}

fn read_sample(ds: &hdf5::Dataset, file_len: u64) -> Result<Tensor, DatasetError> {
    let dtype = match ds.dtype()?.to_descriptor()? {
        TypeDescriptor::Float(FloatSize::U2) => DType::F16,
        TypeDescriptor::Float(FloatSize::U4) => DType::F32,
        TypeDescriptor::Integer(IntSize::U1) => DType::I8,
        TypeDescriptor::Integer(IntSize::U2) => DType::I16,
        TypeDescriptor::Integer(IntSize::U4) => DType::I32,
        TypeDescriptor::Integer(IntSize::U8) => DType::I64,
        TypeDescriptor::Unsigned(IntSize::U1) => DType::U8,
        TypeDescriptor::Unsigned(IntSize::U2) => DType::U16,
        TypeDescriptor::Boolean => DType::Bool,
        other => {
            return Err(DatasetError::Layout(format!(
                "{} has unsupported element type {other}",
                ds.name()
            )));
        }
    };
    let shape = ds.shape();
    shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .filter(|&b| b <= MAX_SAMPLE_BYTES)
        .ok_or_else(|| {
            DatasetError::Layout(format!(
                "{} declares shape {shape:?}, over the {MAX_SAMPLE_BYTES}-byte sample limit",
                ds.name()
            ))
        })
        .and_then(|want| check_storage(ds, want, dtype.size(), file_len))?;
    let data: Vec<u8> = match dtype {
        DType::F16 => le_bytes(ds, half::f16::to_le_bytes)?,
        DType::F32 => le_bytes(ds, f32::to_le_bytes)?,
        DType::I8 => ds.read_raw::<i8>()?.into_iter().map(|v| v as u8).collect(),
        DType::I16 => le_bytes(ds, i16::to_le_bytes)?,
        DType::I32 => le_bytes(ds, i32::to_le_bytes)?,
        DType::I64 => le_bytes(ds, i64::to_le_bytes)?,
        DType::U8 => ds.read_raw::<u8>()?,
        DType::U16 => le_bytes(ds, u16::to_le_bytes)?,
        DType::Bool => {
            let bytes: Vec<u8> = ds
                .read_raw::<BoolByte>()?
                .into_iter()
                .map(|b| b.0)
                .collect();
            if let Some(bad) = bytes.iter().find(|&&b| b > 1) {
                return Err(DatasetError::Layout(format!(
                    "{} holds {bad} in a bool sample",
                    ds.name()
                )));
            }
            bytes
        }
    };
    Ok(Tensor::new(dtype, shape, data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_keeps_names_order_types_and_samples() {
        let entries = vec![
            NamedSamples {
                name: "image".into(),
                samples: vec![
                    Tensor::from_f32(vec![1, 2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap(),
                    Tensor::from_f32(vec![1, 2, 2], &[5.0, 6.0, 7.0, 8.0]).unwrap(),
                ],
            },
            NamedSamples {
                name: "mask".into(),
                samples: vec![
                    Tensor::new(DType::Bool, vec![3], vec![1, 0, 1]).unwrap(),
                    Tensor::new(DType::Bool, vec![3], vec![0, 0, 1]).unwrap(),
                ],
            },
        ];
        let bytes = to_bytes(&entries).unwrap();
        assert_eq!(&bytes[..8], b"\x89HDF\r\n\x1a\n");
        assert_eq!(from_bytes(&bytes).unwrap(), entries);
    }

    #[test]
    fn every_dtype_roundtrips() {
        let entries: Vec<NamedSamples> = DType::ALL
            .iter()
            .map(|&d| NamedSamples {
                name: d.name().into(),
                samples: vec![Tensor::new(d, vec![2], vec![1; 2 * d.size()]).unwrap()],
            })
            .collect();
        assert_eq!(from_bytes(&to_bytes(&entries).unwrap()).unwrap(), entries);
    }

    #[test]
    fn samples_are_gzip_compressed() {
        let t = Tensor::zeros(DType::F32, vec![256, 256]).unwrap();
        let entries = vec![NamedSamples {
            name: "x".into(),
            samples: vec![t],
        }];
        let bytes = to_bytes(&entries).unwrap();
        assert!(
            bytes.len() < 64 * 1024,
            "{} bytes: not compressed",
            bytes.len()
        );
    }

    #[test]
    fn unequal_sample_counts_are_rejected() {
        let one = Tensor::from_f32(vec![1], &[1.0]).unwrap();
        let entries = vec![
            NamedSamples {
                name: "a".into(),
                samples: vec![one.clone()],
            },
            NamedSamples {
                name: "b".into(),
                samples: vec![one.clone(), one],
            },
        ];
        assert!(matches!(to_bytes(&entries), Err(DatasetError::Layout(_))));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(from_bytes(b"not an hdf5 file").is_err());
    }
}
