//! The A2A v1.0 binding: `SubscribeToTask` and `GetTask` over JSON-RPC and HTTP+JSON,
//! served from the same backend as the native stream, so an A2A client and a browser
//! watch the same events. The plan id is the task id.
//!
//! Turn it on with [`SseServiceBuilder::a2a`](crate::SseServiceBuilder::a2a); the
//! service's [`routes`](crate::SseService::routes) then include, with the default
//! [`A2aConfig`]:
//!
//! - `POST /a2a/jsonrpc`: JSON-RPC 2.0 requests (`SubscribeToTask`, `GetTask`);
//! - `GET /a2a/tasks/{id}` (`GetTask`) and `POST|GET /a2a/tasks/{id}:subscribe`
//!   (`SubscribeToTask`): the HTTP+JSON binding;
//! - with an [`AgentCard`], `GET /.well-known/agent-card.json`, naming both interfaces.
//!
//! # Streams
//!
//! A subscription's first item is the task as it is (`{"task": …}`: id, context, latest
//! status, artifacts so far with chunks joined); then come `statusUpdate` and
//! `artifactUpdate` items in publish order. The stream closes after a terminal state, and
//! after an interrupted one (input or authentication required), as the specification's
//! streaming rules say. An `error` event of the native stream has no A2A item and is left
//! out. Over JSON-RPC each item is `{"jsonrpc":"2.0","id":<request id>,"result":…}`;
//! over HTTP+JSON it is the bare item.
//!
//! Beyond the specification, every frame has an SSE `id:`. Subscribing again with
//! `Last-Event-ID` replays exactly what was missed, then goes live; when history no longer
//! covers that id, the stream starts with a fresh task instead. Clients that ignore `id:`
//! are not affected.
//!
//! # Errors
//!
//! Protocol errors are [`A2aError`]s: over JSON-RPC an error response with HTTP 200 (an
//! A2A client reads any HTTP 4xx as a generic failure), over HTTP+JSON a
//! `google.rpc.Status` with its HTTP status. After a stream started, an error is an
//! `event: error` frame in the same shape, and the stream ends: a subscriber that fell
//! behind its buffer gets an internal error naming the last id it received, so it can
//! resume. Transport refusals are as on the native stream: `401`/`403` from the
//! authorization hook, `503` with `Retry-After` past the connection limit or while the
//! server shuts down, with the JSON error body.
//!
//! # Versions
//!
//! A request names its protocol version in the `A2A-Version` header (or an `A2A-Version`
//! query parameter). `1.0` is served, and any patch of it (`1.0.2`). The specification
//! reads a missing or empty version as `0.3`, which this binding does not speak: such a
//! request gets `VersionNotSupportedError` (JSON-RPC `-32009`; HTTP+JSON 400
//! `VERSION_NOT_SUPPORTED`). The agent card is served to any client.

mod card;
pub(crate) mod encode;
mod error;
pub(crate) mod jsonrpc;
pub(crate) mod rest;
mod serve;

pub(crate) use serve::A2aCall;

pub use card::{AgentCard, AgentSkill};
pub use error::{A2aError, ERROR_DOMAIN};

use crate::config::{ConfigError, validate_path};
use crate::request::RequestHead;

/// The protocol version served.
pub const PROTOCOL_VERSION: &str = "1.0";
/// The header (and query parameter) naming the client's protocol version.
pub const VERSION_HEADER: &str = "a2a-version";
/// Where clients look for the agent card.
pub const AGENT_CARD_PATH: &str = "/.well-known/agent-card.json";

/// Where the binding's routes are, and the agent card to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct A2aConfig {
    /// The JSON-RPC route (default `/a2a/jsonrpc`).
    pub jsonrpc_path: String,
    /// The HTTP+JSON base (default `/a2a`): its routes are `{base}/tasks/{id}` and
    /// `{base}/tasks/{id}:subscribe`.
    pub rest_base: String,
    /// The card served at [`AGENT_CARD_PATH`]; `None` serves none.
    pub card: Option<AgentCard>,
}

impl Default for A2aConfig {
    fn default() -> Self {
        Self {
            jsonrpc_path: "/a2a/jsonrpc".to_owned(),
            rest_base: "/a2a".to_owned(),
            card: None,
        }
    }
}

