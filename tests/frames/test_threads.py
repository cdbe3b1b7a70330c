"""The decoders under threads.

The extension declares that it does not need the GIL (``#[pymodule(gil_used = false)]`` in ``rust/py``), so on
free-threaded CPython (3.14t, 3.15t) its decoders run in many threads at once with no lock around them. What is
shared and what is not:

- ``AWSEventStreamDecoder`` and ``SSEDecoder`` (the drop-in decoders the SDK's clients hold) make a fresh backend
  decoder for each stream, so one of them, or one client, serves any number of threads.
- A backend decoder (``EventStreamDecoder``, the extension's ``Decoder`` / ``BedrockDecoder`` / ``SSEDecoder``)
  is one stream's state: one thread at a time. The native one refuses a second thread's concurrent call with
  ``RuntimeError`` before touching its state, so the refused call consumed nothing and the calls that ran lost no
  frame.
- A native ``Message`` is immutable; its headers dict is built once, whichever thread asks first.

Every test runs on every interpreter; on a free-threaded one there is no GIL to hide a race, so the rounds are
ten times as many. The release workflow runs this file on 3.14t and 3.15t (``tests/package/test_release.py``).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

import anthropic_eventstream as ae
from anthropic_eventstream import EventStreamDecoder, _backend, testing

from ..helpers import requires_native

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
ROUNDS = 10 if FREE_THREADED else 1
THREADS = 16

TEXT = " ".join(["word", "héllo", "👋", '"q"\n'] * 500)
EVENTS = testing.message_events(TEXT)
BEDROCK = testing.bedrock_stream(EVENTS)
SSE = testing.anthropic_sse(EVENTS)

T = TypeVar("T")


def together(n: int, work: Callable[[int], T]) -> list[T]:
    """Runs ``work(0) .. work(n - 1)`` in ``n`` threads released at once by a barrier."""
    start = threading.Barrier(n)

    def run(i: int) -> T:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def chunks(body: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(body):
        step = rng.choice([1, 7, 100, 4096, 70_000])  # 70,000: past DETACH_THRESHOLD, decoded detached
        out.append(body[at : at + step])
        at += step
    return out


@pytest.mark.skipif(not FREE_THREADED, reason="a GIL build: only free-threaded CPython reads gil_used")
@requires_native
def test_importing_the_package_leaves_the_gil_off() -> None:
    """The declaration is true: had the module declared it needs the GIL, or had PyO3 not passed the
    declaration on, CPython would enable the GIL on import and warn (``-W error`` makes that warning fail)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    code = (
        "import sys, anthropic_eventstream as ae, anthropic_eventstream._native;"
        "assert ae.BACKEND == 'native', ae.BACKEND;"
        "assert not sys._is_gil_enabled(), 'importing the extension enabled the GIL'"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, env=env, timeout=60)


def test_many_threads_each_with_its_own_frame_decoder(backend: str) -> None:
    want = [(m.headers, m.payload) for m in EventStreamDecoder(backend=backend).feed(BEDROCK)]

    def work(i: int) -> list[tuple[Any, bytes]]:
        decoder = EventStreamDecoder(backend=backend)
        got = [(m.headers, m.payload) for piece in chunks(BEDROCK, i) for m in decoder.feed(piece)]
        decoder.close()
        return got

    for round_ in range(ROUNDS):
        assert together(THREADS, lambda i, r=round_: work(r * THREADS + i)) == [want] * THREADS


@pytest.mark.sdk
@pytest.mark.parametrize("kind", ["bedrock", "sse"])
def test_one_drop_in_decoder_shared_by_many_threads(backend: str, kind: str) -> None:
    """One ``AWSEventStreamDecoder`` / ``SSEDecoder``, as one SDK client holds it, serving every thread."""
    pytest.importorskip("anthropic")
    shared = ae.AWSEventStreamDecoder(backend) if kind == "bedrock" else ae.SSEDecoder(backend)
    body = BEDROCK if kind == "bedrock" else SSE
    want = [vars(e) for e in shared.iter_bytes(iter([body]))]
    assert len(want) == len(EVENTS)

    for round_ in range(ROUNDS):
        got = together(
            THREADS, lambda i, r=round_: [vars(e) for e in shared.iter_bytes(iter(chunks(body, r * 97 + i)))]
        )
        assert got == [want] * THREADS


@requires_native
@pytest.mark.parametrize("kind", ["frames", "bedrock", "sse"])
def test_a_native_decoder_shared_by_threads_refuses_concurrent_calls_and_loses_nothing(kind: str) -> None:
    """Each thread feeds whole streams to one decoder. A call either runs alone and returns every event of its
    input, or is refused with ``RuntimeError`` before it consumed a byte; the decoder is left between frames."""
    native: Any = _backend._native
    body = BEDROCK * 2 if kind != "sse" else SSE * 2  # > DETACH_THRESHOLD: a GIL build detaches, so calls overlap
    assert len(body) >= native.DETACH_THRESHOLD
    limits = {"max_headers_length": 128 * 1024, "max_payload_length": 24 * 1024 * 1024}
    if kind == "frames":
        decoder = native.Decoder(**limits)
    elif kind == "bedrock":
        decoder = ae.AWSEventStreamDecoder("native").decoder()
    else:
        decoder = ae.SSEDecoder("native").decoder()
    want = len(decoder.feed(body))
    assert want == 2 * len(EVENTS)
    calls = 50 * ROUNDS

    def hammer(_: int) -> tuple[int, int]:
        ran = refused = 0
        for _ in range(calls):
            try:
                got = decoder.feed(body)
            except RuntimeError as exc:
                assert "borrow" in str(exc).lower(), exc
                refused += 1
            else:
                assert len(got) == want
                ran += 1
        return ran, refused

    results = together(4, hammer)
    assert sum(r for r, _ in results) + sum(f for _, f in results) == 4 * calls
    assert sum(r for r, _ in results) > 0
    if kind == "frames":
        assert decoder.buffered == 0
    decoder.close()


@requires_native
def test_a_native_message_read_by_many_threads_builds_its_headers_once() -> None:
    messages = EventStreamDecoder(backend="native").feed(BEDROCK * ROUNDS)
    for message in messages[: 20 * ROUNDS]:
        seen = together(THREADS, lambda _, m=message: m.headers)
        assert all(h is seen[0] for h in seen)
        assert seen[0] == {":message-type": "event", ":event-type": "chunk", ":content-type": "application/json"}
