//! pprof's `profile.Merge`, with the sample-type and unit reconciliation its driver does first
//! (`CompatibilizeSampleTypes`, `ScaleProfiles`), as one engine that takes the profiles one at a time.
//!
//! What it computes, as pprof does:
//! - Sample types: those present in every profile, by name, in the first profile's order; each in the finest unit
//!   any profile uses (values of coarser profiles are multiplied up). None in common is an error, as are units of
//!   different kinds (bytes and seconds) and different period types.
//! - Header: period = the largest, duration = the sum, time = pprof's "earliest" (a zero time coming after a
//!   non-zero one wins, see [`Merger::add`]), comments deduplicated in order, default sample type and doc URL from
//!   the first profile that has one, drop/keep frames from the first profile.
//! - Mappings keyed by (size rounded up to 4 KiB, file offset, build ID or else file name); the first profile's
//!   first mapping comes first; a later profile's addresses are moved by the difference of the starts.
//! - Functions keyed by (name, system name, file, start line); locations by (mapping, address − mapping start,
//!   lines, folded flag); samples by (locations, string labels, numeric labels with units). Values add up; a sample
//!   whose values are all zero is skipped, and if sums cancel to zero the result is compacted (merged again alone),
//!   so ids are numbered in order of first use exactly as pprof numbers them.
//!
//! Memory is the merged result plus one input at a time: every table holds merged ids only, keyed by hashes into
//! the merged arrays ([`super::table::HashIndex`]). The catalog ([`super::catalog`]: header, strings, mappings,
//! functions, locations) turns an input's samples into merged ids, a small batch at a time, and the sample table
//! ([`super::samples`]) adds each batch up; [`merge_pipelined`] runs the two on separate threads, and reads and
//! decodes the next inputs meanwhile on two more.

use std::sync::mpsc::sync_channel;

use super::catalog::Catalog;
use super::samples::{Batch, SampleTable};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::{Frames, MergeInput, Profile};

/// Merges profiles; see the module docs. Feed it with [`Merger::add`], get the result from [`Merger::finish`];
/// [`merge_pipelined`] runs the same steps in four stages on their own threads.
#[derive(Debug)]
pub struct Merger {
    pub(super) catalog: Catalog,
    table: SampleTable,
}

/// A merged profile as profile.proto bytes, with its counts.
#[derive(Debug)]
pub struct Encoded {
    /// The message, not compressed, in pieces to be written one after the other (a large one is never copied
    /// into one buffer).
    pub pieces: Vec<Vec<u8>>,
    /// Samples in it.
    pub samples: usize,
    /// Locations.
    pub locations: usize,
    /// Functions.
    pub functions: usize,
    /// Mappings.
    pub mappings: usize,
}

/// How one input is added.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Multiply every value by -1 (pprof's `Scale(-1)` of a base).
    pub negate: bool,
    /// A string label set on every sample, replacing that key's values (pprof's `SetLabel`), e.g.
    /// `pprof::base=true`.
    pub label: Option<(String, String)>,
}

impl Default for Merger {
    fn default() -> Self {
        Merger::new()
    }
}

impl Merger {
    /// An empty merger; sample types are reconciled as profiles come.
    pub fn new() -> Merger {
        Merger {
            catalog: Catalog::new(None),
            table: SampleTable::default(),
        }
    }

    /// A merger that keeps only the sample types named `common` (pprof's common sample types, computed over all
    /// the inputs beforehand; see [`common_sample_types`]).
    pub fn with_types(common: Vec<String>) -> Merger {
        Merger {
            catalog: Catalog::new(Some(common)),
            table: SampleTable::default(),
        }
    }

    /// The number of merged samples so far.
    pub fn sample_count(&self) -> usize {
        self.table.count()
    }

    /// Adds `p` (named `name` in errors). After an error the merger holds part of `p`; it is not to be used
    /// further.
    pub fn add(&mut self, p: &Profile, name: &str, opts: &AddOptions) -> Result<()> {
        let table = &mut self.table;
        self.catalog
            .translate(p, name, opts, &mut |b| table.absorb_and_clear(b), |f| {
                for s in &p.pb().sample {
                    f(Frames::Wide(&s.location_id), &s.value, &s.label)?;
                }
                Ok(())
            })
    }

    /// [`Merger::add`] for a profile loaded for merging, whose samples may still be encoded.
    pub fn add_input(&mut self, input: &MergeInput, name: &str, opts: &AddOptions) -> Result<()> {
        let table = &mut self.table;
        self.catalog
            .translate(input.profile(), name, opts, &mut |b| table.absorb_and_clear(b), |f| {
                input.for_each_sample(f)
            })
    }

    /// The merged profile, compacted if some sums cancelled to zero.
    pub fn finish(self) -> Result<Profile> {
        if !self.catalog.started {
            return Err(Error::new(ErrorKind::Usage, "no profiles to merge"));
        }
        let has_zero = self.table.has_zero();
        let samples = self.table.to_samples();
        let p = Profile::new(self.catalog.into_pb(samples))?;
        if !has_zero {
            return Ok(p);
        }
        // pprof merges the result again, alone: zero samples go, and what only they used.
        let mut m = Merger::new();
        m.add(&p, "merged profile", &AddOptions::default())?;
        let samples = m.table.to_samples();
        Profile::new(m.catalog.into_pb(samples))
    }

