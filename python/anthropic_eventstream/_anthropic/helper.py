"""The ``messages.stream()`` helper's work per event: ``accumulate_event`` and ``build_events``.

For every event the helper calls ``accumulate_event``, which updates the message snapshot, then ``build_events``,
which returns the event and the helper's own events for it (``TextEvent`` for a text delta, ...). Both are general
functions that test the event against each kind in turn and build through keyword calls. Most of an answer is
text and thinking deltas, for which what they do is short: append the delta to its block's field, and build one
event from the delta and the block's field so far. The wrappers here take that short way for those deltas
(``Short``), the tool-input way for ``input_json_delta`` (``tool_input``), and call the SDK's code for the rest.

That the short way does what the SDK does is checked, not assumed: ``probe`` runs the SDK's functions and the
wrappers side by side on the same made-up stream (each delta kind on a block of its kind and on one of another
kind) and compares every snapshot and every event built: class, ``model_dump()``, ``model_fields_set``. A kind
where anything differs (a release that adds a field to ``TextEvent``, say) is left to the SDK's code, and the
reason is kept for ``diagnostics()``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from .._patching import Patch, check
from . import tool_input
from .models import model_validator
from .profile import ACCUMULATE_PARAMETERS

__all__ = ["KNOWN_PARAMETERS", "SHORTS", "Probe", "Short", "fast_accumulate_event", "fast_build_events", "probe"]


@dataclass(frozen=True)
class Short:
    """A delta kind the short way covers: its ``delta.type``, the block ``type`` it applies to, and the field
    both carry (the delta's part, the block's whole so far)."""

    kind: str
    block: str
    field: str


#: What the SDK's ``accumulate_event`` and ``build_events`` do for these deltas, on a block of the kind
#: named (on any other block: nothing, and only the event itself): ``block.<field> += delta.<field>``, then
#: ``[event, build(<event class>, type=..., <field>=delta.<field>, snapshot=block.<field>)]``.
SHORTS = (Short("text_delta", "text", "text"), Short("thinking_delta", "thinking", "thinking"))


@dataclass(frozen=True)
class _Built:
    """What ``build_events`` adds for one short kind, as the SDK builds it: its ``type``, and the event class's
    own ``validate_python`` (``model_validator``), found once at ``probe``."""

    short: Short
    type: str
    validate: Callable[[Any], Any]


@dataclass(frozen=True)
class Probe:
    """What ``probe`` found for one helper module: the kinds that take the short way, and why each other one
    does not."""

    built: dict[str, _Built]
    why_not: dict[str, str]


def _made_up_stream() -> list[dict[str, Any]]:
    """A message with a block of each short kind: each block receives its own delta kind first (from which
    ``probe`` learns what the SDK builds for it), then every kind, its own and the others."""
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_probe",
            "type": "message",
            "role": "assistant",
            "model": "probe",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    events: list[dict[str, Any]] = [start]
    for index, short in enumerate(SHORTS):
        block = {"type": short.block, short.field: "", **({"signature": ""} if short.block == "thinking" else {})}
        events.append({"type": "content_block_start", "index": index, "content_block": block})
    parts = ("H\u00e9 \U0001f44b ", '"q" \\ \n')
    deltas = [(index, short, part) for part in parts for index, short in enumerate(SHORTS)]
    deltas += [(index, short, part) for part in parts for index in range(len(SHORTS)) for short in SHORTS]
    for index, short, part in deltas:
        delta = {"type": short.kind, short.field: part}
        events.append({"type": "content_block_delta", "index": index, "delta": delta})
    return events


def _state(value: Any) -> Any:
    """What the comparison looks at, nested: each model's class, ``model_dump()``, ``model_fields_set`` and
    attributes."""
    if isinstance(value, list):
        return [_state(item) for item in value]
    if not hasattr(value, "model_fields_set"):
        return value
    attributes = {name: _state(item) for name, item in value.__dict__.items()}
    return (type(value), value.model_dump(), value.model_fields_set, attributes)


def probe(module: Any, union: Any) -> Probe:
    """Runs the SDK's ``accumulate_event`` / ``build_events`` of ``module`` and the short way side by side over
    ``_made_up_stream()`` (events built as the SDK's stream builds them, of the event ``union``), and keeps the
    kinds for which every snapshot and event is the same."""
    construct_type = importlib.import_module("anthropic._models").construct_type
    sdk_accumulate, build_events = (check(Patch(module, name, _same)) for name in ("accumulate_event", "build_events"))
    why_not: dict[str, str] = {}
    extra = _extra_parameters(sdk_accumulate)
    if isinstance(extra, str):
        return Probe({}, {short.kind: f"{module.__name__}: {extra} (the SDK's code runs)" for short in SHORTS})
    accumulate = functools.partial(sdk_accumulate, **extra)
    built: dict[str, _Built] = {}
    theirs: Any = None
    ours: Any = None
    for raw in _made_up_stream():
        event = construct_type(type_=union, value=raw)
        theirs = accumulate(event=event, current_snapshot=theirs, json_bufs={})
        their_events = build_events(event=event, message_snapshot=theirs)
        short = _by_kind(raw)
        if short is None or short.kind in why_not:
            ours = accumulate(event=event, current_snapshot=ours, json_bufs={})
            continue
        if short.kind not in built:
            learnt = _learn(short, their_events, event)
            if isinstance(learnt, str):
                why_not[short.kind] = f"{module.__name__}: {learnt} (the SDK's code runs for it)"
                ours = accumulate(event=event, current_snapshot=ours, json_bufs={})
                continue
            built[short.kind] = learnt
        ours = _accumulate(built[short.kind], event, event.delta, ours)
        our_events = _build(built[short.kind], event, event.delta, ours)
        if our_events is None or _state(our_events) != _state(their_events) or _state(ours) != _state(theirs):
            why_not[short.kind] = (
                f"{module.__name__}: the SDK's accumulate_event / build_events give another snapshot or other "
                f"events for a {short.kind} than the short way (the SDK's code runs for it)"
            )
            del built[short.kind]
            ours = theirs.model_copy(deep=True)
    return Probe(built, why_not)


#: The parameters the helper's ``accumulate_event`` takes in the reviewed releases besides ``ACCUMULATE_PARAMETERS``,
#: each read only for other events than the short kinds' (the parsed output at a block's end, the beta header
#: for a tool input): ``probe`` passes ``None`` for those required.
KNOWN_PARAMETERS = ("output_format", "request_headers")


def _extra_parameters(accumulate: Any) -> dict[str, None] | str:
    """``None`` for each required parameter of ``accumulate`` beyond the first four, or why the short way does
    not apply: a parameter the reviewed releases do not have."""
    extra: dict[str, None] = {}
    for name, parameter in list(inspect.signature(accumulate).parameters.items())[len(ACCUMULATE_PARAMETERS) - 1 :]:
        if parameter.kind is parameter.VAR_KEYWORD:  # takes whatever the stream passes: nothing required
            continue
        if name not in KNOWN_PARAMETERS:
            return f"accumulate_event takes {name}, which this version does not know"
        if parameter.default is parameter.empty:
            extra[name] = None
    return extra


def _by_kind(raw: dict[str, Any]) -> Short | None:
    kind = raw.get("delta", {}).get("type") if raw["type"] == "content_block_delta" else None
    return next((short for short in SHORTS if short.kind == kind), None)


def _learn(short: Short, their_events: Any, event: Any) -> _Built | str:
    """The class and ``type`` of the event the SDK builds for a ``short.kind`` delta on a block of its kind, or
    why the short way does not apply."""
    if not isinstance(their_events, list) or not their_events or their_events[0] is not event:
        return f"build_events does not begin with the event itself for a {short.kind}"
    if len(their_events) != 2:
        return f"build_events adds {len(their_events) - 1} events for a {short.kind}, not one"
    added = their_events[1]
    fields = getattr(added, "model_fields_set", None)
    if fields != {"type", short.field, "snapshot"}:
        return f"the event build_events adds for a {short.kind} sets {sorted(fields or ())}"
    validator = model_validator(type(added))
    if validator is None:
        return f"{type(added).__name__} runs Python code when it is validated"
    return _Built(short, added.type, validator.validate_python)


def _same(original: Any) -> Any:
    return original


def _accumulate(built: _Built, event: Any, delta: Any, current_snapshot: Any) -> Any:
    content = current_snapshot.content[event.index]
    if content.type == built.short.block:
        field = built.short.field
        setattr(content, field, getattr(content, field) + getattr(delta, field))
    return current_snapshot


def _build(built: _Built, event: Any, delta: Any, message_snapshot: Any) -> list[Any] | None:
    """The short way's events, or ``None`` where the validator does not accept the values (the SDK's code
    then builds them)."""
    block = message_snapshot.content[event.index]
    short = built.short
    if block.type != short.block:
        return [event]
    fields = {"type": built.type, short.field: getattr(delta, short.field), "snapshot": getattr(block, short.field)}
    try:
        return [event, built.validate(fields)]
    except Exception:
        return None


def fast_accumulate_event(original: Callable[..., Any], found: Probe) -> Callable[..., Any]:
    """Wraps the helper's ``accumulate_event(*, event, current_snapshot, json_bufs, ...)``."""
    built = found.built

    @functools.wraps(original)
    def accumulate_event(*, event: Any, current_snapshot: Any, json_bufs: dict[Any, Any], **kwargs: Any) -> Any:
        delta: Any = getattr(event, "delta", None)
        kind = getattr(delta, "type", None)
        if current_snapshot is not None and getattr(event, "type", None) == "content_block_delta":
            found = built.get(kind)  # type: ignore[arg-type]
            if found is not None:
                return _accumulate(found, event, delta, current_snapshot)
            if kind == "input_json_delta" and tool_input.accumulate(event, delta, current_snapshot, json_bufs):
                return current_snapshot
        result = original(event=event, current_snapshot=current_snapshot, json_bufs=json_bufs, **kwargs)
        if kind == "input_json_delta":
            tool_input.after_sdk(event, json_bufs)
        return result

    return accumulate_event


def fast_build_events(original: Callable[..., Any], found: Probe) -> Callable[..., Any]:
    """Wraps the helper's ``build_events(*, event, message_snapshot)``."""
    built = found.built

    @functools.wraps(original)
    def build_events(*, event: Any, message_snapshot: Any) -> Any:
        delta: Any = getattr(event, "delta", None)
        found = built.get(getattr(delta, "type", None))  # type: ignore[arg-type]
        if found is not None and getattr(event, "type", None) == "content_block_delta":
            events = _build(found, event, delta, message_snapshot)
            if events is not None:
                return events
        return original(event=event, message_snapshot=message_snapshot)

    return build_events
