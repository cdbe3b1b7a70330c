//! Core errors to the package's own exception classes, which are defined in Python (`_errors.py`) so
//! that both backends raise the very same classes, and handed over by [`crate::package::bind`].

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use eventstream_core::{Error, ErrorClass};

use crate::package::{package, Package};

fn class_of(package: &Package, class: ErrorClass) -> &Py<PyType> {
    match class {
        ErrorClass::ChecksumMismatch => &package.checksum_mismatch,
        ErrorClass::NotAnEventStream => &package.not_an_event_stream,
        ErrorClass::InvalidHeadersLength => &package.invalid_headers_length,
        ErrorClass::InvalidPayloadLength => &package.invalid_payload_length,
        ErrorClass::InvalidHeaderValue => &package.invalid_header_value,
        ErrorClass::DuplicateHeader => &package.duplicate_header,
        ErrorClass::TruncatedStream => &package.truncated_stream_error,
        ErrorClass::InvalidChunk => &package.invalid_chunk,
        ErrorClass::InvalidSse => &package.invalid_sse,
    }
}

/// The package's exception for `error`, carrying the stream offset and what the call decoded before it.
pub fn to_py_err(py: Python<'_>, error: &Error, decoded: &Bound<'_, PyList>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = class_of(package(py)?, error.class()).bind(py);
        let kwargs = PyDict::new(py);
        kwargs.set_item("offset", error.offset())?;
        kwargs.set_item("messages", decoded)?;
        Ok(PyErr::from_value(class.call((error.to_string(),), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

/// Whether `err` is one of the package's `EventStreamError`s.
pub fn is_event_stream_error(py: Python<'_>, err: &PyErr) -> PyResult<bool> {
    err.value(py).is_instance(package(py)?.event_stream_error.bind(py))
}

/// A fresh copy of an `EventStreamError` (same class, message and offset; no messages), to raise again on
/// every later call: raising one object again would grow its traceback and pin every chunk fed since.
pub fn raise_again(py: Python<'_>, err: &PyErr) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let value = err.value(py);
        let kwargs = PyDict::new(py);
        kwargs.set_item("offset", value.getattr("offset")?)?;
        Ok(PyErr::from_value(value.get_type().call((value.str()?,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}
