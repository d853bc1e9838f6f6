//! Step definitions, one file per domain. Each step is a few lines calling
//! [`ConformanceWorld`](super::world::ConformanceWorld) methods and knows nothing of the
//! adapter.

mod a2a;
mod agent;
mod clients;
mod disconnect;
mod errors;
mod keep_alive;
mod lag;
mod publishing;
mod resume;
mod server;
mod shutdown;
mod streaming;
