"""The native Bedrock layer reads each event's JSON with its own scanner; this checks it against
``json.loads`` (via the Python backend and the stock SDK decoder) on generated and mutated JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

anthropic = pytest.importorskip("anthropic")

from anthropic_eventstream import AWSEventStreamDecoder, testing  # noqa: E402
from tests.helpers import property_settings, requires_native  # noqa: E402

pytestmark = requires_native
SETTINGS = property_settings(400)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(["type", "completion", "index", "delta", "typ\\u0065", "text", ""]) | st.text(max_size=5)
objects = st.dictionaries(keys, values, max_size=5).map(
    lambda d: {"type": "content_block_delta", **d} if "x" in str(d) else d
)


def events(text: str) -> list[tuple[Any, ...]]:
    from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

    body = [testing.chunk_frame(text)]
    out = []
    for decoder in (AWSEventStreamDecoder("native"), AWSEventStreamDecoder("python"), Stock()):
        out.append([(e.event, e.data) for e in decoder.iter_bytes(iter(body))])
    return out


def check(text: str) -> None:
    native, python, stock = events(text)
    assert native == python == stock, text


@SETTINGS
@given(values)
def test_generated_json(value: Any) -> None:
    check(json.dumps(value))


@SETTINGS
@given(objects, st.sampled_from(["", " ", "\n\t", "\r "]))
def test_objects_with_whitespace(obj: dict[str, Any], ws: str) -> None:
    text = json.dumps(obj, separators=("," + ws, ":" + ws), ensure_ascii=False)
    check(ws + text + ws)


@SETTINGS
@given(
    objects,
    st.integers(0, 200),
    st.sampled_from(['"', "\\", "{", "}", ",", ":", "\x01", "1", "e", "-", " ", "\\u00", "]", "NaN", "tru"]),
)
def test_mutated_json(obj: dict[str, Any], at: int, insert: str) -> None:
    text = json.dumps(obj)
    at %= len(text) + 1
    check(text[:at] + insert + text[at:])
    check(text[:at] + text[at + 1 :])


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "ping"}',
        '{"type": 1}',
        '{"typ\\u0065": "x"}',
        '{"type": "\\u00e9v\\u00e9nement"}',
        '{"a": NaN}',
        '{"a": -Infinity}',
        '{"a": 1e999}',
        '{"a": "\\ud800"}',
        '{"a": 01}',
        '{"a": 1.}',
        '{"a": .5}',
        "[]",
        "null",
        '"text"',
        '{"completion": "hi"}',
        '{"type": "a"} trailing',
        '{"a": "\x01"}',
        '{"a" 1}',
        "",
        " ",
        "{}",
        '{"type": "a", "type": "b"}',
        '{"type": "a", "type": null}',
        '{"x": [1, {"type": "inner"}]}',
        "[" * 600 + "]" * 600,
        '{"a": ' + "[" * 100 + "]" * 100 + "}",
    ],
)
def test_edge_cases(text: str) -> None:
    check(text)
