"""The ``messages.stream()`` helper's tool input, at a cost per delta that does not grow with the input.

For each ``input_json_delta`` the helper's ``accumulate_event`` appends the delta to the block's JSON so far
and parses all of it again (``jiter.from_json(..., partial_mode=True)``), building every object of the input
afresh: quadratic in the number of deltas. ``ToolInput`` follows the JSON's structure as it arrives instead:
a stack of the containers still open, each with the members it has completed. A member is parsed once, by
jiter, when the delimiter after it arrives; the member still arriving at the innermost open container is
parsed by jiter in partial mode, wrapped in that container's bracket, so that jiter itself decides what an
unfinished member contributes, as it would in place. The snapshot is then the open containers rebuilt from
the inside out: fresh containers along that path, holding the completed members.

Anything this does not follow exactly (a top-level scalar, a bracket that does not match, anything after the
input's end, any parse error) hands the block back to the SDK's own ``accumulate_event`` for good, with its
buffer brought up to date, so that the SDK raises or decides as it always does.

What differs from the SDK: completed members are the same objects from one snapshot to the next (the SDK
builds equal copies every time; a snapshot already handed out never changes either way), and the SDK's own
(private) buffer is brought up to date only when its code next needs it. Only SDKs whose ``accumulate_event``
keeps that buffer in its ``json_bufs`` argument are covered (anthropic 2 and later).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:  # the SDK's own dependency, for its tool inputs: without it the SDK cannot parse them either
    from jiter import from_json
except ImportError:  # pragma: no cover
    from_json = None  # type: ignore[assignment]

__all__ = ["ToolInput", "accumulate", "after_sdk"]

_WHITESPACE = b" \t\n\r"
#: From where the lexer stands outside strings, in one match: everything up to the next bracket or comma outside
#: strings, whole strings included, and that byte (group 1); with none before the end, or before a string that
#: has not ended yet, no group 1, and the match ends there. Only brackets and commas cost a step in Python.
#: (Linear: the alternatives never start on the same byte, and the match cannot fail, so nothing backtracks.)
_TO_STRUCTURE = re.compile(rb'(?:[^"{}\[\],]+|"[^"\\]*(?:\\.[^"\\]*)*")*([{}\[\],])?', re.DOTALL)
#: A string's body from where the lexer stands: up to its closing quote or the end of what has arrived, an
#: escape being a backslash and the byte after it. One match skips a whole string, however many escapes a
#: model's code or prose puts in it (the unrolled form, so that it needs no possessive quantifier: 3.9+).
_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_QUOTE, _COMMA, _ARRAY, _OBJECT = ord('"'), ord(","), ord("["), ord("{")


class _Unfollowable(Exception):
    """Input this does not follow exactly: the SDK's own code takes over."""


class _Frame:
    """An open container: ``[`` or ``{``, the members it has completed, where its current member starts, and
    (inside an object) the key it is the value of in its parent."""

    __slots__ = ("key", "kind", "members", "start")

    def __init__(self, kind: int, start: int, key: Any) -> None:
        self.kind = kind
        self.start = start
        self.key = key
        self.members: Any = [] if kind == _ARRAY else {}  # a list, or a dict inside an object


