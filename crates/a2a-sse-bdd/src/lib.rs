//! Behaviour features of a2a-sse, run by the `cucumber` crate against every adapter.
//!
//! The Gherkin files live in the workspace's `features/` folder and the step definitions in
//! this crate's `features` test (`cargo test -p a2a-sse-bdd`). Both are written once; what
//! differs between adapters is only how a server is started, which this library provides:
//! a [`Server`] is a way to serve an [`SseService`](a2a_sse_core::SseService) on a loopback
//! port, with one implementation per framework ([`Axum`], [`Actix`]), in the manner of
//! juniper's conformance suite.
//!
//! Add an adapter by implementing [`Server`] and listing it in the test's `main`.

mod actix;
mod axum;
mod server;

pub use actix::Actix;
pub use axum::Axum;
pub use server::{BoxFuture, RunningServer, Server};
