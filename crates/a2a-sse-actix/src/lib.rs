#![doc = include_str!("../README.md")]

mod body;

use std::sync::Arc;

use a2a_sse_core::{RequestHead, ResponseBody, Route};
use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder, web};

pub use a2a_sse_core::prelude::*;

/// The A2A protocol: add [`a2a::Agent`] to a service with
/// [`SseServiceBuilder::protocol`] to serve the A2A bindings and the agent card.
pub use a2a_sse_agent as a2a;

/// Every route of `service` (the native stream at its [`path`](SseConfig::path), default
/// `/a2a/events`, and the routes of the protocols it serves), for every method: the
/// service answers a wrong method itself, with the JSON error body. A prefix route is
/// mounted at its path and below it (`{path}/{rest:.*}`), after every exact route, since
/// actix-web matches in order.
///
/// Call it inside the per-worker factory:
/// `App::new().configure(a2a_sse_actix::routes(service.clone()))`.
pub fn routes(service: SseService) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config| {
        for route in service.routes() {
            let handler = |service: SseService, route: Arc<Route>| {
                web::route().to(move |request: HttpRequest, payload: web::Payload| {
                    serve(service.clone(), Arc::clone(&route), request, payload)
                })
            };
            let shared = Arc::new(route.clone());
            if route.is_prefix() {
                let below = format!("{}/{{rest:.*}}", route.path().trim_end_matches('/'));
                config.route(&below, handler(service.clone(), Arc::clone(&shared)));
            }
            config.route(route.path(), handler(service.clone(), shared));
        }
    }
}

async fn serve(
    service: SseService,
    route: Arc<Route>,
    request: HttpRequest,
    payload: web::Payload,
) -> Reply {
    Reply(service.handle(&route, &Head::from(&request), payload).await)
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
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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
