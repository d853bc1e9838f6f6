//! The authorization hook: what it sees ([`AuthRequest`]), how it refuses ([`AuthError`]),
//! and its two forms, a plain function or an async one (a token lookup, say).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use a2a_events::PlanId;
use bytes::Bytes;

use crate::request::{RequestError, RequestHead, SseRequest};

/// What the authorization hook sees: the operation, the validated request and the
/// request's headers.
///
/// It owns what it holds, so an async hook can keep it across its awaits. The operation
/// is [`STREAM_OPERATION`](crate::STREAM_OPERATION) for the native stream, and a
/// protocol's method name otherwise (the A2A layer's are its method names, such as
/// `GetTask`, with the task as the plan), so a hook can decide per operation and per
/// task.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthRequest {
    /// What is asked: `stream`, or a protocol's method name.
    pub operation: &'static str,
    /// The validated request: the plan (or task) and the resume point.
    pub request: SseRequest,
    headers: Vec<(Box<str>, Bytes)>,
}

/// A request's headers, copied for the hook.
pub(crate) type Headers = Vec<(Box<str>, Bytes)>;

/// Copies what the hook may look at of `head`: its headers.
pub(crate) fn copy_headers(head: &dyn RequestHead) -> Headers {
    let mut headers = Vec::new();
    head.for_each_header(&mut |name, value| {
        headers.push((
            name.to_ascii_lowercase().into(),
            Bytes::copy_from_slice(value),
        ));
    });
    headers
}

impl AuthRequest {
    /// What the hook sees of `request`, an `operation`, with `headers`.
    pub(crate) const fn new(
        operation: &'static str,
        request: SseRequest,
        headers: Headers,
    ) -> Self {
        Self {
            operation,
            request,
            headers,
        }
    }

    /// The plan (or A2A task) asked for, if any.
    #[must_use]
    pub fn plan(&self) -> Option<&PlanId> {
        self.request.plan.as_ref()
    }

    /// The raw value of a request header (lower-case `name`); the first one when it was
    /// sent several times.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(known, _)| &**known == name)
            .map(|(_, value)| &value[..])
    }

    /// The bearer token of the `Authorization` header, if it has one.
    ///
    /// ```
    /// # use a2a_sse_core::{AuthRequest, AuthError};
    /// fn check(request: &AuthRequest) -> Result<(), AuthError> {
    ///     match request.bearer_token() {
    ///         Some("s3cret") => Ok(()),
    ///         Some(_) => Err(AuthError::Forbidden("this token may not watch".into())),
    ///         None => Err(AuthError::Unauthorized("a bearer token is required".into())),
    ///     }
    /// }
    /// ```
    #[must_use]
    pub fn bearer_token(&self) -> Option<&str> {
        let value = std::str::from_utf8(self.header("authorization")?).ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|token| !token.is_empty())
    }
}

/// The authorization hook's refusal; its text is the message of the answer's JSON body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No or unusable credentials: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that may not do this: 403.
    #[error("{0}")]
    Forbidden(String),
}

impl From<AuthError> for RequestError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthorized(message) => Self::Unauthorized(message),
            AuthError::Forbidden(message) => Self::Forbidden(message),
        }
    }
}

/// A boxed, sendable future of an async hook's verdict.
pub type AuthFuture = Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'static>>;

type SyncHook = dyn Fn(&AuthRequest) -> Result<(), AuthError> + Send + Sync;
type AsyncHook = dyn Fn(AuthRequest) -> AuthFuture + Send + Sync;

/// The hook, in either form.
#[derive(Clone)]
pub(crate) enum Authorizer {
    Sync(Arc<SyncHook>),
    Async(Arc<AsyncHook>),
}

impl Authorizer {
    pub(crate) fn sync(
        hook: impl Fn(&AuthRequest) -> Result<(), AuthError> + Send + Sync + 'static,
    ) -> Self {
        Self::Sync(Arc::new(hook))
    }

    pub(crate) fn from_async<F>(hook: impl Fn(AuthRequest) -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = Result<(), AuthError>> + Send + 'static,
    {
        Self::Async(Arc::new(move |request| Box::pin(hook(request))))
    }

    /// The verdict on `request`.
    pub(crate) async fn check(&self, request: AuthRequest) -> Result<(), AuthError> {
        match self {
            Self::Sync(hook) => hook(&request),
            Self::Async(hook) => hook(request).await,
        }
    }
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sync(_) => "Authorizer::Sync",
            Self::Async(_) => "Authorizer::Async",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::get;

    fn with(value: &'static str) -> AuthRequest {
        AuthRequest::new(
            "stream",
            SseRequest::default(),
            copy_headers(&get("").header("Authorization", value)),
        )
    }

    #[test]
    fn bearer_tokens_are_read_leniently() {
        assert_eq!(with("Bearer abc").bearer_token(), Some("abc"));
        assert_eq!(with("bearer  abc ").bearer_token(), Some("abc"));
        assert_eq!(with("Basic abc").bearer_token(), None);
        assert_eq!(with("Bearer ").bearer_token(), None);
        assert_eq!(with("Bearer").bearer_token(), None);
        let none = AuthRequest::new("GetTask", SseRequest::default(), copy_headers(&get("")));
        assert_eq!(none.operation, "GetTask");
        assert_eq!(none.bearer_token(), None);
        assert_eq!(none.plan(), None);
    }

    #[tokio::test]
    async fn both_forms_decide() {
        let sync = Authorizer::sync(|r| {
            r.bearer_token()
                .map(|_| ())
                .ok_or(AuthError::Unauthorized("no".into()))
        });
        let lookup = Authorizer::from_async(|r: AuthRequest| async move {
            tokio::task::yield_now().await;
            match r.bearer_token() {
                Some("ok") => Ok(()),
                _ => Err(AuthError::Forbidden("unknown token".into())),
            }
        });
        assert_eq!(sync.check(with("Bearer x")).await, Ok(()));
        assert!(sync.check(with("Basic x")).await.is_err());
        assert_eq!(lookup.check(with("Bearer ok")).await, Ok(()));
        assert_eq!(
            RequestError::from(lookup.check(with("Bearer no")).await.unwrap_err()).status(),
            403
        );
        let refusal = sync.check(with("Basic x")).await.unwrap_err();
        assert_eq!(refusal.to_string(), "no", "the hook's text is the message");
        let err: &dyn std::error::Error = &refusal;
        assert!(err.source().is_none());
    }
}
