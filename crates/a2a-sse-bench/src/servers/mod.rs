//! The servers under test: which binaries exist, how they are started and stopped, and the
//! small pieces the hand-written baseline/bare/floor binaries share.

mod kinds;
mod process;
pub mod support;

pub use kinds::{Framework, ServerKind};
pub use process::{Scheduling, ServerProcess, free_port};
