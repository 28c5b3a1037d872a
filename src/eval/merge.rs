//! Joining the results of a sharded run (`run --shard i/n`, one CI job per shard) into the one
//! results file an unsharded run would have written: the devices in config order, the counts
//! and the verdict recomputed from the devices by [`super::summarize`]. Pure: reads and writes
//! nothing; refuses shards that do not belong together.

use std::collections::BTreeMap;

use crate::results::{Results, ShardInfo, ToolInfo, Verdict};

/// One shard's results and the name it is known by in messages (its file).
#[derive(Debug, Clone)]
pub struct ShardResults {
    pub name: String,
    pub results: Results,
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("nothing to merge: give the results files of every shard")]
    Empty,
    #[error(
        "`{0}` is not the results of a shard (it was written without `run --shard i/n`); merge \
         needs one results file per shard"
    )]
    NotAShard(String),
    #[error("`{a}` and `{b}` are runs of different pipelines (`{a_value}` and `{b_value}`)")]
    Pipeline {
        a: String,
        b: String,
        a_value: String,
        b_value: String,
    },
    #[error(
        "`{a}` and `{b}` were run with different configs or promptpacks (config sha256 {a_value} \
         and {b_value}); run every shard from the same commit"
    )]
    Config {
        a: String,
        b: String,
        a_value: String,
        b_value: String,
    },
    #[error("`{a}` and `{b}` tested different models (sha256 {a_value} and {b_value})")]
    Model {
        a: String,
        b: String,
        a_value: String,
        b_value: String,
    },
    #[error("`{a}` and `{b}` compared against different baselines")]
    Baseline { a: String, b: String },
    #[error(
        "`{a}` and `{b}` split the matrix differently (shard {a_value} and {b_value}); every \
         shard needs the same n in `--shard i/n`"
    )]
    ShardCount {
        a: String,
        b: String,
        a_value: String,
        b_value: String,
    },
    #[error("`{a}` and `{b}` saw different enabled devices in the matrix")]
    Matrix { a: String, b: String },
    #[error("`{a}` and `{b}` are both shard {index}/{count}")]
    Duplicate {
        a: String,
        b: String,
        index: u32,
        count: u32,
    },
    #[error("shard{} {} of {count} missing: give the results file of every shard", if .missing.len() == 1 { "" } else { "s" }, join(.missing))]
    Missing { missing: Vec<u32>, count: u32 },
    #[error(
        "`{file}` (shard {index}/{count}) holds device `{device}`, which is not in that shard \
         of the matrix"
    )]
    Device {
        file: String,
        device: String,
        index: u32,
        count: u32,
    },
    #[error(
        "device{} {} of the matrix {} no result in any shard",
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", "),
        if .0.len() == 1 { "has" } else { "have" }
    )]
    MissingDevices(Vec<String>),
}

fn join(v: &[u32]) -> String {
    v.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Merges every shard of one run into the results of the whole matrix.
pub fn merge(shards: Vec<ShardResults>) -> Result<Results, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    let info = |s: &ShardResults| -> Result<ShardInfo, MergeError> {
        s.results
            .shard
            .clone()
            .ok_or_else(|| MergeError::NotAShard(s.name.clone()))
    };
    let first_info = info(first)?;
    let mut by_index: BTreeMap<u32, &ShardResults> = BTreeMap::new();
    for s in &shards {
        let si = info(s)?;
        same(first, s)?;
        if si.count != first_info.count {
            return Err(MergeError::ShardCount {
                a: first.name.clone(),
                b: s.name.clone(),
                a_value: format!("{}/{}", first_info.index, first_info.count),
                b_value: format!("{}/{}", si.index, si.count),
            });
        }
        if si.matrix != first_info.matrix {
            return Err(MergeError::Matrix {
                a: first.name.clone(),
                b: s.name.clone(),
            });
        }
        if let Some(other) = by_index.insert(si.index, s) {
            return Err(MergeError::Duplicate {
                a: other.name.clone(),
                b: s.name.clone(),
                index: si.index,
                count: si.count,
            });
        }
    }
    let count = first_info.count;
    let missing: Vec<u32> = (1..=count).filter(|i| !by_index.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count });
    }

    // Every device must come from the shard the round-robin rule gives it, once.
    let matrix = &first_info.matrix;
    let mut devices = BTreeMap::new();
    for (index, s) in &by_index {
        for d in &s.results.devices {
            let home = matrix
                .iter()
                .position(|m| *m == d.name)
                .map(|p| (p % count as usize) as u32 + 1);
            if home != Some(*index) || devices.contains_key(&d.name) {
                return Err(MergeError::Device {
                    file: s.name.clone(),
                    device: d.name.clone(),
                    index: *index,
                    count,
                });
            }
            devices.insert(d.name.clone(), d.clone());
        }
    }
    let absent: Vec<String> = matrix
        .iter()
        .filter(|m| !devices.contains_key(*m))
        .cloned()
        .collect();
    let interrupted = shards.iter().any(|s| s.results.interrupted);
    // A shard stopped early may lack devices; its devices then count as not measured.
    if !absent.is_empty() && !interrupted {
        return Err(MergeError::MissingDevices(absent));
    }
    let devices: Vec<_> = matrix.iter().filter_map(|m| devices.remove(m)).collect();
    let (summary, mut verdict) = super::summarize(&devices);
    if interrupted {
        verdict = Verdict::Error;
    }

    let started_at = shards
        .iter()
        .map(|s| s.results.started_at.clone())
        .min_by(|a, b| time(a).cmp(&time(b)).then_with(|| a.cmp(b)))
        .unwrap_or_default();
    let finished_at = shards
        .iter()
        .map(|s| s.results.finished_at.clone())
        .max_by(|a, b| time(a).cmp(&time(b)).then_with(|| a.cmp(b)))
        .unwrap_or_default();
    let duration_s = match (time(&started_at), time(&finished_at)) {
        (Some(a), Some(b)) if b >= a => (b - a).num_milliseconds() as f64 / 1000.0,
        _ => shards
            .iter()
            .map(|s| s.results.duration_s)
            .fold(0.0, f64::max),
    };
    let base = &first.results;
    Ok(Results {
        results_version: base.results_version,
        tool: ToolInfo {
            name: "edgegate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        pipeline: base.pipeline.clone(),
        config_path: base.config_path.clone(),
        config_digest: base.config_digest.clone(),
        model: base.model.clone(),
        promptpack: base.promptpack.clone(),
        ci: base.ci.clone(),
        baseline: base.baseline.clone(),
        baseline_model: base.baseline_model.clone(),
        environment: base.environment.clone(),
        warnings: {
            let mut w: Vec<String> = Vec::new();
            for s in shards {
                for x in &s.results.warnings {
                    if !w.contains(x) {
                        w.push(x.clone());
                    }
                }
            }
            w
        },
        started_at,
        finished_at,
        duration_s,
        interrupted,
        shard: None,
        devices,
        summary,
        verdict,
    })
}

