"""The SDK's stream loop, for an opted-in client's streams, where this package knows the loop the SDK runs.

A stream's events reach the caller through ``Stream.__stream__``: for each server-sent event, the SDK's rules
(skip ``ping`` and unnamed events, raise an ``error`` event as the SDK's status error, skip empty data), then
``process_data(data=sse.json(), ...)``, which parses the event's JSON into dicts and lists only for pydantic to
walk them again into the SDK's models. ``_events`` (and its async twin ``_aevents``) is that loop, rule for
rule, with two differences:

- it reads the events from the stream's decoder itself (``StreamDecoder.batches``, what the stream's
  ``_iter_events`` reads, with the same checks), a network chunk's at a time and as ``(event, data)`` pairs: the
  rules need nothing else of an event, so no ``ServerSentEvent`` is made and no generator runs per event;
- an event's model is made from its JSON bytes in one pass: natively, by the builder ``builders`` learned and
  proved, for the events it covers, and otherwise by pydantic-core's ``validate_json`` through the tagged
  validator of ``models``; both build what validating the parsed dict builds. Whatever the validator refuses
  goes the SDK's way, ``process_data(data=json.loads(text), ...)`` (what ``sse.json()`` is), unchanged.

The stream's ``__iter__`` (``__aiter__``) hands the caller each item of that loop. The SDK's looks its stream
observer up again for every item (``_observer``, a property reading two attributes, which an OpenTelemetry
configuration sets on the response's body before the stream is made); where there is none, this module's hands
the items on as they come (``_items``), a tenth of an event's cost less. Where there is one, the SDK's runs.

The loop is taken over only where the installed ``__stream__``, ``_iter_events`` and ``__iter__`` are the ones this
module was written against, recognised by their source (``reviewed_loop``), and the stream's decoder is
this package's over one of its drop-ins; any other SDK, a subclass with a loop of its own, or another decoder
keeps the SDK's loop, which is as exact and only slower. The stream gets the loop per stream: its
``_iterator``, a ``cached_property``, is filled in before first use, and its class becomes a subclass of its own
that holds only the ``__iter__`` above (as ``accelerate()`` does for a client: ``isinstance`` checks hold), so no
SDK class is patched for it.

``_events`` and ``_aevents`` are twins, as the SDK's two loops are: a generator cannot serve ``for`` and
``async for`` both, and a per-event helper call would cost a tenth of what the loop saves.
"""

from __future__ import annotations

import ast
import functools
import inspect
import io
import json
import logging
import sys
import textwrap
import tokenize
from collections.abc import AsyncIterator, Callable, Iterator
from copy import copy
from pathlib import Path
from typing import Any

from .._policy.stream import StreamDecoder
from .body import sdk
from .builders import event_builder
from .events import JSON_FAST_LENGTH

__all__ = [
    "LOOP_METHODS",
    "REVIEWED_LOOPS",
    "loop_form",
    "loop_method",
    "loop_method_name",
    "reviewed_loop",
    "take_over",
    "unknown_loop",
]

_log = logging.getLogger("anthropic_eventstream")

#: The reviewed ``Stream.__stream__`` / ``AsyncStream.__stream__`` (anthropic 2.12 to 2.17) that ``loop._events`` /
#: ``loop._aevents`` follow, the ``_iter_events`` each reads its events from (which those loops read from the
#: stream's decoder themselves) and the ``__iter__`` / ``__aiter__`` that hands their items to the caller, in their
#: normalised form (``loop_form``), kept in ``reviewed_loops/``. Another loop runs as the SDK's own
#: (``loop.take_over`` logs it; ``diagnostics()`` reports it, with where it differs).
REVIEWED_LOOPS = Path(__file__).with_name("reviewed_loops")

#: The stream methods ``loop`` takes the place of, each with its reviewed forms' file names (sync, async).
#: ``_iter_events`` has two: it reads the body raw (anthropic 2.12 to 2.16), or through the SDK's own typed body
#: readers (``body.SDK.body_readers``, anthropic 2.17); the one reviewed for the installed SDK is the one that reads
#: the body the way the profile found it read (``reviewed_loop``).
LOOP_METHODS = {
    "__stream__": ("sync.txt", "async.txt"),
    "_iter_events": ("iter_events_sync.txt", "iter_events_async.txt"),
    "__iter__": ("iteration_sync.txt", "iteration_async.txt"),
}
_TYPED_ITER_EVENTS = ("iter_events_typed_sync.txt", "iter_events_typed_async.txt")
#: ``LOOP_METHODS`` named otherwise on ``AsyncStream``.
_ASYNC_NAMES = {"__iter__": "__aiter__"}


