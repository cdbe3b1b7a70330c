//! Bedrock frames to the SDK's `ServerSentEvent` objects, in one call per network chunk.
//!
//! What an event is called and how it is built come from the Python layer's `EventSpec`; this module only
//! converts. Chunks the core does not decide exactly, and exception/error frames, are handed to the spec's
//! Python callables, in stream order.

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyType};

use eventstream_core::bedrock::{self, Chunk, Naming};
use eventstream_core::Limits;

use crate::errors::{is_event_stream_error, raise_again, to_py_err};
use crate::input::{backing, run};
use crate::message::Pending;

/// What one Bedrock frame gives the SDK.
enum Item {
    /// A chunk the core decided; its JSON is in the decoder's arena.
    Event(Chunk),
    /// A chunk for the reference implementation.
    Reference(Pending),
    /// An exception or error frame.
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

impl Attribute {
    /// From the Python layer's `(name, role, value)`; an unknown role is refused, never guessed.
    fn from_spec((key, role, value): (Py<PyString>, String, Py<PyAny>)) -> PyResult<Self> {
        Ok(match role.as_str() {
            "event" => Self::Event(key),
            "data" => Self::Data(key),
            "list" => Self::NewList(key),
            "constant" => Self::Constant(key, value),
            other => return Err(PyValueError::new_err(format!("unknown event attribute role {other:?}"))),
        })
    }
}

/// Event names already made into Python strings. A stream has a handful (`message_start`,
/// `content_block_delta`, ...), so a short list searched linearly serves; names past its capacity are made
/// afresh each time. Not interned: interned strings are immortal from Python 3.12 on, and names come from the
/// network.
struct NameCache(Vec<(String, Py<PyString>)>);

const NAME_CACHE_CAPACITY: usize = 32;

impl NameCache {
    fn get<'py>(&mut self, py: Python<'py>, name: &str) -> Bound<'py, PyString> {
        if let Some((_, s)) = self.0.iter().find(|(n, _)| n == name) {
            return s.bind(py).clone();
        }
        let s = PyString::new(py, name);
        if self.0.len() < NAME_CACHE_CAPACITY {
            self.0.push((name.to_owned(), s.clone().unbind()));
        }
        s
    }
}

/// Builds the SDK's `ServerSentEvent`s: without running its Python `__init__` when the spec has a layout
/// (allocate as `object.__new__` would, then set the attributes the constructor sets, in its order; the
/// Python layer derives the layout from a real constructor call and checks it), else through the class.
struct EventBuilder {
    class: Py<PyType>,
    layout: Option<Vec<Attribute>>,
    object_new: Py<PyAny>,
    names: NameCache,
}

impl EventBuilder {
    fn build<'py>(&mut self, py: Python<'py>, name: &str, json: &str) -> PyResult<Bound<'py, PyAny>> {
        let class = self.class.bind(py);
        let data = PyString::new(py, json);
        // The constructor normalises an empty name (`event or None`): let it.
        let Some(attributes) = self.layout.as_ref().filter(|_| !name.is_empty()) else {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "event"), name)?;
            kwargs.set_item(intern!(py, "data"), data)?;
            return class.call((), Some(&kwargs));
        };
        let name = self.names.get(py, name);
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

/// Bedrock's `chunk` layer over the frame decoder: bytes in, the SDK's `ServerSentEvent` objects out.
#[pyclass(module = "anthropic_eventstream._native")]
pub struct BedrockDecoder {
    inner: eventstream_core::Decoder,
    naming: Naming,
    events: EventBuilder,
    /// `spec.error_event(message)`: the event that takes an exception/error frame's place.
    error_event: Py<PyAny>,
    /// `spec.reference(payload, offset)`: the event of a chunk the core does not decide, or `None`.
    reference: Py<PyAny>,
    /// The reference's rejection of a chunk, raised again (afresh) by every later call.
    failed: Option<PyErr>,
    /// The decoded JSON of the events of one `feed` call, back to back.
    arena: Vec<u8>,
}

