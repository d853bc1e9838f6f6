#![doc = include_str!("../README.md")]

use std::convert::Infallible;
use std::sync::Arc;

use a2a_sse_core::{RequestHead, ResponseBody, Route};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode, Uri, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::StreamExt;

pub use a2a_sse_core::prelude::*;

/// The A2A protocol: add [`a2a::Agent`] to a service with
/// [`SseServiceBuilder::protocol`] to serve the A2A bindings and the agent card.
pub use a2a_sse_agent as a2a;

/// Every route of `service` (the native stream at its [`path`](SseConfig::path), default
/// `/a2a/events`, and the routes of the protocols it serves), for every method: the
/// service answers a wrong method itself, with the JSON error body. A prefix route is
/// mounted at its path and below it (`{path}/{*rest}`); axum prefers any other route.
///
/// The router has no state of its own, so it merges into or nests under any app,
/// whatever its state type.
pub fn routes<S: Clone + Send + Sync + 'static>(service: SseService) -> Router<S> {
    service
        .routes()
        .iter()
        .fold(Router::new(), |mut router, route| {
            let state = (service.clone(), Arc::new(route.clone()));
            let handler = any(serve).with_state(state);
            if route.is_prefix() {
                let below = format!("{}/{{*rest}}", route.path().trim_end_matches('/'));
                router = router.route(&below, handler.clone());
            }
            router.route(route.path(), handler)
        })
}

async fn serve(
    State((service, route)): State<(SseService, Arc<Route>)>,
    request: Request,
) -> Reply {
    let (parts, body) = request.into_parts();
    let body = body.into_data_stream();
    Reply(service.handle(&route, &Head::from(&parts), body).await)
}

/// The service's answer as an axum response, for handlers of your own: the stream with
/// its headers, a `204`, or a status with its headers and JSON body.
///
/// ```rust,no_run
/// use a2a_sse_axum::{Head, Reply, SseService};
/// use axum::extract::{Request, State};
///
/// async fn my_stream(State(service): State<SseService>, request: Request) -> Reply {
///     Reply::from(service.respond(&Head::from(&request)).await)
/// }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Reply(pub SseResponse);

impl From<SseResponse> for Reply {
    fn from(response: SseResponse) -> Self {
        Self(response)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = self.0.headers();
        let mut response = match self.0.into_body() {
            ResponseBody::Stream(stream) => Body::from_stream(stream.map(Ok::<_, Infallible>)),
            ResponseBody::Full(bytes) => Body::from(bytes),
            _ => Body::empty(),
        }
        .into_response();
        *response.status_mut() = status;
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// What the service reads of an `http` request: method, path, query string and headers.
/// Build it from [`Parts`] (the extractor) or a whole [`Request`].
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

impl<'a> Head<'a> {
    /// A head over these request parts.
    #[must_use]
    pub const fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        Self {
            method,
            uri,
            headers,
        }
    }
}

impl<'a> From<&'a Parts> for Head<'a> {
    fn from(parts: &'a Parts) -> Self {
        Self::new(&parts.method, &parts.uri, &parts.headers)
    }
}

impl<'a, B> From<&'a axum::http::Request<B>> for Head<'a> {
    fn from(request: &'a axum::http::Request<B>) -> Self {
        Self::new(request.method(), request.uri(), request.headers())
    }
}

impl RequestHead for Head<'_> {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn path(&self) -> &str {
        self.uri.path()
    }

    fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name).map(HeaderValue::as_bytes)
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.headers {
            each(name.as_str(), value.as_bytes());
        }
    }
}
