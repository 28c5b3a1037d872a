//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the
//! request/response types, served at `/openapi.json` and read by the `/docs` page.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The `/v1` API.
#[derive(OpenApi)]
#[openapi(
    info(title = "EdgeGate API", description = "CI regression gate for on-device AI models: workspaces, AI Hub integration, promptpacks, pipelines, artifacts and runs."),
    paths(
        health,
        super::auth::register, super::auth::login, super::auth::me,
        super::workspaces::create, super::workspaces::list, super::workspaces::get, super::workspaces::rename,
        super::workspaces::delete, super::workspaces::list_members, super::workspaces::add_member,
        super::workspaces::remove_member,
        super::integrations::put, super::integrations::get, super::integrations::patch, super::integrations::delete,
        super::probe::start, super::probe::get,
        super::promptpacks::create, super::promptpacks::list, super::promptpacks::get,
        super::promptpacks::publish, super::promptpacks::delete,
        super::pipelines::create, super::pipelines::list, super::pipelines::get, super::pipelines::replace,
        super::pipelines::delete,
        super::artifacts::upload, super::artifacts::get, super::artifacts::download,
        super::runs::create, super::runs::get, super::runs::results_json, super::runs::junit, super::runs::report,
        super::runs::list_for_pipeline, super::runs::history,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

/// Every error: `detail` is a sentence, or a list of `{pointer, message}` for invalid bodies.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    #[schema(value_type = Object)]
    pub detail: String,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as JSON text.
pub fn document() -> String {
    ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into())
}

/// Health check.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "{\"status\": \"ok\"}")))]
pub async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
