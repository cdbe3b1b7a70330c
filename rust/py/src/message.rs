//! Frames to `Message` objects.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use eventstream_core::{Frame, FrameBytes, HeaderIter, HeaderValue, Limits, Location, Prelude};

use crate::errors::to_py_err;
use crate::package::package;

/// One frame: a slice of the bytes it was decoded from, whose headers are converted on first use. It keeps
/// that chunk alive (zero-copy); `payload` returns a copy, so keeping only payloads frees the chunk.
#[pyclass(module = "anthropic_eventstream._native", frozen)]
pub struct Message {
    bytes: PyBackedBytes,
    start: usize,
    prelude: Prelude,
    crc: u32,
    headers: PyOnceLock<Py<PyDict>>,
}

/// A frame as collected while decoding, before the interpreter is needed again.
pub struct Pending {
    /// The frame's own copy, when it was stitched across chunks; else it lies in the input.
    bytes: Option<Vec<u8>>,
    start: usize,
    prelude: Prelude,
    crc: u32,
    /// Stream offset of the frame.
    pub offset: u64,
}

impl Pending {
    pub fn new(frame: &Frame<'_>, location: &Location) -> Self {
        let (bytes, start) = match &location.bytes {
            FrameBytes::Input(range) => (None, range.start),
            FrameBytes::Stitched => (Some(frame.raw.to_vec()), 0),
        };
        Self { bytes, start, prelude: frame.prelude, crc: frame.crc, offset: location.offset }
    }

    /// The frame's payload: in its own copy, or in `input`.
    pub fn payload<'a>(&'a self, input: &'a [u8]) -> &'a [u8] {
        let frame = self.bytes.as_deref().unwrap_or(&input[self.start..]);
        &frame[self.prelude.headers_end()..self.prelude.payload_end()]
    }

    pub fn into_message(self, py: Python<'_>, input: &PyBackedBytes) -> Message {
        let bytes = match self.bytes {
            Some(owned) => PyBytes::new(py, &owned).into(),
            None => input.clone_ref(py),
        };
        Message { bytes, start: self.start, prelude: self.prelude, crc: self.crc, headers: PyOnceLock::new() }
    }
}

fn header_value<'py>(py: Python<'py>, value: HeaderValue<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        HeaderValue::BoolTrue => true.into_pyobject(py)?.to_owned().into_any(),
        HeaderValue::BoolFalse => false.into_pyobject(py)?.to_owned().into_any(),
        HeaderValue::Byte(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::Short(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::Integer(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::Long(v) | HeaderValue::Timestamp(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::ByteArray(b) => PyBytes::new(py, b).into_any(),
        HeaderValue::Uuid(b) => PyBytes::new(py, b).into_any(),
        HeaderValue::String(s) => PyString::new(py, s).into_any(),
    })
}

impl Message {
    fn raw(&self) -> &[u8] {
        &self.bytes[self.start..self.start + self.prelude.frame_length()]
    }

    fn headers_dict<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyDict>> {
        let dict = self.headers.get_or_try_init(py, || -> PyResult<Py<PyDict>> {
            let dict = PyDict::new(py);
            let raw = self.raw();
            for header in HeaderIter::new(&raw[12..self.prelude.headers_end()]) {
                let header = header.map_err(|kind| PyValueError::new_err(kind.at(0).to_string()))?;
                dict.set_item(header.name, header_value(py, header.value)?)?;
            }
            Ok(dict.unbind())
        })?;
        Ok(dict.bind(py))
    }

    fn header<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.headers_dict(py)?.get_item(name)
    }
}

#[pymethods]
impl Message {
    /// The message of one whole frame's bytes (how a `Message` is pickled and copied).
    #[new]
    fn new(py: Python<'_>, frame: PyBackedBytes) -> PyResult<Self> {
        let unlimited = Limits { max_headers_length: u64::MAX, max_payload_length: u64::MAX };
        let mut decoder = eventstream_core::Decoder::new(unlimited);
        let mut parsed = None;
        decoder
            .feed(&frame, |f, _| {
                parsed.get_or_insert((f.prelude, f.crc, f.raw.len()));
                Ok(())
            })
            .and_then(|()| decoder.close())
            .map_err(|e| to_py_err(py, &e, &PyList::empty(py)))?;
        match parsed {
            Some((prelude, crc, length)) if length == frame.len() => {
                Ok(Self { bytes: frame, start: 0, prelude, crc, headers: PyOnceLock::new() })
            }
            _ => Err(PyValueError::new_err("expected the bytes of exactly one frame")),
        }
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let frame = PyBytes::new(py, slf.get().raw());
        Ok((slf.get_type().into_any(), PyTuple::new(py, [frame])?))
    }

    /// Header names to values: `bool`, `int` (integers and timestamps), `bytes` (byte arrays, UUIDs), `str`.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.headers_dict(py).cloned()
    }

    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.raw()[self.prelude.headers_end()..self.prelude.payload_end()])
    }

    #[getter]
    fn message_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.header(py, ":message-type")
    }

    #[getter]
    fn event_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.header(py, ":event-type")
    }

    #[getter]
    fn exception_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.header(py, ":exception-type")
    }

    #[getter]
    fn total_length(&self) -> u32 {
        self.prelude.total_length
    }

    #[getter]
    fn headers_length(&self) -> u32 {
        self.prelude.headers_length
    }

    #[getter]
    fn prelude_crc(&self) -> u32 {
        self.prelude.crc
    }

    #[getter]
    fn crc(&self) -> u32 {
        self.crc
    }

    /// The dict botocore's parsers take; the rule lives in one place for both backends,
    /// `_frames.reference.response_dict`, handed over by [`crate::package::bind`].
    fn to_response_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        package(py)?.response_dict.bind(py).call1((slf,))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Message(headers={}, payload={})", self.headers(py)?.repr()?, self.payload(py).repr()?))
    }
}
