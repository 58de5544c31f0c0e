//! The OpenAPI 3 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types, served at `GET /api/openapi.json`.
//!
//! Every route of [`crate::app`] is listed here; `tests/openapi.rs` fails when one is missing, and
//! `scripts/api-fuzz` runs schemathesis against the document to check that the server keeps it.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::http::RoomTokenQuery;
use crate::validation::{AdvisoryCode, IssueCode};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tierboard",
        description = "Rooms, the problem bank and stateless validation and simulation of designs. \
            The sync protocol spoken on `/ws/{room}` is described in docs/PROTOCOL.md.",
        license(name = "MIT"),
    ),
    paths(
        crate::http::healthz,
        crate::http::metrics,
        crate::http::create_room,
        crate::http::room_info,
        crate::http::timeline,
        crate::http::room_validation,
        crate::http::room_solution,
        crate::http::rotate,
        crate::http::host_action,
        crate::report::report,
        crate::report::history,
        crate::report::scorecard,
        crate::report::put_scorecard,
        crate::report::share,
        websocket,
        serve,
        crate::problems::api::list,
        crate::problems::api::one,
        crate::problems::api::solution,
        crate::problems::api::components,
        crate::validation::api::validate_design,
        crate::simulation::api::simulate_design,
    ),
    // Referenced from inlined schemas (`ValidationResult`'s findings), which do not register them.
    components(schemas(ErrorBody, AdvisoryCode, IssueCode)),
    modifiers(&BearerToken),
    tags(
        (name = "server", description = "Health and metrics"),
        (name = "rooms", description = "Rooms and their tokens"),
        (name = "report", description = "The session report: scorecard, sharing, replay"),
        (name = "problems", description = "The problem bank and the component catalog"),
        (name = "design", description = "Validation and simulation of a design without a room"),
    )
)]
pub struct ApiDoc;

/// Room tokens (and the `/metrics` token) may be sent as `Authorization: Bearer`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        fix_link_field_names(&mut doc);
        serde_json::to_string_pretty(&doc).expect("the document serialises")
    })
}

/// utoipa 5.5 serialises a response link's fields in snake case (`operation_id`), where OpenAPI
/// says `operationId`: rename them so that clients (schemathesis' stateful phase) can follow links.
fn fix_link_field_names(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links").and_then(|l| l.as_object_mut()))
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (from, to) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(value) = link.remove(from) {
                link.insert(to.to_string(), value);
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "server",
    responses((status = 200, description = "The OpenAPI 3 document of this API", content_type = "application/json")))]
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// The WebSocket endpoint (`crate::ws::handler`), documented here: what it answers before the
/// upgrade. The protocol after it is in docs/PROTOCOL.md §2.
#[utoipa::path(get, path = "/ws/{room}", tag = "rooms",
    params(("room" = String, Path, description = "Room id"), RoomTokenQuery),
    responses(
        (status = 101, description = "Switching to the y-websocket protocol; a bad token or room then closes with 4401 / 4404"),
        (status = 400, description = "Not a well-formed WebSocket handshake", body = ErrorBody),
        (status = 403, description = "A browser page from another origin", body = ErrorBody),
        (status = 426, description = "Not a WebSocket upgrade, or not version 13", body = ErrorBody),
    ))]
#[allow(dead_code)]
fn websocket() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_3_with_every_error_code() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
        let codes: Vec<&str> = codes
            .as_array()
            .expect("ErrorCode lists its values")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for error in crate::error::Error::examples() {
            assert!(
                codes.contains(&error.code()),
                "{} is missing from ErrorCode",
                error.code()
            );
        }
        assert_eq!(codes.len(), crate::error::Error::examples().len());
    }

    #[test]
    fn links_use_openapi_field_names() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        let links = &doc["paths"]["/api/rooms"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["info"]["operationId"], "room_info");
        assert!(links["info"].get("operation_id").is_none());
    }
}
