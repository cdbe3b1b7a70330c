//! Server-sent events (`text/event-stream`), as the anthropic SDK's `SSEDecoder` reads them: the reference
//! for this module, rule for rule, including where it departs from the WHATWG algorithm.
//!
//! Two levels, as in the SDK:
//! - **blocks**: the bytes are cut into pieces as Python's `bytes.splitlines(keepends=True)` cuts each
//!   network chunk (so a `\r\n` split across two chunks is two pieces), and pieces are gathered into a block
//!   until the block ends with `\r\r`, `\n\n` or `\r\n\r\n`. At the end of the stream, what is gathered is a
//!   last block.
//! - **lines**: each block is split at `\r\n`, `\r` or `\n` (`bytes.splitlines()`), each line is decoded as
//!   UTF-8, and a blank line dispatches the event gathered so far (if it has anything: an event name, data,
//!   a last event id or a retry). A field line is `name: value` (one leading space of the value dropped);
//!   `event`, `data`, `id` (ignored if it holds a NUL) and `retry` (parsed by the caller's
//!   [`RetryParser`], kept only if it parses) are read, comments (`:` first) and other fields are skipped.
//!   The last event id is not reset between events. Every non-blank line is kept, in order, as the event's
//!   `raw` lines (when asked for). Nothing is dispatched without its blank line: a stream that ends without
//!   one loses its last event, as the SDK's does.
//!
//! The one departure from the SDK is the error: a line that is not UTF-8 raises [`ErrorKind::SseNotUtf8`]
//! (the SDK raises a bare `UnicodeDecodeError`), after the events before it; and a block longer than
//! the configured maximum (the SDK has none) raises [`ErrorKind::SseEventTooLong`] rather than buffering
//! without bound.

use std::mem;
use std::ops::Range;

use memchr::memchr2;

use crate::error::{Error, ErrorKind};

/// One dispatched event. Its name, data and id are ranges of the text of the [`Events`] that holds it (read
/// them through [`Events::iter`]); `retry` is whatever the [`RetryParser`] made of the last valid `retry` field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Event<R> {
    /// The last `event` field's value, if there was one (it may be empty).
    name: Option<Range<usize>>,
    /// The `data` fields' values joined with `\n`.
    data: Range<usize>,
    /// The last event id (kept across events), if one was set.
    id: Option<Range<usize>>,
    retry: Option<R>,
    /// The event's non-blank lines, comments and unknown fields included (empty unless asked for).
    raw: Vec<String>,
}

/// An event of an [`Events`], its text borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a, R> {
    /// The event name: the last `event` field's value, if there was one (it may be empty).
    pub name: Option<&'a str>,
    pub data: &'a str,
    pub id: Option<&'a str>,
    pub retry: Option<&'a R>,
    pub raw: &'a [String],
}

/// Decoded events, their text back to back in one buffer: kept from call to call and cleared by the caller,
/// so that no event costs an allocation of its own (only the rare `raw` lines are owned apiece).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events<R> {
    text: String,
    events: Vec<Event<R>>,
}

impl<R> Default for Events<R> {
    fn default() -> Self {
        Self { text: String::new(), events: Vec::new() }
    }
}

impl<R> Events<R> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The bytes the text buffer holds allocated.
    pub fn capacity(&self) -> usize {
        self.text.capacity()
    }

    /// Forgets every event, keeping the buffers' capacity.
    pub fn clear(&mut self) {
        self.text.clear();
        self.events.clear();
    }

    /// The events, in order.
    pub fn iter(&self) -> impl Iterator<Item = EventRef<'_, R>> {
        let text = |range: &Range<usize>| self.text.get(range.clone()).unwrap_or_default();
        self.events.iter().map(move |e| EventRef {
            name: e.name.as_ref().map(text),
            data: text(&e.data),
            id: e.id.as_ref().map(text),
            retry: e.retry.as_ref(),
            raw: &e.raw,
        })
    }

    /// Appends `value` to the text; its range.
    fn push(&mut self, value: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(value);
        start..self.text.len()
    }
}

