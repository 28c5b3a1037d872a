//! Fuzz-style properties on every decoder of bytes EdgeGate does not control: each AI Hub
//! protobuf message, the `.npy` reader (bytes and files, as case inputs and references use it)
//! and the HDF5 dataset reader (AI Hub inputs and outputs). Arbitrary bytes and mutations of valid
//! encodings (flipped bytes, overwritten words, inserted and deleted runs, truncations, headers
//! claiming huge shapes) must never panic, and no single allocation may be larger than the input
//! justifies, which `alloc_probe` measures.

use std::path::Path;
use std::time::Duration;

use edgegate::config::CaseInput;
use edgegate::hub::dataset::{self, DEFLATE_MAX_RATIO, DatasetError, NamedSamples};
use edgegate::hub::dataset_child;
use edgegate::hub::measure::ProfileMeasurements;
use edgegate::hub::proto;
use edgegate::tensor::{DType, Tensor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use prost::Message;

use crate::alloc_probe::largest_allocation;

/// Allocations up to this are always fine (I/O buffers, small vectors).
const FLOOR: usize = 64 * 1024;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One change to a valid encoding.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Overwrite { at: usize, bytes: Vec<u8> },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, n: usize },
    Truncate { keep: usize },
}

/// Bytes a decoder should distrust: huge little-endian sizes and lengths, overlong varints.
fn suspicious_word() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..9),
        prop::sample::select(vec![
            u64::MAX,
            i64::MAX as u64,
            1 << 40,
            1 << 32,
            u64::from(u32::MAX),
            1 << 31,
            1 << 20,
            0,
        ])
        .prop_map(|v| v.to_le_bytes().to_vec()),
        Just(vec![0xff, 0xff, 0xff, 0xff, 0x0f]),
        Just(vec![0xff; 10]),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        3 => (any::<usize>(), suspicious_word()).prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        1 => (any::<usize>(), suspicious_word()).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1..16usize).prop_map(|(at, n)| Mutation::Delete { at, n }),
        1 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..4)
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let len = b.len();
        match m {
            Mutation::Flip { at, xor } if len > 0 => b[at % len] ^= xor,
            Mutation::Overwrite { at, bytes } if len > 0 => {
                let at = at % len;
                let end = (at + bytes.len()).min(len);
                b[at..end].copy_from_slice(&bytes[..end - at]);
            }
            Mutation::Insert { at, bytes } => {
                let at = at % (len + 1);
                b.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete { at, n } if len > 0 => {
                let at = at % len;
                b.drain(at..(at + n).min(len));
            }
            Mutation::Truncate { keep } => b.truncate(keep % (len + 1)),
            _ => {}
        }
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Protobuf: every message of `edgegate::hub::proto`.

/// Calls `$m!` with every protobuf message type of `edgegate::hub::proto`; a test below checks
/// the list against the source, so a new message cannot go unfuzzed.
macro_rules! with_messages {
    ($m:ident) => {
        $m!(
            Timestamp,
            FieldError,
            ValidationError,
            CreateUpdateResponse,
            FileDownloadUrl,
            FileUploadUrl,
            FileMultipartUploadUrl,
            FileMultipartUploadComplete,
            S3Credentials,
            FileUploadResponse,
            FileDownloadResponse,
            NamedArtifactDownloadUrl,
            NamedArtifactDownloadUrlList,
            JobPublicUpdate,
            ServiceStatus,
            User,
            Device,
            DeviceList,
            Framework,
            FrameworkList,
            DatasetAuthorization,
            JobAuthorization,
            ModelAuthorization,
            Dataset,
            DatasetList,
            TensorType,
            NamedTensorType,
            NamedTensorTypeList,
            ModelMetadata,
            Model,
            ModelList,
            Notice,
            CompileJob,
            LinkJob,
            QuantizeJob,
            ProfileJob,
            InferenceJob,
            Job,
            JobList,
            CompileJobSummary,
            LinkJobSummary,
            QuantizeJobSummary,
            ProfileJobSummary,
            InferenceJobSummary,
            JobSummary,
            JobSummaryList,
            ToolVersion,
            CompileDetail,
            LinkDetail,
            QuantizeDetail,
            CompileJobResult,
            LinkJobResult,
            QuantizeJobResult,
            ProfileJobResult,
            InferenceJobResult,
            JobResult,
            Range,
            MemoryUsage,
            LayerDetail,
            SegmentDetail,
            RuntimeConfigProperty,
            RuntimeConfig,
            ProfileDetail
        )
    };
}

macro_rules! names {
    ($($t:ident),*) => {
        [$(stringify!($t)),*]
    };
}

macro_rules! largest_size {
    ($($t:ident),*) => {
        [$(std::mem::size_of::<proto::$t>()),*].into_iter().max().unwrap_or(0)
    };
}

/// Bytes one input byte may cost once decoded: an empty repeated message costs two bytes on the
/// wire and one struct in memory, a packed varint one byte and eight in memory, and a `Vec`
/// doubles its capacity as it grows.
fn proto_bytes_per_input_byte() -> usize {
    with_messages!(largest_size).max(16)
}

/// A field of a hand-built protobuf encoding.
#[derive(Debug, Clone)]
enum Wire {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(Vec<u8>),
    Message(Vec<(u32, Wire)>),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn encode_fields(fields: &[(u32, Wire)], out: &mut Vec<u8>) {
    for (tag, w) in fields {
        let wire_type = match w {
            Wire::Varint(_) => 0,
            Wire::Fixed64(_) => 1,
            Wire::Bytes(_) | Wire::Message(_) => 2,
            Wire::Fixed32(_) => 5,
        };
        put_varint(out, u64::from(tag << 3 | wire_type));
        match w {
            Wire::Varint(v) => put_varint(out, *v),
            Wire::Fixed64(v) => out.extend(v.to_le_bytes()),
            Wire::Fixed32(v) => out.extend(v.to_le_bytes()),
            Wire::Bytes(b) => {
                put_varint(out, b.len() as u64);
                out.extend(b);
            }
            Wire::Message(inner) => {
                let mut body = Vec::new();
                encode_fields(inner, &mut body);
                put_varint(out, body.len() as u64);
                out.extend(body);
            }
        }
    }
}

fn encoded(fields: &[(u32, Wire)]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_fields(fields, &mut out);
    out
}

fn fields_at<'a>(root: &'a mut Vec<(u32, Wire)>, path: &[usize]) -> &'a mut Vec<(u32, Wire)> {
    let mut cur = root;
    for &i in path {
        cur = match &mut cur[i].1 {
            Wire::Message(inner) => inner,
            other => panic!("path into a non-message field {other:?}"),
        };
    }
    cur
}

