//! An activity's stdout and stderr, and the host's own notes about it, go
//! to the host's log tagged with the task's identity.

use crate::bindings::activity::weft::plugin::activity_host::ActivityInfo;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Who a log line is about: the task's identity.
#[derive(Clone)]
pub struct Identity(pub std::sync::Arc<ActivityInfo>);

impl Identity {
    /// A request the grants refused (`kind`: http, socket): logged and
    /// counted.
    pub fn denied(&self, kind: &str, message: &str) {
        crate::metrics::get()
            .grant_denials
            .with_label_values(&[self.0.activity_type.as_str(), kind])
            .inc();
        self.warn(message);
    }

    /// Log a host note about the task at warn level.
    pub fn warn(&self, message: &str) {
        let i = &self.0;
        tracing::warn!(
            activity_type = %i.activity_type, activity_id = %i.activity_id,
            workflow_id = %i.workflow_id, attempt = i.attempt,
            "{message}"
        );
    }

    /// Log a line the guest wrote (target `weft::guest`).
    fn line(&self, stream: Stream, line: &str) {
        let i = &self.0;
        macro_rules! emit {
            ($level:ident, $name:literal) => {
                tracing::$level!(
                    target: "weft::guest",
                    activity_type = %i.activity_type, activity_id = %i.activity_id,
                    workflow_id = %i.workflow_id, attempt = i.attempt, stream = $name,
                    "{line}"
                )
            };
        }
        match stream {
            Stream::Stdout => emit!(info, "stdout"),
            Stream::Stderr => emit!(warn, "stderr"),
        }
    }
}

/// Which of the two streams.
#[derive(Clone, Copy)]
pub enum Stream {
    /// Logged at info.
    Stdout,
    /// Logged at warn.
    Stderr,
}

/// A WASI stdout/stderr that logs one event per line.
pub struct LogOutput {
    who: Identity,
    stream: Stream,
}

impl LogOutput {
    /// Output of `stream` logged as `who`.
    pub fn new(who: Identity, stream: Stream) -> LogOutput {
        LogOutput { who, stream }
    }
}

impl IsTerminal for LogOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            who: self.who.clone(),
            stream: self.stream,
            pending: Vec::new(),
        })
    }
}

/// Longest line kept before it is logged anyway.
const MAX_LINE: usize = 16 * 1024;

struct LineWriter {
    who: Identity,
    stream: Stream,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, upto: usize) {
        let line: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&line);
        self.who
            .line(self.stream, text.trim_end_matches(['\n', '\r']));
    }

    fn emit_complete_lines(&mut self) {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            self.emit(end + 1);
        }
        if self.pending.len() > MAX_LINE {
            self.emit(self.pending.len());
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.emit_complete_lines();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.emit(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.emit(n);
        }
    }
}
