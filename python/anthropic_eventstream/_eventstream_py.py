"""The pure-Python backend: the same decoders as the native extension, line for line in behaviour.

It mirrors ``rust/core`` (prelude -> headers -> frame -> incremental decoder -> Bedrock chunk) and raises
the same exception classes with the same messages. It is linear in the bytes fed: a frame inside one chunk
is checked in place through a ``memoryview``; only a frame split across chunks is stitched in a
``bytearray`` that grows with the bytes received.

Its Bedrock chunk layer is also the reference the native backend defers to for every chunk it cannot decide
exactly (``EventSpec.reference``): it follows the stock SDK (botocore's JSON parser, ``base64``,
``bytes.decode()``, ``json.loads``) and raises ``InvalidChunk`` where the SDK would drop or garble a chunk.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Literal, Union

from ._errors import (
    ChecksumMismatch,
    DuplicateHeader,
    EventStreamError,
    InvalidChunk,
    InvalidHeadersLength,
    InvalidHeaderValue,
    InvalidPayloadLength,
    NotAnEventStream,
    TruncatedStreamError,
)
from ._sse_py import SSEDecoder, SSESpec
from ._wire import HEAD_SHOWN, HeaderType, bytes_repr

__all__ = [
    "BedrockDecoder",
    "Decoder",
    "EventSpec",
    "Message",
    "SSEDecoder",
    "SSESpec",
    "encode_message",
    "response_dict",
]

PRELUDE_LENGTH = 12
MIN_FRAME_LENGTH = 16
_PRELUDE = struct.Struct("!III")
_LENGTHS = struct.Struct("!II")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_FIXED: dict[int, struct.Struct] = {
    HeaderType.BYTE: struct.Struct("!b"),
    HeaderType.SHORT: struct.Struct("!h"),
    HeaderType.INTEGER: struct.Struct("!i"),
    HeaderType.LONG: struct.Struct("!q"),
    HeaderType.TIMESTAMP: struct.Struct("!q"),
}
_TEXT_BYTES = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}

HeaderValueT = Union[bool, int, bytes, str]


def looks_like_text(head: bytes) -> bool:
    """A prelude starts with the high byte of a length, never a printable character; text does."""
    return bool(head) and all(b in _TEXT_BYTES for b in head[:PRELUDE_LENGTH])


class _Failure(Exception):
    """An error found at a known offset; becomes the public exception with the messages decoded so far."""

    def __init__(self, cls: type[EventStreamError], message: str, offset: int) -> None:
        super().__init__(message)
        self.cls, self.message, self.offset = cls, message, offset

    def error(self, decoded: list[Any] | None = None) -> EventStreamError:
        return self.cls(self.message, offset=self.offset, messages=decoded)

    def again(self) -> _Failure:
        """A fresh copy, to raise on every later call: raising one object again would grow its traceback,
        which pins the frames (and the chunks) of every call that raised it."""
        return _Failure(self.cls, self.message, self.offset)


class Message:
    """One validated frame."""

    __slots__ = ("crc", "headers", "headers_length", "payload", "prelude_crc", "total_length")

    def __init__(
        self,
        headers: dict[str, HeaderValueT],
        payload: bytes,
        total_length: int,
        headers_length: int,
        prelude_crc: int,
        crc: int,
    ) -> None:
        self.headers = headers
        self.payload = payload
        self.total_length = total_length
        self.headers_length = headers_length
        self.prelude_crc = prelude_crc
        self.crc = crc

    @property
    def message_type(self) -> HeaderValueT | None:
        return self.headers.get(":message-type")

    @property
    def event_type(self) -> HeaderValueT | None:
        return self.headers.get(":event-type")

    @property
    def exception_type(self) -> HeaderValueT | None:
        return self.headers.get(":exception-type")

    def to_response_dict(self) -> dict[str, Any]:
        return response_dict(self)

    def __repr__(self) -> str:
        return f"Message(headers={self.headers!r}, payload={self.payload!r})"


def response_dict(message: Any) -> dict[str, Any]:
    """``Message.to_response_dict()`` of both backends: the dict botocore's parsers take, status 400 for
    ``error`` and ``exception`` frames, else 200 (botocore's ``EventStreamMessage.to_response_dict``)."""
    status = 400 if message.message_type in ("error", "exception") else 200
    return {"status_code": status, "headers": message.headers, "body": message.payload}


def _parse_prelude(prelude: bytes, max_headers: int, max_payload: int, offset: int) -> tuple[int, int, int]:
    total, headers_length, expected = _PRELUDE.unpack(prelude)
    computed = zlib.crc32(prelude[:8])
    if expected != computed:
        raise _Failure(
            ChecksumMismatch,
            f"prelude checksum mismatch in frame at byte {offset}: expected 0x{expected:08x}, calculated 0x{computed:08x}",
            offset,
        )
    if headers_length > max_headers:
        raise _Failure(
            InvalidHeadersLength,
            f"headers length of {headers_length} in frame at byte {offset} exceeds the maximum of {max_headers}",
            offset,
        )
    payload_length = total - headers_length - MIN_FRAME_LENGTH
    if payload_length < 0:
        raise _Failure(
            InvalidHeadersLength,
            f"frame at byte {offset} has total length {total} but needs at least {headers_length + 16} "
            f"(12-byte prelude + {headers_length} bytes of headers + 4-byte CRC)",
            offset,
        )
    if payload_length > max_payload:
        raise _Failure(
            InvalidPayloadLength,
            f"payload length of {payload_length} in frame at byte {offset} exceeds the maximum of {max_payload}",
            offset,
        )
    return total, headers_length, expected


def _overrun(start: int, needed: int, available: int, offset: int) -> _Failure:
    return _Failure(
        InvalidHeaderValue,
        f"header at byte {start} of the headers of frame at byte {offset} needs {needed} bytes "
        f"but the section has {available} left",
        offset,
    )


def _not_utf8(start: int, offset: int) -> _Failure:
    return _Failure(
        InvalidHeaderValue,
        f"header at byte {start} of the headers of frame at byte {offset} is not valid UTF-8",
        offset,
    )


def parse_headers(section: bytes, offset: int) -> dict[str, HeaderValueT]:
    """Decodes and validates a headers section, in the order and with the checks of ``rust/core``."""
    headers: dict[str, HeaderValueT] = {}
    end = len(section)
    pos = 0
    while pos < end:
        start = pos

        def take(n: int, start: int = start) -> bytes:
            nonlocal pos
            if n > end - pos:
                raise _overrun(start, n, end - pos, offset)
            pos += n
            return section[pos - n : pos]

        name_bytes = take(take(1)[0])
        try:
            name = name_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8(start, offset) from None
        type_byte = take(1)[0]
        value: HeaderValueT
        if type_byte == HeaderType.BOOL_TRUE:
            value = True
        elif type_byte == HeaderType.BOOL_FALSE:
            value = False
        elif type_byte in _FIXED:
            unpacker = _FIXED[type_byte]
            value = unpacker.unpack(take(unpacker.size))[0]
        elif type_byte == HeaderType.BYTE_ARRAY:
            value = take(_U16.unpack(take(2))[0])
        elif type_byte == HeaderType.STRING:
            try:
                value = take(_U16.unpack(take(2))[0]).decode("utf-8")
            except UnicodeDecodeError:
                raise _not_utf8(start, offset) from None
        elif type_byte == HeaderType.UUID:
            value = take(16)
        else:
            raise _Failure(
                InvalidHeaderValue,
                f"header '{name}' in frame at byte {offset} has unknown type {type_byte} (expected 0 to 9)",
                offset,
            )
        if name in headers:
            raise _Failure(DuplicateHeader, f"duplicate header '{name}' in frame at byte {offset}", offset)
        headers[name] = value
    return headers


def _parse_frame(raw: memoryview, prelude: tuple[int, int, int], offset: int) -> Message:
    total, headers_length, prelude_crc = prelude
    payload_end = total - 4
    (expected,) = _U32.unpack(raw[payload_end:total])
    computed = zlib.crc32(raw[8:payload_end], prelude_crc)
    if expected != computed:
        raise _Failure(
            ChecksumMismatch,
            f"message checksum mismatch in frame at byte {offset}: expected 0x{expected:08x}, calculated 0x{computed:08x}",
            offset,
        )
    headers_end = PRELUDE_LENGTH + headers_length
    headers = parse_headers(bytes(raw[PRELUDE_LENGTH:headers_end]), offset)
    return Message(headers, bytes(raw[headers_end:payload_end]), total, headers_length, prelude_crc, expected)


def as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, bytearray or memoryview, got {type(data).__name__}")


class Decoder:
    """The frame decoder behind ``EventStreamDecoder`` (python backend)."""

    def __init__(self, *, max_headers_length: int, max_payload_length: int) -> None:
        if max_headers_length < 0 or max_payload_length < 0:
            raise OverflowError("limits must be non-negative")
        self._max_headers = max_headers_length
        self._max_payload = max_payload_length
        self._carry = bytearray()
        self._carry_prelude: tuple[int, int, int] | None = None
        self._carry_offset = 0
        self._fed = 0
        self._failed: _Failure | None = None

    @property
    def buffered(self) -> int:
        return len(self._carry)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]:
        """Every item ``data`` completes: messages here, whatever ``_emit`` hands on in a subclass."""
        out: list[Any] = []
        try:
            self._feed(as_bytes(data), out.append)
        except _Failure as failure:
            raise failure.error(out) from None
        return out

    def _feed(self, data: bytes, sink: Any) -> None:
        """Decodes ``data``, passing each completed frame to ``self._emit``; raises ``_Failure``."""
        if self._failed is not None:
            raise self._failed.again()
        base = self._fed
        self._fed += len(data)
        view = memoryview(data)
        try:
            pos = 0
            if self._carry:
                used = self._finish_carried(data, sink)
                if used is None:
                    return
                pos = used
            n = len(data)
            while pos < n:
                offset = base + pos
                if n - pos < PRELUDE_LENGTH:
                    self._start_carry(data[pos:], offset, None)
                    break
                prelude = self._prelude(data[pos : pos + PRELUDE_LENGTH], data[pos : pos + HEAD_SHOWN + 1], offset)
                total = prelude[0]
                if n - pos < total:
                    self._start_carry(data[pos:], offset, prelude)
                    break
                self._emit(sink, _parse_frame(view[pos : pos + total], prelude, offset), offset)
                pos += total
        except _Failure as failure:
            self._fail(failure)
            raise

    def _emit(self, sink: Any, message: Message, offset: int) -> None:
        """Hands a validated frame on; the Bedrock layer overrides this to hand on events instead."""
        sink(message)

    def close(self) -> None:
        if self._failed is not None:
            raise self._failed.error()
        if not self._carry:
            return
        carry, offset = bytes(self._carry), self._carry_offset
        if offset == 0 and looks_like_text(carry):
            failure = _Failure(NotAnEventStream, _not_an_event_stream(carry), offset)
        elif self._carry_prelude is None:
            failure = _Failure(
                TruncatedStreamError,
                f"stream ended inside the frame at byte {offset}: received {len(carry)} of its 12-byte prelude",
                offset,
            )
        else:
            failure = _Failure(
                TruncatedStreamError,
                f"stream ended inside the frame at byte {offset}: received {len(carry)} of its {self._carry_prelude[0]} bytes",
                offset,
            )
        self._fail(failure)
        raise failure.error()

    def _finish_carried(self, data: bytes, sink: Any) -> int | None:
        offset = self._carry_offset
        used = 0
        prelude = self._carry_prelude
        if prelude is None:
            used = min(PRELUDE_LENGTH - len(self._carry), len(data))
            self._carry += data[:used]
            if len(self._carry) < PRELUDE_LENGTH:
                return None
            head = bytes(self._carry) + data[used : used + HEAD_SHOWN + 1]
            prelude = self._prelude(bytes(self._carry[:PRELUDE_LENGTH]), head, offset)
            self._carry_prelude = prelude
        missing = prelude[0] - len(self._carry)
        take = min(missing, len(data) - used)
        self._carry += data[used : used + take]
        used += take
        if take < missing:
            return None
        stitched = self._carry
        self._carry = bytearray()
        self._carry_prelude = None
        self._emit(sink, _parse_frame(memoryview(stitched), prelude, offset), offset)
        return used

    def _prelude(self, prelude: bytes, head: bytes, offset: int) -> tuple[int, int, int]:
        try:
            return _parse_prelude(prelude, self._max_headers, self._max_payload, offset)
        except _Failure as failure:
            if failure.cls is ChecksumMismatch and offset == 0 and looks_like_text(head):
                raise _Failure(NotAnEventStream, _not_an_event_stream(head), offset) from None
            raise

    def _start_carry(self, rest: bytes, offset: int, prelude: tuple[int, int, int] | None) -> None:
        self._carry += rest
        self._carry_offset = offset
        self._carry_prelude = prelude

    def _fail(self, failure: _Failure) -> None:
        self._failed = failure
        self._carry = bytearray()
        self._carry_prelude = None


