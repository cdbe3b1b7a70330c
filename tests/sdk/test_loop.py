"""The SDK's stream loop, as ``_anthropic.loop`` runs it for opted-in streams where it knows the SDK's: taken over only
where the installed loop is a known one, and building, from each event's JSON text, what the SDK builds from the
parsed dict, down to odd JSON (non-finite numbers, huge integers, duplicate keys, escapes, surrounding space).
Whole streams are compared with the stock SDK through real clients, sync and async, on both backends."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import anthropic_eventstream as ae
from anthropic_eventstream import testing
from anthropic_eventstream._anthropic import loop as _sdk_loop
from anthropic_eventstream._anthropic.loop import _known, loop_method_name, take_over
from anthropic_eventstream._anthropic.models import event_validator

from ..helpers import REQUEST, property_settings
from .test_models import CORPUS, EVENTS, _build, _unions, json_values, shape


def _sdk_loop_is_known() -> bool:
    from anthropic._streaming import AsyncStream, Stream

    return _known(Stream.__stream__) is False and _known(AsyncStream.__stream__) is True


known_loop = pytest.mark.skipif(not _sdk_loop_is_known(), reason="this SDK's stream loop is not one taken over")


def _create(client: Any, is_async: bool) -> Any:
    """The stream object of ``messages.create(stream=True)``, not yet iterated."""
    if is_async:
        return asyncio.run(client.messages.create(**REQUEST, stream=True))
    return client.messages.create(**REQUEST, stream=True)


def _results(client: Any, is_async: bool) -> str:
    """Every event of a whole stream, or the exception that ended it (as ``repr``: NaN is not equal to itself)."""

    async def collect_async() -> Any:
        return [shape(event) async for event in await client.messages.create(**REQUEST, stream=True)]

    try:
        if is_async:
            return repr(asyncio.run(collect_async()))
        return repr([shape(event) for event in client.messages.create(**REQUEST, stream=True)])
    except Exception as exc:
        return repr((type(exc), str(exc)))


@known_loop
def test_the_sdk_loop_is_taken_over_where_it_is_known(is_async: bool) -> None:
    stream = _create(
        ae.accelerate(testing.mock_anthropic_client(testing.anthropic_sse(EVENTS[:1]), is_async=is_async)), is_async
    )
    assert vars(stream)["_iterator"].__name__ == ("_aevents" if is_async else "_events")
    stock = _create(testing.mock_anthropic_client(testing.anthropic_sse(EVENTS[:1]), is_async=is_async), is_async)
    assert "_iterator" not in vars(stock)


class _Observer:
    """The SDK's stream observer (anthropic 2.12 and later; an OpenTelemetry configuration sets one on the response's
    body), recording what the stream reports."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def begin(self) -> None:
        self.calls.append("begin")

    def item(self, item: Any) -> None:
        self.calls.append(("item", shape(item)))

    def end(self, how: str, error: BaseException | None = None) -> None:
        self.calls.append(("end", how, repr(error)))


def _observed(client: Any, is_async: bool) -> list[Any]:
    """What a whole stream of ``client`` reports to its observer."""
    stream = _create(client, is_async)
    observer = stream.response.stream.stream_observer = _Observer()

    async def drain() -> None:
        async for _ in stream:
            pass

    asyncio.run(drain()) if is_async else list(stream)
    return observer.calls


def _closed_then_read(client: Any, is_async: bool) -> list[Any]:
    """The first event through one iterator of a stream, which is then closed, and the rest through another."""
    stream = _create(client, is_async)

    async def read_async() -> list[Any]:
        iterator = stream.__aiter__()
        first = await iterator.__anext__()
        await iterator.aclose()
        return [shape(first)] + [shape(event) async for event in stream]

    if is_async:
        return asyncio.run(read_async())
    iterator = iter(stream)
    first = next(iterator)
    iterator.close()
    return [shape(first)] + [shape(event) for event in stream]


@known_loop
def test_a_taken_over_stream_hands_its_items_on_as_the_sdk_does(backend: str, is_async: bool) -> None:
    from anthropic._streaming import AsyncStream, Stream

    body = testing.anthropic_sse(testing.message_events(["An ", "answer."]))
    cls = AsyncStream if is_async else Stream

    def fast() -> Any:
        return ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async), backend=backend)

    stream = _create(fast(), is_async)
    assert type(stream) is not cls and isinstance(stream, cls)
    assert [getattr(type(stream), name) for name in ("__name__", "__qualname__", "__module__", "__doc__")] == [
        getattr(cls, name) for name in ("__name__", "__qualname__", "__module__", "__doc__")
    ]
    # closing one iterator of the stream leaves the stream's loop where it is
    expected = _closed_then_read(testing.mock_anthropic_client(body, is_async=is_async), is_async)
    assert len(expected) == len(testing.message_events(["An ", "answer."]))
    assert _closed_then_read(fast(), is_async) == expected
    # an observer is told every item, where the stream has one
    expected = _observed(testing.mock_anthropic_client(body, is_async=is_async), is_async)
    assert sum(1 for call in expected if call[0] == "item") == len(testing.message_events(["An ", "answer."]))
    assert _observed(fast(), is_async) == expected