/// Refuses two shards of different pipelines, configs, models or baselines.
fn same(a: &ShardResults, b: &ShardResults) -> Result<(), MergeError> {
    let (x, y) = (&a.results, &b.results);
    let pair = |av: &str, bv: &str| (a.name.clone(), b.name.clone(), av.into(), bv.into());
    if x.pipeline != y.pipeline {
        let (a, b, a_value, b_value) = pair(&x.pipeline, &y.pipeline);
        return Err(MergeError::Pipeline {
            a,
            b,
            a_value,
            b_value,
        });
    }
    if x.config_digest != y.config_digest {
        let (a, b, a_value, b_value) = pair(&x.config_digest, &y.config_digest);
        return Err(MergeError::Config {
            a,
            b,
            a_value,
            b_value,
        });
    }
    if x.model.sha256 != y.model.sha256 {
        let (a, b, a_value, b_value) = pair(&x.model.sha256, &y.model.sha256);
        return Err(MergeError::Model {
            a,
            b,
            a_value,
            b_value,
        });
    }
    let baseline = |r: &Results| {
        r.baseline
            .as_ref()
            .map(|b| (b.model_sha256.clone(), b.started_at.clone()))
    };
    if baseline(x) != baseline(y) {
        return Err(MergeError::Baseline {
            a: a.name.clone(),
            b: b.name.clone(),
        });
    }
    Ok(())
}

fn time(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u32, count: u32, devices: &[&str]) -> ShardResults {
        let mut results: Results =
            serde_json::from_str(include_str!("../../tests/fixtures/results/passing.json"))
                .expect("fixture");
        let all = results.devices.clone();
        let template = all[0].clone();
        results.devices = devices
            .iter()
            .map(|n| {
                let mut d = template.clone();
                d.name = (*n).into();
                d
            })
            .collect();
        results.shard = Some(ShardInfo {
            index,
            count,
            matrix: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
        });
        ShardResults {
            name: format!("s{index}.json"),
            results,
        }
    }

    #[test]
    fn joins_round_robin_shards_in_config_order() {
        let merged = merge(vec![
            shard(2, 2, &["b", "d"]),
            shard(1, 2, &["a", "c", "e"]),
        ])
        .expect("merges");
        let names: Vec<&str> = merged.devices.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        assert_eq!(merged.summary.devices, 5);
        assert_eq!(merged.verdict, Verdict::Passed);
        assert!(merged.shard.is_none());
    }

    #[test]
    fn verdict_is_recomputed_from_the_devices() {
        let mut failing = shard(2, 2, &["b", "d"]);
        failing.results.devices[1].verdict = Verdict::Failed;
        let merged = merge(vec![shard(1, 2, &["a", "c", "e"]), failing]).expect("merges");
        assert_eq!(merged.verdict, Verdict::Failed);
    }

    #[test]
    fn refuses_shards_that_do_not_belong_together() {
        let a = || shard(1, 2, &["a", "c", "e"]);
        let b = || shard(2, 2, &["b", "d"]);
        assert_eq!(merge(vec![]), Err(MergeError::Empty));
        assert!(matches!(
            merge(vec![a(), a()]),
            Err(MergeError::Duplicate { index: 1, .. })
        ));
        assert!(matches!(merge(vec![a()]), Err(MergeError::Missing { .. })));
        let mut other = b();
        other.results.model.sha256 = "ff".into();
        assert!(matches!(
            merge(vec![a(), other]),
            Err(MergeError::Model { .. })
        ));
        let mut other = b();
        other.results.config_digest = "ff".into();
        assert!(matches!(
            merge(vec![a(), other]),
            Err(MergeError::Config { .. })
        ));
        let mut three = shard(2, 3, &["b", "e"]);
        three.name = "t.json".into();
        assert!(matches!(
            merge(vec![a(), three]),
            Err(MergeError::ShardCount { .. })
        ));
        assert!(matches!(
            merge(vec![a(), shard(2, 2, &["b", "c"])]),
            Err(MergeError::Device { .. })
        ));
        assert!(matches!(
            merge(vec![a(), shard(2, 2, &["b"])]),
            Err(MergeError::MissingDevices(_))
        ));
        let mut plain = b();
        plain.results.shard = None;
        assert!(matches!(
            merge(vec![a(), plain]),
            Err(MergeError::NotAShard(_))
        ));
    }
}
