"""Nodes of the criteria tree: areas and criteria (inner nodes) and indicators (leaves)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from .base import Name, NodeId, Positive, SpecModel
from .measures import AppraisalMeasure, Measure, YesNoMeasure
from .rules import (
    BandsRule,
    CountRule,
    DeductionRule,
    IdentityRule,
    MinMaxRule,
    Rule,
    TargetRule,
    YesNoRule,
)

Aggregation = Literal["sum", "weighted_mean", "geometric_mean", "share_of_max"]
MissingPolicy = Literal["error", "zero", "reweight", "impute_level_mean", "impute_group_mean"]

TOLERANCE = 1e-9


class MissingWhen(SpecModel):
    """Treat a node as having no data for the units whose ``column`` (one value per unit in
    ``table``) is one of ``values`` — e.g. SDG 14 is not scored for landlocked countries even
    where an indicator value exists. The node's missing policy then decides what happens."""

    table: str
    column: str
    values: list[float] = Field(min_length=1)


class AppliesTo(SpecModel):
    """Where a node applies. A node that does not apply is dropped and its parent's maximum
    shrinks (not applicable is not missing)."""

    levels: list[str] | None = None
    groups: list[str] | None = None
    units: list[str] | None = None
    except_units: list[str] | None = None


class Node(SpecModel):
    """An area, criterion or indicator.

    A leaf has a ``measure`` (raw value) and a ``rule`` (score, default identity); an inner node
    has ``children`` and an ``aggregation`` (default ``sum``).
    """

    id: NodeId
    name: Name
    name_en: str | None = None
    official_text: str | None = None
    """The decision's own wording of the rule, kept for the report's method section."""
    max: Positive | None = None
    weight: Positive | None = None
    aggregation: Aggregation | None = None
    zero_floor: Positive | None = None
    """geometric_mean only: a child share below this is raised to it instead of failing."""
    missing: MissingPolicy | None = None
    applies_to: AppliesTo | None = None
    missing_when: MissingWhen | None = None
    measure: Measure | None = None
    rule: Rule | None = None
    children: list[Node] | None = Field(default=None, min_length=1)

    @property
    def is_leaf(self) -> bool:
        return self.children is None

    @property
    def effective_aggregation(self) -> Aggregation:
        return self.aggregation or "sum"

    @property
    def effective_rule(self) -> Rule:
        if self.rule is not None:
            return self.rule
        if isinstance(self.measure, YesNoMeasure):
            return YesNoRule(kind="yes_no")
        return IdentityRule(kind="identity")

    def declared_max(self) -> float | None:
        """The node's maximum: declared, or for a ``sum`` node the sum of its children's."""
        if self.max is not None:
            return float(self.max)
        if self.children is not None and self.effective_aggregation == "sum":
            parts = [c.declared_max() for c in self.children]
            if all(p is not None for p in parts):
                return math.fsum(p for p in parts if p is not None)
        return None

    @model_validator(mode="after")
    def _shape(self) -> Node:
        problems: list[str] = []
        if self.children is None:
            problems += self._leaf_problems()
        else:
            problems += self._inner_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _leaf_problems(self) -> list[str]:
        problems: list[str] = []
        if self.measure is None:
            problems.append("a leaf (no children) needs a measure")
        if self.aggregation is not None:
            problems.append("aggregation belongs on a node with children")
        if self.zero_floor is not None:
            problems.append("zero_floor belongs on a geometric_mean node with children")
        if self.max is None:
            problems.append("a leaf needs a max (its maximum score)")
            return problems
        top = float(self.max)
        rule = self.effective_rule
        if isinstance(self.measure, AppraisalMeasure) and not isinstance(rule, IdentityRule):
            problems.append("appraisal points are scored as entered; use no rule or identity")
        if isinstance(rule, BandsRule):
            for i, band in enumerate(rule.bands):
                if band.points > top + TOLERANCE:
                    problems.append(f"bands[{i}].points {band.points} exceeds max {top}")
            if rule.otherwise > top + TOLERANCE:
                problems.append(f"otherwise {rule.otherwise} exceeds max {top}")
        if isinstance(rule, IdentityRule | MinMaxRule) and rule.range is not None:
            low, high = rule.range
            if not (0 - TOLERANCE <= low < high <= top + TOLERANCE):
                problems.append(f"range {rule.range} must lie within [0, max {top}], low < high")
        if (
            isinstance(rule, TargetRule)
            and isinstance(rule.otherwise, float)
            and rule.otherwise > top + TOLERANCE
        ):
            problems.append(f"otherwise {rule.otherwise} exceeds max {top}")
        if isinstance(rule, CountRule) and rule.cap is not None and rule.cap > top + TOLERANCE:
            problems.append(f"cap {rule.cap} exceeds max {top}")
        if isinstance(rule, DeductionRule):
            start = top if rule.start is None else rule.start
            if start > top + TOLERANCE or rule.floor > start:
                problems.append(f"deduction needs floor <= start <= max {top}")
        if isinstance(rule, YesNoRule):
            for label, value in (("yes_points", rule.yes_points), ("no_points", rule.no_points)):
                if value is not None and value > top + TOLERANCE:
                    problems.append(f"{label} points {value} exceed max {top}")
        return problems

    def _inner_problems(self) -> list[str]:
        problems: list[str] = []
        if self.measure is not None or self.rule is not None:
            problems.append("a node with children takes no measure or rule (its children do)")
        children = self.children or []
        aggregation = self.effective_aggregation
        weighted = [c.id for c in children if c.weight is not None]
        if aggregation in ("sum", "share_of_max") and weighted:
            problems.append(
                f"weight has no effect under aggregation '{aggregation}' (children {weighted}); "
                "use weighted_mean or remove the weights"
            )
        if aggregation == "sum":
            parts = [c.declared_max() for c in children]
            if self.max is not None and all(p is not None for p in parts):
                total = math.fsum(p for p in parts if p is not None)
                if abs(total - float(self.max)) > 1e-6:
                    problems.append(
                        f"max must equal the sum of the children's maxima ({total:g}) when points "
                        f"add up. Got {self.max:g} instead"
                    )
        elif self.max is None:
            problems.append(f"aggregation '{aggregation}' needs a max (the scale of the result)")
        if self.zero_floor is not None and aggregation != "geometric_mean":
            problems.append("zero_floor applies to geometric_mean only")
        return problems


class Tier(SpecModel):
    """A named band of the total: the first tier whose edge the total passes; a tier with no
    edge takes everything below the others (it must come last)."""

    name: Name
    name_en: str | None = None
    at_least: float | None = None
    above: float | None = None
