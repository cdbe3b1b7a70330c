"""The roles of an event layout (``_events.layout.Role``) are one table for both sides: the native builder
(``rust/py/src/event.rs``) takes every role the Python layer can give it, builds what the constructor builds
with it, and refuses a role it does not know rather than guess."""

from __future__ import annotations

from typing import Any

import pytest

from anthropic_eventstream._events.layout import Role
from anthropic_eventstream._events.sse import SSESpec

from ..helpers import requires_native


class _Event:
    """An event class with an attribute of every role."""

    def __init__(self, event: Any = None, data: Any = None, id: Any = None, retry: Any = None, raw: Any = None):
        self.event, self.data, self.id, self.retry, self.raw = event, data, id, retry, raw
        self.seen: list[Any] = []
        self.kind = "sse"


LAYOUT = [
    ("event", Role.EVENT, None),
    ("data", Role.DATA, None),
    ("id", Role.ID, None),
    ("retry", Role.RETRY, None),
    ("raw", Role.RAW, None),
    ("seen", Role.LIST, None),
    ("kind", Role.CONSTANT, "sse"),
]


def test_the_layout_covers_every_role() -> None:
    assert {role for _, role, _ in LAYOUT} == set(Role)


@requires_native
def test_the_native_builder_takes_every_role_and_builds_as_the_constructor() -> None:
    from anthropic_eventstream._backend import _native

    assert _native is not None
    decoder = _native.SSEDecoder(SSESpec(_Event, keep_raw=True, layout=LAYOUT), max_event_length=1 << 20)
    (event,) = decoder.feed(b"event: a\ndata: 1\n\n")
    assert vars(event) == vars(_Event(event="a", data="1", raw=["event: a", "data: 1"]))


@requires_native
def test_a_role_the_binding_does_not_know_is_refused() -> None:
    from anthropic_eventstream._backend import _native

    assert _native is not None
    layout: Any = [*LAYOUT[:-1], ("kind", "kept", "sse")]
    with pytest.raises(ValueError, match=r"unknown event attribute role .kept."):
        _native.SSEDecoder(SSESpec(_Event, keep_raw=True, layout=layout), max_event_length=1 << 20)
