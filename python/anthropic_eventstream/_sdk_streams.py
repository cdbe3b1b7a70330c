"""One stream, as an opted-in client streams it: ``StreamDecoder`` wraps the SSE decoder underneath with the
stream's integrity check (a Messages stream must end with ``message_stop``), raises a broken or incomplete stream
as the SDK's ``APIConnectionError``, and can read the first events ahead for ``retry_before_content``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from ._errors import EventStreamError, IncompleteStreamError
from ._sdk_events import sdk

if TYPE_CHECKING:
    from anthropic._streaming import ServerSentEvent

__all__ = ["StreamDecoder"]


def _event_type(event: Any) -> str | None:
    """The Messages event type of an SSE: its name, or for SDKs that name every chunk ``completion`` (and
    for unnamed events), the ``type`` in its data."""
    if event.event not in ("completion", None):
        return event.event  # type: ignore[no-any-return]
    try:
        data = json.loads(event.data)
    except (ValueError, RecursionError, TypeError):
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else event.event


def _is_ping(event: Any) -> bool:
    """Whether an SSE is a ``ping`` (for SDKs that name every chunk ``completion``, read from its data)."""
    name = event.event
    return name == "ping" or (name in ("completion", None) and _event_type(event) == "ping")


class _Seen:
    """What the integrity check needs of a stream: its first event and its last one that is not a ``ping``."""

    __slots__ = ("first", "last")

    def __init__(self) -> None:
        self.first: Any = None
        self.last: Any = None

    def add(self, event: Any) -> None:
        if self.first is None:
            self.first = event
        if not _is_ping(event):
            self.last = event

    def check_complete(self) -> None:
        """``IncompleteStreamError`` for a stream with no event, or a Messages stream without ``message_stop``."""
        if self.first is None:
            raise IncompleteStreamError("the response ended without any event: the answer is missing")
        if _event_type(self.first) == "message_start" and _event_type(self.last) != "message_stop":
            raise IncompleteStreamError(
                f"the stream ended after a {_event_type(self.last)!r} event, without 'message_stop': "
                "the answer is incomplete"
            )


#: Events that carry no content: a stream may be sent again while it has shown only these.
_BEFORE_CONTENT = frozenset({"message_start", "content_block_start", "ping"})


class StreamDecoder:
    """The decoder an opted-in client gives each of its streams: the SSE decoder underneath (ours for
    Bedrock, the SDK's own for first-party and Vertex), plus the stream's integrity check, and every
    ``EventStreamError`` raised as the SDK's ``APIConnectionError`` for the stream's request.

    Everything a stream needs is here, in an object made for that stream, so that it keeps the behaviour it
    was created with whatever is installed or uninstalled later. With ``retry_before_content``, the client
    reads the first events ahead (``read_ahead``) before handing the stream over; they are replayed here.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        #: the stream's request, set by the client once the stream exists (see ``_bind_request``)
        self.request: Any = None
        #: events read ahead, to be replayed first; then the running source they came from
        self._replay: list[Any] = []
        self._source: Any = None
        #: an error found while reading ahead that is not to be retried: raised after the replay
        self._failure: Exception | None = None

    def _broken(self, exc: EventStreamError) -> Exception:
        return sdk().connection_error(message=f"stream broken: {exc}", request=self.request)  # type: ignore[call-arg]

    def _checked(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        seen = _Seen()
        try:
            for event in self._inner.iter_bytes(iterator):
                seen.add(event)
                yield event
            seen.check_complete()
        except EventStreamError as exc:
            raise self._broken(exc) from exc

    async def _achecked(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        seen = _Seen()
        try:
            async for event in self._inner.aiter_bytes(iterator):
                seen.add(event)
                yield event
            seen.check_complete()
        except EventStreamError as exc:
            raise self._broken(exc) from exc

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        source = self._source if self._source is not None else self._checked(iterator)
        yield from self._replay
        self._replay = []
        if self._failure is not None:
            raise self._failure
        yield from source

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        source = self._source if self._source is not None else self._achecked(iterator)
        for event in self._replay:
            yield event
        self._replay = []
        if self._failure is not None:
            raise self._failure
        async for event in source:
            yield event

    def read_ahead(self, response: Any) -> Any:
        """Reads events until the first content event; returns the error that came first (an ``error``
        event's body, or the ``APIConnectionError`` of a broken or incomplete stream), if one did."""
        self._source = self._checked(response.iter_bytes())
        try:
            for event in self._source:
                self._replay.append(event)
                if event.event == "error" or _event_type(event) not in _BEFORE_CONTENT:
                    return event if event.event == "error" else None
        except Exception as exc:
            self._failure = exc
            return exc
        return None

    async def aread_ahead(self, response: Any) -> Any:
        """The async twin of ``read_ahead``."""
        self._source = self._achecked(response.aiter_bytes())
        try:
            async for event in self._source:
                self._replay.append(event)
                if event.event == "error" or _event_type(event) not in _BEFORE_CONTENT:
                    return event if event.event == "error" else None
        except Exception as exc:
            self._failure = exc
            return exc
        return None
