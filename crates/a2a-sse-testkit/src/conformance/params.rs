//! Custom step parameters, written in words a reader of the features uses: `{state}` (a
//! task state), `{reason}` (why a stream ended), `{list}` (a bracketed list of words, as
//! in `[a, b, c]`) and `{error}` (an A2A error by its name). The binding, `{binding}`, is
//! [`Binding`](super::a2a::Binding).

use std::str::FromStr;

use a2a_events::TaskState;
use a2a_sse_core::DisconnectReason;
use cucumber::Parameter;

/// A task state, as in "reports that it is input-required".
#[derive(Debug, Clone, Copy, Parameter)]
#[param(
    name = "state",
    regex = "submitted|working|input-required|auth-required|completed|failed|canceled|rejected"
)]
pub(crate) struct State(pub(crate) TaskState);

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(match s {
            "submitted" => TaskState::Submitted,
            "working" => TaskState::Working,
            "input-required" => TaskState::InputRequired,
            "auth-required" => TaskState::AuthRequired,
            "completed" => TaskState::Completed,
            "failed" => TaskState::Failed,
            "canceled" => TaskState::Canceled,
            "rejected" => TaskState::Rejected,
            other => return Err(format!("unknown task state {other:?}")),
        }))
    }
}

/// Why a stream ended, as in "closed because the client went away".
#[derive(Debug, Clone, Copy, Parameter)]
#[param(
    name = "reason",
    regex = "the client went away|the plan finished|it fell behind|the server shut down"
)]
pub(crate) struct Reason(pub(crate) DisconnectReason);

impl FromStr for Reason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(match s {
            "the client went away" => DisconnectReason::ClientGone,
            "the plan finished" => DisconnectReason::Finished,
            "it fell behind" => DisconnectReason::Lagged,
            "the server shut down" => DisconnectReason::Shutdown,
            other => return Err(format!("unknown reason {other:?}")),
        }))
    }
}

/// A list in brackets, items separated by a comma and a space: `[D, B, A]`, `[]`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "list", regex = r"\[[^\]]*\]")]
pub(crate) struct List(pub(crate) Vec<String>);

impl FromStr for List {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let inner = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(|| format!("{s:?} is not a [list]"))?;
        if inner.trim().is_empty() {
            return Ok(Self(Vec::new()));
        }
        Ok(Self(inner.split(", ").map(str::to_owned).collect()))
    }
}

/// An A2A error, by its name in the specification, with how each binding carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(
    name = "error",
    regex = "TaskNotFound|TaskNotCancelable|UnsupportedOperation|InvalidParams"
)]
pub(crate) struct A2aError {
    /// Its name.
    pub(crate) name: &'static str,
    /// Its JSON-RPC code.
    pub(crate) code: i64,
    /// The HTTP status of its HTTP+JSON answer.
    pub(crate) http: u16,
    /// Its `ErrorInfo` reason.
    pub(crate) reason: &'static str,
}

impl FromStr for A2aError {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, code, http, reason) = match s {
            "TaskNotFound" => ("TaskNotFound", -32001, 404, "TASK_NOT_FOUND"),
            "TaskNotCancelable" => ("TaskNotCancelable", -32002, 409, "TASK_NOT_CANCELABLE"),
            "UnsupportedOperation" => {
                ("UnsupportedOperation", -32004, 400, "UNSUPPORTED_OPERATION")
            }
            "InvalidParams" => ("InvalidParams", -32602, 400, "INVALID_PARAMS"),
            other => return Err(format!("unknown A2A error {other:?}")),
        };
        Ok(Self {
            name,
            code,
            http,
            reason,
        })
    }
}
