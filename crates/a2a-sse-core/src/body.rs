//! Reading a request body: the one place that decides its size limit, its time limit and
//! the status of each failure, for every route and every adapter.
//!
//! - A `Content-Length` over [`SseConfig::max_body_bytes`] is refused before anything is
//!   read, and so is a body that grows past it while it is read: `413 body_too_large`.
//! - A body that has not fully arrived within [`SseConfig::body_read_timeout`]:
//!   `408 body_timeout`.
//! - A body the transport fails to deliver (the connection broke, a chunk was malformed):
//!   `400 unreadable_body`.

use std::future::poll_fn;
use std::pin::pin;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;

use crate::config::SseConfig;
use crate::request::{RequestError, RequestHead};

/// The length the request declares, if it declares one that can be read.
pub(crate) fn declared_length(head: &dyn RequestHead) -> Option<u64> {
    let value = head.header("content-length")?;
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Reads `body` within the service's limits.
pub(crate) async fn read<B, E>(
    body: B,
    declared: Option<u64>,
    config: &SseConfig,
) -> Result<Bytes, RequestError>
where
    B: Stream<Item = Result<Bytes, E>>,
{
    let limit = config.max_body_bytes;
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(RequestError::BodyTooLarge { limit });
    }
    let collect = async {
        let mut body = pin!(body);
        let mut first = Bytes::new();
        let mut joined: Option<BytesMut> = None;
        while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            let chunk = chunk.map_err(|_| RequestError::UnreadableBody)?;
            let length = joined.as_ref().map_or(first.len(), BytesMut::len) + chunk.len();
            if length > limit {
                return Err(RequestError::BodyTooLarge { limit });
            }
            // One chunk, the usual case, is kept as it came; more are joined.
            match &mut joined {
                Some(joined) => joined.extend_from_slice(&chunk),
                None if first.is_empty() => first = chunk,
                None => {
                    let mut both = BytesMut::with_capacity(length);
                    both.extend_from_slice(&first);
                    both.extend_from_slice(&chunk);
                    joined = Some(both);
                }
            }
        }
        Ok(joined.map_or(first, BytesMut::freeze))
    };
    match tokio::time::timeout(config.body_read_timeout, collect).await {
        Ok(read) => read,
        Err(_elapsed) => Err(RequestError::BodyTimeout),
    }
}
