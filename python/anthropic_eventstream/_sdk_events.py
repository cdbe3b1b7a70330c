"""Bedrock frames to the installed SDK's ``ServerSentEvent`` objects: what this package knows of the SDK (its
event class, how it names chunk events, learned from the SDK itself), and ``AWSEventStreamDecoder``, the drop-in
for the SDK's decoder of the same name.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from . import _backend
from ._errors import EventStreamError
from ._eventstream_py import EventSpec, Naming
from ._framing import DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH, limits
from ._patching import SDKChangedError
from ._sdk_errors import ErrorBody, frame_error_body

if TYPE_CHECKING:
    from anthropic._streaming import ServerSentEvent

__all__ = ["FEED_WINDOW", "SDK", "AWSEventStreamDecoder", "event_layout", "sdk"]

#: ``(attribute, role, value)`` in the order the constructor sets them; role is ``"event"``, ``"data"``,
#: ``"list"`` (a fresh empty list per event) or ``"constant"`` (``value``, immutable, shared).
EventLayout = list[tuple[str, str, Any]]


def event_layout(cls: type) -> EventLayout | None:
    """How to build ``cls`` instances without running ``__init__``, or ``None`` if that cannot be done safely.

    ``ServerSentEvent.__init__`` is Python code that only stores its arguments; running it is most of the
    cost of an event. We call it once with sentinel values and learn which attributes hold the event name
    and the data; every other attribute must be an empty list (made fresh per event) or an immutable
    constant. The layout is accepted only if an instance built from it equals one built by the
    constructor, attribute for attribute. (The constructor turns an empty event name into ``None``; the
    extension sends such rare events through the constructor.)
    """
    event_sentinel, data_sentinel = "\0event", "\0data"
    try:
        attributes = cls(event=event_sentinel, data=data_sentinel).__dict__
    except (TypeError, AttributeError):
        return None
    if type(attributes) is not dict:
        return None
    layout: EventLayout = []
    for name, value in attributes.items():
        if value is event_sentinel:
            layout.append((name, "event", None))
        elif value is data_sentinel:
            layout.append((name, "data", None))
        elif type(value) is list and not value:
            layout.append((name, "list", None))
        elif isinstance(value, (type(None), bool, int, float, str, bytes)):
            layout.append((name, "constant", value))
        else:
            return None
    if [role for _, role, _ in layout].count("event") != 1 or [role for _, role, _ in layout].count("data") != 1:
        return None

    fast: Any = object.__new__(cls)
    values = {"event": "message_start", "data": "{}"}
    for name, role, value in layout:
        setattr(fast, name, [] if role == "list" else values.get(role, value))
    slow = cls(event="message_start", data="{}")
    if fast.__dict__ != slow.__dict__ or [fast.event, fast.data, fast.json()] != [slow.event, slow.data, slow.json()]:
        return None
    return layout


class _ChunkNamingProbe:
    """How the installed SDK's own Bedrock decoder names chunk events, asked of that decoder itself: three
    chunks (a typed object, a legacy completion, an object with neither) go through it, and the names it
    gives say which rule it follows. An answer that matches no known rule is reported, never guessed."""

    CHUNKS: ClassVar[tuple[str, ...]] = ('{"type":"probe"}', '{"completion":"probe"}', "{}")
    RULES: ClassVar[dict[tuple[str, ...], tuple[Naming, bool]]] = {
        ("probe", "completion"): ("type", True),  # anthropic >= 0.110 with `_chunk_bytes_to_sse`
        ("probe", "completion", "completion"): ("type", False),
        ("completion", "completion", "completion"): ("completion", False),  # anthropic < 0.110
    }

    @classmethod
    def run(cls) -> tuple[Naming, bool]:
        from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

        from .testing import chunk_frame

        body = b"".join(chunk_frame(text) for text in cls.CHUNKS)
        names = tuple(str(event.event) for event in Stock().iter_bytes(iter([body])))
        if names not in cls.RULES:
            raise SDKChangedError(
                "the installed anthropic SDK's Bedrock decoder names the chunk events "
                f"{list(cls.CHUNKS)} as {list(names)}, which matches no rule this version knows "
                "(nothing was patched)"
            )
        return cls.RULES[names]


@dataclass(frozen=True)
class SDK:
    """What this package knows of the installed anthropic SDK, learned from it once (``sdk()``)."""

    #: how its Bedrock decoder turns frames into its ``ServerSentEvent`` objects
    events: EventSpec
    #: its ``APIConnectionError``, raised for a broken or incomplete stream
    connection_error: type[Exception]


@functools.cache
def sdk() -> SDK:
    """The installed SDK's profile; ``SDKChangedError`` if it does not match what this version knows."""
    from anthropic import APIConnectionError
    from anthropic._streaming import ServerSentEvent

    class FrameErrorEvent(ServerSentEvent):
        """An ``event="error"`` built from an exception/error frame; ``json()`` keeps its status."""

        def __init__(self, body: ErrorBody) -> None:
            try:
                data = json.dumps(body)
            except (TypeError, ValueError, RecursionError):
                data = json.dumps(
                    {"type": "error", "error": {"type": repr(body["error"].get("type")), "message": repr(body)}}
                )
            super().__init__(event="error", data=data)
            self._body = body

        def json(self) -> Any:
            return self._body

    naming, skip_untyped = _ChunkNamingProbe.run()
    events = EventSpec(
        event_class=ServerSentEvent,
        naming=naming,
        skip_untyped=skip_untyped,
        error_event=lambda message: FrameErrorEvent(frame_error_body(message)),
        layout=event_layout(ServerSentEvent),
    )
    return SDK(events=events, connection_error=APIConnectionError)


