"""Results → plain, render-ready dicts for the HTML and Excel report (no IO, no formatting of
numbers: values stay floats, ``None`` when missing; templates and the workbook format them).

Everything the two outputs show is decided here — ordering, labels in the report's language,
which units are the top, bottom and biggest movers, each unit's profile — so the HTML and the
workbook say the same thing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..io.writers import run_pairs
from ..results import Comparison, Results, Uncertainty, WeakReport
from ..spec.index import IndexSpec
from ..spec.measures import (
    AppraisalMeasure,
    ColumnMeasure,
    RatioMeasure,
    SurveyMeasure,
    YesNoMeasure,
)
from ..spec.nodes import Node
from ..spec.rules import (
    BandsRule,
    CountRule,
    DeductionRule,
    IdentityRule,
    LinearRule,
    MinMaxRule,
    RelativeToBestRule,
    TargetRule,
    YesNoRule,
)
from . import i18n

TOP_N = 5
MOVERS_N = 5
LOSSES_N = 8
WEAK_SHOWN = 10
WEAK_PRINTED = 4  # so that a unit's profile fits one printed page
TIER_PALETTES = {
    1: ["#1a7f4b"],
    2: ["#1a7f4b", "#c0392b"],
    3: ["#1a7f4b", "#e9a23b", "#c0392b"],
    4: ["#1a7f4b", "#7cb342", "#e9a23b", "#c0392b"],
    5: ["#1a7f4b", "#7cb342", "#e9c23b", "#e8743b", "#c0392b"],
    6: ["#1a7f4b", "#7cb342", "#e9c23b", "#e9a23b", "#e8743b", "#c0392b"],
}
NO_TIER_COLOR = "#9aa5b1"
Row = dict[str, Any]


def value(x: Any) -> float | None:
    """A float, or None for NaN / NA / None."""
    if x is None or x is pd.NA:
        return None
    try:
        number = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def integer(x: Any) -> int | None:
    number = value(x)
    return None if number is None else int(number)


def text(x: Any) -> str | None:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return None
    return str(x)


def node_name(node: Node | IndexSpec, lang: str) -> str:
    if lang == "en" and node.name_en:
        return node.name_en
    return node.name


def tier_colors(count: int) -> list[str]:
    """Green for the best tier to red for the worst, spread over the palette."""
    if count in TIER_PALETTES:
        return TIER_PALETTES[count]
    last = TIER_PALETTES[6]
    return [last[round(i * 5 / (count - 1))] for i in range(count)] if count else []


def plain(number: float, lang: str) -> str:
    """A number from the criteria file as written (``0.8``, ``100``), decimal comma in vi."""
    out = f"{number:g}"
    return out.replace(".", ",") if lang == "vi" else out


def slug(unit_id: str, taken: set[str]) -> str:
    """An anchor id for a unit that is valid whatever the unit id contains."""
    base = "u-" + re.sub(r"[^A-Za-z0-9_-]", "-", unit_id)
    out, i = base, 1
    while out in taken:
        i += 1
        out = f"{base}-{i}"
    taken.add(out)
    return out


# --- method text ---------------------------------------------------------------------------

_EDGE = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<"}
_RULE_WORDS = {
    "vi": {
        "points": "điểm",
        "otherwise": "còn lại",
        "identity": "điểm nhập (thẩm định) giữ nguyên, trong khoảng {low}–{high}",
        "linear": "tuyến tính: giá trị {worst} được 0 điểm, {best} được {max} điểm",
        "log": " (thang logarit)",
        "minmax": "chuẩn hóa min–max trong {across}{bounds}, {direction}",
        "relative_to_best": "so với đơn vị tốt nhất trong {across}: giá trị / giá trị tốt nhất × "
        "{max}, {direction}",
        "target": "đạt mục tiêu {edge} {target}: {max} điểm; chưa đạt: {otherwise}",
        "proportional": "tỷ lệ thuận với mức đạt",
        "count": "{per_item} điểm cho mỗi mục, tối đa {cap} điểm",
        "deduction": "{start} điểm, trừ {per_item} điểm cho mỗi trường hợp, tối thiểu {floor} điểm",
        "yes_no": "Có: {yes} điểm; Không: {no} điểm",
        "level": "cấp",
        "all": "tất cả đơn vị",
        "higher": "cao hơn là tốt hơn",
        "lower": "thấp hơn là tốt hơn",
        "bounds": " (cố định {low}–{high})",
        "column": "cột {column} (bảng {table})",
        "reduce": ", {how} các dòng",
        "sum": "cộng",
        "mean": "bình quân",
        "ratio": "tỷ lệ {num} / {den} (bảng {table})",
        "ratio_two_tables": "tỷ lệ {num} / {den} (bảng {table} / {other})",
        "survey": "khảo sát: {stat} câu {questions}",
        "share_at_least": "tỷ lệ trả lời từ {t} trở lên,",
        "share_at_most": "tỷ lệ trả lời từ {t} trở xuống,",
        "survey_mean": "điểm bình quân",
        "appraisal": "điểm thẩm định (cột {column}, bảng {table})",
        "yes_no_measure": "có/không (cột {column}, bảng {table})",
        "levels": "cấp {v}",
        "groups": "nhóm {v}",
        "units": "đơn vị {v}",
        "except_units": "trừ đơn vị {v}",
    },
    "en": {
        "points": "points",
        "otherwise": "otherwise",
        "identity": "points as entered (appraised), within {low}–{high}",
        "linear": "linear: a value of {worst} scores 0, {best} scores {max}",
        "log": " (log scale)",
        "minmax": "min–max across {across}{bounds}, {direction}",
        "relative_to_best": "relative to the best unit across {across}: value / best × {max}, "
        "{direction}",
        "target": "target {edge} {target} met: {max} points; otherwise {otherwise}",
        "proportional": "proportional to the achievement",
        "count": "{per_item} points per item, at most {cap}",
        "deduction": "{start} points less {per_item} per case, at least {floor}",
        "yes_no": "yes: {yes} points; no: {no} points",
        "level": "the level",
        "all": "all units",
        "higher": "higher is better",
        "lower": "lower is better",
        "bounds": " (fixed {low}–{high})",
        "column": "column {column} (table {table})",
        "reduce": ", {how} of the rows",
        "sum": "sum",
        "mean": "mean",
        "ratio": "ratio {num} / {den} (table {table})",
        "ratio_two_tables": "ratio {num} / {den} (tables {table} / {other})",
        "survey": "survey: {stat} questions {questions}",
        "share_at_least": "share answering {t} or more,",
        "share_at_most": "share answering {t} or less,",
        "survey_mean": "mean answer,",
        "appraisal": "appraised points (column {column}, table {table})",
        "yes_no_measure": "yes/no (column {column}, table {table})",
        "levels": "levels {v}",
        "groups": "groups {v}",
        "units": "units {v}",
        "except_units": "except units {v}",
    },
}


def rule_text(node: Node, lang: str) -> str | None:
    """A leaf's scoring rule as one readable sentence."""
    if not node.is_leaf:
        return None
    w = _RULE_WORDS[lang]
    rule = node.effective_rule
    top = float(node.max) if node.max is not None else float("nan")

    def p(x: float) -> str:
        return plain(float(x), lang)

    direction = w["lower"] if getattr(rule, "direction", "") == "lower_is_better" else w["higher"]
    if isinstance(rule, IdentityRule):
        low, high = rule.range if rule.range is not None else (0.0, top)
        return w["identity"].format(low=p(low), high=p(high))
    if isinstance(rule, LinearRule):
        out = w["linear"].format(worst=p(rule.worst), best=p(rule.best), max=p(top))
        return out + (w["log"] if rule.log else "")
    if isinstance(rule, BandsRule):
        parts = []
        for band in rule.bands:
            edge, at = band.edge
            parts.append(f"{_EDGE[edge]} {p(at)}: {p(band.points)} {w['points']}")
        parts.append(f"{w['otherwise']}: {p(rule.otherwise)} {w['points']}")
        return "; ".join(parts)
    if isinstance(rule, MinMaxRule):
        bounds = (
            w["bounds"].format(low=p(rule.bounds[0]), high=p(rule.bounds[1]))
            if rule.bounds is not None
            else ""
        )
        return w["minmax"].format(across=w[rule.across], bounds=bounds, direction=direction)
    if isinstance(rule, RelativeToBestRule):
        return w["relative_to_best"].format(across=w[rule.across], max=p(top), direction=direction)
    if isinstance(rule, TargetRule):
        lower = rule.direction == "lower_is_better"
        otherwise = (
            w["proportional"]
            if rule.otherwise == "proportional"
            else f"{p(rule.otherwise)} {w['points']}"
        )
        return w["target"].format(
            edge="≤" if lower else "≥", target=p(rule.target), max=p(top), otherwise=otherwise
        )
    if isinstance(rule, CountRule):
        cap = rule.cap if rule.cap is not None else top
        return w["count"].format(per_item=p(rule.per_item), cap=p(cap))
    if isinstance(rule, DeductionRule):
        start = rule.start if rule.start is not None else top
        return w["deduction"].format(start=p(start), per_item=p(rule.per_item), floor=p(rule.floor))
    if isinstance(rule, YesNoRule):
        yes = rule.yes_points if rule.yes_points is not None else top
        return w["yes_no"].format(yes=p(yes), no=p(rule.no_points))
    return str(getattr(rule, "kind", rule))


