//! Reading a profile from a file or stdin: content-sniffed gzip (bounded) then prost, then validation.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use prost::Message;

use super::model::Profile;
use super::pb;
use super::raw::RawSamples;
use crate::error::{Error, ErrorKind, Result};

/// Default bound on the decompressed size of a profile: 1 GiB. Real heap profiles are a few MB; a gzip bomb hits
/// this limit long before memory runs out.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

/// Default bound on the memory the decoded profile may take: 8 GiB. Decoded samples can be 20 times larger than
/// their bytes (a 4-byte sample becomes three vectors), so the decompression limit alone does not bound memory.
pub const DEFAULT_MAX_MEMORY: u64 = 8 << 30;

/// How to load a profile.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Upper bound on the size of the (decompressed) protobuf bytes.
    pub max_decompressed: u64,
    /// Upper bound on the estimated memory of the decoded profile.
    pub max_memory: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

/// Reads the raw bytes of `path` (`-` means standard input).
pub fn read_input(path: &Path) -> Result<(String, Vec<u8>)> {
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
        Err(e) => Err(Error::caused_by(ErrorKind::Io, "cannot read", e).context(name)),
    }
}

/// The error for gzip data that inflates to more than `limit` bytes.
pub(crate) fn too_big(limit: u64) -> Error {
    Error::new(
        ErrorKind::Limit,
        format!("decompressed size exceeds the limit of {limit} bytes (a gzip bomb? raise --max-decompressed)"),
    )
}

/// Decodes profile bytes (gzipped or plain protobuf, detected by content) and validates them.
/// The error is a one-line description without the file name.
///
/// A large gzipped profile is decompressed on a second thread while this one decodes the fields already
/// inflated, so loading takes about as long as decompressing alone.
pub fn decode_bytes(data: &[u8], opts: &LoadOptions) -> Result<Profile> {
    let (pb, _) = decode_message(data, opts, false)?;
    Profile::new(pb)
}

/// Decodes profile bytes into the message; with `raw`, samples are not decoded but their bytes kept, one after the
/// other, in the second result (for merging many profiles without a vector per sample).
pub(crate) fn decode_message(data: &[u8], opts: &LoadOptions, raw: bool) -> Result<(pb::Profile, RawSamples)> {
    if data.is_empty() {
        return Err(Error::new(ErrorKind::Format, "empty file, not a profile"));
    }
    let gzipped = data.starts_with(&[0x1f, 0x8b]);
    let mut d = FieldDecoder::new(opts.max_memory, raw);
    if raw {
        // The message's size (for gzip, what its trailer states, modulo 4 GiB, bounded by deflate's best ratio and
        // the limits) sizes the location ids: a byte each at the least, two to four in practice; room for one per
        // two bytes is touched only as far as it is used, and they are not copied as they grow.
        let size = if gzipped {
            let stated = data.last_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b)) as u64;
            stated
                .min(data.len() as u64 * super::inflate::MAX_RATIO)
                .min(opts.max_decompressed)
        } else {
            data.len() as u64
        };
        d.raw
            .reserve_frames(usize::try_from(size.min(opts.max_memory / 4) / 2).unwrap_or(0));
    }
    let d = if gzipped {
        if data.len() >= PIPELINE_MIN {
            decode_gzip_pipelined(data, opts.max_decompressed, d)?
        } else {
            let inflated = gunzip_bounded(data, opts.max_decompressed)?;
            if inflated.is_empty() {
                return Err(Error::new(ErrorKind::Format, EMPTY_GZIP));
            }
            decode_plain(&inflated, d)?
        }
    } else {
        if (data.len() as u64) > opts.max_decompressed {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "profile is {} bytes, over the limit of {} bytes (raise --max-decompressed)",
                    data.len(),
                    opts.max_decompressed
                ),
            ));
        }
        decode_plain(data, d)?
    };
    Ok((d.profile, d.raw))
}