#[pymethods]
impl BedrockDecoder {
    #[new]
    #[pyo3(signature = (spec, /, *, max_headers_length, max_payload_length))]
    fn new(
        py: Python<'_>,
        spec: &Bound<'_, PyAny>,
        max_headers_length: u64,
        max_payload_length: u64,
    ) -> PyResult<Self> {
        let naming = match spec.getattr("naming")?.extract::<String>()?.as_str() {
            "type" => Naming::Type,
            "completion" => Naming::Completion,
            other => return Err(PyValueError::new_err(format!("unknown event naming {other:?}"))),
        };
        let layout = spec
            .getattr("layout")?
            .extract::<Option<Vec<(Py<PyString>, String, Py<PyAny>)>>>()?
            .map(|specs| specs.into_iter().map(Attribute::from_spec).collect::<PyResult<Vec<_>>>())
            .transpose()?;
        Ok(Self {
            inner: eventstream_core::Decoder::new(Limits { max_headers_length, max_payload_length }),
            naming,
            events: EventBuilder {
                class: spec.getattr("event_class")?.cast_into::<PyType>()?.unbind(),
                layout,
                object_new: py.get_type::<PyAny>().getattr(intern!(py, "__new__"))?.unbind(),
                names: NameCache(Vec::new()),
            },
            error_event: spec.getattr("error_event")?.unbind(),
            reference: spec.getattr("reference")?.unbind(),
            failed: None,
            arena: Vec::new(),
        })
    }

    fn feed<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        if let Some(err) = &self.failed {
            return Err(raise_again(py, err));
        }
        let input = backing(data)?;
        let mut arena = std::mem::take(&mut self.arena);
        arena.clear();
        let (items, result) =
            run(py, &mut self.inner, &input, |frame, location| match bedrock::classify(frame, &mut arena) {
                bedrock::Event::Chunk(chunk) => Some(Item::Event(chunk)),
                bedrock::Event::Reference => Some(Item::Reference(Pending::new(frame, &location))),
                bedrock::Event::Error => Some(Item::Error(Pending::new(frame, &location))),
                bedrock::Event::Skip => None,
            });
        let events = PyList::empty(py);
        let built = self.build(py, items.into_iter().flatten(), &arena, &input, &events);
        if arena.capacity() <= RETAINED_ARENA_CAPACITY {
            self.arena = arena;
        }
        if let Err(err) = built {
            if is_event_stream_error(py, &err)? {
                err.value(py).setattr("messages", &events)?;
                self.failed = Some(err.clone_ref(py));
            }
            return Err(err);
        }
        result.map_err(|e| to_py_err(py, &e, &events))?;
        Ok(events)
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(err) = &self.failed {
            return Err(raise_again(py, err));
        }
        self.inner.close().map_err(|e| to_py_err(py, &e, &PyList::empty(py)))
    }
}

impl BedrockDecoder {
    /// Appends the SDK event of each item to `events`, in order; stops at the first Python error.
    fn build(
        &mut self,
        py: Python<'_>,
        items: impl Iterator<Item = Item>,
        arena: &[u8],
        input: &PyBackedBytes,
        events: &Bound<'_, PyList>,
    ) -> PyResult<()> {
        for item in items {
            match item {
                Item::Event(chunk) => {
                    let name = self.naming.event_name(chunk.event_type(arena));
                    events.append(self.events.build(py, name, chunk.json(arena))?)?;
                }
                Item::Reference(pending) => {
                    let offset = pending.offset;
                    let message = pending.into_message(py, input).into_pyobject(py)?;
                    let payload = message.getattr(intern!(py, "payload"))?.cast_into::<PyBytes>()?;
                    let event = self.reference.bind(py).call1((payload, offset))?;
                    if !event.is_none() {
                        events.append(event)?;
                    }
                }
                Item::Error(pending) => {
                    let message = pending.into_message(py, input);
                    events.append(self.error_event.bind(py).call1((message,))?)?;
                }
            }
        }
        Ok(())
    }
}
