"""Measures: how a leaf's raw value per unit comes from the input tables."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Positive, SpecModel

Columns = Annotated[list[str], Field(min_length=1)]


class ColumnMeasure(SpecModel):
    """A column of a table: one value per unit, or several rows reduced by ``reduce``."""

    kind: Literal["column"]
    table: str
    column: str
    reduce: Literal["one", "sum", "mean"] = "one"
    """``one`` (default): a unit with more than one row is an error."""


class RatioMeasure(SpecModel):
    """Summed numerator columns over summed denominator columns, over all of a unit's rows."""

    kind: Literal["ratio"]
    table: str
    numerator: Columns
    denominator: Columns
    denominator_table: str | None = None
    """The input holding the denominator columns when it is not ``table`` (e.g. the population
    in the units' registry): the denominator is then the sum over the unit's rows of that
    input, and ``bounded`` is checked per unit instead of per row."""
    when_zero: Literal["missing", "full", "zero"] = "missing"
    """What a zero denominator means: missing data, full credit (nothing arose), or zero points."""
    bounded: bool = True
    """The numerator may not exceed the denominator (on time > processed is an input error)."""
    percent: bool = False
    """Express the raw value in percent (0–100) instead of a share (0–1)."""
    per: Positive | None = None
    """Multiply the ratio by this number: ``per: 1000`` gives a value per 1,000 inhabitants,
    say (``percent: true`` is the same as ``per: 100``)."""

    @model_validator(mode="after")
    def _one_scale_one_other_table(self) -> RatioMeasure:
        if self.percent and self.per is not None:
            raise ValueError("declare percent: true or per: 100, not both")
        if self.denominator_table == self.table:
            raise ValueError(
                f"denominator_table '{self.table}' is the measure's own table; remove it "
                "(the denominator columns are then read from the same rows)"
            )
        return self

    @property
    def factor(self) -> float | None:
        """What the ratio is multiplied by (100 for ``percent``), or None for a plain share."""
        return 100.0 if self.percent else self.per

    @property
    def denominator_source(self) -> str:
        """The input holding the denominator columns."""
        return self.denominator_table or self.table


class SurveyMeasure(SpecModel):
    """A weighted survey statistic over the valid answers to one or more questions."""

    kind: Literal["survey"]
    table: str
    questions: Columns
    statistic: Literal["mean", "share_at_least", "share_at_most"] = "share_at_least"
    threshold: float | None = None
    """The answer level for ``share_at_least`` (e.g. 4: top-2 box on 1–5) or ``share_at_most``."""

    @model_validator(mode="after")
    def _threshold_matches_statistic(self) -> SurveyMeasure:
        if self.statistic == "mean" and self.threshold is not None:
            raise ValueError("threshold has no meaning for statistic 'mean'; remove it")
        if self.statistic != "mean" and self.threshold is None:
            raise ValueError(f"statistic '{self.statistic}' needs a threshold (e.g. threshold: 4)")
        return self


class AppraisalMeasure(SpecModel):
    """Points entered by appraisers: the appraised column counts, the self-assessed one is kept."""

    kind: Literal["appraisal"]
    table: str
    appraised: str
    self_assessed: str | None = None


YES_WORDS = ("có", "co", "yes", "y", "true", "1", "x", "đạt", "dat")
NO_WORDS = ("không", "khong", "no", "n", "false", "0", "không đạt", "khong dat")


class YesNoMeasure(SpecModel):
    """A yes/no column: 1 for yes, 0 for no; any other text is an input error."""

    kind: Literal["yes_no"]
    table: str
    column: str
    yes_words: list[str] = Field(default_factory=lambda: list(YES_WORDS))
    no_words: list[str] = Field(default_factory=lambda: list(NO_WORDS))
    """(Named ``*_words``: a bare ``yes:``/``no:`` key is a boolean in YAML 1.1.)"""


Measure = Annotated[
    ColumnMeasure | RatioMeasure | SurveyMeasure | AppraisalMeasure | YesNoMeasure,
    Field(discriminator="kind"),
]
