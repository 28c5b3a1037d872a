//! Reads AI Hub dataset files in a child `edgegate __read-dataset FILE` process, so that a
//! malformed file can crash or hang only that child: libhdf5 (1.10 in Debian) segfaults and loops
//! on some corrupted files, which no check on the Rust side can rule out. The child writes the
//! samples back as framed `.npy` tensors, which the parent decodes with the bounded `.npy` reader.
//!
//! `edgegate` turns isolation on for itself at start-up ([`isolate_reads`]); library users and
//! unit tests read in-process unless they call it. This file spawns and frames; the HDF5 layout
//! lives in `dataset.rs`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::dataset::{self, DEFLATE_MAX_RATIO, DatasetError, NamedSamples};
use crate::tensor::Tensor;

/// The hidden subcommand a child runs: `edgegate __read-dataset FILE`.
pub const READ_COMMAND: &str = "__read-dataset";
/// How long a child may take to read one file before it is killed.
pub const READ_TIMEOUT: Duration = Duration::from_secs(300);
/// Exit code of a child that read the file and found it unusable (its message is on stderr).
const REFUSED: i32 = 2;
/// The child's status when it answered.
const ANSWERED: i32 = 0;
/// The child's status when it read the file but could not hand the answer over.
const NOT_HANDED_OVER: i32 = 3;
/// The first bytes of a child's answer.
const MAGIC: &[u8; 8] = b"EGDSET01";
/// Bytes of a child's stderr kept for the error message.
const STDERR_KEPT: u64 = 16 * 1024;

static READER: OnceLock<PathBuf> = OnceLock::new();

/// Makes every later [`read`] in this process run in a child `exe __read-dataset`.
pub fn isolate_reads(exe: PathBuf) {
    let _ = READER.set(exe);
}

/// The executable reads are isolated with, when they are.
pub(crate) fn isolated_with() -> Option<&'static Path> {
    READER.get().map(PathBuf::as_path)
}

/// The largest answer a child may give for a file of `file_len` bytes: every sample byte is
/// backed by stored bytes inflated at most [`DEFLATE_MAX_RATIO`] times, plus framing.
pub fn answer_cap(file_len: u64) -> u64 {
    file_len
        .saturating_mul(DEFLATE_MAX_RATIO + 2)
        .saturating_add(4096)
}

/// Reads `path` in a child `exe __read-dataset` process, killed after `timeout`. The child gets
/// an empty environment: no token is ever visible to the process that parses untrusted bytes.
pub fn read_isolated(
    exe: &Path,
    path: &Path,
    timeout: Duration,
) -> Result<Vec<NamedSamples>, DatasetError> {
    let cap = answer_cap(std::fs::metadata(path)?.len());
    let mut child = Command::new(exe)
        .arg(READ_COMMAND)
        .arg(path)
        .env_clear()
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(DatasetError::ReaderOutput("no pipe to the reader".into()));
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_answer(stdout, cap));
    });
    let errors = std::thread::spawn(move || {
        let mut stderr = stderr;
        let mut kept = Vec::new();
        let _ = stderr.by_ref().take(STDERR_KEPT).read_to_end(&mut kept);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&kept).trim().to_string()
    });
    let answer = match rx.recv_timeout(timeout) {
        Ok(answer) => answer,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(DatasetError::ReaderTimedOut(timeout));
        }
    };
    if answer.is_err() {
        let _ = child.kill();
    }
    let status = child.wait()?;
    let stderr = errors.join().unwrap_or_default();
    if status.code() == Some(REFUSED) {
        return Err(DatasetError::Refused(stderr));
    }
    if !status.success() {
        return Err(DatasetError::ReaderCrashed {
            status: status.to_string(),
            stderr,
        });
    }
    decode(&answer?)
}

/// Reads a dataset file back into named tensors, ordered by the `order` attribute: in a child
/// process when this process isolates reads (`edgegate` does), so a malformed file cannot crash
/// or hang the caller.
pub fn read(path: &Path) -> Result<Vec<NamedSamples>, DatasetError> {
    match isolated_with() {
        Some(exe) => read_isolated(exe, path, READ_TIMEOUT),
        None => dataset::read_here(path),
    }
}

/// The body of `edgegate __read-dataset FILE`: reads in this process, answers on stdout, and
/// returns the exit code (0, or 2 with the reason on stderr).
pub fn serve(path: &Path) -> i32 {
    let answer = dataset::read_here(path).and_then(|entries| encode(&entries));
    match answer {
        Ok(bytes) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&bytes).and_then(|()| out.flush()) {
                Ok(()) => ANSWERED,
                Err(e) => {
                    eprintln!("cannot write the dataset to the parent: {e}");
                    NOT_HANDED_OVER
                }
            }
        }
        Err(DatasetError::Io(io)) => {
            eprintln!("cannot read the dataset file: {io}");
            REFUSED
        }
        Err(e) => {
            eprintln!("{e}");
            REFUSED
        }
    }
}

