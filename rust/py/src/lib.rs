//! `anthropic_eventstream._native`: the `PyO3` binding of `eventstream_core`.
//!
//! It converts, and builds what the Python layer describes, one module for each: Python input to byte
//! slices ([`input`]), core errors to the package's exception classes ([`errors`]), frames to `Message`
//! objects ([`message`]), the frame decoder ([`decoder`]), Bedrock frames to the SDK's `ServerSentEvent`s
//! as the Python layer's `EventSpec` describes them ([`bedrock`]), server-sent events to the same objects
//! ([`sse`]; both build them with [`event`], without running the class's `__init__`, by a layout the Python
//! layer learned and checked), the SDK's pydantic event models from their JSON, by the shape the Python layer learned and proved
//! ([`model`]), and headers to encoded frames ([`encode`]). What it needs of the Python
//! package (its exception classes, the response-dict rule) is handed to it once ([`package`]), never
//! imported by path. What the SDK expects (event names, error bodies, statuses) is decided in Python or,
//! where it must run natively, by a plain rule in the core crate.

use pyo3::prelude::*;

mod bedrock;
mod decoder;
mod encode;
mod errors;
mod event;
mod input;
mod message;
mod model;
mod package;
mod shape;
mod sse;

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DETACH_THRESHOLD", input::DETACH_THRESHOLD)?;
    m.add_class::<message::Message>()?;
    m.add_class::<decoder::Decoder>()?;
    m.add_class::<bedrock::BedrockDecoder>()?;
    m.add_class::<sse::SseDecoder>()?;
    m.add_class::<model::ModelBuilder>()?;
    m.add_class::<shape::ShapeParser>()?;
    m.add_function(wrap_pyfunction!(encode::encode_message, m)?)?;
    m.add_function(wrap_pyfunction!(package::bind, m)?)?;
    Ok(())
}
