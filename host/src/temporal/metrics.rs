//! Core's own worker metrics (poll latencies, slots, sticky cache, task
//! outcomes), kept by core's Prometheus exporter.
//!
//! Core's registry is private to its exporter, which serves it over HTTP.
//! weft starts that exporter on an ephemeral loopback port and reads it
//! when its own `/metrics` is scraped, so one endpoint carries both.

use super::TemporalError;
use std::net::SocketAddr;
use std::sync::Arc;
use temporalio_common::telemetry::metrics::CoreMeter;
use temporalio_common::telemetry::{PrometheusExporterOptions, start_prometheus_metric_exporter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Core's metrics exporter.
#[derive(Debug)]
pub struct CoreMetrics {
    meter: Arc<dyn CoreMeter>,
    addr: SocketAddr,
    server: tokio::task::AbortHandle,
}

impl CoreMetrics {
    /// Start core's exporter on a loopback port (needs a tokio runtime).
    pub fn start() -> Result<CoreMetrics, TemporalError> {
        let options = PrometheusExporterOptions::builder()
            .socket_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
            .build();
        let started = start_prometheus_metric_exporter(options)
            .map_err(|e| TemporalError::Runtime(format!("metrics exporter: {e:#}")))?;
        Ok(CoreMetrics {
            meter: started.meter,
            addr: started.bound_addr,
            server: started.abort_handle,
        })
    }

    /// The meter core's runtime records into.
    pub fn meter(&self) -> Arc<dyn CoreMeter> {
        self.meter.clone()
    }

    /// Core's metrics in the Prometheus text format.
    pub async fn scrape(&self) -> std::io::Result<String> {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP response")
        })?;
        if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
            let status = head.lines().next().unwrap_or_default();
            return Err(std::io::Error::other(format!(
                "core's exporter answered {status}"
            )));
        }
        Ok(body.to_owned())
    }
}

impl Drop for CoreMetrics {
    fn drop(&mut self) {
        self.server.abort();
    }
}
