//! Charts drawn on the server as inline SVG: a bar per device (a run's latency) and a line over
//! runs (a metric's history). Every label is escaped; values that are missing or not finite are
//! drawn as gaps and marked, never as 0, and no input makes a chart panic.

use std::fmt::Write as _;

use super::html::{esc, num};

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 46.0;

const PASS: &str = "#0969da";
const FAIL: &str = "#cf222e";
const ERR: &str = "#9a6700";
const GRID: &str = "#d1d9e0";

/// How a value came out: colours its bar or marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Passed,
    Failed,
    Error,
    /// Not gated, or unknown.
    Plain,
}

impl Mark {
    fn colour(self) -> &'static str {
        match self {
            Mark::Passed | Mark::Plain => PASS,
            Mark::Failed => FAIL,
            Mark::Error => ERR,
        }
    }
}

/// One bar: a device's value (median), its p90, and the threshold it was held to.
#[derive(Debug, Clone)]
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) value: Option<f64>,
    pub(super) p90: Option<f64>,
    pub(super) threshold: Option<f64>,
    pub(super) mark: Mark,
}

/// One point of a line: a run's value, its labels, and how its gate came out.
#[derive(Debug, Clone)]
pub(super) struct Point {
    /// Under the axis, first line (run order).
    pub(super) x_label: String,
    /// Under the axis, second line (date).
    pub(super) x_sub: String,
    /// Shown on hover.
    pub(super) tooltip: String,
    pub(super) value: Option<f64>,
    pub(super) mark: Mark,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// A y axis: the range shown and its ticks, at round numbers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
}

impl Scale {
    /// A scale covering `values` (non-finite ones ignored); from 0 when `from_zero`.
    pub(super) fn covering(values: impl IntoIterator<Item = f64>, from_zero: bool) -> Scale {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in values.into_iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() || !hi.is_finite() {
            return Scale::nice(0.0, 1.0);
        }
        // Measurements are never negative: an axis over non-negative values stops at 0.
        let non_negative = lo >= 0.0;
        if from_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi - lo < 1e-9 * hi.abs().max(1.0) {
            let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
            hi += pad;
            if !from_zero || lo < 0.0 {
                lo -= pad;
            }
        } else if !from_zero {
            let pad = (hi - lo) * 0.08;
            lo -= pad;
            hi += pad;
        }
        if non_negative {
            lo = lo.max(0.0);
        }
        Scale::nice(lo, hi)
    }

    fn nice(lo: f64, hi: f64) -> Scale {
        let span = hi - lo;
        if !span.is_finite() || span <= 0.0 {
            return Scale {
                lo: 0.0,
                hi: 1.0,
                ticks: vec![0.0, 0.5, 1.0],
            };
        }
        let raw = span / 4.0;
        let mag = 10f64.powf(raw.log10().floor());
        let norm = raw / mag;
        let step = mag
            * if norm <= 1.0 {
                1.0
            } else if norm <= 2.0 {
                2.0
            } else if norm <= 5.0 {
                5.0
            } else {
                10.0
            };
        if !step.is_finite() || step <= 0.0 {
            return Scale {
                lo,
                hi,
                ticks: vec![lo, hi],
            };
        }
        let start = (lo / step).floor() * step;
        let end = (hi / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut t = start;
        while t <= end + step * 1e-6 && ticks.len() < 12 {
            ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
        Scale {
            lo: start,
            hi: end.max(start + step),
            ticks,
        }
    }

    fn y(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        let f = if span > 0.0 {
            (v - self.lo) / span
        } else {
            0.5
        };
        let f = if f.is_finite() {
            f.clamp(-0.05, 1.05)
        } else {
            0.5
        };
        TOP + (H - TOP - BOTTOM) * (1.0 - f)
    }
}

fn open(out: &mut String, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\"><title>{}</title><desc>{}</desc>\
         <text class=\"title\" x=\"{LEFT}\" y=\"18\">{}</text>",
        esc(title),
        esc(title),
        esc(desc),
        esc(title)
    );
}

fn axis(out: &mut String, scale: &Scale, unit: &str) {
    for t in &scale.ticks {
        let y = scale.y(*t);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&num(*t))
        );
    }
    let _ = write!(
        out,
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        TOP + (H - TOP - BOTTOM) / 2.0,
        TOP + (H - TOP - BOTTOM) / 2.0,
        esc(unit)
    );
}

fn message(out: &mut String, text: &str) {
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        LEFT + (W - LEFT - RIGHT) / 2.0,
        TOP + (H - TOP - BOTTOM) / 2.0,
        esc(text)
    );
}

