//! Arbitrary headers and payloads encoded, then decoded: the same headers and payload come back.
#![no_main]

use eventstream_core::{encode_message, Decoder, Header, HeaderValue, Limits};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, arbitrary::Arbitrary)]
enum Value {
    True,
    False,
    Byte(i8),
    Short(i16),
    Integer(i32),
    Long(i64),
    Bytes(Vec<u8>),
    Text(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

fuzz_target!(|input: (Vec<(String, Value)>, Vec<u8>)| {
    let (pairs, payload) = input;
    let mut seen = std::collections::HashSet::new();
    let headers: Vec<Header<'_>> = pairs
        .iter()
        .filter(|(name, _)| name.len() < 256 && seen.insert(name.clone()))
        .map(|(name, value)| Header {
            name,
            value: match value {
                Value::True => HeaderValue::BoolTrue,
                Value::False => HeaderValue::BoolFalse,
                Value::Byte(v) => HeaderValue::Byte(*v),
                Value::Short(v) => HeaderValue::Short(*v),
                Value::Integer(v) => HeaderValue::Integer(*v),
                Value::Long(v) => HeaderValue::Long(*v),
                Value::Bytes(v) => HeaderValue::ByteArray(&v[..v.len().min(65535)]),
                Value::Text(v) => HeaderValue::String(if v.len() < 65536 { v } else { "" }),
                Value::Timestamp(v) => HeaderValue::Timestamp(*v),
                Value::Uuid(v) => HeaderValue::Uuid(v),
            },
        })
        .collect();
    let Ok(frame) = encode_message(&headers, &payload) else { return };
    let mut decoder = Decoder::new(Limits { max_headers_length: u64::MAX, max_payload_length: u64::MAX });
    let mut frames = 0;
    decoder
        .feed(&frame, |f, _| {
            frames += 1;
            let back: Vec<_> = f.header_iter().collect::<Result<_, _>>().expect("valid");
            assert_eq!(back, headers);
            assert_eq!(f.payload, &payload[..]);
            Ok(())
        })
        .expect("an encoded frame decodes");
    assert_eq!(frames, 1);
});
