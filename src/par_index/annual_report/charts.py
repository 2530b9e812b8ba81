"""Charts of the report: matplotlib figures → inline SVG strings with text kept as text.

matplotlib is imported inside the functions (so ``import par_index`` stays quick) and used
through ``Figure`` objects, never pyplot: no global backend switch, nothing left open in a
notebook. ``svg.fonttype = "none"`` keeps labels as ``<text>`` (small, searchable, sharp in
print); the font stack puts DejaVu Sans first, which covers Vietnamese. Each SVG is cleaned for
inlining: no XML prolog or RDF metadata, and every id prefixed so that several charts on one page
never share an id.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import i18n

FONT_STACK = ["DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "sans-serif"]
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#1d4ed8"
UP = "#15803d"
DOWN = "#b91c1c"
ABOVE = "#2563eb"
BELOW = "#e8743b"
ROWS_PER_COLUMN = 40
LABELLED_MAX = 3 * ROWS_PER_COLUMN
"""Up to this many units a level's ranking and rank-interval charts name every unit (in columns
of :data:`ROWS_PER_COLUMN`); above it they draw the units in rank order without names."""

RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "par-index",
    "font.family": "sans-serif",
    "font.sans-serif": FONT_STACK,
    "font.size": 9,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "xtick.color": MUTED,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 72,
}


def label(value: Any) -> str:
    """Text for matplotlib that is never read as mathtext (``$`` escaped)."""
    return str(value).replace("$", r"\$")


def wrap(value: str, width: int) -> str:
    return "\n".join(textwrap.wrap(label(value), width)) or label(value)


@contextmanager
def _style(salt: str) -> Iterator[None]:
    import matplotlib

    style: Any = {**RC, "svg.hashsalt": f"par-index-{salt}"}
    with matplotlib.rc_context(style):
        yield


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.S)
# matplotlib's global "*{stroke-linejoin: round; stroke-linecap: butt}" would style the whole HTML
# page once inlined; the report's stylesheet sets it for svg.chart only
_STYLE = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FAMILY = ", ".join(f"'{f}'" if f != "sans-serif" else f for f in FONT_STACK)
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [^"]*\)"')
_ATTRIBUTE = re.compile(r'="([^"]*)"')
_DECIMALS = re.compile(r"(\.\d\d)\d+")  # coordinates to 1/100 pt; labels are untouched
_ID = re.compile(r'\sid="([^"]+)"')
_REF = re.compile(r'(url\(#|xlink:href="#|href="#)([^)"]+)')
_SIZE = re.compile(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"')


def raw_svg(figure: Any) -> str:
    """matplotlib's SVG of the figure, without prolog, metadata or layout whitespace."""
    import io

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOG.sub("", buffer.getvalue(), count=1)
    svg = _METADATA.sub("", svg)
    svg = _STYLE.sub("", svg)
    svg = _COMMENT.sub("", svg)
    # the font stack is set once for svg.chart text by the report's stylesheet
    svg = svg.replace(f"; font-family: {_FAMILY}", "").replace(f"font-family: {_FAMILY}; ", "")
    svg = _NO_ROTATION.sub("", svg)
    svg = _ATTRIBUTE.sub(lambda m: '="' + _DECIMALS.sub(r"\1", m.group(1)) + '"', svg)
    svg = re.sub(r"[ \t]*\n\s*", " ", svg)
    return re.sub(r">\s+<", "><", svg).strip()


def _prefix_ids(svg: str, prefix: str) -> str:
    """Ids that nothing refers to removed, the others (and their references) prefixed."""
    referenced = {m.group(2) for m in _REF.finditer(svg)}
    svg = _ID.sub(lambda m: f' id="{prefix}-{m.group(1)}"' if m.group(1) in referenced else "", svg)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)


