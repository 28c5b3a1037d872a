//! Bounded file reads: the one way EdgeGate opens a file it reads. A file is opened without
//! blocking (a FIFO with no writer would otherwise hang the open), must be a regular file, and is
//! read to at most its limit, so a FIFO, a device such as `/dev/zero` or a folder is refused with
//! a message naming the file, what it is and the limit, instead of hanging or exhausting memory.
//!
//! Limits per kind of file are the constants below; callers name the file for messages.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// `edgegate.yaml` and promptpack files.
pub const CONFIG_LIMIT: u64 = 64 * MIB;
/// A promptpack's labels file (one label per line).
pub const LABELS_LIMIT: u64 = 16 * MIB;
/// A results.json read back (`report --results`, `run --baseline`).
pub const RESULTS_LIMIT: u64 = 256 * MIB;
/// A Markdown template (`report --template`).
pub const TEMPLATE_LIMIT: u64 = 4 * MIB;
/// The AI Hub `client.ini`.
pub const CLIENT_INI_LIMIT: u64 = MIB;
/// The job cache (`.edgegate/cache/jobs.json`).
pub const JOB_CACHE_LIMIT: u64 = 64 * MIB;
/// The CI event payload (`$GITHUB_EVENT_PATH`).
pub const CI_EVENT_LIMIT: u64 = 64 * MIB;
/// A case input or reference tensor (`.npy`).
pub const TENSOR_LIMIT: u64 = 2 * GIB;
/// A case input image (PNG, JPEG).
pub const IMAGE_LIMIT: u64 = 256 * MIB;
/// The model under test: hashed and uploaded as a stream, never held whole.
pub const MODEL_LIMIT: u64 = 64 * GIB;
/// An ONNX model loaded by the local CPU engine (protobuf cannot hold more than 2 GiB).
pub const ONNX_LIMIT: u64 = 2 * GIB;
/// A generative model's `tokenizer.json`.
pub const TOKENIZER_LIMIT: u64 = 64 * MIB;
/// An AI Hub dataset (HDF5) handed to libhdf5.
pub const DATASET_LIMIT: u64 = 8 * GIB;

/// What a path turned out to be when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Folder,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Other,
}

impl fmt::Display for Special {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Folder => "a folder",
            Self::Fifo => "a FIFO (named pipe)",
            Self::CharDevice => "a character device",
            Self::BlockDevice => "a block device",
            Self::Socket => "a socket",
            Self::Other => "a special file",
        })
    }
}

/// Why a file could not be read within its bounds.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Nothing at the path.
    #[error("{what} `{}` does not exist", path.display())]
    NotFound { what: String, path: PathBuf },
    /// A folder, FIFO, device or socket where a file was expected.
    #[error("{what} `{}` is {kind}, not a regular file", path.display())]
    NotRegular {
        what: String,
        path: PathBuf,
        kind: Special,
    },
    /// Larger than its limit (`size` when the file system told, `None` when it grew while read).
    #[error("{what} `{}` is {}, more than its {} limit", path.display(), size.map_or_else(|| "larger".to_string(), size_text), size_text(*limit))]
    TooLarge {
        what: String,
        path: PathBuf,
        size: Option<u64>,
        limit: u64,
    },
    /// Any other I/O failure (permissions, read errors).
    #[error("cannot read {what} `{}`: {source}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl FileError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::NotFound { path, .. }
            | Self::NotRegular { path, .. }
            | Self::TooLarge { path, .. }
            | Self::Io { path, .. } => path,
        }
    }

    /// What is wrong, without the file's name (for messages that already name it).
    pub fn reason(&self) -> String {
        match self {
            Self::NotFound { .. } => "it does not exist".into(),
            Self::NotRegular { kind, .. } => format!("it is {kind}, not a regular file"),
            Self::TooLarge { size, limit, .. } => format!(
                "it is {}, more than its {} limit",
                size.map_or_else(|| "larger".to_string(), size_text),
                size_text(*limit)
            ),
            Self::Io { source, .. } => source.to_string(),
        }
    }

    /// The error as an `io::Error`, for readers that must return one.
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            Self::NotFound { .. } => io::ErrorKind::NotFound,
            Self::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self.to_string())
    }
}

/// A byte count as people read limits: `64 MiB`, `2 GiB`, `1.5 MiB`, `300 bytes`.
pub fn size_text(bytes: u64) -> String {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if bytes >= unit {
            let v = bytes as f64 / unit as f64;
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{v:.1} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

fn special(ft: &std::fs::FileType) -> Special {
    if ft.is_dir() {
        return Special::Folder;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Special::Fifo;
        }
        if ft.is_char_device() {
            return Special::CharDevice;
        }
        if ft.is_block_device() {
            return Special::BlockDevice;
        }
        if ft.is_socket() {
            return Special::Socket;
        }
    }
    Special::Other
}

/// An open regular file within its limit, read through [`Bounded`].
#[derive(Debug)]
pub struct Opened {
    /// The file, positioned at its start.
    pub file: File,
    /// Its size when opened.
    pub size: u64,
}

/// Opens `path` without blocking, requires a regular file of at most `limit` bytes.
pub fn open(path: &Path, what: &str, limit: u64) -> Result<Opened, FileError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => FileError::NotFound {
            what: what.to_string(),
            path: path.to_path_buf(),
        },
        _ => match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => FileError::NotRegular {
                what: what.to_string(),
                path: path.to_path_buf(),
                kind: special(&m.file_type()),
            },
            _ => FileError::Io {
                what: what.to_string(),
                path: path.to_path_buf(),
                source,
            },
        },
    })?;
    let meta = file.metadata().map_err(|source| FileError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            what: what.to_string(),
            path: path.to_path_buf(),
            kind: special(&meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            what: what.to_string(),
            path: path.to_path_buf(),
            size: Some(meta.len()),
            limit,
        });
    }
    Ok(Opened {
        file,
        size: meta.len(),
    })
}

