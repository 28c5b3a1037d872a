//! Evaluation: expectations per case, metric aggregation, gates, baseline comparison, verdicts.
//! Works on measurements and outputs only; knows nothing of HTTP or devices' internals.
