//! What the binding needs of its Python package, handed over once by [`bind`] when the package is
//! imported (`_frames/api.py`): the exception classes both backends raise, defined in Python so that
//! they are the very same classes, and the one rule for botocore's response dict. Nothing is looked up
//! by module path or attribute name; the stub declares `bind`'s keywords, and `stubtest` checks them.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The objects of the Python package the binding uses.
pub struct Package {
    pub event_stream_error: Py<PyType>,
    pub checksum_mismatch: Py<PyType>,
    pub not_an_event_stream: Py<PyType>,
    pub invalid_headers_length: Py<PyType>,
    pub invalid_payload_length: Py<PyType>,
    pub invalid_header_value: Py<PyType>,
    pub duplicate_header: Py<PyType>,
    pub truncated_stream_error: Py<PyType>,
    pub invalid_chunk: Py<PyType>,
    pub invalid_sse: Py<PyType>,
    /// `Message -> dict`, botocore's response dict (`_frames.reference.response_dict`).
    pub response_dict: Py<PyAny>,
}

static PACKAGE: PyOnceLock<Package> = PyOnceLock::new();

/// The package's objects, once [`bind`] has run.
pub fn package(py: Python<'_>) -> PyResult<&Package> {
    PACKAGE.get(py).ok_or_else(|| {
        PyRuntimeError::new_err(
            "anthropic_eventstream._native is used before its package bound it: import anthropic_eventstream",
        )
    })
}

/// Hands the binding the package's exception classes and response-dict rule, each by its keyword (the
/// first call wins: the package binds once, at import).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn bind(
    py: Python<'_>,
    event_stream_error: Py<PyType>,
    checksum_mismatch: Py<PyType>,
    not_an_event_stream: Py<PyType>,
    invalid_headers_length: Py<PyType>,
    invalid_payload_length: Py<PyType>,
    invalid_header_value: Py<PyType>,
    duplicate_header: Py<PyType>,
    truncated_stream_error: Py<PyType>,
    invalid_chunk: Py<PyType>,
    invalid_sse: Py<PyType>,
    response_dict: Py<PyAny>,
) {
    let _ = PACKAGE.set(
        py,
        Package {
            event_stream_error,
            checksum_mismatch,
            not_an_event_stream,
            invalid_headers_length,
            invalid_payload_length,
            invalid_header_value,
            duplicate_header,
            truncated_stream_error,
            invalid_chunk,
            invalid_sse,
            response_dict,
        },
    );
}
