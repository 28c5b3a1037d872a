//! Where paths named in a config or a promptpack may lead: inside the project root only (the git
//! repository holding the config, or the config's folder outside git), after resolving symlinks.
//!
//! Every consumer of a config or promptpack path resolves it through [`PathPolicy::resolve`], so a
//! pull request cannot point `labels:`, an input, a model or a report at `/proc/self/environ`,
//! `~/.qai_hub/client.ini` or `.git/config`. Paths given on the command line never come here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The job cache, relative to the config's folder (resolved through the policy like any path).
pub const JOB_CACHE_FILE: &str = ".edgegate/cache/jobs.json";

/// Whether paths outside the project root may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutsideProject {
    /// Refused; the person running the command may allow them with `--allow-outside-project`.
    #[default]
    Refused,
    /// Allowed, because `--allow-outside-project` was given on the command line.
    Allowed,
    /// Refused with no way to allow them (a server reading configs it did not write).
    Forbidden,
}

/// Why a path named in a config or promptpack cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path, with symlinks resolved, is not under the project root.
    #[error("`{named}` is outside the project `{}`{}", root.display(), via(named, resolved))]
    Outside {
        named: String,
        resolved: PathBuf,
        root: PathBuf,
    },
    /// The path is inside a `.git` folder, where credentials are kept (`http.extraheader`).
    #[error("`{named}` is inside a `.git` folder, which EdgeGate never reads from a config")]
    GitDir { named: String },
    /// The path climbs with `..` through folders that do not exist, so it cannot be resolved.
    #[error("`{named}` goes up with `..` through a folder that does not exist")]
    UnresolvedParent { named: String },
    /// The path is (or passes through) a symlink whose target does not exist.
    #[error("`{named}` passes through a symlink whose target does not exist")]
    DanglingLink { named: String },
    /// The path could not be resolved at all (permissions, a symlink loop).
    #[error("cannot resolve `{named}`: {message}")]
    Unresolvable { named: String, message: String },
}

fn via(named: &str, resolved: &Path) -> String {
    if Path::new(named) == resolved {
        String::new()
    } else {
        format!(" (it resolves to `{}`)", resolved.display())
    }
}

/// The rule for paths named in a config or promptpack: the project root and whether leaving it
/// is allowed. The only place in EdgeGate that decides whether such a path may be used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathPolicy {
    root: PathBuf,
    outside: OutsideProject,
}

impl PathPolicy {
    /// The policy of a config file: its project root is the nearest enclosing folder holding
    /// `.git` (a folder, or the file of a worktree), else the config's own folder.
    pub fn for_config(config_path: &Path, outside: OutsideProject) -> Self {
        Self {
            root: project_root(config_path),
            outside,
        }
    }

    /// Paths are confined to `root` and no flag can allow others (for a server).
    pub fn confined(root: &Path) -> Self {
        Self {
            root: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
            outside: OutsideProject::Forbidden,
        }
    }

    /// The project root (canonical); empty for the default policy, which refuses every path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether paths outside the root are allowed.
    pub fn outside(&self) -> OutsideProject {
        self.outside
    }

    /// `named` (from a config or promptpack) joined to `base`, or why it may not be used.
    ///
    /// Symlinks are resolved first; for a path that does not exist yet (an output), the nearest
    /// existing ancestor is resolved and `..` is refused in the rest. The returned path is the
    /// joined one, for messages that read as the user wrote them.
    pub fn resolve(&self, base: &Path, named: &str) -> Result<PathBuf, PathError> {
        let joined = base.join(named);
        if self.outside == OutsideProject::Allowed {
            return Ok(joined);
        }
        let real = real_path(&joined, named)?;
        let inside = !self.root.as_os_str().is_empty() && real.starts_with(&self.root);
        if !inside {
            return Err(PathError::Outside {
                named: named.to_string(),
                resolved: real,
                root: self.root.clone(),
            });
        }
        let below = real.strip_prefix(&self.root).unwrap_or(&real);
        if below
            .components()
            .any(|c| c.as_os_str() == std::ffi::OsStr::new(".git"))
        {
            return Err(PathError::GitDir {
                named: named.to_string(),
            });
        }
        Ok(joined)
    }

