//! The server kinds a benchmark run compares.

use std::path::{Path, PathBuf};

use a2a_sse_testkit::launcher::Ready;

use crate::scenario::LoadConfig;

/// One server binary under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// The library's axum demo (`a2a-sse-axum` example `demo`).
    AxumDemo,
    /// The library's actix demo (`a2a-sse-actix` example `actix-demo`).
    ActixDemo,
    /// The axum demo over the Redis backend (`--redis`), with a `redis-server` of its own.
    AxumDemoRedis,
    /// The actix demo over the Redis backend (`--redis`), with a `redis-server` of its own.
    ActixDemoRedis,
    /// axum `Sse` + broadcast, serialising per subscriber.
    BaselineAxum,
    /// actix-web-lab `sse` + broadcast, serialising per subscriber.
    BaselineActix,
    /// Bare tokio: hand-written HTTP, frames encoded once.
    Bare,
    /// axum holding a pending SSE body and nothing else.
    FloorAxum,
    /// actix-web holding a pending SSE body and nothing else.
    FloorActix,
}

impl ServerKind {
    /// Every kind, in report order.
    pub const ALL: [ServerKind; 9] = [
        ServerKind::AxumDemo,
        ServerKind::ActixDemo,
        ServerKind::AxumDemoRedis,
        ServerKind::ActixDemoRedis,
        ServerKind::BaselineAxum,
        ServerKind::BaselineActix,
        ServerKind::Bare,
        ServerKind::FloorAxum,
        ServerKind::FloorActix,
    ];

    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::AxumDemo => "ours-axum",
            ServerKind::ActixDemo => "ours-actix",
            ServerKind::AxumDemoRedis => "ours-axum-redis",
            ServerKind::ActixDemoRedis => "ours-actix-redis",
            ServerKind::BaselineAxum => "baseline-axum",
            ServerKind::BaselineActix => "baseline-actix",
            ServerKind::Bare => "bare",
            ServerKind::FloorAxum => "floor-axum",
            ServerKind::FloorActix => "floor-actix",
        }
    }

    /// Parses [`ServerKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The library's own adapters (built from the demo examples), in memory or over Redis.
    pub fn is_ours(self) -> bool {
        matches!(
            self,
            ServerKind::AxumDemo
                | ServerKind::ActixDemo
                | ServerKind::AxumDemoRedis
                | ServerKind::ActixDemoRedis
        )
    }

    /// Served over the Redis backend: the run starts a `redis-server` beside the demo and
    /// passes it `--redis`.
    pub fn uses_redis(self) -> bool {
        matches!(self, ServerKind::AxumDemoRedis | ServerKind::ActixDemoRedis)
    }

    /// When a started server of this kind is ready: the demos once their agent card
    /// answers, the crate's own servers (which have none) once they accept connections.
    pub fn ready(self) -> Ready {
        if self.is_ours() {
            Ready::AgentCard
        } else {
            Ready::Accepting
        }
    }

    /// Floors hold idle connections only; nothing is published to them.
    pub fn is_floor(self) -> bool {
        matches!(self, ServerKind::FloorAxum | ServerKind::FloorActix)
    }

    /// The floor of this kind's framework (none for `bare`): what the framework itself
    /// costs per open connection, for the "own state" figures.
    pub fn floor(self) -> Option<ServerKind> {
        match self {
            ServerKind::AxumDemo
            | ServerKind::AxumDemoRedis
            | ServerKind::BaselineAxum
            | ServerKind::FloorAxum => Some(ServerKind::FloorAxum),
            ServerKind::ActixDemo
            | ServerKind::ActixDemoRedis
            | ServerKind::BaselineActix
            | ServerKind::FloorActix => Some(ServerKind::FloorActix),
            ServerKind::Bare => None,
        }
    }

    /// Where the binary lives: own binaries next to the load generator in `bin_dir`, the
    /// demos copied to `bin_dir/bench-bins/demo-{axum,actix}` (the Redis rows run the same
    /// demo binaries).
    pub fn binary(self, bin_dir: &Path) -> PathBuf {
        match self {
            ServerKind::AxumDemo | ServerKind::AxumDemoRedis => {
                bin_dir.join("bench-bins").join("demo-axum")
            }
            ServerKind::ActixDemo | ServerKind::ActixDemoRedis => {
                bin_dir.join("bench-bins").join("demo-actix")
            }
            other => bin_dir.join(other.name()),
        }
    }

    /// Arguments besides `--addr` (and the Redis rows' `--redis`, added by the run that
    /// started their `redis-server`): every server gets the same buffer, history and
    /// keep-alive settings; the demos also get `--no-simulate`.
    pub fn args(self, config: &LoadConfig) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(size) = config.server_buffer() {
            args.extend([
                "--buffer".to_owned(),
                size.to_string(),
                "--history".to_owned(),
                size.to_string(),
            ]);
        }
        args.extend(["--keep-alive-ms".to_owned(), "15000".to_owned()]);
        if self.is_ours() {
            args.push("--no-simulate".to_owned());
        }
        args
    }
}
