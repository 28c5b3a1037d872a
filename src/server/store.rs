//! Where model artifacts live, behind [`ArtifactStore`]: the API streams an upload to a staging
//! file while hashing it, then hands it to the store under its sha256; a worker asks the store for
//! a local file to run; a download streams from it. [`LocalDirStore`] keeps the bytes in a
//! directory: the data dir by default, or `--shared-dir`, any directory that every API process and
//! worker mounts (NFS, SMB, a shared volume).
//!
//! An S3-compatible bucket would be one more implementation, chosen by a URL such as
//! `--shared-dir s3://bucket/prefix`: `put` uploads the staged file to `<prefix>/<sha256>`
//! (multipart, `If-None-Match: *` so equal bytes are stored once), `contains` is a `HEAD`, `open`
//! streams a `GET`, and `local_path` downloads the object once into a local cache directory
//! keyed by the sha256 (checking the hash) so a run reads a plain file. Nothing outside this file
//! would change; the AI Hub job cache would then move into the database, since a bucket has no
//! file locks. Holds no routes and never touches the database.

use std::io;
use std::path::{Path, PathBuf};

/// Stored model artifacts, addressed by the lowercase hex sha256 of their bytes.
pub trait ArtifactStore: Send + Sync {
    /// A local directory uploads are streamed into before [`ArtifactStore::put`].
    fn staging_dir(&self) -> &Path;
    /// Stores a fully written upload whose bytes hash to `sha256`; storing equal bytes twice
    /// keeps one copy.
    fn put(&self, upload: tempfile::NamedTempFile, sha256: &str) -> io::Result<()>;
    /// The size of the stored bytes, or `NotFound`.
    fn size(&self, sha256: &str) -> io::Result<u64>;
    /// The stored bytes as a stream, for a download.
    fn open(&self, sha256: &str) -> io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>>;
    /// A local file holding the bytes, for a run to read.
    fn local_path(&self, sha256: &str) -> io::Result<PathBuf>;
}

/// Artifacts as files named by their sha256 in `<root>/artifacts`, staged in `<root>/tmp` (the
/// same file system, so storing is an atomic rename).
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    blobs: PathBuf,
    staging: PathBuf,
}

impl LocalDirStore {
    /// A store under `root`, creating its folders.
    pub fn open(root: &Path) -> io::Result<Self> {
        let store = Self {
            blobs: root.join("artifacts"),
            staging: root.join("tmp"),
        };
        std::fs::create_dir_all(&store.blobs)?;
        std::fs::create_dir_all(&store.staging)?;
        Ok(store)
    }

    fn path(&self, sha256: &str) -> io::Result<PathBuf> {
        if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(self.blobs.join(sha256))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a sha256 artifact address",
            ))
        }
    }
}

impl ArtifactStore for LocalDirStore {
    fn staging_dir(&self) -> &Path {
        &self.staging
    }

    fn put(&self, upload: tempfile::NamedTempFile, sha256: &str) -> io::Result<()> {
        let dest = self.path(sha256)?;
        if dest.is_file() {
            return Ok(());
        }
        upload.persist(&dest).map(|_| ()).map_err(|e| e.error)
    }

    fn size(&self, sha256: &str) -> io::Result<u64> {
        Ok(std::fs::metadata(self.path(sha256)?)?.len())
    }

    fn open(&self, sha256: &str) -> io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        let file = std::fs::File::open(self.path(sha256)?)?;
        Ok(Box::new(tokio::fs::File::from_std(file)))
    }

    fn local_path(&self, sha256: &str) -> io::Result<PathBuf> {
        let path = self.path(sha256)?;
        if path.is_file() {
            Ok(path)
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the artifact file `{}` is missing", path.display()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn equal_bytes_are_stored_once_and_bad_addresses_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalDirStore::open(dir.path()).expect("store");
        let sha = "ab".repeat(32);
        for _ in 0..2 {
            let mut f = tempfile::NamedTempFile::new_in(store.staging_dir()).expect("tmp");
            f.write_all(b"model").expect("write");
            store.put(f, &sha).expect("put");
        }
        assert_eq!(store.size(&sha).ok(), Some(5));
        assert_eq!(
            store.local_path(&sha).ok(),
            Some(dir.path().join("artifacts").join(&sha))
        );
        assert_eq!(
            std::fs::read_dir(store.staging_dir())
                .map(|d| d.count())
                .ok(),
            Some(0)
        );
        for bad in ["../etc/passwd", "", &"zz".repeat(32)] {
            assert_eq!(
                store.local_path(bad).map_err(|e| e.kind()).err(),
                Some(io::ErrorKind::InvalidInput)
            );
        }
    }
}
