//! Arbitrary header sections inside frames whose CRCs are right: every header type, lying lengths, bad
//! UTF-8, duplicates. The fast and the precise header passes must agree.
#![no_main]

use eventstream_core::{header, Decoder, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (headers, payload) = input;
    if headers.len() > 4096 {
        return;
    }
    let direct = header::validate(&headers);
    let total = u32::try_from(16 + headers.len() + payload.len()).expect("small");
    let mut frame = Vec::new();
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&u32::try_from(headers.len()).expect("small").to_be_bytes());
    let prelude_crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&prelude_crc.to_be_bytes());
    frame.extend_from_slice(&headers);
    frame.extend_from_slice(&payload);
    let crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&crc.to_be_bytes());
    let mut decoder = Decoder::new(Limits::default());
    let decoded = decoder.feed(&frame, |f, _| {
        assert_eq!(f.payload, &payload[..]);
        Ok(())
    });
    assert_eq!(decoded.is_ok(), direct.is_ok());
});
