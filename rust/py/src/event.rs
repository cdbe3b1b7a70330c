//! The SDK's `ServerSentEvent` objects, built as its constructor builds them.
//!
//! With a layout from the Python layer (derived there from a real constructor call, and checked), an event is
//! allocated as `object.__new__` would and given the attributes the constructor sets, in its order, without
//! running its Python `__init__` (most of an event's cost). Events the layout does not cover (an empty or
//! missing name, an `id` or a `retry`) go through the class itself.

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

/// One attribute of the SDK's `ServerSentEvent`, as its constructor sets it.
enum Attribute {
    /// The event name.
    Event(Py<PyString>),
    /// The event data.
    Data(Py<PyString>),
    /// The event's raw lines (a fresh list per event; empty for Bedrock events).
    Raw(Py<PyString>),
    /// A fresh empty list per event.
    NewList(Py<PyString>),
    /// The same immutable value for every event (`id` and `retry` included: the layout serves events that
    /// have neither).
    Constant(Py<PyString>, Py<PyAny>),
}

impl Attribute {
    /// From the Python layer's `(name, role, value)`, `role` one of `_events.layout.Role` (a `str`
    /// enum; `tests/events/test_layout_roles.py` holds the two tables together); an unknown role is
    /// refused, never guessed.
    fn from_spec(py: Python<'_>, (key, role, value): (Py<PyString>, String, Py<PyAny>)) -> PyResult<Self> {
        Ok(match role.as_str() {
            "event" => Self::Event(key),
            "data" => Self::Data(key),
            "raw" => Self::Raw(key),
            "list" => Self::NewList(key),
            "constant" => Self::Constant(key, value),
            "id" | "retry" => Self::Constant(key, py.None()),
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

/// What one event is made of. `id`, `retry` and `raw` are passed to the constructor only by a decoder whose
/// stock twin passes them (`sse` does, Bedrock does not).
pub struct Fields<'a, 'py> {
    pub name: Option<&'a str>,
    pub data: &'a str,
    pub id: Option<&'a str>,
    pub retry: Option<Bound<'py, PyAny>>,
    pub raw: &'a [String],
}

/// A fresh list of an event's raw lines.
fn raw_lines<'py>(py: Python<'py>, cache: &mut NameCache, raw: &[String]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(
        py,
        raw.iter().map(|line| if line.starts_with("data:") { PyString::new(py, line) } else { cache.get(py, line) }),
    )
}

/// Builds the SDK's events from `(class, layout)`, as read from the Python layer's spec.
pub struct EventBuilder {
    class: Py<PyType>,
    layout: Option<Vec<Attribute>>,
    object_new: Py<PyAny>,
    names: NameCache,
    /// Raw lines other than `data:` ones (`event: content_block_delta`, ...), which repeat from event to event.
    lines: NameCache,
    /// Whether the constructor takes `id`, `retry` (and, with `raw`, `raw`): the SSE decoder's events.
    sse: bool,
    raw: bool,
}

impl EventBuilder {
    /// From `spec.event_class` and `spec.layout`; `sse`: the constructor is passed `id` and `retry` too, and
    /// `raw` where `raw` is true.
    pub fn from_spec(py: Python<'_>, spec: &Bound<'_, PyAny>, sse: bool, raw: bool) -> PyResult<Self> {
        let layout = spec
            .getattr("layout")?
            .extract::<Option<Vec<(Py<PyString>, String, Py<PyAny>)>>>()?
            .map(|specs| specs.into_iter().map(|s| Attribute::from_spec(py, s)).collect::<PyResult<Vec<_>>>())
            .transpose()?;
        Ok(Self {
            class: spec.getattr("event_class")?.cast_into::<PyType>()?.unbind(),
            layout,
            object_new: py.get_type::<PyAny>().getattr(intern!(py, "__new__"))?.unbind(),
            names: NameCache(Vec::new()),
            lines: NameCache(Vec::new()),
            sse,
            raw,
        })
    }

    /// An event as the pair `(event, data)` that the package's stream loop reads: the name as the SDK's
    /// constructor keeps it (an empty one is `None`), the data as its UTF-8 bytes. No `ServerSentEvent` is
    /// made: the loop needs only these two, and building the object was a third of an event's decoding.
    pub fn pair<'py>(&mut self, py: Python<'py>, name: Option<&str>, data: &[u8]) -> PyResult<Bound<'py, PyTuple>> {
        let name = match name {
            Some(name) if !name.is_empty() => self.names.get(py, name).into_any(),
            _ => py.None().into_bound(py),
        };
        PyTuple::new(py, [name, PyBytes::new(py, data).into_any()])
    }

    pub fn build<'py>(&mut self, py: Python<'py>, fields: Fields<'_, 'py>) -> PyResult<Bound<'py, PyAny>> {
        let raw = raw_lines(py, &mut self.lines, fields.raw)?;
        let class = self.class.bind(py);
        let data = PyString::new(py, fields.data);
        let plain = fields.id.is_none() && fields.retry.is_none();
        // The constructor normalises an empty name (`event or None`): let it.
        let layout = self.layout.as_ref().filter(|_| plain && fields.name.is_some_and(|name| !name.is_empty()));
        let (Some(attributes), Some(name)) = (layout, fields.name) else {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "event"), fields.name)?;
            kwargs.set_item(intern!(py, "data"), data)?;
            if self.sse {
                kwargs.set_item(intern!(py, "id"), fields.id)?;
                kwargs.set_item(intern!(py, "retry"), fields.retry)?;
                if self.raw {
                    kwargs.set_item(intern!(py, "raw"), raw)?;
                }
            }
            return class.call((), Some(&kwargs));
        };
        let name = self.names.get(py, name);
        let event = self.object_new.bind(py).call1((class,))?;
        for attribute in attributes {
            match attribute {
                Attribute::Event(key) => event.setattr(key.bind(py), &name)?,
                Attribute::Data(key) => event.setattr(key.bind(py), &data)?,
                Attribute::Raw(key) => event.setattr(key.bind(py), &raw)?,
                Attribute::NewList(key) => event.setattr(key.bind(py), PyList::empty(py))?,
                Attribute::Constant(key, value) => event.setattr(key.bind(py), value.bind(py))?,
            }
        }
        Ok(event)
    }
}

/// The pair of an event built elsewhere (a Python callable's: a chunk of the reference, an error frame's
/// event), read from its `event` and `data`.
pub fn pair_of<'py>(py: Python<'py>, event: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let name = event.getattr(intern!(py, "event"))?;
    let data = event.getattr(intern!(py, "data"))?;
    let data = data.cast::<PyString>()?.to_cow()?;
    PyTuple::new(py, [name, PyBytes::new(py, data.as_bytes()).into_any()])
}
