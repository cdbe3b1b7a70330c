"""The installed anthropic SDK's profile: everything this package assumes about it, learned from the SDK itself
once, at opt-in (``sdk()``), and read by every fast path: its event class, how its SSE decoder reads text and how
its Bedrock decoder names chunk events (each asked of that decoder), its error classes and its HTTP library.
"""

from __future__ import annotations

import ast
import functools
import inspect
import io
import itertools
import json
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .._events.bedrock import EventSpec, Naming, chunk_frame
from .._events.errors import ErrorBody, frame_error_body
from .._events.sse import SSESpec
from .._patching import Kind, Patch, SDKChangedError, check, describe
from .events import event_layout, fast_event_class

__all__ = [
    "ACCUMULATE_PARAMETERS",
    "HELPER_CLASSES",
    "HELPER_MODULES",
    "LATER_CLIENT_SIGNATURES",
    "LOOP_METHODS",
    "REVIEWED_LOOPS",
    "REVIEWED_LOOPS_SINCE",
    "SDK",
    "SUPPORTED_RANGE",
    "accumulate_parameters",
    "bedrock_events",
    "event_spec",
    "loop_form",
    "loop_method",
    "loop_method_name",
    "release",
    "reviewed_loop",
    "sdk",
    "sse_events",
    "supported",
]

#: The anthropic releases this version is written and tested against (``make ci`` runs the oldest, the newest and
#: releases between). Outside it ``install()`` still checks every shape it patches and refuses what it does not
#: know; ``diagnostics()`` reports whether the installed release is inside.
SUPPORTED_RANGE = ">=0.40, <3"
_SUPPORTED = ((0, 40), (3,))

#: The reviewed ``Stream.__stream__`` / ``AsyncStream.__stream__`` (anthropic 2.12 to 2.17) that ``loop._events`` /
#: ``loop._aevents`` follow, the ``_iter_events`` each reads its events from (which those loops read from the
#: stream's decoder themselves) and the ``__iter__`` / ``__aiter__`` that hands their items to the caller, in their
#: normalised form (``loop_form``), kept in ``reviewed_loops/``. Another loop runs as the SDK's own
#: (``loop.take_over`` logs it; ``diagnostics()`` reports it, with where it differs).
REVIEWED_LOOPS = Path(__file__).with_name("reviewed_loops")
#: The first release whose loop is a reviewed one: before it, the SDK's own loop runs by design, not as a change.
REVIEWED_LOOPS_SINCE = (2, 12)

#: The stream methods ``loop`` takes the place of, each with its reviewed forms' file names (sync, async).
#: ``_iter_events`` has two: it reads the body raw (anthropic 2.12 to 2.16), or through the SDK's own typed body
#: readers (``SDK.body_readers``, anthropic 2.17); the one reviewed for the installed SDK is the one that reads
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


#: The signatures of the SDK internals ``install()`` and ``accelerate()`` replace, each as the releases in
#: ``SUPPORTED_RANGE`` have it (``_patching.describe``): a client class's, then the ``messages.stream()`` helper
#: module's. Any other signature is a change this version does not know, and refused before anything is patched.
CLIENT_SIGNATURES: dict[str, tuple[str, ...]] = {
    "_make_sse_decoder": ("(self)", "(self, options)"),  # anthropic 2.16 passes the request's options
    "_make_status_error": ("(self, err_msg, *, body, response)",),
    "_process_response_data": ("(self, *, data, cast_to, response)",),
    "_process_response": ("(self, *, cast_to, options, response, stream, stream_cls, retries_taken)",),
    # the retry loop that ``retry_before_content`` goes through (anthropic >= 0.48: decided by exception)
    "_should_retry_exception": ("(self, err)",),
    "_should_retry": ("(self, response)",),
}
#: Client internals that ``retry_before_content`` calls where the release has them (anthropic 2.17 and later), with
#: their signatures: present with another one is a change this version does not know, and refused.
LATER_CLIENT_SIGNATURES: dict[str, tuple[str, ...]] = {
    # whether a transport failure after the headers is retried (`x-should-retry: false` says not)
    "_should_retry_failure": ("(self, response)",),
}
HELPER_SIGNATURES: dict[str, tuple[str, ...]] = {
    # anthropic 2.16 has the helper's own build (``model_construct``)
    "build": ("(base_model_cls, *args, **kwargs)", "(event_cls, *args, **fields)"),
    "build_events": ("(*, event, message_snapshot)",),
}

