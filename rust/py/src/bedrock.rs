//! Bedrock frames to the SDK's `ServerSentEvent` objects, in one call per network chunk.
//!
//! What an event is called and how it is built come from the Python layer's `EventSpec`; this module only
//! converts. Chunks the core does not decide exactly, and exception/error frames, are handed to the spec's
//! Python callables, in stream order.

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};

use eventstream_core::bedrock::{self, Chunk, Naming};
use eventstream_core::Limits;

use crate::errors::{is_event_stream_error, raise_again, to_py_err};
use crate::event::{pair_of, EventBuilder, Fields};
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
    /// Events as `(event, data)` pairs (`EventBuilder::pair`), for the package's stream loop.
    pairs: bool,
}

#[pymethods]
impl BedrockDecoder {
    #[new]
    #[pyo3(signature = (spec, /, *, max_headers_length, max_payload_length, pairs = false))]
    fn new(
        py: Python<'_>,
        spec: &Bound<'_, PyAny>,
        max_headers_length: u64,
        max_payload_length: u64,
        pairs: bool,
    ) -> PyResult<Self> {
        let naming = match spec.getattr("naming")?.extract::<String>()?.as_str() {
            "type" => Naming::Type,
            "completion" => Naming::Completion,
            other => return Err(PyValueError::new_err(format!("unknown event naming {other:?}"))),
        };
        Ok(Self {
            inner: eventstream_core::Decoder::new(Limits { max_headers_length, max_payload_length }),
            naming,
            events: EventBuilder::from_spec(py, spec, false, false)?,
            error_event: spec.getattr("error_event")?.unbind(),
            reference: spec.getattr("reference")?.unbind(),
            failed: None,
            arena: Vec::new(),
            pairs,
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

    /// The end of the stream: raises `TruncatedStreamError` inside a frame; no event is left to give.
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        if let Some(err) = &self.failed {
            return Err(raise_again(py, err));
        }
        self.inner.close().map_err(|e| to_py_err(py, &e, &PyList::empty(py)))?;
        Ok(PyList::empty(py))
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
                    if self.pairs {
                        events.append(self.events.pair(py, Some(name), chunk.json(arena).as_bytes())?)?;
                        continue;
                    }
                    let fields = Fields { name: Some(name), data: chunk.json(arena), id: None, retry: None, raw: &[] };
                    events.append(self.events.build(py, fields)?)?;
                }
                Item::Reference(pending) => {
                    let offset = pending.offset;
                    let message = pending.into_message(py, input).into_pyobject(py)?;
                    let payload = message.getattr(intern!(py, "payload"))?.cast_into::<PyBytes>()?;
                    let event = self.reference.bind(py).call1((payload, offset))?;
                    if self.pairs && !event.is_none() {
                        events.append(pair_of(py, &event)?)?;
                    } else if !event.is_none() {
                        events.append(event)?;
                    }
                }
                Item::Error(pending) => {
                    let message = pending.into_message(py, input);
                    let event = self.error_event.bind(py).call1((message,))?;
                    if self.pairs {
                        // The event itself in the data's place: its `json()` carries the frame's status.
                        let name = event.getattr(intern!(py, "event"))?;
                        events.append(PyTuple::new(py, [name, event])?)?;
                    } else {
                        events.append(event)?;
                    }
                }
            }
        }
        Ok(())
    }
}
