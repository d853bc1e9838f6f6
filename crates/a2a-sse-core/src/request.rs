//! The request side every adapter shares: reading `plan_id` and the resume point, and the
//! errors answered before a stream starts, with their status codes and JSON bodies.

use std::borrow::Cow;

use a2a_events::{
    BackendError, BackendErrorKind, EventId, EventIdError, PlanId, PlanIdError, SubscribeError,
};
use bytes::Bytes;

use crate::response::Header;

/// Query parameter holding the plan filter.
pub const PLAN_ID_PARAM: &str = "plan_id";
/// Query parameter holding the resume point, for clients that cannot set headers.
pub const LAST_EVENT_ID_PARAM: &str = "last_event_id";
/// Header holding the resume point; a browser's `EventSource` sets it when reconnecting.
pub const LAST_EVENT_ID_HEADER: &str = "last-event-id";

/// What an adapter exposes of a request. Plain `&str`/`&[u8]` keep `http` versions out of
/// the core (actix-web uses `http` 0.2, hyper and axum 1.x).
pub trait RequestHead {
    /// The method, such as `GET`.
    fn method(&self) -> &str;
    /// The path as the client sent it (still percent-encoded), without the query.
    fn path(&self) -> &str;
    /// The query string, without `?`.
    fn query(&self) -> Option<&str>;
    /// The raw value of the header `name` (lower case), if present.
    fn header(&self, name: &str) -> Option<&[u8]>;
    /// Calls `each` with every header's name and raw value, in the order received (the
    /// head's size limits and the authorization hook read them).
    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8]));
}

/// A request head that owns its parts: for tests, fuzzing, and an adapter whose framework
/// gives the parts in another shape. Header names are stored in lower case, as
/// [`RequestHead::header`] looks them up.
///
/// ```
/// use a2a_sse_core::{OwnedHead, RequestHead};
///
/// let head = OwnedHead::new("GET", "/a2a/events")
///     .query("plan_id=plan-7")
///     .header("Last-Event-ID", "42");
/// // The builder's `header` has the trait's name: call the lookup through the trait.
/// assert_eq!(RequestHead::header(&head, "last-event-id"), Some(&b"42"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedHead {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
}

impl OwnedHead {
    /// A request with `method` to `path`, without query or headers.
    #[must_use]
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: None,
            headers: Vec::new(),
        }
    }

    /// Sets the query string (without `?`).
    #[must_use]
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// Adds a header (after any of the same name).
    #[must_use]
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }
}

impl RequestHead for OwnedHead {
    fn method(&self) -> &str {
        &self.method
    }

    fn path(&self) -> &str {
        &self.path
    }

    fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| &value[..])
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in &self.headers {
            each(name, value);
        }
    }
}

/// Checks the size of a request head against the service's limits: a query string over
/// `max_query` bytes is `414`, more than `max_headers` headers or more than
/// `max_header_bytes` of names and values is `431`.
pub(crate) fn check_head(
    head: &dyn RequestHead,
    max_query: usize,
    max_headers: usize,
    max_header_bytes: usize,
) -> Result<(), RequestError> {
    if head.query().is_some_and(|query| query.len() > max_query) {
        return Err(RequestError::QueryTooLong { limit: max_query });
    }
    let (mut count, mut bytes) = (0_usize, 0_usize);
    head.for_each_header(&mut |name, value| {
        count += 1;
        bytes += name.len() + value.len();
    });
    if count > max_headers || bytes > max_header_bytes {
        return Err(RequestError::HeadersTooLarge {
            max_headers,
            max_bytes: max_header_bytes,
        });
    }
    Ok(())
}

/// A validated stream request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseRequest {
    /// Only this plan's events; `None` for all.
    pub plan: Option<PlanId>,
    /// Resume after this event.
    pub last_event_id: Option<EventId>,
}

