//! `anthropic_eventstream._native`: the PyO3 binding of `eventstream_core`.
//!
//! Only conversions live here: Python arguments to slices, frames to `Message` objects, Bedrock chunks to
//! `(event, data)` pairs, core errors to the package's own exception classes (defined in Python, in
//! `anthropic_eventstream._errors`, so both backends raise the very same classes).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};

use eventstream_core::bedrock::{self, ChunkKind};
use eventstream_core::header::EncodeError;
use eventstream_core::{Error, ErrorClass, Frame, FrameBytes, Header, HeaderValue, Limits, Location, Prelude};

/// Inputs at least this large are decoded with the interpreter detached, so other threads run meanwhile.
const DETACH_THRESHOLD: usize = 64 * 1024;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn error_class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::ChecksumMismatch => "ChecksumMismatch",
        ErrorClass::NotAnEventStream => "NotAnEventStream",
        ErrorClass::InvalidHeadersLength => "InvalidHeadersLength",
        ErrorClass::InvalidPayloadLength => "InvalidPayloadLength",
        ErrorClass::InvalidHeaderValue => "InvalidHeaderValue",
        ErrorClass::DuplicateHeader => "DuplicateHeader",
        ErrorClass::TruncatedStream => "TruncatedStreamError",
        ErrorClass::InvalidChunk => "InvalidChunk",
    }
}

/// The package's exception for `error`, carrying the stream offset and what the call decoded before it.
fn to_py_err(py: Python<'_>, error: &Error, decoded: Bound<'_, PyList>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = ERRORS.get_or_try_init(py, || py.import("anthropic_eventstream._errors").map(Bound::unbind))?;
        let class = module.bind(py).getattr(error_class_name(error.class()))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("offset", error.offset())?;
        kwargs.set_item("messages", decoded)?;
        Ok(PyErr::from_value(class.call((error.to_string(),), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

/// Borrows `data` without copying when it is `bytes`; copies a `bytearray` or `memoryview` once, as their
/// contents may change under us.
fn backing(data: &Bound<'_, PyAny>) -> PyResult<PyBackedBytes> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(bytes.clone().into());
    }
    if let Ok(array) = data.cast::<PyByteArray>() {
        return Ok(array.clone().into());
    }
    if data.is_instance_of::<PyMemoryView>() {
        let copied = data.py().get_type::<PyBytes>().call1((data,))?;
        return Ok(copied.cast_into::<PyBytes>()?.into());
    }
    Err(PyTypeError::new_err(format!(
        "expected bytes, bytearray or memoryview, got {}",
        data.get_type().name()?
    )))
}

fn limits(max_headers_length: u64, max_payload_length: u64) -> Limits {
    Limits { max_headers_length, max_payload_length }
}

/// Runs `decoder` over `data` with `sink`, detached from the interpreter for large inputs.
fn run<T: Send>(
    py: Python<'_>,
    decoder: &mut eventstream_core::Decoder,
    data: &[u8],
    mut sink: impl FnMut(&Frame<'_>, Location, &mut Vec<T>) -> Result<(), Error> + Send,
) -> (Vec<T>, Result<(), Error>) {
    let mut out = Vec::new();
    let mut go = || decoder.feed(data, |frame, location| sink(frame, location, &mut out));
    let result = if data.len() >= DETACH_THRESHOLD { py.detach(go) } else { go() };
    (out, result)
}

/// One frame: a slice of the bytes it was decoded from, whose headers are converted on first use.
#[pyclass(module = "anthropic_eventstream._native", frozen)]
pub struct Message {
    bytes: PyBackedBytes,
    start: usize,
    prelude: Prelude,
    crc: u32,
    headers: PyOnceLock<Py<PyDict>>,
}

/// A frame as collected while decoding, before the interpreter is needed again.
struct Pending {
    bytes: Option<Vec<u8>>,
    start: usize,
    prelude: Prelude,
    crc: u32,
}

impl Pending {
    fn new(frame: &Frame<'_>, location: Location) -> Self {
        let (bytes, start) = match location.bytes {
            FrameBytes::Input(range) => (None, range.start),
            FrameBytes::Stitched => (Some(frame.raw.to_vec()), 0),
        };
        Self { bytes, start, prelude: frame.prelude, crc: frame.crc }
    }

    fn into_message(self, py: Python<'_>, input: &PyBackedBytes) -> PyResult<Message> {
        let bytes = match self.bytes {
            Some(owned) => PyBytes::new(py, &owned).into(),
            None => input.clone_ref(py),
        };
        Ok(Message { bytes, start: self.start, prelude: self.prelude, crc: self.crc, headers: PyOnceLock::new() })
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
            for header in eventstream_core::HeaderIter::new(&raw[12..self.prelude.headers_end()]) {
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

    /// The dict botocore's parsers take: status 400 for `error` and `exception` frames, else 200.
    fn to_response_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let status = match self.message_type(py)? {
            Some(t) if t.eq("error")? || t.eq("exception")? => 400,
            _ => 200,
        };
        let out = PyDict::new(py);
        out.set_item("status_code", status)?;
        out.set_item("headers", self.headers(py)?)?;
        out.set_item("body", self.payload(py))?;
        Ok(out)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Message(headers={}, payload={})",
            self.headers(py)?.repr()?,
            self.payload(py).repr()?
        ))
    }
}

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
        Self { inner: eventstream_core::Decoder::new(limits(max_headers_length, max_payload_length)) }
    }

    fn feed<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let input = backing(data)?;
        let (pending, result) = run(py, &mut self.inner, &input, |frame, location, out| {
            out.push(Pending::new(frame, location));
            Ok(())
        });
        let messages = PyList::empty(py);
        for p in pending {
            messages.append(p.into_message(py, &input)?)?;
        }
        result.map_err(|e| to_py_err(py, &e, messages.clone()))?;
        Ok(messages)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.close().map_err(|e| to_py_err(py, &e, PyList::empty(py)))
    }

    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }
}

