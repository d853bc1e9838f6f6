//! [`A2aError`]: the protocol errors of the binding, in both of their wire shapes.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The `domain` of every `ErrorInfo` detail.
pub const ERROR_DOMAIN: &str = "a2a-protocol.org";

const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// A protocol error of the A2A bindings. Over JSON-RPC it is an error object with its
/// code (answered with HTTP 200, since A2A clients read any HTTP 4xx as a generic
/// failure); over HTTP+JSON a `google.rpc.Status` with its HTTP status. Both carry an
/// `ErrorInfo` detail naming the reason, in the domain [`ERROR_DOMAIN`]. The codes and
/// statuses are the specification's table (§5.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum A2aError {
    /// The body is not JSON (JSON-RPC `-32700`; HTTP+JSON 400).
    #[error("invalid JSON payload: {0}")]
    Parse(String),
    /// The JSON is not a JSON-RPC 2.0 request (`-32600`; HTTP+JSON 400).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// No such method (`-32601`; HTTP+JSON 404).
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// The method's parameters are wrong (`-32602`; HTTP+JSON 400).
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// Something failed on the server's side (`-32603`; HTTP+JSON 500).
    #[error("internal error: {0}")]
    Internal(String),
    /// No such task (`-32001`; HTTP+JSON 404 `TASK_NOT_FOUND`).
    #[error("task not found: {0}")]
    TaskNotFound(String),
    /// The task has no push notification config of that id. The specification has no
    /// error of its own for it: it is answered as `TaskNotFoundError` (`-32001`; HTTP+JSON
    /// 404, reason `TASK_NOT_FOUND`), whose metadata also names the config (`configId`).
    #[error("task {task} has no push notification config {config:?}")]
    PushConfigNotFound {
        /// The task.
        task: String,
        /// The config asked for.
        config: String,
    },
    /// The task cannot be canceled: it already ended (`-32002`; HTTP+JSON 409).
    #[error("task not cancelable: {0}")]
    TaskNotCancelable(String),
    /// Push notifications are off (`-32003`; HTTP+JSON 400).
    #[error("push notifications are not supported by this agent")]
    PushNotificationNotSupported,
    /// The operation cannot be done, such as a message to, or a subscription to, a task in
    /// a terminal state (`-32004`; HTTP+JSON 400 `UNSUPPORTED_OPERATION`).
    #[error("unsupported operation: {0}")]
    UnsupportedOperation(String),
    /// The request's content type is not one this agent reads (`-32005`; HTTP+JSON 415).
    #[error("content type not supported: {0}")]
    ContentTypeNotSupported(String),
    /// The agent's own answer was not valid (`-32006`; HTTP+JSON 502).
    #[error("invalid agent response: {0}")]
    InvalidAgentResponse(String),
    /// No extended agent card is configured (`-32007`; HTTP+JSON 400).
    #[error("no extended agent card is configured")]
    ExtendedAgentCardNotConfigured,
    /// The client must declare support for an extension (`-32008`; HTTP+JSON 400).
    #[error("extension support required: {0}")]
    ExtensionSupportRequired(String),
    /// The client asked for a protocol version this server does not speak (`-32009`;
    /// HTTP+JSON 400 `VERSION_NOT_SUPPORTED`); it holds the version asked for.
    #[error(
        "protocol version {0} is not supported; this server speaks 1.0 \
         (send A2A-Version: 1.0; a request without it asks for 0.3)"
    )]
    VersionNotSupported(String),
    /// The event backend cannot answer now (Redis unreachable, the server shutting down):
    /// over JSON-RPC an internal error (`-32603`), over HTTP+JSON 503 `UNAVAILABLE`. Not
    /// the request's fault: the client may try again.
    #[error("the agent's store is unavailable: {0}")]
    Unavailable(String),
    /// The HTTP method cannot be used on this route (405); it holds the methods that can.
    #[error("the method is not allowed here; use {0}")]
    MethodNotAllowed(&'static str),
}