@pytest.mark.parametrize("method", ["__stream__", "_iter_events", "__iter__"])
def test_an_unknown_loop_is_left_to_the_sdk(monkeypatch: pytest.MonkeyPatch, is_async: bool, method: str) -> None:
    from anthropic._streaming import AsyncStream, Stream

    cls = AsyncStream if is_async else Stream
    method = loop_method_name(method, is_async)
    original = getattr(cls, method)

    def other(self: Any) -> Any:  # a loop (or reader) of another shape: here the SDK's, behind one more call
        return original(self)

    monkeypatch.setattr(cls, method, other)
    report = ae.diagnostics()["stream_loop"]
    side = "async" if is_async else "sync"
    assert report["on"] is False and report[side] is False
    assert f"reviewed {cls.__name__}.{method}" in report["differs"][side]
    body = testing.anthropic_sse([*EVENTS[:1], EVENTS[16]])
    stream = _create(ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async)), is_async)
    assert getattr(vars(stream).get("_iterator"), "__name__", None) not in ("_events", "_aevents")
    assert type(stream) is cls
    assert not take_over(stream)
    assert _results(ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async)), is_async) == _results(
        testing.mock_anthropic_client(body, is_async=is_async), is_async
    )


@pytest.mark.parametrize("union", _unions(), ids=lambda u: str(u).split("'")[1] if "'" in str(u) else str(u))
def test_what_validation_from_text_accepts_is_built_as_stock(union: Any) -> None:
    from anthropic import Anthropic

    validator = event_validator(union)
    client = Anthropic(api_key="testing")
    accepted = 0
    for entry in CORPUS:
        try:
            built = validator.validate_json(json.dumps(entry))
        except Exception:
            continue
        accepted += 1
        assert shape(built) == shape(_build(client, entry, union)), entry
    assert accepted > 100


def _sse(events: list[tuple[str, str]]) -> bytes:
    return b"".join(f"event: {name}\ndata: {data}\n\n".encode() for name, data in events)


def _delta(text: str) -> tuple[str, str]:
    return "content_block_delta", '{"type": "content_block_delta", "index": 0, "delta": ' + text + "}"


def _tool_start(document: str) -> tuple[str, str]:
    block = '{"type": "tool_use", "id": "toolu_01", "name": "f", "input": ' + document + "}"
    return "content_block_start", '{"type": "content_block_start", "index": 0, "content_block": ' + block + "}"


ODD_TEXTS = {
    "non-finite numbers": _tool_start('{"a": NaN, "b": Infinity, "c": -Infinity}'),
    "huge and tiny floats": _tool_start('{"a": 1e400, "b": -0.0, "c": 5e-324, "d": 0.1, "e": 1.7976931348623157e308}'),
    "long integers": _tool_start('{"a": ' + "9" * 300 + ', "b": -' + "1" * 200 + "}"),
    "an integer past the digit limit": _tool_start('{"a": ' + "7" * 5000 + "}"),
    "duplicate keys": _delta('{"type": "text_delta", "text": "a", "text": "b"}'),
    "a duplicate tag": (
        "content_block_delta",
        '{"type": "ping", "index": 0, "delta": {"type": "text_delta", "text": "x"}, "type": "content_block_delta"}',
    ),
    "a lone surrogate escape": _delta('{"type": "text_delta", "text": "\\ud800"}'),
    "a surrogate pair escape": _delta('{"type": "text_delta", "text": "\\ud83d\\ude00 \\u00e9"}'),
    "control escapes": _delta('{"type": "text_delta", "text": "\\u0000\\n\\t\\""}'),
    "surrounding space": (
        "content_block_delta",
        '  {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}  ',
    ),
    "not JSON": _delta('{"type": "text_delta", "text": "x"'),
    "a long text": _delta('{"type": "text_delta", "text": "' + "y" * 700 + '"}'),
    "non-ASCII text": _delta('{"type": "text_delta", "text": "\u4e2d\u00e9\U0001f600"}'),
    "a wrong type": _delta('{"type": "text_delta", "text": 5}'),
    "an index as a string": (
        "content_block_delta",
        '{"type": "content_block_delta", "index": "0", "delta": {"type": "text_delta", "text": "x"}}',
    ),
    "an unknown delta": _delta('{"type": "future_delta", "x": [1, {"y": null}]}'),
    "a top-level list": ("content_block_delta", "[1, 2]"),
}


