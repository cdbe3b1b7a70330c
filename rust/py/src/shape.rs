//! botocore's parsed events, built from an event frame's JSON payload as botocore's JSON parser builds them.
//!
//! The botocore shim learns, from the loaded service model, the shape of each event of a stream it can build
//! exactly (`_botocore.shapes`), and proves it against botocore's own parser before a stream uses it. This
//! module only follows that shape: a structure is a dict with its members in the model's order, each present
//! and not `null` in the JSON (unknown keys are dropped, as botocore drops them); a tagged union has exactly one
//! member set; strings, integers and booleans are as `json.loads` reads them; a blob is its base64 decoded.
//!
//! Anything else is declined and left to botocore: a kind the spec declines (lists, maps, documents,
//! timestamps, floats), a value of another JSON type, a repeated member, an integer past `i64`, base64 that is
//! not canonical, a payload that is not UTF-8 or not one JSON object.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};

use eventstream_core::json::Reader;

enum Shape {
    String,
    Integer,
    Boolean,
    Blob,
    Structure(Structure),
    Declined,
}

struct Member {
    /// The member's key in the JSON (its `locationName`, else its name).
    json: String,
    name: Py<PyString>,
    shape: Shape,
}

struct Structure {
    members: Vec<Member>,
    /// A tagged union: exactly one member is set.
    union: bool,
}

fn spec_error(what: &str) -> PyErr {
    PyValueError::new_err(format!("malformed shape parser spec: {what}"))
}

impl Shape {
    fn from_spec(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let spec = spec.cast::<PyTuple>()?;
        let kind: String = spec.get_item(0)?.extract()?;
        Ok(match kind.as_str() {
            "string" => Self::String,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "blob" => Self::Blob,
            "declined" => Self::Declined,
            "structure" => Self::Structure(Structure::from_spec(&spec.get_item(1)?, spec.get_item(2)?.extract()?)?),
            other => return Err(spec_error(&format!("unknown kind {other:?}"))),
        })
    }
}

impl Structure {
    /// From `[(json_name, member_name, shape), ...]`.
    fn from_spec(members: &Bound<'_, PyAny>, union: bool) -> PyResult<Self> {
        let mut built = Vec::new();
        for member in members.cast::<PyList>()? {
            let (json, name, shape): (String, Bound<'_, PyString>, Bound<'_, PyAny>) = member.extract()?;
            built.push(Member { json, name: name.unbind(), shape: Shape::from_spec(&shape)? });
        }
        Ok(Self { members: built, union })
    }
}

fn value<'py>(py: Python<'py>, r: &mut Reader<'_>, shape: &Shape) -> Option<PyResult<Bound<'py, PyAny>>> {
    Some(Ok(match shape {
        Shape::String => PyString::new(py, &r.string()?).into_any(),
        Shape::Integer => PyInt::new(py, r.integer()?).into_any(),
        Shape::Boolean => PyBool::new(py, r.boolean()?).to_owned().into_any(),
        Shape::Blob => {
            let text = r.string()?;
            let blob = base64_decode(text.as_bytes())?;
            PyBytes::new(py, &blob).into_any()
        }
        Shape::Structure(structure) => {
            return structure_value(py, r, structure).map(|built| built.map(Bound::into_any))
        }
        Shape::Declined => return None,
    }))
}

fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    eventstream_core::bedrock::base64_decode_append(text, &mut out).then_some(out)
}

/// An object, read as `structure`; `None` where it is declined.
fn structure_value<'py>(
    py: Python<'py>,
    r: &mut Reader<'_>,
    structure: &Structure,
) -> Option<PyResult<Bound<'py, PyDict>>> {
    const STACK: usize = 16;
    if structure.members.len() > STACK {
        return None;
    }
    let mut values: [Option<Bound<'py, PyAny>>; STACK] = std::array::from_fn(|_| None);
    let mut seen = [false; STACK];
    let mut set = 0usize;
    r.begin_object()?;
    let mut first = true;
    while let Some(key) = r.key(&mut first)? {
        let Some(index) = structure.members.iter().position(|member| key.is(&member.json)) else {
            if structure.union {
                return None; // botocore counts every key of a union: its own to decide
            }
            r.skip()?;
            continue;
        };
        if std::mem::replace(&mut seen[index], true) {
            return None; // a repeated key: json.loads keeps the last
        }
        if r.peek()? == b'n' {
            r.null()?;
            continue;
        }
        match value(py, r, &structure.members[index].shape)? {
            Ok(built) => values[index] = Some(built),
            Err(err) => return Some(Err(err)),
        }
        set += 1;
    }
    if structure.union && set != 1 {
        return None;
    }
    let dict = PyDict::new(py);
    for (member, value) in structure.members.iter().zip(values.iter_mut()) {
        if let Some(value) = value.take() {
            if let Err(err) = dict.set_item(member.name.bind(py), value) {
                return Some(Err(err));
            }
        }
    }
    Some(Ok(dict))
}

/// The events of one event stream shape that the shim builds natively, each as botocore parses it.
#[pyclass(module = "anthropic_eventstream._native", frozen)]
pub struct ShapeParser {
    events: Vec<(String, Py<PyString>, Structure)>,
}

impl ShapeParser {
    /// Which of its events `event_type` is, if it is one.
    pub fn event_index(&self, event_type: &str) -> Option<usize> {
        self.events.iter().position(|(event, _, _)| event == event_type)
    }

    /// `{event_type: {...}}` for the payload of an event frame of the `index`th event, or `None` where botocore
    /// is to parse it.
    pub fn parse_at<'py>(&self, py: Python<'py>, index: usize, payload: &[u8]) -> PyResult<Option<Bound<'py, PyDict>>> {
        let (_, name, structure) = &self.events[index];
        let Ok(text) = eventstream_core::utf8::to_str(payload) else {
            return Ok(None); // botocore's decode raises: its own to raise
        };
        let mut r = Reader::over_text(if text.is_empty() { "{}" } else { text });
        let Some(built) = structure_value(py, &mut r, structure).transpose()? else { return Ok(None) };
        if r.end().is_none() {
            return Ok(None);
        }
        let event = PyDict::new(py);
        event.set_item(name.bind(py), built)?;
        Ok(Some(event))
    }
}

#[pymethods]
impl ShapeParser {
    /// From `[(event_type, structure_members, union), ...]` (`_botocore.shapes`).
    #[new]
    fn new(spec: &Bound<'_, PyList>) -> PyResult<Self> {
        let mut events = Vec::new();
        for event in spec {
            let (event_type, members, union): (Bound<'_, PyString>, Bound<'_, PyAny>, bool) = event.extract()?;
            events.push((
                event_type.to_str()?.to_owned(),
                event_type.clone().unbind(),
                Structure::from_spec(&members, union)?,
            ));
        }
        Ok(Self { events })
    }

    /// What an event frame of `event_type` with `payload` comes out as (for the shim's proof and the tests):
    /// botocore's parse, or `None` where botocore is to parse it.
    fn parse<'py>(&self, py: Python<'py>, event_type: &str, payload: &[u8]) -> PyResult<Option<Bound<'py, PyDict>>> {
        match self.event_index(event_type) {
            Some(index) => self.parse_at(py, index, payload),
            None => Ok(None),
        }
    }
}
