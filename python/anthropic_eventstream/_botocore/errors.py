"""This package's framing errors as botocore's own: each raised under botocore is an instance of both this
package's class and botocore's class of the same name (else ``ParserError``), so ``except ChecksumMismatch``
written against botocore keeps working.
"""

from __future__ import annotations

from .. import _errors

__all__ = ["as_botocore_error"]

_BOTOCORE_CLASSES: dict[type[_errors.EventStreamError], type[_errors.EventStreamError]] = {}


def _botocore_class(ours: type[_errors.EventStreamError]) -> type[_errors.EventStreamError]:
    """``ours`` made also an instance of botocore's own class: the nearest class in its MRO whose name
    botocore's event-stream module defines as a ``ParserError``, else ``ParserError`` itself."""
    from botocore import eventstream

    if ours not in _BOTOCORE_CLASSES:
        theirs = next(
            (
                found
                for base in ours.__mro__
                if isinstance(found := getattr(eventstream, base.__name__, None), type)
                and issubclass(found, eventstream.ParserError)
            ),
            eventstream.ParserError,
        )
        _BOTOCORE_CLASSES[ours] = type(
            ours.__name__, (ours, theirs), {"__module__": ours.__module__, "__doc__": ours.__doc__}
        )
    return _BOTOCORE_CLASSES[ours]


def as_botocore_error(exc: _errors.EventStreamError) -> _errors.EventStreamError:
    return _botocore_class(type(exc))(str(exc), offset=exc.offset, messages=exc.messages)
