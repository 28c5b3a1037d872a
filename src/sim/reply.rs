//! The error answer every part of the simulator shares: JSON `{"detail": …}`, the shape AI Hub
//! uses. Imports nothing of the simulator.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A JSON `{"detail": …}` answer, the shape AI Hub uses for errors.
pub(crate) fn detail(code: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "detail": message }).to_string();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
