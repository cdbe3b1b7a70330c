"""What the suite's loopback tests share: the client kinds, the bytes each kind's server sends, and a client
of each kind talking to ``testing.LoopbackServer`` through the SDK's own HTTP transport."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from anthropic_eventstream import testing
from anthropic_eventstream.testing import BEDROCK_PING, SSE_PING, LoopbackServer, Pings, Reply, Wait

__all__ = ["KINDS", "Loopback", "Pings", "Reply", "Wait", "client", "content_type", "elsewhere", "frames", "ping"]

Loopback = LoopbackServer

KINDS = ("first-party", "bedrock", "vertex", "mantle")


def sse_event(event: dict[str, Any]) -> bytes:
    return testing.anthropic_sse([event])


def frames(kind: str, events: list[Any]) -> list[bytes]:
    """Each event as the bytes ``kind``'s server sends for it (a Bedrock frame, or an SSE event)."""
    if kind == "bedrock":
        return [e if isinstance(e, bytes) else testing.chunk_frame(e) for e in events]
    return [sse_event(e) for e in events]


def ping(kind: str) -> bytes:
    return BEDROCK_PING if kind == "bedrock" else SSE_PING


def content_type(kind: str) -> str:
    return "application/vnd.amazon.eventstream" if kind == "bedrock" else "text/event-stream"


def client(
    kind: str, url: str, *, is_async: bool, max_retries: int = 0, read_timeout: float = 10.0, **extra: Any
) -> Any:
    """A client of ``kind`` talking to ``url`` through the SDK's own HTTP transport (``extra``: more of the client's
    options, such as an ``http_client``)."""
    import anthropic
    import pytest

    http = testing.http_module()
    options: dict[str, Any] = {
        "base_url": url,
        "max_retries": max_retries,
        "timeout": http.Timeout(10.0, read=read_timeout),
        **extra,
    }
    if kind == "first-party":
        cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        return cls(api_key="testing", **options)
    if kind == "bedrock":
        from anthropic.lib.bedrock import AnthropicBedrock, AsyncAnthropicBedrock

        cls = AsyncAnthropicBedrock if is_async else AnthropicBedrock
        return cls(aws_access_key="testing", aws_secret_key="testing", aws_region="us-east-1", **options)
    if kind == "vertex":
        from anthropic.lib.vertex import AnthropicVertex, AsyncAnthropicVertex

        cls = AsyncAnthropicVertex if is_async else AnthropicVertex
        return cls(region="us-east5", project_id="testing", access_token="testing", **options)
    bedrock = pytest.importorskip("anthropic.lib.bedrock")
    if not hasattr(bedrock, "AnthropicBedrockMantle"):
        pytest.skip("this SDK has no Mantle client (anthropic 2.15 and later)")
    cls = bedrock.AsyncAnthropicBedrockMantle if is_async else bedrock.AnthropicBedrockMantle
    return cls(skip_auth=True, aws_region="us-east-1", **options)


def _serve(replies: list[Reply], conn: Any) -> None:
    with Loopback(replies) as server:
        conn.send(server.url)
        conn.recv()  # until the test is done with it (or its end of the pipe closes)


@contextmanager
def elsewhere(replies: list[Reply]) -> Iterator[str]:
    """``Loopback(replies)`` in a process of its own, for a test in which this process holds the GIL: its
    replies go out on time whatever this process does. Yields the server's URL."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(replies, theirs), daemon=True)
    process.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the loopback server process did not start")
        yield ours.recv()
    finally:
        ours.send(None)
        process.join(10)
        if process.is_alive():
            process.kill()