/// What one Bedrock frame gives the SDK.
enum Item {
    Event { name: String, json: String },
    Error(Pending),
}

/// Bedrock's `chunk` layer over the frame decoder: bytes in, `(event, data)` pairs out, in one call per
/// network chunk. Exception and error frames come out as `(None, Message)` for the Python layer to map.
#[pyclass(module = "anthropic_eventstream._native")]
pub struct BedrockDecoder {
    inner: eventstream_core::Decoder,
    /// anthropic < 0.4x named every chunk `completion`; later versions name it by its `type`.
    legacy: bool,
    /// Whether an object with neither `type` nor `completion` is dropped (newer SDKs) or named `completion`.
    skip_untyped: bool,
    /// Event names seen so far, so that each is one shared Python string.
    names: Vec<(String, Py<PyString>)>,
}

impl BedrockDecoder {
    fn event_name(&self, kind: ChunkKind, json: &str) -> Option<String> {
        if self.legacy {
            // Old SDKs name every chunk `completion`, which would pass an in-band error off as an event.
            let name = if kind == ChunkKind::Typed("error".to_owned()) { "error" } else { "completion" };
            return (!json.is_empty()).then(|| name.to_owned());
        }
        match kind {
            ChunkKind::Typed(name) => Some(name),
            ChunkKind::Untyped if self.skip_untyped => None,
            ChunkKind::Completion | ChunkKind::Untyped | ChunkKind::NotObject => Some("completion".to_owned()),
        }
    }

    fn name<'py>(&mut self, py: Python<'py>, name: &str) -> Bound<'py, PyString> {
        if let Some((_, s)) = self.names.iter().find(|(n, _)| n == name) {
            return s.bind(py).clone();
        }
        let s = PyString::intern(py, name);
        if self.names.len() < 32 {
            self.names.push((name.to_owned(), s.clone().unbind()));
        }
        s
    }
}

