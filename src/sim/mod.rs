//! A local AI Hub simulator speaking the same wire protocol (`edgegate hub-sim`).

/// The API token `edgegate hub-sim` accepts when `--token` is not given.
pub const DEFAULT_TOKEN: &str = "edgegate-sim-token";
