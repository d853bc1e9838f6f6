//! [`SseResponse`]: the service's answer, as status, headers and body, so that an adapter
//! converts it without knowing what it is.

use std::borrow::Cow;

use bytes::Bytes;

use crate::request::RequestError;
use crate::stream::SseStream;

/// A header of an answer: a lower-case name and its value.
pub type Header = (&'static str, Cow<'static, str>);

/// Headers of every event stream, native or A2A.
///
/// `content-encoding: identity` is the "never compressed" rule: an event stream must not
/// be compressed, because a compressor holds bytes back until it has enough to work with,
/// and a client would then see events late. Compression layers leave a response alone
/// when it already names its encoding (actix-web's `Compress`, tower-http's
/// `CompressionLayer`), so the rule holds whatever middleware wraps the route.
pub const STREAM_HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
    ("content-encoding", "identity"),
];

/// The answer to a request.
///
/// An adapter needs only [`status`](Self::status), [`headers`](Self::headers) and
/// [`into_body`](Self::into_body); the variants are there for tests and for handlers that
/// want to look.
#[expect(
    clippy::large_enum_variant,
    reason = "made once per request and moved straight into the framework's body, which \
              boxes it; boxing here too would cost each stream a second allocation"
)]
#[derive(Debug)]
#[non_exhaustive]
pub enum SseResponse {
    /// `200` with [`STREAM_HEADERS`] and this body.
    Stream(SseStream),
    /// `204 No Content`: the filtered plan finished at or before the resume point; an
    /// `EventSource` stops reconnecting.
    NoContent,
    /// An error answer: [`RequestError::status`], its headers and JSON body.
    Error(RequestError),
    /// A whole document (a protocol's answers and errors, a page): built with
    /// [`SseResponse::json`] or [`SseResponse::document`].
    #[non_exhaustive]
    Document {
        /// HTTP status, from 200 to 599.
        status: u16,
        /// Its headers, `content-type` first.
        headers: Vec<Header>,
        /// The document.
        body: Bytes,
    },
}

/// The body of an [`SseResponse`].
#[expect(
    clippy::large_enum_variant,
    reason = "moved once into the framework's body; see `SseResponse`"
)]
#[derive(Debug)]
#[non_exhaustive]
pub enum ResponseBody {
    /// No body.
    Empty,
    /// These bytes, all at once.
    Full(Bytes),
    /// An event stream: send each chunk as it comes, end the response when it ends.
    Stream(SseStream),
}

impl SseResponse {
    /// A JSON document with `status`.
    pub fn json(status: u16, body: Bytes) -> Self {
        Self::document(status, "application/json", body)
    }

    /// A document of `content_type` with `status`. A status outside 200–599, which no
    /// route means to answer with, becomes `500`, so a mistake never reads as a success.
    pub fn document(status: u16, content_type: &'static str, body: Bytes) -> Self {
        let status = if (200..=599).contains(&status) {
            status
        } else {
            tracing::error!(status, "an answer with an impossible status: 500 instead");
            500
        };
        Self::Document {
            status,
            headers: vec![("content-type", Cow::Borrowed(content_type))],
            body,
        }
    }

    /// The same answer with one more header (replacing one of the same name). Only
    /// documents take headers of their own; other answers are returned unchanged.
    pub fn with_header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Self {
        if let Self::Document { headers, .. } = &mut self {
            headers.retain(|(known, _)| *known != name);
            headers.push((name, value.into()));
        }
        self
    }

    /// The HTTP status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Stream(_) => 200,
            Self::NoContent => 204,
            Self::Error(err) => err.status(),
            Self::Document { status, .. } => *status,
        }
    }

    /// The response headers.
    #[must_use]
    pub fn headers(&self) -> Vec<Header> {
        match self {
            Self::Stream(_) => STREAM_HEADERS
                .iter()
                .map(|&(name, value)| (name, Cow::Borrowed(value)))
                .collect(),
            Self::NoContent => Vec::new(),
            Self::Error(err) => err.headers(),
            Self::Document { headers, .. } => headers.clone(),
        }
    }

    /// The body.
    #[must_use]
    pub fn into_body(self) -> ResponseBody {
        match self {
            Self::Stream(stream) => ResponseBody::Stream(stream),
            Self::NoContent => ResponseBody::Empty,
            Self::Error(err) => ResponseBody::Full(err.body()),
            Self::Document { body, .. } => ResponseBody::Full(body),
        }
    }
}

impl From<RequestError> for SseResponse {
    fn from(err: RequestError) -> Self {
        Self::Error(err)
    }
}
