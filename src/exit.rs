//! Exit codes: the contract between EdgeGate and the CI system that runs it.
//!
//! They are kept apart everywhere: a gate that could not be measured is never a pass,
//! and a broken config never looks like a failed gate. Only `commands` decides which one a
//! command exits with.

/// Every gate was evaluated and held.
pub const PASSED: i32 = 0;
/// At least one gate was evaluated and did not hold.
pub const GATE_FAILED: i32 = 1;
/// The config, promptpack or command line is wrong; nothing ran.
pub const INVALID_INPUT: i32 = 2;
/// No gate failed, but something could not be measured or the run could not complete
/// (device unavailable, job failed, timeout, AI Hub unreachable, interrupted).
pub const COULD_NOT_COMPLETE: i32 = 3;