#: The most bytes handed to the backend at once. A whole buffered body (a test's mock, a proxy that
#: buffers) would otherwise become one list of every event, all alive at once: slower (the cyclic GC walks
#: them all, repeatedly) and later to deliver the first event. (The native binding releases the GIL for inputs
#: of at least 64 KiB, its own threshold in rust/py/src/input.rs: a full window is decoded without the GIL.)
FEED_WINDOW = 64 * 1024


class AWSEventStreamDecoder:
    """Drop-in for the SDK's ``AWSEventStreamDecoder``, backed by this package's decoder.

    Each network chunk costs one backend call, which returns the SDK's own ``ServerSentEvent`` objects for
    every event the chunk completes; exception and error frames come back in place as ``event="error"``
    events whose body keeps every field of the frame. A corrupt stream, or one that ends inside a frame,
    raises an ``EventStreamError`` after the events before it.
    """

    def __init__(
        self,
        backend: str | None = None,
        *,
        max_headers_length: int = DEFAULT_MAX_HEADERS_LENGTH,
        max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH,
    ) -> None:
        self._module = _backend.implementation(backend)
        self._limits = limits(max_headers_length, max_payload_length)
        self._events = sdk().events

    def _decoder(self) -> Any:
        return self._module.BedrockDecoder(self._events, **self._limits)

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        """Yields an event per Bedrock chunk (and per exception/error frame), as the chunks arrive."""
        decoder = self._decoder()
        for chunk in iterator:
            # Network-sized chunks are fed inline: going through `_feed_in_windows` would pass every event
            # through a second generator frame, about 5% of an event's cost.
            if len(chunk) > FEED_WINDOW:
                yield from _feed_in_windows(decoder, chunk)
                continue
            try:
                events = decoder.feed(chunk)
            except EventStreamError as exc:
                yield from exc.messages
                raise
            yield from events
        decoder.close()

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        """The async twin of ``iter_bytes`` (decoding never waits, so it shares the sync path)."""
        decoder = self._decoder()
        async for chunk in iterator:
            for event in _feed_in_windows(decoder, chunk):
                yield event
        decoder.close()


def _feed_in_windows(decoder: Any, chunk: bytes) -> Iterator[ServerSentEvent]:
    """The events of ``chunk``, fed at most ``FEED_WINDOW`` bytes at a time; after a decoding error, the
    events decoded before it, then the error."""
    view = memoryview(chunk) if len(chunk) > FEED_WINDOW else chunk
    for start in range(0, max(len(chunk), 1), FEED_WINDOW):
        try:
            events = decoder.feed(view[start : start + FEED_WINDOW] if view is not chunk else chunk)
        except EventStreamError as exc:
            yield from exc.messages
            raise
        yield from events
