"""Whole-stream exactness: under ``install()``, every event the SDK builds is the one it builds stock.

A corpus is generated from one event of every kind the SDK streams (every event, content block and delta type,
citations, server tools, usage, unknown future types), each also with an unknown extra field, with each field
missing, and with each value of the wrong type. Every corpus entry goes through the SDK's own
``_process_response_data``, stock and installed, for the event unions of the Messages API and its beta, and
the results must be the same classes with the same fields, ``model_fields_set``, extras and ``model_dump()``,
at every level. Whole streams are then compared through real clients (Bedrock on both backends, first-party,
sync and async, ``create(stream=True)`` and ``messages.stream()``).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import anthropic_eventstream as ae
from anthropic_eventstream import testing
from anthropic_eventstream._anthropic.models import event_validator

from ..helpers import REQUEST, property_settings, sdk_state

TEXT_CITATION = {
    "type": "char_location",
    "cited_text": "the sky is blue",
    "document_index": 0,
    "document_title": "Sky",
    "start_char_index": 0,
    "end_char_index": 15,
}
USAGE = {
    "input_tokens": 12,
    "output_tokens": 1,
    "cache_creation_input_tokens": None,
    "cache_read_input_tokens": 3,
    "server_tool_use": {"web_search_requests": 1},
    "service_tier": "standard",
}

#: One event of every kind, as the API sends them.
EVENTS: list[dict[str, Any]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-test-model",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": USAGE,
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "", "citations": None}},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
    {"type": "content_block_start", "index": 2, "content_block": {"type": "redacted_thinking", "data": "abc"}},
    {
        "type": "content_block_start",
        "index": 3,
        "content_block": {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}},
    },
    {
        "type": "content_block_start",
        "index": 4,
        "content_block": {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {}},
    },
    {
        "type": "content_block_start",
        "index": 5,
        "content_block": {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_01",
            "content": [
                {
                    "type": "web_search_result",
                    "title": "Sky",
                    "url": "https://example.com",
                    "encrypted_content": "xyz",
                    "page_age": None,
                }
            ],
        },
    },
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello "}},
    {"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": '{"ci'}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "thinking_delta", "thinking": "Let me see"}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "signature_delta", "signature": "c2ln"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta", "citation": TEXT_CITATION}},
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {
            "type": "citations_delta",
            "citation": {
                "type": "web_search_result_location",
                "cited_text": "blue",
                "url": "https://example.com",
                "title": "Sky",
                "encrypted_index": "eHl6",
            },
        },
    },
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 15, "input_tokens": None, "server_tool_use": None},
    },
    {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {}},
    {"type": "message_stop"},
    {"type": "a_future_event", "index": 0, "payload": {"x": 1}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "a_future_delta", "value": [1, 2.5, None]}},
    {"type": "content_block_start", "index": 6, "content_block": {"type": "a_future_block"}},
]

WRONG_VALUES: list[Any] = [None, 7, "7", 1.5, [], {}, True]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a dict member or list item inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from _paths(item, (*path, index))


def _mutated(event: dict[str, Any], path: tuple[Any, ...], change: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(event)
    *parents, last = path
    target: Any = mutated
    for key in parents:
        target = target[key]
    if change is _DELETE:
        del target[last]
    else:
        target[last] = change
    return mutated


_DELETE = object()


def corpus() -> list[dict[str, Any]]:
    """Every event of ``EVENTS``, as it is, with extra unknown fields (at the top and in each nested object),
    with each member missing, and with each value replaced by values of every other JSON type."""
    entries: list[dict[str, Any]] = []
    for event in EVENTS:
        entries.append(event)
        for path in [(), *_paths(event)]:
            nested = event
            for key in path:
                nested = nested[key]
            if isinstance(nested, dict):
                entries.append(_mutated(event, (*path, "extra_field"), {"future": True}) if path else {**event, "x": 1})
        for path in _paths(event):
            entries.append(_mutated(event, path, _DELETE))
            entries.extend(_mutated(event, path, wrong) for wrong in WRONG_VALUES)
    return entries


CORPUS = corpus()


def shape(value: Any) -> Any:
    """Everything observable of a built value, recursively: each model's class, fields in order,
    ``model_fields_set`` and extras; each other value's type and value."""
    if isinstance(value, pydantic.BaseModel):
        return (
            type(value),
            sorted(value.model_fields_set),
            shape(value.__pydantic_extra__),
            [(name, shape(item)) for name, item in value.__dict__.items()],
        )
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    return (type(value), value)


