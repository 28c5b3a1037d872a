//! Checks one case's outputs against its `expected`, one file per family of expectations:
//! `text` (exact, contains, regex, json_schema), `label` (label, top_k), `tensor` (closeness to a
//! reference `.npy`), joined by the dispatcher `check`. `context` (what checking needs) and
//! `outcome` / `outputs` (what a check concludes, how outputs are read) sit below every family.
//! Knows nothing of devices beyond their outputs.

mod check;
mod context;
mod label;
mod outcome;
mod outputs;
mod tensor;
mod text;

#[cfg(test)]
mod tests;

pub use check::{check_case, describe_expected, skipped_case};
pub use context::{EvalContext, LabelsError};
pub use label::resolve_label;
pub use outcome::MAX_ACTUAL_CHARS;
pub use outputs::{rank, tensor_summary};
pub use tensor::{DEFAULT_ATOL, DEFAULT_RTOL};
