"""Invariants of the committed synthetic sample data in data/samples/.

The files are produced by data/samples/generate.py; these tests read the files
as committed (they do not regenerate them).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
YEARS = (2024, 2025)
CSV_FILES = ("registry.csv", "survey_citizens.csv", "survey_businesses.csv", "processing.csv")
CITIZEN_ITEMS = [f"q{i:02d}" for i in range(1, 12)]
BUSINESS_ITEMS = [f"b{i:02d}" for i in range(1, 9)]
ANSWER_CODES = {"1", "2", "3", "4", "5", "9", ""}
NO_CITIZENS_2025 = "S15"
POINTS_MAX = {
    "ke_hoach": 2, "kiem_tra": 3, "van_ban": 4, "kiem_tra_van_ban": 4,
    "sap_xep": 4, "bien_che": 4, "vi_tri_viec_lam": 4,
}
APPRAISAL_COLUMNS = [
    "unit_id", "unit_name",
    "ke_hoach_self", "ke_hoach", "ty_le_hoan_thanh_ke_hoach", "bao_cao_dung_han",
    "kiem_tra_self", "kiem_tra", "van_ban_self", "van_ban",
    "kiem_tra_van_ban_self", "kiem_tra_van_ban", "sap_xep_self", "sap_xep",
    "bien_che_self", "bien_che", "vi_tri_viec_lam_self", "vi_tri_viec_lam",
    "so_vi_pham", "ty_le_giai_ngan", "tu_chu", "ung_dung_so", "an_toan_thong_tin",
    "do_thi_thong_minh",
]
PROCESSING_COUNTS = ["received", "carried_over", "processed", "early", "on_time", "late",
                     "pending", "online", "fee_files", "paid_online", "digitised"]


# ---------------------------------------------------------------- loaders

@cache
def raw(year: int, name: str) -> pd.DataFrame:
    """A CSV exactly as written: every field a string, empty fields as ''."""
    return pd.read_csv(SAMPLES / str(year) / name, dtype=str, keep_default_na=False)


@cache
def registry(year: int) -> pd.DataFrame:
    return raw(year, "registry.csv")


@cache
def processing(year: int) -> pd.DataFrame:
    df = raw(year, "processing.csv").copy()
    for c in ["month", *PROCESSING_COUNTS]:
        assert df[c].str.fullmatch(r"\d+").all(), f"{year} processing.{c}: not a non-negative int"
        df[c] = df[c].astype("int64")
    return df


@cache
def crosswalk() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "crosswalk-2024-2025.csv", dtype=str, keep_default_na=False)


@cache
def appraisal(year: int) -> pd.DataFrame:
    return pd.read_excel(SAMPLES / str(year) / "appraisal.xlsx", engine="calamine", header=2,
                         dtype={"unit_id": str})


def ids(year: int, level: str | None = None) -> set[str]:
    r = registry(year)
    return set(r.unit_id if level is None else r.unit_id[r.level == level])


def is_nfc(s: str) -> bool:
    return unicodedata.is_normalized("NFC", s)


# ---------------------------------------------------------------- files

def test_all_files_present_and_small() -> None:
    expected = [SAMPLES / "crosswalk-2024-2025.csv"] + [
        SAMPLES / str(y) / f for y in YEARS for f in (*CSV_FILES, "appraisal.xlsx")
    ]
    missing = [str(p) for p in expected if not p.is_file()]
    assert not missing, missing
    total = sum(p.stat().st_size for p in expected)
    assert total < 10 * 1024 * 1024, f"samples too large: {total} bytes"


@pytest.mark.parametrize("path", [
    *(f"{y}/{f}" for y in YEARS for f in CSV_FILES), "crosswalk-2024-2025.csv",
])
def test_csv_utf8_without_bom_unix_newlines(path: str) -> None:
    data = (SAMPLES / path).read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "BOM found"
    assert b"\r" not in data, "CR line endings"
    text = data.decode("utf-8")
    assert is_nfc(text), "text not in NFC"


# ---------------------------------------------------------------- registry

@pytest.mark.parametrize(("year", "expected"), [
    (2024, {"department": 22, "district": 12, "commune": 200}),
    (2025, {"department": 20, "commune": 75}),
])
def test_registry_sizes(year: int, expected: dict[str, int]) -> None:
    r = registry(year)
    assert list(r.columns) == ["unit_id", "unit_name", "level", "group", "valid_from", "valid_to"]
    assert r.level.value_counts().to_dict() == expected


@pytest.mark.parametrize("year", YEARS)
def test_registry_ids(year: int) -> None:
    r = registry(year)
    assert r.unit_id.is_unique
    dept = r.unit_id[r.level == "department"]
    assert dept.str.fullmatch(r"S\d\d").all()
    assert sorted(dept) == [f"S{i:02d}" for i in range(1, 23 if year == 2024 else 21)]
    dist = r.unit_id[r.level == "district"]
    assert sorted(dist) == ([f"H{i:02d}" for i in range(1, 13)] if year == 2024 else [])
    first = "0" if year == 2024 else "1"
    com = r.unit_id[r.level == "commune"]
    assert com.str.fullmatch(first + r"\d{4}").all(), f"{year} commune codes"
    # the raw file keeps the leading zeros (not re-typed as numbers somewhere)
    text = (SAMPLES / str(year) / "registry.csv").read_text(encoding="utf-8")
    for uid in com:
        assert f"\n{uid}," in text


def test_commune_ids_do_not_collide_across_years() -> None:
    assert not ids(2024) & ids(2025, "commune")


@pytest.mark.parametrize("year", YEARS)
def test_registry_names_groups_dates(year: int) -> None:
    r = registry(year)
    for col in ("unit_name", "group"):
        assert all(is_nfc(s) for s in r[col]), f"{col} not NFC"
    assert (r.unit_name != "").all()
    assert r.valid_from.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert r.valid_to.str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()
    for col in ("valid_from", "valid_to"):
        pd.to_datetime(r[col][r[col] != ""], format="%Y-%m-%d")  # raises if invalid
    dept = r[r.level == "department"]
    expected_group = np.where(dept.unit_name.str.startswith("Sở "), "Sở", "Cơ quan khác")
    assert (dept.group == expected_group).all()
    com = r[r.level == "commune"]
    if year == 2024:
        dist = r[r.level == "district"]
        assert set(dist.group) == {"Huyện", "Thành phố"}
        assert (dist.group == "Thành phố").sum() == 1
        assert set(com.group) == set(dist.unit_name)
        assert com.unit_name.str.match(r"(Xã|Phường|Thị trấn) ").all()
        assert (r.valid_to[r.level != "department"] == "2025-06-30").all()
    else:
        assert com.group.value_counts().to_dict() == {"Xã": 67, "Phường": 8}
        assert (com.unit_name.str.split(" ").str[0] == com.group).all()
        assert (com.valid_from == "2025-07-01").all()
        assert (r.valid_to == "").all()


def test_departments_same_names_both_years() -> None:
    r24 = registry(2024).set_index("unit_id")
    r25 = registry(2025)
    d25 = r25[r25.level == "department"].set_index("unit_id")
    assert (r24.loc[d25.index, "unit_name"] == d25.unit_name).all()
    assert r24.loc["S21", "unit_name"] == "Sở Kế hoạch và Đầu tư"
    assert r24.loc["S22", "unit_name"] == "Sở Thông tin và Truyền thông"
    assert d25.loc[NO_CITIZENS_2025, "unit_name"] == "Ban Quản lý các khu công nghiệp"


# ---------------------------------------------------------------- crosswalk

def test_crosswalk_communes() -> None:
    cw = crosswalk()
    assert list(cw.columns) == ["previous_unit_id", "current_unit_id", "weight"]
    assert cw.weight.str.fullmatch(r"\d+").all()
    prev_com = ids(2024, "commune")
    cur_com = ids(2025, "commune")
    com = cw[cw.previous_unit_id.isin(prev_com)]
    counts = com.previous_unit_id.value_counts()
    assert set(counts.index) == prev_com, "a 2024 commune is missing from the crosswalk"
    assert (counts == 1).all(), "a 2024 commune maps to several 2025 communes"
    assert com.current_unit_id.isin(cur_com).all()
    preds = com.current_unit_id.value_counts()
    assert set(preds.index) == cur_com, "a 2025 commune has no predecessor"
    assert preds.between(1, 5).all()
    assert preds.between(2, 4).mean() > 0.5
    w = com.weight.astype(int)
    assert w.between(2_000, 30_000).all()


def test_crosswalk_departments() -> None:
    cw = crosswalk()
    assert set(cw.previous_unit_id) <= ids(2024)
    assert set(cw.current_unit_id) <= ids(2025)
    assert not set(cw.previous_unit_id) & ids(2024, "district")
    assert not cw.duplicated(["previous_unit_id", "current_unit_id"]).any()
    dep = cw[cw.previous_unit_id.isin(ids(2024, "department"))].set_index("previous_unit_id")
    assert len(dep) == 22
    assert dep.loc["S21", "current_unit_id"] == "S02"
    assert dep.loc["S22", "current_unit_id"] == "S09"
    same = dep.drop(index=["S21", "S22"])
    assert (same.index == same.current_unit_id).all()
    processed = processing(2024).groupby("unit_id").processed.sum()
    for old in dep.index:  # every department is weighted by its 2024 workload
        assert int(dep.loc[old, "weight"]) == processed[old]


# ---------------------------------------------------------------- surveys

SURVEYS = [
    pytest.param(y, name, items, id=f"{y}-{name.removesuffix('.csv')}")
    for name, items in (("survey_citizens.csv", CITIZEN_ITEMS),
                        ("survey_businesses.csv", BUSINESS_ITEMS))
    for y in YEARS
]


@pytest.mark.parametrize(("year", "name", "items"), SURVEYS)
def test_survey_structure(year: int, name: str, items: list[str]) -> None:
    s = raw(year, name)
    head = ["respondent_id", "unit_id", "weight"] if "citizens" in name else [
        "respondent_id", "unit_id", "firm_size", "weight"]
    assert list(s.columns) == head + items
    assert s.respondent_id.is_unique
    pattern = rf"{year}-\d{{6}}" if "citizens" in name else rf"{year}-DN\d{{5}}"
    assert s.respondent_id.str.fullmatch(pattern).all()
    assert s.unit_id.isin(ids(year)).all(), "respondent of a unit not in the registry"
    if "businesses" in name:
        assert set(s.firm_size) <= {"siêu nhỏ", "nhỏ", "vừa", "lớn"}
        assert all(is_nfc(x) for x in s.firm_size.unique())


@pytest.mark.parametrize(("year", "name", "items"), SURVEYS)
def test_survey_answers(year: int, name: str, items: list[str]) -> None:
    a = raw(year, name)[items]
    values = a.to_numpy().ravel()
    bad = set(values) - ANSWER_CODES
    assert not bad, f"unexpected answer codes {sorted(bad)[:5]}"
    dk = np.mean(values == "9")
    blank = np.mean(values == "")
    assert 0.015 < dk < 0.06, dk
    assert 0.01 < blank < 0.03, blank
    valid = values[np.isin(values, ["1", "2", "3", "4", "5"])].astype(int)
    top2 = np.mean(valid >= 4)
    lo = 0.75 if "citizens" in name else 0.65
    assert lo < top2 < 0.90, top2
    assert set(valid) == {1, 2, 3, 4, 5}, "answers should use the whole scale"


@pytest.mark.parametrize(("year", "name", "items"), SURVEYS)
def test_survey_weights(year: int, name: str, items: list[str]) -> None:
    w = raw(year, name).weight
    assert w.str.fullmatch(r"\d+\.\d{4}").all()
    w = w.astype(float)
    assert (w > 0).all()
    assert w.between(0.3, 3.0).all()
    assert abs(w.mean() - 1) < 0.05


def test_latent_quality_spreads_unit_scores() -> None:
    s = raw(2025, "survey_citizens.csv")
    q11 = pd.to_numeric(s.q11.where(s.q11.isin(list("12345"))))
    by_unit = q11.groupby(s.unit_id).mean()
    assert by_unit.max() - by_unit.min() > 0.5


@pytest.mark.parametrize("year", YEARS)
def test_citizen_survey_coverage_and_sizes(year: int) -> None:
    n = raw(year, "survey_citizens.csv").unit_id.value_counts()
    r = registry(year).set_index("unit_id")
    expected = set(r.index) - ({NO_CITIZENS_2025} if year == 2025 else set())
    assert set(n.index) == expected
    level = r.level.loc[n.index]
    assert n[level == "department"].between(80, 250).all()
    assert n[level == "district"].between(150, 300).all()
    com = n[level == "commune"]
    if year == 2024:
        assert com.between(60, 200).all()
    else:
        assert (com == 12).sum() == 1, "exactly one tiny commune sample"
        assert com[com != 12].between(150, 450).all()


@pytest.mark.parametrize("year", YEARS)
def test_business_survey_coverage(year: int) -> None:
    n = raw(year, "survey_businesses.csv").unit_id.value_counts()
    r = registry(year).set_index("unit_id")
    assert set(n.index) == set(r.index)
    level = r.level.loc[n.index]
    assert n[level == "department"].between(40, 120).all()
    assert n[level != "department"].between(15, 60).all()


# ---------------------------------------------------------------- processing

@pytest.mark.parametrize("year", YEARS)
def test_processing_coverage(year: int) -> None:
    p = processing(year)
    assert list(p.columns) == ["unit_id", "month", *PROCESSING_COUNTS]
    assert not p.duplicated(["unit_id", "month"]).any()
    assert p.unit_id.isin(ids(year)).all()
    months = p.groupby("unit_id").month.apply(lambda m: tuple(sorted(m)))
    r = registry(year).set_index("unit_id")
    assert set(months.index) == set(r.index), "registry unit without processing rows"
    for uid, ms in months.items():
        new_commune = year == 2025 and r.level[uid] == "commune"
        assert ms == tuple(range(7 if new_commune else 1, 13)), uid


@pytest.mark.parametrize("year", YEARS)
def test_processing_invariants(year: int) -> None:
    p = processing(year)
    assert (p[PROCESSING_COUNTS] >= 0).all().all()
    assert (p.processed <= p.received + p.carried_over).all()
    assert (p.pending == p.received + p.carried_over - p.processed).all()
    classified = p.early + p.on_time + p.late
    assert (classified <= p.processed).all()
    assert (classified < p.processed).mean() > 0.5, "some files should be unclassified"
    assert (p.online <= p.received).all()
    assert (p.paid_online <= p.fee_files).all()
    assert (p.fee_files <= p.received).all()
    assert (p.digitised <= p.processed).all()


@pytest.mark.parametrize("year", YEARS)
def test_processing_carry_over_chain(year: int) -> None:
    p = processing(year).sort_values(["unit_id", "month"])
    prev_pending = p.groupby("unit_id").pending.shift()
    chained = prev_pending.notna()
    assert chained.sum() > 0
    assert (p.carried_over[chained] == prev_pending[chained]).all()


@pytest.mark.parametrize("year", YEARS)
def test_processing_volumes(year: int) -> None:
    p = processing(year)
    level = p.unit_id.map(registry(year).set_index("unit_id").level)
    for lvl, (lo, hi) in {"department": (200, 3000), "district": (300, 2000),
                          "commune": (20, 400)}.items():
        assert p.received[level == lvl].between(lo, hi).all(), lvl


# ---------------------------------------------------------------- appraisal

@pytest.mark.parametrize("year", YEARS)
def test_appraisal_layout(year: int) -> None:
    top = pd.read_excel(SAMPLES / str(year) / "appraisal.xlsx", engine="calamine",
                        header=None, nrows=3, sheet_name=None)
    assert list(top) == ["Thẩm định"]
    sheet = top["Thẩm định"]
    title = sheet.iloc[0, 0]
    assert isinstance(title, str) and title.startswith("BẢNG TỔNG HỢP ĐIỂM")
    assert title.endswith(f"NĂM {year}")
    assert sheet.iloc[1].isna().all(), "row 2 must be empty"
    a = appraisal(year)
    assert list(a.columns) == APPRAISAL_COLUMNS


@pytest.mark.parametrize("year", YEARS)
def test_appraisal_units(year: int) -> None:
    a = appraisal(year)
    assert a.unit_id.is_unique
    assert set(a.unit_id) == ids(year), "appraisal rows != registry units"
    names = registry(year).set_index("unit_id").unit_name
    assert (a.unit_name == a.unit_id.map(names)).all()
    assert all(is_nfc(s) for s in a.unit_name)
    # ids are stored as text cells: without a dtype they must still read as strings
    untyped = pd.read_excel(SAMPLES / str(year) / "appraisal.xlsx", engine="calamine",
                            header=2, usecols=["unit_id"])
    assert all(isinstance(x, str) for x in untyped.unit_id)
    assert set(untyped.unit_id) == ids(year)


@pytest.mark.parametrize("year", YEARS)
def test_appraisal_points(year: int) -> None:
    a = appraisal(year)
    is_dept = a.unit_id.isin(ids(year, "department"))
    self_all, appr_all = [], []
    for item, mx in POINTS_MAX.items():
        for col in (f"{item}_self", item):
            v = a[col]
            if item == "sap_xep":
                assert v[~is_dept].isna().all(), f"{col} must be blank outside departments"
                v = v[is_dept]
            assert v.notna().all(), col
            assert v.between(0, mx).all(), col
            assert ((v * 4) == (v * 4).round()).all(), f"{col} not in steps of 0.25"
        rows = is_dept if item == "sap_xep" else slice(None)
        self_all.append(a.loc[rows, f"{item}_self"])
        appr_all.append(a.loc[rows, item])
    s, p = pd.concat(self_all), pd.concat(appr_all)
    share = (p <= s).mean()
    assert 0.90 <= share < 1.0, share


@pytest.mark.parametrize("year", YEARS)
def test_appraisal_other_columns(year: int) -> None:
    a = appraisal(year)
    plan = a.ty_le_hoan_thanh_ke_hoach
    assert plan.between(55, 100).all()
    assert (plan.round(1) == plan).all()
    for col in ("bao_cao_dung_han", "tu_chu", "an_toan_thong_tin"):
        assert set(a[col]) <= {"Có", "Không"}, col
        assert (a[col] == "Có").mean() > 0.5, col
    assert set(a.so_vi_pham) <= {0, 1, 2, 3}
    assert (a.so_vi_pham == 0).mean() > 0.5
    assert a.ty_le_giai_ngan.between(0.40, 1.00).all()
    assert (a.ty_le_giai_ngan.round(3) == a.ty_le_giai_ngan).all()
    assert set(a.ung_dung_so) <= set(range(7))
    r = registry(year).set_index("unit_id")
    ward = (r.group == "Phường") if year == 2025 else r.unit_name.str.startswith("Phường")
    wards = set(r.index[ward])
    assert len(wards) > 0
    smart = a.set_index("unit_id").do_thi_thong_minh
    assert smart[smart.index.isin(wards)].isin(["Có", "Không"]).all()
    assert smart[~smart.index.isin(wards)].isna().all()
