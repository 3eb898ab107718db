//! Power loss on the simulated disk: what survives of the writes and directory changes that no
//! fsync made durable.
//!
//! - A file keeps its durable image; its unsynced writes reach the platter in the order they were
//!   made (as a journaling file system writes back one file's appends): each whole, or the last
//!   one torn (a prefix of it), or lost — and once one is torn or lost, none after it arrives.
//! - Each directory change (create, rename, remove) not made durable by an fsync of a directory
//!   it touches is kept or lost on its own; a change that no longer applies (its parent or its
//!   source is gone) is lost too. A rename marked by [`super::Fault::LoseRename`] is lost.
//! - A file no path names any more is gone.

use super::faults::Rng;
use super::tree::{Inode, Pending, Tree, files_in};
use std::collections::{BTreeSet, HashMap};

/// Applies a power loss to `tree` and `inodes` in place; returns (writes lost or torn, changes lost).
pub fn crash(tree: &mut Tree, inodes: &mut HashMap<u64, Inode>, rng: &mut Rng) -> (u64, u64) {
    let mut lost_writes = 0;
    let mut lost_ops = 0;
    let mut map = tree.base.clone();
    for m in &tree.ops {
        let keep = m.durable || (!m.lose && rng.below(2) == 0);
        if keep {
            Tree::apply_to(&mut map, &m.op);
        } else {
            lost_ops += 1;
        }
    }
    let live: BTreeSet<u64> = files_in(&map).collect();
    inodes.retain(|ino, _| live.contains(ino));
    let mut inos: Vec<u64> = inodes.keys().copied().collect();
    inos.sort_unstable();
    for ino in inos {
        let Some(f) = inodes.get_mut(&ino) else { continue };
        let mut bytes = std::mem::take(&mut f.durable);
        let pending = std::mem::take(&mut f.pending);
        let total = pending.len();
        for (i, p) in pending.iter().enumerate() {
            match rng.below(4) {
                0 | 1 => Inode::apply(&mut bytes, p),
                2 => {
                    if let Pending::Write { pos, data } = p {
                        let keep = rng.below(data.len() as u64) as usize;
                        super::tree::write_at(&mut bytes, *pos, &data[..keep]);
                    }
                    lost_writes += (total - i) as u64;
                    break;
                }
                _ => {
                    lost_writes += (total - i) as u64;
                    break;
                }
            }
        }
        f.current = bytes.clone();
        f.durable = bytes;
    }
    tree.now = map.clone();
    tree.base = map;
    tree.ops.clear();
    (lost_writes, lost_ops)
}
