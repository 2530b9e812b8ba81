"""Assemble the engine's per-node arrays into the Results tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..results import DETAIL_COLUMNS, RANKING_LEAD, UNIT_COLUMNS, Results
from ..spec.checks import area_rank_column
from ..spec.index import IndexSpec
from ..tables import InputData
from .engine import NodeScores, Nominal, score_nominal


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def detail_frame(units: pd.DataFrame, nodes: list[NodeScores]) -> pd.DataFrame:
    n = len(units)
    blocks = []
    for result in nodes:
        node = result.node
        with np.errstate(invalid="ignore", divide="ignore"):
            share = result.score / result.maximum
        blocks.append(
            pd.DataFrame(
                {
                    "unit_id": units["unit_id"].to_numpy(dtype=object),
                    "unit_name": units["unit_name"].to_numpy(dtype=object),
                    "level": units["level"].to_numpy(dtype=object),
                    "group": units["group"].to_numpy(dtype=object),
                    "node_id": node.id,
                    "node_name": node.name,
                    "parent_id": result.parent,
                    "depth": result.depth,
                    "is_leaf": node.children is None,
                    "raw_value": result.raw if result.raw is not None else _nan(n),
                    "self_assessed": result.self_assessed
                    if result.self_assessed is not None
                    else _nan(n),
                    "n_valid": result.n_valid if result.n_valid is not None else _nan(n),
                    "score": result.score,
                    "points": result.points if result.points is not None else _nan(n),
                    "maximum": result.maximum,
                    "share": share,
                    "rank": result.rank,
                    "rank_in_group": result.rank_in_group,
                    "status": result.status,
                    "action": result.action,
                }
            )
        )
    frame = pd.concat(blocks, ignore_index=True)
    for column in (
        "raw_value",
        "self_assessed",
        "n_valid",
        "score",
        "points",
        "maximum",
        "share",
        "rank",
        "rank_in_group",
    ):
        frame[column] = frame[column].astype("float64")
    frame["depth"] = frame["depth"].astype("int64")
    frame = _none_for_missing_text(frame, ("group", "parent_id", "action"))
    return _int_ranks(frame[DETAIL_COLUMNS])


def _none_for_missing_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Missing text is None (never NaN), so the tables compare and serialise one way."""
    for column in columns:
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    return frame


def _int_ranks(frame: pd.DataFrame, more: tuple[str, ...] = ()) -> pd.DataFrame:
    """Ranks as whole numbers; a unit without a score has no rank (<NA>)."""
    for column in ("rank", "rank_in_group", *more):
        frame[column] = frame[column].astype("Int64")
    return frame


def unit_fields(units: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns that name each unit (id, name, level, group), as object arrays, for the
    first columns of a per-unit table."""
    return {column: units[column].to_numpy(dtype=object) for column in UNIT_COLUMNS}


def ranking_frame(
    spec: IndexSpec, units: pd.DataFrame, nodes: list[NodeScores], tiers: np.ndarray
) -> pd.DataFrame:
    root = nodes[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = root.score / root.maximum
    frame = pd.DataFrame(
        {
            **unit_fields(units),
            "score": root.score,
            "maximum": root.maximum,
            "share": share,
            "rank": root.rank,
            "rank_in_group": root.rank_in_group,
            "tier": tiers,
        }
    )
    assert list(frame.columns) == RANKING_LEAD
    for child in root.children:  # each top-level area's score, then its rank in the level
        frame[child.node.id] = child.score
    area_ranks = tuple(area_rank_column(child.node.id) for child in root.children)
    for child, column in zip(root.children, area_ranks, strict=True):
        frame[column] = child.rank
    level_order = {lv: i for i, lv in enumerate(dict.fromkeys(units["level"]))}
    frame["_level"] = frame["level"].map(level_order)
    frame = frame.sort_values(["_level", "rank", "unit_id"], na_position="last", kind="stable")
    frame = _none_for_missing_text(frame.drop(columns="_level"), ("group", "tier"))
    return _int_ranks(frame.reset_index(drop=True), area_ranks)


def score(
    spec: IndexSpec,
    data: InputData,
    run: dict[str, Any] | None = None,
    nominal: Nominal | None = None,
) -> Results:
    """Score every unit on every node of ``spec`` and rank them within their level
    (``nominal``: the tree already scored by :func:`~.engine.score_nominal`, reused)."""
    nodes, tiers, warnings, _ = nominal if nominal is not None else score_nominal(spec, data)
    run = dict(run or {})
    run["warnings"] = [str(w) for w in warnings]
    return Results(
        spec=spec,
        ranking=ranking_frame(spec, data.units, nodes, tiers),
        detail=detail_frame(data.units, nodes),
        run=run,
    )
