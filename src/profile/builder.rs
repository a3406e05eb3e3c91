//! Building a profile.proto message piece by piece, with strings, functions and locations interned: what the
//! legacy readers, the symbolizer's writer and merging need.
//!
//! Ids are given out from 1 in the order things are added. A builder can also start from an existing message
//! ([`ProfileBuilder::from_pb`]): what it holds is indexed, so new strings, functions and locations are shared with
//! the old ones where equal and appended otherwise.

use std::collections::HashMap;

use super::model::Profile;
use super::pb;
use crate::error::Result;

/// A location's identity: its mapping, address, frames (function id, line, column) and folding flag.
type LocationKey = (u64, u64, Vec<(u64, i64, i64)>, bool);

/// Builds a [`pb::Profile`]; see the module docs.
#[derive(Debug, Default)]
pub struct ProfileBuilder {
    pb: pb::Profile,
    strings: HashMap<String, i64>,
    /// (name, system name, file, start line) → function id.
    functions: HashMap<(i64, i64, i64, i64), u64>,
    locations: HashMap<LocationKey, u64>,
    next_function: u64,
    next_location: u64,
}

impl ProfileBuilder {
    /// An empty profile (its string table holds only `""`).
    pub fn new() -> ProfileBuilder {
        ProfileBuilder::from_pb(pb::Profile::default())
    }

    /// Continues `pb`: its strings, functions and locations are indexed for reuse. An empty string table gets its
    /// `""`.
    pub fn from_pb(mut pb: pb::Profile) -> ProfileBuilder {
        if pb.string_table.is_empty() {
            pb.string_table.push(String::new());
        }
        let mut strings = HashMap::with_capacity(pb.string_table.len());
        for (i, s) in pb.string_table.iter().enumerate() {
            strings.entry(s.clone()).or_insert(i as i64);
        }
        let functions = pb
            .function
            .iter()
            .map(|f| ((f.name, f.system_name, f.filename, f.start_line), f.id))
            .collect();
        let locations = pb.location.iter().map(|l| (location_key(l), l.id)).collect();
        let next_function = pb.function.iter().map(|f| f.id).max().unwrap_or(0) + 1;
        let next_location = pb.location.iter().map(|l| l.id).max().unwrap_or(0) + 1;
        ProfileBuilder {
            pb,
            strings,
            functions,
            locations,
            next_function,
            next_location,
        }
    }

    /// The index of `s` in the string table, added if new.
    pub fn string(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.pb.string_table.len() as i64;
        self.pb.string_table.push(s.to_string());
        self.strings.insert(s.to_string(), i);
        i
    }

    /// A `ValueType` of `ty` and `unit`.
    pub fn value_type(&mut self, ty: &str, unit: &str) -> pb::ValueType {
        pb::ValueType {
            r#type: self.string(ty),
            unit: self.string(unit),
        }
    }

    /// Adds a sample type.
    pub fn sample_type(&mut self, ty: &str, unit: &str) {
        let vt = self.value_type(ty, unit);
        self.pb.sample_type.push(vt);
    }

    /// Sets the period type and period.
    pub fn period(&mut self, ty: &str, unit: &str, period: i64) {
        self.pb.period_type = Some(self.value_type(ty, unit));
        self.pb.period = period;
    }

    /// Adds a comment.
    pub fn comment(&mut self, text: &str) {
        let i = self.string(text);
        self.pb.comment.push(i);
    }

    /// Adds a mapping (never merged with another) and returns its id.
    pub fn mapping(&mut self, start: u64, limit: u64, offset: u64, file: &str, build_id: &str) -> u64 {
        let id = self.pb.mapping.len() as u64 + 1;
        let (filename, build_id) = (self.string(file), self.string(build_id));
        self.pb.mapping.push(pb::Mapping {
            id,
            memory_start: start,
            memory_limit: limit,
            file_offset: offset,
            filename,
            build_id,
            ..Default::default()
        });
        id
    }

    /// The id of the function with these names, file and start line, added if new.
    pub fn function(&mut self, name: &str, system_name: &str, file: &str, start_line: i64) -> u64 {
        let key = (
            self.string(name),
            self.string(system_name),
            self.string(file),
            start_line,
        );
        if let Some(&id) = self.functions.get(&key) {
            return id;
        }
        let id = self.next_function;
        self.next_function += 1;
        self.pb.function.push(pb::Function {
            id,
            name: key.0,
            system_name: key.1,
            filename: key.2,
            start_line,
        });
        self.functions.insert(key, id);
        id
    }

    /// The id of the location at `address` in mapping `mapping_id` (0: none) with `lines` (innermost first), added
    /// if no equal location exists.
    pub fn location(&mut self, mapping_id: u64, address: u64, lines: Vec<pb::Line>, is_folded: bool) -> u64 {
        let loc = pb::Location {
            id: 0,
            mapping_id,
            address,
            line: lines,
            is_folded,
        };
        let key = location_key(&loc);
        if let Some(&id) = self.locations.get(&key) {
            return id;
        }
        let id = self.next_location;
        self.next_location += 1;
        self.pb.location.push(pb::Location { id, ..loc });
        self.locations.insert(key, id);
        id
    }

    /// Adds a sample.
    pub fn sample(&mut self, location_id: Vec<u64>, value: Vec<i64>, label: Vec<pb::Label>) {
        self.pb.sample.push(pb::Sample {
            location_id,
            value,
            label,
        });
    }

    /// The message so far, for the fields this builder has no method for (time, duration, drop frames, …).
    pub fn pb_mut(&mut self) -> &mut pb::Profile {
        &mut self.pb
    }

    /// The message, unchecked.
    pub fn into_pb(self) -> pb::Profile {
        self.pb
    }

    /// The validated profile.
    pub fn build(self) -> Result<Profile> {
        Profile::new(self.pb)
    }
}

fn location_key(l: &pb::Location) -> LocationKey {
    (
        l.mapping_id,
        l.address,
        l.line.iter().map(|ln| (ln.function_id, ln.line, ln.column)).collect(),
        l.is_folded,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_validates() {
        let mut b = ProfileBuilder::new();
        b.sample_type("inuse_space", "bytes");
        b.period("space", "bytes", 1);
        let m = b.mapping(0x1000, 0x2000, 0, "/bin/x", "");
        let f = b.function("main", "main", "x.c", 3);
        assert_eq!(b.function("main", "main", "x.c", 3), f);
        let line = |line| pb::Line {
            function_id: f,
            line,
            column: 0,
        };
        let l1 = b.location(m, 0x1010, vec![line(4)], false);
        assert_eq!(b.location(m, 0x1010, vec![line(4)], false), l1);
        let l2 = b.location(m, 0x1020, vec![line(5)], false);
        assert_ne!(l1, l2);
        b.sample(vec![l1, l2], vec![7], Vec::new());
        let p = b.build().unwrap();
        assert_eq!(p.pb().location.len(), 2);
        assert_eq!(p.pb().function.len(), 1);
        assert_eq!(p.str(p.pb().mapping[0].filename), "/bin/x");
        // Continuing a message reuses what it has.
        let mut b = ProfileBuilder::from_pb(p.into_pb());
        assert_eq!(b.function("main", "main", "x.c", 3), f);
        assert_eq!(b.string("/bin/x"), 4);
    }
}
