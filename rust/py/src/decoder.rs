//! The frame decoder behind `EventStreamDecoder`.

use pyo3::prelude::*;
use pyo3::types::PyList;

use eventstream_core::Limits;

use crate::errors::to_py_err;
use crate::input::{backing, run};
use crate::message::Pending;

/// The frame decoder behind `EventStreamDecoder` (native backend).
#[pyclass(module = "anthropic_eventstream._native")]
pub struct Decoder {
    inner: eventstream_core::Decoder,
}

#[pymethods]
impl Decoder {
    #[new]
    #[pyo3(signature = (*, max_headers_length, max_payload_length))]
    fn new(max_headers_length: u64, max_payload_length: u64) -> Self {
        Self { inner: eventstream_core::Decoder::new(Limits { max_headers_length, max_payload_length }) }
    }

    fn feed<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let input = backing(data)?;
        let (pending, result) = run(py, &mut self.inner, &input, |frame, location| Pending::new(frame, &location));
        let messages = PyList::empty(py);
        for p in pending {
            messages.append(p.into_message(py, &input))?;
        }
        result.map_err(|e| to_py_err(py, &e, &messages))?;
        Ok(messages)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.close().map_err(|e| to_py_err(py, &e, &PyList::empty(py)))
    }

    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }
}
