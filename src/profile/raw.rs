//! Profiles loaded for merging: everything is decoded and validated except the samples, which stay as their encoded
//! bytes in one buffer and are read one at a time into reused vectors. A merge of many large profiles then costs no
//! allocation per sample, and each input takes about its uncompressed size in memory.

use std::path::Path;

use super::decode::{decode_message, read_input, varint_complete};
use super::model::Profile;
use super::{LoadOptions, pb};
use crate::error::{Error, ErrorKind, Result};

/// Samples decoded into flat arrays: sample `i` has locations `locs[loc_end[i-1]..loc_end[i]]`, values and labels
/// likewise. No vector per sample; they are decoded on the thread that loads the profile. Location ids are kept as
/// `u32` (producers number locations from 1): half the memory written here and read again by the merge. A sample
/// with a larger id is refused, and the decoder then keeps every sample decoded instead ([`RawSamples::into_samples`]).
#[derive(Debug, Default)]
pub(crate) struct RawSamples {
    locs: Vec<u32>,
    loc_end: Vec<usize>,
    vals: Vec<i64>,
    val_end: Vec<usize>,
    labels: Vec<pb::Label>,
    label_end: Vec<usize>,
}

impl RawSamples {
    /// Decodes one encoded Sample onto the arrays; `None` (and nothing added) when the bytes are not one.
    pub(crate) fn push_encoded(&mut self, sample: &[u8]) -> Option<()> {
        let (nl, nv, nb) = (self.locs.len(), self.vals.len(), self.labels.len());
        if parse_sample(sample, &mut self.locs, &mut self.vals, &mut self.labels).is_none() {
            self.locs.truncate(nl);
            self.vals.truncate(nv);
            self.labels.truncate(nb);
            return None;
        }
        self.close();
        Some(())
    }

    /// Adds a decoded sample (one the fast reader refused and prost read); gives it back when one of its location
    /// ids does not fit in 32 bits.
    pub(crate) fn push(&mut self, s: pb::Sample) -> std::result::Result<(), pb::Sample> {
        let nl = self.locs.len();
        for &id in &s.location_id {
            let Ok(id) = u32::try_from(id) else {
                self.locs.truncate(nl);
                return Err(s);
            };
            self.locs.push(id);
        }
        self.vals.extend_from_slice(&s.value);
        self.labels.extend(s.label);
        self.close();
        Ok(())
    }

    /// The samples as prost's type, in order.
    pub(crate) fn into_samples(self) -> Vec<pb::Sample> {
        let (mut l0, mut v0, mut b0) = (0, 0, 0);
        let mut labels = self.labels.into_iter();
        (0..self.loc_end.len())
            .map(|i| {
                let (l1, v1, b1) = (self.loc_end[i], self.val_end[i], self.label_end[i]);
                let s = pb::Sample {
                    location_id: self.locs[l0..l1].iter().map(|&id| u64::from(id)).collect(),
                    value: self.vals[v0..v1].to_vec(),
                    label: labels.by_ref().take(b1 - b0).collect(),
                };
                (l0, v0, b0) = (l1, v1, b1);
                s
            })
            .collect()
    }

    /// Room for about `n` location ids, if memory allows (a hint: the arrays grow as needed anyway).
    pub(crate) fn reserve_frames(&mut self, n: usize) {
        let _ = self.locs.try_reserve_exact(n);
    }

    fn close(&mut self) {
        self.loc_end.push(self.locs.len());
        self.val_end.push(self.vals.len());
        self.label_end.push(self.labels.len());
    }

    fn len(&self) -> usize {
        self.loc_end.len()
    }
}

/// A profile ready to be merged: validated, with its samples either decoded in the message or still encoded.
#[derive(Debug)]
pub struct MergeInput {
    profile: Profile,
    raw: RawSamples,
}

/// Loads `path` (`-`: standard input) for merging. A profile.proto message (gzipped or not) keeps its samples
/// encoded; anything else goes through [`super::load`], so every format it reads can be merged.
pub fn load_for_merge(path: &Path, opts: &LoadOptions) -> Result<MergeInput> {
    load_fetched(path, fetch_for_merge(path, opts)?, opts)
}

/// The bytes of a file to merge, read and, when gzipped, inflated whole ([`fetch_for_merge`]).
#[derive(Debug)]
pub struct Fetched {
    name: String,
    data: Vec<u8>,
}

