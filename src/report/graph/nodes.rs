//! Nodes: what a report row is made of, keyed like pprof's `NodeInfo` at a granularity (pprof's `CreateNodes`).

use super::Granularity;
use super::paths::{basename, clean_path, trim_path};
use crate::profile::Profile;

/// The identity of a report row, with pprof's `NodeInfo` fields (and their order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodeInfo {
    /// Function name ("" when aggregated away or unknown).
    pub name: String,
    /// Runtime address (only at `addresses` granularity).
    pub address: u64,
    /// Cleaned source file name.
    pub file: String,
    /// Function start line (only kept when there is no name, as pprof does).
    pub start_line: i64,
    /// Line number.
    pub line: i64,
    /// Column number.
    pub column: i64,
    /// Mapping file, kept only when there is no function name.
    pub objfile: String,
}

impl NodeInfo {
    /// The row name pprof prints: address, function, `file:line[:col]` or file, else `[binary]` or `<unknown>`.
    pub fn printable_name(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(3);
        if self.address != 0 {
            parts.push(format!("{:016x}", self.address));
        }
        if !self.name.is_empty() {
            parts.push(self.name.clone());
        }
        if self.line != 0 {
            let mut s = format!("{}:{}", self.file, self.line);
            if self.column != 0 {
                s.push_str(&format!(":{}", self.column));
            }
            parts.push(s);
        } else if !self.file.is_empty() {
            parts.push(self.file.clone());
        } else if !self.name.is_empty() {
        } else if !self.objfile.is_empty() {
            parts.push(format!("[{}]", basename(&self.objfile)));
        } else {
            parts.push("<unknown>".into());
        }
        parts.join(" ")
    }

    /// Go's `fmt.Sprint` of the struct, pprof's last-resort tie breaker when sorting.
    pub(crate) fn go_sprint(&self) -> String {
        format!(
            "{{{}  {} {} {} {} {} {}}}",
            self.name, self.address, self.file, self.start_line, self.line, self.column, self.objfile
        )
    }
}

/// The id of `info` in `infos`, added if new.
pub(crate) fn intern_node(
    intern: &mut rustc_hash::FxHashMap<NodeInfo, u32>,
    infos: &mut Vec<NodeInfo>,
    info: NodeInfo,
) -> u32 {
    if let Some(&id) = intern.get(&info) {
        return id;
    }
    let id = infos.len() as u32;
    intern.insert(info.clone(), id);
    infos.push(info);
    id
}

/// The node of line `ln` (function `f`, shown as `display`) of a location at `address` in `objfile`.
pub(crate) fn node_info(
    profile: &Profile,
    f: &crate::profile::pb::Function,
    display: &str,
    ln: &crate::profile::pb::Line,
    address: u64,
    objfile: &str,
    g: Granularity,
) -> NodeInfo {
    let (keep_name, keep_file, keep_line, keep_column) = match g {
        Granularity::Functions => (true, false, false, false),
        Granularity::FileFunctions => (true, true, false, false),
        Granularity::Files => (false, true, false, false),
        Granularity::Lines => (true, true, true, false),
        Granularity::Addresses => (true, true, true, true),
    };
    let name = if keep_name { display } else { "" };
    let file = if keep_file { profile.str(f.filename) } else { "" };
    let mut info = NodeInfo {
        name: name.to_string(),
        address,
        file: if file.is_empty() {
            String::new()
        } else {
            clean_path(trim_path(file))
        },
        line: if keep_line { ln.line } else { 0 },
        column: if keep_column { ln.column } else { 0 },
        ..Default::default()
    };
    if info.name.is_empty() {
        info.objfile = objfile.to_string();
        info.start_line = f.start_line;
    }
    info
}
