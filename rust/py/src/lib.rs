//! `anthropic_eventstream._native`: the `PyO3` binding of `eventstream_core`.
//!
//! Only conversions live here: Python arguments to slices, frames to `Message` objects, Bedrock chunks to
//! `(event, data)` pairs, core errors to the package's own exception classes (defined in Python, in
//! `anthropic_eventstream._errors`, so both backends raise the very same classes).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::intern;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyType};

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

    fn into_message(self, py: Python<'_>, input: &PyBackedBytes) -> Message {
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
            messages.append(p.into_message(py, &input))?;
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
    /// A decoded chunk, its JSON in the decoder's arena.
    Event(bedrock::Chunk),
    Error(Pending),
}

/// The arena's capacity is kept between calls up to this size (a network chunk's worth of events).
const RETAINED_ARENA_CAPACITY: usize = 1 << 20;

/// One attribute of the SDK's `ServerSentEvent`, as its constructor sets it.
enum Attribute {
    /// The event name.
    Event(Py<PyString>),
    /// The event data.
    Data(Py<PyString>),
    /// A fresh empty list per event.
    NewList(Py<PyString>),
    /// The same immutable value for every event.
    Constant(Py<PyString>, Py<PyAny>),
}

/// How to build the SDK's `ServerSentEvent` without running its Python `__init__`: allocate the instance as
/// `object.__new__` would, then set the attributes its constructor sets, in its order. The Python layer
/// derives this from a real constructor call and checks the result against it before handing it over;
/// without it, the class is called.
struct EventLayout(Vec<Attribute>);
/// The Python layer's description of one attribute: `(name, role, value)`, role `event`, `data`, `list`
/// or `constant`.
type AttributeSpec = (Py<PyString>, String, Py<PyAny>);

impl From<AttributeSpec> for Attribute {
    fn from((key, role, value): AttributeSpec) -> Self {
        match role.as_str() {
            "event" => Self::Event(key),
            "data" => Self::Data(key),
            "list" => Self::NewList(key),
            _ => Self::Constant(key, value),
        }
    }
}

/// Bedrock's `chunk` layer over the frame decoder: bytes in, the SDK's `ServerSentEvent` objects out, in one
/// call per network chunk. Exception and error frames are handed, in order, to `on_error(message)`, whose
/// result takes their place.
#[pyclass(module = "anthropic_eventstream._native")]
pub struct BedrockDecoder {
    inner: eventstream_core::Decoder,
    /// anthropic < 0.110 names every chunk `completion`; later versions name it by its `type`.
    legacy: bool,
    /// Whether an object with neither `type` nor `completion` is dropped (newer SDKs) or named `completion`.
    skip_untyped: bool,
    event_class: Py<PyType>,
    layout: Option<EventLayout>,
    on_error: Py<PyAny>,
    object_new: Py<PyAny>,
    /// Event names seen so far, so that each is one shared Python string.
    names: Vec<(String, Py<PyString>)>,
    /// The decoded JSON of the events of one `feed` call, back to back.
    arena: Vec<u8>,
}

impl BedrockDecoder {
    /// The name the installed SDK gives this chunk's event (`None`: the SDK drops it).
    fn event_name<'a>(&self, chunk: &'a bedrock::Chunk, arena: &'a [u8]) -> Option<&'a str> {
        if self.legacy {
            // Old SDKs name every chunk `completion`, which would pass an in-band error off as an event.
            let name = if chunk.event_type(arena) == Some("error") { "error" } else { "completion" };
            return (!chunk.json.is_empty()).then_some(name);
        }
        match chunk.kind {
            ChunkKind::Typed(_) => chunk.event_type(arena),
            ChunkKind::Untyped if self.skip_untyped => None,
            ChunkKind::Completion | ChunkKind::Untyped | ChunkKind::NotObject => Some("completion"),
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

    fn event<'py>(&mut self, py: Python<'py>, name: &str, json: &str) -> PyResult<Bound<'py, PyAny>> {
        let unnamed = name.is_empty();
        let name = self.name(py, name);
        let data = PyString::new(py, json);
        let class = self.event_class.bind(py);
        // An empty name is normalised by the constructor (`event or None`): let it do that.
        let Some(EventLayout(attributes)) = self.layout.as_ref().filter(|_| !unnamed) else {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "event"), name)?;
            kwargs.set_item(intern!(py, "data"), data)?;
            return class.call((), Some(&kwargs));
        };
        let event = self.object_new.bind(py).call1((class,))?;
        for attribute in attributes {
            match attribute {
                Attribute::Event(key) => event.setattr(key.bind(py), &name)?,
                Attribute::Data(key) => event.setattr(key.bind(py), &data)?,
                Attribute::NewList(key) => event.setattr(key.bind(py), PyList::empty(py))?,
                Attribute::Constant(key, value) => event.setattr(key.bind(py), value.bind(py))?,
            }
        }
        Ok(event)
    }
}

#[pymethods]
impl BedrockDecoder {
    #[new]
    #[pyo3(signature = (*, max_headers_length, max_payload_length, legacy, skip_untyped, event_class, layout, on_error))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_headers_length: u64,
        max_payload_length: u64,
        legacy: bool,
        skip_untyped: bool,
        event_class: Py<PyType>,
        layout: Option<Vec<AttributeSpec>>,
        on_error: Py<PyAny>,
    ) -> PyResult<Self> {
        let object_new = py.get_type::<PyAny>().getattr(intern!(py, "__new__"))?.unbind();
        Ok(Self {
            inner: eventstream_core::Decoder::new(limits(max_headers_length, max_payload_length)),
            legacy,
            skip_untyped,
            event_class,
            layout: layout.map(|attributes| EventLayout(attributes.into_iter().map(Attribute::from).collect())),
            on_error,
            object_new,
            names: Vec::new(),
            arena: Vec::new(),
        })
    }

    fn feed<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let input = backing(data)?;
        let mut arena = std::mem::take(&mut self.arena);
        arena.clear();
        let (items, result) = run(py, &mut self.inner, &input, |frame, location, out| {
            match bedrock::classify(frame, &mut arena).map_err(|kind| kind.at(location.offset))? {
                bedrock::Event::Chunk(chunk) => out.push(Item::Event(chunk)),
                bedrock::Event::Error => out.push(Item::Error(Pending::new(frame, location))),
                bedrock::Event::Skip => {}
            }
            Ok(())
        });
        let events = PyList::empty(py);
        let built = items.into_iter().try_for_each(|item| {
            let event = match item {
                Item::Event(chunk) => match self.event_name(&chunk, &arena) {
                    Some(name) => self.event(py, name, chunk.json(&arena))?,
                    None => return Ok(()),
                },
                Item::Error(p) => self.on_error.bind(py).call1((p.into_message(py, &input),))?,
            };
            events.append(event)
        });
        if arena.capacity() <= RETAINED_ARENA_CAPACITY {
            self.arena = arena;
        }
        built?;
        result.map_err(|e| to_py_err(py, &e, events.clone()))?;
        Ok(events)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.close().map_err(|e| to_py_err(py, &e, PyList::empty(py)))
    }
}

/// Encodes one frame from `(name, type_tag, value)` triples already checked by the Python layer.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // PyO3 extracts arguments into owned values
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
