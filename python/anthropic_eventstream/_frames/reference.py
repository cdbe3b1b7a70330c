"""Event-stream framing in pure Python: the python backend's frame decoder and encoder, the mirror of
``rust/core`` (prelude -> headers -> frame -> incremental decoder), rule for rule and message for message.

It is linear in the bytes fed: a frame inside one chunk is checked in place through a ``memoryview``; only a
frame split across chunks is stitched in a ``bytearray`` that grows with the bytes received.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from .._errors import (
    ChecksumMismatch,
    DuplicateHeader,
    EventStreamError,
    InvalidHeadersLength,
    InvalidHeaderValue,
    InvalidPayloadLength,
    NotAnEventStream,
    TruncatedStreamError,
)
from .wire import HEAD_SHOWN, PRELUDE_LENGTH, HeaderType, bytes_repr, message

__all__ = ["Decoder", "Failure", "Message", "encode_message", "response_dict"]

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

HeaderValueT = bool | int | bytes | str


def looks_like_text(head: bytes) -> bool:
    """A prelude starts with the high byte of a length, never a printable character; text does."""
    return bool(head) and all(b in _TEXT_BYTES for b in head[:PRELUDE_LENGTH])


class Failure(Exception):
    """An error found at a known offset; becomes the public exception with the messages decoded so far."""

    def __init__(self, cls: type[EventStreamError], message: str, offset: int) -> None:
        super().__init__(message)
        self.cls, self.message, self.offset = cls, message, offset

    def error(self, decoded: list[Any] | None = None) -> EventStreamError:
        return self.cls(self.message, offset=self.offset, messages=decoded)

    def again(self) -> Failure:
        """A fresh copy, to raise on every later call: raising one object again would grow its traceback,
        which pins the frames (and the chunks) of every call that raised it."""
        return Failure(self.cls, self.message, self.offset)


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
        raise Failure(
            ChecksumMismatch,
            message("PRELUDE_CHECKSUM", at=offset, expected=expected, computed=computed),
            offset,
        )
    if headers_length > max_headers:
        raise Failure(
            InvalidHeadersLength,
            message("HEADERS_TOO_LONG", length=headers_length, at=offset, max=max_headers),
            offset,
        )
    payload_length = total - headers_length - MIN_FRAME_LENGTH
    if payload_length < 0:
        raise Failure(
            InvalidHeadersLength,
            message(
                "INCONSISTENT_LENGTHS",
                at=offset,
                total_length=total,
                needed=headers_length + 16,
                headers_length=headers_length,
            ),
            offset,
        )
    if payload_length > max_payload:
        raise Failure(
            InvalidPayloadLength,
            message("PAYLOAD_TOO_LONG", length=payload_length, at=offset, max=max_payload),
            offset,
        )
    return total, headers_length, expected


def _overrun(start: int, needed: int, available: int, offset: int) -> Failure:
    return Failure(
        InvalidHeaderValue,
        message("HEADER_OVERRUN", position=start, at=offset, needed=needed, available=available),
        offset,
    )


def _not_utf8(start: int, offset: int) -> Failure:
    return Failure(
        InvalidHeaderValue,
        message("HEADER_NOT_UTF8", position=start, at=offset),
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
            raise Failure(
                InvalidHeaderValue,
                message("UNKNOWN_HEADER_TYPE", name=name, at=offset, type_byte=type_byte),
                offset,
            )
        if name in headers:
            raise Failure(DuplicateHeader, message("DUPLICATE_HEADER", name=name, at=offset), offset)
        headers[name] = value
    return headers


def _parse_frame(raw: memoryview, prelude: tuple[int, int, int], offset: int) -> Message:
    total, headers_length, prelude_crc = prelude
    payload_end = total - 4
    (expected,) = _U32.unpack(raw[payload_end:total])
    computed = zlib.crc32(raw[8:payload_end], prelude_crc)
    if expected != computed:
        raise Failure(
            ChecksumMismatch,
            message("MESSAGE_CHECKSUM", at=offset, expected=expected, computed=computed),
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
        self._failed: Failure | None = None

    @property
    def buffered(self) -> int:
        return len(self._carry)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]:
        """Every item ``data`` completes: messages here, whatever ``_emit`` hands on in a subclass."""
        out: list[Any] = []
        try:
            self._feed(as_bytes(data), out.append)
        except Failure as failure:
            raise failure.error(out) from None
        return out

    def _feed(self, data: bytes, sink: Any) -> None:
        """Decodes ``data``, passing each completed frame to ``self._emit``; raises ``Failure``."""
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
        except Failure as failure:
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
            failure = Failure(NotAnEventStream, _not_an_event_stream(carry), offset)
        elif self._carry_prelude is None:
            failure = Failure(
                TruncatedStreamError,
                message("TRUNCATED_PRELUDE", at=offset, received=len(carry)),
                offset,
            )
        else:
            failure = Failure(
                TruncatedStreamError,
                message("TRUNCATED", at=offset, received=len(carry), total=self._carry_prelude[0]),
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
        except Failure as failure:
            if failure.cls is ChecksumMismatch and offset == 0 and looks_like_text(head):
                raise Failure(NotAnEventStream, _not_an_event_stream(head), offset) from None
            raise

    def _start_carry(self, rest: bytes, offset: int, prelude: tuple[int, int, int] | None) -> None:
        self._carry += rest
        self._carry_offset = offset
        self._carry_prelude = prelude

    def _fail(self, failure: Failure) -> None:
        self._failed = failure
        self._carry = bytearray()
        self._carry_prelude = None


def _not_an_event_stream(head: bytes) -> str:
    return message("NOT_AN_EVENT_STREAM", head=bytes_repr(head))


def encode_message(headers: list[tuple[str, int, Any]], payload: bytes) -> bytes:
    """Encodes one frame from ``(name, type_tag, value)`` triples already checked by the caller."""
    parts = []
    for name, tag, value in headers:
        encoded_name = name.encode("utf-8")
        if len(encoded_name) > 255:
            raise ValueError(message("NAME_TOO_LONG", name=name, length=len(encoded_name)))
        parts.append(bytes((len(encoded_name),)) + encoded_name + bytes((tag,)))
        if tag in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):
            continue
        if tag in _FIXED:
            parts.append(_FIXED[tag].pack(value))
        elif tag in (HeaderType.BYTE_ARRAY, HeaderType.STRING):
            raw = value.encode("utf-8") if tag == HeaderType.STRING else bytes(value)
            if len(raw) > 0xFFFF:
                raise ValueError(message("VALUE_TOO_LONG", name=name, length=len(raw)))
            parts.append(_U16.pack(len(raw)) + raw)
        elif tag == HeaderType.UUID:
            raw = bytes(value)
            if len(raw) != 16:
                raise ValueError(message("UUID_LENGTH"))
            parts.append(raw)
        else:
            raise ValueError(message("UNKNOWN_TYPE_TO_ENCODE", type_byte=tag))
    header_bytes = b"".join(parts)
    total = PRELUDE_LENGTH + len(header_bytes) + len(payload) + 4
    if total > 0xFFFFFFFF:
        raise ValueError(message("FRAME_TOO_LONG", length=total))
    lengths = _LENGTHS.pack(total, len(header_bytes))
    prelude = lengths + _U32.pack(zlib.crc32(lengths))
    body = prelude + header_bytes + bytes(payload)
    return body + _U32.pack(zlib.crc32(body))
