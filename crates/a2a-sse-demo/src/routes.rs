//! [`DemoRoutes`]: the demos' own routes, served through the SSE service's protocol
//! extension point like the A2A bindings, so both frameworks serve them with the same
//! code (and the service reads their bodies with its one policy): the page at `/`, the
//! metrics at `/metrics`, and `POST /a2a/plans/{plan_id}/events` to publish.

use std::sync::Arc;

use a2a_events::EventBackend;
use a2a_sse_core::{
    Handling, Protocol, RequestError, RequestHead, Route, SseResponse, SseService, refuse,
};
use bytes::Bytes;
use percent_encoding::percent_decode_str;

use crate::{INDEX_HTML, METRICS_CONTENT_TYPE, METRICS_ROUTE, publish, render_metrics};

/// Where the publish route lives: `POST {PLANS}/{plan_id}/events`.
pub const PLANS: &str = "/a2a/plans";

/// The demos' page, metrics and publish route, publishing to a backend.
#[derive(Clone)]
pub struct DemoRoutes {
    backend: Arc<dyn EventBackend>,
}

impl DemoRoutes {
    /// The routes, publishing to `backend`.
    #[must_use]
    pub fn new(backend: Arc<dyn EventBackend>) -> Self {
        Self { backend }
    }
}

impl std::fmt::Debug for DemoRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoRoutes").finish_non_exhaustive()
    }
}

impl Protocol for DemoRoutes {
    fn routes(&self) -> Vec<Route> {
        vec![
            Route::exact("/"),
            Route::exact(METRICS_ROUTE),
            Route::prefix(PLANS),
        ]
    }

    fn prepare(&self, _: &SseService, route: usize, head: &dyn RequestHead) -> Handling {
        let get = |page: fn() -> SseResponse| {
            if head.method() == "GET" || head.method() == "HEAD" {
                page().into()
            } else {
                refuse(RequestError::MethodNotAllowed { allow: "GET, HEAD" }).into()
            }
        };
        match route {
            0 => get(|| {
                let page = Bytes::from_static(INDEX_HTML.as_bytes());
                SseResponse::document(200, "text/html; charset=utf-8", page)
            }),
            1 => get(|| SseResponse::document(200, METRICS_CONTENT_TYPE, render_metrics().into())),
            _ => self.publish(head),
        }
    }
}

impl DemoRoutes {
    /// `POST {PLANS}/{plan_id}/events`: the plan id is the percent-decoded segment; a
    /// segment that is not UTF-8 once decoded is not a plan id (`400`).
    fn publish(&self, head: &dyn RequestHead) -> Handling {
        let below = head.path().strip_prefix(PLANS).unwrap_or_default();
        let Some(segment) = below
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix("/events"))
            .filter(|segment| !segment.is_empty() && !segment.contains('/'))
        else {
            return refuse(RequestError::NotFound).into();
        };
        if head.method() != "POST" {
            return refuse(RequestError::MethodNotAllowed { allow: "POST" }).into();
        }
        let plan = percent_decode_str(segment)
            .decode_utf8()
            .map_or_else(|_| "\u{fffd}".to_owned(), |plan| plan.into_owned());
        let backend = Arc::clone(&self.backend);
        Handling::read(move |_, body| async move {
            let outcome = publish(backend.as_ref(), &plan, &body).await;
            SseResponse::json(outcome.status, outcome.body)
        })
    }
}
