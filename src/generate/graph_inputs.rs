//! The inputs of an ONNX graph, read without loading it: the file is walked field by field and
//! only the graph's `input` entries are decoded, so a multi-gigabyte graph costs a few reads
//! and no memory. Used to learn how many tokens a prefill graph takes before anything runs.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// One graph input: its name, ONNX element type and dimensions (`None` where symbolic).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphInput {
    pub name: String,
    /// ONNX `TensorProto.DataType` (7 int64, 6 int32, 1 float32, ...).
    pub elem_type: i32,
    pub dims: Vec<Option<i64>>,
}

/// ONNX element type of int64.
pub const INT64: i32 = 7;
/// ONNX element type of int32.
pub const INT32: i32 = 6;

#[derive(Clone, PartialEq, prost::Message)]
struct ValueInfo {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorType>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TensorType {
    #[prost(int32, tag = "1")]
    elem_type: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<Shape>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Shape {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<Dim>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Dim {
    #[prost(int64, optional, tag = "1")]
    dim_value: Option<i64>,
    #[prost(string, optional, tag = "2")]
    dim_param: Option<String>,
}

/// `ModelProto.graph`.
const MODEL_GRAPH: u64 = 7;
/// `GraphProto.input`.
const GRAPH_INPUT: u64 = 11;
/// The largest one `input` entry may be.
const MAX_INPUT_BYTES: u64 = 1 << 20;
/// The most inputs read.
const MAX_INPUTS: usize = 4096;

/// The inputs of the ONNX graph at `path`.
pub fn read(path: &Path) -> Result<Vec<GraphInput>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = BufReader::new(file);
    let bad = |why: &str| format!("{} is not an ONNX model: {why}", path.display());
    let mut inputs = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        let (field, wire) = key(&mut r, &mut pos).map_err(|e| bad(&e))?;
        if field == MODEL_GRAPH && wire == 2 {
            let size = varint(&mut r, &mut pos).map_err(|e| bad(&e))?;
            let end = pos
                .checked_add(size)
                .filter(|&e| e <= len)
                .ok_or_else(|| bad("the graph runs past the end of the file"))?;
            while pos < end {
                let (field, wire) = key(&mut r, &mut pos).map_err(|e| bad(&e))?;
                if field == GRAPH_INPUT && wire == 2 {
                    let size = varint(&mut r, &mut pos).map_err(|e| bad(&e))?;
                    if size > MAX_INPUT_BYTES || pos + size > end || inputs.len() >= MAX_INPUTS {
                        return Err(bad("a graph input is too large"));
                    }
                    let mut buf = vec![0u8; size as usize];
                    r.read_exact(&mut buf).map_err(|e| bad(&e.to_string()))?;
                    pos += size;
                    let v = <ValueInfo as prost::Message>::decode(buf.as_slice())
                        .map_err(|e| bad(&e.to_string()))?;
                    let t = v.r#type.and_then(|t| t.tensor_type).unwrap_or_default();
                    inputs.push(GraphInput {
                        name: v.name,
                        elem_type: t.elem_type,
                        dims: t
                            .shape
                            .map(|s| {
                                s.dim
                                    .into_iter()
                                    .map(|d| d.dim_value.filter(|_| d.dim_param.is_none()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    });
                } else {
                    skip(&mut r, &mut pos, wire).map_err(|e| bad(&e))?;
                }
            }
            return Ok(inputs);
        }
        skip(&mut r, &mut pos, wire).map_err(|e| bad(&e))?;
    }
    Err(bad("it has no graph"))
}

fn varint(r: &mut impl Read, pos: &mut u64) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let mut b = [0u8];
        r.read_exact(&mut b)
            .map_err(|_| "the file ends inside a field".to_string())?;
        *pos += 1;
        v |= u64::from(b[0] & 0x7f) << shift.min(63);
        if b[0] & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a malformed varint".into())
}

fn key(r: &mut impl Read, pos: &mut u64) -> Result<(u64, u8), String> {
    let k = varint(r, pos)?;
    Ok((k >> 3, (k & 7) as u8))
}

fn skip<R: Read + Seek>(r: &mut BufReader<R>, pos: &mut u64, wire: u8) -> Result<(), String> {
    let n = match wire {
        0 => return varint(r, pos).map(|_| ()),
        1 => 8,
        2 => varint(r, pos)?,
        5 => 4,
        w => return Err(format!("unknown wire type {w}")),
    };
    let n = i64::try_from(n).map_err(|_| "a field is too large".to_string())?;
    r.seek_relative(n).map_err(|e| e.to_string())?;
    *pos = pos.saturating_add(n as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/llm")
            .join(name)
    }

    #[test]
    fn reads_the_fixed_inputs_of_the_example_graphs() {
        let prefill = read(&example("prefill.onnx")).unwrap();
        assert_eq!(prefill.len(), 1);
        assert_eq!(prefill[0].name, "input_ids");
        assert_eq!(prefill[0].elem_type, INT64);
        assert_eq!(prefill[0].dims, vec![Some(1), Some(32)]);
        let decode = read(&example("decode.onnx")).unwrap();
        assert_eq!(decode.len(), 5);
        assert_eq!(decode[1].dims, vec![Some(1), Some(4), Some(63), Some(16)]);
        let full = read(&example("model.onnx")).unwrap();
        assert_eq!(
            full[0].dims,
            vec![Some(1), None],
            "a symbolic dimension is None"
        );
    }

    #[test]
    fn other_files_are_refused_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        for (i, bytes) in [
            &b""[..],
            b"not onnx at all",
            &[0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f][..],
            &[0xff; 12][..],
        ]
        .iter()
        .enumerate()
        {
            let p = dir.path().join(format!("{i}.onnx"));
            std::fs::write(&p, bytes).unwrap();
            assert!(read(&p).is_err(), "{bytes:?}");
        }
    }
}
