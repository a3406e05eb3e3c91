//! pprof's consistency rules (`CheckValid` plus string-index bounds), reporting the first problem found.

use super::index::IdIndex;
use super::pb;
use crate::error::{Error, ErrorKind, Result};

/// Checks that `p` is a well-formed profile: string_table[0] is "", every string index is in range, each sample
/// has one value per sample type, ids are non-zero and unique, and every id reference resolves.
pub fn validate(p: &pb::Profile) -> Result<Indices> {
    match p.string_table.first() {
        None => return bad("string table is empty (string_table[0] must be '')"),
        Some(s) if !s.is_empty() => return bad("string_table[0] must be ''"),
        _ => {}
    }
    let nstr = p.string_table.len() as i64;
    let check_str = |idx: i64, what: &dyn Fn() -> String| -> Result<()> {
        if idx < 0 || idx >= nstr {
            bad(format!(
                "{} refers to string {idx}, but the string table has {nstr} entries",
                what()
            ))
        } else {
            Ok(())
        }
    };
    for (i, vt) in p.sample_type.iter().enumerate() {
        check_str(vt.r#type, &|| format!("sample_type[{i}].type"))?;
        check_str(vt.unit, &|| format!("sample_type[{i}].unit"))?;
    }
    if let Some(pt) = &p.period_type {
        check_str(pt.r#type, &|| "period_type.type".into())?;
        check_str(pt.unit, &|| "period_type.unit".into())?;
    }
    check_str(p.drop_frames, &|| "drop_frames".into())?;
    check_str(p.keep_frames, &|| "keep_frames".into())?;
    check_str(p.default_sample_type, &|| "default_sample_type".into())?;
    check_str(p.doc_url, &|| "doc_url".into())?;
    for (i, c) in p.comment.iter().enumerate() {
        check_str(*c, &|| format!("comment[{i}]"))?;
    }
    if p.sample_type.is_empty() && !p.sample.is_empty() {
        return bad("missing sample type information");
    }

    let mapping_ids = IdIndex::build("mapping", p.mapping.iter().map(|m| m.id))?;
    let function_ids = IdIndex::build("function", p.function.iter().map(|f| f.id))?;
    let location_ids = IdIndex::build("location", p.location.iter().map(|l| l.id))?;

    for m in &p.mapping {
        check_str(m.filename, &|| format!("mapping {} filename", m.id))?;
        check_str(m.build_id, &|| format!("mapping {} build_id", m.id))?;
    }
    for f in &p.function {
        check_str(f.name, &|| format!("function {} name", f.id))?;
        check_str(f.system_name, &|| format!("function {} system_name", f.id))?;
        check_str(f.filename, &|| format!("function {} filename", f.id))?;
    }
    for l in &p.location {
        if l.mapping_id != 0 && mapping_ids.get(l.mapping_id).is_none() {
            return bad(format!(
                "location {} refers to mapping {}, which does not exist",
                l.id, l.mapping_id
            ));
        }
        for ln in &l.line {
            if ln.function_id == 0 {
                return bad(format!("location id: {} has a line with nil function", l.id));
            }
            if function_ids.get(ln.function_id).is_none() {
                return bad(format!(
                    "location {} refers to function {}, which does not exist",
                    l.id, ln.function_id
                ));
            }
        }
    }
    let ntypes = p.sample_type.len();
    for (i, s) in p.sample.iter().enumerate() {
        if s.value.len() != ntypes {
            return bad(format!(
                "mismatch: sample {i} has {} values vs. {ntypes} types",
                s.value.len()
            ));
        }
        for id in &s.location_id {
            if location_ids.get(*id).is_none() {
                return bad(format!("sample {i} refers to location {id}, which does not exist"));
            }
        }
        for lb in &s.label {
            check_str(lb.key, &|| format!("sample {i} label key"))?;
            check_str(lb.str, &|| format!("sample {i} label value"))?;
            check_str(lb.num_unit, &|| format!("sample {i} label unit"))?;
        }
    }
    Ok(Indices {
        mappings: mapping_ids,
        functions: function_ids,
        locations: location_ids,
    })
}

/// The id → position indices built while validating, handed to the model so they are built once.
pub struct Indices {
    /// Mapping ids.
    pub mappings: IdIndex,
    /// Function ids.
    pub functions: IdIndex,
    /// Location ids.
    pub locations: IdIndex,
}

/// A broken rule, as an error.
fn bad<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::new(ErrorKind::Invalid, msg))
}
