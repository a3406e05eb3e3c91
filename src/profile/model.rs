//! The indexed, read-only view of a profile that every report uses.

use std::collections::HashMap;

use super::pb;
use super::validate::{Indices, validate};

/// Maps a non-zero id to its position in a repeated field: a dense table when ids are small (the common case:
/// producers number from 1), a hash map otherwise.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
}

const ABSENT: u32 = u32::MAX;

impl IdIndex {
    /// Indexes `ids` (in field order); fails on id 0 or a repeated id, naming `kind`.
    pub fn build(kind: &str, ids: impl ExactSizeIterator<Item = u64>) -> Result<IdIndex, String> {
        let n = ids.len();
        let mut idx = IdIndex::default();
        let dense_limit = (n as u64).saturating_mul(2).saturating_add(64);
        for (pos, id) in ids.enumerate() {
            if id == 0 {
                return Err(format!("found {kind} with reserved ID=0"));
            }
            let fresh = if id <= dense_limit {
                let i = id as usize;
                if idx.dense.len() <= i {
                    idx.dense.resize(i + 1, ABSENT);
                }
                std::mem::replace(&mut idx.dense[i], pos as u32) == ABSENT
            } else {
                idx.sparse.insert(id, pos as u32).is_none()
            };
            if !fresh {
                return Err(format!("multiple {kind}s with same id: {id}"));
            }
        }
        Ok(idx)
    }

    /// The position of `id`, if present.
    #[inline]
    pub fn get(&self, id: u64) -> Option<usize> {
        if let Some(&p) = self.dense.get(id as usize) {
            return (p != ABSENT).then_some(p as usize);
        }
        if self.sparse.is_empty() {
            return None;
        }
        self.sparse.get(&id).map(|&p| p as usize)
    }
}

/// A validated profile with id lookups. The protobuf message stays available as [`Profile::pb`]; every
/// reference inside it is known to resolve.
#[derive(Debug, Clone)]
pub struct Profile {
    pb: pb::Profile,
    mappings: IdIndex,
    functions: IdIndex,
    locations: IdIndex,
}

impl Profile {
    /// Validates `pb` and indexes it.
    pub fn new(pb: pb::Profile) -> Result<Profile, String> {
        let Indices {
            mappings,
            functions,
            locations,
        } = validate(&pb).map_err(|e| format!("malformed profile: {e}"))?;
        Ok(Profile {
            pb,
            mappings,
            functions,
            locations,
        })
    }

    /// The underlying message.
    pub fn pb(&self) -> &pb::Profile {
        &self.pb
    }

    /// Gives the message back (for editing and re-validating, e.g. by the symbolizer).
    pub fn into_pb(self) -> pb::Profile {
        self.pb
    }

    /// Names `path` as the main binary: the file of the first mapping, as pprof does with `pprof BINARY PROFILE`.
    /// A profile without mappings gets one covering every address.
    pub fn set_main_binary(&mut self, path: &str) {
        let idx = self.pb.string_table.len() as i64;
        self.pb.string_table.push(path.to_string());
        if self.pb.mapping.is_empty() {
            let id = 1;
            self.pb.mapping.push(pb::Mapping {
                id,
                memory_limit: u64::MAX,
                filename: idx,
                ..Default::default()
            });
            for l in &mut self.pb.location {
                if l.mapping_id == 0 {
                    l.mapping_id = id;
                }
            }
            self.mappings = IdIndex::build("mapping", [id].into_iter()).expect("one fresh id");
        } else {
            self.pb.mapping[0].filename = idx;
        }
    }

    /// The string at `idx` ("" if out of range, which validation rules out for every index in the profile).
    #[inline]
    pub fn str(&self, idx: i64) -> &str {
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.pb.string_table.get(i))
            .map_or("", String::as_str)
    }

    /// Position of location `id` in `pb().location`.
    #[inline]
    pub fn location_index(&self, id: u64) -> Option<usize> {
        self.locations.get(id)
    }

    /// Location by id.
    pub fn location(&self, id: u64) -> Option<&pb::Location> {
        self.locations.get(id).map(|i| &self.pb.location[i])
    }

    /// Function by id.
    pub fn function(&self, id: u64) -> Option<&pb::Function> {
        self.functions.get(id).map(|i| &self.pb.function[i])
    }

    /// Position of function `id` in `pb().function`.
    pub fn function_index(&self, id: u64) -> Option<usize> {
        self.functions.get(id)
    }

    /// Mapping by id (`None` for id 0).
    pub fn mapping(&self, id: u64) -> Option<&pb::Mapping> {
        self.mappings.get(id).map(|i| &self.pb.mapping[i])
    }

    /// Position of mapping `id` in `pb().mapping`.
    pub fn mapping_index(&self, id: u64) -> Option<usize> {
        self.mappings.get(id)
    }

    /// Names of the sample types, in order.
    pub fn sample_type_names(&self) -> Vec<&str> {
        self.pb.sample_type.iter().map(|t| self.str(t.r#type)).collect()
    }

    /// The index of the sample type to report, chosen as pprof chooses it: `None` → `default_sample_type` if
    /// set and present, else the last type; a number → that index; a name → that type, where `inuse_X` also
    /// matches a type named `X` (legacy `space`/`objects`).
    pub fn sample_index(&self, choice: Option<&str>) -> Result<usize, String> {
        let names = self.sample_type_names();
        if names.is_empty() {
            return Err("profile has no sample types".into());
        }
        let Some(choice) = choice.filter(|c| !c.is_empty()) else {
            let dflt = self.str(self.pb.default_sample_type);
            if !dflt.is_empty()
                && let Some(i) = names.iter().position(|n| *n == dflt)
            {
                return Ok(i);
            }
            return Ok(names.len() - 1);
        };
        if let Ok(i) = choice.parse::<i64>() {
            if i < 0 || i as usize >= names.len() {
                return Err(format!(
                    "sample_index {choice} is outside the range [0..{}]",
                    names.len() - 1
                ));
            }
            return Ok(i as usize);
        }
        let no_inuse = choice.strip_prefix("inuse_").unwrap_or(choice);
        names
            .iter()
            .position(|n| *n == choice || *n == no_inuse)
            .ok_or_else(|| {
                let mut sorted = names.clone();
                sorted.sort_unstable();
                format!("sample_index {choice:?} must be one of: [{}]", sorted.join(" "))
            })
    }
}
