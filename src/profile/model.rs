//! The indexed, read-only view of a profile that every report uses.

use std::sync::OnceLock;

use super::format::SourceInfo;
use super::index::IdIndex;
use super::names::{DemangleMode, display_name};
use super::pb;
use super::validate::{Indices, validate};
use crate::error::{Error, ErrorKind, Result};

/// A validated profile with id lookups. The protobuf message stays available as [`Profile::pb`]; every
/// reference inside it is known to resolve.
#[derive(Debug, Clone)]
pub struct Profile {
    pb: pb::Profile,
    mappings: IdIndex,
    functions: IdIndex,
    locations: IdIndex,
    /// The name pprof shows for each function, made on first use (see [`Profile::display_names`]).
    display_names: OnceLock<Vec<String>>,
    /// The format it was read from.
    source: SourceInfo,
}

impl Profile {
    /// Validates `pb` and indexes it.
    pub fn new(pb: pb::Profile) -> Result<Profile> {
        let Indices {
            mappings,
            functions,
            locations,
        } = validate(&pb).map_err(|e| Error::new(e.kind(), format!("malformed profile: {e}")))?;
        Ok(Profile {
            pb,
            mappings,
            functions,
            locations,
            display_names: OnceLock::new(),
            source: SourceInfo::default(),
        })
    }

    /// The format this profile was read from (profile.proto unless set by a legacy reader).
    pub fn source(&self) -> &SourceInfo {
        &self.source
    }

    /// The same profile, marked as read from `source`.
    pub fn with_source(mut self, source: SourceInfo) -> Profile {
        self.source = source;
        self
    }

    /// The underlying message.
    pub fn pb(&self) -> &pb::Profile {
        &self.pb
    }

    /// The name pprof shows for each function (in `pb().function` order), after its loader's demangling pass
    /// ([`display_name`] in the default mode), computed once.
    pub fn display_names(&self) -> &[String] {
        self.display_names.get_or_init(|| {
            self.pb
                .function
                .iter()
                .map(|f| display_name(self.str(f.name), self.str(f.system_name), DemangleMode::Short))
                .collect()
        })
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
    pub fn sample_index(&self, choice: Option<&str>) -> Result<usize> {
        let names = self.sample_type_names();
        if names.is_empty() {
            return Err(Error::new(ErrorKind::Usage, "profile has no sample types"));
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
                let msg = format!("sample_index {choice} is outside the range [0..{}]", names.len() - 1);
                return Err(Error::new(ErrorKind::Usage, msg));
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
                let msg = format!("sample_index {choice:?} must be one of: [{}]", sorted.join(" "));
                Error::new(ErrorKind::Usage, msg)
            })
    }
}