def measure_text(node: Node, lang: str) -> str | None:
    measure = node.measure
    if measure is None:
        return None
    w = _RULE_WORDS[lang]
    if isinstance(measure, ColumnMeasure):
        out = w["column"].format(column=measure.column, table=measure.table)
        if measure.reduce != "one":
            out += w["reduce"].format(how=w[measure.reduce])
        return out
    if isinstance(measure, RatioMeasure):

        def join(cols: list[str]) -> str:
            return cols[0] if len(cols) == 1 else "(" + " + ".join(cols) + ")"

        num, den = join(measure.numerator), join(measure.denominator)
        if measure.denominator_table is None:
            out = w["ratio"].format(num=num, den=den, table=measure.table)
        else:
            out = w["ratio_two_tables"].format(
                num=num, den=den, table=measure.table, other=measure.denominator_table
            )
        if measure.per is not None:
            per = float(measure.per)
            out += " × " + (i18n.fmt_number(per, lang, 0) if per.is_integer() else plain(per, lang))
        return out
    if isinstance(measure, SurveyMeasure):
        if measure.statistic == "mean":
            stat = w["survey_mean"]
        else:
            stat = w[measure.statistic].format(t=plain(float(measure.threshold or 0), lang))
        return w["survey"].format(stat=stat, questions=", ".join(measure.questions))
    if isinstance(measure, AppraisalMeasure):
        return w["appraisal"].format(column=measure.appraised, table=measure.table)
    if isinstance(measure, YesNoMeasure):
        return w["yes_no_measure"].format(column=measure.column, table=measure.table)
    return str(getattr(measure, "kind", measure))


