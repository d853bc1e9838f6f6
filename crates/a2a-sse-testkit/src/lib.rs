//! Test helpers shared by the a2a-sse crates: a reference WHATWG event-stream [`decoder`],
//! a small HTTP/1.1 SSE [`client`] for tests over real sockets, [`events`] with known
//! frames, a hook [`Recorder`], the [`mod@backend_contract`] every event backend is tested
//! against, one way to start a server process and wait until it is ready ([`launcher`]),
//! one way to wait for a condition ([`eventually`](mod@eventually)), a [`webhook`]
//! receiver for push notification tests, and, behind the
//! `conformance` feature, the feature suite every adapter runs (module `conformance`).

pub mod backend_contract;
pub mod client;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod decoder;
pub mod demo_checks;
pub mod demo_process;
pub mod events;
pub mod eventually;
pub mod launcher;
mod recorder;
#[cfg(feature = "redis")]
pub mod redis_server;
pub mod webhook;

pub use client::{Next, Response, SseClient, StreamReader};
pub use decoder::{Decoder, Event};
pub use eventually::{eventually, eventually_blocking, eventually_with};
pub use launcher::{Launcher, Process, Ready};
pub use recorder::Recorder;
