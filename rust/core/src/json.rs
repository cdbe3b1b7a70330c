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

/// A pull reader over one JSON document, for a caller that builds typed values as it reads them (the binding's
/// native model builder): each method reads one token of the kind the caller expects, and answers `None`
/// where the text is not that token, or not one this reader decides exactly as `json.loads` and jiter do.
/// The caller then hands the document to the reference parser whole: a `None` is never an error, only
/// "not here".
///
/// It decides only what a typed reader needs: objects, strings (a lone surrogate, which a Rust string cannot
/// hold, declines), integers in `i64` (a fraction, an exponent or a wider integer declines), `true`, `false`
/// and `null`. Nesting is bounded by [`MAX_DEPTH`], as in the scanner.
pub struct Reader<'a> {
    s: Scanner<'a>,
    /// The document as text, where it is known to be UTF-8: its strings are then sliced without checking.
    text: Option<&'a str>,
}

impl<'a> Reader<'a> {
    pub fn new(json: &'a [u8]) -> Self {
        Self { s: Scanner { b: json, i: 0, depth: 0 }, text: None }
    }

    /// Over a document already known to be UTF-8 (checked once, rather than string by string).
    pub fn over_text(json: &'a str) -> Self {
        Self { s: Scanner { b: json.as_bytes(), i: 0, depth: 0 }, text: Some(json) }
    }

    /// The next value's first byte, after whitespace.
    pub fn peek(&mut self) -> Option<u8> {
        self.s.ws();
        self.s.peek()
    }

    /// Opens an object: the next token must be `{`. Its members are then read with [`Reader::key`], passing
    /// `true` for the first.
    pub fn begin_object(&mut self) -> Option<()> {
        self.s.ws();
        self.s.expect(b'{')?;
        self.s.depth += 1;
        (self.s.depth <= MAX_DEPTH).then_some(())
    }

    /// The next member's name in the object being read (its value is read next), or `Some(None)` at its end.
    /// `first` is true for an object's first member, and is cleared.
    pub fn key(&mut self, first: &mut bool) -> Option<Option<Key<'a>>> {
        self.s.ws();
        if std::mem::take(first) {
            if self.s.peek()? == b'}' {
                self.s.i += 1;
                self.s.depth -= 1;
                return Some(None);
            }
        } else {
            match self.s.next()? {
                b',' => self.s.ws(),
                b'}' => {
                    self.s.depth -= 1;
                    return Some(None);
                }
                _ => return None,
            }
        }
        let name = self.s.string()?;
        self.s.ws();
        self.s.expect(b':')?;
        Some(Some(Key { name, json: self.s.b }))
    }

    /// A string value, unescaped.
    pub fn string(&mut self) -> Option<Cow<'a, str>> {
        self.s.ws();
        if self.s.peek()? != b'"' {
            return None;
        }
        let token = self.s.string()?;
        match self.text {
            // Quotes are ASCII: the slice is on character boundaries of valid text.
            Some(text) if !token.escaped => text.get(token.start..token.end).map(Cow::Borrowed),
            _ => token.to_str(self.s.b),
        }
    }

    /// An integer value that fits an `i64`, written without a fraction or an exponent.
    pub fn integer(&mut self) -> Option<i64> {
        self.s.ws();
        let negative = self.s.peek()? == b'-';
        if negative {
            self.s.i += 1;
        }
        let start = self.s.i;
        let digits = self.s.digits();
        let text = &self.s.b[start..self.s.i];
        if digits == 0 || (digits > 1 && text[0] == b'0') || matches!(self.s.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let mut value: i64 = 0;
        for &d in text {
            let d = i64::from(d - b'0');
            value = value.checked_mul(10)?;
            value = if negative { value.checked_sub(d)? } else { value.checked_add(d)? };
        }
        Some(value)
    }

    /// `true` or `false`.
    pub fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.s.literal(b"true").map(|()| true),
            b'f' => self.s.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// Skips any one value, checked as `json.loads` would read it (strings are not unescaped).
    pub fn skip(&mut self) -> Option<()> {
        self.s.ws();
        self.s.value()
    }

    /// `null`.
    pub fn null(&mut self) -> Option<()> {
        self.s.ws();
        self.s.literal(b"null")
    }

    /// The document ends here: only whitespace is left.
    pub fn end(mut self) -> Option<()> {
        self.s.ws();
        (self.s.i == self.s.b.len()).then_some(())
    }
}

