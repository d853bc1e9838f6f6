//! [`SseConfig`]: every option of an [`SseService`](crate::SseService), its default, and
//! the one place where options are checked ([`SseConfig::validate`]).

use std::time::Duration;

use a2a_events::BufferLimits;

use crate::socket::SocketOptions;

/// Default route of the native stream.
pub const DEFAULT_PATH: &str = "/a2a/events";
/// Default idle time before a keep-alive comment.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Default reconnection delay sent in the `retry:` field.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(3);
/// Default largest request body read, in bytes (a JSON-RPC request is a few hundred).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Default longest query string, in bytes.
pub const DEFAULT_MAX_QUERY_BYTES: usize = 4 * 1024;
/// Default largest request head: the bytes of every header's name and value together.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default most request headers.
pub const DEFAULT_MAX_HEADERS: usize = 64;
/// Default longest wait for a whole request head, for servers that can bound it.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest wait for a whole request body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of an [`SseService`](crate::SseService), with the library's defaults. Adapters
/// forward them; they define none of their own.
///
/// Set them with the [`SseServiceBuilder`](crate::SseServiceBuilder)'s methods, the one
/// way to set them; [`SseServiceBuilder::build`](crate::SseServiceBuilder::build) checks
/// them once, with [`validate`](Self::validate). A service's options in force are
/// [`SseService::config`](crate::SseService::config).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseConfig {
    /// Route of the native stream (default [`DEFAULT_PATH`]); see [`validate_path`].
    pub path: String,
    /// Idle time before a keep-alive comment (default [`DEFAULT_KEEP_ALIVE`]); at least
    /// one millisecond.
    pub keep_alive: Duration,
    /// Reconnection delay sent to clients (default [`DEFAULT_RETRY`]), in whole
    /// milliseconds as the `retry:` field carries it; past `u32::MAX` ms (49 days) it is
    /// sent as that.
    pub retry: Duration,
    /// Per-subscriber buffer; `None` uses the backend's default.
    pub buffer: Option<BufferLimits>,
    /// Most streams open at once; `None` for no limit. Past it, `503` with `Retry-After`.
    pub max_connections: Option<usize>,
    /// A liveness probe: after this long with nothing sent, an idle stream writes an empty
    /// comment line (`:`), so that a transport which notices a closed client only when a
    /// write fails notices it soon. `None` (the default) sends none; see the
    /// [`SseStream`](crate::SseStream) docs.
    pub liveness_probe: Option<Duration>,
    /// Largest request body read (default [`DEFAULT_MAX_BODY_BYTES`]); a larger one is
    /// answered `413`.
    pub max_body_bytes: usize,
    /// Most streams open at once for one plan; `None` (the default) for no limit. Past
    /// it, `503` with `Retry-After`, as past [`max_connections`](Self::max_connections).
    pub max_streams_per_plan: Option<usize>,
    /// Refuse subscriptions to every plan (no `plan_id`) with `400 plan_id_required`
    /// (default off), for deployments where one tenant must not see another's plans.
    pub require_plan: bool,
    /// End each stream after this long (default `None`: never), plus a jitter of up to
    /// [`lifetime_jitter`](Self::lifetime_jitter), so that the reconnects after a deploy
    /// spread out. The stream ends cleanly between frames, and the client resumes with
    /// `Last-Event-ID`, missing nothing that history still holds.
    pub max_lifetime: Option<Duration>,
    /// The most a stream's lifetime is lengthened by, spread over the connections
    /// (default a tenth of `max_lifetime`).
    pub lifetime_jitter: Option<Duration>,
    /// Longest query string (default [`DEFAULT_MAX_QUERY_BYTES`]); longer is `414`.
    pub max_query_bytes: usize,
    /// Largest request head, names and values of all headers together (default
    /// [`DEFAULT_MAX_HEADER_BYTES`]); larger is `431`.
    pub max_header_bytes: usize,
    /// Most request headers (default [`DEFAULT_MAX_HEADERS`]); more is `431`.
    pub max_headers: usize,
    /// Longest wait for a request head (default [`DEFAULT_HEADER_READ_TIMEOUT`]): the
    /// serving setup gives it to its framework (hyper's `header_read_timeout`, actix-web's
    /// `client_request_timeout`), since a head that never ends never reaches a route.
    pub header_read_timeout: Duration,
    /// Longest wait for a request body (default [`DEFAULT_BODY_READ_TIMEOUT`]); a slower
    /// one is answered `408`.
    pub body_read_timeout: Duration,
    /// Options for accepted connections: write deadline, send buffer, `TCP_NODELAY`.
    pub socket: SocketOptions,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            path: DEFAULT_PATH.to_owned(),
            keep_alive: DEFAULT_KEEP_ALIVE,
            retry: DEFAULT_RETRY,
            buffer: None,
            max_connections: None,
            liveness_probe: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_streams_per_plan: None,
            require_plan: false,
            max_lifetime: None,
            lifetime_jitter: None,
            max_query_bytes: DEFAULT_MAX_QUERY_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            socket: SocketOptions::default(),
        }
    }
}

