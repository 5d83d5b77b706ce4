//! An activity's stdout and stderr, and the host's own notes about it, go
//! to the host's log tagged with the task's identity.

use crate::bindings::activity::weft::plugin::activity_host::ActivityInfo;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// A guest's text made safe for one log line: cut to at most `max` bytes
/// (at a character boundary, with a marker saying how much was dropped) and
/// with newlines and other control characters escaped, so that a guest can
/// neither flood the log with one line nor forge lines of its own.
pub fn printable(text: &str, max: usize) -> String {
    let mut cut = text.len().min(max);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut + 32);
    for c in text[..cut].chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut < text.len() {
        out.push_str(&format!(" [... {} more bytes cut]", text.len() - cut));
    }
    out
}

/// Who a log line is about: the task's identity.
#[derive(Clone)]
pub struct Identity(pub Arc<ActivityInfo>);

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
pub(super) enum Stream {
    /// Logged at info.
    Stdout,
    /// Logged at warn.
    Stderr,
}

/// A WASI stdout/stderr that logs one event per line.
pub(super) struct LogOutput {
    who: Identity,
    stream: Stream,
    budget: Arc<Mutex<Budget>>,
}

impl LogOutput {
    /// Output of `stream` logged as `who`.
    pub(super) fn new(who: Identity, stream: Stream) -> LogOutput {
        LogOutput {
            who,
            stream,
            budget: Arc::default(),
        }
    }
}

/// Lines of one stream of one task logged per second, at most.
pub(super) const MAX_LINES_PER_SECOND: u32 = 100;

/// The lines one stream of a task may still log in the current second.
#[derive(Default)]
struct Budget {
    window: Option<Instant>,
    lines: u32,
    dropped: u64,
}

impl Budget {
    /// May one more line be logged now? When a new second starts after
    /// lines were dropped, returns how many, to say so once.
    fn take(&mut self, now: Instant) -> (bool, u64) {
        let mut dropped = 0;
        if self
            .window
            .is_none_or(|w| now.duration_since(w) >= Duration::from_secs(1))
        {
            self.window = Some(now);
            self.lines = 0;
            dropped = std::mem::take(&mut self.dropped);
        }
        self.lines += 1;
        if self.lines > MAX_LINES_PER_SECOND {
            self.dropped += 1;
            return (false, dropped);
        }
        (true, dropped)
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
            budget: self.budget.clone(),
            pending: Vec::new(),
            skipping: false,
        })
    }
}

/// Longest line logged: the rest of a longer one is dropped (the log says
/// how much), and never buffered.
pub(super) const MAX_LINE: usize = 16 * 1024;

struct LineWriter {
    who: Identity,
    stream: Stream,
    budget: Arc<Mutex<Budget>>,
    pending: Vec<u8>,
    /// The current line was cut: drop bytes up to its end.
    skipping: bool,
}

impl LineWriter {
    fn emit(&mut self, line: &[u8], cut: bool) {
        let (allowed, dropped) = self
            .budget
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(Instant::now());
        if dropped > 0 {
            self.who.warn(&format!(
                "guest output limit: {dropped} lines dropped (more than \
                 {MAX_LINES_PER_SECOND} lines per second)"
            ));
        }
        if !allowed {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let mut text = printable(text.trim_end_matches(['\n', '\r']), MAX_LINE);
        if cut {
            text.push_str(" [line cut: longer than the limit]");
        }
        self.who.line(self.stream, &text);
    }

    fn write(&mut self, mut buf: &[u8]) {
        while !buf.is_empty() {
            let newline = buf.iter().position(|&b| b == b'\n');
            if self.skipping {
                match newline {
                    Some(end) => {
                        self.skipping = false;
                        buf = &buf[end + 1..];
                    }
                    None => return,
                }
                continue;
            }
            let take = newline.map_or(buf.len(), |end| end + 1);
            let room = MAX_LINE - self.pending.len();
            if take > room || (newline.is_none() && take == room) {
                // Longer than a line may be: log what fits, skip the rest.
                self.pending.extend_from_slice(&buf[..room]);
                let line = std::mem::take(&mut self.pending);
                self.emit(&line, true);
                self.skipping = true;
                buf = &buf[room..];
                continue;
            }
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if newline.is_some() {
                let line = std::mem::take(&mut self.pending);
                self.emit(&line, false);
            }
        }
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line, false);
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flush_pending();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.flush_pending();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_line_cannot_forge_lines_or_flood() {
        assert_eq!(
            printable("ok\n2026-01-01 INFO weft: forged\r\x1b[31m", 100),
            "ok\\n2026-01-01 INFO weft: forged\\r\\u{1b}[31m"
        );
        let long = "é".repeat(10_000);
        let cut = printable(&long, 4097);
        assert!(cut.starts_with(&"é".repeat(2048)), "cut at a char boundary");
        assert!(
            cut.ends_with(" [... 15904 more bytes cut]"),
            "{}",
            &cut[4090..]
        );
        assert_eq!(printable("short", 100), "short");
    }

    #[test]
    fn lines_per_second_are_bounded() {
        let mut budget = Budget::default();
        let start = Instant::now();
        let allowed = (0..1000).filter(|_| budget.take(start).0).count();
        assert_eq!(allowed, MAX_LINES_PER_SECOND as usize);
        let next = start + Duration::from_secs(1);
        assert_eq!(budget.take(next), (true, 900), "the drop is reported once");
        assert_eq!(budget.take(next), (true, 0));
    }
}
