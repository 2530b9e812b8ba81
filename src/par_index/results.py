"""The result of scoring: DataFrames plus the criteria and provenance that produced them."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .spec.index import IndexSpec

DETAIL_COLUMNS = [
    "unit_id",
    "unit_name",
    "level",
    "group",
    "node_id",
    "node_name",
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

RANKING_LEAD = [
    "unit_id",
    "unit_name",
    "level",
    "group",
    "score",
    "maximum",
    "share",
    "rank",
    "rank_in_group",
    "tier",
]


@dataclass(frozen=True)
class Results:
    """Scores at every node, rankings per level, and the run record.

    ``ranking``: one row per unit (total, rank within level and group, tier, then one column per
    top-level area holding its score). ``detail``: one row per unit × node. ``missing``: every
    unit × node that was missing and what the policy did. ``run``: package version, criteria and
    input digests, time, and the row accounting.
    """

    spec: IndexSpec
    ranking: pd.DataFrame
    detail: pd.DataFrame
    run: dict[str, Any] = field(default_factory=dict)

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
        for level in self.levels:
            table = self.level(level)[columns].head(15)
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
