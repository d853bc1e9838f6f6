//! [`Method`]: what a request asks, whichever binding carried it, with its parameters
//! read and checked.
//!
//! Parameters are read as the protobuf JSON mapping reads them: each field by its
//! camelCase name (`historyLength`) or its proto snake_case name (`history_length`).
//! Unknown fields are ignored; a known field of the wrong type is `InvalidParams`, never
//! ignored.

use a2a_events::{Message, Metadata, Role, TaskState, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use crate::error::A2aError;

/// A method of the protocol, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Method {
    /// `SendMessage`.
    SendMessage(Box<SendMessage>),
    /// `SendStreamingMessage`.
    SendStreamingMessage(Box<SendMessage>),
    /// `GetTask`: the task, with at most `history_length` history messages.
    GetTask {
        task: String,
        history_length: Option<usize>,
    },
    /// `ListTasks`.
    ListTasks(ListTasks),
    /// `CancelTask`.
    CancelTask { task: String },
    /// `SubscribeToTask`: the task's stream.
    SubscribeToTask { task: String },
    /// One of the four push notification config methods, on `task`.
    Push {
        call: crate::push::PushCall,
        task: String,
    },
    /// `GetExtendedAgentCard`.
    GetExtendedAgentCard,
}

/// `SendMessage` and `SendStreamingMessage`'s parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SendMessage {
    /// The user's message.
    pub(crate) message: Message,
    /// `configuration.historyLength`.
    pub(crate) history_length: Option<usize>,
    /// `configuration.returnImmediately`.
    pub(crate) return_immediately: bool,
    /// `configuration.acceptedOutputModes`.
    pub(crate) accepted_output_modes: Vec<String>,
    /// The request's `metadata`.
    pub(crate) metadata: Option<Metadata>,
    /// `configuration.taskPushNotificationConfig`: a config for the task, read later.
    pub(crate) push: Option<Value>,
}

/// `ListTasks`' parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ListTasks {
    pub(crate) context_id: Option<String>,
    pub(crate) status: Option<TaskState>,
    pub(crate) page_size: Option<usize>,
    pub(crate) page_token: Option<String>,
    pub(crate) history_length: Option<usize>,
    pub(crate) status_timestamp_after: Option<Timestamp>,
    pub(crate) include_artifacts: bool,
}

/// Most tasks in one page of `ListTasks`, and the page size when none is asked.
pub(crate) const MAX_PAGE_SIZE: usize = 100;
pub(crate) const DEFAULT_PAGE_SIZE: usize = 50;

