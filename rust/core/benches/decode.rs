//! Criterion benches of the core decoder, side by side with the `aws-smithy-eventstream` crate (the AWS
//! Rust SDK's decoder) on the same bytes.
//!
//! - `bedrock_deltas`: the docs/DESIGN.md workload (20,000 text-delta chunk frames, ~245 bytes each, fed in
//!   16 KiB chunks): framing alone, then framing plus the Bedrock chunk layer (base64 + JSON).
//! - `payload_64k`: 64 KiB-payload frames in one buffer, as throughput: ours against smithy's.
//!
//! To count instructions instead of time (repeatable on a busy machine), run the built bench binary under
//! `valgrind --tool=callgrind` with `--bench --profile-time 5 bedrock_deltas/frames+chunks`.

use std::hint::black_box;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eventstream_core::bedrock;
use eventstream_core::{encode_message, Decoder, Header, HeaderValue, Limits};

const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP";

fn chunk_frame(event_json: &str, padding: &str) -> Vec<u8> {
    let payload =
        format!(r#"{{"bytes":"{}","p":"{padding}"}}"#, base64_simd::STANDARD.encode_to_string(event_json.as_bytes()));
    encode_message(
        &[
            Header { name: ":event-type", value: HeaderValue::String("chunk") },
            Header { name: ":content-type", value: HeaderValue::String("application/json") },
            Header { name: ":message-type", value: HeaderValue::String("event") },
        ],
        payload.as_bytes(),
    )
    .expect("bench frames fit")
}

fn bedrock_body(deltas: usize) -> Vec<u8> {
    let words = ["the ", "quick ", "brown ", "fox ", "jumps ", "over ", "a ", "lazy ", "dog "];
    (0..deltas)
        .flat_map(|i| {
            let event = format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
                words[i % words.len()]
            );
            chunk_frame(&event, &PADDING[..=(i * 7) % PADDING.len()])
        })
        .collect()
}

fn big_frames(count: usize, payload_len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..payload_len).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();
    (0..count)
        .flat_map(|_| {
            encode_message(
                &[
                    Header { name: ":message-type", value: HeaderValue::String("event") },
                    Header { name: ":event-type", value: HeaderValue::String("Records") },
                ],
                &payload,
            )
            .expect("fits")
        })
        .collect()
}

fn bedrock_deltas(c: &mut Criterion) {
    let body = bedrock_body(20_000);
    let mut group = c.benchmark_group("bedrock_deltas");
    group.throughput(Throughput::Elements(20_000));
    group.bench_function("frames", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(Limits::default());
            let mut n = 0usize;
            for chunk in body.chunks(16 * 1024) {
                decoder
                    .feed(chunk, |frame, _| {
                        n += frame.payload.len();
                        Ok(())
                    })
                    .expect("valid");
            }
            black_box(n)
        });
    });
    group.bench_function("frames+chunks", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(Limits::default());
            let mut n = 0usize;
            let mut arena = Vec::new();
            for chunk in body.chunks(16 * 1024) {
                decoder
                    .feed(chunk, |frame, _| {
                        if let bedrock::Event::Chunk(chunk) = bedrock::classify(frame, &mut arena) {
                            n += chunk.json.len();
                            arena.clear();
                        }
                        Ok(())
                    })
                    .expect("valid");
            }
            black_box(n)
        });
    });
    group.bench_function("aws-smithy-eventstream frames", |b| {
        b.iter(|| {
            let mut decoder = MessageFrameDecoder::new();
            let mut buf = bytes::BytesMut::new();
            let mut n = 0usize;
            for chunk in body.chunks(16 * 1024) {
                buf.extend_from_slice(chunk);
                while let DecodedFrame::Complete(message) = decoder.decode_frame(&mut buf).expect("valid") {
                    n += message.payload().len();
                }
            }
            black_box(n)
        });
    });
    group.finish();
}

fn payload_64k(c: &mut Criterion) {
    let body = big_frames(64, 64 * 1024);
    let mut group = c.benchmark_group("payload_64k");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("ours", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(Limits::default());
            let mut n = 0usize;
            decoder
                .feed(&body, |frame, _| {
                    n += frame.payload.len();
                    Ok(())
                })
                .expect("valid");
            black_box(n)
        });
    });
    group.bench_function("aws-smithy-eventstream", |b| {
        b.iter(|| {
            let mut decoder = MessageFrameDecoder::new();
            let mut buf = bytes::Bytes::copy_from_slice(&body);
            let mut n = 0usize;
            while let DecodedFrame::Complete(message) = decoder.decode_frame(&mut buf).expect("valid") {
                n += message.payload().len();
            }
            black_box(n)
        });
    });
    group.finish();
}

criterion_group!(benches, bedrock_deltas, payload_64k);
criterion_main!(benches);