def loop_method(cls: type, method: str, is_async: bool) -> Any:
    """The function ``cls`` (a sync or async stream class) runs for ``method`` (one of ``LOOP_METHODS``), or
    ``None``."""
    return getattr(cls, loop_method_name(method, is_async), None)


def loop_method_name(method: str, is_async: bool) -> str:
    """``method``'s name on a sync or async stream class: ``__iter__`` is ``__aiter__`` on an async one."""
    return _ASYNC_NAMES.get(method, method) if is_async else method


def reviewed_loop(is_async: bool, method: str = "__stream__") -> str:
    """The reviewed normalised form of the SDK's sync or async ``method`` (one of ``LOOP_METHODS``), for the
    installed SDK (an ``_iter_events`` reads the body as ``sdk().body_readers`` says)."""
    names = LOOP_METHODS[method]
    if method == "_iter_events" and sdk().body_readers is not None:
        names = _TYPED_ITER_EVENTS
    return (REVIEWED_LOOPS / names[is_async]).read_text(encoding="utf-8")


def loop_form(function: Any) -> str | None:
    """``function``'s source with what cannot change what it does taken out, so that a new SDK release that
    only re-comments or re-spaces its loop is still recognised: comments, the docstring, blank lines and trailing
    whitespace (the rest, indentation and the text inside lines included, is kept as it is). ``None`` without
    source to read."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, tokenize.TokenError):
        return None
    lines = source.splitlines()
    for token in reversed(tokens):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column]
    body = getattr(tree.body[0], "body", None) if tree.body else None
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        for row in range(first.lineno, (first.end_lineno or first.lineno) + 1):
            lines[row - 1] = ""
    return "".join(line.rstrip() + "\n" for line in lines if line.strip())


@functools.cache
def _known(loop: Any, method: str = "__stream__") -> bool | None:
    """Whether ``loop`` (a ``__stream__`` function, or the ``method`` named) is the reviewed async form, the
    reviewed sync one, or ``None`` (another, or no source to recognise it by), by its normalised form."""
    form = loop_form(loop)
    if form is None:
        return None
    return next((is_async for is_async in (False, True) if form == reviewed_loop(is_async, method)), None)


def _why_not(stream: Any) -> tuple[bool, str | None]:
    """Whether ``stream``'s loop is the async one, and why this module's loop cannot run it (``None``: it can)."""
    cls = type(stream)
    is_async = _known(getattr(cls, "__stream__", None))
    where = f"{cls.__module__}.{cls.__qualname__}"
    if is_async is None:
        return False, f"{where}.__stream__ is not a loop this version knows"
    for method in LOOP_METHODS:
        if _known(loop_method(cls, method, is_async), method) is not is_async:
            return is_async, f"{where}.{loop_method_name(method, is_async)} is not the one this version knows"
    decoder = getattr(stream, "_decoder", None)
    if not isinstance(decoder, StreamDecoder) or not decoder.gives_pairs:
        return is_async, "its decoder is not this package's over one of its drop-ins"
    slot = inspect.getattr_static(cls, "_iterator", None)
    if not isinstance(slot, functools.cached_property) or "_iterator" in vars(stream):
        return is_async, "its _iterator is not the SDK's cached_property, or was made already"
    return is_async, None


def unknown_loop() -> str | None:
    """Why the installed SDK's stream loops (``Stream``'s and ``AsyncStream``'s ``LOOP_METHODS``) are not the ones
    this module follows, or ``None`` where they are."""
    from anthropic._streaming import AsyncStream, Stream

    for cls, is_async in ((Stream, False), (AsyncStream, True)):
        for method in LOOP_METHODS:
            if _known(loop_method(cls, method, is_async), method) is not is_async:
                return (
                    f"{cls.__module__}.{cls.__qualname__}.{loop_method_name(method, is_async)} is not the one this "
                    "version was reviewed against: the SDK's own loop runs (exact, slower)"
                )
    return None


def take_over(stream: Any) -> bool:
    """Gives ``stream`` (a new ``Stream`` / ``AsyncStream`` of an opted-in client) this module's loop, if the
    loop its class runs is a known one, its decoder this package's and its iterator not made yet; returns
    whether it did."""
    is_async, why = _why_not(stream)
    if why is not None:
        _log.debug("anthropic_eventstream: the SDK's own stream loop runs for this stream (slower): %s", why)
        return False
    stream._decoder.pairs = True
    # As the SDK's own ``_iterator``: on a copy, so that the running loop does not keep the stream alive.
    stream.__dict__["_iterator"] = (_aevents if is_async else _events)(copy(stream))
    stream.__class__ = _iterating(stream.__class__, is_async)
    return True


@functools.cache
def _iterating(cls: Any, is_async: bool) -> type:
    """The subclass of the stream class ``cls`` that a taken-over stream gets: its ``__iter__`` (``__aiter__``)
    is ``_items`` (``_aitems``) where the stream has no observer, the SDK's own where it has one. Its name,
    module and docstring are ``cls``'s."""
    if is_async:

        def __aiter__(self: Any) -> AsyncIterator[Any]:
            return cls.__aiter__(self) if self._observer is not None else _aitems(self)

        namespace: dict[str, Any] = {"__aiter__": __aiter__}
    else:

        def __iter__(self: Any) -> Iterator[Any]:
            return cls.__iter__(self) if self._observer is not None else _items(self)

        namespace = {"__iter__": __iter__}
    namespace.update(__module__=cls.__module__, __qualname__=cls.__qualname__, __doc__=cls.__doc__)
    return type(cls.__name__, (cls,), namespace)


