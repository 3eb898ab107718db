//! Reading a segment file's batches one after another, in large chunks, each CRC-checked.

use super::error::{EngineError, IoContext, Result};
use super::record::{self, BATCH_HEADER, BatchHeader, FrameError};
use super::storage::StorageFile;
use bytes::{Bytes, BytesMut};
use std::path::Path;

/// Reads batches one after another from a file, in large chunks.
pub struct FrameReader<'a> {
    file: &'a dyn StorageFile,
    path: &'a Path,
    /// File position of `buf[0]`.
    buf_pos: u64,
    buf: Bytes,
    /// Position of the next frame.
    pub pos: u64,
    end: u64,
    chunk: usize,
    /// Memory reused across reads: once every record sliced from an earlier chunk is dropped, the
    /// next chunk lands in the same allocation (no fresh pages to fault in for every fetch).
    scratch: BytesMut,
}

/// What the reader found at its position.
pub enum Frame {
    /// A whole, CRC-checked frame (`bytes` is exactly the frame).
    Ok(BatchHeader, Bytes),
    /// Damage at `pos`.
    Bad(FrameError),
    /// Nothing more before `end`.
    End,
}

impl<'a> FrameReader<'a> {
    pub fn new(file: &'a dyn StorageFile, path: &'a Path, pos: u64, end: u64, chunk: usize) -> Self {
        FrameReader {
            file,
            path,
            buf_pos: pos,
            buf: Bytes::new(),
            pos,
            end,
            chunk: chunk.max(BATCH_HEADER),
            scratch: BytesMut::new(),
        }
    }

    /// Reads into `scratch` (see [`FrameReader::into_scratch`]) instead of fresh memory.
    pub fn with_scratch(mut self, scratch: BytesMut) -> Self {
        self.scratch = scratch;
        self
    }

    /// The reusable memory, for the next reader.
    pub fn into_scratch(self) -> BytesMut {
        self.scratch
    }

    /// Makes sure `[pos, pos + len)` is in the buffer (or as much of it as exists before `end`).
    fn fill(&mut self, len: usize) -> Result<()> {
        if self.pos >= self.buf_pos && (self.pos - self.buf_pos) as usize + len <= self.buf.len() {
            return Ok(());
        }
        let want = len.max(self.chunk) as u64;
        let n = want.min(self.end - self.pos) as usize;
        // `reserve` takes back the whole allocation when no record still points into it.
        self.scratch.clear();
        self.scratch.reserve(n);
        self.scratch.resize(n, 0);
        let (pos, path) = (self.pos, self.path);
        self.file
            .read_exact_at(&mut self.scratch[..n], pos)
            .ctx(|| format!("read {n} bytes at byte {pos} of {}", path.display()))?;
        self.buf = self.scratch.split_to(n).freeze();
        self.buf_pos = self.pos;
        Ok(())
    }

    /// Reads the frame at the current position and, when whole and valid, moves past it.
    pub fn next_frame(&mut self) -> Result<Frame> {
        if self.pos >= self.end {
            return Ok(Frame::End);
        }
        self.fill(BATCH_HEADER)?;
        let off = (self.pos - self.buf_pos) as usize;
        let h = match record::parse_header(&self.buf[off..]) {
            Ok(h) => h,
            Err(e) => return Ok(Frame::Bad(e)),
        };
        if self.pos + h.frame_len as u64 > self.end {
            return Ok(Frame::Bad(FrameError::Truncated));
        }
        self.fill(h.frame_len)?;
        let off = (self.pos - self.buf_pos) as usize;
        let frame = self.buf.slice(off..off + h.frame_len);
        match record::check_frame(&frame) {
            Ok(h) => {
                self.pos += h.frame_len as u64;
                Ok(Frame::Ok(h, frame))
            }
            Err(e) => Ok(Frame::Bad(e)),
        }
    }

    /// The error for damage `e` found at the reader's position: corrupt data, naming the file
    /// and the byte.
    pub fn damage(&self, e: FrameError) -> EngineError {
        EngineError::Corrupt { file: self.path.to_path_buf(), position: self.pos, reason: e.to_string() }
    }

    /// The next whole, valid batch with the byte it starts at; `None` at the end. Damage is an
    /// error (see [`FrameReader::damage`]): for scans that accept nothing less than whole batches.
    pub fn next_batch(&mut self) -> Result<Option<(u64, BatchHeader, Bytes)>> {
        match self.next_frame()? {
            Frame::End => Ok(None),
            Frame::Bad(e) => Err(self.damage(e)),
            Frame::Ok(h, frame) => Ok(Some((self.pos - h.frame_len as u64, h, frame))),
        }
    }
}
