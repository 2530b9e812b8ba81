"""The HTML report: one self-contained file (styles, script and charts inline, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import i18n


def environment(lang: str) -> Any:
    """The jinja2 environment of the report templates, with number filters for ``lang``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("par_index", "annual_report/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=2: i18n.fmt_number(v, lang, d)
    env.filters["signed"] = lambda v, d=2: i18n.fmt_number(v, lang, d, sign=True)
    env.filters["pct"] = lambda v, d=1: i18n.fmt_percent(v, lang, d)
    env.filters["pct_signed"] = lambda v, d=1: i18n.fmt_percent(v, lang, d, sign=True)
    env.filters["pp"] = lambda v, d=1: i18n.fmt_number(
        None if v is None else v * 100, lang, d, sign=True
    )
    env.filters["rank_change"] = i18n.fmt_int_change
    env.filters["direction"] = direction
    env.filters["sortkey"] = sort_key
    return env


def direction(value: Any) -> str:
    """CSS class of a change: up, down or flat (missing: none)."""
    if not i18n.is_number(value):
        return "none"
    number = float(value)
    if number > 1e-9:
        return "up"
    if number < -1e-9:
        return "down"
    return "flat"


def sort_key(value: Any) -> str:
    """The ``data-sort`` value of a numeric cell: full precision, empty when missing."""
    if not i18n.is_number(value):
        return ""
    return repr(float(value))


def render_html(ctx: dict[str, Any], charts: dict[str, Any]) -> str:
    template = environment(ctx["lang"]).get_template("report.html.j2")
    return str(template.render(**ctx, charts=charts))


def write_html(ctx: dict[str, Any], charts: dict[str, Any], path: Path) -> Path:
    from ..io.writers import atomic_write

    text = render_html(ctx, charts)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