# The SDK's ``__iter__`` without its observer, which the stream does not have (``_iterating``): a generator of its
# own per call, as the SDK's, so that closing it leaves the stream's loop where it is.
def _items(stream: Any) -> Iterator[Any]:
    for item in stream._iterator:  # noqa: UP028 (``yield from`` would close the loop with this generator)
        yield item


async def _aitems(stream: Any) -> AsyncIterator[Any]:
    async for item in stream._iterator:
        yield item


def _model_from_text(process_data: Any, cast_to: Any) -> Callable[[bytes], Any] | None:
    """How ``cast_to``'s models are made from their JSON bytes (``builders.event_builder``: natively where the
    proved builder covers an event, else by the tagged validator's ``validate_json``), where the client's
    ``process_data`` is this package's (which builds the same as that validator for what it accepts); ``None``
    where it is not."""
    if not getattr(getattr(process_data, "__func__", None), "__anthropic_eventstream__", False):
        return None
    return event_builder(cast_to)


def _status_error(stream: Any, data: Any) -> Exception:
    """The SDK's exception for an ``error`` event, as its loop makes it: from the event's data (a pair's bytes),
    or from the event itself (an exception or error frame's, whose ``json()`` keeps the frame's status)."""
    text = data.decode() if isinstance(data, bytes) else data.data
    body: Any = text
    try:
        body = json.loads(text) if isinstance(data, bytes) else data.json()
        message = f"{body}"
    except Exception:
        message = text or f"Error code: {stream.response.status_code}"
    error: Exception = stream._client._make_status_error(message, body=body, response=stream.response)
    return error


# Generated by tools/unasync.py from ``_aevents``: edit that, then run `make unasync`.
def _events(stream: Any) -> Iterator[Any]:
    """The SDK's ``__stream__``, with models validated from their JSON bytes."""
    cast_to = stream._cast_to
    response = stream.response
    process_data = stream._client._process_response_data
    from_text = _model_from_text(process_data, cast_to)
    batches = stream._decoder.batches(response, stream._client)
    if (observer := stream._observer) is not None:
        observer.begin()
    try:
        for batch in batches:
            for name, data in batch:
                if name == "ping" or name is None:
                    continue
                if name == "error":
                    raise _status_error(stream, data)
                if not data:
                    continue
                if from_text is not None and len(data) < JSON_FAST_LENGTH:
                    try:
                        model = from_text(data)
                    except Exception:  # refused: the SDK's way decides, errors included
                        pass
                    else:
                        yield model
                        continue
                yield process_data(data=json.loads(data.decode()), cast_to=cast_to, response=response)
        if (observer := stream._observer) is not None:
            observer.end("read")
    except Exception as err:
        if (observer := stream._observer) is not None:
            observer.end("failed", err)
        raise
    finally:
        if sys.is_finalizing():
            response.is_closed = True
        else:
            response.close()


async def _aevents(stream: Any) -> AsyncIterator[Any]:
    """The SDK's ``__stream__``, with models validated from their JSON bytes."""
    cast_to = stream._cast_to
    response = stream.response
    process_data = stream._client._process_response_data
    from_text = _model_from_text(process_data, cast_to)
    batches = stream._decoder.abatches(response, stream._client)
    if (observer := stream._observer) is not None:
        observer.begin()
    try:
        async for batch in batches:
            for name, data in batch:
                if name == "ping" or name is None:
                    continue
                if name == "error":
                    raise _status_error(stream, data)
                if not data:
                    continue
                if from_text is not None and len(data) < JSON_FAST_LENGTH:
                    try:
                        model = from_text(data)
                    except Exception:  # refused: the SDK's way decides, errors included
                        pass
                    else:
                        yield model
                        continue
                yield process_data(data=json.loads(data.decode()), cast_to=cast_to, response=response)
        if (observer := stream._observer) is not None:
            observer.end("read")
    except Exception as err:
        if (observer := stream._observer) is not None:
            observer.end("failed", err)
        raise
    finally:
        if sys.is_finalizing():
            response.is_closed = True
        else:
            await response.aclose()
