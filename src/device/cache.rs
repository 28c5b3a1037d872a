//! The local job cache: finished AI Hub uploads, compile, profile and inference jobs, keyed by
//! everything that decides their result (hub URL, model sha256, device, runtime, options, inputs),
//! so an unchanged model on an unchanged device re-reads earlier results instead of spending
//! device minutes again.
//!
//! The file is `.edgegate/cache/jobs.json` beside the config (commit-free: add `.edgegate/cache/`
//! to `.gitignore`; CI caches can keep it between runs). Only jobs that ended DONE are stored.
//! A missing or unreadable file is an empty cache; `edgegate run --no-cache` ignores it.
//! Writers hold an exclusive lock on `jobs.lock` beside it while they re-read, merge and replace
//! the file, so concurrent runs (and devices) never drop each other's entries.
//!
//! The keys and job options are built here, so the plan (`run --dry-run`) and the AI Hub backend
//! compute them the same way. This file knows the config's model kinds and runtimes, never the
//! engine or the AI Hub client.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::types::{ModelKind, Runtime};

/// The cache file, relative to the folder of the config.
pub const CACHE_FILE: &str = crate::config::paths::JOB_CACHE_FILE;
/// Entries kept; the oldest go first, so the file stays small on a long-lived CI cache.
pub const MAX_ENTRIES: usize = 2000;
/// Format version of the cache file; a file of another version is ignored.
pub const CACHE_VERSION: u32 = 1;

/// What was cached: an upload or a job kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CachedKind {
    /// The model upload (value: the AI Hub model id).
    Upload,
    /// A compile job (value: job id and target model id).
    Compile,
    /// A profile job.
    Profile,
    /// An inference job.
    Inference,
}

/// Everything that decides a job's result; two equal keys give the same measurements.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CacheKey {
    /// The kind of job.
    pub kind: CachedKind,
    /// The AI Hub API base URL.
    pub hub_url: String,
    /// sha256 of the source model file.
    pub model_sha256: String,
    /// The AI Hub device name (empty for uploads).
    pub device: String,
    /// The target runtime (empty for uploads).
    pub runtime: String,
    /// Compile options as sent (empty for uploads).
    pub compile_options: String,
    /// Profile or inference options as sent (empty for uploads and compiles).
    pub job_options: String,
    /// sha256 of the inference inputs (empty except for inference jobs).
    pub inputs_sha256: String,
}

impl CacheKey {
    /// A stable hex digest of the key, the entry's name in the file.
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// One finished job (or upload) that can be reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedJob {
    /// The key it was stored under, kept readable for people inspecting the file.
    pub key: CacheKey,
    /// The job id (the model id for uploads).
    pub id: String,
    /// The compiled model a compile job produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_model_id: Option<String>,
    /// When it was stored, seconds since the Unix epoch.
    pub saved_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: BTreeMap<String, CachedJob>,
}

/// The cache of one run: read once, written through on every new finished job.
#[derive(Debug)]
pub struct JobCache {
    path: PathBuf,
    entries: Mutex<BTreeMap<String, CachedJob>>,
}

impl JobCache {
    /// The default cache file for a config in `config_dir`.
    pub fn default_path(config_dir: &Path) -> PathBuf {
        config_dir.join(CACHE_FILE)
    }

    /// Opens a cache file; a missing, unreadable or foreign-version file gives an empty cache.
    pub fn open(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            entries: Mutex::new(read_entries(path)),
        }
    }

    /// The file this cache reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached job for a key, if any.
    pub fn get(&self, key: &CacheKey) -> Option<CachedJob> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&key.digest())
            .filter(|j| j.key == *key)
            .cloned()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores a finished job and writes the file, merged with what other writers (another
    /// cache of this process, another `edgegate run` on the same project) stored meanwhile.
    pub fn put(&self, key: CacheKey, id: &str, target_model_id: Option<&str>) {
        let job = CachedJob {
            id: id.to_string(),
            target_model_id: target_model_id.map(str::to_string),
            saved_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            key,
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let digest = job.key.digest();
        if entries.get(&digest) == Some(&job) {
            return;
        }
        entries.insert(digest, job);
        match write_merged(&self.path, &entries) {
            Ok(merged) => *entries = merged,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "could not write the job cache")
            }
        }
    }
}

