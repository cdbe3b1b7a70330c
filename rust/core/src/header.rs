//! Headers: `name_len u8 | name (UTF-8) | type u8 | value`, repeated to fill the headers section.

use std::collections::HashSet;

use crate::error::ErrorKind;
use crate::utf8;

/// The ten wire types of a header value, by their type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum HeaderType {
    BoolTrue = 0,
    BoolFalse = 1,
    Byte = 2,
    Short = 3,
    Integer = 4,
    Long = 5,
    ByteArray = 6,
    String = 7,
    Timestamp = 8,
    Uuid = 9,
}

impl HeaderType {
    /// The type of a type byte, if it is one of the ten.
    pub fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::BoolTrue,
            1 => Self::BoolFalse,
            2 => Self::Byte,
            3 => Self::Short,
            4 => Self::Integer,
            5 => Self::Long,
            6 => Self::ByteArray,
            7 => Self::String,
            8 => Self::Timestamp,
            9 => Self::Uuid,
            _ => return None,
        })
    }

    /// Bytes of a value of this type, for the types whose values have a fixed size.
    fn fixed_length(self) -> Option<usize> {
        match self {
            Self::BoolTrue | Self::BoolFalse => Some(0),
            Self::Byte => Some(1),
            Self::Short => Some(2),
            Self::Integer => Some(4),
            Self::Long | Self::Timestamp => Some(8),
            Self::Uuid => Some(16),
            Self::ByteArray | Self::String => None,
        }
    }
}

/// A header value, one variant per wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    BoolTrue,
    BoolFalse,
    Byte(i8),
    Short(i16),
    Integer(i32),
    Long(i64),
    ByteArray(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid(&'a [u8; 16]),
}

impl<'a> HeaderValue<'a> {
    /// The wire type.
    pub fn header_type(&self) -> HeaderType {
        match self {
            Self::BoolTrue => HeaderType::BoolTrue,
            Self::BoolFalse => HeaderType::BoolFalse,
            Self::Byte(_) => HeaderType::Byte,
            Self::Short(_) => HeaderType::Short,
            Self::Integer(_) => HeaderType::Integer,
            Self::Long(_) => HeaderType::Long,
            Self::ByteArray(_) => HeaderType::ByteArray,
            Self::String(_) => HeaderType::String,
            Self::Timestamp(_) => HeaderType::Timestamp,
            Self::Uuid(_) => HeaderType::Uuid,
        }
    }

    /// The string value, if this is a string header.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

/// One decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: HeaderValue<'a>,
}

/// Walks a headers section, yielding each header or the first error. Stops after an error.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    section: &'a [u8],
    pos: usize,
}

impl<'a> HeaderIter<'a> {
    pub fn new(section: &'a [u8]) -> Self {
        Self { section, pos: 0 }
    }

    fn take(&mut self, n: usize, header_start: usize) -> Result<&'a [u8], ErrorKind> {
        let available = self.section.len() - self.pos;
        if n > available {
            return Err(ErrorKind::HeaderOverrun { at: header_start, needed: n, available });
        }
        let out = &self.section[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn take_array<const N: usize>(&mut self, header_start: usize) -> Result<[u8; N], ErrorKind> {
        let bytes = self.take(N, header_start)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn take_str(&mut self, n: usize, header_start: usize) -> Result<&'a str, ErrorKind> {
        let bytes = self.take(n, header_start)?;
        utf8::to_str(bytes).map_err(|_| ErrorKind::HeaderNotUtf8 { at: header_start })
    }

    fn parse_one(&mut self) -> Result<Header<'a>, ErrorKind> {
        let start = self.pos;
        let [name_length] = self.take_array::<1>(start)?;
        let name = self.take_str(usize::from(name_length), start)?;
        let [type_byte] = self.take_array::<1>(start)?;
        let Some(header_type) = HeaderType::from_byte(type_byte) else {
            return Err(ErrorKind::UnknownHeaderType { name: name.to_owned(), type_byte });
        };
        let value = match header_type {
            HeaderType::BoolTrue => HeaderValue::BoolTrue,
            HeaderType::BoolFalse => HeaderValue::BoolFalse,
            HeaderType::Byte => HeaderValue::Byte(i8::from_be_bytes(self.take_array(start)?)),
            HeaderType::Short => HeaderValue::Short(i16::from_be_bytes(self.take_array(start)?)),
            HeaderType::Integer => HeaderValue::Integer(i32::from_be_bytes(self.take_array(start)?)),
            HeaderType::Long => HeaderValue::Long(i64::from_be_bytes(self.take_array(start)?)),
            HeaderType::ByteArray => {
                let length = u16::from_be_bytes(self.take_array(start)?);
                HeaderValue::ByteArray(self.take(usize::from(length), start)?)
            }
            HeaderType::String => {
                let length = u16::from_be_bytes(self.take_array(start)?);
                HeaderValue::String(self.take_str(usize::from(length), start)?)
            }
            HeaderType::Timestamp => HeaderValue::Timestamp(i64::from_be_bytes(self.take_array(start)?)),
            HeaderType::Uuid => {
                let bytes = self.take(16, start)?;
                HeaderValue::Uuid(bytes.try_into().map_err(|_| ErrorKind::HeaderOverrun {
                    at: start,
                    needed: 16,
                    available: bytes.len(),
                })?)
            }
        };
        Ok(Header { name, value })
    }
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Result<Header<'a>, ErrorKind>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.section.len() {
            return None;
        }
        let item = self.parse_one();
        if item.is_err() {
            self.pos = self.section.len();
        }
        Some(item)
    }
}

