//! The actix demo as a process: what only a whole server shows (the checks are the test
//! kit's, the same for every demo).

use std::time::Duration;

use a2a_sse_testkit::demo_checks;
use std::path::PathBuf;
use std::sync::OnceLock;

use a2a_sse_testkit::demo_process::build_example;

/// The demo, built once for every test of this file.
fn demo() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| build_example("a2a-sse-actix", "actix-demo"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_500_open_streams_the_server_exits_within_2_s_of_the_signal() {
    demo_checks::exits_promptly_with_open_streams(demo(), 500, Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_heads_are_closed_and_do_not_hold_up_other_clients() {
    demo_checks::slow_heads_are_closed_and_others_served(demo()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_get_a_4xx_and_the_server_keeps_serving() {
    demo_checks::oversized_requests_are_refused(demo()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_page_counts_a_known_sequence() {
    demo_checks::metrics_count_a_known_sequence(demo()).await;
}
