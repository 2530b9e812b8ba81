"""The report workbook, formatted as an analyst would by hand.

Sheets: a ranking per level, one sheet per top-level area with its criteria, the year-over-year
changes, the weak indicators, the method and the run record. Every sheet has a title, a frozen
header row, column widths that fit the names, number formats (scores to 2 decimals, shares as %),
print settings (A4 landscape, fit to width, header row repeated on every page) and, where it
helps reading, colour scales, tier colours and ▲/▼ rank changes.

Text that comes from users (unit, criterion and group names, ids) is always written with
:func:`~par_index.io.writers.write_text` (a string cell, never rich-text XML) and the workbook is
opened with ``strings_to_formulas=False``: a unit called ``=HYPERLINK(...)`` stays a name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io.writers import atomic_write, write_text
from . import i18n

TITLE_ROW = 0
SUBTITLE_ROW = 1
HEADER_ROW = 3
FIRST_DATA_ROW = HEADER_ROW + 1
NAVY = "#0B3B6F"
HEADER_FILL = "#DCE6F2"
BORDER = "#BFC9D6"
NUMBER = "0.00"
INTEGER = "0"
PERCENT = "0.0%"
# the arrows and signs are in the number format (the value stays a number); the green / red font
# is a conditional format, which Excel and LibreOffice both render (palette colours differ)
RANK_CHANGE = '"▲ "0;"▼ "0;"="'
SCORE_CHANGE = "+0.00;-0.00;0.00"
SHARE_CHANGE = "+0.0%;-0.0%;0.0%"
CHANGE_KINDS = ("rank_change", "score_change", "share_change")
UP_FONT = "#15803D"
DOWN_FONT = "#B91C1C"
SHEET_NAME_MAX = 31


@dataclass
class Column:
    """One column of a sheet table: its header, how to get its value from a row, its kind
    (text, number, integer, percent, rank_change, score_change, share_change, tier) and width
    hints."""

    header: str
    get: Callable[[dict[str, Any]], Any]
    kind: str = "text"
    scale: bool = False
    min_width: float = 6
    max_width: float = 48


class Formats:
    """The workbook's cell formats, created once."""

    def __init__(self, workbook: Any) -> None:
        base = {"font_name": "Arial", "font_size": 10, "valign": "vcenter"}
        cell = {**base, "border": 1, "border_color": BORDER}
        self.workbook = workbook
        self.title = workbook.add_format(
            {**base, "bold": True, "font_size": 14, "font_color": NAVY}
        )
        self.subtitle = workbook.add_format({**base, "italic": True, "font_color": "#555555"})
        self.header = workbook.add_format(
            {
                **base,
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": NAVY,
                "text_wrap": True,
                "align": "center",
                "border": 1,
                "border_color": "#FFFFFF",
            }
        )
        self.text = workbook.add_format(cell)
        self.wrap = workbook.add_format({**cell, "text_wrap": True, "valign": "top"})
        self.bold_text = workbook.add_format({**cell, "bold": True})
        self.muted = workbook.add_format({**cell, "font_color": "#6B7280"})
        self.na = workbook.add_format({**cell, "bg_color": "#F1F5F9", "font_color": "#9AA5B1"})
        self.kinds = {
            "text": self.text,
            "wrap": self.wrap,
            "number": workbook.add_format({**cell, "num_format": NUMBER}),
            "total": workbook.add_format({**cell, "num_format": NUMBER, "bold": True}),
            "integer": workbook.add_format({**cell, "num_format": INTEGER, "align": "center"}),
            "percent": workbook.add_format({**cell, "num_format": PERCENT}),
            "rank_change": workbook.add_format(
                {**cell, "num_format": RANK_CHANGE, "align": "center"}
            ),
            "score_change": workbook.add_format({**cell, "num_format": SCORE_CHANGE}),
            "share_change": workbook.add_format({**cell, "num_format": SHARE_CHANGE}),
            "bool": workbook.add_format({**cell, "align": "center"}),
        }
        self.note = workbook.add_format({**base, "text_wrap": True, "valign": "top"})
        self.key = workbook.add_format({**cell, "bold": True, "bg_color": HEADER_FILL})
        self._tiers: dict[str, Any] = {}
        self._indent: dict[tuple[int, bool], Any] = {}
        self.cell = cell

    def tier(self, color: str) -> Any:
        if color not in self._tiers:
            self._tiers[color] = self.workbook.add_format(
                {
                    **self.cell,
                    "bg_color": color,
                    "font_color": "#FFFFFF",
                    "bold": True,
                    "align": "center",
                }
            )
        return self._tiers[color]

    def indent(self, depth: int, inner: bool) -> Any:
        key = (depth, inner)
        if key not in self._indent:
            spec = {
                **self.cell,
                "indent": max(depth - 1, 0) * 2,
                "text_wrap": True,
                "valign": "top",
            }
            if inner:
                spec.update({"bold": True, "bg_color": HEADER_FILL if depth == 1 else "#F1F5F9"})
            self._indent[key] = self.workbook.add_format(spec)
        return self._indent[key]


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique worksheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", name).strip().strip("'") or "Sheet"
    out = clean[:SHEET_NAME_MAX].rstrip()
    i = 1
    while out.lower() in {t.lower() for t in taken}:
        i += 1
        suffix = f" ({i})"
        out = clean[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
    taken.add(out)
    return out


def text_width(value: Any) -> float:
    """Rough column width (in Excel character units) of a cell's text."""
    if value is None:
        return 0
    if isinstance(value, float):
        return 8
    return len(str(value)) * 1.08 + 1


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def write_cell(sheet: Any, row: int, col: int, value: Any, kind: str, formats: Formats) -> None:
    """One cell: numbers as numbers, everything else as a string (never a formula)."""
    fmt = formats.kinds.get(kind, formats.text)
    if _missing(value):
        sheet.write_blank(row, col, None, formats.na if kind != "text" else fmt)
    elif kind in ("text", "wrap") or kind == "bool":
        write_text(sheet, row, col, str(value), fmt)
    else:
        sheet.write_number(row, col, float(value), fmt)


def write_table(
    sheet: Any,
    formats: Formats,
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    *,
    title: str,
    subtitle: str,
    header_row: int = HEADER_ROW,
    freeze_cols: int = 0,
    tier_column: str | None = None,
    footer: str = "",
) -> int:
    """A titled table with a frozen, filtered, repeated header row; returns the last row."""
    write_text(sheet, TITLE_ROW, 0, title, formats.title)
    if subtitle:
        write_text(sheet, SUBTITLE_ROW, 0, subtitle, formats.subtitle)
    widths = [max(c.min_width, *(len(w) + 1 for w in c.header.split())) for c in columns]
    for j, column in enumerate(columns):
        write_text(sheet, header_row, j, column.header, formats.header)
    for i, row in enumerate(rows, start=header_row + 1):
        for j, column in enumerate(columns):
            value = column.get(row)
            if column.kind == "tier":
                if _missing(value):
                    sheet.write_blank(i, j, None, formats.text)
                else:
                    write_text(
                        sheet, i, j, str(value), formats.tier(row.get("tier_color", "#9AA5B1"))
                    )
            else:
                write_cell(sheet, i, j, value, column.kind, formats)
            if column.kind in ("text", "tier", "wrap"):
                widths[j] = max(widths[j], text_width(value))
    last = header_row + max(len(rows), 1)
    up = formats.workbook.add_format({"font_color": UP_FONT, "bold": True})
    down = formats.workbook.add_format({"font_color": DOWN_FONT, "bold": True})
    for j, column in enumerate(columns):
        sheet.set_column(j, j, min(max(widths[j], column.min_width), column.max_width))
        if column.kind in CHANGE_KINDS and rows:
            for criteria, fmt in ((">", up), ("<", down)):
                sheet.conditional_format(
                    header_row + 1,
                    j,
                    last,
                    j,
                    {"type": "cell", "criteria": criteria, "value": 0, "format": fmt},
                )
        if column.scale and rows:
            sheet.conditional_format(
                header_row + 1,
                j,
                last,
                j,
                {
                    "type": "3_color_scale",
                    "min_color": "#F8696B",
                    "mid_color": "#FFEB84",
                    "max_color": "#63BE7B",
                },
            )
    header_height = 15 * max(
        1,
        max(
            math.ceil(len(c.header) / max(min(widths[j], c.max_width), 1))
            for j, c in enumerate(columns)
        ),
    )
    sheet.set_row(header_row, min(header_height + 4, 90))
    sheet.freeze_panes(header_row + 1, freeze_cols)
    sheet.autofilter(header_row, 0, last, len(columns) - 1)
    _print_setup(sheet, header_row, len(columns) - 1, title, footer)
    return last


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def _print_setup(sheet: Any, header_row: int, last_col: int, title: str, footer: str) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header(f'&L&"Arial,Bold"&9{_escape_header(title[:120])}')
    sheet.set_footer(f"&L&8{_escape_header(footer[:120])}&R&8&P / &N")
    del last_col  # fit_to_pages(1, 0) keeps every column on the page


def _maxima_label(values: list[float], lang: str) -> str:
    def one(v: float) -> str:
        return i18n.fmt_number(v, lang, 0 if float(v).is_integer() else 2)

    if not values:
        return ""
    if len(values) == 1:
        return one(values[0])
    return f"{one(values[0])}–{one(values[-1])}"


def _area_score(i: int) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["areas"][i]["score"]


def _area_change(i: int) -> Callable[[dict[str, Any]], Any]:
    return lambda row: (row["areas"][i]["change"] or {}).get("score_change")


def _item(key: str, i: int) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[key][i]


def write_workbook(ctx: dict[str, Any], path: Path) -> Path:
    return atomic_write(path, lambda tmp: _write(ctx, tmp))


def _write(ctx: dict[str, Any], path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    try:
        t = ctx["t"]
        workbook.set_properties(
            {
                "title": f"{ctx['index']['name']} — {t['report']}",
                "subject": ctx["index"]["id"],
                "author": "par-index",
                "comments": t["generated_by"].format(version=ctx.get("version") or ""),
            }
        )
        formats = Formats(workbook)
        taken: set[str] = set()
        footer = (
            f"{ctx['index']['name']} · {t['generated_by'].format(version=ctx.get('version') or '')}"
        )
        for level in ctx["levels"]:
            _ranking_sheet(workbook, formats, ctx, level, taken, footer)
        for area in ctx["area_sheets"]:
            _area_sheet(workbook, formats, ctx, area, taken, footer)
        if ctx["previous"]:
            _changes_sheet(workbook, formats, ctx, taken, footer)
        if ctx["weak_given"]:
            _weak_sheet(workbook, formats, ctx, taken, footer)
        if _intervals_shown(ctx):
            _uncertainty_sheet(workbook, formats, ctx, taken, footer)
        if ctx["uncertainty"]:
            _sensitivity_sheet(workbook, formats, ctx, taken, footer)
        _method_sheet(workbook, formats, ctx, taken, footer)
        _run_sheet(workbook, formats, ctx, taken, footer)
        first = workbook.worksheets()[0]
        first.activate()
        first.set_first_sheet()
    finally:
        workbook.close()


def ranking_columns(ctx: dict[str, Any], level: dict[str, Any]) -> list[Column]:
    """The ranking sheet's columns (tests read the sheet back through these headers)."""
    t, lang = ctx["t"], ctx["lang"]
    previous = ctx["previous"]
    columns = [
        Column(t["rank"], lambda r: r["rank"], "integer", min_width=6),
        Column(t["unit_id"], lambda r: r["unit_id"], "text", min_width=7),
        Column(t["unit"], lambda r: r["unit_name"], "text", min_width=18),
    ]
    if level["has_groups"]:
        columns.append(Column(t["group"], lambda r: r["group"], "text", min_width=8))
    columns += [
        Column(t["total"], lambda r: r["score"], "total", scale=True, min_width=9),
        Column(t["share"], lambda r: r["share"], "percent", min_width=8),
        Column(t["tier"], lambda r: r["tier"], "tier", min_width=9),
    ]
    if previous:
        year = previous["year"]
        columns += [
            Column(t["previous_rank"].format(year=year), lambda r: r["rank_previous"], "integer"),
            Column(t["rank_change"], lambda r: r["rank_change"], "rank_change", min_width=9),
            *(
                [
                    Column(
                        t["move_within"],
                        lambda r: (
                            (t["yes"] if r["move_within_interval"] else t["no"])
                            if r["rank_change"]
                            else None
                        ),
                        "bool",
                        min_width=10,
                    )
                ]
                if _intervals_shown(ctx)
                else []
            ),
            Column(t["previous_score"].format(year=year), lambda r: r["score_previous"], "number"),
            Column(t["score_change"], lambda r: r["score_change"], "score_change", min_width=9),
        ]
    if level["has_groups"]:
        columns.append(
            Column(t["rank_in_group"], lambda r: r["rank_in_group"], "integer", min_width=8)
        )
    if _intervals_shown(ctx):
        columns += interval_columns(ctx)
    for i, area in enumerate(level["areas"]):
        header = f"{area['name']} (/{_maxima_label(area['maxima'], lang)})"
        columns.append(
            Column(
                header,
                _area_score(i),
                "number",
                scale=True,
                min_width=11,
                max_width=16,
            )
        )
    return columns


def _intervals_shown(ctx: dict[str, Any]) -> bool:
    """Rank intervals are shown when there are some and the draws varied something (else every
    interval is the rank itself: the sensitivity still is)."""
    return bool(ctx["uncertainty"] and ctx["uncertainty"]["varies"])


def interval_columns(ctx: dict[str, Any]) -> list[Column]:
    """The rank interval, the chance of the top k and the survey warning of each unit."""
    t = ctx["t"]
    return [
        Column(t["rank_interval_from"], _interval("rank_p05"), "integer", min_width=10),
        Column(t["rank_interval_to"], _interval("rank_p95"), "integer", min_width=10),
        Column(
            t["p_top_k"].format(k=ctx["uncertainty"]["top_k"]),
            _interval("p_top_k"),
            "percent",
            min_width=9,
        ),
        Column(t["flag"], _interval("flag_text"), "text", min_width=10, max_width=48),
    ]


def _interval(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: (row.get("interval") or {}).get(key)


def _ranking_sheet(
    workbook: Any,
    formats: Formats,
    ctx: dict[str, Any],
    level: dict[str, Any],
    taken: set[str],
    footer: str,
) -> None:
    t = ctx["t"]
    sheet = workbook.add_worksheet(sheet_name(f"{t['sheet_ranking']} - {level['label']}", taken))
    sheet.set_tab_color(NAVY)
    subtitle = f"{level['label']} · {t['n_units'].format(n=level['n'])}"
    if ctx["previous"]:
        subtitle += f" · {t['previous']}: {ctx['previous']['name']}"
    columns = ranking_columns(ctx, level)
    last = write_table(
        sheet,
        formats,
        columns,
        level["rows"],
        title=ctx["index"]["name"],
        subtitle=subtitle,
        freeze_cols=3,
        footer=footer,
    )
    _tier_key(sheet, formats, ctx, level, last + 2)
    if len(level["group_stats"]) > 1:
        _group_key(sheet, formats, ctx, level, last + 4 + len(level["tier_counts"]))


def _tier_key(
    sheet: Any, formats: Formats, ctx: dict[str, Any], level: dict[str, Any], row: int
) -> None:
    t = ctx["t"]
    write_text(sheet, row, 2, t["tier_counts"], formats.bold_text)
    for i, tier in enumerate(level["tier_counts"], start=1):
        write_text(
            sheet, row + i, 2, f"{tier['name']} ({tier['rule']})", formats.tier(tier["color"])
        )
        sheet.write_number(row + i, 3, tier["count"], formats.kinds["integer"])


def _group_key(
    sheet: Any, formats: Formats, ctx: dict[str, Any], level: dict[str, Any], row: int
) -> None:
    """Below the tier key: each group's units, mean, best and lowest total."""
    t = ctx["t"]
    write_text(sheet, row, 2, t["by_group"], formats.bold_text)
    heads = (t["group"], t["units"], t["mean"], t["best"], t["worst"])
    for j, head in enumerate(heads):
        write_text(sheet, row + 1, 2 + j, head, formats.header)
    for i, group in enumerate(level["group_stats"], start=row + 2):
        write_text(sheet, i, 2, group["group"], formats.text)
        write_cell(sheet, i, 3, group["n"], "integer", formats)
        write_cell(sheet, i, 4, group["mean"], "number", formats)
        write_cell(sheet, i, 5, group["best"], "number", formats)
        write_cell(sheet, i, 6, group["worst"], "number", formats)


def _area_sheet(
    workbook: Any,
    formats: Formats,
    ctx: dict[str, Any],
    area: dict[str, Any],
    taken: set[str],
    footer: str,
) -> None:
    t, lang = ctx["t"], ctx["lang"]
    sheet = workbook.add_worksheet(sheet_name(f"{area['number']}. {area['name']}", taken))
    columns = [
        Column(t["level"], lambda r: r["level_label"], "text", min_width=10),
        Column(t["rank"], lambda r: r["area_rank"], "integer"),
        Column(t["unit_id"], lambda r: r["unit_id"], "text", min_width=7),
        Column(t["unit"], lambda r: r["unit_name"], "text", min_width=18),
        Column(t["score"], lambda r: r["score"], "total", scale=True, min_width=8),
        Column(t["maximum"], lambda r: r["maximum"], "number", min_width=7),
        Column(t["share"], lambda r: r["share"], "percent", min_width=8),
    ]
    for i, node in enumerate(area["columns"]):
        max_text = i18n.fmt_number(node["max"], lang, 0 if (node["max"] or 0) % 1 == 0 else 2)
        header = f"{node['name']} (/{max_text})" if node["max"] is not None else node["name"]
        columns.append(
            Column(
                header,
                _item("cells", i),
                "number",
                scale=node["is_leaf"],
                min_width=10,
                max_width=16,
            )
        )
    rows = [
        {**row, "level_label": level["label"]} for level in area["levels"] for row in level["rows"]
    ]
    max_text = i18n.fmt_number(area["max"], lang, 0) if area["max"] is not None else ""
    write_table(
        sheet,
        formats,
        columns,
        rows,
        title=f"{area['number']}. {area['name']}" + (f" (/{max_text})" if max_text else ""),
        subtitle=ctx["index"]["name"],
        freeze_cols=4,
        footer=footer,
    )


def _changes_sheet(
    workbook: Any, formats: Formats, ctx: dict[str, Any], taken: set[str], footer: str
) -> None:
    t = ctx["t"]
    year = ctx["previous"]["year"]
    current = ctx["index"]["year"] or ctx["index"]["id"]
    sheet = workbook.add_worksheet(sheet_name(t["sheet_changes"], taken))
    drivers = {p["unit_id"]: p["drivers"] for p in ctx["profiles"]}
    lang = ctx["lang"]

    def explain(row: dict[str, Any]) -> str:
        return "; ".join(
            f"{i18n.fmt_number(d['change'], lang, 2, sign=True)} {d['name']}"
            + ("*" if not d["comparable"] else "")
            for d in drivers.get(row["unit_id"], [])
        )

    columns = [
        Column(t["level"], lambda r: r["level_label"], "text", min_width=10),
        Column(t["unit_id"], lambda r: r["unit_id"], "text", min_width=7),
        Column(t["unit"], lambda r: r["unit_name"], "text", min_width=18),
        Column(
            t["derived_from"],
            lambda r: ", ".join(r["derived_from_names"]) or None,
            "text",
            max_width=40,
        ),
        Column(t["previous_score"].format(year=year), lambda r: r["score_previous"], "number"),
        Column(t["previous_score"].format(year=current), lambda r: r["score"], "number"),
        Column(t["score_change"], lambda r: r["score_change"], "score_change", min_width=9),
        Column(t["previous_rank"].format(year=year), lambda r: r["rank_previous"], "integer"),
        Column(t["previous_rank"].format(year=current), lambda r: r["rank"], "integer"),
        Column(t["rank_change"], lambda r: r["rank_change"], "rank_change", min_width=9),
        Column(
            t["comparable_share_change"],
            lambda r: r["share_comparable_change"],
            "share_change",
            min_width=12,
            max_width=14,
        ),
    ]
    for i, area in enumerate(ctx["areas"]):
        columns.append(
            Column(
                f"{t['change']}: {area['name']}",
                _area_change(i),
                "score_change",
                min_width=11,
                max_width=14,
            )
        )
    columns.append(Column(t["main_drivers"], explain, "wrap", min_width=30, max_width=70))
    rows = [
        {**row, "level_label": level["label"]} for level in ctx["levels"] for row in level["rows"]
    ]
    notes = []
    comparison = ctx["comparison"]
    if comparison and not comparison["all_comparable"]:
        notes.append(t["comparable_note"].format(nodes="; ".join(comparison["changed_nodes"])))
        for level in ctx["levels"]:
            if level["change"] and level["change"]["share_comparable_change"] is not None:
                change = level["change"]["share_comparable_change"] * 100
                notes.append(
                    f"  {level['label']}: {i18n.fmt_number(change, lang, 1, sign=True)} {t['pp']}"
                )
        notes.append(f"* {t['not_comparable']}")
    if comparison and comparison["merged"]:
        notes.append(t["crosswalk_note"])
    last = write_table(
        sheet,
        formats,
        columns,
        rows,
        title=f"{t['sheet_changes']}: {year} → {current}",
        subtitle=ctx["index"]["name"],
        freeze_cols=3,
        footer=footer,
    )
    row = last + 2
    for note in notes:
        sheet.merge_range(row, 0, row, min(len(columns) - 1, 10), "", formats.note)
        write_text(sheet, row, 0, note, formats.note)
        sheet.set_row(row, 15 * max(1, math.ceil(len(note) / 150)))
        row += 1
    if comparison and comparison["one_year_units"]:
        row += 1
        write_text(sheet, row, 0, t["one_year_units"], formats.bold_text)
        for unit in comparison["one_year_units"]:
            row += 1
            write_text(sheet, row, 0, unit["level"], formats.text)
            write_text(sheet, row, 1, unit["unit_id"], formats.text)
            write_text(sheet, row, 2, unit["unit_name"], formats.text)
            write_text(sheet, row, 3, unit["present_in"], formats.text)


def _weak_sheet(
    workbook: Any, formats: Formats, ctx: dict[str, Any], taken: set[str], footer: str
) -> None:
    t = ctx["t"]
    sheet = workbook.add_worksheet(sheet_name(t["sheet_weak"], taken))
    rows = [
        {
            **w,
            "level_label": p["level_label"],
            "unit_id": p["unit_id"],
            "unit_name": p["unit_name"],
            "total_rank": p["rank"],
        }
        for p in ctx["profiles"]
        for w in p["weak"]
    ]
    columns = [
        Column(t["level"], lambda r: r["level_label"], "text", min_width=10),
        Column(t["rank"] + " (" + t["total"].lower() + ")", lambda r: r["total_rank"], "integer"),
        Column(t["unit_id"], lambda r: r["unit_id"], "text", min_width=7),
        Column(t["unit"], lambda r: r["unit_name"], "text", min_width=18),
        Column(t["indicator"], lambda r: r["name"], "text", min_width=20, max_width=45),
        Column(t["area"], lambda r: r["area"], "text", min_width=14, max_width=32),
        Column(t["score"], lambda r: r["score"], "number"),
        Column(t["maximum"], lambda r: r["maximum"], "number"),
        Column(t["share"], lambda r: r["share"], "percent"),
        Column(t["rank"], lambda r: r["rank"], "integer"),
        Column(t["units_in_level"], lambda r: r["units_in_level"], "integer"),
        Column(t["tied"].format(n="…"), lambda r: r["tied_with"], "integer", min_width=9),
        Column(t["level_mean"], lambda r: r["level_mean"], "number"),
        Column(t["level_best"], lambda r: r["level_best"], "number"),
        Column(t["lost_vs_max"], lambda r: r["lost_vs_max"], "number", min_width=10),
        Column(t["lost_vs_best"], lambda r: r["lost_vs_best"], "number", min_width=10),
    ]
    if ctx["previous"]:
        columns += [
            Column(t["change"], lambda r: r["score_change"], "score_change"),
            Column(
                t["fell_flag"], lambda r: t["yes"] if r["fell"] else t["no"], "bool", min_width=9
            ),
        ]
    if _intervals_shown(ctx):
        columns.append(
            Column(t["flag"], lambda r: t["yes"] if r["small_sample"] else t["no"], "bool")
        )
    subtitle = t["weak_note"].format(cut=ctx["weak_cut"])
    write_table(
        sheet,
        formats,
        columns,
        rows,
        title=f"{t['weak']} — {ctx['index']['name']}",
        subtitle=subtitle,
        freeze_cols=4,
        footer=footer,
    )
    lost = next(i for i, c in enumerate(columns) if c.header == t["lost_vs_max"])
    if rows:
        sheet.conditional_format(
            HEADER_ROW + 1,
            lost,
            HEADER_ROW + len(rows),
            lost,
            {"type": "data_bar", "bar_color": "#F4B183", "data_bar_2010": False},
        )


def _uncertainty_sheet(
    workbook: Any, formats: Formats, ctx: dict[str, Any], taken: set[str], footer: str
) -> None:
    """Every unit's spread over the draws: score and rank intervals, median rank, the chance
    of the top k and of each tier, and its survey warning."""
    t = ctx["t"]
    info = ctx["uncertainty"]
    sheet = workbook.add_worksheet(sheet_name(t["sheet_uncertainty"], taken))
    rows = [{**r, "level_label": level["label"]} for level in ctx["levels"] for r in level["rows"]]
    columns = [
        Column(t["level"], lambda r: r["level_label"], "text", min_width=10),
        Column(t["rank"], lambda r: r["rank"], "integer"),
        Column(t["unit_id"], lambda r: r["unit_id"], "text", min_width=7),
        Column(t["unit"], lambda r: r["unit_name"], "text", min_width=18),
        Column(t["total"], lambda r: r["score"], "total", min_width=9),
        Column(t["score_interval_from"], _interval("score_p05"), "number", min_width=10),
        Column(t["score_interval_to"], _interval("score_p95"), "number", min_width=10),
        Column(t["rank_median"], _interval("rank_median"), "number", min_width=9),
        *interval_columns(ctx)[:3],
    ]
    if any(level["has_groups"] for level in ctx["levels"]):
        columns += [
            Column(t["rank_in_group"], lambda r: r["rank_in_group"], "integer", min_width=8),
            Column(t["group_interval_from"], _interval("group_p05"), "integer", min_width=10),
            Column(t["group_interval_to"], _interval("group_p95"), "integer", min_width=10),
        ]
    for tier in ctx["tiers"]:
        columns.append(
            Column(
                t["p_tier"].format(tier=tier["name"]),
                _tier_chance(tier["key"]),
                "percent",
                min_width=10,
            )
        )
    columns.append(interval_columns(ctx)[3])
    write_table(
        sheet,
        formats,
        columns,
        rows,
        title=f"{t['uncertainty']} — {ctx['index']['name']}",
        subtitle=info["note"],
        freeze_cols=4,
        footer=footer,
    )


def _tier_chance(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: ((row.get("interval") or {}).get("p_tiers") or {}).get(key)


def _sensitivity_sheet(
    workbook: Any, formats: Formats, ctx: dict[str, Any], taken: set[str], footer: str
) -> None:
    """Per level, the nodes whose removal moves the ranking most."""
    t = ctx["t"]
    info = ctx["uncertainty"]
    sheet = workbook.add_worksheet(sheet_name(t["sheet_sensitivity"], taken))
    rows = [
        {**r, "level_label": level["label"]}
        for level in ctx["levels"]
        for r in info["sensitivity"].get(level["id"], [])
    ]
    columns = [
        Column(t["level"], lambda r: r["level_label"], "text", min_width=10),
        Column(t["id"], lambda r: r["node_id"], "text", min_width=10),
        Column(t["name"], lambda r: r["name"], "text", min_width=24, max_width=55),
        Column(t["units"], lambda r: r["units"], "integer"),
        Column(t["mean_shift"], lambda r: r["mean_shift"], "number", min_width=10),
        Column(t["max_shift"], lambda r: r["max_shift"], "integer", min_width=10),
        Column(t["share_moved"], lambda r: r["share_moved"], "percent", min_width=10),
    ]
    write_table(
        sheet,
        formats,
        columns,
        rows,
        title=f"{t['sensitivity']} — {ctx['index']['name']}",
        subtitle=t["sensitivity_note"],
        freeze_cols=3,
        footer=footer,
    )


def _method_sheet(
    workbook: Any, formats: Formats, ctx: dict[str, Any], taken: set[str], footer: str
) -> None:
    t, lang = ctx["t"], ctx["lang"]
    method = ctx["method"]
    sheet = workbook.add_worksheet(sheet_name(t["sheet_method"], taken))
    facts = [
        (t["aggregation"], method["aggregation"]),
        (t["ranking_rule"], method["ranking"]),
        (t["tiers"], "; ".join(method["tiers"])),
        (t["missing_policy"], method["missing"]),
        (t["legal_basis"], method["legal_basis"]),
    ]
    if ctx["weak_given"]:
        facts.append((t["weak"], t["weak_note"].format(cut=ctx["weak_cut"])))
    if ctx["uncertainty"]:
        info = ctx["uncertainty"]
        facts.append((t["uncertainty"], info["note"]))
        facts.append((t["unc_sources"], "; ".join(info["sources"])))
        if info["thresholds"]:
            facts.append((t["unc_thresholds"], "; ".join(info["thresholds"])))
    facts = [(k, v) for k, v in facts if v]
    header_row = HEADER_ROW + len(facts) + 1
    for i, (key, text) in enumerate(facts):
        write_text(sheet, HEADER_ROW + i - 1, 0, key, formats.key)
        sheet.merge_range(HEADER_ROW + i - 1, 1, HEADER_ROW + i - 1, 6, "", formats.wrap)
        write_text(sheet, HEADER_ROW + i - 1, 1, str(text), formats.wrap)
    columns = [
        Column(t["id"], lambda r: r["id"], "text", min_width=14, max_width=22),
        Column(t["name"], lambda r: r["name"], "indent", min_width=30, max_width=55),
        Column(t["maximum"], lambda r: r["max"], "number", min_width=8),
        Column(t["weight"], lambda r: r["weight"], "number", min_width=8),
        Column(
            t["rule"], lambda r: r["rule"] or r["aggregation"], "wrap", min_width=30, max_width=55
        ),
        Column(t["measure"], lambda r: r["measure"], "wrap", min_width=24, max_width=40),
        Column(
            t["official_text"], lambda r: r["official_text"], "wrap", min_width=30, max_width=60
        ),
        Column(t["applies_to"], lambda r: r["applies_to"], "wrap", min_width=12, max_width=24),
        Column(t["missing_policy"], lambda r: r["missing"], "wrap", min_width=12, max_width=30),
    ]
    write_text(sheet, TITLE_ROW, 0, f"{t['method']} — {method['name']}", formats.title)
    for j, column in enumerate(columns):
        write_text(sheet, header_row, j, column.header, formats.header)
        sheet.set_column(j, j, max(column.min_width, min(column.max_width, 30)))
    sheet.set_column(1, 1, 48)
    sheet.set_column(4, 4, 48)
    sheet.set_column(6, 6, 50)
    for i, row in enumerate(method["rows"], start=header_row + 1):
        for j, column in enumerate(columns):
            value = column.get(row)
            if column.kind == "indent":
                write_text(
                    sheet, i, j, str(value), formats.indent(row["depth"], not row["is_leaf"])
                )
            else:
                fmt_kind = column.kind
                if not row["is_leaf"] and _missing(value):
                    sheet.write_blank(i, j, None, formats.indent(row["depth"], True))
                    continue
                write_cell(sheet, i, j, value, fmt_kind, formats)
        longest = max(len(str(row.get(k) or "")) for k in ("rule", "official_text", "measure"))
        sheet.set_row(i, 14 * max(1, math.ceil(longest / 52)))
    sheet.freeze_panes(header_row + 1, 2)
    sheet.autofilter(header_row, 0, header_row + len(method["rows"]), len(columns) - 1)
    _print_setup(sheet, header_row, len(columns) - 1, ctx["index"]["name"], footer)
    del lang


def _run_sheet(
    workbook: Any, formats: Formats, ctx: dict[str, Any], taken: set[str], footer: str
) -> None:
    t = ctx["t"]
    sheet = workbook.add_worksheet(sheet_name(t["sheet_run"], taken))
    rows = [{"key": k, "value": v} for k, v in ctx["run"]]
    rows += [{"key": f"previous.{k}", "value": v} for k, v in ctx["run_previous"]]
    columns = [
        Column(t["key"], lambda r: r["key"], "text", min_width=20, max_width=40),
        Column(t["value"], lambda r: r["value"], "text", min_width=40, max_width=120),
    ]
    write_table(
        sheet,
        formats,
        columns,
        rows,
        title=t["run"],
        subtitle=ctx["index"]["name"],
        footer=footer,
    )
    sheet.set_landscape()
