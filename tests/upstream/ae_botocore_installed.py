"""pytest plugin: runs a test suite (botocore's own event-stream tests) with ``install_botocore()`` in force,
and checks that the tests collected do use this package's ``EventStreamBuffer``."""

import sys

import anthropic_eventstream


def pytest_configure(config: object) -> None:
    anthropic_eventstream.install_botocore()


def pytest_collection_finish(session: object) -> None:
    module = sys.modules.get("tests.unit.test_eventstream")
    if module is not None and module.EventStreamBuffer is not anthropic_eventstream.EventStreamBuffer:
        raise RuntimeError("botocore's tests did not pick up anthropic_eventstream.EventStreamBuffer")
