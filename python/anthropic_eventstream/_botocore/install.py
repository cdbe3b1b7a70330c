"""The botocore shim: this package's decoder under boto3/botocore's ``EventStream``.

Under ``install_botocore()`` every botocore event stream (bedrock-runtime ``invoke_model_with_response_stream``
and ``converse_stream``, S3 Select, Transcribe, Lambda response streams, Kinesis ``SubscribeToShard``...)
frames its bytes with ``EventStreamDecoder`` and yields exactly the events stock botocore yields. What
changes is what goes wrong:

- an exception frame raises botocore's ``EventStreamError`` with the same code and message as stock, but
  with ``response["ResponseMetadata"]["HTTPStatusCode"]`` taken from the service model's error shape (429
  for ``throttlingException``, ...) instead of a flat 400; exceptions outside the model and ``error`` frames
  get 500;
- a stream that ends inside a frame raises ``TruncatedStreamError`` instead of ending quietly;
- every framing error is an instance of both this package's class and botocore's own: the class of the same
  name where botocore has one (``NotAnEventStream`` is botocore's ``ChecksumMismatch``, as stock raises for
  a text body), else botocore's ``ParserError``, so ``except ChecksumMismatch`` / ``except ParserError``
  keep working.

What stays the same is made cheaper: on the native backend, bedrock-runtime's ``invoke_model_with_response_stream``
and ``converse_stream`` events come out of the extension already parsed as botocore parses them, by shapes
learned from the loaded service model and proved against botocore's parser (``shapes``, ``_ParsedFraming``); on
the python backend, the commonest event of each is parsed by an exact Python shortcut (``_shortcut_for``).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from .. import _errors
from .._events.errors import DEFAULT_ERROR_STATUS
from .._frames.api import EventStreamDecoder, Message
from .._patching import Patch, Patches
from .buffer import EventStreamBuffer
from .errors import as_botocore_error
from .shapes import STREAMS, parser_for
from .shapes import forget as forget_shapes

__all__ = ["install_botocore", "is_botocore_installed", "model_status", "uninstall_botocore"]


def _raw_events(original: Callable[..., Any]) -> Callable[..., Any]:
    """Replaces ``EventStream._create_raw_event_generator``: the framing is what this package does, and a transport
    failure while the body is read raises what botocore's ``StreamingBody.read`` raises for it (a read timeout
    botocore's ``ReadTimeoutError``, a broken connection ``ResponseStreamingError``), not urllib3's exception."""
    from botocore.response import (
        ReadTimeoutError,
        ResponseStreamingError,
        URLLib3ProtocolError,
        URLLib3ReadTimeoutError,
    )

    @functools.wraps(original)
    def _create_raw_event_generator(self: Any) -> Iterator[Message]:
        decoder = _framing(self)
        try:
            for chunk in self._raw_stream.stream():
                try:
                    messages = decoder.feed(chunk)
                except _errors.EventStreamError as exc:
                    yield from exc.messages
                    raise as_botocore_error(exc) from None
                yield from messages
        except URLLib3ReadTimeoutError as exc:
            raise ReadTimeoutError(endpoint_url=exc.url, error=exc) from exc
        except URLLib3ProtocolError as exc:
            raise ResponseStreamingError(error=exc) from exc
        try:
            decoder.close()
        except _errors.EventStreamError as exc:
            raise as_botocore_error(exc) from None

    return _create_raw_event_generator


class _ParsedFraming:
    """The framing of a bedrock-runtime stream on the native backend (``shapes``): each event the stream's proved
    native parser builds comes out of the extension already parsed as botocore parses it (which ``_parse_event``
    passes on), with no per-event regex, base64, JSON or Python call; any other frame as its ``Message``, for
    botocore. The stream's first frame is always a ``Message``: botocore's ``get_initial_response`` reads it as
    one."""

    __slots__ = ("_decoder", "_first", "_parser")

    def __init__(self, parser: Any) -> None:
        self._decoder = EventStreamDecoder(backend="native")
        self._parser = parser
        self._first = True

    def feed(self, chunk: bytes) -> list[Any]:
        events: list[Any] = self._decoder._impl.feed_parsed(chunk, self._parser, self._first)
        if events:
            self._first = False
        return events

    def close(self) -> None:
        self._decoder.close()


def _framing(stream: Any) -> Any:
    """The framing of ``stream``: ``_ParsedFraming`` where its events have a proved native parser (bedrock-runtime's
    streams, on the native backend), else ``EventStreamDecoder``."""
    parser = parser_for(stream) if getattr(stream._output_shape, "name", None) in STREAMS else None
    return EventStreamDecoder() if parser is None else _ParsedFraming(parser)


def model_status(output_shape: Any, headers: Any) -> int:
    """The HTTP status the service model gives this exception frame's error shape (500 if none)."""
    exception_type = headers.get(":exception-type")
    members = getattr(output_shape, "members", {}) or {}
    shape = members.get(exception_type) if isinstance(exception_type, str) else None
    status = (getattr(shape, "metadata", None) or {}).get("error", {}).get("httpStatusCode")
    return status if isinstance(status, int) else DEFAULT_ERROR_STATUS


