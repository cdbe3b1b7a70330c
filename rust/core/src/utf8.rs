//! UTF-8 validation with an ASCII fast path: nearly every header and event on the wire is ASCII, which a
//! word-at-a-time check confirms faster than a general validator.

/// `bytes` as `str`, if valid UTF-8.
pub fn to_str(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn agrees_with_std() {
        for bytes in [&b""[..], b"ascii", "日本".as_bytes(), b"\xff", b"a\xc3", b"\xed\xa0\x80"] {
            assert_eq!(super::to_str(bytes).ok(), std::str::from_utf8(bytes).ok());
        }
    }
}
