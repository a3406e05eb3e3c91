//! Id → position lookups for the repeated fields of a profile.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result};

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
    pub fn build(kind: &str, ids: impl ExactSizeIterator<Item = u64>) -> Result<IdIndex> {
        let n = ids.len();
        let mut idx = IdIndex::default();
        let dense_limit = (n as u64).saturating_mul(2).saturating_add(64);
        for (pos, id) in ids.enumerate() {
            if id == 0 {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    format!("found {kind} with reserved ID=0"),
                ));
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
                return Err(Error::new(
                    ErrorKind::Invalid,
                    format!("multiple {kind}s with same id: {id}"),
                ));
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
