"""Fast, honest AWS event-stream decoding for Claude on Amazon Bedrock.

Framing (``EventStreamDecoder``, ``Message``, ``encode_message``) runs in a Rust extension when it is
available and in pure Python otherwise, with identical behaviour; ``BACKEND`` says which. The SDK shim
(``install``, ``accelerate``, ``AWSEventStreamDecoder``, ``SSEDecoder``) plugs it into the ``anthropic`` SDK,
first-party and Vertex streams included; the botocore
shim (``install_botocore``) into boto3's ``EventStream``.
"""

from __future__ import annotations

from ._anthropic.decoders import AWSEventStreamDecoder, SSEDecoder
from ._anthropic.install import accelerate, install, is_installed, uninstall
from ._backend import BACKEND, ENV_VAR
from ._botocore.buffer import EventStreamBuffer
from ._botocore.install import install_botocore, is_botocore_installed, uninstall_botocore
from ._diagnostics import diagnostics
from ._errors import (
    ChecksumMismatch,
    DuplicateHeader,
    EventStreamError,
    IncompleteStreamError,
    InvalidChunk,
    InvalidHeadersLength,
    InvalidHeaderValue,
    InvalidPayloadLength,
    InvalidSSE,
    NotAnEventStream,
    StalledStreamError,
    TruncatedStreamError,
)
from ._events.errors import status_for_error
from ._frames.api import EventStreamDecoder, HeaderValue, Message, encode_message
from ._frames.wire import HeaderType
from ._patching import SDKChangedError

try:
    from importlib.metadata import version as _version

    __version__ = _version("anthropic-eventstream")
except Exception:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "BACKEND",
    "ENV_VAR",
    "AWSEventStreamDecoder",
    "ChecksumMismatch",
    "DuplicateHeader",
    "EventStreamBuffer",
    "EventStreamDecoder",
    "EventStreamError",
    "HeaderType",
    "HeaderValue",
    "IncompleteStreamError",
    "InvalidChunk",
    "InvalidHeaderValue",
    "InvalidHeadersLength",
    "InvalidPayloadLength",
    "InvalidSSE",
    "Message",
    "NotAnEventStream",
    "SDKChangedError",
    "SSEDecoder",
    "StalledStreamError",
    "TruncatedStreamError",
    "__version__",
    "accelerate",
    "diagnostics",
    "encode_message",
    "install",
    "install_botocore",
    "is_botocore_installed",
    "is_installed",
    "status_for_error",
    "uninstall",
    "uninstall_botocore",
]
