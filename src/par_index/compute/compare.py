"""Year-over-year changes between two results, through a crosswalk when units merged.

Nodes are matched by id. A node whose own definition (maximum, rule, measure, aggregation,
weights, children) or any descendant's changed — or that exists in one year only — is flagged
``comparable = False``; for such nodes the shares are also given on the comparable subset (the
leaves defined the same way in both years), so a change of instrument is never passed off as a
change of performance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, Issue
from ..results import UNIT_NODE_COLUMNS, Comparison, Results
from ..spec.index import IndexSpec
from ..spec.nodes import Node
from .engine import ranking_basis
from .rank import competition_rank

TOLERANCE = 1e-9
CHANGE_COLUMNS = [
    *UNIT_NODE_COLUMNS,
    "depth",
    "is_leaf",
    "score_previous",
    "score_current",
    "score_change",
    "share_previous",
    "share_current",
    "share_change",
    "rank_previous",
    "rank_current",
    "rank_change",
    "direction",
    "comparable",
    "share_comparable_previous",
    "share_comparable_current",
    "share_comparable_change",
    "points_previous",
    "points_current",
    "points_change",
    "derived_from",
    "unit_status",
    "rank_change_within_interval",
]


def _definition(node: Node) -> str:
    """A node's own definition, without names and wording (which may change freely)."""
    data = node.model_dump(
        mode="json", exclude_none=True, exclude={"name", "name_en", "official_text", "children"}
    )
    if node.children is not None:
        data["children"] = sorted(
            (c.id, c.weight if c.weight is not None else 1.0) for c in node.children
        )
    return json.dumps(data, sort_keys=True)


def _nodes(spec: IndexSpec) -> dict[str, Node]:
    root = spec.as_root()
    out = {"__root__": root}
    out.update({node.id: node for node, _, _ in spec.iter_nodes()})
    return out


def comparable_nodes(current: IndexSpec, previous: IndexSpec) -> dict[str, bool]:
    """For every node id of the current criteria: is it defined the same way last year (itself
    and all its descendants)? The index root is keyed by the current index id."""
    now, before = _nodes(current), _nodes(previous)
    result: dict[str, bool] = {}

    def same(node_id: str) -> bool:
        node = now[node_id]
        key = node.id if node_id != "__root__" else current.id
        other = before.get(node_id)
        ok = other is not None and _definition(node) == _definition(other)
        if node_id == "__root__" and other is not None:
            ok = _definition(node.model_copy(update={"id": "x"})) == _definition(
                other.model_copy(update={"id": "x"})
            )
        for child in node.children or []:
            ok = same(child.id) and ok
        result[key] = ok
        return ok

    same("__root__")
    return result


@dataclass(frozen=True)
class _Carried:
    detail: pd.DataFrame  # previous detail carried onto the current units
    derived: dict[str, str]  # current unit id -> "a+b" for merged units
    retired: list[str]


def _carry(previous: Results, current: Results, crosswalk: pd.DataFrame | None) -> _Carried:
    """Previous scores on the current map: merged units take the weighted mean of their
    predecessors (score, share and points); units mapped 1:1 keep theirs. The previous index
    total is keyed by the current index id."""
    detail = previous.detail.copy()
    detail.loc[detail["node_id"] == previous.spec.id, "node_id"] = current.spec.id
    if crosswalk is None:
        kept = detail[detail["unit_id"].isin(set(current.ranking["unit_id"]))]
        retired = sorted(set(previous.ranking["unit_id"]) - set(current.ranking["unit_id"]))
        return _Carried(kept, {}, retired)
    walk = crosswalk.copy()
    issues = _crosswalk_issues(walk, previous, current)
    if issues:
        raise DataError("the crosswalk does not fit the two results", issues)
    if "weight" not in walk.columns:
        walk["weight"] = 1.0
    walk["weight"] = walk["weight"].astype("float64")
    joined = detail.merge(walk, left_on="unit_id", right_on="previous_unit_id", how="inner")
    value_columns = ["score", "share", "points", "maximum"]
    for column in value_columns:
        joined[f"_w_{column}"] = joined[column] * joined["weight"]
        joined[f"_n_{column}"] = joined["weight"].where(joined[column].notna(), 0.0)
    sums = joined.groupby(["current_unit_id", "node_id"], sort=False).agg(
        {**{f"_w_{c}": "sum" for c in value_columns}, **{f"_n_{c}": "sum" for c in value_columns}}
    )
    carried = pd.DataFrame(index=sums.index)
    for column in value_columns:
        with np.errstate(invalid="ignore", divide="ignore"):
            carried[column] = np.where(
                sums[f"_n_{column}"] > 0, sums[f"_w_{column}"] / sums[f"_n_{column}"], np.nan
            )
    carried = carried.reset_index().rename(columns={"current_unit_id": "unit_id"})
    groups = walk.groupby("current_unit_id")["previous_unit_id"].agg(list)
    derived = {
        str(unit): "+".join(map(str, ids))
        for unit, ids in groups.items()
        if len(ids) > 1 or ids[0] != unit
    }
    mapped = set(walk["previous_unit_id"])
    unmapped = sorted(set(previous.ranking["unit_id"]) - mapped)
    # a previous unit the crosswalk does not mention keeps its id if that id still exists
    same_id = [
        u
        for u in unmapped
        if u in set(current.ranking["unit_id"]) and u not in set(walk["current_unit_id"])
    ]
    if same_id:
        keep = detail[detail["unit_id"].isin(same_id)][["unit_id", "node_id", *value_columns]]
        carried = pd.concat([carried, keep], ignore_index=True)
    retired = sorted(set(unmapped) - set(same_id))
    return _Carried(carried, derived, retired)


