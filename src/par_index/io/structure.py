"""Turn a structure table (one row per indicator) into a criteria file.

Analysts keep long trees in spreadsheets: indicator id, name, its parents (pillar, sub-index…),
weight, direction, goalposts. This builds the equivalent criteria data, validates it like any
criteria file, and leaves the rest (inputs, units, missing-data policy) for the analyst to check.

Recognised columns (case-insensitive, first match wins):

- id: ``id``, ``code``, ``icode``, ``indicator_id``
- name: ``name``, ``label``, ``indicator``, ``iname``
- weight: ``weight``
- max: ``max``
- direction: ``direction`` (1 / -1, or higher_is_better / lower_is_better)
- goalposts: ``value_at_0`` and ``value_at_100``, or ``worst`` and ``best``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import Issue, SpecError, did_you_mean
from .readers import file_format, read_raw_table

ALIASES = {
    "id": ("id", "code", "icode", "indicator_id"),
    "name": ("name", "label", "indicator", "iname"),
    "weight": ("weight",),
    "max": ("max",),
    "direction": ("direction",),
    "worst": ("value_at_0", "worst"),
    "best": ("value_at_100", "best"),
}


@dataclass(frozen=True)
class ImportOptions:
    """What the table does not say: how the tree scores and where the data are."""

    parents: list[str]
    """Parent columns from the indicator's parent up to the root (e.g. pillar, sub_index)."""
    index_id: str
    index_name: str
    rule: str | None = None
    """linear (needs goalposts), minmax or identity; default linear when goalposts exist."""
    scale: float = 100.0
    aggregation: str = "weighted_mean"
    table: str = "data"
    unit_column: str = "unit_id"
    name_column: str | None = None
    leaf_missing: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _find(columns: list[str], key: str) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for alias in ALIASES[key]:
        if alias in lowered:
            return lowered[alias]
    return None


def _node_id(column: str, value: Any) -> str:
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if re.fullmatch(r"\d+(\.\d+)?", text):  # a bare number (goal 1) → goal1
        return f"{column}{text}"
    return text


def _number(value: Any, where: str = "") -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(
            "cannot import the structure table",
            [Issue("not_a_number", where, f"the value must be a number. Got {value!r} instead.")],
        ) from None


def structure_to_data(table: pd.DataFrame, options: ImportOptions, source: str) -> dict[str, Any]:
    """Criteria data (a dict, as from YAML) from a structure table."""
    columns = [str(c) for c in table.columns if not str(c).startswith("__")]
    issues: list[Issue] = []
    id_column = _find(columns, "id")
    if id_column is None:
        issues.append(
            Issue(
                "missing_column",
                source,
                f"a structure table needs an id column "
                f"({', '.join(ALIASES['id'])}). Columns present: {columns}.",
            )
        )
    for parent in options.parents:
        if parent not in columns:
            issues.append(
                Issue(
                    "missing_column",
                    source,
                    f"parent column '{parent}' is not in the table. Columns present: {columns}.",
                    did_you_mean(parent, columns),
                )
            )
    if issues:
        raise SpecError(f"{source}: cannot import the structure table", issues)
    assert id_column is not None
    found = {key: _find(columns, key) for key in ALIASES}
    rule_kind = options.rule or ("linear" if found["worst"] and found["best"] else "minmax")

    roots: list[dict[str, Any]] = []
    index: dict[tuple[str, ...], dict[str, Any]] = {}
    for raw_row in table.to_dict(orient="records"):
        row = {str(k): v for k, v in raw_row.items()}
        chain = [(p, row[p]) for p in reversed(options.parents)]
        # a top column holding one value for every row is the index itself, not a node
        chain = [
            (p, v)
            for p, v in chain
            if table[p].nunique(dropna=False) > 1 or p != options.parents[-1]
        ]
        children = roots
        path: tuple[str, ...] = ()
        for column, value in chain:
            node_id = _node_id(column, value)
            path = (*path, node_id)
            if path not in index:
                node = {
                    "id": node_id,
                    "name": str(value),
                    **({} if options.aggregation == "sum" else {"max": options.scale}),
                    "aggregation": options.aggregation,
                    "children": [],
                }
                index[path] = node
                children.append(node)
            children = index[path]["children"]
        children.append(_leaf(row, id_column, found, rule_kind, options))
    return {
        "id": options.index_id,
        "name": options.index_name,
        **({} if options.aggregation == "sum" else {"max": options.scale}),
        "aggregation": options.aggregation,
        **options.extra,
        "inputs": {options.table: {"kind": "table", "unit_column": options.unit_column}},
        "units": {k: v for k, v in {"name_column": options.name_column}.items() if v},
        "criteria": roots,
    }


def _leaf(
    row: dict[str, Any],
    id_column: str,
    found: dict[str, str | None],
    rule_kind: str,
    options: ImportOptions,
) -> dict[str, Any]:
    leaf_id = str(row[id_column]).strip()
    name_column = found["name"]
    leaf: dict[str, Any] = {
        "id": leaf_id,
        "name": str(row[name_column]) if name_column and row[name_column] is not None else leaf_id,
    }
    maximum = (
        _number(row[found["max"]], f"{leaf_id}: column {found['max']}") if found["max"] else None
    )
    leaf["max"] = maximum if maximum is not None else options.scale
    weight = (
        _number(row[found["weight"]], f"{leaf_id}: column {found['weight']}")
        if found["weight"]
        else None
    )
    if weight is not None and options.aggregation in ("weighted_mean", "geometric_mean"):
        leaf["weight"] = weight
    if options.leaf_missing:
        leaf["missing"] = options.leaf_missing
    leaf["measure"] = {"kind": "column", "table": options.table, "column": leaf_id}
    direction = str(row[found["direction"]]).strip().lower() if found["direction"] else "1"
    lower = direction in ("-1", "-1.0", "lower_is_better", "lower", "negative")
    worst = (
        _number(row[found["worst"]], f"{leaf_id}: column {found['worst']}")
        if found["worst"]
        else None
    )
    best = (
        _number(row[found["best"]], f"{leaf_id}: column {found['best']}") if found["best"] else None
    )
    if rule_kind == "linear" and worst is not None and best is not None:
        leaf["rule"] = {"kind": "linear", "worst": worst, "best": best}
    elif rule_kind == "minmax":
        leaf["rule"] = {
            "kind": "minmax",
            "range": [0.0, leaf["max"]],
            "across": "all",
            **({"direction": "lower_is_better"} if lower else {}),
        }
    else:  # identity, or linear without goalposts on this row: the value is already a score
        leaf["rule"] = {"kind": "identity"}
    return leaf


def import_structure(path: str | Path, options: ImportOptions) -> dict[str, Any]:
    """Read a structure table (.csv, .xlsx, .parquet) and build criteria data from it."""
    file = Path(path)
    file_format(file)
    probe, _ = read_raw_table(file, file.stem, "id", header_row=1, text_columns=())
    try:
        return structure_to_data(probe, options, str(file))
    except SpecError as exc:
        if exc.summary.startswith(str(file)):
            raise
        raise SpecError(f"{file}: {exc.summary}", exc.issues) from None
