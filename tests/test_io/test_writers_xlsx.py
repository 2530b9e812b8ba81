"""The .xlsx results writer: every cell's value, type and number format, read back with openpyxl
and python-calamine; text that xlsxwriter would take for rich-text XML stays text."""

from __future__ import annotations

import decimal
import io
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from par_index.io.writers import write_tables

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SPACE = "{http://www.w3.org/XML/1998/namespace}space"
RUN = {"version": "1", "inputs": [{"name": "=x", "rows": 3}], "cut": {"k": 2}, "none": None}
CRITERIA = "id: t\nname: '=1+1'\n  indented: yes\n"


def mixed_frame(rows: int = 9) -> pd.DataFrame:
    """Every kind of column the writer meets, and the values that used to be special cases."""
    rng = np.random.default_rng(7)
    base = pd.DataFrame(
        {
            "unit_id": [
                "00123",
                "=1+1",
                "+84 912",
                "-2",
                "@SUM(1,1)",
                "Nguyễn Văn Ánh",
                "'x",
                "",
                "\tcell",
            ],
            "score": [1.5, np.nan, -0.0, 1e300, 5e-324, 0.1 + 0.2, 2.0**53 + 1, 85.25, 3.0],
            "int": np.arange(9, dtype="int64") * 10**15,
            "uint": np.full(9, 2**64 - 1, dtype="uint64"),
            "f32": np.array([0.1] * 8 + [np.nan], dtype="float32"),
            "rank": pd.array([1, None, 3, 4, None, 6, 7, 8, 9], dtype="Int64"),
            "rank_in_group": pd.array([None] * 9, dtype="Int64"),
            "share": pd.array([0.5, None, np.nan, 0.25, 1, 0, 0.125, None, 1.0], dtype="Float64"),
            "depth": [0, 1, 2, 0, 1, 2, 0, 1, 2],
            "n_valid": [np.nan, 141.0, np.nan, 57.0, np.nan, 447.0, np.nan, np.nan, 1.0],
            "is_leaf": [True, False, True, True, False, False, True, False, True],
            "flag": pd.array(
                [True, None, False, None, True, True, False, None, True], dtype="boolean"
            ),
            "mixed": [
                "a",
                1,
                2.5,
                None,
                np.nan,
                True,
                np.float64(3.25),
                decimal.Decimal("1.10"),
                pd.NA,
            ],
            "mixed_np": [
                np.bool_(False),
                np.int32(7),
                np.float16(1.5),
                "",
                " lead",
                "trail ",
                "\x01ctl",
                "_x0041_",
                "a\r\nb",
            ],
            "text": pd.array(
                ["a", None, "b&<>\"'", "Sở Nội vụ", "tab\tnl\n", "", "ễ", "x", "NA"], dtype="str"
            ),
            "text_na": pd.array(
                ["a", None, "b", "ễ" * 20_000, "a" * 32_766 + "😀b", "ễ", "\r", "None", "x"],
                dtype="string",
            ),
            "when": pd.to_datetime(
                [
                    "2025-01-01",
                    None,
                    "2025-03-01",
                    None,
                    "2025-01-01",
                    None,
                    None,
                    None,
                    "2025-12-31",
                ]
            ),
            "category": pd.Categorical(["p", "q", None, "p", "q", "p", "q", None, "p"]),
            "object_numbers": pd.Series([1, 2, None, 4, 5, 6, 7, 8, 9], dtype=object),
            "all_missing": [None] * 9,
            "tail": [1.0, 2.0, 3.0] + [np.nan] * 6,
            "random": rng.normal(size=9) * 10.0 ** rng.integers(-8, 8, size=9),
        }
    )
    return pd.concat([base] * (rows // 9 + 1), ignore_index=True).iloc[:rows]


def test_every_cell_value_type_and_format_read_back_by_openpyxl(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "unit_id": ["00123", "=1+1", "+84 912", "Phường Bến Nghé", "@x"],
            "score": [1.5, np.nan, 71.83050361149537, -2.0, 1e-12],
            "depth": np.array([0, 1, 2, 1, 2], dtype="int64"),
            "rank": pd.array([1, None, 3, 2, None], dtype="Int64"),
            "share": [0.5, np.nan, 0.25, 1.0, 0.0],
            "n_valid": [141.0, np.nan, 57.0, 3.0, np.nan],
            "is_leaf": [True, False, True, False, True],
            "group": ["Xã", None, "Đặc khu", None, "Sở"],
        }
    )
    out = write_tables({"detail": frame}, tmp_path / "r.xlsx", run=RUN, criteria=CRITERIA)
    book = openpyxl.load_workbook(out)
    sheet = book["detail"]
    assert [c.value for c in sheet[1]] == list(frame.columns)
    assert all(c.font.bold for c in sheet[1])
    expected = {
        "unit_id": (["00123", "=1+1", "+84 912", "Phường Bến Nghé", "@x"], "s", "General"),
        "score": ([1.5, None, 71.83050361149537, -2.0, 1e-12], "n", "0.00"),
        "depth": ([0, 1, 2, 1, 2], "n", "0"),
        "rank": ([1, None, 3, 2, None], "n", "0"),
        "share": ([0.5, None, 0.25, 1, 0], "n", "0.0%"),
        "n_valid": ([141, None, 57, 3, None], "n", "0"),
        "is_leaf": ([True, False, True, False, True], "b", "General"),
        "group": (["Xã", None, "Đặc khu", None, "Sở"], "s", "General"),
    }
    for j, (column, (values, kind, number_format)) in enumerate(expected.items(), start=1):
        cells = [sheet.cell(row=i, column=j) for i in range(2, 7)]
        assert [c.value for c in cells] == values, column
        python_type = {"s": str, "b": bool, "n": int | float}[kind]
        for cell, value in zip(cells, values, strict=True):
            if value is None:
                assert cell.data_type == "n" and cell.number_format == "General", column
            else:
                assert cell.data_type == kind, column  # never "f": text is never a formula
                assert cell.number_format == number_format, column
                assert isinstance(cell.value, python_type), column  # "00123" stays text
                assert kind == "b" or not isinstance(cell.value, bool), column
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H6"
    assert sheet.column_dimensions["A"].width == pytest.approx(17.7109375)  # "Phường Bến Nghé"
    assert sheet.column_dimensions["C"].width == pytest.approx(8.7109375)  # at least 8
    assert book.sheetnames == ["detail", "run", "criteria"]
    assert [c.value for c in book["criteria"]["A"]][1:] == CRITERIA.splitlines()
    with zipfile.ZipFile(out) as zipped:
        sheets = "".join(
            zipped.read(n).decode() for n in zipped.namelist() if n.startswith("xl/worksheets/")
        )
    assert "<f>" not in sheets


def test_python_calamine_reads_text_ids_and_numbers_back(tmp_path: Path) -> None:
    frame = mixed_frame()
    out = write_tables({"detail": frame}, tmp_path / "r.xlsx")
    back = pd.read_excel(
        out,
        sheet_name="detail",
        engine="calamine",
        dtype={"unit_id": str},
        keep_default_na=False,
        na_values=[""],
    )
    assert back["unit_id"].tolist()[:7] == frame["unit_id"].tolist()[:7]
    # numbers are written with 16 significant digits, as xlsxwriter writes them
    written = [float(f"{v:.16G}") for v in frame["score"]]
    np.testing.assert_array_equal(back["score"].to_numpy(), written)
    assert back["text_na"].tolist()[3] == "ễ" * 20_000
    assert back["is_leaf"].tolist() == frame["is_leaf"].tolist()


def test_rich_text_lookalike_is_kept_as_text(tmp_path: Path) -> None:
    """xlsxwriter writes a shared string that starts with <r> and ends with </r> as raw XML:
    with the former writer such a name lost its text, and one that closes the entry injected
    entries of its own, shifting every later name onto another unit. Now it is written as
    plain runs of a rich string, which readers join back into the same text."""
    names = ["<r>x</r>", "<r><t>A</t></r></si><si><r><t>B</t></r>", "Xã Một", "Xã Hai"]
    out = write_tables({"t": pd.DataFrame({"name": names})}, tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(out)["t"]
    assert [c.value for c in sheet["A"]][1:] == names
    back = pd.read_excel(out, sheet_name="t", engine="calamine")
    assert back["name"].tolist() == names


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12),
        min_size=1,
        max_size=8,
    )
)
def test_any_text_comes_back_unchanged(tmp_path: Path, texts: list[str]) -> None:
    frame = pd.DataFrame({"text": texts})
    out = write_tables({"t": frame}, tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(out)["t"]
    back = [sheet.cell(row=i + 2, column=1).value for i in range(len(texts))]
    assert back == texts


def test_writing_leaves_no_temporary_and_the_package_is_a_valid_zip(tmp_path: Path) -> None:
    out = write_tables({"t": mixed_frame()}, tmp_path / "r.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as book:
        assert book.testzip() is None
        assert book.namelist()[0] == "[Content_Types].xml"
