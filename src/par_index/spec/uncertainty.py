"""Rank uncertainty: which sources of variation ``par-index uncertainty`` explores, declared in
the criteria file under the optional top-level key ``uncertainty`` (every key has a default).

.. code-block:: yaml

    uncertainty:
      survey: true            # resample each unit's respondents (default true)
      min_n: 30               # flag a survey indicator answered by fewer respondents
      max_margin: 0.1         # flag a 95 % margin of error above this (the statistic's units)
      top_k: 10               # report the probability of being in the top k of the level
      weights:                # scale a node's weight (its maximum under a sum parent)
        - {node: tthc, range: [0.8, 1.2]}
      alternatives:           # each draw picks the declared method or one of these
        - {node: giai_ngan, rule: {kind: minmax}}
        - {node: par-2025, aggregation: geometric_mean, zero_floor: 0.01}
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from .base import NodeId, Positive, SpecModel
from .nodes import Aggregation
from .rules import Pair, Rule


class WeightRange(SpecModel):
    """Multiply ``node``'s weight by a factor drawn uniformly from ``range`` in every draw.

    Under a ``sum`` or ``share_of_max`` parent the node's share of the parent's maximum is
    scaled instead. The parent's weights (maxima) are then rescaled so that they keep their
    sum: a node weighted up takes its extra weight from its siblings.
    """

    node: NodeId
    range: Pair

    @model_validator(mode="after")
    def _ordered(self) -> WeightRange:
        low, high = self.range
        if not 0 < low <= high:
            raise ValueError(
                f"range must be [low, high] with 0 < low <= high (factors on the weight). "
                f"Got {self.range} instead"
            )
        return self


class RuleAlternative(SpecModel):
    """Another scoring rule for the indicator ``node`` (e.g. min-max instead of goalposts)."""

    node: NodeId
    rule: Rule


class AggregationAlternative(SpecModel):
    """Another aggregation for the node with children ``node`` (or the index, by its id).

    Under a mean, the children of a ``sum`` or ``share_of_max`` node are weighted by their
    maxima (so ``weighted_mean`` ranks as the sum does and ``geometric_mean`` is its
    geometric counterpart); the result is on the node's maximum.
    """

    node: NodeId
    aggregation: Aggregation
    zero_floor: Positive | None = None
    """geometric_mean only: a child share below this is raised to it (as on a node)."""

    @model_validator(mode="after")
    def _floor_for_geometric(self) -> AggregationAlternative:
        if self.zero_floor is not None and self.aggregation != "geometric_mean":
            raise ValueError("zero_floor applies to aggregation geometric_mean only")
        return self


def _alternative_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "rule" in value:
            return "rule"
        if "aggregation" in value:
            return "aggregation"
        return None
    if isinstance(value, RuleAlternative):
        return "rule"
    if isinstance(value, AggregationAlternative):
        return "aggregation"
    return None


Alternative = Annotated[
    Annotated[RuleAlternative, Tag("rule")] | Annotated[AggregationAlternative, Tag("aggregation")],
    Discriminator(
        _alternative_kind,
        custom_error_type="alternative_kind",
        custom_error_message="an alternative needs a node and either a rule or an aggregation",
    ),
]


class UncertaintySpec(SpecModel):
    """The sources of variation of an uncertainty run and the reporting thresholds."""

    survey: bool = True
    """Resample each unit's survey respondents (with replacement, n out of n, weights kept)."""
    min_n: Annotated[int, Field(ge=1)] | None = None
    """Flag a unit's survey indicator answered by fewer respondents than this."""
    max_margin: Positive | None = None
    """Flag a unit's survey indicator whose 95 % margin of error exceeds this, in the
    statistic's own units (0.1 = ten points of a share; 0.3 on a 1–5 mean)."""
    weights: list[WeightRange] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    top_k: Annotated[int, Field(ge=1)] = 10
    """Report each unit's probability of being among the first ``top_k`` of its level."""