def dumped(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(warnings=False)
    return value


def _unions() -> list[Any]:
    from anthropic.types import RawMessageStreamEvent

    unions = [RawMessageStreamEvent]
    try:
        from anthropic.types.beta import BetaRawMessageStreamEvent
    except ImportError:
        pass
    else:
        unions.append(BetaRawMessageStreamEvent)
    return unions


def _build(client: Any, data: dict[str, Any], cast_to: Any) -> Any:
    try:
        return client._process_response_data(data=copy.deepcopy(data), cast_to=cast_to, response=None)
    except Exception as exc:
        return type(exc)


@pytest.fixture
def installed() -> Iterator[None]:
    ae.install()
    yield
    ae.uninstall()


def test_the_corpus_is_large_and_covers_every_union_member() -> None:
    from typing import get_args

    from anthropic._utils import extract_type_arg
    from anthropic.types import RawMessageStreamEvent

    assert len(CORPUS) > 1000
    members = get_args(extract_type_arg(RawMessageStreamEvent, 0))
    tags = {event["type"] for event in EVENTS}
    assert {m.model_fields["type"].annotation.__args__[0] for m in members} <= tags


@pytest.mark.parametrize("union", _unions(), ids=lambda u: str(u).split("'")[1] if "'" in str(u) else str(u))
def test_installed_builds_every_corpus_event_as_stock(union: Any, installed: None) -> None:
    from anthropic import Anthropic

    assert event_validator(union) is not None, "the fast path must cover the SDK's event union"
    client = Anthropic(api_key="testing")
    stock_method = Anthropic.__mro__[1]._process_response_data  # the SDK's own, unpatched
    differences = []
    for data in CORPUS:
        ours = _build(client, data, union)
        theirs = stock_method(client, data=copy.deepcopy(data), cast_to=union, response=None)
        if shape(ours) != shape(theirs) or dumped(ours) != dumped(theirs):
            differences.append((data, shape(ours), shape(theirs)))
    assert not differences, differences[:3]


def test_the_fast_path_is_taken_for_valid_events_and_left_for_the_rest() -> None:
    from anthropic.types import RawMessageStreamEvent

    validator = event_validator(RawMessageStreamEvent)
    for event in (EVENTS[7], EVENTS[13], EVENTS[16]):  # a text delta, a block stop, the message stop
        assert type(validator.validate_python(event)).__name__.startswith("Raw")
    for event in EVENTS[-3:]:  # future types
        with pytest.raises(pydantic.ValidationError):
            validator.validate_python(event)


def test_non_union_types_and_non_dicts_are_left_to_the_sdk() -> None:
    from anthropic.types import Message

    assert event_validator(Message) is None
    assert event_validator(object) is None
    assert event_validator(list[int]) is None


def test_uninstall_restores_process_response_data_and_the_helpers_build(installed: None) -> None:
    from anthropic import Anthropic
    from anthropic.lib.streaming import _messages

    build = _messages.build.__wrapped__  # the SDK's own (anthropic 2.16's helper has one of its own)
    assert Anthropic.__dict__.get("_process_response_data") is not None
    assert _messages.build is not build
    ae.uninstall()
    assert "_process_response_data" not in Anthropic.__dict__
    assert _messages.build is build


def test_an_accumulate_event_taking_json_bufs_elsewhere_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from anthropic.lib.streaming import _messages

    def accumulate_event(event: Any, current_snapshot: Any, json_bufs: Any) -> Any: ...

    monkeypatch.setattr(_messages, "accumulate_event", accumulate_event)
    state = sdk_state()
    with pytest.raises(ae.SDKChangedError, match=r"accumulate_event takes \(event, current_snapshot, json_bufs\)"):
        ae.install(strict=True)
    assert sdk_state() == state and not ae.is_installed()
    # diagnostics() reports the same change, and raises nothing
    report = ae.diagnostics()
    assert not report["tool_input"]["on"] and "json_bufs" in report["tool_input"]["why"]
    why = report["helper_events"]["modules"]["anthropic.lib.streaming._messages"]["why"]["*"]
    assert "accumulate_event takes (event, current_snapshot, json_bufs)" in why


def test_the_helpers_build_falls_back_for_what_validation_refuses(installed: None) -> None:
    from anthropic.lib.streaming import TextEvent, _messages

    stock_build = _messages.build.__wrapped__
    for fields in ({"type": "text", "text": "a", "snapshot": "ab"}, {"type": "text", "text": 1}, {"x": [1]}):
        assert shape(_messages.build(TextEvent, **fields)) == shape(stock_build(TextEvent, **fields))


#: A whole answer using every content block and delta kind that has a stream helper event.
STREAM = [
    EVENTS[0],
    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hmm."}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hello "}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": TEXT_CITATION}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "world", "extra": 1}},
    {"type": "content_block_stop", "index": 1},
    {
        "type": "content_block_start",
        "index": 2,
        "content_block": {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}},
    },
    *(
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": part}}
        for part in ['{"city": "Pa', 'ris", "days": [1, ', "2.5, tr", 'ue], "x": null}']
    ),
    {"type": "content_block_stop", "index": 2},
    {"type": "ping"},
    {"type": "a_future_event", "value": 1},
    EVENTS[14],
    EVENTS[16],
]


