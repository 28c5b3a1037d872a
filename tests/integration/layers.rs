//! The layer order of ARCHITECTURE.md, enforced: no source file imports a higher layer, and no
//! two source files import each other (directly or through others). Read from the `crate::` and
//! `super::` paths in `src/`, so an upward import fails CI with the file that made it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::repo;

/// Rank of each top-level module, lowest first; a file may use modules of its own rank or lower.
/// Modules of one rank above the bottom may not use each other (device and sim stay apart).
const LAYERS: &[&[&str]] = &[
    &[
        "results", "ci", "config", "tensor", "onnx", "files", "http", "dtype", "exit", "generate",
    ],
    &["hub"],
    &["device", "sim"],
    &["eval"],
    &["engine"],
    &["report"],
    &["commands", "server"],
    &["cli"],
];

fn rank(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

/// Module path of a source file: `src/a/b.rs` → `[a, b]`, `src/a/mod.rs` → `[a]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_string();
        if !matches!(stem.as_str(), "mod" | "lib" | "main") {
            parts.push(stem);
        }
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every module path a file names through `crate::…` or `super::…` (groups expanded one level).
fn referenced(text: &str, module: &[String], is_mod_rs: bool) -> Vec<Vec<String>> {
    let path_re = regex::Regex::new(
        r"\b(crate|super)((?:::super)*)::(\{[^}]*\}|[a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)",
    )
    .expect("regex");
    let mut out = Vec::new();
    let mut in_tests = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("mod tests") {
            in_tests = true;
        }
        for c in path_re.captures_iter(line) {
            let base: Vec<String> = if &c[1] == "crate" {
                Vec::new()
            } else {
                let supers = 1 + c[2].matches("super").count();
                let mut here: Vec<String> = module.to_vec();
                if in_tests {
                    here.push("tests".into());
                }
                let levels = if is_mod_rs { supers - 1 } else { supers };
                let keep = here
                    .len()
                    .saturating_sub(levels + usize::from(in_tests && is_mod_rs));
                let keep = if in_tests && is_mod_rs {
                    keep + 1
                } else {
                    keep
                };
                here.truncate(keep.min(here.len()));
                here
            };
            let tail = &c[3];
            let items: Vec<String> = if let Some(group) = tail.strip_prefix('{') {
                group
                    .trim_end_matches('}')
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            } else {
                vec![tail.to_string()]
            };
            for item in items {
                let mut p = base.clone();
                p.extend(
                    item.split("::")
                        .map(str::trim)
                        .filter(|s| {
                            s.chars()
                                .next()
                                .is_some_and(|ch| ch.is_ascii_lowercase() || ch == '_')
                        })
                        .map(String::from),
                );
                out.push(p);
            }
        }
    }
    out
}

/// The source file that holds a module path: its longest prefix that is a file.
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let rel: PathBuf = path[..n].iter().collect();
        let file = src.join(&rel).with_extension("rs");
        let dir_mod = src.join(&rel).join("mod.rs");
        [file, dir_mod].into_iter().find(|p| p.is_file())
    })
}

#[test]
fn no_file_imports_a_higher_layer_and_no_files_import_each_other() {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src").to_path_buf();
        let module = module_of(&rel);
        let Some(top) = module.first() else { continue };
        let text = std::fs::read_to_string(file).expect("read source");
        let is_mod_rs = rel.file_name().is_some_and(|n| n == "mod.rs");
        for path in referenced(&text, &module, is_mod_rs) {
            let Some(target_top) = path.first() else {
                continue;
            };
            if let (Some(from), Some(to)) = (rank(top), rank(target_top))
                && (to > from || (to == from && from > 0 && target_top != top))
            {
                upward.push(format!(
                    "src/{} uses `{}` ({target_top} is above {top} in ARCHITECTURE.md's layer order)",
                    rel.display(),
                    path.join("::")
                ));
            }
            if let Some(target) = file_of(&src, &path) {
                let target = target.strip_prefix(&src).expect("under src").to_path_buf();
                if target != rel {
                    edges.entry(rel.clone()).or_default().insert(target);
                }
            }
        }
    }
    upward.sort();
    upward.dedup();
    let cycles = cycles(&edges);
    assert!(
        upward.is_empty() && cycles.is_empty(),
        "layer violations:\n{}\nimport cycles between files:\n{}",
        upward.join("\n"),
        cycles.join("\n")
    );
}

/// Strongly connected groups of more than one file, each printed as `a.rs ↔ b.rs ↔ …`.
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<String> {
    let nodes: BTreeSet<&PathBuf> = edges.keys().chain(edges.values().flatten()).collect();
    let reach = |from: &PathBuf| -> BTreeSet<PathBuf> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in edges.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&PathBuf, BTreeSet<PathBuf>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (n, r) in &reaches {
        if !r.contains(*n) {
            continue;
        }
        let mut group: Vec<String> = r
            .iter()
            .filter(|m| reaches.get(m).is_some_and(|back| back.contains(*n)))
            .map(|m| format!("src/{}", m.display()))
            .collect();
        group.sort();
        if group.len() > 1 {
            groups.insert(group);
        }
    }
    groups.into_iter().map(|g| g.join(" ↔ ")).collect()
}
