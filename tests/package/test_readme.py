"""The README's interactive example runs as written (on the default backend)."""

import doctest
from pathlib import Path

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def test_readme_examples() -> None:
    if not README.exists():  # an installed copy of the tests, away from the repository
        return
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 3 and result.failed == 0