#: A chunk payload in exactly the shape bedrock-runtime sends: canonical base64 (so that botocore's lenient
#: ``b64decode`` decodes it to the same bytes), alphanumeric padding.
_BEDROCK_CHUNK = re.compile(
    rb'\{"bytes":"((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)"(?:,"p":"[A-Za-z0-9]*")?\}'
)


def _invoke_chunk(event: Any) -> Any:
    """botocore's parse of an ``InvokeModelWithResponseStream`` ``chunk`` in Bedrock's own shape; ``None``
    for anything else."""
    headers = event.headers
    if headers.get(":message-type") != "event" or headers.get(":event-type") != "chunk":
        return None
    match = _BEDROCK_CHUNK.fullmatch(bytes(event.payload))
    if match is None:
        return None
    return {"chunk": {"bytes": base64.b64decode(match.group(1))}}


def _converse_text_delta(order: tuple[str, ...], event: Any) -> Any:
    """botocore's parse of a ``ConverseStream`` ``contentBlockDelta`` carrying a text delta (members in the
    model's order, unknown members dropped, as botocore does); ``None`` for anything else."""
    headers = event.headers
    if headers.get(":message-type") != "event" or headers.get(":event-type") != "contentBlockDelta":
        return None
    try:
        data = json.loads(bytes(event.payload).decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if type(data) is not dict or not data.keys() <= {"delta", "contentBlockIndex", "p"}:
        return None
    delta, index = data.get("delta"), data.get("contentBlockIndex")
    if type(delta) is not dict or list(delta) != ["text"] or type(delta["text"]) is not str or type(index) is not int:
        return None
    values = {"delta": {"text": delta["text"]}, "contentBlockIndex": index}
    return {"contentBlockDelta": {name: values[name] for name in order}}


def _is_plain(shape: Any, type_name: str, serialization: dict[str, Any] | None = None) -> bool:
    """Whether ``shape`` is a ``type_name`` with exactly ``serialization``'s traits (none: no header,
    payload or renaming trait that would change how botocore reads it)."""
    return shape is not None and shape.type_name == type_name and shape.serialization == (serialization or {})


EVENT = {"event": True}


def _shortcut_for(shape: Any) -> Callable[[Any], Any] | None:
    """An exact shortcut for the commonest event of a bedrock-runtime stream, checked against the service
    model: only where its shapes are what the shortcut assumes."""
    name = getattr(shape, "name", None)
    if name not in ("ResponseStream", "ConverseStreamOutput"):
        return None  # anything else, including what is not a botocore shape at all, is botocore's to parse
    members: Any = getattr(shape, "members", None)
    if not isinstance(members, dict):
        return None
    if name == "ResponseStream":
        chunk: Any = members.get("chunk")
        if _is_plain(chunk, "structure", EVENT) and list(chunk.members) == ["bytes"]:
            if _is_plain(chunk.members["bytes"], "blob"):
                return _invoke_chunk
    if name == "ConverseStreamOutput":
        event: Any = members.get("contentBlockDelta")
        if _is_plain(event, "structure", EVENT) and set(event.members) == {"delta", "contentBlockIndex"}:
            delta, index = event.members["delta"], event.members["contentBlockIndex"]
            if _is_plain(delta, "structure") and _is_plain(delta.members.get("text"), "string"):
                if _is_plain(index, "integer"):
                    return functools.partial(_converse_text_delta, tuple(event.members))
    return None


#: id(shape) -> (shape, its shortcut): the shape is kept so that its id is not reused.
_SHORTCUTS: dict[int, tuple[Any, Callable[[Any], Any] | None]] = {}


def _shortcut(shape: Any) -> Callable[[Any], Any] | None:
    found = _SHORTCUTS.get(id(shape))
    if found is None:
        found = _SHORTCUTS[id(shape)] = (shape, _shortcut_for(shape))
    return found[1]


def _shortcut_parse(stream: Any, event: Any) -> Any:
    """The event parsed by a shortcut, or ``None`` where botocore's own parser is to parse it."""
    shortcut = _shortcut(stream._output_shape)
    return None if shortcut is None else shortcut(event)


def _set_model_status(stream: Any, event: Any, exc: Any) -> None:
    """Gives botocore's ``EventStreamError`` the status the service model gives the error, instead of the flat
    400 of ``to_response_dict``."""
    exc.response.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = model_status(
        stream._output_shape, event.headers
    )


def _status_from_model(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps ``EventStream._parse_event``: the commonest bedrock-runtime events parsed by an exact shortcut,
    everything else by botocore's own parser; and botocore's own ``EventStreamError``, with the model's status."""
    from botocore.exceptions import EventStreamError

    @functools.wraps(original)
    def _parse_event(self: Any, event: Any) -> Any:
        if type(event) is dict:  # parsed by the extension already (``_ParsedFraming``)
            return event
        parsed = _shortcut_parse(self, event)
        if parsed is not None:
            return parsed
        try:
            return original(self, event)
        except EventStreamError as exc:
            _set_model_status(self, event, exc)
            raise

    return _parse_event


def _aio_transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...], type]:
    """What aiobotocore's ``StreamingBody.read`` turns into its ``AioReadTimeoutError`` (timeouts) and botocore's
    ``ResponseStreamingError`` (broken connections), for aiohttp and, where aiobotocore has it, httpx; and
    ``AioReadTimeoutError`` itself (botocore's ``ReadTimeoutError`` in aiobotocore releases without it).

    One more: aiohttp reports a chunked body cut off mid-way as ``ClientPayloadError``, which aiobotocore's
    ``read`` lets through; it is the failure urllib3 reports as ``ProtocolError`` (``ResponseStreamingError`` in
    botocore), and becomes that here too."""
    import asyncio

    import aiohttp.client_exceptions
    from aiobotocore import response
    from botocore.exceptions import ReadTimeoutError

    timeouts = (asyncio.TimeoutError, *getattr(response, "_HTTPX_READ_TIMEOUTS", ()))
    broken = (
        aiohttp.client_exceptions.ClientConnectionError,
        aiohttp.client_exceptions.ClientPayloadError,
        *getattr(response, "_HTTPX_STREAM_ERRORS", ()),
    )
    return timeouts, broken, getattr(response, "AioReadTimeoutError", ReadTimeoutError)