/// The headers the layers above route on, captured while the section is validated so that nobody has to
/// walk it again. Only string-typed values count, as in botocore's parsers (`headers.get(...) == "event"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KnownHeaders<'a> {
    pub message_type: Option<&'a str>,
    pub event_type: Option<&'a str>,
}

impl<'a> KnownHeaders<'a> {
    /// Records `value` if `name` is one of the routing headers.
    fn capture(&mut self, name: &[u8], value: Option<&'a str>) {
        match name {
            b":message-type" => self.message_type = value,
            b":event-type" => self.event_type = value,
            _ => {}
        }
    }
}

/// Beyond this many headers, duplicate detection switches from a linear scan to a hash set, so a hostile
/// 128 KiB section of one-byte names cannot make validation quadratic.
const LINEAR_DUPLICATE_SCAN: usize = 16;

/// Validates a whole headers section (every value well-formed, no name twice) and captures the routing
/// headers.
pub fn validate(section: &[u8]) -> Result<KnownHeaders<'_>, ErrorKind> {
    validate_fast(section).map_or_else(|| validate_precisely(section), Ok)
}

/// The common case in one tight pass: few headers, ASCII names, well-formed values. `None` means "not
/// sure", never "invalid": the precise pass then decides, and names the problem.
fn validate_fast(section: &[u8]) -> Option<KnownHeaders<'_>> {
    const FAST_MAX_HEADERS: usize = 8;
    let mut known = KnownHeaders::default();
    let mut names: [&[u8]; FAST_MAX_HEADERS] = [&[]; FAST_MAX_HEADERS];
    let mut count = 0;
    let mut pos = 0;
    while pos < section.len() {
        let name_length = usize::from(*section.get(pos)?);
        let name = section.get(pos + 1..pos + 1 + name_length)?;
        let header_type = HeaderType::from_byte(*section.get(pos + 1 + name_length)?)?;
        pos += 2 + name_length;
        let value_length = match header_type.fixed_length() {
            Some(length) => length,
            None => 2 + usize::from(u16::from_be_bytes([*section.get(pos)?, *section.get(pos + 1)?])),
        };
        let value = section.get(pos..pos + value_length)?;
        pos += value_length;
        if !name.is_ascii() || count == FAST_MAX_HEADERS || names[..count].contains(&name) {
            return None;
        }
        names[count] = name;
        count += 1;
        let text = if header_type == HeaderType::String { Some(utf8::to_str(&value[2..]).ok()?) } else { None };
        known.capture(name, text);
    }
    Some(known)
}

fn validate_precisely(section: &[u8]) -> Result<KnownHeaders<'_>, ErrorKind> {
    let mut known = KnownHeaders::default();
    let mut names: Vec<&str> = Vec::new();
    let mut seen: Option<HashSet<&str>> = None;
    for header in HeaderIter::new(section) {
        let Header { name, value } = header?;
        let duplicate = if let Some(set) = &mut seen {
            !set.insert(name)
        } else {
            let dup = names.contains(&name);
            names.push(name);
            if names.len() > LINEAR_DUPLICATE_SCAN {
                seen = Some(names.drain(..).collect());
            }
            dup
        };
        if duplicate {
            return Err(ErrorKind::DuplicateHeader { name: name.to_owned() });
        }
        known.capture(name.as_bytes(), value.as_str());
    }
    Ok(known)
}

/// Why a header cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    NameTooLong {
        name: String,
    },
    ValueTooLong {
        name: String,
        length: usize,
    },
    FrameTooLong {
        length: usize,
    },
    /// A header type byte that is not one of the ten wire types (from a caller that names types by byte).
    UnknownType {
        type_byte: u8,
    },
    /// A UUID value that is not 16 bytes.
    UuidLength,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NameTooLong { name } => wire_message!(NAME_TOO_LONG, f, name = name, length = name.len()),
            Self::ValueTooLong { name, length } => wire_message!(VALUE_TOO_LONG, f, name = name, length = length),
            Self::FrameTooLong { length } => wire_message!(FRAME_TOO_LONG, f, length = length),
            Self::UnknownType { type_byte } => wire_message!(UNKNOWN_TYPE_TO_ENCODE, f, type_byte = type_byte),
            Self::UuidLength => wire_message!(UUID_LENGTH, f,),
        }
    }
}

impl std::error::Error for EncodeError {}