/// How a `retry` field's value becomes a retry: `None` leaves the previous one in place.
pub trait RetryParser {
    type Value;
    fn parse(&mut self, value: &str) -> Option<Self::Value>;
}

/// The WHATWG rule: ASCII digits only, as milliseconds (what a Rust user of this crate would expect; the
/// Python binding passes the SDK's own rule, Python's `int()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WhatwgRetry;

impl RetryParser for WhatwgRetry {
    type Value = u64;

    fn parse(&mut self, value: &str) -> Option<u64> {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        value.parse().ok()
    }
}

/// The default most bytes one block (one event's lines) may take: as much as an event-stream payload.
pub const DEFAULT_MAX_EVENT_LENGTH: u64 = crate::wire::DEFAULT_MAX_PAYLOAD_LENGTH;

/// Incremental SSE decoder: feed it bytes as they arrive, get every event they complete.
#[derive(Debug)]
pub struct Decoder<R> {
    /// The block being gathered, and the stream offset it starts at.
    block: Vec<u8>,
    block_offset: u64,
    /// Bytes fed so far.
    fed: u64,
    max_event_length: u64,
    keep_raw: bool,
    /// The event being gathered: its name (if an `event` field was read), and its `data` values joined with
    /// `\n` (`data_lines` of them). The buffers are reused from event to event.
    event: String,
    has_event: bool,
    data: String,
    data_lines: usize,
    last_event_id: Option<String>,
    retry: Option<R>,
    raw: Vec<String>,
}

/// The terminators that end a block: a blank line after a line.
fn ends_block(block: &[u8]) -> bool {
    block.ends_with(b"\r\r") || block.ends_with(b"\n\n") || block.ends_with(b"\r\n\r\n")
}

/// Where the piece starting at `bytes[0]` ends, as `bytes.splitlines(keepends=True)` cuts: after the first
/// `\r\n`, `\r` or `\n`, or at the end.
fn piece_end(bytes: &[u8]) -> usize {
    match memchr2(b'\r', b'\n', bytes) {
        None => bytes.len(),
        Some(at) if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') => at + 2,
        Some(at) => at + 1,
    }
}

impl<R> Decoder<R> {
    /// `keep_raw`: gather each event's `raw` lines (SDKs whose `ServerSentEvent` has them).
    pub fn new(max_event_length: u64, keep_raw: bool) -> Self {
        Self {
            block: Vec::new(),
            block_offset: 0,
            fed: 0,
            max_event_length,
            keep_raw,
            event: String::new(),
            has_event: false,
            data: String::new(),
            data_lines: 0,
            last_event_id: None,
            retry: None,
            raw: Vec::new(),
        }
    }

