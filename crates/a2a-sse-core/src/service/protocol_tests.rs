//! A protocol served through the extension point: its routes beside the stream's, checked
//! and ordered; its requests prepared from the head, answered without a body or after the
//! service read it.

use std::convert::Infallible;

use a2a_events::A2aEventQueue;
use bytes::Bytes;
use futures_util::stream;

use super::*;
use crate::request::OwnedHead;
use crate::response::ResponseBody;

/// Echoes the body at `/echo`, answers `/hello` from the head, and owns `/p/...`.
struct Echo;

impl Protocol for Echo {
    fn routes(&self) -> Vec<Route> {
        vec![
            Route::exact("/echo"),
            Route::exact("/hello"),
            Route::prefix("/p"),
        ]
    }

    fn prepare(&self, _: &SseService, route: usize, head: &dyn RequestHead) -> Handling {
        match route {
            0 => Handling::read(|_, body| async move { SseResponse::json(200, body) }),
            1 => SseResponse::document(200, "text/plain", Bytes::from_static(b"hi")).into(),
            _ => {
                let path = head.path().to_owned();
                SseResponse::document(299, "text/plain", Bytes::from(path))
                    .with_header("x-seen", "yes")
                    .into()
            }
        }
    }
}

fn body(text: &'static str) -> stream::Iter<std::vec::IntoIter<Result<Bytes, Infallible>>> {
    stream::iter(vec![Ok(Bytes::from_static(text.as_bytes()))])
}

fn bytes(response: SseResponse) -> Bytes {
    match response.into_body() {
        ResponseBody::Full(bytes) => bytes,
        other => panic!("expected a document, got {other:?}"),
    }
}

#[tokio::test]
async fn a_protocols_routes_are_served_beside_the_stream() {
    let service = SseService::builder(A2aEventQueue::new())
        .max_body_bytes(8)
        .protocol(Echo)
        .build()
        .unwrap();
    let paths: Vec<_> = service
        .routes()
        .iter()
        .map(|route| (route.path(), route.is_prefix()))
        .collect();
    assert_eq!(
        paths,
        [
            ("/a2a/events", false),
            ("/echo", false),
            ("/hello", false),
            ("/p", true)
        ]
    );
    let route = |path: &str| {
        service
            .routes()
            .iter()
            .find(|r| r.path() == path)
            .unwrap()
            .clone()
    };
    let echoed = service
        .handle(
            &route("/echo"),
            &OwnedHead::new("POST", "/echo"),
            body("ping"),
        )
        .await;
    assert_eq!(echoed.status(), 200);
    assert_eq!(echoed.headers()[0].1, "application/json");
    assert_eq!(&bytes(echoed)[..], b"ping");
    let large = service
        .handle(
            &route("/echo"),
            &OwnedHead::new("POST", "/echo"),
            body("far too long"),
        )
        .await;
    assert_eq!(large.status(), 413);
    let hello = service
        .handle(
            &route("/hello"),
            &OwnedHead::new("GET", "/hello"),
            body("ignored"),
        )
        .await;
    assert_eq!(&bytes(hello)[..], b"hi");
    let below = service
        .handle(&route("/p"), &OwnedHead::new("GET", "/p/a/b"), body(""))
        .await;
    assert_eq!(below.status(), 299);
    assert!(below.headers().contains(&("x-seen", "yes".into())));
    assert_eq!(&bytes(below)[..], b"/p/a/b");
}

#[tokio::test]
async fn routes_of_nobody_are_404_and_impossible_statuses_are_500() {
    let service = SseService::builder(A2aEventQueue::new())
        .protocol(Echo)
        .build()
        .unwrap();
    let stray = Route::exact("/stray");
    let answer = service
        .handle(&stray, &OwnedHead::new("GET", "/stray"), body(""))
        .await;
    assert_eq!(answer.status(), 404);
    assert_eq!(
        SseResponse::document(700, "text/plain", Bytes::new()).status(),
        500
    );
    assert_eq!(SseResponse::json(100, Bytes::new()).status(), 500);
    // Only documents take headers of their own.
    assert!(
        SseResponse::NoContent
            .with_header("x", "y")
            .headers()
            .is_empty()
    );
}

#[test]
fn a_route_declared_twice_or_unmountable_is_refused() {
    struct Twice(&'static str, bool);
    impl Protocol for Twice {
        fn routes(&self) -> Vec<Route> {
            let route = if self.1 {
                Route::prefix(self.0)
            } else {
                Route::exact(self.0)
            };
            vec![route]
        }
        fn prepare(&self, _: &SseService, _: usize, _: &dyn RequestHead) -> Handling {
            SseResponse::NoContent.into()
        }
    }
    let same = SseService::builder(A2aEventQueue::new())
        .protocol(Twice("/a2a/events", false))
        .build();
    assert!(matches!(same, Err(crate::ConfigError::InvalidPath { .. })));
    let root_prefix = SseService::builder(A2aEventQueue::new())
        .protocol(Twice("/", true))
        .build();
    assert!(
        root_prefix.is_err(),
        "a prefix at / would shadow every route"
    );
    let root_page = SseService::builder(A2aEventQueue::new())
        .protocol(Twice("/", false))
        .build();
    assert!(root_page.is_ok(), "a page at / is fine");
    let bad = SseService::builder(A2aEventQueue::new())
        .protocol(Twice("/{x}", false))
        .build();
    assert!(bad.is_err());
    assert!(matches!(
        Handling::from(SseResponse::NoContent),
        Handling::Answer(_)
    ));
}

/// A handler of the application's own reads a body as the service's routes do: within the
/// same size limit, the same errors.
#[tokio::test]
async fn read_body_applies_the_services_limits_to_handlers_of_your_own() {
    let service = SseService::builder(A2aEventQueue::new())
        .max_body_bytes(8)
        .build()
        .unwrap();
    let head = OwnedHead::new("POST", "/mine");
    let read = service.read_body(&head, body("ping")).await;
    assert_eq!(read.as_deref(), Ok(&b"ping"[..]));
    let too_large = service.read_body(&head, body("far too long")).await;
    assert!(
        matches!(too_large, Err(RequestError::BodyTooLarge { .. })),
        "{too_large:?}"
    );
    let declared = OwnedHead::new("POST", "/mine").header("content-length", "100");
    let refused = service.read_body(&declared, body("")).await.unwrap_err();
    assert_eq!(refused.status(), 413);
}
