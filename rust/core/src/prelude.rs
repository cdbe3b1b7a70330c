//! The 12-byte prelude: `total_length u32 | headers_length u32 | prelude_crc u32`, all big-endian.

use crate::error::ErrorKind;
use crate::wire::{DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH};

/// Bytes in a prelude.
pub use crate::wire::PRELUDE_LENGTH;
/// Bytes in the trailing message CRC.
pub const MESSAGE_CRC_LENGTH: usize = 4;
/// The smallest possible frame: a prelude, no headers, no payload, the message CRC.
pub const MIN_FRAME_LENGTH: usize = PRELUDE_LENGTH + MESSAGE_CRC_LENGTH;

/// Caps enforced as soon as a prelude arrives, before any of the frame is buffered.
///
/// The defaults are botocore's (`_MAX_HEADERS_LENGTH`, `_MAX_PAYLOAD_LENGTH`), so both accept and reject the
/// same frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_headers_length: u64,
    pub max_payload_length: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_headers_length: DEFAULT_MAX_HEADERS_LENGTH, max_payload_length: DEFAULT_MAX_PAYLOAD_LENGTH }
    }
}

/// A prelude whose CRC has been checked and whose lengths are within [`Limits`] and add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prelude {
    pub total_length: u32,
    pub headers_length: u32,
    pub crc: u32,
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl Prelude {
    /// Reads and validates a prelude, in botocore's order: the CRC before any length is trusted, then the
    /// headers limit, then the payload limit; last, that the lengths describe a possible frame (botocore
    /// skips this and misreads such frames; we refuse them).
    pub fn parse(bytes: &[u8; PRELUDE_LENGTH], limits: &Limits) -> Result<Self, ErrorKind> {
        let total_length = be_u32(bytes, 0);
        let headers_length = be_u32(bytes, 4);
        let expected = be_u32(bytes, 8);
        let computed = crate::crc::hash(&bytes[..8]);
        if expected != computed {
            return Err(ErrorKind::PreludeChecksum { expected, computed });
        }
        if u64::from(headers_length) > limits.max_headers_length {
            return Err(ErrorKind::HeadersTooLong { length: headers_length, max: limits.max_headers_length });
        }
        // Signed like botocore's: a negative payload length is not "too long", it is inconsistent (below).
        let payload_length =
            i64::from(total_length) - i64::from(headers_length) - i64::try_from(MIN_FRAME_LENGTH).unwrap_or(16);
        if let Ok(length) = u64::try_from(payload_length) {
            if length > limits.max_payload_length {
                return Err(ErrorKind::PayloadTooLong { length, max: limits.max_payload_length });
            }
        } else {
            return Err(ErrorKind::InconsistentLengths { total_length, headers_length });
        }
        Ok(Self { total_length, headers_length, crc: expected })
    }

    /// The frame's length in bytes, prelude and message CRC included.
    pub fn frame_length(&self) -> usize {
        self.total_length as usize
    }

    /// Where the headers end (and the payload starts), from the start of the frame.
    pub fn headers_end(&self) -> usize {
        PRELUDE_LENGTH + self.headers_length as usize
    }

    /// Where the payload ends (and the message CRC starts), from the start of the frame.
    pub fn payload_end(&self) -> usize {
        self.frame_length() - MESSAGE_CRC_LENGTH
    }
}

/// Whether a stream's first bytes read as text rather than a prelude. A real prelude starts with the high
/// byte of a length under the payload limit, which is never a printable character; a proxy's JSON error,
/// an SSE body or an HTML page starts with one.
pub fn looks_like_text(head: &[u8]) -> bool {
    !head.is_empty() && head.iter().take(PRELUDE_LENGTH).all(|&b| matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prelude(total: u32, headers: u32) -> [u8; 12] {
        let mut p = [0u8; 12];
        p[..4].copy_from_slice(&total.to_be_bytes());
        p[4..8].copy_from_slice(&headers.to_be_bytes());
        let crc = crate::crc::hash(&p[..8]);
        p[8..].copy_from_slice(&crc.to_be_bytes());
        p
    }

    #[test]
    fn accepts_smallest_frame() {
        let p = Prelude::parse(&prelude(16, 0), &Limits::default()).unwrap();
        assert_eq!((p.frame_length(), p.headers_end(), p.payload_end()), (16, 12, 12));
    }

    #[test]
    fn checks_crc_before_lengths() {
        let mut p = prelude(u32::MAX, u32::MAX);
        p[11] ^= 1;
        assert!(matches!(Prelude::parse(&p, &Limits::default()), Err(ErrorKind::PreludeChecksum { .. })));
    }

    #[test]
    fn enforces_limits_in_botocore_order() {
        let limits = Limits::default();
        assert!(matches!(
            Prelude::parse(&prelude(u32::MAX, 200_000), &limits),
            Err(ErrorKind::HeadersTooLong { length: 200_000, .. })
        ));
        assert!(matches!(Prelude::parse(&prelude(u32::MAX, 0), &limits), Err(ErrorKind::PayloadTooLong { .. })));
        let exact = u32::try_from(limits.max_payload_length).unwrap() + 16;
        assert!(Prelude::parse(&prelude(exact, 0), &limits).is_ok());
        assert!(Prelude::parse(&prelude(exact + 1, 0), &limits).is_err());
    }

    #[test]
    fn rejects_lengths_that_do_not_add_up() {
        for (total, headers) in [(0, 0), (15, 0), (16, 1), (20, 5)] {
            assert!(matches!(
                Prelude::parse(&prelude(total, headers), &Limits::default()),
                Err(ErrorKind::InconsistentLengths { .. })
            ));
        }
    }

    #[test]
    fn tells_text_from_preludes() {
        assert!(looks_like_text(b"{\"message\":\"x\"}"));
        assert!(looks_like_text(b"event: ping\n"));
        assert!(!looks_like_text(&prelude(100, 10)));
        assert!(!looks_like_text(b""));
    }
}