#[pymethods]
impl BedrockDecoder {
    #[new]
    #[pyo3(signature = (*, max_headers_length, max_payload_length, legacy, skip_untyped))]
    fn new(max_headers_length: u64, max_payload_length: u64, legacy: bool, skip_untyped: bool) -> Self {
        Self {
            inner: eventstream_core::Decoder::new(limits(max_headers_length, max_payload_length)),
            legacy,
            skip_untyped,
            names: Vec::new(),
        }
    }

    fn feed<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let input = backing(data)?;
        let mut inner = std::mem::take(&mut self.inner);
        let this = &*self;
        let (items, result) = run(py, &mut inner, &input, |frame, location, out| {
            let offset = location.offset;
            match bedrock::classify(frame).map_err(|kind| kind.at(offset))? {
                bedrock::Event::Chunk(chunk) => {
                    if let Some(name) = this.event_name(chunk.kind, &chunk.json) {
                        out.push(Item::Event { name, json: chunk.json });
                    }
                }
                bedrock::Event::Error => out.push(Item::Error(Pending::new(frame, location))),
                bedrock::Event::Skip => {}
            }
            Ok(())
        });
        self.inner = inner;
        let list = PyList::empty(py);
        for item in items {
            let pair = match item {
                Item::Event { name, json } => {
                    PyTuple::new(py, [self.name(py, &name).into_any(), PyString::new(py, &json).into_any()])?
                }
                Item::Error(p) => PyTuple::new(py, [py.None().into_bound(py), Bound::new(py, p.into_message(py, &input)?)?.into_any()])?,
            };
            list.append(pair)?;
        }
        result.map_err(|e| to_py_err(py, &e, list.clone()))?;
        Ok(list)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.close().map_err(|e| to_py_err(py, &e, PyList::empty(py)))
    }
}

/// Encodes one frame from `(name, type_tag, value)` triples already checked by the Python layer.
#[pyfunction]
fn encode_message<'py>(
    py: Python<'py>,
    headers: Vec<(String, u8, Bound<'py, PyAny>)>,
    payload: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let mut owned_bytes: Vec<Vec<u8>> = Vec::with_capacity(headers.len());
    let mut owned_strings: Vec<String> = Vec::with_capacity(headers.len());
    for (_, tag, value) in &headers {
        match tag {
            6 | 9 => owned_bytes.push(value.extract::<Vec<u8>>()?),
            7 => owned_strings.push(value.extract()?),
            _ => {}
        }
    }
    let (mut b, mut s) = (owned_bytes.iter(), owned_strings.iter());
    let mut wire = Vec::with_capacity(headers.len());
    for (name, tag, value) in &headers {
        let v = match tag {
            0 => HeaderValue::BoolTrue,
            1 => HeaderValue::BoolFalse,
            2 => HeaderValue::Byte(value.extract()?),
            3 => HeaderValue::Short(value.extract()?),
            4 => HeaderValue::Integer(value.extract()?),
            5 => HeaderValue::Long(value.extract()?),
            6 => HeaderValue::ByteArray(b.next().map_or(&[][..], Vec::as_slice)),
            7 => HeaderValue::String(s.next().map_or("", String::as_str)),
            8 => HeaderValue::Timestamp(value.extract()?),
            9 => {
                let bytes = b.next().map_or(&[][..], Vec::as_slice);
                HeaderValue::Uuid(bytes.try_into().map_err(|_| PyValueError::new_err("a UUID header needs 16 bytes"))?)
            }
            other => return Err(PyValueError::new_err(format!("unknown header type {other} (expected 0 to 9)"))),
        };
        wire.push(Header { name, value: v });
    }
    let frame = eventstream_core::encode_message(&wire, payload)
        .map_err(|e: EncodeError| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &frame))
}

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Message>()?;
    m.add_class::<Decoder>()?;
    m.add_class::<BedrockDecoder>()?;
    m.add_function(wrap_pyfunction!(encode_message, m)?)?;
    Ok(())
}