#: The ``messages.stream()`` helper modules, each with the event union its stream reads (module, name): the
#: helper's short way (``helper.probe``) is checked on events of that union.
HELPER_MODULES = {
    "anthropic.lib.streaming._messages": ("anthropic.types", "RawMessageStreamEvent"),
    "anthropic.lib.streaming._beta_messages": ("anthropic.types.beta", "BetaRawMessageStreamEvent"),
}
#: The helper stream class each of ``HELPER_MODULES`` defines, as ``anthropic.lib.streaming`` exports it: where a
#: release defines it is where its helper's functions are (a release without it has no such helper).
HELPER_CLASSES = {
    "anthropic.lib.streaming._messages": "MessageStream",
    "anthropic.lib.streaming._beta_messages": "BetaMessageStream",
}

#: How the helper's ``accumulate_event`` begins where it takes the tool-input buffers as ``json_bufs`` (anthropic 2
#: and later); the wrapper passes whatever follows through unchanged.
ACCUMULATE_PARAMETERS = ("*", "event", "current_snapshot", "json_bufs")


def accumulate_parameters(module: Any) -> tuple[bool, str]:
    """Whether ``module``'s ``accumulate_event`` (the SDK's own, under any replacement of this package's) keeps
    the tool-input buffers in ``json_bufs`` (anthropic 2 and later: it begins with ``ACCUMULATE_PARAMETERS``),
    and its parameters as ``describe`` gives them. Earlier SDKs keep the buffers on the content block; a
    ``json_bufs`` in any other place is a change this package does not know: ``SDKChangedError``."""
    parameters = describe(check(Patch(module, "accumulate_event", lambda original: original)))
    names = tuple(parameters.strip("()").split(", "))
    if names[: len(ACCUMULATE_PARAMETERS)] == ACCUMULATE_PARAMETERS:
        return True, parameters
    if "json_bufs" in names:
        raise SDKChangedError(
            f"{module.__name__}.accumulate_event takes {parameters}, not (*, event, current_snapshot, json_bufs, ...)"
        )
    return False, parameters


def release(version: str) -> tuple[int, ...]:
    """The anthropic release ``version`` as numbers, pre-release tags ignored: ``"1.0.0rc1"`` is ``(1, 0, 0)``."""
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(itertools.takewhile(str.isdigit, piece))
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def supported(version: str) -> bool:
    """Whether the anthropic release ``version`` is inside ``SUPPORTED_RANGE`` (pre-release tags ignored)."""
    low, high = _SUPPORTED
    return low <= release(version) < high


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

        body = b"".join(chunk_frame(text) for text in cls.CHUNKS)
        names = tuple(str(event.event) for event in Stock().iter_bytes(iter([body])))
        if names not in cls.RULES:
            raise SDKChangedError(
                "the installed anthropic SDK's Bedrock decoder names the chunk events "
                f"{list(cls.CHUNKS)} as {list(names)}, which matches no rule this version knows"
            )
        return cls.RULES[names]


class _SSEProbe:
    """Whether this package's SSE decoding gives what the installed SDK's own ``SSEDecoder`` gives, asked of
    that decoder: a body with every rule in it (comments, unknown fields, ``id``, ``retry`` good and bad,
    multi-line data, LF, CR and CRLF, a ``\\r\\n`` split across chunks, a last event without its blank line)
    goes through both, whole and byte by byte, and the events must match attribute for attribute."""

    BODY: ClassVar[bytes] = (
        b": hello\nevent: a\ndata: 1\ndata:2\nid: 7\nretry: 150\nfoo: bar\n\n"
        b"event: b\r\ndata: {}\r\nretry: x\r\n\r\n"
        b"event:\rdata: c\r\rid: a\x00b\ndata: d\n\n\n\n"
        b"event: e\r\ndata: 3\r\n\r"
        b"\ndata: last\n"
    )

    @classmethod
    def run(cls, spec: SSESpec) -> None:
        from anthropic._streaming import SSEDecoder as Stock

        from .._events.sse import SSEDecoder as Reference

        for chunks in ([cls.BODY], [cls.BODY[i : i + 1] for i in range(len(cls.BODY))]):
            stock = [vars(event) for event in Stock().iter_bytes(iter(chunks))]
            reference = Reference(spec, max_event_length=len(cls.BODY))
            ours = [vars(event) for chunk in chunks for event in reference.feed(chunk)]
            ours += [vars(event) for event in reference.close()]
            if ours != stock:
                raise SDKChangedError(
                    "the installed anthropic SDK's SSEDecoder decodes differently from what this version "
                    f"knows: {stock} where this package gives {ours}"
                )


