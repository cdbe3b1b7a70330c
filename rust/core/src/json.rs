//! A validating single-pass JSON scanner for the one question the Bedrock layer asks of each event: "is this
//! a JSON object, in Python `json.loads`'s sense, and what is its last top-level `type`?".
//!
//! A general parser (`jiter`, `serde_json`) does more than this question needs; this scanner only walks the
//! bytes, skipping string bodies eight bytes at a time. It accepts what `json.loads` accepts (strict mode):
//! RFC 8259 plus `NaN`, `Infinity` and `-Infinity`, `\u` escapes of any code unit, duplicate keys (the last
//! wins); and it rejects raw control characters in strings, as `json.loads` does.
//!
//! It answers only where its answer is certain to be `json.loads`'s, and otherwise declines (`None`), so that
//! the caller asks the reference implementation instead of approximating it: nesting deeper than
//! [`MAX_DEPTH`] (`json.loads` accepts up to the interpreter's recursion limit), an integer part longer than
//! [`MAX_INTEGER_DIGITS`] (`json.loads` rejects integers longer than `sys.get_int_max_str_digits()`, at least 640), and a
//! wanted string holding a lone surrogate (Python keeps it; a Rust string cannot hold it).

use std::borrow::Cow;

/// Deepest nesting decided here; anything deeper is declined.
pub const MAX_DEPTH: u32 = 64;
/// Longest integer part decided here: the smallest setting of `sys.set_int_max_str_digits`.
pub use crate::wire::MAX_INTEGER_DIGITS;

/// The last value of the wanted top-level member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member<'a> {
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// Any other JSON value.
    Other,
    /// The object has no such member.
    Absent,
}