def _aio_raw_events(original: Callable[..., Any]) -> Callable[..., Any]:
    """Replaces ``AioEventStream._create_raw_event_generator`` (aiobotocore reads ``content.iter_chunks()``); a
    transport failure raises what aiobotocore's ``StreamingBody.read`` raises for it."""
    from botocore.exceptions import ResponseStreamingError

    timeouts, broken, read_timeout_error = _aio_transport_errors()

    @functools.wraps(original)
    async def _create_raw_event_generator(self: Any) -> Any:
        decoder = _framing(self)
        try:
            async for chunk, _ in self._raw_stream.content.iter_chunks():
                try:
                    messages = decoder.feed(chunk)
                except _errors.EventStreamError as exc:
                    for message in exc.messages:
                        yield message
                    raise as_botocore_error(exc) from None
                for message in messages:
                    yield message
        except timeouts as exc:
            raise read_timeout_error(endpoint_url=getattr(self._raw_stream, "url", None), error=exc) from exc
        except broken as exc:
            raise ResponseStreamingError(error=exc) from exc
        try:
            decoder.close()
        except _errors.EventStreamError as exc:
            raise as_botocore_error(exc) from None

    return _create_raw_event_generator


def _aio_status_from_model(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_status_from_model`` for aiobotocore's coroutine ``_parse_event``."""
    from botocore.exceptions import EventStreamError

    @functools.wraps(original)
    async def _parse_event(self: Any, event: Any) -> Any:
        if type(event) is dict:  # parsed by the extension already (``_ParsedFraming``)
            return event
        parsed = _shortcut_parse(self, event)
        if parsed is not None:
            return parsed
        try:
            return await original(self, event)
        except EventStreamError as exc:
            _set_model_status(self, event, exc)
            raise

    return _parse_event


def _our_buffer(original: type) -> type:
    """Our ``EventStreamBuffer`` as installed: a subclass made for this installation and marked (as every
    replacement is) so that ``check`` sees through it to botocore's. The public class itself is never marked,
    so nothing of an installation outlives ``uninstall_botocore()``."""
    return type(
        EventStreamBuffer.__name__,
        (EventStreamBuffer,),
        {
            "__module__": EventStreamBuffer.__module__,
            "__qualname__": EventStreamBuffer.__qualname__,
            "__doc__": EventStreamBuffer.__doc__,
            "__wrapped__": original,
            "__anthropic_eventstream__": True,
        },
    )


_installed = Patches()


def _patches() -> list[Patch]:
    import botocore.eventstream
    from botocore.eventstream import EventStream

    patches = [
        Patch(EventStream, "_create_raw_event_generator", _raw_events, parameters="(self)"),
        Patch(EventStream, "_parse_event", _status_from_model, parameters="(self, event)"),
        Patch(botocore.eventstream, "EventStreamBuffer", _our_buffer, kind="class", parameters="()"),
    ]
    try:
        from aiobotocore.eventstream import AioEventStream
    except ImportError:  # aiobotocore is optional
        return patches
    return [
        *patches,
        Patch(
            AioEventStream,
            "_create_raw_event_generator",
            _aio_raw_events,
            kind="async generator function",
            parameters="(self)",
        ),
        Patch(
            AioEventStream,
            "_parse_event",
            _aio_status_from_model,
            kind="coroutine function",
            parameters="(self, event)",
        ),
    ]


def install_botocore() -> None:
    """Make botocore's ``EventStream`` (and aiobotocore's ``AioEventStream``, when aiobotocore is installed)
    decode with this package, and put ``anthropic_eventstream.EventStreamBuffer`` (a subclass made for this
    installation) in place of ``botocore.eventstream.EventStreamBuffer`` (idempotent). Raises ``SDKChangedError`` (and changes nothing)
    if what it patches is not what this version was written against."""
    _installed.apply(_patches())


def uninstall_botocore() -> None:
    """Give botocore (and aiobotocore) back exactly what they held, and forget the shapes' shortcuts."""
    _installed.restore()
    _SHORTCUTS.clear()
    forget_shapes()


def is_botocore_installed() -> bool:
    return _installed.active
