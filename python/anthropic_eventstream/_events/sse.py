"""Server-sent events in pure Python: the mirror of ``rust/core/src/sse.rs``, rule for rule, with the same
exception class and messages. Both decode as the anthropic SDK's ``SSEDecoder`` does (see the Rust module's
documentation for the rules); the only departures are typed errors: ``InvalidSSE`` for a line that is not
UTF-8 (the SDK raises a bare ``UnicodeDecodeError``) and for an event longer than ``max_event_length``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidSSE
from .._frames.wire import bytes_repr, message
from .layout import Layout

__all__ = ["SSEDecoder", "SSESpec", "python_int_retry"]

_BLOCK_ENDS = (b"\r\r", b"\n\n", b"\r\n\r\n")


def python_int_retry(value: str) -> int | None:
    """The SDK's rule for a ``retry`` field: whatever ``int()`` accepts, else keep the previous one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class SSESpec:
    """How the installed SDK's ``SSEDecoder`` builds its events; both backends' ``SSEDecoder`` read it.

    ``keep_raw``: its ``ServerSentEvent`` takes the event's ``raw`` lines. ``layout``: as ``EventSpec``'s (for
    the native backend), with roles for ``id``, ``retry`` and ``raw``. ``retry(value)``: the retry a
    ``retry`` field's value gives, or ``None`` to keep the previous one.
    """

    event_class: Callable[..., Any]
    keep_raw: bool
    layout: Layout | None = None
    retry: Callable[[str], Any] = python_int_retry


def _piece_end(data: bytes, start: int) -> int:
    """Where the piece starting at ``start`` ends, as ``bytes.splitlines(keepends=True)`` cuts."""
    cr, lf = data.find(b"\r", start), data.find(b"\n", start)
    if cr < 0 and lf < 0:
        return len(data)
    if cr < 0 or 0 <= lf < cr:
        return lf + 1
    return cr + 2 if data[cr + 1 : cr + 2] == b"\n" else cr + 1


class SSEDecoder:
    """Bytes in, the SDK's ``ServerSentEvent`` objects (as ``spec`` describes them) out; with ``pairs``, each
    event as the pair ``(event, data)`` the package's stream loop reads (the name as the SDK's constructor keeps
    it, the data as UTF-8 bytes), with no object made."""

    def __init__(self, spec: SSESpec, /, *, max_event_length: int, pairs: bool = False) -> None:
        self._spec = spec
        self._pairs = pairs
        self._keep_raw = spec.keep_raw and not pairs
        self._max = max_event_length
        self._block = bytearray()
        self._block_offset = 0
        self._fed = 0
        self._event: str | None = None
        self._data: list[str] = []
        self._last_event_id: str | None = None
        self._retry: Any = None
        self._raw: list[str] = []
        self._failed: InvalidSSE | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]:
        """The events ``data`` completes; on ``InvalidSSE``, its ``messages`` holds the events before it."""
        self._check()
        chunk = bytes(data)
        out: list[Any] = []
        start = 0
        while start < len(chunk):
            end = _piece_end(chunk, start)
            self._block += chunk[start:end]
            self._fed += end - start
            start = end
            if self._block.endswith(_BLOCK_ENDS):
                self._flush(out)
        if len(self._block) > self._max:
            self._fail(
                message("SSE_EVENT_TOO_LONG", at=self._block_offset, length=len(self._block), max=self._max),
                self._block_offset,
                out,
            )
        return out

    def close(self) -> list[Any]:
        """The end of the stream: the events of what is left (an event without its blank line is dropped)."""
        self._check()
        out: list[Any] = []
        if self._block:
            self._flush(out)
        return out

    def pending(self) -> tuple[str | None, str] | None:
        """After ``close()``: the event gathered but not dispatched (a stream that ended without its last blank
        line; the SDK drops it too) as ``(event, data)``, or ``None`` (an ``id`` or ``retry`` alone is none)."""
        if self._event is None and not self._data:
            return None
        return self._event, "\n".join(self._data)

    def _check(self) -> None:
        if self._failed is not None:
            raise InvalidSSE(str(self._failed), offset=self._failed.offset)

    def _fail(self, text: str, offset: int, out: list[Any]) -> None:
        self._failed = InvalidSSE(text, offset=offset)
        raise InvalidSSE(text, offset=offset, messages=out)

    def _flush(self, out: list[Any]) -> None:
        block, offset = bytes(self._block), self._block_offset
        self._block.clear()
        self._block_offset = self._fed
        start = 0
        while start < len(block):
            end = _piece_end(block, start)
            line = block[start:end].rstrip(b"\r\n")  # a piece holds one line end, at its end
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(
                    message("SSE_NOT_UTF8", at=offset + start, line=bytes_repr(line)),
                    offset + start,
                    out,
                )
            self._line(text, out)
            start = end

    def _line(self, line: str, out: list[Any]) -> None:
        if not line:
            if not self._event and not self._data and not self._last_event_id and self._retry is None:
                self._raw = []
                return
            if self._pairs:
                out.append((self._event or None, "\n".join(self._data).encode()))
                self._event, self._data, self._retry, self._raw = None, [], None, []
                return
            fields: dict[str, Any] = {
                "event": self._event,
                "data": "\n".join(self._data),
                "id": self._last_event_id,
                "retry": self._retry,
            }
            if self._keep_raw:
                fields["raw"] = self._raw
            out.append(self._spec.event_class(**fields))
            self._event, self._data, self._retry, self._raw = None, [], None, []
            return
        if self._keep_raw:
            self._raw.append(line)
        if line.startswith(":"):
            return
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._last_event_id = value
        elif field == "retry":
            parsed = self._spec.retry(value)
            if parsed is not None:
                self._retry = parsed
