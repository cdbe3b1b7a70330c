"""The native model builders (``_anthropic.builders``, ``rust/py/src/model.rs``) against the validator they stand in
for: every object they build is the validator's, class, ``__dict__`` order, field set, extras, private attributes,
types and literal string identity; everything else they decline, and the validator decides.

Checked on the probes the opt-in proves them with, on the whole-stream corpus of ``test_models`` (every event kind,
each with an extra field, each field missing, each value of the wrong type), on the realistic answer of the bench,
on generated events with hostile strings (escapes, non-ASCII, emoji, lone surrogates, very long text), and on
hand-made JSON the builder must decline (repeated or unknown keys, floats, wide integers, a union whose first key
is not ``type``). A learned shape that fails its proof leaves the builder off, and ``diagnostics()`` says why.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anthropic_eventstream import _backend, _bench, diagnostics
from anthropic_eventstream._anthropic import builders
from anthropic_eventstream._anthropic.models import event_validator, tagged_schema

from ..helpers import property_settings
from .test_models import CORPUS

pytestmark = pytest.mark.skipif(_backend.BACKEND != "native", reason="the native builders need the native backend")


def _unions() -> list[Any]:
    from anthropic.types import RawMessageStreamEvent
    from anthropic.types.beta import BetaRawMessageStreamEvent

    return [RawMessageStreamEvent, BetaRawMessageStreamEvent]


UNIONS = pytest.mark.parametrize("union", _unions(), ids=lambda union: getattr(union, "__name__", "beta"))


def _spec(union: Any) -> Any:
    found = tagged_schema(union)
    assert found is not None
    return builders.shape(*found)


def _exact(union: Any, payload: bytes) -> Any:
    """Builds ``payload`` both ways; asserts the builder's object is the validator's (or that it declined); returns
    the built object or ``None``."""
    builder = builders.native_builder(union)
    validate = event_validator(union).validate_json
    built = builder.build(payload)
    try:
        validated = validate(payload)
    except ValueError:
        assert built is None, payload
        with pytest.raises(ValueError):
            builder(payload)  # what it declines, the validator decides: errors included
        return None
    if built is not None:
        assert builders._differs(built, validated, builders._literals(_spec(union)), "event") is None, payload
        assert built.model_dump() == validated.model_dump()
        assert built.model_dump_json() == validated.model_dump_json()
    called = builder(payload)
    assert builders._differs(called, validated, set(), "event") is None
    return built


def _classes(value: Any, found: set[type]) -> set[type]:
    if hasattr(value, "__pydantic_fields_set__"):
        found.add(type(value))
        for item in vars(value).values():
            _classes(item, found)
    return found


def _buildable(kind: Any) -> bool:
    """Whether some JSON builds ``kind`` natively."""
    name = kind[0]
    if name == "declined":
        return False
    if name == "union":
        return any(_buildable(("model", model)) for _, model in kind[1])
    if name == "model":
        return all(_buildable(field_kind) or not required for _, field_kind, required, _ in kind[1][1])
    return True


def _reachable(kind: Any, found: set[type]) -> set[type]:
    """Every model class some JSON of ``kind`` builds natively."""
    name = kind[0]
    if name == "nullable":
        _reachable(kind[1], found)
    elif name == "union":
        for _, model in kind[1]:
            _reachable(("model", model), found)
    elif name == "model" and _buildable(kind):
        found.add(kind[1][0])
        for _, field_kind, _, _ in kind[1][1]:
            _reachable(field_kind, found)
    return found


@UNIONS
def test_the_builder_is_on_and_covers_the_hot_events(union: Any) -> None:
    report = builders.builder_report(union)
    assert report["on"], report
    for event in ("content_block_delta", "content_block_stop", "message_delta", "message_stop"):
        assert event in report["events"]
    assert diagnostics()["native_builders"]["on"]


@UNIONS
def test_every_model_of_the_shape_is_built_by_a_probe(union: Any) -> None:
    spec = _spec(union)
    built: set[type] = set()
    for payload in builders.probes(spec):
        _classes(_exact(union, payload), built)
    assert _reachable(spec, set()) == built


@UNIONS
def test_the_corpus_builds_exactly_or_declines(union: Any) -> None:
    built = 0
    for event in CORPUS:
        for text in (json.dumps(event), json.dumps(event, ensure_ascii=False, separators=(",", ":"))):
            built += _exact(union, text.encode()) is not None
    # most of the corpus is mutations (fields missing, of the wrong type, extra) that the builder must decline,
    # and older SDKs know fewer of its event types
    assert built > 0


def _delta_tags(union: Any) -> set[str]:
    """The delta types the installed SDK's ``content_block_delta`` knows (older releases know fewer)."""
    members = dict(_spec(union)[1])
    delta = next(kind for name, kind, _, _ in members["content_block_delta"][1] if name == "delta")
    return {tag for tag, _ in delta[1]}