/// Shortest keep-alive interval and probe accepted.
const SHORTEST_INTERVAL: Duration = Duration::from_millis(1);

impl SseConfig {
    /// Checks every option.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_path(&self.path)?;
        if self.keep_alive < SHORTEST_INTERVAL {
            return Err(ConfigError::IntervalTooShort("keep_alive"));
        }
        if self
            .liveness_probe
            .is_some_and(|probe| probe < SHORTEST_INTERVAL)
        {
            return Err(ConfigError::IntervalTooShort("liveness_probe"));
        }
        if self.max_connections == Some(0) {
            return Err(ConfigError::Zero("max_connections"));
        }
        if self.max_streams_per_plan == Some(0) {
            return Err(ConfigError::Zero("max_streams_per_plan"));
        }
        if self.max_lifetime.is_some_and(|d| d < SHORTEST_INTERVAL) {
            return Err(ConfigError::IntervalTooShort("max_lifetime"));
        }
        for (name, interval) in [
            ("header_read_timeout", self.header_read_timeout),
            ("body_read_timeout", self.body_read_timeout),
        ] {
            if interval < SHORTEST_INTERVAL {
                return Err(ConfigError::IntervalTooShort(name));
            }
        }
        if self
            .socket
            .write_timeout
            .is_some_and(|d| d < SHORTEST_INTERVAL)
        {
            return Err(ConfigError::IntervalTooShort("socket.write_timeout"));
        }
        for (name, limit) in [
            ("max_query_bytes", self.max_query_bytes),
            ("max_header_bytes", self.max_header_bytes),
            ("max_headers", self.max_headers),
            ("max_body_bytes", self.max_body_bytes),
        ] {
            if limit == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.buffer.is_some_and(|b| b.events == 0 || b.bytes == 0) {
            return Err(ConfigError::Zero("buffer"));
        }
        Ok(())
    }
}

