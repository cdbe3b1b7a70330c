"""The stall watchdog behind ``stall_timeout``: a stream whose server sends no event other than ``ping`` for that
long is stopped, soon after the limit, whatever the client's read timeout. No thread per stream.

What counts as a stall:

- The clock runs only while the stream waits for its next network chunk, from the caller asking for more until
  a chunk's events arrive. While the caller holds the events (a slow consumer), it stops.
- A chunk with an event other than ``ping`` is progress, however late the reading task ran. Pings are not, and
  neither are the bytes of an event that never completes: a server that sends half an event and goes quiet has
  stalled, as one that sends nothing.
- Once the answer is complete (``message_stop``), the watchdog stops: the rest of the body (its last chunk, the
  close) drains under the SDK's own read timeout, as stock.
- A deadline that passed is not yet a stall. The stream is stopped only when its read is really blocked: nothing
  waits in its socket, and the task or thread reading it has had its turn. So a busy event loop or a thread
  that waited for the GIL never turns a late read into a stall. A stall is caught within ``stall_timeout`` plus
  the time the stream's loop (or thread) takes to run the look and end the read: on a loop that runs late, about
  two of its rounds of callbacks.

How: one watchdog thread for the process keeps every watched stream's deadline in a heap (progress costs an
assignment; a deadline that moved is pushed again when reached), waking on a grid of ``TICK``. At a deadline it
looks at the stream (``Watch.look``) where the stream runs, and the verdict is reached there:

- the standard library's asyncio loops (``Watch._verdict``): the look is handed to the stream's loop
  (``call_soon_threadsafe``). The task reading the stream waiting on a future nothing completed (its
  ``_fut_waiter``: the loop completes a read's future as it reads the bytes) with nothing waiting in the socket
  is blocked: a stall. Bytes waiting in the socket are read first: the verdict is taken again after the loop's
  next poll of its sockets (a timer due now runs after the reads that poll starts). Bytes handed to the task but
  not yet read by it: again after every wakeup already scheduled (``call_soon``), a stall if it has read more
  chunks since, with no progress.
- sync streams, other loops (trio's and uvloop's, reached with ``run_sync_soon`` / ``call_soon_threadsafe``),
  and async streams whose socket cannot be reached (``Watch._stalled``): two looks ``GRACE`` apart, or as far apart as the first ran late (a wait for the GIL, the
  loop's lag). A stall if the stream read two chunks or more since the first, with no progress, or nothing
  waits in its socket. (A thread whose ``recv`` returned just before the first look may not have handed its
  chunk on yet: that chunk does not count.)

A stalled stream's socket is shut down (``socket.shutdown``), which ends its blocked read at once, sync or async;
the stream then raises the stall (``StreamDecoder``: the SDK's ``APITimeoutError``, cause
``StalledStreamError``). Where no socket can be reached (HTTP/2, where the connection carries other streams too;
a mock transport), an async stream's reads run in a cancel scope the verdict cancels (``cancellable``), and a
sync stream is stopped at its next chunk unless that chunk makes progress.
"""

from __future__ import annotations

import asyncio
import heapq
import importlib
import itertools
import logging
import math
import os
import select
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from .._errors import StalledStreamError

__all__ = ["GRACE", "NO_GIL", "TICK", "Watch", "cancellable", "check_stall_timeout", "stalled", "watch"]

#: Seconds between a sync stream's two looks (``Watch._stalled``): the time a thread whose read returned has to take
#: the GIL and hand its chunk on; also the least time between two looks at a stream that is not stalled yet.
GRACE = 0.05


#: The watchdog thread's wake-ups fall on a grid of this many seconds (``_Watchdog._due``).
TICK = 0.02

