//! The offset ↔ id walk against an in-memory stream: a list of ids paged like XRANGE/XREVRANGE.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

impl Bound {
    /// Whether `id` is on the inner side of this bound, taken as the low end of a range.
    fn above(self, id: Sid) -> bool {
        match self {
            Bound::Min => true,
            Bound::Max => false,
            Bound::Incl(b) => id >= b,
            Bound::Excl(b) => id > b,
        }
    }

    /// Whether `id` is on the inner side of this bound, taken as the high end of a range.
    fn below(self, id: Sid) -> bool {
        match self {
            Bound::Min => false,
            Bound::Max => true,
            Bound::Incl(b) => id <= b,
            Bound::Excl(b) => id < b,
        }
    }
}

impl Ask {
    /// Whether `id` is in the asked range.
    fn contains(&self, id: Sid) -> bool {
        let (low, high) = if self.rev { (self.to, self.from) } else { (self.from, self.to) };
        low.above(id) && high.below(id)
    }
}

/// A stream's ids in memory; counts the pages asked for.
struct Fake {
    ids: Vec<Sid>,
    pages: AtomicUsize,
    last_ask: Mutex<Option<Ask>>,
}

#[async_trait]
impl StreamPages for &Fake {
    async fn page(&self, ask: &Ask) -> BResult<Vec<Sid>> {
        self.pages.fetch_add(1, Ordering::Relaxed);
        *self.last_ask.lock() = Some(*ask);
        let in_order: Box<dyn Iterator<Item = &Sid>> =
            if ask.rev { Box::new(self.ids.iter().rev()) } else { Box::new(self.ids.iter()) };
        Ok(in_order.filter(|id| ask.contains(**id)).take(ask.count).copied().collect())
    }
}

impl Fake {
    fn pages(&self) -> usize {
        self.pages.swap(0, Ordering::Relaxed)
    }
}

/// Entry `i` has id `(1000 + 10·(i/2))-(i%2)`: two entries per millisecond.
fn id(i: usize) -> Sid {
    Sid { ms: 1000 + 10 * (i as u64 / 2), seq: i as u64 % 2 }
}

/// A stream with `len` entries left after `trimmed` were trimmed from its start.
fn stream(len: usize, trimmed: u64) -> (Fake, Snap) {
    let ids: Vec<Sid> = (0..len).map(id).collect();
    let snap = Snap {
        length: len as u64,
        added: len as u64 + trimmed,
        last_generated: ids.last().copied().unwrap_or(Sid { ms: 999, seq: 0 }),
        first: ids.first().copied(),
        last: ids.last().copied(),
        ..Snap::default()
    };
    (Fake { ids, pages: AtomicUsize::new(0), last_ask: Mutex::new(None) }, snap)
}

fn walk<'a>(f: &'a Fake, s: &'a Snap, a: &'a Anchors, page: usize) -> Walk<'a, &'a Fake> {
    Walk::new(f, "s", s, a).paged(page)
}

#[tokio::test]
async fn offsets_map_to_ids_at_the_start_the_end_and_past_it() {
    let (f, s) = stream(10, 0);
    for page in [1, 3, PAGE] {
        let a = Anchors::default();
        let w = walk(&f, &s, &a, page);
        assert_eq!(w.id_at(0).await, Ok(id(0)), "page {page}");
        assert_eq!(w.id_at(9).await, Ok(id(9)), "page {page}");
        for o in 0..10 {
            assert_eq!(w.id_at(o).await, Ok(id(o as usize)), "offset {o}, page {page}");
            assert_eq!(w.position(id(o as usize), true).await, Ok(o + 1), "offset {o}, page {page}");
        }
        let past = w.id_at(10).await.unwrap_err();
        assert!(matches!(&past, BackendError::BadRequest(m) if m.contains("valid offsets are 0..10")), "{past:?}");
        assert_eq!(w.position(Sid { ms: 1, seq: 0 }, false).await, Ok(0), "before the first entry");
        assert_eq!(w.position(Sid { ms: 9_999, seq: 0 }, false).await, Ok(10), "after the last entry");
    }
}

#[tokio::test]
async fn a_trimmed_stream_starts_at_entries_added_minus_length() {
    let (f, s) = stream(10, 5);
    let a = Anchors::default();
    let w = walk(&f, &s, &a, 4);
    assert_eq!((s.start(), s.end()), (5, 15));
    assert_eq!(w.id_at(5).await, Ok(id(0)));
    assert_eq!(w.id_at(14).await, Ok(id(9)));
    assert_eq!(w.id_at(11).await, Ok(id(6)));
    let before = w.id_at(4).await.unwrap_err();
    assert!(before.to_string().contains("valid offsets are 5..15"), "{before}");
    assert_eq!(w.position(id(3), true).await, Ok(9), "one past the offset of the entry");
    assert_eq!(w.position(Sid::ZERO, false).await, Ok(5));
    // Where a group must point to read an offset next, and the XPENDING bound before it.
    assert_eq!(w.id_before(5).await, Ok(Sid::ZERO));
    assert_eq!(w.id_before(8).await, Ok(id(2)));
    assert_eq!(w.id_before(15).await, Ok(s.last_generated));
    assert_eq!(w.bound_before(15).await, Ok(Bound::Max));
    assert_eq!(w.bound_before(6).await, Ok(Bound::Excl(id(1))));
}