/// Below this size gzip data is left to [`super::decode`]'s reader, which has the same speed there.
const WHOLE_INFLATE_MIN: usize = 64 << 10;

/// Reads `path` (`-`: standard input) and inflates it when it is gzip, with libdeflate, which is faster than the
/// decoder's streaming zlib-rs: the first half of [`load_for_merge`], for a thread of its own. Gzip data libdeflate
/// refuses is kept as it is, for the decoder to read and say what is wrong; output beyond `--max-decompressed`
/// is an error here.
pub fn fetch_for_merge(path: &Path, opts: &LoadOptions) -> Result<Fetched> {
    let (name, data) = read_input(path)?;
    if data.len() < WHOLE_INFLATE_MIN || !data.starts_with(&[0x1f, 0x8b]) {
        return Ok(Fetched { name, data });
    }
    match super::inflate::gunzip(&data, opts.max_decompressed) {
        // An empty stream is left to the decoder too, whose error says so.
        Ok(plain) if !plain.is_empty() => Ok(Fetched { name, data: plain }),
        Err(super::inflate::Failure::TooBig) => Err(super::decode::too_big(opts.max_decompressed).context(name)),
        _ => Ok(Fetched { name, data }),
    }
}

/// `data` (a gzip file of one or more members) inflated whole as [`fetch_for_merge`] does, with libdeflate, into at
/// most `limit` bytes; `None` when libdeflate refuses it or there would be more. (For fuzzing against flate2.)
pub fn gunzip_whole(data: &[u8], limit: u64) -> Option<Vec<u8>> {
    super::inflate::gunzip(data, limit).ok()
}

/// The second half of [`load_for_merge`]: decodes what [`fetch_for_merge`] read from `path`.
pub fn load_fetched(path: &Path, fetched: Fetched, opts: &LoadOptions) -> Result<MergeInput> {
    let Fetched { name, data } = fetched;
    match merge_input_from_bytes(&data, opts) {
        Ok(input) => Ok(input),
        Err(e) if e.kind() == ErrorKind::Format && path.as_os_str() != "-" => {
            drop(data);
            let profile = super::load(path, opts)?;
            Ok(MergeInput {
                profile,
                raw: RawSamples::default(),
            })
        }
        Err(e) => Err(e.context(name)),
    }
}

/// A profile.proto message (gzipped or not) loaded for merging; the error says what is wrong, without a file name.
pub fn merge_input_from_bytes(data: &[u8], opts: &LoadOptions) -> Result<MergeInput> {
    let (pb, raw) = decode_message(data, opts, true)?;
    Ok(MergeInput {
        profile: Profile::new(pb)?,
        raw,
    })
}

impl MergeInput {
    /// A profile whose samples are decoded already.
    pub fn from_profile(profile: Profile) -> MergeInput {
        MergeInput {
            profile,
            raw: RawSamples::default(),
        }
    }

    /// The profile (its samples are empty when they are still encoded).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The profile, to edit its mappings (e.g. [`Profile::set_main_binary`]).
    pub fn profile_mut(&mut self) -> &mut Profile {
        &mut self.profile
    }

    /// The number of samples.
    pub fn sample_count(&self) -> usize {
        self.profile.pb().sample.len() + self.raw.len()
    }

    /// Calls `f` with each sample's location ids, values and labels, in order. Samples read for merging are checked
    /// as validation checks decoded ones (one value per sample type, string indexes in range); their location ids
    /// are checked by the caller, which looks them up.
    pub fn for_each_sample(&self, mut f: impl FnMut(Frames<'_>, &[i64], &[pb::Label]) -> Result<()>) -> Result<()> {
        for s in &self.profile.pb().sample {
            f(Frames::Wide(&s.location_id), &s.value, &s.label)?;
        }
        let ntypes = self.profile.pb().sample_type.len();
        let nstr = self.profile.pb().string_table.len() as i64;
        let r = &self.raw;
        let (mut l0, mut v0, mut b0) = (0, 0, 0);
        for i in 0..r.len() {
            let (l1, v1, b1) = (r.loc_end[i], r.val_end[i], r.label_end[i]);
            let (locs, vals, labels) = (&r.locs[l0..l1], &r.vals[v0..v1], &r.labels[b0..b1]);
            (l0, v0, b0) = (l1, v1, b1);
            if vals.len() != ntypes {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    format!(
                        "malformed profile: mismatch: sample {i} has {} values vs. {ntypes} types",
                        vals.len()
                    ),
                ));
            }
            for l in labels {
                for (what, idx) in [("key", l.key), ("value", l.str), ("unit", l.num_unit)] {
                    if idx < 0 || idx >= nstr {
                        return Err(Error::new(
                            ErrorKind::Invalid,
                            format!(
                                "malformed profile: sample {i} label {what} refers to string {idx}, but the string \
                                 table has {nstr} entries"
                            ),
                        ));
                    }
                }
            }
            f(Frames::Narrow(locs), vals, labels)?;
        }
        Ok(())
    }
}

