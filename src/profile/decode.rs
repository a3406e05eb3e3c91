//! Reading a profile from a file or stdin: content-sniffed gzip (bounded) then prost, then validation.

use std::fmt;
use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use prost::Message;

use super::model::Profile;
use super::pb;

/// Default bound on the decompressed size of a profile: 1 GiB. Real heap profiles are a few MB; a gzip bomb hits
/// this limit long before memory runs out.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

/// How to load a profile.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Upper bound on the size of the (decompressed) protobuf bytes.
    pub max_decompressed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

/// A profile that could not be loaded: the source it came from and what was wrong, as one line.
#[derive(Debug)]
pub struct LoadError {
    /// The path, or `<stdin>`.
    pub source_name: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source_name, self.message)
    }
}

impl std::error::Error for LoadError {}

/// Reads the raw bytes of `path` (`-` means standard input).
pub fn read_input(path: &Path) -> Result<(String, Vec<u8>), LoadError> {
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let mut data = Vec::new();
    let res = if is_stdin {
        std::io::stdin().lock().read_to_end(&mut data)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut data))
    };
    match res {
        Ok(_) => Ok((name, data)),
        Err(e) => Err(LoadError {
            source_name: name,
            message: format!("cannot read: {e}"),
        }),
    }
}

/// Loads, decodes and validates the profile at `path` (`-` for stdin).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Profile, LoadError> {
    let (name, data) = read_input(path)?;
    decode_bytes(&data, opts).map_err(|message| LoadError {
        source_name: name,
        message,
    })
}

/// Decodes profile bytes (gzipped or plain protobuf, detected by content) and validates them.
/// The error is a one-line description without the file name.
pub fn decode_bytes(data: &[u8], opts: &LoadOptions) -> Result<Profile, String> {
    if data.is_empty() {
        return Err("empty file, not a profile".into());
    }
    let inflated;
    let proto: &[u8] = if data.starts_with(&[0x1f, 0x8b]) {
        inflated = gunzip_bounded(data, opts.max_decompressed)?;
        if inflated.is_empty() {
            return Err("gzip stream decompresses to nothing, not a profile".into());
        }
        &inflated
    } else {
        if (data.len() as u64) > opts.max_decompressed {
            return Err(format!(
                "profile is {} bytes, over the limit of {} bytes (raise --max-decompressed)",
                data.len(),
                opts.max_decompressed
            ));
        }
        data
    };
    let pb = pb::Profile::decode(proto).map_err(|e| format!("not a profile.proto message: {e}"))?;
    Profile::new(pb)
}

fn gunzip_bounded(data: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    // Never hold more than limit + 1 bytes: the buffer grows by doubling but is capped there, so a bomb costs at
    // most the limit (read_to_end's own growth could reserve twice that). The buffer is zeroed once per growth
    // and `filled` counts the decompressed bytes in it.
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut out: Vec<u8> = Vec::new();
    let mut filled = 0usize;
    let mut reader = MultiGzDecoder::new(data);
    loop {
        if filled == out.len() {
            if filled >= cap {
                return Err(format!(
                    "decompressed size exceeds the limit of {limit} bytes (a gzip bomb? raise --max-decompressed)"
                ));
            }
            let want = if filled == 0 {
                data.len().saturating_mul(4).clamp(64 << 10, 256 << 20)
            } else {
                filled
            };
            let grow = want.min(cap - filled);
            out.try_reserve_exact(grow)
                .map_err(|_| format!("out of memory decompressing {} bytes", filled + grow))?;
            out.resize(filled + grow, 0);
        }
        match reader.read(&mut out[filled..]) {
            Ok(0) => {
                out.truncate(filled);
                return Ok(out);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("corrupt gzip data: {e}")),
        }
    }
}
