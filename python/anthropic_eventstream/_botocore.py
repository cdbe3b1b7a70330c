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
- every framing error is an instance of both this package's class and botocore's own: the class of the same
  name where botocore has one (``NotAnEventStream`` is botocore's ``ChecksumMismatch``, as stock raises for
  a text body), else botocore's ``ParserError``, so ``except ChecksumMismatch`` / ``except ParserError``
  keep working.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Callable

from . import _errors
from ._anthropic import DEFAULT_ERROR_STATUS
from ._framing import EventStreamDecoder, Message
from ._patching import Patch, Patches

__all__ = ["install_botocore", "is_botocore_installed", "model_status", "uninstall_botocore"]

_BOTOCORE_CLASSES: dict[type[_errors.EventStreamError], type[_errors.EventStreamError]] = {}


def _botocore_class(ours: type[_errors.EventStreamError]) -> type[_errors.EventStreamError]:
    """``ours`` made also an instance of botocore's own class: the nearest class in its MRO whose name
    botocore's event-stream module defines as a ``ParserError``, else ``ParserError`` itself."""
    from botocore import eventstream

    if ours not in _BOTOCORE_CLASSES:
        theirs = next(
            (
                found
                for base in ours.__mro__
                if isinstance(found := getattr(eventstream, base.__name__, None), type)
                and issubclass(found, eventstream.ParserError)
            ),
            eventstream.ParserError,
        )
        _BOTOCORE_CLASSES[ours] = type(
            ours.__name__, (ours, theirs), {"__module__": ours.__module__, "__doc__": ours.__doc__}
        )
    return _BOTOCORE_CLASSES[ours]


def _as_botocore_error(exc: _errors.EventStreamError) -> _errors.EventStreamError:
    return _botocore_class(type(exc))(str(exc), offset=exc.offset, messages=exc.messages)


def _raw_events(original: Callable[..., Any]) -> Callable[..., Any]:
    """Replaces ``EventStream._create_raw_event_generator``: the framing is what this package does."""

    @functools.wraps(original)
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

    return _create_raw_event_generator


def model_status(output_shape: Any, headers: Any) -> int:
    """The HTTP status the service model gives this exception frame's error shape (500 if none)."""
    exception_type = headers.get(":exception-type")
    members = getattr(output_shape, "members", {}) or {}
    shape = members.get(exception_type) if isinstance(exception_type, str) else None
    status = (getattr(shape, "metadata", None) or {}).get("error", {}).get("httpStatusCode")
    return status if isinstance(status, int) else DEFAULT_ERROR_STATUS


def _status_from_model(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps ``EventStream._parse_event``: botocore's own ``EventStreamError``, with the status the service
    model gives the error instead of the flat 400 of ``to_response_dict``."""
    from botocore.exceptions import EventStreamError

    @functools.wraps(original)
    def _parse_event(self: Any, event: Any) -> Any:
        try:
            return original(self, event)
        except EventStreamError as exc:
            metadata = exc.response.setdefault("ResponseMetadata", {})
            metadata["HTTPStatusCode"] = model_status(self._output_shape, event.headers)
            raise

    return _parse_event


_installed = Patches()


def install_botocore() -> None:
    """Make botocore's ``EventStream`` decode with this package (idempotent). Raises ``SDKChangedError``
    (and changes nothing) if botocore's ``EventStream`` is not what this version was written against."""
    from botocore.eventstream import EventStream

    _installed.apply(
        [
            Patch(EventStream, "_create_raw_event_generator", _raw_events, parameters="(self)"),
            Patch(EventStream, "_parse_event", _status_from_model, parameters="(self, event)"),
        ]
    )


def uninstall_botocore() -> None:
    """Give botocore's ``EventStream`` back exactly what it held."""
    _installed.restore()


def is_botocore_installed() -> bool:
    return _installed.active
