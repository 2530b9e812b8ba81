"""Cross-field checks over the whole tree, on plain data so they also run on a file that
pydantic rejected (every problem is reported at once)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from ..errors import Issue, did_you_mean
from .index import spec_dict_nodes


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

    for i, area in enumerate(data.get("criteria") or []):
        if isinstance(area, dict) and area.get("id") in RESERVED_IDS:
            issues.append(
                Issue(
                    "reserved_id",
                    f"criteria[{i}].id",
                    f"a top-level id becomes a column of the ranking table, so it must not be one "
                    f"of {sorted(RESERVED_IDS)}. Got '{area['id']}' instead.",
                )
            )
    issues += _survey_issues(data, inputs)
    issues += _tier_issues(data.get("tiers"))
    return issues


def _table_issue(holder: Any, where: str, inputs: dict[str, Any]) -> list[Issue]:
    """A reference to an input table that the file does not declare."""
    table = holder.get("table") if isinstance(holder, dict) else None
    if not isinstance(table, str) or table in inputs:
        return []
    return [
        Issue(
            "unknown_table",
            where,
            f"table must be one of the inputs {sorted(inputs)}. Got '{table}' instead.",
            did_you_mean(table, inputs),
        )
    ]


RESERVED_IDS = frozenset(
    {
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
    }
)


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
