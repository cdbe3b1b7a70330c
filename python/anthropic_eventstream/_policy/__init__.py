"""Stream policy: what an opted-in stream guarantees, whatever SDK release carries it. ``stream``: the integrity
check (a Messages stream ends with ``message_stop``), every failure reading it raised as the SDK's own exception,
and reading ahead for ``retry_before_content``; ``stall``: the stall watchdog. Nothing here imports the SDK: what
a stream needs of it (its exception classes, how it reads a body, a response's socket) comes in as a
``stream.StreamSDK`` that the SDK adapter (``_anthropic``) learned.
"""
