"""Frames and bytes -> Anthropic events: Bedrock's ``chunk`` layer (``bedrock``, over ``_frames``), server-sent
events (``sse``) and error frames and their HTTP statuses (``errors``), each in pure Python, the mirror of
``rust/core``'s ``bedrock.rs`` and ``sse.rs``. The SDK's classes come in through specs (``EventSpec``,
``SSESpec``) that ``_anthropic.decoders`` builds; nothing here imports an SDK.
"""
