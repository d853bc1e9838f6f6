//! The backend contract (`a2a_sse_testkit::backend_contract`), held by the in-memory queue.
//! The Redis backend runs the same cases in its own crate.

a2a_sse_testkit::backend_contract!(a2a_sse_testkit::backend_contract::Memory);
