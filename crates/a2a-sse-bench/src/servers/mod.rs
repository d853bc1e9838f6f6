//! The servers under test: which binaries exist, how they are started and stopped (with a
//! `redis-server` of their own for the Redis rows), and the small pieces the hand-written
//! baseline/bare/floor binaries share.

mod kinds;
mod process;
mod redis;
pub mod support;

pub use kinds::ServerKind;
pub use process::{Scheduling, launch};
pub use redis::{RedisProcess, redis_server_available, redis_server_binary};
