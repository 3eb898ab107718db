//! Hooks for the fuzz targets in `fuzz/` (a cargo-fuzz crate outside this package): one function
//! per target, taking the fuzzer's bytes. Each must return normally whatever the bytes are; a
//! panic, a hang or a broken promise (asserted here) is a finding. The normal test suite calls the
//! same functions on the inputs that once failed (tests/fuzz_regressions.rs).
//!
//! - [`disk`]: a partition's segment, index and checkpoint files, and the group journals, damaged
//!   by the bytes and opened on a simulated disk
//! - [`http`]: request bodies and query strings through the real router, in process
//! - [`text`]: the batch decoder; the config, theme and scenario parsers
//! - [`kafka`]: a Produce request's Kafka record batches, decoded and written back
//! - [`console`]: key, mouse and resize sequences into the console's `update`, drawn at
//!   random sizes

pub mod console;
pub mod disk;
pub mod http;
pub mod kafka;
pub mod text;

/// Reads the fuzzer's bytes front to back; past the end every read is zero, so any input is a
/// whole program.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.data.split_first() else { return 0 };
        self.data = rest;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A length-prefixed slice (one byte of length).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = self.u8() as usize;
        self.take(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}
