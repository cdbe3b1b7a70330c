//! UTF-8 validation with an ASCII fast path: nearly every header and event on the wire is ASCII, which a
//! word-at-a-time check confirms faster than a general validator; the rest (prose with accents, CJK and emoji)
//! goes to `simdutf8`'s SIMD validator.

/// `bytes` as `str`, if valid UTF-8.
pub fn to_str(bytes: &[u8]) -> Result<&str, simdutf8::basic::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        simdutf8::basic::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn agrees_with_std() {
        let long = "naïve café 日本語 🚀 ".repeat(20);
        let mut cut = long.as_bytes().to_vec();
        cut.truncate(cut.len() - 3); // inside the last emoji
        for bytes in [&b""[..], b"ascii", "日本".as_bytes(), b"\xff", b"a\xc3", b"\xed\xa0\x80", long.as_bytes(), &cut]
        {
            assert_eq!(super::to_str(bytes).ok(), std::str::from_utf8(bytes).ok());
        }
    }
}