def _crosswalk_issues(walk: pd.DataFrame, previous: Results, current: Results) -> list[Issue]:
    issues = []
    for column in ("previous_unit_id", "current_unit_id"):
        if column not in walk.columns:
            issues.append(
                Issue(
                    "missing_column",
                    "crosswalk",
                    f"the crosswalk needs columns "
                    f"previous_unit_id, current_unit_id (and optionally weight). "
                    f"Columns present: {list(walk.columns)}.",
                )
            )
            return issues
        walk[column] = walk[column].astype(str).str.strip()
    unknown_prev = sorted(set(walk["previous_unit_id"]) - set(previous.ranking["unit_id"]))
    unknown_cur = sorted(set(walk["current_unit_id"]) - set(current.ranking["unit_id"]))
    if unknown_prev:
        issues.append(
            Issue(
                "unknown_unit",
                "crosswalk, previous_unit_id",
                f"{len(unknown_prev)} ids are not units of the previous results: "
                f"{unknown_prev[:10]}.",
            )
        )
    if unknown_cur:
        issues.append(
            Issue(
                "unknown_unit",
                "crosswalk, current_unit_id",
                f"{len(unknown_cur)} ids are not units of the current results: {unknown_cur[:10]}.",
            )
        )
    twice = walk["previous_unit_id"][walk["previous_unit_id"].duplicated()].unique().tolist()
    if twice:
        issues.append(
            Issue(
                "split_unit",
                "crosswalk, previous_unit_id",
                f"a previous unit may map to one current unit only; "
                f"{twice[:10]} appear more than once.",
            )
        )
    if "weight" in walk.columns:
        weights = pd.to_numeric(walk["weight"], errors="coerce")
        if not (weights > 0).all():
            issues.append(
                Issue("bad_weight", "crosswalk, weight", "weights must be positive numbers.")
            )
    return issues


def _comparable_share(
    detail: pd.DataFrame, spec: IndexSpec, comparable: dict[str, bool]
) -> pd.DataFrame:
    """Per unit × inner node: the node's share recomputed over its comparable leaves only.

    Each leaf weighs in an ancestor by the product, down the path, of its fraction of each
    parent (max / Σ max under sum and share_of_max, weight / Σ weight under the means), so the
    result equals the node's own share when every leaf is comparable.
    """
    fractions: dict[str, dict[str, float]] = {}  # ancestor -> comparable leaf -> weight

    def collect(node: Node, key: str) -> dict[str, float]:
        if node.children is None:
            found = {node.id: 1.0} if comparable.get(node.id, False) else {}
        else:
            parts = [_part(node, child) for child in node.children]
            total = sum(parts) or 1.0
            found = {}
            for child, part in zip(node.children, parts, strict=True):
                for leaf, weight in collect(child, child.id).items():
                    found[leaf] = weight * part / total
        fractions[key] = found
        return found

    collect(spec.as_root(), spec.id)
    leaf_rows = detail[detail["is_leaf"] & detail["score"].notna() & detail["maximum"].gt(0)]
    leaf_share = leaf_rows.assign(_share=leaf_rows["score"] / leaf_rows["maximum"])
    rows = []
    for node_id, leaves in fractions.items():
        if not leaves:
            continue
        part = leaf_share[leaf_share["node_id"].isin(set(leaves))]
        weight = part["node_id"].map(leaves).astype("float64")
        sums = (
            pd.DataFrame({"unit_id": part["unit_id"], "_w": weight, "_ws": weight * part["_share"]})
            .groupby("unit_id")[["_w", "_ws"]]
            .sum()
        )
        share = (sums["_ws"] / sums["_w"]).rename("share_comparable")
        rows.append(share.reset_index().assign(node_id=node_id))
    if not rows:
        return pd.DataFrame(columns=["unit_id", "node_id", "share_comparable"])
    return pd.concat(rows, ignore_index=True)