/// A sample's location ids as they are kept: a decoded profile's (`u64`), or those read for merging (`u32`).
#[derive(Debug, Clone, Copy)]
pub enum Frames<'a> {
    /// As in a decoded profile.
    Wide(&'a [u64]),
    /// As read for merging.
    Narrow(&'a [u32]),
}

impl Frames<'_> {
    /// The number of location ids.
    pub fn len(&self) -> usize {
        match self {
            Frames::Wide(ids) => ids.len(),
            Frames::Narrow(ids) => ids.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The location ids, widened.
    pub fn to_vec(&self) -> Vec<u64> {
        match self {
            Frames::Wide(ids) => ids.to_vec(),
            Frames::Narrow(ids) => ids.iter().map(|&id| u64::from(id)).collect(),
        }
    }
}

/// Decodes one encoded Sample, appending to the three vectors; `None` when the bytes are not a Sample, or a
/// location id does not fit in 32 bits.
fn parse_sample(mut b: &[u8], locs: &mut Vec<u32>, vals: &mut Vec<i64>, labels: &mut Vec<pb::Label>) -> Option<()> {
    while !b.is_empty() {
        let key = varint_complete(&mut b)?;
        match (key >> 3, key & 7) {
            (1, 2) => packed_ids(&mut b, locs)?,
            (2, 2) => packed_into(&mut b, vals, |v| Some(v as i64))?,
            (1, 0) => locs.push(u32::try_from(varint_complete(&mut b)?).ok()?),
            (2, 0) => vals.push(varint_complete(&mut b)? as i64),
            (3, 2) => {
                let body = field(&mut b)?;
                labels.push(parse_label(body)?);
            }
            (_, w) => skip(&mut b, w)?,
        }
    }
    Some(())
}

fn parse_label(mut b: &[u8]) -> Option<pb::Label> {
    let mut l = pb::Label::default();
    while !b.is_empty() {
        let key = varint_complete(&mut b)?;
        match (key >> 3, key & 7) {
            (1, 0) => l.key = varint_complete(&mut b)? as i64,
            (2, 0) => l.str = varint_complete(&mut b)? as i64,
            (3, 0) => l.num = varint_complete(&mut b)? as i64,
            (4, 0) => l.num_unit = varint_complete(&mut b)? as i64,
            (_, w) => skip(&mut b, w)?,
        }
    }
    Some(l)
}

/// A length-delimited field's body.
fn field<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(varint_complete(b)?).ok()?;
    let body = b.get(..len)?;
    *b = &b[len..];
    Some(body)
}

/// Appends the packed varints of a length-delimited field to `out`, room made once.
///
/// Each varint ends at its one byte under 0x80, so counting those bytes gives their number; the values go into the
/// vector's spare room and its length is set once at the end. (Pushing one at a time stores and reloads the length
/// for every value, on the loop's critical path.)
fn packed_into<T>(b: &mut &[u8], out: &mut Vec<T>, conv: impl Fn(u64) -> Option<T>) -> Option<()> {
    let mut body = field(b)?;
    let n = body.iter().filter(|&&x| x < 0x80).count();
    out.reserve(n);
    let len = out.len();
    for slot in &mut out.spare_capacity_mut()[..n] {
        slot.write(conv(varint_complete(&mut body)?)?);
    }
    // Bytes left over are a varint cut short: not a sample.
    if !body.is_empty() {
        return None;
    }
    // SAFETY: the loop wrote all `n` slots after `len` (it returns early otherwise), and `reserve` made room for them.
    unsafe { out.set_len(len + n) };
    Some(())
}

/// Appends the packed location ids of a length-delimited field to `locs`; `None` when one is malformed or over 32
/// bits. The same result as [`packed_into`], found another way: a varint ends at its one byte under 0x80, so the
/// ends of 64 bytes' worth of varints come from one mask of those bytes, and each varint is read from its own start
/// (four bytes loaded, the continuation bits squeezed out), not from where the previous one was found to end. The
/// reads then do not wait on each other, nor on branches that guess each varint's length. Where BMI2's `pext` is
/// fast, it squeezes the bits out in one instruction: the whole load of a 100k-sample profile is 11% faster. With
/// SSSE3 (Intel's x86_64 processors since 2006, AMD's since 2011), [`packed_ids_ssse3`] reads four at a time:
/// on the merge benchmark's 3.4M location ids, 30% less time than with `pext` beyond the cost of reading the fields.
fn packed_ids(b: &mut &[u8], locs: &mut Vec<u32>) -> Option<()> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the processor has SSSE3.
        return unsafe { packed_ids_ssse3(b, locs) };
    }
    #[cfg(target_arch = "x86_64")]
    if fast_pext() {
        // SAFETY: `fast_pext` found BMI2 on this processor.
        return unsafe { packed_ids_bmi2(b, locs) };
    }
    packed_ids_portable(b, locs)
}