const EMPTY_GZIP: &str = "gzip stream decompresses to nothing, not a profile";

/// Gzipped inputs at least this big are decompressed on a separate thread.
const PIPELINE_MIN: usize = 256 << 10;

/// Size of the decompressed chunks handed from the inflating thread to the decoding one.
const CHUNK: usize = 1 << 20;

/// A wire-format problem, said as "not a profile.proto message: …" (a bound reached keeps its own words).
fn decode_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::Limit => e,
        kind => Error::new(kind, format!("not a profile.proto message: {e}")),
    }
}

/// A wire-format problem.
fn malformed(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

fn decode_plain(data: &[u8], mut d: FieldDecoder) -> Result<FieldDecoder> {
    let used = d.feed(data).map_err(decode_error)?;
    if used != data.len() {
        return Err(decode_error(malformed(
            "buffer underflow (the message ends inside a field)",
        )));
    }
    Ok(d)
}

/// Inflates on a scoped thread, sending bounded chunks; decodes complete top-level fields as they arrive.
fn decode_gzip_pipelined(data: &[u8], limit: u64, d: FieldDecoder) -> Result<FieldDecoder> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut reader = MultiGzDecoder::new(data);
            let mut total = 0u64;
            loop {
                let mut chunk = Vec::with_capacity(CHUNK);
                let res = (&mut reader).take(CHUNK as u64).read_to_end(&mut chunk);
                let msg = match res {
                    Err(e) => Err(malformed(format!("corrupt gzip data: {e}"))),
                    Ok(0) => return,
                    Ok(n) => {
                        total += n as u64;
                        if total > limit { Err(too_big(limit)) } else { Ok(chunk) }
                    }
                };
                let stop = msg.is_err();
                // A send fails when the decoder gave up (it dropped the receiver): stop inflating.
                if tx.send(msg).is_err() || stop {
                    return;
                }
            }
        });
        // The receiver is dropped when this closure returns, which also stops the inflating thread early.
        let rx = rx;
        let mut d = d;
        let mut buf: Vec<u8> = Vec::new();
        let mut start = 0usize;
        let mut any = false;
        for msg in rx.iter() {
            let chunk = msg?;
            any = true;
            if start == buf.len() {
                // Everything so far was decoded: take the chunk as is.
                buf = chunk;
            } else {
                buf.drain(..start);
                buf.extend_from_slice(&chunk);
            }
            start = d.feed(&buf).map_err(decode_error)?;
        }
        if !any {
            return Err(Error::new(ErrorKind::Format, EMPTY_GZIP));
        }
        if start != buf.len() {
            return Err(decode_error(malformed(
                "buffer underflow (the message ends inside a field)",
            )));
        }
        Ok(d)
    })
}

/// Decodes a profile.proto message one top-level field at a time, so the bytes can arrive in pieces.
///
/// Samples, nearly all the bytes of a large profile, are decoded here with vectors of the exact size; any
/// other field goes through prost's `merge`, which is what decoding the whole message does with each field.
/// A sample this decoder does not recognise (unknown fields, unexpected wire types, bad varints) is handed to
/// prost too, so the result and the errors are prost's.
struct FieldDecoder {
    profile: pb::Profile,
    /// Samples kept as bytes instead of decoded (when `keep_raw`).
    raw: RawSamples,
    keep_raw: bool,
    /// Estimated bytes the decoded message takes so far, and the most it may take.
    memory: u64,
    max_memory: u64,
}

impl FieldDecoder {
    fn new(max_memory: u64, keep_raw: bool) -> FieldDecoder {
        FieldDecoder {
            profile: pb::Profile::default(),
            raw: RawSamples::default(),
            keep_raw,
            memory: 0,
            max_memory,
        }
    }