impl Method {
    /// The method's name, as the authorization hook sees it.
    pub(crate) const fn name(&self) -> &'static str {
        match self {
            Self::SendMessage(_) => "SendMessage",
            Self::SendStreamingMessage(_) => "SendStreamingMessage",
            Self::GetTask { .. } => "GetTask",
            Self::ListTasks(_) => "ListTasks",
            Self::CancelTask { .. } => "CancelTask",
            Self::SubscribeToTask { .. } => "SubscribeToTask",
            Self::Push { call, .. } => call.name(),
            Self::GetExtendedAgentCard => "GetExtendedAgentCard",
        }
    }

    /// The task the method is about, when it names one.
    pub(crate) fn task(&self) -> Option<&str> {
        match self {
            Self::GetTask { task, .. }
            | Self::CancelTask { task }
            | Self::SubscribeToTask { task }
            | Self::Push { task, .. } => Some(task),
            Self::SendMessage(send) | Self::SendStreamingMessage(send) => {
                send.message.task_id.as_deref()
            }
            Self::ListTasks(_) | Self::GetExtendedAgentCard => None,
        }
    }

    /// The method `name` of a JSON-RPC request, with its `params`.
    pub(crate) fn from_jsonrpc(name: &str, params: &Value) -> Result<Self, A2aError> {
        let object = || {
            params
                .as_object()
                .map(|_| params)
                .ok_or_else(|| A2aError::InvalidParams("params must be an object".into()))
        };
        match name {
            "SendMessage" => Ok(Self::SendMessage(Box::new(send_message(object()?)?))),
            "SendStreamingMessage" => Ok(Self::SendStreamingMessage(Box::new(send_message(
                object()?,
            )?))),
            "GetTask" => Ok(Self::GetTask {
                task: task_id(object()?, "id")?,
                history_length: history_length(field(params, "historyLength", "history_length"))?,
            }),
            "ListTasks" => {
                let params = if params.is_null() {
                    &Value::Null
                } else {
                    object()?
                };
                list_tasks(|camel, snake| field(params, camel, snake).map(Param::Json))
                    .map(Self::ListTasks)
            }
            "CancelTask" => Ok(Self::CancelTask {
                task: task_id(object()?, "id")?,
            }),
            "SubscribeToTask" => Ok(Self::SubscribeToTask {
                task: task_id(object()?, "id")?,
            }),
            "CreateTaskPushNotificationConfig"
            | "GetTaskPushNotificationConfig"
            | "ListTaskPushNotificationConfigs"
            | "DeleteTaskPushNotificationConfig" => {
                let (call, task) = crate::push::PushCall::from_jsonrpc(name, object()?)?;
                Ok(Self::Push { call, task })
            }
            "GetExtendedAgentCard" => Ok(Self::GetExtendedAgentCard),
            other => Err(A2aError::MethodNotFound(format!(
                "{other} is not a method of A2A 1.0"
            ))),
        }
    }
}

/// The field `camel` (or `snake`) of `params`, if `params` is an object that has it.
pub(crate) fn field<'a>(params: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    params.get(camel).or_else(|| params.get(snake))
}

/// A task id field: a string.
fn task_id(params: &Value, name: &str) -> Result<String, A2aError> {
    match params.get(name) {
        Some(Value::String(task)) => Ok(task.clone()),
        Some(_) => Err(A2aError::InvalidParams(format!(
            "params.{name} must be a string"
        ))),
        None => Err(A2aError::InvalidParams(format!(
            "params.{name} (the task id) is missing"
        ))),
    }
}

/// `historyLength`: absent or null for no limit, else a whole number ≥ 0.
pub(crate) fn history_length(value: Option<&Value>) -> Result<Option<usize>, A2aError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                A2aError::InvalidParams("historyLength must be a whole number, 0 or more".into())
            }),
    }
}

/// The parts of `SendMessageConfiguration` this agent reads.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Configuration {
    #[serde(default, alias = "accepted_output_modes")]
    accepted_output_modes: Vec<String>,
    #[serde(default, alias = "history_length")]
    history_length: Option<Value>,
    #[serde(default, alias = "return_immediately")]
    return_immediately: bool,
    #[serde(default, alias = "task_push_notification_config")]
    task_push_notification_config: Option<Value>,
}

/// Reads `SendMessageRequest` (`message`, `configuration`, `metadata`). The message must
/// be the user's, with an id and at least one part.
pub(crate) fn send_message(params: &Value) -> Result<SendMessage, A2aError> {
    let invalid = |what: String| A2aError::InvalidParams(what);
    let message = params
        .get("message")
        .ok_or_else(|| invalid("params.message is missing".into()))?;
    let message: Message = serde_json::from_value(message.clone())
        .map_err(|err| invalid(format!("params.message: {err}")))?;
    if message.message_id.is_empty() {
        return Err(invalid("params.message.messageId must not be empty".into()));
    }
    if message.role != Role::User {
        return Err(invalid("params.message.role must be ROLE_USER".into()));
    }
    if message.parts.is_empty() {
        return Err(invalid("params.message.parts must not be empty".into()));
    }
    let configuration = match params.get("configuration") {
        None | Some(Value::Null) => Configuration::default(),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|err| invalid(format!("params.configuration: {err}")))?,
    };
    let metadata = match params.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map.clone()),
        Some(_) => return Err(invalid("params.metadata must be an object".into())),
    };
    Ok(SendMessage {
        message,
        history_length: history_length(configuration.history_length.as_ref())?,
        return_immediately: configuration.return_immediately,
        accepted_output_modes: configuration.accepted_output_modes,
        metadata,
        push: configuration
            .task_push_notification_config
            .filter(|config| !config.is_null()),
    })
}

