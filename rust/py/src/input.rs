//! Python input to byte slices, and running the core decoder over them.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

use eventstream_core::{Decoder, Error, Frame, Location};

/// Inputs at least this large are decoded with the interpreter detached, so that other threads run meanwhile.
pub const DETACH_THRESHOLD: usize = 64 * 1024;

/// Borrows `data` without copying when it is `bytes`; copies a `bytearray` or `memoryview` once, as their
/// contents may change under us.
pub fn backing(data: &Bound<'_, PyAny>) -> PyResult<PyBackedBytes> {
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
    Err(PyTypeError::new_err(format!("expected bytes, bytearray or memoryview, got {}", data.get_type().name()?)))
}

/// Runs `decoder` over `data`, collecting what `sink` makes of each frame, detached from the interpreter for
/// large inputs.
pub fn run<T: Send>(
    py: Python<'_>,
    decoder: &mut Decoder,
    data: &[u8],
    mut sink: impl FnMut(&Frame<'_>, Location) -> T + Send,
) -> (Vec<T>, Result<(), Error>) {
    let mut out = Vec::new();
    let mut go = || {
        decoder.feed(data, |frame, location| {
            out.push(sink(frame, location));
            Ok(())
        })
    };
    let result = if data.len() >= DETACH_THRESHOLD { py.detach(go) } else { go() };
    (out, result)
}
