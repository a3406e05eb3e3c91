//! The library's one error type, and the warnings it hands back instead of printing.
//!
//! An [`Error`] has a [`kind`](Error::kind) a caller can match on, its own message, and the error that caused it
//! (another [`Error`] a layer further down, or a foreign one: `std::io::Error`, a protobuf or DWARF error). Layers
//! add context as they pass an error up ([`Error::context`], [`ResultExt::context`]), so one line says what was
//! being done, to which file, and why it failed:
//!
//! ```text
//! testdata/x.pb.gz: not a profile.proto message: failed to decode Protobuf message: ...
//! ```
//!
//! `{}` prints the whole chain on one line, outermost first, as the command prints errors;
//! [`source`](std::error::Error::source) gives the cause, for callers who inspect it (not for printing: its text is
//! already in the line).
//!
//! Soft problems (a binary not found, a build ID that differs) are [`Warning`]s: values collected by the library
//! and printed by the command layer.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// What kind of failure an [`Error`] is, for callers that act on it without reading the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing a file or stream failed.
    Io,
    /// The input is not in a format we read, or it is corrupt (bad gzip, bad protobuf, bad text).
    Format,
    /// The input decodes but breaks the format's rules (pprof's consistency checks).
    Invalid,
    /// A bound set to protect the machine was reached (decompressed size, memory).
    Limit,
    /// A binary cannot be used: not ELF, truncated, without program headers.
    Binary,
    /// Debug information (DWARF, Go pclntab) is malformed.
    DebugInfo,
    /// An address cannot be placed in its binary (outside the mapping or every segment).
    Address,
    /// An option or argument is wrong (unknown sample type, bad regular expression).
    Usage,
}

/// The error of every fallible library function: a kind, a message, and the cause.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
    source: Option<Cause>,
}

/// What caused an [`Error`].
#[derive(Clone)]
enum Cause {
    /// One of ours, a layer further down.
    Ours(Box<Error>),
    /// A foreign error (I/O, decoder), shared so errors stay cheap to clone.
    Foreign(Arc<dyn StdError + Send + Sync + 'static>),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with message `msg`.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error {
            kind,
            msg: msg.into(),
            source: None,
        }
    }

    /// An error of `kind` with message `msg`, caused by the foreign error `cause`.
    pub fn caused_by(kind: ErrorKind, msg: impl Into<String>, cause: impl StdError + Send + Sync + 'static) -> Error {
        Error {
            kind,
            msg: msg.into(),
            source: Some(Cause::Foreign(Arc::new(cause))),
        }
    }

    /// An I/O failure on `path`: the message names the file, the cause is the OS error.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Error {
        Error::caused_by(ErrorKind::Io, path.into().display().to_string(), cause)
    }

    /// An error of `kind` that says what the foreign error `cause` says (a typed error of a lower layer, such as a
    /// decoder's, kept as the cause for callers who want it).
    pub fn wrap(kind: ErrorKind, cause: impl StdError + Send + Sync + 'static) -> Error {
        Error::caused_by(kind, "", cause)
    }

    /// A new layer around `self`: `msg` says what was being done (or to which file); the kind is kept.
    pub fn context(self, msg: impl fmt::Display) -> Error {
        Error {
            kind: self.kind,
            msg: msg.to_string(),
            source: Some(Cause::Ours(Box::new(self))),
        }
    }

    /// The kind of the failure (that of the innermost layer, kept as context is added).
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// This layer's own message, without the causes.
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)?;
        let mut wrote = !self.msg.is_empty();
        let mut next = self.source();
        while let Some(e) = next {
            // Our layers print their own message only (the loop goes on to their causes); a foreign error prints
            // as it does, causes included.
            let (text, cause) = match e.downcast_ref::<Error>() {
                Some(ours) => (ours.msg.clone(), e.source()),
                None => (e.to_string(), None),
            };
            if !text.is_empty() {
                if wrote {
                    f.write_str(": ")?;
                }
                f.write_str(&text)?;
                wrote = true;
            }
            next = cause;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}, {})", self.kind, self)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.source {
            Some(Cause::Ours(e)) => Some(&**e),
            Some(Cause::Foreign(e)) => Some(&**e),
            None => None,
        }
    }
}

/// Two errors are equal when their kinds and whole messages are (tests compare lookups that may fail).
impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.kind == other.kind && self.to_string() == other.to_string()
    }
}

impl Eq for Error {}

