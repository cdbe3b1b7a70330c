//! The frame decoder behind `EventStreamDecoder`, and behind the botocore shim's streams (`feed_parsed`).

use pyo3::prelude::*;
use pyo3::types::PyList;

use eventstream_core::{Limits, MessageType};

use crate::errors::to_py_err;
use crate::input::{backing, run};
use crate::message::Pending;
use crate::shape::ShapeParser;

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

    /// `feed`, for a botocore event stream whose events `parser` builds: each event frame it builds comes out
    /// as botocore's parser gives it (`{event_type: {...}}`), and every other frame as its `Message`, for
    /// botocore to parse. With `first_as_message`, the call's first frame is a `Message` whatever it holds (a
    /// stream's first event may be read as its initial response).
    fn feed_parsed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        parser: &Bound<'py, ShapeParser>,
        first_as_message: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let input = backing(data)?;
        let shapes = parser.get();
        let mut first = first_as_message;
        let (items, result) = run(py, &mut self.inner, &input, |frame, location| {
            let event = (!std::mem::take(&mut first) && frame.message_type() == MessageType::Event)
                .then(|| frame.known.event_type.and_then(|name| shapes.event_index(name)))
                .flatten();
            (Pending::new(frame, &location), event)
        });
        let events = PyList::empty(py);
        for (pending, event) in items {
            let parsed = match event {
                Some(index) => shapes.parse_at(py, index, pending.payload(&input))?,
                None => None,
            };
            match parsed {
                Some(parsed) => events.append(parsed)?,
                None => events.append(pending.into_message(py, &input))?,
            }
        }
        result.map_err(|e| to_py_err(py, &e, &events))?;
        Ok(events)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.close().map_err(|e| to_py_err(py, &e, &PyList::empty(py)))
    }

    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }
}