def applies_text(node: Node, lang: str) -> str | None:
    where = node.applies_to
    if where is None:
        return None
    w = _RULE_WORDS[lang]
    parts = []
    for key in ("levels", "groups", "units", "except_units"):
        items = getattr(where, key)
        if items:
            shown = [i18n.level_label(i, lang) if key == "levels" else i for i in items]
            parts.append(w[key].format(v=", ".join(shown)))
    return "; ".join(parts) or None


def method(spec: IndexSpec, lang: str) -> Row:
    """The criteria tree as readable rows, and the index-wide rules."""
    t = i18n.strings(lang)
    top = spec.as_root().declared_max()
    rows = []
    for node, depth, parent in spec.iter_nodes():
        aggregation = None
        if not node.is_leaf:
            aggregation = i18n.AGGREGATIONS[lang][node.effective_aggregation].format(
                max=plain(node.declared_max() or 100, lang)
            )
        rows.append(
            {
                "id": node.id,
                "name": node_name(node, lang),
                "depth": depth,
                "parent": parent,
                "is_leaf": node.is_leaf,
                "max": node.declared_max(),
                "weight": value(node.weight),
                "aggregation": aggregation,
                "measure": measure_text(node, lang),
                "rule": rule_text(node, lang),
                "official_text": node.official_text,
                "applies_to": applies_text(node, lang),
                "missing": i18n.MISSING[lang][node.missing] if node.missing else None,
            }
        )
    tiers = []
    for tier in tier_list(spec, lang):
        tiers.append(f"{tier['name']}: {tier['rule']}")
    ranking_text = t["ranking_rule_text"]
    if spec.ranking.round_to is not None:
        ranking_text += t["ranking_round"].format(n=spec.ranking.round_to)
    return {
        "name": node_name(spec, lang),
        "legal_basis": spec.legal_basis,
        "description": spec.description,
        "max": top,
        "aggregation": i18n.AGGREGATIONS[lang][spec.aggregation].format(
            max=plain(top or 100, lang)
        ),
        "missing": i18n.MISSING[lang][spec.missing],
        "ranking": ranking_text,
        "tiers": tiers,
        "rows": rows,
    }