@pytest.mark.parametrize("text", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
def test_odd_json_is_built_as_stock(text: tuple[str, str], backend: str, is_async: bool) -> None:
    start, stop = ("message_start", json.dumps(EVENTS[0])), ("message_stop", json.dumps(EVENTS[16]))
    body = _sse([start, text, stop])
    stock = _results(testing.mock_anthropic_client(body, is_async=is_async), is_async)
    ours = _results(ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async), backend=backend), is_async)
    assert ours == stock


LOOP_RULES = {
    "pings, unnamed and empty events are skipped": [
        ("ping", '{"type": "ping"}'),
        ("", '{"type": "content_block_delta"}'),
        ("content_block_delta", ""),
    ],
    "an error event is the SDK's status error": [("error", '{"type": "error", "error": {"type": "overloaded_error"}}')],
    "an error event that is not JSON": [("error", "upstream gone")],
    "an empty error event": [("error", "")],
}


def _rules_body(events: list[tuple[str, str]]) -> bytes:
    lines = []
    for name, data in [("message_start", json.dumps(EVENTS[0])), *events, ("message_stop", json.dumps(EVENTS[16]))]:
        lines.append((f"event: {name}\n" if name else "") + f"data: {data}\n\n")
    return "".join(lines).encode()


@pytest.mark.parametrize("events", list(LOOP_RULES.values()), ids=list(LOOP_RULES))
def test_the_loop_rules_are_the_sdks(
    events: list[tuple[str, str]], backend: str, is_async: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the same opt-in with the SDK's own loop (an ``error`` event is typed by the opt-in either way)."""
    body = _rules_body(events)
    ours = _results(ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async), backend=backend), is_async)
    monkeypatch.setattr(_sdk_loop, "_known", lambda loop, method="__stream__": None)
    sdk_loop = _results(
        ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async), backend=backend), is_async
    )
    assert ours == sdk_loop
    if events[0][0] != "error":
        assert ours == _results(testing.mock_anthropic_client(body, is_async=is_async), is_async)


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="no integer digit limit in this Python")
def test_an_integer_past_a_lowered_digit_limit_is_the_sdks_error(is_async: bool) -> None:
    """``json.loads`` applies ``sys.get_int_max_str_digits()``, which a program may lower to 640; pydantic-core's
    parser would still read such an integer, so texts long enough to hold one go the SDK's way."""
    start, stop = ("message_start", json.dumps(EVENTS[0])), ("message_stop", json.dumps(EVENTS[16]))
    body = _sse([start, _tool_start('{"a": ' + "7" * 1000 + "}"), stop])
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        stock = _results(testing.mock_anthropic_client(body, is_async=is_async), is_async)
        ours = _results(ae.accelerate(testing.mock_anthropic_client(body, is_async=is_async)), is_async)
    finally:
        sys.set_int_max_str_digits(limit)
    assert "ValueError" in stock and ours == stock


def _with_decoder(client: Any, decoder: Callable[[], Any]) -> Any:
    """``client`` as an instance of a subclass whose ``_make_sse_decoder`` is ``decoder``."""
    client.__class__ = type(
        "OwnDecoderClient", (type(client),), {"_make_sse_decoder": lambda self, options=None: decoder()}
    )
    return client


def test_events_of_another_decoder_keep_their_own_json(is_async: bool) -> None:
    """A client's own decoder may make events whose ``json()`` is not ``json.loads`` of their data: those go the
    SDK's way (``process_data(data=sse.json())``), not through validation from the text."""
    from anthropic._streaming import SSEDecoder

    def rewrite(sse: Any) -> Any:
        class Rewritten(type(sse)):  # type: ignore[misc]
            def json(self) -> Any:
                data = super().json()
                if isinstance(data, dict) and data.get("type") == "content_block_delta":
                    data["delta"] = {"type": "text_delta", "text": "rewritten"}
                return data

        sse.__class__ = Rewritten
        return sse

    class Rewriting(SSEDecoder):
        def iter_bytes(self, iterator: Any) -> Any:
            return map(rewrite, super().iter_bytes(iterator))

        async def aiter_bytes(self, iterator: Any) -> Any:
            async for sse in super().aiter_bytes(iterator):
                yield rewrite(sse)

    body = testing.anthropic_sse([EVENTS[0], EVENTS[7], EVENTS[16]])
    stock = _results(_with_decoder(testing.mock_anthropic_client(body, is_async=is_async), Rewriting), is_async)
    ours = _results(
        ae.accelerate(_with_decoder(testing.mock_anthropic_client(body, is_async=is_async), Rewriting)), is_async
    )
    assert "rewritten" in stock and ours == stock


#: JSON number texts as a model might send them: any digits, fractions and exponents.
number_texts = st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)