/// A member's name as [`Reader::key`] read it, compared without unescaping where it has no escapes.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    name: Str,
    json: &'a [u8],
}

impl Key<'_> {
    /// Whether the name is `key`.
    pub fn is(self, key: &str) -> bool {
        self.name.eq(self.json, key)
    }
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
/// but a Rust string cannot hold. Runs without escapes are copied whole.
fn unescape(raw: &[u8]) -> Option<String> {
    let text = crate::utf8::to_str(raw).ok()?;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'\\', &bytes[i..]) {
        out.push_str(&text[i..i + offset]);
        i += offset + 1;
        let escape = *bytes.get(i)?;
        i += 1;
        let c = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = hex4(bytes, i)?;
                i += 4;
                if (0xd800..0xdc00).contains(&high) {
                    // A high surrogate counts only with a low one after it.
                    if bytes.get(i..i + 2)? != b"\\u" {
                        return None;
                    }
                    let low = hex4(bytes, i + 2)?;
                    if !(0xdc00..0xe000).contains(&low) {
                        return None;
                    }
                    i += 6;
                    char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?
                } else {
                    char::from_u32(high)? // a lone low surrogate is not a char: declined
                }
            }
            _ => return None,
        };
        out.push(c);
    }
    out.push_str(&text[i..]);
    Some(out)
}

/// The four hex digits at `at`, as a number.
fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = std::str::from_utf8(bytes.get(at..at.checked_add(4)?)?).ok()?;
    u32::from_str_radix(digits, 16).ok()
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

    /// Reads `{"k": <int>, ...}` members as integers, strings or null, in order.
    fn read(json: &str) -> Option<Vec<(String, String)>> {
        let mut r = Reader::new(json.as_bytes());
        r.begin_object()?;
        let mut first = true;
        let mut out = Vec::new();
        while let Some(key) = r.key(&mut first)? {
            let value = match r.peek()? {
                b'"' => r.string()?.into_owned(),
                b'n' => r.null().map(|()| "null".to_owned())?,
                b't' | b'f' => r.boolean()?.to_string(),
                _ => r.integer()?.to_string(),
            };
            out.push((key.name.to_str(key.json)?.into_owned(), value));
        }
        r.end()?;
        Some(out)
    }

    #[test]
    fn reader_reads_typed_members() {
        let pairs = |items: &[(&str, &str)]| items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(
            read(r#" { "a" : 1 , "b":"x\n\u00e9\ud83d\ude00", "c":null,"d":true} "#),
            Some(pairs(&[("a", "1"), ("b", "x\né😀"), ("c", "null"), ("d", "true")]))
        );
        assert_eq!(read("{}"), Some(vec![]));
        assert_eq!(read(r#"{"n":-9223372036854775808}"#), Some(pairs(&[("n", "-9223372036854775808")])));
        for declined in [
            r#"{"n":9223372036854775808}"#,
            r#"{"n":1.0}"#,
            r#"{"n":1e2}"#,
            r#"{"n":01}"#,
            r#"{"n":-}"#,
            r#"{"s":"\ud800"}"#,
            r#"{"s":"\udc00"}"#,
            r#"{"s":"\ud800\u0041"}"#,
            "{\"s\":\"a\u{1}\"}",
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a" 1}"#,
            "{",
        ] {
            assert_eq!(read(declined), None, "{declined}");
        }
    }

    #[test]
    fn unescape_agrees_with_utf16_decoding() {
        for (raw, want) in [
            (r"plain", Some("plain")),
            (r#"q\"b\\s\/\b\f\n\r\t"#, Some("q\"b\\s/\u{8}\u{c}\n\r\t")),
            (r"\u0041\u00e9\u65e5\ud83d\ude00", Some("Aé日😀")),
            (r"tail\ud83d", None),
            (r"\ude00x", None),
            (r"\ud83d\ud83d", None),
        ] {
            assert_eq!(unescape(raw.as_bytes()).as_deref(), want, "{raw}");
        }
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
