//! `pprofsym symbolize`: a profile in, the same profile with symbols out.

use pprofsym::error::{Error, ErrorKind, Result};
use pprofsym::profile;

use super::{load_options, symbolize_loaded};
use crate::cli::SymbolizeArgs;

/// `pprofsym symbolize`.
pub fn run(a: SymbolizeArgs) -> Result<()> {
    let p = profile::load(&a.profile, &load_options(a.max_decompressed, a.max_memory))?;
    let out = symbolize_loaded(p, a.main_binary.as_deref(), &a.sym)?;
    // Deflated on the other threads while this one writes what is ready.
    let bytes = prost::Message::encode_to_vec(out.profile.pb());
    profile::write_gzip_atomic(&a.output, &[&bytes])
        .map_err(|e| Error::caused_by(ErrorKind::Io, format!("writing {}", a.output.display()), e))?;
    eprintln!(
        "{}: {} locations symbolized, {} left unsymbolized",
        a.output.display(),
        out.symbolized,
        out.unsymbolized
    );
    Ok(())
}