def test_the_realistic_answer_builds_natively() -> None:
    union = _unions()[0]
    known = _delta_tags(union)
    declined = []
    for event in _bench.realistic_events(600):
        if event["type"] == "ping" or event.get("delta", {}).get("type", "text_delta") not in known:
            continue  # an event type this SDK does not know is the validator's (and then the SDK's) to refuse
        if _exact(union, _bench._json_text(event).encode()) is None:
            declined.append(event["type"])
    # message_start (its content list), tool_use starts (their input dict) and message_stop (Bedrock's
    # invocation metrics, an extra field) are the validator's; every delta, stop and message_delta is built.
    assert set(declined) <= {"message_start", "content_block_start", "message_stop"}, declined
    assert {"text_delta", "input_json_delta"} <= known


HOSTILE = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()), max_size=40
) | st.sampled_from(["\ud800", "a\udfff", '"\\', "\u2028\u2029", "😀" * 3000, "\x00\x1f\x7f"])


@property_settings(300)
@given(text=HOSTILE, kind=st.sampled_from(["text_delta", "thinking_delta", "input_json_delta"]), ascii=st.booleans())
def test_hostile_strings_build_exactly_or_decline(text: str, kind: str, ascii: bool) -> None:
    field = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}[kind]
    event = {"type": "content_block_delta", "index": 3, "delta": {"type": kind, field: text}}
    payload = json.dumps(event, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    for union in _unions():
        built = _exact(union, payload)
        if any(0xD800 <= ord(c) < 0xE000 for c in text):
            assert built is None  # a lone surrogate is the validator's
        elif built is not None:
            assert getattr(built.delta, field) == text


DECLINED = [
    b'{"type":"content_block_delta","index":0,"index":1,"delta":{"type":"text_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","extra":1}}',
    b'{"type":"content_block_delta","index":0.0,"delta":{"type":"text_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":1e0,"delta":{"type":"text_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":99999999999999999999,"delta":{"type":"text_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"a"}}',
    b'{"index":0,"type":"content_block_delta","delta":{"type":"text_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":0,"delta":{"text":"a","type":"text_delta"}}',
    b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\ud800"}}',
    b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}} x',
    b'{"type":"content_block_delta","index":0,"delta":{"type":"future_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":0}',
    b'{"type":"message_delta","delta":{"stop_reason":"a_new_reason"},"usage":{"output_tokens":1}}',
    b'{"type":"message_delta","delta":{},"usage":{"output_tokens":true}}',
    b'{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":1}}',
    b'{"type":"future_event"}',
    b"[1]",
    b"",
]


@UNIONS
@pytest.mark.parametrize("payload", DECLINED)
def test_what_the_builder_does_not_read_exactly_goes_to_the_validator(union: Any, payload: bytes) -> None:
    assert builders.native_builder(union).build(payload) is None
    _exact(union, payload)


@UNIONS
def test_a_shape_that_fails_its_proof_leaves_the_builder_off(union: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = builders.shape

    def wrong(schema: Any, definitions: Any) -> Any:
        kind, members = real(schema, definitions)
        # every member's fields in reverse: the built __dict__ order is no longer the validator's
        return kind, [(tag, (model[0], model[1][::-1], *model[2:])) for tag, model in members]

    monkeypatch.setattr(builders, "shape", wrong)
    builders.forget()
    try:
        report = builders.builder_report(union)
        assert not report["on"] and "proof failed" in report["why"] and "__dict__" in report["why"], report
        assert builders.native_builder(union) is None
        assert builders.event_builder(union) == event_validator(union).validate_json
    finally:
        monkeypatch.undo()
        builders.forget()
    assert builders.builder_report(union)["on"]


def test_the_python_backend_keeps_the_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    union = _unions()[0]
    monkeypatch.setattr(_backend, "native_module", lambda backend: None)
    builders.forget()
    try:
        report = builders.builder_report(union)
        assert not report["on"] and "python backend" in report["why"]
        assert builders.event_builder(union) == event_validator(union).validate_json
    finally:
        monkeypatch.undo()
        builders.forget()
