//! The SDK's pydantic event models, built from an event's JSON bytes as pydantic-core's validator builds them.
//!
//! The Python layer learns, from the SDK's own core schema, the shape of each event it can build exactly
//! (`_anthropic.builders`): for every model, its class, its fields in the order validation stores them, each
//! field's kind (a string, an `i64` integer, a boolean, one of a literal's strings, nullable, a nested model, a
//! union tagged by `type`) and its default, and whether instances carry an extras dict. It proves the builder
//! equal to the validator on probe payloads before handing it to a stream. This module only follows that
//! shape: the JSON is read once, token by token ([`eventstream_core::json::Reader`]), and each model is made
//! as pydantic-core makes it: the class's `tp_new` with no arguments, then `__dict__`, `__pydantic_extra__`,
//! `__pydantic_private__` and `__pydantic_fields_set__` set through the class's own descriptors for them
//! (what the generic setter pydantic-core uses finds), bypassing the model's `__setattr__`.
//!
//! Whatever the shape does not cover is declined, never approximated: an unknown or repeated key, another
//! value type, a missing required field, a float where an integer is wanted, a lone surrogate, a union whose
//! first key is not `type`. A declined event goes to the validator (`fallback`), which decides it, errors
//! included.

use std::borrow::Cow;
use std::os::raw::c_void;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PySet, PyString, PyTuple, PyType};

use eventstream_core::json::Reader;

/// What one field holds, as the spec's `(kind, ...)` tuples say (`_native.pyi`).
enum Kind {
    Str,
    Int,
    Bool,
    /// One of these strings; the value is the validator's own object for it.
    Literal(Vec<(String, Py<PyAny>)>),
    Nullable(Box<Kind>),
    Model(Box<Model>),
    /// Models told apart by their `type`, which must be the object's first key.
    Union(Vec<(String, Model)>),
    /// A kind the builder does not make: an event holding it is declined.
    Declined,
}

struct Field {
    key: String,
    name: Py<PyString>,
    kind: Kind,
    /// The value stored when the field is absent; `None`: the field is required.
    default: Option<Py<PyAny>>,
}

struct Model {
    class: Py<PyType>,
    fields: Vec<Field>,
    /// Instances carry a fresh empty `__pydantic_extra__` dict (extra fields allowed), else `None`.
    extra: bool,
    /// The index of the `type` field, which a union reads first.
    tag: Option<usize>,
    /// The data descriptors the class finds for `__dict__`, `__pydantic_extra__`, `__pydantic_private__` and
    /// `__pydantic_fields_set__` (pydantic's slots), called directly: the generic setter would look each up
    /// along the class's MRO for every instance.
    setters: [Setter; 4],
}

/// A data descriptor and its type's `tp_descr_set`.
struct Setter {
    descriptor: Py<PyAny>,
    set: ffi::descrsetfunc,
}

impl Setter {
    fn new(descriptor: &Bound<'_, PyAny>) -> PyResult<Self> {
        // SAFETY: a live type object; `Py_tp_descr_set` is null or the type's `descrsetfunc`.
        let slot = unsafe { ffi::PyType_GetSlot(descriptor.get_type().as_type_ptr(), ffi::Py_tp_descr_set) };
        if slot.is_null() {
            return Err(spec_error("a model attribute setter that is not a data descriptor"));
        }
        // SAFETY: as above, a non-null `descrsetfunc`.
        let set = unsafe { std::mem::transmute::<*mut c_void, ffi::descrsetfunc>(slot) };
        Ok(Self { descriptor: descriptor.clone().unbind(), set })
    }

    /// `descriptor.__set__(instance, value)`.
    fn set(&self, instance: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        // SAFETY: three live objects; the function returns 0, or -1 with an exception set.
        let status = unsafe { (self.set)(self.descriptor.as_ptr(), instance.as_ptr(), value.as_ptr()) };
        if status == 0 {
            Ok(())
        } else {
            Err(PyErr::fetch(instance.py()))
        }
    }
}

fn spec_error(what: &str) -> PyErr {
    PyValueError::new_err(format!("malformed model builder spec: {what}"))
}