def tier_list(spec: IndexSpec, lang: str) -> list[Row]:
    tiers = list(spec.tiers or [])
    colors = tier_colors(len(tiers))
    out = []
    for i, tier in enumerate(tiers):
        if tier.at_least is not None:
            rule = f"≥ {plain(tier.at_least, lang)}"
        elif tier.above is not None:
            rule = f"> {plain(tier.above, lang)}"
        else:
            rule = _RULE_WORDS[lang]["otherwise"]
        out.append(
            {
                "key": tier.name,
                "name": tier.name_en if lang == "en" and tier.name_en else tier.name,
                "color": colors[i],
                "index": i,
                "rule": rule,
                "at_least": value(tier.at_least if tier.at_least is not None else tier.above),
            }
        )
    return out


# --- the report context ----------------------------------------------------------------------


def build_context(
    results: Results,
    comparison: Comparison | None = None,
    weak: WeakReport | None = None,
    lang: str = "vi",
    uncertainty: Uncertainty | None = None,
) -> Row:
    """Everything the report shows, as plain dicts, lists, strings and floats."""
    from . import intervals

    t = i18n.strings(lang)
    spec = results.spec
    if uncertainty is not None:
        intervals.check_matches(results, uncertainty)
    shown = uncertainty is not None and intervals.varies(uncertainty)
    unit_intervals = (
        intervals.unit_intervals(uncertainty, lang) if uncertainty is not None and shown else {}
    )
    names = {node.id: node_name(node, lang) for node, _, _ in spec.iter_nodes()}
    names[spec.id] = node_name(spec, lang)
    area_of: dict[str, str] = {}
    for node, depth, parent in spec.iter_nodes():
        area_of[node.id] = node.id if depth == 1 else area_of[parent or ""]
    areas = [
        {"id": node.id, "name": node_name(node, lang), "max": node.declared_max()}
        for node in spec.criteria
    ]
    area_ids = [str(node.id) for node in spec.criteria]
    tiers = tier_list(spec, lang)
    tier_by_key = {tier["key"]: tier for tier in tiers}

    detail = results.detail
    totals_changes = _total_changes(comparison, spec.id)
    area_changes = _area_changes(comparison, area_ids)
    node_comparable = _node_comparable(comparison)
    previous_year = _previous_year(comparison)
    previous_names = (
        dict(
            zip(
                comparison.previous.ranking["unit_id"].astype(str),
                comparison.previous.ranking["unit_name"].astype(str),
                strict=True,
            )
        )
        if comparison is not None
        else {}
    )
    weak_rows = _by_unit(weak.weak) if weak is not None else {}
    strong_rows = _by_unit(weak.strong) if weak is not None else {}
    drivers = _by_unit(comparison.explain) if comparison is not None else {}
    area_detail = detail[detail["node_id"].isin(area_ids)]
    area_cells = {(r.unit_id, r.node_id): r for r in area_detail.itertuples(index=False)}

    taken: set[str] = set()
    levels = []
    profiles = []
    for level in results.levels:
        frame = results.level(level)
        n = len(frame)
        rows = []
        for rec in frame.to_dict(orient="records"):
            unit_id = str(rec["unit_id"])
            tier_key = text(rec.get("tier"))
            tier = tier_by_key.get(tier_key or "")
            change = totals_changes.get(unit_id, {})
            row: Row = {
                "unit_id": unit_id,
                "unit_name": str(rec["unit_name"]),
                "group": text(rec.get("group")),
                "rank": integer(rec["rank"]),
                "rank_in_group": integer(rec.get("rank_in_group")),
                "score": value(rec["score"]),
                "maximum": value(rec["maximum"]),
                "share": value(rec["share"]),
                "tier": tier["name"] if tier else tier_key,
                "tier_index": tier["index"] if tier else None,
                "tier_color": tier["color"] if tier else NO_TIER_COLOR,
                "score_previous": change.get("score_previous"),
                "rank_previous": change.get("rank_previous"),
                "score_change": change.get("score_change"),
                "rank_change": change.get("rank_change"),
                "share_comparable_change": change.get("share_comparable_change"),
                "status": change.get("unit_status"),
                "derived_from": change.get("derived_from"),
                "derived_from_names": [
                    previous_names.get(part, part)
                    for part in (change.get("derived_from") or "").split("+")
                    if part
                ],
                "anchor": slug(unit_id, taken),
                "interval": unit_intervals.get(unit_id),
                "areas": [],
            }
            for area in area_ids:
                cell: Any = area_cells.get((unit_id, area))
                applicable = cell is not None and cell.status != "not_applicable"
                row["areas"].append(
                    {
                        "id": area,
                        "score": value(cell.score) if applicable else None,
                        "maximum": value(cell.maximum) if applicable else None,
                        "share": value(cell.share) if applicable else None,
                        "rank": integer(cell.rank) if applicable else None,
                        "change": area_changes.get((unit_id, area)),
                        "applicable": applicable,
                    }
                )
            rows.append(row)
        intervals.mark_moves(rows)
        level_ctx = _level(level, rows, area_ids, areas, tiers, comparison, lang, n)
        level_ctx["intervals"] = intervals.level_summary(rows) if shown else None
        levels.append(level_ctx)
        for row in rows:
            profiles.append(
                _profile(
                    row,
                    level_ctx,
                    names,
                    area_of,
                    weak_rows.get(row["unit_id"], []),
                    strong_rows.get(row["unit_id"], []),
                    drivers.get(row["unit_id"], []),
                    node_comparable,
                )
            )

    return {
        "lang": lang,
        "t": t,
        "area_sheets": _area_sheets(spec, detail, levels, lang),
        "index": {
            "id": spec.id,
            "name": node_name(spec, lang),
            "year": spec.year,
            "max": spec.as_root().declared_max(),
            "legal_basis": spec.legal_basis,
        },
        "previous": (
            {
                "id": comparison.previous.spec.id,
                "name": node_name(comparison.previous.spec, lang),
                "year": previous_year,
            }
            if comparison is not None
            else None
        ),
        "areas": areas,
        "tiers": tiers,
        "levels": levels,
        "profiles": profiles,
        "units_total": len(results.ranking),
        "comparison": _comparison_notes(comparison, names, lang) if comparison else None,
        "weak_given": weak is not None,
        "weak_shown": WEAK_SHOWN,
        "weak_printed": WEAK_PRINTED,
        "losses": _losses(weak, names, area_of) if weak is not None else {},
        "weak_cut": _cut_text(weak.cut if weak is not None else {}, lang),
        "method": method(spec, lang),
        "uncertainty": intervals.method(uncertainty, levels, lang) if uncertainty else None,
        "run": run_pairs(results.run),
        "run_previous": run_pairs(comparison.previous.run) if comparison is not None else [],
        "computed": text(results.run.get("time_utc")),
        "version": text(results.run.get("version")),
        "criteria_digest": text(results.run.get("criteria_digest")),
    }


