"""Backend selection: the native extension or the pure-Python fallback, for every floor at once.

``ANTHROPIC_EVENTSTREAM_BACKEND`` is read once, at import: ``auto`` (the default) uses the extension when it
imports and otherwise warns once, naming why, and falls back; ``native`` insists; ``python`` forces the
fallback.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import Literal

__all__ = ["BACKEND", "ENV_VAR", "implementation", "native_module"]

ENV_VAR = "ANTHROPIC_EVENTSTREAM_BACKEND"
BackendName = Literal["native", "python"]

_native: ModuleType | None
_native_error: ImportError | None
try:
    from . import _native
except ImportError as exc:  # no wheel for this platform, or a source checkout that was never built
    _native, _native_error = None, exc
else:
    _native_error = None


def _select() -> BackendName:
    choice = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if choice == "python":
        return "python"
    if choice not in ("auto", "native"):
        raise ValueError(f"{ENV_VAR} must be 'auto', 'native' or 'python', not {choice!r}")
    if _native is not None:
        return "native"
    if choice == "native":
        raise ImportError(
            f"{ENV_VAR}=native, but the compiled extension anthropic_eventstream._native did not import: "
            f"{_native_error}. Install a wheel for this platform, or build it with `pip install .` "
            "(needs a Rust toolchain)."
        ) from _native_error
    warnings.warn(
        f"anthropic_eventstream: the compiled extension did not import ({_native_error}); "
        f"using the pure-Python decoder, which is slower. Set {ENV_VAR}=python to silence this.",
        RuntimeWarning,
        stacklevel=3,
    )
    return "python"


BACKEND: BackendName = _select()


def native_module(backend: str | None) -> ModuleType | None:
    """The extension if ``backend`` (``None``: the selected one) is ``native``, ``None`` if it is ``python``;
    ``ImportError`` if it is ``native`` and the extension is missing, ``ValueError`` for any other name."""
    name = BACKEND if backend is None else backend
    if name == "python":
        return None
    if name == "native":
        if _native is None:
            raise ImportError(f"the native backend is not available: {_native_error}") from _native_error
        return _native
    raise ValueError(f"backend must be 'native' or 'python', not {backend!r}")


def implementation(backend: str | None, reference: ModuleType) -> ModuleType:
    """The module implementing ``backend`` for one floor of the data's path: the extension, which implements
    every floor, or that floor's pure-Python ``reference`` module, which has the same names
    (``_frames.reference``, ``_events.bedrock``, ``_events.sse``)."""
    native = native_module(backend)
    return reference if native is None else native
