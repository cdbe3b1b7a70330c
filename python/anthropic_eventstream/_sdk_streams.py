"""One stream, as an opted-in client streams it: ``StreamDecoder`` wraps the SSE decoder underneath with the
stream's integrity check (a Messages stream must end with ``message_stop``), raises a broken or incomplete stream
as the SDK's ``APIConnectionError``, and can read the first events ahead for ``retry_before_content``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import EventStreamError, IncompleteStreamError
from ._sdk_events import DropInDecoder, abatches, batches, sdk

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
    """What the integrity check needs of a stream: its first event and its last one that is not a ``ping``,
    learned a batch of events (one network chunk's) at a time."""

    __slots__ = ("first", "last")

    def __init__(self) -> None:
        self.first: Any = None
        self.last: Any = None

    def add(self, events: Sequence[Any]) -> None:
        if not events:
            return
        if self.first is None:
            self.first = events[0]
        for event in reversed(events):
            if not _is_ping(event):
                self.last = event
                return

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
    """The decoder an opted-in client gives each of its streams: the decoder underneath (one of this package's
    drop-ins, or whatever else the client's ``_make_sse_decoder`` made), plus the stream's integrity check, and every
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

    def _batches(self, iterator: Iterator[bytes]) -> Iterator[Sequence[ServerSentEvent]]:
        inner = self._inner
        if isinstance(inner, DropInDecoder):
            return batches(inner.decoder(), iterator)
        return ((event,) for event in inner.iter_bytes(iterator))

    async def _abatches(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[Sequence[ServerSentEvent]]:
        inner = self._inner
        if isinstance(inner, DropInDecoder):
            async for events in abatches(inner.decoder(), iterator):
                yield events
        else:
            async for event in inner.aiter_bytes(iterator):
                yield (event,)

    def _checked(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        seen = _Seen()
        try:
            for events in self._batches(iterator):
                seen.add(events)
                yield from events
            seen.check_complete()
        except EventStreamError as exc:
            raise self._broken(exc) from exc

    async def _achecked(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        seen = _Seen()
        try:
            async for events in self._abatches(iterator):
                seen.add(events)
                for event in events:
                    yield event
            seen.check_complete()
        except EventStreamError as exc:
            raise self._broken(exc) from exc

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        if self._source is None:  # nothing read ahead: the checked events themselves, one generator less
            return self._checked(iterator)
        return self._replayed()

    def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        if self._source is None:
            return self._achecked(iterator)
        return self._areplayed()

    def _replayed(self) -> Iterator[ServerSentEvent]:
        yield from self._replay
        self._replay = []
        if self._failure is not None:
            raise self._failure
        yield from self._source

    async def _areplayed(self) -> AsyncIterator[ServerSentEvent]:
        for event in self._replay:
            yield event
        self._replay = []
        if self._failure is not None:
            raise self._failure
        async for event in self._source:
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
