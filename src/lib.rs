//! pprofsym: load pprof profiles, normalize raw PCs against ELF binaries, symbolize offline, and report.
//!
//! The crate is a pipeline and the modules follow it:
//! [`profile`] (decode, validate, index, encode) → [`binary`] (ELF files and finding them) → [`symbolize`]
//! (normalization; DWARF, Go pclntab and symbol-table sources) → [`report`] (rows computed from a profile;
//! rendering is separate). [`answer`] is the plain data the symbolizer hands the reports, [`error`] the one error
//! type, [`maps`] the `/proc/PID/maps` text, [`demangle`] the demangler.
//!
//! Nothing in the library reads standard input or prints: commands (in the `pprofsym` binary) do.

#![deny(missing_docs)]

pub mod addr;
pub mod answer;
pub mod binary;
pub mod demangle;
pub mod error;
pub mod maps;
pub mod profile;
pub mod report;
pub mod symbolize;
