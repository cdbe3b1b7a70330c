"""The SDK shim: our decoder behind the ``anthropic`` SDK's decoder interface, and typed mid-stream errors.

Nothing here decodes bytes; it holds only knowledge of the SDK:

- ``AWSEventStreamDecoder`` is a drop-in for ``anthropic.lib.bedrock._stream_decoder.AWSEventStreamDecoder``:
  one backend call per network chunk returns ``(event, data)`` pairs that become the installed SDK's own
  ``ServerSentEvent`` objects, named the way that SDK version names them. Exception and error frames become
  ``event="error"`` events whose body keeps every field of the frame.
- ``install()`` / ``accelerate(client)`` make the clients use it, and make the SDK's ``_make_status_error``
  give a mid-stream error its real status (the stream itself was a 200), so the SDK picks its own typed
  exception (``RateLimitError``, ``InternalServerError``, ...). A stream that is cut off or corrupted raises
  ``anthropic.APIConnectionError`` with the ``EventStreamError`` as its cause.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from . import _backend
from ._errors import EventStreamError
from ._framing import DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH

if TYPE_CHECKING:
    from anthropic._streaming import ServerSentEvent

__all__ = [
    "ANTHROPIC_ERROR_STATUS",
    "BEDROCK_EXCEPTION_STATUS",
    "AWSEventStreamDecoder",
    "ErrorBody",
    "accelerate",
    "install",
    "is_installed",
    "status_for_error",
    "uninstall",
]

#: Bedrock ``:exception-type`` -> the HTTP status Bedrock gives the same error before a stream starts.
BEDROCK_EXCEPTION_STATUS: dict[str, int] = {
    "internalServerException": 500,
    "serviceUnavailableException": 503,
    "throttlingException": 429,
    "modelNotReadyException": 429,
    "validationException": 400,
    "serviceQuotaExceededException": 400,
    "conflictException": 400,
    "modelTimeoutException": 408,
    "modelStreamErrorException": 424,
    "modelErrorException": 424,
    "accessDeniedException": 403,
    "resourceNotFoundException": 404,
}

#: Anthropic ``error.type`` (in-band on Bedrock, ``event: error`` first-party) -> HTTP status.
ANTHROPIC_ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

#: Anything else: an unmodeled server-side failure.
DEFAULT_ERROR_STATUS = 500


class ErrorBody(dict):  # type: ignore[type-arg]
    """The body of an error built from an ``exception``/``error`` frame: a plain ``dict`` that also carries
    the status the frame maps to, since an ``error`` frame's code is free text that must not be matched
    against the exception table."""

    __slots__ = ("status_code",)

    def __init__(self, data: dict[str, Any], status_code: int) -> None:
        super().__init__(data)
        self.status_code = status_code


def status_for_error(body: object) -> int | None:
    """The real status of a mid-stream error body, or ``None`` if ``body`` is not an error envelope."""
    status = getattr(body, "status_code", None)
    if isinstance(status, int):
        return status
    if not isinstance(body, dict) or body.get("type") != "error" or not isinstance(body.get("error"), dict):
        return None
    kind = body["error"].get("type")
    if not isinstance(kind, str):
        return DEFAULT_ERROR_STATUS
    return BEDROCK_EXCEPTION_STATUS.get(kind) or ANTHROPIC_ERROR_STATUS.get(kind) or DEFAULT_ERROR_STATUS


def _frame_error_body(message: Any) -> ErrorBody:
    """``{"type": "error", "error": {"type": ..., "message": ..., <every other payload field>}}``."""
    headers = message.headers
    if message.message_type == "exception":
        kind = headers.get(":exception-type")
        payload = bytes(message.payload)
        try:
            fields = json.loads(payload)
        except (ValueError, RecursionError):
            fields = None
        if not isinstance(fields, dict):
            fields = {"message": payload.decode("utf-8", "replace")}
        text = fields.get("message", fields.get("Message", ""))
        error = {"type": kind, "message": text}
        error.update((k, v) for k, v in fields.items() if k not in ("type", "message"))
        status = BEDROCK_EXCEPTION_STATUS.get(kind, DEFAULT_ERROR_STATUS) if isinstance(kind, str) else DEFAULT_ERROR_STATUS
    else:
        error = {"type": headers.get(":error-code"), "message": headers.get(":error-message", "")}
        status = DEFAULT_ERROR_STATUS
    return ErrorBody({"type": "error", "error": error}, status)


#: ``(attribute, role, value)`` in the order the constructor sets them; role is ``"event"``, ``"data"``,
#: ``"list"`` (a fresh empty list per event) or ``"constant"`` (``value``, immutable, shared).
EventLayout = list[tuple[str, str, Any]]


def event_layout(cls: type) -> EventLayout | None:
    """How to build ``cls`` instances without running ``__init__``, or ``None`` if that cannot be done safely.

    ``ServerSentEvent.__init__`` is Python code that only stores its arguments; running it is most of the
    cost of an event. We call it once with sentinel values and learn which attributes hold the event name
    and the data; every other attribute must be an empty list (made fresh per event) or an immutable
    constant. The layout is accepted only if an instance built from it equals one built by the
    constructor, attribute for attribute. (The constructor turns an empty event name into ``None``; the
    extension sends such rare events through the constructor.)
    """
    event_sentinel, data_sentinel = "\0event", "\0data"
    try:
        attributes = cls(event=event_sentinel, data=data_sentinel).__dict__
    except (TypeError, AttributeError):
        return None
    if type(attributes) is not dict:
        return None
    layout: EventLayout = []
    for name, value in attributes.items():
        if value is event_sentinel:
            layout.append((name, "event", None))
        elif value is data_sentinel:
            layout.append((name, "data", None))
        elif type(value) is list and not value:
            layout.append((name, "list", None))
        elif isinstance(value, (type(None), bool, int, float, str, bytes)):
            layout.append((name, "constant", value))
        else:
            return None
    if [role for _, role, _ in layout].count("event") != 1 or [role for _, role, _ in layout].count("data") != 1:
        return None

    fast: Any = object.__new__(cls)
    values = {"event": "message_start", "data": "{}"}
    for name, role, value in layout:
        setattr(fast, name, [] if role == "list" else values.get(role, value))
    slow = cls(event="message_start", data="{}")
    if fast.__dict__ != slow.__dict__ or [fast.event, fast.data, fast.json()] != [slow.event, slow.data, slow.json()]:
        return None
    return layout


@functools.lru_cache(maxsize=None)
def _sdk() -> tuple[type[ServerSentEvent], Callable[[ErrorBody], ServerSentEvent], EventLayout | None, bool, bool]:
    """The installed SDK's event class, our error-event subclass of it, how to build events fast, and how the
    SDK names chunk events.

    Versions before ``_chunk_bytes_to_sse`` (anthropic < 0.110) name every chunk ``completion``; later ones
    name it by its JSON ``type``, and some drop objects that have neither ``type`` nor ``completion``. We
    ask the installed version rather than parse version numbers.
    """
    from anthropic._streaming import ServerSentEvent
    from anthropic.lib.bedrock import _stream_decoder as stock

    chunk_to_sse = getattr(stock, "_chunk_bytes_to_sse", None)
    legacy = chunk_to_sse is None
    skip_untyped = not legacy and chunk_to_sse(b"{}") is None  # type: ignore[misc]

    class FrameErrorEvent(ServerSentEvent):
        """An ``event="error"`` built from an exception/error frame; ``json()`` keeps its status."""

        def __init__(self, body: ErrorBody) -> None:
            super().__init__(event="error", data=json.dumps(body))
            self._body = body

        def json(self) -> Any:
            return ErrorBody(json.loads(self.data), self._body.status_code)

    return ServerSentEvent, FrameErrorEvent, event_layout(ServerSentEvent), legacy, skip_untyped


class AWSEventStreamDecoder:
    """Drop-in for the SDK's ``AWSEventStreamDecoder``, backed by this package's decoder.

    Each network chunk costs one backend call, which returns the SDK's own ``ServerSentEvent`` objects for
    every event the chunk completes; exception and error frames come back in place as ``event="error"``
    events whose body keeps every field of the frame.
    """

    def __init__(
        self,
        backend: str | None = None,
        *,
        max_headers_length: int = DEFAULT_MAX_HEADERS_LENGTH,
        max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH,
    ) -> None:
        self._module = _backend.implementation(backend)
        self._limits = (max_headers_length, max_payload_length)
        self._sse, self._error_event, self._layout, self._legacy, self._skip_untyped = _sdk()

    def _decoder(self) -> Any:
        error_event = self._error_event
        return self._module.BedrockDecoder(
            max_headers_length=self._limits[0],
            max_payload_length=self._limits[1],
            legacy=self._legacy,
            skip_untyped=self._skip_untyped,
            event_class=self._sse,
            layout=self._layout,
            on_error=lambda message: error_event(_frame_error_body(message)),
        )

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        """Yields an event per Bedrock chunk (and per exception/error frame), as the chunks arrive; raises an
        ``EventStreamError`` (after the events before it) if the stream is corrupt or ends inside a frame."""
        decoder = self._decoder()
        for chunk in iterator:
            # Network-sized chunks are fed inline: going through `_feed_in_windows` would pass every event
            # through a second generator frame, about 5% of an event's cost.
            if len(chunk) > FEED_WINDOW:
                yield from _feed_in_windows(decoder, chunk)
                continue
            try:
                events = decoder.feed(chunk)
            except EventStreamError as exc:
                yield from exc.messages
                raise
            yield from events
        decoder.close()

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        """The async twin of ``iter_bytes`` (decoding never waits, so it shares the sync path)."""
        decoder = self._decoder()
        async for chunk in iterator:
            for event in _feed_in_windows(decoder, chunk):
                yield event
        decoder.close()


#: The most bytes handed to the backend at once. A whole buffered body (a test's mock, a proxy that
#: buffers) would otherwise become one list of every event, all alive at once: slower (the cyclic GC walks
#: them all, repeatedly) and later to deliver the first event.
FEED_WINDOW = 64 * 1024


def _feed_in_windows(decoder: Any, chunk: bytes) -> Iterator[ServerSentEvent]:
    """The events of ``chunk``, fed at most ``FEED_WINDOW`` bytes at a time; after a decoding error, the
    events decoded before it, then the error."""
    view = memoryview(chunk) if len(chunk) > FEED_WINDOW else chunk
    for start in range(0, max(len(chunk), 1), FEED_WINDOW):
        try:
            events = decoder.feed(view[start : start + FEED_WINDOW] if view is not chunk else chunk)
        except EventStreamError as exc:
            yield from exc.messages
            raise
        yield from events


# ---------------------------------------------------------------------------------------------------------
# Opting in

_F = TypeVar("_F", bound=Callable[..., Any])
_lock = threading.Lock()
#: (owner, attribute) -> what the owner's own ``__dict__`` held before we patched it (``_MISSING`` if none).
_patched: dict[tuple[type, str], Any] = {}
_MISSING = object()


def _with_status(response: Any, status: int) -> Any:
    """A copy of ``response`` with the error's real status, and ``request-id`` from Bedrock's header so the
    SDK's exception picks it up."""
    headers = response.headers.copy()
    if "request-id" not in headers and "x-amzn-requestid" in headers:
        headers["request-id"] = headers["x-amzn-requestid"]
    try:
        request = response.request
    except RuntimeError:
        request = None
    return type(response)(status, headers=headers, request=request)