/// A parameter of `ListTasks`: JSON (JSON-RPC) or a query string's text (HTTP+JSON).
pub(crate) enum Param<'a> {
    Json(&'a Value),
    Text(String),
}

impl Param<'_> {
    fn string(&self, name: &str) -> Result<Option<String>, A2aError> {
        let text = match self {
            Param::Json(Value::Null) => return Ok(None),
            Param::Json(Value::String(text)) => text.as_str(),
            Param::Text(text) => text.as_str(),
            Param::Json(_) => {
                return Err(A2aError::InvalidParams(format!("{name} must be a string")));
            }
        };
        Ok((!text.is_empty()).then(|| text.to_owned()))
    }

    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, A2aError> {
        let bad = || A2aError::InvalidParams(format!("{name} must be a whole number, 0 or more"));
        match self {
            Param::Json(Value::Null) => Ok(None),
            Param::Json(value) => value.as_u64().map(Some).ok_or_else(bad),
            Param::Text(text) => text.parse().map(Some).map_err(|_| bad()),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, A2aError> {
        let bad = || A2aError::InvalidParams(format!("{name} must be true or false"));
        match self {
            Param::Json(Value::Null) => Ok(None),
            Param::Json(Value::Bool(value)) => Ok(Some(*value)),
            Param::Json(_) => Err(bad()),
            Param::Text(text) => text.parse().map(Some).map_err(|_| bad()),
        }
    }
}

/// The page a list asks for: `pageSize` (1 to [`MAX_PAGE_SIZE`]) and `pageToken`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Page {
    pub(crate) size: Option<usize>,
    pub(crate) token: Option<String>,
}

/// Reads a list's page through `get`, which finds a field by its camelCase or snake_case
/// name.
pub(crate) fn page<'a>(get: &impl Fn(&str, &str) -> Option<Param<'a>>) -> Result<Page, A2aError> {
    let size = match get("pageSize", "page_size") {
        Some(param) => param.number("pageSize")?,
        None => None,
    };
    let size = match size {
        None => None,
        Some(size) if (1..=MAX_PAGE_SIZE as u64).contains(&size) => usize::try_from(size).ok(),
        Some(size) => {
            return Err(A2aError::InvalidParams(format!(
                "pageSize {size} is out of range: 1 to {MAX_PAGE_SIZE}"
            )));
        }
    };
    let token = match get("pageToken", "page_token") {
        Some(param) => param.string("pageToken")?,
        None => None,
    };
    Ok(Page { size, token })
}

