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


def bad_cells_issue(code: str, frame: pd.DataFrame, column: str, bad: np.ndarray,
                    source: Source, expected: str, values: pd.Series | None = None,
                    hint: str | None = None) -> Issue:
    """One issue naming the first offending rows of a column, with the count."""
    rows = frame.loc[bad, ROW].tolist()
    shown = (values if values is not None else frame[column])[bad].tolist()[:MAX_EXAMPLES]
    examples = ", ".join(f"row {r}: {v!r}" for r, v in zip(rows, shown, strict=False))
    more = f" (and {len(rows) - MAX_EXAMPLES} more)" if len(rows) > MAX_EXAMPLES else ""
    where = source.where(rows[0], column)
    return Issue(code, where, f"{expected}. Got {examples}{more} instead.", hint)


def parse_numbers(series: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values with NaN for blanks, mask of cells that are not numbers)."""
    if pd.api.types.is_bool_dtype(series):
        return np.full(len(series), np.nan), np.ones(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series):
        return np.array(series, dtype="float64"), np.zeros(len(series), bool)
    values = np.full(len(series), np.nan)
    bad = np.zeros(len(series), dtype=bool)
    obj = series.astype(object)
    present = np.array(obj.notna(), dtype=bool)
    is_bool = np.array(obj.map(lambda v: isinstance(v, bool | np.bool_)), dtype=bool)
    bad |= is_bool
    is_number = np.array(obj.map(lambda v: isinstance(v, int | float | np.number)), dtype=bool)
    is_number &= ~is_bool & present
    if is_number.any():
        values[is_number] = obj[is_number].astype("float64").to_numpy()
    is_text = present & ~is_number & ~is_bool
    if is_text.any():
        text = obj[is_text].astype(str).str.replace("\u00a0", "", regex=False).str.strip()
        text = text.str.replace(" ", "", regex=False)
        blank = np.array(text == "", dtype=bool)
        parsed = _parse_text_numbers(text, decimal)
        text_bad = np.isnan(parsed) & ~blank
        idx = np.flatnonzero(is_text)
        values[idx] = parsed
        bad[idx[text_bad]] = True
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
    return parsed


def parse_yes_no(series: pd.Series, yes: Sequence[str], no: Sequence[str]
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
