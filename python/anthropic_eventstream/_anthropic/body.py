"""The body-reader seam: what the installed SDK's streams raise (its connection and timeout errors, and its HTTP
library's) and how they read a response's body (raw, or through the SDK's own typed readers from anthropic 2.17),
learned once (``sdk()``), and given to the stream policy as the ``StreamSDK`` it needs (``stream_sdk()``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._patching import Kind, Patch, SDKChangedError, check
from .._policy.stream import StreamSDK
from .events import event_spec
from .transport import socket_of

__all__ = ["SDK", "body", "sdk", "stream_sdk"]


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


def body(response: Any, client: Any, *, is_async: bool) -> Any:
    """``response``'s body, chunk by chunk, read as the installed SDK's streams read it: through its own typed
    reader where it has one (``SDK.body_readers``, anthropic >= 2.17: a failure is already its exception, with its
    message), else raw."""
    readers = sdk().body_readers
    if readers is not None:
        return readers[is_async](response, client)
    return response.aiter_bytes() if is_async else response.iter_bytes()


def _error_event(data: str) -> Any:
    return event_spec().event_class(event="error", data=data)


@functools.cache
def stream_sdk() -> StreamSDK:
    """What the stream policy needs of the installed SDK (``StreamSDK``); ``SDKChangedError`` if ``sdk()`` does
    not match what this version knows."""
    profile = sdk()
    return StreamSDK(
        connection_error=profile.connection_error,
        timeout_error=profile.timeout_error,
        transport_errors=profile.transport_errors,
        timeout_errors=profile.timeout_errors,
        body=body,
        error_event=_error_event,
        socket_of=socket_of,
    )
