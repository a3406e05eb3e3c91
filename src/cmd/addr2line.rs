//! `pprofsym addr2line`: GNU addr2line's interface over the library's lookups ([`pprofsym::symbolize::lookup`]).
//!
//! Requests read from standard input are answered in rounds ([`run`]): every complete line already readable is
//! looked up as one sorted, parallel batch ([`AddrResolver::prepare_batch`]), formatted on all threads from the
//! batch's compact form, written in input order and flushed; only then does the command wait for more input. A
//! file is answered as fast as a batch can be, and the command still works as a coprocess like GNU addr2line: a
//! request is answered without waiting for the next one. Requests given as arguments are one batch.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use pprofsym::error::{Error, ErrorKind, Result, ResultExt};
use pprofsym::maps::MapsLine;
use pprofsym::symbolize::FrameView;
use pprofsym::symbolize::lookup::{AddrResolver, Answer, DataInfo, PreparedBatch, ResolverOptions};

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// GNU addr2line's text.
    #[default]
    Gnu,
    /// One JSON object per line and address.
    Json,
}

/// Options of the `addr2line` command.
#[derive(Debug, Clone, Default)]
pub struct Addr2lineOptions {
    /// `-e`: the binary addresses belong to (required without maps).
    pub exe: Option<PathBuf>,
    /// `-f`: print the function name before `file:line`.
    pub functions: bool,
    /// `-i`: print all inline frames, innermost first.
    pub inlines: bool,
    /// `-C`: demangled names (raw linkage names otherwise).
    pub demangle: bool,
    /// `-a`: print the address first.
    pub addresses: bool,
    /// `-s`: file base names only.
    pub basenames: bool,
    /// `-p`: one line per frame, `func at file:line`.
    pub pretty: bool,
    /// Text or JSON.
    pub format: OutputFormat,
    /// A `/proc/PID/maps` text: addresses are runtime addresses of that process.
    pub maps: Option<PathBuf>,
    /// Directories searched for the files named in maps lines (`dir/<basename>`, pprof's
    /// `PPROF_BINARY_PATH` layouts).
    pub search_path: Vec<PathBuf>,
    /// Never contact a debuginfod server (the debuginfod cache is still read).
    pub offline: bool,
}

fn file_name(file: &str, basenames: bool) -> &str {
    if basenames {
        file.rsplit('/').next().unwrap_or(file)
    } else {
        file
    }
}

/// GNU addr2line's text for one answer, appended to `out`: with `-a` the address as `0x%016x`; per frame
/// (all with `-i`, else the innermost) the function (`-f`; demangled with `-C`, else the
/// linkage name) and `file:line`. Nothing known: `??` and `??:0`; a name but no line
/// (symbol table only): `??:?`. With `-p` each frame is one line `func at file:line`,
/// callers prefixed ` (inlined by) `.
pub fn format_gnu_into(a: &Answer, o: &Addr2lineOptions, out: &mut String) {
    let frames = a.frames().iter().map(|f| FrameView {
        function: &f.function,
        system_name: &f.system_name,
        file: &f.file,
        line: f.line,
    });
    format_gnu_frames(a.address, frames, o, out);
}

/// [`format_gnu_into`] from the address and the frames alone.
fn format_gnu_frames<'a>(
    address: Option<u64>,
    frames: impl ExactSizeIterator<Item = FrameView<'a>>,
    o: &Addr2lineOptions,
    out: &mut String,
) {
    use std::fmt::Write as _;
    if o.addresses {
        let _ = write!(out, "0x{:016x}", address.unwrap_or(0));
        out.push_str(if o.pretty { ": " } else { "\n" });
    }
    if frames.len() == 0 {
        if o.functions {
            out.push_str(if o.pretty { "?? " } else { "??\n" });
        }
        out.push_str("??:0\n");
        return;
    }
    let n = if o.inlines { frames.len() } else { 1 };
    for (i, f) in frames.take(n).enumerate() {
        if o.pretty && i > 0 {
            out.push_str(" (inlined by) ");
        }
        if o.functions {
            let name = if o.demangle { f.function } else { f.system_name };
            out.push_str(if name.is_empty() { "??" } else { name });
            out.push_str(if o.pretty { " at " } else { "\n" });
        }
        let file = if f.file.is_empty() {
            "??"
        } else {
            file_name(f.file, o.basenames)
        };
        out.push_str(file);
        if f.line == 0 {
            out.push_str(":?\n");
        } else {
            let _ = writeln!(out, ":{}", f.line);
        }
    }
}

