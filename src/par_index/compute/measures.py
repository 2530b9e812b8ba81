"""Raw values per unit for each measure kind, vectorised with numpy (no loop over rows/units)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, Issue
from ..spec.measures import (
    AppraisalMeasure,
    ColumnMeasure,
    RatioMeasure,
    SurveyMeasure,
    YesNoMeasure,
)
from ..tables import UNIT, InputData

ROW = "__row__"


@dataclass(frozen=True)
class MeasureValues:
    """A leaf's raw values, one per unit (NaN: no data)."""

    raw: np.ndarray
    self_assessed: np.ndarray | None = None
    n_valid: np.ndarray | None = None
    zero_denominator: np.ndarray | None = None


def unit_codes(frame: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """Position of each row's unit in ``units`` (rows were matched to known units already)."""
    return np.array(pd.Index(units["unit_id"]).get_indexer(frame[UNIT]), dtype=np.int64)


def _sum_by_unit(codes: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(sum of non-NaN values per unit, count of non-NaN values per unit)."""
    present = ~np.isnan(values)
    sums = np.bincount(codes[present], weights=values[present], minlength=n)
    counts = np.bincount(codes[present], minlength=n)
    return sums, counts


def measure_values(
    measure: ColumnMeasure | RatioMeasure | SurveyMeasure | AppraisalMeasure | YesNoMeasure,
    data: InputData,
    weight_column: str | None = None,
) -> MeasureValues:
    """Raw values of one leaf; ``weight_column`` is the survey's respondent weight, if any."""
    frame = data.tables[measure.table]
    n = len(data.units)
    codes = unit_codes(frame, data.units)
    if isinstance(measure, ColumnMeasure | YesNoMeasure | AppraisalMeasure):
        column = measure.appraised if isinstance(measure, AppraisalMeasure) else measure.column
        reduce = measure.reduce if isinstance(measure, ColumnMeasure) else "one"
        raw = _column(codes, frame[column].to_numpy(dtype="float64"), n, reduce)
        self_values = None
        if isinstance(measure, AppraisalMeasure) and measure.self_assessed:
            self_values = _column(
                codes, frame[measure.self_assessed].to_numpy(dtype="float64"), n, "one"
            )
        return MeasureValues(raw, self_assessed=self_values)
    if isinstance(measure, RatioMeasure):
        if measure.denominator_table is None:
            return _ratio(codes, frame, codes, frame, measure, n)
        other = data.tables[measure.denominator_table]
        return _ratio(codes, frame, unit_codes(other, data.units), other, measure, n)
    return _survey(codes, frame, measure, n, weight_column)


def _column(codes: np.ndarray, values: np.ndarray, n: int, reduce: str) -> np.ndarray:
    if reduce == "one":
        raw = np.full(n, np.nan)
        raw[codes] = values  # uniqueness was checked when the table was read
        return raw
    sums, counts = _sum_by_unit(codes, values, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums if reduce == "sum" else sums / counts
    return np.where(counts > 0, out, np.nan)


def _ratio(
    codes: np.ndarray,
    frame: pd.DataFrame,
    denominator_codes: np.ndarray,
    denominator_frame: pd.DataFrame,
    measure: RatioMeasure,
    n: int,
) -> MeasureValues:
    """Σ numerator ÷ Σ denominator per unit; the denominator's rows are ``frame``'s own, or
    those of the measure's ``denominator_table`` (a unit with no value on either side: NaN)."""
    numerator = frame[measure.numerator].sum(axis=1, min_count=1).to_numpy(dtype="float64")
    denominator = (
        denominator_frame[measure.denominator].sum(axis=1, min_count=1).to_numpy(dtype="float64")
    )
    top, top_n = _sum_by_unit(codes, numerator, n)
    bottom, bottom_n = _sum_by_unit(denominator_codes, denominator, n)
    has_data = (top_n > 0) & (bottom_n > 0)
    zero = has_data & (bottom == 0)
    factor = measure.factor
    with np.errstate(invalid="ignore", divide="ignore"):
        # percent / per: multiply before dividing, so 29 of 100 is exactly 29.0 (a band edge)
        scaled = top * factor if factor is not None else top
        raw = np.where(has_data & ~zero, scaled / bottom, np.nan)
    return MeasureValues(raw, zero_denominator=zero)


@dataclass(frozen=True)
class SurveyColumns:
    """A survey measure per respondent: its statistic is Σ ``hits`` / Σ ``valid`` over a unit's
    respondents (both already multiplied by the respondent's weight)."""

    hits: np.ndarray
    valid: np.ndarray
    answered: np.ndarray
    """Whether the respondent gave at least one valid answer to the measure's questions."""
    weights: np.ndarray


def survey_columns(
    frame: pd.DataFrame, measure: SurveyMeasure, weight_column: str | None
) -> SurveyColumns:
    """Per-respondent weighted hits and valid answers of a survey measure (one row per row of
    ``frame``); "don't know" and blanks are already NaN and count as no answer."""
    answers = frame[measure.questions].to_numpy(dtype="float64")
    weights = (
        frame[weight_column].to_numpy(dtype="float64") if weight_column else np.ones(len(frame))
    )
    valid = ~np.isnan(answers)
    if measure.statistic == "mean":
        hits = np.where(valid, answers, 0.0)
    elif measure.statistic == "share_at_least":
        hits = (valid & (answers >= float(measure.threshold or 0))).astype("float64")
    else:
        hits = (valid & (answers <= float(measure.threshold or 0))).astype("float64")
    weighted_valid = (valid * weights[:, None]).sum(axis=1)
    weighted_hits = (hits * weights[:, None]).sum(axis=1)
    return SurveyColumns(weighted_hits, weighted_valid, valid.any(axis=1), weights)


def _survey(
    codes: np.ndarray,
    frame: pd.DataFrame,
    measure: SurveyMeasure,
    n: int,
    weight_column: str | None,
) -> MeasureValues:
    columns = survey_columns(frame, measure, weight_column)
    numerator = np.bincount(codes, weights=columns.hits, minlength=n)
    denominator = np.bincount(codes, weights=columns.valid, minlength=n)
    respondents = np.bincount(codes, weights=columns.answered.astype("float64"), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(denominator > 0, numerator / denominator, np.nan)
    return MeasureValues(raw, n_valid=respondents)


def check_range(
    values: np.ndarray,
    low: float,
    high: float,
    node_id: str,
    what: str,
    data: InputData,
    measure_table: str,
    units: pd.DataFrame,
) -> None:
    """Refuse values outside [low, high] (appraisal points, scores taken as they are)."""
    bad = ~np.isnan(values) & ((values < low - 1e-9) | (values > high + 1e-9))
    if not bad.any():
        return
    ids = units["unit_id"].to_numpy()[bad]
    shown = ", ".join(f"{u}: {v:g}" for u, v in zip(ids[:5], values[bad][:5], strict=False))
    more = f" (and {int(bad.sum()) - 5} more)" if bad.sum() > 5 else ""
    path = data.sources.get(measure_table, {}).get("path", measure_table)
    raise DataError(
        f"{path}: values out of range",
        [
            Issue(
                "out_of_range",
                f"{path}, node '{node_id}'",
                f"{what} must lie within [{low:g}, {high:g}]. Got {shown}{more} instead.",
            )
        ],
    )