    /// Accounts for `bytes` more of decoded memory; fails past the limit.
    fn charge(&mut self, bytes: u64) -> Result<()> {
        self.memory = self.memory.saturating_add(bytes);
        if self.memory > self.max_memory {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "decoding needs more than {} bytes of memory (raise --max-memory)",
                    self.max_memory
                ),
            ));
        }
        Ok(())
    }

    /// Decodes every complete field at the start of `data`; returns how many bytes they took. Fails on bytes
    /// that cannot be a message (a bad tag or wire type, a malformed field).
    fn feed(&mut self, data: &[u8]) -> Result<usize> {
        let mut pos = 0;
        while pos < data.len() {
            let mut b = &data[pos..];
            let Some(key) = read_varint(&mut b)? else {
                break;
            };
            let field = key >> 3;
            let wire = key & 7;
            if field == 0 || field > u32::MAX as u64 >> 3 {
                return Err(malformed(format!("invalid tag value: {field}")));
            }
            let body_len = match wire {
                0 => match read_varint(&mut b)? {
                    Some(_) => 0,
                    None => break,
                },
                1 => 8,
                5 => 4,
                2 => match read_varint(&mut b)? {
                    Some(n) => usize::try_from(n).map_err(|_| malformed("length out of range"))?,
                    None => break,
                },
                // A group (no profile.proto field is one, but prost skips unknown ones): find its end. A
                // stray end-group tag has no body; prost reports it below.
                3 => match group_len(b, field, 0)? {
                    Some(n) => n,
                    None => break,
                },
                4 => 0,
                w => return Err(malformed(format!("invalid wire type value: {w}"))),
            };
            if b.len() < body_len {
                break;
            }
            let header = data.len() - pos - b.len();
            let end = pos + header + body_len;
            if field == 2 && wire == 2 && self.keep_raw {
                // Decoded onto flat arrays (what every producer writes), else by prost, whose error says what is
                // wrong; charged as the memory the arrays take (at most 8 bytes per encoded byte, plus the ends).
                let body = &b[..body_len];
                if self.raw.push_encoded(body).is_none() {
                    let s = pb::Sample::decode(body).map_err(|e| malformed(e.to_string()))?;
                    if let Err(s) = self.raw.push(s) {
                        // A location id over 32 bits (no producer's, but valid): every sample is kept decoded,
                        // and charged as such.
                        self.keep_raw = false;
                        self.profile.sample = std::mem::take(&mut self.raw).into_samples();
                        self.profile.sample.push(s);
                        let decoded: u64 = self.profile.sample.iter().map(sample_memory).sum();
                        self.charge(decoded)?;
                    }
                }
                self.charge(4 * body_len as u64 + 24)?;
            } else if field == 2 && wire == 2 {
                let s = decode_sample(&b[..body_len]).map_err(|e| malformed(e.to_string()))?;
                self.charge(sample_memory(&s))?;
                self.profile.sample.push(s);
            } else {
                // Other messages: their slot plus about twice their encoded size.
                self.charge(64 + 2 * (end - pos) as u64)?;
                self.profile
                    .merge(&data[pos..end])
                    .map_err(|e| malformed(e.to_string()))?;
            }
            pos = end;
        }
        Ok(pos)
    }
}

/// The memory a decoded sample takes: the Sample itself (its slot in the vector, counted twice for growth) and its
/// vectors' heap blocks.
fn sample_memory(s: &pb::Sample) -> u64 {
    let heap = 8 * (s.location_id.len() + s.value.len()) + 32 * s.label.len() + 48;
    (2 * std::mem::size_of::<pb::Sample>() + heap) as u64
}

