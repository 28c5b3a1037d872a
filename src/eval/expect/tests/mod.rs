//! Tests of the expectation checks, one file per family, through the public `check_case`; only
//! declares the files.

mod check;
mod label;
mod support;
mod tensor;
mod text;
