"""Cross-field checks over the whole tree, on plain data so they also run on a file that
pydantic rejected (every problem is reported at once)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from pydantic import ValidationError

from ..errors import Issue, did_you_mean
from .index import spec_dict_nodes
from .nodes import Node


def structural_issues(data: dict[str, Any]) -> list[Issue]:
    """Unique ids, known tables and levels, survey measures on survey tables, ordered tiers."""
    issues: list[Issue] = []
    inputs = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
    assert isinstance(inputs, dict)
    levels = data.get("levels") if isinstance(data.get("levels"), list) else None

    seen: dict[str, str] = {}
    if isinstance(data.get("id"), str):
        seen[data["id"]] = "id"
    for node, where in spec_dict_nodes(data):
        node_id = node.get("id")
        if isinstance(node_id, str):
            if node_id in seen:
                issues.append(
                    Issue(
                        "duplicate_id",
                        f"{where}.id",
                        f"id '{node_id}' must be unique. It is already used at {seen[node_id]}.",
                    )
                )
            else:
                seen[node_id] = f"{where}.id"
        for key in ("measure", "missing_when"):
            issues += _table_issue(node.get(key), f"{where}.{key}.table", inputs)
        measure = node.get("measure")
        if isinstance(measure, dict) and measure.get("table") in inputs:
            table = measure["table"]
            if measure.get("kind") == "survey" and _kind(inputs[table]) != "survey":
                issues.append(
                    Issue(
                        "not_a_survey",
                        f"{where}.measure.table",
                        f"a survey measure must read an input of kind 'survey'. "
                        f"Input '{table}' is of kind '{_kind(inputs[table])}'.",
                    )
                )
        if isinstance(measure, dict) and measure.get("kind") == "ratio":
            issues += _denominator_table_issues(measure, f"{where}.measure", inputs)
        applies = node.get("applies_to")
        if levels is not None and isinstance(applies, dict):
            for level in applies.get("levels") or []:
                if level not in levels:
                    issues.append(
                        Issue(
                            "unknown_level",
                            f"{where}.applies_to.levels",
                            f"level must be one of {levels}. Got '{level}' instead.",
                            did_you_mean(str(level), levels),
                        )
                    )

    units = data.get("units") if isinstance(data.get("units"), dict) else {}
    assert isinstance(units, dict)
    table = units.get("table")
    issues += _table_issue(units, "units.table", inputs)
    if table is None and len(inputs) > 1:
        issues.append(
            Issue(
                "units_table_required",
                "units.table",
                "units.table must name the input that lists the units when there are "
                f"several inputs {sorted(inputs)}.",
            )
        )
    score_levels = units.get("score_levels")
    if levels is not None and isinstance(score_levels, list):
        for level in score_levels:
            if level not in levels:
                issues.append(
                    Issue(
                        "unknown_level",
                        "units.score_levels",
                        f"level must be one of {levels}. Got '{level}' instead.",
                        did_you_mean(str(level), levels),
                    )
                )
    if units.get("level") is not None and units.get("level_column") is not None:
        issues.append(Issue("conflict", "units", "give either level or level_column, not both."))

    areas = data.get("criteria")
    area_ids = [
        a.get("id") for a in (areas if isinstance(areas, list) else []) if isinstance(a, dict)
    ]
    rank_columns = {area_rank_column(a) for a in area_ids if isinstance(a, str)}
    for i, area in enumerate(areas if isinstance(areas, list) else []):
        if isinstance(area, dict) and area.get("id") in RESERVED_IDS:
            issues.append(
                Issue(
                    "reserved_id",
                    f"criteria[{i}].id",
                    f"a top-level id becomes a column of the ranking table, so it must not be one "
                    f"of {sorted(RESERVED_IDS)}. Got '{area['id']}' instead.",
                )
            )
        elif isinstance(area, dict) and area.get("id") in rank_columns:
            issues.append(
                Issue(
                    "reserved_id",
                    f"criteria[{i}].id",
                    f"the ranking table holds each top-level area's rank as '<id>_rank', so "
                    f"'{area['id']}' would be both an area and another area's rank. Rename it.",
                )
            )
    issues += _survey_issues(data, inputs)
    issues += _tier_issues(data.get("tiers"))
    issues += _uncertainty_issues(data)
    return issues


def _table_issue(
    holder: Any, where: str, inputs: dict[str, Any], key: str = "table"
) -> list[Issue]:
    """A reference to an input table that the file does not declare (``holder[key]``)."""
    table = holder.get(key) if isinstance(holder, dict) else None
    if not isinstance(table, str) or table in inputs:
        return []
    return [
        Issue(
            "unknown_table",
            where,
            f"{key} must be one of the inputs {sorted(inputs)}. Got '{table}' instead.",
            did_you_mean(table, inputs),
        )
    ]


def _denominator_table_issues(
    measure: dict[str, Any], where: str, inputs: dict[str, Any]
) -> list[Issue]:
    """A ratio's ``denominator_table`` must be a declared input of kind ``table``."""
    key = "denominator_table"
    table = measure.get(key)
    if isinstance(table, str) and table in inputs and _kind(inputs[table]) == "survey":
        return [
            Issue(
                "not_a_table",
                f"{where}.{key}",
                f"{key} must name an input of kind 'table' that holds counts per unit. "
                f"Input '{table}' is of kind 'survey' (one row per respondent).",
            )
        ]
    return _table_issue(measure, f"{where}.{key}", inputs, key)


