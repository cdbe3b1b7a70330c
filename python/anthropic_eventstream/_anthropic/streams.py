"""One stream, as an opted-in client streams it: ``StreamDecoder`` wraps the SSE decoder underneath with the
stream's integrity check (a Messages stream must end with ``message_stop``), raises a broken or incomplete stream
as the SDK's ``APIConnectionError``, and can read the first events ahead for ``retry_before_content``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import EventStreamError, IncompleteStreamError, StalledStreamError
from . import stall
from .decoders import DropInDecoder, abatches, batches
from .profile import sdk
from .stall import Watch, stalled

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

    def add(self, events: Sequence[Any]) -> bool:
        """Learns a batch; returns whether it holds an event that is not a ``ping`` (progress, to the stall
        watchdog)."""
        if not events:
            return False
        if self.first is None:
            self.first = events[0]
        for event in reversed(events):
            if not _is_ping(event):
                self.last = event
                return True
        return False

    def check_complete(self, pending: tuple[str | None, str] | None = None) -> None:
        """``IncompleteStreamError`` for a stream with no event, or a Messages stream without ``message_stop``.

        ``pending`` is the SSE decoder's last event, left undispatched because the stream ended without its
        blank line (the SDK drops it too): a whole ``message_stop`` there completes the stream, since every
        event arrived; one cut inside its data does not."""
        if self.first is None:
            raise IncompleteStreamError("the response ended without any event: the answer is missing")
        if _event_type(self.first) == "message_start" and _event_type(self.last) != "message_stop":
            if pending is not None and _is_message_stop(*pending):
                return
            raise IncompleteStreamError(
                f"the stream ended after a {_event_type(self.last)!r} event, without 'message_stop': "
                "the answer is incomplete"
            )


def _is_message_stop(name: str | None, data: str) -> bool:
    """Whether an event's name and data are a whole ``message_stop`` (its JSON complete)."""
    if name not in ("message_stop", "completion", None):
        return False
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and value.get("type") == "message_stop"


#: Events that carry no content: a stream may be sent again while it has shown only these.
_BEFORE_CONTENT = frozenset({"message_start", "content_block_start", "ping"})


