"""How the native backend may build the SDK's ``ServerSentEvent`` without running its ``__init__``: a ``Layout``
is each attribute the constructor sets, in its order, with its ``Role`` (what it holds) and, for a constant, its
value. The SDK adapter learns it from a real constructor call (``_anthropic.events.event_layout``); the binding
reads it (``rust/py/src/event.rs``, whose table of roles ``tests/events/test_layout_roles.py`` holds to this
one).
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["Layout", "Role"]


class Role(str, enum.Enum):
    """What one attribute of an event holds. The first five are the constructor's arguments of those names."""

    EVENT = "event"
    DATA = "data"
    ID = "id"
    RETRY = "retry"
    RAW = "raw"
    #: a fresh empty list per event
    LIST = "list"
    #: the same immutable value for every event
    CONSTANT = "constant"


#: ``(attribute, role, value)`` for each attribute, in the order the constructor sets them.
Layout = list[tuple[str, Role, Any]]
