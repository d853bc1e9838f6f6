//! The metrics page of the `jemalloc` build carries jemalloc's statistics, read at each
//! scrape (`cargo test -p a2a-sse-demo --features jemalloc --test allocator`; without
//! the feature this file holds no test). Its own process, so that the page's recorder is
//! the first one installed.
#![cfg(feature = "jemalloc")]

// The library crate chooses no allocator: this test binary does, as a demo binary does.
a2a_sse_demo::global_allocator!();

/// The value of the allocator gauge of `kind` on `page`, bytes.
fn allocator_bytes(page: &str, kind: &str) -> f64 {
    let series = format!("a2a_sse_demo_allocator_bytes{{kind=\"{kind}\"}} ");
    let line = page
        .lines()
        .find(|line| line.starts_with(&series))
        .unwrap_or_else(|| panic!("no {series}on the page:\n{page}"));
    line[series.len()..].parse().expect("a number")
}

#[test]
fn the_page_has_jemalloc_statistics_of_the_moment() {
    let before = a2a_sse_demo::render_metrics();
    assert!(
        before.contains("# TYPE a2a_sse_demo_allocator_bytes gauge"),
        "{before}"
    );
    let allocated = allocator_bytes(&before, "allocated");
    for kind in ["active", "metadata", "resident"] {
        assert!(allocator_bytes(&before, kind) > 0.0, "{kind}: {before}");
    }
    assert!(allocator_bytes(&before, "active") >= allocated, "{before}");

    // 8 MiB more, touched, held while the page is read again.
    let held = vec![1_u8; 8 << 20];
    let during = a2a_sse_demo::render_metrics();
    assert!(
        allocator_bytes(&during, "allocated") >= allocated + (8 << 20) as f64,
        "{before}\n{during}"
    );
    assert!(
        allocator_bytes(&during, "resident") >= (8 << 20) as f64,
        "{during}"
    );
    drop(held);
    let after = a2a_sse_demo::render_metrics();
    assert!(
        allocator_bytes(&after, "allocated") < allocator_bytes(&during, "allocated"),
        "{during}\n{after}"
    );
}
