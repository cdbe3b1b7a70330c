//! A valid stream cut at arbitrary points: every chunking yields the same frames, and a cut inside a
//! frame is reported at close.
#![no_main]

use eventstream_core::{encode_message, Decoder, Header, HeaderValue, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<Vec<u8>>, Vec<u16>, u16)| {
    let (payloads, cuts, truncate) = input;
    let frames: Vec<Vec<u8>> = payloads
        .iter()
        .take(16)
        .map(|p| {
            encode_message(&[Header { name: ":event-type", value: HeaderValue::String("chunk") }], p).expect("fits")
        })
        .collect();
    let whole: Vec<u8> = frames.concat();
    let end = whole.len().saturating_sub(usize::from(truncate) % 64);
    let stream = &whole[..end];
    let boundaries: Vec<usize> = frames
        .iter()
        .scan(0, |at, f| {
            *at += f.len();
            Some(*at)
        })
        .collect();

    let mut points: Vec<usize> = cuts.iter().map(|&c| usize::from(c) % (stream.len() + 1)).collect();
    points.extend([0, stream.len()]);
    points.sort_unstable();
    points.dedup();
    let mut decoder = Decoder::new(Limits::default());
    let mut got = Vec::new();
    for pair in points.windows(2) {
        decoder
            .feed(&stream[pair[0]..pair[1]], |f, _| {
                got.push(f.payload.to_vec());
                Ok(())
            })
            .expect("a valid stream");
    }
    let complete = boundaries.iter().filter(|&&b| b <= end).count();
    assert_eq!(got, payloads[..complete].to_vec());
    assert_eq!(decoder.close().is_ok(), end == 0 || boundaries.contains(&end));
});
