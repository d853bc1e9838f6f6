//! The demos' `GET /metrics`: the library's metrics (`a2a_sse_core::telemetry`) in
//! Prometheus text format, through `metrics-exporter-prometheus`. Built with the
//! `jemalloc` feature, the page also has jemalloc's statistics, read at each scrape:
//! `a2a_sse_demo_allocator_bytes` with `kind` `allocated` (the bytes of live
//! allocations), `active` (the pages those are in), `metadata` (jemalloc's own records)
//! and `resident` (the pages jemalloc has mapped and touched, its share of the RSS).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Route of the metrics page.
pub const METRICS_ROUTE: &str = "/metrics";

/// The process's Prometheus recorder, installed on first use (one per process: the
/// `metrics` facade has one global recorder).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
            a2a_sse_core::telemetry::describe();
            #[cfg(feature = "jemalloc")]
            metrics::describe_gauge!(
                ALLOCATOR_BYTES,
                metrics::Unit::Bytes,
                "jemalloc's statistics at the scrape, by kind: allocated, active, metadata, resident"
            );
            Some(handle)
        })
        .as_ref()
}

/// Installs the recorder now, so that counts start before the first scrape.
pub fn install_metrics() {
    let _ = handle();
}

/// The metrics page's body (`text/plain; version=0.0.4`); empty when another recorder
/// was installed first.
#[must_use]
pub fn render_metrics() -> String {
    let Some(handle) = handle() else {
        return String::new();
    };
    #[cfg(feature = "jemalloc")]
    record_allocator();
    handle.render()
}

/// The gauge of jemalloc's statistics.
#[cfg(feature = "jemalloc")]
const ALLOCATOR_BYTES: &str = "a2a_sse_demo_allocator_bytes";

/// Sets the allocator gauge from jemalloc's statistics, refreshed first (they are cached
/// until the epoch advances); a statistic that cannot be read is left out.
#[cfg(feature = "jemalloc")]
fn record_allocator() {
    use tikv_jemalloc_ctl::{epoch, stats};
    if epoch::advance().is_err() {
        return;
    }
    let readings = [
        ("allocated", stats::allocated::read()),
        ("active", stats::active::read()),
        ("metadata", stats::metadata::read()),
        ("resident", stats::resident::read()),
    ];
    for (kind, value) in readings {
        if let Ok(bytes) = value {
            metrics::gauge!(ALLOCATOR_BYTES, "kind" => kind).set(bytes as f64);
        }
    }
}

/// The content type of [`render_metrics`]'s text.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";
