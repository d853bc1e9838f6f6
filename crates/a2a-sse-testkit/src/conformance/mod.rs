//! The feature suite: every Gherkin feature of the workspace's `features/` folder, with
//! one set of step definitions, for any adapter to run against its own server.
//!
//! An adapter says how to serve an [`SseService`] ([`Server`]); a scenario then starts
//! its event engine ([`Backend`], the in-memory queue by default), builds the service it
//! needs, has the adapter serve it on a loopback port and talks to it over real HTTP.
//! Nothing in the steps knows which framework answers, so an adapter runs the whole suite
//! from a test of its own, and a new adapter (or a new backend) needs no edit here:
//!
//! ```toml
//! [[test]]
//! name = "features"
//! harness = false
//!
//! [dev-dependencies]
//! a2a-sse-testkit = { workspace = true, features = ["conformance"] }
//! ```
//!
//! ```rust,no_run
//! use std::io;
//!
//! use a2a_sse_core::SseService;
//! use a2a_sse_testkit::conformance::{self, BoxFuture, RunningServer, Server};
//!
//! #[derive(Debug)]
//! struct MyFramework;
//!
//! impl Server for MyFramework {
//!     fn name(&self) -> &'static str {
//!         "my-framework"
//!     }
//!
//!     fn start(&self, service: SseService) -> BoxFuture<io::Result<RunningServer>> {
//!         Box::pin(async move {
//!             // Bind 127.0.0.1:0, serve every route of `service`, and return the address
//!             // with a way to stop: `RunningServer::new(addr, stop, abort)`.
//! #           drop(service);
//!             Err(io::Error::other("a sketch"))
//!         })
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     conformance::run(MyFramework)
//! }
//! ```
//!
//! The test's arguments are cucumber's: `cargo test -p <adapter> --test features --
//! --name "keep-alive"` runs the scenarios whose name matches, `-- --help` lists them.

mod a2a;
mod agent;
mod backend;
mod client;
mod expect;
mod params;
mod publish;
#[cfg(feature = "redis")]
mod redis;
mod run;
mod script;
mod server;
mod steps;
mod world;

pub use backend::{Backend, BackendSettings, Memory};
#[cfg(feature = "redis")]
pub use redis::{Redis, run_on_redis};
pub use run::{run, run_with};
pub use server::{BoxFuture, RunningServer, Server};

#[cfg(doc)]
use a2a_sse_core::SseService;
