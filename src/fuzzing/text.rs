//! Byte- and text-level targets: the batch decoder on arbitrary frames, and every TOML file a
//! user hands depot (the config file with its keys and contexts, a theme, a demo scenario).

use super::Bytes;
use crate::engine::record::{FRAME_PREFIX, MAGIC, MAGIC_V1, check_frame, decode_records, is_magic, parse_header};

/// Target `batch_decode`. The first byte chooses how honest the frame is: as given, with its
/// length and magic made right (a frame of neither version gets version 2's magic, or version
/// 1's when the byte's top bit is set), or also with a correct CRC32C, so the record decoder
/// behind the checksum is reached too. Whatever decodes must be records in offset order within
/// the batch, none with a timestamp past the batch's largest.
pub fn batch_decode(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mode = b.u8();
    let from = u64::from(b.u16());
    let max = b.u8() as usize;
    let mut frame = b.rest().to_vec();
    if !mode.is_multiple_of(3) && frame.len() >= 12 {
        let len = (frame.len() - 4) as u32;
        frame[0..4].copy_from_slice(&len.to_le_bytes());
        if !is_magic(frame[8]) {
            frame[8] = if mode & 0x80 != 0 { MAGIC_V1 } else { MAGIC };
        }
        if mode % 3 == 2 {
            let crc = crc32c::crc32c(&frame[FRAME_PREFIX..]);
            frame[4..8].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let _ = parse_header(&frame);
    let Ok(h) = check_frame(&frame) else { return };
    let bytes = bytes::Bytes::copy_from_slice(&frame[..h.frame_len]);
    let mut out = Vec::new();
    if decode_records(&bytes, &h, h.base_offset.saturating_add(from % 8), max.max(1), &mut out).is_ok() {
        assert!(out.len() <= max.max(1) && out.len() as u64 <= u64::from(h.count), "{} records", out.len());
        assert!(out.windows(2).all(|w| w[0].offset < w[1].offset), "offsets rise");
        assert!(out.iter().all(|r| r.timestamp <= h.max_ts), "a timestamp passes the batch's largest");
        assert!(out.iter().all(|r| h.version == 2 || (r.value.is_some() && r.timestamp == h.timestamp)));
    }
}

/// Target `toml_config`. The first byte says which file the rest is: the config file (then its
/// `[keys]` are bound and its `[contexts]` parsed, as the console and `--context` do), a theme,
/// or a demo scenario. Each must parse or say why, never panic.
pub fn toml_config(data: &[u8]) {
    let mut b = Bytes::new(data);
    let which = b.u8();
    let Ok(text) = std::str::from_utf8(b.rest()) else { return };
    match which % 3 {
        0 => {
            let (file, _problems) = crate::config::parse(text, "config.toml");
            let _ = crate::console::keymap::Keymap::with_overrides(&file.keys, &["knob", "pause"]);
            let _ = crate::backend::context::parse(&file.contexts, &|name: &str| Some(format!("env-{name}")));
        }
        1 => {
            let _ = crate::console::theme::Theme::parse(text, "fuzz");
        }
        _ => {
            let _ = crate::demo::scenario::parse(text, "fuzz.toml");
        }
    }
}
