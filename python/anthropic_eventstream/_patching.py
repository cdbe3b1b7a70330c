"""The one patching mechanism behind every shim (the anthropic SDK, botocore).

A shim describes what it touches as ``Patch``es: an attribute of a class, what it must be (present, a plain or
async function, with the expected parameters), and how to make its replacement from the original (a wrapper
that calls the original, never a copy of its body). ``Patches.apply`` checks every target before touching
any, so that a missing or changed internal raises ``SDKChangedError`` naming it and changes nothing; applies
all of them or none; and ``restore`` gives every class back exactly what its own ``__dict__`` held.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Kind", "Patch", "Patches", "SDKChangedError", "check", "describe"]

Kind = Literal["function", "coroutine function", "async generator function", "class"]


class SDKChangedError(RuntimeError):
    """An internal of the anthropic SDK or botocore that a shim relies on is missing or has changed, so the
    shim cannot be applied safely. Nothing was patched."""


@dataclass(frozen=True)
class Patch:
    """Replace ``owner.name`` (an attribute of a class or a module) with ``make(original)``, where the original
    must be a ``kind`` whose parameters are ``parameters`` (as ``describe`` writes them; a tuple: any one of
    those shapes, each a release the wrapper was written against; ``None``: any)."""

    owner: Any
    name: str
    make: Callable[[Any], Any]
    kind: Kind = "function"
    parameters: str | tuple[str, ...] | None = None

    @property
    def target(self) -> str:
        if inspect.ismodule(self.owner):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


_MISSING = object()


def describe(function: Any) -> str:
    """A function's parameters without annotations or defaults, e.g. ``(self, err_msg, *, body, response)``."""
    parts: list[str] = []
    star = False
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            parts.append(f"*{parameter.name}")
            star = True
        elif parameter.kind is parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
        elif parameter.kind is not parameter.VAR_POSITIONAL:
            parts.append(parameter.name)
    return f"({', '.join(parts)})"


_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "function": lambda f: inspect.isfunction(f) and not inspect.iscoroutinefunction(f),
    "coroutine function": inspect.iscoroutinefunction,
    "async generator function": inspect.isasyncgenfunction,
    "class": inspect.isclass,
}


def check(patch: Patch) -> Any:
    """The attribute ``patch`` replaces, as the class resolves it, seen through this package's own earlier
    replacements (marked ``__anthropic_eventstream__``), so that a patch never wraps a patch;
    ``SDKChangedError`` if it is not what the shim was written against."""
    original: Any = getattr(patch.owner, patch.name, _MISSING)
    while getattr(original, "__anthropic_eventstream__", False):
        original = original.__wrapped__
    if original is _MISSING:
        raise SDKChangedError(f"{patch.target} is missing: this version is not supported (nothing was patched)")
    if not _KIND_CHECKS[patch.kind](original):
        raise SDKChangedError(
            f"{patch.target} is no longer {'an' if patch.kind[0] in 'aeiou' else 'a'} {patch.kind} ({original!r}): "
            "this version is not supported "
            "(nothing was patched)"
        )
    expected = (patch.parameters,) if isinstance(patch.parameters, str) else patch.parameters
    if expected is not None and describe(original) not in expected:
        raise SDKChangedError(
            f"{patch.target} takes {describe(original)}, not {' or '.join(expected)}: this version is not "
            "supported (nothing was patched)"
        )
    return original


class Patches:
    """A set of patches applied and restored together (one per shim)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        #: (owner, name, what the owner's own ``__dict__`` held before), in the order applied
        self._applied: list[tuple[Any, str, Any]] = []

    @property
    def active(self) -> bool:
        return bool(self._applied)

    def apply(self, patches: Sequence[Patch]) -> None:
        """Checks every patch, then applies them all, in place of what this set applied before; if a check
        fails, nothing changes, and if applying fails, nothing stays patched."""
        with self._lock:
            replacements = [(patch, patch.make(check(patch))) for patch in patches]
            self.restore()
            try:
                for patch, replacement in replacements:
                    self._applied.append((patch.owner, patch.name, patch.owner.__dict__.get(patch.name, _MISSING)))
                    setattr(patch.owner, patch.name, replacement)
            except BaseException:
                self.restore()
                raise

    def restore(self) -> None:
        """Gives every patched class back exactly what it held, in reverse order."""
        with self._lock:
            while self._applied:
                owner, name, before = self._applied.pop()
                if before is _MISSING:
                    if name in owner.__dict__:
                        delattr(owner, name)
                else:
                    setattr(owner, name, before)