impl Kind {
    fn from_spec(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let spec = spec.cast::<PyTuple>()?;
        let name: String = spec.get_item(0)?.extract()?;
        Ok(match name.as_str() {
            "str" => Self::Str,
            "int" => Self::Int,
            "bool" => Self::Bool,
            "declined" => Self::Declined,
            "literal" => Self::Literal(spec.get_item(1)?.extract::<Vec<(String, Py<PyAny>)>>()?),
            "nullable" => Self::Nullable(Box::new(Self::from_spec(&spec.get_item(1)?)?)),
            "model" => Self::Model(Box::new(Model::from_spec(&spec.get_item(1)?)?)),
            "union" => {
                let choices = spec.get_item(1)?;
                let mut models = Vec::new();
                for choice in choices.cast::<PyList>()? {
                    let (tag, model): (String, Bound<'_, PyAny>) = choice.extract()?;
                    let model = Model::from_spec(&model)?;
                    if model.tag.is_none() {
                        return Err(spec_error("a union member without a `type` field"));
                    }
                    models.push((tag, model));
                }
                Self::Union(models)
            }
            other => return Err(spec_error(&format!("unknown kind {other:?}"))),
        })
    }
}

impl Model {
    /// From `(class, [(name, kind, required, default), ...], extra, setters)`.
    fn from_spec(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (class, fields, extra, setters): (Bound<'_, PyType>, Bound<'_, PyList>, bool, [Bound<'_, PyAny>; 4]) =
            spec.extract()?;
        let mut built = Vec::with_capacity(fields.len());
        for field in fields {
            let (name, kind, required, default): (Bound<'_, PyString>, Bound<'_, PyAny>, bool, Py<PyAny>) =
                field.extract()?;
            built.push(Field {
                key: name.to_str()?.to_owned(),
                name: name.unbind(),
                kind: Kind::from_spec(&kind)?,
                default: (!required).then_some(default),
            });
        }
        let tag = built.iter().position(|field| field.key == "type");
        let [dict, extras, private, fields_set] = setters;
        let setters = [Setter::new(&dict)?, Setter::new(&extras)?, Setter::new(&private)?, Setter::new(&fields_set)?];
        Ok(Self { class: class.unbind(), fields: built, extra, tag, setters })
    }
}

/// Why an event was not built: declined (the validator decides), or a Python error (raised).
enum Miss {
    Declined,
    Error(PyErr),
}

impl From<PyErr> for Miss {
    fn from(err: PyErr) -> Self {
        Self::Error(err)
    }
}

type Built<'py> = Result<Bound<'py, PyAny>, Miss>;

/// Models with at most this many fields are read with their values on the stack.
const STACK_FIELDS: usize = 16;

trait OrDecline<T> {
    fn or_decline(self) -> Result<T, Miss>;
}

impl<T> OrDecline<T> for Option<T> {
    fn or_decline(self) -> Result<T, Miss> {
        self.ok_or(Miss::Declined)
    }
}

fn literal<'py>(py: Python<'py>, options: &[(String, Py<PyAny>)], text: &str) -> Built<'py> {
    let (_, value) = options.iter().find(|(option, _)| option == text).or_decline()?;
    Ok(value.bind(py).clone())
}

fn value<'py>(py: Python<'py>, r: &mut Reader<'_>, kind: &Kind) -> Built<'py> {
    Ok(match kind {
        Kind::Str => PyString::new(py, &r.string().or_decline()?).into_any(),
        Kind::Int => pyo3::types::PyInt::new(py, r.integer().or_decline()?).into_any(),
        Kind::Bool => PyBool::new(py, r.boolean().or_decline()?).to_owned().into_any(),
        Kind::Literal(options) => literal(py, options, &r.string().or_decline()?)?,
        Kind::Nullable(inner) => {
            if r.peek() == Some(b'n') {
                r.null().or_decline()?;
                py.None().into_bound(py)
            } else {
                value(py, r, inner)?
            }
        }
        Kind::Model(model) => {
            r.begin_object().or_decline()?;
            build_model(py, r, model, None)?
        }
        Kind::Union(choices) => {
            r.begin_object().or_decline()?;
            let mut first = true;
            if !r.key(&mut first).or_decline()?.is_some_and(|key| key.is("type")) {
                return Err(Miss::Declined);
            }
            let tag = r.string().or_decline()?;
            let (_, model) = choices.iter().find(|(choice, _)| *choice == *tag).or_decline()?;
            build_model(py, r, model, Some(tag))?
        }
        Kind::Declined => return Err(Miss::Declined),
    })
}

/// Reads the members of an object already opened, as `model`'s fields, and makes the instance. `tag`: the
/// `type` a union read as the object's first member.
fn build_model<'py>(py: Python<'py>, r: &mut Reader<'_>, model: &Model, tag: Option<Cow<'_, str>>) -> Built<'py> {
    // On the stack for the models events have (a heap vector costs a tenth of a small event).
    let mut stack: [Option<Bound<'py, PyAny>>; STACK_FIELDS] = std::array::from_fn(|_| None);
    let mut heap: Vec<Option<Bound<'py, PyAny>>>;
    let values: &mut [Option<Bound<'py, PyAny>>] = if model.fields.len() <= STACK_FIELDS {
        &mut stack[..model.fields.len()]
    } else {
        heap = model.fields.iter().map(|_| None).collect();
        &mut heap
    };
    let mut first = tag.is_none();
    if let (Some(tag), Some(index)) = (tag, model.tag) {
        let Kind::Literal(options) = &model.fields[index].kind else { return Err(Miss::Declined) };
        values[index] = Some(literal(py, options, &tag)?);
    }
    while let Some(key) = r.key(&mut first).or_decline()? {
        let index = model.fields.iter().position(|field| key.is(&field.key)).or_decline()?;
        if values[index].is_some() {
            return Err(Miss::Declined); // a repeated key: the validator keeps the last, and decides
        }
        values[index] = Some(value(py, r, &model.fields[index].kind)?);
    }
    let dict = PyDict::new(py);
    let set = PySet::empty(py)?;
    for (field, value) in model.fields.iter().zip(values.iter_mut().map(Option::take)) {
        let name = field.name.bind(py);
        match (value, &field.default) {
            (Some(value), _) => {
                dict.set_item(name, value)?;
                set.add(name)?;
            }
            (None, Some(default)) => dict.set_item(name, default.bind(py))?,
            (None, None) => return Err(Miss::Declined),
        }
    }
    let extra = if model.extra { PyDict::new(py).into_any() } else { py.None().into_bound(py) };
    let instance = new_instance(model.class.bind(py))?;
    let [dict_setter, extra_setter, private_setter, fields_set_setter] = &model.setters;
    dict_setter.set(&instance, &dict)?;
    extra_setter.set(&instance, &extra)?;
    private_setter.set(&instance, &py.None().into_bound(py))?;
    fields_set_setter.set(&instance, &set)?;
    Ok(instance)
}

