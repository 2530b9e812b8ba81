"""One error hierarchy for every user-facing failure.

Every problem is an :class:`Issue` with a stable code, a location (a YAML path such as
``criteria[2].children[0].rule.bands[1]`` or a data place such as
``survey.csv, row 12, column q03``), a message in the form "X must be Y. Got Z instead." and an
optional hint. The CLI prints ``str(error)`` and exits 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found in a criteria file or in input data."""

    code: str
    location: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f" {self.hint}"
        return text


def format_issues(issues: Sequence[Issue]) -> str:
    """Render issues one per line, for humans."""
    return "\n".join(f"  - {issue}" for issue in issues)


class ParIndexError(Exception):
    """Base of every error par-index raises for bad input or a failed run."""

    def __init__(self, summary: str, issues: Iterable[Issue] = ()) -> None:
        self.summary = summary
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.issues:
            return self.summary
        return f"{self.summary}\n{format_issues(self.issues)}"


class SpecError(ParIndexError):
    """The criteria file is invalid; ``issues`` lists every problem found."""


class DataError(ParIndexError):
    """An input table cannot be scored correctly; ``issues`` says where and why."""


class OutputError(ParIndexError):
    """A result cannot be written (wrong extension, would overwrite an input, …)."""


def data_error(code: str, location: str, message: str, hint: str | None = None) -> DataError:
    """A :class:`DataError` holding a single issue; its summary is the issue itself."""
    return DataError(str(Issue(code, location, message, hint)), [])


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (for 'Did you mean …?' hints), or None."""
    import difflib

    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint 'Did you mean 'x'?' or None."""
    best = closest(name, candidates)
    return f"Did you mean '{best}'?" if best else None