#: Free-threaded CPython running without its GIL. ``Watch.resume``'s lock-free hand-off (store the deadline, then
#: load ``queued``, against the watchdog's store then load) needs the two threads' store-load order, which only
#: the GIL's switches give; without the GIL every resume takes the lock. Read once: a GIL that was on at import
#: stays on (CPython enables it at run time, never disables it).
NO_GIL: bool = not getattr(sys, "_is_gil_enabled", lambda: True)()


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
    """One stream's stall deadline, kept by the watchdog thread.

    The stream calls ``arrived`` for each network chunk's events (the clock stops while the caller holds them),
    ``resume`` when the caller asks for more, and ``cancel`` when it needs watching no more. ``fired`` is set by
    the verdict; the stream raises the stall at its next step."""

    __slots__ = (
        "_left",
        "_loop",
        "_post",
        "_socket",
        "_task",
        "deadline",
        "done",
        "drained",
        "fired",
        "limit",
        "queued",
        "reads",
        "scope",
        "unreachable",
    )

    def __init__(self, limit: float, sock: Any, loop: Any = None, post: Any = None) -> None:
        self.limit = limit
        self.deadline = time.monotonic() + limit
        self.fired = False
        self.done = False
        #: network chunks read so far, and their count when a stall was first suspected (``None``: not suspected)
        self.reads = 0
        self.drained: int | None = None
        #: whether the watchdog holds it, in its heap or in a look (read and written under the watchdog's lock)
        self.queued = False
        #: an async socketless stream's read in progress, cancelled by the verdict (``cancellable``)
        self.scope: Any = None
        self._left = limit
        self._socket = sock
        #: whether no socket can be reached to end a blocked read (see the module's docstring)
        self.unreachable = sock is None
        #: the asyncio loop the stream runs on, and the task reading it as of its latest ``resume``
        self._loop = loop
        self._task: Any = None
        #: how a look reaches the stream's event loop from the watchdog thread (``None``: a sync stream)
        self._post: Callable[[Callable[[], None]], Any] | None = loop.call_soon_threadsafe if loop else post

    def arrived(self, progress: bool) -> bool:
        """A network chunk's events arrived (``progress``: one of them is not a ``ping``); the caller holds them now,
        and the clock stops. Returns whether the stream has stalled: the verdict came while it waited, and this
        chunk brought no progress (a socketless sync stream's late progress takes the verdict back)."""
        self.reads += 1
        if progress:
            self._left = self.limit
            self.drained = None
            if self.unreachable:
                self.fired = False
        else:
            self._left = self.deadline - time.monotonic()
        self.deadline = math.inf
        return self.fired and not progress

    def resume(self) -> None:
        """The caller asks for more: the clock runs again, with the time that was left. No lock while the watchdog
        holds the watch (the common case): the deadline is set before ``queued`` is read, and the watchdog clears
        ``queued`` before it reads the deadline (``_Watchdog._drop_held``), so one of the two puts it back. Without
        a GIL (``NO_GIL``), under the lock."""
        if self._loop is not None:
            self._task = asyncio.current_task()
        self.deadline = time.monotonic() + self._left
        if NO_GIL or not self.queued:
            _watchdog.requeue(self)

    def cancel(self) -> None:
        """The stream ended, or its answer is complete: nothing to watch any more."""
        self.done = True
        self._socket = None

    def look(self, due: float) -> None:
        """The look due at ``due`` (called by the watchdog thread): the verdict, where the stream runs."""
        if self._post is None:
            self._look(due)
            return
        try:
            self._post(lambda: _guarded(self._look, due))
        except RuntimeError:  # the stream's event loop is closed (trio's RunFinishedError is one too)
            self.cancel()
            _watchdog.drop(self)

    def _overdue(self) -> bool:
        """Whether the stream waits past its deadline; if not, the watchdog takes it back (or drops it: ended, or
        held by the caller, whose ``resume`` brings it back)."""
        if self.done or self.fired or self.deadline > time.monotonic():
            _watchdog.drop(self)
            return False
        return True

    def _look(self, due: float) -> None:
        if not self._overdue():
            return
        if self._loop is not None:  # asyncio: the verdict in the loop's own order
            self._verdict()
        elif self._stalled():
            self._fire()
        else:  # the next look: GRACE later, or as late as this one ran (the GIL's wait, the loop's lag)
            now = time.monotonic()
            _watchdog.push(self, now + max(GRACE, now - due))

    def _stalled(self) -> bool:
        """The verdict of a sync (or trio) stream past its deadline, in two looks ``GRACE`` apart: whether it read
        nothing since the first and nothing waits in its socket (its read was blocked all along), or it read what
        waited then and more since, with no progress. The reader may have taken one chunk from the socket just
        before the first look without having handed it on yet: that chunk does not count."""
        waiting = _waiting(self._socket)
        if self.drained is None:
            self.drained = self.reads
            return False
        return self.reads - self.drained >= 2 or not waiting

    # asyncio: a timer due now runs after the reads the loop's next poll of its sockets starts, and ``call_soon``
    # after every wakeup those reads scheduled; a task waiting on a future nothing completed has been handed
    # nothing (the loop completes a read's future as it reads the bytes).

    def _verdict(self) -> None:
        """With bytes waiting in the socket, the verdict after the loop read them (``_after_reads``); else at once
        (``_judge``)."""
        if _waiting(self._socket):
            self._loop.call_later(0, self._after_reads)
        else:
            self._judge()

    def _after_reads(self) -> None:
        """After the loop read what waited in its sockets (new bytes may wait by now: they have no say)."""
        if self._overdue():
            self._judge()

    def _judge(self) -> None:
        """A stall if the task reading the stream is blocked; else, with bytes handed to it, the verdict after it
        had its turn (``_after_wakeups``)."""
        if _blocked(self._task):
            self._fire()
        else:
            self.drained = self.reads
            self._loop.call_soon(self._after_wakeups, 3)

    def _after_wakeups(self, tries: int) -> None:
        """After the wakeups the reads scheduled: a stall if the task has read what was handed to it with no
        progress, or is blocked; else (a task in another wait) looked at again after its next turn."""
        if not self._overdue():
            return
        read_more = self.drained is not None and self.reads > self.drained
        if _blocked(self._task) or read_more or (tries == 0 and not _waiting(self._socket)):
            self._fire()
        elif tries:
            self._loop.call_soon(self._after_wakeups, tries - 1)
        else:
            _watchdog.push(self, time.monotonic() + GRACE)

    def _fire(self) -> None:
        self.fire()
        _watchdog.drop(self)

    def fire(self) -> None:
        """Stalled: marks the watch and ends a read blocked on the stream's socket (or in its cancel scope)."""
        self.fired = True
        scope, self.scope = self.scope, None
        if scope is not None:
            scope.cancel()
        sock, self._socket = self._socket, None
        if sock is not None:
            _shutdown(sock)


