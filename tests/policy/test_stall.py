"""The stall watchdog (``stall_timeout``), over real loopback sockets through the SDK's own HTTP transport, both
backends: a real stall (pings only, silence, an event that never completes) ends the stream as the SDK's
``APITimeoutError`` caused by ``StalledStreamError``, also while the process is busy; a healthy or finished answer
never does: not when its connection closes late, not when the event loop (or the GIL) was busy while it read.

The load run (1,000 streams on one event loop) is ``benches/stall_load.py`` (``make stall-load``, in ``make ci``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import testing  # noqa: E402
from tests.helpers import REQUEST, drive  # noqa: E402
from tests.loopback import KINDS, Loopback, Pings, Reply, Wait, client, content_type, elsewhere, frames, ping  # noqa: E402

TEXT = "Hello there, world"
EVENTS = testing.message_events(TEXT)
ALL = [e["type"] for e in EVENTS]
HEAD = 4  # message_start, content_block_start, two deltas
LIMIT = 0.5

#: The kinds the watchdog is proved on: the two wire formats (Vertex and Mantle share first-party's SSE path).
WIRES = ("first-party", "bedrock")


@pytest.fixture(params=WIRES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def installed(backend: str) -> Iterator[Any]:
    yield lambda **options: ae.install(backend=backend, **options)
    ae.uninstall()


def reply(kind: str, *steps: Any) -> Reply:
    return Reply(tuple(steps), content_type=content_type(kind))


def halves(kind: str, event: dict[str, Any]) -> tuple[bytes, bytes]:
    """``event``'s bytes on the wire, cut in the middle of its JSON."""
    (wire,) = frames(kind, [event])
    return wire[: len(wire) // 2], wire[len(wire) // 2 :]


def non_ping(seen: list[str]) -> list[str]:
    return [name for name in seen if name != "ping"]  # anthropic < 0.110 hands Bedrock pings over


def assert_stalled(exc: BaseException | None) -> None:
    assert type(exc) is anthropic.APITimeoutError, repr(exc)
    assert isinstance(exc.__cause__, ae.StalledStreamError)
    assert str(exc.__cause__) == f"no event other than 'ping' for {LIMIT:g} s: the stream stalled"


# What a busy process does to a stream: the event loop blocked by another task, or the GIL held by another thread.


@contextmanager
def gil_held_by_another_thread(after: threading.Event, seconds: float) -> Iterator[None]:
    """Once ``after`` is set, another thread holds the GIL for about ``seconds`` in one C call (``sum`` over a
    range runs no bytecode, so it never lets the GIL go): every other thread, the watchdog's too, waits."""
    n = _gil_hold_size(seconds)
    thread = threading.Thread(target=lambda: after.wait(10) and sum(range(n)), daemon=True)
    thread.start()
    yield
    thread.join()


_RATE: list[float] = []


def _gil_hold_size(seconds: float) -> int:
    if not _RATE:
        started = time.perf_counter()
        sum(range(2_000_000))
        _RATE.append(2_000_000 / max(time.perf_counter() - started, 1e-6))
    return int(_RATE[0] * seconds)


def run_async(kind: str, url: str, *, block_at: int | None, seconds: float, helper: bool = False) -> Any:
    """Streams from ``url`` in one event loop; once the event numbered ``block_at`` arrived, another task blocks
    the loop for ``seconds`` (``time.sleep``, as CPU-bound work or a blocking call in a handler would)."""
    seen: list[str] = []

    async def main() -> Any:
        reached = asyncio.Event()

        async def blocker() -> None:
            await reached.wait()
            time.sleep(seconds)

        other = asyncio.ensure_future(blocker())
        fast = client(kind, url, is_async=True)
        try:
            if helper:
                async with fast.messages.stream(**REQUEST) as stream:
                    async for event in stream:
                        seen.append(event.type)
                        if event.type == "message_stop" or len(non_ping(seen)) == block_at:
                            reached.set()
                    return await stream.get_final_message()
            async for event in await fast.messages.create(**REQUEST, stream=True):
                seen.append(event.type)
                if len(non_ping(seen)) == block_at:
                    reached.set()
        except Exception as exc:
            return exc
        finally:
            reached.set()
            await other
        return None

    return seen, asyncio.run(main())


def on_a_busy_loop(kind: str, url: str, *, block: float) -> tuple[list[str], BaseException | None]:
    """Streams from ``url`` in one event loop in which another task blocks the loop for ``block`` seconds at a
    time, again and again, until the stream ends."""
    seen: list[str] = []

    async def main() -> BaseException | None:
        done = asyncio.Event()

        async def blocker() -> None:
            while not done.is_set():
                time.sleep(block)
                await asyncio.sleep(0.01)

        other = asyncio.ensure_future(blocker())
        try:
            async for event in await client(kind, url, is_async=True).messages.create(**REQUEST, stream=True):
                seen.append(event.type)
        except Exception as exc:
            return exc
        finally:
            done.set()
            await other
        return None

    return seen, asyncio.run(main())


def final_message(fast: Any, is_async: bool) -> Any:
    """``messages.stream().get_final_message()``, sync or async."""
    if not is_async:
        with fast.messages.stream(**REQUEST) as stream:
            return stream.get_final_message()

    async def main() -> Any:
        async with fast.messages.stream(**REQUEST) as stream:
            return await stream.get_final_message()

    return asyncio.run(main())


# Finished answers: the watchdog stops at message_stop.


@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
def test_a_complete_answer_whose_connection_closes_late_is_untouched(
    installed: Any, kind: str, is_async: bool, helper: bool
) -> None:
    """Every event, ``message_stop`` included, arrived; the body's end comes three limits later (as proxies and
    load balancers do). Stock yields everything with no error, and so does the watchdog."""
    installed(stall_timeout=LIMIT)
    body = b"".join(frames(kind, EVENTS))
    with Loopback([reply(kind, body, Wait(3 * LIMIT))]) as server:
        started = time.monotonic()
        if helper:
            message = final_message(client(kind, server.url, is_async=is_async), is_async)
            assert message.content[0].text == TEXT and message.stop_reason == "end_turn"
        else:
            seen, exc = drive(client(kind, server.url, is_async=is_async), is_async)
            assert exc is None, repr(exc)
            assert non_ping(seen) == ALL
        assert time.monotonic() - started >= 3 * LIMIT  # the body was drained, as the SDK drains it


@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
def test_a_busy_event_loop_after_message_stop_is_no_stall(installed: Any, kind: str, helper: bool) -> None:
    """The whole answer at once, its end 50 ms later; when ``message_stop`` arrives another task blocks the loop
    for twice the limit. The SDK's own read timeout gives no error under the same blockage, nor does the watchdog."""
    installed(stall_timeout=LIMIT)
    body = b"".join(frames(kind, EVENTS))
    with Loopback([reply(kind, body, Wait(0.05))]) as server:
        seen, result = run_async(kind, server.url, block_at=len(EVENTS), seconds=2 * LIMIT, helper=helper)
    if helper:
        assert result.content[0].text == TEXT, repr(result)
    else:
        assert result is None, repr(result)
        assert non_ping(seen) == ALL


# Healthy answers read late: a read that returns bytes of an event is progress, however late the task ran.


@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
def test_a_busy_event_loop_while_a_read_is_pending_is_no_stall(installed: Any, kind: str, helper: bool) -> None:
    """While the stream waits for its next event, another task blocks the loop for over twice the limit; half of
    that event arrives meanwhile, then the rest of the answer. Everything arrived in time, so nothing stalled."""
    installed(stall_timeout=LIMIT)
    first, second = halves(kind, EVENTS[HEAD])
    steps = (*frames(kind, EVENTS[:HEAD]), Wait(0.1), first, Wait(0.2), second, *frames(kind, EVENTS[HEAD + 1 :]))
    with Loopback([reply(kind, *steps)]) as server:
        seen, result = run_async(kind, server.url, block_at=HEAD, seconds=2.4 * LIMIT, helper=helper)
    if helper:
        assert result.content[0].text == TEXT, repr(result)
    else:
        assert result is None, repr(result)
        assert non_ping(seen) == ALL


def test_a_thread_holding_the_gil_while_a_read_is_pending_is_no_stall(installed: Any, kind: str) -> None:
    """The sync twin: while the stream waits for its next event, another thread holds the GIL for over twice the
    limit. The reading thread's ``recv`` returned the event meanwhile (the server runs in a process of its own),
    and is only waiting for the GIL: its read is not blocked, and the watchdog (which waits for the GIL too) does
    not take it for one."""
    installed(stall_timeout=LIMIT)
    first, second = halves(kind, EVENTS[HEAD])
    steps = (*frames(kind, EVENTS[:HEAD]), Wait(0.1), first, Wait(0.2), second, *frames(kind, EVENTS[HEAD + 1 :]))
    reached = threading.Event()
    seen: list[str] = []
    with elsewhere([reply(kind, *steps)]) as url, gil_held_by_another_thread(reached, 2.4 * LIMIT):
        try:
            for event in client(kind, url, is_async=False).messages.create(**REQUEST, stream=True):
                seen.append(event.type)
                if len(non_ping(seen)) == HEAD:
                    reached.set()
        finally:
            reached.set()
    assert non_ping(seen) == ALL


def test_a_slow_stream_that_makes_progress_does_not_stall(installed: Any, kind: str, is_async: bool) -> None:
    """Events arrive slowly, each within the limit, with pings between them: never a stall."""
    installed(stall_timeout=LIMIT)
    steps = [step for event in frames(kind, EVENTS) for step in (Pings(0.6 * LIMIT, 0.2 * LIMIT, ping(kind)), event)]
    with Loopback([reply(kind, *steps)]) as server:
        seen, exc = drive(client(kind, server.url, is_async=is_async), is_async)
    assert exc is None and non_ping(seen) == ALL, repr(exc)


def test_a_slow_stream_on_a_busy_event_loop_does_not_stall(installed: Any, kind: str) -> None:
    """Events every 0.6 limits while the loop is blocked again and again for 1.6 limits at a time: the stream
    reads them late, in bursts, and each burst is progress."""
    installed(stall_timeout=LIMIT)
    steps = [step for event in frames(kind, EVENTS) for step in (Wait(0.6 * LIMIT), event)]
    with Loopback([reply(kind, *steps)]) as server:
        seen, exc = on_a_busy_loop(kind, server.url, block=1.6 * LIMIT)
    assert exc is None and non_ping(seen) == ALL, repr(exc)


@pytest.mark.parametrize("stalls", [False, True], ids=["progress", "stall"])
def test_without_a_gil_every_resume_takes_the_lock(
    installed: Any, kind: str, is_async: bool, stalls: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free-threaded CPython's path (``stall.NO_GIL``), run on any build: slow progress is no stall, pings alone
    are."""
    from anthropic_eventstream._policy import stall

    monkeypatch.setattr(stall, "NO_GIL", True)
    installed(stall_timeout=LIMIT)
    if stalls:
        steps = [*frames(kind, EVENTS[:HEAD]), Pings(8.0, 0.15, ping(kind))]
    else:
        steps = [
            step for event in frames(kind, EVENTS) for step in (Pings(0.6 * LIMIT, 0.2 * LIMIT, ping(kind)), event)
        ]
    with Loopback([reply(kind, *steps)]) as server:
        seen, exc = drive(client(kind, server.url, is_async=is_async), is_async)
    if stalls:
        assert_stalled(exc)
        assert non_ping(seen) == ALL[:HEAD]
    else:
        assert exc is None and non_ping(seen) == ALL, repr(exc)


def test_a_slow_consumer_is_not_a_stall(installed: Any, kind: str, is_async: bool) -> None:
    """The clock runs only while the stream waits for bytes: a caller that holds an event longer than
    ``stall_timeout`` (while the server has sent everything) is not stopped."""
    installed(stall_timeout=0.8 * LIMIT)
    steps = [step for event in frames(kind, EVENTS) for step in (event, Wait(0.02))]
    seen: list[str] = []
    with Loopback([reply(kind, *steps)]) as server:
        fast = client(kind, server.url, is_async=is_async)
        if not is_async:
            for event in fast.messages.create(**REQUEST, stream=True):
                seen.append(event.type)
                if len(seen) == 3:
                    time.sleep(2 * LIMIT)
        else:

            async def main() -> None:
                async for event in await fast.messages.create(**REQUEST, stream=True):
                    seen.append(event.type)
                    if len(seen) == 3:
                        await asyncio.sleep(2 * LIMIT)

            asyncio.run(main())
    assert non_ping(seen) == ALL


# Real stalls: caught soon after the limit, also while the process is busy.


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("silence", ["pings", "nothing", "half an event"])
def test_a_stall_is_an_api_timeout_error_caused_by_stalled_stream_error(
    installed: Any, kind: str, is_async: bool, silence: str
) -> None:
    """No event but pings, no bytes at all, or half an event that never completes, for ``stall_timeout``: raised
    soon after the limit, long before the client's read timeout (10 s) or the server's end (8 s). The bytes of
    an event that never completes are not progress."""
    installed(stall_timeout=LIMIT)
    after = {
        "pings": (Pings(8.0, 0.15, ping(kind)),),
        "nothing": (Wait(8.0),),
        "half an event": (halves(kind, EVENTS[HEAD])[0], Wait(8.0)),
    }[silence]
    with Loopback([reply(kind, *frames(kind, EVENTS[:HEAD]), *after)]) as server:
        started = time.monotonic()
        seen, exc = drive(client(kind, server.url, is_async=is_async), is_async)
        elapsed = time.monotonic() - started
    assert_stalled(exc)
    assert non_ping(seen) == ALL[:HEAD]
    assert LIMIT <= elapsed < 4


@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
def test_a_stall_is_caught_through_the_helper(installed: Any, kind: str, is_async: bool, helper: bool) -> None:
    installed(stall_timeout=LIMIT)
    with Loopback([reply(kind, *frames(kind, EVENTS[:HEAD]), Pings(8.0, 0.15, ping(kind)))]) as server:
        _, exc = drive(client(kind, server.url, is_async=is_async), is_async, helper=helper)
    assert_stalled(exc)


@pytest.mark.parametrize("silence", ["pings", "nothing"])
def test_a_stall_on_a_busy_event_loop_is_caught(installed: Any, kind: str, silence: str) -> None:
    """After the first events the server sends only pings (or nothing), while another task blocks the loop for
    0.6 limits at a time: the stall is raised within the limit plus the loop's lag."""
    installed(stall_timeout=LIMIT)
    after = Pings(8.0, 0.15, ping(kind)) if silence == "pings" else Wait(8.0)
    with Loopback([reply(kind, *frames(kind, EVENTS[:HEAD]), after)]) as server:
        started = time.monotonic()
        seen, exc = on_a_busy_loop(kind, server.url, block=0.6 * LIMIT)
        elapsed = time.monotonic() - started
    assert_stalled(exc)
    assert non_ping(seen) == ALL[:HEAD]
    assert elapsed < LIMIT + 6 * 0.6 * LIMIT + 1


def test_a_stall_while_the_gil_is_held_is_caught(installed: Any, kind: str) -> None:
    """The sync twin: another thread holds the GIL for twice the limit while the stream waits, and nothing
    comes: the stall is raised soon after the GIL is free again."""
    installed(stall_timeout=LIMIT)
    reached = threading.Event()
    seen: list[str] = []
    with elsewhere([reply(kind, *frames(kind, EVENTS[:HEAD]), Wait(8.0))]) as url:
        started = time.monotonic()
        with gil_held_by_another_thread(reached, 2 * LIMIT):
            try:
                for event in client(kind, url, is_async=False).messages.create(**REQUEST, stream=True):
                    seen.append(event.type)
                    if len(non_ping(seen)) == HEAD:
                        reached.set()
            except Exception as exc:
                error: BaseException | None = exc
            else:
                error = None
            finally:
                reached.set()
        elapsed = time.monotonic() - started
    assert_stalled(error)
    assert non_ping(seen) == ALL[:HEAD]
    assert elapsed < 5


# The option itself.


def test_stall_timeout_is_checked() -> None:
    for bad, cls in ((0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)):
        with pytest.raises(cls, match="stall_timeout must be"):
            ae.install(stall_timeout=bad)  # type: ignore[arg-type]
        assert not ae.is_installed()


def test_accelerate_takes_stall_timeout(backend: str, is_async: bool) -> None:
    with Loopback([reply("first-party", *frames("first-party", EVENTS[:HEAD]), Wait(8.0))]) as server:
        fast = ae.accelerate(client("first-party", server.url, is_async=is_async), backend=backend, stall_timeout=LIMIT)
        _, exc = drive(fast, is_async)
    assert_stalled(exc)


# Other event loops: trio's, and uvloop's (whose timers run before its reads, and whose stand-in for a
# transport's socket refuses ``shutdown``).


@pytest.mark.parametrize("loop", ["trio", "uvloop"])
@pytest.mark.parametrize("case", ["pings", "nothing", "late close"])
def test_other_event_loops(installed: Any, kind: str, loop: str, case: str) -> None:
    runner = pytest.importorskip(loop).run
    installed(stall_timeout=LIMIT)
    steps = {
        "pings": (*frames(kind, EVENTS[:HEAD]), Pings(8.0, 0.15, ping(kind))),
        "nothing": (*frames(kind, EVENTS[:HEAD]), Wait(8.0)),
        "late close": (b"".join(frames(kind, EVENTS)), Wait(3 * LIMIT)),
    }[case]
    seen: list[str] = []
    with Loopback([reply(kind, *steps)]) as server:
        fast = client(kind, server.url, is_async=True)

        async def main() -> BaseException | None:
            try:
                async for event in await fast.messages.create(**REQUEST, stream=True):
                    seen.append(event.type)
            except Exception as exc:
                return exc
            return None

        started = time.monotonic()
        exc = runner(main) if loop == "trio" else runner(main())
        elapsed = time.monotonic() - started
    if case == "late close":
        assert exc is None and non_ping(seen) == ALL, repr(exc)
    else:
        assert_stalled(exc)
        assert non_ping(seen) == ALL[:HEAD] and elapsed < 4


# A stream whose socket cannot be reached (a mock transport here; HTTP/2 in use): an async read is ended by the
# verdict through its cancel scope; a sync stream is stopped at its next chunk unless that chunk is progress.


def _socketless(kind: str, steps: tuple[Any, ...], is_async: bool) -> Any:
    """A client of ``kind`` whose transport is a mock (no socket): the body's ``steps`` (bytes, ``Wait``, ``Pings``)
    played in time, with ``time.sleep`` (sync) or ``anyio.sleep`` (async)."""
    import anyio

    http = testing.http_module()

    def played() -> Iterator[Any]:
        for step in steps:
            if isinstance(step, Wait):
                yield step.seconds
            elif isinstance(step, Pings):
                for _ in range(int(step.seconds / step.interval)):
                    yield step.ping
                    yield step.interval
            else:
                yield step

    class Body(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __iter__(self) -> Iterator[bytes]:
            for step in played():
                if isinstance(step, float):
                    time.sleep(step)
                else:
                    yield step

        async def __aiter__(self) -> Any:
            for step in played():
                if isinstance(step, float):
                    await anyio.sleep(step)
                else:
                    yield step

    def handler(request: Any) -> Any:
        headers = {"content-type": content_type(kind), "request-id": "req_mock", "x-amzn-requestid": "req_mock"}
        return http.Response(200, headers=headers, stream=Body(), request=request)

    transport = http.MockTransport(handler)
    return client(
        kind,
        "http://mock.invalid",
        is_async=is_async,
        http_client=(http.AsyncClient if is_async else http.Client)(transport=transport),
    )


@pytest.mark.parametrize("case", ["pings", "nothing", "late close"])
def test_a_stream_without_a_reachable_socket(installed: Any, kind: str, is_async: bool, case: str) -> None:
    installed(stall_timeout=LIMIT)
    steps = {
        "pings": (*frames(kind, EVENTS[:HEAD]), Pings(3.0, 0.15, ping(kind))),
        "nothing": (*frames(kind, EVENTS[:HEAD]), Wait(3.0)),
        "late close": (b"".join(frames(kind, EVENTS)), Wait(3 * LIMIT)),
    }[case]
    started = time.monotonic()
    seen, exc = drive(_socketless(kind, steps, is_async), is_async)
    elapsed = time.monotonic() - started
    if case == "late close":
        assert exc is None and non_ping(seen) == ALL, repr(exc)
    elif case == "nothing" and not is_async:  # nothing to end a sync read with: the body's own end ends it
        assert_stalled(exc)
        assert elapsed >= 3.0
    else:
        assert_stalled(exc)
        assert non_ping(seen) == ALL[:HEAD] and elapsed < 2.5
