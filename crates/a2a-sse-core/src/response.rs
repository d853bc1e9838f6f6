//! [`SseResponse`]: the service's answer, as status, headers and body, so that an adapter
//! converts it without knowing what it is.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use crate::request::RequestError;
use crate::stream::SseStream;
use crate::timer::Timer;

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

with_default_timer! {
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
    #[non_exhaustive]
    pub enum SseResponse<T: Timer> {
        /// `200` with [`STREAM_HEADERS`] and this body.
        Stream(SseStream<T>),
        /// `204 No Content`: the filtered plan finished at or before the resume point; an
        /// `EventSource` stops reconnecting.
        NoContent,
        /// An error answer: [`RequestError::status`], its headers and JSON body.
        Error(RequestError),
        /// A JSON document with this status (the A2A binding's answers and errors).
        Json {
            /// HTTP status.
            status: u16,
            /// The document.
            body: Bytes,
        },
        /// Another answer with an `Allow` header naming the methods the route takes.
        Allowing {
            /// The answer.
            response: Box<SseResponse<T>>,
            /// The value of `Allow`.
            allow: &'static str,
        },
    }
}

with_default_timer! {
    /// The body of an [`SseResponse`].
    #[expect(
        clippy::large_enum_variant,
        reason = "moved once into the framework's body; see `SseResponse`"
    )]
    #[non_exhaustive]
    pub enum ResponseBody<T: Timer> {
        /// No body.
        Empty,
        /// These bytes, all at once.
        Full(Bytes),
        /// An event stream: send each chunk as it comes, end the response when it ends.
        Stream(SseStream<T>),
    }
}

impl<T: Timer> SseResponse<T> {
    /// The HTTP status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Stream(_) => 200,
            Self::NoContent => 204,
            Self::Error(err) => err.status(),
            Self::Json { status, .. } => *status,
            Self::Allowing { response, .. } => response.status(),
        }
    }

    /// The same answer with `Allow: allow`.
    #[must_use]
    pub fn allowing(self, allow: &'static str) -> Self {
        Self::Allowing {
            response: Box::new(self),
            allow,
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
            Self::Json { .. } => vec![("content-type", Cow::Borrowed("application/json"))],
            Self::Allowing { response, allow } => {
                let mut headers = response.headers();
                headers.retain(|(name, _)| *name != "allow");
                headers.push(("allow", Cow::Borrowed(allow)));
                headers
            }
        }
    }

    /// The body.
    #[must_use]
    pub fn into_body(self) -> ResponseBody<T> {
        match self {
            Self::Stream(stream) => ResponseBody::Stream(stream),
            Self::NoContent => ResponseBody::Empty,
            Self::Error(err) => ResponseBody::Full(err.body()),
            Self::Json { body, .. } => ResponseBody::Full(body),
            Self::Allowing { response, .. } => response.into_body(),
        }
    }
}

impl<T: Timer> From<RequestError> for SseResponse<T> {
    fn from(err: RequestError) -> Self {
        Self::Error(err)
    }
}

impl<T: Timer> fmt::Debug for SseResponse<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stream(stream) => f.debug_tuple("Stream").field(stream).finish(),
            Self::NoContent => f.write_str("NoContent"),
            Self::Error(err) => f.debug_tuple("Error").field(err).finish(),
            Self::Json { status, body } => f
                .debug_struct("Json")
                .field("status", status)
                .field("body", &String::from_utf8_lossy(body))
                .finish(),
            Self::Allowing { response, allow } => f
                .debug_struct("Allowing")
                .field("response", response)
                .field("allow", allow)
                .finish(),
        }
    }
}

impl<T: Timer> fmt::Debug for ResponseBody<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Full(bytes) => f.debug_tuple("Full").field(&bytes.len()).finish(),
            Self::Stream(stream) => f.debug_tuple("Stream").field(stream).finish(),
        }
    }
}