def _not_an_event_stream(head: bytes) -> str:
    return "the body is not an AWS event stream (expected a binary prelude, found text): " + bytes_repr(head)


def _invalid_chunk(reason: str, payload: bytes, offset: int) -> _Failure:
    return _Failure(
        InvalidChunk,
        f"invalid Bedrock chunk in frame at byte {offset}: {reason}: {bytes_repr(payload)}",
        offset,
    )


def decode_chunk(payload: bytes, offset: int) -> str:
    """``{"bytes": "<base64>", ...}`` -> the JSON text inside, read as the stock SDK reads it (botocore's
    parser: ``payload.decode("utf-8")``, ``json.loads``; then ``base64``, ``bytes.decode()``), but raising
    ``InvalidChunk`` where the SDK would drop the chunk (no ``bytes``), garble it (non-alphabet characters,
    which ``b64decode`` skips) or fail with an untyped error."""
    try:
        outer = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):
        outer = None
    if not isinstance(outer, dict):
        raise _invalid_chunk("the payload is not a JSON object", payload, offset)
    if "bytes" not in outer:
        raise _invalid_chunk('the payload has no "bytes" string', payload, offset)
    text = outer["bytes"]
    if not isinstance(text, str):
        raise _invalid_chunk('"bytes" is not a string', payload, offset)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid_chunk('"bytes" is not valid base64', payload, offset) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_chunk("the decoded bytes are not UTF-8", payload, offset) from None