/// The length of a group's body up to and including its end-group tag (`b` starts after the start-group tag);
/// `Ok(None)` when `b` ends first. Nesting is bounded as prost bounds it.
fn group_len(b: &[u8], field: u64, depth: u32) -> Result<Option<usize>> {
    if depth >= 100 {
        return Err(malformed("recursion limit reached"));
    }
    let mut rest = b;
    loop {
        let Some(key) = read_varint(&mut rest)? else {
            return Ok(None);
        };
        let len = match key & 7 {
            0 => match read_varint(&mut rest)? {
                Some(_) => 0,
                None => return Ok(None),
            },
            1 => 8,
            5 => 4,
            2 => match read_varint(&mut rest)? {
                Some(n) => usize::try_from(n).map_err(|_| malformed("length out of range"))?,
                None => return Ok(None),
            },
            3 => match group_len(rest, key >> 3, depth + 1)? {
                Some(n) => n,
                None => return Ok(None),
            },
            4 if key >> 3 == field => return Ok(Some(b.len() - rest.len())),
            4 => return Err(malformed("unexpected end group tag")),
            w => return Err(malformed(format!("invalid wire type value: {w}"))),
        };
        if rest.len() < len {
            return Ok(None);
        }
        rest = &rest[len..];
    }
}

/// Reads a varint; `Ok(None)` when `b` ends first (more bytes may come), an error when it is over 10 bytes.
#[inline]
fn read_varint(b: &mut &[u8]) -> Result<Option<u64>> {
    match b.first() {
        None => Ok(None),
        Some(&x) if x < 0x80 => {
            *b = &b[1..];
            Ok(Some(u64::from(x)))
        }
        Some(_) if b.len() >= 10 || b.iter().any(|&x| x < 0x80) => {
            varint_complete(b).map(Some).ok_or_else(|| malformed("invalid varint"))
        }
        Some(_) => Ok(None),
    }
}

/// Reads a varint that must be complete in `b`: `None` when it is truncated or longer than 10 bytes (or its
/// 10th byte is over 1), as prost rejects.
#[inline(always)]
pub(crate) fn varint_complete(b: &mut &[u8]) -> Option<u64> {
    let bytes = *b;
    let mut v = 0u64;
    let mut i = 0;
    loop {
        let byte = *bytes.get(i)?;
        v |= u64::from(byte & 0x7f) << (7 * i);
        i += 1;
        if byte < 0x80 {
            if i == 10 && byte > 1 {
                return None;
            }
            *b = &bytes[i..];
            return Some(v);
        }
        if i == 10 {
            return None;
        }
    }
}

/// Decodes one Sample: the fast path for what every producer writes, else prost.
fn decode_sample(bytes: &[u8]) -> Result<pb::Sample, prost::DecodeError> {
    fast_sample(bytes).map_or_else(|| pb::Sample::decode(bytes), Ok)
}

fn fast_sample(bytes: &[u8]) -> Option<pb::Sample> {
    let mut s = pb::Sample::default();
    let mut b = bytes;
    while !b.is_empty() {
        let key = varint_complete(&mut b)?;
        match (key >> 3, key & 7) {
            (1, 2) => packed(&mut b, &mut s.location_id, |v| v)?,
            (2, 2) => packed(&mut b, &mut s.value, |v| v as i64)?,
            (1, 0) => s.location_id.push(varint_complete(&mut b)?),
            (2, 0) => s.value.push(varint_complete(&mut b)? as i64),
            (3, 2) => {
                let len = usize::try_from(varint_complete(&mut b)?).ok()?;
                let body = b.get(..len)?;
                // A sample has a label or two: grow one at a time (an empty Vec's first push would make room
                // for four, 96 bytes per sample wasted), and normally beyond a few.
                if s.label.len() < 4 {
                    s.label.reserve_exact(1);
                }
                s.label.push(pb::Label::decode(body).ok()?);
                b = &b[len..];
            }
            _ => return None,
        }
    }
    Some(s)
}

/// Appends the packed varints of a length-delimited field to `out`, reserving their exact number first.
#[inline(always)]
fn packed<T>(b: &mut &[u8], out: &mut Vec<T>, conv: impl Fn(u64) -> T) -> Option<()> {
    let len = usize::try_from(varint_complete(b)?).ok()?;
    let mut body = b.get(..len)?;
    *b = &b[len..];
    out.reserve_exact(body.iter().filter(|&&x| x < 0x80).count());
    while !body.is_empty() {
        out.push(conv(varint_complete(&mut body)?));
    }
    Some(())
}

