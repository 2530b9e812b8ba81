"""Progress of long work (reading big files, drawing rank uncertainty, writing the report).

Library code says what it is doing with :func:`stage` and how far a loop is with
:func:`advance`; nothing happens unless a listener is installed with :func:`listening`. The
command line installs one that draws a status line on stderr when stderr is a terminal, so
pipes, logs and notebooks stay clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str, float | None], None]
"""Called with what is being done and, inside a loop, the fraction done (0–1)."""

_listener: ContextVar[Listener | None] = ContextVar("par_index_progress", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the progress of the work done inside the ``with`` block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def stage(what: str) -> None:
    """A step of the work begins (e.g. "reading survey (survey.xlsx)")."""
    listener = _listener.get()
    if listener is not None:
        listener(what, None)


def advance(what: str, done: int, total: int) -> None:
    """``done`` of ``total`` items of a loop are finished."""
    listener = _listener.get()
    if listener is not None and total > 0:
        listener(what, min(done / total, 1.0))
