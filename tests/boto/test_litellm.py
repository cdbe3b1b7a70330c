"""litellm's real Bedrock stream decoder frames with botocore's ``EventStreamBuffer``, which it builds itself;
under ``install_botocore()`` it frames with ours and yields the same chunks. litellm is not a dependency:
``make reach`` runs this in a venv that has it; elsewhere it is skipped, saying so."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm would fetch it from the internet
import anthropic_eventstream as ae
from anthropic_eventstream import testing
from tests.helpers import require

litellm = require("litellm", "litellm is not installed here (make reach installs it)")

EVENTS = testing.message_events("litellm's Bedrock decoder, framed by anthropic-eventstream.")


def chunks(pieces: list[bytes]) -> list[Any]:
    from litellm.llms.bedrock.chat.invoke_handler import AmazonAnthropicClaudeStreamDecoder

    decoder = AmazonAnthropicClaudeStreamDecoder(model="anthropic.claude-sonnet-4-5", sync_stream=True)
    return [chunk.model_dump(exclude={"id", "created"}) for chunk in decoder.iter_bytes(iter(pieces))]


@pytest.mark.parametrize("size", [1, 100, 16384])
def test_litellm_frames_natively_and_yields_the_same_chunks(size: int) -> None:
    pieces = testing.split(testing.bedrock_stream(EVENTS), size)
    stock = chunks(pieces)
    made: list[Any] = []
    original_init = ae.EventStreamBuffer.__init__

    def spy(self: Any, **kwargs: Any) -> None:
        made.append(self)
        original_init(self, **kwargs)

    ae.install_botocore()
    ae.EventStreamBuffer.__init__ = spy  # type: ignore[method-assign]
    try:
        ours = chunks(pieces)
    finally:
        ae.EventStreamBuffer.__init__ = original_init  # type: ignore[method-assign]
        ae.uninstall_botocore()
    assert len(made) == 1, "litellm did not frame with anthropic_eventstream.EventStreamBuffer"
    assert ours == stock and len(ours) >= len(EVENTS) - 2