def _area_sheets(spec: IndexSpec, detail: pd.DataFrame, levels: list[Row], lang: str) -> list[Row]:
    """Per top-level area: its criteria (depth first) and, per level, each unit's area result
    and the score of every criterion below it (None where it does not apply)."""
    cells = {
        (str(u), str(n)): (value(score), str(status))
        for u, n, score, status in zip(
            detail["unit_id"], detail["node_id"], detail["score"], detail["status"], strict=True
        )
    }
    sheets = []

    def walk(nodes: list[Node], depth: int, columns: list[Row]) -> None:
        for node in nodes:
            columns.append(
                {
                    "id": node.id,
                    "name": node_name(node, lang),
                    "depth": depth,
                    "max": node.declared_max(),
                    "is_leaf": node.is_leaf,
                }
            )
            if node.children:
                walk(node.children, depth + 1, columns)

    for index, area in enumerate(spec.criteria):
        columns: list[Row] = []
        walk(list(area.children or []), 1, columns)
        per_level = []
        for level in levels:
            rows = []
            for row in level["rows"]:
                cell = row["areas"][index]
                rows.append(
                    {
                        "rank": row["rank"],
                        "unit_id": row["unit_id"],
                        "unit_name": row["unit_name"],
                        "group": row["group"],
                        "score": cell["score"],
                        "maximum": cell["maximum"],
                        "share": cell["share"],
                        "area_rank": cell["rank"],
                        "applicable": cell["applicable"],
                        "cells": [_cell(cells.get((row["unit_id"], c["id"]))) for c in columns],
                    }
                )
            rows.sort(key=lambda r: (r["area_rank"] is None, r["area_rank"] or 0, r["rank"] or 0))
            per_level.append({"id": level["id"], "label": level["label"], "rows": rows})
        sheets.append(
            {
                "id": area.id,
                "number": index + 1,
                "name": node_name(area, lang),
                "max": area.declared_max(),
                "columns": columns,
                "levels": per_level,
            }
        )
    return sheets


