"""The SDK's ``ServerSentEvent``, built cheaply: how its constructor lays out an instance (``event_layout``), the
subclass this package's decoders build (``fast_event_class``), whose ``json()`` is exactly ``json.loads`` at half
its cost, and the spec the decoders build it by (``event_spec``).
"""

from __future__ import annotations

import functools
import inspect
import json
import json.scanner
import operator
import sys
from collections.abc import Callable
from typing import Any

from .._events.layout import Layout, Role
from .._events.sse import SSESpec

__all__ = ["JSON_FAST_LENGTH", "event_layout", "event_spec", "fast_event_class"]


#: The constructor arguments of the SDK's ``ServerSentEvent`` (``id``, ``retry`` and ``raw`` where it has them).
_ARGUMENTS = ("event", "data", "id", "retry", "raw")


def event_layout(cls: type) -> Layout | None:
    """How to build ``cls`` instances without running ``__init__``, or ``None`` if that cannot be done safely.

    ``ServerSentEvent.__init__`` is Python code that only stores its arguments; running it is most of the
    cost of an event. We call it once with a sentinel for each argument it takes (``event``, ``data``, and
    ``id``, ``retry``, ``raw`` where it has them) and learn which attribute holds each; every other attribute
    must be an empty list (made fresh per event) or an immutable constant. The layout is accepted only if an
    instance built from it equals one built by the constructor, attribute for attribute. (The constructor
    turns an empty event name into ``None``; the extension sends such rare events, and any with an ``id`` or
    a ``retry``, through the constructor.)
    """
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return None
    sentinels: dict[str, Any] = {"event": "\0event", "data": "\0data"}
    sentinels.update(
        {name: value for name, value in (("id", "\0id"), ("retry", object()), ("raw", [])) if name in parameters}
    )
    try:
        attributes = cls(**sentinels).__dict__
    except (TypeError, AttributeError):
        return None
    if type(attributes) is not dict:
        return None
    layout: Layout = []
    for name, value in attributes.items():
        role = next((role for role, sentinel in sentinels.items() if value is sentinel), None)
        if role is not None:
            layout.append((name, Role(role), None))
        elif type(value) is list and not value:
            layout.append((name, Role.LIST, None))
        elif isinstance(value, (type(None), bool, int, float, str, bytes)):
            layout.append((name, Role.CONSTANT, value))
        else:
            return None
    if sorted(role for _, role, _ in layout if role in sentinels) != sorted(sentinels):
        return None

    fast: Any = object.__new__(cls)
    values = {"event": "message_start", "data": "{}", "id": None, "retry": None}
    for name, role, value in layout:
        setattr(fast, name, [] if role in ("list", "raw") else values.get(role, value))
    slow = cls(event="message_start", data="{}")
    if fast.__dict__ != slow.__dict__ or [fast.event, fast.data, fast.json()] != [slow.event, slow.data, slow.json()]:
        return None
    return layout


_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

_jiter: Callable[[bytes], Any] | None
try:  # the SDK's own JSON parser (a dependency of every release this package supports)
    from jiter import from_json as _jiter
except ImportError:  # only without the SDK's dependencies
    _jiter = None

#: Below this many characters no integer in a JSON document can reach CPython's lowest ``int_max_str_digits``
#: (where ``json.loads`` raises and jiter or pydantic-core's parser would not): such documents may be handed to
#: those parsers. The rule is CPython's own threshold, which is the wire rules' ``MAX_INTEGER_DIGITS`` (the native
#: JSON scanner's bound, ``_frames/wire.txt``) on every supported release; ``tests/frames/test_wire_rules.py``
#: checks that they are one number.
JSON_FAST_LENGTH: int = sys.int_info.str_digits_check_threshold


def _json(self: Any) -> Any:
    """``json.loads(self.data)``, exactly, for the one JSON document an event's data is, at about half its
    cost. A short document is parsed by jiter, which accepts and builds exactly what ``json.loads`` does
    for text that is UTF-8 (a lone surrogate is not, and goes on) and has no integer past CPython's digit
    limit; failing that, by the scanner ``json.loads`` itself runs, without its Python layers. ``json.loads``
    has the last word on anything else (surrounding whitespace, errors), so that its answers and its errors
    are the caller's."""
    text = self.data
    if len(text) < JSON_FAST_LENGTH and _jiter is not None:
        try:
            return _jiter(text.encode("utf-8"))
        except (ValueError, UnicodeEncodeError):
            pass
    try:
        value, end = _scan_once(text, 0)
    except Exception:  # StopIteration, JSONDecodeError, RecursionError: json.loads decides
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def fast_event_class(base: type) -> type:
    """The subclass of the SDK's ``ServerSentEvent`` that this package's decoders build: the same attributes
    and methods, with ``json()`` through the scanner directly (``_json``), and each property that returns an
    attribute unchanged (``event``, ``data``, ... , checked on an instance) read by a C-level getter: the
    SDK's stream loop reads them several times per event."""
    namespace: dict[str, Any] = {"__doc__": base.__doc__, "__module__": __name__, "json": _json}
    layout = event_layout(base)
    if layout is not None:
        arguments: dict[str, Any] = {role: object() for _, role, _ in layout if role in _ARGUMENTS}
        arguments["raw"] = [] if "raw" in arguments else None
        instance = base(**{role: value for role, value in arguments.items() if value is not None})
        for attribute, role, _ in layout:
            accessor = base.__dict__.get(role)
            if isinstance(accessor, property) and accessor.fget is not None and role in arguments:
                if accessor.fget(instance) is arguments[role]:
                    namespace[role] = property(operator.attrgetter(attribute), doc=accessor.__doc__)
    return type(base.__name__, (base,), namespace)


@functools.cache
def event_spec() -> SSESpec:
    """How the drop-in decoders build the SDK's ``ServerSentEvent`` (its fields, made cheaply: ``events``)."""
    from anthropic._streaming import ServerSentEvent

    Event = fast_event_class(ServerSentEvent)
    keep_raw = "raw" in inspect.signature(ServerSentEvent).parameters
    return SSESpec(event_class=Event, keep_raw=keep_raw, layout=event_layout(Event))
