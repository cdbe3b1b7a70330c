//! Decodes the DESIGN.md Bedrock workload once (frames + chunk layer), for profiling under callgrind:
//! `valgrind --tool=callgrind target/release/examples/probe`.
use std::hint::black_box;

use eventstream_core::{bedrock, encode_message, Decoder, Header, HeaderValue, Limits};

fn main() {
    let words = ["the ", "quick ", "brown ", "fox ", "jumps ", "over ", "a ", "lazy ", "dog "];
    let body: Vec<u8> = (0..20_000)
        .flat_map(|i| {
            let event = format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
                words[i % words.len()]
            );
            let payload = format!(
                r#"{{"bytes":"{}","p":"{}"}}"#,
                base64_simd::STANDARD.encode_to_string(event.as_bytes()),
                &"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"[..=(i * 7) % 42]
            );
            encode_message(
                &[
                    Header { name: ":event-type", value: HeaderValue::String("chunk") },
                    Header { name: ":content-type", value: HeaderValue::String("application/json") },
                    Header { name: ":message-type", value: HeaderValue::String("event") },
                ],
                payload.as_bytes(),
            )
            .unwrap()
        })
        .collect();
    let mut decoder = Decoder::new(Limits::default());
    let mut n = 0usize;
    let mut arena = Vec::new();
    for chunk in body.chunks(16 * 1024) {
        decoder
            .feed(chunk, |frame, loc| {
                if let bedrock::Event::Chunk(c) = bedrock::classify(frame, &mut arena).map_err(|k| k.at(loc.offset))? {
                    n += c.json.len();
                    arena.clear();
                }
                Ok(())
            })
            .unwrap();
    }
    println!("{}", black_box(n));
}
