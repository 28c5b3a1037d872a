//! The one formatter of numbers, units and clipped text: gate and case messages (eval) and the
//! terminal table, JUnit and Markdown (report) all print through it, so a value and its unit read
//! the same everywhere. Knows the metric names of `config` only; must not reach into devices,
//! the engine or report.

use crate::config::Metric;

/// How many digits a printed number keeps; the only place a number is turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// Up to this many significant digits, trailing zeros dropped, exponent form below 1e-4 and
    /// from 1e9 on.
    Significant(i32),
    /// At most this many decimals, trailing zeros dropped.
    Decimals(usize),
    /// Fixed decimals by magnitude (none from 100 on or for whole numbers, two from 1, three
    /// below), trailing zeros kept so a terminal column lines up.
    Column,
}

impl Digits {
    /// Messages (gate and case results): six significant digits, so small tolerances survive.
    pub const MESSAGE: Digits = Digits::Significant(6);
    /// JUnit and Markdown reports: at most three decimals, read at a glance.
    pub const REPORT: Digits = Digits::Decimals(3);

    /// A number for people: `150`, `171.2`, `0.95`, `1.000e-5`, `NaN`.
    pub fn num(self, x: f64) -> String {
        if x.is_nan() {
            return "NaN".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf" } else { "-inf" }.into();
        }
        let s = match self {
            Digits::Significant(_) if x == 0.0 => "0".into(),
            Digits::Significant(_) if !(1e-4..1e9).contains(&x.abs()) => {
                return format!("{x:.3e}");
            }
            Digits::Significant(sig) => {
                let decimals = (sig - 1 - x.abs().log10().floor() as i32).clamp(0, 10) as usize;
                trim_zeros(format!("{x:.decimals$}"))
            }
            Digits::Decimals(n) => trim_zeros(format!("{x:.n$}")),
            Digits::Column => {
                let n = if x.abs() >= 100.0 || x == x.trunc() {
                    0
                } else if x.abs() >= 1.0 {
                    2
                } else {
                    3
                };
                format!("{x:.n$}")
            }
        };
        match s.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| matches!(c, '0' | '.')) => rest.to_string(),
            _ => s,
        }
    }

    /// A signed number (`+3.2`, `-1`), for deltas.
    pub fn signed(self, x: f64) -> String {
        let s = self.num(x);
        if x > 0.0 { format!("+{s}") } else { s }
    }

    /// A value with its unit (`171.2 ms`, `87.5%`, `0.95` for a fraction or no unit).
    pub fn with_unit(self, x: f64, unit: &str) -> String {
        join_unit(self.num(x), unit, "%")
    }

    /// A signed delta with its unit (`+29.2 ms`, `-0.05`); a change of a percentage is in
    /// percentage points (`+2.5 pp`).
    pub fn signed_with_unit(self, x: f64, unit: &str) -> String {
        join_unit(self.signed(x), unit, " pp")
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn join_unit(number: String, unit: &str, percent: &str) -> String {
    match unit {
        "" | "fraction" => number,
        "%" => format!("{number}{percent}"),
        u => format!("{number} {u}"),
    }
}

/// The unit a metric is reported in, as stored in `MetricValue::unit`: the one unit table.
pub fn unit(metric: Metric) -> &'static str {
    match metric {
        Metric::InferenceTimeMs
        | Metric::LoadTimeMs
        | Metric::TtftMs
        | Metric::PrefillMs
        | Metric::DecodeMs => "ms",
        Metric::PeakMemoryMb | Metric::ModelSizeMb => "MiB",
        Metric::NpuComputePercent | Metric::GpuComputePercent | Metric::CpuComputePercent => "%",
        Metric::Tps => "tokens/s",
        Metric::Accuracy => "fraction",
    }
}

/// A number in a message.
pub(crate) fn num(x: f64) -> String {
    Digits::MESSAGE.num(x)
}

/// A number with up to `sig` significant digits, for values such as a cosine similarity whose
/// interesting digits come late.
pub(crate) fn num_sig(x: f64, sig: i32) -> String {
    Digits::Significant(sig).num(x)
}

/// A signed number in a message, `+2` or `-0.05`.
pub(crate) fn signed(x: f64) -> String {
    Digits::MESSAGE.signed(x)
}

/// A metric value with its unit in a message (`142.3 ms`, `87.5%`, `0.95`).
pub(crate) fn with_unit(metric: Metric, x: f64) -> String {
    Digits::MESSAGE.with_unit(x, unit(metric))
}

/// A signed metric delta with its unit in a message (`+20 ms`, `-0.05`).
pub(crate) fn signed_with_unit(metric: Metric, x: f64) -> String {
    Digits::MESSAGE.signed_with_unit(x, unit(metric))
}

/// Text cut to at most `max` characters, the `…` marking the cut included, so one huge output
/// cannot swamp a message or a report.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
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
    fn reports_keep_three_decimals_and_columns_line_up() {
        let r = Digits::REPORT;
        assert_eq!(r.num(150.0), "150");
        assert_eq!(r.num(171.2), "171.2");
        assert_eq!(r.num(0.952380952), "0.952");
        assert_eq!(r.num(-0.0001), "0");
        assert_eq!(r.signed(20.6), "+20.6");
        assert_eq!(r.signed(-3.0), "-3");
        let c = Digits::Column;
        assert_eq!(c.num(12.5), "12.50");
        assert_eq!(c.num(0.9), "0.900");
        assert_eq!(c.num(171.25), "171");
        assert_eq!(c.num(40.0), "40");
        assert_eq!(c.num(-0.0), "0");
        assert_eq!(c.num(f64::INFINITY), "inf");
    }

    #[test]
    fn units_follow_the_metric() {
        assert_eq!(with_unit(Metric::InferenceTimeMs, 12.5), "12.5 ms");
        assert_eq!(with_unit(Metric::NpuComputePercent, 87.5), "87.5%");
        assert_eq!(with_unit(Metric::Accuracy, 0.9), "0.9");
        assert_eq!(with_unit(Metric::PeakMemoryMb, 300.0), "300 MiB");
        assert_eq!(with_unit(Metric::Tps, 31.5), "31.5 tokens/s");
        assert_eq!(signed_with_unit(Metric::InferenceTimeMs, 20.0), "+20 ms");
        assert_eq!(signed_with_unit(Metric::NpuComputePercent, -2.5), "-2.5 pp");
        assert_eq!(signed_with_unit(Metric::Accuracy, -0.05), "-0.05");
    }

    #[test]
    fn clip_cuts_on_characters_and_keeps_the_limit() {
        assert_eq!(clip("héllo", 3), "hé…");
        assert_eq!(clip("hi", 2), "hi");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abcdef", 4).chars().count(), 4);
    }
}
