//! The demos' `GET /metrics`: the library's metrics (`a2a_sse_core::telemetry`) in
//! Prometheus text format, through `metrics-exporter-prometheus`.

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
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// The content type of [`render_metrics`]'s text.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";
