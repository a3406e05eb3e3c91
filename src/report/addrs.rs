//! The `addrs` report: for every location, the raw address next to each step of its normalization (mapping,
//! file offset, ELF virtual address, section, symbol+offset) and the frames the binary gives, compared with the
//! frames the profile already carried.

use serde::Serialize;

use crate::answer::{Frame, LocationAnswer, MappingStatus, Resolution};
use crate::binary::Located;
use crate::profile::Profile;

/// How the profile's own frames compare with the binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Same functions, files and lines, in the same order.
    Agree,
    /// Both have frames and they differ.
    Differ,
    /// Only the profile has frames.
    ProfileOnly,
    /// Only the binary has frames.
    BinaryOnly,
    /// Neither has frames.
    Neither,
}

/// A frame as printed: `function file:line[:column]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameText {
    /// Function name.
    pub function: String,
    /// Source file.
    pub file: String,
    /// Line (0: unknown).
    pub line: i64,
    /// Column (0: unknown).
    pub column: i64,
}

impl FrameText {
    fn display(&self) -> String {
        let name = if self.function.is_empty() { "??" } else { &self.function };
        match (self.file.is_empty(), self.line) {
            (true, _) => name.to_string(),
            (false, 0) => format!("{name} {}", self.file),
            (false, l) => format!("{name} {}:{l}", self.file),
        }
    }
}

/// One location.
#[derive(Debug, Clone, Serialize)]
pub struct AddrRow {
    /// Location id.
    pub id: u64,
    /// Runtime address as recorded.
    pub address: u64,
    /// Mapping id (0: none).
    pub mapping_id: u64,
    /// Mapping file.
    pub mapping_file: String,
    /// Mapping range `start-limit`.
    pub mapping_range: String,
    /// File offset of the address, when the mapping gives one.
    pub file_offset: Option<u64>,
    /// ELF virtual address looked up.
    pub svma: Option<u64>,
    /// Section holding it.
    pub section: Option<String>,
    /// `symbol+0xoffset` from the symbol table.
    pub symbol: Option<String>,
    /// Where the binary's frames came from (dwarf, symtab, dynsym, gopclntab).
    pub source: Option<String>,
    /// Frames from the binary, innermost first.
    pub binary_frames: Vec<FrameText>,
    /// Frames the profile carried, innermost first.
    pub profile_frames: Vec<FrameText>,
    /// Comparison of the two.
    pub agreement: Agreement,
    /// Why the address was not resolved, if it was not.
    pub note: Option<String>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct AddrsReport {
    /// One row per location, in profile order.
    pub rows: Vec<AddrRow>,
    /// Counts per agreement kind.
    pub agree: usize,
    /// Rows whose frames differ.
    pub differ: usize,
    /// Rows with frames only in the profile.
    pub profile_only: usize,
    /// Rows with frames only from the binary.
    pub binary_only: usize,
    /// Rows with no frames at all.
    pub neither: usize,
    /// Warnings from binary lookup.
    pub warnings: Vec<String>,
    /// For each mapping that was looked up: the binary used and where it came from, or that none was found.
    pub binaries: Vec<MappingBinary>,
}

/// The binary of one mapping, as `addrs` lists them under its table.
#[derive(Debug, Clone, Serialize)]
pub struct MappingBinary {
    /// Mapping id.
    pub mapping_id: u64,
    /// Mapping file.
    pub mapping_file: String,
    /// The binary used and where it came from; `None`: no binary was found.
    pub located: Option<Located>,
}

fn from_frame(f: &Frame) -> FrameText {
    FrameText {
        function: f.function.to_string(),
        file: f.file.to_string(),
        line: f.line as i64,
        column: f.column as i64,
    }
}

fn same(a: &[FrameText], b: &[FrameText]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.function == y.function && x.file == y.file && x.line == y.line)
}

