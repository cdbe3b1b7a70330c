//! Bedrock's layer on top of the frames: a `chunk` event's payload is `{"bytes": "<base64>", "p": "..."}`
//! and the base64 decodes to one Anthropic Messages event as JSON.
//!
//! This module turns a validated frame into what the SDK needs to build its `ServerSentEvent`: the event
//! JSON as text and what kind of JSON it is (and its `type`), with one pass over each layer.

use std::borrow::Cow;
use std::ops::Range;

use crate::error::{ErrorKind, HEAD_SHOWN};
use crate::frame::{Frame, MessageType};
use crate::json::{self, Member, ObjectScan};
use crate::utf8;

/// Where an event's name (its JSON `type`) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventName {
    /// Unescaped in the JSON text: this range of the arena.
    Span(Range<usize>),
    /// Written with escapes; decoded.
    Owned(String),
}

/// What the decoded JSON of a chunk is, which decides the event name the SDK gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkKind {
    /// An object whose (last) `type` member is a string: a Messages event, or an in-band `error` envelope.
    Typed(EventName),
    /// An object without a string `type` but with a `completion` member: a legacy Text Completions chunk.
    Completion,
    /// An object with neither.
    Untyped,
    /// Valid JSON that is not an object, or not JSON at all.
    NotObject,
}

/// A Bedrock `chunk` event, decoded into the caller's arena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The range of the arena holding the Anthropic event as JSON text (valid UTF-8), exactly as sent.
    pub json: Range<usize>,
    pub kind: ChunkKind,
}

impl Chunk {
    /// The event JSON.
    pub fn json<'a>(&self, arena: &'a [u8]) -> &'a str {
        utf8::to_str(&arena[self.json.clone()]).unwrap_or_default()
    }

    /// The JSON `type`, if it is a string.
    pub fn event_type<'a>(&'a self, arena: &'a [u8]) -> Option<&'a str> {
        match &self.kind {
            ChunkKind::Typed(EventName::Span(range)) => utf8::to_str(&arena[range.clone()]).ok(),
            ChunkKind::Typed(EventName::Owned(name)) => Some(name),
            _ => None,
        }
    }
}

/// What one frame means to the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Chunk(Chunk),
    /// An `exception` or `error` frame: the caller reads its headers and payload from the frame.
    Error,
    /// Any other frame (another event type, no message type): nothing for the SDK, as in botocore.
    Skip,
}

/// Classifies a frame and, for a `chunk`, decodes it into `arena` (appending; see [`decode_chunk`]).
pub fn classify(frame: &Frame<'_>, arena: &mut Vec<u8>) -> Result<Event, ErrorKind> {
    match frame.message_type() {
        MessageType::Event if frame.known.event_type == Some("chunk") => {
            decode_chunk(frame.payload, arena).map(Event::Chunk)
        }
        MessageType::Exception | MessageType::Error => Ok(Event::Error),
        MessageType::Event | MessageType::Other => Ok(Event::Skip),
    }
}

fn invalid(reason: &'static str, payload: &[u8]) -> ErrorKind {
    ErrorKind::InvalidChunk { reason, head: payload[..payload.len().min(HEAD_SHOWN + 1)].to_vec() }
}

/// Decodes `{"bytes": "<base64>", ...}`, appending the JSON text inside to `arena` (one buffer for a whole
/// network chunk's events, so that no event costs an allocation), and inspects it. On error `arena` is left
/// as it was.
pub fn decode_chunk(payload: &[u8], arena: &mut Vec<u8>) -> Result<Chunk, ErrorKind> {
    let start = arena.len();
    // Bedrock's own shape, read without a general scan; anything unusual (or failing) takes the general
    // path, which gives the same answer or the same error as the Python backend.
    let fast = bedrock_shaped_bytes(payload).is_some_and(|text| base64_simd::STANDARD.decode_append(text, arena).is_ok());
    if !fast {
        arena.truncate(start);
        let scan = json::scan_object(payload, "bytes", "")
            .ok_or_else(|| invalid("the payload is not a JSON object", payload))?;
        let text = match scan.wanted {
            Some(Member::Str(text)) => text,
            Some(Member::Other) => return Err(invalid("\"bytes\" is not a string", payload)),
            None => return Err(invalid("the payload has no \"bytes\" string", payload)),
        };
        if base64_simd::STANDARD.decode_append(text.as_bytes(), arena).is_err() {
            arena.truncate(start);
            return Err(invalid("\"bytes\" is not valid base64", payload));
        }
    }
    if utf8::to_str(&arena[start..]).is_err() {
        arena.truncate(start);
        return Err(invalid("the decoded bytes are not UTF-8", payload));
    }
    let kind = match inspect(&arena[start..]) {
        ChunkKind::Typed(EventName::Span(r)) => ChunkKind::Typed(EventName::Span(r.start + start..r.end + start)),
        other => other,
    };
    Ok(Chunk { json: start..arena.len(), kind })
}