#[derive(Serialize)]
struct JsonFrame<'a> {
    function: &'a str,
    system_name: &'a str,
    file: &'a str,
    line: u64,
    column: u64,
    start_line: u64,
}

#[derive(Serialize)]
struct JsonSymbol<'a> {
    name: &'a str,
    offset: u64,
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    input: &'a str,
    address: Option<String>,
    binary: Option<String>,
    maps_line: Option<&'a MapsLine>,
    file_offset: Option<String>,
    svma: Option<String>,
    section: Option<&'a str>,
    symbol: Option<JsonSymbol<'a>>,
    source: Option<&'static str>,
    is_data: bool,
    data: Option<&'a DataInfo>,
    frames: Vec<JsonFrame<'a>>,
    error: Option<&'a str>,
}

/// One JSON object (one line, newline-terminated) for an answer. Addresses are hex strings;
/// `frames` are innermost first; `source` is `null` when nothing is known.
pub fn format_json(a: &Answer, o: &Addr2lineOptions) -> String {
    let r = a.resolved.as_ref();
    let frames: Vec<JsonFrame> = a
        .frames()
        .iter()
        .map(|f| JsonFrame {
            function: &f.function,
            system_name: &f.system_name,
            file: file_name(&f.file, o.basenames),
            line: f.line,
            column: f.column,
            start_line: f.start_line,
        })
        .collect();
    let j = JsonAnswer {
        input: &a.input,
        address: a.address.map(|v| format!("{v:#x}")),
        binary: a.binary.as_deref().map(|p| p.to_string_lossy().into_owned()),
        maps_line: a.maps_line.as_ref(),
        file_offset: r.and_then(|r| r.file_offset).map(|v| v.to_string()),
        svma: r.map(|r| r.svma.to_string()),
        section: r.and_then(|r| r.section.as_deref()),
        symbol: r
            .and_then(|r| r.symbol.as_ref())
            .map(|(name, offset)| JsonSymbol { name, offset: *offset }),
        source: r.filter(|r| !r.frames.is_empty()).map(|r| r.source.name()),
        is_data: r.is_some_and(|r| r.is_data),
        data: a.data.as_ref(),
        frames,
        error: a.error.as_deref(),
    };
    let mut s = serde_json::to_string(&j).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Answer `args` (if any) or else every line of `input`.
///
/// Requests from `input` are answered in rounds: each round takes every complete line that can be read without
/// waiting (at least one, waiting for it), answers them as one sorted, parallel batch, writes the answers in input
/// order and flushes. A file or a fast pipe is thus answered in a few big batches, while a coprocess that writes one
/// address and waits for its answer (as pprof drives addr2line) gets each answer at once. Arguments are one batch.
/// The first bad token and each distinct lookup problem get one note on `err`.
pub fn run(
    opts: &Addr2lineOptions,
    args: &[String],
    input: &mut dyn Requests,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let maps = match &opts.maps {
        Some(p) => {
            let text = std::fs::read(p).map_err(|e| Error::io(p, e))?;
            let text = String::from_utf8_lossy(&text);
            Some(MapsLine::parse_all(&text).context(p.display())?)
        }
        None => None,
    };
    if opts.exe.is_none() && maps.is_none() {
        return Err(Error::new(
            ErrorKind::Usage,
            "no binary: give -e BIN, --maps FILE or --pid PID",
        ));
    }
    let mut a = AddrResolver::new(ResolverOptions {
        exe: opts.exe.clone(),
        maps,
        search_path: opts.search_path.clone(),
        debuginfod: super::debuginfod(opts.offline),
    })?;
    for w in a.take_warnings() {
        writeln!(err, "pprofsym addr2line: {w}").map_err(|e| Error::caused_by(ErrorKind::Io, "", e))?;
    }
    let io = |e: std::io::Error| Error::caused_by(ErrorKind::Io, "", e);
    let mut noted_garbage = false;
    let mut noted = std::collections::HashSet::new();
    // One note per problem: the first garbage token, each distinct lookup error.
    let mut note = |garbage: bool, e: &str, err: &mut dyn Write| -> std::io::Result<()> {
        if garbage {
            if !noted_garbage {
                noted_garbage = true;
                writeln!(err, "pprofsym addr2line: {e}; answering ??")?;
            }
        } else if noted.insert(e.to_string()) {
            writeln!(err, "pprofsym addr2line: {e}")?;
        }
        Ok(())
    };
    let format = |ans: &Answer, text: &mut String| match opts.format {
        OutputFormat::Gnu => format_gnu_into(ans, opts, text),
        OutputFormat::Json => text.push_str(&format_json(ans, opts)),
    };
    let res = if args.is_empty() {
        let mut text = String::new();
        loop {
            let lines = match input.next_round() {
                Ok(Some(lines)) => lines,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            let done = if let [line] = lines.as_slice() {
                // One request: no batch machinery.
                let ans = a.resolve(line);
                text.clear();
                format(&ans, &mut text);
                ans.error
                    .as_ref()
                    .map_or(Ok(()), |e| note(ans.address.is_none(), e, err))
                    .and_then(|()| out.write_all(text.as_bytes()))
                    .and_then(|()| out.flush())
            } else {
                let batch = a.prepare_batch(&lines);
                write_batch(&batch, opts, &format, &mut note, out, err)
            };
            if let Err(e) = done {
                break Err(e);
            }
        }
    } else {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let batch = a.prepare_batch(&args);
        write_batch(&batch, opts, &format, &mut note, out, err)
    };
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(io),
    }
}

/// Where request lines come from, a round at a time (see [`run`]).
pub trait Requests {
    /// The next round of complete lines (each without its newline; a last line without one counts), at least
    /// one; `None` at the end of the input.
    fn next_round(&mut self) -> std::io::Result<Option<Vec<String>>>;
}

/// The most lines one round takes, bounding the memory of a round's batch.
const MAX_ROUND_LINES: usize = 1 << 18;

/// Request lines read from a file descriptor (standard input): a round is every complete line readable without
/// blocking, found with `poll`.
pub struct FdRequests {
    fd: std::os::fd::RawFd,
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start.
    start: usize,
    eof: bool,
}

/// When `fd` is a pipe, asks Linux for a 1 MiB pipe buffer (the unprivileged default limit) instead of 64 KiB, so
/// a writer that is faster than us (`cat addrs.txt |`) leaves bigger rounds to answer at once; a writer that waits
/// for each answer is not affected. Failure changes nothing but the round sizes.
fn widen_pipe(fd: std::os::fd::RawFd) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fstat writes into the zeroed struct we own; F_SETPIPE_SZ only resizes the kernel's pipe buffer.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO {
                libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}

