"""``diagnostics()``: which fast paths are on for the installed SDK, and for each one that is off, why.

Each fast path falls back to the SDK's own code when it cannot be exact, which is safe but slower; this says
so, instead of leaving a user to find out from a benchmark. It asks the same checks the fast paths ask (no
second copy of their rules), and changes nothing.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from . import _backend

__all__ = ["diagnostics"]


def _path(on: bool, why: str | None = None, **details: Any) -> dict[str, Any]:
    return {"on": on, **({} if on or why is None else {"why": why}), **details}


def _native() -> dict[str, Any]:
    if _backend.BACKEND == "native":
        return _path(True)
    if _backend._native is None:
        return _path(False, f"the compiled extension did not import: {_backend._native_error}")
    return _path(False, f"{_backend.ENV_VAR} chose the python backend")


def _validators() -> dict[str, Any]:
    from ._anthropic.models import built_throughout, event_validator, tagged_unions

    unions: dict[str, int] = {}
    for module, name in (
        ("anthropic.types", "RawMessageStreamEvent"),
        ("anthropic.types.beta", "BetaRawMessageStreamEvent"),
    ):
        try:
            union = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        unions[name] = tagged_unions(union) if event_validator(union) is not None else 0
    if not unions or not all(unions.values()):
        why = "the SDK's event unions are not ones this version can tag (pydantic v1, or a new layout)"
        return _path(False, why, unions=unions)
    if not built_throughout():
        return _path(
            False,
            "this pydantic-core reuses complete classes' own validators (no _use_prebuilt): after the SDK's "
            "models are first used, the unions inside them validate as the SDK's smart unions",
            unions=unions,
        )
    return _path(True, unions=unions)


def _loop() -> dict[str, Any]:
    from anthropic._streaming import AsyncStream, Stream

    from ._anthropic.loop import _known
    from ._anthropic.profile import LOOP_METHODS, loop_form, loop_method, loop_method_name, reviewed_loop

    sides = {"sync": (Stream, False), "async": (AsyncStream, True)}
    differs: dict[str, str] = {}
    for side, (cls, is_async) in sides.items():
        diff: list[str] = []
        for method in LOOP_METHODS:
            function = loop_method(cls, method, is_async)
            if _known(function, method) is not is_async:
                where = f"{cls.__name__}.{loop_method_name(method, is_async)}"
                lines = difflib.unified_diff(
                    reviewed_loop(is_async, method).splitlines(True),
                    (loop_form(function) or "").splitlines(True),
                    f"reviewed {where}",
                    f"installed {where}",
                )
                diff += list(lines)[:40]  # each method's start, so that a long diff does not hide the other's
        if diff:
            differs[side] = "".join(diff)
    known: dict[str, Any] = {side: side not in differs for side in sides}
    if not differs:
        return _path(True, **known)
    off = " and ".join(differs)
    return _path(
        False,
        f"the installed SDK's {off} stream loop (Stream.__stream__, the _iter_events it reads and the __iter__ that "
        "hands its items on) is not the loop this version was reviewed against: its own loop runs (exact, slower); "
        "`differs` shows where",
        **known,
        differs=differs,
    )


def _tool_input() -> dict[str, Any]:
    from ._anthropic.profile import accumulate_parameters
    from ._patching import SDKChangedError

    try:
        takes_json_bufs, parameters = accumulate_parameters(
            importlib.import_module("anthropic.lib.streaming._messages")
        )
    except SDKChangedError as exc:
        return _path(False, str(exc))
    if takes_json_bufs:
        return _path(True, applies_under="install()")
    return _path(
        False,
        f"the helper's accumulate_event takes {parameters}, not the tool-input buffers as json_bufs (anthropic < 2): "
        "the SDK's own accumulation runs",
    )


def _helper_events() -> dict[str, Any]:
    """The helper's short way for text and thinking deltas (``helper.probe``), per helper module: the kinds
    it takes, and why each other one does not."""
    from ._anthropic.install import helper_probe
    from ._anthropic.profile import HELPER_MODULES, accumulate_parameters
    from ._patching import SDKChangedError

    modules: dict[str, Any] = {}
    for name in HELPER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        try:
            takes_json_bufs, parameters = accumulate_parameters(module)
        except SDKChangedError as exc:
            modules[name] = {"kinds": [], "why": {"*": str(exc)}}
            continue
        if not takes_json_bufs:
            modules[name] = {"kinds": [], "why": {"*": f"accumulate_event takes {parameters} (anthropic < 2)"}}
            continue
        found = helper_probe(module)
        modules[name] = {"kinds": sorted(found.built), **({"why": found.why_not} if found.why_not else {})}
    on = any(module["kinds"] for module in modules.values())
    return _path(
        on, None if on else "no helper module's deltas take the short way", modules=modules, applies_under="install()"
    )


def _profile(anthropic: Any) -> dict[str, Any]:
    """The SDK profile's checks, each asked of the installed SDK: whether the release is in the supported range;
    for each internal the opt-in replaces on a client class (and each it calls where the release has it),
    ``"ok"`` or what differs; and how its streams read the body (``body_readers``)."""
    from ._anthropic.profile import CLIENT_SIGNATURES, LATER_CLIENT_SIGNATURES, SUPPORTED_RANGE, sdk, supported
    from ._patching import Patch, SDKChangedError, check

    signatures = {}
    for name, accepted in {**CLIENT_SIGNATURES, **LATER_CLIENT_SIGNATURES}.items():
        if name in LATER_CLIENT_SIGNATURES and not hasattr(anthropic.Anthropic, name):
            signatures[name] = "absent (an earlier release): not called"
            continue
        try:
            check(Patch(anthropic.Anthropic, name, lambda original: original, parameters=accepted))
        except SDKChangedError as exc:
            signatures[name] = str(exc)
        else:
            signatures[name] = "ok"
    try:
        readers = sdk().body_readers
    except SDKChangedError as exc:
        body = str(exc)
    else:
        body = (
            "raw: a transport failure mid-stream is mapped by this package"
            if readers is None
            else "the SDK's typed readers (iter_response_bytes): a transport failure mid-stream is the SDK's own"
        )
    return {
        "supported_range": SUPPORTED_RANGE,
        "in_range": supported(anthropic.__version__),
        "signatures": signatures,
        "body_readers": body,
    }


def _seams() -> dict[str, Any]:
    """Each seam ``install()`` asks of the installed SDK (``retry_before_content`` asked too), as ``install()`` finds it:
    on, or off with why (``expected``: by design for this release, no change to warn about)."""
    from ._anthropic.install import Options, capabilities

    return {
        found.seam: _path(found.on, found.why, **({"expected": True} if found.expected else {}))
        for found in capabilities(Options(None, True, None))
    }


def diagnostics() -> dict[str, Any]:
    """For the installed anthropic SDK: each seam the opt-in depends on (``seams``: on, or off with why, as
    ``install()`` finds it), its profile (``sdk_profile``: the supported range, and each internal the
    opt-in replaces, checked), each fast path (``native_decoder``, ``tagged_validators`` with how many unions
    each event union's validator tags, ``stream_loop``, ``tool_input``, ``helper_events``) as ``{"on": bool, "why": ...}`` (``why``
    only when off), and what is opted in now."""
    from ._anthropic.install import is_installed
    from ._botocore.install import is_botocore_installed

    report: dict[str, Any] = {"backend": _backend.BACKEND, "native_decoder": _native()}
    try:
        import anthropic
    except ImportError:
        report["anthropic"] = None
        return report
    report["anthropic"] = anthropic.__version__
    try:
        report["seams"] = _seams()
    except Exception as exc:  # as for the fast paths below: say so, never raise
        report["seams"] = {"why": f"cannot inspect the installed SDK: {type(exc).__name__}: {exc}"}
    try:
        report["sdk_profile"] = _profile(anthropic)
    except Exception as exc:  # as for the fast paths below: say so, never raise
        report["sdk_profile"] = {"why": f"cannot inspect the installed SDK: {type(exc).__name__}: {exc}"}
    for name, probe in (
        ("tagged_validators", _validators),
        ("stream_loop", _loop),
        ("tool_input", _tool_input),
        ("helper_events", _helper_events),
    ):
        try:
            report[name] = probe()
        except Exception as exc:  # an SDK this version cannot even inspect: say so, never raise
            report[name] = _path(False, f"cannot inspect the installed SDK: {type(exc).__name__}: {exc}")
    report["installed"] = is_installed()
    report["botocore_installed"] = is_botocore_installed()
    return report
