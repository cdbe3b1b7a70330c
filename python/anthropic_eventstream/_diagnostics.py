"""``diagnostics()``: which fast paths are on, and for each one that is off, why; which seams of the installed SDK
match (``_anthropic.report``); and what is opted in now.

Each fast path falls back to the SDK's own code when it cannot be exact, which is safe but slower; this says
so, instead of leaving a user to find out from a benchmark. It asks the same checks the opt-in asks (no second
copy of their rules), and changes nothing.
"""

from __future__ import annotations

from typing import Any

from . import _backend
from ._anthropic.install import is_installed
from ._anthropic.report import sdk_report
from ._botocore.install import is_botocore_installed
from ._botocore.shapes import botocore_report

__all__ = ["diagnostics"]


def _native() -> dict[str, Any]:
    if _backend.BACKEND == "native":
        return {"on": True}
    if _backend._native is None:
        return {"on": False, "why": f"the compiled extension did not import: {_backend._native_error}"}
    return {"on": False, "why": f"{_backend.ENV_VAR} chose the python backend"}


def diagnostics() -> dict[str, Any]:
    """For the installed anthropic SDK: each seam the opt-in depends on (``seams``: on, or off with why, as
    ``install()`` finds it), its profile (``sdk_profile``: the supported range, and each internal the opt-in
    replaces, checked), each fast path (``native_decoder``, ``tagged_validators`` with how many unions each event
    union's validator tags, ``native_builders`` with the events each union's native builder covers,
    ``stream_loop``, ``tool_input``, ``helper_events``; for boto3, ``botocore_parsers``: bedrock-runtime's events
    parsed natively, per operation) as ``{"on": bool, "why": ...}`` (``why`` only when off), and what is opted
    in now (``installed``, ``botocore_installed``)."""
    report: dict[str, Any] = {"backend": _backend.BACKEND, "native_decoder": _native(), **sdk_report()}
    report["botocore_parsers"] = botocore_report()
    report["installed"] = is_installed()
    report["botocore_installed"] = is_botocore_installed()
    return report