impl Header<'_> {
    /// Appends the header's wire form.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let name_length =
            u8::try_from(self.name.len()).map_err(|_| EncodeError::NameTooLong { name: self.name.to_owned() })?;
        out.push(name_length);
        out.extend_from_slice(self.name.as_bytes());
        out.push(self.value.header_type() as u8);
        match self.value {
            HeaderValue::BoolTrue | HeaderValue::BoolFalse => {}
            HeaderValue::Byte(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Short(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Integer(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Long(v) | HeaderValue::Timestamp(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::ByteArray(bytes) => self.encode_sized(bytes, out)?,
            HeaderValue::String(s) => self.encode_sized(s.as_bytes(), out)?,
            HeaderValue::Uuid(bytes) => out.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn encode_sized(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let length = u16::try_from(bytes.len())
            .map_err(|_| EncodeError::ValueTooLong { name: self.name.to_owned(), length: bytes.len() })?;
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(headers: &[Header<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for h in headers {
            h.encode(&mut out).unwrap();
        }
        out
    }

    #[test]
    fn round_trips_every_type_at_its_edges() {
        let uuid = [7u8; 16];
        let headers = [
            Header { name: "t", value: HeaderValue::BoolTrue },
            Header { name: "f", value: HeaderValue::BoolFalse },
            Header { name: "b-", value: HeaderValue::Byte(i8::MIN) },
            Header { name: "b+", value: HeaderValue::Byte(i8::MAX) },
            Header { name: "s", value: HeaderValue::Short(i16::MIN) },
            Header { name: "i", value: HeaderValue::Integer(i32::MAX) },
            Header { name: "l", value: HeaderValue::Long(i64::MIN) },
            Header { name: "a", value: HeaderValue::ByteArray(&[0, 255]) },
            Header { name: "empty", value: HeaderValue::ByteArray(&[]) },
            Header { name: "str", value: HeaderValue::String("héllo") },
            Header { name: "ts", value: HeaderValue::Timestamp(1_700_000_000_000) },
            Header { name: "u", value: HeaderValue::Uuid(&uuid) },
            Header { name: "", value: HeaderValue::String("") },
        ];
        let bytes = encoded(&headers);
        let back: Vec<_> = HeaderIter::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(back, headers);
    }

    #[test]
    fn rejects_unknown_type_overrun_bad_utf8_and_duplicates() {
        assert!(matches!(validate(b"\x01a\x0a").unwrap_err(), ErrorKind::UnknownHeaderType { type_byte: 10, .. }));
        assert!(matches!(validate(b"\x05ab").unwrap_err(), ErrorKind::HeaderOverrun { .. }));
        assert!(matches!(validate(b"\x01a\x07\x00\x09abc").unwrap_err(), ErrorKind::HeaderOverrun { .. }));
        assert!(matches!(validate(b"\x01\xff\x00").unwrap_err(), ErrorKind::HeaderNotUtf8 { .. }));
        assert!(matches!(
            validate(b"\x01a\x00\x01a\x01").unwrap_err(),
            ErrorKind::DuplicateHeader { name } if name == "a"
        ));
    }

    #[test]
    fn fast_and_precise_passes_agree() {
        let sections: [&[u8]; 9] = [
            b"",
            b"\x01a\x00",
            b"\x01a\x07\x00\x01x\x01b\x06\x00\x00",
            b"\x01a\x0a",
            b"\x05ab",
            b"\x01a\x07\x00\x09abc",
            b"\x01\xff\x00",
            b"\x01a\x00\x01a\x01",
            b"\x01a\x07\x00\x02\xc3\x28",
        ];
        for section in sections {
            let precise = validate_precisely(section);
            if let Some(fast) = validate_fast(section) {
                assert_eq!(Ok(fast), precise, "{section:?}");
            }
            assert_eq!(validate(section), precise, "{section:?}");
        }
    }

    #[test]
    fn finds_duplicates_among_many_headers() {
        let names: Vec<String> = (0..1000).map(|i| format!("h{i}")).collect();
        let mut headers: Vec<Header<'_>> =
            names.iter().map(|n| Header { name: n, value: HeaderValue::BoolTrue }).collect();
        assert!(validate(&encoded(&headers)).is_ok());
        headers.push(Header { name: "h500", value: HeaderValue::BoolFalse });
        assert!(matches!(validate(&encoded(&headers)).unwrap_err(), ErrorKind::DuplicateHeader { .. }));
    }

    #[test]
    fn captures_routing_headers_only_when_strings() {
        let bytes = encoded(&[
            Header { name: ":message-type", value: HeaderValue::String("exception") },
            Header { name: ":event-type", value: HeaderValue::Integer(1) },
        ]);
        let known = validate(&bytes).unwrap();
        assert_eq!(known.message_type, Some("exception"));
        assert_eq!(known.event_type, None);
    }

    #[test]
    fn refuses_to_encode_what_does_not_fit() {
        let long = "x".repeat(256);
        let mut out = Vec::new();
        assert!(Header { name: &long, value: HeaderValue::BoolTrue }.encode(&mut out).is_err());
        let big = vec![0u8; 70_000];
        assert!(Header { name: "a", value: HeaderValue::ByteArray(&big) }.encode(&mut out).is_err());
    }
}
