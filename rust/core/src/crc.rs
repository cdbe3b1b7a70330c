//! CRC32 (IEEE, the event-stream checksum), with `crc32fast`'s choice of implementation made once per process.
//!
//! `crc32fast::hash` and `Hasher::new` detect the CPU's features on every call (about 70 instructions, a
//! noticeable share of a small frame's decoding); a clone of a hasher made once carries the choice made then.

use std::sync::OnceLock;

use crc32fast::Hasher;

static FRESH: OnceLock<Hasher> = OnceLock::new();

/// A hasher with nothing hashed yet.
pub fn hasher() -> Hasher {
    FRESH.get_or_init(Hasher::new).clone()
}

/// The CRC32 of `bytes`.
pub fn hash(bytes: &[u8]) -> u32 {
    let mut h = hasher();
    h.update(bytes);
    h.finalize()
}

#[cfg(test)]
mod tests {
    #[test]
    fn agrees_with_crc32fast() {
        for bytes in [&b""[..], b"a", b"123456789", &[0xff; 1000]] {
            assert_eq!(super::hash(bytes), crc32fast::hash(bytes));
        }
        assert_eq!(super::hash(b"123456789"), 0xcbf4_3926);
    }
}
