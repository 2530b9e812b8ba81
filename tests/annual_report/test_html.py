"""The HTML report read as a user would: every unit there, numbers equal to the results, one
self-contained file with nothing loaded from the network."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from par_index.annual_report import build_context, charts, i18n, report_name
from par_index.annual_report.html import render_html

from .conftest import HOSTILE, HOSTILE_AREA


class Page(HTMLParser):
    """Collects what the tests look at: ids, links, the ranking cells and profiles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.tags: Counter[str] = Counter()
        self.ranking: dict[str, dict[str, str]] = {}
        self.profiles: dict[str, str] = {}
        self.lang = ""
        self._row: str | None = None
        self._level: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        if tag == "html":
            self.lang = values.get("lang", "")
        if "id" in values:
            self.ids.append(values["id"])
        for key in ("src", "href", "xlink:href", "action", "data", "poster", "srcset"):
            if key in values:
                self.urls.append((tag, key, values[key]))
        if tag == "table" and "ranking" in values.get("class", ""):
            self._level = values.get("data-level")
        if tag == "tr" and self._level and "data-unit" in values:
            self._row = values["data-unit"]
            self.ranking[self._row] = {"level": self._level}
        if tag == "td" and self._row and "total" in values.get("class", "").split():
            self.ranking[self._row]["total"] = values["data-value"]
        if tag == "article" and "profile" in values.get("class", "").split():
            self.profiles[values["data-unit"]] = values["id"]

    def handle_endtag(self, tag):
        if tag == "table":
            self._level = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page(report: SimpleNamespace) -> Page:
    parsed = Page()
    parsed.feed(report.html)
    return parsed


def test_both_files_are_written(report, samples):
    assert report.paths["html"] == report.out / "index.html"
    assert report.paths["xlsx"] == report.out / f"{report_name(samples.r25)}.xlsx"
    assert report.paths["xlsx"].name == "par-2025.xlsx"
    assert all(p.exists() and p.stat().st_size > 10_000 for p in report.paths.values())
    assert sorted(p.name for p in report.out.iterdir()) == ["index.html", "par-2025.xlsx"]


def test_every_unit_has_a_row_and_a_profile(page, samples):
    units = set(samples.r25.ranking["unit_id"])
    assert set(page.ranking) == units
    assert set(page.profiles) == units
    text = "".join(page.text)
    for name in samples.r25.ranking["unit_name"]:
        assert name in text


def test_totals_equal_the_results(page, samples):
    for rec in samples.r25.ranking.to_dict(orient="records"):
        row = page.ranking[rec["unit_id"]]
        assert row["level"] == rec["level"]
        assert float(row["total"]) == rec["score"]


def test_displayed_numbers_are_the_results_rounded(report, samples):
    html = report.html
    best = samples.r25.level("department").iloc[0]
    shown = i18n.fmt_number(best["score"], "vi")
    assert f'data-value="{float(best["score"])!r}">{shown}</td>' in html
    # the profile's total, rank and change
    change = samples.comparison.changes
    row = change[(change["unit_id"] == best["unit_id"]) & (change["node_id"] == "par-2025")]
    assert i18n.fmt_number(float(row["score_change"].iloc[0]), "vi", sign=True) in html


