//! `/docs`: the OpenAPI viewer (Swagger UI, vendored under `assets/swagger-ui/` and served by the
//! server itself: nothing comes from a CDN or is downloaded at build time).

use super::html::{esc, page};

const CSS: &[u8] = include_bytes!("../../../assets/swagger-ui/swagger-ui.css");
const BUNDLE: &[u8] = include_bytes!("../../../assets/swagger-ui/swagger-ui-bundle.js");
const LICENSE: &[u8] = include_bytes!("../../../assets/swagger-ui/LICENSE");
const NOTICE: &[u8] = include_bytes!("../../../assets/swagger-ui/NOTICE");
const BUNDLE_LICENSES: &[u8] =
    include_bytes!("../../../assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt");
/// Starts the viewer on the document named by the page's `data-url` (no inline script, so a
/// strict Content-Security-Policy can forbid them).
const INIT: &[u8] = include_bytes!("docs-init.js");

/// The `/docs` page, pointing the viewer at `openapi_url`. Its assets are `/docs/assets/<name>`.
pub fn docs_html(openapi_url: &str) -> String {
    let body = format!(
        "<link rel=\"stylesheet\" href=\"/docs/assets/swagger-ui.css\">\n\
         <div id=\"swagger-ui\" data-url=\"{}\"></div>\n\
         <noscript><p>The API viewer needs JavaScript. The OpenAPI document itself is at \
         <a href=\"{}\">{}</a>.</p></noscript>\n\
         <script src=\"/docs/assets/swagger-ui-bundle.js\"></script>\n\
         <script src=\"/docs/assets/init.js\"></script>\n",
        esc(openapi_url),
        super::html::href(openapi_url),
        esc(openapi_url)
    );
    page("EdgeGate API", &body)
}

/// An asset of the `/docs` page by name: its bytes and content type.
pub fn docs_asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    Some(match name {
        "swagger-ui.css" => (CSS, "text/css; charset=utf-8"),
        "swagger-ui-bundle.js" => (BUNDLE, "text/javascript; charset=utf-8"),
        "init.js" => (INIT, "text/javascript; charset=utf-8"),
        "LICENSE" => (LICENSE, "text/plain; charset=utf-8"),
        "NOTICE" => (NOTICE, "text/plain; charset=utf-8"),
        "swagger-ui-bundle.js.LICENSE.txt" => (BUNDLE_LICENSES, "text/plain; charset=utf-8"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_only_its_own_assets_and_escapes_the_url() {
        let html = docs_html("/v1/openapi.json?a=1&b=\"><script>");
        assert!(
            html.contains("data-url=\"/v1/openapi.json?a=1&amp;b=&quot;&gt;&lt;script&gt;\""),
            "{html}"
        );
        for src in html.split("src=\"").skip(1) {
            let path = src.split('"').next().unwrap_or_default();
            let name = path.strip_prefix("/docs/assets/").expect("own asset");
            assert!(docs_asset(name).is_some(), "{name}");
        }
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{html}"
        );
    }

    #[test]
    fn assets_are_embedded_with_their_types() {
        let (css, t) = docs_asset("swagger-ui.css").expect("css");
        assert!(css.len() > 10_000 && t.starts_with("text/css"));
        let (js, t) = docs_asset("swagger-ui-bundle.js").expect("js");
        assert!(js.len() > 100_000 && t.starts_with("text/javascript"));
        let (init, _) = docs_asset("init.js").expect("init");
        assert!(String::from_utf8_lossy(init).contains("validatorUrl: null"));
        assert!(docs_asset("LICENSE").is_some());
        assert!(docs_asset("../Cargo.toml").is_none());
        assert!(docs_asset("swagger-ui-bundle.js.map").is_none());
    }
}
