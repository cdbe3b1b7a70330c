"""The one patching mechanism behind every shim (the anthropic SDK, botocore).

A shim describes what it touches as ``Patch``es: an attribute of a class, what it must be (present, a plain or
async function, with the expected parameters), and how to make its replacement from the original (a wrapper
that calls the original, never a copy of its body). ``Patches.apply`` checks every target before touching
any, so that a missing or changed internal raises ``SDKChangedError`` naming it and changes nothing; applies
all of them or none; and ``restore`` gives every class back exactly what its own ``__dict__`` held.

A shim groups its patches by seam, the one internal (or small set of internals) of the SDK that one behaviour
depends on, as ``Capability``s: each is on with its patches, or off with why (``capability``). An opt-in applies
the patches of the seams that are on, so that a new SDK release that changed one seam leaves that behaviour as the
SDK's own and every other one working, with a warning, or, asked to be strict, refuses and changes nothing
(``settle``).
"""

from __future__ import annotations

import inspect
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

__all__ = [
    "Capability",
    "Kind",
    "Patch",
    "Patches",
    "SDKChangedError",
    "capability",
    "check",
    "describe",
    "off",
    "ours",
    "settle",
]

Kind = Literal["function", "coroutine function", "async generator function", "class"]


class SDKChangedError(RuntimeError):
    """An internal of the anthropic SDK or botocore that a shim relies on is missing or has changed, so the
    shim cannot be applied safely. Raised by a strict opt-in (and by ``install_botocore()``), which then patched
    nothing; a default ``install()`` / ``accelerate()`` leaves that seam as the SDK's own instead, and warns."""


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

_F = TypeVar("_F", bound=Callable[..., Any])


def ours(wrapper: _F) -> _F:
    """Marks a replacement as this package's, so that ``check`` sees through it to the SDK's original."""
    wrapper.__anthropic_eventstream__ = True  # type: ignore[attr-defined]
    return wrapper


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
        raise SDKChangedError(f"{patch.target} is missing")
    if not _KIND_CHECKS[patch.kind](original):
        raise SDKChangedError(
            f"{patch.target} is no longer {'an' if patch.kind[0] in 'aeiou' else 'a'} {patch.kind} ({original!r})"
        )
    expected = (patch.parameters,) if isinstance(patch.parameters, str) else patch.parameters
    if expected is not None and describe(original) not in expected:
        raise SDKChangedError(f"{patch.target} takes {describe(original)}, not {' or '.join(expected)}")
    return original


@dataclass(frozen=True)
class Capability:
    """What one seam gives an opt-in: on, with the patches it needs (checked), or off, with why, and then the
    SDK's own behaviour for it stays. ``expected``: off because the installed release predates what the seam
    speeds up (say, a stream loop older than the one reviewed), which is reported by ``diagnostics()`` but is no
    change to warn about."""

    seam: str
    patches: tuple[Patch, ...] = ()
    why: str | None = None
    expected: bool = False

    @property
    def on(self) -> bool:
        return self.why is None

    @property
    def changed(self) -> bool:
        """Off because the installed SDK differs from what the seam was written against."""
        return not self.on and not self.expected


def capability(seam: str, build: Callable[[], Sequence[Patch]]) -> Capability:
    """``seam``'s capability: on with ``build()``'s patches, each checked, or off with why. Anything the build
    raises while it asks the SDK (a missing module or attribute, a changed signature, a probe that differs) turns
    the seam off: an SDK this version does not know never stops an opt-in that is not strict."""
    try:
        patches = tuple(build())
        for patch in patches:
            check(patch)
    except SDKChangedError as exc:
        return Capability(seam, why=str(exc))
    except Exception as exc:  # a release that moved or renamed what the seam reads
        return Capability(seam, why=f"{type(exc).__name__}: {exc}")
    return Capability(seam, patches)


def off(seam: str, why: str, *, expected: bool = False) -> Capability:
    """A capability that is off for a reason the seam found itself."""
    return Capability(seam, why=why, expected=expected)


_log = logging.getLogger("anthropic_eventstream")


def settle(capabilities: Sequence[Capability], *, strict: bool, what: str, stacklevel: int = 3) -> list[Patch]:
    """The patches of every capability that is on, for an opt-in to apply (all or nothing). Where a seam changed:
    ``strict`` raises ``SDKChangedError`` naming each such seam (the opt-in then applies nothing); else one
    ``RuntimeWarning`` and one log record (once per process for the same seams) name them, and those seams stay as
    the SDK's own. ``what`` names the opt-in (``install``, ``accelerate``); ``stacklevel``, the warning's frame,
    as for ``warnings.warn`` (3: the caller of the function that called this)."""
    changed = [found for found in capabilities if found.changed]
    if changed and strict:
        raise SDKChangedError(f"{what}(strict=True): {_changes(changed)} (nothing was patched)")
    if changed:
        message = (
            f"anthropic_eventstream: {what}() leaves {len(changed)} seam{'s' if len(changed) > 1 else ''} as the "
            f"SDK's own, where the installed release differs from what this version knows: {_changes(changed)}. "
            "Everything else is on; diagnostics() reports each seam, and strict=True refuses instead."
        )
        with _warned_lock:
            first = message not in _warned
            _warned.add(message)
        if first:
            _log.warning("%s", message)
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel)
    return [patch for found in capabilities if found.on for patch in found.patches]


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _changes(capabilities: Sequence[Capability]) -> str:
    return "; ".join(f"{found.seam}: {found.why}" for found in capabilities)


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
