#![doc = include_str!("../README.md")]

mod backend;
mod config;
mod entry;
mod error;
mod keys;
mod link;
mod probe;
mod push;
mod reader;
mod resume;
mod script;

pub use backend::{ReaderStatus, RedisBackend, RedisSubscriptionStream};
pub use config::{ConfigError, Durability, RedisConfig, Trim};
pub use error::ConnectError;
