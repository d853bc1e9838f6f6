//! [`Method`]: what a request asks, whichever binding carried it, with its parameters
//! read and checked.
//!
//! Parameters are read as the protobuf JSON mapping reads them: each field by its
//! camelCase name (`historyLength`) or its proto snake_case name (`history_length`), the
//! first found winning. A field of the wrong type is `InvalidParams`, never ignored.

use serde_json::Value;

use crate::error::A2aError;

/// A method of the protocol, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GetTask`: the task, with at most `history_length` history messages.
    GetTask {
        task: String,
        history_length: Option<usize>,
    },
    /// `SubscribeToTask`: the task's stream.
    SubscribeToTask { task: String },
}

impl Method {
    /// The method's name, as the authorization hook sees it.
    pub(crate) const fn name(&self) -> &'static str {
        match self {
            Self::GetTask { .. } => "GetTask",
            Self::SubscribeToTask { .. } => "SubscribeToTask",
        }
    }

    /// The task the method is about.
    pub(crate) fn task(&self) -> &str {
        match self {
            Self::GetTask { task, .. } | Self::SubscribeToTask { task } => task,
        }
    }

    /// The method `name` of a JSON-RPC request, with its `params`.
    pub(crate) fn from_jsonrpc(name: &str, params: &Value) -> Result<Self, A2aError> {
        match name {
            "GetTask" => Ok(Self::GetTask {
                task: task_id(params, "id")?,
                history_length: history_length(field(params, "historyLength", "history_length"))?,
            }),
            "SubscribeToTask" => Ok(Self::SubscribeToTask {
                task: task_id(params, "id")?,
            }),
            other => Err(A2aError::MethodNotFound(format!(
                "{other} (this server serves GetTask and SubscribeToTask)"
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
    if !params.is_object() {
        return Err(A2aError::InvalidParams("params must be an object".into()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert_eq!((get.name(), get.task()), ("GetTask", "t"));
        let sub = Method::from_jsonrpc("SubscribeToTask", &json!({"id": "u"})).unwrap();
        assert_eq!((sub.name(), sub.task()), ("SubscribeToTask", "u"));
        for params in [json!([]), json!(null), json!({"id": 3}), json!({})] {
            let err = Method::from_jsonrpc("SubscribeToTask", &params).unwrap_err();
            assert_eq!(err.code(), -32602, "{params}");
        }
        let unknown = Method::from_jsonrpc("tasks/get", &json!({})).unwrap_err();
        assert_eq!(unknown.code(), -32601);
    }
}