/// Reads `ListTasksRequest` through `get`, which finds a field by its camelCase or
/// snake_case name.
pub(crate) fn list_tasks<'a>(
    get: impl Fn(&str, &str) -> Option<Param<'a>>,
) -> Result<ListTasks, A2aError> {
    let string = |camel: &str, snake: &str| match get(camel, snake) {
        Some(param) => param.string(camel),
        None => Ok(None),
    };
    let status = match string("status", "status")? {
        None => None,
        Some(name) if name == "TASK_STATE_UNSPECIFIED" => None,
        Some(name) => Some(
            serde_json::from_value::<TaskState>(Value::String(name.clone())).map_err(|_| {
                A2aError::InvalidParams(format!("status {name} is not a task state"))
            })?,
        ),
    };
    let page = page(&get)?;
    let history_length = match get("historyLength", "history_length") {
        Some(param) => param
            .number("historyLength")?
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    let status_timestamp_after = match string("statusTimestampAfter", "status_timestamp_after")? {
        None => None,
        Some(text) => Some(Timestamp::parse(&text).map_err(|err| {
            A2aError::InvalidParams(format!("statusTimestampAfter {text:?}: {err}"))
        })?),
    };
    let include_artifacts = match get("includeArtifacts", "include_artifacts") {
        Some(param) => param.boolean("includeArtifacts")?.unwrap_or(false),
        None => false,
    };
    Ok(ListTasks {
        context_id: string("contextId", "context_id")?,
        status,
        page_size: page.size,
        page_token: page.token,
        history_length,
        status_timestamp_after,
        include_artifacts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user_message() -> Value {
        json!({"messageId": "m-1", "role": "ROLE_USER", "parts": [{"text": "hi"}]})
    }

    #[test]
    fn both_spellings_of_a_field_are_read() {
        let camel = Method::from_jsonrpc("GetTask", &json!({"id": "t", "historyLength": 2}));
        let snake = Method::from_jsonrpc("GetTask", &json!({"id": "t", "history_length": 2}));
        let expected = Method::GetTask {
            task: "t".into(),
            history_length: Some(2),
        };
        assert_eq!(camel, Ok(expected.clone()));
        assert_eq!(snake, Ok(expected));
        for bad in [json!(-1), json!(1.5), json!("2")] {
            for name in ["historyLength", "history_length"] {
                let params = json!({"id": "t", name: bad});
                let err = Method::from_jsonrpc("GetTask", &params).unwrap_err();
                assert_eq!(err.code(), -32602, "{params}");
            }
        }
    }

    #[test]
    fn names_and_tasks() {
        let get = Method::from_jsonrpc("GetTask", &json!({"id": "t"})).unwrap();
        assert_eq!((get.name(), get.task()), ("GetTask", Some("t")));
        let sub = Method::from_jsonrpc("SubscribeToTask", &json!({"id": "u"})).unwrap();
        assert_eq!((sub.name(), sub.task()), ("SubscribeToTask", Some("u")));
        let cancel = Method::from_jsonrpc("CancelTask", &json!({"id": "c"})).unwrap();
        assert_eq!((cancel.name(), cancel.task()), ("CancelTask", Some("c")));
        let push = Method::from_jsonrpc(
            "GetTaskPushNotificationConfig",
            &json!({"task_id": "p", "id": "cfg"}),
        )
        .unwrap();
        assert_eq!(
            (push.name(), push.task()),
            ("GetTaskPushNotificationConfig", Some("p"))
        );
        let created = Method::from_jsonrpc(
            "CreateTaskPushNotificationConfig",
            &json!({"taskId": "q", "url": "https://example.com"}),
        )
        .unwrap();
        assert_eq!(created.task(), Some("q"));
        let card = Method::from_jsonrpc("GetExtendedAgentCard", &Value::Null).unwrap();
        assert_eq!((card.name(), card.task()), ("GetExtendedAgentCard", None));
        for params in [json!([]), json!(null), json!({"id": 3}), json!({})] {
            let err = Method::from_jsonrpc("SubscribeToTask", &params).unwrap_err();
            assert_eq!(err.code(), -32602, "{params}");
        }
        let unknown = Method::from_jsonrpc("tasks/get", &json!({})).unwrap_err();
        assert_eq!(unknown.code(), -32601);
    }

    #[test]
    fn send_message_reads_the_message_and_its_configuration() {
        let params = json!({
            "message": {"message_id": "m-1", "role": "ROLE_USER", "parts": [{"text": "hi"}],
                        "task_id": "t-1", "tckUnknownField": 1},
            "configuration": {"returnImmediately": true, "history_length": 0,
                              "acceptedOutputModes": ["text/plain"]},
            "metadata": {"k": "v"},
            "tckExtraParam": true
        });
        let message = json!({"messageId": "m-1", "role": "ROLE_USER", "parts": [{"text": "hi"}],
                             "taskId": "t-1"});
        let expected = SendMessage {
            message: serde_json::from_value(message).unwrap(),
            history_length: Some(0),
            return_immediately: true,
            accepted_output_modes: vec!["text/plain".into()],
            metadata: json!({"k": "v"}).as_object().cloned(),
            push: None,
        };
        assert_eq!(
            Method::from_jsonrpc("SendMessage", &params),
            Ok(Method::SendMessage(Box::new(expected)))
        );
        let streaming =
            Method::from_jsonrpc("SendStreamingMessage", &json!({"message": user_message()}));
        assert!(matches!(streaming, Ok(Method::SendStreamingMessage(_))));
        let unread = Method::from_jsonrpc("SendStreamingMessage", &json!({"message": {}}));
        assert_eq!(unread.map_err(|err| err.code()), Err(-32602));
        for bad in [
            json!({}),
            json!({"message": {"role": "ROLE_USER", "parts": [{"text": "x"}]}}),
            json!({"message": {"messageId": "", "role": "ROLE_USER", "parts": [{"text": "x"}]}}),
            json!({"message": {"messageId": "m", "role": "ROLE_AGENT", "parts": [{"text": "x"}]}}),
            json!({"message": {"messageId": "m", "role": "ROLE_USER", "parts": []}}),
            json!({"message": user_message(), "configuration": {"returnImmediately": "yes"}}),
            json!({"message": user_message(), "configuration": {"historyLength": -1}}),
            json!({"message": user_message(), "metadata": 3}),
        ] {
            let err = Method::from_jsonrpc("SendMessage", &bad).unwrap_err();
            assert_eq!(err.code(), -32602, "{bad}: {err}");
        }
    }

    #[test]
    fn list_tasks_reads_every_filter_in_both_spellings() {
        let params = json!({"context_id": "c", "status": "TASK_STATE_WORKING", "page_size": 2,
            "pageToken": "tok", "historyLength": 1,
            "statusTimestampAfter": "2026-01-01T00:00:00Z", "include_artifacts": true});
        let expected = ListTasks {
            context_id: Some("c".into()),
            status: Some(TaskState::Working),
            page_size: Some(2),
            page_token: Some("tok".into()),
            history_length: Some(1),
            status_timestamp_after: Some(Timestamp::parse("2026-01-01T00:00:00Z").unwrap()),
            include_artifacts: true,
        };
        assert_eq!(
            Method::from_jsonrpc("ListTasks", &params),
            Ok(Method::ListTasks(expected))
        );
        let empty = Method::from_jsonrpc("ListTasks", &Value::Null).unwrap();
        assert_eq!(empty, Method::ListTasks(ListTasks::default()));
        // A null field is an absent one, whatever its type.
        let nulls = json!({"contextId": null, "pageSize": null, "pageToken": null,
            "historyLength": null, "includeArtifacts": null, "status": null});
        assert_eq!(
            Method::from_jsonrpc("ListTasks", &nulls),
            Ok(Method::ListTasks(ListTasks::default()))
        );
        for bad in [
            json!({"pageSize": 0}),
            json!({"pageSize": 101}),
            json!({"status": "RUNNING"}),
            json!({"statusTimestampAfter": "yesterday"}),
            json!({"includeArtifacts": "yes"}),
            json!({"contextId": 3}),
            json!([]),
        ] {
            let err = Method::from_jsonrpc("ListTasks", &bad).unwrap_err();
            assert_eq!(err.code(), -32602, "{bad}: {err}");
        }
        let query = [
            ("contextId", "c"),
            ("includeArtifacts", "false"),
            ("pageSize", "5"),
        ];
        let list = list_tasks(|camel, snake| {
            query
                .iter()
                .find(|(name, _)| *name == camel || *name == snake)
                .map(|(_, value)| Param::Text((*value).to_owned()))
        })
        .unwrap();
        assert_eq!(list.context_id.as_deref(), Some("c"));
        assert_eq!(list.page_size, Some(5));
        assert!(!list.include_artifacts);
    }
}
