//! pprofsym: load pprof profiles, normalize raw PCs against ELF binaries, symbolize offline, and report.
//!
//! The crate is a pipeline and the modules follow it:
//! [`profile`] (decode, validate, index, encode) → `binary` / `symbolize` (ELF, DWARF, symbol tables, Go pclntab)
//! → [`report`] (rows computed from a profile; rendering is separate).

pub mod addr;
pub mod binary;
pub mod profile;
pub mod report;
pub mod symbolize;