Naming = Literal["type", "completion"]


def event_name(json_text: str, *, naming: Naming, skip_untyped: bool) -> str | None:
    """The SDK's event name for a chunk's JSON (``None``: the SDK drops it)."""
    try:
        data = json.loads(json_text)
    except (ValueError, RecursionError):
        data = None
    if naming == "completion":
        # Old SDKs name every chunk ``completion``, which would pass an in-band error off as an event.
        if not json_text:
            return None
        return "error" if isinstance(data, dict) and data.get("type") == "error" else "completion"
    if not isinstance(data, dict):
        return "completion"
    name = data.get("type")
    if isinstance(name, str):
        return name
    if "completion" in data or not skip_untyped:
        return "completion"
    return None


@dataclass(frozen=True)
class EventSpec:
    """How the installed SDK's Bedrock decoder turns frames into its ``ServerSentEvent`` objects; both
    backends' ``BedrockDecoder`` read it.

    ``naming``: ``"type"`` (events named by their JSON ``type``) or ``"completion"`` (anthropic < 0.110:
    every chunk is ``completion``). ``skip_untyped``: whether an object with neither ``type`` nor
    ``completion`` is dropped. ``layout``: how the native backend may build ``event_class`` instances
    without running ``__init__`` (``None``: call the class). ``error_event(message)``: the event that takes
    an exception or error frame's place; it must not raise.
    """

    event_class: Callable[..., Any]
    naming: Naming
    skip_untyped: bool
    error_event: Callable[[Any], Any]
    layout: list[tuple[str, str, Any]] | None = None

    def chunk_event(self, payload: bytes, offset: int) -> Any:
        """The event of one ``chunk`` frame's payload, or ``None`` if the SDK drops it; raises ``_Failure``."""
        text = decode_chunk(payload, offset)
        name = event_name(text, naming=self.naming, skip_untyped=self.skip_untyped)
        return None if name is None else self.event_class(event=name, data=text)

    def reference(self, payload: bytes, offset: int) -> Any:
        """``chunk_event`` for the native backend, for each chunk it does not decide itself: raises the public
        ``InvalidChunk``."""
        try:
            return self.chunk_event(payload, offset)
        except _Failure as failure:
            raise failure.error() from None


