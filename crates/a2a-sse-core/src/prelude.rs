//! Everything a user of an adapter needs, in one list that each adapter crate re-exports
//! at its root: build a queue, publish to it, configure a service, watch its
//! connections. With an adapter as the only dependency, each item is reached one way:
//! through the adapter.
//!
//! Writing another event backend or another adapter needs the `a2a-events` and
//! `a2a-sse-core` crates themselves.

pub use a2a_events::{
    A2aEventQueue, Artifact, BackendError, BackendErrorKind, BufferLimits, ErrorPayload,
    EventBackend, EventId, EventKind, EventPayload, Message, Metadata, NewEvent, Part, PartContent,
    PlanId, PlanIdError, PublishError, QueueConfig, QueueConfigError, Role,
    TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent, Timestamp,
};

pub use crate::{
    AuthError, AuthRequest, ConfigError, ConnectInfo, DisconnectInfo, DisconnectReason,
    RequestError, SocketOptions, SseConfig, SseResponse, SseService, SseServiceBuilder,
};
