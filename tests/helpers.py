"""Helpers shared by the suite: frames, summaries, the native-only marker, property-test settings, vectors."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from anthropic_eventstream import _backend

VECTORS = Path(__file__).parent / "vectors"

#: For tests that compare the native backend with others: skipped when the extension is not built, unless
#: ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE is set (CI), where a missing extension must fail the run.
requires_native = pytest.mark.skipif(
    _backend._native is None and not os.environ.get("ANTHROPIC_EVENTSTREAM_REQUIRE_NATIVE"),
    reason="compares against the native backend, which is not built",
)


def prelude(total: int, headers_length: int = 0) -> bytes:
    """A prelude with a valid CRC, whatever its lengths claim."""
    head = struct.pack("!II", total, headers_length)
    return head + struct.pack("!I", zlib.crc32(head))


def summary(m: Any) -> tuple[Any, ...]:
    """Everything a message holds, comparable across backends."""
    return (dict(m.headers), bytes(m.payload), m.total_length, m.headers_length, m.prelude_crc, m.crc)


def property_settings(examples: int) -> settings:
    """Hypothesis settings for the property tests: ``examples`` per property, derandomized and with no example
    database, so that ``make test`` runs the same examples every time; ``HYPOTHESIS_LONG=1`` (``make
    test-long``) runs ``HYPOTHESIS_EXAMPLES`` (default 20,000) random ones instead."""
    if os.environ.get("HYPOTHESIS_LONG"):
        return settings(
            max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "20000")),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def load_vectors() -> tuple[dict[str, bytes], dict[str, Any]]:
    """The public AWS test vectors and botocore's answers for them."""
    expected = json.loads((VECTORS / "expected.json").read_text())
    frames = {p.name: p.read_bytes() for p in sorted(VECTORS.glob("*/*")) if p.is_file()}
    return frames, expected


def header_from_json(value: Any) -> Any:
    return bytes.fromhex(value["bytes"]) if isinstance(value, dict) else value


def require(module: str, reason: str) -> Any:
    """``pytest.importorskip``, except under ``ANTHROPIC_EVENTSTREAM_REQUIRE_REACH`` (``make reach``), where the
    module was installed on purpose and its absence must fail the run."""
    if os.environ.get("ANTHROPIC_EVENTSTREAM_REQUIRE_REACH"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=reason)


REQUEST: dict[str, Any] = {
    "model": "claude-test-model",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


def drive(client: Any, is_async: bool, *, helper: bool = False) -> tuple[list[str], BaseException | None]:
    """The types of the events a client streams and the exception that ended the stream, if any: through
    ``messages.create(stream=True)``, or the ``messages.stream()`` helper; sync or async."""
    import asyncio

    seen: list[str] = []
    if not is_async:
        try:
            if helper:
                with client.messages.stream(**REQUEST) as stream:
                    seen.extend(event.type for event in stream)
            else:
                seen.extend(event.type for event in client.messages.create(**REQUEST, stream=True))
        except Exception as exc:
            return seen, exc
        return seen, None

    async def run() -> BaseException | None:
        try:
            if helper:
                async with client.messages.stream(**REQUEST) as stream:
                    async for event in stream:
                        seen.append(event.type)
            else:
                async for event in await client.messages.create(**REQUEST, stream=True):
                    seen.append(event.type)
        except Exception as exc:
            return exc
        return None

    return seen, asyncio.run(run())


def sdk_state() -> dict[tuple[str, str], Any]:
    """What every class the shims may touch holds in its own ``__dict__``, to check an exact restore."""
    import itertools

    import anthropic
    from anthropic._streaming import AsyncStream, Stream
    from anthropic.lib.bedrock import AnthropicBedrock, AsyncAnthropicBedrock
    from anthropic.lib.streaming import _messages
    from anthropic.lib.vertex import AnthropicVertex, AsyncAnthropicVertex
    from botocore import eventstream

    beta = "anthropic.lib.streaming._beta_messages"  # not in every SDK version

    owners = [
        AnthropicBedrock,
        AsyncAnthropicBedrock,
        anthropic.Anthropic,
        anthropic.AsyncAnthropic,
        AnthropicVertex,
        AsyncAnthropicVertex,
        Stream,
        AsyncStream,
        eventstream.EventStream,
        eventstream,
        _messages,
        *([importlib.import_module(beta)] if importlib.util.find_spec(beta) else []),
    ]
    names = [
        "_make_sse_decoder",
        "_make_status_error",
        "_process_response",
        "_process_response_data",
        "_iter_events",
        "_create_raw_event_generator",
        "_parse_event",
        "EventStreamBuffer",
        "build",
    ]
    return {(getattr(o, "__name__", ""), n): o.__dict__.get(n, "<absent>") for o, n in itertools.product(owners, names)}
