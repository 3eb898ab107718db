use super::*;

fn decode_all(buf: Vec<u8>) -> (BatchHeader, Vec<Record>) {
    let frame = Bytes::from(buf);
    let h = check_frame(&frame).unwrap();
    let mut out = Vec::new();
    decode_records(&frame, &h, 0, usize::MAX, &mut out).unwrap();
    (h, out)
}

#[test]
fn batch_roundtrips_keys_values_and_headers() {
    let recs = vec![
        NewRecord::keyed("k1", "v1").with_header("h", "x"),
        NewRecord::value(vec![0u8, 255, 7]),
        NewRecord::keyed("", ""),
    ];
    let mut buf = Vec::new();
    encode_batch(&mut buf, &recs, 40, 1234, Some((9, 3)));
    assert_eq!(buf.len(), batch_size(&recs));
    let frame = Bytes::from(buf);
    let h = check_frame(&frame).unwrap();
    assert_eq!((h.base_offset, h.count, h.timestamp, h.producer_id, h.base_seq), (40, 3, 1234, 9, 3));
    assert_eq!((h.version, h.create_time, h.max_ts), (2, false, 1234));
    let mut out = Vec::new();
    decode_records(&frame, &h, 41, 10, &mut out).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].offset, 41);
    assert_eq!(out[0].key, None);
    assert_eq!(out[0].value.as_deref(), Some(&[0u8, 255, 7][..]));
    assert_eq!(out[0].timestamp, 1234, "no timestamp of its own: the append time");
    assert_eq!(out[1].key.as_deref(), Some(&b""[..]));
    assert_eq!(out[1].value.as_deref(), Some(&b""[..]), "an empty value is not a null one");
    let mut all = Vec::new();
    decode_records(&frame, &h, 0, 10, &mut all).unwrap();
    assert_eq!(all[0].headers, vec![("h".to_string(), Some(Bytes::from("x")))]);
}

#[test]
fn version_2_keeps_each_records_timestamp_null_values_and_null_header_values() {
    let append = 1_800_000_000_000;
    let recs = vec![
        NewRecord::keyed("a", "1").at(1_600_000_000_000),
        // Backwards, and far back: a client's timestamps need not rise.
        NewRecord::tombstone("a").at(5),
        NewRecord { headers: vec![("n".into(), None), ("n".into(), Some(Bytes::new()))], ..NewRecord::value("x") },
        NewRecord::value("ahead").at(append + 1000),
    ];
    let mut buf = Vec::new();
    encode_batch(&mut buf, &recs, 0, append, None);
    assert_eq!(buf.len(), batch_size(&recs));
    let (h, out) = decode_all(buf);
    assert_eq!((h.create_time, h.max_ts, h.timestamp), (true, append + 1000, append));
    let ts: Vec<i64> = out.iter().map(|r| r.timestamp).collect();
    assert_eq!(ts, vec![1_600_000_000_000, 5, append, append + 1000]);
    assert!(out.iter().all(|r| r.create_time));
    assert_eq!(out[1].value, None, "a tombstone stays null");
    assert_eq!(out[1].key.as_deref(), Some(&b"a"[..]));
    assert_eq!(out[2].headers, vec![("n".to_string(), None), ("n".to_string(), Some(Bytes::new()))]);
}

#[test]
fn version_1_frames_still_decode_with_the_batch_timestamp() {
    let recs = vec![NewRecord::keyed("k", "v").with_header("h", "x"), NewRecord::value("w")];
    let mut buf = Vec::new();
    v1::encode_batch(&mut buf, &recs, 7, 99, Some((4, 2)));
    assert_eq!(buf[8], MAGIC_V1);
    let (h, out) = decode_all(buf);
    assert_eq!((h.version, h.base_offset, h.count, h.timestamp, h.max_ts), (1, 7, 2, 99, 99));
    assert_eq!((h.producer_id, h.base_seq, h.create_time), (4, 2, false));
    let want = vec![
        Record {
            offset: 7,
            timestamp: 99,
            create_time: false,
            key: Some(Bytes::from("k")),
            value: Some(Bytes::from("v")),
            headers: vec![("h".into(), Some(Bytes::from("x")))],
        },
        Record {
            offset: 8,
            timestamp: 99,
            create_time: false,
            key: None,
            value: Some(Bytes::from("w")),
            headers: vec![],
        },
    ];
    assert_eq!(out, want);
}

