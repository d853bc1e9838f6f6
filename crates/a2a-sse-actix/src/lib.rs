#![doc = include_str!("../README.md")]

mod body;
mod watch;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentEncoding;
use actix_web::{HttpRequest, HttpResponse, web};

pub use a2a_events::A2aEventQueue;
pub use a2a_sse_core::{
    AuthError, AuthRequest, ConnectInfo, DisconnectInfo, DisconnectReason, SseConfig, SseService,
    SseServiceBuilder, TokioTimer,
};
pub use body::{PROBE, PROBE_INTERVAL};
pub use watch::watch_disconnects;

use a2a_sse_core::{RequestHead, STREAM_HEADERS, SseResponse};

/// Registers the stream route: `service.config().path`, any method (the core answers
/// `405` with `Allow: GET` to all but `GET`).
///
/// Call it inside the per-worker factory:
/// `App::new().configure(a2a_sse_actix::configure(service.clone()))`.
pub fn configure(
    service: SseService<TokioTimer>,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config| {
        let service = service.clone();
        let path = service.config().path.clone();
        config.route(
            &path,
            web::route().to(move |request: HttpRequest| {
                let service = service.clone();
                async move { respond(&service, &request).await }
            }),
        );
    }
}

/// Answers `request` with `service`, for your own handler; the same as the route
/// [`configure`] registers, including the [`watch_disconnects`] watch when installed.
pub async fn respond(service: &SseService<TokioTimer>, request: &HttpRequest) -> HttpResponse {
    let response = service.respond(&ActixHead(request)).await;
    response_with(response, watch::closed(request))
}

/// Turns the core's answer into an actix response: the stream with the core's
/// [`STREAM_HEADERS`], `204`, or the error's status, headers and JSON body.
///
/// Without the request at hand the stream cannot use a [`watch_disconnects`] watch, so it
/// detects a closed client with the [`PROBE`] comment; prefer [`respond`] when you can.
#[must_use]
pub fn into_response(response: SseResponse<TokioTimer>) -> HttpResponse {
    response_with(response, None)
}

fn response_with(response: SseResponse<TokioTimer>, closed: Option<watch::Closed>) -> HttpResponse {
    match response {
        SseResponse::Stream(stream) => {
            let mut builder = HttpResponse::Ok();
            for header in STREAM_HEADERS {
                builder.insert_header(header);
            }
            // actix-web's `Compress` middleware leaves a response alone when it already
            // has a `Content-Encoding`; a compressed event stream would be buffered.
            builder.insert_header(ContentEncoding::Identity);
            builder.streaming(body::LiveBody::new(stream, closed))
        }
        SseResponse::NoContent => HttpResponse::NoContent().finish(),
        SseResponse::Error(err) => {
            let status =
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut builder = HttpResponse::build(status);
            for header in err.headers() {
                builder.insert_header(header);
            }
            builder.body(err.body())
        }
    }
}

/// An [`HttpRequest`] as the core's [`RequestHead`], for calling
/// [`SseService::respond`] yourself.
#[derive(Debug, Clone, Copy)]
pub struct ActixHead<'a>(pub &'a HttpRequest);

impl RequestHead for ActixHead<'_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }

    fn query(&self) -> Option<&str> {
        Some(self.0.query_string())
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.headers().get(name).map(|value| value.as_bytes())
    }
}
