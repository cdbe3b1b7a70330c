"""Opting in: ``install()`` / ``uninstall()`` for the SDK's client classes, ``accelerate(client)`` for one client.

What changes on each client class (made with the one patching mechanism, ``_patching``):

- its streams get a ``StreamDecoder`` over this package's drop-in decoder (``AWSEventStreamDecoder`` for Bedrock,
  ``SSEDecoder`` for first-party and Vertex), with the integrity check;
- ``_make_status_error`` gives a mid-stream error its real status (the stream itself was a 200), so the SDK picks
  its own typed exception;
- ``_process_response``, where the SDK turns a response into a stream inside its retry loop, tells the stream's
  decoder its request, gives the stream this package's loop where it knows the SDK's (``loop``) and, with
  ``retry_before_content``, reads ahead;
- ``_process_response_data`` builds each streamed event's SDK model through a tagged validator (``models``).

``install()`` also patches the ``messages.stream()`` helper modules' ``build``, ``accumulate_event`` and
``build_events``.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import _backend
from .._events.errors import status_for_error
from .._patching import Patch, Patches, SDKChangedError, check
from .decoders import AWSEventStreamDecoder, SSEDecoder
from .helper import Probe, fast_accumulate_event, fast_build_events, probe
from .loop import take_over
from .models import fast_build, fast_process_response_data, forget
from .profile import (
    CLIENT_SIGNATURES,
    HELPER_MODULES,
    HELPER_SIGNATURES,
    LATER_CLIENT_SIGNATURES,
    accumulate_parameters,
    bedrock_events,
    sdk,
)
from .stall import check_stall_timeout
from .streams import StreamDecoder

__all__ = ["accelerate", "install", "is_installed", "uninstall"]


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


def _stream_binding(original: Callable[..., Any], is_async: bool, retry_before_content: bool) -> Callable[..., Any]:
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

        return _ours(_process_response_async)

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

    return _ours(_process_response)


def _drop_in_decoders(backend: str | None, stall_timeout: float | None) -> Callable[[Any], Callable[..., Any]]:
    """Every stream of the client gets a ``StreamDecoder`` over this package's drop-in for the decoder the SDK
    picks for it (from anthropic 2.16 the SDK picks per request: a Bedrock client reads its managed-agents
    routes as SSE): ``AWSEventStreamDecoder`` in place of the SDK's, ``SSEDecoder`` in place of the SDK's own
    ``SSEDecoder``. Any other decoder (a subclass's own) is kept, with the integrity check around it."""
    _backend.native_module(backend)  # fail now, not on the first request, if the backend is missing

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def _make_sse_decoder(self: Any, *args: Any, **kwargs: Any) -> StreamDecoder:
            decoder = original(self, *args, **kwargs)
            if type(decoder) is sdk().sse_decoder:
                decoder = SSEDecoder(backend)
            elif type(decoder) is _stock_bedrock_decoder():
                decoder = AWSEventStreamDecoder(backend)
            return StreamDecoder(decoder, stall_timeout=stall_timeout)

        return _ours(_make_sse_decoder)

    return make


@functools.cache
def _stock_bedrock_decoder() -> type | None:
    """The SDK's own ``AWSEventStreamDecoder`` class (its module needs nothing at import but the SDK)."""
    try:
        from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock
    except ImportError:
        return None
    return Stock


_F = TypeVar("_F", bound=Callable[..., Any])


def _ours(wrapper: _F) -> _F:
    """Marks a replacement as this package's, so that ``check`` sees through it to the SDK's original."""
    wrapper.__anthropic_eventstream__ = True  # type: ignore[attr-defined]
    return wrapper


#: The SDK's client classes whose internals opting in patches, by module and name (a release may lack some),
#: and whether each is a Bedrock client (whose event-stream decoding needs botocore, as the SDK's does). Every
#: other client class the SDK ships must inherit each patched internal from one of these (``_check_shipped``).
_CLIENTS = (
    ("anthropic", "Anthropic", False),
    ("anthropic", "AsyncAnthropic", False),
    ("anthropic.lib.vertex", "AnthropicVertex", False),
    ("anthropic.lib.vertex", "AsyncAnthropicVertex", False),
    ("anthropic.lib.bedrock", "AnthropicBedrock", True),
    ("anthropic.lib.bedrock", "AsyncAnthropicBedrock", True),
    # Bedrock's Anthropic-native endpoint (anthropic 2.15 and later): SSE, like the first-party API
    ("anthropic.lib.bedrock", "AnthropicBedrockMantle", False),
    ("anthropic.lib.bedrock", "AsyncAnthropicBedrockMantle", False),
)


def _known_clients() -> list[tuple[type, bool]]:
    """``(class, is_bedrock)`` for each of ``_CLIENTS`` the installed SDK has."""
    import importlib

    found = []
    for module_name, name, is_bedrock in _CLIENTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a client the installed release does not ship (or whose module cannot load here)
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            found.append((cls, is_bedrock))
    return found


def _shipped_clients() -> list[type]:
    """Every API client class the installed SDK defines (a subclass of its ``SyncAPIClient`` or ``AsyncAPIClient``
    in one of its modules), besides this package's own ``accelerate()`` subclasses."""
    from anthropic._base_client import AsyncAPIClient, SyncAPIClient

    found: list[type] = []
    stack: list[type] = [SyncAPIClient, AsyncAPIClient]
    while stack:
        sub: type
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            module = sub.__module__
            if (module == "anthropic" or module.startswith("anthropic.")) and not vars(sub).get(
                "__anthropic_eventstream_accelerated__"
            ):
                found.append(sub)
    return found


def _check_shipped(covered: set[type], names: set[str]) -> None:
    """``SDKChangedError`` for a client class of the installed SDK that ``install()`` would leave stock: one that
    is not among ``covered`` and does not inherit each of ``names`` (what is patched on those) from one of them
    (a new client, or one that overrides what is patched)."""
    for cls in _shipped_clients():
        if cls in covered:
            continue
        for name in sorted(names):
            owner = next((k for k in cls.__mro__ if k in covered or name in vars(k)), None)
            if owner not in covered:
                where = "nowhere" if owner is None else f"{owner.__module__}.{owner.__qualname__}"
                raise SDKChangedError(
                    f"the installed anthropic SDK ships a client class this version does not cover, "
                    f"{cls.__module__}.{cls.__qualname__} (its {name} comes from {where}): this version is not "
                    "supported (nothing was patched)"
                )


def _client_classes() -> list[tuple[type, bool, bool]]:
    """``(class, is_bedrock, is_async)`` for every client class of the installed SDK that opting in patches.
    Bedrock clients need botocore (as the SDK's own Bedrock decoder does); without it they are left as they
    are."""
    from anthropic._base_client import AsyncAPIClient

    known = _known_clients()
    has_botocore = importlib.util.find_spec("botocore") is not None
    return [
        (cls, is_bedrock, issubclass(cls, AsyncAPIClient))
        for cls, is_bedrock in known
        if has_botocore or not is_bedrock
    ]


def _retry_loop_probe(cls: type) -> None:
    """``retry_before_content`` raises what it finds from ``_process_response``, so the SDK's retry loop must
    cover ``_process_response`` and decide by exception (``_should_retry_exception``). Older SDKs (anthropic
    0.40, say) retried only HTTP status errors, by recursion, outside it: there the flag is refused."""
    for name in ("_should_retry_exception", "_should_retry"):
        check(Patch(cls, name, lambda original: original, parameters=CLIENT_SIGNATURES[name]))
    for name, parameters in LATER_CLIENT_SIGNATURES.items():
        if hasattr(cls, name):
            check(Patch(cls, name, lambda original: original, parameters=parameters))


@dataclass(frozen=True)
class Options:
    """What ``install()`` and ``accelerate()`` are asked for (the stall timeout checked): the same for every class
    they patch, and the key of ``accelerate()``'s subclasses."""

    backend: str | None
    retry_before_content: bool
    stall_timeout: float | None


def _client_patches(cls: type, *, is_bedrock: bool, is_async: bool, options: Options) -> list[Patch]:
    """What opting in changes on one client class."""
    backend, retry_before_content, stall_timeout = options.backend, options.retry_before_content, options.stall_timeout
    sdk()  # the profile the decoders need: checked now, so that a changed SDK fails the opt-in
    if is_bedrock:
        bedrock_events()
    if retry_before_content:
        _retry_loop_probe(cls)
    return [
        Patch(
            cls,
            "_make_sse_decoder",
            _drop_in_decoders(backend, stall_timeout),
            parameters=CLIENT_SIGNATURES["_make_sse_decoder"],
        ),
        Patch(cls, "_make_status_error", _typed_status_error, parameters=CLIENT_SIGNATURES["_make_status_error"]),
        Patch(
            cls,
            "_process_response_data",
            lambda original: _ours(fast_process_response_data(original)),
            parameters=CLIENT_SIGNATURES["_process_response_data"],
        ),
        Patch(
            cls,
            "_process_response",
            functools.partial(_stream_binding, is_async=is_async, retry_before_content=retry_before_content),
            kind="coroutine function" if is_async else "function",
            parameters=CLIENT_SIGNATURES["_process_response"],
        ),
    ]


_installed = Patches()


def _helper_module_patches(module: Any) -> list[Patch]:
    """One ``messages.stream()`` helper module's patches: its event building (``build``) and, where its
    ``accumulate_event`` keeps the tool-input buffers in its ``json_bufs`` argument, its per-event work
    (``accumulate_event`` and ``build_events``, ``helper``). Earlier SDKs, which keep them on the content block,
    keep theirs as they are; a ``json_bufs`` in any other place is a change this package does not know, and
    refused."""
    patches = [
        Patch(
            module,
            "build",
            lambda original: _ours(fast_build(original)),
            parameters=HELPER_SIGNATURES["build"],  # 2.16's own build (model_construct) is slower than a validator
        )
    ]
    takes_json_bufs, parameters = accumulate_parameters(module)
    if takes_json_bufs:
        found = helper_probe(module)
        patches += [
            Patch(
                module,
                "accumulate_event",
                lambda original: _ours(fast_accumulate_event(original, found)),
                parameters=parameters,
            ),
            Patch(
                module,
                "build_events",
                lambda original: _ours(fast_build_events(original, found)),
                parameters=HELPER_SIGNATURES["build_events"],
            ),
        ]
    return patches


def helper_probe(module: Any) -> Probe:
    """``helper.probe`` for one helper module, on its stream's event union (``HELPER_MODULES``); an SDK whose
    union is not where the profile says is a change this package does not know, and refused."""
    import importlib

    union_module, union_name = HELPER_MODULES[module.__name__]
    try:
        union = getattr(importlib.import_module(union_module), union_name)
    except (ImportError, AttributeError) as exc:
        raise SDKChangedError(
            f"{union_module}.{union_name}, the event union of {module.__name__}, is missing: this version is not "
            "supported (nothing was patched)"
        ) from exc
    return probe(module, union)


def _helper_patches() -> list[Patch]:
    """The ``messages.stream()`` helpers' patches (``_helper_module_patches``, for the regular and the beta helper):
    module functions shared by every client, so patched by ``install()`` only."""
    import importlib

    patches = []
    for name in HELPER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        patches += _helper_module_patches(module)
    return patches


def install(
    *, backend: str | None = None, retry_before_content: bool = False, stall_timeout: float | None = None
) -> None:
    """Opt in globally: ``AnthropicBedrock`` / ``AsyncAnthropicBedrock`` decode with this package, and every
    client (first-party and Vertex too) raises mid-stream errors as the SDK's typed exception with the real
    status, and a broken or incomplete stream as ``APIConnectionError``. ``backend`` forces ``"native"`` or
    ``"python"`` (default: ``anthropic_eventstream.BACKEND``). Calling it again replaces the earlier opt-in.

    ``retry_before_content``: ``messages.create(stream=True)`` and ``messages.stream()`` read ahead to the first
    content event before handing the stream over, and a retryable error before it (408, 409, 429, 5xx, a broken
    or incomplete stream, a transport error, a timeout, a stall) goes through the SDK's own retry loop; the
    caller sees one clean stream.

    ``stall_timeout``: seconds without an event other than ``ping`` (pings only, or no bytes at all) after which
    a stream raises ``APITimeoutError`` whose cause is ``StalledStreamError``, whatever the client's read timeout.

    Raises ``SDKChangedError`` (and changes nothing) if an SDK internal it relies on is missing or changed, or
    if the SDK ships a client class that this would leave stock."""
    options = Options(backend, retry_before_content, check_stall_timeout(stall_timeout))
    classes = _client_classes()
    patches = [
        patch
        for cls, is_bedrock, is_async in classes
        for patch in _client_patches(cls, is_bedrock=is_bedrock, is_async=is_async, options=options)
    ]
    _check_shipped({cls for cls, _, _ in classes}, {patch.name for patch in patches})
    _installed.apply(patches + _helper_patches())


def uninstall() -> None:
    """Undo ``install()``: every patched class gets back exactly what it held. Streams already created, and
    clients passed to ``accelerate()``, keep their behaviour."""
    _installed.restore()
    forget()


def is_installed() -> bool:
    return _installed.active


_ACCELERATED: dict[tuple[type, Options, tuple[Any, ...]], type] = {}
_accelerated_lock = threading.Lock()


def _accelerated_class(cls: type, options: Options) -> type:
    """The subclass of ``cls`` that ``accelerate()`` gives a client: the same patches as ``install()``, made from
    what ``cls`` itself resolves (the SDK's originals, or a subclass's own overrides), held by the subclass
    itself. They are checked on every call, and one subclass is kept per class, options and originals: an
    internal changed since (patched by another library, say) is checked and wrapped afresh, never bypassed."""
    with _accelerated_lock:
        covered = {c: (is_bedrock, is_async) for c, is_bedrock, is_async in _client_classes()}
        base = next((c for c in cls.__mro__ if c in covered), None)
        if base is None:
            from anthropic._base_client import BaseClient

            if issubclass(cls, BaseClient):
                raise SDKChangedError(
                    f"{cls.__module__}.{cls.__qualname__} is a client class this version does not know "
                    "(nothing was patched)"
                )
            raise TypeError(f"accelerate() takes an anthropic client, not {cls.__name__}")
        is_bedrock, is_async = covered[base]
        patches = _client_patches(cls, is_bedrock=is_bedrock, is_async=is_async, options=options)
        originals = tuple(check(patch) for patch in patches)
        key = (cls, options, originals)
        if key not in _ACCELERATED:
            namespace: dict[str, Any] = {
                patch.name: patch.make(original) for patch, original in zip(patches, originals, strict=True)
            }
            namespace.update(
                __anthropic_eventstream_accelerated__=True,
                __module__=cls.__module__,
                __qualname__=cls.__qualname__,
                __doc__=cls.__doc__,
            )
            _ACCELERATED[key] = type(cls.__name__, (cls,), namespace)
        return _ACCELERATED[key]


_C = TypeVar("_C")


def accelerate(
    client: _C,
    *,
    backend: str | None = None,
    retry_before_content: bool = False,
    stall_timeout: float | None = None,
) -> _C:
    """Opt in for one client (and the copies ``with_options()`` makes of it); returns the same client. The
    options are ``install()``'s.

    The client's class becomes a subclass of its own class that holds the patches itself, so ``isinstance``
    checks keep working, and nothing ``install()`` / ``uninstall()`` do later changes it."""
    options = Options(backend, retry_before_content, check_stall_timeout(stall_timeout))
    cls: type[Any] = type(client)
    if cls.__dict__.get("__anthropic_eventstream_accelerated__"):
        cls = cls.__mro__[1]
    client.__class__ = _accelerated_class(cls, options)
    return client
