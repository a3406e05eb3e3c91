//! pprof's `RemoveUninteresting` / `Prune` step with the profile's own `drop_frames` and `keep_frames`, done as
//! a profile is loaded.

use std::collections::HashMap;

use crate::profile::Profile;
use crate::report::frames::FrameFilter;

/// pprof's `Prune` with the profile's `drop_frames` / `keep_frames`: locations whose frames match lose them, and
/// each sample's stack is cut at the first pruned location after its first user frame, counting from the root.
pub(crate) struct Pruning {
    /// Per location: index of the first line kept.
    pub(crate) first_line: Vec<usize>,
    /// Per location: 0 = untouched, 1 = prune beneath (partially pruned), 2 = prune the whole location.
    state: Vec<u8>,
    active: bool,
}

impl Pruning {
    pub(crate) fn new(p: &Profile, fn_names: &[String]) -> Pruning {
        let pb = p.pb();
        let n = pb.location.len();
        let none = Pruning {
            first_line: vec![0; n],
            state: vec![0; n],
            active: false,
        };
        let Some(frames) = FrameFilter::from_profile(p) else {
            return none;
        };
        let mut cache: HashMap<usize, bool> = HashMap::new();
        let mut prunes = |fi: usize| *cache.entry(fi).or_insert_with(|| frames.drops(&fn_names[fi]));
        let mut out = Pruning { active: true, ..none };
        for (li, loc) in pb.location.iter().enumerate() {
            let hit = (0..loc.line.len())
                .rev()
                .find(|&i| p.function_index(loc.line[i].function_id).is_some_and(&mut prunes));
            match hit {
                None => {}
                Some(i) if i == loc.line.len() - 1 => out.state[li] = 2,
                Some(i) => {
                    out.state[li] = 1;
                    out.first_line[li] = i + 1;
                }
            }
        }
        out
    }

    /// The sample's location ids after pruning (leaf first).
    pub(crate) fn sample_stack<'a>(&self, p: &Profile, ids: &'a [u64]) -> &'a [u64] {
        if !self.active {
            return ids;
        }
        let mut found_user = false;
        for i in (0..ids.len()).rev() {
            let st = p.location_index(ids[i]).map_or(0, |li| self.state[li]);
            if st == 0 {
                found_user = true;
                continue;
            }
            if !found_user {
                continue;
            }
            return if st == 2 { &ids[i + 1..] } else { &ids[i..] };
        }
        ids
    }
}