/// Adds to the message at `path` every field number (1 to 40) that `M` recognises, with the
/// first wire shape that decodes and changes the decoded value; nested messages are filled the
/// same way, down to `depth` levels (each nested type is also fuzzed on its own).
fn fill<M: Message + Default + PartialEq>(
    root: &mut Vec<(u32, Wire)>,
    path: &mut Vec<usize>,
    depth: usize,
) {
    for tag in 1..=40 {
        let before = M::decode(&encoded(root)[..]).expect("the encoding so far is valid");
        for candidate in [
            Wire::Bytes(b"x".to_vec()),
            Wire::Message(Vec::new()),
            Wire::Varint(1),
            Wire::Fixed32(0x3fc0_0000),
            Wire::Fixed64(0x3ff8_0000_0000_0000),
        ] {
            let nested = matches!(candidate, Wire::Message(_));
            fields_at(root, path).push((tag, candidate));
            match M::decode(&encoded(root)[..]) {
                Ok(after) if after != before => {
                    if nested && depth > 0 {
                        path.push(fields_at(root, path).len() - 1);
                        fill::<M>(root, path, depth - 1);
                        path.pop();
                    }
                    break;
                }
                _ => {
                    fields_at(root, path).pop();
                }
            }
        }
    }
}

/// A valid encoding of `M` with every field it knows set, nested messages included.
fn populated<M: Message + Default + PartialEq>(name: &str) -> Vec<u8> {
    let mut root = Vec::new();
    fill::<M>(&mut root, &mut Vec::new(), 1);
    let bytes = encoded(&root);
    let m = M::decode(&bytes[..]).expect("populated encoding decodes");
    assert!(m != M::default(), "{name}: no field was recognised");
    bytes
}