impl FdRequests {
    /// Requests from `fd`, which stays open and owned by the caller.
    pub fn new(fd: std::os::fd::RawFd) -> FdRequests {
        widen_pipe(fd);
        FdRequests {
            fd,
            buf: Vec::new(),
            start: 0,
            eof: false,
        }
    }

    /// Reads what one `read` gives into the buffer; false at the end of the input.
    fn read_some(&mut self) -> std::io::Result<bool> {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + (64 << 10), 0);
        loop {
            // SAFETY: the buffer has 64 KiB of room after `len`, and `read` writes at most that many bytes.
            let n = unsafe { libc::read(self.fd, self.buf[len..].as_mut_ptr().cast(), 64 << 10) };
            if n >= 0 {
                self.buf.truncate(len + n as usize);
                return Ok(n > 0);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                self.buf.truncate(len);
                return Err(e);
            }
        }
    }

    /// Whether more input can be read now without blocking.
    fn readable_now(&self) -> bool {
        let mut p = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a zero timeout.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n > 0 && p.revents & (libc::POLLIN | libc::POLLHUP) != 0
    }

    fn complete_lines(&self) -> usize {
        self.buf[self.start..].iter().filter(|&&b| b == b'\n').count()
    }
}

impl Requests for FdRequests {
    fn next_round(&mut self) -> std::io::Result<Option<Vec<String>>> {
        // Wait for a first complete line (or the end).
        while !self.eof && !self.buf[self.start..].contains(&b'\n') {
            self.eof = !self.read_some()?;
        }
        // Then take whatever else is already there.
        while !self.eof && self.complete_lines() < MAX_ROUND_LINES && self.readable_now() {
            self.eof = !self.read_some()?;
        }
        let rest = &self.buf[self.start..];
        if rest.is_empty() {
            return Ok(None);
        }
        let mut lines = Vec::new();
        let mut used = 0;
        for piece in rest.split_inclusive(|&b| b == b'\n') {
            if lines.len() == MAX_ROUND_LINES || (!piece.ends_with(b"\n") && !self.eof) {
                break;
            }
            used += piece.len();
            lines.push(String::from_utf8_lossy(piece).into_owned());
        }
        self.start += used;
        Ok(Some(lines))
    }
}