/// The `bytes` text of a payload in exactly the shape Bedrock sends, `{"bytes":"...","p":"<padding>"}`
/// with alphanumeric padding (or no `p`); `None` for any other shape. The text itself is left for the
/// base64 decoder to validate.
fn bedrock_shaped_bytes(payload: &[u8]) -> Option<&[u8]> {
    let rest = payload.strip_prefix(br#"{"bytes":""#)?;
    let end = memchr::memchr(b'"', rest)?;
    let (text, tail) = (&rest[..end], &rest[end + 1..]);
    if tail == b"}" {
        return Some(text);
    }
    let padding = tail.strip_prefix(br#","p":""#)?.strip_suffix(br#""}"#)?;
    padding.iter().all(u8::is_ascii_alphanumeric).then_some(text)
}

/// Reads the event JSON the way Python's `json.loads` followed by `.get("type")` would: an object's last
/// `type` member wins; anything `json.loads` rejects is [`ChunkKind::NotObject`]. Spans are relative to
/// `json`.
pub fn inspect(json: &[u8]) -> ChunkKind {
    match json::scan_object(json, "type", "completion") {
        None => ChunkKind::NotObject,
        Some(ObjectScan { wanted: Some(Member::Str(name)), .. }) => ChunkKind::Typed(match name {
            Cow::Borrowed(s) => {
                let start = s.as_ptr() as usize - json.as_ptr() as usize;
                EventName::Span(start..start + s.len())
            }
            Cow::Owned(s) => EventName::Owned(s),
        }),
        Some(ObjectScan { has_also: true, .. }) => ChunkKind::Completion,
        Some(_) => ChunkKind::Untyped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64_simd::STANDARD.encode_to_string(s.as_bytes())
    }

    fn typed(json: &str) -> Option<String> {
        let mut arena = b"earlier events".to_vec();
        let payload = format!(r#"{{"bytes":"{}"}}"#, b64(json));
        let chunk = decode_chunk(payload.as_bytes(), &mut arena).unwrap();
        assert_eq!(chunk.json(&arena), json);
        chunk.event_type(&arena).map(str::to_owned)
    }

    #[test]
    fn decodes_a_chunk_into_the_arena() {
        let event = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        let payload = format!(r#"{{"bytes":"{}","p":"abcdefghij"}}"#, b64(event));
        let mut arena = b"x".to_vec();
        let chunk = decode_chunk(payload.as_bytes(), &mut arena).unwrap();
        assert_eq!(chunk.json, 1..1 + event.len());
        assert_eq!(chunk.json(&arena), event);
        assert_eq!(chunk.event_type(&arena), Some("content_block_delta"));
        assert!(decode_chunk(b"{\"bytes\":\"!!\"}", &mut arena).is_err());
        assert_eq!(arena.len(), 1 + event.len(), "a failed chunk leaves the arena as it was");
    }

    #[test]
    fn names_events_like_json_loads() {
        assert_eq!(typed(r#"{"type":"a","type":"b"}"#).as_deref(), Some("b"));
        assert_eq!(typed(r#"{"type":"\u0061b"}"#).as_deref(), Some("ab"));
        assert_eq!(typed(r#"{"type":1}"#), None);
    }

    #[test]
    fn inspects_like_json_loads() {
        assert_eq!(inspect(br#"{"type":"a","type":"b"}"#), ChunkKind::Typed(EventName::Span(20..21)));
        assert_eq!(inspect(br#"{"type":"a","type":1}"#), ChunkKind::Untyped);
        assert_eq!(inspect(br#"{"completion":"x","stop_reason":null}"#), ChunkKind::Completion);
        assert_eq!(inspect(br#" {"type" : "error", "error": {"type": "overloaded_error"}} "#), ChunkKind::Typed(EventName::Span(12..17)));
        assert_eq!(inspect(br#"{"type":"\u0061"}"#), ChunkKind::Typed(EventName::Owned("a".into())));
        assert_eq!(inspect(br#"{"x": NaN}"#), ChunkKind::Untyped);
        assert_eq!(inspect(b"[1]"), ChunkKind::NotObject);
        assert_eq!(inspect(b""), ChunkKind::NotObject);
        assert_eq!(inspect(br#"{"type":"a"} x"#), ChunkKind::NotObject);
        assert_eq!(inspect(br#"{"type":"a""#), ChunkKind::NotObject);
    }

    #[test]
    fn takes_the_fast_path_only_for_the_exact_bedrock_shape() {
        assert_eq!(bedrock_shaped_bytes(br#"{"bytes":"eyJ9","p":"abc123"}"#), Some(&b"eyJ9"[..]));
        assert_eq!(bedrock_shaped_bytes(br#"{"bytes":"eyJ9"}"#), Some(&b"eyJ9"[..]));
        let escaped = format!(r#"{{"bytes":"{}"}}"#, b64(r#"{"type":"ping"}"#).replacen('e', "\\u0065", 1));
        let mut arena = Vec::new();
        let chunk = decode_chunk(escaped.as_bytes(), &mut arena).unwrap();
        assert_eq!(chunk.event_type(&arena), Some("ping"));
        for other in [&br#"{"bytes":"eyJ9","p":"a-b"}"#[..], br#"{"bytes":"eyJ9","p":"a"} "#, br#"{"bytes": "eyJ9"}"#, br#"{"bytes":"eyJ9","bytes":"x"}"#] {
            assert_eq!(bedrock_shaped_bytes(other), None);
        }
        // The general path reads the same thing.
        let event = r#"{"type":"ping"}"#;
        let spaced = format!(r#"{{ "p": "x y", "bytes" : "{}" }}"#, b64(event));
        let mut arena = Vec::new();
        assert_eq!(decode_chunk(spaced.as_bytes(), &mut arena).unwrap().json(&arena), event);
    }

    #[test]
    fn rejects_malformed_payloads() {
        for payload in [&b"not json"[..], b"[]", br#"{"p":"x"}"#, br#"{"bytes":1}"#, br#"{"bytes":"!!!"}"#, br#"{"bytes":"/w=="}"#, br#"{"bytes":"ey\"J9"}"#, br#"{"bytes":"eyJ9","p":"x"#] {
            assert!(matches!(decode_chunk(payload, &mut Vec::new()), Err(ErrorKind::InvalidChunk { .. })), "{payload:?}");
        }
    }
}