/// [`packed_ids`] with SSSE3, four ids per step. The top bits of 16 bytes (one `pmovmskb`) say where the varints of
/// the first 12 end; a table made once gives, from those 12 bits, the byte shuffle that puts each of the first four
/// varints (of one to four bytes each) in a 32-bit lane of its own; four shifts and masks squeeze out the
/// continuation bits of all four lanes at once, and one store writes them. The next step starts after the fourth
/// varint's end, found in the bits (not read from the table, so that a step does not wait on the table's loads of
/// the one before). Steps with fewer varints (a long one, or the field's end) take their count from the table; a
/// varint of five bytes or more is read alone, the plain way. The last bytes of the field are copied into a buffer
/// filled with continuation bytes, which end no varint: the steps there stop at the field's end.
///
/// # Safety
/// The processor must have SSSE3.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn packed_ids_ssse3(b: &mut &[u8], locs: &mut Vec<u32>) -> Option<()> {
    let body = field(b)?;
    // A varint cut short at the end is not a sample (and the padding below must not end it).
    if body.last().is_some_and(|&x| x >= 0x80) {
        return None;
    }
    // At most one id per byte, plus the room a store of four may write past the last id.
    locs.reserve(body.len() + 4);
    let len = locs.len();
    let room = locs.spare_capacity_mut();
    debug_assert!(room.len() >= body.len() + 4);
    let out = room.as_mut_ptr().cast::<u32>();
    let steps = varint_steps();
    let mut n = 0usize;
    let mut pos = 0usize;
    while pos + 16 <= body.len() {
        // SAFETY: SSSE3 is there; 16 bytes of the field from `pos`; room for `n + 4` ids (each id takes a byte of the
        // field at least, and four slots were reserved beyond the field's length).
        pos += unsafe { ssse3_step(body.as_ptr().add(pos), &body[pos..], out, &mut n, steps)? };
    }
    if pos < body.len() {
        let tail = &body[pos..];
        let mut buf = [0x80u8; 32];
        buf[..tail.len()].copy_from_slice(tail);
        let mut at = 0usize;
        while at < tail.len() {
            // SAFETY: as above; `at` is under 16: 16 bytes of the buffer from it.
            at += unsafe { ssse3_step(buf[at..].as_ptr(), &tail[at..], out, &mut n, steps)? };
        }
    }
    // SAFETY: the steps wrote the first `n` slots after `len`, and `reserve` made room for them.
    unsafe { locs.set_len(len + n) };
    Some(())
}

