"""The public framing API: ``EventStreamDecoder``, ``Message``, ``encode_message`` and header typing.

These are thin fronts over the selected backend (``_native`` or ``reference``), which do the work.
"""

from __future__ import annotations

import abc
import datetime
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _backend, _errors
from . import reference
from .wire import DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH, MAX_FRAME_LENGTH, HeaderType

__all__ = [
    "DEFAULT_MAX_HEADERS_LENGTH",
    "DEFAULT_MAX_PAYLOAD_LENGTH",
    "EventStreamDecoder",
    "HeaderType",
    "HeaderValue",
    "Message",
    "encode_message",
]

if _backend._native is not None:
    # What the extension raises and builds, handed to it once (``rust/py/src/package.rs``): the very classes
    # the pure-Python backend raises, and its rule for botocore's response dict.
    _backend._native.bind(
        event_stream_error=_errors.EventStreamError,
        checksum_mismatch=_errors.ChecksumMismatch,
        not_an_event_stream=_errors.NotAnEventStream,
        invalid_headers_length=_errors.InvalidHeadersLength,
        invalid_payload_length=_errors.InvalidPayloadLength,
        invalid_header_value=_errors.InvalidHeaderValue,
        duplicate_header=_errors.DuplicateHeader,
        truncated_stream_error=_errors.TruncatedStreamError,
        invalid_chunk=_errors.InvalidChunk,
        invalid_sse=_errors.InvalidSSE,
        response_dict=reference.response_dict,
    )


class Message(abc.ABC):
    """One decoded frame (both backends' message classes are registered as virtual subclasses).

    Attributes: ``headers`` (name -> ``bool`` / ``int`` / ``bytes`` / ``str``, as botocore returns them),
    ``payload`` (``bytes``), ``message_type`` / ``event_type`` / ``exception_type`` (header values or
    ``None``), ``total_length``, ``headers_length``, ``prelude_crc``, ``crc``; and ``to_response_dict()``,
    the dict botocore's parsers take.
    """

    headers: Mapping[str, bool | int | bytes | str]
    payload: bytes
    message_type: Any
    event_type: Any
    exception_type: Any
    total_length: int
    headers_length: int
    prelude_crc: int
    crc: int

    @abc.abstractmethod
    def to_response_dict(self) -> dict[str, Any]: ...


Message.register(reference.Message)
if _backend._native is not None:
    Message.register(_backend._native.Message)


