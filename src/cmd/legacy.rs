//! `raw` (pprof's `-raw` dump) and `convert` (any format we read to profile.proto).

use pprofsym::error::{Error, ErrorKind, Result};
use pprofsym::profile;
use pprofsym::report::raw;

use super::{comment_names, emit, load_options, symbolize_loaded};
use crate::cli::{ConvertArgs, RawArgs, SymbolizeMode};

/// `pprofsym raw`: what `go tool pprof -raw [BINARY] PROFILE` prints.
pub fn raw(a: RawArgs) -> Result<()> {
    let p = profile::load(&a.profile, &load_options(a.max_decompressed, a.max_memory))?;
    let p = raw::driver_mapping(p)?;
    let (p, names) = match a.symbolize {
        SymbolizeMode::None => {
            let mut p = p;
            if let Some(bin) = &a.binary {
                p.set_main_binary(&bin.to_string_lossy());
            }
            (p, None)
        }
        SymbolizeMode::Local => {
            let out = symbolize_loaded(p, a.binary.as_deref(), &a.sym)?;
            let names = out.profile.display_names().to_vec();
            (out.profile, Some(names))
        }
    };
    let own: Vec<String>;
    let prune_names = match &names {
        Some(n) => n.as_slice(),
        None => {
            own = p.pb().function.iter().map(|f| p.str(f.name).to_string()).collect();
            own.as_slice()
        }
    };
    let p = raw::prune(p, prune_names)?;
    emit(&raw::profile_string(&p, names.as_deref()))
}

/// `pprofsym convert`: the profile as profile.proto, no binaries opened.
pub fn convert(a: ConvertArgs) -> Result<()> {
    let p = profile::load(&a.profile, &load_options(a.max_decompressed, a.max_memory))?;
    let format = p.source().format;
    let (p, named) = comment_names(p)?;
    // Deflated on the other threads while this one writes what is ready.
    let bytes = prost::Message::encode_to_vec(p.pb());
    profile::write_gzip_atomic(&a.output, &[&bytes])
        .map_err(|e| Error::caused_by(ErrorKind::Io, format!("writing {}", a.output.display()), e))?;
    let pb = p.pb();
    let mut note = format!(
        "{}: {} converted to profile.proto: {} samples, {} locations, {} mappings",
        a.output.display(),
        format.describe(),
        pb.sample.len(),
        pb.location.len(),
        pb.mapping.len()
    );
    if named > 0 {
        note.push_str(&format!(", {named} locations named from the # comment lines"));
    }
    eprintln!("{note}");
    Ok(())
}
