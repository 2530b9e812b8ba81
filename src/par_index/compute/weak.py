"""Low-ranking ("weak") and strongest indicators per unit, and where each level loses points.

A unit's indicator is weak when it falls inside the declared cut of its level — the bottom
share of places (default: the bottom quarter), the bottom k places, or below a share of the
maximum — and is not at the level's shared top: when most units tie (a yes/no indicator that
all but two meet), the tied units are never weak, and ties are reported as ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParIndexError
from ..results import UNIT_NODE_COLUMNS, Comparison, Results, WeakReport

TOLERANCE = 1e-9
WEAK_COLUMNS = [
    *UNIT_NODE_COLUMNS,
    "score",
    "maximum",
    "share",
    "rank",
    "units_in_level",
    "tied_with",
    "level_best",
    "level_mean",
    "points_lost_vs_max",
    "points_lost_vs_best",
    "score_change",
    "fell",
    "small_sample",
]


def _cut(
    bottom_share: float | None, bottom_k: int | None, below_share: float | None
) -> dict[str, Any]:
    given = {
        k: v
        for k, v in (
            ("bottom_share", bottom_share),
            ("bottom_k", bottom_k),
            ("below_share", below_share),
        )
        if v is not None
    }
    if len(given) > 1:
        raise ParIndexError(f"give one cut: bottom_share, bottom_k or below_share. Got {given}.")
    if not given:
        given = {"bottom_share": 0.25}
    ((kind, value),) = given.items()
    if kind == "bottom_k" and (not isinstance(value, int) or value < 1):
        raise ParIndexError(f"bottom_k must be a whole number of places >= 1. Got {value}.")
    if kind != "bottom_k" and not 0 < float(value) <= 1:
        raise ParIndexError(f"{kind} must lie in (0, 1]. Got {value}.")
    return {"kind": kind, "value": value}


def _leaf_table(results: Results) -> pd.DataFrame:
    detail = results.detail
    leaves = detail[detail["is_leaf"] & detail["score"].notna()].copy()
    grouped = leaves.groupby(["level", "node_id"], sort=False)["score"]
    leaves["units_in_level"] = grouped.transform("count")
    leaves["level_best"] = grouped.transform("max")
    leaves["level_worst"] = grouped.transform("min")
    leaves["level_mean"] = grouped.transform("mean")
    rounded = leaves["score"].round(9)
    leaves["tied_with"] = (
        leaves.groupby(["level", "node_id", rounded])["score"].transform("count") - 1
    )
    leaves["points_lost_vs_max"] = leaves["maximum"] - leaves["score"]
    leaves["points_lost_vs_best"] = leaves["level_best"] - leaves["score"]
    return leaves


def in_cut(leaves: pd.DataFrame, cut: dict[str, Any]) -> pd.Series:
    """Which rows fall inside the cut (before the tie guard)."""
    n = leaves["units_in_level"].astype("float64")
    rank = leaves["rank"].astype("float64")
    if cut["kind"] == "bottom_k":
        inside = rank > n - cut["value"]
    elif cut["kind"] == "bottom_share":
        inside = rank > n * (1 - cut["value"])
    else:
        inside = leaves["share"] < cut["value"]
    return pd.Series(inside, index=leaves.index, dtype=bool)


def _small_sample(results: Results, leaves: pd.DataFrame) -> np.ndarray:
    """Whether each unit × indicator is a survey result the rank uncertainty flagged (too few
    respondents or too wide a margin): such a weakness may be the sample's, not the unit's."""
    spread = results.uncertainty
    if spread is None or not len(spread.survey):
        return np.zeros(len(leaves), dtype=bool)
    survey = spread.survey
    flagged = survey[survey["flag_n"].astype(bool) | survey["flag_margin"].astype(bool)]
    keys = set(zip(flagged["unit_id"].astype(str), flagged["node_id"].astype(str), strict=True))
    pairs = zip(leaves["unit_id"].astype(str), leaves["node_id"].astype(str), strict=True)
    return np.array([pair in keys for pair in pairs], dtype=bool)


def low_ranking(
    results: Results,
    *,
    bottom_share: float | None = None,
    bottom_k: int | None = None,
    below_share: float | None = None,
    top_share: float = 0.25,
    comparison: Comparison | None = None,
) -> WeakReport:
    """Each unit's weak indicators (ordered by points at stake), its strongest ones, and the
    indicators where each level as a whole loses most points. ``small_sample`` marks a survey
    indicator the results' rank uncertainty flagged (when they carry one)."""
    cut = _cut(bottom_share, bottom_k, below_share)
    leaves = _leaf_table(results)
    if comparison is not None:
        change = comparison.changes.set_index(["unit_id", "node_id"])["score_change"]
        key = pd.MultiIndex.from_frame(leaves[["unit_id", "node_id"]])
        leaves["score_change"] = change.reindex(key).to_numpy()
    else:
        leaves["score_change"] = np.nan
    leaves["fell"] = leaves["score_change"] < -TOLERANCE
    leaves["small_sample"] = _small_sample(results, leaves)
    at_top = leaves["score"] >= leaves["level_best"] - TOLERANCE
    weak = leaves[in_cut(leaves, cut) & ~at_top]
    weak = weak.sort_values(
        ["level", "unit_id", "points_lost_vs_max", "points_lost_vs_best"],
        ascending=[True, True, False, False],
        kind="stable",
    )
    n = leaves["units_in_level"].astype("float64")
    at_bottom = leaves["score"] <= leaves["level_worst"] + TOLERANCE
    strong = leaves[(leaves["rank"].astype("float64") <= np.maximum(1, n * top_share)) & ~at_bottom]
    strong = strong.sort_values(
        ["level", "unit_id", "share"], ascending=[True, True, False], kind="stable"
    )
    columns = [c for c in WEAK_COLUMNS if c in leaves.columns]
    return WeakReport(
        weak=weak[columns].reset_index(drop=True),
        strong=strong[columns].reset_index(drop=True),
        level=_level_losses(leaves),
        cut={**cut, "top_share": top_share},
    )


def _level_losses(leaves: pd.DataFrame) -> pd.DataFrame:
    full = leaves["points_lost_vs_max"] <= TOLERANCE
    table = (
        leaves.assign(_full=full)
        .groupby(["level", "node_id", "node_name"], sort=False)
        .agg(
            units=("score", "count"),
            level_mean=("score", "mean"),
            level_best=("score", "max"),
            maximum=("maximum", "max"),
            points_lost_total=("points_lost_vs_max", "sum"),
            points_lost_mean=("points_lost_vs_max", "mean"),
            share_at_full_marks=("_full", "mean"),
        )
        .reset_index()
    )
    return table.sort_values(
        ["level", "points_lost_total"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