impl A2aConfig {
    /// The default routes, serving `card`.
    #[must_use]
    pub fn with_card(card: AgentCard) -> Self {
        Self {
            card: Some(card),
            ..Self::default()
        }
    }

    /// The route of the HTTP+JSON task endpoints, `{base}/tasks/{id}`.
    #[must_use]
    pub fn task_route(&self) -> String {
        format!("{}/tasks/{{id}}", self.rest_base.trim_end_matches('/'))
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        validate_path(&self.jsonrpc_path)?;
        let base = self.rest_base.trim_end_matches('/');
        validate_path(&format!("{base}/tasks"))
    }
}

/// Checks the request's protocol version.
pub(crate) fn negotiate(head: &dyn RequestHead) -> Result<(), A2aError> {
    let from_query = || {
        form_urlencoded::parse(head.query().unwrap_or_default().as_bytes())
            .find(|(name, _)| name.eq_ignore_ascii_case(VERSION_HEADER))
            .map(|(_, value)| value.into_owned())
    };
    let asked = head
        .header(VERSION_HEADER)
        .map(|value| String::from_utf8_lossy(value).into_owned())
        .or_else(from_query)
        .unwrap_or_default();
    let asked = asked.trim();
    if asked.is_empty() {
        return Err(A2aError::VersionNotSupported(
            "0.3 (no A2A-Version given)".into(),
        ));
    }
    let mut numbers = asked.split('.');
    let major_minor = (numbers.next(), numbers.next());
    let rest_is_numeric = numbers.all(|n| n.parse::<u32>().is_ok());
    match major_minor {
        (Some(major), Some(minor))
            if major.parse::<u32>() == Ok(1)
                && minor.parse::<u32>() == Ok(0)
                && rest_is_numeric =>
        {
            Ok(())
        }
        _ => Err(A2aError::VersionNotSupported(asked.to_owned())),
    }
}

#[cfg(test)]
mod service_tests;

#[cfg(test)]
mod tests {
    use super::*;

    struct Versioned(Option<&'static str>, Option<&'static str>);

    impl RequestHead for Versioned {
        fn method(&self) -> &str {
            "POST"
        }
        fn path(&self) -> &str {
            "/a2a/jsonrpc"
        }
        fn query(&self) -> Option<&str> {
            self.1
        }
        fn header(&self, name: &str) -> Option<&[u8]> {
            self.0.filter(|_| name == VERSION_HEADER).map(str::as_bytes)
        }
        fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
            if let Some(value) = self.0 {
                each(VERSION_HEADER, value.as_bytes());
            }
        }
    }

    #[test]
    fn version_negotiation() {
        for ok in ["1.0", "1.0.3", " 1.0 "] {
            assert_eq!(negotiate(&Versioned(Some(ok), None)), Ok(()), "{ok}");
        }
        assert_eq!(negotiate(&Versioned(None, Some("A2A-Version=1.0"))), Ok(()));
        assert_eq!(
            negotiate(&Versioned(None, Some("a2a-version=1.0.0"))),
            Ok(())
        );
        for bad in ["0.3", "1.1", "2.0", "1", "1.x", "1.0.beta"] {
            assert_eq!(
                negotiate(&Versioned(Some(bad), None)),
                Err(A2aError::VersionNotSupported(bad.into())),
                "{bad}"
            );
        }
        for absent in [Versioned(None, None), Versioned(Some(""), None)] {
            let err = negotiate(&absent).unwrap_err();
            assert_eq!(err.code(), -32009);
            assert!(err.to_string().contains("0.3"), "{err}");
        }
    }

    #[test]
    fn routes_are_checked() {
        let config = A2aConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.task_route(), "/a2a/tasks/{id}");
        let slash = A2aConfig {
            rest_base: "/".into(),
            ..A2aConfig::default()
        };
        assert_eq!(slash.task_route(), "/tasks/{id}");
        assert_eq!(slash.validate(), Ok(()));
        let bad = A2aConfig {
            jsonrpc_path: "rpc".into(),
            ..A2aConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
