//! The incremental decoder: bytes in, in pieces of any size; validated frames out, in order.
//!
//! A frame that lies wholly inside one fed chunk is handed out as a borrow of that chunk: no copy. Only a
//! frame split across chunks is stitched, in a carry-over buffer that holds at most that one frame and
//! grows with the bytes actually received, never with the length a prelude merely claims.

use std::ops::Range;

use crate::error::{Error, ErrorKind, HEAD_SHOWN};
use crate::frame::Frame;
use crate::prelude::{looks_like_text, Limits, Prelude, PRELUDE_LENGTH};

/// Where a frame handed to the sink lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameBytes {
    /// Inside the chunk just fed, at this range: borrow it.
    Input(Range<usize>),
    /// In the decoder's carry-over buffer, only until the sink returns: copy what you keep.
    Stitched,
}

/// A frame's place in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Byte offset of the frame's first byte from the start of the stream.
    pub offset: u64,
    pub bytes: FrameBytes,
}

/// A carry-over buffer larger than this is released after its frame is handed out, so that one large frame
/// does not pin its memory for the rest of the stream.
const RETAINED_CARRY_CAPACITY: usize = 64 * 1024;

/// The incremental decoder.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    /// Bytes of the one frame that started but did not end in an earlier chunk.
    carry: Vec<u8>,
    /// That frame's prelude, once its 12 bytes are in and valid.
    carry_prelude: Option<Prelude>,
    /// Stream offset of `carry[0]`.
    carry_offset: u64,
    /// Bytes fed so far.
    fed: u64,
    /// The first error; every later call reports it again, as the stream cannot be resynchronised.
    failed: Option<Error>,
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Self { limits, ..Self::default() }
    }

    /// Bytes held back for a frame that has not ended yet.
    pub fn buffered(&self) -> usize {
        self.carry.len()
    }

    /// Feeds `input` and hands every frame it completes to `sink`, in stream order.
    ///
    /// Stops at the first error, the decoder's or one the sink returns for a frame (a layer above that
    /// finds a frame's payload malformed); every later call returns that error again. Frames handed out
    /// before an error stay handed out.
    pub fn feed(
        &mut self,
        input: &[u8],
        mut sink: impl FnMut(&Frame<'_>, Location) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let base = self.fed;
        self.fed = self.fed.saturating_add(input.len() as u64);
        let mut pos = 0;

        if !self.carry.is_empty() {
            pos = match self.finish_carried(input, &mut sink) {
                Ok(Some(used)) => used,
                Ok(None) => return Ok(()),
                Err(e) => return Err(e),
            };
        }

        while pos < input.len() {
            let rest = &input[pos..];
            let offset = base + pos as u64;
            let Some(prelude_bytes) = rest.first_chunk::<PRELUDE_LENGTH>() else {
                self.start_carry(rest, offset, None);
                break;
            };
            let prelude = self.parse_prelude(prelude_bytes, || rest.to_vec(), offset)?;
            let length = prelude.frame_length();
            if rest.len() < length {
                self.start_carry(rest, offset, Some(prelude));
                break;
            }
            let frame = Frame::parse(&rest[..length], prelude).map_err(|kind| self.fail(kind, offset))?;
            sink(&frame, Location { offset, bytes: FrameBytes::Input(pos..pos + length) })
                .map_err(|e| self.fail_with(e))?;
            pos += length;
        }
        Ok(())
    }

    /// Declares the end of the stream: an error if a frame was left unfinished.
    pub fn close(&mut self) -> Result<(), Error> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.carry.is_empty() {
            return Ok(());
        }
        let kind = if self.carry_offset == 0 && looks_like_text(&self.carry) {
            ErrorKind::NotAnEventStream { head: self.carry[..self.carry.len().min(HEAD_SHOWN + 1)].to_vec() }
        } else {
            ErrorKind::Truncated { received: self.carry.len(), expected: self.carry_prelude.map(|p| p.total_length) }
        };
        Err(self.fail(kind, self.carry_offset))
    }

    /// Completes the carried frame from the front of `input`. Returns how much of `input` it used, or `None`
    /// if `input` ran out first.
    fn finish_carried(
        &mut self,
        input: &[u8],
        sink: &mut impl FnMut(&Frame<'_>, Location) -> Result<(), Error>,
    ) -> Result<Option<usize>, Error> {
        let offset = self.carry_offset;
        let mut used = 0;
        let prelude = if let Some(prelude) = self.carry_prelude {
            prelude
        } else {
            used = (PRELUDE_LENGTH - self.carry.len()).min(input.len());
            self.carry.extend_from_slice(&input[..used]);
            let Some(prelude_bytes) = self.carry.first_chunk::<PRELUDE_LENGTH>().copied() else {
                return Ok(None);
            };
            let prelude = match Prelude::parse(&prelude_bytes, &self.limits) {
                Ok(prelude) => prelude,
                Err(kind) => {
                    let head = [self.carry.as_slice(), &input[used..input.len().min(used + HEAD_SHOWN + 1)]].concat();
                    return Err(self.prelude_error(kind, || head, offset));
                }
            };
            self.carry_prelude = Some(prelude);
            prelude
        };
        let missing = prelude.frame_length() - self.carry.len();
        let take = missing.min(input.len() - used);
        self.carry.extend_from_slice(&input[used..used + take]);
        used += take;
        if take < missing {
            return Ok(None);
        }
        let stitched = std::mem::take(&mut self.carry);
        self.carry_prelude = None;
        let result = match Frame::parse(&stitched, prelude) {
            Ok(frame) => sink(&frame, Location { offset, bytes: FrameBytes::Stitched }).map_err(|e| self.fail_with(e)),
            Err(kind) => Err(self.fail(kind, offset)),
        };
        if stitched.capacity() <= RETAINED_CARRY_CAPACITY {
            self.carry = stitched;
            self.carry.clear();
        }
        result.map(|()| Some(used))
    }

    /// Reads a prelude; `head` (the stream's first bytes, wanted only to describe a failure) is built only
    /// if it is needed.
    fn parse_prelude(
        &mut self,
        bytes: &[u8; PRELUDE_LENGTH],
        head: impl FnOnce() -> Vec<u8>,
        offset: u64,
    ) -> Result<Prelude, Error> {
        Prelude::parse(bytes, &self.limits).map_err(|kind| self.prelude_error(kind, head, offset))
    }

    fn prelude_error(&mut self, kind: ErrorKind, head: impl FnOnce() -> Vec<u8>, offset: u64) -> Error {
        let kind = match kind {
            ErrorKind::PreludeChecksum { .. } if offset == 0 => {
                let mut head = head();
                if looks_like_text(&head) {
                    head.truncate(HEAD_SHOWN + 1);
                    ErrorKind::NotAnEventStream { head }
                } else {
                    kind
                }
            }
            other => other,
        };
        self.fail(kind, offset)
    }

    fn start_carry(&mut self, rest: &[u8], offset: u64, prelude: Option<Prelude>) {
        debug_assert!(self.carry.is_empty());
        self.carry.extend_from_slice(rest);
        self.carry_offset = offset;
        self.carry_prelude = prelude;
    }

    fn fail(&mut self, kind: ErrorKind, offset: u64) -> Error {
        self.fail_with(kind.at(offset))
    }

    fn fail_with(&mut self, error: Error) -> Error {
        self.failed = Some(error.clone());
        self.carry = Vec::new();
        self.carry_prelude = None;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorClass;
    use crate::frame::encode_message;
    use crate::header::{Header, HeaderValue};

    fn stream(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let payload = format!("payload number {i}").repeat(i % 5);
                encode_message(
                    &[Header { name: "n", value: HeaderValue::Integer(i32::try_from(i).unwrap()) }],
                    payload.as_bytes(),
                )
                .unwrap()
            })
            .collect()
    }

    type Decoded = (Vec<(u64, Vec<u8>)>, Result<(), Error>);

    fn decode_in(bytes: &[u8], chunk: usize) -> Decoded {
        let mut decoder = Decoder::new(Limits::default());
        let mut frames = Vec::new();
        for piece in bytes.chunks(chunk) {
            let result = decoder.feed(piece, |f, loc| {
                frames.push((loc.offset, f.payload.to_vec()));
                Ok(())
            });
            if let Err(e) = result {
                return (frames, Err(e));
            }
        }
        let closed = decoder.close();
        (frames, closed)
    }

    #[test]
    fn every_chunking_gives_the_same_frames() {
        let bytes = stream(12);
        let (expected, ok) = decode_in(&bytes, bytes.len());
        assert!(ok.is_ok());
        assert_eq!(expected.len(), 12);
        for chunk in 1..=bytes.len() {
            assert_eq!(decode_in(&bytes, chunk), (expected.clone(), Ok(())), "chunk size {chunk}");
        }
    }

    #[test]
    fn every_truncation_is_reported_at_close() {
        let bytes = stream(3);
        let boundaries: Vec<u64> = decode_in(&bytes, bytes.len()).0.iter().map(|f| f.0).collect();
        for cut in 0..bytes.len() {
            let (frames, closed) = decode_in(&bytes[..cut], 7);
            let at_boundary = boundaries.contains(&(cut as u64));
            assert_eq!(closed.is_ok(), at_boundary, "cut at {cut}");
            if let Err(e) = closed {
                assert_eq!(e.class(), ErrorClass::TruncatedStream);
                assert_eq!(frames.len(), boundaries.iter().filter(|&&b| b > 0 && b < cut as u64).count());
            }
        }
    }

    #[test]
    fn frames_inside_a_chunk_are_borrowed_and_split_ones_stitched() {
        let bytes = stream(3);
        let mut decoder = Decoder::default();
        let mut kinds = Vec::new();
        let mut sink = |_: &Frame<'_>, loc: Location| {
            kinds.push(loc.bytes);
            Ok(())
        };
        let split = bytes.len() - 5;
        decoder.feed(&bytes[..split], &mut sink).unwrap();
        decoder.feed(&bytes[split..], &mut sink).unwrap();
        assert!(matches!(kinds[0], FrameBytes::Input(_)));
        assert_eq!(kinds.last(), Some(&FrameBytes::Stitched));
    }

    #[test]
    fn a_huge_claimed_length_allocates_nothing_ahead() {
        let mut prelude = [0u8; 12];
        prelude[..4].copy_from_slice(&(24 * 1024 * 1024u32).to_be_bytes());
        let crc = crate::crc::hash(&prelude[..8]);
        prelude[8..].copy_from_slice(&crc.to_be_bytes());
        let mut decoder = Decoder::default();
        decoder.feed(&prelude, |_, _| Ok(())).unwrap();
        decoder.feed(&[0u8; 100], |_, _| Ok(())).unwrap();
        assert_eq!(decoder.buffered(), 112);
        assert!(decoder.carry.capacity() < 4096);
    }

    #[test]
    fn errors_are_sticky_and_keep_earlier_frames() {
        let mut bytes = stream(2);
        let first_len = usize::try_from(u32::from_be_bytes(bytes[..4].try_into().unwrap())).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let mut decoder = Decoder::default();
        let mut n = 0;
        let err = decoder
            .feed(&bytes, |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(n, 1);
        assert_eq!(err.class(), ErrorClass::ChecksumMismatch);
        assert_eq!(err.offset(), first_len as u64);
        assert!(decoder.feed(b"", |_, _| Ok(())).is_err());
        assert!(decoder.close().is_err());
    }

    #[test]
    fn text_bodies_are_named_as_such() {
        let (_, closed) = decode_in(b"{\"message\":\"Forbidden\"}", 100);
        assert_eq!(closed.unwrap_err().class(), ErrorClass::NotAnEventStream);
        let (_, closed) = decode_in(b"{}", 100);
        let err = closed.unwrap_err();
        assert_eq!(err.class(), ErrorClass::NotAnEventStream);
        assert!(err.to_string().contains("b'{}'"), "{err}");
        let (_, closed) = decode_in(b"event: error\ndata: {\"type\": \"error\"}\n\n", 3);
        assert_eq!(closed.unwrap_err().class(), ErrorClass::NotAnEventStream);
    }
}
