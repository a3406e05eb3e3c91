//! Writing profiles: protobuf encoding, gzip, and an atomic replace of the output file.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use prost::Message;

use super::pb;

/// Encodes `p` as a gzipped profile.proto, as `go tool pprof` and the Go runtime write profiles.
pub fn encode_gzip(p: &pb::Profile) -> Vec<u8> {
    gzip(&p.encode_to_vec())
}

/// The deflate level of everything we write. Level 4 of zlib-rs gives files no larger than Go's default level
/// (what `go tool pprof -proto` writes), with less work than zlib's default (6): on the merge benchmark's outputs
/// 5,019,284 bytes against pprof's 5,042,491, and 40,835,256 against 41,001,671 (scripts/bench-merge.sh prints
/// both). Tested on the pprof-written goldens.
const LEVEL: u32 = 4;

/// The gzip header flate2's encoder writes at our level: no flags, no time, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Raw bytes per deflate task of [`gzip`].
const GZIP_CHUNK: usize = 1 << 20;

/// Deflate's window: each chunk after the first is primed with this much of the previous one, so splitting costs
/// almost nothing in size.
const DEFLATE_WINDOW: usize = 32 * 1024;

/// `data` as one gzip member, at [`LEVEL`]. Inputs of several megabytes are deflated in 1 MiB chunks on
/// the rayon pool, as pigz does: each chunk but the last ends with a sync flush (a byte-aligned, non-final block),
/// so the chunks join into one deflate stream, and each is primed with the 32 KiB before it. The result is an
/// ordinary single-member gzip file that every reader accepts.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut pieces = gzip_pieces(&[data]);
    // Deflated on one thread, it is one piece already: no copy.
    match pieces.len() {
        1 => pieces.pop().unwrap_or_default(),
        _ => pieces.concat(),
    }
}

/// [`gzip`] of the concatenation of `pieces`, given back in pieces too (to be written one after the other): a large
/// message is then never copied into one buffer, before or after deflating.
pub fn gzip_pieces(pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    if len < 3 * GZIP_CHUNK || rayon::current_num_threads() < 2 {
        return vec![gzip_serial(pieces)];
    }
    gzip_parallel(pieces).unwrap_or_else(|| vec![gzip_serial(pieces)])
}

/// [`gzip_pieces`] in chunks on the rayon pool; `None` if the compressor reports an error. Chunks do not cross
/// pieces; a chunk is primed with (up to 32 KiB of) the end of the chunk before it, the bytes just before it.
fn gzip_parallel(pieces: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
    use rayon::prelude::*;
    let chunks = gzip_chunks(pieces);
    let mut parts: Vec<Vec<u8>> = (0..chunks.len())
        .into_par_iter()
        .map(|i| deflate_part(&chunks, i))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(parts.len() + 2);
    out.push(GZIP_HEADER.to_vec());
    out.append(&mut parts);
    out.push(gzip_trailer(pieces).to_vec());
    Some(out)
}

/// The chunks `pieces` are deflated in, in order: [`GZIP_CHUNK`] bytes at most, none crossing two pieces.
fn gzip_chunks<'a>(pieces: &[&'a [u8]]) -> Vec<&'a [u8]> {
    pieces.iter().flat_map(|p| p.chunks(GZIP_CHUNK)).collect()
}

/// Chunk `i` of `chunks` as raw deflate data, primed with the chunk before it; the last one ends the stream.
fn deflate_part(chunks: &[&[u8]], i: usize) -> Option<Vec<u8>> {
    deflate_chunk(chunks[i], i.checked_sub(1).map(|p| chunks[p]), i + 1 == chunks.len())
}

/// The gzip trailer of the concatenation of `pieces`: its CRC-32 and its length modulo 2^32 (ISIZE).
fn gzip_trailer(pieces: &[&[u8]]) -> [u8; 8] {
    let mut crc = flate2::Crc::new();
    let mut len = 0usize;
    for p in pieces {
        crc.update(p);
        len += p.len();
    }
    let mut trailer = [0; 8];
    trailer[..4].copy_from_slice(&crc.sum().to_le_bytes());
    trailer[4..].copy_from_slice(&(len as u32).to_le_bytes());
    trailer
}

