//! The response body: the core's stream as the fallible stream actix wants.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use a2a_sse_core::SseStream;
use bytes::Bytes;
use futures_core::Stream;
use pin_project_lite::pin_project;

pin_project! {
    /// An [`SseStream`] as an actix body stream: every chunk is `Ok`.
    pub(crate) struct EventBody {
        #[pin]
        inner: SseStream,
    }
}

impl EventBody {
    pub(crate) const fn new(inner: SseStream) -> Self {
        Self { inner }
    }
}

impl Stream for EventBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project()
            .inner
            .poll_next(cx)
            .map(|chunk| chunk.map(Ok))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
