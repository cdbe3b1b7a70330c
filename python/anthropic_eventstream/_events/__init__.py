"""Frames and bytes -> Anthropic events, in pure Python, the mirror of ``rust/core``'s ``bedrock.rs`` and
``sse.rs``: Bedrock's ``chunk`` layer (``bedrock``, over ``_frames``), server-sent events (``sse``), error frames
and their HTTP statuses (``errors``), the layout the SDK's events are built by (``layout``), and the feeding of a
stream's chunks to either backend's decoder (``feed``). The SDK's classes come in through specs (``EventSpec``,
``SSESpec``) that ``_anthropic.decoders`` builds; nothing here imports an SDK.
"""
