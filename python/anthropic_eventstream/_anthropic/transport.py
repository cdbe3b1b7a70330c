"""The transport socket seam: the socket an httpx / httpx2 response is read from, which the stall watchdog
shuts down to end a blocked read (``_policy.stall``). It is httpcore's ``network_stream`` extension, read through
its public ``get_extra_info``; anything else (HTTP/2, a mock transport) has none, and the watchdog ends the
stream its other way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["socket_of"]


def socket_of(response: Any) -> Any:
    """The socket a response is read from, where shutting it down ends only this stream: HTTP/1.1 through
    httpx / httpx2 (``network_stream``, an extension of httpcore's; a ``socket.socket`` for sync clients, asyncio's
    ``TransportSocket``, uvloop's ``PseudoSocket`` or trio's socket for async ones); ``None`` for anything else."""
    if response is None or getattr(response, "http_version", None) != "HTTP/1.1":
        return None
    extensions = getattr(response, "extensions", None)
    stream = extensions.get("network_stream") if isinstance(extensions, dict) else None
    get_extra_info = getattr(stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    try:
        sock = get_extra_info("socket")
    except Exception:  # a transport's own stream with other extra info: not one to shut down
        return None
    return sock if callable(getattr(sock, "fileno", None)) else None