/// [`gzip_pieces`] on one thread.
fn gzip_serial(pieces: &[&[u8]]) -> Vec<u8> {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    let mut enc = GzEncoder::new(Vec::with_capacity(len / 3 + 64), Compression::new(LEVEL));
    for p in pieces {
        enc.write_all(p).expect("writing to a Vec cannot fail");
    }
    enc.finish().expect("writing to a Vec cannot fail")
}

/// One chunk of [`gzip`] as raw deflate data: primed with the end of `prev`, ended by a sync flush, or by the final
/// block when `last`. `None` if the compressor reports an error.
fn deflate_chunk(chunk: &[u8], prev: Option<&[u8]>, last: bool) -> Option<Vec<u8>> {
    use flate2::{Compress, FlushCompress, Status};
    let mut z = Compress::new(Compression::new(LEVEL), false);
    if let Some(p) = prev {
        z.set_dictionary(&p[p.len().saturating_sub(DEFLATE_WINDOW)..]).ok()?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(chunk.len() / 3 + 1024);
    let mut input = chunk;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(chunk.len() / 8 + 1024);
        }
        let before = z.total_in();
        let status = z.compress_vec(input, &mut out, flush).ok()?;
        input = &input[usize::try_from(z.total_in() - before).ok()?..];
        let done = match status {
            Status::StreamEnd => true,
            // A flush is complete when it returns with output space to spare.
            Status::Ok | Status::BufError => !last && input.is_empty() && out.len() < out.capacity(),
        };
        if done {
            return Some(out);
        }
    }
}

/// Writes `bytes` to `path` without ever leaving a half-written file there: the data goes to a temporary file in
/// the same directory, which is synced and then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_pieces(path, &[bytes])
}

/// [`write_atomic`] of the concatenation of `pieces`.
pub fn write_atomic_pieces<B: AsRef<[u8]>>(path: &Path, pieces: &[B]) -> std::io::Result<()> {
    write_atomic_with(path, |f| {
        for p in pieces {
            f.write_all(p.as_ref())?;
        }
        Ok(())
    })
}

/// Writes [`gzip_pieces`] of `pieces` to `path` as [`write_atomic`] does (the same bytes), while they are made:
/// threads of their own deflate the chunks, taking them in order, and this one computes the checksum meanwhile and
/// then writes each part as soon as those before it are written. The file is mostly written when the last chunk is
/// deflated.
pub fn write_gzip_atomic(path: &Path, pieces: &[&[u8]]) -> std::io::Result<()> {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    let threads = rayon::current_num_threads();
    if len < 3 * GZIP_CHUNK || threads < 2 {
        return write_atomic(path, &gzip_serial(pieces));
    }
    write_atomic_with(path, |f| {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let chunks = gzip_chunks(pieces);
        let next = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Option<Vec<u8>>)>();
        let written = std::thread::scope(|s| {
            for _ in 0..threads {
                let (tx, chunks, next) = (tx.clone(), &chunks, &next);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= chunks.len() {
                            return;
                        }
                        let part = deflate_part(chunks, i);
                        let failed = part.is_none();
                        // Stop at the first failure (or when the writer is gone): the file is then written again.
                        if tx.send((i, part)).is_err() || failed {
                            next.store(chunks.len(), Ordering::Relaxed);
                            return;
                        }
                    }
                });
            }
            drop(tx);
            let trailer = gzip_trailer(pieces);
            f.write_all(&GZIP_HEADER)?;
            let mut waiting = std::collections::BTreeMap::new();
            let mut done = 0;
            for (i, part) in rx {
                let Some(part) = part else { return Ok(false) };
                waiting.insert(i, part);
                while let Some(part) = waiting.remove(&done) {
                    f.write_all(&part)?;
                    done += 1;
                }
            }
            if done != chunks.len() {
                return Ok(false);
            }
            f.write_all(&trailer)?;
            Ok::<_, std::io::Error>(true)
        })?;
        if !written {
            // The compressor reported an error on a chunk: the whole on one thread.
            use std::io::Seek;
            f.set_len(0)?;
            f.rewind()?;
            f.write_all(&gzip_serial(pieces))?;
        }
        Ok(())
    })
}

