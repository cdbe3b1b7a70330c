"""The SDK's client classes that opting in patches, and the ones it ships that this version does not cover.

A client class's internals are patched (each with the signature it has in the supported releases,
``CLIENT_SIGNATURES``) where they are defined or inherited from (``install()``), or on a subclass
of one client's class (``accelerate()``). The table (``CLIENTS``) names each class this version was written
against; any other client class the installed SDK ships either inherits every patched internal from one of those,
and so streams opted in too, or is left as the SDK ships it, and reported (``uncovered``).
"""

from __future__ import annotations

import importlib
import importlib.util

__all__ = ["CLIENTS", "CLIENT_SIGNATURES", "LATER_CLIENT_SIGNATURES", "client_classes", "uncovered"]

#: The SDK's client classes whose internals opting in patches, by module and name (a release may lack some),
#: and whether each is a Bedrock client (whose event-stream decoding needs botocore, as the SDK's does).
CLIENTS = (
    ("anthropic", "Anthropic", False),
    ("anthropic", "AsyncAnthropic", False),
    ("anthropic.lib.vertex", "AnthropicVertex", False),
    ("anthropic.lib.vertex", "AsyncAnthropicVertex", False),
    ("anthropic.lib.bedrock", "AnthropicBedrock", True),
    ("anthropic.lib.bedrock", "AsyncAnthropicBedrock", True),
    # Bedrock's Anthropic-native endpoint (anthropic 2.15 and later): SSE, like the first-party API
    ("anthropic.lib.bedrock", "AnthropicBedrockMantle", False),
    ("anthropic.lib.bedrock", "AsyncAnthropicBedrockMantle", False),
)

#: The signatures of the SDK internals ``install()`` and ``accelerate()`` replace, each as the releases in
#: ``SUPPORTED_RANGE`` have it (``_patching.describe``): on a client class. Any
#: other signature is a change this version does not know: that seam stays as the SDK's own.
CLIENT_SIGNATURES: dict[str, tuple[str, ...]] = {
    "_make_sse_decoder": ("(self)", "(self, options)"),  # anthropic 2.16 passes the request's options
    "_make_status_error": ("(self, err_msg, *, body, response)",),
    "_process_response_data": ("(self, *, data, cast_to, response)",),
    "_process_response": ("(self, *, cast_to, options, response, stream, stream_cls, retries_taken)",),
    # the retry loop that ``retry_before_content`` goes through (anthropic >= 0.48: decided by exception)
    "_should_retry_exception": ("(self, err)",),
    "_should_retry": ("(self, response)",),
}
#: Client internals that ``retry_before_content`` calls where the release has them (anthropic 2.17 and later), with
#: their signatures: present with another one is a change this version does not know.
LATER_CLIENT_SIGNATURES: dict[str, tuple[str, ...]] = {
    # whether a transport failure after the headers is retried (`x-should-retry: false` says not)
    "_should_retry_failure": ("(self, response)",),
}


def _known_clients() -> list[tuple[type, bool]]:
    """``(class, is_bedrock)`` for each of ``CLIENTS`` the installed SDK has."""
    found = []
    for module_name, name, is_bedrock in CLIENTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a client the installed release does not ship (or whose module cannot load here)
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            found.append((cls, is_bedrock))
    return found


def client_classes() -> list[tuple[type, bool, bool]]:
    """``(class, is_bedrock, is_async)`` for every client class of the installed SDK that opting in patches.
    Bedrock clients need botocore (as the SDK's own Bedrock decoder does); without it they are left as they
    are."""
    from anthropic._base_client import AsyncAPIClient

    has_botocore = importlib.util.find_spec("botocore") is not None
    return [
        (cls, is_bedrock, issubclass(cls, AsyncAPIClient))
        for cls, is_bedrock in _known_clients()
        if has_botocore or not is_bedrock
    ]


def _shipped_clients() -> list[type]:
    """Every API client class the installed SDK defines (a subclass of its ``SyncAPIClient`` or ``AsyncAPIClient``
    in one of its modules), besides this package's own ``accelerate()`` subclasses."""
    from anthropic._base_client import AsyncAPIClient, SyncAPIClient

    found: list[type] = []
    stack: list[type] = [SyncAPIClient, AsyncAPIClient]
    while stack:
        sub: type
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            module = sub.__module__
            if (module == "anthropic" or module.startswith("anthropic.")) and not vars(sub).get(
                "__anthropic_eventstream_accelerated__"
            ):
                found.append(sub)
    return found


def uncovered(covered: set[type], names: set[str]) -> list[str]:
    """Each client class of the installed SDK that opting in leaves (in part) as the SDK ships it, with why: one
    that is not among ``covered`` and does not inherit each of ``names`` (what is patched on those) from one of
    them (a new client, or one that overrides what is patched)."""
    found = []
    for cls in _shipped_clients():
        if cls in covered:
            continue
        for name in sorted(names):
            owner = next((k for k in cls.__mro__ if k in covered or name in vars(k)), None)
            if owner not in covered:
                where = "nowhere" if owner is None else f"{owner.__module__}.{owner.__qualname__}"
                found.append(f"{cls.__module__}.{cls.__qualname__} (its {name} comes from {where})")
                break
    return found
