//! What a Redis failure means for the backend: [`ConnectError`], and how a `RedisError`
//! becomes a [`BackendError`].

use a2a_events::{BackendError, BackendErrorKind};
use redis::RedisError;

use crate::config::ConfigError;

/// Why [`RedisBackend::connect`](crate::RedisBackend::connect) returned no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration cannot work.
    #[error("invalid Redis backend configuration: {0}")]
    Config(#[from] ConfigError),
    /// Redis could not be reached, or refused the backend's first commands.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// How the backend treats one failed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connection failed or timed out: drop it, and retry on a new one. The command
    /// may have been applied, unless the connection was refused.
    Transport {
        /// Whether the command may have reached Redis.
        maybe_applied: bool,
    },
    /// Redis refused for now (loading its data, a replica, a failover under way): retry
    /// on a new connection; nothing was applied.
    Busy,
    /// Anything else: Redis answered, and retrying would get the same answer.
    Final,
}

/// Server error codes that mean "not now, maybe elsewhere": nothing was run.
const BUSY_CODES: [&str; 6] = [
    "LOADING",
    "READONLY",
    "MASTERDOWN",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "BUSY",
];

pub(crate) fn classify(error: &RedisError) -> Failure {
    if error.is_io_error() {
        return Failure::Transport {
            maybe_applied: !error.is_connection_refusal(),
        };
    }
    match error.code() {
        Some(code) if BUSY_CODES.contains(&code) => Failure::Busy,
        _ => Failure::Final,
    }
}

/// `error` as the backend reports it: timeouts are [`BackendErrorKind::Timeout`],
/// unreachable or busy servers (and `OOM`) [`BackendErrorKind::Unavailable`], the rest
/// [`BackendErrorKind::Protocol`].
pub(crate) fn backend_error(error: &RedisError) -> BackendError {
    let kind = match classify(error) {
        _ if error.is_timeout() => BackendErrorKind::Timeout,
        Failure::Transport { .. } | Failure::Busy => BackendErrorKind::Unavailable,
        Failure::Final if error.code() == Some("OOM") => BackendErrorKind::Unavailable,
        Failure::Final => BackendErrorKind::Protocol,
    };
    BackendError::new(kind, format_args!("redis: {error}"))
}

/// A reply the backend did not expect.
pub(crate) fn protocol(what: impl std::fmt::Display) -> BackendError {
    BackendError::new(BackendErrorKind::Protocol, format_args!("redis: {what}"))
}

#[cfg(test)]
mod tests {
    use std::io;

    use redis::{ErrorKind, ServerErrorKind};

    use super::*;

    fn io_error(kind: io::ErrorKind) -> RedisError {
        RedisError::from(io::Error::from(kind))
    }

    #[test]
    fn transport_failures_may_have_been_applied_unless_refused() {
        let refused = io_error(io::ErrorKind::ConnectionRefused);
        assert_eq!(
            classify(&refused),
            Failure::Transport {
                maybe_applied: false
            }
        );
        assert_eq!(
            backend_error(&refused).kind(),
            BackendErrorKind::Unavailable
        );
        let broken = io_error(io::ErrorKind::BrokenPipe);
        assert_eq!(
            classify(&broken),
            Failure::Transport {
                maybe_applied: true
            }
        );
        let timeout = backend_error(&io_error(io::ErrorKind::TimedOut));
        assert_eq!(timeout.kind(), BackendErrorKind::Timeout);
        assert!(timeout.is_indeterminate());
        assert!(timeout.message().starts_with("redis: "));
    }

    #[test]
    fn server_answers_are_busy_or_final() {
        let loading =
            RedisError::from((ErrorKind::Server(ServerErrorKind::BusyLoading), "loading"));
        assert_eq!(classify(&loading), Failure::Busy);
        assert_eq!(
            backend_error(&loading).kind(),
            BackendErrorKind::Unavailable
        );
        let parse = RedisError::from((ErrorKind::Parse, "bad"));
        assert_eq!(classify(&parse), Failure::Final);
        assert_eq!(backend_error(&parse).kind(), BackendErrorKind::Protocol);
        assert_eq!(protocol("odd").kind(), BackendErrorKind::Protocol);
        assert_eq!(
            ConnectError::from(ConfigError::Prefix).to_string(),
            "invalid Redis backend configuration: prefix must not be empty"
        );
    }
}