class StreamDecoder:
    """The decoder an opted-in client gives each of its streams: the decoder underneath (one of this package's
    drop-ins, or whatever else the client's ``_make_sse_decoder`` made), plus the stream's integrity check and,
    with ``stall_timeout``, its stall watchdog (``stall``). Every way reading the stream fails becomes the SDK's
    own exception for the stream's request, after the events before it:

    - an ``EventStreamError`` (corrupt, truncated, incomplete): ``APIConnectionError``;
    - a transport error while the body is read (the SDK's httpx / httpx2 ``RequestError``: a dropped connection,
      a broken chunked body): ``APIConnectionError``, and a read timeout ``APITimeoutError``, as the SDK raises
      them before the headers;
    - a stall: ``APITimeoutError`` whose cause is ``StalledStreamError``.

    Everything a stream needs is here, in an object made for that stream, so that it keeps the behaviour it
    was created with whatever is installed or uninstalled later. With ``retry_before_content``, the client
    reads the first events ahead (``read_ahead``) before handing the stream over; they are replayed here.
    """

    def __init__(self, inner: Any, *, stall_timeout: float | None = None) -> None:
        self._inner = inner
        self._stall_timeout = stall_timeout
        #: the stream's request and response, set by the client once the stream exists (see ``_bind_request``)
        self.request: Any = None
        self.response: Any = None
        #: events read ahead, to be replayed first; then the running source they came from
        self._replay: list[Any] = []
        self._source: Any = None
        #: an error found while reading ahead that is not to be retried: raised after the replay
        self._failure: Exception | None = None

    def _broken(self, exc: Exception, watch: Watch | None) -> tuple[Exception, Exception]:
        """The SDK's exception for what ended the stream (``exc``, raised while reading it), and its cause."""
        profile = sdk()
        if watch is not None and watch.fired:
            cause = exc if isinstance(exc, StalledStreamError) else stalled(watch.limit)
            return profile.timeout_error(request=self.request), cause  # type: ignore[call-arg]
        if isinstance(exc, EventStreamError):
            message = f"stream broken: {exc}"
        elif isinstance(exc, profile.timeout_errors):
            return profile.timeout_error(request=self.request), exc  # type: ignore[call-arg]
        else:
            message = f"Connection error while reading the stream: {exc or type(exc).__name__}"
        return profile.connection_error(message=message, request=self.request), exc  # type: ignore[call-arg]

    def _decoder(self) -> Any:
        """A fresh backend decoder, for one of this package's drop-ins; ``None`` for another decoder."""
        inner = self._inner
        return inner.decoder() if isinstance(inner, DropInDecoder) else None

    # Generated by tools/unasync.py from ``_achecked``: edit that, then run `make unasync`.
    def _checked(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        seen = _Seen()
        decoder = self._decoder()
        watch = None if self._stall_timeout is None else stall.watch(self._stall_timeout, self.response, is_async=False)
        source: Iterator[Sequence[ServerSentEvent]]
        if decoder is not None:
            source = batches(decoder, iterator)
        else:
            source = _one_by_one(self._inner.iter_bytes(iterator))
        try:
            for events in source:
                if watch is None:
                    seen.add(events)
                    yield from events
                    continue
                if seen.add(events):
                    watch.progress()
                elif watch.expired():
                    raise stalled(watch.limit)
                watch.pause()
                yield from events
                watch.resume()
            if watch is not None and watch.fired:
                raise stalled(watch.limit)
            seen.check_complete(_pending(decoder))
        except _failures() as exc:
            error, cause = self._broken(exc, watch)
            raise error from cause
        finally:
            if watch is not None:
                watch.cancel()

    async def _achecked(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        seen = _Seen()
        decoder = self._decoder()
        watch = None if self._stall_timeout is None else stall.watch(self._stall_timeout, self.response, is_async=True)
        if watch is not None:  # unasync: drop
            iterator = stall.within(iterator, watch)  # unasync: drop
        source: AsyncIterator[Sequence[ServerSentEvent]]
        if decoder is not None:
            source = abatches(decoder, iterator)
        else:
            source = _aone_by_one(self._inner.aiter_bytes(iterator))
        try:
            async for events in source:
                if watch is None:
                    seen.add(events)
                    for event in events:
                        yield event
                    continue
                if seen.add(events):
                    watch.progress()
                elif watch.expired():
                    raise stalled(watch.limit)
                watch.pause()
                for event in events:
                    yield event
                watch.resume()
            if watch is not None and watch.fired:
                raise stalled(watch.limit)
            seen.check_complete(_pending(decoder))
        except _failures() as exc:
            error, cause = self._broken(exc, watch)
            raise error from cause
        finally:
            if watch is not None:
                watch.cancel()

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        if self._source is None:  # nothing read ahead: the checked events themselves, one generator less
            return self._checked(iterator)
        return self._replayed()

    def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        if self._source is None:
            return self._achecked(iterator)
        return self._areplayed()

    # Generated by tools/unasync.py from ``_areplayed``: edit that, then run `make unasync`.
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

    # Generated by tools/unasync.py from ``aread_ahead``: edit that, then run `make unasync`.
    def read_ahead(self, response: Any) -> Any:
        """Reads events until the first content event; returns the error that came first (an ``error``
        event's body, or the SDK's exception for a broken, incomplete or stalled stream or a transport error),
        if one did."""
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
        """Reads events until the first content event; returns the error that came first (an ``error``
        event's body, or the SDK's exception for a broken, incomplete or stalled stream or a transport error),
        if one did."""
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


def _failures() -> tuple[type[Exception], ...]:
    """What reading a stream can raise that becomes the SDK's exception (``StreamDecoder._broken``)."""
    return (EventStreamError, *sdk().transport_errors)


def _pending(decoder: Any) -> tuple[str | None, str] | None:
    """The SSE decoder's undispatched last event (``SSEDecoder.pending``), once the stream has ended."""
    pending = getattr(decoder, "pending", None)
    return None if pending is None else pending()


# Generated by tools/unasync.py from ``_aone_by_one``: edit that, then run `make unasync`.
def _one_by_one(events: Iterator[ServerSentEvent]) -> Iterator[Sequence[ServerSentEvent]]:
    for event in events:
        yield (event,)


async def _aone_by_one(events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Sequence[ServerSentEvent]]:
    async for event in events:
        yield (event,)
