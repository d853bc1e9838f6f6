#![doc = include_str!("../README.md")]

mod body;

use std::sync::Arc;

use a2a_sse_core::{RequestHead, ResponseBody, Route};
use actix_web::body::{BodyStream, BoxBody};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder, web};
use bytes::Bytes;

pub use a2a_sse_core::prelude::*;

/// Every route of `service` (the native stream at its [`path`](SseConfig::path), default
/// `/a2a/events`), for every method: the service answers a wrong method itself, with the
/// JSON error body.
///
/// Call it inside the per-worker factory:
/// `App::new().configure(a2a_sse_actix::routes(service.clone()))`.
pub fn routes(service: SseService) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let routes: Arc<[Route]> = service.routes().into();
    move |config| {
        for route in routes.iter() {
            let service = service.clone();
            let path = route.path();
            let route = Arc::new(route.clone());
            config.route(
                path,
                web::route().to(move |request: HttpRequest, payload: web::Payload| {
                    serve(service.clone(), Arc::clone(&route), request, payload)
                }),
            );
        }
    }
}

async fn serve(
    service: SseService,
    route: Arc<Route>,
    request: HttpRequest,
    payload: web::Payload,
) -> Reply {
    let config = service.config();
    let limit = config.max_body_bytes;
    // A request without a body (every subscription) has no payload at all: reading it would
    // cost a 32 KiB buffer per connection, allocated and freed, which leaves the allocator
    // holding about half a KiB more per open stream (measured; `docs/benchmarks.md`).
    let payload = payload.into_inner();
    let body = if matches!(payload, actix_web::dev::Payload::None) {
        Bytes::new()
    } else {
        let body = actix_web::body::to_bytes_limited(BodyStream::new(payload), limit);
        match actix_web::rt::time::timeout(config.body_read_timeout, body).await {
            Err(_elapsed) => return Reply::from(SseResponse::from(RequestError::BodyTimeout)),
            Ok(Ok(Ok(body))) => body,
            Ok(Ok(Err(_))) => return Reply::from(SseResponse::from(RequestError::UnreadableBody)),
            Ok(Err(_)) => {
                return Reply::from(SseResponse::from(RequestError::BodyTooLarge { limit }));
            }
        }
    };
    Reply(service.handle(&route, &Head::from(&request), body).await)
}

/// The service's answer as an actix response, for handlers of your own: the stream with
/// its headers, a `204`, or a status with its headers and JSON body.
///
/// ```rust
/// use a2a_sse_actix::{Head, Reply, SseService};
/// use actix_web::{HttpRequest, web};
///
/// async fn my_stream(service: web::Data<SseService>, request: HttpRequest) -> Reply {
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

impl Responder for Reply {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::OK);
        let mut builder = HttpResponse::build(status);
        for (name, value) in self.0.headers() {
            builder.insert_header((name, value.as_ref()));
        }
        match self.0.into_body() {
            ResponseBody::Stream(stream) => builder.streaming(body::EventBody::new(stream)),
            ResponseBody::Full(bytes) => builder.body(bytes),
            _ => builder.finish(),
        }
    }
}

/// What the service reads of an [`HttpRequest`]: method, path, query string and headers.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a>(&'a HttpRequest);

impl<'a> From<&'a HttpRequest> for Head<'a> {
    fn from(request: &'a HttpRequest) -> Self {
        Self(request)
    }
}

impl RequestHead for Head<'_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }

    fn path(&self) -> &str {
        self.0.uri().path()
    }

    fn query(&self) -> Option<&str> {
        Some(self.0.query_string())
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.headers().get(name).map(|value| value.as_bytes())
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.0.headers() {
            each(name.as_str(), value.as_bytes());
        }
    }
}
