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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use futures_util::stream;

    use super::*;

    fn config(limit: usize) -> SseConfig {
        SseConfig {
            max_body_bytes: limit,
            body_read_timeout: Duration::from_millis(50),
            ..SseConfig::default()
        }
    }

    fn chunks(parts: &[&'static str]) -> impl Stream<Item = Result<Bytes, Infallible>> {
        stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part.as_bytes())))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn one_chunk_is_kept_and_several_are_joined() {
        let one = read(chunks(&["{}"]), None, &config(16)).await.unwrap();
        assert_eq!(&one[..], b"{}");
        let joined = read(chunks(&["ab", "", "cd"]), Some(4), &config(16))
            .await
            .unwrap();
        assert_eq!(&joined[..], b"abcd");
        let none = read(chunks(&[]), None, &config(16)).await.unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn too_large_declared_or_read_is_413() {
        let declared = read(chunks(&["x"]), Some(17), &config(16)).await;
        assert_eq!(declared, Err(RequestError::BodyTooLarge { limit: 16 }));
        let grown = read(chunks(&["0123456789", "0123456789"]), None, &config(16)).await;
        assert_eq!(grown, Err(RequestError::BodyTooLarge { limit: 16 }));
        assert_eq!(grown.unwrap_err().status(), 413);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_does_not_arrive_in_time_is_408() {
        let late = stream::pending::<Result<Bytes, Infallible>>();
        let err = read(late, None, &config(16)).await.unwrap_err();
        assert_eq!(
            (err.clone(), err.status()),
            (RequestError::BodyTimeout, 408)
        );
    }

    #[tokio::test]
    async fn a_body_that_breaks_is_400() {
        let broken = stream::iter([Ok(Bytes::from_static(b"{")), Err("reset")]);
        let err = read(broken, None, &config(16)).await.unwrap_err();
        assert_eq!(
            (err.clone(), err.status()),
            (RequestError::UnreadableBody, 400)
        );
    }

    #[test]
    fn the_declared_length_is_read_when_it_is_a_number() {
        use crate::request::OwnedHead;
        let head = |value: &str| OwnedHead::new("POST", "/x").header("content-length", value);
        assert_eq!(declared_length(&head(" 12 ")), Some(12));
        assert_eq!(declared_length(&head("twelve")), None);
        assert_eq!(declared_length(&OwnedHead::new("POST", "/x")), None);
    }
}
