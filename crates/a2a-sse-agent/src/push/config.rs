//! A push notification config as a request gives it (`TaskPushNotificationConfig`), and
//! the four config methods' calls.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::A2aError;
use crate::method::{Page, Param, field, page};

/// `AuthenticationInfo`: how the receiver wants the agent to authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Authentication {
    pub(crate) scheme: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) credentials: String,
}

/// A config: its id, its task, where to deliver, and what to send with each delivery.
/// Its JSON (camelCase) is what the store keeps and what the methods answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigInput {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default, alias = "task_id")]
    pub(crate) task_id: String,
    pub(crate) url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) authentication: Option<Authentication>,
}

impl ConfigInput {
    /// Reads a config from `params` (unknown fields ignored), for `task` when it names
    /// none; its id is a new UUID when it has none.
    pub(crate) fn read(params: &Value, task: &str) -> Result<Self, A2aError> {
        let mut config: Self = serde_json::from_value(params.clone())
            .map_err(|err| A2aError::InvalidParams(format!("push notification config: {err}")))?;
        if config.task_id.is_empty() {
            task.clone_into(&mut config.task_id);
        }
        if config.id.is_empty() {
            config.id = crate::new_id();
        }
        let url = url::Url::parse(&config.url)
            .map_err(|err| A2aError::InvalidParams(format!("url {:?}: {err}", config.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(A2aError::InvalidParams(format!(
                "url {:?} is not an http or https URL with a host",
                config.url
            )));
        }
        Ok(config)
    }

    /// The host and port deliveries connect to.
    pub(crate) fn target(&self) -> Option<(String, u16)> {
        let url = url::Url::parse(&self.url).ok()?;
        Some((url.host_str()?.to_owned(), url.port_or_known_default()?))
    }
}

/// One of the four config methods, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PushCall {
    /// `CreateTaskPushNotificationConfig`, with the request's config (read later: a
    /// server without push refuses it before looking at it).
    Create(Value),
    /// `GetTaskPushNotificationConfig` of the config `id`.
    Get(String),
    /// `ListTaskPushNotificationConfigs`, a page of them.
    List(Page),
    /// `DeleteTaskPushNotificationConfig` of the config `id`.
    Delete(String),
}

impl PushCall {
    /// The method's name.
    pub(crate) const fn name(&self) -> &'static str {
        match self {
            Self::Create(_) => "CreateTaskPushNotificationConfig",
            Self::Get(_) => "GetTaskPushNotificationConfig",
            Self::List(_) => "ListTaskPushNotificationConfigs",
            Self::Delete(_) => "DeleteTaskPushNotificationConfig",
        }
    }

    /// The JSON-RPC method `name` with `params`, and the task it names.
    pub(crate) fn from_jsonrpc(name: &str, params: &Value) -> Result<(Self, String), A2aError> {
        let text = |camel: &str, snake: &str| match field(params, camel, snake) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
            _ => Err(A2aError::InvalidParams(format!("{camel} is missing"))),
        };
        let task = text("taskId", "task_id")?;
        let call = match name {
            "CreateTaskPushNotificationConfig" => Self::Create(params.clone()),
            "GetTaskPushNotificationConfig" => Self::Get(text("id", "id")?),
            "ListTaskPushNotificationConfigs" => Self::List(page(&|camel, snake| {
                field(params, camel, snake).map(Param::Json)
            })?),
            "DeleteTaskPushNotificationConfig" => Self::Delete(text("id", "id")?),
            other => return Err(A2aError::MethodNotFound(other.to_owned())),
        };
        Ok((call, task))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_config_is_read_with_its_defaults_and_checked() {
        let config = ConfigInput::read(
            &json!({"url": "https://example.com/hook", "token": "t", "extra": 1,
                    "authentication": {"scheme": "Bearer", "credentials": "c"}}),
            "task-1",
        )
        .unwrap();
        assert_eq!(config.task_id, "task-1");
        assert!(!config.id.is_empty());
        assert_eq!(config.target(), Some(("example.com".into(), 443)));
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["taskId"], "task-1");
        assert_eq!(
            json["authentication"],
            json!({"scheme": "Bearer", "credentials": "c"})
        );
        let named = ConfigInput::read(
            &json!({"id": "c1", "task_id": "other", "url": "http://h:81/x"}),
            "t",
        )
        .unwrap();
        assert_eq!((named.id.as_str(), named.task_id.as_str()), ("c1", "other"));
        assert_eq!(named.target(), Some(("h".into(), 81)));
        for bad in [
            json!({}),
            json!({"url": 3}),
            json!({"url": "not a url"}),
            json!({"url": "ftp://example.com/x"}),
            json!({"url": "mailto:someone@example.com"}),
        ] {
            assert_eq!(
                ConfigInput::read(&bad, "t").unwrap_err().code(),
                -32602,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_four_calls() {
        let params = json!({"task_id": "t", "id": "c", "pageSize": 2, "page_token": "x"});
        let page = Page {
            size: Some(2),
            token: Some("x".into()),
        };
        for (name, call) in [
            (
                "CreateTaskPushNotificationConfig",
                PushCall::Create(params.clone()),
            ),
            ("GetTaskPushNotificationConfig", PushCall::Get("c".into())),
            ("ListTaskPushNotificationConfigs", PushCall::List(page)),
            (
                "DeleteTaskPushNotificationConfig",
                PushCall::Delete("c".into()),
            ),
        ] {
            let (read, task) = PushCall::from_jsonrpc(name, &params).unwrap();
            assert_eq!((read.name(), task.as_str()), (name, "t"));
            assert_eq!(read, call);
        }
        assert_eq!(
            PushCall::from_jsonrpc("Other", &params).unwrap_err().code(),
            -32601
        );
        for (name, params) in [
            ("GetTaskPushNotificationConfig", json!({"id": "c"})),
            ("GetTaskPushNotificationConfig", json!({"taskId": "t"})),
            (
                "DeleteTaskPushNotificationConfig",
                json!({"taskId": "t", "id": 3}),
            ),
            (
                "ListTaskPushNotificationConfigs",
                json!({"taskId": "t", "pageSize": 0}),
            ),
        ] {
            let err = PushCall::from_jsonrpc(name, &params).unwrap_err();
            assert_eq!(err.code(), -32602, "{name} {params}");
        }
    }
}
