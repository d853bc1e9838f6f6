//! Test helpers shared by the a2a-sse crates: a reference WHATWG event-stream [`decoder`]
//! and a small HTTP/1.1 SSE [`client`] for tests over real sockets.

pub mod client;
pub mod decoder;
pub mod events;
mod recorder;

pub use client::{Next, Response, SseClient, StreamReader};
pub use decoder::{Decoder, Event};
pub use recorder::Recorder;