RANKING_COLUMNS = (
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
)
"""The ranking table's leading columns; a top-level node's id becomes a column after them, and
so does its rank (:func:`area_rank_column`)."""
RESERVED_IDS = frozenset(RANKING_COLUMNS)
AREA_RANK_SUFFIX = "_rank"


def area_rank_column(area_id: str) -> str:
    """The ranking table's column of a top-level area's rank within the level."""
    return f"{area_id}{AREA_RANK_SUFFIX}"


def _survey_issues(data: dict[str, Any], inputs: dict[str, Any]) -> list[Issue]:
    """A share threshold must lie on the answer scale of the survey it reads."""
    issues = []
    for node, where in spec_dict_nodes(data):
        measure = node.get("measure")
        if not isinstance(measure, dict) or measure.get("kind") != "survey":
            continue
        table = inputs.get(str(measure.get("table")))
        scale = table.get("scale") if isinstance(table, dict) else None
        threshold = measure.get("threshold")
        if (
            isinstance(scale, dict)
            and isinstance(threshold, int | float)
            and isinstance(scale.get("min"), int)
            and isinstance(scale.get("max"), int)
            and not scale["min"] <= threshold <= scale["max"]
        ):
            issues.append(
                Issue(
                    "threshold_off_scale",
                    f"{where}.measure.threshold",
                    f"threshold must lie on the answer scale {scale['min']}–{scale['max']}. "
                    f"Got {threshold} instead.",
                )
            )
    return issues


def _kind(table: Any) -> str:
    return str(table.get("kind")) if isinstance(table, dict) else "?"


def _tier_issues(tiers: Any) -> list[Issue]:
    if not isinstance(tiers, list):
        return []
    issues: list[Issue] = []
    edges: list[tuple[int, float, str]] = []
    for i, tier in enumerate(tiers):
        if not isinstance(tier, dict):
            continue
        given = [k for k in ("at_least", "above") if tier.get(k) is not None]
        if len(given) > 1:
            issues.append(
                Issue("tier_edges", f"tiers[{i}]", "a tier takes at_least or above, not both.")
            )
        if not given and i != len(tiers) - 1:
            issues.append(
                Issue(
                    "tier_order",
                    f"tiers[{i}]",
                    "only the last tier may have no at_least/above (it takes the rest).",
                )
            )
        if given and isinstance(tier[given[0]], int | float):
            edges.append((i, float(tier[given[0]]), given[0]))
    for (i0, v0, k0), (i1, v1, k1) in pairwise(edges):
        if not (v1 < v0 or (v1 == v0 and k0 == "above" and k1 == "at_least")):
            issues.append(
                Issue(
                    "tier_order",
                    f"tiers[{i1}]",
                    f"tiers must run from the best down (decreasing thresholds). "
                    f"Got {v0} at tiers[{i0}] then {v1} instead.",
                )
            )
    names = [t.get("name") for t in tiers if isinstance(t, dict)]
    if len(set(names)) != len(names):
        issues.append(Issue("duplicate_tier", "tiers", f"tier names must be unique. Got {names}."))
    return issues