class EventStreamDecoder:
    """Incremental decoder: feed it bytes as they arrive, in pieces of any size, and get whole messages.

    ``feed(data)`` returns every message ``data`` completes. ``close()`` declares the end of the stream and
    raises ``TruncatedStreamError`` if a frame was left unfinished. Every problem raises a subclass of
    ``EventStreamError`` whose ``messages`` holds what that call decoded before it; after an error the
    decoder raises the same error again, as a stream cannot be resynchronised.

    ``backend`` picks ``"native"`` or ``"python"`` for this decoder (default: ``anthropic_eventstream.BACKEND``).
    """

    __slots__ = ("_impl", "backend")

    def __init__(
        self,
        *,
        backend: str | None = None,
        max_headers_length: int = DEFAULT_MAX_HEADERS_LENGTH,
        max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH,
    ) -> None:
        module = _backend.implementation(backend, reference)
        self.backend: str = "python" if module is reference else "native"
        self._impl = module.Decoder(**limits(max_headers_length, max_payload_length))

    def feed(self, data: bytes | bytearray | memoryview, /) -> list[Message]:
        """Every message completed by ``data``, in order."""
        return self._impl.feed(data)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Raises ``TruncatedStreamError`` (or ``NotAnEventStream``) if bytes of an unfinished frame remain."""
        self._impl.close()

    @property
    def buffered(self) -> int:
        """Bytes held for a frame that has not ended yet."""
        return self._impl.buffered  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"EventStreamDecoder(backend={self.backend!r}, buffered={self.buffered})"


def limits(max_headers_length: int, max_payload_length: int) -> dict[str, int]:
    """The limits as both backends take them: checked, and capped at the largest length a frame can have
    (any larger limit means the same, and the native backend takes 64-bit integers)."""
    checked = {"max_headers_length": max_headers_length, "max_payload_length": max_payload_length}
    for name, value in checked.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, not {value!r}")
        checked[name] = min(value, MAX_FRAME_LENGTH)
    return checked


@dataclass(frozen=True)
class HeaderValue:
    """A header value with an explicit wire type, for ``encode_message``:
    ``{"count": HeaderValue(HeaderType.SHORT, 7)}``."""

    type: HeaderType
    value: Any = None


_RANGES = {
    HeaderType.BYTE: (-(2**7), 2**7 - 1),
    HeaderType.SHORT: (-(2**15), 2**15 - 1),
    HeaderType.INTEGER: (-(2**31), 2**31 - 1),
    HeaderType.LONG: (-(2**63), 2**63 - 1),
    HeaderType.TIMESTAMP: (-(2**63), 2**63 - 1),
}

HeaderInput = bool | int | bytes | bytearray | str | uuid.UUID | datetime.datetime | HeaderValue


def _infer(value: object) -> HeaderValue:
    if isinstance(value, HeaderValue):
        return value
    if isinstance(value, bool):
        return HeaderValue(HeaderType.BOOL_TRUE if value else HeaderType.BOOL_FALSE)
    if isinstance(value, int):
        lo, hi = _RANGES[HeaderType.INTEGER]
        return HeaderValue(HeaderType.INTEGER if lo <= value <= hi else HeaderType.LONG, value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return HeaderValue(HeaderType.BYTE_ARRAY, bytes(value))
    if isinstance(value, str):
        return HeaderValue(HeaderType.STRING, value)
    if isinstance(value, uuid.UUID):
        return HeaderValue(HeaderType.UUID, value.bytes)
    if isinstance(value, datetime.datetime):
        return HeaderValue(HeaderType.TIMESTAMP, int(value.timestamp() * 1000))
    raise TypeError(f"cannot encode a header value of type {type(value).__name__}; wrap it in HeaderValue")


def _wire(name: str, value: object) -> tuple[str, int, Any]:
    typed = _infer(value)
    tag = HeaderType(typed.type)
    v = typed.value
    if tag in _RANGES:
        lo, hi = _RANGES[tag]
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValueError(f"header '{name}': {tag.name} takes an int from {lo} to {hi}, not {v!r}")
    elif tag is HeaderType.BYTE_ARRAY:
        if not isinstance(v, (bytes, bytearray, memoryview)):
            raise ValueError(f"header '{name}': BYTE_ARRAY takes bytes, not {type(v).__name__}")
        v = bytes(v)
    elif tag is HeaderType.STRING:
        if not isinstance(v, str):
            raise ValueError(f"header '{name}': STRING takes str, not {type(v).__name__}")
    elif tag is HeaderType.UUID:
        v = v.bytes if isinstance(v, uuid.UUID) else v
        if not isinstance(v, (bytes, bytearray)) or len(v) != 16:
            raise ValueError(f"header '{name}': UUID takes a uuid.UUID or 16 bytes, not {v!r}")
        v = bytes(v)
    return (name, int(tag), v)


def encode_message(
    headers: Mapping[str, HeaderInput] | Iterable[tuple[str, HeaderInput]],
    payload: bytes | bytearray | memoryview = b"",
    /,
    *,
    backend: str | None = None,
) -> bytes:
    """Encodes one frame.

    Header types are inferred (``bool``, ``int`` -> INTEGER or LONG by size, ``bytes``, ``str``,
    ``uuid.UUID``, ``datetime`` -> TIMESTAMP in ms) or chosen with ``HeaderValue(HeaderType.X, value)``. A
    list of pairs may repeat a name, to build frames that decoders must reject.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    wire = [_wire(name, value) for name, value in items]
    return _backend.implementation(backend, reference).encode_message(wire, bytes(payload))  # type: ignore[no-any-return]