/// One step of [`packed_ids_ssse3`] on the 16 bytes at `at`, whose real bytes (the field's, from there) are `rest`:
/// writes the ids at `out[*n..]` (four slots, whatever their count) and counts them in `n`; returns the bytes they
/// took, `None` for a bad varint.
///
/// # Safety
/// The processor must have SSSE3; 16 bytes must be readable at `at`, and `out` must have room for `*n + 4` ids.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn ssse3_step(at: *const u8, rest: &[u8], out: *mut u32, n: &mut usize, steps: &VarintSteps) -> Option<usize> {
    use std::arch::x86_64::*;
    // SAFETY: the caller's promises.
    unsafe {
        let v = _mm_loadu_si128(at.cast());
        let bits = _mm_movemask_epi8(v) as u32;
        let s = &steps.shapes[usize::from(steps.index[(bits & 0xfff) as usize])];
        let x = _mm_shuffle_epi8(v, _mm_loadu_si128(s.shuffle.as_ptr().cast()));
        let x = _mm_and_si128(x, _mm_set1_epi32(0x7f7f_7f7f));
        let lo = _mm_or_si128(
            _mm_and_si128(x, _mm_set1_epi32(0x7f)),
            _mm_and_si128(_mm_srli_epi32(x, 1), _mm_set1_epi32(0x3f80)),
        );
        let hi = _mm_or_si128(
            _mm_and_si128(_mm_srli_epi32(x, 2), _mm_set1_epi32(0x1f_c000)),
            _mm_and_si128(_mm_srli_epi32(x, 3), _mm_set1_epi32(0xfe0_0000)),
        );
        _mm_storeu_si128(out.add(*n).cast(), _mm_or_si128(lo, hi));
        if s.ids == 4 {
            // After the fourth end, found in the bits rather than read from the table.
            let mut ends = !bits;
            ends &= ends - 1;
            ends &= ends - 1;
            ends &= ends - 1;
            *n += 4;
            Some(ends.trailing_zeros() as usize + 1)
        } else if s.ids == 0 {
            // Five bytes or more: read alone, the plain way.
            let mut r = rest;
            let v = u32::try_from(varint_complete(&mut r)?).ok()?;
            out.add(*n).write(v);
            *n += 1;
            Some(rest.len() - r.len())
        } else {
            *n += usize::from(s.ids);
            Some(usize::from(s.bytes))
        }
    }
}

/// The table of [`packed_ids_ssse3`]: for each 12-bit mask of continuation bits, the shape of the varints it starts
/// with.
#[cfg(target_arch = "x86_64")]
struct VarintSteps {
    /// Shape by mask.
    index: Vec<u16>,
    /// The shapes: up to four varints of one to four bytes each, within 12 bytes (306 of them).
    shapes: Vec<Shape>,
}

/// Up to four varints at the start of 16 bytes: the shuffle that puts varint `j` in bytes `4j..4j+4` (its bytes
/// first, zeros after), how many there are, and how many bytes they take.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Shape {
    shuffle: [u8; 16],
    ids: u8,
    bytes: u8,
}

#[cfg(target_arch = "x86_64")]
fn varint_steps() -> &'static VarintSteps {
    static STEPS: std::sync::OnceLock<VarintSteps> = std::sync::OnceLock::new();
    STEPS.get_or_init(|| {
        let mut shapes: Vec<Shape> = Vec::new();
        let mut by_lengths = std::collections::HashMap::<Vec<u8>, u16>::new();
        let index = (0u32..1 << 12)
            .map(|mask| {
                // Greedily: varints that end within the first 12 bytes, four at most, each of four bytes at most.
                let mut lengths = Vec::new();
                let mut start = 0u32;
                while lengths.len() < 4 {
                    let Some(end) = (start..12).find(|&i| mask & (1 << i) == 0) else {
                        break;
                    };
                    if end - start >= 4 {
                        break;
                    }
                    lengths.push((end - start + 1) as u8);
                    start = end + 1;
                }
                *by_lengths.entry(lengths.clone()).or_insert_with(|| {
                    let mut shuffle = [0x80u8; 16];
                    let mut at = 0u8;
                    for (j, &l) in lengths.iter().enumerate() {
                        for k in 0..l {
                            shuffle[4 * j + usize::from(k)] = at + k;
                        }
                        at += l;
                    }
                    shapes.push(Shape {
                        shuffle,
                        ids: lengths.len() as u8,
                        bytes: at,
                    });
                    (shapes.len() - 1) as u16
                })
            })
            .collect();
        VarintSteps { index, shapes }
    })
}

/// [`packed_ids`] in plain shifts and masks.
fn packed_ids_portable(b: &mut &[u8], locs: &mut Vec<u32>) -> Option<()> {
    packed_ids_with(b, locs, |w, width| {
        let w = w & (u32::MAX >> (32 - 8 * width as u32));
        (w & 0x7f) | ((w >> 1) & 0x3f80) | ((w >> 2) & 0x1f_c000) | ((w >> 3) & 0xfe0_0000)
    })
}