impl A2aError {
    /// The backend's refusal to read, as the client is told it.
    pub(crate) fn unavailable(err: a2a_events::SubscribeError) -> Self {
        Self::Unavailable(err.to_string())
    }

    /// The JSON-RPC error code.
    #[must_use]
    pub const fn code(&self) -> i32 {
        match self {
            Self::Parse(_) => -32700,
            Self::InvalidRequest(_) | Self::MethodNotAllowed(_) => -32600,
            Self::MethodNotFound(_) => -32601,
            Self::InvalidParams(_) => -32602,
            Self::Internal(_) | Self::Unavailable(_) => -32603,
            Self::TaskNotFound(_) | Self::PushConfigNotFound { .. } => -32001,
            Self::TaskNotCancelable(_) => -32002,
            Self::PushNotificationNotSupported => -32003,
            Self::UnsupportedOperation(_) => -32004,
            Self::ContentTypeNotSupported(_) => -32005,
            Self::InvalidAgentResponse(_) => -32006,
            Self::ExtendedAgentCardNotConfigured => -32007,
            Self::ExtensionSupportRequired(_) => -32008,
            Self::VersionNotSupported(_) => -32009,
        }
    }

    /// The HTTP status of the HTTP+JSON answer.
    #[must_use]
    pub const fn http_status(&self) -> u16 {
        match self {
            Self::TaskNotFound(_) | Self::PushConfigNotFound { .. } | Self::MethodNotFound(_) => {
                404
            }
            Self::MethodNotAllowed(_) => 405,
            Self::TaskNotCancelable(_) => 409,
            Self::ContentTypeNotSupported(_) => 415,
            Self::Internal(_) => 500,
            Self::InvalidAgentResponse(_) => 502,
            Self::Unavailable(_) => 503,
            _ => 400,
        }
    }

