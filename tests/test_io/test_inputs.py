"""Reading inputs: formats, headers, ids, numbers, surveys, and every refusal naming its place."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlsxwriter

import par_index as pi
from par_index.errors import DataError
from par_index.spec import spec_from_data


def _spec(**overrides: Any) -> pi.IndexSpec:
    data: dict[str, Any] = {
        "id": "t", "name": "Thử", "max": 10,
        "inputs": {
            "units": {"kind": "table", "unit_column": "ma"},
            "stats": {"kind": "table", "unit_column": "ma"},
            "survey": {"kind": "survey", "unit_column": "ma", "scale": {"min": 1, "max": 5},
                       "dont_know": [9], "weight_column": "w"},
        },
        "units": {"table": "units", "name_column": "ten", "level": "xã"},
        "missing": "zero",
        "criteria": [
            {"id": "v", "name": "Giá trị", "max": 4,
             "measure": {"kind": "column", "table": "stats", "column": "gia_tri"}},
            {"id": "r", "name": "Đúng hạn", "max": 3,
             "measure": {"kind": "ratio", "table": "stats", "numerator": ["dung_han"],
                         "denominator": ["da_xu_ly"]},
             "rule": {"kind": "linear", "worst": 0, "best": 1}},
            {"id": "s", "name": "Hài lòng", "max": 3,
             "measure": {"kind": "survey", "table": "survey", "questions": ["q1"],
                         "threshold": 4}, "rule": {"kind": "linear", "worst": 0, "best": 1}},
        ],
    }
    data.update(overrides)
    return spec_from_data(data)


UNITS = pd.DataFrame({"ma": ["001", "002"], "ten": ["Xã Mường Bú", "Phường Tô Hiệu"]})
STATS = pd.DataFrame({"ma": ["001", "002"], "gia_tri": [2.5, 4], "dung_han": [9, 5],
                      "da_xu_ly": [10, 10]})
SURVEY = pd.DataFrame({"ma": ["001", "001", "002", "002"], "w": [1.0, 3.0, 1.0, 1.0],
                       "q1": [5, 2, 9, 4]})


def _write_csv(path: Path, frame: pd.DataFrame, **kwargs: Any) -> Path:
    frame.to_csv(path, index=False, **kwargs)
    return path


def _sources(tmp_path: Path, **frames: pd.DataFrame) -> dict[str, Any]:
    base = {"units": UNITS, "stats": STATS, "survey": SURVEY}
    base.update(frames)
    return {name: _write_csv(tmp_path / f"{name}.csv", frame) for name, frame in base.items()}


def _error(spec: pi.IndexSpec, sources: dict[str, Any]) -> str:
    with pytest.raises(DataError) as info:
        pi.read_inputs(spec, sources)
    return str(info.value)


def test_reads_csv_keeps_leading_zeros_and_scores(tmp_path: Path) -> None:
    results = pi.score(_spec(), _sources(tmp_path))
    detail = results.detail.set_index(["unit_id", "node_id"])
    assert set(results.ranking["unit_id"]) == {"001", "002"}
    # survey 001: weighted share ≥ 4 = 1/(1+3) = 0.25 → 0.75 points; 002: "9" is don't know,
    # so one valid answer (4) → share 1 → 3 points, n_valid 1
    assert detail.loc[("001", "s"), "score"] == pytest.approx(0.75)
    assert detail.loc[("002", "s"), "score"] == pytest.approx(3.0)
    assert detail.loc[("002", "s"), "n_valid"] == 1
    counts = {(r["table"], r["what"]): r["count"] for r in results.run["rows"]}
    assert counts[("survey", "answers q1: don't know (excluded)")] == 1


def test_header_found_below_a_title_in_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "stats.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Số liệu")
    sheet.write_string(0, 0, "BẢNG SỐ LIỆU NĂM 2025")
    for j, name in enumerate(STATS.columns):
        sheet.write_string(2, j, name)
    for i, row in enumerate(STATS.itertuples(index=False), start=3):
        sheet.write_string(i, 0, row[0])
        for j, value in enumerate(row[1:], start=1):
            sheet.write_number(i, j, value)
    book.close()
    sources = _sources(tmp_path)
    sources["stats"] = path
    data = pi.read_inputs(_spec(), sources)
    assert list(data.tables["stats"]["unit_id"]) == ["001", "002"]
    assert data.sources["stats"]["header_row"] == 3 and data.sources["stats"]["sheet"] == "Số liệu"


def test_bom_utf16_and_decomposed_names(tmp_path: Path) -> None:
    decomposed = UNITS.assign(ten=[unicodedata.normalize("NFD", n) for n in UNITS["ten"]],
                              ma=[unicodedata.normalize("NFD", "00ắ1"), "002"])
    stats = STATS.assign(ma=["00ắ1", "002"])
    survey = SURVEY.assign(ma=["00ắ1", "00ắ1", "002", "002"])
    sources = {"units": _write_csv(tmp_path / "u.csv", decomposed, encoding="utf-16"),
               "stats": _write_csv(tmp_path / "s.csv", stats, encoding="utf-8-sig"),
               "survey": _write_csv(tmp_path / "v.csv", survey)}
    data = pi.read_inputs(_spec(), sources)
    assert list(data.units["unit_id"]) == ["00ắ1", "002"]
    assert data.units["unit_name"].iloc[0] == "Xã Mường Bú"


def test_comma_decimals_need_a_declaration(tmp_path: Path) -> None:
    stats = STATS.astype(object).assign(gia_tri=["2,5", "4"])
    sources = _sources(tmp_path, stats=stats)
    message = _error(_spec(), sources)
    assert "stats.csv, row 2, column 'gia_tri'" in message and "'2,5'" in message
    assert "decimal" in message
    spec = _spec(inputs={**_spec().model_dump(mode="json", exclude_none=True)["inputs"],
                         "stats": {"kind": "table", "unit_column": "ma", "decimal": ","}})
    assert pi.read_inputs(spec, sources).tables["stats"]["gia_tri"].tolist() == [2.5, 4.0]


@pytest.mark.parametrize(("table", "frame", "expected"), [
    ("stats", STATS.assign(dung_han=[11, 5]), "dung_han must not exceed da_xu_ly"),
    ("stats", STATS.assign(da_xu_ly=[10, -1]), "counts must be zero or more"),
    ("stats", pd.concat([STATS, STATS.iloc[:1]]), "each unit must have one row"),
    ("survey", SURVEY.assign(q1=[5, 6, 1, 2]), "answers must be whole numbers 1–5"),
    ("survey", SURVEY.assign(w=[1.0, 0.0, 1.0, 1.0]), "weights must be positive"),
    ("survey", SURVEY.assign(ma=["001", "009", "002", "002"]), "not in the units table"),
    ("units", pd.concat([UNITS, UNITS.iloc[:1]]), "unit ids must be unique"),
    ("stats", STATS.drop(columns="gia_tri").assign(gia_tr=1), "Did you mean 'gia_tr'?"),
])
def test_wrong_data_is_refused_with_its_place(tmp_path: Path, table: str, frame: pd.DataFrame,
                                              expected: str) -> None:
    message = _error(_spec(), _sources(tmp_path, **{table: frame}))
    assert expected in message
    assert f"{table}.csv" in message


def test_unknown_units_can_be_excluded_and_are_counted(tmp_path: Path) -> None:
    spec = _spec(units={"table": "units", "name_column": "ten", "level": "xã",
                        "unknown_units": "exclude"})
    survey = SURVEY.assign(ma=["001", "009", "002", "002"])
    data = pi.read_inputs(spec, _sources(tmp_path, survey=survey))
    counts = {(r["table"], r["what"]): r["count"] for r in data.accounting}
    assert counts[("survey", "rows excluded: unit not registered")] == 1
    assert counts[("survey", "rows used")] == 3


def test_registry_unit_without_data_is_reported(tmp_path: Path) -> None:
    spec = _spec(missing="error")
    stats = STATS.iloc[:1]
    with pytest.raises(DataError) as info:
        pi.score(spec, _sources(tmp_path, stats=stats))
    assert "unit '002'" in str(info.value) and "node 'v'" in str(info.value)
    results = pi.score(_spec(missing="zero"), _sources(tmp_path, stats=stats))
    missing = results.missing
    assert set(missing["node_id"]) == {"v", "r"} and set(missing["action"]) == {"zero"}


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("stats.csv", b"", "empty"),
    ("stats.xlsx", b"ma,gia_tri\n001,1\n", "the content is text"),
    ("stats.csv", b"PK\x03\x04junk", "zip/xlsx"),
    ("stats.csv", "ma,gia_tri\n001,Hà\n".encode("cp1258"), "not UTF-8"),
    ("stats.doc", b"x", ".csv, .xlsx or .parquet"),
])
def test_files_that_are_not_what_they_say(tmp_path: Path, name: str, content: bytes,
                                          expected: str) -> None:
    sources = _sources(tmp_path)
    path = tmp_path / name
    path.write_bytes(content)
    sources["stats"] = path
    assert expected in _error(_spec(), sources)


def test_xlsx_without_the_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        STATS.to_excel(writer, sheet_name="A", index=False)
        STATS.to_excel(writer, sheet_name="B", index=False)
    sources = _sources(tmp_path)
    sources["stats"] = path
    assert "several sheets ['A', 'B']" in _error(_spec(), sources)


def test_xlsx_declaring_a_huge_sheet_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "stats.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        STATS.to_excel(writer, sheet_name="stats", index=False)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index("<dimension ref=")
                end = text.index("/>", start) + 2
                data = (text[:start] + '<dimension ref="A1:XFD1048576"/>' + text[end:]).encode()
            dst.writestr(info, data)
    sources = _sources(tmp_path)
    sources["stats"] = bomb
    assert "over the limit" in _error(_spec(), sources)


def test_parquet_input(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    STATS.to_parquet(tmp_path / "stats.parquet")
    sources["stats"] = tmp_path / "stats.parquet"
    assert pi.read_inputs(_spec(), sources).tables["stats"]["gia_tri"].tolist() == [2.5, 4.0]


def test_a_count_without_its_denominator_is_refused(tmp_path: Path) -> None:
    stats = STATS.astype(object).assign(da_xu_ly=[10, None])
    message = _error(_spec(), _sources(tmp_path, stats=stats))
    assert "da_xu_ly must be given where dung_han is" in message and "row 3" in message


def test_infinity_is_not_a_number(tmp_path: Path) -> None:
    stats = STATS.astype(object).assign(gia_tri=["inf", "4"])
    assert "values must be numbers" in _error(_spec(), _sources(tmp_path, stats=stats))


def test_a_respondent_may_answer_once(tmp_path: Path) -> None:
    spec_data = _spec().model_dump(mode="json", exclude_none=True)
    spec_data["inputs"]["survey"]["respondent_column"] = "phieu"
    spec = spec_from_data(spec_data)
    survey = SURVEY.assign(phieu=["p1", "p2", "p2", "p4"])
    message = _error(spec, _sources(tmp_path, survey=survey))
    assert "each respondent must appear once" in message and "column 'phieu'" in message


@pytest.mark.parametrize(("name", "separator"), [("stats.tsv", "\t"), ("stats.csv", ";")])
def test_tab_and_semicolon_separated_files(tmp_path: Path, name: str, separator: str) -> None:
    sources = _sources(tmp_path)
    path = tmp_path / name
    STATS.to_csv(path, sep=separator, index=False)
    sources["stats"] = path
    assert pi.read_inputs(_spec(), sources).tables["stats"]["gia_tri"].tolist() == [2.5, 4.0]


def test_numeric_ids_in_parquet_match_text_ids(tmp_path: Path) -> None:
    sources = _sources(tmp_path, units=UNITS.assign(ma=["1", "2"]),
                       stats=STATS.assign(ma=["1", "2"]),
                       survey=SURVEY.assign(ma=["1", "1", "2", "2"]))
    STATS.assign(ma=[1, 2]).to_parquet(tmp_path / "stats.parquet")
    sources["stats"] = tmp_path / "stats.parquet"
    assert list(pi.read_inputs(_spec(), sources).tables["stats"]["unit_id"]) == ["1", "2"]


def test_title_two_header_rows_and_a_totals_row(tmp_path: Path) -> None:
    spec = spec_from_data({
        "id": "t", "name": "t", "max": 10,
        "inputs": {"t": {"kind": "table", "unit_column": "ma", "header_rows": 2}},
        "units": {"name_column": "ten", "level": "x"},
        "criteria": [{"id": "a", "name": "a", "max": 10,
                      "measure": {"kind": "column", "table": "t", "column": "diem"}}]})
    path = tmp_path / "t.csv"
    path.write_text("BẢNG ĐIỂM NĂM 2025\n\nma,ten,diem\nMã,Tên đơn vị,Điểm\n"
                    "001,Xã A,5\n002,Xã B,7\n,Tổng cộng,12\n", encoding="utf-8")
    results = pi.score(spec, {"t": path})
    assert dict(zip(results.ranking["unit_id"], results.ranking["score"], strict=True)) == {
        "001": 5.0, "002": 7.0}
    counts = {r["what"]: r["count"] for r in results.run["rows"]}
    assert counts["totals rows skipped"] == 1 and counts["rows used"] == 2
    detail = pi.read_inputs(spec, {"t": path}).tables["t"]
    assert list(detail["__row__"]) == [5, 6]  # file rows, for error messages


def test_merged_header_cells_take_the_name_below(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("t")
    sheet.merge_range(0, 2, 0, 3, "Điểm")  # merged over two sub-columns
    for j, name in enumerate(["ma", "ten"]):
        sheet.write_string(0, j, name)
    sheet.write_string(1, 2, "tu_cham")
    sheet.write_string(1, 3, "tham_dinh")
    sheet.write_row(2, 0, ["001", "Xã A", 5, 4])
    book.close()
    spec = spec_from_data({
        "id": "t", "name": "t", "max": 10,
        "inputs": {"t": {"kind": "table", "unit_column": "ma", "header_rows": 2}},
        "units": {"name_column": "ten", "level": "x"},
        "criteria": [{"id": "a", "name": "a", "max": 10, "measure": {
            "kind": "appraisal", "table": "t", "appraised": "tham_dinh",
            "self_assessed": "tu_cham"}}]})
    # the merged cell's text stays on the first column; the second takes the sub-header
    frame = pi.read_inputs(spec, {"t": path}).tables["t"]
    assert frame["tham_dinh"].tolist() == [4.0]


def _per_capita_spec(**measure: Any) -> pi.IndexSpec:
    return spec_from_data({
        "id": "t", "name": "Thử", "max": 10, "missing": "zero",
        "inputs": {"registry": {"kind": "table", "unit_column": "ma"},
                   "processing": {"kind": "table", "unit_column": "ma"}},
        "units": {"table": "registry"},
        "criteria": [{"id": "tt", "name": "Trực tuyến trên 1.000 dân", "max": 10,
                      "measure": {"kind": "ratio", "table": "processing", "numerator": ["online"],
                                  "denominator": ["dan_so"], "denominator_table": "registry",
                                  **measure},
                      "rule": {"kind": "minmax"}}],
    })


REGISTRY = pd.DataFrame({"ma": ["A", "B"], "dan_so": [100, 5000]})
# A: 70 and 50 each fit under a population of 100, their sum 120 does not; B: 10 ≤ 5000
PROCESSING = pd.DataFrame({"ma": ["A", "A", "B"], "online": [70, 50, 10]})


def test_a_unit_whose_numerator_sum_exceeds_its_denominator_in_another_table_is_refused(
        tmp_path: Path) -> None:
    sources = {"registry": _write_csv(tmp_path / "registry.csv", REGISTRY),
               "processing": _write_csv(tmp_path / "processing.csv", PROCESSING)}
    with pytest.raises(DataError) as info:
        pi.read_inputs(_per_capita_spec(), sources)
    (issue,) = info.value.issues
    assert issue.code == "numerator_exceeds_denominator"
    assert issue.location == "processing.csv, column 'online', node 'tt'"
    assert issue.message == (
        "a unit's online (summed over its rows of table 'processing') must not exceed its "
        "dan_so (table 'registry'). Got unit 'A': 120 > 100 instead."
    )
    assert issue.hint == "If this ratio may exceed 1, declare bounded: false on the measure."
    # bounded: false takes the ratio as it is: A 120 / 100 = 1.2, B 10 / 5000 = 0.002
    data = pi.read_inputs(_per_capita_spec(bounded=False), sources)
    results = pi.score(_per_capita_spec(bounded=False), sources)
    assert len(data.tables["processing"]) == 3
    raw = results.detail.set_index(["node_id", "unit_id"])["raw_value"]
    assert raw[("tt", "A")] == 1.2 and raw[("tt", "B")] == 0.002


def test_a_denominator_in_another_table_is_a_count_read_from_that_table() -> None:
    negative = REGISTRY.assign(dan_so=[100, -5])
    message = _error(_per_capita_spec(), {"registry": negative, "processing": PROCESSING.iloc[1:]})
    assert "<DataFrame registry>, row 3, column 'dan_so': counts must be zero or more" in message
    message = _error(_per_capita_spec(), {"registry": REGISTRY.drop(columns="dan_so"),
                                          "processing": PROCESSING})
    assert "needs column 'dan_so' in input 'registry'" in message
    # nor is it looked for in the numerator's table
    data = pi.read_inputs(_per_capita_spec(), {"registry": REGISTRY,
                                               "processing": PROCESSING.iloc[1:]})
    assert "dan_so" not in data.tables["processing"].columns


def test_a_numerator_over_a_blank_denominator_in_another_table_is_missing() -> None:
    # within one table this row would be refused (blank_denominator); across tables the unit
    # simply has no denominator, and the missing policy (here zero) decides
    registry = REGISTRY.astype(object).assign(dan_so=[None, 5000])
    results = pi.score(_per_capita_spec(), {"registry": registry, "processing": PROCESSING})
    leaf = results.detail[results.detail["node_id"] == "tt"].set_index("unit_id")
    assert pd.isna(leaf.loc["A", "raw_value"]) and leaf.loc["A", "status"] == "missing"
    assert leaf.loc["A", "action"] == "zero" and leaf.loc["B", "raw_value"] == 0.002


def test_the_unit_check_counts_only_the_units_scored() -> None:
    # A's rows are excluded (its level is not scored), so its 120 > 100 is not a problem
    spec_data = _per_capita_spec().model_dump(mode="json", exclude_none=True)
    spec_data["units"] = {"table": "registry", "level_column": "cap", "score_levels": ["xã"]}
    registry = REGISTRY.assign(cap=["phường", "xã"])
    results = pi.score(spec_from_data(spec_data), {"registry": registry, "processing": PROCESSING})
    assert list(results.ranking["unit_id"]) == ["B"]
