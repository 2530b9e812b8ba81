"""Writing results: atomic, formula-safe, every format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from par_index.errors import OutputError
from par_index.io.writers import atomic_write, check_output, csv_safe, write_frame_csv

HOSTILE = ["=HYPERLINK(\"http://x.invalid\",\"bấm\")", "+1+1", "-2+3", "@SUM(1,1)",
           "Nguyễn Văn A"]


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_escaped(tmp_path: Path) -> None:
    frame = pd.DataFrame({"unit_name": HOSTILE, "score": [1.0, 2.0, 3.0, -4.0, 5.0]})
    safe = csv_safe(frame)
    assert list(safe["unit_name"]) == ["'" + v for v in HOSTILE[:4]] + ["Nguyễn Văn A"]
    assert list(safe["score"]) == [1.0, 2.0, 3.0, -4.0, 5.0]  # numbers untouched
    path = write_frame_csv(frame, tmp_path / "r.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows diacritics


def test_xlsx_names_are_strings_never_formulas(tmp_path: Path) -> None:
    import par_index as pi
    from par_index.spec import spec_from_data

    spec = spec_from_data({
        "id": "t", "name": "=cmd|' /C calc'!A0", "max": 10, "aggregation": "weighted_mean",
        "inputs": {"t": {"kind": "table", "unit_column": "ma"}},
        "units": {"name_column": "ten", "level": "xã"},
        "criteria": [{"id": "a", "name": "=1+1", "weight": 1, "max": 10,
                      "measure": {"kind": "column", "table": "t", "column": "a"}}]})
    frame = pd.DataFrame({"ma": [f"{i:03d}" for i in range(5)], "ten": HOSTILE, "a": range(5)})
    results = pi.score(spec, {"t": frame})
    out = results.to_excel(tmp_path / "r.xlsx")
    with zipfile.ZipFile(out) as book:
        sheets = "".join(book.read(n).decode() for n in book.namelist()
                         if n.startswith("xl/worksheets/"))
    assert "<f>" not in sheets
    back = pd.read_excel(out, sheet_name="ranking", dtype={"unit_id": str}, engine="calamine")
    assert sorted(back["unit_name"]) == sorted(HOSTILE)
    detail = pd.read_excel(out, sheet_name="detail", engine="calamine")
    assert "=1+1" in set(detail["node_name"])


def test_interrupted_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old", encoding="utf-8")

    def broken(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temporary left behind


def test_output_extension_and_inputs_are_checked(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="extension"):
        check_output(tmp_path / "r.txt")
    source = tmp_path / "in.csv"
    source.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="own input"):
        check_output(tmp_path / "." / "in.csv", [source])
