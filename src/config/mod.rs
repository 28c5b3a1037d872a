//! edgegate.yaml and promptpack types, loading with source positions, validation.
//!
//! This layer knows nothing of AI Hub, devices or reports: it turns files into checked types.

pub mod catalog;
