"""Rules: how a leaf's raw value becomes its score (points out of the leaf's maximum)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import Direction, NonNegative, Positive, SpecModel

Pair = Annotated[list[float], Field(min_length=2, max_length=2)]


class Threshold(SpecModel):
    """One edge: exactly one of ``at_least`` (≥), ``above`` (>), ``at_most`` (≤), ``below`` (<).

    Official texts write "từ 70% đến 90%" and leave the boundary ambiguous; here the side that
    owns the boundary is always explicit.
    """

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _exactly_one_edge(self) -> Threshold:
        given = [
            k for k in ("at_least", "above", "at_most", "below") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a band needs exactly one of at_least, above, at_most, below. "
                f"Got {given or 'none'} instead"
            )
        return self

    @property
    def edge(self) -> tuple[str, float]:
        for key in ("at_least", "above", "at_most", "below"):
            value = getattr(self, key)
            if value is not None:
                return key, float(value)
        raise AssertionError("validated: one edge is set")

    @property
    def higher_is_better(self) -> bool:
        return self.edge[0] in ("at_least", "above")


class Band(Threshold):
    """A threshold band: a value past the edge earns ``points`` (first match wins)."""

    points: NonNegative


def check_ordered(edges: list[Threshold], what: str) -> None:
    """Edges must all face one way and run from the best band down, without overlap."""
    if len({e.higher_is_better for e in edges}) > 1:
        raise ValueError(f"{what} mix at_least/above with at_most/below; use one direction")
    for i in range(1, len(edges)):
        (kind_prev, prev), (kind_cur, cur) = edges[i - 1].edge, edges[i].edge
        if edges[0].higher_is_better:
            ok = cur < prev or (cur == prev and kind_prev == "above" and kind_cur == "at_least")
            order = "decreasing"
        else:
            ok = cur > prev or (cur == prev and kind_prev == "below" and kind_cur == "at_most")
            order = "increasing"
        if not ok:
            raise ValueError(
                f"{what} must be ordered from the best band down ({order} thresholds). "
                f"Got {prev} then {cur} at positions {i - 1} and {i} instead"
            )


class IdentityRule(SpecModel):
    """The raw value is already the score; it must lie within ``range`` (default [0, max])."""

    kind: Literal["identity"]
    range: Pair | None = None


class LinearRule(SpecModel):
    """Linear between two goalposts, clipped: ``worst`` scores 0, ``best`` scores the maximum.

    Lower-is-better is simply ``worst`` > ``best``. ``log: true`` interpolates on log values.
    """

    kind: Literal["linear"]
    worst: float
    best: float
    log: bool = False

    @model_validator(mode="after")
    def _goalposts(self) -> LinearRule:
        if self.worst == self.best:
            raise ValueError(f"goalposts worst and best must differ. Got {self.worst} for both")
        if self.log and min(self.worst, self.best) <= 0:
            raise ValueError("log: true needs positive goalposts")
        return self


class BandsRule(SpecModel):
    """Threshold bands, first match wins; a value past no band gets ``otherwise``."""

    kind: Literal["bands"]
    bands: Annotated[list[Band], Field(min_length=1)]
    otherwise: NonNegative = 0.0

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band]) -> list[Band]:
        check_ordered(list(bands), "bands")
        _non_increasing([b.points for b in bands])
        return bands

    @model_validator(mode="after")
    def _otherwise_last(self) -> BandsRule:
        _non_increasing([b.points for b in self.bands] + [self.otherwise])
        return self


def _non_increasing(points: list[float]) -> None:
    for i in range(1, len(points)):
        if points[i] > points[i - 1]:
            raise ValueError(
                "band points must not increase down the list (a better value never earns "
                f"less). Got {points[i - 1]} then {points[i]} instead"
            )


class MinMaxRule(SpecModel):
    """Min-max across the units scored together, onto ``range`` (default [0, max]).

    ``bounds`` fixes the min and max (e.g. pooled over several years, so years compare); values
    outside fixed bounds are clipped. Without bounds the observed min and max are used, over the
    unit's level (``across: level``) or over all units (``across: all``).
    """

    kind: Literal["minmax"]
    direction: Direction = "higher_is_better"
    range: Pair | None = None
    bounds: Pair | None = None
    across: Literal["level", "all"] = "level"

    @model_validator(mode="after")
    def _pairs(self) -> MinMaxRule:
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high. Got {self.range}")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds must be [min, max] with min < max. Got {self.bounds}")
        return self


class RelativeToBestRule(SpecModel):
    """Value / best unit's value × maximum (lower-is-better: best / value × maximum)."""

    kind: Literal["relative_to_best"]
    direction: Direction = "higher_is_better"
    across: Literal["level", "all"] = "level"


class TargetRule(SpecModel):
    """Full points when the target is met; otherwise ``otherwise`` points, or ``proportional``
    (value / target × maximum; for lower-is-better, target / value × maximum)."""

    kind: Literal["target"]
    target: float
    direction: Direction = "higher_is_better"
    otherwise: NonNegative | Literal["proportional"] = 0.0


class CountRule(SpecModel):
    """``per_item`` points per counted item, at most ``cap`` (default: the maximum)."""

    kind: Literal["count"]
    per_item: Positive
    cap: Positive | None = None


class DeductionRule(SpecModel):
    """Start from ``start`` (default: the maximum), subtract ``per_item`` per failure, never
    below ``floor``."""

    kind: Literal["deduction"]
    per_item: Positive
    start: NonNegative | None = None
    floor: NonNegative = 0.0


class YesNoRule(SpecModel):
    """Yes earns ``yes_points`` (default: the maximum), no earns ``no_points`` (default 0).

    It is the default rule of a ``yes_no`` measure."""

    kind: Literal["yes_no"]
    yes_points: NonNegative | None = None
    no_points: NonNegative = 0.0

    @model_validator(mode="after")
    def _yes_not_below_no(self) -> YesNoRule:
        if self.yes_points is not None and self.yes_points < self.no_points:
            raise ValueError("yes_points must not be below no_points (yes is the better answer)")
        return self


Rule = Annotated[
    IdentityRule
    | LinearRule
    | BandsRule
    | MinMaxRule
    | RelativeToBestRule
    | TargetRule
    | CountRule
    | DeductionRule
    | YesNoRule,
    Field(discriminator="kind"),
]

MONOTONE_RULES = (
    "identity",
    "linear",
    "bands",
    "minmax",
    "relative_to_best",
    "target",
    "count",
    "yes_no",
)
"""Rules under which a better raw value never lowers the score (deduction is anti-monotone in
the failure count, which is its raw value)."""
