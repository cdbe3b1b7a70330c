//! Bedrock's layer on top of the frames: a `chunk` event's payload is `{"bytes": "<base64>", "p": "..."}`
//! and the base64 decodes to one Anthropic Messages event as JSON.
//!
//! This module turns a validated frame into what the SDK needs to build its `ServerSentEvent`: the event
//! JSON as text and what kind of JSON it is (and its `type`), with one pass over each layer.

use jiter::{Jiter, Peek};

use crate::error::{ErrorKind, HEAD_SHOWN};
use crate::frame::{Frame, MessageType};

/// What the decoded JSON of a chunk is, which decides the event name the SDK gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkKind {
    /// An object whose (last) `type` member is a string: a Messages event, or an in-band `error` envelope.
    Typed(String),
    /// An object without a string `type` but with a `completion` member: a legacy Text Completions chunk.
    Completion,
    /// An object with neither.
    Untyped,
    /// Valid JSON that is not an object, or not JSON at all.
    NotObject,
}

/// A Bedrock `chunk` event, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The Anthropic event as JSON text, exactly as the model sent it.
    pub json: String,
    pub kind: ChunkKind,
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

/// Classifies a frame and, for a `chunk`, decodes it.
pub fn classify(frame: &Frame<'_>) -> Result<Event, ErrorKind> {
    match frame.message_type() {
        MessageType::Event if frame.known.event_type == Some("chunk") => decode_chunk(frame.payload).map(Event::Chunk),
        MessageType::Exception | MessageType::Error => Ok(Event::Error),
        MessageType::Event | MessageType::Other => Ok(Event::Skip),
    }
}

fn invalid(reason: &'static str, payload: &[u8]) -> ErrorKind {
    ErrorKind::InvalidChunk { reason, head: payload[..payload.len().min(HEAD_SHOWN + 1)].to_vec() }
}

/// Decodes `{"bytes": "<base64>", ...}` to the JSON text inside and inspects it.
pub fn decode_chunk(payload: &[u8]) -> Result<Chunk, ErrorKind> {
    let decoded = base64_field(payload)?.ok_or_else(|| invalid("the payload has no \"bytes\" string", payload))?;
    let json = String::from_utf8(decoded).map_err(|_| invalid("the decoded bytes are not UTF-8", payload))?;
    let kind = inspect(json.as_bytes());
    Ok(Chunk { json, kind })
}

/// The base64-decoded value of the payload object's (last) `bytes` member.
fn base64_field(payload: &[u8]) -> Result<Option<Vec<u8>>, ErrorKind> {
    let not_json = |_| invalid("the payload is not a JSON object", payload);
    let mut jiter = Jiter::new(payload).with_allow_inf_nan();
    if jiter.peek().map_err(not_json)? != Peek::Object {
        return Err(invalid("the payload is not a JSON object", payload));
    }
    let mut decoded = None;
    let mut key = jiter.next_object().map_err(not_json)?.map(|k| k == "bytes");
    while let Some(is_bytes) = key {
        if is_bytes {
            let text = jiter.next_str().map_err(|_| invalid("\"bytes\" is not a string", payload))?;
            let bytes = base64_simd::STANDARD
                .decode_to_vec(text.as_bytes())
                .map_err(|_| invalid("\"bytes\" is not valid base64", payload))?;
            decoded = Some(bytes);
        } else {
            jiter.next_skip().map_err(not_json)?;
        }
        key = jiter.next_key().map_err(not_json)?.map(|k| k == "bytes");
    }
    jiter.finish().map_err(not_json)?;
    Ok(decoded)
}

/// Reads the event JSON the way Python's `json.loads` followed by `.get("type")` would: an object's last
/// `type` member wins; anything `json.loads` rejects is [`ChunkKind::NotObject`].
pub fn inspect(json: &[u8]) -> ChunkKind {
    inspect_object(json).unwrap_or(ChunkKind::NotObject)
}

fn inspect_object(json: &[u8]) -> Option<ChunkKind> {
    let mut jiter = Jiter::new(json).with_allow_inf_nan();
    if jiter.peek().ok()? != Peek::Object {
        return None;
    }
    let mut type_value: Option<Option<String>> = None;
    let mut has_completion = false;
    let mut key = jiter.next_object().ok()?.map(|k| (k == "type", k == "completion"));
    while let Some((is_type, is_completion)) = key {
        if is_type {
            type_value = Some(if jiter.peek().ok()? == Peek::String {
                Some(jiter.next_str().ok()?.to_owned())
            } else {
                jiter.next_skip().ok()?;
                None
            });
        } else {
            has_completion |= is_completion;
            jiter.next_skip().ok()?;
        }
        key = jiter.next_key().ok()?.map(|k| (k == "type", k == "completion"));
    }
    jiter.finish().ok()?;
    Some(match type_value {
        Some(Some(name)) => ChunkKind::Typed(name),
        _ if has_completion => ChunkKind::Completion,
        _ => ChunkKind::Untyped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64_simd::STANDARD.encode_to_string(s.as_bytes())
    }

    #[test]
    fn decodes_a_chunk() {
        let event = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        let payload = format!(r#"{{"bytes":"{}","p":"abcdefghij"}}"#, b64(event));
        let chunk = decode_chunk(payload.as_bytes()).unwrap();
        assert_eq!(chunk.json, event);
        assert_eq!(chunk.kind, ChunkKind::Typed("content_block_delta".into()));
    }

    #[test]
    fn inspects_like_json_loads() {
        assert_eq!(inspect(br#"{"type":"a","type":"b"}"#), ChunkKind::Typed("b".into()));
        assert_eq!(inspect(br#"{"type":"a","type":1}"#), ChunkKind::Untyped);
        assert_eq!(inspect(br#"{"completion":"x","stop_reason":null}"#), ChunkKind::Completion);
        assert_eq!(inspect(br#" {"type" : "error", "error": {"type": "overloaded_error"}} "#), ChunkKind::Typed("error".into()));
        assert_eq!(inspect(br#"{"type":"\u0061"}"#), ChunkKind::Typed("a".into()));
        assert_eq!(inspect(br#"{"x": NaN}"#), ChunkKind::Untyped);
        assert_eq!(inspect(b"[1]"), ChunkKind::NotObject);
        assert_eq!(inspect(b""), ChunkKind::NotObject);
        assert_eq!(inspect(br#"{"type":"a"} x"#), ChunkKind::NotObject);
        assert_eq!(inspect(br#"{"type":"a""#), ChunkKind::NotObject);
    }

    #[test]
    fn rejects_malformed_payloads() {
        for payload in [&b"not json"[..], b"[]", br#"{"p":"x"}"#, br#"{"bytes":1}"#, br#"{"bytes":"!!!"}"#, br#"{"bytes":"/w=="}"#] {
            assert!(matches!(decode_chunk(payload), Err(ErrorKind::InvalidChunk { .. })), "{payload:?}");
        }
    }
}