/// Adding context to a `Result` on its way up.
pub trait ResultExt<T> {
    /// Wraps the error in a layer saying `msg` (see [`Error::context`]).
    fn context(self, msg: impl fmt::Display) -> Result<T>;

    /// [`context`](Self::context) with a message made only on failure.
    fn with_context<M: fmt::Display>(self, msg: impl FnOnce() -> M) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn context(self, msg: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(msg))
    }

    fn with_context<M: fmt::Display>(self, msg: impl FnOnce() -> M) -> Result<T> {
        self.map_err(|e| e.context(msg()))
    }
}

/// A soft problem: the work goes on, and the command layer tells the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// No file was found (or accepted) for a mapping.
    NoBinary {
        /// The mapping's file name (`<unnamed>` when it has none).
        file: String,
        /// The mapping's build ID, if it has one.
        build_id: Option<String>,
    },
    /// A candidate file was refused because its build ID differs from the one wanted.
    BuildIdMismatch {
        /// The refused file.
        path: PathBuf,
        /// The build ID wanted.
        want: String,
        /// The candidate's build ID ("none" when it has none).
        got: String,
        /// The candidate was a separate debug file (the wanted ID is the binary's), not a binary for a mapping.
        debug_file: bool,
    },
    /// A `.gnu_debuglink` candidate was refused because its CRC32 differs.
    CrcMismatch {
        /// The refused file.
        path: PathBuf,
        /// The CRC the debug link asks for.
        want: u32,
        /// The file's CRC.
        got: u32,
    },
    /// A candidate file exists but does not open as a binary.
    Unusable(Error),
    /// Some locations of a mapping could not be looked up.
    LookupFailed {
        /// The mapping's file.
        file: String,
        /// How many failed.
        failed: usize,
        /// Of how many.
        of: usize,
        /// The first failure.
        first: String,
    },
    /// A split-DWARF part (`.dwo` / `.dwp`) was missing or unusable; its unit was answered from the skeleton.
    SplitDwarf(String),
    /// A debuginfod lookup failed, or its answer was refused; the search goes on without it.
    Debuginfod {
        /// The build ID asked for (hex).
        build_id: String,
        /// `executable` or `debuginfo`.
        kind: String,
        /// The request URL, or the cache file.
        source: String,
        /// What went wrong.
        problem: String,
    },
    /// Any other soft problem, already worded.
    Other(String),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NoBinary { file, build_id: None } => write!(f, "no binary found for {file}"),
            Warning::NoBinary {
                file,
                build_id: Some(id),
            } => write!(f, "no binary found for {file} (build ID {id})"),
            Warning::BuildIdMismatch {
                path,
                want,
                got,
                debug_file: false,
            } => write!(
                f,
                "ignoring {}: build ID mismatch (mapping {want}, file {got})",
                path.display()
            ),
            Warning::BuildIdMismatch {
                path,
                want,
                got,
                debug_file: true,
            } => write!(
                f,
                "ignoring {}: build ID mismatch (binary {want}, debug file {got})",
                path.display()
            ),
            Warning::CrcMismatch { path, want, got } => write!(
                f,
                "ignoring {}: CRC mismatch (debuglink {want:08x}, file {got:08x})",
                path.display()
            ),
            Warning::Unusable(e) => write!(f, "ignoring {e}"),
            Warning::LookupFailed {
                file,
                failed,
                of,
                first,
            } => {
                write!(f, "{file}: {failed} of {of} locations not symbolized (first: {first})")
            }
            Warning::Debuginfod {
                build_id,
                kind,
                source,
                problem,
            } => write!(f, "debuginfod: {kind} of build ID {build_id}: {source}: {problem}"),
            Warning::SplitDwarf(s) | Warning::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_prints_on_one_line_and_keeps_the_kind() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = Error::io("/x/heap.pb.gz", io).context("loading the base profile");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(
            e.to_string(),
            "loading the base profile: /x/heap.pb.gz: No such file or directory"
        );
        assert_eq!(e.message(), "loading the base profile");
        let inner = e.source().unwrap();
        assert_eq!(inner.to_string(), "/x/heap.pb.gz: No such file or directory");
        assert!(inner.source().unwrap().downcast_ref::<std::io::Error>().is_some());
    }

    #[test]
    fn equality_is_by_kind_and_text() {
        let a = Error::new(ErrorKind::DebugInfo, "bad unit").context("a.out");
        assert_eq!(a.clone(), a);
        assert_ne!(a, Error::new(ErrorKind::Format, "bad unit").context("a.out"));
    }
}