def inline(svg: str, prefix: str, title: str) -> str:
    """An SVG ready to inline in HTML: responsive (viewBox only), titled for screen readers,
    ids that nothing refers to removed and the others prefixed with ``prefix``."""
    svg = _prefix_ids(svg, prefix)
    svg = _SIZE.sub(r"<svg\1", svg, count=1)
    svg = svg.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(title)}"', 1)
    return svg


def escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def to_svg(figure: Any, prefix: str, title: str) -> str:
    return inline(raw_svg(figure), prefix, title)


def _tier_edges(tiers: list[dict[str, Any]]) -> list[tuple[float, dict[str, Any]]]:
    return [(t["at_least"], t) for t in tiers if t["at_least"] is not None]


def _tier_bands(
    tiers: list[dict[str, Any]], start: float, top: float
) -> list[tuple[float, float, dict[str, Any]]]:
    """(low, high, tier) for each tier's band of the total within [start, top]."""
    bands = []
    upper = top
    for tier in tiers:
        edge = tier["at_least"]
        low = start if edge is None else max(start, min(float(edge), top))
        if upper > low:
            bands.append((low, upper, tier))
        upper = min(upper, low)
        if edge is None:
            break
    return bands


def _tier_color(score: float | None, tiers: list[dict[str, Any]]) -> str:
    if score is None:
        return "#9aa5b1"
    for edge, tier in _tier_edges(tiers):
        if score >= edge:
            return str(tier["color"])
    return str(tiers[-1]["color"]) if tiers else ACCENT