/// Under the cache's lock: re-reads the file, adds `ours` (the newer entry wins a tie of keys),
/// drops the oldest entries past [`MAX_ENTRIES`] and replaces the file; returns what it wrote.
/// Without the lock two writers could each read the file before the other replaced it, and the
/// second rename would drop the first writer's new entries.
fn write_merged(
    path: &Path,
    ours: &BTreeMap<String, CachedJob>,
) -> std::io::Result<BTreeMap<String, CachedJob>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let _lock = lock(path)?;
    let mut merged = read_entries(path);
    for (digest, job) in ours {
        if merged
            .get(digest)
            .is_none_or(|theirs| theirs.saved_at <= job.saved_at)
        {
            merged.insert(digest.clone(), job.clone());
        }
    }
    while merged.len() > MAX_ENTRIES {
        let oldest = merged
            .iter()
            .min_by_key(|(_, j)| j.saved_at)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => merged.remove(&k),
            None => break,
        };
    }
    write_entries(path, &merged)?;
    Ok(merged)
}

/// An exclusive lock on `<cache>.lock`, held until the returned file is dropped. A file system
/// without locks is written unlocked, as before.
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))?;
    match file.lock() {
        Ok(()) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(file),
        Err(e) => Err(e),
    }
}

fn read_entries(path: &Path) -> BTreeMap<String, CachedJob> {
    let bytes = match crate::files::read(path, "job cache", crate::files::JOB_CACHE_LIMIT) {
        Ok(bytes) => bytes,
        Err(crate::files::FileError::NotFound { .. }) => return BTreeMap::new(),
        Err(e) => {
            tracing::warn!("ignoring the job cache: {e}");
            return BTreeMap::new();
        }
    };
    match serde_json::from_slice::<CacheFile>(&bytes) {
        Ok(f) if f.version == CACHE_VERSION => f.entries,
        Ok(_) => BTreeMap::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable job cache");
            BTreeMap::new()
        }
    }
}

fn write_entries(path: &Path, entries: &BTreeMap<String, CachedJob>) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let file = CacheFile {
        version: CACHE_VERSION,
        entries: entries.clone(),
    };
    let text = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!(
        "json.{}.{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// What decides a device's cached jobs, besides the job's own options.
pub struct JobKeyParts<'a> {
    /// The AI Hub API base URL.
    pub hub_url: &'a str,
    /// sha256 of the model file.
    pub model_sha256: &'a str,
    /// The model's format.
    pub model_kind: ModelKind,
    /// The AI Hub device name.
    pub hub_device: &'a str,
    /// The target runtime.
    pub runtime: Runtime,
    /// The user's extra compile options.
    pub compile_options: Option<&'a str>,
}

/// The cache key of a device's job; the plan and the backend compute it the same way.
pub fn job_key(
    parts: &JobKeyParts<'_>,
    kind: CachedKind,
    job_options: &str,
    inputs_sha256: &str,
) -> CacheKey {
    CacheKey {
        kind,
        hub_url: parts.hub_url.to_string(),
        model_sha256: parts.model_sha256.to_string(),
        device: parts.hub_device.to_string(),
        runtime: parts.runtime.as_str().to_string(),
        compile_options: if parts.model_kind.needs_compile(parts.runtime) {
            compile_options(parts.runtime, parts.compile_options)
        } else {
            String::new()
        },
        job_options: job_options.to_string(),
        inputs_sha256: inputs_sha256.to_string(),
    }
}

/// The cache key of a model upload.
pub fn upload_key(hub_url: &str, model_sha256: &str) -> CacheKey {
    CacheKey {
        kind: CachedKind::Upload,
        hub_url: hub_url.to_string(),
        model_sha256: model_sha256.to_string(),
        device: String::new(),
        runtime: String::new(),
        compile_options: String::new(),
        job_options: String::new(),
        inputs_sha256: String::new(),
    }
}

/// The options of a compile job: the target runtime, then the user's.
pub fn compile_options(runtime: Runtime, extra: Option<&str>) -> String {
    join_options(&format!("--target_runtime {}", runtime.as_str()), extra)
}