#[tokio::test]
async fn an_empty_stream_has_no_offsets_to_look_up() {
    for trimmed in [0, 3] {
        let (f, s) = stream(0, trimmed);
        let a = Anchors::default();
        let w = walk(&f, &s, &a, PAGE);
        assert_eq!((s.start(), s.end()), (trimmed, trimmed));
        assert!(matches!(w.id_at(trimmed).await, Err(BackendError::BadRequest(_))));
        assert_eq!(w.position(id(4), false).await, Ok(trimmed));
        assert_eq!(w.offset_for_time(1_020).await, Ok(trimmed));
        assert_eq!(w.offsets_of(&[]).await, Ok(vec![]));
        assert_eq!(w.id_before(trimmed).await, Ok(s.last_generated), "at the end: the last id ever generated");
        assert_eq!(f.pages(), 0, "nothing to read");
    }
}

#[tokio::test]
async fn pages_of_one_and_of_many_agree_and_many_take_fewer_round_trips() {
    let (f, s) = stream(300, 0);
    let probes = [0u64, 1, 77, 150, 151, 222, 298, 299];
    let mut answers = Vec::new();
    for page in [1, PAGE] {
        let mut got = Vec::new();
        let mut pages = 0;
        for &o in &probes {
            let a = Anchors::default(); // no help from earlier walks
            let w = walk(&f, &s, &a, page);
            got.push((w.id_at(o).await.unwrap(), w.position(id(o as usize), false).await.unwrap()));
            pages += f.pages();
        }
        answers.push((got, pages));
    }
    let (ones, many) = (&answers[0], &answers[1]);
    assert_eq!(ones.0, many.0, "the same ids and positions whatever the page size");
    assert_eq!(ones.0[3], (id(150), 151));
    assert!(ones.1 > 10 * many.1, "pages of one: {} round trips, of many: {}", ones.1, many.1);
}

#[tokio::test]
async fn offsets_of_pending_ids_walk_forward_and_place_deleted_ids_alone() {
    let (f, s) = stream(50, 10);
    let a = Anchors::default();
    let w = walk(&f, &s, &a, 8);
    let gone = Sid { ms: id(20).ms, seq: 7 }; // between entries 21 and 22: deleted meanwhile
    let ids = [id(3), id(4), id(20), gone, id(40), id(49)];
    assert_eq!(w.offsets_of(&ids).await, Ok(vec![13, 14, 30, 31, 50, 59]));
}

#[tokio::test]
async fn times_map_to_the_first_entry_at_or_after_them() {
    let (f, s) = stream(20, 2);
    let a = Anchors::default();
    let w = walk(&f, &s, &a, 5);
    assert_eq!(w.offset_for_time(1_020).await, Ok(6), "entry 4 is the first of that millisecond");
    assert_eq!(w.offset_for_time(1_021).await, Ok(8));
    assert_eq!(w.offset_for_time(0).await, Ok(2));
    assert_eq!(w.offset_for_time(-5).await, Ok(2), "before the epoch: the log start");
    assert_eq!(w.offset_for_time(i64::MAX).await, Ok(22), "later than every entry: the end");
}

#[tokio::test]
async fn remembered_pairs_shorten_walks_and_are_dropped_when_the_stream_changes() {
    let (f, s) = stream(3_000, 0);
    let a = Anchors::default();
    let w = walk(&f, &s, &a, PAGE);
    assert_eq!(w.id_at(1_200).await, Ok(id(1_200)));
    assert!(f.pages() >= 2, "the first look walks from the start");
    assert_eq!(w.id_at(1_205).await, Ok(id(1_205)));
    assert_eq!(f.pages(), 1, "then one short page from the remembered pair");
    assert_eq!(*f.last_ask.lock(), Some(Ask { rev: false, from: Bound::Excl(id(1_200)), to: Bound::Max, count: 5 }));
    assert_eq!(w.id_at(1_205).await, Ok(id(1_205)));
    assert_eq!(f.pages(), 0, "an offset looked up before is known");
    // The stream is deleted and created again: other ids at the same offsets.
    let shifted = Fake { ids: f.ids.iter().map(|i| Sid { ms: i.ms + 100_000, ..*i }).collect(), ..stream(0, 0).0 };
    let s2 = Snap { first: shifted.ids.first().copied(), last: shifted.ids.last().copied(), ..s.clone() };
    let w = walk(&shifted, &s2, &a, PAGE);
    assert_eq!(w.id_at(1_205).await, Ok(shifted.ids[1_205]), "what was remembered no longer holds");
}

#[test]
fn bounds_are_written_as_xrange_takes_them() {
    let a = Sid { ms: 1_700_000_000_000, seq: 3 };
    let args = [Bound::Min, Bound::Max, Bound::Incl(a), Bound::Excl(a)].map(Bound::arg);
    assert_eq!(args, ["-", "+", "1700000000000-3", "(1700000000000-3"]);
    let ask = Ask { rev: true, from: Bound::Incl(id(5)), to: Bound::Excl(id(2)), count: 9 };
    assert!(ask.contains(id(5)) && ask.contains(id(3)) && !ask.contains(id(2)) && !ask.contains(id(6)));
}