/// Decodes under the allocation probe; what decodes must re-encode to bytes that decode to the
/// same encoding again.
fn decode_within_bounds<M: Message + Default>(bytes: &[u8]) -> Result<Option<M>, TestCaseError> {
    let (decoded, largest) = largest_allocation(|| M::decode(bytes));
    let bound = FLOOR.max(bytes.len() * proto_bytes_per_input_byte());
    prop_assert!(
        largest <= bound,
        "{} input bytes made a {largest}-byte allocation (bound {bound})",
        bytes.len()
    );
    let Ok(m) = decoded else {
        return Ok(None);
    };
    let once = m.encode_to_vec();
    let twice = M::decode(&once[..]).map(|again| again.encode_to_vec());
    prop_assert_eq!(twice.ok(), Some(once));
    Ok(Some(m))
}

fn fuzz_message<M: Message + Default + PartialEq>(name: &str) {
    let seed = populated::<M>(name);
    let doubled = [seed.clone(), seed.clone()].concat();
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (prop::sample::select(vec![seed, doubled]), mutations()).prop_map(|(s, m)| apply(&s, &m)),
    ];
    TestRunner::new(config(96))
        .run(&strategy, |bytes| {
            decode_within_bounds::<M>(&bytes).map(drop)
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

macro_rules! fuzz_each {
    ($($t:ident),*) => {
        $( fuzz_message::<proto::$t>(stringify!($t)); )*
    };
}

#[test]
fn every_ai_hub_message_decodes_arbitrary_and_mutated_bytes_without_panic_or_large_allocation() {
    with_messages!(fuzz_each);
}

#[test]
fn the_fuzzed_message_list_is_every_message_in_proto_rs() {
    let source = std::fs::read_to_string(crate::support::repo().join("src/hub/proto.rs"))
        .expect("read proto.rs");
    let mut in_source = Vec::new();
    let mut derived = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[derive(") && line.contains("prost::Message") {
            derived = true;
        } else if let Some(rest) = line.strip_prefix("pub struct ")
            && derived
        {
            in_source.push(
                rest.split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
            derived = false;
        } else if let Some(rest) = line.strip_prefix("impl prost::Message for ") {
            in_source.push(rest.trim_end_matches(" {").to_string());
        }
    }
    let mut fuzzed: Vec<String> = with_messages!(names)
        .iter()
        .map(|s| s.to_string())
        .collect();
    in_source.sort();
    fuzzed.sort();
    assert_eq!(fuzzed, in_source);
}

#[test]
fn profile_measurements_and_job_states_come_from_mutated_messages_without_panic() {
    let profile = populated::<proto::ProfileDetail>("ProfileDetail");
    let result = populated::<proto::JobResult>("JobResult");
    let job = populated::<proto::Job>("Job");
    let strategy = (
        prop::sample::select(vec![profile, result, job]),
        mutations(),
    )
        .prop_map(|(s, m)| apply(&s, &m));
    TestRunner::new(config(192))
        .run(&strategy, |bytes| {
            if let Some(d) = decode_within_bounds::<proto::ProfileDetail>(&bytes)? {
                let m = ProfileMeasurements::from(&d);
                prop_assert_eq!(m.layers.len(), d.layer_details.len());
                prop_assert_eq!(m.layer_placement.total() as usize, d.layer_details.len());
            }
            if let Some(r) = decode_within_bounds::<proto::JobResult>(&bytes)?
                && let Some(proto::job_result::Result::ProfileJobResult(p)) = r.result
                && let Some(d) = p.profile
            {
                let m = ProfileMeasurements::from(&d);
                prop_assert!(m.inference_time_ms >= 0.0);
            }
            if let Some(j) = decode_within_bounds::<proto::Job>(&bytes)? {
                let _ = edgegate::hub::jobs::job_status(&j);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------------------
// `.npy`: `Tensor::read_npy` on bytes, and the case-input reader on files.

fn npy_seeds() -> Vec<Vec<u8>> {
    let tensors = [
        Tensor::from_f32(vec![1, 64], &[0.5; 64]).expect("f32"),
        Tensor::new(DType::I64, vec![2, 3], (0..48).collect()).expect("i64"),
        Tensor::new(DType::Bool, vec![5], vec![1, 0, 1, 1, 0]).expect("bool"),
        Tensor::new(DType::F16, vec![3], vec![0; 6]).expect("f16"),
        Tensor::new(DType::U8, vec![0, 4], Vec::new()).expect("empty"),
        Tensor::new(DType::I16, Vec::new(), vec![7, 0]).expect("scalar"),
    ];
    tensors
        .iter()
        .map(|t| {
            let mut b = Vec::new();
            t.write_npy(&mut b).expect("write npy");
            b
        })
        .collect()
}

/// A `.npy` file with the given header dictionary over `data`, padded as numpy pads it.
fn npy_with_header(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut text = dict.to_string();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((text.len() as u16).to_le_bytes());
    out.extend(text.as_bytes());
    out.extend(data);
    out
}

fn dim() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..8u64,
        1u64 << 16..1 << 28,
        prop::sample::select(vec![
            1 << 20,
            1 << 31,
            1 << 32,
            1 << 40,
            1 << 62,
            u64::MAX / 2,
            u64::MAX
        ]),
        any::<u64>(),
    ]
}

/// Headers claiming any shape (huge ones included) over a little data.
fn claimed_shapes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec!["<f4", ">f4", "<i8", "|b1", "<f2", "|u1", "<u2", "<i4"]),
        prop::collection::vec(dim(), 0..5),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(descr, dims, data)| {
            let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
            let shape = match dims.len() {
                1 => format!("({},)", dims[0]),
                _ => format!("({})", dims.join(", ")),
            };
            npy_with_header(
                &format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"),
                &data,
            )
        })
}

/// Preambles claiming header lengths up to 4 GiB over a short rest.
fn claimed_header_lengths() -> impl Strategy<Value = Vec<u8>> {
    (
        1..=3u8,
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(version, len, rest)| {
            let mut b = b"\x93NUMPY".to_vec();
            b.extend([version, 0]);
            if version == 1 {
                b.extend((len as u16).to_le_bytes());
            } else {
                b.extend(len.to_le_bytes());
            }
            b.extend(rest);
            b
        })
}

fn npy_within_bounds(bytes: &[u8], dir: &Path) -> Result<(), TestCaseError> {
    let bound = FLOOR.max(64 * bytes.len());
    let (from_bytes, largest) = largest_allocation(|| Tensor::read_npy(bytes));
    prop_assert!(
        largest <= bound,
        "{} bytes of .npy made a {largest}-byte allocation",
        bytes.len()
    );
    if let Ok(t) = &from_bytes {
        prop_assert!(t.data().len() <= bytes.len());
        prop_assert_eq!(t.data().len(), t.len() * t.dtype().size());
    }
    std::fs::write(dir.join("x.npy"), bytes).expect("write case input");
    let spec = CaseInput {
        npy: Some("x.npy".into()),
        ..CaseInput::default()
    };
    let paths = edgegate::config::PathPolicy::for_config(
        &dir.join("edgegate.yaml"),
        edgegate::config::OutsideProject::Refused,
    );
    let (from_file, largest) = largest_allocation(|| {
        edgegate::device::inputs::load_input(&paths, dir, "case", "x", &spec)
            .map_err(|e| e.to_string())
    });
    prop_assert!(
        largest <= bound,
        "a {}-byte .npy case input made a {largest}-byte allocation",
        bytes.len()
    );
    prop_assert_eq!(
        from_file.ok().map(|(t, _)| t),
        from_bytes.ok(),
        "the file and byte readers disagree"
    );
    Ok(())
}

#[test]
fn npy_files_mutated_or_claiming_huge_shapes_never_panic_or_overallocate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seeds = npy_seeds();
    for seed in &seeds {
        npy_within_bounds(seed, dir.path()).expect("valid seeds read");
        assert!(Tensor::read_npy(&seed[..]).is_ok());
    }
    let strategy = prop_oneof![
        (prop::sample::select(seeds), mutations()).prop_map(|(s, m)| apply(&s, &m)),
        claimed_shapes(),
        claimed_header_lengths(),
        prop::collection::vec(any::<u8>(), 0..128),
    ];
    TestRunner::new(config(384))
        .run(&strategy, |bytes| npy_within_bounds(&bytes, dir.path()))
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------------------
// HDF5: the AI Hub dataset reader.

/// The shape of the first sample of the seed, whose dataspace a mutation rewrites.
const HDF5_SHAPE: [usize; 2] = [3, 5];

/// A dataset file: one `HDF5_SHAPE` float sample, then (when `every_dtype`) two samples of each
/// element type.
fn hdf5_seed(every_dtype: bool) -> Vec<u8> {
    let mut entries = vec![NamedSamples {
        name: "image".into(),
        samples: vec![Tensor::from_f32(HDF5_SHAPE.to_vec(), &[0.25; 15]).expect("f32")],
    }];
    entries.extend(
        DType::ALL
            .iter()
            .filter(|_| every_dtype)
            .map(|&d| NamedSamples {
                name: d.name().into(),
                samples: vec![Tensor::new(d, vec![2], vec![1; 2 * d.size()]).expect("tensor")],
            }),
    );
    dataset::to_bytes(&entries).expect("write dataset")
}

/// Every place the seed stores `HDF5_SHAPE` as two little-endian u64 (the dataspace's dims).
fn dims_offsets(file: &[u8]) -> Vec<usize> {
    let pattern: Vec<u8> = HDF5_SHAPE
        .iter()
        .flat_map(|&d| (d as u64).to_le_bytes())
        .collect();
    file.windows(pattern.len())
        .enumerate()
        .filter(|(_, w)| *w == &pattern[..])
        .map(|(i, _)| i)
        .collect()
}

/// The largest allocation reading `len` bytes of HDF5 may justify: a sample is at most the
/// file's stored bytes inflated by deflate's maximum ratio.
fn hdf5_bound(len: usize) -> usize {
    FLOOR.max(DEFLATE_MAX_RATIO as usize * len)
}

fn sample_bytes(entries: &[NamedSamples]) -> usize {
    entries
        .iter()
        .flat_map(|e| &e.samples)
        .map(|t| t.data().len())
        .sum()
}

/// Reads in this process, so the probe sees every allocation of the hardened reader.
fn hdf5_here_within_bounds(bytes: &[u8]) -> Result<(), TestCaseError> {
    let bound = hdf5_bound(bytes.len());
    let (read, largest) = largest_allocation(|| dataset::from_bytes(bytes));
    prop_assert!(
        largest <= bound,
        "{} bytes of HDF5 made a {largest}-byte allocation (bound {bound})",
        bytes.len()
    );
    if let Ok(entries) = read {
        let total = sample_bytes(&entries);
        prop_assert!(
            total <= bound,
            "{total} bytes of samples from {}",
            bytes.len()
        );
    }
    Ok(())
}

/// Reads in a child `edgegate __read-dataset`, as `edgegate` itself does: libhdf5 may crash or
/// loop on a mutated file, which must reach the caller as an error, never as a panic of ours.
fn hdf5_isolated_within_bounds(bytes: &[u8], dir: &Path) -> Result<(), TestCaseError> {
    let path = dir.join("dataset.h5");
    std::fs::write(&path, bytes).expect("write dataset");
    let exe = Path::new(env!("CARGO_BIN_EXE_edgegate"));
    let (read, largest) =
        largest_allocation(|| dataset_child::read_isolated(exe, &path, Duration::from_secs(5)));
    let bound = hdf5_bound(bytes.len()).max(dataset_child::answer_cap(bytes.len() as u64) as usize);
    prop_assert!(
        largest <= bound,
        "{} bytes of HDF5 made a {largest}-byte allocation in the parent (bound {bound})",
        bytes.len()
    );
    match read {
        Ok(entries) => {
            let total = sample_bytes(&entries);
            prop_assert!(
                total <= bound,
                "{total} bytes of samples from {}",
                bytes.len()
            );
        }
        Err(DatasetError::ReaderCrashed { status, stderr }) => {
            prop_assert!(
                !stderr.contains("panicked"),
                "the reader panicked ({status}): {stderr}"
            );
        }
        Err(_) => {}
    }
    Ok(())
}

#[test]
fn hdf5_datasets_claiming_huge_shapes_never_panic_or_overallocate() {
    let small = hdf5_seed(false);
    let offsets = dims_offsets(&small);
    assert!(!offsets.is_empty(), "the seed's [3, 5] dataspace is found");
    assert_eq!(dataset::from_bytes(&small).expect("seed reads").len(), 1);
    let claimed = prop::collection::vec(dim(), 2).prop_map(move |dims| {
        let mut b = small.clone();
        for at in &offsets {
            for (i, d) in dims.iter().enumerate() {
                b[at + 8 * i..at + 8 * i + 8].copy_from_slice(&d.to_le_bytes());
            }
        }
        b
    });
    TestRunner::new(config(256))
        .run(&claimed, |bytes| hdf5_here_within_bounds(&bytes))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn hdf5_datasets_mutated_anywhere_are_errors_of_the_isolated_reader_never_crashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = hdf5_seed(true);
    assert_eq!(dataset::from_bytes(&seed).expect("seed reads").len(), 10);
    let strategy = (Just(seed), mutations()).prop_map(|(s, m)| apply(&s, &m));
    TestRunner::new(config(96))
        .run(&strategy, |bytes| {
            hdf5_isolated_within_bounds(&bytes, dir.path())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn an_hdf5_sample_claiming_more_than_the_file_stores_is_refused() {
    let seed = hdf5_seed(false);
    let mut forged = seed.clone();
    for at in dims_offsets(&seed) {
        forged[at..at + 8].copy_from_slice(&(1u64 << 20).to_le_bytes());
    }
    let (read, largest) = largest_allocation(|| dataset::from_bytes(&forged));
    let e = read.expect_err("a forged shape is refused").to_string();
    assert!(e.contains("bytes of data but stores only"), "{e}");
    assert!(largest < FLOOR.max(seed.len() * 64), "{largest}");
}

/// Two corruptions of the seed libhdf5 1.10 does not survive, found by the property above: one
/// byte that makes it segfault in `H5HG_read` (the global heap of a name attribute), and eight
/// that make it loop there forever. Both must reach the caller as errors, promptly.
#[test]
fn a_file_that_crashes_or_hangs_libhdf5_is_an_error_for_the_caller() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = Path::new(env!("CARGO_BIN_EXE_edgegate"));
    let seed = hdf5_seed(true);
    let mut crash = seed.clone();
    crash[2953] = 0x10;
    let mut hang = seed.clone();
    hang[3145..3153].copy_from_slice(&[0xff; 8]);
    for (what, bytes) in [("crash", crash), ("hang", hang)] {
        let path = dir.path().join(format!("{what}.h5"));
        std::fs::write(&path, bytes).expect("write dataset");
        let started = std::time::Instant::now();
        let e = dataset_child::read_isolated(exe, &path, Duration::from_secs(3))
            .expect_err(what)
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(30), "{what}: {e}");
        assert!(!e.contains("panicked"), "{what}: {e}");
    }
}
