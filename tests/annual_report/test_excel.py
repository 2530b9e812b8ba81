"""The report workbook re-opened with openpyxl: the ranking sheets cell by cell, the formatting an
analyst would apply, and user text that stays text."""

from __future__ import annotations

import math
import re
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest

from par_index.annual_report import build_context, excel

from .conftest import HOSTILE, HOSTILE_AREA

HEADER = excel.HEADER_ROW + 1  # openpyxl rows are 1-based
FIRST = HEADER + 1


@pytest.fixture(scope="module")
def book(report: SimpleNamespace) -> openpyxl.Workbook:
    return openpyxl.load_workbook(report.paths["xlsx"])


def headers(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[HEADER] if cell.value is not None}


def test_sheets(book, samples):
    names = book.sheetnames
    assert names[:2] == ["Xếp hạng - Sở, ban, ngành", "Xếp hạng - Xã, phường"]
    areas = [f"{i}. {n.name}"[:31].rstrip() for i, n in enumerate(samples.r25.spec.criteria, 1)]
    assert names[2 : 2 + len(areas)] == areas
    assert names[-6:] == [
        "Thay đổi",
        "Chỉ tiêu yếu",
        "Độ tin cậy hạng",
        "Độ nhạy",
        "Phương pháp",
        "Nhật ký tính",
    ]
    assert all(len(n) <= 31 for n in names)


@pytest.mark.parametrize("level", ["department", "commune"])
def test_ranking_sheet_cell_by_cell(book, samples, level):
    ctx = build_context(samples.r25, samples.comparison, samples.weak, uncertainty=samples.unc)
    level_ctx = next(lv for lv in ctx["levels"] if lv["id"] == level)
    sheet = book[f"Xếp hạng - {level_ctx['label']}"]
    columns = excel.ranking_columns(ctx, level_ctx)
    assert [sheet.cell(HEADER, j + 1).value for j in range(len(columns))] == [
        c.header for c in columns
    ]
    col = headers(sheet)
    ranking = samples.r25.level(level)
    changes = samples.comparison.changes
    totals = changes[changes["node_id"] == samples.r25.spec.id].set_index("unit_id")
    areas = [n for n in samples.r25.spec.criteria]
    first_area = len(columns) - len(areas) + 1
    intervals = samples.unc.units.set_index("unit_id")
    for i, rec in enumerate(ranking.to_dict(orient="records")):
        row = FIRST + i

        def value(header: str, row: int = row) -> object:
            return sheet.cell(row, col[header]).value

        assert value("Hạng") == rec["rank"]
        assert value("Mã") == rec["unit_id"]
        assert value("Đơn vị") == rec["unit_name"]
        assert value("Nhóm") == rec["group"]
        assert value("Tổng điểm") == pytest.approx(rec["score"], rel=1e-15)
        assert value("Tỷ lệ đạt") == pytest.approx(rec["share"], rel=1e-15)
        assert value("Xếp loại") == rec["tier"]
        assert value("Hạng trong nhóm") == rec["rank_in_group"]
        change = totals.loc[rec["unit_id"]]
        assert value("Thay đổi hạng") == int(change["rank_change"])
        assert value("Hạng 2024") == int(change["rank_previous"])
        assert value("Thay đổi điểm") == pytest.approx(change["score_change"], rel=1e-14)
        assert value("Điểm 2024") == pytest.approx(change["score_previous"], rel=1e-14)
        interval = intervals.loc[rec["unit_id"]]
        assert value("Khoảng hạng 90\u00a0% — từ") == interval["rank_p05"]
        assert value("Khoảng hạng 90\u00a0% — đến") == interval["rank_p95"]
        assert value("Xác suất vào top 10") == pytest.approx(interval["p_top_k"], rel=1e-15)
        warning = value("Cảnh báo mẫu khảo sát")
        assert (warning is not None) == bool(interval["flagged"])
        for j, area in enumerate(areas):
            cell = sheet.cell(row, first_area + j)
            expected = rec[area.id]
            if isinstance(expected, float) and math.isnan(expected):
                assert cell.value is None
            else:
                assert cell.value == pytest.approx(expected, rel=1e-15)
    assert sheet.cell(FIRST + len(ranking), 1).value is None  # nothing after the last unit


def test_ranking_sheet_formatting(book, samples):
    sheet = book["Xếp hạng - Xã, phường"]
    col = headers(sheet)
    assert sheet.freeze_panes == f"D{FIRST}"
    assert sheet.print_title_rows == f"${HEADER}:${HEADER}"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.auto_filter.ref.startswith(f"A{HEADER}:")
    assert sheet.cell(1, 1).value == samples.r25.spec.name
    total = sheet.cell(FIRST, col["Tổng điểm"])
    assert total.number_format == "0.00" and total.font.b
    assert sheet.cell(FIRST, col["Tỷ lệ đạt"]).number_format == "0.0%"
    assert "▲" in sheet.cell(FIRST, col["Thay đổi hạng"]).number_format
    assert "▼" in sheet.cell(FIRST, col["Thay đổi hạng"]).number_format
    assert sheet.cell(FIRST, col["Thay đổi điểm"]).number_format == "+0.00;-0.00;0.00"
    tier = sheet.cell(FIRST, col["Xếp loại"])
    assert tier.fill.fgColor.rgb.endswith("1A7F4B") and tier.font.color.rgb.endswith("FFFFFF")
    header = sheet.cell(HEADER, 1)
    assert header.font.b and header.alignment.wrap_text
    # the unit names fit their column
    letter = openpyxl.utils.get_column_letter(col["Đơn vị"])
    longest = max(len(n) for n in samples.r25.level("commune")["unit_name"])
    assert sheet.column_dimensions[letter].width >= longest
    # colour scales on the total and every area column
    ranges = [str(r.sqref) for r in sheet.conditional_formatting]
    total_letter = openpyxl.utils.get_column_letter(col["Tổng điểm"])
    assert any(r.startswith(f"{total_letter}{FIRST}:") for r in ranges)
    # colour scales (total and areas), green / red fonts on the two change columns
    assert len(ranges) == 1 + len(samples.r25.spec.criteria) + 2
    change = openpyxl.utils.get_column_letter(col["Thay đổi hạng"])
    rules = next(
        cf.rules for cf in sheet.conditional_formatting if str(cf.sqref).startswith(change)
    )
    assert sorted(r.operator for r in rules) == ["greaterThan", "lessThan"]