/// The options of a profile job: iterations (warm-up + repeats), then the user's.
pub fn profile_options(iterations: u32, extra: Option<&str>) -> String {
    join_options(
        &format!("--max_profiler_iterations {}", iterations.max(1)),
        extra,
    )
}

/// The options of an inference job: the user's profile options.
pub fn inference_options(extra: Option<&str>) -> String {
    extra.map(str::trim).unwrap_or_default().to_string()
}

/// `base` and the user's extra options, space-separated.
fn join_options(base: &str, extra: Option<&str>) -> String {
    match extra.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => format!("{base} {e}"),
        None => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: CachedKind, device: &str) -> CacheKey {
        CacheKey {
            kind,
            hub_url: "http://127.0.0.1:1/".into(),
            model_sha256: "ab".repeat(32),
            device: device.into(),
            runtime: "tflite".into(),
            compile_options: "--target_runtime tflite".into(),
            job_options: String::new(),
            inputs_sha256: String::new(),
        }
    }

    #[test]
    fn entries_survive_a_reopen_and_keys_are_exact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = JobCache::default_path(dir.path());
        let cache = JobCache::open(&path);
        assert!(cache.is_empty());
        cache.put(key(CachedKind::Compile, "RB5 (Proxy)"), "j1", Some("m2"));
        let again = JobCache::open(&path);
        let hit = again
            .get(&key(CachedKind::Compile, "RB5 (Proxy)"))
            .expect("cached");
        assert_eq!(hit.id, "j1");
        assert_eq!(hit.target_model_id.as_deref(), Some("m2"));
        assert!(again.get(&key(CachedKind::Compile, "Other")).is_none());
        assert!(
            again
                .get(&key(CachedKind::Profile, "RB5 (Proxy)"))
                .is_none()
        );
        let mut other_opts = key(CachedKind::Compile, "RB5 (Proxy)");
        other_opts
            .compile_options
            .push_str(" --quantize_full_type w8a8");
        assert!(again.get(&other_opts).is_none());
    }

    #[test]
    fn two_writers_merge_and_garbage_is_an_empty_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("jobs.json");
        let a = JobCache::open(&path);
        let b = JobCache::open(&path);
        a.put(key(CachedKind::Profile, "A"), "ja", None);
        b.put(key(CachedKind::Profile, "B"), "jb", None);
        let c = JobCache::open(&path);
        assert_eq!(c.len(), 2);
        std::fs::write(&path, "{not json").expect("write");
        assert!(JobCache::open(&path).is_empty());
    }

    #[test]
    fn concurrent_writers_keep_every_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("jobs.json");
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let cache = JobCache::open(&path);
                    for i in 0..25 {
                        cache.put(key(CachedKind::Profile, &format!("{w}-{i}")), "j", None);
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        let cache = JobCache::open(&path);
        assert_eq!(cache.len(), 100);
        assert!(cache.get(&key(CachedKind::Profile, "3-24")).is_some());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn keys_ignore_compile_options_when_nothing_is_compiled() {
        let parts = |kind, runtime| JobKeyParts {
            hub_url: "http://h/",
            model_sha256: "ab",
            model_kind: kind,
            hub_device: "RB5 (Proxy)",
            runtime,
            compile_options: Some("--quantize_full_type w8a8"),
        };
        let compiled = job_key(
            &parts(ModelKind::Onnx, Runtime::Tflite),
            CachedKind::Compile,
            "",
            "",
        );
        assert_eq!(
            compiled.compile_options,
            "--target_runtime tflite --quantize_full_type w8a8"
        );
        let direct = job_key(
            &parts(ModelKind::Tflite, Runtime::Tflite),
            CachedKind::Profile,
            "x",
            "",
        );
        assert_eq!(direct.compile_options, "");
        assert_ne!(compiled.digest(), direct.digest());
        assert_eq!(profile_options(0, None), "--max_profiler_iterations 1");
        assert_eq!(
            profile_options(4, Some(" --compute_unit npu ")),
            "--max_profiler_iterations 4 --compute_unit npu"
        );
        assert_eq!(inference_options(None), "");
    }
}