/// Why options were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A route cannot be mounted by every adapter.
    #[error("invalid route {path:?}: {reason}")]
    InvalidPath {
        /// The route as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An interval (named) is shorter than one millisecond.
    #[error("{0} must be at least one millisecond")]
    IntervalTooShort(&'static str),
    /// A limit (named) is zero, which would refuse everything.
    #[error("{0} must not be zero")]
    Zero(&'static str),
}

/// Checks that `path` is a route every adapter mounts the same way: it starts with `/`,
/// has no empty segment, and holds only printable ASCII other than the characters that
/// axum or actix-web read as route syntax (`{`, `}`, `*` and a segment starting with `:`)
/// or that cannot appear in a path (`?`, `#`, `%`, white space). `/` alone is refused:
/// the stream would shadow every other route.
///
/// ```
/// use a2a_sse_core::validate_path;
///
/// assert!(validate_path("/a2a/events").is_ok());
/// assert!(validate_path("a2a/events").is_err());
/// assert!(validate_path("/a2a/{plan}").is_err());
/// ```
///
/// # Errors
///
/// [`ConfigError::InvalidPath`] saying what is wrong.
pub fn validate_path(path: &str) -> Result<(), ConfigError> {
    let refuse = |reason| {
        Err(ConfigError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    let Some(rest) = path.strip_prefix('/') else {
        return refuse("it must start with '/'");
    };
    if rest.is_empty() {
        return refuse("'/' alone would shadow every other route");
    }
    if path.len() > 1024 {
        return refuse("it is longer than 1024 bytes");
    }
    let segments: Vec<&str> = rest.strip_suffix('/').unwrap_or(rest).split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return refuse("it has an empty segment ('//')");
    }
    if segments.iter().any(|s| s.starts_with(':')) {
        return refuse("a segment starts with ':', which axum reads as a parameter");
    }
    if let Some(c) = path
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '{' | '}' | '*' | '?' | '#' | '%'))
    {
        return match c {
            '{' | '}' | '*' => refuse("'{', '}' and '*' are route syntax"),
            '?' | '#' => refuse("'?' and '#' end a path"),
            '%' => refuse("percent-encoding is not allowed in a route"),
            _ => refuse("only printable ASCII without white space is allowed"),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_routes_pass() {
        for path in ["/a2a/events", "/events/", "/v1/a2a.events", "/x-y_z~"] {
            assert_eq!(validate_path(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn bad_routes_say_why() {
        let cases = [
            ("", "start with '/'"),
            ("events", "start with '/'"),
            ("/", "shadow"),
            ("/a//b", "empty segment"),
            ("/a/:id", "':'"),
            ("/a/{id}", "route syntax"),
            ("/a/*rest", "route syntax"),
            ("/a?b", "end a path"),
            ("/a#b", "end a path"),
            ("/a%20b", "percent"),
            ("/a b", "printable"),
            ("/é", "printable"),
        ];
        for (path, why) in cases {
            let err = validate_path(path).unwrap_err();
            assert!(err.to_string().contains(why), "{path}: {err}");
        }
        let long = format!("/{}", "x".repeat(1024));
        assert!(
            validate_path(&long)
                .unwrap_err()
                .to_string()
                .contains("1024")
        );
    }

    #[test]
    fn every_option_is_checked() {
        assert_eq!(SseConfig::default().validate(), Ok(()));
        let config = SseConfig {
            keep_alive: Duration::ZERO,
            ..SseConfig::default()
        };
        assert_eq!(
            config.validate(),
            Err(ConfigError::IntervalTooShort("keep_alive"))
        );
        let config = SseConfig {
            liveness_probe: Some(Duration::from_micros(10)),
            ..SseConfig::default()
        };
        assert_eq!(
            config.validate(),
            Err(ConfigError::IntervalTooShort("liveness_probe"))
        );
        let config = SseConfig {
            max_connections: Some(0),
            ..SseConfig::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::Zero("max_connections")));
        let zeros = [
            (
                SseConfig {
                    max_streams_per_plan: Some(0),
                    ..SseConfig::default()
                },
                ConfigError::Zero("max_streams_per_plan"),
            ),
            (
                SseConfig {
                    max_headers: 0,
                    ..SseConfig::default()
                },
                ConfigError::Zero("max_headers"),
            ),
            (
                SseConfig {
                    max_lifetime: Some(Duration::ZERO),
                    ..SseConfig::default()
                },
                ConfigError::IntervalTooShort("max_lifetime"),
            ),
            (
                SseConfig {
                    body_read_timeout: Duration::ZERO,
                    ..SseConfig::default()
                },
                ConfigError::IntervalTooShort("body_read_timeout"),
            ),
            (
                SseConfig {
                    socket: SocketOptions {
                        write_timeout: Some(Duration::ZERO),
                        ..SocketOptions::default()
                    },
                    ..SseConfig::default()
                },
                ConfigError::IntervalTooShort("socket.write_timeout"),
            ),
        ];
        for (config, err) in zeros {
            assert_eq!(config.validate(), Err(err));
        }
        let config = SseConfig {
            buffer: Some(BufferLimits::new(0, 10)),
            ..SseConfig::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::Zero("buffer")));
        let config = SseConfig {
            path: "nope".into(),
            ..SseConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::InvalidPath { .. })
        ));
    }
}
