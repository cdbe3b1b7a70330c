//! Arbitrary bytes, in arbitrary pieces, through the frame decoder and the Bedrock layer: nothing but
//! frames or an `Error`, never a panic, and the same frames and the same error (class and offset) whatever
//! the chunking. (A message may differ: a text body's error shows the bytes that had arrived.)
#![no_main]

use eventstream_core::{bedrock, Decoder, ErrorClass, Limits};
use libfuzzer_sys::fuzz_target;

fn decode(data: &[u8], piece: usize) -> (Vec<Vec<u8>>, Option<(ErrorClass, u64)>) {
    let mut decoder = Decoder::new(Limits::default());
    let mut frames = Vec::new();
    let mut arena = Vec::new();
    for chunk in data.chunks(piece.max(1)) {
        let fed = decoder.feed(chunk, |frame, location| {
            frames.push(frame.raw.to_vec());
            let _ = bedrock::classify(frame, &mut arena).map_err(|kind| kind.at(location.offset))?;
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
