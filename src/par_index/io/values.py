"""Turn raw cells into typed values, refusing what cannot be read correctly.

Numbers may arrive as numbers or as text ("8,59", "10.732", "85%", " 7 "). The declared decimal
mark decides; a cell that would be ambiguous under it is an error, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import Issue
from .readers import ROW, Source, nfc

MAX_EXAMPLES = 5


def bad_cells_issue(
    code: str,
    frame: pd.DataFrame,
    column: str,
    bad: np.ndarray,
    source: Source,
    expected: str,
    values: pd.Series | None = None,
    hint: str | None = None,
) -> Issue:
    """One issue naming the first offending rows of a column, with the count."""
    rows = frame.loc[bad, ROW].tolist()
    shown = (values if values is not None else frame[column])[bad].tolist()[:MAX_EXAMPLES]
    examples = ", ".join(f"row {r}: {_shown(v)}" for r, v in zip(rows, shown, strict=False))
    more = f" (and {len(rows) - MAX_EXAMPLES} more)" if len(rows) > MAX_EXAMPLES else ""
    where = source.where(rows[0], column)
    return Issue(code, where, f"{expected}. Got {examples}{more} instead.", hint)


def _shown(value: object) -> str:
    """A cell as the analyst typed it: numbers plain (6, 4.5), text quoted ('8,59')."""
    if value is None:
        return "blank"
    if isinstance(value, bool | np.bool_):
        return repr(bool(value))
    if isinstance(value, int | float | np.number):
        number = float(value)
        return "blank" if np.isnan(number) else f"{number:g}"
    return repr(value)


def parse_numbers(series: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values with NaN for blanks, mask of cells that are not numbers).

    Clean columns take a vectorised path; only cells that need a second look (text with a
    comma, a dot under ``decimal: ","``, a percent sign, odd spaces) go through the text rules.
    """
    if pd.api.types.is_bool_dtype(series):
        return np.full(len(series), np.nan), np.ones(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series):
        values = np.array(series, dtype="float64")
        infinite = np.isinf(values)
        values[infinite] = np.nan
        return values, infinite
    obj = series.astype(object)
    inferred = pd.api.types.infer_dtype(obj, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
        return np.array(pd.to_numeric(obj, errors="coerce"), dtype="float64"), np.zeros(
            len(obj), dtype=bool
        )
    present = np.array(obj.notna(), dtype=bool)
    is_bool = (
        np.array(
            [v is True or v is False or isinstance(v, np.bool_) for v in obj.to_numpy()], dtype=bool
        )
        if inferred not in ("string",)
        else np.zeros(len(obj), dtype=bool)
    )
    values = np.array(pd.to_numeric(obj.where(~is_bool, None), errors="coerce"), dtype="float64")
    second_look = present & ~is_bool & np.isnan(values)
    if decimal == ",":
        has_dot = (
            np.array(obj.map(lambda v: isinstance(v, str) and "." in v), dtype=bool)
            if inferred != "string"
            else np.array(obj.str.contains(".", regex=False).fillna(False), dtype=bool)
        )
        second_look |= has_dot
    bad = is_bool | np.isinf(values)  # "inf" text parses, but is no figure
    values[bad] = np.nan
    if second_look.any():
        idx = np.flatnonzero(second_look)
        text = obj.iloc[idx].astype(str).str.replace("\u00a0", "", regex=False).str.strip()
        text = text.str.replace(" ", "", regex=False)
        blank = np.array(text == "", dtype=bool)
        parsed = _parse_text_numbers(text, decimal)
        values[idx] = parsed
        bad[idx[np.isnan(parsed) & ~blank]] = True
    return values, bad


def _parse_text_numbers(text: pd.Series, decimal: str) -> np.ndarray:
    percent = np.array(text.str.endswith("%"), dtype=bool)
    text = text.str.rstrip("%")
    if decimal == ".":
        thousands = text.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False)
        text = text.where(~thousands, text.str.replace(",", "", regex=False))
        text = text.where(~text.str.contains(",", regex=False), "x")  # "8,59": ambiguous here
    else:
        thousands = text.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?").fillna(False)
        text = text.where(~thousands, text.str.replace(".", "", regex=False))
        text = text.where(~text.str.contains(".", regex=False), "x")  # "1.5" under decimal ","
        text = text.str.replace(",", ".", regex=False)
    parsed = np.array(pd.to_numeric(text, errors="coerce"), dtype="float64")
    parsed[percent] = parsed[percent] / 100.0
    parsed[np.isinf(parsed)] = np.nan
    return parsed


def parse_yes_no(
    series: pd.Series, yes: Sequence[str], no: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(1.0 / 0.0 / NaN for blank, mask of cells that are neither yes nor no)."""
    yes_set = {nfc(w).lower() for w in yes}
    no_set = {nfc(w).lower() for w in no}

    def code(value: object) -> float:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        if isinstance(value, bool | np.bool_):
            return 1.0 if value else 0.0
        if isinstance(value, int | float | np.number):
            text = str(int(value)) if float(value).is_integer() else str(value)
        else:
            text = nfc(str(value)).lower()
        if text == "":
            return np.nan
        if text in yes_set:
            return 1.0
        if text in no_set:
            return 0.0
        return -1.0

    coded = np.array(series.map(code), dtype="float64")
    bad = coded == -1.0
    coded[bad] = np.nan
    return coded, bad
