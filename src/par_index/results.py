"""The result of scoring: DataFrames plus the criteria and provenance that produced them."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .spec.checks import RANKING_COLUMNS
from .spec.index import IndexSpec

UNIT_COLUMNS = ("unit_id", "unit_name", "level", "group")
"""What names a unit in every table: its id, name, level and group."""
UNIT_NODE_COLUMNS = (*UNIT_COLUMNS, "node_id", "node_name")
"""What names a unit × node row."""

DETAIL_COLUMNS = [
    *UNIT_NODE_COLUMNS,
    "parent_id",
    "depth",
    "is_leaf",
    "raw_value",
    "self_assessed",
    "n_valid",
    "score",
    "points",
    "maximum",
    "share",
    "rank",
    "rank_in_group",
    "status",
    "action",
]
"""Per unit × node: ``score`` is the node's own result (points out of ``maximum``); ``points``
is its contribution to the index total; ``share`` = score / maximum; ``status`` is ok /
missing / not_applicable and ``action`` what the missing-data policy (or a zero denominator)
did."""

RANKING_LEAD = list(RANKING_COLUMNS)

UNCERTAINTY_RANK_COLUMNS = (
    "rank_nominal",
    "rank_median",
    "rank_p05",
    "rank_p95",
    "rank_in_group_nominal",
    "rank_in_group_median",
    "rank_in_group_p05",
    "rank_in_group_p95",
)
"""The integer columns of an uncertainty's units table (each percentile is a rank some draw
gave; the group ones are empty for a unit without a group)."""


@dataclass(frozen=True)
class Results:
    """Scores at every node, rankings per level, and the run record.

    ``ranking``: one row per unit (total, rank within level and group, tier, then one column per
    top-level area holding its score). ``detail``: one row per unit × node. ``missing``: every
    unit × node that was missing and what the policy did. ``run``: package version, criteria and
    input digests, time, and the row accounting. ``uncertainty``: how sure each rank is, when
    it was drawn with the scoring (``par-index score`` does by default; see
    :class:`Uncertainty`), else ``None``.
    """

    spec: IndexSpec
    ranking: pd.DataFrame
    detail: pd.DataFrame
    run: dict[str, Any] = field(default_factory=dict)
    uncertainty: Uncertainty | None = field(default=None, repr=False)

    @property
    def missing(self) -> pd.DataFrame:
        rows = self.detail[self.detail["status"] == "missing"]
        return rows[
            ["unit_id", "unit_name", "level", "node_id", "node_name", "action"]
        ].reset_index(drop=True)

    @property
    def levels(self) -> list[str]:
        return list(dict.fromkeys(self.ranking["level"]))

    def to_frame(self, kind: Literal["ranking", "detail", "missing"] = "ranking") -> pd.DataFrame:
        """A copy of the ranking (default), the per unit × node detail, or the missing report."""
        frame = {"ranking": self.ranking, "detail": self.detail, "missing": self.missing}[kind]
        return frame.copy()

    def level(self, name: str) -> pd.DataFrame:
        """The ranking of one level, best first."""
        return self.ranking[self.ranking["level"] == name].reset_index(drop=True)

    def to_excel(self, path: str | Path) -> Path:
        """Write the ranking, detail and run-record sheets to an .xlsx file (atomically)."""
        from .io.writers import write_results

        return write_results(self, Path(path))

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.spec.name)} ({html.escape(self.spec.id)})</h4>"]
        columns = [c for c in self.ranking.columns if c not in ("maximum", "share")]
        intervals = None
        if self.uncertainty is not None:  # the 90 % rank interval beside each rank
            units = self.uncertainty.units
            intervals = pd.Series(
                [
                    f"{low}–{high}" if low != high else f"{low}"
                    for low, high in zip(units["rank_p05"], units["rank_p95"], strict=True)
                ],
                index=units["unit_id"].astype(str),
            )
        for level in self.levels:
            table = self.level(level)[columns].head(15)
            if intervals is not None:
                shown = table["unit_id"].astype(str).map(intervals)
                place = list(table.columns).index("rank") + 1
                table.insert(place, "rank 90 %", shown.to_numpy())
            count = int((self.ranking["level"] == level).sum())
            parts.append(f"<p><b>{html.escape(str(level))}</b>: {count} units (top 15)</p>")
            parts.append(
                table.to_html(
                    index=False, float_format=lambda v: f"{v:.2f}", na_rep="", escape=True
                )
            )
        missing = len(self.missing)
        if missing:
            parts.append(
                f"<p>{missing} unit × node values were missing; see <code>.missing</code>.</p>"
            )
        return "\n".join(parts)

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{lv}: {int((self.ranking['level'] == lv).sum())}" for lv in self.levels
        )
        return f"<Results {self.spec.id}: {len(self.ranking)} units ({counts})>"


def _html_table(frame: pd.DataFrame, rows: int = 15) -> str:
    return frame.head(rows).to_html(
        index=False, float_format=lambda v: f"{v:.2f}", na_rep="", escape=True
    )


@dataclass(frozen=True)
class Comparison:
    """Year-over-year changes: ``changes`` (one row per unit × node, the index total included
    under the index id), ``summary`` (per level: units up / down / unchanged, means, best and
    worst in each year), ``explain`` (per unit, the nodes that moved its total most),
    ``units`` (units present in one year only) and ``nodes`` (which nodes compare)."""

    current: Results
    previous: Results
    changes: pd.DataFrame
    summary: pd.DataFrame
    explain: pd.DataFrame
    units: pd.DataFrame
    nodes: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "changes": self.changes,
            "summary": self.summary,
            "explain": self.explain,
            "units": self.units,
            "nodes": self.nodes,
        }

    def to_frame(self, kind: str = "changes") -> pd.DataFrame:
        return self.tables()[kind].copy()

    def to_excel(self, path: str | Path) -> Path:
        from .io.writers import write_tables

        return write_tables(self.tables(), Path(path), run=self.run)

    @property
    def run(self) -> dict[str, Any]:
        return {"current": self.current.run, "previous": self.previous.run}

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>{html.escape(self.current.spec.id)} compared with "
            f"{html.escape(self.previous.spec.id)}</h4>",
            _html_table(self.summary),
        ]
        changed = self.nodes[~self.nodes["comparable"]]
        if len(changed):
            parts.append(
                f"<p>{len(changed)} nodes are not comparable between the years; see "
                "<code>.nodes</code>.</p>"
            )
        return "\n".join(parts)

    def __repr__(self) -> str:
        changed = int((~self.nodes["comparable"].astype(bool)).sum())
        return (
            f"<Comparison {self.current.spec.id} vs {self.previous.spec.id}: "
            f"{self.changes['unit_id'].nunique()} units, {changed} nodes not comparable, "
            f"{len(self.units)} units in one year only>"
        )


@dataclass(frozen=True)
class WeakReport:
    """Low-ranking indicators per unit (``weak``, ordered by points at stake), each unit's
    strongest indicators (``strong``), and the indicators where each level as a whole loses
    most points (``level``)."""

    weak: pd.DataFrame
    strong: pd.DataFrame
    level: pd.DataFrame
    cut: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"weak": self.weak, "strong": self.strong, "level": self.level}

    def to_frame(self, kind: str = "weak") -> pd.DataFrame:
        return self.tables()[kind].copy()

    def __repr__(self) -> str:
        units = self.weak["unit_id"].nunique() if len(self.weak) else 0
        return f"<WeakReport: {len(self.weak)} weak indicators in {units} units (cut {self.cut})>"

    def to_excel(self, path: str | Path) -> Path:
        from .io.writers import write_tables

        return write_tables(self.tables(), Path(path), run={"cut": self.cut})

    def _repr_html_(self) -> str:
        return "<h4>Weak indicators</h4>" + _html_table(self.weak)


@dataclass(frozen=True, eq=False)
class Uncertainty:
    """How much every unit's score and rank move over many replications of the scoring
    (``par-index uncertainty``): survey respondents resampled, weights and methods varied as
    the criteria file's ``uncertainty`` block declares.

    ``units``: one row per unit — nominal score, rank and tier; median and 5th–95th
    percentile of the score and of the rank over the draws (and of the rank within the unit's
    group, ``rank_in_group_*``, where the level has groups); the probability of being in the
    top k of the level (``p_top_k``, k = ``run['uncertainty']['top_k']``) and in each tier
    (``p_tier_<name>``); ``flagged`` when one of its survey indicators rests on too few
    respondents or too wide a margin (``flags`` says which). ``survey``: per unit × survey
    indicator, the valid n, Kish's effective n, the analytic 95 % margin of error (and the
    bootstrap's, when the survey is resampled) and the two flags. ``removal``: per node and
    level, how far ranks move when the node is left out (its weight set to zero).
    ``score_draws`` and ``rank_draws`` hold every draw (draws × units, in the units' order
    of ``unit_ids``).
    """

    spec: IndexSpec
    units: pd.DataFrame
    survey: pd.DataFrame
    removal: pd.DataFrame
    score_draws: np.ndarray = field(repr=False)
    rank_draws: np.ndarray = field(repr=False)
    unit_ids: list[str] = field(default_factory=list, repr=False)
    run: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"units": self.units, "survey": self.survey, "removal": self.removal}

    def to_frame(self, kind: str = "units") -> pd.DataFrame:
        """A copy of the per-unit table (default), ``survey`` or ``removal``."""
        return self.tables()[kind].copy()

    @property
    def levels(self) -> list[str]:
        return list(dict.fromkeys(self.units["level"]))

    @property
    def draws(self) -> int:
        return int(self.run.get("uncertainty", {}).get("draws", len(self.score_draws)))

    def to_excel(self, path: str | Path) -> Path:
        """Write the three tables, the run record and the criteria (.xlsx, .csv, .parquet or
        .json, by the extension)."""
        from .io.writers import write_tables
        from .spec.loader import dump_spec

        return write_tables(self.tables(), Path(path), run=self.run, criteria=dump_spec(self.spec))

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>{html.escape(self.spec.name)} ({html.escape(self.spec.id)}): rank "
            f"uncertainty over {self.draws} draws</h4>"
        ]
        columns = [
            c
            for c in (
                "unit_id",
                "unit_name",
                "score_nominal",
                "rank_nominal",
                "rank_median",
                "rank_p05",
                "rank_p95",
                "p_top_k",
                "flagged",
            )
            if c in self.units.columns
        ]
        for level in self.levels:
            table = self.units[self.units["level"] == level][columns]
            flagged = int(table["flagged"].sum()) if "flagged" in table else 0
            parts.append(
                f"<p><b>{html.escape(str(level))}</b>: {len(table)} units, {flagged} flagged "
                "(top 15)</p>"
            )
            parts.append(_html_table(table))
        return "\n".join(parts)

    def __repr__(self) -> str:
        flagged = int(self.units["flagged"].sum()) if "flagged" in self.units else 0
        return (
            f"<Uncertainty {self.spec.id}: {len(self.units)} units, {self.draws} draws, "
            f"{flagged} flagged>"
        )
