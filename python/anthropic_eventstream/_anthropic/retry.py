"""The stream-binding and retry seam: ``_process_response``, where the SDK turns a response into a stream inside its
retry loop, is wrapped so that the stream's decoder learns its request, the stream gets this package's loop
(``loop.take_over``) and, with ``retry_before_content``, the stream is read ahead to its first content event and
a retryable error found before it goes through the SDK's own retry loop (which must cover ``_process_response``
and decide by exception: ``retry_loop_probe``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._patching import Patch, check, ours
from .._policy.stream import StreamDecoder
from .body import sdk
from .clients import CLIENT_SIGNATURES, LATER_CLIENT_SIGNATURES
from .loop import take_over

__all__ = ["retry_loop_probe", "stream_binding"]


def _bind_request(result: Any) -> StreamDecoder | None:
    """Tells a new stream's decoder its request (what ``APIConnectionError`` carries) and response (whose socket
    the stall watchdog may shut down), and gives the stream this package's loop where it knows the SDK's
    (``loop``); returns the decoder."""
    decoder = getattr(result, "_decoder", None)
    if not isinstance(decoder, StreamDecoder):
        return None
    decoder.request = result.response.request
    decoder.response = result.response
    take_over(result)
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
        # anthropic >= 2.17: a transport failure after the headers is retried unless they said `x-should-retry: false`
        should_retry_failure = getattr(client, "_should_retry_failure", None)
        if retryable and should_retry_failure is not None:
            retryable = should_retry_failure(stream.response)
    else:
        body = found.json()
        error = client._make_status_error(f"{body}", body=body, response=stream.response)
        retryable = client._should_retry(error.response)
    if retryable and retries_taken < options.get_max_retries(client.max_retries):
        return error
    return None


def stream_binding(original: Callable[..., Any], is_async: bool, retry_before_content: bool) -> Callable[..., Any]:
    """Wraps ``_process_response``, where the client turns a response into a ``Stream``, inside the SDK's retry
    loop: binds the stream's decoder to its request and, with ``retry_before_content``, reads ahead."""
    if is_async:

        @functools.wraps(original)
        async def _process_response_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = await original(self, *args, **kwargs)
            decoder = _bind_request(result)
            if retry_before_content and decoder is not None:
                found = await decoder.aread_ahead(result.response, self)
                error = _to_retry(self, result, found, kwargs["options"], kwargs.get("retries_taken", 0))
                if error is not None:
                    await result.response.aclose()
                    raise error
            return result

        return ours(_process_response_async)

    @functools.wraps(original)
    def _process_response(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        decoder = _bind_request(result)
        if retry_before_content and decoder is not None:
            found = decoder.read_ahead(result.response, self)
            error = _to_retry(self, result, found, kwargs["options"], kwargs.get("retries_taken", 0))
            if error is not None:
                result.response.close()
                raise error
        return result

    return ours(_process_response)


def retry_loop_probe(cls: type) -> None:
    """``retry_before_content`` raises what it finds from ``_process_response``, so the SDK's retry loop must
    cover ``_process_response`` and decide by exception (``_should_retry_exception``). Older SDKs (anthropic
    0.40, say) retried only HTTP status errors, by recursion, outside it: there the seam is off."""
    for name in ("_should_retry_exception", "_should_retry"):
        check(Patch(cls, name, lambda original: original, parameters=CLIENT_SIGNATURES[name]))
    for name, parameters in LATER_CLIENT_SIGNATURES.items():
        if hasattr(cls, name):
            check(Patch(cls, name, lambda original: original, parameters=parameters))