/// [`packed_ids`] with BMI2: `bzhi` keeps the varint's bytes, `pext` gathers their low seven bits.
///
/// # Safety
/// The processor must have BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
unsafe fn packed_ids_bmi2(b: &mut &[u8], locs: &mut Vec<u32>) -> Option<()> {
    use std::arch::x86_64::{_bzhi_u32, _pext_u32};
    packed_ids_with(b, locs, |w, width| {
        _pext_u32(_bzhi_u32(w, 8 * width as u32), 0x7f7f_7f7f)
    })
}

/// Whether this processor has BMI2 with a fast `pext` and `pdep`: every Intel one that has it, and AMD's from Zen 3
/// (family 0x19) on; before that AMD microcodes both, at tens of cycles or more per call, slower than the portable
/// path.
#[cfg(target_arch = "x86_64")]
pub(crate) fn fast_pext() -> bool {
    static FAST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FAST.get_or_init(|| {
        if !std::arch::is_x86_feature_detected!("bmi2") {
            return false;
        }
        // Leaves 0 (vendor) and 1 (family) exist on every x86_64 processor.
        let (vendor, version) = (std::arch::x86_64::__cpuid(0), std::arch::x86_64::__cpuid(1));
        let amd = [vendor.ebx, vendor.edx, vendor.ecx] == [0x6874_7541, 0x6974_6e65, 0x444d_4163]; // "AuthenticAMD"
        let hygon = [vendor.ebx, vendor.edx, vendor.ecx] == [0x6f67_7948, 0x6e65_476e, 0x656e_6975]; // "HygonGenuine"
        let family = ((version.eax >> 8) & 0xf) + ((version.eax >> 20) & 0xff);
        !(hygon || amd && family < 0x19)
    })
}

/// The loop of [`packed_ids`], with `compact(w, width)` giving the value of the `width`-byte varint at the start
/// of the little-endian word `w` (`width` is 1 to 4).
#[inline(always)]
fn packed_ids_with(b: &mut &[u8], locs: &mut Vec<u32>, compact: impl Fn(u32, usize) -> u32) -> Option<()> {
    let body = field(b)?;
    // At most one id per byte; the room is only touched as far as it is used.
    locs.reserve(body.len());
    let len = locs.len();
    let spare = &mut locs.spare_capacity_mut()[..body.len()];
    let (mut n, mut start) = (0usize, 0usize);
    for (c, chunk) in body.chunks(64).enumerate() {
        let mut ends = end_mask(chunk);
        while ends != 0 {
            let end = c * 64 + ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let width = end + 1 - start;
            let v = match body[start..].first_chunk::<4>() {
                Some(w) if width <= 4 => compact(u32::from_le_bytes(*w), width),
                // Near the end of the field, or five bytes and more: read as a varint.
                _ => {
                    let mut one = &body[start..=end];
                    u32::try_from(varint_complete(&mut one)?).ok()?
                }
            };
            spare[n].write(v);
            n += 1;
            start = end + 1;
        }
    }
    // Bytes left over are a varint cut short: not a sample.
    if start != body.len() {
        return None;
    }
    // SAFETY: the loop wrote the first `n` slots after `len`, and `reserve` made room for them.
    unsafe { locs.set_len(len + n) };
    Some(())
}

