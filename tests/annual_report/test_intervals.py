"""Rank intervals in the report (annual_report/intervals.py): the uncertainty output matched to the
results, shown in the ranking tables, profiles, chart, method and workbook — and refused when it
was computed from other criteria or data."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import par_index as pi
from par_index.annual_report import build_context, charts, excel, i18n
from par_index.annual_report.intervals import SENSITIVITY_N
from par_index.cli import app
from par_index.errors import DataError
from par_index.io.results_reader import read_uncertainty
from par_index.io.writers import write_results, write_tables
from par_index.spec.loader import dump_spec

from .test_excel import FIRST, HEADER, headers


@pytest.fixture(scope="module")
def ctx(samples: SimpleNamespace) -> dict:
    return build_context(samples.r25, samples.comparison, samples.weak, uncertainty=samples.unc)


def _units(samples: SimpleNamespace) -> pd.DataFrame:
    return samples.unc.units.set_index("unit_id")


def test_every_row_carries_its_interval(samples, ctx):
    units = _units(samples)
    seen = 0
    for level in ctx["levels"]:
        for row in level["rows"]:
            expected = units.loc[row["unit_id"]]
            interval = row["interval"]
            assert interval["rank_p05"] == expected["rank_p05"]
            assert interval["rank_p95"] == expected["rank_p95"]
            assert interval["rank_median"] == expected["rank_median"]
            assert interval["p_top_k"] == expected["p_top_k"]
            assert interval["width"] == expected["rank_p95"] - expected["rank_p05"]
            assert interval["group_p05"] == expected["rank_in_group_p05"]
            assert interval["group_p95"] == expected["rank_in_group_p95"]
            assert interval["rank_p05"] <= row["rank"] <= interval["rank_p95"]
            assert interval["p_tiers"] == {
                t.name: expected[f"p_tier_{t.name}"] for t in samples.r25.spec.tiers
            }
            seen += 1
    assert seen == len(samples.r25.ranking)
    profile = next(p for p in ctx["profiles"] if p["unit_id"] == "14052")
    assert profile["interval"] is not None and profile["interval"]["flagged"]


def test_flagged_units_name_their_indicators(samples, ctx):
    rows = {r["unit_id"]: r for level in ctx["levels"] for r in level["rows"]}
    flagged = {u for u, r in rows.items() if r["interval"]["flagged"]}
    assert flagged == set(samples.unc.units.loc[samples.unc.units["flagged"], "unit_id"])
    assert flagged == {"14052", "S15"}
    commune = rows["14052"]["interval"]
    survey = samples.unc.survey
    expected = survey[(survey["unit_id"] == "14052") & (survey["flag_n"] | survey["flag_margin"])]
    assert [f["node_id"] for f in commune["flags"]] == list(expected["node_id"])
    assert all(f["n_valid"] == 12 and f["small_n"] for f in commune["flags"])
    assert commune["flag_text"].startswith("Tiếp cận dịch vụ: ít phiếu (n = 12)")
    worst = expected.loc[expected["margin_95"].idxmax()]
    assert i18n.fmt_number(worst["margin_95"], "vi", 3) in commune["flag_text"]
    # a department without respondents: n = 0, and no margin to show
    department = rows["S15"]["interval"]
    assert "n = 0" in department["flag_text"] and "sai số" not in department["flag_text"]
    assert all(r["interval"]["flag_text"] is None for u, r in rows.items() if u not in flagged)


def test_level_summary(samples, ctx):
    units = samples.unc.units
    for level in ctx["levels"]:
        part = units[units["level"] == level["id"]]
        widths = (part["rank_p95"] - part["rank_p05"]).astype(int)
        summary = level["intervals"]
        assert summary["median_width"] == pytest.approx(float(np.median(widths)))
        assert summary["max_width"] == widths.max()
        assert summary["exact"] == int((widths == 0).sum())
        assert summary["flagged"] == int(part["flagged"].sum()) == 1


def test_method_sources_and_sensitivity(samples, ctx):
    info = ctx["uncertainty"]
    assert info["draws"] == 300 and info["seed"] == 11 and info["top_k"] == 10
    assert info["sources"] == [i18n.strings("vi")["unc_source_survey"]]
    assert info["thresholds"] == ["dưới 30 phiếu hợp lệ", "sai số biên 95\u00a0% lớn hơn 0,1"]
    removal = samples.unc.removal
    for level in ctx["levels"]:
        rows = info["sensitivity"][level["id"]]
        assert len(rows) == int((removal["level"] == level["id"]).sum())
        shifts = [r["mean_shift"] for r in rows]
        assert shifts == sorted(shifts, reverse=True)
        top = removal[removal["level"] == level["id"]]["mean_abs_rank_shift"].max()
        assert shifts[0] == top


def test_method_names_declared_weights_and_alternatives(samples):
    spec = samples.r25.spec
    settings = spec.uncertainty.model_copy(
        update={
            "weights": [pi.spec.uncertainty.WeightRange(node="tthc", range=[0.8, 1.2])],
            "alternatives": [
                pi.spec.uncertainty.RuleAlternative(
                    node="giai_ngan", rule=pi.spec.rules.MinMaxRule(kind="minmax")
                ),
                pi.spec.uncertainty.AggregationAlternative(
                    node=spec.id, aggregation="geometric_mean", zero_floor=0.01
                ),
            ],
        }
    )
    varied = spec.model_copy(update={"uncertainty": settings})
    unc = pi.uncertainty(varied, pi.sample_inputs(2025), draws=40, seed=2)
    results = pi.score(varied, pi.sample_inputs(2025))
    sources = build_context(results, uncertainty=unc, lang="en")["uncertainty"]["sources"]
    assert sources[0].startswith("each unit's survey respondents resampled")
    assert sources[1] == "weight of “Administrative-procedure reform” scaled by a factor in 0.8–1.2"
    assert sources[2].startswith(
        "“Public investment disbursed”: alternative method (min–max across the level"
    )
    assert sources[3].endswith("(geometric mean of the children)")


def test_another_years_uncertainty_is_refused(samples):
    other = pi.uncertainty(samples.r24.spec, pi.sample_inputs(2024), draws=20, seed=0)
    with pytest.raises(DataError) as caught:
        build_context(samples.r25, uncertainty=other)
    codes = {issue.code for issue in caught.value.issues}
    assert codes == {"uncertainty_mismatch"}
    text = str(caught.value)
    assert "'par-2024'" in text and "only in the results" in text and "14001" in text


def test_uncertainty_of_other_data_is_refused(samples):
    inputs = pi.sample_inputs(2025)
    survey = pd.read_csv(inputs["survey"], dtype={"unit_id": str, "respondent_id": str})
    fewer = survey[~((survey["unit_id"] == "14052") & (survey.index % 2 == 0))]
    other = pi.uncertainty(samples.r25.spec, {**inputs, "survey": fewer}, draws=20, seed=0)
    with pytest.raises(DataError, match="not computed from these results") as caught:
        build_context(samples.r25, uncertainty=other)
    messages = [issue.message for issue in caught.value.issues]
    assert any("another nominal score" in m and "14052" in m for m in messages)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json", ".parquet"])
def test_report_from_an_uncertainty_file(samples, ctx, tmp_path, suffix):
    path = tmp_path / f"u{suffix}"
    unc = samples.unc
    write_tables(unc.tables(), path, run=unc.run, criteria=dump_spec(unc.spec))
    again = read_uncertainty(path)
    read_ctx = build_context(samples.r25, samples.comparison, samples.weak, uncertainty=again)
    keys = ("rank_p05", "rank_p95", "rank_median", "p_top_k", "flagged", "flag_text", "width")
    for level, read_level in zip(ctx["levels"], read_ctx["levels"], strict=True):
        for row, read_row in zip(level["rows"], read_level["rows"], strict=True):
            assert {k: row["interval"][k] for k in keys} == {
                k: read_row["interval"][k] for k in keys
            }
    read_info, info = read_ctx["uncertainty"], ctx["uncertainty"]
    assert {k: v for k, v in read_info.items() if k != "sensitivity"} == {
        k: v for k, v in info.items() if k != "sensitivity"
    }
    for level, rows in info["sensitivity"].items():
        read_rows = read_info["sensitivity"][level]
        assert [r["node_id"] for r in read_rows] == [r["node_id"] for r in rows]
        assert [r["mean_shift"] for r in read_rows] == pytest.approx(
            [r["mean_shift"] for r in rows], rel=1e-14
        )


def test_html_shows_intervals_chart_and_warnings(report, samples):
    html = report.html
    units = _units(samples)
    cells = dict(
        re.findall(
            r'<tr data-unit="([^"]+)">\s*<td class="num" data-sort="[^"]*">[^<]*</td>\s*'
            r'<td class="num [a-z ]+"(?: title="[^"]*")? data-sort="[^"]*">[^<]*</td>\s*'
            r'<td class="num interval" data-sort="[^"]*">([^<]*)</td>',
            html,
        )
    )
    assert set(cells) == set(units.index)
    for unit_id, shown in cells.items():
        low, high = units.loc[unit_id, ["rank_p05", "rank_p95"]]
        assert shown == (str(low) if low == high else f"{low}–{high}")
    flags = re.findall(r'<tr data-unit="([^"]+)">(?:(?!</tr>).)*?<abbr class="flag"', html, re.S)
    assert set(flags) == {"14052", "S15"}
    notes = re.findall(
        r'data-unit="([^"]+)">(?:(?!</article>).)*?<p class="flag-note">', html, re.S
    )
    assert set(notes) == {"14052", "S15"}
    for level in samples.r25.levels:
        label = i18n.level_label(level, "vi")
        assert f'aria-label="Khoảng hạng 90\u00a0% qua 300 lần tính lại — {label}"' in html
    assert 'id="uncertainty"' in html
    tables = re.findall(r'<table class="data compact sensitivity">.*?</table>', html, re.S)
    assert len(tables) == len(samples.r25.levels)
    assert all(t.count("<tr data-node=") == SENSITIVITY_N for t in tables)


def test_workbook_uncertainty_and_sensitivity_sheets(report, samples):
    book = openpyxl.load_workbook(report.paths["xlsx"])
    sheet = book["Độ tin cậy hạng"]
    col = headers(sheet)
    units = _units(samples)
    seen = set()
    row = FIRST
    while sheet.cell(row, col["Mã"]).value is not None:
        unit_id = sheet.cell(row, col["Mã"]).value
        expected = units.loc[unit_id]
        assert sheet.cell(row, col["Khoảng hạng 90\u00a0% — từ"]).value == expected["rank_p05"]
        assert sheet.cell(row, col["Khoảng hạng 90\u00a0% — đến"]).value == expected["rank_p95"]
        assert sheet.cell(row, col["Khoảng điểm 90\u00a0% — từ"]).value == pytest.approx(
            expected["score_p05"], rel=1e-15
        )
        assert sheet.cell(row, col["Hạng trung vị"]).value == expected["rank_median"]
        group = (
            "Hạng trong nhóm, khoảng 90\u00a0% — từ",
            "Hạng trong nhóm, khoảng 90\u00a0% — đến",
        )
        assert sheet.cell(row, col[group[0]]).value == expected["rank_in_group_p05"]
        assert sheet.cell(row, col[group[1]]).value == expected["rank_in_group_p95"]
        for tier in samples.r25.spec.tiers:
            assert sheet.cell(row, col[f"Xác suất xếp loại {tier.name}"]).value == pytest.approx(
                expected[f"p_tier_{tier.name}"], rel=1e-15
            )
        seen.add(unit_id)
        row += 1
    assert seen == set(units.index)
    sensitivity = book["Độ nhạy"]
    col = headers(sensitivity)
    count = 0
    while sensitivity.cell(FIRST + count, col["Mã"]).value is not None:
        count += 1
    assert count == len(samples.unc.removal)
    assert sensitivity.cell(HEADER - 2, 1).value == i18n.strings("vi")["sensitivity_note"]


def test_without_uncertainty_nothing_of_it_shows(samples):
    ctx = build_context(samples.r25)
    assert ctx["uncertainty"] is None
    assert all(r["interval"] is None for level in ctx["levels"] for r in level["rows"])
    assert all(level["intervals"] is None for level in ctx["levels"])
    assert charts.rank_intervals(ctx["levels"][0], ctx) is None
    headers = [c.header for c in excel.ranking_columns(ctx, ctx["levels"][0])]
    assert not any("Khoảng hạng" in h for h in headers)


def _synthetic_level(n: int, rng: np.random.Generator) -> dict:
    rows = []
    for rank in range(1, n + 1):
        half = int(rng.integers(0, 30))
        rows.append(
            {
                "rank": rank,
                "unit_name": f"Xã số {rank}",
                "interval": {
                    "rank_p05": max(1, rank - half),
                    "rank_p95": min(n, rank + half),
                    "flagged": bool(rng.random() < 0.05),
                },
            }
        )
    return {"rows": rows, "n": n, "label": "Xã, phường", "anchor": "level-x"}


def test_chart_names_every_unit_up_to_the_limit():
    ctx = {"t": i18n.strings("vi"), "lang": "vi", "uncertainty": {"draws_text": "1.000"}}
    level = _synthetic_level(charts.LABELLED_MAX, np.random.default_rng(1))
    svg = charts.rank_intervals(level, ctx)
    assert svg is not None
    assert all(f">{r['rank']}. Xã số {r['rank']}<" in svg for r in level["rows"])


def test_caterpillar_for_thousands_of_units_stays_small():
    ctx = {"t": i18n.strings("en"), "lang": "en", "uncertainty": {"draws_text": "1,000"}}
    level = _synthetic_level(3000, np.random.default_rng(2))
    svg = charts.rank_intervals(level, ctx)
    assert svg is not None
    assert "Xã số 17" not in svg  # no names: units along the axis instead
    assert "Places from the published rank" in svg
    # one path per colour for 3,000 bars, not an element per bar
    assert svg.count("<path") < 200
    assert len(svg) < 250_000


def test_cli_report_with_uncertainty(tmp_path: Path, samples):
    write_results(samples.r25, tmp_path / "r25.xlsx")
    unc = samples.unc
    write_tables(unc.tables(), tmp_path / "u.csv", run=unc.run, criteria=dump_spec(unc.spec))
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "report",
            str(tmp_path / "r25.xlsx"),
            "--uncertainty",
            str(tmp_path / "u.csv"),
            "--out",
            str(tmp_path / "report"),
            "--lang",
            "en",
        ],
    )
    assert done.exit_code == 0, done.output
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "Rank interval (90%)" in html and "What the ranking hangs on" in html
    # results written by par-index score carry their intervals: the report shows them unasked
    write_results(replace(samples.r25, uncertainty=unc), tmp_path / "r25u.parquet")
    carried = runner.invoke(
        app, ["report", str(tmp_path / "r25u.parquet"), "--out", str(tmp_path / "report2")]
    )
    assert carried.exit_code == 0, carried.output
    html = (tmp_path / "report2" / "index.html").read_text(encoding="utf-8")
    assert "Khoảng hạng 90\u00a0%" in html and 'id="uncertainty"' in html
    other = pi.uncertainty(samples.r24.spec, pi.sample_inputs(2024), draws=10, seed=0)
    write_tables(
        other.tables(), tmp_path / "u24.json", run=other.run, criteria=dump_spec(other.spec)
    )
    bad = runner.invoke(
        app,
        [
            "report",
            str(tmp_path / "r25.xlsx"),
            "--uncertainty",
            str(tmp_path / "u24.json"),
            "--out",
            str(tmp_path / "r2"),
        ],
    )
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "u24.json: it is of the index 'par-2024'" in bad.output
    assert not (tmp_path / "r2" / "index.html").exists()


def test_rank_changes_within_this_years_interval_are_marked(samples, ctx, report):
    units = _units(samples)
    expected = set()
    for level in ctx["levels"]:
        moved = [r for r in level["rows"] if r["rank_change"]]
        for row in moved:
            low, high = units.loc[row["unit_id"], ["rank_p05", "rank_p95"]]
            within = low <= row["rank_previous"] <= high
            assert row["move_within_interval"] == within
            if within:
                expected.add(row["unit_id"])
        assert level["intervals"]["moved"] == len(moved)
        assert level["intervals"]["moved_within"] == sum(
            1 for r in moved if r["unit_id"] in expected
        )
        assert not any(r["move_within_interval"] for r in level["rows"] if not r["rank_change"])
    assert expected  # the samples have such moves, and others
    faded = set(
        re.findall(
            r'<tr data-unit="([^"]+)">\s*<td[^>]*>[^<]*</td>\s*<td class="num '
            r'[a-z]+ ns"',
            report.html,
        )
    )
    assert faded == expected
    book = openpyxl.load_workbook(report.paths["xlsx"])
    sheet = book["Xếp hạng - Xã, phường"]
    col = headers(sheet)
    marks = {
        sheet.cell(r, col["Mã"]).value: sheet.cell(r, col["Đổi hạng trong khoảng 90\u00a0%"]).value
        for r in range(FIRST, sheet.max_row + 1)
        if sheet.cell(r, col["Mã"]).value in units.index
    }
    assert {u for u, v in marks.items() if v == "Có"} == expected & set(marks)


def test_when_nothing_varies_only_the_sensitivity_is_shown(samples, tmp_path):
    spec = samples.r25.spec
    still = spec.model_copy(
        update={"uncertainty": spec.uncertainty.model_copy(update={"survey": False})}
    )
    results = pi.score(still, pi.sample_inputs(2025), draws=20)
    ctx = build_context(results, uncertainty=results.uncertainty)
    assert ctx["uncertainty"]["varies"] is False
    assert all(r["interval"] is None for lv in ctx["levels"] for r in lv["rows"])
    assert ctx["uncertainty"]["sensitivity"]  # what the ranking hangs on is still worth showing
    paths = pi.report(results, tmp_path / "still")
    html = paths["html"].read_text(encoding="utf-8")
    assert 'class="num interval"' not in html and "interval-chart" not in html
    assert 'id="uncertainty"' in html and "sensitivity" in html
    sheets = openpyxl.load_workbook(paths["xlsx"]).sheetnames
    assert "Độ nhạy" in sheets and "Độ tin cậy hạng" not in sheets


def test_weak_indicators_on_a_small_sample_are_marked_in_the_report(samples, tmp_path):
    # every indicator short of the level's best is "weak" here, so 14052's survey ones are too
    paths = pi.report(samples.r25, tmp_path / "weak", uncertainty=samples.unc, bottom_share=1.0)
    survey = samples.unc.survey
    flagged = set(
        zip(
            survey.loc[survey["flag_n"] | survey["flag_margin"], "unit_id"],
            survey.loc[survey["flag_n"] | survey["flag_margin"], "node_id"],
            strict=True,
        )
    )
    sheet = openpyxl.load_workbook(paths["xlsx"])["Chỉ tiêu yếu"]
    col = headers(sheet)
    marked, listed = set(), set()
    for row in range(FIRST, sheet.max_row + 1):
        unit = sheet.cell(row, col["Mã"]).value
        if unit is None:
            continue
        node = sheet.cell(row, col["Chỉ tiêu"]).value
        listed.add((unit, node))
        if sheet.cell(row, col["Cảnh báo mẫu khảo sát"]).value == "Có":
            marked.add((unit, node))
    names = {n.id: n.name for n, _, _ in samples.r25.spec.iter_nodes()}
    expected = {(u, names[n]) for u, n in flagged} & listed
    assert marked == expected and marked  # 14052's thu_tuc, phan_anh, ket_qua, tiep_can


def test_compare_marks_the_same_moves_when_the_results_carry_intervals(samples, ctx):
    carried = replace(samples.r25, uncertainty=samples.unc)
    comparison = pi.compare(carried, samples.r24, crosswalk=samples.crosswalk)
    changes = comparison.changes
    totals = changes[changes["node_id"] == samples.r25.spec.id]
    marked = set(totals.loc[totals["rank_change_within_interval"] == True, "unit_id"])  # noqa: E712
    expected = {
        r["unit_id"] for lv in ctx["levels"] for r in lv["rows"] if r["move_within_interval"]
    }
    assert marked == expected and marked
    assert (
        changes.loc[changes["node_id"] != samples.r25.spec.id, "rank_change_within_interval"]
        .isna()
        .all()
    )
    plain = samples.comparison.changes["rank_change_within_interval"]
    assert plain.isna().all()  # results without intervals: nothing to say
