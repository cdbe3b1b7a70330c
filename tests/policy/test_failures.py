"""Every way a stream fails reaches the caller typed: over real loopback sockets, through the SDK's own
HTTP transport, for every client kind (first-party, Bedrock, Vertex, Mantle), sync and async, both backends:
a dropped connection and a read timeout mid-stream become the SDK's own exceptions after the events before them;
``retry_before_content`` retries them (and stalls) before content; a final event that lacks only its blank line
is complete. The stall watchdog itself: ``test_stall.py``."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import testing  # noqa: E402
from tests.helpers import drive  # noqa: E402
from tests.loopback import KINDS, Loopback, Pings, Reply, Wait, client, content_type, frames, ping  # noqa: E402

EVENTS = testing.message_events("An answer that the network cuts off half way through.")
HEAD = EVENTS[:4]  # message_start, content_block_start, two deltas
SEEN_HEAD = [e["type"] for e in HEAD]
ALL = [e["type"] for e in EVENTS]
HTTP = testing.http_module()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def installed(backend: str) -> Any:
    yield lambda **options: ae.install(backend=backend, **options)
    ae.uninstall()


def reply(kind: str, *steps: Any, end: str = "finish", headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(tuple(steps), end=end, content_type=content_type(kind), headers=headers)


def sdk_types_transport_errors() -> bool:
    """Whether the installed SDK's streams raise a failure to read the body as its own exceptions (anthropic
    2.17 and later: its typed body readers); earlier, the HTTP library's exception escapes stock."""
    from anthropic_eventstream._anthropic.body import sdk

    return sdk().body_readers is not None


def run(kind: str, replies: list[Reply], *, is_async: bool, helper: bool = False, **client_options: Any) -> Any:
    with Loopback(replies) as server:
        started = time.monotonic()
        seen, exc = drive(client(kind, server.url, is_async=is_async, **client_options), is_async, helper=helper)
        return seen, exc, time.monotonic() - started, server.requests


@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
def test_a_dropped_connection_is_an_api_connection_error(
    installed: Any, kind: str, is_async: bool, helper: bool
) -> None:
    installed()
    seen, exc, _, _ = run(kind, [reply(kind, *frames(kind, HEAD), end="drop")], is_async=is_async, helper=helper)
    assert type(exc) is anthropic.APIConnectionError, repr(exc)
    assert isinstance(exc.__cause__, HTTP.RemoteProtocolError)
    if sdk_types_transport_errors():  # the SDK's own error for it, message and all, as stock raises it
        assert re.fullmatch(r"Connection to 127\.0\.0\.1:\d+ failed: peer closed connection .*", str(exc)), str(exc)
    else:
        assert str(exc).startswith("Connection error while reading the stream: peer closed connection"), str(exc)
    if not helper:  # the helper's events are its own (text, ...), after the same raw events
        assert seen == SEEN_HEAD


def test_stock_transport_errors(kind: str, is_async: bool) -> None:
    """What the issue is about, pinned per SDK: before anthropic 2.17 the same drop escapes stock as a raw httpx
    error; from 2.17 the SDK raises its own ``APIConnectionError`` (and the installed stream raises that same
    error, unchanged: ``test_a_dropped_connection_is_an_api_connection_error``)."""
    _, exc, _, _ = run(kind, [reply(kind, *frames(kind, HEAD), end="drop")], is_async=is_async)
    if sdk_types_transport_errors():
        assert type(exc) is anthropic.APIConnectionError and isinstance(exc.__cause__, HTTP.RemoteProtocolError)
    else:
        assert isinstance(exc, HTTP.RemoteProtocolError), repr(exc)


def test_a_read_timeout_mid_stream_is_an_api_timeout_error(installed: Any, kind: str, is_async: bool) -> None:
    installed()
    steps = (*frames(kind, HEAD), Wait(5.0), *frames(kind, EVENTS[4:]))
    seen, exc, elapsed, _ = run(kind, [reply(kind, *steps)], is_async=is_async, read_timeout=0.4)
    assert type(exc) is anthropic.APITimeoutError, repr(exc)
    assert isinstance(exc.__cause__, HTTP.TimeoutException)
    assert seen == SEEN_HEAD and elapsed < 4


