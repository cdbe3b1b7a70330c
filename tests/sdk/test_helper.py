"""The ``messages.stream()`` helper's short way for text and thinking deltas (``_anthropic.helper``): taken
only where ``probe`` found the SDK's own code doing the same, and then giving what the SDK gives."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

import anthropic_eventstream as ae
from anthropic_eventstream import testing
from anthropic_eventstream._anthropic.helper import helper_probe

from ..helpers import REQUEST
from .test_models import EVENTS, shape

MODULES = ("anthropic.lib.streaming._messages", "anthropic.lib.streaming._beta_messages")
SHORT_KINDS = ["input_json_delta", "text_delta", "thinking_delta"]


def _module(name: str) -> Any:
    module = pytest.importorskip(name, reason="this anthropic release has no such helper")
    if "json_bufs" not in inspect.signature(module.accumulate_event).parameters:
        pytest.skip("this anthropic release keeps the tool-input buffers on the block: no short way")
    return module


def _delta(index: int, kind: str, part: str) -> dict[str, Any]:
    field = kind.removesuffix("_delta")
    return {"type": "content_block_delta", "index": index, "delta": {"type": kind, field: part}}


#: Text and thinking blocks, each receiving its own delta kind and the other one (which the SDK ignores for the
#: snapshot and gives no helper event for), with non-ASCII, quotes, backslashes and newlines.
STREAM = [
    EVENTS[0],
    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
    _delta(0, "thinking_delta", "Hmm, caf\u00e9 \U0001f914"),
    _delta(0, "text_delta", "not for a thinking block"),
    {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    _delta(1, "text_delta", 'print("a\\\\b")\n'),
    _delta(1, "thinking_delta", "not for a text block"),
    _delta(1, "text_delta", "\u00fcber \U0001f44b"),
    {"type": "content_block_stop", "index": 1},
    EVENTS[14],
    EVENTS[16],
]


def _helper_shapes(client: Any, is_async: bool, beta: bool) -> Any:
    messages = client.beta.messages if beta else client.messages

    async def collect_async() -> Any:
        async with messages.stream(**REQUEST) as stream:
            events = [shape(event) async for event in stream]
            return events, shape(await stream.get_final_message())

    if is_async:
        return asyncio.run(collect_async())
    with messages.stream(**REQUEST) as stream:
        return [shape(event) for event in stream], shape(stream.get_final_message())


def _installed_and_stock(backend: str, is_async: bool, beta: bool) -> tuple[Any, Any]:
    sse = testing.anthropic_sse(STREAM)
    stock = _helper_shapes(testing.mock_anthropic_client(testing.split(sse, 9), is_async=is_async), is_async, beta)
    ae.install(backend=backend)
    try:
        client = testing.mock_anthropic_client(testing.split(sse, 9), is_async=is_async)
        return _helper_shapes(client, is_async, beta), stock
    finally:
        ae.uninstall()


@pytest.mark.parametrize("name", MODULES)
def test_the_probe_takes_the_short_way_for_text_thinking_and_tool_input(name: str) -> None:
    found = helper_probe(_module(name))
    assert sorted(found.built) == SHORT_KINDS and not found.why_not
    report = ae.diagnostics()["helper_events"]
    assert report["on"] and report["modules"][name] == {"kinds": SHORT_KINDS}


@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_helper_streams_with_deltas_on_either_kind_of_block_match_stock(
    backend: str, is_async: bool, beta: bool
) -> None:
    _module(MODULES[beta])
    ours, stock = _installed_and_stock(backend, is_async, beta)
    assert ours == stock


def test_a_release_whose_build_events_differs_keeps_its_own_for_that_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _module(MODULES[0])
    sdk_build_events = module.build_events

    def build_events(*, event: Any, message_snapshot: Any) -> Any:  # a release whose TextEvent carries more
        events = sdk_build_events(event=event, message_snapshot=message_snapshot)
        if len(events) == 2 and events[1].type == "text":
            events[1] = module.build(type(events[1]), type="text", text=event.delta.text, snapshot="changed")
        return events

    monkeypatch.setattr(module, "build_events", build_events)
    found = helper_probe(module)
    assert sorted(found.built) == ["input_json_delta", "thinking_delta"] and list(found.why_not) == ["text_delta"]
    assert "text_delta" in found.why_not["text_delta"]
    ours, stock = _installed_and_stock(ae.BACKEND, False, False)
    assert ours == stock
    assert "'changed'" in repr(ours[0])  # the release's own TextEvent, built by its own code


def test_a_release_whose_accumulate_event_differs_keeps_its_own_for_that_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _module(MODULES[0])
    sdk_accumulate = module.accumulate_event

    def accumulate_event(*, event: Any, current_snapshot: Any, json_bufs: Any, **kwargs: Any) -> Any:
        snapshot = sdk_accumulate(event=event, current_snapshot=current_snapshot, json_bufs=json_bufs, **kwargs)
        block = snapshot.content[event.index] if event.type == "content_block_delta" else None
        if event.type == "content_block_delta" and event.delta.type == "thinking_delta" and block.type == "thinking":
            block.thinking += "!"  # a release that marks each thinking delta
        return snapshot

    monkeypatch.setattr(module, "accumulate_event", accumulate_event)
    found = helper_probe(module)
    assert sorted(found.built) == ["input_json_delta", "text_delta"] and list(found.why_not) == ["thinking_delta"]
    ours, stock = _installed_and_stock(ae.BACKEND, False, False)
    assert ours == stock


def test_an_accumulate_event_parameter_this_version_does_not_know_turns_the_short_way_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = _module(MODULES[0])
    sdk_accumulate = module.accumulate_event

    def accumulate_event(
        *, event: Any, current_snapshot: Any, json_bufs: Any, surprise: Any = None, **kwargs: Any
    ) -> Any:
        return sdk_accumulate(event=event, current_snapshot=current_snapshot, json_bufs=json_bufs, **kwargs)

    monkeypatch.setattr(module, "accumulate_event", accumulate_event)
    found = helper_probe(module)
    assert not found.built and set(found.why_not) == set(SHORT_KINDS)
    assert "surprise" in found.why_not["text_delta"]
    report = ae.diagnostics()["helper_events"]
    assert (
        report["modules"][MODULES[0]]["kinds"] == []
        and "surprise" in report["modules"][MODULES[0]]["why"]["text_delta"]
    )
    ours, stock = _installed_and_stock(ae.BACKEND, False, False)
    assert ours == stock


def test_a_beta_tool_input_under_fine_grained_tool_streaming_keeps_its_partial_strings(
    backend: str, is_async: bool
) -> None:
    """The beta helper parses a tool input with jiter's ``trailing-strings`` under that beta header: the
    followed input does too (``helper.tool_input_mode`` asks the SDK), each snapshot as stock's."""
    _module(MODULES[1])
    stream = [
        EVENTS[0],
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "n", "input": {}},
        },
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": part}}
            for part in ['{"path": "a', 'b.md", "edits": [{"text": "caf', "\u00e9 \\", '"}, {"t', 'ext": "x"}]}']
        ),
        {"type": "content_block_stop", "index": 0},
        EVENTS[14],
        EVENTS[16],
    ]
    sse = testing.anthropic_sse(stream)

    async def collect_async(client: Any) -> Any:
        async with client.beta.messages.stream(**REQUEST, betas=["fine-grained-tool-streaming-2025-05-14"]) as s:
            return [repr(getattr(event, "snapshot", None)) async for event in s]

    def collect(client: Any) -> Any:
        if is_async:
            return asyncio.run(collect_async(client))
        with client.beta.messages.stream(**REQUEST, betas=["fine-grained-tool-streaming-2025-05-14"]) as s:
            return [repr(getattr(event, "snapshot", None)) for event in s]

    stock = collect(testing.mock_anthropic_client(sse, is_async=is_async))
    ae.install(backend=backend)
    try:
        ours = collect(testing.mock_anthropic_client(sse, is_async=is_async))
    finally:
        ae.uninstall()
    assert ours == stock
    assert "'caf'" in " ".join(stock)  # the partial string, kept
