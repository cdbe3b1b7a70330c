"""Bedrock's ``chunk`` layer in pure Python: frames -> the SDK's events, the mirror of ``rust/core/src/bedrock.rs``.

It is also the reference the native backend defers to for every chunk it cannot decide exactly
(``EventSpec.reference``): it follows the stock SDK (botocore's JSON parser, ``base64``, ``bytes.decode()``,
``json.loads``) and raises ``InvalidChunk`` where the SDK would drop or garble a chunk.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .._errors import InvalidChunk
from .._frames.reference import Decoder, Failure, Message, encode_message
from .._frames.wire import HeaderType, bytes_repr, message
from .layout import Layout

__all__ = ["BedrockDecoder", "EventSpec", "Naming", "chunk_frame", "decode_chunk", "event_name", "event_pair"]


def _invalid_chunk(reason: str, payload: bytes, offset: int) -> Failure:
    return Failure(
        InvalidChunk,
        message("INVALID_CHUNK", at=offset, reason=reason, head=bytes_repr(payload)),
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
    layout: Layout | None = None

    def chunk_event(self, payload: bytes, offset: int) -> Any:
        """The event of one ``chunk`` frame's payload, or ``None`` if the SDK drops it; raises ``Failure``."""
        text = decode_chunk(payload, offset)
        name = event_name(text, naming=self.naming, skip_untyped=self.skip_untyped)
        return None if name is None else self.event_class(event=name, data=text)

    def reference(self, payload: bytes, offset: int) -> Any:
        """``chunk_event`` for the native backend, for each chunk it does not decide itself: raises the public
        ``InvalidChunk``."""
        try:
            return self.chunk_event(payload, offset)
        except Failure as failure:
            raise failure.error() from None


def event_pair(event: Any) -> tuple[str | None, bytes]:
    """An event as the pair ``(event, data)`` the package's stream loop reads: its name as the SDK keeps it,
    its data as UTF-8 bytes (what ``validate_json`` reads fastest)."""
    return event.event, event.data.encode()


class BedrockDecoder(Decoder):
    """Bedrock's ``chunk`` layer: bytes in, the SDK's events (as ``spec`` describes them) out. As in the stock
    decoder, ``exception`` and ``error`` frames are errors, handed in order to ``spec.error_event``, and any
    other frame whose ``:event-type`` is ``chunk`` is a chunk, whatever its ``:message-type``. With ``pairs``,
    each chunk's event is given as ``event_pair`` makes it, and an error frame's as ``(event, the event)``."""

    def __init__(
        self, spec: EventSpec, /, *, max_headers_length: int, max_payload_length: int, pairs: bool = False
    ) -> None:
        super().__init__(max_headers_length=max_headers_length, max_payload_length=max_payload_length)
        self._spec = spec
        self._pairs = pairs

    def close(self) -> list[Any]:  # type: ignore[override]
        """The end of the stream: raises ``TruncatedStreamError`` inside a frame; no event is left to give."""
        super().close()
        return []

    def _emit(self, sink: Any, message: Message, offset: int) -> None:
        headers = message.headers
        if headers.get(":message-type") in ("exception", "error"):
            event = self._spec.error_event(message)
            # With pairs, the event itself in the data's place: its ``json()`` carries the frame's status.
            sink((event.event, event) if self._pairs else event)
            return
        if headers.get(":event-type") == "chunk":
            event = self._spec.chunk_event(message.payload, offset)
            if event is None:
                return
        else:
            return
        sink(event_pair(event) if self._pairs else event)


def chunk_frame(event: Any, *, padding: str = "abcdefgh") -> bytes:
    """A Bedrock ``chunk`` frame carrying one Anthropic event (a dict, or JSON text sent as is), as Bedrock
    sends it: the JSON base64-encoded under ``bytes``, beside a ``p`` padding field."""
    text = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
    payload = json.dumps({"bytes": base64.b64encode(text.encode()).decode(), "p": padding}, separators=(",", ":"))
    headers = [(":event-type", "chunk"), (":content-type", "application/json"), (":message-type", "event")]
    return encode_message([(name, HeaderType.STRING, value) for name, value in headers], payload.encode())