@pytest.mark.parametrize(
    "failure",
    ["drop", "timeout", "stall"],
)
def test_retry_before_content_retries_transport_failures(
    installed: Any, kind: str, is_async: bool, failure: str
) -> None:
    try:
        installed(retry_before_content=True, stall_timeout=0.5 if failure == "stall" else None, strict=True)
    except ae.SDKChangedError as exc:  # anthropic 0.40: its retry loop does not cover the stream's creation
        pytest.skip(str(exc))
    first = {
        "drop": reply(kind, *frames(kind, EVENTS[:2]), end="drop"),
        "timeout": reply(kind, *frames(kind, EVENTS[:2]), Wait(5.0)),
        "stall": reply(kind, *frames(kind, EVENTS[:2]), Pings(8.0, 0.15, ping(kind))),
    }[failure]
    options = {"read_timeout": 0.4} if failure == "timeout" else {}
    seen, exc, _, requests = run(
        kind, [first, reply(kind, *frames(kind, EVENTS))], is_async=is_async, max_retries=2, **options
    )
    assert exc is None, repr(exc)
    assert [name for name in seen if name != "ping"] == ALL and requests == 2


def test_retry_before_content_keeps_the_sdks_x_should_retry_rule(installed: Any, kind: str, is_async: bool) -> None:
    """anthropic 2.17 and later do not retry a transport failure whose response said ``x-should-retry: false``;
    reading ahead keeps that rule (earlier SDKs retry every transport failure)."""
    try:
        installed(retry_before_content=True, strict=True)
    except ae.SDKChangedError as exc:  # anthropic 0.40: its retry loop does not cover the stream's creation
        pytest.skip(str(exc))
    first = reply(kind, *frames(kind, EVENTS[:2]), end="drop", headers=(("x-should-retry", "false"),))
    seen, exc, _, requests = run(kind, [first, reply(kind, *frames(kind, EVENTS))], is_async=is_async, max_retries=2)
    if sdk_types_transport_errors():
        assert type(exc) is anthropic.APIConnectionError and requests == 1, repr(exc)
        assert seen == ALL[:2]
    else:
        assert exc is None and requests == 2, repr(exc)


def test_mantle_in_band_errors_are_typed(installed: Any, is_async: bool) -> None:
    """Bedrock's Anthropic-native endpoint: an in-band ``overloaded_error`` is 529, as first-party."""
    installed()
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = frames("mantle", HEAD)[0] + b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"
    seen, exc, _, _ = run("mantle", [reply("mantle", body)], is_async=is_async)
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529, repr(exc)
    assert exc.body == error and seen == ["message_start"]


def test_mantle_cut_off_is_incomplete(installed: Any, is_async: bool) -> None:
    installed()
    _, exc, _, _ = run("mantle", [reply("mantle", *frames("mantle", HEAD))], is_async=is_async)
    assert type(exc) is anthropic.APIConnectionError and isinstance(exc.__cause__, ae.IncompleteStreamError)


@pytest.mark.parametrize("kind", ["first-party", "vertex", "mantle"])
@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
def test_a_final_event_without_its_blank_line_is_complete(
    installed: Any, kind: str, is_async: bool, helper: bool
) -> None:
    body = b"".join(frames(kind, EVENTS))
    assert body.endswith(b"}\n\n")
    bodies = (body[:-1], body[:-2])  # without the blank line; without the data line's end too
    stock = [run(kind, [reply(kind, last)], is_async=is_async, helper=helper)[:2] for last in bodies]
    installed()
    for last, (stock_seen, stock_exc) in zip(bodies, stock, strict=True):
        seen, exc, _, _ = run(kind, [reply(kind, last)], is_async=is_async, helper=helper)
        assert exc is None and stock_exc is None, repr(exc)
        assert seen == stock_seen  # no event the SDK would not yield: it drops the unfinished message_stop
    cut = body[: body.rindex(b'"type"')]  # inside message_stop's data
    _, exc, _, _ = run(kind, [reply(kind, cut)], is_async=is_async, helper=helper)
    assert type(exc) is anthropic.APIConnectionError and isinstance(exc.__cause__, ae.IncompleteStreamError)