def _cell(item: tuple[float | None, str] | None) -> float | None:
    if item is None or item[1] == "not_applicable":
        return None
    return item[0]


def _previous_year(comparison: Comparison | None) -> int | str | None:
    if comparison is None:
        return None
    spec = comparison.previous.spec
    return spec.year if spec.year is not None else spec.id


def _total_changes(comparison: Comparison | None, index_id: str) -> dict[str, Row]:
    if comparison is None:
        return {}
    table = comparison.changes[comparison.changes["node_id"] == index_id]
    out = {}
    for rec in table.to_dict(orient="records"):
        out[str(rec["unit_id"])] = {
            "score_previous": value(rec["score_previous"]),
            "rank_previous": integer(rec["rank_previous"]),
            "score_change": value(rec["score_change"]),
            "rank_change": integer(rec["rank_change"]),
            "share_comparable_change": value(rec["share_comparable_change"]),
            "unit_status": text(rec["unit_status"]),
            "derived_from": text(rec["derived_from"]),
        }
    return out


def _area_changes(comparison: Comparison | None, area_ids: list[str]) -> dict[tuple[str, str], Row]:
    if comparison is None:
        return {}
    table = comparison.changes[comparison.changes["node_id"].isin(area_ids)]
    return {
        (str(r.unit_id), str(r.node_id)): {
            "score_previous": value(r.score_previous),
            "score_change": value(r.score_change),
            "share_change": value(r.share_change),
            "comparable": bool(r.comparable),
        }
        for r in table.itertuples(index=False)
    }


def _node_comparable(comparison: Comparison | None) -> dict[str, bool]:
    if comparison is None:
        return {}
    return dict(zip(comparison.nodes["node_id"], comparison.nodes["comparable"], strict=True))


def _by_unit(frame: pd.DataFrame) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for rec in frame.to_dict(orient="records"):
        out.setdefault(str(rec["unit_id"]), []).append({str(k): v for k, v in rec.items()})
    return out


def _stats(values: Iterable[float | None]) -> Row:
    numbers = pd.Series([v for v in values if v is not None], dtype="float64")
    if numbers.empty:
        return {k: None for k in ("mean", "median", "min", "max", "std", "q1", "q3")}
    return {
        "mean": float(numbers.mean()),
        "median": float(numbers.median()),
        "min": float(numbers.min()),
        "max": float(numbers.max()),
        "std": float(numbers.std()) if len(numbers) > 1 else 0.0,
        "q1": float(numbers.quantile(0.25)),
        "q3": float(numbers.quantile(0.75)),
    }


