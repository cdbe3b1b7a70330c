//! A whole frame: prelude, headers section, payload, message CRC.

use crate::error::ErrorKind;
use crate::header::{self, EncodeError, Header, HeaderIter, KnownHeaders};
use crate::prelude::{Prelude, MESSAGE_CRC_LENGTH, MIN_FRAME_LENGTH, PRELUDE_LENGTH};

/// What a frame is, from its `:message-type` header, so the layers above never re-read headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// `:message-type` = `event`.
    Event,
    /// `:message-type` = `exception`: a modeled error, named by `:exception-type`.
    Exception,
    /// `:message-type` = `error`: an unmodeled error, with `:error-code` / `:error-message`.
    Error,
    /// Missing, not a string, or another value.
    Other,
}

/// A validated frame borrowed from the bytes it was decoded from: both CRCs match, the headers are
/// well-formed and unique.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub prelude: Prelude,
    /// The whole frame, prelude to message CRC.
    pub raw: &'a [u8],
    pub headers: &'a [u8],
    pub payload: &'a [u8],
    /// The message CRC.
    pub crc: u32,
    pub known: KnownHeaders<'a>,
}

impl<'a> Frame<'a> {
    /// Checks and splits `raw`, which must be exactly `prelude.total_length` bytes whose first 12 are the
    /// already-validated `prelude`.
    pub fn parse(raw: &'a [u8], prelude: Prelude) -> Result<Self, ErrorKind> {
        debug_assert_eq!(raw.len(), prelude.frame_length());
        let payload_end = prelude.payload_end();
        let crc_bytes: [u8; MESSAGE_CRC_LENGTH] =
            raw.get(payload_end..).and_then(|tail| tail.try_into().ok()).ok_or(ErrorKind::InconsistentLengths {
                total_length: prelude.total_length,
                headers_length: prelude.headers_length,
            })?;
        let expected = u32::from_be_bytes(crc_bytes);
        // One pass over 0..payload_end (the prelude's 8 bytes again: cheaper than `new_with_initial`'s feature
        // detection, see `crc`).
        let mut hasher = crate::crc::hasher();
        hasher.update(&raw[..payload_end]);
        let computed = hasher.finalize();
        if expected != computed {
            return Err(ErrorKind::MessageChecksum { expected, computed });
        }
        let headers = &raw[PRELUDE_LENGTH..prelude.headers_end()];
        let known = header::validate(headers)?;
        Ok(Self { prelude, raw, headers, payload: &raw[prelude.headers_end()..payload_end], crc: expected, known })
    }

    pub fn message_type(&self) -> MessageType {
        match self.known.message_type {
            Some("event") => MessageType::Event,
            Some("exception") => MessageType::Exception,
            Some("error") => MessageType::Error,
            _ => MessageType::Other,
        }
    }

    /// The headers, in wire order. They were validated when the frame was, so every item is `Ok`.
    pub fn header_iter(&self) -> HeaderIter<'a> {
        HeaderIter::new(self.headers)
    }
}

/// Encodes one frame. Header names must be unique for the result to decode; that is the caller's choice
/// to make (tests build invalid frames on purpose).
pub fn encode_message(headers: &[Header<'_>], payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut out = vec![0u8; PRELUDE_LENGTH];
    for h in headers {
        h.encode(&mut out)?;
    }
    let headers_length = out.len() - PRELUDE_LENGTH;
    out.extend_from_slice(payload);
    let total = out.len() + MESSAGE_CRC_LENGTH;
    debug_assert!(total >= MIN_FRAME_LENGTH);
    let total_length = u32::try_from(total).map_err(|_| EncodeError::FrameTooLong { length: total })?;
    let headers_length = u32::try_from(headers_length).map_err(|_| EncodeError::FrameTooLong { length: total })?;
    out[..4].copy_from_slice(&total_length.to_be_bytes());
    out[4..8].copy_from_slice(&headers_length.to_be_bytes());
    let prelude_crc = crate::crc::hash(&out[..8]);
    out[8..12].copy_from_slice(&prelude_crc.to_be_bytes());
    let message_crc = crate::crc::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::HeaderValue;
    use crate::prelude::Limits;

    fn parse(raw: &[u8]) -> Result<Frame<'_>, ErrorKind> {
        let prelude = Prelude::parse(raw[..12].try_into().unwrap(), &Limits::default())?;
        Frame::parse(raw, prelude)
    }

    #[test]
    fn encodes_and_parses_an_event() {
        let raw = encode_message(
            &[
                Header { name: ":message-type", value: HeaderValue::String("event") },
                Header { name: ":event-type", value: HeaderValue::String("chunk") },
            ],
            b"{}",
        )
        .unwrap();
        let frame = parse(&raw).unwrap();
        assert_eq!(frame.message_type(), MessageType::Event);
        assert_eq!(frame.known.event_type, Some("chunk"));
        assert_eq!(frame.payload, b"{}");
        assert_eq!(frame.prelude.total_length as usize, raw.len());
    }

    #[test]
    fn empty_frame_is_sixteen_bytes() {
        let raw = encode_message(&[], b"").unwrap();
        assert_eq!(raw.len(), 16);
        let frame = parse(&raw).unwrap();
        assert!(frame.headers.is_empty() && frame.payload.is_empty());
        assert_eq!(frame.message_type(), MessageType::Other);
    }

    #[test]
    fn every_single_bit_flip_is_caught() {
        let raw = encode_message(&[Header { name: "k", value: HeaderValue::String("v") }], b"payload").unwrap();
        for bit in 0..raw.len() * 8 {
            let mut bad = raw.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let prelude = Prelude::parse(bad[..12].try_into().unwrap(), &Limits::default());
            let result = prelude.and_then(|p| {
                if p.frame_length() == bad.len() {
                    Frame::parse(&bad, p).map(|_| ())
                } else {
                    Err(ErrorKind::InconsistentLengths { total_length: p.total_length, headers_length: 0 })
                }
            });
            assert!(result.is_err(), "bit {bit} went unnoticed");
        }
    }

    #[test]
    fn valid_crcs_around_lying_headers_are_still_rejected() {
        // A header claiming a 9-byte string in a 5-byte section, with both CRCs recomputed to match.
        let mut raw = encode_message(&[Header { name: "a", value: HeaderValue::String("x") }], b"").unwrap();
        raw[12 + 4] = 9; // the string's length, low byte
        let n = raw.len();
        let crc = crate::crc::hash(&raw[..n - 4]);
        raw[n - 4..].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(parse(&raw), Err(ErrorKind::HeaderOverrun { .. })));
    }
}