def _typed_status_error(original: _F) -> _F:
    @functools.wraps(original)
    def _make_status_error(self: Any, err_msg: str, *, body: object, response: Any) -> Any:
        if 200 <= response.status_code < 300:
            status = status_for_error(body)
            if status is not None:
                response = _with_status(response, status)
        return original(self, err_msg, body=body, response=response)

    _make_status_error.__anthropic_eventstream__ = True  # type: ignore[attr-defined]
    return _make_status_error  # type: ignore[return-value]


def _connection_errors(original: _F, is_async: bool) -> _F:
    """Wraps ``Stream._iter_events``: an ``EventStreamError`` from our decoder becomes the SDK's
    ``APIConnectionError`` (a broken transfer, as a dropped connection would be), with the cause kept."""
    from anthropic import APIConnectionError

    def convert(stream: Any, exc: EventStreamError) -> Exception:
        return APIConnectionError(message=f"Bedrock event stream broken: {exc}", request=stream.response.request)

    if is_async:

        @functools.wraps(original)
        async def _iter_events_async(self: Any) -> AsyncIterator[Any]:
            try:
                async for sse in original(self):
                    yield sse
            except EventStreamError as exc:
                raise convert(self, exc) from exc

        wrapped: Any = _iter_events_async
    else:

        @functools.wraps(original)
        def _iter_events(self: Any) -> Iterator[Any]:
            try:
                yield from original(self)
            except EventStreamError as exc:
                raise convert(self, exc) from exc

        wrapped = _iter_events
    wrapped.__anthropic_eventstream__ = True
    return wrapped  # type: ignore[no-any-return]


