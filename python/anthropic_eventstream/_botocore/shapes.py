"""botocore's parsed events, built natively: the shapes learned from the loaded service model, proved against
botocore's own parser before a stream uses them.

For each event of an event stream shape (bedrock-runtime's ``ResponseStream`` and ``ConverseStreamOutput``), ``spec``
reads the event's structure into the spec of the extension's ``ShapeParser`` (``rust/py/src/shape.rs``): each
member by its JSON name, as a string, an integer or long, a boolean, a blob, or a structure (a tagged union
where the model says so). A member of any other kind (a list, a map, a document, a timestamp, a float) or with a
serialization trait is ``declined``: an event holding it goes to botocore. An event with header or payload
members is left to botocore whole.

``parser_for`` then proves the parser on probe payloads made from the spec (every member present and absent,
``null``, unknown keys, escapes, non-ASCII), each parsed both ways: botocore's ``parse`` of the frame's
response dict, and the native parse, must be the same dicts, key order included. If one differs, the stream
keeps botocore's parser for every event, and ``parser_report`` says why.
"""

from __future__ import annotations

import base64
import inspect
import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

from .. import _backend
from .._frames.api import EventStreamDecoder, encode_message

__all__ = ["OPERATIONS", "STREAMS", "botocore_report", "parser_for", "parser_report", "spec"]

#: The event stream shapes whose events are built natively.
STREAMS = ("ResponseStream", "ConverseStreamOutput")

_SCALARS = {"string": "string", "integer": "integer", "long": "integer", "boolean": "boolean", "blob": "blob"}
_DECLINED = ("declined",)


def _kind(shape: Any, open_: set[int]) -> tuple[Any, ...]:
    if shape.serialization not in ({}, None) and set(shape.serialization) - {"name"}:
        return _DECLINED
    name = shape.type_name
    if name in _SCALARS:
        return (_SCALARS[name],)
    if name == "structure" and not getattr(shape, "is_document_type", False) and id(shape) not in open_:
        open_.add(id(shape))
        try:
            return ("structure", _members(shape, open_), bool(getattr(shape, "is_tagged_union", False)))
        finally:
            open_.discard(id(shape))
    return _DECLINED


def _members(shape: Any, open_: set[int]) -> list[tuple[str, str, tuple[Any, ...]]]:
    return [
        (member.serialization.get("name", name), name, _kind(member, open_)) for name, member in shape.members.items()
    ]


def spec(stream_shape: Any) -> list[tuple[str, list[Any], bool]]:
    """The ``ShapeParser`` spec of an event stream shape's events: ``[(event_type, members, union), ...]`` for each
    event the parser can build (no header or payload members)."""
    events = []
    for event_type, event in stream_shape.members.items():
        if event.type_name != "structure" or event.serialization != {"event": True}:
            continue
        if any(member.serialization.get("eventheader") or member.serialization.get("eventpayload")
               for member in event.members.values()):  # fmt: skip
            continue
        events.append((event_type, _members(event, set()), bool(getattr(event, "is_tagged_union", False))))
    return events


# -- probes -----------------------------------------------------------------------------------------------------

_TEXTS = ("Hello", "", 'naïve 日本 🚀 "q" \\ /\n\t\u2028')
_BLOBS = (
    b"",
    b"x",
    b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}',
    bytes(range(256)),
)


def _values(kind: tuple[Any, ...], variant: int) -> Iterator[Any]:
    name = kind[0]
    if name == "string":
        yield _TEXTS[variant % len(_TEXTS)]
    elif name == "integer":
        yield (0, 7, -3, 2**40)[variant % 4]
    elif name == "boolean":
        yield variant % 2 == 0
    elif name == "blob":
        yield base64.b64encode(_BLOBS[variant % len(_BLOBS)]).decode()
    elif name == "structure":
        yield from _objects(kind[1], kind[2], variant)


def _objects(members: list[Any], union: bool, variant: int) -> Iterator[dict[str, Any]]:
    options = [list(itertools.islice(_values(kind, variant), 50)) for _, _, kind in members]
    if union:
        for (key, _, _), values in zip(members, options, strict=True):
            for value in values:
                yield {key: value}
        return
    longest = max((len(values) for values in options), default=1)
    for round_ in range(max(longest, 1)):
        full = {
            key: values[round_ % len(values)] for (key, _, _), values in zip(members, options, strict=True) if values
        }
        yield full
        yield {**full, "p": "abcdefgh"}
        yield dict(list(full.items())[::-2])
        yield {key: None for key in full}


def probes(events: list[tuple[str, list[Any], bool]]) -> list[tuple[str, bytes]]:
    """Probe ``(event_type, payload)`` pairs for a spec, written with and without ``\\u`` escapes."""
    found = []
    for event_type, members, union in events:
        found.append((event_type, b""))
        for variant in range(4):
            for value in _objects(members, union, variant):
                for ascii_only in (False, True):
                    found.append((event_type, json.dumps(value, ensure_ascii=ascii_only).encode()))
    return list(dict.fromkeys(found))