def _uncertainty_issues(data: dict[str, Any]) -> list[Issue]:
    """``uncertainty.weights`` and ``.alternatives`` must name nodes of the tree, a rule
    alternative an indicator (and be valid for it), an aggregation alternative a node with
    children (or the index) that can be scored that way."""
    block = data.get("uncertainty")
    if not isinstance(block, dict):
        return []
    root = data["id"] if isinstance(data.get("id"), str) else None
    nodes: dict[str, dict[str, Any]] = {}
    for node, _ in spec_dict_nodes(data):
        if isinstance(node.get("id"), str):
            nodes.setdefault(node["id"], node)
    issues: list[Issue] = []
    seen: set[str] = set()
    weights = block.get("weights")
    for i, item in enumerate(weights if isinstance(weights, list) else []):
        node_id = item.get("node") if isinstance(item, dict) else None
        if not isinstance(node_id, str):
            continue
        where = f"uncertainty.weights[{i}].node"
        if node_id == root:
            issues.append(
                Issue(
                    "root_weight",
                    where,
                    "the index itself has no weight to vary. Name one of its areas or indicators.",
                )
            )
        elif node_id not in nodes:
            issues.append(_unknown_node(where, node_id, list(nodes)))
        elif node_id in seen:
            issues.append(
                Issue(
                    "duplicate_weight",
                    where,
                    f"node '{node_id}' must be listed once under weights. It is listed again.",
                )
            )
        seen.add(node_id)
    alternatives = block.get("alternatives")
    for i, item in enumerate(alternatives if isinstance(alternatives, list) else []):
        node_id = item.get("node") if isinstance(item, dict) else None
        if not isinstance(node_id, str):
            continue
        assert isinstance(item, dict)
        where = f"uncertainty.alternatives[{i}]"
        if node_id != root and node_id not in nodes:
            known = [*nodes, *([root] if root else [])]
            issues.append(_unknown_node(f"{where}.node", node_id, known))
            continue
        node = _root_node(data) if node_id == root else nodes[node_id]
        if "rule" in item:
            issues += _rule_alternative_issues(node, item["rule"], f"{where}.rule")
        elif "aggregation" in item:
            issues += _aggregation_alternative_issues(node, item["aggregation"], where)
    return issues


def _unknown_node(where: str, node_id: str, known: list[str]) -> Issue:
    return Issue(
        "unknown_node",
        where,
        f"node must be the id of a node of the criteria tree. Got '{node_id}' instead.",
        did_you_mean(node_id, known),
    )


def _root_node(data: dict[str, Any]) -> dict[str, Any]:
    """The index as a node mapping (its id, name, max, aggregation and top-level areas)."""
    node: dict[str, Any] = {"id": data.get("id"), "name": data.get("name") or "index"}
    for key in ("max", "aggregation", "zero_floor"):
        if data.get(key) is not None:
            node[key] = data[key]
    node["children"] = data.get("criteria")
    return node


def _typed(node: dict[str, Any]) -> Node | None:
    try:
        return Node.model_validate(node)
    except ValidationError:
        return None  # the node's own problems are reported where it stands


def _rule_alternative_issues(node: dict[str, Any], rule: Any, where: str) -> list[Issue]:
    if node.get("children") is not None:
        return [
            Issue(
                "rule_on_inner_node",
                where,
                f"a rule alternative belongs on an indicator (a node with a measure). "
                f"'{node.get('id')}' has children: give it an aggregation alternative instead.",
            )
        ]
    declared = _typed(node)
    if declared is None or not isinstance(rule, dict):
        return []
    try:
        alternative = Node.model_validate({**node, "rule": rule})
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        return [
            Issue(
                "invalid_alternative",
                where,
                f"the alternative rule must be valid for '{declared.id}'. {problems}.",
            )
        ]
    if alternative.effective_rule == declared.effective_rule:
        return [
            Issue(
                "same_as_declared",
                where,
                f"the alternative must differ from the rule '{declared.id}' already has.",
            )
        ]
    return []


def _aggregation_alternative_issues(
    node: dict[str, Any], aggregation: Any, where: str
) -> list[Issue]:
    if node.get("children") is None:
        return [
            Issue(
                "aggregation_on_leaf",
                f"{where}.aggregation",
                f"an aggregation alternative belongs on a node with children. "
                f"'{node.get('id')}' is an indicator: give it a rule alternative instead.",
            )
        ]
    declared = _typed(node)
    if declared is None or not isinstance(aggregation, str):
        return []
    where = f"{where}.aggregation"
    current = declared.effective_aggregation
    if aggregation == current:
        return [
            Issue(
                "same_as_declared",
                where,
                f"the alternative must differ from the aggregation '{declared.id}' already has "
                f"({current}).",
            )
        ]
    if aggregation != "sum" and declared.declared_max() is None:
        return [
            Issue(
                "alternative_needs_max",
                where,
                f"aggregation '{aggregation}' needs a scale: give '{declared.id}' a max.",
            )
        ]
    if aggregation in ("sum", "share_of_max") and current not in ("sum", "share_of_max"):
        return [
            Issue(
                "alternative_ignores_weights",
                where,
                f"the children's weights have no effect under '{aggregation}'. Alternatives to "
                f"a {current} node are weighted_mean or geometric_mean.",
            )
        ]
    if aggregation == "sum" and declared.max is not None:
        parts = [c.declared_max() for c in declared.children or []]
        total = sum(p for p in parts if p is not None)
        if None in parts or abs(total - float(declared.max)) > 1e-6:
            return [
                Issue(
                    "alternative_changes_scale",
                    where,
                    f"a sum of the children's maxima ({total:g}) must equal the max of "
                    f"'{declared.id}' ({declared.max:g}), or the alternative changes its scale.",
                )
            ]
    return []