impl SseRequest {
    /// Reads the query string (without `?`) and the raw `Last-Event-ID` header value.
    ///
    /// - `plan_id` and `last_event_id` may each appear once; other parameters are ignored.
    /// - An empty value counts as absent (an HTML form sends `plan_id=` for an empty
    ///   field, and an empty `Last-Event-ID` means "no event seen yet").
    /// - When both the header and `last_event_id` are present the header wins, and the
    ///   parameter is not looked at.
    ///
    /// ```
    /// use a2a_sse_core::SseRequest;
    ///
    /// let request = SseRequest::parse(Some("plan_id=plan-7&last_event_id=3"), Some(b"5"))?;
    /// assert_eq!(request.plan.unwrap().as_str(), "plan-7");
    /// assert_eq!(request.last_event_id.unwrap().to_string(), "5");
    /// # Ok::<(), a2a_sse_core::RequestError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidPlanId`], [`RequestError::InvalidLastEventId`] or
    /// [`RequestError::RepeatedParameter`].
    pub fn parse(query: Option<&str>, last_event_id: Option<&[u8]>) -> Result<Self, RequestError> {
        let mut plan = None;
        let mut from_query = None;
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match &*name {
                PLAN_ID_PARAM => &mut plan,
                LAST_EVENT_ID_PARAM => &mut from_query,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(RequestError::RepeatedParameter(if name == PLAN_ID_PARAM {
                    PLAN_ID_PARAM
                } else {
                    LAST_EVENT_ID_PARAM
                }));
            }
        }
        let plan = plan
            .filter(|p| !p.is_empty())
            .map(PlanId::new)
            .transpose()
            .map_err(RequestError::InvalidPlanId)?;
        let last_event_id = match last_event_id {
            Some(header) if !header.is_empty() => Some(
                std::str::from_utf8(header)
                    .map_err(|_| RequestError::InvalidLastEventId(EventIdError::NotDecimal))?
                    .parse()
                    .map_err(RequestError::InvalidLastEventId)?,
            ),
            _ => from_query
                .filter(|id| !id.is_empty())
                .map(|id| id.parse())
                .transpose()
                .map_err(RequestError::InvalidLastEventId)?,
        };
        Ok(Self {
            plan,
            last_event_id,
        })
    }
}

/// Why a request got no stream. Each maps to an HTTP status, a stable `code` and the JSON
/// body `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// `plan_id` is not a valid plan id (400 `invalid_plan_id`).
    #[error("invalid plan_id: {0}")]
    InvalidPlanId(PlanIdError),
    /// The resume point is not a valid event id (400 `invalid_last_event_id`).
    #[error("invalid Last-Event-ID: {0}")]
    InvalidLastEventId(EventIdError),
    /// A parameter appears more than once (400 `repeated_parameter`).
    #[error("query parameter {0} is given more than once")]
    RepeatedParameter(&'static str),
    /// The service serves plan-filtered streams only, and no `plan_id` was given (400
    /// `plan_id_required`).
    #[error("plan_id is required: this server does not stream every plan at once")]
    PlanRequired,
    /// The query string is longer than the service reads (414 `query_too_long`).
    #[error("the query string is longer than {limit} bytes")]
    QueryTooLong {
        /// The longest query string read, in bytes.
        limit: usize,
    },
    /// The request head has too many headers or too many bytes (431
    /// `headers_too_large`).
    #[error("the request has more than {max_headers} headers or {max_bytes} bytes of them")]
    HeadersTooLarge {
        /// Most headers read.
        max_headers: usize,
        /// Most bytes of names and values read.
        max_bytes: usize,
    },
    /// The request body did not arrive in time (408 `body_timeout`).
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// The route does not take this method (405 `method_not_allowed`, with `Allow`).
    #[error("the method is not allowed here; use {allow}")]
    MethodNotAllowed {
        /// The methods the route takes, as the `Allow` header lists them.
        allow: &'static str,
    },
    /// No route of the service has this path (404 `not_found`).
    #[error("no such route")]
    NotFound,
    /// The request body is larger than the service reads (413 `body_too_large`).
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The largest body read, in bytes.
        limit: usize,
    },
    /// The request body could not be read (400 `unreadable_body`).
    #[error("the request body could not be read")]
    UnreadableBody,
    /// The authorization hook wants credentials (401 `unauthorized`).
    #[error("{0}")]
    Unauthorized(String),
    /// The authorization hook refused these credentials (403 `forbidden`).
    #[error("{0}")]
    Forbidden(String),
    /// The connection limit is reached (503 `too_many_connections`, with `Retry-After`).
    #[error("too many open streams, retry later")]
    TooManyConnections,
    /// The plan's stream limit is reached (503 `too_many_plan_streams`, with
    /// `Retry-After`).
    #[error("too many open streams of this plan, retry later")]
    TooManyPlanStreams,
    /// The event queue is closed, the server is going away (503 `shutting_down`).
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The event backend failed (503 `backend_unavailable`).
    #[error("the event backend is unavailable: {0}")]
    Backend(BackendError),
}

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