def _patch(owner: type, name: str, value: Any) -> None:
    key = (owner, name)
    if key not in _patched:
        _patched[key] = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, value)


def _decoder_factory(backend: str | None) -> Callable[[Any], AWSEventStreamDecoder]:
    _backend.implementation(backend)  # fail now, not on the first request, if the backend is missing

    def _make_sse_decoder(self: Any) -> AWSEventStreamDecoder:
        return AWSEventStreamDecoder(backend)

    return _make_sse_decoder


def _clients() -> tuple[list[type], list[type]]:
    """(Bedrock client classes, first-party client classes) of the installed SDK."""
    import anthropic
    from anthropic.lib.bedrock import AnthropicBedrock, AsyncAnthropicBedrock

    return [AnthropicBedrock, AsyncAnthropicBedrock], [anthropic.Anthropic, anthropic.AsyncAnthropic]


def _install_stream_hooks() -> None:
    from anthropic._streaming import AsyncStream, Stream

    for cls, is_async in ((Stream, False), (AsyncStream, True)):
        if not getattr(cls._iter_events, "__anthropic_eventstream__", False):
            _patch(cls, "_iter_events", _connection_errors(cls._iter_events, is_async))


def install(*, backend: str | None = None) -> None:
    """Opt in globally: ``AnthropicBedrock`` / ``AsyncAnthropicBedrock`` decode with this package, and every
    client (first-party too) raises mid-stream errors as the SDK's typed exception with the real status.
    ``backend`` forces ``"native"`` or ``"python"`` (default: ``anthropic_eventstream.BACKEND``)."""
    make_decoder = _decoder_factory(backend)
    with _lock:
        bedrock, first_party = _clients()
        for cls in bedrock:
            _patch(cls, "_make_sse_decoder", make_decoder)
        for cls in bedrock + first_party:
            make_status_error = getattr(cls, "_make_status_error")
            if not getattr(make_status_error, "__anthropic_eventstream__", False):
                _patch(cls, "_make_status_error", _typed_status_error(make_status_error))
        _install_stream_hooks()