    /// Decodes `chunk`, appending every event it completes to `out`. On error, `out` holds the events
    /// before it; the decoder is then spent.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        retry: &mut impl RetryParser<Value = R>,
        out: &mut Events<R>,
    ) -> Result<(), Error> {
        let mut start = 0;
        while start < chunk.len() {
            let end = start + piece_end(&chunk[start..]);
            self.block.extend_from_slice(&chunk[start..end]);
            self.fed = self.fed.saturating_add((end - start) as u64);
            start = end;
            if ends_block(&self.block) {
                self.flush(retry, out)?;
            }
        }
        let length = self.block.len() as u64;
        if length > self.max_event_length {
            return Err(ErrorKind::SseEventTooLong { length, max: self.max_event_length }.at(self.block_offset));
        }
        Ok(())
    }

    /// The end of the stream: what is gathered is decoded as a last block (its events, if it holds a blank
    /// line, are appended to `out`); an event without its blank line is dropped, as the SDK drops it.
    pub fn close(&mut self, retry: &mut impl RetryParser<Value = R>, out: &mut Events<R>) -> Result<(), Error> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.flush(retry, out)
    }

    /// The event gathered but not dispatched, as `(event name, data)`: after [`Decoder::close`], what a stream
    /// that ended without its last blank line left behind (the SDK drops it too). `None` if nothing was
    /// gathered since the last dispatch (an `id` or `retry` alone is not an event's content).
    pub fn pending(&self) -> Option<(Option<&str>, &str)> {
        if !self.has_event && self.data_lines == 0 {
            return None;
        }
        Some((self.has_event.then_some(self.event.as_str()), self.data.as_str()))
    }

    /// Decodes the gathered block, line by line. The block is checked as UTF-8 at once; only a block that is
    /// not is checked line by line, to raise at the line that is not, after the events before it.
    fn flush(&mut self, retry: &mut impl RetryParser<Value = R>, out: &mut Events<R>) -> Result<(), Error> {
        let block = mem::take(&mut self.block);
        let offset = self.block_offset;
        self.block_offset = self.fed;
        let valid = crate::utf8::to_str(&block).is_ok();
        let mut start = 0;
        while start < block.len() {
            let rest = &block[start..];
            let line_end = memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
            let bytes = &rest[..line_end];
            let line = if valid {
                // SAFETY: the whole block is valid UTF-8, and a line ends before an ASCII byte or at its end.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            } else {
                std::str::from_utf8(bytes)
                    .map_err(|_| ErrorKind::SseNotUtf8 { line: bytes.to_vec() }.at(offset + start as u64))?
            };
            self.line(line, retry, out);
            start += piece_end(rest);
        }
        self.block = block;
        self.block.clear();
        Ok(())
    }

    /// One decoded line, as the SDK's `SSEDecoder.decode`.
    fn line(&mut self, line: &str, retry: &mut impl RetryParser<Value = R>, out: &mut Events<R>) {
        if line.is_empty() {
            let nothing = (!self.has_event || self.event.is_empty())
                && self.data_lines == 0
                && self.last_event_id.as_deref().is_none_or(str::is_empty)
                && self.retry.is_none();
            if nothing {
                self.raw.clear();
                return;
            }
            let name = self.has_event.then(|| out.push(&self.event));
            let data = out.push(&self.data);
            let id = self.last_event_id.as_deref().map(|id| out.push(id));
            let (retry, raw) = (self.retry.take(), mem::take(&mut self.raw));
            out.events.push(Event { name, data, id, retry, raw });
            self.has_event = false;
            self.event.clear();
            self.data.clear();
            self.data_lines = 0;
            return;
        }
        if self.keep_raw {
            self.raw.push(line.to_owned());
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => {
                self.event.clear();
                self.event.push_str(value);
                self.has_event = true;
            }
            "data" => {
                if self.data_lines > 0 {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.data_lines += 1;
            }
            "id" if !value.contains('\0') => self.last_event_id = Some(value.to_owned()),
            "retry" => {
                if let Some(parsed) = retry.parse(value) {
                    self.retry = Some(parsed);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Events<u64> {
        let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, true);
        let mut out = Events::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut WhatwgRetry, &mut out).unwrap();
        }
        decoder.close(&mut WhatwgRetry, &mut out).unwrap();
        out
    }

    fn names_and_data(events: &Events<u64>) -> Vec<(Option<&str>, &str)> {
        events.iter().map(|e| (e.name, e.data)).collect()
    }

    #[test]
    fn every_line_ending_and_any_chunking() {
        for body in [
            &b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"[..],
            b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n",
            b"event: a\rdata: 1\r\revent: b\rdata: 2\r\r",
        ] {
            for cut in 0..=body.len() {
                let events = decode(&[&body[..cut], &body[cut..]]);
                assert_eq!(names_and_data(&events), [(Some("a"), "1"), (Some("b"), "2")], "cut at {cut}");
            }
        }
    }

    #[test]
    fn multi_line_data_comments_raw_and_fields() {
        let events = decode(&[b": hello\nevent: e\ndata: x\ndata:y\nid: 7\nretry: 150\nfoo: bar\n\n"]);
        assert_eq!(events.len(), 1);
        let event = events.iter().next().unwrap();
        assert_eq!((event.name, event.data), (Some("e"), "x\ny"));
        assert_eq!((event.id, event.retry), (Some("7"), Some(&150)));
        assert_eq!(event.raw, [": hello", "event: e", "data: x", "data:y", "id: 7", "retry: 150", "foo: bar"]);
    }

    #[test]
    fn last_event_id_persists_and_nul_ids_are_ignored() {
        let events = decode(&[b"id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\n"]);
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        assert_eq!(ids, [Some("1"), Some("1"), Some("1")]);
    }

    #[test]
    fn no_trailing_blank_line_drops_the_last_event() {
        assert_eq!(names_and_data(&decode(&[b"event: a\ndata: 1\n\nevent: b\ndata: 2\n"])), [(Some("a"), "1")]);
    }

    #[test]
    fn the_undispatched_last_event_is_pending_after_close() {
        let mut decoder: Decoder<u64> = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, false);
        let mut out = Events::new();
        decoder
            .feed(b"event: a\ndata: 1\n\nevent: stop\ndata: {\"x\":\ndata: 1}\n", &mut WhatwgRetry, &mut out)
            .unwrap();
        decoder.close(&mut WhatwgRetry, &mut out).unwrap();
        assert_eq!(names_and_data(&out), [(Some("a"), "1")]);
        assert_eq!(decoder.pending(), Some((Some("stop"), "{\"x\":\n1}")));
        let mut done: Decoder<u64> = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, false);
        done.feed(b"id: 1\ndata: a\n\nid: 2\n", &mut WhatwgRetry, &mut out).unwrap();
        done.close(&mut WhatwgRetry, &mut out).unwrap();
        assert_eq!(done.pending(), None);
    }

    #[test]
    fn a_split_crlf_is_two_line_ends_at_the_block_level() {
        // The SDK's `splitlines(keepends=True)` per chunk sees `\r` and `\n` as two pieces here.
        let events = decode(&[b"data: 1\r\n\r", b"\ndata: 2\n\n"]);
        assert_eq!(names_and_data(&events), [(None, "1"), (None, "2")]);
    }

    #[test]
    fn invalid_utf8_keeps_the_events_before_it() {
        let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, false);
        let mut out = Events::new();
        let err = decoder.feed(b"data: ok\n\ndata: \xff\n\n", &mut WhatwgRetry, &mut out).unwrap_err();
        assert_eq!(names_and_data(&out), [(None, "ok")]);
        assert_eq!(err.offset(), 10);
        assert!(matches!(err.kind(), ErrorKind::SseNotUtf8 { .. }));
    }

    #[test]
    fn utf8_is_checked_per_block_and_reported_at_its_line() {
        let body = "event: é\ndata: 日本 🚀\n\n".as_bytes();
        for cut in 0..=body.len() {
            let events = decode(&[&body[..cut], &body[cut..]]);
            assert_eq!(names_and_data(&events), [(Some("é"), "日本 🚀")], "cut at {cut}");
        }
        let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, false);
        let mut out = Events::new();
        // the second block's first line is UTF-8, its second is not (a cut two-byte sequence)
        let err =
            decoder.feed(b"data: ok\n\nevent: \xc3\xa9\ndata: a\xc3\n\n", &mut WhatwgRetry, &mut out).unwrap_err();
        assert_eq!(err.offset(), 20);
        assert!(matches!(err.kind(), ErrorKind::SseNotUtf8 { line } if line == b"data: a\xc3"));
        assert_eq!(names_and_data(&out), [(None, "ok")]);
    }

    #[test]
    fn an_endless_line_is_refused_at_the_limit() {
        let mut decoder: Decoder<u64> = Decoder::new(16, false);
        let mut out = Events::new();
        decoder.feed(b"data: 0123456789", &mut WhatwgRetry, &mut out).unwrap();
        let err = decoder.feed(b"abc", &mut WhatwgRetry, &mut out).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::SseEventTooLong { length: 19, max: 16 }));
    }

    #[test]
    fn whatwg_retry_takes_ascii_digits_only() {
        assert_eq!(WhatwgRetry.parse("1500"), Some(1500));
        for bad in ["", " 1", "-1", "1_0", "x"] {
            assert_eq!(WhatwgRetry.parse(bad), None, "{bad:?}");
        }
    }
}
