"""One stream, as an opted-in client streams it: ``StreamDecoder`` wraps the SSE decoder underneath with the
stream's integrity check (a Messages stream must end with ``message_stop``), raises a broken or incomplete stream
as the SDK's ``APIConnectionError``, and can read the first events ahead for ``retry_before_content``.

It gives the events two ways: one by one as the SDK's ``ServerSentEvent`` objects (``iter_bytes``, for the SDK's
own stream loop), or a network chunk's at a time as ``(event, data)`` pairs (``batches``, for this package's
loop, which needs nothing else of an event: no object is made, and the data stays the bytes it arrived as).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import EventStreamError, IncompleteStreamError, StalledStreamError
from .._events.feed import DropInDecoder, abatches, batches
from . import stall
from .stall import Watch, stalled

__all__ = ["StreamDecoder", "StreamSDK"]


@dataclass(frozen=True)
class StreamSDK:
    """What a stream's policy needs of the SDK that carries it, learned from the installed SDK by its adapter
    (``_anthropic.body.stream_sdk``), so that nothing here depends on a release."""

    #: its ``APIConnectionError``, raised for a broken or incomplete stream and a transport error mid-stream
    connection_error: type[Exception]
    #: its ``APITimeoutError``, raised for a read timeout mid-stream and a stall
    timeout_error: type[Exception]
    #: what its HTTP library raises for a failure while a body is read, and for a timeout among those
    transport_errors: tuple[type[Exception], ...]
    timeout_errors: tuple[type[Exception], ...]
    #: a response's body, chunk by chunk, read as its streams read it: ``(response, client, *, is_async) -> chunks``
    body: Callable[..., Any]
    #: its ``error`` event for an error's data text (an error read ahead as a pair)
    error_event: Callable[[str], Any]
    #: the socket a response is read from, where shutting it down ends only this stream (the stall watchdog's
    #: way to end a blocked read), or ``None``
    socket_of: Callable[[Any], Any]


#: An event as this package's loop reads it (``batches``): its name, and its data as UTF-8 bytes (for an
#: exception or error frame's event, the event itself: its ``json()`` keeps the frame's status).
Pair = tuple[str | None, Any]


def _fields(event: Any) -> Pair:
    """An event as the integrity check reads it, its name and data (text, or a pair's data): a pair as it is,
    an SSE object's attributes."""
    return event if type(event) is tuple else (event.event, event.data)


def _event_type(fields: Pair) -> str | None:
    """The Messages event type of an SSE: its name, or for SDKs that name every chunk ``completion`` (and
    for unnamed events), the ``type`` in its data."""
    name, data = fields
    if name not in ("completion", None):
        return name
    try:
        value = json.loads(data.decode() if isinstance(data, bytes) else data)
    except (ValueError, RecursionError, TypeError):
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else name


def _is_ping(fields: Pair) -> bool:
    """Whether an SSE is a ``ping`` (for SDKs that name every chunk ``completion``, read from its data)."""
    name = fields[0]
    return name == "ping" or (name in ("completion", None) and _event_type(fields) == "ping")


class _Seen:
    """What the integrity check needs of a stream: its first event and its last one that is not a ``ping`` (their
    ``_fields``), learned a batch of events (one network chunk's) at a time."""

    __slots__ = ("first", "last")

    def __init__(self) -> None:
        self.first: Pair | None = None
        self.last: Pair | None = None

    def add(self, events: Sequence[Any]) -> bool:
        """Learns a batch; returns whether it holds an event that is not a ``ping`` (progress, to the stall
        watchdog)."""
        if not events:
            return False
        if self.first is None:
            self.first = _fields(events[0])
        for event in reversed(events):
            fields = _fields(event)
            if not _is_ping(fields):
                self.last = fields
                return True
        return False

    @property
    def complete(self) -> bool:
        """Whether the last event that is not a ``ping`` is ``message_stop``: every event of the answer arrived."""
        return self.last is not None and _event_type(self.last) == "message_stop"

    def check_complete(self, pending: tuple[str | None, str] | None = None) -> None:
        """``IncompleteStreamError`` for a stream with no event, or a Messages stream without ``message_stop``.

        ``pending`` is the SSE decoder's last event, left undispatched because the stream ended without its
        blank line (the SDK drops it too): a whole ``message_stop`` there completes the stream, since every
        event arrived; one cut inside its data does not."""
        if self.first is None:
            raise IncompleteStreamError("the response ended without any event: the answer is missing")
        last = None if self.last is None else _event_type(self.last)
        if _event_type(self.first) == "message_start" and last != "message_stop":
            if pending is not None and _is_message_stop(*pending):
                return
            raise IncompleteStreamError(
                f"the stream ended after a {last!r} event, without 'message_stop': the answer is incomplete"
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
      them before the headers (from anthropic 2.17 the SDK's own body reader raises those itself, and they pass
      through unchanged);
    - a stall: ``APITimeoutError`` whose cause is ``StalledStreamError``.

    Everything a stream needs is here, in an object made for that stream, so that it keeps the behaviour it
    was created with whatever is installed or uninstalled later. With ``retry_before_content``, the client
    reads the first events ahead (``read_ahead``) before handing the stream over; they are replayed here.
    """

    def __init__(self, inner: Any, *, sdk: StreamSDK, stall_timeout: float | None = None) -> None:
        self._inner = inner
        self._sdk = sdk
        #: what reading the stream can raise that becomes the SDK's exception (``_broken``): the SDK's own
        #: connection errors too, from its typed body reader, so that a stall the watchdog ended is still a stall
        self._failures: tuple[type[Exception], ...] = (
            EventStreamError,
            *sdk.transport_errors,
            sdk.connection_error,
        )
        self._stall_timeout = stall_timeout
        #: the stream's request and response, set by the client once the stream exists (see ``_bind_request``)
        self.request: Any = None
        self.response: Any = None
        #: batches of events read ahead, to be replayed first; then the running source they came from
        self._replay: list[Sequence[Any]] = []
        self._source: Any = None
        #: an error found while reading ahead that is not to be retried: raised after the replay
        self._failure: Exception | None = None
        #: whether the events are decoded as ``(event, data)`` pairs, for ``batches`` (``loop.take_over`` sets
        #: it, before anything is read); otherwise as the SDK's objects, for ``iter_bytes``
        self.pairs = False

    def _broken(self, exc: Exception, watch: Watch | None) -> tuple[Exception, BaseException | None]:
        """The SDK's exception for what ended the stream (``exc``, raised while reading it), and its cause."""
        profile = self._sdk
        if watch is not None and watch.fired:
            cause = exc if isinstance(exc, StalledStreamError) else stalled(watch.limit)
            return profile.timeout_error(request=self.request), cause  # type: ignore[call-arg]
        if isinstance(exc, profile.connection_error):  # the SDK's own body reader typed it (anthropic >= 2.17)
            return exc, exc.__cause__
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
        return inner.decoder(pairs=self.pairs) if isinstance(inner, DropInDecoder) else None

    @property
    def gives_pairs(self) -> bool:
        """Whether this decoder can give its stream's events as pairs (``batches``): over one of this package's
        drop-ins (another decoder gives its own objects), before anything is read."""
        return isinstance(self._inner, DropInDecoder) and self._source is None

    # Generated by tools/unasync.py from ``_achecked``: edit that, then run `make unasync`.
    def _checked(self, iterator: Iterator[bytes]) -> Iterator[Sequence[Any]]:
        """The events of each network chunk (pairs, with ``pairs``), with the stream's checks."""
        seen = _Seen()
        decoder = self._decoder()
        watch = (
            None
            if self._stall_timeout is None
            else stall.watch(self._stall_timeout, self._sdk.socket_of(self.response), is_async=False)
        )
        source: Iterator[Sequence[Any]]
        if decoder is not None:
            source = batches(decoder, iterator)
        else:
            source = _one_by_one(self._inner.iter_bytes(iterator))
        try:
            for events in source:
                if watch is None or watch.done:
                    seen.add(events)
                    yield events
                    continue
                progress = seen.add(events)
                if progress and seen.complete:  # the rest drains under the SDK's own read timeout only
                    watch.cancel()
                    yield events
                    continue
                if watch.arrived(progress):
                    raise stalled(watch.limit)
                yield events
                watch.resume()
            if watch is not None and watch.fired and not seen.complete:
                raise stalled(watch.limit)
            seen.check_complete(_pending(decoder))
        except self._failures as exc:
            if watch is not None and watch.fired and seen.complete:
                return  # every event arrived before the watchdog ended a read it judged blocked
            error, cause = self._broken(exc, watch)
            if error is exc:
                raise
            raise error from cause
        finally:
            if watch is not None:
                watch.cancel()

    async def _achecked(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[Sequence[Any]]:
        """The events of each network chunk (pairs, with ``pairs``), with the stream's checks."""
        seen = _Seen()
        decoder = self._decoder()
        watch = (
            None
            if self._stall_timeout is None
            else stall.watch(self._stall_timeout, self._sdk.socket_of(self.response), is_async=True)
        )
        if watch is not None and watch.unreachable:  # unasync: drop
            iterator = stall.cancellable(iterator, watch)  # unasync: drop
        source: AsyncIterator[Sequence[Any]]
        if decoder is not None:
            source = abatches(decoder, iterator)
        else:
            source = _aone_by_one(self._inner.aiter_bytes(iterator))
        try:
            async for events in source:
                if watch is None or watch.done:
                    seen.add(events)
                    yield events
                    continue
                progress = seen.add(events)
                if progress and seen.complete:  # the rest drains under the SDK's own read timeout only
                    watch.cancel()
                    yield events
                    continue
                if watch.arrived(progress):
                    raise stalled(watch.limit)
                yield events
                watch.resume()
            if watch is not None and watch.fired and not seen.complete:
                raise stalled(watch.limit)
            seen.check_complete(_pending(decoder))
        except self._failures as exc:
            if watch is not None and watch.fired and seen.complete:
                return  # every event arrived before the watchdog ended a read it judged blocked
            error, cause = self._broken(exc, watch)
            if error is exc:
                raise
            raise error from cause
        finally:
            if watch is not None:
                watch.cancel()

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[Any]:
        """The events one by one, as the SDK's ``ServerSentEvent`` objects: what the SDK's own loop reads."""
        return _flat(self._checked(iterator) if self._source is None else self._replayed())

    def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[Any]:
        return _aflat(self._achecked(iterator) if self._source is None else self._areplayed())

    def batches(self, response: Any, client: Any) -> Iterator[Sequence[Pair]]:
        """The events of ``response`` a network chunk at a time, as ``(event, data)`` pairs (``pairs`` set before
        the first read): what this package's loop reads, in place of the stream's ``_iter_events``, from the body
        as that reads it (``StreamSDK.body``)."""
        return (
            self._checked(self._sdk.body(response, client, is_async=False))
            if self._source is None
            else self._replayed()
        )

    def abatches(self, response: Any, client: Any) -> AsyncIterator[Sequence[Pair]]:
        return (
            self._achecked(self._sdk.body(response, client, is_async=True))
            if self._source is None
            else self._areplayed()
        )

    # Generated by tools/unasync.py from ``_areplayed``: edit that, then run `make unasync`.
    def _replayed(self) -> Iterator[Sequence[Any]]:
        yield from self._replay
        self._replay = []
        if self._failure is not None:
            raise self._failure
        yield from self._source

    async def _areplayed(self) -> AsyncIterator[Sequence[Any]]:
        for events in self._replay:
            yield events
        self._replay = []
        if self._failure is not None:
            raise self._failure
        async for events in self._source:
            yield events

    # Generated by tools/unasync.py from ``aread_ahead``: edit that, then run `make unasync`.
    def read_ahead(self, response: Any, client: Any) -> Any:
        """Reads events until the first content event; returns the error that came first (an ``error``
        event, as the SDK's ``ServerSentEvent``, or the SDK's exception for a broken, incomplete or stalled
        stream or a transport error), if one did."""
        self._source = self._checked(self._sdk.body(response, client, is_async=False))
        try:
            for events in self._source:
                self._replay.append(events)
                found = _content_or_error(events, self._sdk.error_event)
                if found is not _NOTHING_YET:
                    return found
        except Exception as exc:
            self._failure = exc
            return exc
        return None

    async def aread_ahead(self, response: Any, client: Any) -> Any:
        """Reads events until the first content event; returns the error that came first (an ``error``
        event, as the SDK's ``ServerSentEvent``, or the SDK's exception for a broken, incomplete or stalled
        stream or a transport error), if one did."""
        self._source = self._achecked(self._sdk.body(response, client, is_async=True))
        try:
            async for events in self._source:
                self._replay.append(events)
                found = _content_or_error(events, self._sdk.error_event)
                if found is not _NOTHING_YET:
                    return found
        except Exception as exc:
            self._failure = exc
            return exc
        return None


_NOTHING_YET = object()


def _content_or_error(events: Sequence[Any], error_event: Callable[[str], Any]) -> Any:
    """What reading ahead stops at in a batch: its first ``error`` event (an SDK event: made from a pair's data by
    ``error_event``, or the event in a pair's data's place), or ``None`` at its first content event;
    ``_NOTHING_YET`` if it has neither."""
    for event in events:
        fields = _fields(event)
        if fields[0] == "error":
            data = fields[1]
            if type(event) is not tuple:
                return event
            return error_event(data.decode()) if isinstance(data, bytes) else data
        if _event_type(fields) not in _BEFORE_CONTENT:
            return None
    return _NOTHING_YET


def _pending(decoder: Any) -> tuple[str | None, str] | None:
    """The SSE decoder's undispatched last event (``SSEDecoder.pending``), once the stream has ended."""
    pending = getattr(decoder, "pending", None)
    return None if pending is None else pending()


# Generated by tools/unasync.py from ``_aone_by_one``: edit that, then run `make unasync`.
def _one_by_one(events: Iterator[Any]) -> Iterator[Sequence[Any]]:
    for event in events:
        yield (event,)


async def _aone_by_one(events: AsyncIterator[Any]) -> AsyncIterator[Sequence[Any]]:
    async for event in events:
        yield (event,)


# Generated by tools/unasync.py from ``_aflat``: edit that, then run `make unasync`.
def _flat(batches: Iterator[Sequence[Any]]) -> Iterator[Any]:
    for events in batches:
        yield from events


async def _aflat(batches: AsyncIterator[Sequence[Any]]) -> AsyncIterator[Any]:
    async for events in batches:
        for event in events:
            yield event
