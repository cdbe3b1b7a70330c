//! Server-sent events bytes to the SDK's `ServerSentEvent` objects, in one call per network chunk.
//!
//! The core's `sse` module decodes; the Python layer's `SSESpec` says how events are built (`EventBuilder`)
//! and how a `retry` value is read (the SDK's rule, Python's `int()`, called through `spec.retry`).

use pyo3::prelude::*;
use pyo3::types::PyList;

use eventstream_core::sse::{self, RetryParser};

use crate::errors::{is_event_stream_error, raise_again, to_py_err};
use crate::event::{EventBuilder, Fields};
use crate::input::backing;

/// `spec.retry(value)`: the retry as a Python object, or `None` to keep the previous one. A Python error
/// (only an interpreter failure: the spec's function catches what `int()` raises) is kept, to be raised.
struct PythonRetry<'a, 'py> {
    parse: &'a Bound<'py, PyAny>,
    error: Option<PyErr>,
}

impl RetryParser for PythonRetry<'_, '_> {
    type Value = Py<PyAny>;

    fn parse(&mut self, value: &str) -> Option<Py<PyAny>> {
        match self.parse.call1((value,)) {
            Ok(parsed) if parsed.is_none() => None,
            Ok(parsed) => Some(parsed.unbind()),
            Err(err) => {
                self.error.get_or_insert(err);
                None
            }
        }
    }
}

/// The decoded events' buffer is kept between calls up to this size (a network chunk's worth of events).
const RETAINED_CAPACITY: usize = 1 << 20;

/// The SDK's SSE decoding, natively: bytes in, the SDK's `ServerSentEvent` objects out.
#[pyclass(module = "anthropic_eventstream._native", name = "SSEDecoder")]
pub struct SseDecoder {
    inner: sse::Decoder<Py<PyAny>>,
    events: EventBuilder,
    retry: Py<PyAny>,
    /// The error that spent this decoder, raised again (afresh) by every later call.
    failed: Option<PyErr>,
    /// The events of one call, kept for its buffers' capacity.
    decoded: sse::Events<Py<PyAny>>,
    /// Events as `(event, data)` pairs (`EventBuilder::pair`), for the package's stream loop.
    pairs: bool,
}

#[pymethods]
impl SseDecoder {
    #[new]
    #[pyo3(signature = (spec, /, *, max_event_length, pairs = false))]
    fn new(py: Python<'_>, spec: &Bound<'_, PyAny>, max_event_length: u64, pairs: bool) -> PyResult<Self> {
        let keep_raw = !pairs && spec.getattr("keep_raw")?.extract::<bool>()?;
        Ok(Self {
            inner: sse::Decoder::new(max_event_length, keep_raw),
            events: EventBuilder::from_spec(py, spec, true, keep_raw)?,
            retry: spec.getattr("retry")?.unbind(),
            failed: None,
            decoded: sse::Events::new(),
            pairs,
        })
    }

    /// The events `data` completes. On an `InvalidSSE`, the error's `messages` holds the events before it.
    fn feed<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let input = backing(data)?;
        self.step(py, |inner, retry, out| inner.feed(&input, retry, out))
    }

    /// The end of the stream: the events of what is left (an event without its blank line is dropped).
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.step(py, |inner, retry, out| inner.close(retry, out))
    }

    /// After `close()`: the dropped last event as `(event, data)`, or `None`.
    fn pending(&self) -> Option<(Option<&str>, &str)> {
        self.inner.pending()
    }
}

impl SseDecoder {
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        run: impl FnOnce(
            &mut sse::Decoder<Py<PyAny>>,
            &mut PythonRetry<'_, 'py>,
            &mut sse::Events<Py<PyAny>>,
        ) -> Result<(), eventstream_core::Error>,
    ) -> PyResult<Bound<'py, PyList>> {
        if let Some(err) = &self.failed {
            return Err(raise_again(py, err));
        }
        let parse = self.retry.bind(py).clone();
        let mut retry = PythonRetry { parse: &parse, error: None };
        let mut decoded = std::mem::take(&mut self.decoded);
        decoded.clear();
        let result = run(&mut self.inner, &mut retry, &mut decoded);
        let events = PyList::empty(py);
        let built = decoded.iter().try_for_each(|event| {
            if self.pairs {
                return events.append(self.events.pair(py, event.name, event.data.as_bytes())?);
            }
            let fields = Fields {
                name: event.name,
                data: event.data,
                id: event.id,
                retry: event.retry.map(|r| r.bind(py).clone()),
                raw: event.raw,
            };
            events.append(self.events.build(py, fields)?)
        });
        if decoded.capacity() <= RETAINED_CAPACITY {
            self.decoded = decoded;
        }
        if let Some(err) = retry.error {
            return Err(err);
        }
        built?;
        if let Err(e) = result {
            let err = to_py_err(py, &e, &events);
            if is_event_stream_error(py, &err)? {
                self.failed = Some(err.clone_ref(py));
            }
            return Err(err);
        }
        Ok(events)
    }
}