def _level(
    level: str,
    rows: list[Row],
    area_ids: list[str],
    areas: list[Row],
    tiers: list[Row],
    comparison: Comparison | None,
    lang: str,
    n: int,
) -> Row:
    stats = _stats(r["score"] for r in rows)
    counts = []
    for tier in tiers:
        count = sum(1 for r in rows if r["tier_index"] == tier["index"])
        counts.append({**tier, "count": count, "share": count / n if n else 0.0})
    untiered = sum(1 for r in rows if r["tier_index"] is None)
    if untiered:
        t = i18n.strings(lang)
        counts.append(
            {
                "key": None,
                "name": t["no_tier"],
                "color": NO_TIER_COLOR,
                "index": None,
                "rule": "",
                "at_least": None,
                "count": untiered,
                "share": untiered / n if n else 0.0,
            }
        )
    area_stats = []
    for i, area in enumerate(areas):
        cells = [r["areas"][i] for r in rows if r["areas"][i]["applicable"]]
        shares = [c["share"] for c in cells]
        maxima = sorted({c["maximum"] for c in cells if c["maximum"] is not None})
        best = max(
            (r for r in rows if r["areas"][i]["share"] is not None),
            key=lambda r: r["areas"][i]["share"],
            default=None,
        )
        changes = [
            c["change"]["share_change"]
            for c in cells
            if c["change"] and c["change"]["share_change"] is not None
        ]
        area_stats.append(
            {
                **area,
                "units": len(cells),
                "maxima": maxima,
                "score": _stats(c["score"] for c in cells),
                "share": _stats(shares),
                "shares": [s for s in shares if s is not None],
                "best_unit": best["unit_name"] if best else None,
                "best_ties": (
                    sum(
                        1 for x in shares if x is not None and x >= best["areas"][i]["share"] - 1e-9
                    )
                    - 1
                    if best
                    else 0
                ),
                "share_change_mean": sum(changes) / len(changes) if changes else None,
                "comparable": (
                    all(c["change"]["comparable"] for c in cells if c["change"])
                    if comparison is not None
                    else None
                ),
            }
        )
    moved = [r for r in rows if r["rank_change"] is not None]
    rose = sorted(
        (r for r in moved if r["rank_change"] > 0),
        key=lambda r: (-r["rank_change"], -(r["score_change"] or 0)),
    )[:MOVERS_N]
    fell = sorted(
        (r for r in moved if r["rank_change"] < 0),
        key=lambda r: (r["rank_change"], r["score_change"] or 0),
    )[:MOVERS_N]
    change: Row | None = None
    if comparison is not None:
        part = comparison.summary[comparison.summary["level"] == level]
        if len(part):
            rec = part.iloc[0]
            shares = [
                r["share_comparable_change"]
                for r in rows
                if r["share_comparable_change"] is not None
            ]
            change = {
                "mean_previous": value(rec["mean_previous"]),
                "mean_current": value(rec["mean_current"]),
                "mean_change": (
                    value(rec["mean_current"]) - value(rec["mean_previous"])  # type: ignore[operator]
                    if value(rec["mean_previous"]) is not None
                    and value(rec["mean_current"]) is not None
                    else None
                ),
                "rose": integer(rec["rose"]),
                "fell": integer(rec["fell"]),
                "unchanged": integer(rec["unchanged"]),
                "new": integer(rec["new"]),
                "merged": integer(rec["merged"]),
                "comparable": bool(rec["comparable"]),
                "share_comparable_change": sum(shares) / len(shares) if shares else None,
            }
    groups = sorted({r["group"] for r in rows if r["group"] is not None})
    return {
        "group_stats": [_group_stats(g, [r for r in rows if r["group"] == g]) for g in groups],
        "id": level,
        "label": i18n.level_label(level, lang),
        "anchor": "level-" + re.sub(r"[^A-Za-z0-9_-]", "-", level),
        "n": n,
        "stats": stats,
        "tier_counts": counts,
        "rows": rows,
        "top": rows[:TOP_N],
        "bottom": rows[-TOP_N:] if n > TOP_N else [],
        "rose": rose,
        "fell": fell,
        "areas": area_stats,
        "change": change,
        "groups": groups,
        "has_groups": bool(groups),
    }


def _group_stats(group: str, rows: list[Row]) -> Row:
    """A group of a level at a glance (reports quote regional and group averages): its units,
    mean, best and lowest total, with the units that hold them."""
    scored = [r for r in rows if r["score"] is not None]
    best = max(scored, key=lambda r: r["score"], default=None)
    worst = min(scored, key=lambda r: r["score"], default=None)
    return {
        "group": group,
        "n": len(rows),
        "mean": _stats(r["score"] for r in rows)["mean"],
        "best": best["score"] if best else None,
        "best_unit": best["unit_name"] if best else None,
        "worst": worst["score"] if worst else None,
        "worst_unit": worst["unit_name"] if worst else None,
    }


