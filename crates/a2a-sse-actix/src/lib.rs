#![doc = include_str!("../README.md")]

mod body;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentEncoding;
use actix_web::{HttpRequest, HttpResponse, web};

pub use a2a_events::A2aEventQueue;
pub use a2a_sse_core::{
    AuthError, AuthRequest, ConnectInfo, DisconnectInfo, DisconnectReason, SseConfig, SseService,
    SseServiceBuilder, TokioTimer,
};
pub use body::{PROBE, PROBE_INTERVAL, Probe};

use a2a_sse_core::{RequestHead, STREAM_HEADERS, SseResponse};

/// Registers the stream route: `service.config().path`, any method (the core answers
/// `405` with `Allow: GET` to all but `GET`), with the [`Probe::On`] fallback.
///
/// Call it inside the per-worker factory:
/// `App::new().configure(a2a_sse_actix::configure(service.clone()))`. On a server built
/// with `.h1_allow_half_closed(false)` prefer [`configure_with`] and [`Probe::Off`].
pub fn configure(
    service: SseService<TokioTimer>,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    configure_with(service, Probe::On)
}

/// [`configure`], choosing whether idle streams [`Probe`] for closed clients.
///
/// ```no_run
/// # use a2a_sse_actix::{Probe, SseService, TokioTimer};
/// # use actix_web::{App, HttpServer};
/// # async fn run(service: SseService<TokioTimer>) -> std::io::Result<()> {
/// HttpServer::new(move || {
///     App::new().configure(a2a_sse_actix::configure_with(service.clone(), Probe::Off))
/// })
/// // Required with `Probe::Off`: actix then drops a stream when its client closes.
/// .h1_allow_half_closed(false)
/// .bind("127.0.0.1:3000")?
/// .run()
/// .await
/// # }
/// ```
pub fn configure_with(
    service: SseService<TokioTimer>,
    probe: Probe,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config| {
        let service = service.clone();
        let path = service.config().path.clone();
        config.route(
            &path,
            web::route().to(move |request: HttpRequest| {
                let service = service.clone();
                async move { into_response_with(service.respond(&ActixHead(&request)).await, probe) }
            }),
        );
    }
}

/// Answers `request` with `service`, for your own handler; the same as the route
/// [`configure`] registers ([`Probe::On`]). For [`Probe::Off`], write
/// `into_response_with(service.respond(&ActixHead(request)).await, Probe::Off)`.
pub async fn respond(service: &SseService<TokioTimer>, request: &HttpRequest) -> HttpResponse {
    into_response(service.respond(&ActixHead(request)).await)
}

/// Turns the core's answer into an actix response, with the [`Probe::On`] fallback: the
/// stream with the core's [`STREAM_HEADERS`], `204`, or the error's status, headers and
/// JSON body.
#[must_use]
pub fn into_response(response: SseResponse<TokioTimer>) -> HttpResponse {
    into_response_with(response, Probe::On)
}

/// [`into_response`], choosing whether an idle stream [`Probe`]s for a closed client.
#[must_use]
pub fn into_response_with(response: SseResponse<TokioTimer>, probe: Probe) -> HttpResponse {
    match response {
        SseResponse::Stream(stream) => {
            let mut builder = HttpResponse::Ok();
            for header in STREAM_HEADERS {
                builder.insert_header(header);
            }
            // actix-web's `Compress` middleware leaves a response alone when it already
            // has a `Content-Encoding`; a compressed event stream would be buffered.
            builder.insert_header(ContentEncoding::Identity);
            builder.streaming(body::LiveBody::new(stream, probe))
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
