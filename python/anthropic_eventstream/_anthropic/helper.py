"""The ``messages.stream()`` helper's work per event: ``accumulate_event`` and ``build_events``.

For every event the helper calls ``accumulate_event``, which updates the message snapshot, then ``build_events``,
which returns the event and the helper's own events for it (``TextEvent`` for a text delta, ...). Both are general
functions that test the event against each kind in turn and build through keyword calls (``build``, which walks
the event class's fields in Python). Most of an answer is text, thinking and tool-input deltas, for which what
they do is short: append the delta to its block's field (a tool input: follow its JSON, ``tool_input``), and
build one event from the delta and the block's field so far, which the event class's own validator does in one
call. The wrappers here take that short way for those deltas (``Short``) and call the SDK's code for the rest.

That the short way does what the SDK does is checked, not assumed: ``probe`` runs the SDK's functions and the
wrappers side by side on the same made-up stream (each delta kind on a block of its kind and on one of another
kind) and compares every snapshot and every event built: class, ``model_dump()``, ``model_fields_set``. A kind
where anything differs (a release that adds a field to ``TextEvent``, say) is left to the SDK's code, and the
reason is kept for ``diagnostics()``.

This is the helper's seam: which modules hold the SDK's helpers (``helper_modules``), what each of their functions
must look like (``HELPER_SIGNATURES``, ``accumulate_parameters``), and the patches ``install()`` makes of them
(``helper_capability``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._patching import Capability, Patch, SDKChangedError, capability, check, describe, ours
from . import tool_input
from .models import fast_build, model_validator

__all__ = [
    "ACCUMULATE_PARAMETERS",
    "HELPER_CLASSES",
    "HELPER_MODULES",
    "HELPER_SIGNATURES",
    "KNOWN_PARAMETERS",
    "SHORTS",
    "TOOL_INPUT",
    "Probe",
    "Short",
    "accumulate_parameters",
    "fast_accumulate_event",
    "fast_build_events",
    "helper_capability",
    "helper_modules",
    "helper_probe",
    "probe",
]

#: The signatures of the helper module functions ``install()`` replaces, as the releases in the supported range
#: have them (``_patching.describe``).
HELPER_SIGNATURES: dict[str, tuple[str, ...]] = {
    # anthropic 2.16 has the helper's own build (``model_construct``)
    "build": ("(base_model_cls, *args, **kwargs)", "(event_cls, *args, **fields)"),
    "build_events": ("(*, event, message_snapshot)",),
}

#: The ``messages.stream()`` helper modules, each with the event union its stream reads (module, name): the
#: helper's short way (``helper.probe``) is checked on events of that union.
HELPER_MODULES = {
    "anthropic.lib.streaming._messages": ("anthropic.types", "RawMessageStreamEvent"),
    "anthropic.lib.streaming._beta_messages": ("anthropic.types.beta", "BetaRawMessageStreamEvent"),
}
#: The helper stream class each of ``HELPER_MODULES`` defines, as ``anthropic.lib.streaming`` exports it: where a
#: release defines it is where its helper's functions are (a release without it has no such helper).
HELPER_CLASSES = {
    "anthropic.lib.streaming._messages": "MessageStream",
    "anthropic.lib.streaming._beta_messages": "BetaMessageStream",
}

#: How the helper's ``accumulate_event`` begins where it takes the tool-input buffers as ``json_bufs`` (anthropic 2
#: and later); the wrapper passes whatever follows through unchanged.
ACCUMULATE_PARAMETERS = ("*", "event", "current_snapshot", "json_bufs")


def accumulate_parameters(module: Any) -> tuple[bool, str]:
    """Whether ``module``'s ``accumulate_event`` (the SDK's own, under any replacement of this package's) keeps
    the tool-input buffers in ``json_bufs`` (anthropic 2 and later: it begins with ``ACCUMULATE_PARAMETERS``),
    and its parameters as ``describe`` gives them. Earlier SDKs keep the buffers on the content block; a
    ``json_bufs`` in any other place is a change this package does not know: ``SDKChangedError``."""
    parameters = describe(check(Patch(module, "accumulate_event", lambda original: original)))
    names = tuple(parameters.strip("()").split(", "))
    if names[: len(ACCUMULATE_PARAMETERS)] == ACCUMULATE_PARAMETERS:
        return True, parameters
    if "json_bufs" in names:
        raise SDKChangedError(
            f"{module.__name__}.accumulate_event takes {parameters}, not (*, event, current_snapshot, json_bufs, ...)"
        )
    return False, parameters


@dataclass(frozen=True)
class Short:
    """A delta kind the short way covers: its ``delta.type``, the block ``type`` it applies to (``""``: the
    blocks of the classes in the helper module's ``TRACKS_TOOL_INPUT``), the delta's field, and the block's
    field that is the event's snapshot."""

    kind: str
    block: str
    field: str
    snapshot: str


#: What the SDK's ``accumulate_event`` and ``build_events`` do for these deltas, on a block of the kind
#: named (on any other block: nothing, and only the event itself): ``block.<field> += delta.<field>``, then
#: ``[event, build(<event class>, type=..., <field>=delta.<field>, snapshot=block.<field>)]``.
SHORTS = (Short("text_delta", "text", "text", "text"), Short("thinking_delta", "thinking", "thinking", "thinking"))

#: A tool input's delta, on a block ``TRACKS_TOOL_INPUT`` names: the SDK parses the block's JSON so far into
#: ``block.input`` (which ``tool_input`` does its own way), then builds
#: ``[event, build(InputJsonEvent, type=..., partial_json=delta.partial_json, snapshot=block.input)]``.
TOOL_INPUT = Short("input_json_delta", "", "partial_json", "input")

_KINDS = (*SHORTS, TOOL_INPUT)


@dataclass(frozen=True)
class _Built:
    """What ``build_events`` adds for one short kind, as the SDK builds it: its ``type``, and the event class's
    own ``validate_python`` (``model_validator``), found once at ``probe``; for a tool input, the block classes
    it is built for (the module's ``TRACKS_TOOL_INPUT``)."""

    short: Short
    type: str
    validate: Callable[[Any], Any]
    tracks: tuple[Any, ...] | None = None  # classes (``type`` is a field here)


@dataclass(frozen=True)
class Probe:
    """What ``probe`` found for one helper module: the kinds that take the short way, and why each other one
    does not."""

    built: dict[str, _Built]
    why_not: dict[str, str]
    #: The helper's event union, on which ``tool_input_mode`` asks the SDK how it parses a tool input.
    union: Any = None


#: The parts of the made-up stream's deltas: prose with non-ASCII, quotes, a backslash and a newline; for its tool
#: input, JSON cut through a string, an escape and a list.
_PARTS = ("H\u00e9 \U0001f44b ", '"q" \\ \n')
_JSON_PARTS = ('{"q": "H\u00e9 \\"\U0001f44b', '\\n", "n": [1, 2.5', '], "t": true}')


def _delta(index: int, short: Short, part: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": {"type": short.kind, short.field: part}}


def _made_up_stream() -> list[dict[str, Any]]:
    """A message with a block of each short kind (a ``tool_use`` block for the tool input): each block receives
    its own delta kind first (from which ``probe`` learns what the SDK builds for it), then every kind, its own
    and the others."""
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
    blocks = [
        {"type": "text", "text": ""},
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "tool_use", "id": "toolu_probe", "name": "probe", "input": {}},
    ]
    events: list[dict[str, Any]] = [start]
    events += [{"type": "content_block_start", "index": i, "content_block": b} for i, b in enumerate(blocks)]
    events += [_delta(index, short, part) for part in _PARTS for index, short in enumerate(SHORTS)]
    events.append(_delta(len(SHORTS), TOOL_INPUT, _JSON_PARTS[0]))
    for part, json_part in zip(_PARTS, _JSON_PARTS[1:], strict=True):
        for index in range(len(blocks)):
            events += [_delta(index, short, json_part if short is TOOL_INPUT else part) for short in _KINDS]
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
    kinds for which every snapshot and event is the same. A tool input's snapshot is the SDK's own on both
    sides here (``tool_input`` is checked against it on its own): only the events built are compared."""
    construct_type = importlib.import_module("anthropic._models").construct_type
    sdk_accumulate, build_events = (check(Patch(module, name, _same)) for name in ("accumulate_event", "build_events"))
    why_not: dict[str, str] = {}
    extra = _extra_parameters(sdk_accumulate)
    if isinstance(extra, str):
        return Probe({}, {short.kind: f"{module.__name__}: {extra} (the SDK's code runs)" for short in _KINDS}, union)
    accumulate = functools.partial(sdk_accumulate, **extra)
    tracks = _tracks(module)
    if isinstance(tracks, str):
        why_not[TOOL_INPUT.kind] = f"{module.__name__}: {tracks} (the SDK's code runs for it)"
    built: dict[str, _Built] = {}
    theirs: Any = None
    ours: Any = None
    their_bufs: dict[Any, Any] = {}
    our_bufs: dict[Any, Any] = {}
    for raw in _made_up_stream():
        event = construct_type(type_=union, value=raw)
        theirs = accumulate(event=event, current_snapshot=theirs, json_bufs=their_bufs)
        their_events = build_events(event=event, message_snapshot=theirs)
        short = _by_kind(raw)
        if short is not None and short.kind not in why_not and short.kind not in built:
            learnt = _learn(short, their_events, event, None if isinstance(tracks, str) else tracks)
            if isinstance(learnt, str):
                why_not[short.kind] = f"{module.__name__}: {learnt} (the SDK's code runs for it)"
            else:
                built[short.kind] = learnt
        if short is None or short.kind not in built:
            ours = accumulate(event=event, current_snapshot=ours, json_bufs=our_bufs)
            continue
        found = built[short.kind]
        if short is TOOL_INPUT:
            ours = accumulate(event=event, current_snapshot=ours, json_bufs=our_bufs)
        else:
            ours = _accumulate(found, event, event.delta, ours)
        our_events = _build(found, event, event.delta, ours)
        if our_events is None or _state(our_events) != _state(their_events) or _state(ours) != _state(theirs):
            why_not[short.kind] = (
                f"{module.__name__}: the SDK's accumulate_event / build_events give another snapshot or other "
                f"events for a {short.kind} than the short way (the SDK's code runs for it)"
            )
            del built[short.kind]
            ours, our_bufs = theirs.model_copy(deep=True), dict(their_bufs)
    return Probe(built, why_not, union)


#: A tool input so far that ends inside a string: jiter's ``partial_mode=True`` drops the string,
#: ``"trailing-strings"`` keeps it.
_MODE_INPUT = '{"a": 1, "b": "c'
_MODES = ((True, {"a": 1}), ("trailing-strings", {"a": 1, "b": "c"}))


def tool_input_mode(accumulate: Callable[..., Any], union: Any, kwargs: dict[str, Any]) -> Any:
    """jiter's ``partial_mode`` in which the SDK's ``accumulate`` parses a tool input for a stream that calls it
    with ``kwargs`` (the beta helper's depends on the request's headers), asked of the SDK itself on a made-up
    ``tool_use`` block (``_MODE_INPUT``), not read off its code; ``None`` where it gives neither known result,
    and the SDK's code then keeps the block."""
    construct_type = importlib.import_module("anthropic._models").construct_type
    block = {"type": "tool_use", "id": "toolu_probe", "name": "probe", "input": {}}
    raws = [
        _made_up_stream()[0],
        {"type": "content_block_start", "index": 0, "content_block": block},
        _delta(0, TOOL_INPUT, _MODE_INPUT),
    ]
    snapshot: Any = None
    json_bufs: dict[Any, Any] = {}
    try:
        for raw in raws:
            event = construct_type(type_=union, value=raw)
            snapshot = accumulate(event=event, current_snapshot=snapshot, json_bufs=json_bufs, **kwargs)
        parsed = snapshot.content[0].input
    except Exception:
        return None
    return next((mode for mode, expected in _MODES if parsed == expected), None)


def _tracks(module: Any) -> tuple[type, ...] | str:
    """The block classes ``module``'s helper follows a tool input on (its ``TRACKS_TOOL_INPUT``), or why the
    short way does not apply to ``input_json_delta``."""
    tracks = getattr(module, "TRACKS_TOOL_INPUT", None)
    if not isinstance(tracks, tuple) or not tracks or not all(isinstance(cls, type) for cls in tracks):
        return "it has no TRACKS_TOOL_INPUT tuple of block classes"
    return tracks


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
    return next((short for short in _KINDS if short.kind == kind), None)


def _learn(short: Short, their_events: Any, event: Any, tracks: tuple[type, ...] | None) -> _Built | str:
    """The class and ``type`` of the event the SDK builds for a ``short.kind`` delta on a block of its kind
    (the first such delta of the made-up stream), or why the short way does not apply."""
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
    return _Built(short, added.type, validator.validate_python, tracks if short is TOOL_INPUT else None)


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
    short, tracks = built.short, built.tracks
    if not isinstance(block, tracks) if tracks is not None else block.type != short.block:
        return [event]
    fields = {"type": built.type, short.field: getattr(delta, short.field), "snapshot": getattr(block, short.snapshot)}
    try:
        return [event, built.validate(fields)]
    except Exception:
        return None


def fast_accumulate_event(original: Callable[..., Any], found: Probe) -> Callable[..., Any]:
    """Wraps the helper's ``accumulate_event(*, event, current_snapshot, json_bufs, ...)``."""
    built = {kind: short for kind, short in found.built.items() if short.short in SHORTS}
    union = found.union

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
            tool_input.after_sdk(event, json_bufs, functools.partial(tool_input_mode, original, union, kwargs))
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


def _helper_module_patches(module: Any) -> list[Patch]:
    """One ``messages.stream()`` helper module's patches: its event building (``build``) and, where its
    ``accumulate_event`` keeps the tool-input buffers in its ``json_bufs`` argument, its per-event work
    (``accumulate_event`` and ``build_events``). Earlier SDKs, which keep them on the content block,
    keep theirs as they are; a ``json_bufs`` in any other place is a change this package does not know."""
    patches = [
        Patch(
            module,
            "build",
            lambda original: ours(fast_build(original)),
            parameters=HELPER_SIGNATURES["build"],  # 2.16's own build (model_construct) is slower than a validator
        )
    ]
    takes_json_bufs, parameters = accumulate_parameters(module)
    if takes_json_bufs:
        found = helper_probe(module)
        patches += [
            Patch(
                module,
                "accumulate_event",
                lambda original: ours(fast_accumulate_event(original, found)),
                parameters=parameters,
            ),
            Patch(
                module,
                "build_events",
                lambda original: ours(fast_build_events(original, found)),
                parameters=HELPER_SIGNATURES["build_events"],
            ),
        ]
    return patches


def helper_probe(module: Any) -> Probe:
    """``helper.probe`` for one helper module, on its stream's event union (``HELPER_MODULES``); an SDK whose
    union is not where ``HELPER_MODULES`` says is a change this package does not know."""
    union_module, union_name = HELPER_MODULES[module.__name__]
    try:
        union = getattr(importlib.import_module(union_module), union_name)
    except (ImportError, AttributeError) as exc:
        raise SDKChangedError(f"{union_module}.{union_name}, the event union of {module.__name__}, is missing") from exc
    return probe(module, union)


def helper_modules() -> list[Any]:
    """The installed SDK's ``messages.stream()`` helper modules (``HELPER_MODULES``): each whose stream class
    (``HELPER_CLASSES``) ``anthropic.lib.streaming`` exports. A release that defines one of those classes in
    another module has moved its helper: ``SDKChangedError``."""
    streaming = importlib.import_module("anthropic.lib.streaming")
    found = []
    for name, class_name in HELPER_CLASSES.items():
        cls = getattr(streaming, class_name, None)
        if cls is None:  # a release without this helper
            continue
        if getattr(cls, "__module__", None) != name:
            raise SDKChangedError(
                f"anthropic.lib.streaming.{class_name} is defined in {getattr(cls, '__module__', None)}, not {name}"
            )
        found.append(importlib.import_module(name))
    return found


def helper_capability() -> Capability:
    """The ``messages.stream()`` helper seam (``_helper_module_patches`` for the regular and the beta helper):
    module functions shared by every client, so patched by ``install()`` only."""
    return capability(
        "messages.stream() helper",
        lambda: [patch for module in helper_modules() for patch in _helper_module_patches(module)],
    )