def _profile(
    row: Row,
    level: Row,
    names: dict[str, str],
    area_of: dict[str, str],
    weak: list[Row],
    strong: list[Row],
    drivers: list[Row],
    node_comparable: dict[str, bool],
) -> Row:
    areas = []
    for i, area in enumerate(level["areas"]):
        cell = row["areas"][i]
        areas.append(
            {
                "id": area["id"],
                "name": area["name"],
                "score": cell["score"],
                "maximum": cell["maximum"],
                "share": cell["share"],
                "rank": cell["rank"],
                "applicable": cell["applicable"],
                "units": area["units"],
                "level_mean": area["share"]["mean"],
                "level_best": area["share"]["max"],
                "change": cell["change"]["score_change"] if cell["change"] else None,
                "comparable": cell["change"]["comparable"] if cell["change"] else None,
            }
        )
    weak_items = [
        {
            "node_id": str(w["node_id"]),
            "name": names.get(str(w["node_id"]), str(w["node_name"])),
            "area": names.get(area_of.get(str(w["node_id"]), ""), ""),
            "score": value(w["score"]),
            "maximum": value(w["maximum"]),
            "share": value(w["share"]),
            "rank": integer(w["rank"]),
            "units_in_level": integer(w["units_in_level"]),
            "tied_with": integer(w["tied_with"]),
            "level_best": value(w["level_best"]),
            "level_mean": value(w["level_mean"]),
            "lost_vs_max": value(w["points_lost_vs_max"]),
            "lost_vs_best": value(w["points_lost_vs_best"]),
            "score_change": value(w.get("score_change")),
            "fell": bool(w.get("fell")) if w.get("fell") is not None else False,
            "small_sample": bool(w.get("small_sample")),
            "comparable": node_comparable.get(str(w["node_id"])),
        }
        for w in weak
    ]
    strong_items = [
        {
            "node_id": str(s["node_id"]),
            "name": names.get(str(s["node_id"]), str(s["node_name"])),
            "area": names.get(area_of.get(str(s["node_id"]), ""), ""),
            "score": value(s["score"]),
            "maximum": value(s["maximum"]),
            "rank": integer(s["rank"]),
            "tied_with": integer(s["tied_with"]),
        }
        for s in sorted(
            strong, key=lambda s: (-(value(s["share"]) or 0), integer(s["tied_with"]) or 0)
        )[:3]
    ]
    driver_items = [
        {
            "node_id": str(d["node_id"]),
            "name": names.get(str(d["node_id"]), str(d["node_name"])),
            "change": value(d["points_change"]),
            "comparable": bool(d["comparable"]),
        }
        for d in drivers
    ]
    return {
        **row,
        "level": level["id"],
        "level_label": level["label"],
        "level_anchor": level["anchor"],
        "n_in_level": level["n"],
        "level_mean": level["stats"]["mean"],
        "level_best": level["stats"]["max"],
        "profile_areas": areas,
        "weak": weak_items,
        "weak_lost_vs_max": sum(w["lost_vs_max"] or 0.0 for w in weak_items),
        "weak_lost_vs_best": sum(w["lost_vs_best"] or 0.0 for w in weak_items),
        "strong": strong_items,
        "drivers": driver_items,
    }


def _comparison_notes(comparison: Comparison, names: dict[str, str], lang: str) -> Row:
    t = i18n.strings(lang)
    nodes = comparison.nodes
    changed = nodes[nodes["status"].isin(["definition changed", "current only", "previous only"])]
    changed_names = [names.get(str(r.node_id), str(r.node_name)) for r in changed.itertuples()]
    year = _previous_year(comparison)
    current_year = comparison.current.spec.year or comparison.current.spec.id
    one_year = []
    for r in comparison.units.itertuples(index=False):
        previous_only = r.present_in == "previous only"
        one_year.append(
            {
                "unit_id": str(r.unit_id),
                "unit_name": str(r.unit_name),
                "level": i18n.level_label(str(r.level), lang),
                "present_in": (
                    t["present_in_previous"].format(year=year)
                    if previous_only
                    else t["present_in_current"].format(year=current_year)
                ),
            }
        )
    merged = bool((comparison.changes["unit_status"] == "merged").any())
    return {
        "changed_nodes": changed_names,
        "all_comparable": not changed_names,
        "merged": merged,
        "one_year_units": one_year,
        "year": year,
    }


def _losses(
    weak: WeakReport, names: dict[str, str], area_of: dict[str, str], top: int = LOSSES_N
) -> dict[str, list[Row]]:
    """Per level, the indicators where the level loses most points in total."""
    out: dict[str, list[Row]] = {}
    for rec in weak.level.to_dict(orient="records"):
        rows = out.setdefault(str(rec["level"]), [])
        if len(rows) >= top:
            continue
        node_id = str(rec["node_id"])
        rows.append(
            {
                "node_id": node_id,
                "name": names.get(node_id, str(rec["node_name"])),
                "area": names.get(area_of.get(node_id, ""), ""),
                "units": integer(rec["units"]),
                "maximum": value(rec["maximum"]),
                "level_mean": value(rec["level_mean"]),
                "level_best": value(rec["level_best"]),
                "points_lost_total": value(rec["points_lost_total"]),
                "points_lost_mean": value(rec["points_lost_mean"]),
                "share_at_full_marks": value(rec["share_at_full_marks"]),
            }
        )
    return out


def _cut_text(cut: dict[str, Any], lang: str) -> str:
    if not cut:
        return ""
    kind, amount = cut.get("kind"), cut.get("value")
    if kind == "bottom_share":
        return i18n.fmt_percent(amount, lang, 0)
    if kind == "bottom_k":
        return f"{amount} " + ("vị trí" if lang == "vi" else "places")
    return (
        ("dưới " if lang == "vi" else "below ")
        + i18n.fmt_percent(amount, lang, 0)
        + (" điểm tối đa" if lang == "vi" else " of maximum")
    )
