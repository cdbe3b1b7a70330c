"""The stall watchdog behind ``stall_timeout``: a stream that shows no event other than ``ping`` for that long
is stopped, within a fraction of a second of the limit, whatever the client's read timeout.

A ``Watch`` is one stream's deadline, moved forward by each batch of events with progress in it (anything but
``ping``). Two ways to stop a stream that waits past its deadline, neither a thread per stream:

- async streams: every read of the body is bounded by the time left (``within``, an ``anyio`` cancel scope,
  so asyncio and trio alike); the read is cancelled at the deadline, as the SDK's own timeouts cancel it;
- sync streams: one watchdog thread for the whole process sleeps until the earliest deadline of all the sync
  streams it watches and, for a stream past its deadline, shuts its socket down (``socket.shutdown``), which
  wakes the blocked read at once; the reading thread then sees the ``Watch`` fired and raises the stall. A
  stream whose socket cannot be reached (a mock transport, HTTP/2, where the connection carries other
  streams too) is stopped at its next chunk instead.

The stream itself raises: ``StreamDecoder`` turns a fired ``Watch`` into the SDK's ``APITimeoutError`` whose
cause is ``StalledStreamError``.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from .._errors import StalledStreamError

__all__ = ["Watch", "check_stall_timeout", "stalled", "watch", "within"]


def check_stall_timeout(value: object) -> float | None:
    """``stall_timeout`` as given to ``install()`` / ``accelerate()``: ``None``, or a positive number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"stall_timeout must be a number of seconds or None, not {type(value).__name__}")
    if not 0 < value < float("inf"):
        raise ValueError(f"stall_timeout must be a positive, finite number of seconds, not {value!r}")
    return float(value)


def stalled(limit: float) -> StalledStreamError:
    return StalledStreamError(f"no event other than 'ping' for {limit:g} s: the stream stalled")


class Watch:
    """One stream's stall deadline. ``fired`` is set once the deadline passed with no progress; the stream reads
    it (and raises) at its next step. The clock runs only while the stream waits for bytes: while the caller
    holds the events of a batch (``pause`` / ``resume``), a slow consumer is not a stalled server."""

    __slots__ = ("_left", "_socket", "deadline", "done", "fired", "limit", "queued")

    def __init__(self, limit: float, sock: socket.socket | None) -> None:
        self.limit = limit
        self.deadline = time.monotonic() + limit
        self.fired = False
        self.done = False
        #: whether the watchdog holds it in its heap (read and written under the watchdog's lock)
        self.queued = False
        self._left = limit
        self._socket = sock

    def progress(self) -> None:
        """An event with content arrived: the stream has ``limit`` seconds again."""
        self.deadline = time.monotonic() + self.limit

    def expired(self) -> bool:
        """Whether the deadline has passed (checked after a batch of pings): fires the watch if so."""
        if not self.fired and time.monotonic() >= self.deadline:
            self.fired = True
        return self.fired

    def pause(self) -> None:
        """The caller holds the stream's events: the clock stops."""
        self._left = self.deadline - time.monotonic()
        self.deadline = math.inf

    def resume(self) -> None:
        """The caller asks for more: the clock runs again, with the time that was left."""
        self.deadline = time.monotonic() + self._left

    def fire(self) -> None:
        """Past the deadline: marks the watch and wakes a read blocked on the stream's socket."""
        self.fired = True
        sock, self._socket = self._socket, None
        if sock is not None:
            try:  # the plain socket's shutdown, also under TLS: the reading thread owns the TLS state
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:  # already closed: the read has ended anyway
                pass

    def cancel(self) -> None:
        """The stream ended: nothing to watch any more."""
        self.done = True
        self._socket = None


class _SyncWatch(Watch):
    """A sync stream's watch, kept by the watchdog thread: resuming puts it back in the heap if the watchdog
    dropped it while it was paused."""

    __slots__ = ()

    def resume(self) -> None:
        _watchdog.resume(self)


class _Watchdog:
    """The one thread that fires the sync streams' watches: a heap of ``(deadline, n, watch)``; a deadline that
    moved forward since it was pushed is pushed again when reached, so progress costs one assignment. A paused
    watch (deadline infinite) leaves the heap, and ``resume`` puts it back."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Watch]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, watch: Watch) -> None:
        with self._condition:
            self._push(watch)

    def resume(self, watch: Watch) -> None:
        with self._condition:
            Watch.resume(watch)
            if not watch.queued:
                self._push(watch)

    def _push(self, watch: Watch) -> None:
        """Called with the lock held."""
        if self._thread is None or self._pid != os.getpid():  # first use, or a forked child: no thread yet
            self._pid = os.getpid()
            self._heap = []
            self._thread = threading.Thread(target=self._run, name="anthropic-eventstream-stall", daemon=True)
            self._thread.start()
        heapq.heappush(self._heap, (watch.deadline, next(self._count), watch))
        watch.queued = True
        if self._heap[0][2] is watch:
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                due = self._due()
            for watch in due:
                watch.fire()

    def _due(self) -> list[Watch]:
        """Waits for the earliest deadline; returns the watches past theirs (called with the lock held)."""
        while True:
            while not self._heap:
                self._condition.wait()
            deadline, _, watch = self._heap[0]
            if watch.done or watch.fired or watch.deadline == math.inf:
                heapq.heappop(self._heap)
                watch.queued = False
            elif watch.deadline > deadline:
                heapq.heapreplace(self._heap, (watch.deadline, next(self._count), watch))
            elif deadline > (now := time.monotonic()):
                self._condition.wait(deadline - now)
            else:
                heapq.heappop(self._heap)
                watch.queued = False
                return [watch]


_watchdog = _Watchdog()


def _socket_of(response: Any) -> socket.socket | None:
    """The socket a sync response is read from, where shutting it down ends only this stream: HTTP/1.1 through
    httpx / httpx2 (``network_stream``, an extension of httpcore's); ``None`` for anything else."""
    if response is None or getattr(response, "http_version", None) != "HTTP/1.1":
        return None
    extensions = getattr(response, "extensions", None)
    stream = extensions.get("network_stream") if isinstance(extensions, dict) else None
    get_extra_info = getattr(stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    try:
        sock = get_extra_info("socket")
    except Exception:  # a transport's own stream with other extra info: not one to shut down
        return None
    return sock if isinstance(sock, socket.socket) else None


def watch(limit: float, response: Any, *, is_async: bool) -> Watch:
    """A new watch for a stream that starts being read now; sync ones are watched by the watchdog thread."""
    if is_async:
        return Watch(limit, None)
    found = _SyncWatch(limit, _socket_of(response))
    _watchdog.add(found)
    return found


async def within(iterator: AsyncIterator[bytes], found: Watch) -> AsyncIterator[bytes]:
    """``iterator``'s chunks, each read bounded by the time left until ``found``'s deadline; at the deadline the
    read is cancelled, ``found`` fires, and the iteration ends (the stream raises the stall)."""
    import anyio

    chunks = iterator.__aiter__()
    try:
        while True:
            with anyio.move_on_after(max(found.deadline - time.monotonic(), 0)) as scope:
                chunk = await chunks.__anext__()
            if scope.cancelled_caught:
                found.fire()
                return
            yield chunk
    except StopAsyncIteration:
        return
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
