"""Bytes -> frames: the AWS event-stream wire format (``wire``: header types, how bytes are shown in errors), its
pure-Python decoder and encoder (``reference``, the python backend's floor, the mirror of ``rust/core``), and
the public framing API over the selected backend (``api``: ``EventStreamDecoder``, ``Message``,
``encode_message``). It knows nothing of Bedrock, Anthropic events or any SDK.
"""