/// Runs `write` on a new temporary file in the directory of `path`, syncs it and renames it over `path`; on an
/// error, removes it.
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    /// Several chunks of text that compresses like a profile (repeats within and across chunks), and a length that
    /// is not a multiple of the chunk size.
    fn sample(len: usize) -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(format!("fn_{} line {} ", x % 5000, x % 97).as_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn parallel_gzip_is_one_member_that_decodes_to_the_input() {
        let data = sample(3 * super::GZIP_CHUNK + 12345);
        let gz = super::gzip_parallel(&[&data]).unwrap().concat();
        // `GzDecoder` reads one member only: a multi-member file would come back short.
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data);
        // Priming each chunk with the previous window keeps the size within 1% of one serial stream.
        let serial = super::gzip_serial(&[&data]);
        assert!(gz.len() * 100 <= serial.len() * 101, "{} vs {}", gz.len(), serial.len());
        // Small inputs take the serial path and give the same bytes.
        let small = sample(1000);
        assert_eq!(super::gzip(&small), super::gzip_serial(&[&small]));
    }

    /// Deflated in pieces (as `merge` hands its message over: one for the catalog, several for the samples), the
    /// result is still one member that decodes to the pieces joined, whatever their sizes: empty, shorter than the
    /// window, not a multiple of the chunk, several chunks.
    #[test]
    fn gzip_of_pieces_is_one_member_of_them_joined() {
        let data = sample(5 * super::GZIP_CHUNK + 777);
        let cuts = [
            0,
            0,
            1000,
            1000 + 40_000,
            2 * super::GZIP_CHUNK + 5,
            4 * super::GZIP_CHUNK,
            data.len(),
        ];
        let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect();
        assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), data.len());
        let gz = super::gzip_pieces(&pieces);
        if rayon::current_num_threads() >= 2 {
            assert!(gz.len() > 3, "deflated on the pool, in parts");
        }
        let gz = gz.concat();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert!(back == data, "{} bytes back of {}", back.len(), data.len());
        let whole = super::gzip(&data);
        assert!(gz.len() * 100 <= whole.len() * 101, "{} vs {}", gz.len(), whole.len());
        // And written as pieces, the file holds them joined.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.gz");
        super::write_atomic_pieces(&out, &[&gz[..3], &gz[3..]]).unwrap();
        assert!(std::fs::read(&out).unwrap() == gz);
        // Deflated while written, the file holds the same bytes; so it does when small enough for one thread.
        super::write_gzip_atomic(&out, &pieces).unwrap();
        assert!(std::fs::read(&out).unwrap() == gz);
        let small = [&data[..1000], &data[1000..50_000]];
        super::write_gzip_atomic(&out, &small).unwrap();
        assert!(std::fs::read(&out).unwrap() == super::gzip_pieces(&small).concat());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    /// Our level gives files no larger than the Go default level that `go tool pprof -proto` writes, on the
    /// profiles pprof wrote for the goldens (so a symbolized or merged profile is never bigger than pprof's).
    #[test]
    fn our_gzip_is_no_larger_than_pprofs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compare/goldens");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".pb.gz") {
                continue;
            }
            let theirs = std::fs::read(&path).unwrap();
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(&theirs[..]).read_to_end(&mut raw).unwrap();
            let ours = super::gzip(&raw);
            assert!(
                ours.len() <= theirs.len(),
                "{}: {} > {}",
                path.display(),
                ours.len(),
                theirs.len()
            );
            seen += 1;
        }
        assert!(seen >= 5, "{seen} goldens");
    }
}
