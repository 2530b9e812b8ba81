"""Low-ranking indicators: ``par_index.low_ranking`` and ``par-index weak``.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import par_index
from par_index import ParIndexError
from par_index.cli import app
from par_index.results import Results, WeakReport
from par_index.spec import spec_from_data

ROOT = Path(__file__).resolve().parents[2]
TABLE = {"kind": "table", "unit_column": "unit"}


def make_spec(criteria: list[dict[str, Any]], **units: Any) -> Any:
    return spec_from_data({"id": "idx", "name": "Test index", "inputs": {"t": dict(TABLE)},
                           "units": {"name_column": "name", "level": "commune", **units},
                           "criteria": criteria})


def col(node_id: str, maximum: float, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "name": node_id.upper(), "max": maximum,
            "measure": {"kind": "column", "table": "t", "column": node_id}, **extra}


def weak_of(report: WeakReport, node: str) -> pd.DataFrame:
    return report.weak[report.weak["node_id"] == node].set_index("unit_id")


# --------------------------------------------------------------------------------------------
# the tie guard
# --------------------------------------------------------------------------------------------

UNITS10 = [f"u{i:02d}" for i in range(10)]
MISSED = ("u03", "u07")  # the two units without the yes/no indicator
YES_NO_SPEC = make_spec([
    {"id": "ok", "name": "Có quy chế", "max": 10,
     "measure": {"kind": "yes_no", "table": "t", "column": "ok"}},
    col("v", 10),
    col("same", 10),
])
YES_NO_DATA = pd.DataFrame({
    "unit": UNITS10,
    "name": [f"Xã {u}" for u in UNITS10],
    "ok": ["Không" if u in MISSED else "Có" for u in UNITS10],
    "v": [float(i) for i in range(10)],  # u09 best … u00 worst
    "same": [5.0] * 10,                  # everyone equal: nobody is behind anybody
})


@pytest.fixture(scope="module")
def yes_no() -> Results:
    return par_index.score(YES_NO_SPEC, {"t": YES_NO_DATA})


@pytest.mark.parametrize("cut", [
    {},                        # bottom quarter: rank > 7.5
    {"bottom_share": 0.9},     # rank > 10·(1 − 0.9) — which is 0.999…, so rank 1 is "inside"
    {"bottom_share": 1.0},     # every place is inside the cut
    {"bottom_k": 10},          # every place is inside the cut
    {"below_share": 1.0},      # everything short of full marks
])
def test_units_at_the_shared_top_are_never_weak(yes_no: Results, cut: dict[str, Any]) -> None:
    report = par_index.low_ranking(yes_no, **cut)
    ok = weak_of(report, "ok")
    # 8 units tie at full marks (rank 1); the 2 without it share rank 9
    assert sorted(ok.index) == list(MISSED)
    assert list(ok["rank"]) == [9, 9]
    assert list(ok["tied_with"]) == [1, 1]
    assert list(ok["units_in_level"]) == [10, 10]
    assert list(ok["level_best"]) == [10.0, 10.0]
    assert list(ok["level_mean"]) == pytest.approx([8.0, 8.0])  # 8·10 / 10
    assert list(ok["points_lost_vs_max"]) == [10.0, 10.0]
    assert list(ok["points_lost_vs_best"]) == [10.0, 10.0]
    # an indicator on which everyone is equal makes nobody weak, whatever the cut
    assert "same" not in set(report.weak["node_id"])


def test_an_all_equal_indicator_at_full_marks_is_nobodys_weakness() -> None:
    spec = make_spec([col("full", 4), col("v", 10)])
    data = pd.DataFrame({"unit": ["a", "b", "c"], "name": ["A", "B", "C"],
                         "full": [4.0, 4.0, 4.0], "v": [1.0, 2.0, 3.0]})
    results = par_index.score(spec, {"t": data})
    for cut in ({"bottom_share": 1.0}, {"bottom_k": 3}, {"below_share": 1.0}):
        assert "full" not in set(par_index.low_ranking(results, **cut).weak["node_id"]), cut


def test_ties_are_reported_among_the_strong(yes_no: Results) -> None:
    report = par_index.low_ranking(yes_no)
    strong = report.strong[report.strong["node_id"] == "ok"].set_index("unit_id")
    # rank 1 ≤ max(1, 10·0.25): the 8 with full marks, each tied with the 7 others
    assert sorted(strong.index) == [u for u in UNITS10 if u not in MISSED]
    assert set(strong["tied_with"]) == {7}
    # an indicator where everyone is equal is nobody's strength either
    assert "same" not in set(report.strong["node_id"])


# --------------------------------------------------------------------------------------------
# hand-worked
# --------------------------------------------------------------------------------------------

FOUR_SPEC = make_spec([col("p", 10), col("q", 4)])
# p: a 10 (1st), d 8 (2nd), b 6 (3rd), c 3 (4th);   mean 6.75, best 10
# q: b 4, c 4 (1st, tied), a 1 (3rd), d 0.5 (4th);  mean 2.375, best 4
FOUR = pd.DataFrame({"unit": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"],
                     "p": [10.0, 6.0, 3.0, 8.0], "q": [1.0, 4.0, 4.0, 0.5]})


@pytest.fixture(scope="module")
def four() -> Results:
    return par_index.score(FOUR_SPEC, {"t": FOUR})


def pairs(report: WeakReport) -> list[tuple[str, str]]:
    return list(zip(report.weak["unit_id"], report.weak["node_id"], strict=True))


def test_weak_indicators_ordered_by_points_at_stake(four: Results) -> None:
    # bottom 75 %: rank > 4·0.25 = 1 → p: d, b, c; q: a, d
    report = par_index.low_ranking(four, bottom_share=0.75)
    # per unit, most points lost first: d loses 3.5 on q and 2 on p
    assert pairs(report) == [("a", "q"), ("b", "p"), ("c", "p"), ("d", "q"), ("d", "p")]
    weak = report.weak.set_index(["unit_id", "node_id"])
    assert weak.loc[("d", "q"), "points_lost_vs_max"] == pytest.approx(3.5)
    assert weak.loc[("d", "q"), "points_lost_vs_best"] == pytest.approx(3.5)
    assert weak.loc[("c", "p"), "points_lost_vs_max"] == pytest.approx(7.0)
    assert weak.loc[("c", "p"), "level_mean"] == pytest.approx(6.75)
    assert weak.loc[("a", "q"), "level_mean"] == pytest.approx(2.375)
    assert weak.loc[("a", "q"), "share"] == pytest.approx(0.25)
    assert (weak.loc[("a", "q"), "rank"], weak.loc[("a", "q"), "tied_with"]) == (3, 0)
    assert report.cut == {"kind": "bottom_share", "value": 0.75, "top_share": 0.25}


def test_the_other_cuts(four: Results) -> None:
    # bottom 1 place: rank > 3
    assert pairs(par_index.low_ranking(four, bottom_k=1)) == [("c", "p"), ("d", "q")]
    # below half the maximum: p c 0.3; q a 0.25, d 0.125
    assert pairs(par_index.low_ranking(four, below_share=0.5)) == \
        [("a", "q"), ("c", "p"), ("d", "q")]
    # the default: bottom quarter, rank > 3
    assert pairs(par_index.low_ranking(four)) == [("c", "p"), ("d", "q")]


def test_strongest_and_level_losses(four: Results) -> None:
    report = par_index.low_ranking(four)
    # rank ≤ max(1, 4·0.25) = 1: p a; q b and c
    assert list(zip(report.strong["unit_id"], report.strong["node_id"], strict=True)) == \
        [("a", "p"), ("b", "q"), ("c", "q")]
    level = report.level.set_index("node_id")
    assert list(level.index) == ["p", "q"]  # p loses 0 + 4 + 7 + 2 = 13, q 3 + 0 + 0 + 3.5
    assert level.loc["p", "points_lost_total"] == pytest.approx(13.0)
    assert level.loc["q", "points_lost_total"] == pytest.approx(6.5)
    assert level.loc["q", "points_lost_mean"] == pytest.approx(6.5 / 4)
    assert level.loc["p", "share_at_full_marks"] == pytest.approx(0.25)
    assert level.loc["q", "share_at_full_marks"] == pytest.approx(0.5)
    assert (level.loc["p", "units"], level.loc["p", "maximum"]) == (4, 10.0)


def test_fell_since_last_year(four: Results) -> None:
    before = FOUR.assign(q=[0.0, 4.0, 4.0, 3.0], p=[10.0, 6.0, 5.0, 8.0])
    previous = par_index.score(FOUR_SPEC, {"t": before})
    report = par_index.low_ranking(four, bottom_share=0.75, previous=previous)
    weak = report.weak.set_index(["unit_id", "node_id"])
    # d's q 3 → 0.5 fell; a's q 0 → 1 rose; c's p 5 → 3 fell; b's p and d's p stayed
    assert weak["score_change"].to_dict() == pytest.approx(
        {("a", "q"): 1.0, ("b", "p"): 0.0, ("c", "p"): -2.0, ("d", "q"): -2.5, ("d", "p"): 0.0})
    assert weak["fell"].to_dict() == {("a", "q"): False, ("b", "p"): False, ("c", "p"): True,
                                      ("d", "q"): True, ("d", "p"): False}
    # without a previous year nothing fell
    assert not par_index.low_ranking(four, bottom_share=0.75).weak["fell"].any()


@pytest.mark.parametrize("cut", [
    {"bottom_share": 0.5, "bottom_k": 2},
    {"bottom_k": 0},
    {"bottom_share": 1.5},
    {"below_share": 0.0},
])
def test_a_bad_cut_is_refused(four: Results, cut: dict[str, Any]) -> None:
    with pytest.raises(ParIndexError):
        par_index.low_ranking(four, **cut)


# --------------------------------------------------------------------------------------------
# property: what is listed is inside the cut, and not at the top
# --------------------------------------------------------------------------------------------

PROP_SPEC = make_spec([
    {"id": "A", "name": "A", "max": 10, "aggregation": "weighted_mean",
     "children": [col("p", 10, weight=2), col("q", 10, weight=1)]},
    col("r", 5),
], level=None, level_column="level")
CUTS = st.one_of(
    st.fixed_dictionaries({"bottom_share": st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0])}),
    st.fixed_dictionaries({"bottom_k": st.integers(1, 9)}),
    st.fixed_dictionaries({"below_share": st.sampled_from([0.2, 0.5, 0.7, 1.0])}),
)


@st.composite
def results_data(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(2, 9))
    values = st.sampled_from([0.0, 2.5, 5.0, 7.5, 10.0])
    units = [f"u{i}" for i in range(n)]
    return pd.DataFrame({
        "unit": units, "name": units,
        "level": [draw(st.sampled_from(["x", "y"])) for _ in units],
        "p": [draw(values) for _ in units],
        "q": [draw(values) for _ in units],
        "r": [float(draw(st.integers(0, 5))) for _ in units],
    })


@settings(max_examples=20, deadline=None)
@given(results_data(), CUTS)
def test_every_weak_indicator_is_inside_the_cut_and_not_at_the_top(
    data: pd.DataFrame, cut: dict[str, Any]
) -> None:
    results = par_index.score(PROP_SPEC, {"t": data})
    report = par_index.low_ranking(results, **cut)
    detail = results.detail
    leaves = detail[detail["is_leaf"]].copy()
    by = leaves.groupby(["level", "node_id"])["score"]
    leaves["n"], leaves["best"] = by.transform("count"), by.transform("max")
    kind, value = next(iter(cut.items()))
    rank = leaves["rank"].astype(float)
    inside = {"bottom_share": rank > leaves["n"] * (1 - value),
              "bottom_k": rank > leaves["n"] - value,
              "below_share": leaves["share"] < value}[kind]
    expected = leaves[inside & (leaves["score"] < leaves["best"] - 1e-9)]
    listed = report.weak
    assert set(zip(listed["unit_id"], listed["node_id"], strict=True)) == \
        set(zip(expected["unit_id"], expected["node_id"], strict=True))
    assert (listed["score"] < listed["level_best"]).all()
    for row in listed.itertuples():
        same = leaves[(leaves["level"] == row.level) & (leaves["node_id"] == row.node_id)]
        assert row.tied_with == int((same["score"] == row.score).sum()) - 1
        assert row.units_in_level == len(same)
    # ordered by points at stake within each unit
    for _, part in listed.groupby("unit_id"):
        assert part["points_lost_vs_max"].is_monotonic_decreasing


# --------------------------------------------------------------------------------------------
# the command line on the bundled samples
# --------------------------------------------------------------------------------------------

def test_cli_weak_on_the_samples(tmp_path: Path) -> None:
    folder = ROOT / "data" / "samples" / "2025"
    results = tmp_path / "par-2025.parquet"
    runner = CliRunner()
    scored = runner.invoke(app, [
        "score", "-c", str(ROOT / "criteria" / "par-2025.yaml"),
        "--input", f"registry={folder / 'registry.csv'}",
        "--input", f"survey={folder / 'survey_citizens.csv'}",
        "--input", f"processing={folder / 'processing.csv'}",
        "--input", f"appraisal={folder / 'appraisal.xlsx'}",
        "--out", str(results),
    ])
    assert scored.exit_code == 0, scored.output
    out = tmp_path / "weak.xlsx"
    result = runner.invoke(app, ["weak", str(results), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    sheets = pd.read_excel(out, sheet_name=None, engine="calamine",
                           dtype={"unit_id": str})
    assert {"weak", "strong", "level", "run"} <= set(sheets)
    weak = sheets["weak"]
    assert f"{len(weak)} weak indicators in {weak['unit_id'].nunique()} units" in result.output
    assert len(weak) > 0
    # the default cut: the bottom quarter of places, never at the level's top
    assert (weak["rank"] > weak["units_in_level"] * 0.75).all()
    assert (weak["score"] < weak["level_best"]).all()
    library = par_index.low_ranking(results).weak
    assert list(weak["unit_id"]) == list(library["unit_id"])
    assert list(weak["node_id"]) == list(library["node_id"])
    # another cut, and last year given (here: the same results, so nothing fell)
    out_k = tmp_path / "weak.json"
    again = runner.invoke(app, ["weak", str(results), "--out", str(out_k), "--bottom-k", "3",
                                "--previous", str(results)])
    assert again.exit_code == 0, again.output
    doc = json.loads(out_k.read_text(encoding="utf-8"))
    rows = pd.DataFrame(doc["weak"])
    assert (rows["rank"] > rows["units_in_level"] - 3).all()
    assert not rows["fell"].any() and (rows["score_change"] == 0).all()
    assert doc["run"]["cut"] == {"kind": "bottom_k", "value": 3, "top_share": 0.25}
    # two cuts at once is a message, not a traceback
    bad = runner.invoke(app, ["weak", str(results), "--out", str(out_k), "--bottom-k", "3",
                              "--bottom-share", "0.5"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_repr_is_a_one_line_summary(yes_no: Results) -> None:
    report = par_index.low_ranking(yes_no)
    text = repr(report)
    units = report.weak["unit_id"].nunique()
    assert text.startswith(f"<WeakReport: {len(report.weak)} weak indicators in {units} units")
    assert "\n" not in text


def test_weak_survey_indicators_on_a_small_sample_are_marked() -> None:
    # par-2025 flags a survey indicator under 30 respondents: commune 14052 has 12
    results = par_index.score(
        par_index.bundled_path("criteria/par-2025.yaml"), par_index.sample_inputs(2025), draws=30
    )
    assert results.uncertainty is not None
    report = par_index.low_ranking(results, below_share=1.0)
    survey = results.uncertainty.survey
    flagged = set(
        zip(
            survey.loc[survey["flag_n"] | survey["flag_margin"], "unit_id"],
            survey.loc[survey["flag_n"] | survey["flag_margin"], "node_id"],
            strict=True,
        )
    )
    marked = set(
        zip(
            report.weak.loc[report.weak["small_sample"], "unit_id"],
            report.weak.loc[report.weak["small_sample"], "node_id"],
            strict=True,
        )
    )
    assert marked and marked <= flagged
    shown = set(zip(report.weak["unit_id"], report.weak["node_id"], strict=True))
    assert marked == flagged & shown
    # without the rank uncertainty nothing is marked
    plain = par_index.low_ranking(par_index.score(
        par_index.bundled_path("criteria/par-2025.yaml"), par_index.sample_inputs(2025)))
    assert not plain.weak["small_sample"].any()