impl RequestError {
    /// The HTTP status code.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::InvalidPlanId(_)
            | Self::InvalidLastEventId(_)
            | Self::RepeatedParameter(_)
            | Self::PlanRequired
            | Self::UnreadableBody => 400,
            Self::BodyTimeout => 408,
            Self::BodyTooLarge { .. } => 413,
            Self::QueryTooLong { .. } => 414,
            Self::HeadersTooLarge { .. } => 431,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::MethodNotAllowed { .. } => 405,
            Self::NotFound => 404,
            Self::TooManyConnections
            | Self::TooManyPlanStreams
            | Self::ShuttingDown
            | Self::Backend(_) => 503,
        }
    }

    /// The stable machine-readable code of the JSON body.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidPlanId(_) => "invalid_plan_id",
            Self::InvalidLastEventId(_) => "invalid_last_event_id",
            Self::RepeatedParameter(_) => "repeated_parameter",
            Self::PlanRequired => "plan_id_required",
            Self::QueryTooLong { .. } => "query_too_long",
            Self::HeadersTooLarge { .. } => "headers_too_large",
            Self::BodyTimeout => "body_timeout",
            Self::TooManyPlanStreams => "too_many_plan_streams",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::NotFound => "not_found",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::UnreadableBody => "unreadable_body",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::TooManyConnections => "too_many_connections",
            Self::ShuttingDown => "shutting_down",
            Self::Backend(_) => "backend_unavailable",
        }
    }

    /// The response headers, `Content-Type` first.
    #[must_use]
    pub fn headers(&self) -> Vec<Header> {
        let mut headers = vec![("content-type", Cow::Borrowed("application/json"))];
        if let Self::MethodNotAllowed { allow } = self {
            headers.push(("allow", Cow::Borrowed(*allow)));
        }
        if self.status() == 503 {
            headers.push(("retry-after", Cow::Owned(RETRY_AFTER_SECS.to_string())));
        }
        headers
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> Bytes {
        error_body(self.code(), &self.to_string())
    }

    /// A backend's refusal to subscribe, as the transport answers it: `503
    /// shutting_down` once the backend closed, `503 backend_unavailable` otherwise (a
    /// refusal that is the request's fault, such as a finished plan, is the caller's to
    /// answer before this).
    #[must_use]
    pub fn from_subscribe(err: SubscribeError) -> Self {
        match err {
            SubscribeError::Closed => Self::ShuttingDown,
            SubscribeError::Backend(err) => Self::Backend(err),
            other => Self::Backend(BackendError::new(BackendErrorKind::Protocol, other)),
        }
    }
}

