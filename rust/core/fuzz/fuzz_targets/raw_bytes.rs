//! Arbitrary bytes, in arbitrary pieces, through the frame decoder and the Bedrock layer: nothing but
//! frames or an `Error`, never a panic, and the same frames, the same Bedrock events and the same error
//! (class and offset) whatever the chunking. (A message may differ: a text body's error shows the bytes that
//! had arrived.)
#![no_main]

use eventstream_core::{bedrock, Decoder, ErrorClass, Limits};
use libfuzzer_sys::fuzz_target;

type Decoded = (Vec<(Vec<u8>, bedrock::Event)>, Option<(ErrorClass, u64)>);

fn decode(data: &[u8], piece: usize) -> Decoded {
    let mut decoder = Decoder::new(Limits::default());
    let mut frames = Vec::new();
    for chunk in data.chunks(piece.max(1)) {
        let fed = decoder.feed(chunk, |frame, _| {
            let mut arena = Vec::new();
            frames.push((frame.raw.to_vec(), bedrock::classify(frame, &mut arena)));
            Ok(())
        });
        if let Err(e) = fed {
            return (frames, Some((e.class(), e.offset())));
        }
    }
    let closed = decoder.close().err().map(|e| (e.class(), e.offset()));
    (frames, closed)
}

fuzz_target!(|data: &[u8]| {
    let Some((&piece, data)) = data.split_first() else { return };
    let whole = decode(data, data.len());
    let pieces = decode(data, usize::from(piece));
    assert_eq!(whole, pieces, "results depend on chunking");
});
