"""The annual report: a formatted Excel workbook and a self-contained HTML report.

>>> import par_index as pi
>>> from par_index.annual_report import render_report
>>> r25 = pi.score(pi.bundled_path("criteria/par-2025.yaml"), pi.sample_inputs(2025))
>>> paths = render_report(r25, "report-2025/")              # doctest: +SKIP
>>> sorted(paths)                                            # doctest: +SKIP
['html', 'xlsx']

``comparison`` (from :func:`par_index.compare`) adds the year-over-year columns, movers and
rank-change chart; ``weak`` (from :func:`par_index.low_ranking`) adds each unit's weak indicators
and each level's largest losses; ``uncertainty`` (from :func:`par_index.uncertainty`) adds rank
intervals. Without them those parts are left out, never computed here: the
report only presents results.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..results import Comparison, Results, Uncertainty, WeakReport

__all__ = ["build_context", "render_report", "report_name"]


def build_context(
    results: Results,
    comparison: Comparison | None = None,
    weak: WeakReport | None = None,
    lang: str = "vi",
    uncertainty: Uncertainty | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as plain render-ready dicts (see :mod:`.context`)."""
    from .context import build_context as _build

    return _build(results, comparison, weak, lang, uncertainty)


def report_name(results: Results) -> str:
    """``<index>-<year>`` (the year is left out when the index id already ends with it), safe as
    a file name."""
    spec = results.spec
    name = spec.id
    if spec.year is not None and not name.endswith(str(spec.year)):
        name = f"{name}-{spec.year}"
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)


def render_report(
    results: Results,
    out_dir: str | Path,
    *,
    comparison: Comparison | None = None,
    weak: WeakReport | None = None,
    lang: str = "vi",
    uncertainty: Uncertainty | None = None,
) -> dict[str, Path]:
    """Write ``out_dir/<index>-<year>.xlsx`` and ``out_dir/index.html``; return their paths
    (keys ``xlsx`` and ``html``). Each file is written atomically.

    ``uncertainty`` (from :func:`par_index.uncertainty`, on the same criteria and inputs) adds
    each unit's 90 % rank interval to the ranking tables and profiles, a rank-interval chart
    per level and what the ranking hangs on; one computed from other data is refused."""
    from .. import progress
    from . import charts
    from .context import build_context as _build
    from .excel import write_workbook
    from .html import write_html

    if comparison is not None and comparison.current is not results:
        _check_same(results, comparison)
    out = Path(out_dir)
    progress.stage("report: preparing the tables")
    ctx = _build(results, comparison, weak, lang, uncertainty)
    progress.stage("report: drawing the charts")
    drawn = charts.all_charts(ctx)
    progress.stage("report: writing the workbook")
    workbook = write_workbook(ctx, out / f"{report_name(results)}.xlsx")
    progress.stage("report: writing the HTML page")
    html = write_html(ctx, drawn, out / "index.html")
    return {"xlsx": workbook, "html": html}


def _check_same(results: Results, comparison: Comparison) -> None:
    from ..errors import ParIndexError

    current = comparison.current
    if current.spec.id != results.spec.id or set(current.ranking["unit_id"]) != set(
        results.ranking["unit_id"]
    ):
        raise ParIndexError(
            "the comparison must be of these results: its current year is "
            f"'{current.spec.id}' ({len(current.ranking)} units). Got results "
            f"'{results.spec.id}' ({len(results.ranking)} units) instead."
        )
