//! The one error type of the crate.
//!
//! [`ErrorKind`] says what went wrong; [`Error`] adds the stream offset of the frame it went wrong in.
//! [`ErrorClass`] is the coarse family each kind belongs to: the Python layer raises one exception class per
//! family, with the same names botocore uses where botocore has one.

use std::fmt::{self, Write as _};

/// The exception family of an error, one per Python exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    ChecksumMismatch,
    NotAnEventStream,
    InvalidHeadersLength,
    InvalidPayloadLength,
    InvalidHeaderValue,
    DuplicateHeader,
    TruncatedStream,
    InvalidChunk,
    InvalidSse,
}

/// What went wrong, independent of where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The CRC32 of the first 8 bytes does not match the prelude's CRC field.
    PreludeChecksum { expected: u32, computed: u32 },
    /// The CRC32 of the frame (without its last 4 bytes) does not match the message CRC field.
    MessageChecksum { expected: u32, computed: u32 },
    /// The stream's first bytes are text (JSON, SSE, HTML), not a binary prelude.
    NotAnEventStream { head: Vec<u8> },
    /// The prelude's headers length is over the configured maximum.
    HeadersTooLong { length: u32, max: u64 },
    /// The payload length the prelude implies is over the configured maximum.
    PayloadTooLong { length: u64, max: u64 },
    /// The prelude's lengths do not add up: the frame is shorter than its own prelude, headers and CRC.
    InconsistentLengths { total_length: u32, headers_length: u32 },
    /// A header's type byte is not one of the ten wire types.
    UnknownHeaderType { name: String, type_byte: u8 },
    /// A header (name or value) runs past the end of the headers section.
    HeaderOverrun { at: usize, needed: usize, available: usize },
    /// A header name or string value is not valid UTF-8.
    HeaderNotUtf8 { at: usize },
    /// The same header name appears twice in one frame.
    DuplicateHeader { name: String },
    /// The stream ended inside a frame.
    Truncated { received: usize, expected: Option<u32> },
    /// A Bedrock `chunk` payload is not `{"bytes": "<base64 of UTF-8>"}`.
    InvalidChunk { reason: &'static str, head: Vec<u8> },
    /// A server-sent events line is not UTF-8.
    SseNotUtf8 { line: Vec<u8> },
    /// A server-sent events block (one event's lines) is longer than the configured maximum.
    SseEventTooLong { length: u64, max: u64 },
}

impl ErrorKind {
    /// The exception family this kind is raised as.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::PreludeChecksum { .. } | Self::MessageChecksum { .. } => ErrorClass::ChecksumMismatch,
            Self::NotAnEventStream { .. } => ErrorClass::NotAnEventStream,
            // Lengths that cannot add up are a headers-length error in the reference implementations
            // (aws-c-event-stream, smithy-rs, aws-sdk-go); botocore misreads such frames.
            Self::HeadersTooLong { .. } | Self::InconsistentLengths { .. } => ErrorClass::InvalidHeadersLength,
            Self::PayloadTooLong { .. } => ErrorClass::InvalidPayloadLength,
            Self::UnknownHeaderType { .. } | Self::HeaderOverrun { .. } | Self::HeaderNotUtf8 { .. } => {
                ErrorClass::InvalidHeaderValue
            }
            Self::DuplicateHeader { .. } => ErrorClass::DuplicateHeader,
            Self::Truncated { .. } => ErrorClass::TruncatedStream,
            Self::InvalidChunk { .. } => ErrorClass::InvalidChunk,
            Self::SseNotUtf8 { .. } | Self::SseEventTooLong { .. } => ErrorClass::InvalidSse,
        }
    }

    /// Attach the stream offset of the frame this happened in.
    pub fn at(self, offset: u64) -> Error {
        Error { kind: self, offset }
    }
}

/// A decoding failure: what went wrong ([`ErrorKind`]) and the stream offset of the frame it happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: u64,
}

impl Error {
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn class(&self) -> ErrorClass {
        self.kind.class()
    }

    /// Byte offset, from the start of the stream, of the frame the error was found in.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

/// Shows at most `limit` bytes the way Python's `repr(bytes)` would, so messages read the same from both
/// backends.
pub fn bytes_repr(bytes: &[u8], limit: usize) -> String {
    let shown = &bytes[..bytes.len().min(limit)];
    let mut out = String::with_capacity(shown.len() + 3);
    out.push_str("b'");
    for &b in shown {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    if bytes.len() > limit {
        out.push_str("...");
    }
    out
}

pub use crate::wire::HEAD_SHOWN;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            ErrorKind::PreludeChecksum { expected, computed } => {
                wire_message!(PRELUDE_CHECKSUM, f, at = at, expected = expected, computed = computed)
            }
            ErrorKind::MessageChecksum { expected, computed } => {
                wire_message!(MESSAGE_CHECKSUM, f, at = at, expected = expected, computed = computed)
            }
            ErrorKind::NotAnEventStream { head } => {
                wire_message!(NOT_AN_EVENT_STREAM, f, head = bytes_repr(head, HEAD_SHOWN))
            }
            ErrorKind::HeadersTooLong { length, max } => {
                wire_message!(HEADERS_TOO_LONG, f, length = length, at = at, max = max)
            }
            ErrorKind::PayloadTooLong { length, max } => {
                wire_message!(PAYLOAD_TOO_LONG, f, length = length, at = at, max = max)
            }
            ErrorKind::InconsistentLengths { total_length, headers_length } => wire_message!(
                INCONSISTENT_LENGTHS,
                f,
                at = at,
                total_length = total_length,
                needed = u64::from(*headers_length) + 16,
                headers_length = headers_length,
            ),
            ErrorKind::UnknownHeaderType { name, type_byte } => {
                wire_message!(UNKNOWN_HEADER_TYPE, f, name = name, at = at, type_byte = type_byte)
            }
            ErrorKind::HeaderOverrun { at: position, needed, available } => {
                wire_message!(HEADER_OVERRUN, f, position = position, at = at, needed = needed, available = available,)
            }
            ErrorKind::HeaderNotUtf8 { at: position } => {
                wire_message!(HEADER_NOT_UTF8, f, position = position, at = at)
            }
            ErrorKind::DuplicateHeader { name } => wire_message!(DUPLICATE_HEADER, f, name = name, at = at),
            ErrorKind::Truncated { received, expected: Some(total) } => {
                wire_message!(TRUNCATED, f, at = at, received = received, total = total)
            }
            ErrorKind::Truncated { received, expected: None } => {
                wire_message!(TRUNCATED_PRELUDE, f, at = at, received = received)
            }
            ErrorKind::InvalidChunk { reason, head } => {
                wire_message!(INVALID_CHUNK, f, at = at, reason = reason, head = bytes_repr(head, HEAD_SHOWN))
            }
            ErrorKind::SseNotUtf8 { line } => {
                wire_message!(SSE_NOT_UTF8, f, at = at, line = bytes_repr(line, HEAD_SHOWN))
            }
            ErrorKind::SseEventTooLong { length, max } => {
                wire_message!(SSE_EVENT_TOO_LONG, f, at = at, length = length, max = max)
            }
        }
    }
}

impl std::error::Error for Error {}
