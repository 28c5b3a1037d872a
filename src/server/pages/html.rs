//! Escaping, number formatting and the page frame shared by the pages.

/// Text escaped for HTML element content and quoted attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A URL for an `href`: http(s), or a path on this server; anything else (`javascript:`,
/// `data:`) becomes `#`. Escaped for an attribute.
pub(super) fn href(url: &str) -> String {
    esc(safe_url(url).unwrap_or("#"))
}

/// The URL when it is safe to link to.
pub(super) fn safe_url(url: &str) -> Option<&str> {
    let t = url.trim();
    let lower = t.to_ascii_lowercase();
    let scheme_free = !t.contains(':')
        || t.find(['/', '?', '#'])
            .is_some_and(|i| t.find(':').is_some_and(|c| c > i));
    if lower.starts_with("http://") || lower.starts_with("https://") || scheme_free {
        Some(t)
    } else {
        None
    }
}

/// A number with a few significant digits, for axis labels and tooltips; `–` when not finite.
pub(super) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    let s = if a >= 1000.0 || a == 0.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The style every page shares: small, readable, no external fonts.
pub(super) const CSS: &str = r#"
:root { color-scheme: light; --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --soft:#f6f8fa;
  --pass:#1a7f37; --fail:#cf222e; --err:#9a6700; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 18px 0 6px; }
a { color: var(--accent); }
nav.links { display: flex; flex-wrap: wrap; gap: 8px 16px; margin: 8px 0 16px; }
.badge { display: inline-block; white-space: nowrap; padding: 2px 10px; border-radius: 999px; font-weight: 600; font-size: .85rem; color: #fff; }
.passed { background: var(--pass); } .failed { background: var(--fail); } .error, .other { background: var(--err); }
.muted { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 16px; display: block; overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: var(--soft); }
code { background: var(--soft); padding: 1px 4px; border-radius: 4px; font-size: .9em; overflow-wrap: anywhere; }
pre { background: var(--soft); padding: 10px; overflow-x: auto; }
details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
blockquote { margin: 8px 0; padding: 4px 12px; border-left: 4px solid var(--line); color: var(--muted); }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; } figcaption { font-size: .9rem; color: var(--muted); }
svg.chart { max-width: 100%; height: auto; background: var(--bg); }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg.chart .title { font-size: 13px; font-weight: 600; fill: var(--fg); }
"#;

/// A whole page: doctype, title, style and the body given.
pub(super) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn only_safe_urls_are_linked() {
        assert_eq!(
            href("https://a.example/x?a=1&b=2"),
            "https://a.example/x?a=1&amp;b=2"
        );
        assert_eq!(href("/v1/runs/1/results.json"), "/v1/runs/1/results.json");
        assert_eq!(href("javascript:alert(1)"), "#");
        assert_eq!(href(" JavaScript:alert(1)"), "#");
        assert_eq!(href("data:text/html,hi"), "#");
        assert_eq!(href("runs/a:b"), "runs/a:b");
    }

    #[test]
    fn numbers_are_short_and_never_nan() {
        assert_eq!(num(12.3456), "12.35");
        assert_eq!(num(150.0), "150");
        assert_eq!(num(0.1234), "0.123");
        assert_eq!(num(f64::NAN), "–");
        assert_eq!(num(f64::INFINITY), "–");
        assert_eq!(num(0.0), "0");
    }
}