class ToolInput:
    """One ``tool_use`` block's input JSON, followed as it arrives."""

    __slots__ = ("buffer", "closed", "end", "escaped", "frames", "inside", "lexed", "members", "partial_mode")

    def __init__(self, partial_mode: Any = True) -> None:
        #: jiter's ``partial_mode`` for the member still arriving, as the SDK parses this block's input: ``True``,
        #: or ``"trailing-strings"`` (the beta helper, under the fine-grained tool streaming beta).
        self.partial_mode = partial_mode
        self.buffer = bytearray()
        self.frames: list[_Frame] = []
        self.inside = False  # in a string
        self.escaped = False  # after a backslash in a string
        self.lexed = 0
        self.closed = False  # the top-level container has ended: its members, and where it ended
        self.members: Any = None
        self.end = 0

    def feed(self, data: bytes) -> Any:
        """The partial parse of everything fed so far, as ``jiter.from_json(..., partial_mode=self.partial_mode)``
        gives it; ``_Unfollowable`` if this cannot tell."""
        if from_json is None:
            raise _Unfollowable("jiter is not installed")
        self.buffer += data
        self._lex(from_json)
        if self.closed:
            if self.buffer[self.end :].strip(_WHITESPACE):
                raise _Unfollowable
            return self.members.copy()
        if not self.frames:
            raise _Unfollowable
        frames = self.frames
        inner = frames[-1]
        value = self._partial(from_json, inner)
        for outer in reversed(frames[:-1]):
            inner, value = outer, self._with(outer, inner.key, value)
        return value

    def _lex(self, from_json: Callable[..., Any]) -> None:
        buffer, pos, end = self.buffer, self.lexed, len(self.buffer)
        if self.escaped and pos < end:  # the previous delta ended on a backslash: this byte is escaped
            self.escaped, pos = False, pos + 1
        while pos < end:
            if self.inside:
                pos = _STRING_BODY.match(buffer, pos).end()  # type: ignore[union-attr]  # it matches empty too
                if pos == end:
                    break
                if buffer[pos] == _QUOTE:
                    self.inside, pos = False, pos + 1
                else:  # a backslash, the last byte so far: what it escapes is in a later delta
                    self.escaped, pos = True, end
                continue
            found = _TO_STRUCTURE.match(buffer, pos)
            at = found.start(1)  # type: ignore[union-attr]  # it matches empty too
            if at < 0:  # no bracket or comma before the end, or before a string still open
                pos = found.end()  # type: ignore[union-attr]
                if pos < end:
                    self.inside, pos = True, pos + 1
                continue
            char, pos = buffer[at], at + 1
            if self.closed:
                raise _Unfollowable
            if char == _OBJECT or char == _ARRAY:
                self._open(from_json, char, at)
            elif char == _COMMA:
                self._complete(from_json, self._innermost(), at)
            else:
                self._close(from_json, char, at)
        self.lexed = end

    def _innermost(self) -> _Frame:
        if not self.frames:
            raise _Unfollowable
        return self.frames[-1]

    def _open(self, from_json: Callable[..., Any], char: int, at: int) -> None:
        if not self.frames:
            if self.buffer[:at].strip(_WHITESPACE):
                raise _Unfollowable
            self.frames.append(_Frame(char, at + 1, None))
            return
        parent = self.frames[-1]
        key = None
        if parent.kind == _OBJECT:
            head = bytes(self.buffer[parent.start : at])
            key = next(iter(self._parse(from_json, b"{" + head + b"null}", 1)))
        elif self.buffer[parent.start : at].strip(_WHITESPACE):
            raise _Unfollowable
        self.frames.append(_Frame(char, at + 1, key))

    def _complete(self, from_json: Callable[..., Any], frame: _Frame, end: int) -> None:
        """The member of ``frame`` that ends at ``end`` is complete: parsed once, kept."""
        text = bytes(self.buffer[frame.start : end])
        if frame.kind == _ARRAY:
            frame.members.append(self._parse(from_json, b"[" + text + b"]", 1)[0])
        else:
            frame.members.update(self._parse(from_json, b"{" + text + b"}", 1))
        frame.start = end + 1

    def _close(self, from_json: Callable[..., Any], char: int, at: int) -> None:
        frame = self._innermost()
        if char != frame.kind + 2:  # ']' is '[' + 2, '}' is '{' + 2
            raise _Unfollowable
        if self.buffer[frame.start : at].strip(_WHITESPACE):
            self._complete(from_json, frame, at)
        elif frame.members:  # a comma before the bracket: jiter's error, the SDK's to raise
            raise _Unfollowable
        self.frames.pop()
        if not self.frames:
            self.closed, self.members, self.end = True, frame.members, at + 1

    @staticmethod
    def _parse(from_json: Callable[..., Any], document: bytes, members: int) -> Any:
        try:
            value = from_json(document)
        except ValueError as exc:
            raise _Unfollowable from exc
        if len(value) != members:
            raise _Unfollowable
        return value

    def _partial(self, from_json: Callable[..., Any], frame: _Frame) -> Any:
        """``frame``'s members and what jiter makes of the one still arriving."""
        bracket = b"[" if frame.kind == _ARRAY else b"{"
        try:
            tail = from_json(bracket + bytes(self.buffer[frame.start :]), partial_mode=self.partial_mode)
        except ValueError as exc:
            raise _Unfollowable from exc
        if len(tail) > 1:
            raise _Unfollowable
        if frame.kind == _ARRAY:
            return [*frame.members, *tail]
        return {**frame.members, **tail}

    @staticmethod
    def _with(frame: _Frame, key: Any, value: Any) -> Any:
        """A fresh copy of ``frame``'s members with its open member, ``value``, added."""
        if frame.kind == _ARRAY:
            return [*frame.members, value]
        return {**frame.members, key: value}