@dataclass(frozen=True)
class SDK:
    """What this package knows of the installed anthropic SDK, learned from it once (``sdk()``)."""

    #: its ``SSEDecoder`` class, which this package's takes the place of
    sse_decoder: type
    #: its ``APIConnectionError``, raised for a broken or incomplete stream and a transport error mid-stream
    connection_error: type[Exception]
    #: its ``APITimeoutError``, raised for a read timeout mid-stream and a stall
    timeout_error: type[Exception]
    #: what its HTTP library (httpx, or httpx2 from anthropic 2) raises for a failure while a body is read
    #: (``RequestError``), and for a timeout among those (``TimeoutException``)
    transport_errors: tuple[type[Exception], ...]
    timeout_errors: tuple[type[Exception], ...]
    #: the SDK's own readers of a stream's body (sync, async), each ``(response, client) -> chunks``, which raise
    #: a failure to read it as the SDK's ``APIConnectionError`` / ``APITimeoutError`` with its message for that
    #: failure (anthropic 2.17's ``iter_response_bytes`` / ``async_iter_response_bytes``); ``None`` where its
    #: streams read ``response.iter_bytes()`` raw and a failure escapes as the HTTP library's exception
    #: (``StreamDecoder`` maps those itself)
    body_readers: tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]] | None


@functools.cache
def sdk() -> SDK:
    """What the installed SDK's streams raise and how they read their body (what ``StreamDecoder``, and so the
    integrity check and the stall watchdog, needs); ``SDKChangedError`` if it does not match what this version
    knows."""
    from anthropic import APIConnectionError, APITimeoutError
    from anthropic._streaming import SSEDecoder

    http = _http_library()
    return SDK(
        sse_decoder=SSEDecoder,
        connection_error=APIConnectionError,
        timeout_error=APITimeoutError,
        transport_errors=(http.RequestError,),
        timeout_errors=(http.TimeoutException,),
        body_readers=_body_readers(),
    )


@functools.cache
def event_spec() -> SSESpec:
    """How the drop-in decoders build the SDK's ``ServerSentEvent`` (its fields, made cheaply: ``events``)."""
    from anthropic._streaming import ServerSentEvent

    Event = fast_event_class(ServerSentEvent)
    keep_raw = "raw" in inspect.signature(ServerSentEvent).parameters
    return SSESpec(event_class=Event, keep_raw=keep_raw, layout=event_layout(Event))


@functools.cache
def sse_events() -> SSESpec:
    """``event_spec()``, once this package's SSE decoding is found to give what the installed SDK's own
    ``SSEDecoder`` gives (``_SSEProbe``): what the drop-in ``SSEDecoder`` decodes with."""
    spec = event_spec()
    _SSEProbe.run(spec)
    return spec


#: The SDK's typed body readers (``SDK.body_readers``) in ``anthropic._streaming``, each name with its kind, as
#: anthropic 2.17 ships them.
_BODY_READERS: tuple[tuple[str, Kind], ...] = (
    ("iter_response_bytes", "function"),
    ("async_iter_response_bytes", "async generator function"),
)
_BODY_READER_PARAMETERS = "(response, client)"


def _body_readers() -> tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]] | None:
    """The installed SDK's typed body readers (``SDK.body_readers``), checked; ``None`` for an SDK that has
    neither (before anthropic 2.17). One without the other, or either of another shape, is a change this version
    does not know: ``SDKChangedError``."""
    from anthropic import _streaming

    if not any(name in vars(_streaming) for name, _ in _BODY_READERS):
        return None
    sync, async_ = (
        check(Patch(_streaming, name, lambda original: original, kind=kind, parameters=_BODY_READER_PARAMETERS))
        for name, kind in _BODY_READERS
    )
    return sync, async_


def _http_library() -> Any:
    """The HTTP library the installed SDK's clients read responses with: the module its ``_base_client`` imports
    as ``httpx2`` (anthropic 2) or ``httpx`` (earlier), with the two exception classes this package maps."""
    from anthropic import _base_client

    for name in ("httpx2", "httpx"):
        module = vars(_base_client).get(name)
        if inspect.ismodule(module) and all(
            isinstance(getattr(module, cls, None), type) for cls in ("RequestError", "TimeoutException")
        ):
            return module
    raise SDKChangedError(
        "the installed anthropic SDK reads responses with neither httpx nor httpx2 (no RequestError and "
        "TimeoutException in anthropic._base_client's HTTP library)"
    )


@functools.cache
def bedrock_events() -> EventSpec:
    """How the installed SDK's Bedrock decoder turns frames into events (it needs botocore, as the SDK's own
    Bedrock client does); ``SDKChangedError`` if that is not what this version knows."""
    from anthropic._streaming import ServerSentEvent

    spec = event_spec()
    naming, skip_untyped = _ChunkNamingProbe.run()

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

    return EventSpec(
        event_class=spec.event_class,
        naming=naming,
        skip_untyped=skip_untyped,
        error_event=lambda message: FrameErrorEvent(frame_error_body(message)),
        layout=spec.layout,
    )