    /// The merged profile as profile.proto bytes (not compressed), written straight from the merge's arrays: the
    /// same profile as [`Merger::finish`] gives, without a vector per sample (for writing large merges).
    pub fn finish_encoded(self) -> Result<Encoded> {
        use prost::Message;
        if !self.catalog.started || self.table.has_zero() {
            // Compaction (or the error) goes the ordinary way.
            let p = self.finish()?;
            let pb = p.pb();
            return Ok(Encoded {
                pieces: vec![pb.encode_to_vec()],
                samples: pb.sample.len(),
                locations: pb.location.len(),
                functions: pb.function.len(),
                mappings: pb.mapping.len(),
            });
        }
        let Merger { catalog, table: t } = self;
        let (n, locations, functions, mappings) = (
            t.count(),
            catalog.locations.len(),
            catalog.functions.len(),
            catalog.mappings.len(),
        );
        let samples = super::encode::SampleArrays {
            locs: &t.locs,
            loc_end: &t.loc_end,
            lbls: &t.lbls,
            lbl_end: &t.lbl_end,
            vals: &t.vals,
            ncols: t.ncols.unwrap_or(0),
        };
        // The tables beside the samples, on the other thread.
        let (head, samples) = rayon::join(|| catalog.into_pb(Vec::new()).encode_to_vec(), || samples.encode());
        let mut pieces = vec![head];
        pieces.extend(samples);
        Ok(Encoded {
            pieces,
            samples: n,
            locations,
            functions,
            mappings,
        })
    }
}

/// Merges `n` inputs in order, as [`Merger::add_input`] would one after the other, in four stages on their own
/// threads: `fetch(i)` reads input `i` (and inflates it) on one, `load(i, fetched)` decodes it (name and profile)
/// on another, the catalog translates it into merged ids on this one, and the sample table adds them up on a
/// fourth, a batch of 1024 samples at a time; the batches go back and forth, so their memory is touched once.
/// Merged inputs go back to the decoding thread, which frees them where they were allocated (glibc frees another
/// thread's block under its arena's lock): 4% less CPU time. Memory holds the result and a few inputs in flight.
pub fn merge_pipelined<T, F, L>(n: usize, fetch: F, load: L) -> Result<Merger>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync,
    L: Fn(usize, T) -> Result<(String, MergeInput)> + Sync,
{
    let (tx_fetched, rx_fetched) = sync_channel::<Result<T>>(1);
    let (tx_in, rx_in) = sync_channel::<Result<(String, MergeInput)>>(1);
    let (tx_spent, rx_spent) = std::sync::mpsc::channel::<MergeInput>();
    std::thread::scope(|s| {
        let (fetch, load) = (&fetch, &load);
        // Each stage stops at an error, after passing it on, or when the next stage is gone (merging failed).
        s.spawn(move || {
            for i in 0..n {
                let r = fetch(i);
                let stop = r.is_err();
                if tx_fetched.send(r).is_err() || stop {
                    return;
                }
            }
        });
        s.spawn(move || {
            for (i, f) in rx_fetched.into_iter().enumerate() {
                // Inputs merged already are freed here, where they were allocated.
                while let Ok(spent) = rx_spent.try_recv() {
                    drop(spent);
                }
                let r = f.and_then(|f| load(i, f));
                let stop = r.is_err();
                if tx_in.send(r).is_err() || stop {
                    return;
                }
            }
        });
        // The sample table on a thread of its own, a batch at a time; the batches come back emptied, to be
        // filled again while their arrays are in memory.
        let (tx_batch, rx_batch) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        let (tx_empty, rx_empty) = std::sync::mpsc::channel::<Batch>();
        let table = s.spawn(move || {
            let mut t = SampleTable::default();
            for b in rx_batch {
                // The catalog may be done: then the batch is not needed back.
                let _ = tx_empty.send(t.absorb_and_clear(b));
            }
            t
        });
        let mut catalog = Catalog::new(None);
        let mut sink = move |b: Batch| {
            // A send fails only when the table's thread is gone: it panicked, and the join below says so.
            let _ = tx_batch.send(b);
            rx_empty.try_recv().unwrap_or_else(|_| Batch::new())
        };
        let mut failed = None;
        for r in rx_in {
            if let Err(e) = r.and_then(|(name, input)| {
                catalog.translate(input.profile(), &name, &AddOptions::default(), &mut sink, |f| {
                    input.for_each_sample(f)
                })?;
                // The decoding thread may be done: then it is freed here.
                let _ = tx_spent.send(input);
                Ok(())
            }) {
                failed = Some(e);
                break;
            }
        }
        drop(sink);
        let table = table.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        match failed {
            Some(e) => Err(e),
            None => Ok(Merger { catalog, table }),
        }
    })
}

/// Batches of samples on their way from the catalog to the sample table in [`merge_pipelined`], at most.
const BATCHES_IN_FLIGHT: usize = 4;

/// pprof's common sample types: the type names present in every profile, in the first profile's order.
pub fn common_sample_types<'a>(profiles: impl IntoIterator<Item = &'a Profile>) -> Vec<String> {
    let mut it = profiles.into_iter();
    let Some(first) = it.next() else {
        return Vec::new();
    };
    let mut common: Vec<String> = first.sample_type_names().iter().map(|s| s.to_string()).collect();
    for p in it {
        let names = p.sample_type_names();
        common.retain(|t| names.contains(&t.as_str()));
    }
    common
}
