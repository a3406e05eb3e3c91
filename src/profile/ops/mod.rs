//! Operations from profiles to a profile, with `go tool pprof`'s semantics: merging several profiles
//! ([`combine`], [`Merger`]), subtracting a base ([`subtract`], pprof's `-base` and `-diff_base`), normalizing
//! ([`normalize`]), and the whole driver step of `pprof [flags] SOURCES -base BASES` ([`compare`]).
//!
//! Several bases are merged with each other first and then subtracted, which is what pprof's driver does with a list
//! of bases (its flag parser keeps only the last `-base=` given, so with `go tool pprof` the list has one entry).

mod catalog;
mod encode;
mod merge;
mod samples;
pub(crate) mod table;

pub use merge::{AddOptions, Encoded, Merger, common_sample_types, merge_pipelined};

use crate::error::{Error, ErrorKind, Result};
use crate::profile::{Profile, pb};

/// The label pprof puts on the samples of a `-diff_base` profile; its samples never combine with the new
/// profile's, and the report total is theirs.
pub const DIFF_BASE_LABEL: &str = "pprof::base";

/// A profile and the name its errors use (the file it came from).
#[derive(Debug, Clone)]
pub struct Named {
    /// File name (or any label) for messages.
    pub name: String,
    /// The profile.
    pub profile: Profile,
}

impl Named {
    /// `profile`, called `name`.
    pub fn new(name: impl Into<String>, profile: Profile) -> Named {
        Named {
            name: name.into(),
            profile,
        }
    }
}

/// How a base profile is subtracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BaseMode {
    /// pprof's `-base`: the base's samples are negated and merged, so equal stacks with equal labels cancel; the
    /// report total is Σ|value| of the difference.
    #[default]
    Base,
    /// pprof's `-diff_base`: the same, but the base's samples carry the label `pprof::base=true`, so they never
    /// combine with the new profile's, and reports take the base's total as 100%.
    DiffBase,
}

/// pprof's `combineProfiles`: the profiles merged into one (common sample types, finest units, see [`Merger`]). A
/// single profile comes back unchanged, as in pprof (no compaction).
pub fn combine(profiles: Vec<Named>) -> Result<Named> {
    let mut profiles = profiles;
    match profiles.len() {
        0 => Err(Error::new(ErrorKind::Usage, "no profiles to merge")),
        1 => Ok(profiles.remove(0)),
        _ => {
            let common = common_types(&profiles.iter().collect::<Vec<_>>())?;
            let mut m = Merger::with_types(common);
            let mut names = Vec::with_capacity(profiles.len());
            for n in profiles {
                m.add(&n.profile, &n.name, &AddOptions::default())?;
                names.push(n.name);
            }
            Ok(Named::new(names.join(" + "), m.finish()?))
        }
    }
}

/// The sample types common to `profiles`; none is pprof's error, here naming every profile and its types.
fn common_types(profiles: &[&Named]) -> Result<Vec<String>> {
    let common = common_sample_types(profiles.iter().map(|n| &n.profile));
    if !common.is_empty() {
        return Ok(common);
    }
    let each: Vec<String> = profiles
        .iter()
        .map(|n| {
            let types: Vec<String> = n
                .profile
                .pb()
                .sample_type
                .iter()
                .map(|t| format!("{}/{}", n.profile.str(t.r#type), n.profile.str(t.unit)))
                .collect();
            format!("{} has [{}]", n.name, types.join(" "))
        })
        .collect();
    Err(Error::new(
        ErrorKind::Usage,
        format!("profiles have empty common sample type list: {}", each.join(", ")),
    ))
}

/// pprof's `Normalize`: every value of `p` multiplied, per sample type, by (base total / `p`'s total), rounded;
/// samples left all zero are dropped. The two must have the same sample and period types.
pub fn normalize(p: &Profile, base: &Profile) -> Result<Profile> {
    let vt = |q: &Profile, t: &pb::ValueType| (q.str(t.r#type).to_string(), q.str(t.unit).to_string());
    let types = |q: &Profile| q.pb().sample_type.iter().map(|t| vt(q, t)).collect::<Vec<_>>();
    let period = |q: &Profile| q.pb().period_type.as_ref().map(|t| vt(q, t)).unwrap_or_default();
    if types(p) != types(base) || period(p) != period(base) {
        return Err(Error::new(
            ErrorKind::Usage,
            "cannot normalize: the profile and its base have different sample or period types",
        ));
    }
    let totals = |q: &Profile| {
        let mut t = vec![0i64; q.pb().sample_type.len()];
        for s in &q.pb().sample {
            for (a, v) in t.iter_mut().zip(&s.value) {
                *a = a.wrapping_add(*v);
            }
        }
        t
    };
    let (src, dst) = (totals(p), totals(base));
    let ratios: Vec<f64> = src
        .iter()
        .zip(&dst)
        .map(|(s, b)| if *s == 0 { 0.0 } else { *b as f64 / *s as f64 })
        .collect();
    Profile::new(scale_values(p.pb().clone(), &ratios))
}

/// pprof's `ScaleN`: values multiplied per sample type and rounded; when some ratio is not 1, samples whose scaled
/// values are all zero are dropped.
pub fn scale_values(mut p: pb::Profile, ratios: &[f64]) -> pb::Profile {
    if ratios.iter().all(|r| *r == 1.0) {
        return p;
    }
    p.sample.retain_mut(|s| {
        let mut keep = false;
        for (v, r) in s.value.iter_mut().zip(ratios) {
            if *r != 1.0 {
                *v = (*v as f64 * r).round() as i64;
                keep |= *v != 0;
            }
        }
        keep
    });
    p
}

/// Options of [`compare`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareOptions {
    /// How the bases are subtracted.
    pub mode: BaseMode,
    /// Scale the sources so each sample type's total equals the base's before subtracting (pprof's `-normalize`).
    pub normalize: bool,
}

/// What `go tool pprof` computes from its sources and bases: the sources merged ([`combine`]), the bases merged,
/// then the bases subtracted ([`subtract`]). Without bases this is [`combine`].
pub fn compare(sources: Vec<Named>, bases: Vec<Named>, opts: CompareOptions) -> Result<Named> {
    let new = combine(sources)?;
    if bases.is_empty() {
        if opts.normalize {
            return Err(Error::new(ErrorKind::Usage, "must have a base profile to normalize by"));
        }
        return Ok(new);
    }
    let base = combine(bases)?;
    subtract(new, base, opts)
}

/// `new` minus `base` (pprof's `-base` or `-diff_base`, see [`BaseMode`]): the base's values negated and merged with
/// `new`'s. Stacks that cancel exactly disappear.
pub fn subtract(new: Named, base: Named, opts: CompareOptions) -> Result<Named> {
    let mut new = new;
    if opts.normalize {
        new.profile = normalize(&new.profile, &base.profile).map_err(|e| e.context(&new.name))?;
    }
    let base_name = base.name;
    let base_named = Named::new(format!("{base_name} (base)"), base.profile);
    let common = common_types(&[&new, &base_named])?;
    let mut m = Merger::with_types(common);
    m.add(&new.profile, &new.name, &AddOptions::default())?;
    let add = AddOptions {
        negate: true,
        label: (opts.mode == BaseMode::DiffBase).then(|| (DIFF_BASE_LABEL.to_string(), "true".to_string())),
    };
    m.add(&base_named.profile, &base_named.name, &add)?;
    Ok(Named::new(format!("{} - {base_name}", new.name), m.finish()?))
}