@property_settings(300)
@given(numbers=st.lists(number_texts, min_size=1, max_size=8), value=json_values)
def test_tool_inputs_validated_from_text_are_built_as_stock(numbers: list[str], value: Any) -> None:
    from anthropic import Anthropic
    from anthropic.types import RawMessageStreamEvent

    document = "{" + ", ".join(f'"n{i}": {n}' for i, n in enumerate(numbers)) + f', "v": {json.dumps(value)}' + "}"
    text = _tool_start(document)[1]
    stock = _build(Anthropic(api_key="testing"), json.loads(text), RawMessageStreamEvent)
    assert repr(shape(event_validator(RawMessageStreamEvent).validate_json(text))) == repr(shape(stock))


def test_diagnostics_say_which_fast_paths_are_on_and_why_not(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    import logging

    import anthropic
    from anthropic._streaming import Stream

    report = ae.diagnostics()
    assert report["backend"] == ae.BACKEND and report["anthropic"] == anthropic.__version__
    profile = report["sdk_profile"]
    assert profile["in_range"] is True and set(profile["signatures"]) >= {"_make_sse_decoder", "_process_response"}
    assert profile["signatures"]["_make_sse_decoder"] == "ok"
    typed = hasattr(anthropic.Anthropic, "_should_retry_failure")  # anthropic >= 2.17
    assert profile["signatures"]["_should_retry_failure"] == (
        "ok" if typed else "absent (an earlier release): not called"
    )
    assert profile["body_readers"].startswith("the SDK's typed readers" if typed else "raw:")
    assert report["native_decoder"]["on"] is (ae.BACKEND == "native")
    known = _sdk_loop._known(Stream.__stream__) is False
    assert report["stream_loop"]["on"] is (known and report["stream_loop"]["async"])
    if report["tagged_validators"]["on"]:
        assert all(count >= 2 for count in report["tagged_validators"]["unions"].values())  # the events, the deltas

    def __stream__(self: Any) -> Any:
        yield from ()

    monkeypatch.setattr(Stream, "__stream__", __stream__)
    off = ae.diagnostics()["stream_loop"]
    assert (
        off["on"] is False and off["sync"] is False and "not the loop this version was reviewed against" in off["why"]
    )
    assert "-    cast_to = cast(Any, self._cast_to)" in off["differs"]["sync"]
    assert ("async" in off["differs"]) is not report["stream_loop"]["async"]  # the async loop is as it was
    body = testing.anthropic_sse(EVENTS[:3])
    with caplog.at_level(logging.DEBUG, logger="anthropic_eventstream"):
        list(ae.accelerate(testing.mock_anthropic_client(body)).messages.create(**REQUEST, stream=True))
    assert any("the SDK's own stream loop runs for this stream" in r.getMessage() for r in caplog.records)


def _loop_from_source(tmp_path: Any, source: str, name: str) -> Any:
    """``__stream__`` of a module written from ``source`` (``inspect.getsource`` needs a file)."""
    import importlib.util

    path = tmp_path / f"{name}.py"
    header = "import sys\nfrom typing import Any, AsyncIterator, Iterator, cast\n_T = Any\n\n\n"
    path.write_text(header + source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.__stream__


@known_loop
@pytest.mark.parametrize("is_async", [False, True])
def test_the_loop_is_recognised_through_comments_docstrings_and_blank_lines_but_not_a_change(
    tmp_path: Any, is_async: bool
) -> None:
    import inspect
    import textwrap

    from anthropic._streaming import AsyncStream, Stream

    source = textwrap.dedent(inspect.getsource((AsyncStream if is_async else Stream).__stream__))
    head, _, rest = source.partition(":\n")
    recommented = (
        head
        + ':\n    """A docstring a new release added."""\n\n'
        + rest.replace("\n", "  # a new comment\n", 3).replace("continue\n", "continue\n\n    \n", 1)
    )
    assert _known(_loop_from_source(tmp_path, recommented, f"recommented_{is_async}")) is is_async
    for changed in (
        rest.replace('"ping"', '"pong"', 1),
        rest.replace("continue", "pass", 1),
        rest.replace("    ", "  ", 1).replace("\n    ", "\n  "),  # another indentation is another program text
    ):
        assert _known(_loop_from_source(tmp_path, head + ":\n" + changed, f"changed_{is_async}_{len(changed)}")) is None


def test_the_supported_range_is_read_from_release_numbers() -> None:
    from anthropic_eventstream._anthropic.range import supported

    assert [supported(v) for v in ("0.39.9", "0.40.0", "0.125.0", "1.0.0rc1", "2.16.0", "3.0.0", "3.0.0a1")] == [
        False, True, True, True, True, False, False,
    ]  # fmt: skip
