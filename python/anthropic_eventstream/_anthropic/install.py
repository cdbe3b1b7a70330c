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

Each of those is a seam (``SEAMS``), asked of the installed SDK at opt-in (``capabilities``): on, with its patches,
or off, with why. The opt-in applies the seams that are on, so that an SDK release that changed one seam leaves
that one as the SDK's own, with a warning, and keeps the others (typed errors, the integrity check and the stall
watchdog stay on wherever their own seams match); ``strict=True`` refuses instead (``_patching.settle``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import _backend
from .._events.errors import status_for_error
from .._patching import Capability, Patch, Patches, SDKChangedError, capability, check, off, settle
from .clients import client_classes, uncovered
from .decoders import AWSEventStreamDecoder, SSEDecoder
from .helper import Probe, fast_accumulate_event, fast_build_events, probe
from .loop import take_over, unknown_loop
from .models import fast_build, fast_process_response_data, forget
from .profile import (
    CLIENT_SIGNATURES,
    HELPER_CLASSES,
    HELPER_MODULES,
    HELPER_SIGNATURES,
    LATER_CLIENT_SIGNATURES,
    REVIEWED_LOOPS_SINCE,
    accumulate_parameters,
    bedrock_events,
    release,
    sdk,
    sse_events,
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


def _drop_in_decoders(
    backend: str | None, stall_timeout: float | None, *, sse: bool, bedrock: bool
) -> Callable[[Any], Callable[..., Any]]:
    """Every stream of the client gets a ``StreamDecoder`` (the integrity check, the stall watchdog) over this
    package's drop-in for the decoder the SDK picks for it (from anthropic 2.16 the SDK picks per request: a
    Bedrock client reads its managed-agents routes as SSE): ``AWSEventStreamDecoder`` in place of the SDK's where
    ``bedrock``, ``SSEDecoder`` in place of the SDK's own ``SSEDecoder`` where ``sse`` (the seams that say this
    package decodes as the installed SDK does). Any other decoder (a subclass's own, or one of those seams is off)
    is kept, with the integrity check around it."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def _make_sse_decoder(self: Any, *args: Any, **kwargs: Any) -> StreamDecoder:
            decoder = original(self, *args, **kwargs)
            if sse and type(decoder) is sdk().sse_decoder:
                decoder = SSEDecoder(backend)
            elif bedrock and type(decoder) is _stock_bedrock_decoder():
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


def _retry_loop_probe(cls: type) -> None:
    """``retry_before_content`` raises what it finds from ``_process_response``, so the SDK's retry loop must
    cover ``_process_response`` and decide by exception (``_should_retry_exception``). Older SDKs (anthropic
    0.40, say) retried only HTTP status errors, by recursion, outside it: there the seam is off."""
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


#: The seams of the SDK that opting in depends on, each with what it gives while it matches the installed SDK.
#: One that is off leaves that behaviour as the SDK's own.
SEAMS = {
    "client classes": "every client class the SDK ships is covered (one that is not is left as the SDK ships it)",
    "stream decoder": "_make_sse_decoder: the integrity check, typed transport failures and the stall watchdog",
    "SSE decoding": "this package's SSE decoder, found to decode as the SDK's own does (first-party, Vertex)",
    "Bedrock decoding": "this package's event-stream decoder, named as the SDK's own names chunks (Bedrock)",
    "typed errors": "_make_status_error: a mid-stream error raised with its real status",
    "event models": "_process_response_data: each event's model built by a tagged validator",
    "stream binding": "_process_response: a stream's decoder told its request, and this package's stream loop",
    "stream loop": "the SDK's stream loop is the one reviewed, so this package's may take its place",
    "retry before content": "the SDK's retry loop covers a stream's creation (asked with retry_before_content)",
    "messages.stream() helper": "the helper's build, accumulate_event and build_events",
}


def _each(
    classes: list[tuple[type, bool, bool]], make: Callable[[type, bool, bool], Patch | None]
) -> Callable[[], list[Patch]]:
    """A seam's build: ``make``'s patch for each client class (``None``: none for that class)."""
    return lambda: [patch for cls, is_bedrock, is_async in classes if (patch := make(cls, is_bedrock, is_async))]


def _checked(probe: Callable[[], Any]) -> Callable[[], tuple[Patch, ...]]:
    """A seam's build that patches nothing of its own: ``probe`` asks the SDK (and raises where it differs)."""

    def build() -> tuple[Patch, ...]:
        probe()
        return ()

    return build


def _bedrock_probe() -> None:
    if _stock_bedrock_decoder() is None:
        raise SDKChangedError("anthropic.lib.bedrock._stream_decoder.AWSEventStreamDecoder is missing")
    bedrock_events()


def _no_unknown_loop() -> None:
    why = unknown_loop()
    if why is not None:
        raise SDKChangedError(why)


def _loop_capability() -> Capability:
    """The ``stream loop`` seam: off by design for a release before the reviewed loops, off as a change from
    them; on, it patches nothing (``loop.take_over`` gives each stream the loop, and checks it again)."""
    found = capability("stream loop", _checked(_no_unknown_loop))
    if not found.on and _release() < REVIEWED_LOOPS_SINCE:
        return off("stream loop", found.why or "", expected=True)
    return found


def _release() -> tuple[int, ...]:
    import anthropic

    return release(getattr(anthropic, "__version__", ""))


def client_capabilities(classes: list[tuple[type, bool, bool]], options: Options) -> list[Capability]:
    """Each seam of the client classes ``classes`` (``(class, is_bedrock, is_async)``), asked of the installed
    SDK: what ``install()`` and ``accelerate()`` apply where it is on."""
    sse = capability("SSE decoding", _checked(sse_events))
    bedrock = (
        capability("Bedrock decoding", _checked(_bedrock_probe))
        if any(is_bedrock for _, is_bedrock, _ in classes)
        else None
    )
    retry = (
        capability("retry before content", _each(classes, lambda cls, *_: _retry_loop_probe(cls)))
        if options.retry_before_content
        else None
    )

    def decoder_patch(cls: type, is_bedrock: bool, is_async: bool) -> Patch:
        sdk()  # what a StreamDecoder raises and reads the body with: checked now
        return Patch(
            cls,
            "_make_sse_decoder",
            _drop_in_decoders(
                options.backend, options.stall_timeout, sse=sse.on, bedrock=bedrock is not None and bedrock.on
            ),
            parameters=CLIENT_SIGNATURES["_make_sse_decoder"],
        )

    def binding_patch(cls: type, is_bedrock: bool, is_async: bool) -> Patch:
        return Patch(
            cls,
            "_process_response",
            functools.partial(_stream_binding, is_async=is_async, retry_before_content=retry is not None and retry.on),
            kind="coroutine function" if is_async else "function",
            parameters=CLIENT_SIGNATURES["_process_response"],
        )

    found = [
        capability("stream decoder", _each(classes, decoder_patch)),
        sse,
        *([bedrock] if bedrock is not None else []),
        capability(
            "typed errors",
            _each(
                classes,
                lambda cls, *_: Patch(
                    cls, "_make_status_error", _typed_status_error, parameters=CLIENT_SIGNATURES["_make_status_error"]
                ),
            ),
        ),
        capability(
            "event models",
            _each(
                classes,
                lambda cls, *_: Patch(
                    cls,
                    "_process_response_data",
                    lambda original: _ours(fast_process_response_data(original)),
                    parameters=CLIENT_SIGNATURES["_process_response_data"],
                ),
            ),
        ),
        capability("stream binding", _each(classes, binding_patch)),
        _loop_capability(),
        *([retry] if retry is not None else []),
    ]
    return found


_installed = Patches()
#: The seams the last ``install()`` asked of the installed SDK (what ``diagnostics()`` reports as installed).
_installed_seams: list[Capability] = []


def _helper_module_patches(module: Any) -> list[Patch]:
    """One ``messages.stream()`` helper module's patches: its event building (``build``) and, where its
    ``accumulate_event`` keeps the tool-input buffers in its ``json_bufs`` argument, its per-event work
    (``accumulate_event`` and ``build_events``, ``helper``). Earlier SDKs, which keep them on the content block,
    keep theirs as they are; a ``json_bufs`` in any other place is a change this package does not know."""
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
    union is not where the profile says is a change this package does not know."""
    import importlib

    union_module, union_name = HELPER_MODULES[module.__name__]
    try:
        union = getattr(importlib.import_module(union_module), union_name)
    except (ImportError, AttributeError) as exc:
        raise SDKChangedError(f"{union_module}.{union_name}, the event union of {module.__name__}, is missing") from exc
    return probe(module, union)


def helper_modules() -> list[Any]:
    """The installed SDK's ``messages.stream()`` helper modules (``HELPER_MODULES``): each whose stream class
    (``HELPER_CLASSES``) ``anthropic.lib.streaming`` exports. A release that defines one of those classes in
    another module has moved its helper: ``SDKChangedError``."""
    import importlib

    streaming = importlib.import_module("anthropic.lib.streaming")
    found = []
    for name, class_name in HELPER_CLASSES.items():
        cls = getattr(streaming, class_name, None)
        if cls is None:  # a release without this helper
            continue
        if getattr(cls, "__module__", None) != name:
            raise SDKChangedError(
                f"anthropic.lib.streaming.{class_name} is defined in {getattr(cls, '__module__', None)}, not {name}"
            )
        found.append(importlib.import_module(name))
    return found


def _helper_capability() -> Capability:
    """The ``messages.stream()`` helper seam (``_helper_module_patches`` for the regular and the beta helper):
    module functions shared by every client, so patched by ``install()`` only."""
    return capability(
        "messages.stream() helper",
        lambda: [patch for module in helper_modules() for patch in _helper_module_patches(module)],
    )


def capabilities(options: Options | None = None, *, helper: bool = True) -> list[Capability]:
    """Every seam ``install()`` asks of the installed SDK, with ``options`` (default: the defaults)."""
    options = options or Options(None, False, None)
    classes = client_classes()
    found = client_capabilities(classes, options)
    names = {patch.name for capability in found for patch in capability.patches}
    left = uncovered({cls for cls, _, _ in classes}, names)
    clients = (
        off("client classes", f"{'; '.join(left)}: left as the SDK ships it") if left else Capability("client classes")
    )
    return [clients, *found, *([_helper_capability()] if helper else [])]


def install(
    *,
    backend: str | None = None,
    retry_before_content: bool = False,
    stall_timeout: float | None = None,
    strict: bool = False,
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

    A seam of the installed SDK that differs from what this version knows (a new release) stays as the SDK's
    own, and one ``RuntimeWarning`` names each such seam and why; everything else is on. ``strict=True``
    raises ``SDKChangedError`` naming them instead, and changes nothing."""
    options = Options(backend, retry_before_content, check_stall_timeout(stall_timeout))
    _backend.native_module(backend)  # fail now, not on the first request, if the backend is missing
    found = capabilities(options)
    patches = settle(found, strict=strict, what="install")
    _installed.apply(patches)
    _installed_seams[:] = found


def uninstall() -> None:
    """Undo ``install()``: every patched class gets back exactly what it held. Streams already created, and
    clients passed to ``accelerate()``, keep their behaviour."""
    _installed.restore()
    _installed_seams.clear()
    forget()


def is_installed() -> bool:
    return _installed.active


def installed_seams() -> list[Capability]:
    """What the current ``install()`` found of each seam (empty when not installed)."""
    return list(_installed_seams)


_ACCELERATED: dict[tuple[type, Options, tuple[Any, ...]], type] = {}
_accelerated_lock = threading.Lock()


def _accelerated_class(cls: type, options: Options, strict: bool) -> type:
    """The subclass of ``cls`` that ``accelerate()`` gives a client: the patches of ``install()``'s seams that are
    on for ``cls``, made from what ``cls`` itself resolves (the SDK's originals, or a subclass's own overrides),
    held by the subclass itself. They are checked on every call, and one subclass is kept per class, options and
    originals: an internal changed since (patched by another library, say) is checked and wrapped afresh, never
    bypassed. A client class this version does not know is left as it is (``strict``: refused)."""
    with _accelerated_lock:
        covered = {c: (is_bedrock, is_async) for c, is_bedrock, is_async in client_classes()}
        base = next((c for c in cls.__mro__ if c in covered), None)
        if base is None:
            from anthropic._base_client import BaseClient

            if not issubclass(cls, BaseClient):
                raise TypeError(f"accelerate() takes an anthropic client, not {cls.__name__}")
            settle(
                [
                    off(
                        "client classes",
                        f"{cls.__module__}.{cls.__qualname__} is a client class this version does not know",
                    )
                ],
                strict=strict,
                what="accelerate",
                stacklevel=5,
            )
            return cls
        is_bedrock, is_async = covered[base]
        found = client_capabilities([(cls, is_bedrock, is_async)], options)
        patches = settle(found, strict=strict, what="accelerate", stacklevel=5)
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
    strict: bool = False,
) -> _C:
    """Opt in for one client (and the copies ``with_options()`` makes of it); returns the same client. The
    options are ``install()``'s, ``strict`` included.

    The client's class becomes a subclass of its own class that holds the patches itself, so ``isinstance``
    checks keep working, and nothing ``install()`` / ``uninstall()`` do later changes it."""
    options = Options(backend, retry_before_content, check_stall_timeout(stall_timeout))
    _backend.native_module(backend)
    cls: type[Any] = type(client)
    if cls.__dict__.get("__anthropic_eventstream_accelerated__"):
        cls = cls.__mro__[1]
    client.__class__ = _accelerated_class(cls, options, strict)
    return client
