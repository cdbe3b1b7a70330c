//! Core errors to the package's own exception classes, which are defined in Python
//! (`anthropic_eventstream._errors`) so that both backends raise the very same classes.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use eventstream_core::{Error, ErrorClass};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::ChecksumMismatch => "ChecksumMismatch",
        ErrorClass::NotAnEventStream => "NotAnEventStream",
        ErrorClass::InvalidHeadersLength => "InvalidHeadersLength",
        ErrorClass::InvalidPayloadLength => "InvalidPayloadLength",
        ErrorClass::InvalidHeaderValue => "InvalidHeaderValue",
        ErrorClass::DuplicateHeader => "DuplicateHeader",
        ErrorClass::TruncatedStream => "TruncatedStreamError",
        ErrorClass::InvalidChunk => "InvalidChunk",
        ErrorClass::InvalidSse => "InvalidSSE",
    }
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(ERRORS.get_or_try_init(py, || py.import("anthropic_eventstream._errors").map(Bound::unbind))?.bind(py))
}

/// The package's exception for `error`, carrying the stream offset and what the call decoded before it.
pub fn to_py_err(py: Python<'_>, error: &Error, decoded: &Bound<'_, PyList>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = errors_module(py)?.getattr(class_name(error.class()))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("offset", error.offset())?;
        kwargs.set_item("messages", decoded)?;
        Ok(PyErr::from_value(class.call((error.to_string(),), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

/// Whether `err` is one of the package's `EventStreamError`s.
pub fn is_event_stream_error(py: Python<'_>, err: &PyErr) -> PyResult<bool> {
    err.value(py).is_instance(&errors_module(py)?.getattr("EventStreamError")?)
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