/// The JSON error body of every 4xx/5xx answer: `{"error": {"code": ..., "message": ...}}`.
///
/// ```
/// let body = a2a_sse_core::error_body("invalid_body", "kind is missing");
/// assert_eq!(&body[..], br#"{"error":{"code":"invalid_body","message":"kind is missing"}}"#);
/// ```
#[must_use]
pub fn error_body(code: &str, message: &str) -> Bytes {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    Bytes::from(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str, header: Option<&str>) -> Result<SseRequest, RequestError> {
        SseRequest::parse(Some(query), header.map(str::as_bytes))
    }

    #[test]
    fn reads_plan_and_resume_point() {
        let request = parse("plan_id=plan%2D7&other=1", None).unwrap();
        assert_eq!(request.plan.unwrap().as_str(), "plan-7");
        assert_eq!(request.last_event_id, None);
        let request = parse("last_event_id=12", None).unwrap();
        assert_eq!(request.last_event_id, Some(EventId::new(12)));
        assert_eq!(
            SseRequest::parse(None, None).unwrap(),
            SseRequest::default()
        );
    }

    #[test]
    fn the_header_wins_over_the_parameter() {
        let request = parse("last_event_id=nonsense", Some("9")).unwrap();
        assert_eq!(request.last_event_id, Some(EventId::new(9)));
        let request = parse("last_event_id=3", Some("")).unwrap();
        assert_eq!(request.last_event_id, Some(EventId::new(3)));
    }

    #[test]
    fn empty_values_count_as_absent() {
        assert_eq!(
            parse("plan_id=&last_event_id=", None).unwrap(),
            SseRequest::default()
        );
    }

    #[test]
    fn bad_values_are_400s() {
        let cases = [
            (parse("plan_id=a%20b", None), "invalid_plan_id"),
            (parse("plan_id=%FF", None), "invalid_plan_id"),
            (parse("last_event_id=-1", None), "invalid_last_event_id"),
            (parse("", Some("x")), "invalid_last_event_id"),
            (parse("plan_id=a&plan_id=b", None), "repeated_parameter"),
            (
                parse("last_event_id=1&last_event_id=1", None),
                "repeated_parameter",
            ),
        ];
        for (result, code) in cases {
            let err = result.unwrap_err();
            assert_eq!((err.status(), err.code()), (400, code), "{err}");
            let body: serde_json::Value = serde_json::from_slice(&err.body()).unwrap();
            assert_eq!(body["error"]["code"], code);
            assert_eq!(body["error"]["message"], err.to_string());
        }
        let err = SseRequest::parse(None, Some(&[0xff])).unwrap_err();
        assert_eq!(err.code(), "invalid_last_event_id");
    }

    #[test]
    fn statuses_codes_and_headers() {
        let cases = [
            (
                RequestError::MethodNotAllowed { allow: "GET" },
                405,
                "method_not_allowed",
                Some("allow"),
            ),
            (
                RequestError::Unauthorized("who?".into()),
                401,
                "unauthorized",
                None,
            ),
            (RequestError::Forbidden("no".into()), 403, "forbidden", None),
            (
                RequestError::TooManyConnections,
                503,
                "too_many_connections",
                Some("retry-after"),
            ),
            (
                RequestError::ShuttingDown,
                503,
                "shutting_down",
                Some("retry-after"),
            ),
            (
                RequestError::Backend(BackendError::new(
                    a2a_events::BackendErrorKind::Unavailable,
                    "down",
                )),
                503,
                "backend_unavailable",
                Some("retry-after"),
            ),
            (
                RequestError::BodyTooLarge { limit: 10 },
                413,
                "body_too_large",
                None,
            ),
            (RequestError::UnreadableBody, 400, "unreadable_body", None),
            (RequestError::PlanRequired, 400, "plan_id_required", None),
            (RequestError::BodyTimeout, 408, "body_timeout", None),
            (
                RequestError::QueryTooLong { limit: 1 },
                414,
                "query_too_long",
                None,
            ),
            (
                RequestError::HeadersTooLarge {
                    max_headers: 1,
                    max_bytes: 1,
                },
                431,
                "headers_too_large",
                None,
            ),
            (
                RequestError::TooManyPlanStreams,
                503,
                "too_many_plan_streams",
                Some("retry-after"),
            ),
        ];
        for (err, status, code, extra) in cases {
            assert_eq!((err.status(), err.code()), (status, code));
            let headers = err.headers();
            assert_eq!(
                headers[0],
                ("content-type", Cow::Borrowed("application/json"))
            );
            assert_eq!(headers.get(1).map(|h| h.0), extra);
        }
        assert_eq!(
            RequestError::Unauthorized("who?".into()).to_string(),
            "who?"
        );
    }
}
