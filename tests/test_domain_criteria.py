"""The domain criteria files (SIPAS, Decision-766, DDCI, PAR by level) on the sample province.

Each file must validate, score the sample years through the CLI and the library, rank every
registry unit of its levels within its scale, and agree to 1e-9 with a hand computation of
one or two units made here with pandas straight from the sample rows (independently of the
engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import par_index as pi
from par_index.cli import app

ROOT = Path(__file__).resolve().parents[1]
CRITERIA = ROOT / "criteria"
SAMPLES = ROOT / "data" / "samples"
TOL = 1e-9
runner = CliRunner()


@dataclass(frozen=True)
class Case:
    inputs: dict[str, str]  # input name -> sample file name
    levels: tuple[str, ...]  # levels scored (2025)
    low: float  # lowest possible total
    high: float  # highest possible total


PAR_INPUTS = {"registry": "registry.csv", "survey": "survey_citizens.csv",
              "processing": "processing.csv", "appraisal": "appraisal.xlsx"}
CASES = {
    "sipas-2025": Case({"registry": "registry.csv", "survey_citizens": "survey_citizens.csv"},
                       ("department", "commune"), 0, 100),
    "service-766-2025": Case({"registry": "registry.csv", "processing": "processing.csv",
                              "service_766": "service_766.csv"},
                             ("department", "commune"), 0, 100),
    "ddci-2025": Case({"registry": "registry.csv", "survey_businesses": "survey_businesses.csv",
                       "processing": "processing.csv"},
                      ("department", "commune"), 10, 100),
    "par-commune-2025": Case(PAR_INPUTS, ("commune",), 0, 100),
    "par-department-2025": Case(PAR_INPUTS, ("department",), 0, 100),
}
NAMES = list(CASES)
NO_CITIZENS = "S15"  # 2025: no citizen respondents


def sources(name: str, year: int) -> dict[str, Path]:
    return {k: SAMPLES / str(year) / v for k, v in CASES[name].inputs.items()}


@cache
def results(name: str, year: int) -> pi.Results:
    return pi.score(CRITERIA / f"{name}.yaml", sources(name, year))


# ------------------------------------------------------------------ raw sample rows


@cache
def csv(year: int, file: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLES / str(year) / file, dtype={"unit_id": str})


@cache
def appraisal(year: int) -> pd.DataFrame:
    frame = pd.read_excel(SAMPLES / str(year) / "appraisal.xlsx", engine="calamine", header=2,
                          dtype={"unit_id": str})
    return frame.set_index("unit_id")


def registry(year: int) -> pd.DataFrame:
    return csv(year, "registry.csv").set_index("unit_id")


def sums(year: int, file: str) -> pd.DataFrame:
    """Counts of a monthly table summed per unit."""
    return csv(year, file).drop(columns="month").groupby("unit_id").sum(min_count=1)


@cache
def top2_all(year: int, file: str, questions: tuple[str, ...]) -> pd.Series:
    """Per unit: the weighted share of valid answers (1–5) that are 4 or 5, the answers to all
    ``questions`` pooled (each valid answer counts once)."""
    rows = csv(year, file)
    answers = rows[list(questions)].to_numpy(dtype="float64")
    valid = (answers >= 1) & (answers <= 5)
    weight = rows["weight"].to_numpy(dtype="float64")[:, None]
    parts = pd.DataFrame({
        "unit_id": rows["unit_id"],
        "top": (weight * (valid & (answers >= 4))).sum(axis=1),
        "all": (weight * valid).sum(axis=1),
    }).groupby("unit_id").sum()
    return parts["top"] / parts["all"]


def top2(year: int, file: str, unit: str, questions: list[str]) -> float:
    return float(top2_all(year, file, tuple(questions))[unit])


def total_of(name: str, year: int, unit: str) -> float:
    ranking = results(name, year).ranking.set_index("unit_id")
    return float(ranking.loc[unit, "score"])


def first_unit(year: int, level: str, group: str | None = None) -> str:
    reg = registry(year)
    chosen = reg[(reg["level"] == level) & ((reg["group"] == group) if group else True)]
    return str(chosen.index[0])


# ------------------------------------------------------------------ every file


@pytest.mark.parametrize("name", NAMES)
def test_the_file_validates(name: str) -> None:
    result = runner.invoke(app, ["validate", str(CRITERIA / f"{name}.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{name}: ")
    assert "max 100" in result.stdout


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_writes_the_same_ranking_as_the_library(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.xlsx"
    files = sources(name, 2025)
    if name.startswith("par-"):  # survey_citizens.csv does not match the input name "survey"
        args = [f"--input={k}={v}" for k, v in files.items()]
    else:  # every file is named like its input
        args = [str(v) for v in files.values()]
    result = runner.invoke(app, ["score", *args, "-c", str(CRITERIA / f"{name}.yaml"),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_excel(out, sheet_name="ranking", engine="calamine", dtype={"unit_id": str})
    library = results(name, 2025).ranking
    assert list(written["unit_id"]) == list(library["unit_id"])
    np.testing.assert_allclose(written["score"].to_numpy(dtype="float64"),
                               library["score"].to_numpy(dtype="float64"), rtol=0, atol=TOL)


# 2024 (with districts) once, for the file whose 2024 run the hand-worked checks need too;
# kept short: the suite must stay fast.
@pytest.mark.parametrize(("name", "year"), [(n, 2025) for n in NAMES]
                         + [("service-766-2025", 2024)])
def test_every_registry_unit_is_ranked_within_the_scale(name: str, year: int) -> None:
    case = CASES[name]
    ranking = results(name, year).ranking.set_index("unit_id")
    reg = registry(year)
    levels = case.levels + (("district",) if year == 2024 else ())
    if name.startswith("par-"):  # units.score_levels: the other levels are left out, counted
        assert set(ranking.index) == set(reg.index[reg["level"].isin(levels)])
        left_out = {r["what"]: r["count"] for r in results(name, year).run["rows"]}
        assert left_out[f"units left out: level not in {list(case.levels)}"] == int(
            (~reg["level"].isin(levels)).sum())
    else:
        assert set(ranking.index) == set(reg.index)
    scored = ranking[ranking["level"].isin(levels)]
    unscored = {NO_CITIZENS} if (name == "sipas-2025" and year == 2025) else set()
    expected = set(reg.index[reg["level"].isin(levels)]) - unscored
    assert set(scored.index[scored["score"].notna()]) == expected
    in_scale = scored.loc[sorted(expected), "score"]
    assert ((in_scale >= case.low - TOL) & (in_scale <= case.high + TOL)).all()
    assert scored.loc[sorted(expected), "rank"].notna().all()
    # units of a level the file does not score stay in the results, with no score at all
    others = ranking[~ranking["level"].isin(levels)]
    assert others["score"].isna().all() and others["rank"].isna().all()
    assert others["tier"].isna().all()


# ------------------------------------------------------------------ SIPAS

SIPAS_ELEMENTS = {"tiep_can": ["q01", "q02"], "thu_tuc": ["q03", "q04"],
                  "cong_chuc": ["q05", "q06"], "ket_qua": ["q07", "q08"],
                  "phan_anh": ["q09", "q10"]}


def sipas_by_hand(year: int, unit: str) -> float:
    shares = [top2(year, "survey_citizens.csv", unit, q) for q in SIPAS_ELEMENTS.values()]
    return sum(shares) / len(shares) * 100


def test_sipas_hand_worked_units() -> None:
    counts = csv(2025, "survey_citizens.csv")["unit_id"].value_counts()
    tiny = str(counts.idxmin())  # the commune with only 12 respondents
    assert counts[tiny] == 12
    for unit in ("S01", tiny, first_unit(2025, "commune")):
        assert total_of("sipas-2025", 2025, unit) == pytest.approx(sipas_by_hand(2025, unit),
                                                                   abs=TOL)


def test_sipas_the_department_without_respondents_is_declared_missing() -> None:
    res = results("sipas-2025", 2025)
    missing = res.missing
    assert set(missing["unit_id"]) == {NO_CITIZENS}  # nobody else is missing
    assert set(missing["node_id"]) == {"sipas-2025", *SIPAS_ELEMENTS}
    assert set(missing["action"]) == {"reweight"}  # the declared policy
    row = res.ranking.set_index("unit_id").loc[NO_CITIZENS]
    assert np.isnan(row["score"]) and pd.isna(row["rank"]) and pd.isna(row["tier"])
    assert res.spec.missing == "reweight"


# ------------------------------------------------------------------ Decision 766


def ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def service_766_by_hand(year: int, unit: str) -> float:
    p = sums(year, "processing.csv").loc[unit]
    s = sums(year, "service_766.csv").loc[unit]
    level = registry(year).loc[unit, "level"]

    def prop(num: float, den: float, top: float) -> float:  # rate × max, full when den = 0
        r = ratio(num, den)
        return top if r is None else top * r

    def target(num: float, den: float, goal: float, top: float) -> float:
        return top * min(1.0, num / den / goal)

    group1 = [prop(s.procedures_published_on_time, s.procedures_to_publish, 4),
              prop(s.procedures_complete, s.procedures_total, 2),
              prop(s.files_synced, s.files_received, 6)]
    maximum = 12.0
    if level == "department":
        group1.append(prop(s.procedures_announced_on_time, s.procedures_to_announce, 6))
        maximum += 6
    else:
        assert np.isnan(s.procedures_to_announce)  # empty outside departments
    g1 = sum(group1) * 18 / maximum
    g2 = 20 * (p.early + p.on_time) / p.processed
    g3 = (6 * s.files_e_result / s.files_processed
          + target(p.digitised, p.processed, 0.8, 6)
          + target(s.files_reused, s.files_received, 0.8, 6)
          + 4 * s.files_population_data / s.files_received)
    g4 = (target(s.procedures_full_online, s.procedures_total, 0.8, 6)
          + target(p.online, p.received, 0.5, 6)
          + prop(p.paid_online, p.fee_files, 10))
    petitions_ok = ratio(s.petitions - s.petitions_late - s.petitions_unsatisfied, s.petitions)
    satisfied = 1 - (s.files_late + s.files_complained) / s.files_processed
    g5 = (prop(s.petitions_on_time, s.petitions, 6)
          + (6 if petitions_ok is None else 6 * petitions_ok)
          + 6 * min(1.0, satisfied / 0.9))
    return float(g1 + g2 + g3 + g4 + g5)


def test_service_766_hand_worked_units() -> None:
    for year, unit in ((2025, "S01"), (2025, first_unit(2025, "commune")),
                       (2024, first_unit(2024, "commune")), (2024, "H01")):
        assert total_of("service-766-2025", year, unit) == pytest.approx(
            service_766_by_hand(year, unit), abs=TOL)


def test_service_766_zero_petitions_earn_full_points() -> None:
    s = sums(2024, "service_766.csv")
    none = s.index[s["petitions"] == 0]
    assert len(none) > 0  # the 2024 samples have communes without any petition
    detail = results("service-766-2025", 2024).detail
    rows = detail[detail["unit_id"].isin(none) & detail["node_id"].isin(
        ["pakn_dung_han", "pakn_hai_long"])]
    assert (rows["score"] == 6).all() and set(rows["action"]) == {"full_credit_no_cases"}


@pytest.mark.parametrize("year", [2025, 2024])
def test_service_766_sample_invariants(year: int) -> None:
    s = csv(year, "service_766.csv")
    p = csv(year, "processing.csv")
    assert list(zip(s["unit_id"], s["month"], strict=True)) == list(
        zip(p["unit_id"], p["month"], strict=True))
    assert (s["files_received"] == p["received"]).all()
    assert (s["files_processed"] == p["processed"]).all()
    assert (s["files_late"] == p["late"]).all()
    counts = s.drop(columns=["unit_id"])
    assert (counts.fillna(0) >= 0).all().all()
    assert (counts.fillna(0) % 1 == 0).all().all()
    level = s["unit_id"].map(registry(year)["level"])
    dept = level == "department"
    announce = s[["procedures_to_announce", "procedures_announced_on_time"]]
    assert announce[dept].notna().all().all() and announce[~dept].isna().all().all()
    bounded = [("files_synced", "files_received"), ("files_e_result", "files_processed"),
               ("files_reused", "files_received"), ("files_population_data", "files_received"),
               ("procedures_full_online", "procedures_total"),
               ("procedures_complete", "procedures_total"),
               ("procedures_announced_on_time", "procedures_to_announce"),
               ("procedures_published_on_time", "procedures_to_publish"),
               ("petitions_unsatisfied", "petitions_on_time")]
    for num, den in bounded:
        assert (s[num].fillna(0) <= s[den].fillna(0)).all(), num
    assert (s["files_late"] + s["files_complained"] <= s["files_processed"]).all()
    assert (s["petitions_on_time"] + s["petitions_late"] == s["petitions"]).all()
    # a stock that never decreases within the year, constant procedure count
    by_unit = s.groupby("unit_id", sort=False)
    assert (by_unit["procedures_full_online"].diff().fillna(0) >= 0).all()
    assert (by_unit["procedures_total"].nunique() == 1).all()


# ------------------------------------------------------------------ DDCI

DDCI_TREE = {  # sub-index: (its weight, its indicators, weighted equally)
    "minh_bach": (0.15, ["b01"]),
    "chi_phi_thoi_gian": (0.15, ["b02", "on_time"]),
    "chi_phi_khong_chinh_thuc": (0.15, ["b03"]),
    "canh_tranh_binh_dang": (0.10, ["b04"]),
    "nang_dong": (0.15, ["b05"]),
    "ho_tro_doanh_nghiep": (0.10, ["b06"]),
    "thiet_che_phap_ly": (0.10, ["b07"]),
    "dich_vu_cong_truc_tuyen": (0.10, ["online", "paid_online"]),
}


def ddci_raw(year: int, units: list[str]) -> pd.DataFrame:
    p = sums(year, "processing.csv").loc[units]
    raw = pd.DataFrame(index=units)
    for q in ("b01", "b02", "b03", "b04", "b05", "b06", "b07"):
        raw[q] = [top2(year, "survey_businesses.csv", u, [q]) for u in units]
    raw["on_time"] = (p["early"] + p["on_time"]) / p["processed"]
    raw["online"] = p["online"] / p["received"]
    raw["paid_online"] = p["paid_online"] / p["fee_files"]
    return raw


def ddci_by_hand(year: int, unit: str) -> float:
    reg = registry(year)
    peers = list(reg.index[reg["level"] == reg.loc[unit, "level"]])
    raw = ddci_raw(year, peers)
    scaled = 1 + 9 * (raw - raw.min()) / (raw.max() - raw.min())  # 1–10 across the level
    total = 0.0
    for weight, indicators in DDCI_TREE.values():
        sub = sum(scaled.loc[unit, i] for i in indicators) / len(indicators)  # equal weights
        total += weight * sub / 10
    return total * 100  # the weights add up to 1


def test_ddci_hand_worked_units() -> None:
    for unit in (first_unit(2025, "commune"), "S02"):
        assert total_of("ddci-2025", 2025, unit) == pytest.approx(ddci_by_hand(2025, unit),
                                                                  abs=TOL)


def test_ddci_indicators_span_one_to_ten_within_each_level() -> None:
    detail = results("ddci-2025", 2025).detail
    leaves = detail[detail["is_leaf"]]
    spans = leaves.groupby(["level", "node_id"])["score"].agg(["min", "max"])
    assert np.allclose(spans["min"], 1) and np.allclose(spans["max"], 10)


# ------------------------------------------------------------------ PAR by level


@cache
def par_2025() -> pi.Results:
    return pi.score(CRITERIA / "par-2025.yaml", pi.sample_inputs(2025))


def par_by_hand(year: int, unit: str) -> float:
    """The PAR total of one unit, from the appraisal sheet, processing rows and survey."""
    reg = registry(year)
    level, group = reg.loc[unit, "level"], reg.loc[unit, "group"]
    a = appraisal(year)
    r = a.loc[unit]
    p = sums(year, "processing.csv").loc[unit]
    yes = {"Có": 1.0, "Không": 0.0}

    completion = r.ty_le_hoan_thanh_ke_hoach
    band = 3 if completion >= 100 else 2 if completion >= 80 else 1 if completion >= 70 else 0
    late = p.late / p.processed
    on_time = (p.early + p.on_time) / p.processed
    peers = reg.index[reg["level"] == level]
    best_disbursed = a.loc[peers, "ty_le_giai_ngan"].max()

    points = {  # (score, maximum) of each indicator that applies
        "ke_hoach": (r.ke_hoach, 2), "muc_do_thuc_hien": (band, 3),
        "bao_cao": (2 * yes[r.bao_cao_dung_han], 2), "kiem_tra": (r.kiem_tra, 3),
        "van_ban": (r.van_ban, 4), "kiem_tra_van_ban": (r.kiem_tra_van_ban, 4),
        "dung_han": (8 * min(1.0, max(0.0, (on_time - 0.8) / 0.2)), 8),
        "truc_tuyen": (6 * min(1.0, p.online / p.received / 0.8), 6),
        "thanh_toan": (4 * min(1.0, p.paid_online / p.fee_files / 0.5), 4),
        "tre_han": (4 if late <= 0.01 else 2 if late <= 0.03 else 0, 4),
        "bien_che": (r.bien_che, 4), "vi_tri_viec_lam": (r.vi_tri_viec_lam, 4),
        "ky_luat": (max(0.0, 6 - 2 * r.so_vi_pham), 6),
        "giai_ngan": (4 * r.ty_le_giai_ngan / best_disbursed, 4),
        "tu_chu": (2 * yes[r.tu_chu], 2),
        "so_hoa": (4 * p.digitised / p.processed, 4),
        "ung_dung": (min(3.0, float(r.ung_dung_so)), 3),
        "an_toan": (3 * yes[r.an_toan_thong_tin], 3),
    }
    if level == "department":
        points["sap_xep"] = (r.sap_xep, 4)
    if group == "Phường":
        points["do_thi_thong_minh"] = (2 * yes[r.do_thi_thong_minh], 2)
    survey_max = {"tiep_can": 5, "thu_tuc": 5, "cong_chuc": 6, "ket_qua": 5, "phan_anh": 5}
    if (csv(year, "survey_citizens.csv")["unit_id"] == unit).any():
        for element, questions in SIPAS_ELEMENTS.items():
            share = top2(year, "survey_citizens.csv", unit, questions)
            points[element] = (survey_max[element] * share, survey_max[element])
    # else the survey block is missing and left out (reweight): the rest is rescaled
    achieved = sum(s for s, _ in points.values())
    applicable = sum(m for _, m in points.values())
    return float(achieved * 100 / applicable)


def test_par_commune_hand_worked_units() -> None:
    for unit in (first_unit(2025, "commune", "Phường"), first_unit(2025, "commune", "Xã")):
        assert total_of("par-commune-2025", 2025, unit) == pytest.approx(
            par_by_hand(2025, unit), abs=TOL)


def test_par_department_hand_worked_units() -> None:
    assert (csv(2025, "survey_citizens.csv")["unit_id"] != NO_CITIZENS).all()
    for unit in ("S01", NO_CITIZENS):  # S15: survey block rescaled away (74 points → 100)
        assert total_of("par-department-2025", 2025, unit) == pytest.approx(
            par_by_hand(2025, unit), abs=TOL)
    missing = results("par-department-2025", 2025).missing
    assert set(missing["unit_id"]) == {NO_CITIZENS}
    assert set(missing["action"]) == {"reweight"}


@pytest.mark.parametrize(("name", "level"), [("par-commune-2025", "commune"),
                                             ("par-department-2025", "department")])
def test_par_split_gives_each_unit_its_par_2025_result(name: str, level: str) -> None:
    assert sources(name, 2025) == pi.sample_inputs(2025)  # the demo's inputs feed the file
    whole = par_2025().ranking
    split = results(name, 2025).ranking
    whole = whole[whole["level"] == level].set_index("unit_id").sort_index()
    mine = split[split["level"] == level].set_index("unit_id").sort_index()
    assert list(mine.index) == list(whole.index)
    np.testing.assert_allclose(mine["score"], whole["score"], rtol=0, atol=TOL)
    assert (mine["rank"] == whole["rank"]).all()
    assert (mine["tier"] == whole["tier"]).all()
    assert (mine["rank_in_group"] == whole["rank_in_group"]).all()