class _Watchdog:
    """The one thread that looks at the watched streams at their deadlines: a heap of ``(due, n, watch)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Watch]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, watch: Watch) -> None:
        self.push(watch, watch.deadline)

    def requeue(self, watch: Watch) -> None:
        """A resumed watch the watchdog does not hold: back into the heap at its deadline."""
        with self._lock:
            if not watch.queued and not watch.done and not watch.fired:
                self._push(watch, watch.deadline)

    def push(self, watch: Watch, due: float) -> None:
        with self._lock:
            self._push(watch, due)

    def drop(self, watch: Watch) -> None:
        """A look found nothing to watch for now: ``resume`` puts the watch back."""
        with self._lock:
            self._drop_held(watch)

    def _drop_held(self, watch: Watch) -> None:
        """Lets a watch go (called with the lock held); one resumed meanwhile goes back into the heap."""
        watch.queued = False
        if watch.deadline != math.inf and not watch.done and not watch.fired:
            self._push(watch, watch.deadline)

    def _push(self, watch: Watch, due: float) -> None:
        """Called with the lock held."""
        if self._thread is None or self._pid != os.getpid():  # first use, or a forked child: no thread yet
            self._pid = os.getpid()
            self._heap = []
            self._thread = threading.Thread(target=self._run, name="anthropic-eventstream-stall", daemon=True)
            self._thread.start()
        heapq.heappush(self._heap, (due, next(self._count), watch))
        watch.queued = True
        if self._heap[0][2] is watch:
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                due, watch = self._due()
            _guarded(watch.look, due)

    def _due(self) -> tuple[float, Watch]:
        """Waits for the earliest due watch and takes it out of the heap (called with the lock held); the watch
        stays ``queued`` until its look puts it back or drops it."""
        while True:
            while not self._heap:
                self._condition.wait()
            due, _, watch = self._heap[0]
            if watch.done or watch.fired or watch.deadline == math.inf:
                heapq.heappop(self._heap)
                self._drop_held(watch)
            elif watch.deadline > due:
                heapq.heapreplace(self._heap, (watch.deadline, next(self._count), watch))
            elif due > (now := time.monotonic()):
                # Woken on a grid of TICK: the deadlines of many streams due in the same tick take one wake-up
                # (and one turn of the GIL) between them; a stall is still caught within a tick of its limit.
                self._condition.wait(due - now + TICK - due % TICK)
            else:
                heapq.heappop(self._heap)
                return due, watch


_watchdog = _Watchdog()


def _guarded(look: Callable[[float], None], due: float) -> None:
    """A look, which never breaks the thread or the loop it runs on: a failure in it is logged, and leaves the
    stream to the SDK's own read timeout."""
    try:
        look(due)
    except Exception:
        logging.getLogger("anthropic_eventstream").exception("anthropic_eventstream: the stall watchdog failed")