    /// The `google.rpc.Code` name of the HTTP+JSON answer.
    #[must_use]
    pub const fn grpc_status(&self) -> &'static str {
        match self {
            Self::TaskNotFound(_) | Self::PushConfigNotFound { .. } | Self::MethodNotFound(_) => {
                "NOT_FOUND"
            }
            Self::TaskNotCancelable(_)
            | Self::ExtendedAgentCardNotConfigured
            | Self::ExtensionSupportRequired(_) => "FAILED_PRECONDITION",
            Self::PushNotificationNotSupported
            | Self::UnsupportedOperation(_)
            | Self::VersionNotSupported(_)
            | Self::MethodNotAllowed(_) => "UNIMPLEMENTED",
            Self::Internal(_) | Self::InvalidAgentResponse(_) => "INTERNAL",
            Self::Unavailable(_) => "UNAVAILABLE",
            _ => "INVALID_ARGUMENT",
        }
    }

    /// The `ErrorInfo` reason: the error's name in upper snake case.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Parse(_) => "JSON_PARSE_ERROR",
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::MethodNotFound(_) => "METHOD_NOT_FOUND",
            Self::InvalidParams(_) => "INVALID_PARAMS",
            Self::Internal(_) => "INTERNAL_ERROR",
            Self::TaskNotFound(_) | Self::PushConfigNotFound { .. } => "TASK_NOT_FOUND",
            Self::TaskNotCancelable(_) => "TASK_NOT_CANCELABLE",
            Self::PushNotificationNotSupported => "PUSH_NOTIFICATION_NOT_SUPPORTED",
            Self::UnsupportedOperation(_) => "UNSUPPORTED_OPERATION",
            Self::ContentTypeNotSupported(_) => "CONTENT_TYPE_NOT_SUPPORTED",
            Self::InvalidAgentResponse(_) => "INVALID_AGENT_RESPONSE",
            Self::ExtendedAgentCardNotConfigured => "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
            Self::ExtensionSupportRequired(_) => "EXTENSION_SUPPORT_REQUIRED",
            Self::VersionNotSupported(_) => "VERSION_NOT_SUPPORTED",
            Self::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Self::Unavailable(_) => "UNAVAILABLE",
        }
    }

    /// What the `ErrorInfo`'s metadata says, beside the reason.
    fn metadata(&self) -> Vec<(&'static str, &str)> {
        match self {
            Self::TaskNotFound(task) => vec![("taskId", task.as_str())],
            Self::PushConfigNotFound { task, config } => {
                vec![("taskId", task.as_str()), ("configId", config.as_str())]
            }
            Self::VersionNotSupported(asked) => {
                vec![
                    ("requestedVersion", asked.as_str()),
                    ("supportedVersions", "1.0"),
                ]
            }
            _ => Vec::new(),
        }
    }

    /// The `details` list: one `ErrorInfo`.
    fn details(&self) -> Value {
        let mut info = Map::new();
        info.insert("@type".into(), ERROR_INFO_TYPE.into());
        info.insert("reason".into(), self.reason().into());
        info.insert("domain".into(), ERROR_DOMAIN.into());
        let metadata: Map<String, Value> = self
            .metadata()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.into()))
            .collect();
        if !metadata.is_empty() {
            info.insert("metadata".into(), metadata.into());
        }
        Value::Array(vec![info.into()])
    }

    /// The JSON-RPC error object: `{"code", "message", "data": [ErrorInfo]}`.
    #[must_use]
    pub fn to_jsonrpc(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code().into());
        error.insert("message".into(), self.to_string().into());
        error.insert("data".into(), self.details());
        error.into()
    }

    /// A whole JSON-RPC error response for the request with id `id` (`null` when the
    /// request's id could not be read).
    #[must_use]
    pub fn jsonrpc_response(&self, id: Option<&RawValue>) -> Bytes {
        let id = id.map_or("null", RawValue::get);
        let error = self.to_jsonrpc().to_string();
        let mut out = BytesMut::with_capacity(error.len() + id.len() + 40);
        out.put_slice(br#"{"jsonrpc":"2.0","id":"#);
        out.put_slice(id.as_bytes());
        out.put_slice(br#","error":"#);
        out.put_slice(error.as_bytes());
        out.put_u8(b'}');
        out.freeze()
    }

    /// The HTTP+JSON body: `{"error": google.rpc.Status}`.
    #[must_use]
    pub fn status_body(&self) -> Bytes {
        let mut status = Map::new();
        status.insert("code".into(), self.http_status().into());
        status.insert("status".into(), self.grpc_status().into());
        status.insert("message".into(), self.to_string().into());
        status.insert("details".into(), self.details());
        let mut body = Map::new();
        body.insert("error".into(), status.into());
        Bytes::from(Value::from(body).to_string())
    }
}

/// Serializes `value`; a failure (a map with keys that are not strings, say) is reported
/// as an internal error rather than answered with something else.
pub(crate) fn to_json(value: &impl Serialize) -> Result<Bytes, A2aError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|err| A2aError::Internal(format!("the answer could not be encoded: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn each_error_has_its_code_status_and_reason() {
        let cases = [
            (
                A2aError::Parse("x".into()),
                -32700,
                400,
                "INVALID_ARGUMENT",
                "JSON_PARSE_ERROR",
            ),
            (
                A2aError::InvalidRequest("x".into()),
                -32600,
                400,
                "INVALID_ARGUMENT",
                "INVALID_REQUEST",
            ),
            (
                A2aError::MethodNotFound("x".into()),
                -32601,
                404,
                "NOT_FOUND",
                "METHOD_NOT_FOUND",
            ),
            (
                A2aError::InvalidParams("x".into()),
                -32602,
                400,
                "INVALID_ARGUMENT",
                "INVALID_PARAMS",
            ),
            (
                A2aError::Internal("x".into()),
                -32603,
                500,
                "INTERNAL",
                "INTERNAL_ERROR",
            ),
            (
                A2aError::TaskNotFound("t".into()),
                -32001,
                404,
                "NOT_FOUND",
                "TASK_NOT_FOUND",
            ),
            (
                A2aError::TaskNotCancelable("t".into()),
                -32002,
                409,
                "FAILED_PRECONDITION",
                "TASK_NOT_CANCELABLE",
            ),
            (
                A2aError::PushNotificationNotSupported,
                -32003,
                400,
                "UNIMPLEMENTED",
                "PUSH_NOTIFICATION_NOT_SUPPORTED",
            ),
            (
                A2aError::UnsupportedOperation("x".into()),
                -32004,
                400,
                "UNIMPLEMENTED",
                "UNSUPPORTED_OPERATION",
            ),
            (
                A2aError::ContentTypeNotSupported("text/plain".into()),
                -32005,
                415,
                "INVALID_ARGUMENT",
                "CONTENT_TYPE_NOT_SUPPORTED",
            ),
            (
                A2aError::InvalidAgentResponse("x".into()),
                -32006,
                502,
                "INTERNAL",
                "INVALID_AGENT_RESPONSE",
            ),
            (
                A2aError::ExtendedAgentCardNotConfigured,
                -32007,
                400,
                "FAILED_PRECONDITION",
                "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
            ),
            (
                A2aError::ExtensionSupportRequired("urn:x".into()),
                -32008,
                400,
                "FAILED_PRECONDITION",
                "EXTENSION_SUPPORT_REQUIRED",
            ),
            (
                A2aError::VersionNotSupported("0.3".into()),
                -32009,
                400,
                "UNIMPLEMENTED",
                "VERSION_NOT_SUPPORTED",
            ),
            (
                A2aError::Unavailable("down".into()),
                -32603,
                503,
                "UNAVAILABLE",
                "UNAVAILABLE",
            ),
            (
                A2aError::MethodNotAllowed("GET"),
                -32600,
                405,
                "UNIMPLEMENTED",
                "METHOD_NOT_ALLOWED",
            ),
        ];
        for (err, code, http, grpc, reason) in cases {
            assert_eq!(
                (
                    err.code(),
                    err.http_status(),
                    err.grpc_status(),
                    err.reason()
                ),
                (code, http, grpc, reason),
                "{err}"
            );
            let status: Value = serde_json::from_slice(&err.status_body()).unwrap();
            assert_eq!(status["error"]["code"], http);
            assert_eq!(status["error"]["status"], grpc);
            assert_eq!(status["error"]["details"][0]["reason"], reason);
            assert_eq!(status["error"]["details"][0]["domain"], ERROR_DOMAIN);
            let rpc = err.to_jsonrpc();
            assert_eq!(rpc["code"], code);
            assert_eq!(rpc["data"][0]["@type"], ERROR_INFO_TYPE);
        }
    }

    #[test]
    fn shapes_match_the_spec() {
        let err = A2aError::TaskNotFound("t-x".into());
        let id = RawValue::from_string("\"req-1\"".into()).unwrap();
        let response: Value = serde_json::from_slice(&err.jsonrpc_response(Some(&id))).unwrap();
        assert_eq!(
            response,
            json!({"jsonrpc": "2.0", "id": "req-1", "error": {
                "code": -32001,
                "message": "task not found: t-x",
                "data": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "TASK_NOT_FOUND",
                    "domain": "a2a-protocol.org",
                    "metadata": {"taskId": "t-x"}
                }]
            }})
        );
        let anonymous: Value = serde_json::from_slice(&err.jsonrpc_response(None)).unwrap();
        assert_eq!(anonymous["id"], Value::Null);
        let version: Value =
            serde_json::from_slice(&A2aError::VersionNotSupported("0.3".into()).status_body())
                .unwrap();
        assert_eq!(
            version["error"]["details"][0]["metadata"],
            json!({"requestedVersion": "0.3", "supportedVersions": "1.0"})
        );
    }
}