def _stream_shapes(client: Any, is_async: bool, helper: bool) -> Any:
    async def collect_async() -> Any:
        if helper:
            async with client.messages.stream(**REQUEST) as stream:
                events = [shape(event) async for event in stream]
                return events, shape(await stream.get_final_message())
        return [shape(event) async for event in await client.messages.create(**REQUEST, stream=True)], None

    if is_async:
        return asyncio.run(collect_async())
    if helper:
        with client.messages.stream(**REQUEST) as stream:
            return [shape(event) for event in stream], shape(stream.get_final_message())
    return [shape(event) for event in client.messages.create(**REQUEST, stream=True)], None


@pytest.mark.parametrize("opt_in", ["accelerate", "install"])
@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("chunk_size", [7, 16384])
def test_whole_streams_match_stock(backend: str, is_async: bool, helper: bool, chunk_size: int, opt_in: str) -> None:
    bedrock = testing.bedrock_stream(STREAM)
    sse = testing.anthropic_sse(STREAM)
    clients = [
        (lambda: testing.mock_bedrock_client(bedrock, chunk_size=chunk_size, is_async=is_async)),
        (lambda: testing.mock_anthropic_client(testing.split(sse, chunk_size), is_async=is_async)),
    ]
    for make in clients:
        stock = _stream_shapes(make(), is_async, helper)
        if opt_in == "install":
            ae.install(backend=backend)
            try:
                ours = _stream_shapes(make(), is_async, helper)
            finally:
                ae.uninstall()
        else:
            ours = _stream_shapes(ae.accelerate(make(), backend=backend), is_async, helper)
        assert ours == stock


def test_text_stream_matches_stock(backend: str) -> None:
    sse = testing.anthropic_sse(STREAM)

    def text(client: Any) -> list[str]:
        with client.messages.stream(**REQUEST) as stream:
            return list(stream.text_stream)

    stock = text(testing.mock_anthropic_client(sse))
    assert text(ae.accelerate(testing.mock_anthropic_client(sse), backend=backend)) == stock == ["Hello ", "world"]


def _tool_stream(parts: list[str]) -> list[dict[str, Any]]:
    return [
        EVENTS[0],
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "toolu_01", "name": "write_file", "input": {}},
        },
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": part}}
            for part in parts
        ),
        {"type": "content_block_stop", "index": 0},
        EVENTS[14],
        EVENTS[16],
    ]


def _tool_snapshots(client: Any) -> tuple[list[Any], Any] | type[Exception]:
    """Every helper event with the tool input as it stood then (a copy: the snapshot is live), and the final
    message; or the exception that ended the stream."""
    try:
        with client.messages.stream(**REQUEST) as stream:
            seen = []
            for event in stream:
                block = stream.current_message_snapshot.content[0] if stream.current_message_snapshot.content else None
                seen.append((shape(event), copy.deepcopy(getattr(block, "input", None))))
            return seen, shape(stream.get_final_message())
    except Exception as exc:
        return type(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@property_settings(150)
@given(value=json_values, cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=12), text=st.text())
def test_tool_input_snapshots_match_stock_at_every_delta(value: Any, cuts: list[int], text: str) -> None:
    document = json.dumps(
        {"path": "notes.md", "value": value, "content": text}, ensure_ascii=bool(cuts and cuts[0] % 2)
    )
    points = sorted({min(c, len(document)) for c in cuts})
    parts = [document[a:b] for a, b in zip([0, *points], [*points, len(document)], strict=True)]
    ours, stock = _tool_snapshots_installed_and_stock(parts)
    assert ours == stock


def _tool_snapshots_installed_and_stock(parts: list[str]) -> tuple[Any, Any]:
    sse = testing.anthropic_sse(_tool_stream(parts))
    stock = _tool_snapshots(testing.mock_anthropic_client(sse))
    ae.install()
    try:
        return _tool_snapshots(testing.mock_anthropic_client(sse)), stock
    finally:
        ae.uninstall()