def _event_loop() -> tuple[Any, Callable[[Callable[[], None]], Any] | None]:
    """The running event loop, as ``Watch`` takes it: an asyncio loop of the standard library's (whose order of
    callbacks the verdict relies on, ``Watch._verdict``), or else how to reach the running loop from another
    thread (another asyncio loop, uvloop's say, whose timers run before its reads; trio)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        trio: Any = importlib.import_module("trio")
        return None, trio.lowlevel.current_trio_token().run_sync_soon
    if isinstance(loop, asyncio.BaseEventLoop):
        return loop, None
    return None, loop.call_soon_threadsafe


def _blocked(task: Any) -> bool:
    """Whether an asyncio task waits on a future nothing completed yet (its read blocked, nothing handed to it);
    ``False`` where that cannot be told (no task, or no ``_fut_waiter``: another loop's tasks)."""
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and not waiter.done()


def _waiting(sock: Any) -> bool:
    """Whether bytes (or the end of the connection) wait in ``sock`` to be read; ``False`` without a socket."""
    if sock is None:
        return False
    try:
        fd = sock.fileno()
        if fd < 0:  # closed under the stream: its read ends by itself
            return True
        if hasattr(select, "poll"):  # any descriptor number (select() stops at FD_SETSIZE)
            poller = select.poll()
            poller.register(fd, select.POLLIN | select.POLLPRI)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _shutdown(sock: Any) -> None:
    """Shuts ``sock`` down for both directions: its blocked read ends at once. The plain socket's ``shutdown``, also
    under TLS (the reading thread owns the TLS state); for an event loop's stand-in for its transport's socket
    (asyncio's ``TransportSocket``, uvloop's ``PseudoSocket``, which refuses ``shutdown``), a duplicate of its
    descriptor's, which shuts down the same connection."""
    try:
        if isinstance(sock, socket.socket):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
            return
        with socket.fromfd(sock.fileno(), getattr(sock, "family", socket.AF_INET), socket.SOCK_STREAM) as dup:
            dup.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):  # already closed: the read has ended anyway
        pass


def watch(limit: float, sock: Any, *, is_async: bool) -> Watch:
    """A new watch for a stream that starts being read now (an async one from its event loop's thread), from
    ``sock``, the socket it is read from where shutting that down ends only this stream (``StreamSDK.socket_of``),
    or ``None``."""
    loop: Any
    loop, post = _event_loop() if is_async else (None, None)
    if sock is None and loop is not None:  # bytes waiting unseen: the verdict cannot rely on the loop's order
        loop, post = None, loop.call_soon_threadsafe
    found = Watch(limit, sock, loop, post)
    if found._loop is not None:
        found._task = asyncio.current_task()
    _watchdog.add(found)
    return found


async def cancellable(iterator: AsyncIterator[bytes], found: Watch) -> AsyncIterator[bytes]:
    """``iterator``'s chunks, for an async stream whose socket cannot be reached: each read in a cancel scope of
    its own, which the verdict cancels (the iteration then ends, and the stream raises the stall). Once the watch
    is done (the answer is complete), reads are no longer wrapped."""
    import anyio

    chunks = iterator.__aiter__()
    try:
        while not found.done:
            with anyio.CancelScope() as scope:
                found.scope = scope
                chunk = await chunks.__anext__()
            found.scope = None
            if scope.cancelled_caught:
                return
            yield chunk
        while True:
            yield await chunks.__anext__()
    except StopAsyncIteration:
        return
    finally:
        found.scope = None
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
