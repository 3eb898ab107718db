//! Kafka's framing: every request and response is `size i32 | bytes`. A request's size is
//! checked against the cap before anything is allocated, and its bytes are read in pieces as they
//! arrive, so a client that announces 100 MiB and sends ten bytes holds ten bytes of memory.
//! A response is `size | correlation id | (an empty tagged-field section for header v1) | body`.

use bytes::{BufMut, Bytes, BytesMut};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes a response body is encoded after: room for the largest response header (size,
/// correlation id, one byte of tagged fields), filled in once the body's length is known.
pub const HEADER_ROOM: usize = 9;

/// Why no request could be read.
#[derive(Debug)]
pub enum FrameError {
    /// The client closed the connection between two requests (the ordinary end).
    Closed,
    /// Nothing arrived within the idle timeout.
    Idle,
    /// The size field is negative, or larger than the cap.
    BadSize(i32),
    /// The connection ended, or stalled past the timeout, inside a request.
    Truncated {
        expected: usize,
        got: usize,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Closed => write!(f, "the client closed the connection"),
            FrameError::Idle => write!(f, "the connection was idle too long"),
            FrameError::BadSize(n) => write!(f, "a request announced {n} bytes, outside the accepted sizes"),
            FrameError::Truncated { expected, got } => {
                write!(f, "a request was cut short: {got} of its {expected} bytes arrived")
            }
            FrameError::Io(e) => write!(f, "reading a request failed: {e}"),
        }
    }
}

/// Reads one request frame (without its size field). Waits up to `idle` for the first byte and
/// `body_timeout` for the rest; a size below 8 (no room for a header) or above `max` is refused
/// before any memory is taken for it.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
    idle: Duration,
    body_timeout: Duration,
) -> Result<Bytes, FrameError> {
    let mut size = [0u8; 4];
    let first = match tokio::time::timeout(idle, r.read(&mut size)).await {
        Err(_) => return Err(FrameError::Idle),
        Ok(Err(e)) => return Err(FrameError::Io(e)),
        Ok(Ok(0)) => return Err(FrameError::Closed),
        Ok(Ok(n)) => n,
    };
    let rest = async {
        let mut got = first;
        while got < 4 {
            match r.read(&mut size[got..]).await? {
                0 => return Ok(Err(FrameError::Truncated { expected: 4, got })),
                n => got += n,
            }
        }
        let n = i32::from_be_bytes(size);
        if n < 8 || n as usize > max {
            return Ok(Err(FrameError::BadSize(n)));
        }
        let len = n as usize;
        let mut buf = BytesMut::with_capacity(len.min(64 * 1024));
        while buf.len() < len {
            if buf.capacity() == buf.len() {
                buf.reserve((len - buf.len()).min(buf.len().max(64 * 1024)));
            }
            let want = len - buf.len();
            let read = (&mut *r).take(want as u64).read_buf(&mut buf).await?;
            if read == 0 {
                return Ok(Err(FrameError::Truncated { expected: len, got: buf.len() }));
            }
        }
        Ok::<_, std::io::Error>(Ok(buf.freeze()))
    };
    match tokio::time::timeout(body_timeout, rest).await {
        Err(_) => Err(FrameError::Truncated { expected: i32::from_be_bytes(size).max(0) as usize, got: 0 }),
        Ok(Err(e)) => Err(FrameError::Io(e)),
        Ok(Ok(r)) => r,
    }
}

/// A buffer to encode a response body into, with [`HEADER_ROOM`] bytes before it.
pub fn reply_buffer(capacity: usize) -> BytesMut {
    let mut b = BytesMut::with_capacity(HEADER_ROOM + capacity);
    b.put_bytes(0, HEADER_ROOM);
    b
}

/// Writes the response in `buf` (its body after [`HEADER_ROOM`]) with its size and header, in
/// one write; gives up after `timeout` (a client that does not read its answers).
pub async fn write_reply<W: AsyncWrite + Unpin>(
    w: &mut W,
    mut buf: BytesMut,
    correlation_id: i32,
    header_version: i16,
    timeout: Duration,
) -> std::io::Result<()> {
    let header = if header_version >= 1 { 5 } else { 4 };
    let start = HEADER_ROOM - header - 4;
    let size = (buf.len() - start - 4) as i32;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
    buf[start + 4..start + 8].copy_from_slice(&correlation_id.to_be_bytes());
    if header == 5 {
        buf[start + 8] = 0;
    }
    match tokio::time::timeout(timeout, w.write_all(&buf[start..])).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client did not read its responses")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn a_frame_reads_whole_and_sizes_outside_the_cap_are_refused_unread() {
        let mut ok: &[u8] = &[0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(&read_frame(&mut ok, 100, T, T).await.unwrap()[..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut big: &[u8] = &[0x7f, 0xff, 0xff, 0xff, 1];
        assert!(matches!(read_frame(&mut big, 100, T, T).await, Err(FrameError::BadSize(i32::MAX))));
        let mut negative: &[u8] = &[0xff, 0xff, 0xff, 0xff];
        assert!(matches!(read_frame(&mut negative, 100, T, T).await, Err(FrameError::BadSize(-1))));
        let mut cut: &[u8] = &[0, 0, 0, 20, 1, 2, 3];
        assert!(matches!(read_frame(&mut cut, 100, T, T).await, Err(FrameError::Truncated { expected: 20, got: 3 })));
        let mut empty: &[u8] = &[];
        assert!(matches!(read_frame(&mut empty, 100, T, T).await, Err(FrameError::Closed)));
    }

    #[tokio::test]
    async fn a_reply_carries_its_size_correlation_id_and_header() {
        let mut buf = reply_buffer(3);
        buf.extend_from_slice(b"abc");
        let mut out = Vec::new();
        write_reply(&mut out, buf.clone(), 7, 0, T).await.unwrap();
        assert_eq!(out, [0, 0, 0, 7, 0, 0, 0, 7, b'a', b'b', b'c']);
        let mut out = Vec::new();
        write_reply(&mut out, buf, 7, 1, T).await.unwrap();
        assert_eq!(out, [0, 0, 0, 8, 0, 0, 0, 7, 0, b'a', b'b', b'c']);
    }
}
