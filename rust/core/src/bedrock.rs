//! Bedrock's layer on top of the frames: a `chunk` event's payload is `{"bytes": "<base64>", "p": "..."}`
//! and the base64 decodes to one Anthropic Messages event as JSON.
//!
//! The reference for this layer is the stock SDK (botocore's JSON parser, `base64`, `bytes.decode()`,
//! `json.loads`). This module decides a chunk only where its answer is certain to be the reference's:
//! Bedrock's own payload shape, canonical base64, UTF-8, and an event that is a JSON object with a string
//! `type` (within the limits of [`crate::json`]). Every other chunk is [`Event::Reference`]: the caller hands
//! its payload to the reference implementation, which decodes, names or rejects it exactly as the SDK does.
//! Rare input costs a little more; it is never decided differently.

use std::borrow::Cow;
use std::ops::Range;

use crate::frame::{Frame, MessageType};
use crate::json::{self, Member};
use crate::utf8;

/// How the installed SDK names the event of a chunk whose JSON is an object with a string `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// By its `type` (anthropic >= 0.110).
    Type,
    /// Every chunk is `completion` (anthropic < 0.110); an in-band error envelope is named `error` here, so
    /// that it raises instead of passing for an event.
    Completion,
}

impl Naming {
    /// The event name for a chunk whose JSON `type` is `event_type`.
    pub fn event_name(self, event_type: &str) -> &str {
        match self {
            Self::Type => event_type,
            Self::Completion if event_type == "error" => "error",
            Self::Completion => "completion",
        }
    }
}

/// Where an event's `type` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    /// Unescaped in the JSON text: this range of the arena.
    Span(Range<usize>),
    /// Written with escapes; decoded.
    Owned(String),
}

/// A Bedrock `chunk` event decided here, its JSON in the caller's arena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The range of the arena holding the Anthropic event as JSON text (valid UTF-8), exactly as sent.
    pub json: Range<usize>,
    pub event_type: EventType,
}

impl Chunk {
    /// The event JSON.
    pub fn json<'a>(&self, arena: &'a [u8]) -> &'a str {
        utf8::to_str(&arena[self.json.clone()]).unwrap_or_default()
    }

    /// The JSON `type`.
    pub fn event_type<'a>(&'a self, arena: &'a [u8]) -> &'a str {
        match &self.event_type {
            EventType::Span(range) => utf8::to_str(&arena[range.clone()]).unwrap_or_default(),
            EventType::Owned(name) => name,
        }
    }
}

/// What one frame means to the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A `chunk` decided here.
    Chunk(Chunk),
    /// A `chunk` this module does not decide: hand its payload to the reference implementation.
    Reference,
    /// An `exception` or `error` frame: the caller reads its headers and payload from the frame.
    Error,
    /// Any other frame: nothing for the SDK, as in the stock decoder.
    Skip,
}

/// Classifies a frame the way the stock decoder does (botocore's `to_response_dict` makes `exception` and
/// `error` frames errors; any other frame whose `:event-type` is `chunk` is a chunk, whatever its
/// `:message-type`) and, for a chunk, decodes it into `arena` (appending; see [`decode_chunk`]).
pub fn classify(frame: &Frame<'_>, arena: &mut Vec<u8>) -> Event {
    match frame.message_type() {
        MessageType::Exception | MessageType::Error => Event::Error,
        _ if frame.known.event_type == Some("chunk") => {
            decode_chunk(frame.payload, arena).map_or(Event::Reference, Event::Chunk)
        }
        _ => Event::Skip,
    }
}

/// Decodes `{"bytes": "<base64>", "p": "..."}`, appending the JSON text inside to `arena` (one buffer for a
/// whole network chunk's events, so that no event costs an allocation); `None`, with `arena` left as it was,
/// where the answer is the reference's to give.
pub fn decode_chunk(payload: &[u8], arena: &mut Vec<u8>) -> Option<Chunk> {
    let start = arena.len();
    let text = bedrock_shaped_bytes(payload)?;
    let chunk = base64_simd::STANDARD.decode_append(text, arena).ok().and_then(|()| {
        let json = &arena[start..];
        utf8::to_str(json).ok()?;
        let event_type = match json::object_member(json, "type")? {
            Member::Str(Cow::Borrowed(name)) => {
                let at = name.as_ptr() as usize - json.as_ptr() as usize + start;
                EventType::Span(at..at + name.len())
            }
            Member::Str(Cow::Owned(name)) => EventType::Owned(name),
            Member::Other | Member::Absent => return None,
        };
        Some(Chunk { json: start..arena.len(), event_type })
    });
    if chunk.is_none() {
        arena.truncate(start);
    }
    chunk
}

/// Appends the bytes of canonical, padded base64 `text` to `out`; `false`, with `out` left as it was, for any
/// other text (which Python's lenient `b64decode` may read otherwise: the caller declines it).
pub fn base64_decode_append(text: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let decoded = base64_simd::STANDARD.decode_append(text, out).is_ok();
    if !decoded {
        out.truncate(start);
    }
    decoded
}

