"""The botocore shim: this package's decoder under boto3/botocore's ``EventStream``.

Under ``install_botocore()`` every botocore event stream (bedrock-runtime ``invoke_model_with_response_stream``
and ``converse_stream``, S3 Select, Transcribe, Lambda response streams, Kinesis ``SubscribeToShard``...)
frames its bytes with ``EventStreamDecoder`` and yields exactly the events stock botocore yields. What
changes is what goes wrong:

- an exception frame raises botocore's ``EventStreamError`` with the same code and message as stock, but
  with ``response["ResponseMetadata"]["HTTPStatusCode"]`` taken from the service model's error shape (429
  for ``throttlingException``, ...) instead of a flat 400; exceptions outside the model and ``error`` frames
  get 500;
- a stream that ends inside a frame raises ``TruncatedStreamError`` instead of ending quietly;
- framing errors are instances of both this package's class and botocore's class of the same name, so code
  that catches ``botocore.eventstream.ChecksumMismatch`` keeps working.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from . import _errors
from ._anthropic import DEFAULT_ERROR_STATUS
from ._framing import EventStreamDecoder, Message

__all__ = ["install_botocore", "is_botocore_installed", "uninstall_botocore"]

_lock = threading.Lock()
_originals: dict[str, Any] = {}


_BOTOCORE_CLASSES: dict[type[_errors.EventStreamError], type[_errors.EventStreamError]] = {}


def _botocore_class(ours: type[_errors.EventStreamError]) -> type[_errors.EventStreamError]:
    """``ours`` made also an instance of botocore's exception of the same name, where botocore has one."""
    from botocore import eventstream

    if ours not in _BOTOCORE_CLASSES:
        theirs = getattr(eventstream, ours.__name__, None)
        both = ours
        if isinstance(theirs, type) and issubclass(theirs, Exception):
            both = type(ours.__name__, (ours, theirs), {"__module__": ours.__module__, "__doc__": ours.__doc__})
        _BOTOCORE_CLASSES[ours] = both
    return _BOTOCORE_CLASSES[ours]


def _as_botocore_error(exc: _errors.EventStreamError) -> _errors.EventStreamError:
    cls = _botocore_class(type(exc))
    if cls is type(exc):
        return exc
    return cls(str(exc), offset=exc.offset, messages=exc.messages)


def _create_raw_event_generator(self: Any) -> Iterator[Message]:
    decoder = EventStreamDecoder()
    for chunk in self._raw_stream.stream():
        try:
            messages = decoder.feed(chunk)
        except _errors.EventStreamError as exc:
            yield from exc.messages
            raise _as_botocore_error(exc) from None
        yield from messages
    try:
        decoder.close()
    except _errors.EventStreamError as exc:
        raise _as_botocore_error(exc) from None


def model_status(output_shape: Any, headers: Any) -> int:
    """The HTTP status the service model gives this exception frame's error shape (500 if none)."""
    exception_type = headers.get(":exception-type")
    members = getattr(output_shape, "members", {}) or {}
    shape = members.get(exception_type) if isinstance(exception_type, str) else None
    status = (getattr(shape, "metadata", None) or {}).get("error", {}).get("httpStatusCode")
    return status if isinstance(status, int) else DEFAULT_ERROR_STATUS


def _parse_event(self: Any, event: Any) -> Any:
    from botocore.exceptions import EventStreamError

    response_dict = event.to_response_dict()
    parsed_response = self._parser.parse(response_dict, self._output_shape)
    if response_dict["status_code"] == 200:
        return parsed_response
    metadata = parsed_response.setdefault("ResponseMetadata", {})
    metadata["HTTPStatusCode"] = model_status(self._output_shape, response_dict["headers"])
    raise EventStreamError(parsed_response, self._operation_name)


def install_botocore() -> None:
    """Make botocore's ``EventStream`` decode with this package (idempotent)."""
    from botocore.eventstream import EventStream

    with _lock:
        if _originals:
            return
        for name, replacement in (
            ("_create_raw_event_generator", _create_raw_event_generator),
            ("_parse_event", _parse_event),
        ):
            _originals[name] = EventStream.__dict__[name]
            setattr(EventStream, name, replacement)


def uninstall_botocore() -> None:
    """Give botocore's ``EventStream`` back exactly the methods it had."""
    from botocore.eventstream import EventStream

    with _lock:
        for name, original in _originals.items():
            setattr(EventStream, name, original)
        _originals.clear()


def is_botocore_installed() -> bool:
    return bool(_originals)