def _part(parent: Node, child: Node) -> float:
    """A child's weight in its parent's share."""
    if parent.effective_aggregation in ("sum", "share_of_max"):
        return child.declared_max() or 0.0
    return child.weight if child.weight is not None else 1.0


def compare(
    current: Results, previous: Results, crosswalk: pd.DataFrame | None = None
) -> Comparison:
    """Changes from ``previous`` to ``current`` for every unit × node (index total included)."""
    comparable = comparable_nodes(current.spec, previous.spec)
    previous_ids = {n.id for n, _, _ in previous.spec.iter_nodes()} | {previous.spec.id}
    carried = _carry(previous, current, crosswalk)

    prev = carried.detail.set_index(["unit_id", "node_id"])
    table = current.detail.rename(
        columns={
            "score": "score_current",
            "share": "share_current",
            "points": "points_current",
            "rank": "rank_current",
        }
    )
    key = pd.MultiIndex.from_frame(table[["unit_id", "node_id"]])
    for column in ("score", "share", "points"):
        table[f"{column}_previous"] = prev[column].reindex(key).to_numpy() if len(prev) else np.nan

    # previous ranks: the published ones without a crosswalk; with one, ranks of the carried
    # scores on the current map (merged units have no published rank of their own)
    if crosswalk is None:
        table["rank_previous"] = prev["rank"].reindex(key).to_numpy() if len(prev) else np.nan
    else:
        basis = ranking_basis(current.spec, table["score_previous"].to_numpy(dtype="float64"))
        keys = (table["level"].astype(str) + "\0" + table["node_id"].astype(str)).to_numpy()
        table["rank_previous"] = competition_rank(basis, keys)
    table["rank_previous"] = pd.to_numeric(table["rank_previous"]).astype("Int64")

    table["score_change"] = table["score_current"] - table["score_previous"]
    table["share_change"] = table["share_current"] - table["share_previous"]
    table["points_change"] = table["points_current"] - table["points_previous"]
    table["rank_change"] = (table["rank_previous"] - table["rank_current"]).astype("Int64")
    change = table["score_change"].to_numpy(dtype="float64")
    direction = np.where(
        change > TOLERANCE, "up", np.where(change < -TOLERANCE, "down", "unchanged")
    ).astype(object)
    direction[np.isnan(change)] = None
    table["direction"] = direction
    table["comparable"] = [
        comparable.get(n, False) and (n in previous_ids or n == current.spec.id)
        for n in table["node_id"]
    ]

    share_now = _comparable_share(current.detail, current.spec, comparable)
    share_before = _comparable_share(
        carried.detail.assign(
            is_leaf=carried.detail["node_id"].isin({leaf.id for leaf in previous.spec.leaves()})
        ),
        current.spec,
        comparable,
    )
    for frame, column in (
        (share_now, "share_comparable_current"),
        (share_before, "share_comparable_previous"),
    ):
        values = frame.set_index(["unit_id", "node_id"])["share_comparable"]
        table[column] = values.reindex(key).to_numpy() if len(values) else np.nan
    table["share_comparable_change"] = (
        table["share_comparable_current"] - table["share_comparable_previous"]
    )
    table["derived_from"] = table["unit_id"].map(carried.derived).astype(object)
    table["derived_from"] = table["derived_from"].where(table["derived_from"].notna(), None)
    has_previous = set(carried.detail["unit_id"])
    table["unit_status"] = np.where(
        table["unit_id"].isin(has_previous),
        np.where(table["derived_from"].notna(), "merged", "both"),
        "new",
    )
    table["rank_change_within_interval"] = _within_interval(current, table)
    changes = table[CHANGE_COLUMNS].reset_index(drop=True)
    units = _units_in_one_year(current, previous, changes, carried.retired)
    return Comparison(
        current=current,
        previous=previous,
        changes=changes,
        summary=_summary(changes, current.spec.id),
        explain=_explain(changes, current.spec.id),
        units=units,
        nodes=_node_flags(current.spec, previous.spec, comparable),
    )


def move_within_interval(
    rank_previous: float | None, rank_change: float | None, p05: float | None, p95: float | None
) -> bool | None:
    """Whether a unit's move lies within this year's 90 % rank interval (last year's rank
    between the 5th and 95th percentile rank): a move the draws say may not be a real one.
    ``None`` where there is no move, no previous rank or no interval."""
    known = (rank_previous, rank_change, p05, p95)
    if any(x is None or pd.isna(x) for x in known) or not rank_change:
        return None
    assert rank_previous is not None and p05 is not None and p95 is not None
    return bool(p05 <= rank_previous <= p95)


