"""Results written by ``write_results`` come back unchanged through ``read_results``."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import par_index
from par_index import DataError
from par_index.io.results_reader import read_results, read_uncertainty
from par_index.io.writers import write_results, write_tables
from par_index.results import Results
from par_index.spec import spec_from_data
from par_index.spec.loader import dump_spec

FORMATS = [".xlsx", ".csv", ".json", ".parquet"]

SPEC: dict[str, Any] = {
    "id": "cchc-thu", "name": "Chỉ số CCHC thử", "year": 2025,
    "max": 100, "aggregation": "share_of_max", "missing": "reweight",
    "inputs": {"t": {"kind": "table", "unit_column": "ma"}},
    "units": {"name_column": "ten", "level_column": "cap", "group_column": "nhom"},
    "tiers": [{"name": "Tốt", "at_least": 80}, {"name": "Khá", "at_least": 50},
              {"name": "Trung bình"}],
    "criteria": [
        {"id": "to_chuc", "name": "Tổ chức bộ máy", "children": [
            {"id": "a", "name": "Tiêu chí a", "max": 4,
             "measure": {"kind": "column", "table": "t", "column": "a"}},
            {"id": "b", "name": "Tiêu chí b", "max": 6,
             "measure": {"kind": "column", "table": "t", "column": "b"},
             "rule": {"kind": "linear", "worst": 0, "best": 100}},
        ]},
        {"id": "so", "name": "Chính quyền số", "max": 3,
         "measure": {"kind": "yes_no", "table": "t", "column": "so"}},
    ],
}
# b has a missing value (reweighted), the groups include an empty one, ids keep leading zeros,
# and a score like 1/3 needs all 17 significant digits to come back exactly
DATA = pd.DataFrame({
    "ma": ["00101", "00102", "00103", "00104", "S01", "S02"],
    "ten": ["Xã Mường Bú", "Phường Tô Hiệu", "Xã Chiềng Sơn", "Xã Ít Ong",
            "Sở Tư pháp", "Sở Nội vụ"],
    "cap": ["commune"] * 4 + ["department"] * 2,
    "nhom": ["Xã", "Phường", "Xã", None, "Sở", "Sở"],
    "a": [4.0, 1.0 / 3.0, 2.5, 0.1, 3.7, 1.0],
    "b": [100.0, 33.3, None, 12.345678901234567, 87.0, 66.6],
    "so": ["Có", "Không", "Có", "Không", "Có", "Có"],
})


@pytest.fixture(scope="module")
def results() -> Results:
    return par_index.score(spec_from_data(SPEC), {"t": DATA})


def same_frame(back: pd.DataFrame, original: pd.DataFrame, suffix: str) -> None:
    assert list(back.columns) == list(original.columns)
    assert len(back) == len(original)
    for column in original.columns:
        left, right = back[column].reset_index(drop=True), original[column].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(right) and not pd.api.types.is_bool_dtype(right):
            a = pd.to_numeric(left).astype("float64").to_numpy()
            b = right.astype("float64").to_numpy()
            assert (pd.isna(a) == pd.isna(b)).all(), column
            if suffix == ".xlsx":  # xlsxwriter writes 16 significant digits
                assert a[~pd.isna(a)] == pytest.approx(b[~pd.isna(b)], rel=1e-12, abs=0), column
            else:
                assert (a[~pd.isna(a)] == b[~pd.isna(b)]).all(), column
        else:
            as_list = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                       for v in left.tolist()]
            expected = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                        for v in right.tolist()]
            assert as_list == expected, column


@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip(tmp_path: Path, results: Results, suffix: str) -> None:
    path = write_results(results, tmp_path / f"ket-qua{suffix}")
    back = read_results(path)
    assert back.spec == results.spec
    assert back.spec.id == "cchc-thu" and back.spec.tiers is not None
    same_frame(back.ranking, results.ranking, suffix)
    same_frame(back.detail, results.detail, suffix)
    assert list(back.ranking["unit_id"]) == list(results.ranking["unit_id"])
    assert "00101" in set(back.ranking["unit_id"])  # leading zeros kept
    assert back.detail["is_leaf"].dtype == bool
    assert str(back.detail["rank"].dtype) == "Int64"
    # the missing value comes back as missing, with what the policy did
    assert list(back.missing["unit_id"]) == list(results.missing["unit_id"])
    assert back.run.get("index_id") == "cchc-thu"


@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip_results_compare_as_the_originals(tmp_path: Path, results: Results,
                                                     suffix: str) -> None:
    back = read_results(write_results(results, tmp_path / f"r{suffix}"))
    changes = par_index.compare(back, results).changes
    assert (changes["score_change"].dropna().abs() <= 1e-9).all()
    assert changes["comparable"].all()


HOSTILE = ['=HYPERLINK("http://x.invalid","bấm")', "+84 Xã", "-Xã", "@SUM(1,1)", "=1+1"]


def hostile_results(names: list[str]) -> Results:
    spec = spec_from_data({
        "id": "t", "name": "T", "inputs": {"t": {"kind": "table", "unit_column": "ma"}},
        "units": {"name_column": "ten", "level": "xã"},
        "criteria": [{"id": "a", "name": "A", "max": 10,
                      "measure": {"kind": "column", "table": "t", "column": "a"}}]})
    frame = pd.DataFrame({"ma": [f"{i:03d}" for i in range(len(names))], "ten": names,
                          "a": [float(i) for i in range(len(names))]})
    return par_index.score(spec, {"t": frame})


@pytest.mark.parametrize("suffix", FORMATS)
def test_formula_like_names_come_back_unchanged(tmp_path: Path, suffix: str) -> None:
    original = hostile_results(HOSTILE)
    path = write_results(original, tmp_path / f"r{suffix}")
    if suffix == ".csv":  # written escaped, so a spreadsheet shows text …
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        assert set(raw["unit_name"]) == {"'" + name for name in HOSTILE}
    back = read_results(path)  # … and read back as the name itself
    assert list(back.ranking["unit_name"]) == list(original.ranking["unit_name"])
    assert sorted(back.ranking["unit_name"]) == sorted(HOSTILE)
    assert list(back.detail["unit_name"]) == list(original.detail["unit_name"])


def test_a_name_that_starts_with_an_apostrophe_is_kept(tmp_path: Path) -> None:
    """The CSV escape (a leading apostrophe) must not eat an apostrophe of the name itself."""
    names = ["'=x", "'+1", "'Xã", "''=y"]
    original = hostile_results(names)
    back = read_results(write_results(original, tmp_path / "r.csv"))
    assert list(back.ranking["unit_name"]) == list(original.ranking["unit_name"])
    assert sorted(back.ranking["unit_name"]) == sorted(names)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_names_that_look_like_missing_values_are_kept(tmp_path: Path, suffix: str) -> None:
    """Only an empty cell is missing: a unit or group called "NA" or "None" keeps its name."""
    names = ["NA", "None", "null", "N/A", "nan"]
    original = hostile_results(names)
    back = read_results(write_results(original, tmp_path / f"r{suffix}"))
    assert list(back.ranking["unit_name"]) == list(original.ranking["unit_name"])


# --------------------------------------------------------------------------------------------
# files that are not results
# --------------------------------------------------------------------------------------------

def test_a_plain_table_is_not_results(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    DATA.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        read_results(path)
    assert "registry.detail.csv" in str(info.value)  # the missing part is named
    # with a detail beside it, the missing columns are named
    DATA.to_csv(tmp_path / "registry.detail.csv", index=False)
    with pytest.raises(DataError) as info:
        read_results(path)
    text = str(info.value)
    assert "'unit_id'" in text and "'node_id'" in text and "'rank'" in text
    assert "ranking" in text and "detail" in text
    assert "criteria" in text  # and that the criteria are missing


def test_a_workbook_without_the_result_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        DATA.to_excel(writer, sheet_name="Thẩm định", index=False)
    with pytest.raises(DataError) as info:
        read_results(path)
    assert "['ranking', 'detail']" in str(info.value) and "Thẩm định" in str(info.value)


def test_results_without_their_criteria(tmp_path: Path, results: Results) -> None:
    path = write_tables({"ranking": results.ranking, "detail": results.detail},
                        tmp_path / "old.json", run=results.run)
    with pytest.raises(DataError, match="criteria"):
        read_results(path)
    # a .csv whose criteria sidecar went missing
    csv = write_results(results, tmp_path / "r.csv")
    (tmp_path / "r.criteria.yaml").unlink()
    with pytest.raises(DataError, match="criteria"):
        read_results(csv)


def test_json_that_is_not_results(tmp_path: Path, results: Results) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"ranking": [{"unit_id": "a"}], "criteria": "id: x\n"}),
                    encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_results(path)
    assert "'score'" in str(info.value) and "'node_id'" in str(info.value)
    path.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(DataError, match="not a results file"):
        read_results(path)
    with pytest.raises(DataError, match="does not exist"):
        read_results(tmp_path / "nowhere.json")


@pytest.mark.parametrize("suffix", FORMATS)
def test_uncertainty_round_trip(tmp_path: Path, suffix: str) -> None:
    spec = spec_from_data(SPEC)
    unc = par_index.uncertainty(spec, {"t": DATA}, draws=5, seed=0)
    path = tmp_path / f"bat-dinh{suffix}"
    write_tables(unc.tables(), path, run=unc.run, criteria=dump_spec(unc.spec))
    back = read_uncertainty(path)
    assert back.spec == unc.spec
    same_frame(back.units, unc.units, suffix)
    same_frame(back.removal, unc.removal, suffix)
    assert len(back.survey) == len(unc.survey) == 0  # no survey indicator in this index
    assert back.units["flagged"].dtype == bool
    assert str(back.units["rank_p05"].dtype) == "Int64"
    assert back.run["uncertainty"]["draws"] == 5 and back.draws == 5
    assert back.score_draws.shape == back.rank_draws.shape == (0, len(unc.units))
    assert sorted(back.unit_ids) == sorted(unc.unit_ids)  # no draws: in the table's order


def test_results_are_not_an_uncertainty_output(tmp_path: Path, results: Results) -> None:
    path = write_results(results, tmp_path / "r.xlsx")
    with pytest.raises(DataError, match="an uncertainty workbook has sheets 'units', 'survey'"):
        read_uncertainty(path)
    json_path = write_results(results, tmp_path / "r.json")
    with pytest.raises(DataError, match="not a file written by par-index uncertainty") as caught:
        read_uncertainty(json_path)
    assert {issue.code for issue in caught.value.issues} == {"not_results"}


@pytest.mark.parametrize("suffix", FORMATS)
def test_results_carry_their_rank_uncertainty(tmp_path: Path, results: Results,
                                              suffix: str) -> None:
    unc = par_index.uncertainty(results.spec, {"t": DATA}, draws=5, seed=0)
    path = write_results(dataclasses.replace(results, uncertainty=unc), tmp_path / f"r{suffix}")
    back = read_results(path)
    assert back.uncertainty is not None and back.uncertainty.spec == results.spec
    same_frame(back.uncertainty.units, unc.units, suffix)
    same_frame(back.uncertainty.removal, unc.removal, suffix)
    assert back.run["uncertainty"]["draws"] == 5 and back.uncertainty.draws == 5
    same_frame(back.ranking, results.ranking, suffix)
    assert read_results(write_results(results, tmp_path / f"plain{suffix}")).uncertainty is None


def test_a_damaged_value_is_a_message_not_a_traceback(tmp_path: Path, results: Results) -> None:
    # parsed tables whose values are not what they should be (a rank that is not a number)
    path = write_results(results, tmp_path / "r.csv")
    ranking = path.read_text(encoding="utf-8-sig").splitlines()
    ranking[1] = ranking[1].replace(",1,", ",một,", 1)
    path.write_text("\n".join(ranking) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read this results"):
        read_results(path)
    unc = par_index.uncertainty(results.spec, {"t": DATA}, draws=3, seed=0)
    u = write_tables(unc.tables(), tmp_path / "u.csv", run=unc.run, criteria=dump_spec(unc.spec))
    lines = u.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("rank_p05")] = "abc"
    lines[1] = ",".join(cells)
    u.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read this uncertainty output"):
        read_uncertainty(u)