/// Checks that `path` is a regular file within `limit` (for files a library opens itself, such
/// as libhdf5 or the ONNX loader); returns its size.
pub fn check(path: &Path, what: &str, limit: u64) -> Result<u64, FileError> {
    open(path, what, limit).map(|o| o.size)
}

/// A reader over an opened file that fails once more than the limit has been read (a file that
/// grows while read is refused, never read without end).
#[derive(Debug)]
pub struct Bounded {
    inner: io::Take<File>,
    read: u64,
    limit: u64,
    what: String,
    path: PathBuf,
}

impl Bounded {
    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(FileError::TooLarge {
                what: self.what.clone(),
                path: self.path.clone(),
                size: None,
                limit: self.limit,
            }
            .into_io());
        }
        Ok(n)
    }
}

/// Opens `path` as [`open`] does and returns a reader that stops with an error past `limit`.
pub fn reader(path: &Path, what: &str, limit: u64) -> Result<Bounded, FileError> {
    let opened = open(path, what, limit)?;
    Ok(Bounded {
        inner: opened.file.take(limit.saturating_add(1)),
        read: 0,
        limit,
        what: what.to_string(),
        path: path.to_path_buf(),
    })
}

/// Bytes per read of [`sha256_hex`]: large enough that the system calls cost little next to the
/// hashing (SHA-NI hashes 8 KiB, `io::copy`'s buffer, in about the time of a `read` call).
pub const HASH_BUFFER: usize = 1024 * 1024;

/// Lowercase hex sha256 of everything `reader` yields, read [`HASH_BUFFER`] bytes at a time, so
/// a model of any size is hashed with one buffer of memory.
pub fn sha256_hex(reader: &mut impl Read) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_BUFFER];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hex::encode(hasher.finalize())),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, FileError> {
    let opened = open(path, what, limit)?;
    let size = opened.size;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    opened
        .file
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| FileError::Io {
            what: what.to_string(),
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            what: what.to_string(),
            path: path.to_path_buf(),
            size: None,
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a whole regular file of at most `limit` bytes as UTF-8 text.
pub fn read_to_string(path: &Path, what: &str, limit: u64) -> Result<String, FileError> {
    let bytes = read(path, what, limit)?;
    String::from_utf8(bytes).map_err(|e| FileError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_whole_within_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "hello").expect("write");
        assert_eq!(read(&p, "test file", 5).expect("fits"), b"hello");
        assert_eq!(read_to_string(&p, "test file", 64).expect("text"), "hello");
        let err = read(&p, "test file", 4).expect_err("too large");
        assert!(
            matches!(
                err,
                FileError::TooLarge {
                    size: Some(5),
                    limit: 4,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "test file `{}` is 5 bytes, more than its 4 bytes limit",
                p.display()
            )
        );
    }

    #[test]
    fn missing_files_and_folders_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.yaml");
        let err = read(&missing, "config file", 10).expect_err("missing");
        assert_eq!(
            err.to_string(),
            format!("config file `{}` does not exist", missing.display())
        );
        let err = read(dir.path(), "config file", 10).expect_err("folder");
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: Special::Folder,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("is a folder, not a regular file"));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let err = read(&fifo, "labels file", 10).expect_err("fifo");
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: Special::Fifo,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = read(Path::new("/dev/zero"), "baseline file", 10).expect_err("device");
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    kind: Special::CharDevice,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "baseline file `/dev/zero` is a character device, not a regular file"
        );
    }

    #[test]
    fn the_reader_stops_past_its_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.npy");
        std::fs::write(&p, [7u8; 100]).expect("write");
        let mut r = reader(&p, "input file", 100).expect("opens");
        let mut all = Vec::new();
        r.read_to_end(&mut all).expect("within limit");
        assert_eq!(all.len(), 100);
        assert_eq!(r.bytes_read(), 100);
        let mut r = Bounded {
            inner: File::open(&p).expect("open").take(51),
            read: 0,
            limit: 50,
            what: "input file".into(),
            path: p.clone(),
        };
        let err = r.read_to_end(&mut Vec::new()).expect_err("past the limit");
        assert!(
            err.to_string().contains("more than its 50 bytes limit"),
            "{err}"
        );
    }

    #[test]
    fn models_hash_in_chunks_and_stop_at_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("model.onnx");
        let data: Vec<u8> = (0..HASH_BUFFER * 2 + 7).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).expect("write");
        let mut r = reader(&p, "model", MODEL_LIMIT).expect("opens");
        let expected = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
        assert_eq!(sha256_hex(&mut r).expect("hashed"), expected);
        assert_eq!(r.bytes_read(), data.len() as u64);
        assert_eq!(
            sha256_hex(&mut &b"abc"[..]).expect("hashed"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut bounded = Bounded {
            inner: File::open(&p).expect("open").take(HASH_BUFFER as u64 + 1),
            read: 0,
            limit: HASH_BUFFER as u64,
            what: "model".into(),
            path: p.clone(),
        };
        let err = sha256_hex(&mut bounded).expect_err("past the limit");
        assert!(
            err.to_string().contains("more than its 1 MiB limit"),
            "{err}"
        );
    }

    #[test]
    fn sizes_read_like_limits() {
        assert_eq!(size_text(64 * MIB), "64 MiB");
        assert_eq!(size_text(2 * GIB), "2 GiB");
        assert_eq!(size_text(MIB + MIB / 2), "1.5 MiB");
        assert_eq!(size_text(300), "300 bytes");
        assert_eq!(size_text(64 * KIB), "64 KiB");
    }
}
