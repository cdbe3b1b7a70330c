"""The anthropic releases this version supports, written here and nowhere else (``pyproject.toml``'s extra and
``make ci``'s SDK matrix are checked against it by ``tests/package/test_release.py``), and the releases from which a fast
path applies by design.
"""

from __future__ import annotations

import itertools

__all__ = ["REVIEWED_LOOPS_SINCE", "SUPPORTED_RANGE", "installed", "release", "supported"]

#: The anthropic releases this version is written and tested against (``make ci`` runs the oldest, the newest and
#: releases between). Outside it ``install()`` still checks every shape it patches and leaves what it does not
#: know as the SDK's own; ``diagnostics()`` reports whether the installed release is inside.
SUPPORTED_RANGE = ">=0.40, <3"
_SUPPORTED = ((0, 40), (3,))
#: The first release whose stream loop is a reviewed one (``loop.REVIEWED_LOOPS``): before it, the SDK's own loop
#: runs by design, not as a change.
REVIEWED_LOOPS_SINCE = (2, 12)


def release(version: str) -> tuple[int, ...]:
    """The anthropic release ``version`` as numbers, pre-release tags ignored: ``"1.0.0rc1"`` is ``(1, 0, 0)``."""
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(itertools.takewhile(str.isdigit, piece))
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def supported(version: str) -> bool:
    """Whether the anthropic release ``version`` is inside ``SUPPORTED_RANGE`` (pre-release tags ignored)."""
    low, high = _SUPPORTED
    return low <= release(version) < high


def installed() -> tuple[int, ...]:
    """The installed anthropic release, as ``release`` reads it."""
    import anthropic

    return release(getattr(anthropic, "__version__", ""))