/// Bit `i` set when `chunk[i]` (up to 64 bytes) ends a varint (is under 0x80). Eight bytes at a time: the top bit of
/// each byte, inverted, gathered into one byte by a multiplication.
#[inline]
fn end_mask(chunk: &[u8]) -> u64 {
    let mut mask = 0u64;
    let mut words = chunk.chunks_exact(8);
    for (k, w) in (&mut words).enumerate() {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let tops = (!w & 0x8080_8080_8080_8080) >> 7;
        mask |= (tops.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    let done = chunk.len() - words.remainder().len();
    for (i, &x) in words.remainder().iter().enumerate() {
        mask |= u64::from(x < 0x80) << (done + i);
    }
    mask
}

/// Skips a field of wire type `wire` (groups are not profile.proto's and are refused).
fn skip(b: &mut &[u8], wire: u64) -> Option<()> {
    match wire {
        0 => varint_complete(b).map(|_| ()),
        1 => b.get(8..).map(|r| *b = r),
        2 => field(b).map(|_| ()),
        5 => b.get(4..).map(|r| *b = r),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn encoded_samples_read_back_as_prost_decodes_them() {
        let samples = vec![
            pb::Sample {
                location_id: vec![1, 2, 300],
                value: vec![-5, 1 << 40],
                label: vec![pb::Label {
                    key: 1,
                    num: 4096,
                    num_unit: 2,
                    ..Default::default()
                }],
            },
            pb::Sample::default(),
        ];
        let (mut locs, mut vals, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for s in &samples {
            locs.clear();
            vals.clear();
            labels.clear();
            parse_sample(&s.encode_to_vec(), &mut locs, &mut vals, &mut labels).unwrap();
            assert_eq!(
                (&Frames::Narrow(&locs).to_vec(), &vals, &labels),
                (&s.location_id, &s.value, &s.label)
            );
        }
        // Unpacked repeated fields and an unknown field are read too; a truncated one is refused.
        let unpacked = [0x08, 0x07, 0x10, 0x03, 0x58, 0x01];
        locs.clear();
        vals.clear();
        labels.clear();
        parse_sample(&unpacked, &mut locs, &mut vals, &mut labels).unwrap();
        assert_eq!((locs.as_slice(), vals.as_slice()), (&[7u32][..], &[3i64][..]));
        let mut raw = RawSamples::default();
        assert!(raw.push_encoded(&[0x0a, 0x05, 0x01]).is_none());
        assert_eq!((raw.len(), raw.locs.len()), (0, 0));
        // A location id over 32 bits is refused, packed or not, by the reader and by `push`, which gives it back.
        let wide = pb::Sample {
            location_id: vec![1, 1 << 32],
            value: vec![1],
            label: vec![],
        };
        assert!(raw.push_encoded(&wide.encode_to_vec()).is_none());
        assert!(raw.push_encoded(&[0x08, 0x80, 0x80, 0x80, 0x80, 0x10]).is_none());
        assert_eq!(raw.push(wide.clone()), Err(wide));
        assert_eq!((raw.len(), raw.locs.len()), (0, 0));
        // What was pushed comes back out as it went in.
        for s in &samples {
            raw.push(s.clone()).unwrap();
        }
        assert_eq!(raw.into_samples(), samples);
    }

    /// The location id reader agrees with the plain varint reader on ids of every width (one to ten bytes, over 32
    /// bits, overlong), on fields of every length around its 64-byte blocks, and on fields cut short.
    #[test]
    fn packed_ids_read_as_varints_do() {
        type ReadIds = fn(&mut &[u8], &mut Vec<u32>) -> Option<()>;
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed >> 11
        };
        let mut read = 0;
        for case in 0..4000 {
            let n = case % 150;
            // Most fields hold ids of up to 32 bits (of every width); one in four, ids of up to 53 bits.
            let least = if case % 4 == 0 { 0 } else { 21 };
            let ids: Vec<u64> = (0..n).map(|_| next() >> (least + next() % (53 - least))).collect();
            let mut body = Vec::new();
            for &id in &ids {
                prost::encoding::encode_varint(id, &mut body);
            }
            if case % 7 == 0 && !body.is_empty() {
                // An overlong varint (a zero continued) where prost reads the same value.
                let at = (next() as usize) % body.len();
                if body[at] < 0x80 && at + 1 < body.len() {
                    body[at] |= 0x80;
                    body.insert(at + 1, 0);
                }
            }
            let mut cuts = vec![body.len()];
            if case % 5 == 0 && !body.is_empty() {
                cuts.push((next() as usize) % body.len());
            }
            for cut in cuts {
                let mut field = Vec::new();
                prost::encoding::encode_varint(cut as u64, &mut field);
                field.extend_from_slice(&body[..cut]);
                let mut want = vec![9u32];
                let w = packed_into(&mut &field[..], &mut want, |v| u32::try_from(v).ok());
                if w.is_some() {
                    read += 1;
                }
                // Both ways of reading them, whichever this processor takes.
                let mut readers: Vec<(&str, ReadIds)> = vec![("portable", packed_ids_portable)];
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("bmi2") {
                    // SAFETY: the processor has BMI2.
                    readers.push(("bmi2", |b, l| unsafe { packed_ids_bmi2(b, l) }));
                }
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("ssse3") {
                    // SAFETY: the processor has SSSE3.
                    readers.push(("ssse3", |b, l| unsafe { packed_ids_ssse3(b, l) }));
                }
                for (how, reader) in readers {
                    let mut got = vec![9u32];
                    let g = reader(&mut &field[..], &mut got);
                    assert_eq!(g, w, "{how}: case {case} cut {cut}");
                    if w.is_some() {
                        assert_eq!(got, want, "{how}: case {case} cut {cut}");
                    }
                }
            }
        }
        assert!(read > 2500, "{read} fields read");
    }

    /// Inputs to merge are inflated whole by libdeflate when they are gzip; what it refuses is left to the decoder,
    /// whose errors stay what they were; too much output is refused at once.
    #[test]
    fn fetching_inflates_or_leaves_the_error_to_the_decoder() {
        use crate::profile::LoadOptions;
        let dir = tempfile::tempdir().unwrap();
        // A real heap profile, made large enough (repeated samples) to be inflated whole.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compare/heap-rate1.t1.pb.gz");
        let mut p = crate::profile::decode_bytes(&std::fs::read(path).unwrap(), &LoadOptions::default())
            .unwrap()
            .pb()
            .clone();
        let samples = p.sample.clone();
        let mut seed = 1u64;
        while p.encoded_len() < 4 << 20 {
            // Values varied, or deflate would take the copies for next to nothing.
            p.sample.extend(samples.iter().map(|s| {
                let mut s = s.clone();
                for v in &mut s.value {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    *v = (seed >> 33) as i64;
                }
                s
            }));
        }
        let plain = p.encode_to_vec();
        let gz = crate::profile::encode_gzip(&p);
        assert!(gz.len() >= WHOLE_INFLATE_MIN);
        let file = |name: &str, data: &[u8]| {
            let f = dir.path().join(name);
            std::fs::write(&f, data).unwrap();
            f
        };
        let opts = LoadOptions::default();
        let good = file("good.pb.gz", &gz);
        assert_eq!(fetch_for_merge(&good, &opts).unwrap().data, plain);
        let input = load_for_merge(&good, &opts).unwrap();
        assert_eq!(input.sample_count(), p.sample.len());
        // Cut short: kept as it is, and the decoder's reader says what is wrong.
        let cut = file("cut.pb.gz", &gz[..gz.len() / 2]);
        assert_eq!(fetch_for_merge(&cut, &opts).unwrap().data, &gz[..gz.len() / 2]);
        let e = load_for_merge(&cut, &opts).unwrap_err();
        assert!(e.to_string().contains("corrupt gzip data"), "{e}");
        // Over the limit: refused here, with the decoder's words.
        let small = LoadOptions {
            max_decompressed: plain.len() as u64 - 1,
            ..LoadOptions::default()
        };
        let e = fetch_for_merge(&good, &small).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Limit);
        assert!(e.to_string().contains("decompressed size exceeds the limit"), "{e}");
    }

    /// A location id over 32 bits (hand-made: no producer numbers locations so) sends every sample of the input,
    /// before and after it, the decoded way; the merge is the one of the fully decoded profile.
    #[test]
    fn a_wide_location_id_is_merged_as_decoded() {
        use crate::profile::ops::{AddOptions, Merger};
        use crate::profile::{LoadOptions, decode_bytes};
        let wide = 1u64 << 33;
        let sample = |ids: &[u64], v: i64| pb::Sample {
            location_id: ids.to_vec(),
            value: vec![v],
            label: vec![],
        };
        let p = pb::Profile {
            sample_type: vec![pb::ValueType { r#type: 1, unit: 2 }],
            sample: vec![
                sample(&[1, 2], 5),
                sample(&[wide, 1], 7),
                sample(&[2], 11),
                sample(&[1, 2], 13),
            ],
            location: [1, 2, wide]
                .iter()
                .map(|&id| pb::Location {
                    id,
                    address: 0x1000 + id % 1000,
                    ..Default::default()
                })
                .collect(),
            string_table: vec![String::new(), "space".into(), "bytes".into()],
            ..Default::default()
        };
        let bytes = p.encode_to_vec();
        let opts = LoadOptions::default();
        let input = merge_input_from_bytes(&bytes, &opts).unwrap();
        assert_eq!(input.profile().pb().sample.len(), 4);
        assert_eq!(input.raw.len(), 0);
        let mut fast = Merger::new();
        fast.add_input(&input, "in", &AddOptions::default()).unwrap();
        let mut full = Merger::new();
        full.add(&decode_bytes(&bytes, &opts).unwrap(), "in", &AddOptions::default())
            .unwrap();
        let (fast, full) = (fast.finish().unwrap(), full.finish().unwrap());
        assert_eq!(fast.pb(), full.pb());
        assert_eq!(fast.pb().sample.len(), 3);
    }
}
