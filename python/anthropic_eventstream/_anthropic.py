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
import importlib.util
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar

from . import _backend
from ._errors import EventStreamError, IncompleteStreamError
from ._eventstream_py import EventSpec, Naming
from ._framing import DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH, limits
from ._patching import Patch, Patches, SDKChangedError, check

if TYPE_CHECKING:
    from anthropic._streaming import ServerSentEvent

__all__ = [
    "ANTHROPIC_ERROR_STATUS",
    "BEDROCK_EXCEPTION_STATUS",
    "SDK",
    "AWSEventStreamDecoder",
    "ErrorBody",
    "StreamDecoder",
    "accelerate",
    "install",
    "is_installed",
    "sdk",
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


#: Error payloads nested deeper than this keep their text as the message instead of their fields: the SDK
#: formats an error body with ``repr``, which such nesting would take past the recursion limit.
MAX_ERROR_DEPTH = 32


def _depth(value: object) -> int:
    """How deeply ``value`` (decoded JSON) nests, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                deepest = max(deepest, level + 1)
                stack.append((child, level + 1))
    return deepest


def _header_text(value: object) -> object:
    """A header value as it can stand in JSON: strings and numbers as they are, bytes as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _frame_error_body(message: Any) -> ErrorBody:
    """``{"type": "error", "error": {"type": ..., "message": ..., <every other payload field>}}``.

    Never raises, whatever the frame holds (headers of any type, any payload): it runs while the events
    before the frame are waiting to be delivered."""
    headers = message.headers
    if message.message_type != "exception":
        error = {
            "type": _header_text(headers.get(":error-code")),
            "message": _header_text(headers.get(":error-message", "")),
        }
        return ErrorBody({"type": "error", "error": error}, DEFAULT_ERROR_STATUS)
    kind = headers.get(":exception-type")
    payload = bytes(message.payload)
    try:
        fields = json.loads(payload)
    except (ValueError, RecursionError):
        fields = None
    if not isinstance(fields, dict) or _depth(fields) > MAX_ERROR_DEPTH:
        fields = {"message": payload.decode("utf-8", "replace")}
    text = fields.get("message", fields.get("Message", ""))
    error = {"type": _header_text(kind), "message": text}
    error.update((k, v) for k, v in fields.items() if k not in ("type", "message"))
    status = BEDROCK_EXCEPTION_STATUS.get(kind, DEFAULT_ERROR_STATUS) if isinstance(kind, str) else DEFAULT_ERROR_STATUS
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


class _ChunkNamingProbe:
    """How the installed SDK's own Bedrock decoder names chunk events, asked of that decoder itself: three
    chunks (a typed object, a legacy completion, an object with neither) go through it, and the names it
    gives say which rule it follows. An answer that matches no known rule is reported, never guessed."""

    CHUNKS: ClassVar[tuple[str, ...]] = ('{"type":"probe"}', '{"completion":"probe"}', "{}")
    RULES: ClassVar[dict[tuple[str, ...], tuple[Naming, bool]]] = {
        ("probe", "completion"): ("type", True),  # anthropic >= 0.110 with `_chunk_bytes_to_sse`
        ("probe", "completion", "completion"): ("type", False),
        ("completion", "completion", "completion"): ("completion", False),  # anthropic < 0.110
    }

    @classmethod
    def run(cls) -> tuple[Naming, bool]:
        from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

        from .testing import chunk_frame

        body = b"".join(chunk_frame(text) for text in cls.CHUNKS)
        names = tuple(str(event.event) for event in Stock().iter_bytes(iter([body])))
        if names not in cls.RULES:
            raise SDKChangedError(
                "the installed anthropic SDK's Bedrock decoder names the chunk events "
                f"{list(cls.CHUNKS)} as {list(names)}, which matches no rule this version knows "
                "(nothing was patched)"
            )
        return cls.RULES[names]


@dataclass(frozen=True)
class SDK:
    """What this package knows of the installed anthropic SDK, learned from it once (``sdk()``)."""

    #: how its Bedrock decoder turns frames into its ``ServerSentEvent`` objects
    events: EventSpec
    #: its ``APIConnectionError``, raised for a broken or incomplete stream
    connection_error: type[Exception]


@functools.cache
def sdk() -> SDK:
    """The installed SDK's profile; ``SDKChangedError`` if it does not match what this version knows."""
    from anthropic import APIConnectionError
    from anthropic._streaming import ServerSentEvent

    class FrameErrorEvent(ServerSentEvent):
        """An ``event="error"`` built from an exception/error frame; ``json()`` keeps its status."""

        def __init__(self, body: ErrorBody) -> None:
            try:
                data = json.dumps(body)
            except (TypeError, ValueError, RecursionError):
                data = json.dumps(
                    {"type": "error", "error": {"type": repr(body["error"].get("type")), "message": repr(body)}}
                )
            super().__init__(event="error", data=data)
            self._body = body

        def json(self) -> Any:
            return self._body

    naming, skip_untyped = _ChunkNamingProbe.run()
    events = EventSpec(
        event_class=ServerSentEvent,
        naming=naming,
        skip_untyped=skip_untyped,
        error_event=lambda message: FrameErrorEvent(_frame_error_body(message)),
        layout=event_layout(ServerSentEvent),
    )
    return SDK(events=events, connection_error=APIConnectionError)


#: The most bytes handed to the backend at once. A whole buffered body (a test's mock, a proxy that
#: buffers) would otherwise become one list of every event, all alive at once: slower (the cyclic GC walks
#: them all, repeatedly) and later to deliver the first event. (The native binding releases the GIL for inputs
#: of at least 64 KiB, its own threshold in rust/py/src/input.rs: a full window is decoded without the GIL.)
FEED_WINDOW = 64 * 1024


class AWSEventStreamDecoder:
    """Drop-in for the SDK's ``AWSEventStreamDecoder``, backed by this package's decoder.

    Each network chunk costs one backend call, which returns the SDK's own ``ServerSentEvent`` objects for
    every event the chunk completes; exception and error frames come back in place as ``event="error"``
    events whose body keeps every field of the frame. A corrupt stream, or one that ends inside a frame,
    raises an ``EventStreamError`` after the events before it.
    """

    def __init__(
        self,
        backend: str | None = None,
        *,
        max_headers_length: int = DEFAULT_MAX_HEADERS_LENGTH,
        max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH,
    ) -> None:
        self._module = _backend.implementation(backend)
        self._limits = limits(max_headers_length, max_payload_length)
        self._events = sdk().events

    def _decoder(self) -> Any:
        return self._module.BedrockDecoder(self._events, **self._limits)

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        """Yields an event per Bedrock chunk (and per exception/error frame), as the chunks arrive."""
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
# One stream, as an opted-in client streams it


def _event_type(event: Any) -> str | None:
    """The Messages event type of an SSE: its name, or for SDKs that name every chunk ``completion`` (and
    for unnamed events), the ``type`` in its data."""
    if event.event not in ("completion", None):
        return event.event  # type: ignore[no-any-return]
    try:
        data = json.loads(event.data)
    except (ValueError, RecursionError, TypeError):
        return None
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else event.event


def _is_ping(event: Any) -> bool:
    """Whether an SSE is a ``ping`` (for SDKs that name every chunk ``completion``, read from its data)."""
    name = event.event
    return name == "ping" or (name in ("completion", None) and _event_type(event) == "ping")


class _Seen:
    """What the integrity check needs of a stream: its first event and its last one that is not a ``ping``."""

    __slots__ = ("first", "last")

    def __init__(self) -> None:
        self.first: Any = None
        self.last: Any = None

    def add(self, event: Any) -> None:
        if self.first is None:
            self.first = event
        if not _is_ping(event):
            self.last = event

    def check_complete(self) -> None:
        """``IncompleteStreamError`` for a stream with no event, or a Messages stream without ``message_stop``."""
        if self.first is None:
            raise IncompleteStreamError("the response ended without any event: the answer is missing")
        if _event_type(self.first) == "message_start" and _event_type(self.last) != "message_stop":
            raise IncompleteStreamError(
                f"the stream ended after a {_event_type(self.last)!r} event, without 'message_stop': "
                "the answer is incomplete"
            )


#: Events that carry no content: a stream may be sent again while it has shown only these.
_BEFORE_CONTENT = frozenset({"message_start", "content_block_start", "ping"})


class StreamDecoder:
    """The decoder an opted-in client gives each of its streams: the SSE decoder underneath (ours for
    Bedrock, the SDK's own for first-party and Vertex), plus the stream's integrity check, and every
    ``EventStreamError`` raised as the SDK's ``APIConnectionError`` for the stream's request.

    Everything a stream needs is here, in an object made for that stream, so that it keeps the behaviour it
    was created with whatever is installed or uninstalled later. With ``retry_before_content``, the client
    reads the first events ahead (``read_ahead``) before handing the stream over; they are replayed here.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        #: the stream's request, set by the client once the stream exists (see ``_bind_request``)
        self.request: Any = None
        #: events read ahead, to be replayed first; then the running source they came from
        self._replay: list[Any] = []
        self._source: Any = None
        #: an error found while reading ahead that is not to be retried: raised after the replay
        self._failure: Exception | None = None

    def _broken(self, exc: EventStreamError) -> Exception:
        return sdk().connection_error(message=f"stream broken: {exc}", request=self.request)  # type: ignore[call-arg]

    def _checked(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        seen = _Seen()
        try:
            for event in self._inner.iter_bytes(iterator):
                seen.add(event)
                yield event
            seen.check_complete()
        except EventStreamError as exc:
            raise self._broken(exc) from exc

    async def _achecked(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        seen = _Seen()
        try:
            async for event in self._inner.aiter_bytes(iterator):
                seen.add(event)
                yield event
            seen.check_complete()
        except EventStreamError as exc:
            raise self._broken(exc) from exc

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        source = self._source if self._source is not None else self._checked(iterator)
        yield from self._replay
        self._replay = []
        if self._failure is not None:
            raise self._failure
        yield from source

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        source = self._source if self._source is not None else self._achecked(iterator)
        for event in self._replay:
            yield event
        self._replay = []
        if self._failure is not None:
            raise self._failure
        async for event in source:
            yield event

    def read_ahead(self, response: Any) -> Any:
        """Reads events until the first content event; returns the error that came first (an ``error``
        event's body, or the ``APIConnectionError`` of a broken or incomplete stream), if one did."""
        self._source = self._checked(response.iter_bytes())
        try:
            for event in self._source:
                self._replay.append(event)
                if event.event == "error" or _event_type(event) not in _BEFORE_CONTENT:
                    return event if event.event == "error" else None
        except Exception as exc:
            self._failure = exc
            return exc
        return None

    async def aread_ahead(self, response: Any) -> Any:
        """The async twin of ``read_ahead``."""
        self._source = self._achecked(response.aiter_bytes())
        try:
            async for event in self._source:
                self._replay.append(event)
                if event.event == "error" or _event_type(event) not in _BEFORE_CONTENT:
                    return event if event.event == "error" else None
        except Exception as exc:
            self._failure = exc
            return exc
        return None


# ---------------------------------------------------------------------------------------------------------
# Opting in: what is patched on each client class, by install() on the SDK's own classes and by accelerate()
# on a subclass of one client's class.


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


def _typed_status_error(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _make_status_error(self: Any, err_msg: str, *, body: object, response: Any) -> Any:
        if 200 <= response.status_code < 300:
            status = status_for_error(body)
            if status is not None:
                response = _with_status(response, status)
        return original(self, err_msg, body=body, response=response)

    return _ours(_make_status_error)


def _bind_request(result: Any) -> StreamDecoder | None:
    """Tells a new stream's decoder its request (what ``APIConnectionError`` carries); returns the decoder."""
    decoder = getattr(result, "_decoder", None)
    if not isinstance(decoder, StreamDecoder):
        return None
    decoder.request = result.response.request
    return decoder


def _to_retry(client: Any, stream: Any, found: Any, options: Any, retries_taken: int) -> Exception | None:
    """What reading ahead found before any content, if it is to go through the SDK's own retry loop (which
    applies its ``max_retries``, backoff, ``retry-after`` and ``x-should-retry`` rules and logs the retry):
    an error the SDK would retry, with a retry left. Anything else stays with the stream, to be raised where it
    would be without the flag."""
    if found is None:
        return None
    if isinstance(found, Exception):
        error, retryable = found, isinstance(found, sdk().connection_error)
    else:
        body = found.json()
        error = client._make_status_error(f"{body}", body=body, response=stream.response)
        retryable = client._should_retry(error.response)
    if retryable and retries_taken < options.get_max_retries(client.max_retries):
        return error
    return None


def _stream_binding(original: Callable[..., Any], is_async: bool, retry_before_content: bool) -> Callable[..., Any]:
    """Wraps ``_process_response``, where the client turns a response into a ``Stream``, inside the SDK's retry
    loop: binds the stream's decoder to its request and, with ``retry_before_content``, reads ahead."""
    if is_async:

        @functools.wraps(original)
        async def _process_response_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = await original(self, *args, **kwargs)
            decoder = _bind_request(result)
            if retry_before_content and decoder is not None:
                found = await decoder.aread_ahead(result.response)
                error = _to_retry(self, result, found, kwargs["options"], kwargs.get("retries_taken", 0))
                if error is not None:
                    await result.response.aclose()
                    raise error
            return result

        return _ours(_process_response_async)

    @functools.wraps(original)
    def _process_response(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        decoder = _bind_request(result)
        if retry_before_content and decoder is not None:
            found = decoder.read_ahead(result.response)
            error = _to_retry(self, result, found, kwargs["options"], kwargs.get("retries_taken", 0))
            if error is not None:
                result.response.close()
                raise error
        return result

    return _ours(_process_response)


def _bedrock_decoders(backend: str | None) -> Callable[[Any], Callable[..., Any]]:
    _backend.implementation(backend)  # fail now, not on the first request, if the backend is missing

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def _make_sse_decoder(self: Any) -> StreamDecoder:
            return StreamDecoder(AWSEventStreamDecoder(backend))

        return _ours(_make_sse_decoder)

    return make


def _checked_decoders(original: Callable[..., Any]) -> Callable[..., Any]:
    """The SDK's own SSE decoder (first-party, Vertex), with the stream's integrity check."""

    @functools.wraps(original)
    def _make_sse_decoder(self: Any) -> StreamDecoder:
        return StreamDecoder(original(self))

    return _ours(_make_sse_decoder)


_F = TypeVar("_F", bound=Callable[..., Any])


def _ours(wrapper: _F) -> _F:
    """Marks a replacement as this package's, so that ``check`` sees through it to the SDK's original."""
    wrapper.__anthropic_eventstream__ = True  # type: ignore[attr-defined]
    return wrapper


def _client_classes() -> list[tuple[type, bool, bool]]:
    """``(class, is_bedrock, is_async)`` for every client class of the installed SDK this package covers.
    Bedrock needs botocore (as the SDK itself does, to sign requests); Vertex, the SDK's vertex module."""
    import anthropic

    classes = [(anthropic.Anthropic, False, False), (anthropic.AsyncAnthropic, False, True)]
    try:
        from anthropic.lib.vertex import AnthropicVertex, AsyncAnthropicVertex
    except ImportError:
        pass
    else:
        classes += [(AnthropicVertex, False, False), (AsyncAnthropicVertex, False, True)]
    if importlib.util.find_spec("botocore") is not None:
        from anthropic.lib.bedrock import AnthropicBedrock, AsyncAnthropicBedrock

        classes += [(AnthropicBedrock, True, False), (AsyncAnthropicBedrock, True, True)]
    return classes


def _retry_loop_probe(cls: type) -> None:
    """``retry_before_content`` raises what it finds from ``_process_response``, so the SDK's retry loop must
    cover ``_process_response`` and decide by exception (``_should_retry_exception``). Older SDKs (anthropic
    0.40, say) retried only HTTP status errors, by recursion, outside it: there the flag is refused."""
    for name, parameters in (("_should_retry_exception", "(self, err)"), ("_should_retry", "(self, response)")):
        check(Patch(cls, name, lambda original: original, parameters=parameters))


def _client_patches(
    cls: type, *, is_bedrock: bool, is_async: bool, backend: str | None, retry_before_content: bool = False
) -> list[Patch]:
    """What opting in changes on one client class."""
    if is_bedrock:
        sdk()  # the profile the decoders need: checked now, so that a changed SDK fails the opt-in
    if retry_before_content:
        _retry_loop_probe(cls)
    return [
        Patch(
            cls,
            "_make_sse_decoder",
            _bedrock_decoders(backend) if is_bedrock else _checked_decoders,
            parameters="(self)",
        ),
        Patch(cls, "_make_status_error", _typed_status_error, parameters="(self, err_msg, *, body, response)"),
        Patch(
            cls,
            "_process_response",
            functools.partial(_stream_binding, is_async=is_async, retry_before_content=retry_before_content),
            kind="coroutine function" if is_async else "function",
            parameters="(self, *, cast_to, options, response, stream, stream_cls, retries_taken)",
        ),
    ]


_installed = Patches()


def install(*, backend: str | None = None, retry_before_content: bool = False) -> None:
    """Opt in globally: ``AnthropicBedrock`` / ``AsyncAnthropicBedrock`` decode with this package, and every
    client (first-party and Vertex too) raises mid-stream errors as the SDK's typed exception with the real
    status, and a broken or incomplete stream as ``APIConnectionError``. ``backend`` forces ``"native"`` or
    ``"python"`` (default: ``anthropic_eventstream.BACKEND``). Calling it again replaces the earlier opt-in.

    ``retry_before_content``: ``messages.create(stream=True)`` and ``messages.stream()`` read ahead to the first
    content event before handing the stream over, and a retryable error before it (408, 409, 429, 5xx, a broken
    or incomplete stream) goes through the SDK's own retry loop; the caller sees one clean stream.

    Raises ``SDKChangedError`` (and changes nothing) if an SDK internal it relies on is missing or changed."""
    patches = [
        patch
        for cls, is_bedrock, is_async in _client_classes()
        for patch in _client_patches(
            cls, is_bedrock=is_bedrock, is_async=is_async, backend=backend, retry_before_content=retry_before_content
        )
    ]
    _installed.apply(patches)


def uninstall() -> None:
    """Undo ``install()``: every patched class gets back exactly what it held. Streams already created, and
    clients passed to ``accelerate()``, keep their behaviour."""
    _installed.restore()


def is_installed() -> bool:
    return _installed.active


_ACCELERATED: dict[tuple[type, str | None, bool], type] = {}
_accelerated_lock = threading.Lock()


def _accelerated_class(cls: type, backend: str | None, retry_before_content: bool) -> type:
    """The subclass of ``cls`` that ``accelerate()`` gives a client (one per class and backend): the same
    patches as ``install()``, made from the SDK's originals, held by the subclass itself."""
    with _accelerated_lock:
        key = (cls, backend, retry_before_content)
        if key not in _ACCELERATED:
            covered = {c: (is_bedrock, is_async) for c, is_bedrock, is_async in _client_classes()}
            base = next((c for c in cls.__mro__ if c in covered), None)
            if base is None:
                raise TypeError(f"accelerate() takes an anthropic client, not {cls.__name__}")
            is_bedrock, is_async = covered[base]
            patches = _client_patches(
                cls,
                is_bedrock=is_bedrock,
                is_async=is_async,
                backend=backend,
                retry_before_content=retry_before_content,
            )
            namespace: dict[str, Any] = {patch.name: patch.make(check(patch)) for patch in patches}
            namespace.update(
                __anthropic_eventstream_accelerated__=True,
                __module__=cls.__module__,
                __qualname__=cls.__qualname__,
                __doc__=cls.__doc__,
            )
            _ACCELERATED[key] = type(cls.__name__, (cls,), namespace)
        return _ACCELERATED[key]


_C = TypeVar("_C")


def accelerate(client: _C, *, backend: str | None = None, retry_before_content: bool = False) -> _C:
    """Opt in for one client (and the copies ``with_options()`` makes of it); returns the same client.

    The client's class becomes a subclass of its own class that holds the patches itself, so ``isinstance``
    checks keep working, and nothing ``install()`` / ``uninstall()`` do later changes it."""
    cls: type[Any] = type(client)
    if cls.__dict__.get("__anthropic_eventstream_accelerated__"):
        cls = cls.__mro__[1]
    client.__class__ = _accelerated_class(cls, backend, retry_before_content)
    return client
