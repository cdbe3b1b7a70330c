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

use memchr::memchr2;

use crate::error::{Error, ErrorKind};

/// One dispatched event; `retry` is whatever the [`RetryParser`] made of the last valid `retry` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<R> {
    /// The last `event` field's value, if there was one (it may be empty).
    pub event: Option<String>,
    /// The `data` fields' values joined with `\n`.
    pub data: String,
    /// The last event id (kept across events), if one was set.
    pub id: Option<String>,
    pub retry: Option<R>,
    /// The event's non-blank lines, comments and unknown fields included (empty unless asked for).
    pub raw: Vec<String>,
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
pub const DEFAULT_MAX_EVENT_LENGTH: u64 = 24 * 1024 * 1024;

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
    event: Option<String>,
    data: Vec<String>,
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
            event: None,
            data: Vec::new(),
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
        out: &mut Vec<Event<R>>,
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
    pub fn close(&mut self, retry: &mut impl RetryParser<Value = R>, out: &mut Vec<Event<R>>) -> Result<(), Error> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.flush(retry, out)
    }

    /// The event gathered but not dispatched, as `(event name, data)`: after [`Decoder::close`], what a stream
    /// that ended without its last blank line left behind (the SDK drops it too). `None` if nothing was
    /// gathered since the last dispatch (an `id` or `retry` alone is not an event's content).
    pub fn pending(&self) -> Option<(Option<&str>, String)> {
        if self.event.is_none() && self.data.is_empty() {
            return None;
        }
        Some((self.event.as_deref(), self.data.join("\n")))
    }

    /// Decodes the gathered block, line by line.
    fn flush(&mut self, retry: &mut impl RetryParser<Value = R>, out: &mut Vec<Event<R>>) -> Result<(), Error> {
        let block = mem::take(&mut self.block);
        let offset = self.block_offset;
        self.block_offset = self.fed;
        let mut start = 0;
        while start < block.len() {
            let rest = &block[start..];
            let line_end = memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
            let line = std::str::from_utf8(&rest[..line_end])
                .map_err(|_| ErrorKind::SseNotUtf8 { line: rest[..line_end].to_vec() }.at(offset + start as u64))?;
            self.line(line, retry, out);
            start += piece_end(rest);
        }
        self.block = block;
        self.block.clear();
        Ok(())
    }

    /// One decoded line, as the SDK's `SSEDecoder.decode`.
    fn line(&mut self, line: &str, retry: &mut impl RetryParser<Value = R>, out: &mut Vec<Event<R>>) {
        if line.is_empty() {
            let empty = |s: &Option<String>| s.as_deref().map_or(true, str::is_empty);
            if empty(&self.event) && self.data.is_empty() && empty(&self.last_event_id) && self.retry.is_none() {
                self.raw.clear();
                return;
            }
            out.push(Event {
                event: self.event.take(),
                // One data line (every Messages event) is moved, not copied: `join` would allocate anew.
                data: if self.data.len() == 1 { self.data.pop().unwrap_or_default() } else { self.data.join("\n") },
                id: self.last_event_id.clone(),
                retry: self.retry.take(),
                raw: mem::take(&mut self.raw),
            });
            self.data.clear();
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
            "event" => self.event = Some(value.to_owned()),
            "data" => self.data.push(value.to_owned()),
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

    fn decode(chunks: &[&[u8]]) -> Vec<Event<u64>> {
        let mut decoder = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, true);
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut WhatwgRetry, &mut out).unwrap();
        }
        decoder.close(&mut WhatwgRetry, &mut out).unwrap();
        out
    }

    fn names_and_data(events: &[Event<u64>]) -> Vec<(Option<&str>, &str)> {
        events.iter().map(|e| (e.event.as_deref(), e.data.as_str())).collect()
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
        let event = &events[0];
        assert_eq!((event.event.as_deref(), event.data.as_str()), (Some("e"), "x\ny"));
        assert_eq!((event.id.as_deref(), event.retry), (Some("7"), Some(150)));
        assert_eq!(event.raw, [": hello", "event: e", "data: x", "data:y", "id: 7", "retry: 150", "foo: bar"]);
    }

    #[test]
    fn last_event_id_persists_and_nul_ids_are_ignored() {
        let events = decode(&[b"id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\n"]);
        let ids: Vec<_> = events.iter().map(|e| e.id.as_deref()).collect();
        assert_eq!(ids, [Some("1"), Some("1"), Some("1")]);
    }

    #[test]
    fn no_trailing_blank_line_drops_the_last_event() {
        assert_eq!(names_and_data(&decode(&[b"event: a\ndata: 1\n\nevent: b\ndata: 2\n"])), [(Some("a"), "1")]);
    }

    #[test]
    fn the_undispatched_last_event_is_pending_after_close() {
        let mut decoder: Decoder<u64> = Decoder::new(DEFAULT_MAX_EVENT_LENGTH, false);
        let mut out = Vec::new();
        decoder
            .feed(b"event: a\ndata: 1\n\nevent: stop\ndata: {\"x\":\ndata: 1}\n", &mut WhatwgRetry, &mut out)
            .unwrap();
        decoder.close(&mut WhatwgRetry, &mut out).unwrap();
        assert_eq!(names_and_data(&out), [(Some("a"), "1")]);
        assert_eq!(decoder.pending(), Some((Some("stop"), "{\"x\":\n1}".to_owned())));
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
        let mut out = Vec::new();
        let err = decoder.feed(b"data: ok\n\ndata: \xff\n\n", &mut WhatwgRetry, &mut out).unwrap_err();
        assert_eq!(names_and_data(&out), [(None, "ok")]);
        assert_eq!(err.offset(), 10);
        assert!(matches!(err.kind(), ErrorKind::SseNotUtf8 { .. }));
    }

    #[test]
    fn an_endless_line_is_refused_at_the_limit() {
        let mut decoder: Decoder<u64> = Decoder::new(16, false);
        let mut out = Vec::new();
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