    /// What to do about a file this policy refused to read, for a diagnostic's help line.
    pub fn help(&self) -> String {
        self.advice("move the file into the project")
    }

    /// What to do about an output this policy refused to write; `flag` names it on the command
    /// line instead (`--junit`).
    pub fn output_help(&self, flag: &str) -> String {
        match self.outside {
            OutsideProject::Forbidden => self.advice("write it inside the project"),
            _ => self.advice(&format!(
                "write it inside the project or name it on the command line (`{flag} PATH`)"
            )),
        }
    }

    /// A help line: `fix`, then the way out this policy allows (if any) and the project root.
    pub fn advice(&self, fix: &str) -> String {
        match self.outside {
            OutsideProject::Forbidden => format!(
                "{fix}; paths outside the project `{}` are never used here",
                self.root.display()
            ),
            _ => format!(
                "{fix}, or pass `--allow-outside-project` on the command line if you trust this \
                 config (the project is `{}`: the git repository holding the config, or the \
                 config's folder outside git)",
                self.root.display()
            ),
        }
    }
}

/// The project root of a config: the nearest folder holding `.git`, else the config's folder.
pub fn project_root(config_path: &Path) -> PathBuf {
    let dir = match config_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors()
        .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok())
        .unwrap_or(&dir)
        .to_path_buf()
}

