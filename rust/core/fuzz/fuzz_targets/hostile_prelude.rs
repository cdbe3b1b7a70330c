//! Preludes with a valid CRC and arbitrary lengths (the part an attacker controls once the CRC is right):
//! the decoder must enforce the limits at once and never buffer more than it was given.
#![no_main]

use eventstream_core::{Decoder, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u32, u32, u16, Vec<u8>)| {
    let (total, headers, max_kib, rest) = input;
    let mut prelude = Vec::with_capacity(12 + rest.len());
    prelude.extend_from_slice(&total.to_be_bytes());
    prelude.extend_from_slice(&headers.to_be_bytes());
    let crc = crc32(&prelude);
    prelude.extend_from_slice(&crc.to_be_bytes());
    prelude.extend_from_slice(&rest);
    let limits = Limits { max_headers_length: u64::from(max_kib) * 16, max_payload_length: u64::from(max_kib) * 1024 };
    let mut decoder = Decoder::new(limits);
    if decoder.feed(&prelude, |_, _| Ok(())).is_ok() {
        assert!(decoder.buffered() <= prelude.len());
        let _ = decoder.close();
    }
});

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC32 (IEEE), independent of the crate under test.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