def test_no_network_address_anywhere(page, report):
    external = [u for u in page.urls if re.match(r"\s*(?:[a-z][a-z0-9+.-]*:)?//", u[2], re.I)]
    assert external == []
    assert all(url.startswith("#") for _tag, _key, url in page.urls)
    html = report.html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*https?:""", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?https?:", html)
    assert page.tags["link"] == 0 and page.tags["iframe"] == 0 and page.tags["img"] == 0


def test_self_contained_with_inline_style_script_and_charts(page, report, samples):
    assert page.tags["style"] == 1 and page.tags["script"] == 1
    assert "<script src" not in report.html
    levels = len(samples.r25.levels)
    units = len(samples.r25.ranking)
    # distribution, ranking, rank change, rank intervals and areas per level, a profile per unit
    # (+1: the page's one definition of the profile frames, drawn by each profile with <use>)
    assert page.tags["svg"] == 5 * levels + units + 1
    # each profile draws the shared frame and its level's marks (mean, best) from symbols
    assert report.html.count("<use href=\"#pf-") == 2 * units and page.tags["symbol"] >= 2
    assert 'id="report-status" data-js="pending"' in report.html


def test_ids_are_unique(page):
    duplicated = [i for i, n in Counter(page.ids).items() if n > 1]
    assert duplicated == []


def test_chart_text_is_text(report):
    html = report.html
    assert "<text" in html and "DejaVu Sans" in html
    assert 'id="DejaVuSans-' not in html  # glyphs would be paths with svg.fonttype "path"
    assert "<?xml" not in html and "<metadata" not in html


def test_lang_and_vietnamese_labels(page, report):
    assert page.lang == "vi"
    for label in ("Bảng xếp hạng", "Hồ sơ từng đơn vị", "Phương pháp", "Chỉ tiêu yếu"):
        assert label in report.html


def test_sortable_tables_and_print_stylesheet(report):
    html = report.html
    assert html.count('class="ranking sortable"') == 2
    assert "@media print" in html and ".profile { break-before: page; }" in html
    assert "@page" in html and "thead { display: table-header-group; }" in html


def test_method_and_comparability_notes(report):
    html = report.html
    assert "Hoàn thành 100% kế hoạch: 3 điểm" in html  # official text quoted
    assert "Tỷ lệ hồ sơ thanh toán trực tuyến" in html
    assert "không hoàn toàn so sánh được" in html
    assert "bảng chuyển đổi" in html  # the crosswalk note
    assert "Huyện Mộc Châu" in html  # districts present in 2024 only


def _stub_charts(ctx):
    svg = '<svg class="chart"></svg>'
    return {
        "levels": {
            lv["id"]: dict.fromkeys(
                ("distribution", "ranking", "rank_change", "intervals", "areas"), svg
            )
            for lv in ctx["levels"]
        },
        "profiles": dict.fromkeys((p["anchor"] for p in ctx["profiles"]), svg),
        "profile_defs": "",
    }


def test_english_report(samples):
    ctx = build_context(samples.r25, samples.comparison, samples.weak, lang="en")
    html = render_html(ctx, _stub_charts(ctx))
    parsed = Page()
    parsed.feed(html)
    assert parsed.lang == "en"
    assert "Unit profiles" in html and "Weak indicators" in html
    assert "Direction and management of PAR" in html  # area name_en
    assert "Public Administration Reform Index 2025 (sample)" in html
    assert "Hồ sơ từng đơn vị" not in html
    assert set(parsed.profiles) == set(samples.r25.ranking["unit_id"])


def test_user_text_is_escaped(hostile_results, samples):
    ctx = build_context(hostile_results, samples.comparison, samples.weak)
    html = render_html(ctx, _stub_charts(ctx))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<b>area</b>" not in html and "=1+1 &lt;b&gt;area&lt;/b&gt;" in html
    parsed = Page()
    parsed.feed(html)
    assert HOSTILE["S05"] in "".join(parsed.text)
    assert parsed.tags["script"] == 1


def test_charts_keep_user_text_literal(hostile_results):
    ctx = build_context(hostile_results)
    level = ctx["levels"][0]
    svg = charts.ranking(level, ctx["tiers"], ctx)
    assert "&lt;script&gt;" in svg and "<script>" not in svg
    assert "$x^2$" in svg  # not read as mathtext
    frame_names = [a["name"] for a in ctx["profiles"][0]["profile_areas"] if a["applicable"]]
    assert HOSTILE_AREA in frame_names
    frame = charts.profile_frame(frame_names, ctx, "h")
    assert "=1+1 &lt;b&gt;area&lt;/b&gt;" in frame.symbol()
    hostile_unit = next(p for p in ctx["profiles"] if p["unit_id"] == "S05")
    profile = charts.profile(hostile_unit, ctx, frame)
    assert "&lt;script&gt;" in profile and "<script>" not in profile  # the unit's name


def test_profile_chart_marks_follow_the_shares(samples):
    ctx = build_context(samples.r25, samples.comparison, samples.weak)
    unit = ctx["profiles"][0]
    items = [a for a in unit["profile_areas"] if a["applicable"]]
    frame = charts.profile_frame([a["name"] for a in items], ctx, "t")
    svg = charts.profile(unit, ctx, frame)
    marks = svg[svg.index('<g class="marks">') :]
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', marks)]
    assert len(widths) == len(items)
    full = frame.x(100) - frame.x(0)
    for width, area in zip(widths, items, strict=True):
        assert width == pytest.approx(area["share"] * full, abs=0.01)


def test_group_averages_in_the_summary(report, samples):
    tables = re.findall(r'<table class="data compact group-stats">.*?</table>', report.html, re.S)
    assert len(tables) == 2  # departments (Sở / Cơ quan khác) and communes (Xã / Phường / …)
    groups = set(re.findall(r'<tr data-group="([^"]+)">', "".join(tables)))
    assert groups == set(samples.r25.ranking["group"].dropna())