fn threshold_line(out: &mut String, scale: &Scale, t: f64, unit: &str, x1: f64, x2: f64) {
    let y = scale.y(t);
    let _ = write!(
        out,
        "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{FAIL}\" \
         stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>threshold {} {}</title></line>",
        esc(&num(t)),
        esc(unit)
    );
}

/// Clips a label to `max` characters.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

/// One bar per device: the value, a whisker to p90, and the device's threshold.
pub(super) fn bar_chart(title: &str, unit: &str, bars: &[Bar]) -> String {
    let mut out = String::new();
    open(&mut out, title, &format!("{} per device", title));
    let values = bars
        .iter()
        .flat_map(|b| [finite(b.value), finite(b.p90), finite(b.threshold)])
        .flatten();
    let scale = Scale::covering(values, true);
    axis(&mut out, &scale, unit);
    if bars.is_empty() {
        message(&mut out, "no devices");
        out.push_str("</svg>");
        return out;
    }
    let pw = W - LEFT - RIGHT;
    let slot = pw / bars.len() as f64;
    let bw = (slot * 0.55).min(90.0);
    let base = scale.y(0.0_f64.max(scale.lo));
    for (i, b) in bars.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        match finite(b.value) {
            Some(v) => {
                let y = scale.y(v);
                let _ = write!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\" rx=\"2\">\
                     <title>{}: {} {}</title></rect>\
                     <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    cx - bw / 2.0,
                    y.min(base),
                    (base - y).abs().max(1.0),
                    b.mark.colour(),
                    esc(&b.label),
                    esc(&num(v)),
                    esc(unit),
                    y.min(base) - 4.0,
                    esc(&num(v))
                );
                if let Some(p) = finite(b.p90).filter(|p| *p > v) {
                    let yp = scale.y(p);
                    let _ = write!(
                        out,
                        "<path d=\"M{cx:.1} {y:.1}V{yp:.1}M{:.1} {yp:.1}H{:.1}\" stroke=\"#1f2328\" \
                         stroke-width=\"1.2\" fill=\"none\"><title>p90 {} {}</title></path>",
                        cx - 6.0,
                        cx + 6.0,
                        esc(&num(p)),
                        esc(unit)
                    );
                }
            }
            None => {
                let _ = write!(
                    out,
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">not measured</text>",
                    base - 6.0
                );
            }
        }
        if let Some(t) = finite(b.threshold) {
            threshold_line(&mut out, &scale, t, unit, cx - slot * 0.4, cx + slot * 0.4);
        }
        let _ = write!(
            out,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}<title>{}</title></text>",
            H - BOTTOM + 16.0,
            esc(&clip(&b.label, (slot / 7.0) as usize + 2)),
            esc(&b.label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A line over runs, oldest first: gaps where a run has no value (marked under the axis), the
/// threshold as a dashed line, failed gates as red markers.
pub(super) fn line_chart(
    title: &str,
    unit: &str,
    points: &[Point],
    threshold: Option<f64>,
) -> String {
    let mut out = String::new();
    open(
        &mut out,
        title,
        &format!("{title} over {} runs", points.len()),
    );
    let values = points
        .iter()
        .filter_map(|p| finite(p.value))
        .chain(finite(threshold));
    let scale = Scale::covering(values, false);
    axis(&mut out, &scale, unit);
    let pw = W - LEFT - RIGHT;
    let n = points.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + pw / 2.0
        } else {
            LEFT + 10.0 + (pw - 20.0) * i as f64 / (n - 1) as f64
        }
    };
    if let Some(t) = finite(threshold) {
        threshold_line(&mut out, &scale, t, unit, LEFT, W - RIGHT);
    }
    if n == 0 {
        message(&mut out, "no runs yet");
        out.push_str("</svg>");
        return out;
    }
    if points.iter().all(|p| finite(p.value).is_none()) {
        message(&mut out, "not measured in any run");
    }
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match finite(p.value) {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{:.1} {:.1}",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    scale.y(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !d.is_empty() {
        let _ = write!(
            out,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{PASS}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"/>"
        );
    }
    let every = n.div_ceil(8).max(1);
    let base = H - BOTTOM;
    for (i, p) in points.iter().enumerate() {
        let cx = x(i);
        match finite(p.value) {
            Some(v) => {
                let cy = scale.y(v);
                let (r, stroke) = match p.mark {
                    Mark::Failed => (5.0, "#fff"),
                    _ => (3.5, "none"),
                };
                let _ = write!(
                    out,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{}\" stroke=\"{stroke}\"><title>{}</title></circle>",
                    p.mark.colour(),
                    esc(&p.tooltip)
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<path d=\"M{:.1} {:.1}l8 8m0 -8l-8 8\" stroke=\"{ERR}\" stroke-width=\"1.5\"><title>{}</title></path>",
                    cx - 4.0,
                    base - 12.0,
                    esc(&p.tooltip)
                );
            }
        }
        if i.is_multiple_of(every) || i + 1 == n {
            let _ = write!(
                out,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
                 <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                base + 15.0,
                esc(&clip(&p.x_label, 12)),
                base + 29.0,
                esc(&clip(&p.x_sub, 12))
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(i: usize, v: Option<f64>, mark: Mark) -> Point {
        Point {
            x_label: format!("#{i}"),
            x_sub: "2026-01-01".into(),
            tooltip: format!("run {i}"),
            value: v,
            mark,
        }
    }

    fn balanced(svg: &str) {
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(
            !svg.contains("NaN") && !svg.contains("inf\"") && !svg.contains("inf "),
            "{svg}"
        );
    }

    #[test]
    fn scales_are_round_and_cover_the_values() {
        let s = Scale::covering([3.0, 147.0], true);
        assert_eq!(s.lo, 0.0);
        assert!(s.hi >= 147.0 && s.ticks.len() >= 3, "{s:?}");
        let flat = Scale::covering([42.0, 42.0], false);
        assert!(flat.lo < 42.0 && flat.hi > 42.0, "{flat:?}");
        let none = Scale::covering([f64::NAN, f64::INFINITY], false);
        assert_eq!((none.lo, none.hi), (0.0, 1.0));
        let huge = Scale::covering([0.0, f64::MAX], false);
        assert!(huge.ticks.iter().all(|t| t.is_finite()), "{huge:?}");
        let near_zero = Scale::covering([4.89, 150.0], false);
        assert_eq!(
            near_zero.lo, 0.0,
            "non-negative values never get a negative axis"
        );
        let zero = Scale::covering([0.0], true);
        assert!(zero.hi > 0.0);
    }

    #[test]
    fn line_charts_with_zero_one_and_many_points() {
        let empty = line_chart("inference_time_ms · RB5", "ms", &[], Some(150.0));
        balanced(&empty);
        assert!(empty.contains("no runs yet"));

        let one = line_chart("t", "ms", &[point(1, Some(12.0), Mark::Passed)], None);
        balanced(&one);
        assert_eq!(one.matches("<circle").count(), 1);

        let many: Vec<Point> = (0..40)
            .map(|i| {
                let v = match i {
                    5 => None,
                    6 => Some(f64::NAN),
                    _ => Some(10.0 + i as f64 * 0.5),
                };
                point(i, v, if i == 39 { Mark::Failed } else { Mark::Passed })
            })
            .collect();
        let svg = line_chart("t", "ms", &many, Some(25.0));
        balanced(&svg);
        assert_eq!(svg.matches("<circle").count(), 38);
        assert!(
            svg.matches(FAIL).count() >= 2,
            "threshold and the failed marker"
        );
        assert!(svg.contains("stroke-dasharray"));
        let line = svg.split("<path d=\"").nth(1).unwrap_or_default();
        let line = line.split('"').next().unwrap_or_default();
        assert_eq!(
            line.matches('M').count(),
            2,
            "the gap splits the line: {line}"
        );
    }

    #[test]
    fn all_missing_values_say_so() {
        let pts = vec![
            point(0, None, Mark::Error),
            point(1, Some(f64::NAN), Mark::Error),
        ];
        let svg = line_chart("t", "ms", &pts, None);
        balanced(&svg);
        assert!(svg.contains("not measured in any run"));
    }

    #[test]
    fn bar_charts_escape_labels_and_mark_missing_values() {
        let bars = vec![
            Bar {
                label: "<script>alert(1)</script>".into(),
                value: Some(12.5),
                p90: Some(14.0),
                threshold: Some(150.0),
                mark: Mark::Passed,
            },
            Bar {
                label: "host".into(),
                value: None,
                p90: None,
                threshold: None,
                mark: Mark::Error,
            },
            Bar {
                label: "nan".into(),
                value: Some(f64::NAN),
                p90: Some(f64::INFINITY),
                threshold: Some(f64::NAN),
                mark: Mark::Failed,
            },
        ];
        let svg = bar_chart("inference_time_ms", "ms", &bars);
        balanced(&svg);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert_eq!(svg.matches("not measured").count(), 2);
        balanced(&bar_chart("x", "ms", &[]));
    }
}
