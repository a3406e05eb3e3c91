//! One download from a debuginfod server with `ureq`, with elfutils' time limits.
//!
//! elfutils gives each transfer `DEBUGINFOD_TIMEOUT` seconds (default 90) to make progress: curl's
//! `LOW_SPEED_TIME` = the timeout with `LOW_SPEED_LIMIT` = 100 KiB/s, so a server that sends less than 100 KiB in
//! that many seconds is dropped. Here the same number bounds connecting, waiting for the response headers and each
//! read (a server that accepts and never answers), and the body must keep up 100 KiB per that many seconds.
//! `DEBUGINFOD_MAXTIME` bounds a whole transfer; `DEBUGINFOD_MAXSIZE` is sent to the server as
//! `X-DEBUGINFOD-MAXSIZE` and a larger file is refused.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::Progress;

/// elfutils' low-speed limit: at least this many bytes per timeout period.
const LOW_SPEED_BYTES: u64 = 100 * 1024;

/// The limits of one transfer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `DEBUGINFOD_TIMEOUT`; `None` (0 in the variable) waits forever.
    pub timeout: Option<Duration>,
    /// `DEBUGINFOD_MAXTIME`: the longest a whole transfer may take.
    pub max_time: Option<Duration>,
    /// `DEBUGINFOD_MAXSIZE`: the largest file accepted.
    pub max_size: Option<u64>,
}

/// Why a download gave no file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with an HTTP error status (404: it has no such file). elfutils remembers these misses.
    Status(u16),
    /// The file is larger than `DEBUGINFOD_MAXSIZE` (or the server said so with 406).
    TooLarge(String),
    /// The server could not be reached, did not answer in time, or broke off (worth another try).
    Transport(String),
    /// Writing the temporary file failed.
    Local(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(404) => f.write_str("not found (HTTP 404)"),
            Failure::Status(s) => write!(f, "HTTP status {s}"),
            Failure::TooLarge(s) | Failure::Transport(s) | Failure::Local(s) => f.write_str(s),
        }
    }
}

/// The HTTP agent for every download of one client: timeouts from `limits`, statuses as values.
pub fn agent(limits: &Limits) -> ureq::Agent {
    let t = limits.timeout;
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(t)
        .timeout_recv_response(t)
        .timeout_per_read(t)
        .timeout_per_call(limits.max_time)
        .user_agent(format!("pprofsym/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// GETs `url` into `out`. Returns the number of bytes written; a response whose length disagrees with its
/// `Content-Length` is a failure.
pub fn download(
    agent: &ureq::Agent,
    url: &str,
    limits: &Limits,
    out: &mut impl Write,
    progress: Option<&dyn Progress>,
) -> Result<u64, Failure> {
    let mut req = agent.get(url);
    if let Some(max) = limits.max_size {
        req = req.header("X-DEBUGINFOD-MAXSIZE", max.to_string());
    }
    let resp = req.call().map_err(|e| Failure::Transport(transport_text(&e)))?;
    let status = resp.status().as_u16();
    if status == 406 {
        return Err(Failure::TooLarge("larger than DEBUGINFOD_MAXSIZE (HTTP 406)".into()));
    }
    if status != 200 {
        return Err(Failure::Status(status));
    }
    let header_u64 = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    // A body sent compressed (a proxy may do that) is inflated by ureq: its length is not the header's.
    let encoded = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    let content_length = header_u64("content-length").filter(|_| !encoded);
    let total = content_length.or_else(|| header_u64("x-debuginfod-size"));
    if let (Some(max), Some(n)) = (limits.max_size, total)
        && n > max
    {
        return Err(Failure::TooLarge(format!(
            "{n} bytes, more than DEBUGINFOD_MAXSIZE={max}"
        )));
    }
    if let Some(p) = progress {
        p.download_started(total);
    }
    let mut body = resp.into_body().into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    let mut window = (Instant::now(), 0u64);
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Transport(format!("reading the response: {}", io_text(&e)))),
        };
        out.write_all(&buf[..n])
            .map_err(|e| Failure::Local(format!("writing the cache file: {e}")))?;
        written += n as u64;
        if let Some(p) = progress {
            p.bytes(n as u64);
        }
        if let Some(max) = limits.max_size
            && written > max
        {
            return Err(Failure::TooLarge(format!("more than DEBUGINFOD_MAXSIZE={max} bytes")));
        }
        window.1 += n as u64;
        if let Some(t) = limits.timeout {
            let elapsed = window.0.elapsed();
            if elapsed >= t {
                if window.1 < LOW_SPEED_BYTES {
                    return Err(Failure::Transport(format!(
                        "transfer too slow: {} bytes in {} s (less than 100 KiB per DEBUGINFOD_TIMEOUT)",
                        window.1,
                        elapsed.as_secs()
                    )));
                }
                window = (Instant::now(), 0);
            }
        }
    }
    if let Some(want) = content_length
        && written != want
    {
        return Err(Failure::Transport(format!(
            "truncated response: {written} of {want} bytes"
        )));
    }
    Ok(written)
}

/// A one-line reason from a ureq error, without ureq's `io:` prefixes.
fn transport_text(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io_text(io),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        other => other.to_string(),
    }
}

fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::TimedOut | K::WouldBlock => "timed out".into(),
        K::ConnectionReset => "connection reset".into(),
        K::UnexpectedEof => "connection closed early".into(),
        _ => e.to_string(),
    }
}