/// Builds the report from a profile and the lookups of all its locations (see
/// `symbolize::profile::resolve_profile` with `force`).
pub fn addrs(p: &Profile, res: &Resolution) -> AddrsReport {
    let pb = p.pb();
    let mut rows = Vec::with_capacity(pb.location.len());
    for (loc, answer) in pb.location.iter().zip(&res.locations) {
        let mapping = p.mapping(loc.mapping_id);
        let profile_frames: Vec<FrameText> = loc
            .line
            .iter()
            .map(|ln| {
                let f = p.function(ln.function_id);
                FrameText {
                    function: f.map_or("", |f| p.str(f.name)).to_string(),
                    file: f.map_or("", |f| p.str(f.filename)).to_string(),
                    line: ln.line,
                    column: ln.column,
                }
            })
            .collect();
        let mut row = AddrRow {
            id: loc.id,
            address: loc.address,
            mapping_id: loc.mapping_id,
            mapping_file: mapping.map_or("", |m| p.str(m.filename)).to_string(),
            mapping_range: mapping.map_or(String::new(), |m| {
                format!("{:#x}-{:#x}", m.memory_start, m.memory_limit)
            }),
            file_offset: None,
            svma: None,
            section: None,
            symbol: None,
            source: None,
            binary_frames: Vec::new(),
            profile_frames,
            agreement: Agreement::Neither,
            note: None,
        };
        match answer {
            LocationAnswer::Resolved(r) => {
                row.file_offset = r.file_offset.map(|o| o.get());
                row.svma = Some(r.svma.get());
                row.section = r.section.as_deref().map(str::to_string);
                row.symbol = r.symbol.as_ref().map(|(n, off)| format!("{n}+{off:#x}"));
                row.source = Some(format!("{:?}", r.source).to_lowercase());
                row.binary_frames = r.frames.iter().map(from_frame).collect();
            }
            LocationAnswer::Failed(e) => row.note = Some(e.clone()),
            LocationAnswer::Skipped => {
                row.note = Some(
                    match p.mapping_index(loc.mapping_id).map(|i| &res.mappings[i]) {
                        None => "no mapping",
                        Some(MappingStatus::NoBinary) => "no binary",
                        Some(MappingStatus::Unsymbolizable) => "pseudo mapping",
                        Some(MappingStatus::AlreadySymbolized) => "mapping already symbolized",
                        Some(_) => "not looked up",
                    }
                    .to_string(),
                )
            }
        }
        row.agreement = match (row.profile_frames.is_empty(), row.binary_frames.is_empty()) {
            (true, true) => Agreement::Neither,
            (false, true) => Agreement::ProfileOnly,
            (true, false) => Agreement::BinaryOnly,
            (false, false) if same(&row.profile_frames, &row.binary_frames) => Agreement::Agree,
            (false, false) => Agreement::Differ,
        };
        rows.push(row);
    }
    let count = |a: Agreement| rows.iter().filter(|r| r.agreement == a).count();
    let binaries = pb
        .mapping
        .iter()
        .zip(&res.mappings)
        .filter_map(|(m, st)| {
            let located = match st {
                MappingStatus::Symbolized { located, .. } => Some((**located).clone()),
                MappingStatus::NoBinary => None,
                _ => return None,
            };
            Some(MappingBinary {
                mapping_id: m.id,
                mapping_file: p.str(m.filename).to_string(),
                located,
            })
        })
        .collect();
    AddrsReport {
        binaries,
        agree: count(Agreement::Agree),
        differ: count(Agreement::Differ),
        profile_only: count(Agreement::ProfileOnly),
        binary_only: count(Agreement::BinaryOnly),
        neither: count(Agreement::Neither),
        warnings: res.warnings.iter().map(ToString::to_string).collect(),
        rows,
    }
}

impl AddrsReport {
    /// The one-line summary printed under the table.
    pub fn summary(&self) -> String {
        format!(
            "{} locations: {} agree, {} differ, {} profile only, {} binary only, {} without frames",
            self.rows.len(),
            self.agree,
            self.differ,
            self.profile_only,
            self.binary_only,
            self.neither
        )
    }
}

/// Frames joined innermost first with ` ← ` (callee ← caller).
pub fn chain(frames: &[FrameText]) -> String {
    frames.iter().map(FrameText::display).collect::<Vec<_>>().join(" ← ")
}