/// The `bytes` text of a payload in exactly the shape Bedrock sends, `{"bytes":"...","p":"<padding>"}`
/// with alphanumeric padding (or no `p`); `None` for any other shape. The text itself is left for the
/// base64 decoder to validate (a JSON escape in it is not base64, so it is declined there).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64_simd::STANDARD.encode_to_string(s.as_bytes())
    }

    fn decided(json: &str) -> Option<String> {
        let mut arena = b"earlier events".to_vec();
        let payload = format!(r#"{{"bytes":"{}","p":"abc"}}"#, b64(json));
        let chunk = decode_chunk(payload.as_bytes(), &mut arena)?;
        assert_eq!(chunk.json(&arena), json);
        Some(chunk.event_type(&arena).to_owned())
    }

    #[test]
    fn decodes_canonical_base64_only() {
        let mut out = b"x".to_vec();
        assert!(base64_decode_append(b"AG5vdA==", &mut out));
        assert_eq!(out, b"x\0not");
        for declined in [&b"QQ="[..], b"QQ", b"Q Q==", b"QQ==\n", b"QQ=a"] {
            assert!(!base64_decode_append(declined, &mut out), "{declined:?}");
            assert_eq!(out, b"x\0not");
        }
        assert!(base64_decode_append(b"", &mut out));
    }

    #[test]
    fn decodes_a_chunk_into_the_arena() {
        let event = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        let payload = format!(r#"{{"bytes":"{}","p":"abcdefghij"}}"#, b64(event));
        let mut arena = b"x".to_vec();
        let chunk = decode_chunk(payload.as_bytes(), &mut arena).unwrap();
        assert_eq!(chunk.json, 1..1 + event.len());
        assert_eq!(chunk.json(&arena), event);
        assert_eq!(chunk.event_type(&arena), "content_block_delta");
        assert!(decode_chunk(b"{\"bytes\":\"!!\"}", &mut arena).is_none());
        assert_eq!(arena.len(), 1 + event.len(), "a declined chunk leaves the arena as it was");
    }

    #[test]
    fn names_typed_objects_like_json_loads() {
        assert_eq!(decided(r#"{"type":"a","type":"b"}"#).as_deref(), Some("b"));
        assert_eq!(decided(r#"{"type":"\u0061b"}"#).as_deref(), Some("ab"));
        assert_eq!(decided(r#" {"type" : "error", "error": {"type": "overloaded_error"}} "#).as_deref(), Some("error"));
    }

    #[test]
    fn leaves_everything_else_to_the_reference() {
        for json in [
            r#"{"type":1}"#,
            r#"{"completion":"x"}"#,
            "{}",
            "[1]",
            "",
            r#"{"type":"a"} x"#,
            r#"{"type":"a""#,
            r#"{"type":"\ud800x"}"#,
            r#"{"x": NaN, "type": "a", "y": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
        ] {
            assert_eq!(decided(json), None, "{json}");
        }
        let mut arena = Vec::new();
        for payload in [
            &b"not json"[..],
            b"[]",
            br#"{"p":"x"}"#,
            br#"{"bytes":1}"#,
            br#"{"bytes":"!!!"}"#,
            br#"{"bytes":"/w=="}"#,
            br#"{"bytes":"fR=="}"#,
            br#"{"bytes":"ey\"J9"}"#,
            br#"{"bytes":"eyJ9","p":"x"#,
            br#"{"bytes": "eyJ9"}"#,
            br#"{"bytes":"eyJ9","p":"a-b"}"#,
            br#"{"bytes":"eyJ9","bytes":"x"}"#,
            b"\xef\xbb\xbf{\"bytes\":\"e30=\"}",
        ] {
            assert_eq!(decode_chunk(payload, &mut arena), None, "{payload:?}");
            assert!(arena.is_empty());
        }
    }

    #[test]
    fn takes_the_fast_path_only_for_the_exact_bedrock_shape() {
        assert_eq!(bedrock_shaped_bytes(br#"{"bytes":"eyJ9","p":"abc123"}"#), Some(&b"eyJ9"[..]));
        assert_eq!(bedrock_shaped_bytes(br#"{"bytes":"eyJ9"}"#), Some(&b"eyJ9"[..]));
        for other in [
            &br#"{"bytes":"eyJ9","p":"a-b"}"#[..],
            br#"{"bytes":"eyJ9","p":"a"} "#,
            br#"{"bytes": "eyJ9"}"#,
            br#"{"bytes":"eyJ9","bytes":"x"}"#,
        ] {
            assert_eq!(bedrock_shaped_bytes(other), None);
        }
    }

    #[test]
    fn legacy_naming_calls_every_chunk_completion_but_errors() {
        assert_eq!(Naming::Type.event_name("message_start"), "message_start");
        assert_eq!(Naming::Completion.event_name("message_start"), "completion");
        assert_eq!(Naming::Completion.event_name("error"), "error");
    }
}