def test_area_sheet_has_its_criteria(book, samples):
    area = samples.r25.spec.criteria[2]  # tthc
    sheet = book[f"3. {area.name}"[:31].rstrip()]
    col = headers(sheet)
    children = [c.name for c in area.children]
    for name in children:
        assert any(h.startswith(name) for h in col)
    detail = samples.r25.detail.set_index(["unit_id", "node_id"])
    first_child = next(h for h in col if h.startswith(children[0]))
    for row in range(FIRST, FIRST + 5):
        unit = sheet.cell(row, col["Mã"]).value
        assert sheet.cell(row, col["Điểm"]).value == pytest.approx(
            detail.loc[(unit, area.id), "score"], rel=1e-15
        )
        assert sheet.cell(row, col[first_child]).value == pytest.approx(
            detail.loc[(unit, area.children[0].id), "score"], rel=1e-15
        )


def test_weak_and_changes_sheets(book, samples):
    weak = book["Chỉ tiêu yếu"]
    rows = weak.max_row - HEADER
    assert rows == len(samples.weak.weak)
    col = headers(weak)
    first = samples.weak.weak.sort_values(["level"]).iloc[0]
    assert weak.cell(FIRST, col["Còn thiếu so với tối đa"]).number_format == "0.00"
    del first
    changes = book["Thay đổi"]
    col = headers(changes)
    assert "Hình thành từ" in col and "Nguyên nhân chính" in col
    text = " ".join(str(c.value) for row in changes.iter_rows() for c in row if c.value)
    assert "không hoàn toàn so sánh được" in text
    assert "Huyện Mộc Châu" in text


def test_method_sheet_reads_as_text(book):
    sheet = book["Phương pháp"]
    text = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(t.startswith("≥ 100: 3 điểm; ≥ 80: 2 điểm") for t in text)
    assert any(t.startswith("Hoàn thành 100% kế hoạch") for t in text)
    assert "Công tác chỉ đạo, điều hành CCHC" in text


def test_run_record_sheet(book, samples):
    sheet = book["Nhật ký tính"]
    pairs = {
        sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(FIRST, sheet.max_row + 1)
    }
    assert pairs["criteria_digest"] == samples.r25.run["criteria_digest"]
    assert pairs["previous.index_id"] == "par-2024"


def test_user_text_is_never_a_formula(hostile_results, samples, tmp_path):
    ctx = build_context(hostile_results, samples.comparison, samples.weak)
    path = excel.write_workbook(ctx, tmp_path / "hostile.xlsx")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(name).decode("utf-8"), name
    book = openpyxl.load_workbook(path)
    sheet = book["Xếp hạng - Sở, ban, ngành"]
    col = headers(sheet)
    found = {}
    for row in range(FIRST, sheet.max_row + 1):
        cell = sheet.cell(row, col["Đơn vị"])
        unit = sheet.cell(row, col["Mã"]).value
        if unit in HOSTILE:
            assert cell.data_type == "s"
            found[unit] = cell.value
    assert found == HOSTILE
    area_header = next(h for h in col if h.startswith(HOSTILE_AREA))
    assert sheet.cell(HEADER, col[area_header]).data_type == "s"
    assert HOSTILE_AREA in [c.value for row in book["Phương pháp"].iter_rows() for c in row]
    assert any(n.startswith("1. =1+1") for n in book.sheetnames)


def test_without_comparison_there_are_no_change_columns(samples, tmp_path):
    ctx = build_context(samples.r25)
    path = excel.write_workbook(ctx, tmp_path / "plain.xlsx")
    book = openpyxl.load_workbook(path)
    assert "Thay đổi" not in book.sheetnames and "Chỉ tiêu yếu" not in book.sheetnames
    col = headers(book["Xếp hạng - Sở, ban, ngành"])
    assert not any(re.search("2024|Thay đổi", h) for h in col)


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = set()
    names = [excel.sheet_name(n, taken) for n in ["a/b:c", "A/B:C", "x" * 40, "x" * 40, "'q'"]]
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)


def test_group_key_under_the_ranking(book, samples):
    sheet = book["Xếp hạng - Xã, phường"]
    cells = [(c.row, c.column, c.value) for row in sheet.iter_rows() for c in row if c.value]
    title = next((r, col) for r, col, v in cells if v == "Theo nhóm")
    communes = samples.r25.level("commune")
    found = {}
    row = title[0] + 2
    while sheet.cell(row, title[1]).value:
        found[sheet.cell(row, title[1]).value] = (
            sheet.cell(row, title[1] + 1).value,
            sheet.cell(row, title[1] + 2).value,
        )
        row += 1
    for group, frame in communes.groupby("group"):
        assert found[group][0] == len(frame)
        assert found[group][1] == pytest.approx(frame["score"].mean(), rel=1e-12)
