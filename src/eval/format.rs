//! Number and text formatting shared by case and gate messages, so reports read the same everywhere.

use crate::config::Metric;

/// A number for people: up to six significant digits, no trailing zeros, exponent form only for
/// very small or very large magnitudes.
pub(crate) fn num(x: f64) -> String {
    num_sig(x, 6)
}

/// A number with up to `sig` significant digits (no trailing zeros), for values such as a cosine
/// similarity whose interesting digits come late.
pub(crate) fn num_sig(x: f64, sig: i32) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let mag = x.abs();
    if !(1e-4..1e9).contains(&mag) {
        return format!("{x:.3e}");
    }
    let digits = sig - 1 - mag.log10().floor() as i32;
    let decimals = digits.clamp(0, 10) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A signed number, `+2` or `-0.05`, for deltas.
pub(crate) fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", num(x))
    } else {
        num(x)
    }
}

/// The unit a metric is reported in, as stored in `MetricValue::unit`.
pub(crate) fn unit(metric: Metric) -> &'static str {
    match metric {
        Metric::InferenceTimeMs | Metric::LoadTimeMs | Metric::TtftMs => "ms",
        Metric::PeakMemoryMb | Metric::ModelSizeMb => "MiB",
        Metric::NpuComputePercent | Metric::GpuComputePercent | Metric::CpuComputePercent => "%",
        Metric::Tps => "tokens/s",
        Metric::Accuracy => "fraction",
    }
}

/// A metric value with its unit, as a sentence shows it (`142.3 ms`, `87.5%`, `0.95`).
pub(crate) fn with_unit(metric: Metric, x: f64) -> String {
    match unit(metric) {
        "fraction" => num(x),
        "%" => format!("{}%", num(x)),
        u => format!("{} {u}", num(x)),
    }
}

/// A signed metric delta with its unit (`+20 ms`, `-0.05`).
pub(crate) fn signed_with_unit(metric: Metric, x: f64) -> String {
    let v = with_unit(metric, x);
    if x > 0.0 { format!("+{v}") } else { v }
}

/// Text cut to `max` characters with an ellipsis, so one huge output cannot swamp a report.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(150.0), "150");
        assert_eq!(num(142.33333333), "142.333");
        assert_eq!(num(0.95), "0.95");
        assert_eq!(num(0.952380952), "0.952381");
        assert_eq!(num(1e-5), "1.000e-5");
        assert_eq!(num(-0.05), "-0.05");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(signed(2.0), "+2");
        assert_eq!(num_sig(0.99999987, 9), "0.99999987");
        assert_eq!(num(0.99999987), "1");
        assert_eq!(signed(-2.5), "-2.5");
    }

    #[test]
    fn units_follow_the_metric() {
        assert_eq!(with_unit(Metric::InferenceTimeMs, 12.5), "12.5 ms");
        assert_eq!(with_unit(Metric::NpuComputePercent, 87.5), "87.5%");
        assert_eq!(with_unit(Metric::Accuracy, 0.9), "0.9");
        assert_eq!(with_unit(Metric::PeakMemoryMb, 300.0), "300 MiB");
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 2), "hi");
    }
}