/// `class.__new__(class)` as pydantic-core calls it: the type's `tp_new` with empty arguments.
fn new_instance<'py>(class: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    let args = PyTuple::empty(py);
    // SAFETY: `class` is a live type object; `Py_tp_new` is read through the stable ABI's `PyType_GetSlot`
    // and is either null or the type's `newfunc`, which is called with a live tuple and no keywords, and
    // returns a new reference or null with an exception set.
    unsafe {
        let slot: *mut c_void = ffi::PyType_GetSlot(class.as_type_ptr(), ffi::Py_tp_new);
        if slot.is_null() {
            return Err(PyTypeError::new_err("model class without tp_new"));
        }
        let new: ffi::newfunc = std::mem::transmute::<*mut c_void, ffi::newfunc>(slot);
        Bound::from_owned_ptr_or_err(py, new(class.as_type_ptr(), args.as_ptr(), std::ptr::null_mut()))
    }
}

/// An event union's models, built natively from their JSON bytes where the learned shape covers them, and by
/// `fallback` (the validator's `validate_json`) otherwise.
#[pyclass(module = "anthropic_eventstream._native", frozen)]
pub struct ModelBuilder {
    root: Kind,
    fallback: Py<PyAny>,
}

impl ModelBuilder {
    fn try_build<'py>(&self, py: Python<'py>, data: &[u8]) -> Built<'py> {
        // One UTF-8 check for the document (the validator refuses what is not UTF-8: declined).
        let text = eventstream_core::utf8::to_str(data).ok().or_decline()?;
        let mut r = Reader::over_text(text);
        let built = value(py, &mut r, &self.root)?;
        r.end().or_decline()?;
        Ok(built)
    }
}

#[pymethods]
impl ModelBuilder {
    #[new]
    fn new(spec: &Bound<'_, PyAny>, fallback: Py<PyAny>) -> PyResult<Self> {
        Ok(Self { root: Kind::from_spec(spec)?, fallback })
    }

    /// The event's model, from its JSON bytes: built here, or by the fallback.
    fn __call__<'py>(&self, py: Python<'py>, data: &Bound<'py, PyBytes>) -> PyResult<Bound<'py, PyAny>> {
        self.model(py, data)
    }

    /// `__call__`, as a method: the stream loop calls it through the fast method-call path.
    fn model<'py>(&self, py: Python<'py>, data: &Bound<'py, PyBytes>) -> PyResult<Bound<'py, PyAny>> {
        match self.try_build(py, data.as_bytes()) {
            Ok(built) => Ok(built),
            Err(Miss::Declined) => self.fallback.bind(py).call1((data,)),
            Err(Miss::Error(err)) => Err(err),
        }
    }

    /// The model built here, or `None` where this builder declines the bytes (the proofs and tests ask).
    fn build<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.try_build(py, data) {
            Ok(built) => Ok(Some(built)),
            Err(Miss::Declined) => Ok(None),
            Err(Miss::Error(err)) => Err(err),
        }
    }
}
