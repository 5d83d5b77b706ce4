//! The side-by-side benchmark's floor: the OrderWorkflow and its two
//! activities (guest-examples/ORDER.md) in plain Rust on Temporal's Rust SDK,
//! which runs on the same core (temporalio-sdk-core =0.10.1) weft does, with
//! no Wasm in between. bench/side.sh runs it like weft's arm: one process, a
//! workflow worker and an activity worker, the same slots and cache size.
//!
//!   native-worker --address 127.0.0.1:7233 --workflow-queue Q \
//!       --activity-queue ORDER_ACTIVITY_Q --orders-dir /tmp/orders

mod activities;
mod workflow;

use std::{path::PathBuf, str::FromStr};

use anyhow::Context as _;
use clap::Parser;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};
use temporalio_common::telemetry::{
    PrometheusExporterOptions, TelemetryOptions, start_prometheus_metric_exporter,
};
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::{Runtime, Worker, WorkerOptions};

/// Command line of the native worker.
#[derive(Parser)]
struct Args {
    /// The Temporal frontend, host:port.
    #[arg(long, default_value = "127.0.0.1:7233")]
    address: String,
    #[arg(long, default_value = "default")]
    namespace: String,
    /// The task queue the OrderWorkflow is served on.
    #[arg(long)]
    workflow_queue: String,
    /// The task queue CreateOrder and ChargePayment are served on.
    #[arg(long, default_value = "ORDER_ACTIVITY_Q")]
    activity_queue: String,
    /// The directory the activities write orders to (weft's guests see it as /orders).
    #[arg(long)]
    orders_dir: PathBuf,
    /// Runs kept in the sticky cache (weft's `max_cached_workflows`).
    #[arg(long, default_value_t = 1000)]
    max_cached_workflows: usize,
    /// Serve core's Prometheus metrics on this address (bench/parked.py
    /// counts completed workflow tasks there, as it reads weft's /metrics).
    #[arg(long)]
    metrics: Option<std::net::SocketAddr>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut telemetry = TelemetryOptions::builder().build();
    if let Some(addr) = args.metrics {
        let exporter = PrometheusExporterOptions::builder()
            .socket_addr(addr)
            .build();
        telemetry.metrics = Some(start_prometheus_metric_exporter(exporter)?.meter);
    }
    let options = RuntimeOptions::builder()
        .telemetry_options(telemetry)
        .build()
        .map_err(anyhow::Error::msg)?;
    let runtime = Runtime::from_current_tokio(options)?;
    let url = Url::from_str(&format!("http://{}", args.address))?;
    let connection = Connection::connect(ConnectionOptions::new(url).build())
        .await
        .context("cannot connect to Temporal")?;
    let client = Client::new(connection, ClientOptions::new(args.namespace).build())?;

    let workflows = WorkerOptions::new(args.workflow_queue)
        .max_cached_workflows(args.max_cached_workflows)
        .register_workflow::<workflow::OrderWorkflow>()?
        .build();
    let activities = WorkerOptions::new(args.activity_queue)
        .register_activities(activities::OrderActivities::new(args.orders_dir))
        .build();
    let mut workflows = Worker::new(&runtime, client.clone(), workflows)?;
    let mut activities = Worker::new(&runtime, client, activities)?;
    // Both workers hold non-Send workflow futures, so they run on this task.
    let (w, a) = tokio::join!(workflows.run(), activities.run());
    w?;
    a?;
    Ok(())
}
