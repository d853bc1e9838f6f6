#![doc = include_str!("../README.md")]

use std::convert::Infallible;

use a2a_sse_core::{RequestHead, STREAM_HEADERS, SseResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::StreamExt;

mod serve;

pub use a2a_events::A2aEventQueue;
pub use a2a_sse_core::{
    AuthError, AuthRequest, ConnectInfo, DisconnectInfo, DisconnectReason, SseConfig, SseService,
    SseServiceBuilder, TokioTimer,
};
pub use serve::serve_http1;

/// The stream endpoint as a router: one route at the service's
/// [`path`](SseConfig::path), for every method (the service answers `405` with
/// `Allow: GET` to anything but `GET`).
///
/// The router has no state of its own, so it merges into or nests under any app, whatever
/// its state type.
///
/// # Panics
///
/// When the configured path is not a valid axum route (it must start with `/`).
pub fn router<S: Clone + Send + Sync + 'static>(service: SseService<TokioTimer>) -> Router<S> {
    let path = service.config().path.clone();
    Router::new().route(&path, any(stream)).with_state(service)
}

async fn stream(State(service): State<SseService<TokioTimer>>, parts: Parts) -> Response {
    into_response(service.respond(&HttpHead::from(&parts)).await)
}

/// Turns the service's answer into an axum response, for handlers that call
/// [`SseService::respond`] themselves: the stream with its headers, a `204`, or the error's
/// status, headers and JSON body.
#[must_use]
pub fn into_response(response: SseResponse<TokioTimer>) -> Response {
    match response {
        SseResponse::Stream(stream) => {
            let mut response = Body::from_stream(stream.map(Ok::<_, Infallible>)).into_response();
            for (name, value) in STREAM_HEADERS {
                response.headers_mut().insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            response
        }
        SseResponse::NoContent => StatusCode::NO_CONTENT.into_response(),
        SseResponse::Error(err) => {
            let status =
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, err.body()).into_response();
            for (name, value) in err.headers() {
                if let Ok(value) = HeaderValue::try_from(value) {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static(name), value);
                }
            }
            response
        }
    }
}

/// What [`SseService::respond`] reads of an `http` request: method, query string and
/// headers. Build it from [`Parts`] (the extractor) or a whole [`Request`].
#[derive(Debug, Clone, Copy)]
pub struct HttpHead<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

impl<'a> HttpHead<'a> {
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

impl<'a> From<&'a Parts> for HttpHead<'a> {
    fn from(parts: &'a Parts) -> Self {
        Self::new(&parts.method, &parts.uri, &parts.headers)
    }
}

impl<'a, B> From<&'a Request<B>> for HttpHead<'a> {
    fn from(request: &'a Request<B>) -> Self {
        Self::new(request.method(), request.uri(), request.headers())
    }
}

impl RequestHead for HttpHead<'_> {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name).map(HeaderValue::as_bytes)
    }
}
