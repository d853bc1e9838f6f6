//! The push notification load benchmark's pieces (the `push-load` binary): its
//! [`config`], the [`setup`] of a run and the [`run`] itself, its [`report`], webhook
//! [`receiver`]s that time and check every delivery, a [`publish`]er that paces status
//! updates over many tasks, each carrying its publish time, and a small HTTP/1.1
//! [`http`] client for the demo's JSON-RPC, publish and metrics routes.
//!
//! Every event the publisher sends is a status update of one task with
//! `metadata: {"seq": N, "phase": P, "sentUs": T}`: `seq` counts the task's events from 1,
//! `phase` says which phase of the run published it, `sentUs` is the Unix time of the
//! POST in microseconds. A push delivery carries the event's `StreamResponse`, metadata
//! included, so a receiver knows the publish→arrival latency, the phase the event belongs
//! to, and whether each config's events come in order, each once.

pub mod config;
pub mod http;
pub mod publish;
pub mod receiver;
pub mod report;
pub mod run;
pub mod setup;

/// The phases of a run, as events and receivers count them: the warm-up (not reported),
/// all receivers healthy, one receiver down, and the dead receiver back up.
pub const PHASES: [&str; 4] = ["warm-up", "healthy", "one down", "recovery"];

/// [`PHASES`] index of the warm-up.
pub const WARMUP: usize = 0;
/// [`PHASES`] index of the phase with every receiver healthy.
pub const HEALTHY: usize = 1;
/// [`PHASES`] index of the phase with one receiver down.
pub const DOWN: usize = 2;
/// [`PHASES`] index of the phase after the dead receiver came back.
pub const RECOVERY: usize = 3;
