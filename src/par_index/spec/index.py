"""The index: one criteria file — its inputs, units, ranking, tiers and the tree of criteria."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from .base import Name, NodeId, Positive, SpecModel
from .nodes import Aggregation, MissingPolicy, Node, Tier
from .uncertainty import UncertaintySpec


class ReadOptions(SpecModel):
    """How to read a table from its file; every key is optional."""

    sheet: str | None = None
    """Worksheet name (.xlsx). Default: a sheet named like the table, or the only sheet."""
    header_row: Annotated[int, Field(ge=1)] | None = None
    """1-based row of the column names. Default: the first row holding the unit column."""
    header_rows: Annotated[int, Field(ge=1, le=10)] = 1
    """How many rows the header takes: 2 for an English row plus a Vietnamese row, or
    sub-headers under merged cells (an empty name takes the cell below it)."""
    decimal: Literal[".", ","] = "."
    """Decimal mark of numbers stored as text (``8,59`` needs ``decimal: ","``)."""
    encoding: str | None = None
    """Text encoding of a .csv (default UTF-8, with or without BOM)."""


class AnswerScale(SpecModel):
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> AnswerScale:
        if self.min >= self.max:
            raise ValueError(f"scale min must be below max. Got {self.min}..{self.max}")
        return self


class TableInput(ReadOptions):
    """A table of values per unit (processing statistics, appraisal points, published scores)."""

    kind: Literal["table"]
    unit_column: str
    description: str | None = None


class SurveyInput(ReadOptions):
    """Survey responses: one row per respondent, answers on a declared scale."""

    kind: Literal["survey"]
    unit_column: str
    scale: AnswerScale
    dont_know: list[int] = Field(default_factory=list)
    """Codes meaning "don't know"/"no answer": excluded from statistics and counted."""
    weight_column: str | None = None
    respondent_column: str | None = None
    """Respondent id column: kept, and each respondent must appear once."""
    description: str | None = None

    @model_validator(mode="after")
    def _dont_know_off_scale(self) -> SurveyInput:
        inside = [c for c in self.dont_know if self.scale.min <= c <= self.scale.max]
        if inside:
            raise ValueError(
                f"dont_know codes must lie outside the answer scale "
                f"{self.scale.min}–{self.scale.max}, or they would count as answers. "
                f"Got {inside} instead"
            )
        return self


Input = Annotated[TableInput | SurveyInput, Field(discriminator="kind")]


class Units(SpecModel):
    """Where the units come from: a registry table (recommended) or any input table.

    With a registry, a registry unit absent from a table is reported (missing data) and a row
    whose unit is not in the registry is an error.
    """

    table: str | None = None
    """Input table listing the units. Default: the only input table."""
    name_column: str | None = None
    level_column: str | None = None
    level: str | None = None
    """The level of every unit, when the table has no level column."""
    group_column: str | None = None
    score_levels: list[str] | None = None
    """Score only the units of these levels; the units table's other units (and their rows in
    every table) are left out and counted in the run record — for a commune-only index fed
    the province's whole registry."""
    unknown_units: Literal["error", "exclude"] = "error"
    """Rows whose unit is not a registered unit: refuse (default) or exclude and count them."""


class Ranking(SpecModel):
    """How ranks are taken: competition ranking (1, 2, 2, 4), best first."""

    round_to: Annotated[int, Field(ge=0, le=12)] | None = None
    """Rank on the score rounded to this many decimals (half-up), as some publishers do.
    Default: the unrounded score."""
    within_group: bool = True
    """Also rank within each group of a level (when the units have groups)."""


class IndexSpec(SpecModel):
    """A criteria file: validated, frozen, the single source of methodology."""

    id: NodeId
    name: Name
    name_en: str | None = None
    year: int | None = None
    legal_basis: str | None = None
    description: str | None = None
    levels: list[str] | None = None
    max: Positive | None = None
    """The scale of the total (e.g. 100). For ``sum`` it defaults to the sum of the areas."""
    aggregation: Aggregation = "sum"
    missing: MissingPolicy = "error"
    """Default missing-data policy of every node; a node's own ``missing`` overrides it and is
    inherited by its descendants."""
    zero_floor: Positive | None = None
    inputs: Annotated[dict[str, Input], Field(min_length=1)]
    units: Units = Field(default_factory=Units)
    ranking: Ranking = Field(default_factory=Ranking)
    tiers: list[Tier] | None = None
    criteria: Annotated[list[Node], Field(min_length=1)]
    uncertainty: UncertaintySpec = Field(default_factory=UncertaintySpec)
    """What ``par-index uncertainty`` varies (survey samples, weights, method alternatives)
    and when it flags a survey result; see :mod:`par_index.spec.uncertainty`."""

    @model_validator(mode="after")
    def _root_shape(self) -> IndexSpec:
        """The index is the root node: the same checks as any inner node (its max must add up
        under ``sum``; a mean needs a max)."""
        problems = self.as_root()._inner_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _structure(self, info: ValidationInfo) -> IndexSpec:
        if info.context and info.context.get("structure_checked"):
            return self
        from .checks import structural_issues

        issues = structural_issues(self.model_dump(mode="json", exclude_none=True))
        if issues:
            raise ValueError("; ".join(f"{i.location}: {i.message}" for i in issues))
        return self

    def as_root(self) -> Node:
        """The index as the root node of its tree (id, name, max, aggregation, children)."""
        return Node.model_construct(
            id=self.id,
            name=self.name,
            name_en=self.name_en,
            max=self.max,
            aggregation=self.aggregation,
            zero_floor=self.zero_floor,
            missing=self.missing,
            children=list(self.criteria),
        )

    def iter_nodes(self) -> Iterator[tuple[Node, int, str | None]]:
        """Every node, depth first: (node, depth from 1 for top-level areas, parent id)."""

        def walk(nodes: list[Node], depth: int, parent: str) -> Iterator[tuple[Node, int, str]]:
            for node in nodes:
                yield node, depth, parent
                if node.children:
                    yield from walk(node.children, depth + 1, node.id)

        yield from walk(self.criteria, 1, self.id)

    def find(self, node_id: str) -> Node | None:
        """The node with this id (the index itself as the root), or None."""
        if node_id == self.id:
            return self.as_root()
        for node, _, _ in self.iter_nodes():
            if node.id == node_id:
                return node
        return None

    def leaves(self) -> list[Node]:
        return [node for node, _, _ in self.iter_nodes() if node.is_leaf]

    def summary(self) -> str:
        """A one-line description of the tree."""
        nodes = list(self.iter_nodes())
        depth = max(d for _, d, _ in nodes)
        leaves = sum(1 for n, _, _ in nodes if n.is_leaf)
        top = self.as_root().declared_max()
        scale = f", max {top:g}" if top is not None else ""
        return (
            f"{self.id}: {self.name} — {len(self.criteria)} areas, {len(nodes)} nodes, "
            f"{leaves} indicators, depth {depth}{scale}, aggregation {self.aggregation}, "
            f"inputs {', '.join(self.inputs)}"
        )


def spec_dict_nodes(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Walk the node dicts of a raw (or dumped) criteria mapping: (node, YAML location)."""

    def walk(items: Any, where: str) -> Iterator[tuple[dict[str, Any], str]]:
        if not isinstance(items, list):
            return
        for i, item in enumerate(items):
            if isinstance(item, dict):
                here = f"{where}[{i}]"
                yield item, here
                yield from walk(item.get("children"), f"{here}.children")

    yield from walk(data.get("criteria"), "criteria")
