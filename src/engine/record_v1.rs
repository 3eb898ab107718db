//! The version 1 encoder, kept for tests only: data directories written before version 2 must
//! still open and read the same.

use super::{FRAME_PREFIX, MAGIC_V1, NewRecord, finish_frame, put_varint};

/// Encodes `records` as one version 1 frame appended to `buf`, as depot wrote them before
/// version 2. A null value or header value cannot be written in version 1: it is written empty.
pub fn encode_batch(
    buf: &mut Vec<u8>,
    records: &[NewRecord],
    base_offset: u64,
    timestamp: i64,
    producer: Option<(u64, u32)>,
) {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; FRAME_PREFIX]);
    buf.push(MAGIC_V1);
    buf.push(0);
    buf.extend_from_slice(&(records.len() as u32).to_le_bytes());
    buf.extend_from_slice(&base_offset.to_le_bytes());
    buf.extend_from_slice(&timestamp.to_le_bytes());
    let (pid, seq) = producer.unwrap_or((0, 0));
    buf.extend_from_slice(&pid.to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    for r in records {
        match &r.key {
            Some(k) => {
                put_varint(buf, k.len() as u64 + 1);
                buf.extend_from_slice(k);
            }
            None => buf.push(0),
        }
        let value = r.value.as_deref().unwrap_or_default();
        put_varint(buf, value.len() as u64);
        buf.extend_from_slice(value);
        put_varint(buf, r.headers.len() as u64);
        for (name, v) in &r.headers {
            put_varint(buf, name.len() as u64);
            buf.extend_from_slice(name.as_bytes());
            let v = v.as_deref().unwrap_or_default();
            put_varint(buf, v.len() as u64);
            buf.extend_from_slice(v);
        }
    }
    finish_frame(buf, start);
}