def _result(parsed: Any) -> Any:
    """``parsed``, or for aiobotocore's parser (whose ``parse`` is a coroutine), the coroutine's result: run here
    to its end, as it awaits nothing when it parses an event; one that does suspend is refused."""
    if not inspect.iscoroutine(parsed):
        return parsed
    try:
        parsed.send(None)
    except StopIteration as done:
        return done.value
    parsed.close()
    raise RuntimeError("the parser's coroutine suspended: it cannot be compared here")


def prove(native: Any, stream_shape: Any, parser: Any, payloads: list[tuple[str, bytes]]) -> str | None:
    """Why ``native`` (a ``ShapeParser``) is not botocore's ``parser`` on ``payloads`` (``None``: it is), each
    payload framed and read back by this package's decoder as a stream's frames are."""
    built_any = False
    for event_type, payload in payloads:
        built = native.parse(event_type, payload)
        if built is None:
            continue
        built_any = True
        headers = {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"}
        (message,) = EventStreamDecoder().feed(encode_message(headers, payload))
        try:
            stock = _result(parser.parse(message.to_response_dict(), stream_shape))
        except Exception as exc:
            return f"botocore refuses what the native parser builds ({type(exc).__name__}): {payload[:200]!r}"
        if repr(built) != repr(stock):
            return f"{event_type}: {built!r} instead of {stock!r}"
    return None if built_any else "it built none of the probe payloads"


# -- per stream shape -------------------------------------------------------------------------------------------

#: ``(id(shape), parser class)`` -> ``(shape, native parser or None, why)``: the shape kept alive with its entry;
#: botocore's and aiobotocore's parsers are proved each on its own.
_parsers: dict[tuple[int, type], tuple[Any, Any, str | None]] = {}
_lock = threading.Lock()


def _learn(stream_shape: Any, parser: Any) -> tuple[Any, str | None]:
    native = _backend.native_module(None)
    if native is None:
        return None, "the python backend parses events through botocore (and the shim's shortcuts)"
    if getattr(stream_shape, "name", None) not in STREAMS:
        return None, "not an event stream this version builds natively"
    events = spec(stream_shape)
    try:
        built = native.ShapeParser(events)
    except Exception as exc:  # a spec the binding refuses: botocore parses
        return None, f"the native parser refused the learned shape: {type(exc).__name__}: {exc}"
    try:
        failed = prove(built, stream_shape, parser, probes(events))
    except Exception as exc:  # never the stream's failure: botocore parses
        failed = f"{type(exc).__name__}: {exc}"
    return (None, f"its proof failed: {failed}") if failed else (built, None)


def _entry(stream_shape: Any, parser: Any) -> tuple[Any, Any, str | None]:
    key = (id(stream_shape), type(parser))
    entry = _parsers.get(key)
    if entry is None:
        with _lock:
            entry = _parsers.get(key)
            if entry is None:
                entry = _parsers[key] = (stream_shape, *_learn(stream_shape, parser))
    return entry


def parser_for(stream: Any) -> Any:
    """The proved native parser of a botocore ``EventStream``'s events, or ``None`` (botocore parses them)."""
    return _entry(stream._output_shape, stream._parser)[1]


def parser_report(stream_shape: Any, parser: Any) -> dict[str, Any]:
    """Whether a stream shape's events are parsed natively, and why not where they are not."""
    _, built, why = _entry(stream_shape, parser)
    return {"on": built is not None, **({"why": why} if why else {})}


#: bedrock-runtime's event stream operations, with the output member that holds each one's stream.
OPERATIONS = {"InvokeModelWithResponseStream": "body", "ConverseStream": "stream"}


def botocore_report() -> dict[str, Any]:
    """For ``diagnostics()``: whether the events of bedrock-runtime's event streams (per operation) are parsed
    natively, as a stream of the installed botocore would learn and prove it, and why not where they are not.
    Learned afresh here (from the loaded service model), so that asking keeps nothing alive."""
    try:
        from botocore.loaders import Loader
        from botocore.model import ServiceModel
        from botocore.parsers import create_parser
    except ImportError:
        return {"on": False, "why": "botocore is not installed"}
    try:
        model = ServiceModel(Loader().load_service_model("bedrock-runtime", "service-2"), "bedrock-runtime")
        parser = create_parser(model.metadata["protocol"])._event_stream_parser
        streams = {}
        for operation, member in OPERATIONS.items():
            built, why = _learn(model.operation_model(operation).output_shape.members[member], parser)
            streams[operation] = {"on": built is not None, **({"why": why} if why else {})}
    except Exception as exc:  # a botocore this version cannot inspect: say so, never raise
        return {"on": False, "why": f"cannot inspect botocore: {type(exc).__name__}: {exc}"}
    off = [f"{operation}: {found['why']}" for operation, found in streams.items() if not found["on"]]
    return {"on": not off, **({"why": "; ".join(off)} if off else {}), "streams": streams}


def forget() -> None:
    """Empties the cache (``uninstall_botocore()`` calls it)."""
    with _lock:
        _parsers.clear()