class BedrockDecoder(Decoder):
    """Bedrock's ``chunk`` layer: bytes in, the SDK's events (as ``spec`` describes them) out. As in the stock
    decoder, ``exception`` and ``error`` frames are errors, handed in order to ``spec.error_event``, and any
    other frame whose ``:event-type`` is ``chunk`` is a chunk, whatever its ``:message-type``."""

    def __init__(self, spec: EventSpec, /, *, max_headers_length: int, max_payload_length: int) -> None:
        super().__init__(max_headers_length=max_headers_length, max_payload_length=max_payload_length)
        self._spec = spec

    def close(self) -> list[Any]:  # type: ignore[override]
        """The end of the stream: raises ``TruncatedStreamError`` inside a frame; no event is left to give."""
        super().close()
        return []

    def _emit(self, sink: Any, message: Message, offset: int) -> None:
        headers = message.headers
        if headers.get(":message-type") in ("exception", "error"):
            sink(self._spec.error_event(message))
        elif headers.get(":event-type") == "chunk":
            event = self._spec.chunk_event(message.payload, offset)
            if event is not None:
                sink(event)


def encode_message(headers: list[tuple[str, int, Any]], payload: bytes) -> bytes:
    """Encodes one frame from ``(name, type_tag, value)`` triples already checked by the caller."""
    parts = []
    for name, tag, value in headers:
        encoded_name = name.encode("utf-8")
        if len(encoded_name) > 255:
            raise ValueError(f"header name '{name}' is {len(encoded_name)} bytes; the maximum is 255")
        parts.append(bytes((len(encoded_name),)) + encoded_name + bytes((tag,)))
        if tag in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):
            continue
        if tag in _FIXED:
            parts.append(_FIXED[tag].pack(value))
        elif tag in (HeaderType.BYTE_ARRAY, HeaderType.STRING):
            raw = value.encode("utf-8") if tag == HeaderType.STRING else bytes(value)
            if len(raw) > 0xFFFF:
                raise ValueError(f"header '{name}' has a {len(raw)}-byte value; the maximum is 65535")
            parts.append(_U16.pack(len(raw)) + raw)
        elif tag == HeaderType.UUID:
            raw = bytes(value)
            if len(raw) != 16:
                raise ValueError("a UUID header needs 16 bytes")
            parts.append(raw)
        else:
            raise ValueError(f"unknown header type {tag} (expected 0 to 9)")
    header_bytes = b"".join(parts)
    total = PRELUDE_LENGTH + len(header_bytes) + len(payload) + 4
    if total > 0xFFFFFFFF:
        raise ValueError(f"a frame of {total} bytes does not fit the 32-bit total length")
    lengths = _LENGTHS.pack(total, len(header_bytes))
    prelude = lengths + _U32.pack(zlib.crc32(lengths))
    body = prelude + header_bytes + bytes(payload)
    return body + _U32.pack(zlib.crc32(body))