def _within_interval(current: Results, table: pd.DataFrame) -> list[bool | None]:
    """:func:`move_within_interval` of each index-total row, when the current results carry
    their rank uncertainty (else, and for other nodes, ``None``)."""
    spread = current.uncertainty
    if spread is None:
        return [None] * len(table)
    units = spread.units.set_index(spread.units["unit_id"].astype(str))
    p05 = units["rank_p05"].to_dict()
    p95 = units["rank_p95"].to_dict()
    return [
        move_within_interval(previous, change, p05.get(str(unit)), p95.get(str(unit)))
        if node == current.spec.id
        else None
        for unit, node, previous, change in zip(
            table["unit_id"],
            table["node_id"],
            table["rank_previous"],
            table["rank_change"],
            strict=True,
        )
    ]


def _units_in_one_year(
    current: Results, previous: Results, changes: pd.DataFrame, retired: list[str]
) -> pd.DataFrame:
    new = changes[(changes["unit_status"] == "new") & (changes["depth"] == 0)]
    rows = [
        {
            "unit_id": r.unit_id,
            "unit_name": r.unit_name,
            "level": r.level,
            "present_in": "current only",
        }
        for r in new.itertuples()
    ]
    gone = previous.ranking[previous.ranking["unit_id"].isin(retired)]
    rows += [
        {
            "unit_id": r.unit_id,
            "unit_name": r.unit_name,
            "level": r.level,
            "present_in": "previous only",
        }
        for r in gone.itertuples()
    ]
    return pd.DataFrame(rows, columns=["unit_id", "unit_name", "level", "present_in"])


def _node_flags(
    current: IndexSpec, previous: IndexSpec, comparable: dict[str, bool]
) -> pd.DataFrame:
    now = {n.id: n for n, _, _ in current.iter_nodes()}
    before = {n.id: n for n, _, _ in previous.iter_nodes()}
    rows: list[dict[str, Any]] = []
    for node_id in [*now, *[b for b in before if b not in now]]:
        if node_id not in before:
            status = "current only"
        elif node_id not in now:
            status = "previous only"
        elif _definition(now[node_id]) != _definition(before[node_id]):
            status = "definition changed"
        elif not comparable.get(node_id, False):
            status = "a descendant changed"
        else:
            status = "same"
        node = now.get(node_id) or before[node_id]
        rows.append(
            {
                "node_id": node_id,
                "node_name": node.name,
                "status": status,
                "comparable": status == "same",
            }
        )
    return pd.DataFrame(rows)


def _summary(changes: pd.DataFrame, index_id: str) -> pd.DataFrame:
    total = changes[changes["node_id"] == index_id]
    rows = []
    for level, part in total.groupby("level", sort=False):
        both = part[part["score_previous"].notna() & part["score_current"].notna()]
        rows.append(
            {
                "level": level,
                "units": len(part),
                "rose": int((both["direction"] == "up").sum()),
                "fell": int((both["direction"] == "down").sum()),
                "unchanged": int((both["direction"] == "unchanged").sum()),
                "new": int((part["unit_status"] == "new").sum()),
                "merged": int((part["unit_status"] == "merged").sum()),
                "rank_rose": int((both["rank_change"] > 0).sum()),
                "rank_fell": int((both["rank_change"] < 0).sum()),
                "mean_previous": part["score_previous"].mean(),
                "mean_current": part["score_current"].mean(),
                "best_previous": part["score_previous"].max(),
                "best_current": part["score_current"].max(),
                "worst_previous": part["score_previous"].min(),
                "worst_current": part["score_current"].min(),
                "comparable": bool(part["comparable"].all()),
            }
        )
    return pd.DataFrame(rows)


def _explain(changes: pd.DataFrame, index_id: str, top: int = 5) -> pd.DataFrame:
    """Per unit: the leaves whose points moved the total most, largest first, and a sentence."""
    leaves = changes[changes["is_leaf"] & changes["points_change"].notna()].copy()
    leaves["_size"] = leaves["points_change"].abs()
    leaves = leaves.sort_values(["unit_id", "_size"], ascending=[True, False], kind="stable")
    leaves["order"] = leaves.groupby("unit_id").cumcount() + 1
    leaves = leaves[leaves["order"] <= top]
    total = changes[changes["node_id"] == index_id].set_index("unit_id")["score_change"]
    phrases = pd.Series(
        [
            f"{v:+.2f} from {n}"
            for v, n in zip(leaves["points_change"], leaves["node_name"], strict=True)
        ],
        index=leaves.index,
        dtype=object,
    )
    texts = phrases.groupby(leaves["unit_id"]).agg(", ".join)
    out = leaves[
        [
            "unit_id",
            "unit_name",
            "order",
            "node_id",
            "node_name",
            "points_previous",
            "points_current",
            "points_change",
            "comparable",
        ]
    ].reset_index(drop=True)
    out["total_change"] = out["unit_id"].map(total)
    out["explanation"] = out["unit_id"].map(texts)
    return out