/// Scans `json` (valid UTF-8); the last value of its top-level `key` if it is one JSON object surrounded only
/// by whitespace; `None` if it is not such an object, or if the answer cannot be decided here (see the module
/// documentation).
pub fn object_member<'a>(json: &'a [u8], key: &str) -> Option<Member<'a>> {
    let mut s = Scanner { b: json, i: 0, depth: 0 };
    s.ws();
    if s.peek()? != b'{' {
        return None;
    }
    s.i += 1;
    s.depth = 1;
    let mut member = Member::Absent;
    s.ws();
    if s.peek()? == b'}' {
        s.i += 1;
    } else {
        loop {
            s.ws();
            let name = s.string()?;
            let wanted = name.eq(json, key);
            s.ws();
            s.expect(b':')?;
            s.ws();
            if wanted && s.peek()? == b'"' {
                member = Member::Str(s.string()?.to_str(json)?);
            } else {
                s.value()?;
                if wanted {
                    member = Member::Other;
                }
            }
            s.ws();
            match s.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.ws();
    (s.i == json.len()).then_some(member)
}

/// A string token: the bytes between its quotes, and whether it has escapes.
#[derive(Clone, Copy)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

impl Str {
    fn eq(self, json: &[u8], key: &str) -> bool {
        if self.escaped {
            // A name with a lone surrogate cannot equal `key`, which is a Rust string.
            self.to_str(json).is_some_and(|s| s == key)
        } else {
            &json[self.start..self.end] == key.as_bytes()
        }
    }

    fn to_str(self, json: &[u8]) -> Option<Cow<'_, str>> {
        let raw = &json[self.start..self.end];
        if self.escaped {
            unescape(raw).map(Cow::Owned)
        } else {
            crate::utf8::to_str(raw).ok().map(Cow::Borrowed)
        }
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => self.container(b'}', true),
            b'[' => self.container(b']', false),
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'N' => self.literal(b"NaN"),
            b'I' => self.literal(b"Infinity"),
            b'-' if self.b.get(self.i + 1) == Some(&b'I') => self.literal(b"-Infinity"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn container(&mut self, close: u8, keyed: bool) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
        } else {
            loop {
                self.ws();
                if keyed {
                    self.string()?;
                    self.ws();
                    self.expect(b':')?;
                    self.ws();
                }
                self.value()?;
                self.ws();
                match self.next()? {
                    b',' => {}
                    c if c == close => break,
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    fn string(&mut self) -> Option<Str> {
        if self.next()? != b'"' {
            return None;
        }
        let start = self.i;
        let mut escaped = false;
        loop {
            self.skip_plain();
            let c = self.next()?;
            match c {
                b'"' => return Some(Str { start, end: self.i - 1, escaped }),
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let end = self.i.checked_add(4)?;
                            if !self.b.get(self.i..end)?.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i = end;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => {}
            }
        }
    }

    /// Skips string bytes that need no attention (not `"`, `\\` or a control byte), eight at a time.
    fn skip_plain(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(word) = self.b.get(self.i..self.i + 8) {
            let v = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            let quote = v ^ (ONES * u64::from(b'"'));
            let backslash = v ^ (ONES * u64::from(b'\\'));
            // A byte is flagged if it is zero (in `quote`/`backslash`) or below 0x20 (in `v`); the lowest
            // flag is exact, which is all we use.
            let flags = (quote.wrapping_sub(ONES) & !quote
                | backslash.wrapping_sub(ONES) & !backslash
                | v.wrapping_sub(ONES * 0x20) & !v)
                & HIGH;
            if flags != 0 {
                self.i += (flags.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                if self.digits() > MAX_INTEGER_DIGITS {
                    return None;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }
}

/// Decodes the escapes of a validated string body; `None` if it holds a lone surrogate, which Python keeps
/// but a Rust string cannot hold.
fn unescape(raw: &[u8]) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(raw.len());
    let text = std::str::from_utf8(raw).ok()?;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let unit = match chars.next()? {
            '"' => 0x22,
            '\\' => 0x5c,
            '/' => 0x2f,
            'b' => 0x08,
            'f' => 0x0c,
            'n' => 0x0a,
            'r' => 0x0d,
            't' => 0x09,
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&hex, 16).ok()?
            }
            _ => return None,
        };
        units.push(unit);
    }
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_valid(json: &str) -> bool {
        let mut s = Scanner { b: json.as_bytes(), i: 0, depth: 0 };
        s.ws();
        s.value().is_some() && {
            s.ws();
            s.i == json.len()
        }
    }

    fn member(json: &str) -> Option<Member<'_>> {
        object_member(json.as_bytes(), "type")
    }

    #[test]
    fn finds_the_last_top_level_member() {
        assert_eq!(member(r#"{"type":"a"}"#), Some(Member::Str("a".into())));
        assert_eq!(member(r#"{"type":"a","x":{"type":"inner"},"type":"b"}"#), Some(Member::Str("b".into())));
        assert_eq!(member(r#"{"type":"a","type":1}"#), Some(Member::Other));
        assert_eq!(member(r#"{"typ\u0065":"\u0061b"}"#), Some(Member::Str("ab".into())));
        assert_eq!(member(r#" { "completion" : "x" } "#), Some(Member::Absent));
        assert_eq!(member("{}"), Some(Member::Absent));
    }

    #[test]
    fn accepts_what_json_loads_accepts() {
        for ok in [
            "0",
            "-0",
            "1.5e10",
            "-1E-2",
            "1e+2",
            "NaN",
            "Infinity",
            "-Infinity",
            "true",
            "null",
            "\"\"",
            r#""\ud800""#,
            r#""\"\\\/\b\f\n\r\t""#,
            "[]",
            "[1, [2, {}]]",
            " \t\r\n{\"a\" : [ ]}\n",
            "\"日本\"",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_what_json_loads_rejects() {
        for bad in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "{\"a\" 1}",
            "[1 2]",
            "nul",
            "nan",
            "-NaN",
            "infinity",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\u{1}b\"",
            "\"unterminated",
            "{} {}",
            "{\"a\":}",
            "[",
            "{",
            "}",
            "tru",
            "1 1",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
        assert!(member("[1]").is_none());
        assert!(member("{\"type\":\"a\"} x").is_none());
        assert!(member("{1:2}").is_none());
    }

    #[test]
    fn declines_what_only_the_interpreter_can_decide() {
        let nested = |depth: usize| format!("{{\"type\":\"a\",\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        assert!(member(&nested(usize::try_from(MAX_DEPTH).unwrap() - 1)).is_some());
        assert!(member(&nested(usize::try_from(MAX_DEPTH).unwrap())).is_none());
        let integer = |digits: usize| format!("{{\"type\":\"a\",\"n\":{}}}", "7".repeat(digits));
        assert!(member(&integer(MAX_INTEGER_DIGITS)).is_some());
        assert!(member(&integer(MAX_INTEGER_DIGITS + 1)).is_none());
        assert_eq!(member(r#"{"type":"\ud800x"}"#), None);
        assert_eq!(member(r#"{"type":"\ud83d\ude00"}"#), Some(Member::Str("😀".into())));
        assert_eq!(member(r#"{"x":"\ud800","type":"a"}"#), Some(Member::Str("a".into())));
    }
}