def distribution(level: dict[str, Any], tiers: list[dict[str, Any]], ctx: dict[str, Any]) -> str:
    """Histogram of the level's totals, bars coloured by tier, tier edges and the mean marked."""
    t, lang = ctx["t"], ctx["lang"]
    scores = [r["score"] for r in level["rows"] if r["score"] is not None]
    top = ctx["index"]["max"] or max(scores, default=100)
    step = top / 20
    low = min(scores, default=0)
    start = max(0.0, step * int(low // step))
    edges = [start + i * step for i in range(round((top - start) / step) + 1)]
    if len(edges) < 2:
        edges = [start, start + step]
    with _style(f"dist-{level['anchor']}"):
        fig = _figure(6.6, 2.5)
        ax = fig.add_subplot()
        counts = [0] * (len(edges) - 1)
        for s in scores:
            i = min(max(int((s - start) // step), 0), len(counts) - 1)
            counts[i] += 1
        for i, count in enumerate(counts):
            if count:
                mid = (edges[i] + edges[i + 1]) / 2
                ax.bar(
                    edges[i],
                    count,
                    width=step * 0.92,
                    align="edge",
                    color=_tier_color(mid, tiers),
                    edgecolor="white",
                    linewidth=0.5,
                )
                ax.text(mid, count, str(count), ha="center", va="bottom", fontsize=8, color=INK)
        bands = _tier_bands(tiers, start, top)
        for low_edge, high_edge, tier in bands:
            ax.axvspan(low_edge, high_edge, color=tier["color"], alpha=0.07, linewidth=0)
            if (high_edge - low_edge) >= (top - start) * 0.08:
                ax.text(
                    (low_edge + high_edge) / 2,
                    0.97,
                    label(tier["name"]),
                    transform=ax.get_xaxis_transform(),
                    fontsize=7.5,
                    fontweight="bold",
                    color=tier["color"],
                    va="top",
                    ha="center",
                )
            if low_edge > start:
                ax.axvline(low_edge, color=MUTED, linewidth=0.7, linestyle=(0, (2, 2)))
        mean = level["stats"]["mean"]
        if mean is not None:
            ax.axvline(mean, color=INK, linewidth=1.1, linestyle=(0, (4, 2)))
            right = mean > (start + top) / 2
            ax.text(
                mean,
                0.86,
                f" {t['mean']}: {i18n.fmt_number(mean, lang)} ",
                transform=ax.get_xaxis_transform(),
                fontsize=7.5,
                color=INK,
                ha="right" if right else "left",
                va="top",
                bbox={
                    "boxstyle": "round,pad=0.2",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.85,
                },
            )
        ax.set_xlim(start, top)
        ax.set_ylim(0, max([*counts, 1]) * 1.5)
        ax.set_xlabel(t["total"])
        ax.set_ylabel(t["units"])
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        return to_svg(fig, f"dist-{level['anchor']}", f"{t['distribution']} — {level['label']}")


def ranking(level: dict[str, Any], tiers: list[dict[str, Any]], ctx: dict[str, Any]) -> str:
    """Every unit's total as a horizontal bar, best at the top, coloured by tier; long levels
    are split into side-by-side columns so the chart fits a printed page. Above
    :data:`LABELLED_MAX` units, a profile of the totals in rank order instead (no names)."""
    t, lang = ctx["t"], ctx["lang"]
    rows = level["rows"]
    top = ctx["index"]["max"] or max((r["score"] or 0 for r in rows), default=100)
    if len(rows) > LABELLED_MAX:
        return _ranking_profile(level, tiers, ctx, top)
    columns = max(1, -(-len(rows) // ROWS_PER_COLUMN))
    per = -(-len(rows) // columns) if rows else 1
    width = 6.8 if columns == 1 else 10.5
    height = 0.55 + 0.17 * per
    with _style(f"rank-{level['anchor']}"):
        fig = _figure(width, height)
        axes = fig.subplots(1, columns, squeeze=False)[0]
        for c, ax in enumerate(axes):
            part = rows[c * per : (c + 1) * per]
            ys = list(range(len(part)))
            ax.barh(
                ys,
                [r["score"] or 0 for r in part],
                color=[r["tier_color"] for r in part],
                height=0.72,
            )
            for y, r in zip(ys, part, strict=True):
                if r["score"] is not None:
                    ax.text(
                        r["score"] + top * 0.01,
                        y,
                        i18n.fmt_number(r["score"], lang, 1),
                        va="center",
                        fontsize=7,
                        color=INK,
                    )
            ax.set_yticks(ys, [f"{r['rank']}. {label(r['unit_name'])}" for r in part], fontsize=7.5)
            ax.set_ylim(per - 0.4, -0.6)
            ax.set_xlim(0, top * 1.1)
            ax.tick_params(axis="y", length=0)
            ax.tick_params(axis="x", labelsize=7)
            for edge, _tier in _tier_edges(tiers):
                ax.axvline(edge, color="white", linewidth=0.8)
            ax.grid(axis="x", color=GRID, linewidth=0.5)
            ax.set_axisbelow(True)
            ax.spines["left"].set_visible(False)
        return to_svg(fig, f"rank-{level['anchor']}", f"{t['ranking_chart']} — {level['label']}")


def _ranking_profile(
    level: dict[str, Any], tiers: list[dict[str, Any]], ctx: dict[str, Any], top: float
) -> str:
    """The totals of a level of thousands of units: units along x in rank order, the total up
    y, filled in each unit's tier colour (one shape per tier run, not an element per unit)."""
    t, lang = ctx["t"], ctx["lang"]
    rows = level["rows"]
    with _style(f"rank-{level['anchor']}"):
        fig = _figure(10.5, 3.4)
        ax = fig.add_subplot()
        start = 0
        while start < len(rows):  # runs of consecutive units with the same colour
            color = rows[start]["tier_color"]
            end = start
            while end < len(rows) and rows[end]["tier_color"] == color:
                end += 1
            xs = list(range(start + 1, end + 1))
            ys = [r["score"] or 0.0 for r in rows[start:end]]
            ax.fill_between(xs, 0, ys, step="mid", color=color, linewidth=0)
            start = end
        for edge, _tier in _tier_edges(tiers):
            ax.axhline(edge, color="white", linewidth=0.8)
        mean = level["stats"]["mean"]
        if mean is not None:
            ax.axhline(mean, color=INK, linewidth=0.9, linestyle=(0, (4, 2)))
            ax.text(
                len(rows),
                mean,
                f"{t['mean']}: {i18n.fmt_number(mean, lang)} ",
                ha="right",
                va="bottom",
                fontsize=7.5,
                color=INK,
            )
        ax.set_xlim(0.5, len(rows) + 0.5)
        ax.set_ylim(0, top * 1.02)
        ax.set_xlabel(t["units"] + f" ({t['rank'].lower()} 1 → {len(rows)})", fontsize=7.5)
        ax.set_ylabel(t["total"], fontsize=7.5)
        ax.grid(axis="y", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        return to_svg(fig, f"rank-{level['anchor']}", f"{t['ranking_chart']} — {level['label']}")


def rank_change(level: dict[str, Any], ctx: dict[str, Any], limit: int = 12) -> str | None:
    """Rank change since last year: up in green to the right, down in red to the left. With
    many units, the ``limit`` largest moves each way."""
    t, lang = ctx["t"], ctx["lang"]
    moved = [r for r in level["rows"] if r["rank_change"] is not None]
    if not moved:
        return None
    moved.sort(key=lambda r: (-r["rank_change"], r["rank"] or 0))
    if len(moved) > 2 * limit + 6:
        up = [r for r in moved if r["rank_change"] > 0][:limit]
        down = [r for r in moved if r["rank_change"] < 0][-limit:]
        moved = up + down
    year = ctx["previous"]["year"] if ctx["previous"] else ""
    with _style(f"move-{level['anchor']}"):
        fig = _figure(6.8, 0.7 + 0.17 * len(moved))
        ax = fig.add_subplot()
        ys = list(range(len(moved)))
        values = [r["rank_change"] for r in moved]
        ax.barh(
            ys,
            values,
            color=[UP if v > 0 else DOWN if v < 0 else MUTED for v in values],
            height=0.7,
        )
        span = max((abs(v) for v in values), default=1) or 1
        for y, r in zip(ys, moved, strict=True):
            v = r["rank_change"]
            prev = r["rank_previous"]
            note = f"{prev}→{r['rank']}" if prev is not None else str(r["rank"])
            ax.text(
                v + (span * 0.02 if v >= 0 else -span * 0.02),
                y,
                note,
                va="center",
                ha="left" if v >= 0 else "right",
                fontsize=7,
                color=MUTED,
            )
        ax.set_yticks(ys, [label(r["unit_name"]) for r in moved], fontsize=7.5)
        ax.set_ylim(len(moved) - 0.4, -0.6)
        ax.set_xlim(-span * 1.3, span * 1.3)
        ax.axvline(0, color=INK, linewidth=0.8)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_xlabel(f"{t['rank_change']} (▲ / ▼)")
        title = t["rank_change_chart"].format(year=year)
        del lang
        return to_svg(fig, f"move-{level['anchor']}", f"{title} — {level['label']}")


def _segments(pairs: list[tuple[tuple[float, float], tuple[float, float]]], **style: Any) -> Any:
    """Many line segments as one SVG path (a PathPatch), not one element per segment: a level
    of 3,000 units stays a few kilobytes."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    vertices = [point for pair in pairs for point in pair]
    codes = [Path.MOVETO, Path.LINETO] * len(pairs)
    return PathPatch(Path(vertices or [(0.0, 0.0)], codes or [Path.MOVETO]), fill=False, **style)


def rank_intervals(level: dict[str, Any], ctx: dict[str, Any]) -> str | None:
    """Each unit's 90 % rank interval (5th–95th percentile over the draws) as a bar and its
    published rank as a dot, units ordered by rank; bars of units with a survey sample warning
    in orange. Up to :data:`LABELLED_MAX` units each is named (side-by-side columns of
    :data:`ROWS_PER_COLUMN`); above it, a caterpillar plot: units along x in rank order, each
    interval drawn as places above and below the unit's published rank."""
    info = ctx.get("uncertainty")
    rows = [r for r in level["rows"] if r.get("interval") and r["interval"]["rank_p05"] is not None]
    if info is None or not rows:
        return None
    t = ctx["t"]
    n = level["n"]
    title = f"{t['interval_chart'].format(draws=info['draws_text'])} — {level['label']}"
    key = f"interval-{level['anchor']}"

    def span(r: dict[str, Any]) -> tuple[float, float]:
        return r["interval"]["rank_p05"] - 0.4, r["interval"]["rank_p95"] + 0.4

    from matplotlib.lines import Line2D

    legend = [
        Line2D([], [], color=ACCENT, linewidth=5, alpha=0.55, label=t["interval_legend_bar"]),
        Line2D(
            [],
            [],
            color=INK,
            marker="o",
            markersize=4,
            linestyle="",
            label=t["interval_legend_dot"],
        ),
    ]
    if any(r["interval"]["flagged"] for r in rows):
        legend.append(
            Line2D([], [], color=BELOW, linewidth=5, alpha=0.8, label=t["interval_legend_flag"])
        )
    with _style(key):
        if len(rows) <= LABELLED_MAX:
            columns = max(1, -(-len(rows) // ROWS_PER_COLUMN))
            per = -(-len(rows) // columns)
            fig = _figure(6.8 if columns == 1 else 10.5, 0.9 + 0.17 * per)
            axes = fig.subplots(1, columns, squeeze=False)[0]
            for c, ax in enumerate(axes):
                part = rows[c * per : (c + 1) * per]
                for flagged, color, alpha in ((False, ACCENT, 0.55), (True, BELOW, 0.8)):
                    pairs = [
                        ((span(r)[0], float(y)), (span(r)[1], float(y)))
                        for y, r in enumerate(part)
                        if r["interval"]["flagged"] == flagged
                    ]
                    if pairs:
                        ax.add_patch(
                            _segments(pairs, color=color, alpha=alpha, linewidth=6, capstyle="butt")
                        )
                ax.plot(
                    [r["rank"] for r in part],
                    list(range(len(part))),
                    linestyle="",
                    marker="o",
                    markersize=3.2,
                    color=INK,
                )
                ax.set_yticks(
                    list(range(len(part))),
                    [f"{r['rank']}. {label(r['unit_name'])}" for r in part],
                    fontsize=7.5,
                )
                ax.set_ylim(per - 0.4, -0.6)
                ax.set_xlim(0.3, n + 0.7)
                ax.xaxis.get_major_locator().set_params(integer=True)
                ax.tick_params(axis="y", length=0)
                ax.tick_params(axis="x", labelsize=7)
                ax.grid(axis="x", color=GRID, linewidth=0.5)
                ax.set_axisbelow(True)
                ax.spines["left"].set_visible(False)
                ax.set_xlabel(t["interval_axis"], fontsize=7.5)
            wide = columns > 1
        else:
            # thousands of units: each bar is drawn relative to the unit's published rank
            # (0), so that an interval of 20 places stays visible on a level of 3,000
            fig = _figure(10.5, 4.2)
            ax = fig.add_subplot()
            width = max(0.4, min(4.0, 0.8 * 10.5 * 72 / len(rows)))
            for flagged, color, alpha in ((False, ACCENT, 0.55), (True, BELOW, 0.9)):
                pairs = [
                    ((float(x), span(r)[0] - r["rank"]), (float(x), span(r)[1] - r["rank"]))
                    for x, r in enumerate(rows, start=1)
                    if r["interval"]["flagged"] == flagged
                ]
                if pairs:
                    ax.add_patch(
                        _segments(pairs, color=color, alpha=alpha, linewidth=width, capstyle="butt")
                    )
            ax.axhline(0, color=INK, linewidth=0.8)
            reach = max(max(abs(span(r)[0] - r["rank"]), abs(span(r)[1] - r["rank"])) for r in rows)
            ax.set_xlim(0, len(rows) + 1)
            ax.set_ylim(reach * 1.05 + 0.5, -reach * 1.05 - 0.5)
            ax.set_xlabel(t["units"] + f" ({t['rank'].lower()} 1 → {n})", fontsize=7.5)
            ax.set_ylabel(t["interval_axis_relative"], fontsize=7.5)
            ax.grid(axis="y", color=GRID, linewidth=0.5)
            ax.set_axisbelow(True)
            legend[1] = Line2D([], [], color=INK, linewidth=0.8, label=t["interval_legend_dot"])
            wide = True
        fig.legend(
            handles=legend,
            loc="outside upper left",
            ncols=3 if wide else 2,
            frameon=False,
            fontsize=7,
            handlelength=1.4,
        )
        return to_svg(fig, key, title)


def areas(level: dict[str, Any], ctx: dict[str, Any]) -> str:
    """Each area's spread across the level's units (box: middle half, whiskers: range, dots:
    units) and its mean (diamond), in % of the area's maximum."""
    t = ctx["t"]
    items = [a for a in level["areas"] if a["shares"]]
    with _style(f"areas-{level['anchor']}"):
        fig = _figure(6.8, 0.6 + 0.48 * len(items))
        ax = fig.add_subplot()
        data = [[s * 100 for s in a["shares"]] for a in items]
        ys = list(range(len(items)))
        if data:
            ax.boxplot(
                data,
                positions=ys,
                orientation="horizontal",
                widths=0.5,
                whis=(0, 100),
                patch_artist=True,
                showfliers=False,
                boxprops={"facecolor": "#dbeafe", "edgecolor": ACCENT, "linewidth": 0.8},
                medianprops={"color": ACCENT, "linewidth": 1.2},
                whiskerprops={"color": ACCENT, "linewidth": 0.8},
                capprops={"color": ACCENT, "linewidth": 0.8},
            )
        for y, values in zip(ys, data, strict=True):
            n = len(values)
            offsets = [((i * 0.618034) % 1 - 0.5) * 0.36 for i in range(n)]
            ax.scatter(
                values,
                [y + o for o in offsets],
                s=6,
                color="#64748b",
                alpha=0.55,
                linewidths=0,
                zorder=3,
            )
        for y, a in zip(ys, items, strict=True):
            mean = a["share"]["mean"] * 100
            ax.scatter(
                [mean],
                [y],
                marker="D",
                s=28,
                color="#f59e0b",
                edgecolor=INK,
                linewidths=0.6,
                zorder=4,
            )
        ax.set_yticks(ys, [wrap(a["name"], 40) for a in items], fontsize=7.5)
        ax.set_ylim(len(items) - 0.5, -0.5)
        ax.set_xlim(0, 102)
        ax.set_xlabel(f"% {t['maximum'].lower()}")
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        from matplotlib.lines import Line2D

        ax.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    marker="D",
                    color="#f59e0b",
                    markeredgecolor=INK,
                    linestyle="",
                    label=t["mean"],
                ),
                Line2D([], [], color=ACCENT, linewidth=1.2, label=t["median"]),
            ],
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncols=2,
            frameon=False,
            fontsize=7.5,
        )
        return to_svg(fig, f"areas-{level['anchor']}", f"{t['area_chart']} — {level['label']}")


@dataclass(frozen=True)
class ProfileFrame:
    """The part of a unit profile chart that every unit of a level shares — area names, axis,
    grid, legend and the 100 % track — drawn once by matplotlib, with the mapping from data
    coordinates (share in %, row) to SVG user units, so that each unit only adds its marks."""

    svg: str
    x0: float  # SVG x of 0 %
    x100: float  # SVG x of 100 %
    rows: tuple[float, ...]  # SVG y of each row's centre
    bar: float  # half the bar height in SVG units
    font: str
    key: str  # the id of its <symbol> on the page

    def x(self, percent: float) -> float:
        return self.x0 + (self.x100 - self.x0) * percent / 100

    @property
    def view_box(self) -> str:
        found = _VIEW_BOX.search(self.svg)
        assert found is not None, "matplotlib's SVG has a viewBox"
        return found.group(1)

    def symbol(self) -> str:
        """The frame as a ``<symbol>``, defined once on the page and drawn by every profile of
        the level with ``<use>`` (a profile then carries only its own marks)."""
        inner = self.svg[self.svg.index(">") + 1 : self.svg.rindex("</svg>")]
        inner = _prefix_ids(inner, self.key)
        return f'<symbol id="{self.key}" viewBox="{self.view_box}">{inner}</symbol>'


_VIEW_BOX = re.compile(r'viewBox="([^"]+)"')


def profile_defs(frames: list[ProfileFrame], extra: Sequence[str] = ()) -> str:
    """The page's one definition of every profile frame and of each level's marks (an SVG of
    no size, hidden from screen readers; each profile's ``<use>`` draws from it)."""
    symbols = "".join(frame.symbol() for frame in frames) + "".join(extra)
    return (
        '<svg class="chart-defs" aria-hidden="true" focusable="false" width="0" height="0" '
        f'xmlns="http://www.w3.org/2000/svg"><defs>{symbols}</defs></svg>'
    )


def profile_frame(names: list[str], ctx: dict[str, Any], key: str) -> ProfileFrame:
    t = ctx["t"]
    n = len(names)
    with _style(f"frame-{key}"):
        fig = _figure(5.6, 0.62 + 0.26 * n)
        ax = fig.add_subplot()
        ys = list(range(n))
        ax.barh(ys, [100] * n, color="#eef2f7", height=0.62)
        ax.set_yticks(ys, [wrap(name, 34) for name in names], fontsize=7.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, 108)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=7)
        ax.spines["left"].set_visible(False)
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color=ABOVE, label=t["above_mean"]),
                Patch(color=BELOW, label=t["below_mean"]),
                Line2D(
                    [],
                    [],
                    marker="|",
                    markersize=11,
                    markeredgewidth=1.6,
                    color=INK,
                    linestyle="",
                    label=t["level_mean"],
                ),
                Line2D(
                    [],
                    [],
                    marker="v",
                    markersize=6,
                    color="#f59e0b",
                    markeredgecolor=INK,
                    markeredgewidth=0.4,
                    linestyle="",
                    label=t["level_best"],
                ),
            ],
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncols=2,
            frameon=False,
            fontsize=7,
            handlelength=1.2,
            handletextpad=0.4,
            columnspacing=1.0,
            borderaxespad=0.2,
        )
        svg = raw_svg(fig)  # lays the figure out, so the transforms below are final
        height = fig.get_figheight() * 72
        to_display = ax.transData.transform
        x0, _ = to_display((0, 0))
        x100, _ = to_display((100, 0))
        rows = tuple(height - to_display((0, y))[1] for y in ys)
        bar = abs(to_display((0, 0.31))[1] - to_display((0, 0))[1])
    font = "font-size:7px"
    return ProfileFrame(svg, float(x0), float(x100), rows, float(bar), font, f"pf-{key}")


def level_marks(frame: ProfileFrame, items: list[dict[str, Any]]) -> str:
    """The level's mean (tick) and best (triangle) of each area, in the frame's coordinates:
    the same for every unit of a level, so defined once per level (:func:`profile_defs`)."""
    marks = []
    for y, area in zip(frame.rows, items, strict=True):
        if area["level_mean"] is not None:
            x = frame.x(area["level_mean"] * 100)
            marks.append(
                f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{y - frame.bar * 1.35:.2f}" '
                f'y2="{y + frame.bar * 1.35:.2f}" stroke="{INK}" stroke-width="1.6"/>'
            )
        if area["level_best"] is not None:
            x = frame.x(area["level_best"] * 100)
            top = y - frame.bar * 1.25
            marks.append(
                f'<path d="M{x - 3.2:.2f} {top - 4.6:.2f}H{x + 3.2:.2f}L{x:.2f} {top + 0.8:.2f}Z" '
                f'fill="#f59e0b" stroke="{INK}" stroke-width="0.4"/>'
            )
    return "".join(marks)


def profile(
    unit: dict[str, Any],
    ctx: dict[str, Any],
    frame: ProfileFrame,
    level_key: str | None = None,
) -> str:
    """A unit's areas in % of maximum (bars) against the level's mean (tick) and best
    (triangle). The frame is drawn by matplotlib once and defined once on the page
    (:func:`profile_defs`), and so are the level's marks when ``level_key`` names their
    symbol; the profile draws them with ``<use>`` around its own bars and values."""
    t, lang = ctx["t"], ctx["lang"]
    items = [a for a in unit["profile_areas"] if a["applicable"]]
    marks = ['<g class="marks">']
    for y, area in zip(frame.rows, items, strict=True):
        share = max(0.0, min(100.0, (area["share"] or 0.0) * 100))
        width = frame.x(share) - frame.x0
        mean = area["level_mean"]
        below = mean is not None and area["share"] is not None and area["share"] < mean - 1e-9
        marks.append(
            f'<rect x="{frame.x0:.2f}" y="{y - frame.bar:.2f}" width="{width:.2f}" '
            f'height="{2 * frame.bar:.2f}" fill="{BELOW if below else ABOVE}"/>'
        )
    marks.append(f'<use href="#{level_key}"/>' if level_key else level_marks(frame, items))
    for y, area in zip(frame.rows, items, strict=True):
        value = i18n.fmt_number((area["share"] or 0.0) * 100, lang, 0)
        marks.append(
            f'<text x="{frame.x(101.5):.2f}" y="{y:.2f}" dominant-baseline="central" '
            f'fill="{INK}" style="{frame.font}">{escape(value)}</text>'
        )
    marks.append("</g>")
    title = escape(f"{t['area_profile']} — {unit['unit_name']}")
    return (
        f'<svg class="chart" role="img" aria-label="{title}" viewBox="{frame.view_box}" '
        f'xmlns="http://www.w3.org/2000/svg"><use href="#{frame.key}"/>{"".join(marks)}</svg>'
    )


def all_charts(ctx: dict[str, Any]) -> dict[str, Any]:
    """Every chart of the report, keyed for the template: per level (distribution, ranking,
    rank change, rank intervals, areas) and per unit anchor (profile)."""
    levels = {}
    for level in ctx["levels"]:
        levels[level["id"]] = {
            "distribution": distribution(level, ctx["tiers"], ctx),
            "ranking": ranking(level, ctx["tiers"], ctx),
            "rank_change": rank_change(level, ctx) if ctx["previous"] else None,
            "intervals": rank_intervals(level, ctx),
            "areas": areas(level, ctx),
        }
    frames: dict[tuple[str, ...], ProfileFrame] = {}
    marks: dict[tuple[str, tuple[str, ...]], str] = {}  # (level, areas) → <symbol> id
    symbols: list[str] = []
    profiles = {}
    for unit in ctx["profiles"]:
        items = [a for a in unit["profile_areas"] if a["applicable"]]
        names = tuple(a["name"] for a in items)
        if names not in frames:
            frames[names] = profile_frame(list(names), ctx, str(len(frames)))
        frame = frames[names]
        key = (str(unit["level"]), names)
        if key not in marks:
            marks[key] = f"{frame.key}-m{len(marks)}"
            symbols.append(
                f'<symbol id="{marks[key]}" viewBox="{frame.view_box}">'
                f"{level_marks(frame, items)}</symbol>"
            )
        profiles[unit["anchor"]] = profile(unit, ctx, frame, marks[key])
    return {
        "levels": levels,
        "profiles": profiles,
        "profile_defs": profile_defs(list(frames.values()), symbols),
    }
