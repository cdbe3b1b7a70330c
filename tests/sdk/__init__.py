"""The SDK adapter: the real anthropic clients opted in, the stream loop, event models, the helper, and upgrades."""
