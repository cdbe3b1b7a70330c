"""pytest plugin: runs a test suite (the anthropic SDK's own) with ``anthropic_eventstream.install()`` in force."""

import anthropic_eventstream


def pytest_configure(config: object) -> None:
    anthropic_eventstream.install()
