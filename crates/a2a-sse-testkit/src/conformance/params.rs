//! Custom step parameters: `{state}` (a task state) and `{reason}` (why a stream ended),
//! written in words a reader of the features uses.

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
