//! `--access-log`: one line per request, written when its response body has ended (or the
//! client went away), with the page's counts when it was rewritten.
//!
//! ```text
//! 127.0.0.1 "GET /page.html HTTP/1.1" 200 1834 3ms rewritten=3 missing=0
//! ```
//! The counts come from the rewriter's report, made in the connection's task as the body
//! ends; [`PAGE_COUNTS`] carries them from there to the request's line.

use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where the lines go.
pub type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// The counts of the page a connection rewrote last: (rewritten, missing).
pub type Counts = Arc<Mutex<Option<(u64, u64)>>>;

tokio::task_local! {
    /// The current connection's [`Counts`].
    pub static PAGE_COUNTS: Counts;
}

/// Opens `--access-log` (`-` is stderr), appending.
pub fn open(path: &std::path::Path) -> anyhow::Result<Sink> {
    let writer: Box<dyn Write + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stderr())
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("--access-log {}: {e}", path.display()))?;
        Box::new(std::io::LineWriter::new(file))
    };
    Ok(Arc::new(Mutex::new(writer)))
}

/// One request's line, written when dropped (with the response body).
pub struct Line {
    pub sink: Sink,
    pub peer: IpAddr,
    pub request: String,
    pub status: u16,
    pub bytes: u64,
    pub started: Instant,
    pub counts: Counts,
}

impl Drop for Line {
    fn drop(&mut self) {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|(rewritten, missing)| format!(" rewritten={rewritten} missing={missing}"))
            .unwrap_or_default();
        let line = format!(
            "{} \"{}\" {} {} {}ms{counts}\n",
            self.peer,
            self.request,
            self.status,
            self.bytes,
            self.started.elapsed().as_millis()
        );
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let _ = sink.write_all(line.as_bytes());
    }
}