def uninstall() -> None:
    """Undo ``install()``: every patched attribute gets back exactly what its class held before.

    Clients passed to ``accelerate()`` keep their own decoder and status mapping, but lose the conversion of
    decoding errors to ``APIConnectionError`` (they raise the ``EventStreamError`` itself)."""
    with _lock:
        for (owner, name), before in _patched.items():
            if before is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, before)
        _patched.clear()


def is_installed() -> bool:
    return any(name == "_make_sse_decoder" for _, name in _patched)


_ACCELERATED: dict[tuple[type, str | None], type] = {}


def _accelerated_class(cls: type, backend: str | None) -> type:
    """The subclass of ``cls`` that ``accelerate()`` gives a client (one per class and backend)."""
    if (cls, backend) in _ACCELERATED:
        return _ACCELERATED[cls, backend]
    namespace: dict[str, Any] = {
        "__anthropic_eventstream_accelerated__": True,
        "_make_status_error": _typed_status_error(getattr(cls, "_make_status_error")),
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    if hasattr(cls, "_make_sse_decoder") and "bedrock" in cls.__module__:
        namespace["_make_sse_decoder"] = _decoder_factory(backend)
    _ACCELERATED[cls, backend] = type(cls.__name__, (cls,), namespace)
    return _ACCELERATED[cls, backend]


_C = TypeVar("_C")


def accelerate(client: _C, *, backend: str | None = None) -> _C:
    """Opt in for one client (and the copies ``with_options()`` makes of it); returns the same client.

    The client's class becomes a subclass of its own class that overrides the decoder and the status
    mapping, so ``isinstance`` checks keep working."""
    cls: type[Any] = type(client)
    if cls.__dict__.get("__anthropic_eventstream_accelerated__"):
        cls = cls.__mro__[1]
    client.__class__ = _accelerated_class(cls, backend)
    with _lock:
        _install_stream_hooks()
    return client
