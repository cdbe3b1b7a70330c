"""The SDK's stream loop, for an opted-in client's streams, where this package knows the loop the SDK runs.

A stream's events reach the caller through ``Stream.__stream__``: for each server-sent event, the SDK's rules
(skip ``ping`` and unnamed events, raise an ``error`` event as the SDK's status error, skip empty data), then
``process_data(data=sse.json(), ...)``, which parses the event's JSON into dicts and lists only for pydantic to
walk them again into the SDK's models. ``_events`` (and its async twin ``_aevents``) is that loop, rule for
rule, with one difference: an event's model is validated from its JSON text in one pass (pydantic-core's
``validate_json``, through the tagged validator of ``_sdk_models``), which builds what validating the parsed
dict builds; whatever it refuses goes the SDK's way, ``process_data(data=sse.json(), ...)``, unchanged. Only
this package's events are read from their text (their ``json()`` is ``json.loads`` of it); events of another
decoder, whose ``json()`` may be its own, go the SDK's way too.

The loop is taken over only where the installed ``__stream__`` is one this module was written against,
recognised by its source (``_KNOWN_LOOPS``); any other SDK, or a subclass with a loop of its own, keeps the
SDK's loop, which is as exact and only slower. The stream gets the loop per stream (its ``_iterator``, a
``cached_property``, is filled in before first use), so no SDK class is patched for it.

``_events`` and ``_aevents`` are twins, as the SDK's two loops are: a generator cannot serve ``for`` and
``async for`` both, and a per-event helper call would cost a tenth of what the loop saves.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from copy import copy
from typing import Any, Callable

from ._sdk_events import sdk
from ._sdk_models import event_validator

__all__ = ["take_over"]

_log = logging.getLogger("anthropic_eventstream")

#: SHA-256 of the dedented source of the ``Stream.__stream__`` / ``AsyncStream.__stream__`` that ``_events`` /
#: ``_aevents`` follow (anthropic 2.12).
_KNOWN_LOOPS = {
    "824db830d8585354e008ec16d2e20033ba9cb9cb360b8df9d3984cbcd00c6b88": False,
    "a915db34101f3782fe65946f0784810af56155ee119b7973727651a23b2cb53a": True,
}

#: Below this many characters no integer in a document can reach CPython's lowest ``int_max_str_digits``, where
#: ``json.loads`` raises and pydantic-core's parser would not (as for ``_sdk_events._json``).
_MAX_TEXT = 640


@functools.cache
def _known(loop: Any) -> bool | None:
    """Whether ``loop`` (a ``__stream__`` function) is a known async loop, a known sync one, or ``None``."""
    try:
        source = textwrap.dedent(inspect.getsource(loop))
    except (OSError, TypeError):  # no source to recognise it by
        return None
    return _KNOWN_LOOPS.get(hashlib.sha256(source.encode()).hexdigest())


def take_over(stream: Any) -> bool:
    """Gives ``stream`` (a new ``Stream`` / ``AsyncStream`` of an opted-in client) this module's loop, if the
    loop its class runs is a known one and its iterator is not made yet; returns whether it did."""
    cls = type(stream)
    is_async = _known(getattr(cls, "__stream__", None))
    slot = inspect.getattr_static(cls, "_iterator", None)
    if is_async is None or not isinstance(slot, functools.cached_property) or "_iterator" in vars(stream):
        if is_async is None:
            why = f"{cls.__module__}.{cls.__qualname__}.__stream__ is not a loop this version knows"
        else:
            why = "its _iterator is not the SDK's cached_property, or was made already"
        _log.debug("anthropic_eventstream: the SDK's own stream loop runs for this stream (slower): %s", why)
        return False
    # As the SDK's own ``_iterator``: on a copy, so that the running loop does not keep the stream alive.
    stream.__dict__["_iterator"] = (_aevents if is_async else _events)(copy(stream))
    return True


def _model_from_text(process_data: Any, cast_to: Any) -> Callable[[str], Any] | None:
    """``validate_json`` of ``cast_to``'s tagged validator, where the client's ``process_data`` is this package's
    (which builds the same as that validator for what it accepts); ``None`` where it is not."""
    if not getattr(getattr(process_data, "__func__", None), "__anthropic_eventstream__", False):
        return None
    validator = event_validator(cast_to)
    return None if validator is None else validator.validate_json


def _status_error(stream: Any, sse: Any) -> Exception:
    """The SDK's exception for an ``error`` event, as its loop makes it."""
    body = sse.data
    try:
        body = sse.json()
        message = f"{body}"
    except Exception:
        message = sse.data or f"Error code: {stream.response.status_code}"
    error: Exception = stream._client._make_status_error(message, body=body, response=stream.response)
    return error


def _events(stream: Any) -> Iterator[Any]:
    """The SDK's sync ``__stream__``, with models validated from their JSON text."""
    cast_to = stream._cast_to
    response = stream.response
    process_data = stream._client._process_response_data
    from_text = _model_from_text(process_data, cast_to)
    ours = sdk().sse.event_class
    iterator = stream._iter_events()
    if (observer := stream._observer) is not None:
        observer.begin()
    try:
        for sse in iterator:
            name = sse.event
            if name == "ping" or name is None:
                continue
            if name == "error":
                raise _status_error(stream, sse)
            text = sse.data
            if not text:
                continue
            if from_text is not None and type(sse) is ours and len(text) < _MAX_TEXT:
                try:
                    model = from_text(text)
                except Exception:  # refused: the SDK's way decides, errors included
                    pass
                else:
                    yield model
                    continue
            yield process_data(data=sse.json(), cast_to=cast_to, response=response)
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
    """The SDK's async ``__stream__``, with models validated from their JSON text."""
    cast_to = stream._cast_to
    response = stream.response
    process_data = stream._client._process_response_data
    from_text = _model_from_text(process_data, cast_to)
    ours = sdk().sse.event_class
    iterator = stream._iter_events()
    if (observer := stream._observer) is not None:
        observer.begin()
    try:
        async for sse in iterator:
            name = sse.event
            if name == "ping" or name is None:
                continue
            if name == "error":
                raise _status_error(stream, sse)
            text = sse.data
            if not text:
                continue
            if from_text is not None and type(sse) is ours and len(text) < _MAX_TEXT:
                try:
                    model = from_text(text)
                except Exception:  # refused: the SDK's way decides, errors included
                    pass
                else:
                    yield model
                    continue
            yield process_data(data=sse.json(), cast_to=cast_to, response=response)
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
