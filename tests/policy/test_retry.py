"""Retry before content: with ``retry_before_content``, an error before the first content event goes through
the SDK's own retry loop and the caller sees one clean stream; everything else is as without the flag. Mock
transports count the requests; both backends, sync and async, Bedrock, first-party and Vertex."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
pytest.importorskip("botocore")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import testing  # noqa: E402
from tests.helpers import REQUEST, drive  # noqa: E402

EVENTS = testing.message_events("Sent again before any content was shown.")
FAST = {"retry-after-ms": "1"}  # the SDK honours it, so that retries take a millisecond
HAS_RETRY_LOOP = hasattr(anthropic._base_client.BaseClient, "_should_retry_exception")
needs_retry_loop = pytest.mark.skipif(
    not HAS_RETRY_LOOP, reason="this SDK's retry loop does not cover _process_response"
)


def body(kind: str, events: list[Any], error: str | None = None) -> bytes:
    """A response body: ``events``, then the error ``error`` names (a Bedrock exception type, or an
    Anthropic error type)."""
    if kind == "bedrock":
        tail = [testing.exception_frame(error, "try again")] if error else []
        return testing.bedrock_stream([*events, *tail])
    tail = [{"type": "error", "error": {"type": error, "message": "try again"}}] if error else []
    return testing.anthropic_sse([*events, *tail])


CLIENTS: dict[str, Callable[..., Any]] = {
    "bedrock": testing.mock_bedrock_client,
    "first-party": testing.mock_anthropic_client,
    "vertex": testing.mock_vertex_client,
}
RETRYABLE = {"bedrock": "throttlingException", "first-party": "overloaded_error", "vertex": "overloaded_error"}
NOT_RETRYABLE = {
    "bedrock": "validationException",
    "first-party": "invalid_request_error",
    "vertex": "invalid_request_error",
}


@pytest.fixture(params=sorted(CLIENTS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def retrying(backend: str) -> Any:
    if not HAS_RETRY_LOOP:
        pytest.skip("this SDK's retry loop does not cover _process_response")
    ae.install(backend=backend, retry_before_content=True)
    yield backend
    ae.uninstall()


def stream(
    kind: str, replies: testing.Replies, is_async: bool, *, helper: bool = False, retries: int = 2
) -> tuple[list[str], Any]:
    client = CLIENTS[kind](replies, is_async=is_async, max_retries=retries, chunk_size=64)
    return drive(client, is_async, helper=helper)


ALL = [e["type"] for e in EVENTS]


@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream-helper"])
def test_an_error_before_content_is_retried(
    retrying: str, kind: str, is_async: bool, helper: bool, caplog: pytest.LogCaptureFixture
) -> None:
    replies = testing.Replies(body(kind, EVENTS[:2], RETRYABLE[kind]), body(kind, EVENTS), headers=[FAST])
    with caplog.at_level(logging.INFO, logger="anthropic"):
        seen, exc = stream(kind, replies, is_async, helper=helper)
    assert exc is None
    assert replies.requests == 2
    if not helper:
        assert seen == ALL  # one clean stream: one message_start
    assert any("Retrying request" in r.getMessage() for r in caplog.records), "not the SDK's own retry"


@pytest.mark.parametrize("cut", ["between-frames", "mid-frame", "empty"])
def test_a_broken_stream_before_content_is_retried(retrying: str, kind: str, is_async: bool, cut: str) -> None:
    first = b"" if cut == "empty" else body(kind, EVENTS[:2])
    if cut == "mid-frame":
        first = first + body(kind, EVENTS[2:3])[:-9]
    replies = testing.Replies(first, body(kind, EVENTS), headers=[FAST])
    seen, exc = stream(kind, replies, is_async)
    assert exc is None and seen == ALL and replies.requests == 2


def test_a_non_retryable_error_is_raised_as_without_the_flag(retrying: str, kind: str, is_async: bool) -> None:
    replies = testing.Replies(body(kind, EVENTS[:2], NOT_RETRYABLE[kind]), body(kind, EVENTS))
    seen, exc = stream(kind, replies, is_async)
    assert replies.requests == 1
    assert seen == ALL[:2]
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 400


def test_x_should_retry_false_is_honoured(retrying: str, kind: str, is_async: bool) -> None:
    replies = testing.Replies(
        body(kind, EVENTS[:2], RETRYABLE[kind]), body(kind, EVENTS), headers=[{"x-should-retry": "false"}]
    )
    seen, exc = stream(kind, replies, is_async)
    assert replies.requests == 1 and seen == ALL[:2]
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code in (429, 529)


def test_an_error_after_content_is_not_retried(retrying: str, kind: str, is_async: bool) -> None:
    replies = testing.Replies(body(kind, EVENTS[:4], RETRYABLE[kind]), body(kind, EVENTS), headers=[FAST])
    seen, exc = stream(kind, replies, is_async)
    assert replies.requests == 1 and seen == ALL[:4]
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code in (429, 529)


def test_max_retries_zero_raises_the_typed_error(retrying: str, kind: str, is_async: bool) -> None:
    replies = testing.Replies(body(kind, EVENTS[:2], RETRYABLE[kind]), body(kind, EVENTS), headers=[FAST])
    seen, exc = stream(kind, replies, is_async, retries=0)
    assert replies.requests == 1 and seen == ALL[:2]
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code in (429, 529)


def test_retries_run_out(retrying: str, kind: str, is_async: bool) -> None:
    bad = body(kind, EVENTS[:1], RETRYABLE[kind])
    replies = testing.Replies(bad, bad, bad, headers=[FAST, FAST, FAST])
    seen, exc = stream(kind, replies, is_async, retries=2)
    assert replies.requests == 3 and seen == ALL[:1]
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code in (429, 529)


def test_a_broken_stream_without_retries_left_is_raised_where_it_broke(retrying: str, is_async: bool) -> None:
    replies = testing.Replies(body("bedrock", EVENTS[:2]))
    seen, exc = stream("bedrock", replies, is_async, retries=0)
    assert replies.requests == 1 and seen == ALL[:2]
    assert isinstance(exc, anthropic.APIConnectionError) and isinstance(exc.__cause__, ae.IncompleteStreamError)


def test_off_by_default(backend: str, kind: str, is_async: bool) -> None:
    ae.install(backend=backend)
    try:
        replies = testing.Replies(body(kind, EVENTS[:2], RETRYABLE[kind]), body(kind, EVENTS), headers=[FAST])
        seen, exc = stream(kind, replies, is_async)
    finally:
        ae.uninstall()
    assert replies.requests == 1 and seen == ALL[:2] and isinstance(exc, anthropic.APIStatusError)


@needs_retry_loop
def test_accelerate_takes_the_flag(backend: str, is_async: bool) -> None:
    replies = testing.Replies(
        body("bedrock", EVENTS[:2], "throttlingException"), body("bedrock", EVENTS), headers=[FAST]
    )
    client = ae.accelerate(
        testing.mock_bedrock_client(replies, is_async=is_async, max_retries=2),
        backend=backend,
        retry_before_content=True,
    )
    if is_async:

        async def run() -> list[str]:
            return [e.type async for e in await client.messages.create(**REQUEST, stream=True)]

        seen = asyncio.run(run())
    else:
        seen = [e.type for e in client.messages.create(**REQUEST, stream=True)]
    assert seen == ALL and replies.requests == 2


@pytest.mark.skipif(HAS_RETRY_LOOP, reason="this SDK can retry it")
def test_refused_where_the_sdk_cannot_retry_it() -> None:  # pragma: no cover - runs on old SDKs only
    with pytest.raises(ae.SDKChangedError, match="_should_retry_exception is missing"):
        ae.install(retry_before_content=True, strict=True)
    assert not ae.is_installed()
    with pytest.warns(RuntimeWarning, match="retry before content: .*_should_retry_exception is missing"):
        ae.install(retry_before_content=True)  # the rest of the opt-in is on
    try:
        assert ae.is_installed()
    finally:
        ae.uninstall()


@needs_retry_loop
def test_refused_if_the_retry_loop_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(anthropic._base_client.BaseClient, "_should_retry_exception")
    with pytest.raises(ae.SDKChangedError, match="_should_retry_exception is missing"):
        ae.install(retry_before_content=True, strict=True)
    assert not ae.is_installed()


def test_events_read_ahead_are_replayed_through_the_packages_loop(retrying: str, kind: str, is_async: bool) -> None:
    """Read-ahead decodes the first network chunks as the loop reads them (pairs, when the loop is taken over),
    and the loop replays them before the rest: every event once, in order, with the content read ahead."""
    from anthropic._streaming import AsyncStream, Stream

    from anthropic_eventstream._anthropic.loop import _known

    client = CLIENTS[kind](testing.Replies(body(kind, EVENTS)), is_async=is_async, chunk_size=48)

    async def collect_async() -> tuple[Any, int, list[str]]:
        stream = await client.messages.create(**REQUEST, stream=True)
        return stream, len(stream._decoder._replay), [event.type async for event in stream]

    if is_async:
        stream, read_ahead, seen = asyncio.run(collect_async())
    else:
        stream = client.messages.create(**REQUEST, stream=True)
        read_ahead = len(stream._decoder._replay)
        seen = [event.type for event in stream]
    assert read_ahead > 1 and seen == ALL  # several network chunks read ahead, then every event once
    taken = _known(Stream.__stream__) is False and _known(AsyncStream.__stream__) is True
    iterator = vars(stream)["_iterator"]
    assert (iterator.__name__ in ("_events", "_aevents")) is taken
    assert stream._decoder.pairs is taken and stream._decoder._replay == []  # replayed, and let go