fn gunzip_bounded(data: &[u8], limit: u64) -> Result<Vec<u8>> {
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
                return Err(too_big(limit));
            }
            let want = if filled == 0 {
                data.len().saturating_mul(4).clamp(64 << 10, 256 << 20)
            } else {
                filled
            };
            let grow = want.min(cap - filled);
            out.try_reserve_exact(grow).map_err(|_| {
                Error::new(
                    ErrorKind::Limit,
                    format!("out of memory decompressing {} bytes", filled + grow),
                )
            })?;
            out.resize(filled + grow, 0);
        }
        match reader.read(&mut out[filled..]) {
            Ok(0) => {
                out.truncate(filled);
                return Ok(out);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(malformed(format!("corrupt gzip data: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When a location id over 32 bits sends the samples read for merging back to decoded ones, they are charged
    /// as decoded samples: a bound the flat arrays keep is then enforced for what memory really holds.
    #[test]
    fn samples_decoded_after_a_wide_id_are_charged_as_decoded() {
        let sample = |id: u64| pb::Sample {
            location_id: vec![id],
            value: vec![1],
            label: vec![],
        };
        let mut p = pb::Profile {
            sample_type: vec![pb::ValueType { r#type: 1, unit: 1 }],
            string_table: vec![String::new(), "x".into()],
            location: vec![
                pb::Location {
                    id: 1,
                    ..Default::default()
                },
                pb::Location {
                    id: 1 << 40,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        p.sample = (0..1000).map(|_| sample(1)).collect();
        let narrow = p.encode_to_vec();
        p.sample.push(sample(1 << 40));
        let wide = p.encode_to_vec();
        // 1000 samples: ~30 kB as flat arrays, ~200 kB decoded.
        let opts = LoadOptions {
            max_memory: 100_000,
            ..LoadOptions::default()
        };
        let (pb, raw) = decode_message(&narrow, &opts, true).unwrap();
        assert!(pb.sample.is_empty() && raw.into_samples().len() == 1000);
        let e = decode_message(&wide, &opts, true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
        let (pb, _) = decode_message(&wide, &LoadOptions::default(), true).unwrap();
        assert_eq!(pb.sample.len(), 1001);
    }

    /// The varint reader agrees with prost on every length, with and without bytes after the varint, consumes
    /// nothing of a truncated one, and refuses what prost refuses.
    #[test]
    fn varints_read_as_prost_reads_them() {
        let mut values = vec![0u64, 1, 127, 128, 300, 16_383, 16_384, u64::MAX, u64::MAX - 1];
        for bits in 0..64 {
            values.extend([1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) | 0x55]);
        }
        for v in values {
            let mut enc = Vec::new();
            prost::encoding::encode_varint(v, &mut enc);
            for tail in [&[][..], &[0x80, 0xff, 0x01, 2, 3, 4, 5, 6, 7, 8, 9][..]] {
                let mut buf = enc.clone();
                buf.extend_from_slice(tail);
                let mut b = &buf[..];
                assert_eq!(varint_complete(&mut b), Some(v), "{v} then {} bytes", tail.len());
                assert_eq!(b, tail);
            }
            // Truncated: refused, nothing consumed.
            let short = &enc[..enc.len() - 1];
            let mut b = short;
            assert_eq!(varint_complete(&mut b), None);
            assert_eq!(b, short);
        }
        // Eleven bytes, or a tenth byte over 1: refused by both.
        for bad in [
            [0xffu8; 11].to_vec(),
            [&[0xff; 9][..], &[0x02, 0, 0, 0, 0, 0, 0, 0][..]].concat(),
        ] {
            let mut b = &bad[..];
            assert_eq!(varint_complete(&mut b), None);
            let mut p = &bad[..];
            assert!(prost::encoding::decode_varint(&mut p).is_err());
        }
    }
}
