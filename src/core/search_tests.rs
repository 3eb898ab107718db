//! Tests of the one scan every backend drives (`super`).

use super::*;

#[test]
fn records_deleted_while_a_scan_runs_are_reported_gone_and_the_scan_goes_on_after_them() {
    let req = SearchRequest { value: Some("x".into()), ..SearchRequest::default() };
    let mut scan = Scan::new("t", &req, req.compile().unwrap(), &[(0, 0, 2_000)]);
    let first = scan.next_read().unwrap();
    assert_eq!((first.from, first.to), (0, CHUNK));
    // Retention moved the log start to 700 before this read.
    scan.gone(0, 700);
    let next = scan.next_read().unwrap();
    assert_eq!(next.from, 700, "the scan goes on from the new start");
    let r = scan.finish();
    assert_eq!(r.gone, [GoneRange { partition: 0, from: 0, to: 700 }]);
    // Backwards, the part below the new start is what was not reached.
    let back = SearchRequest { backward: true, ..req };
    let mut scan = Scan::new("t", &back, back.compile().unwrap(), &[(0, 0, 2_000)]);
    let first = scan.next_read().unwrap();
    assert_eq!((first.from, first.to), (2_000 - CHUNK, 2_000));
    scan.gone(0, 1_800);
    let next = scan.next_read().unwrap();
    assert_eq!((next.from, next.to), (1_800, 2_000), "only what is left above the start");
    assert_eq!(scan.finish().gone, [GoneRange { partition: 0, from: 0, to: 1_800 }]);
}

fn msg(offset: u64, value: &str) -> Message {
    Message {
        topic: "t".into(),
        partition: 0,
        offset,
        timestamp: offset as i64 * 10,
        key: Some(Payload::text(&format!("k{}", offset % 3))),
        value: Some(Payload::text(value)),
        headers: vec![Header::text("trace", &format!("id-{offset}"))],
    }
}

fn run(req: &SearchRequest, log: &[Message]) -> SearchResult {
    let matcher = req.compile().unwrap();
    let mut scan = Scan::new("t", req, matcher, &[(0, 0, log.len() as u64)]);
    while let Some(read) = scan.next_read() {
        scan.feed(read, &log[read.from as usize..read.to as usize]);
    }
    scan.finish()
}

#[test]
fn a_tombstone_never_matches_value_text_but_matches_on_its_key() {
    let mut log: Vec<Message> = (0..4).map(|i| msg(i, "")).collect();
    log[1].value = None;
    log[3].value = None;
    let offsets = |r: &SearchResult| r.matches.iter().map(|m| m.offset).collect::<Vec<_>>();
    for req in [
        SearchRequest { value: Some(String::new()), ..SearchRequest::default() },
        SearchRequest { regex: Some("^$".into()), ..SearchRequest::default() },
        SearchRequest { regex: Some(".*".into()), ..SearchRequest::default() },
    ] {
        assert_eq!(offsets(&run(&req, &log)), [0, 2], "{req:?}");
    }
    let by_key = SearchRequest { key: Some("k1".into()), ..SearchRequest::default() };
    let found = run(&by_key, &log);
    assert_eq!(offsets(&found), [1]);
    assert_eq!(found.matches[0].value, None, "found as a tombstone");
}

#[test]
fn criteria_all_hold_and_bad_ones_are_refused_with_the_reason() {
    let log: Vec<Message> = (0..30).map(|i| msg(i, if i % 5 == 0 { "error: disk" } else { "ok" })).collect();
    let offsets = |r: &SearchResult| r.matches.iter().map(|m| m.offset).collect::<Vec<_>>();
    let by_value = SearchRequest { value: Some("error".into()), ..SearchRequest::default() };
    assert_eq!(offsets(&run(&by_value, &log)), [0, 5, 10, 15, 20, 25]);
    let by_key = SearchRequest { key: Some("k1".into()), ..by_value.clone() };
    assert_eq!(offsets(&run(&by_key, &log)), [10, 25]);
    let by_header = SearchRequest { header: Some(HeaderMatch::parse("trace=id-2").unwrap()), ..Default::default() };
    assert_eq!(offsets(&run(&by_header, &log)), [2, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    let window = SearchRequest { since_ms: Some(100), until_ms: Some(200), ..by_value.clone() };
    assert_eq!(offsets(&run(&window, &log)), [10, 15]);
    let re = SearchRequest { regex: Some("^err.*k$".into()), to_offset: Some(11), ..Default::default() };
    assert_eq!(offsets(&run(&re, &log)), [0, 5, 10]);
    let back = SearchRequest {
        backward: true,
        resume: vec![SearchCursor { partition: 0, offset: 20, done: false }],
        ..by_value
    };
    assert_eq!(offsets(&run(&back, &log)), [15, 10, 5, 0]);

    let both = SearchRequest { value: Some("a".into()), regex: Some("b".into()), ..Default::default() };
    assert_eq!(both.compile().unwrap_err().0, "give value text or a regex, not both");
    let bad = SearchRequest { regex: Some("(".into()), ..Default::default() };
    assert!(bad.compile().unwrap_err().0.starts_with("regex \"(\" is not a usable regex"));
    let huge = SearchRequest { regex: Some("\\w{1000}{1000}".into()), ..Default::default() };
    assert!(huge.compile().is_err(), "the regex size limit holds");
    let range = SearchRequest { from_offset: Some(5), to_offset: Some(2), ..Default::default() };
    assert!(range.compile().is_err());
    let many = SearchRequest { max_matches: MAX_MATCHES + 1, ..Default::default() };
    assert!(many.compile().unwrap_err().0.contains("at most 10000"));
    assert!(HeaderMatch::parse("novalue").is_err());
    assert_eq!(HeaderMatch::parse("a=b=c").unwrap(), HeaderMatch { name: "a".into(), value: "b=c".into() });
}
