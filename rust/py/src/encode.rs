//! `(name, type, value)` triples to an encoded frame.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use eventstream_core::header::EncodeError;
use eventstream_core::{Header, HeaderType, HeaderValue};

/// A header value extracted from Python, owning what the wire value borrows.
enum Owned {
    Fixed(HeaderValue<'static>),
    Bytes(HeaderType, Vec<u8>),
    String(String),
}

fn extract(header_type: HeaderType, value: &Bound<'_, PyAny>) -> PyResult<Owned> {
    Ok(match header_type {
        HeaderType::BoolTrue => Owned::Fixed(HeaderValue::BoolTrue),
        HeaderType::BoolFalse => Owned::Fixed(HeaderValue::BoolFalse),
        HeaderType::Byte => Owned::Fixed(HeaderValue::Byte(value.extract()?)),
        HeaderType::Short => Owned::Fixed(HeaderValue::Short(value.extract()?)),
        HeaderType::Integer => Owned::Fixed(HeaderValue::Integer(value.extract()?)),
        HeaderType::Long => Owned::Fixed(HeaderValue::Long(value.extract()?)),
        HeaderType::Timestamp => Owned::Fixed(HeaderValue::Timestamp(value.extract()?)),
        HeaderType::ByteArray | HeaderType::Uuid => Owned::Bytes(header_type, value.extract()?),
        HeaderType::String => Owned::String(value.extract()?),
    })
}

impl Owned {
    fn wire(&self) -> PyResult<HeaderValue<'_>> {
        Ok(match self {
            Self::Fixed(value) => *value,
            Self::Bytes(HeaderType::Uuid, bytes) => HeaderValue::Uuid(
                bytes.as_slice().try_into().map_err(|_| PyValueError::new_err(EncodeError::UuidLength.to_string()))?,
            ),
            Self::Bytes(_, bytes) => HeaderValue::ByteArray(bytes),
            Self::String(s) => HeaderValue::String(s),
        })
    }
}

/// Encodes one frame from `(name, type, value)` triples already checked by the Python layer.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // PyO3 extracts arguments into owned values
pub fn encode_message<'py>(
    py: Python<'py>,
    headers: Vec<(String, u8, Bound<'py, PyAny>)>,
    payload: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let owned = headers
        .iter()
        .map(|(_, type_byte, value)| {
            let header_type = HeaderType::from_byte(*type_byte)
                .ok_or_else(|| PyValueError::new_err(EncodeError::UnknownType { type_byte: *type_byte }.to_string()))?;
            extract(header_type, value)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let wire = headers
        .iter()
        .zip(&owned)
        .map(|((name, _, _), value)| Ok(Header { name, value: value.wire()? }))
        .collect::<PyResult<Vec<_>>>()?;
    let frame = eventstream_core::encode_message(&wire, payload).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &frame))
}