/// The path with every symlink resolved; for a path that does not exist, its nearest existing
/// ancestor resolved and the rest appended (which may not hold `..` nor a dangling symlink).
fn real_path(path: &Path, named: &str) -> Result<PathBuf, PathError> {
    let unresolvable = |e: std::io::Error| PathError::Unresolvable {
        named: named.to_string(),
        message: e.to_string(),
    };
    match std::fs::canonicalize(path) {
        Ok(p) => return Ok(p),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(unresolvable(e)),
        Err(_) => {}
    }
    let mut rest: Vec<OsString> = Vec::new();
    let mut cur = path;
    loop {
        let Some(name) = cur.file_name() else {
            return Err(PathError::UnresolvedParent {
                named: named.to_string(),
            });
        };
        if std::fs::symlink_metadata(cur).is_ok() {
            return Err(PathError::DanglingLink {
                named: named.to_string(),
            });
        }
        rest.push(name.to_os_string());
        let parent = match cur.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        match std::fs::canonicalize(parent) {
            Ok(mut real) => {
                for part in rest.iter().rev() {
                    real.push(part);
                }
                return Ok(real);
            }
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(unresolvable(e)),
            Err(_) => cur = parent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tree {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        outside: PathBuf,
    }

    fn tree() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let root = base.join("proj");
        let outside = base.join("elsewhere");
        std::fs::create_dir_all(root.join("packs")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("packs/labels.txt"), "cat\n").unwrap();
        std::fs::write(outside.join("token.env"), "T=1\n").unwrap();
        Tree {
            _tmp: tmp,
            root,
            outside,
        }
    }

    fn policy(t: &Tree) -> PathPolicy {
        PathPolicy::for_config(&t.root.join("edgegate.yaml"), OutsideProject::Refused)
    }

    #[test]
    fn relative_paths_inside_resolve_to_the_joined_path() {
        let t = tree();
        let p = policy(&t);
        assert_eq!(p.root(), t.root);
        assert_eq!(
            p.resolve(&t.root.join("packs"), "labels.txt"),
            Ok(t.root.join("packs/labels.txt"))
        );
        assert_eq!(
            p.resolve(&t.root.join("packs"), "../packs/labels.txt"),
            Ok(t.root.join("packs/../packs/labels.txt"))
        );
        let abs = t.root.join("packs/labels.txt");
        assert_eq!(p.resolve(&t.root, abs.to_str().unwrap()), Ok(abs.clone()));
    }

    #[test]
    fn absolute_and_parent_paths_outside_are_refused() {
        let t = tree();
        let p = policy(&t);
        let secret = t.outside.join("token.env");
        let e = p.resolve(&t.root, secret.to_str().unwrap()).unwrap_err();
        assert!(matches!(&e, PathError::Outside { resolved, .. } if *resolved == secret));
        let e = p
            .resolve(&t.root.join("packs"), "../../elsewhere/token.env")
            .unwrap_err();
        assert!(matches!(&e, PathError::Outside { resolved, .. } if *resolved == secret));
        assert!(matches!(
            p.resolve(&t.root, "/proc/self/environ"),
            Err(PathError::Outside { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_resolved_before_the_check() {
        let t = tree();
        let p = policy(&t);
        std::os::unix::fs::symlink(t.outside.join("token.env"), t.root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(&t.outside, t.root.join("out")).unwrap();
        std::os::unix::fs::symlink(t.outside.join("nope"), t.root.join("dangling")).unwrap();
        let e = p.resolve(&t.root, "link.txt").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "`link.txt` is outside the project `{}` (it resolves to `{}`)",
                t.root.display(),
                t.outside.join("token.env").display()
            )
        );
        assert!(matches!(
            p.resolve(&t.root, "out/new/report.xml"),
            Err(PathError::Outside { .. })
        ));
        assert_eq!(
            p.resolve(&t.root, "dangling"),
            Err(PathError::DanglingLink {
                named: "dangling".into()
            })
        );
    }

    #[test]
    fn outputs_that_do_not_exist_yet_resolve_through_their_nearest_folder() {
        let t = tree();
        let p = policy(&t);
        assert_eq!(
            p.resolve(&t.root, "out/deep/results.json"),
            Ok(t.root.join("out/deep/results.json"))
        );
        assert_eq!(
            p.resolve(&t.root, "missing/../../elsewhere/x"),
            Err(PathError::UnresolvedParent {
                named: "missing/../../elsewhere/x".into()
            })
        );
        assert!(matches!(
            p.resolve(&t.root, "../elsewhere/new.xml"),
            Err(PathError::Outside { .. })
        ));
    }

    #[test]
    fn the_git_folder_is_refused_and_marks_the_root() {
        let t = tree();
        std::fs::create_dir_all(t.root.join(".git")).unwrap();
        std::fs::write(t.root.join(".git/config"), "[http]\n").unwrap();
        let p =
            PathPolicy::for_config(&t.root.join("packs/edgegate.yaml"), OutsideProject::Refused);
        assert_eq!(p.root(), t.root);
        assert_eq!(
            p.resolve(&t.root.join("packs"), "../.git/config"),
            Err(PathError::GitDir {
                named: "../.git/config".into()
            })
        );
        assert_eq!(
            p.resolve(&t.root.join("packs"), "../packs/labels.txt"),
            Ok(t.root.join("packs/../packs/labels.txt"))
        );
    }

    #[test]
    fn allowed_skips_the_check_and_default_refuses_everything() {
        let t = tree();
        let p = PathPolicy::for_config(&t.root.join("edgegate.yaml"), OutsideProject::Allowed);
        assert_eq!(
            p.resolve(&t.root, "/proc/self/environ"),
            Ok(PathBuf::from("/proc/self/environ"))
        );
        assert!(
            PathPolicy::default()
                .resolve(&t.root, "packs/labels.txt")
                .is_err()
        );
        let server = PathPolicy::confined(&t.root);
        assert_eq!(server.outside(), OutsideProject::Forbidden);
        assert!(server.resolve(&t.root, "../elsewhere/token.env").is_err());
        assert!(!server.help().contains("--allow-outside-project"));
        assert!(policy(&t).help().contains("--allow-outside-project"));
    }
}