/// Requests per formatting task of [`write_batch`].
const FORMAT_CHUNK: usize = 2048;

/// Format the answers of `batch` in input order: runs of [`FORMAT_CHUNK`] answers are
/// made and formatted on the rayon pool, a few runs at a time, and written in order, so
/// only those runs' text is held. Notes go to `err` in input order too.
fn write_batch<S: AsRef<str> + Sync>(
    batch: &PreparedBatch<'_, S>,
    opts: &Addr2lineOptions,
    format: &(impl Fn(&Answer, &mut String) + Sync),
    note: &mut impl FnMut(bool, &str, &mut dyn Write) -> std::io::Result<()>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let gnu_fast = matches!(opts.format, OutputFormat::Gnu);
    let n = batch.len();
    let round = FORMAT_CHUNK * 2 * rayon::current_num_threads().max(1);
    let mut start = 0;
    while start < n {
        let end = (start + round).min(n);
        let parts: Vec<(String, Vec<(bool, String)>)> = (start..end)
            .step_by(FORMAT_CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| {
                let mut text = String::new();
                let mut notes = Vec::new();
                for k in from..(from + FORMAT_CHUNK).min(end) {
                    if gnu_fast && let Some((address, frames)) = batch.code_frames(k) {
                        format_gnu_frames(Some(address), frames.iter(), opts, &mut text);
                        continue;
                    }
                    let ans = batch.answer(k);
                    if let Some(e) = &ans.error {
                        notes.push((ans.address.is_none(), e.clone()));
                    }
                    format(&ans, &mut text);
                }
                (text, notes)
            })
            .collect();
        for (text, notes) in parts {
            for (garbage, e) in &notes {
                note(*garbage, e, err)?;
            }
            out.write_all(text.as_bytes())?;
        }
        start = end;
    }
    out.flush()
}

/// `pprofsym addr2line`, from its flags, on standard input and output.
pub fn main(a: crate::cli::Addr2lineArgs) -> Result<()> {
    let opts = Addr2lineOptions {
        exe: a.exe,
        functions: a.functions,
        inlines: a.inlines,
        demangle: a.demangle,
        addresses: a.addresses,
        basenames: a.basenames,
        pretty: a.pretty_print,
        format: match a.format {
            crate::cli::Addr2lineFormatArg::Text => OutputFormat::Gnu,
            crate::cli::Addr2lineFormatArg::Json => OutputFormat::Json,
        },
        maps: a.maps.or(a.pid.map(proc_maps_path)),
        search_path: a.search_path,
        offline: a.offline,
    };
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    // Standard input is read directly (no std buffering), so a round takes exactly what is readable.
    let mut requests = FdRequests::new(0);
    run(&opts, &a.addrs, &mut requests, &mut stdout.lock(), &mut stderr.lock())
}

/// `/proc/PID/maps` of a live process.
pub fn proc_maps_path(pid: u32) -> PathBuf {
    Path::new("/proc").join(pid.to_string()).join("maps")
}