#[test]
fn any_flipped_bit_is_detected() {
    let mut v2 = Vec::new();
    encode_batch(&mut v2, &[NewRecord::value("hello world").at(3)], 0, 1, None);
    let mut v1 = Vec::new();
    v1::encode_batch(&mut v1, &[NewRecord::value("hello world")], 0, 1, None);
    for buf in [v2, v1] {
        for byte in 0..buf.len() {
            let mut b = buf.clone();
            b[byte] ^= 0x10;
            assert!(check_frame(&b).is_err(), "flip at byte {byte} went unnoticed");
        }
        assert_eq!(check_frame(&buf[..buf.len() - 1]), Err(FrameError::Truncated));
    }
}

/// Re-frames `buf` (an encoded batch edited after encoding) with a correct length and CRC,
/// as a crafted file or a damaged one with a matching checksum would have.
fn reframe(mut buf: Vec<u8>) -> Vec<u8> {
    finish_frame(&mut buf, 0);
    buf
}

/// `buf` with the byte at `at` replaced by the varint 2^64 - 1.
fn huge_varint_at(buf: &[u8], at: usize) -> Bytes {
    let mut edited = buf[..at].to_vec();
    edited.extend_from_slice(&[0xff; 9]);
    edited.push(0x01);
    edited.extend_from_slice(&buf[at + 1..]);
    Bytes::from(reframe(edited))
}

#[test]
fn crafted_frames_with_a_good_crc_are_refused_without_a_panic() {
    // Found by the batch_decode fuzz target: offsets past u64::MAX.
    let mut buf = Vec::new();
    encode_batch(&mut buf, &[NewRecord::value("a"), NewRecord::value("b")], u64::MAX - 1, 1, None);
    let e = check_frame(&reframe(buf)).unwrap_err();
    assert!(matches!(e, FrameError::BadHeader(ref s) if s.contains("largest offset")), "{e:?}");
    // Lengths that overflow a position (a key, a value of 2^64 - 2 bytes), and a timestamp past
    // the batch's largest, in either version.
    let mut v2 = Vec::new();
    encode_batch(&mut v2, &[NewRecord::keyed("k", "v")], 0, 1, None);
    let mut v1 = Vec::new();
    v1::encode_batch(&mut v1, &[NewRecord::keyed("k", "v")], 0, 1, None);
    let cases = [
        (&v2, BATCH_HEADER),
        (&v2, BATCH_HEADER + 2),
        (&v2, BATCH_HEADER + 3),
        (&v1, BATCH_HEADER_V1),
        (&v1, BATCH_HEADER_V1 + 2),
    ];
    for (buf, at) in cases {
        let frame = huge_varint_at(buf, at);
        let h = check_frame(&frame).unwrap();
        let mut out = Vec::new();
        let e = decode_records(&frame, &h, 0, 10, &mut out).unwrap_err();
        assert!(matches!(e, FrameError::BadRecords(_)), "{e:?} at {at}");
    }
    // A header whose largest timestamp is before its append time, or with unknown attributes.
    let mut bad_max = v2.clone();
    bad_max[50..58].copy_from_slice(&0i64.to_le_bytes());
    let e = check_frame(&reframe(bad_max)).unwrap_err();
    assert!(matches!(e, FrameError::BadHeader(ref s) if s.contains("largest timestamp")), "{e:?}");
    let mut bad_attrs = v2.clone();
    bad_attrs[9] = 0x80;
    let e = check_frame(&reframe(bad_attrs)).unwrap_err();
    assert!(matches!(e, FrameError::BadHeader(ref s) if s.contains("attributes")), "{e:?}");
    // A version 1 length too short for a version 2 header.
    let mut short = v1.clone();
    short[8] = MAGIC;
    let e = check_frame(&reframe(short)).unwrap_err();
    assert!(matches!(e, FrameError::BadHeader(ref s) if s.contains("length")), "{e:?}");
}

#[test]
fn the_fuzz_seed_written_by_an_independent_encoder_is_what_encode_batch_writes() {
    // fuzz/corpus/batch_decode/v2_create_times_and_a_tombstone: 4 bytes of fuzz settings, then a
    // frame written from the format's description (not by this code).
    let seed = include_bytes!("../../fuzz/corpus/batch_decode/v2_create_times_and_a_tombstone");
    let recs = vec![
        NewRecord {
            headers: vec![("h".into(), Some(Bytes::from("v"))), ("n".into(), None)],
            ..NewRecord::keyed("k", "hello").at(1_600_000_000_000)
        },
        NewRecord::tombstone("k").at(5),
        NewRecord::value("x"),
    ];
    let mut buf = Vec::new();
    encode_batch(&mut buf, &recs, 100, 1_800_000_000_000, Some((7, 3)));
    assert_eq!(&seed[4..], &buf[..]);
}