/// Frames entries: magic, body length (u64), then per entry its name and `.npy` samples, every
/// count and length little-endian.
pub fn encode(entries: &[NamedSamples]) -> Result<Vec<u8>, DatasetError> {
    let too_many = || DatasetError::ReaderOutput("more than 2^32 entries or samples".into());
    let mut body = Vec::new();
    body.extend(
        u32::try_from(entries.len())
            .map_err(|_| too_many())?
            .to_le_bytes(),
    );
    for e in entries {
        body.extend(
            u32::try_from(e.name.len())
                .map_err(|_| too_many())?
                .to_le_bytes(),
        );
        body.extend(e.name.as_bytes());
        body.extend(
            u32::try_from(e.samples.len())
                .map_err(|_| too_many())?
                .to_le_bytes(),
        );
        for t in &e.samples {
            let mut npy = Vec::new();
            t.write_npy(&mut npy)?;
            body.extend((npy.len() as u64).to_le_bytes());
            body.extend(npy);
        }
    }
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend(MAGIC);
    out.extend((body.len() as u64).to_le_bytes());
    out.extend(body);
    Ok(out)
}

/// Reads a child's answer: the declared body length must fit `cap` before it is allocated.
fn read_answer(mut r: impl Read, cap: u64) -> Result<Vec<u8>, DatasetError> {
    let bad = |what: &str| DatasetError::ReaderOutput(what.to_string());
    let mut head = [0u8; 16];
    if r.read_exact(&mut head).is_err() {
        return Err(bad("the reader gave no answer"));
    }
    if &head[..8] != MAGIC {
        return Err(bad("the reader's answer does not start with its magic"));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&head[8..]);
    let len = u64::from_le_bytes(len);
    if len > cap {
        return Err(bad(&format!(
            "the reader answered {len} bytes, more than the file can back ({cap})"
        )));
    }
    let mut body = Vec::with_capacity(usize::try_from(len).map_err(|_| bad("too long"))?);
    r.take(len).read_to_end(&mut body)?;
    if body.len() as u64 != len {
        return Err(bad("the reader's answer is cut short"));
    }
    Ok(body)
}

/// Decodes a framed body; every count is checked against the bytes that remain.
pub fn decode(body: &[u8]) -> Result<Vec<NamedSamples>, DatasetError> {
    let mut c = Frames { b: body };
    let entries = c.u32()?;
    let mut out = Vec::new();
    for _ in 0..entries {
        let name_len = c.u32()? as usize;
        let name = String::from_utf8(c.take(name_len)?.to_vec())
            .map_err(|_| DatasetError::ReaderOutput("a name is not UTF-8".into()))?;
        let count = c.u32()?;
        let mut samples = Vec::new();
        for _ in 0..count {
            let len = usize::try_from(c.u64()?).unwrap_or(usize::MAX);
            samples.push(Tensor::read_npy(c.take(len)?)?);
        }
        out.push(NamedSamples { name, samples });
    }
    if !c.b.is_empty() {
        return Err(DatasetError::ReaderOutput(
            "bytes after the last entry".into(),
        ));
    }
    Ok(out)
}

struct Frames<'a> {
    b: &'a [u8],
}

impl<'a> Frames<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DatasetError> {
        if n > self.b.len() {
            return Err(DatasetError::ReaderOutput("the answer is cut short".into()));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, DatasetError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, DatasetError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

    fn entries() -> Vec<NamedSamples> {
        vec![
            NamedSamples {
                name: "image".into(),
                samples: vec![
                    Tensor::from_f32(vec![1, 2], &[1.0, 2.0]).unwrap(),
                    Tensor::from_f32(vec![1, 2], &[3.0, 4.0]).unwrap(),
                ],
            },
            NamedSamples {
                name: "mask".into(),
                samples: vec![
                    Tensor::new(DType::Bool, vec![2], vec![1, 0]).unwrap(),
                    Tensor::new(DType::Bool, vec![2], vec![0, 1]).unwrap(),
                ],
            },
        ]
    }

    #[test]
    fn frames_roundtrip_and_every_truncation_is_an_error() {
        let framed = encode(&entries()).unwrap();
        let body = read_answer(&framed[..], answer_cap(1 << 20)).unwrap();
        assert_eq!(decode(&body).unwrap(), entries());
        for cut in 0..body.len() {
            assert!(decode(&body[..cut]).is_err(), "cut at {cut}");
        }
        for cut in 0..framed.len() {
            assert!(
                read_answer(&framed[..cut], u64::MAX).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_answer_longer_than_the_file_can_back_is_refused_before_allocating() {
        let mut framed = MAGIC.to_vec();
        framed.extend(u64::MAX.to_le_bytes());
        let e = read_answer(&framed[..], answer_cap(100)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the dataset reader's answer is unusable: the reader answered {} bytes, more than the file can back ({})",
                u64::MAX,
                answer_cap(100)
            )
        );
    }
}
