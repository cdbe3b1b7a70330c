"""What ``diagnostics()`` says of the installed anthropic SDK: each seam, and which fast paths are on, and for each
one that is off, why.

Each fast path falls back to the SDK's own code when it cannot be exact, which is safe but slower; this says
so, instead of leaving a user to find out from a benchmark. It asks the same checks the fast paths ask (no
second copy of their rules), and changes nothing.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

__all__ = ["sdk_report"]


def _path(on: bool, why: str | None = None, **details: Any) -> dict[str, Any]:
    return {"on": on, **({} if on or why is None else {"why": why}), **details}


def _event_unions() -> dict[str, Any]:
    """The streamed event unions of the installed SDK (the Messages API's and its beta's), by name."""
    unions: dict[str, Any] = {}
    for module, name in (
        ("anthropic.types", "RawMessageStreamEvent"),
        ("anthropic.types.beta", "BetaRawMessageStreamEvent"),
    ):
        try:
            unions[name] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return unions


def _validators() -> dict[str, Any]:
    from .models import built_throughout, event_validator, tagged_unions

    unions = {
        name: tagged_unions(union) if event_validator(union) is not None else 0
        for name, union in _event_unions().items()
    }
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


def _builders() -> dict[str, Any]:
    from .builders import builder_report

    unions = {name: builder_report(union) for name, union in _event_unions().items()}
    off = {name: report["why"] for name, report in unions.items() if not report["on"]}
    if not unions or off:
        return _path(
            False, "; ".join(f"{name}: {why}" for name, why in off.items()) or "no event unions", unions=unions
        )
    return _path(True, unions=unions)


def _loop() -> dict[str, Any]:
    from anthropic._streaming import AsyncStream, Stream

    from .loop import LOOP_METHODS, _known, loop_form, loop_method, loop_method_name, reviewed_loop

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
    from .._patching import SDKChangedError
    from .helper import accumulate_parameters

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
    from .._patching import SDKChangedError
    from .helper import accumulate_parameters, helper_modules, helper_probe

    modules: dict[str, Any] = {}
    for module in helper_modules():  # as install() finds them; a moved helper is reported by the caller
        name = module.__name__
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
    from .._patching import Patch, SDKChangedError, check
    from .body import sdk
    from .clients import CLIENT_SIGNATURES, LATER_CLIENT_SIGNATURES
    from .range import SUPPORTED_RANGE, supported

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
    from .install import Options, capabilities

    return {
        found.seam: _path(found.on, found.why, **({"expected": True} if found.expected else {}))
        for found in capabilities(Options(None, True, None))
    }


def sdk_report() -> dict[str, Any]:
    """``diagnostics()``'s part for the installed anthropic SDK (``diagnostics`` says what each key holds); never
    raises: what cannot be inspected is said so."""
    try:
        import anthropic
    except ImportError:
        return {"anthropic": None}
    report: dict[str, Any] = {"anthropic": anthropic.__version__}
    for name, probe in (
        ("seams", _seams),
        ("sdk_profile", lambda: _profile(anthropic)),
        ("tagged_validators", _validators),
        ("native_builders", _builders),
        ("stream_loop", _loop),
        ("tool_input", _tool_input),
        ("helper_events", _helper_events),
    ):
        try:
            report[name] = probe()
        except Exception as exc:  # an SDK this version cannot even inspect: say so, never raise
            report[name] = _path(False, f"cannot inspect the installed SDK: {type(exc).__name__}: {exc}")
    return report
