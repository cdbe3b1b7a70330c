"""Hostile input, threads, cancellation and memory: a decoder sits on untrusted network bytes."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

import anthropic_eventstream as ae
from anthropic_eventstream import EventStreamDecoder, encode_message, testing
from tests.helpers import prelude

BODY = testing.bedrock_stream(testing.message_events(" ".join(["word"] * 2000)))


@pytest.mark.parametrize("claimed", [24 * 1024 * 1024 + 16, 2**32 - 1])
def test_claimed_lengths_are_not_allocated(backend: str, claimed: int) -> None:
    decoder = EventStreamDecoder(backend=backend, max_payload_length=2**32)
    decoder.feed(prelude(claimed))
    for _ in range(10):
        decoder.feed(b"\0" * 1000)
    assert decoder.buffered == 10_012
    with pytest.raises(ae.TruncatedStreamError, match=f"received 10012 of its {claimed} bytes"):
        decoder.close()


def test_buffer_never_holds_more_than_one_unfinished_frame(backend: str) -> None:
    decoder = EventStreamDecoder(backend=backend)
    frame = encode_message({"k": "v"}, b"x" * 1000)
    for i in range(0, len(frame) * 20, 333):
        decoder.feed((frame * 20)[i : i + 333])
        assert decoder.buffered < len(frame)


def test_async_iteration_cancelled_mid_stream_closes_cleanly(backend: str) -> None:
    pytest.importorskip("anthropic")
    decoder = ae.AWSEventStreamDecoder(backend)

    async def body():
        for piece in testing.split(BODY, 500):
            await asyncio.sleep(0)
            yield piece

    async def main() -> int:
        seen = 0

        async def consume() -> None:
            nonlocal seen
            async for _ in decoder.aiter_bytes(body()):
                seen += 1

        task = asyncio.create_task(consume())
        while seen < 50:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    assert asyncio.run(main()) >= 50


STATM = Path("/proc/self/statm")
measures_rss = pytest.mark.skipif(not STATM.exists(), reason="reads the resident set size from /proc")


def rss_kib() -> int:
    return int(STATM.read_text().split()[1]) * 4


@measures_rss
def test_memory_stays_flat_over_a_million_events(backend: str) -> None:
    pytest.importorskip("anthropic")
    decoder = ae.AWSEventStreamDecoder(backend)
    chunks = testing.split(BODY, 16 * 1024)
    per_run = sum(1 for _ in decoder.iter_bytes(iter(chunks)))
    runs = 1_000_000 // per_run + 1 if backend == "native" else 20
    for _ in range(3):
        sum(1 for _ in decoder.iter_bytes(iter(chunks)))
    gc.collect()
    before = rss_kib()
    for _ in range(runs):
        for _ in decoder.iter_bytes(iter(chunks)):
            pass
    gc.collect()
    assert rss_kib() - before < 8 * 1024, f"grew {rss_kib() - before} KiB over {runs * per_run} events"


@measures_rss
def test_thousands_of_decoders_created_and_dropped(backend: str) -> None:
    frame = encode_message({"k": "v"}, b"payload")
    for _ in range(200):
        EventStreamDecoder(backend=backend).feed(frame + frame[:7])
    gc.collect()
    before = rss_kib()
    for _ in range(5000):
        decoder = EventStreamDecoder(backend=backend)
        decoder.feed(frame + frame[:7])
        with pytest.raises(ae.TruncatedStreamError):
            decoder.close()
    gc.collect()
    assert rss_kib() - before < 4 * 1024


def test_random_bytes_only_ever_raise_event_stream_errors(backend: str) -> None:
    import random

    rng = random.Random(7)
    for _ in range(2000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        decoder = EventStreamDecoder(backend=backend)
        try:
            decoder.feed(data)
            decoder.close()
        except ae.EventStreamError:
            pass