#: The key under which a stream's followed blocks live in its ``json_bufs`` (whose own keys are block
#: indexes): ``index -> ToolInput``, or ``None`` for a block handed back to the SDK.
_FOLLOWED = ("anthropic_eventstream", "tool inputs")


def _start_following(
    json_bufs: dict[Any, Any], followed: dict[int, ToolInput | None], index: int, partial_mode: Callable[[], Any]
) -> None:
    """After the SDK's code handled a block's delta: follow the block from now on if its buffer (the SDK's,
    this delta included) opens a container and ``partial_mode()`` tells how the SDK parses it; never if the SDK
    does not track it, it is anything else or the mode is not known (``None``); not yet while it is only
    whitespace."""
    buffer = json_bufs.get(index)
    mode = partial_mode() if buffer is not None and buffer.strip(_WHITESPACE) else None
    tool_input: ToolInput | None = ToolInput(mode)
    try:
        if mode is None:
            raise _Unfollowable("no buffer, or the SDK's partial mode is not known")
        tool_input.feed(bytes(buffer))  # type: ignore[union-attr,arg-type]
    except _Unfollowable:
        if buffer is not None and not buffer.strip(_WHITESPACE):
            return
        tool_input = None
    followed[index] = tool_input
    json_bufs[_FOLLOWED] = followed


def accumulate(event: Any, delta: Any, current_snapshot: Any, json_bufs: dict[Any, Any]) -> bool:
    """For the helper's ``accumulate_event``, before the SDK's code: an ``input_json_delta`` of a followed block
    goes into the block's snapshot here (``True``); anything else is the SDK's (``False``), a block that cannot
    be followed any further handed back with its buffer as the SDK would have it."""
    followed: dict[int, ToolInput | None] = json_bufs.get(_FOLLOWED) or {}
    tool_input = followed.get(event.index)
    if tool_input is None:
        return False
    content = current_snapshot.content[event.index]
    before = len(tool_input.buffer)
    partial = getattr(delta, "partial_json", None)  # a model built leniently may lack it
    try:
        if not isinstance(partial, str):
            raise _Unfollowable(f"partial_json is {type(partial).__name__}")
        content.input = tool_input.feed(partial.encode("utf-8"))
    except (_Unfollowable, UnicodeEncodeError):
        followed[event.index] = None  # handed back: the SDK's buffer as it would be, then its code
        json_bufs[event.index] = bytes(tool_input.buffer[:before])
        return False
    return True


def after_sdk(event: Any, json_bufs: dict[Any, Any], partial_mode: Callable[[], Any]) -> None:
    """For the helper's ``accumulate_event``, after the SDK's code handled an ``input_json_delta``: start
    following its block if nothing has decided about it yet, in the jiter ``partial_mode()`` the SDK parses
    it with."""
    followed: dict[int, ToolInput | None] = json_bufs.get(_FOLLOWED) or {}
    if event.index not in followed:
        _start_following(json_bufs, followed, event.index, partial_mode)