def test_tool_input_edge_cases_match_stock() -> None:
    cases = [
        ['{"content": "a', "b", "c\\", '"d', 'e", "x": [1, "y', "z", '"]}'],
        ['{"a": "\\u00', "e9", " ok", '"}'],
        ['{"a": "x', "\u00e9\u4e2d", "\ud83d\ude00", '"}'],
        ['{"a": "x', "\ud800", '"}'],  # a lone surrogate: the SDK's own error
        ['{"a": "x', "\n", '"}'],  # a raw control character in a string
        ['"top', "level", '"'],  # a string at the top: the SDK's own error
        ['{"a": 1} ', '"trailing', "text"],
        ["", '{"a": "b', "", "c", '"}'],
        ['{"a": "x', 5, '"}'],  # a partial_json that is not a string (kept by the SDK's lenient path)
    ]
    for parts in cases:
        ours, stock = _tool_snapshots_installed_and_stock(parts)
        assert ours == stock, parts


@property_settings(1000)
@given(
    value=st.one_of(st.lists(json_values), st.dictionaries(st.text(max_size=6), json_values)),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=40),
    indent=st.sampled_from([None, 1]),
    mode=st.sampled_from([True, "trailing-strings"]),
)
def test_tool_input_follows_jiter_partial_parse_at_every_cut(
    value: Any, cuts: list[int], indent: int | None, mode: Any
) -> None:
    from jiter import from_json

    from anthropic_eventstream._anthropic.tool_input import ToolInput

    document = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    points = sorted({max(1, min(c, len(document))) for c in cuts} | {len(document)})  # the input opens at 0
    tool_input = ToolInput(mode)
    previous = 0
    for point in points:
        assert tool_input.feed(document[previous:point]) == from_json(document[:point], partial_mode=mode)
        previous = point
    assert tool_input.closed


def test_a_long_structured_tool_input_is_followed_to_the_end() -> None:
    import inspect

    from anthropic.lib.streaming import _messages

    from anthropic_eventstream._anthropic.tool_input import _FOLLOWED, ToolInput

    if "json_bufs" not in inspect.signature(_messages.accumulate_event).parameters:
        pytest.skip("this SDK keeps the tool input's buffer on the block: the SDK's own path is used")

    parts = ['{"rows": [{"id": 0}', *(f', {{"id": {i}, "name": "w{i}"}}' for i in range(1, 300)), "]}"]
    ae.install()
    try:
        client = testing.mock_anthropic_client(testing.anthropic_sse(_tool_stream(parts)))
        with client.messages.stream(**REQUEST) as stream:
            for _ in stream:
                pass
            final = stream.get_final_message()
            followed = stream._MessageStream__json_bufs[_FOLLOWED]  # type: ignore[attr-defined]
    finally:
        ae.uninstall()
    assert isinstance(followed[0], ToolInput)
    assert len(final.content[0].input["rows"]) == 300


def test_the_helper_events_take_the_fast_path() -> None:
    from anthropic.lib.streaming import InputJsonEvent, TextEvent

    from anthropic_eventstream._anthropic.models import model_validator

    assert model_validator(TextEvent) is not None
    assert model_validator(InputJsonEvent) is not None


_HISTORY_PROBE = """
import json, sys
sys.path.insert(0, {root!r})
from anthropic._models import construct_type
from tests.sdk.test_models import CORPUS, _unions
from anthropic_eventstream._anthropic.models import event_validator, tagged_unions
if {history!r}:
    for union in _unions():  # the SDK's models used as an app uses them, before anything is opted in
        for data in CORPUS:
            try:
                construct_type(type_=union, value=data)
            except Exception:
                pass
print(json.dumps([[tagged_unions(u), "Prebuilt" in repr(event_validator(u))] for u in _unions()]))
"""


def test_the_tagged_validator_does_not_depend_on_what_the_process_did_before() -> None:
    """Issue "Speed that holds": once the SDK's models have been validated, pydantic hands back schemas of another
    layout and pydantic-core would reuse the classes' own (smart-union) validators; the tagged validator must
    tag the same unions, built from its own schema, in a fresh process and in one that used every model."""
    import subprocess
    import sys
    from pathlib import Path

    from anthropic_eventstream._anthropic.models import built_throughout

    if not built_throughout():
        pytest.skip("this pydantic-core's SchemaValidator has no _use_prebuilt: it reuses complete classes' validators")
    root = str(Path(__file__).resolve().parent.parent.parent)
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _HISTORY_PROBE.format(root=root, history=history)],
                capture_output=True,
                check=True,
                timeout=600,
            ).stdout
        )
        for history in (False, True)
    ]
    assert runs[0] == runs[1]
    assert all(count >= 2 and not prebuilt for count, prebuilt in runs[1])  # at least the events and the deltas
