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
from .._patching import Capability, Patch, Patches, SDKChangedError, capability, check, off, ours, settle
from .._policy.stall import check_stall_timeout
from .body import sdk, stream_sdk
from .builders import forget as forget_builders
from .clients import CLIENT_SIGNATURES, client_classes, uncovered
from .decoders import bedrock_events, drop_in_decoders, sse_events, stock_bedrock_decoder
from .events import event_spec
from .helper import helper_capability
from .loop import unknown_loop
from .models import fast_process_response_data, forget
from .range import REVIEWED_LOOPS_SINCE, installed
from .retry import retry_loop_probe, stream_binding
from .status import typed_status_error

__all__ = [
    "SEAMS",
    "Options",
    "accelerate",
    "capabilities",
    "forget_learned",
    "install",
    "installed_seams",
    "is_installed",
    "uninstall",
]


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
    classes: list[tuple[type, bool, bool]], make: Callable[[type, bool, bool], Patch]
) -> Callable[[], list[Patch]]:
    """A seam's build: ``make``'s patch for each client class."""
    return lambda: [make(cls, is_bedrock, is_async) for cls, is_bedrock, is_async in classes]


def _checked(probe: Callable[[], Any]) -> Callable[[], tuple[Patch, ...]]:
    """A seam's build that patches nothing of its own: ``probe`` asks the SDK (and raises where it differs)."""

    def build() -> tuple[Patch, ...]:
        probe()
        return ()

    return build


def _retry_loops(classes: list[tuple[type, bool, bool]]) -> None:
    for cls, _, _ in classes:
        retry_loop_probe(cls)


def _bedrock_probe() -> None:
    if stock_bedrock_decoder() is None:
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
    if not found.on and installed() < REVIEWED_LOOPS_SINCE:
        return off("stream loop", found.why or "", expected=True)
    return found


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
        capability("retry before content", _checked(functools.partial(_retry_loops, classes)))
        if options.retry_before_content
        else None
    )

    def decoder_patch(cls: type, is_bedrock: bool, is_async: bool) -> Patch:
        sdk()  # what a StreamDecoder raises and reads the body with: checked now
        return Patch(
            cls,
            "_make_sse_decoder",
            drop_in_decoders(
                options.backend, options.stall_timeout, sse=sse.on, bedrock=bedrock is not None and bedrock.on
            ),
            parameters=CLIENT_SIGNATURES["_make_sse_decoder"],
        )

    def binding_patch(cls: type, is_bedrock: bool, is_async: bool) -> Patch:
        return Patch(
            cls,
            "_process_response",
            functools.partial(stream_binding, is_async=is_async, retry_before_content=retry is not None and retry.on),
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
                    cls, "_make_status_error", typed_status_error, parameters=CLIENT_SIGNATURES["_make_status_error"]
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
                    lambda original: ours(fast_process_response_data(original)),
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
#: The seams the last ``install()`` asked of the installed SDK (``installed_seams()``).
_installed_seams: list[Capability] = []


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
    return [clients, *found, *([helper_capability()] if helper else [])]


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


def forget_learned() -> None:
    """Forgets what was learned of the installed SDK (each seam's probes run once per process), so that the next
    opt-in learns it afresh: for a process that changed the SDK under it (a test simulating a release)."""
    for learned in (sdk, stream_sdk, event_spec, sse_events, bedrock_events, stock_bedrock_decoder):
        learned.cache_clear()


def uninstall() -> None:
    """Undo ``install()``: every patched class gets back exactly what it held. Streams already created, and
    clients passed to ``accelerate()``, keep their behaviour."""
    _installed.restore()
    _installed_seams.clear()
    forget()
    forget_builders()


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
