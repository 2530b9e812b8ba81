"""Year-over-year comparison: ``par_index.compare`` and ``par-index compare``.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import par_index
from par_index import DataError
from par_index.cli import app
from par_index.results import Comparison, Results
from par_index.spec import spec_from_data

ROOT = Path(__file__).resolve().parents[2]
NAN = math.nan
TABLE = {"kind": "table", "unit_column": "unit"}
UNITS = {"name_column": "name", "level": "commune"}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def leaf(node_id: str, maximum: float, rule: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "name": node_id.upper(), "max": maximum,
                            "measure": {"kind": "column", "table": "t", "column": node_id}}
    if rule is not None:
        node["rule"] = rule
    node.update(extra)
    return node


def area(node_id: str, children: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "name": node_id.upper(), "children": children, **extra}


def make_spec(index_id: str, criteria: list[dict[str, Any]], **extra: Any) -> Any:
    data: dict[str, Any] = {"id": index_id, "name": f"Index {index_id}",
                            "inputs": {"t": dict(TABLE)}, "units": dict(UNITS),
                            "criteria": criteria}
    data.update(extra)
    return spec_from_data(data)


def frame(rows: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """{unit: {column: value}} → the input table (unit names 'Xã <UNIT>')."""
    return pd.DataFrame([{"unit": u, "name": f"Xã {u.upper()}", **v} for u, v in rows.items()])


def cell(comparison: Comparison, unit: str, node: str) -> pd.Series:
    ch = comparison.changes
    row = ch[(ch["unit_id"] == unit) & (ch["node_id"] == node)]
    assert len(row) == 1, (unit, node, len(row))
    return row.iloc[0]


def flags(comparison: Comparison, unit: str) -> dict[str, bool]:
    ch = comparison.changes
    part = ch[ch["unit_id"] == unit]
    return {str(n): bool(c) for n, c in zip(part["node_id"], part["comparable"], strict=True)}


# --------------------------------------------------------------------------------------------
# the hand-worked revision + merger scenario
# --------------------------------------------------------------------------------------------
#
# previous (par-a):  A = x(10) + y(10);  B = z(5) + old(5);  C = w(10)       max 40
# current  (par-b):  A = x(10) + y(20);  B = z(5) + new(5);  C = w(10)       max 50
#   y's maximum changed → y, A and the index are not comparable; x is.
#   B lost 'old' and gained 'new' → B is not comparable; z is; 'new' exists now only.
#   C and w are unchanged.
# units: previous a, b, c, d; current m (= a·3 + b·1), d (same id), e (new); c is gone.

PREV_SPEC = make_spec("par-a", [
    area("A", [leaf("x", 10), leaf("y", 10)]),
    area("B", [leaf("z", 5), leaf("old", 5)]),
    area("C", [leaf("w", 10)]),
], year=2024)
CUR_SPEC = make_spec("par-b", [
    area("A", [leaf("x", 10), leaf("y", 20)]),
    area("B", [leaf("z", 5), leaf("new", 5)]),
    area("C", [leaf("w", 10)]),
], year=2025)

PREV_DATA = frame({
    #      A = x + y     B = z + old    C = w   total
    "a": {"x": 8, "y": 6, "z": 4, "old": 2, "w": 5},     # 14 + 6 + 5   = 25
    "b": {"x": 4, "y": 2, "z": 0, "old": 4, "w": 9},     #  6 + 4 + 9   = 19
    "c": {"x": 10, "y": 10, "z": 5, "old": 5, "w": 10},  # 20 + 10 + 10 = 40
    "d": {"x": 7, "y": 7, "z": 3, "old": 3, "w": 6},     # 14 + 6 + 6   = 26
})
CUR_DATA = frame({
    "m": {"x": 9, "y": 16, "z": 2, "new": 4, "w": 7},    # 25 + 6 + 7 = 38
    "d": {"x": 5, "y": 4, "z": 3, "new": 1, "w": 8},     #  9 + 4 + 8 = 21
    "e": {"x": 1, "y": 2, "z": 1, "new": 1, "w": 1},     #  3 + 2 + 1 = 6
})
# m's previous year = (3·a + 1·b) / 4:
#   x (24+4)/4 = 7, y (18+2)/4 = 5, z (12+0)/4 = 3, w (15+9)/4 = 6
#   A (42+6)/4 = 12, C 6, total (75+19)/4 = 23.5
CROSSWALK = pd.DataFrame({"previous_unit_id": ["a", "b", "d"],
                          "current_unit_id": ["m", "m", "d"],
                          "weight": [3, 1, 1]})


@pytest.fixture(scope="module")
def years() -> tuple[Results, Results]:
    return (par_index.score(CUR_SPEC, {"t": CUR_DATA}),
            par_index.score(PREV_SPEC, {"t": PREV_DATA}))


@pytest.fixture(scope="module")
def merged(years: tuple[Results, Results]) -> Comparison:
    current, previous = years
    return par_index.compare(current, previous, CROSSWALK)


def test_index_total_of_a_merged_unit(merged: Comparison) -> None:
    m = cell(merged, "m", "par-b")  # the previous total is keyed by the current index id
    assert m["score_previous"] == pytest.approx(23.5)
    assert m["score_current"] == pytest.approx(38.0)
    assert m["score_change"] == pytest.approx(14.5)
    # shares: 23.5 of 40 last year (the weighted mean of 25/40 and 19/40), 38 of 50 now
    assert m["share_previous"] == pytest.approx(23.5 / 40)
    assert m["share_current"] == pytest.approx(38 / 50)
    assert m["share_change"] == pytest.approx(38 / 50 - 23.5 / 40)
    assert m["derived_from"] == "a+b"
    assert m["unit_status"] == "merged"
    assert m["direction"] == "up"


def test_unit_mapped_to_itself_and_new_unit(merged: Comparison) -> None:
    d = cell(merged, "d", "par-b")
    assert (d["score_previous"], d["score_current"]) == pytest.approx((26.0, 21.0))
    assert d["score_change"] == pytest.approx(-5.0)
    assert d["direction"] == "down"
    assert d["unit_status"] == "both" and d["derived_from"] is None
    e = cell(merged, "e", "par-b")
    assert math.isnan(e["score_previous"]) and math.isnan(e["score_change"])
    assert pd.isna(e["rank_previous"]) and pd.isna(e["rank_change"])
    assert pd.isna(e["direction"])
    assert e["unit_status"] == "new"


def test_rank_change_is_previous_minus_current(merged: Comparison) -> None:
    # previous on the current map: d 26 → 1st, m 23.5 → 2nd; now m 38 → 1st, d 21 → 2nd
    m, d = cell(merged, "m", "par-b"), cell(merged, "d", "par-b")
    assert (m["rank_previous"], m["rank_current"], m["rank_change"]) == (2, 1, 1)  # moved up
    assert (d["rank_previous"], d["rank_current"], d["rank_change"]) == (1, 2, -1)  # moved down


def test_leaf_values_of_a_merged_unit(merged: Comparison) -> None:
    for node, before, now in (("x", 7, 9), ("y", 5, 16), ("z", 3, 2), ("w", 6, 7),
                              ("A", 12, 25), ("C", 6, 7)):
        row = cell(merged, "m", node)
        assert (row["score_previous"], row["score_current"]) == pytest.approx((before, now)), node
        # in a tree of sums a node's points are its score
        assert row["points_change"] == pytest.approx(now - before), node
    # d's z is 3 in both years
    assert cell(merged, "d", "z")["direction"] == "unchanged"
    assert cell(merged, "d", "x")["direction"] == "down"  # 7 → 5


def test_comparable_flags_across_a_criteria_revision(merged: Comparison) -> None:
    expected = {"par-b": False, "A": False, "x": True, "y": False,
                "B": False, "z": True, "new": False, "C": True, "w": True}
    for unit in ("m", "d", "e"):
        assert flags(merged, unit) == expected, unit
    nodes = merged.nodes.set_index("node_id")
    assert nodes["status"].to_dict() == {
        "A": "a descendant changed", "x": "same", "y": "definition changed",
        "B": "definition changed", "z": "same", "new": "current only",
        "C": "same", "w": "same", "old": "previous only",
    }
    assert nodes["comparable"].to_dict() == {n: s == "same"
                                             for n, s in nodes["status"].items()}


def test_node_present_in_one_year_only(merged: Comparison) -> None:
    new = cell(merged, "m", "new")
    assert math.isnan(new["score_previous"]) and new["score_current"] == pytest.approx(4)
    assert not new["comparable"]
    assert math.isnan(new["share_comparable_current"])
    # the node of the previous year only has no rows
    assert "old" not in set(merged.changes["node_id"])


def test_shares_on_the_comparable_subset(merged: Comparison) -> None:
    m, d = "m", "d"
    # A: only x compares. m: 9/10 now, 7/10 before; d: 5/10 now, 7/10 before
    a_m = cell(merged, m, "A")
    assert a_m["share_comparable_current"] == pytest.approx(0.9)
    assert a_m["share_comparable_previous"] == pytest.approx(0.7)
    assert a_m["share_comparable_change"] == pytest.approx(0.2)
    a_d = cell(merged, d, "A")
    assert (a_d["share_comparable_previous"], a_d["share_comparable_current"]) == \
        pytest.approx((0.7, 0.5))
    # B: only z compares. m: 2/5 now, 3/5 before
    b_m = cell(merged, m, "B")
    assert (b_m["share_comparable_previous"], b_m["share_comparable_current"]) == \
        pytest.approx((0.6, 0.4))
    # the index: x, z, w compare (maxima 10 + 5 + 10 = 25)
    # m: (9 + 2 + 7)/25 = 0.72 now, (7 + 3 + 6)/25 = 0.64 before
    # d: (5 + 3 + 8)/25 = 0.64 now, (7 + 3 + 6)/25 = 0.64 before
    top_m, top_d = cell(merged, m, "par-b"), cell(merged, d, "par-b")
    assert (top_m["share_comparable_previous"], top_m["share_comparable_current"]) == \
        pytest.approx((0.64, 0.72))
    assert (top_d["share_comparable_previous"], top_d["share_comparable_current"]) == \
        pytest.approx((0.64, 0.64))
    assert top_d["share_comparable_change"] == pytest.approx(0.0, abs=1e-12)
    # a comparable node: its comparable share is its share (C: m 7/10 now, 6/10 before)
    c_m = cell(merged, m, "C")
    assert c_m["comparable"]
    assert (c_m["share_comparable_previous"], c_m["share_comparable_current"]) == \
        pytest.approx((c_m["share_previous"], c_m["share_current"]))
    assert (c_m["share_previous"], c_m["share_current"]) == pytest.approx((0.6, 0.7))


def test_units_in_one_year_are_listed(merged: Comparison) -> None:
    units = merged.units.sort_values("unit_id").reset_index(drop=True)
    assert units.to_dict("records") == [
        {"unit_id": "c", "unit_name": "Xã C", "level": "commune", "present_in": "previous only"},
        {"unit_id": "e", "unit_name": "Xã E", "level": "commune", "present_in": "current only"},
    ]
    # the new unit is kept in the changes, not dropped
    assert set(merged.changes["unit_id"]) == {"m", "d", "e"}


def test_summary_counts(merged: Comparison) -> None:
    assert len(merged.summary) == 1
    s = merged.summary.iloc[0]
    assert s["level"] == "commune"
    assert (s["units"], s["rose"], s["fell"], s["unchanged"], s["new"], s["merged"]) == \
        (3, 1, 1, 0, 1, 1)
    assert (s["rank_rose"], s["rank_fell"]) == (1, 1)
    # previous: m 23.5, d 26 (e has none); current: 38, 21, 6
    assert s["mean_previous"] == pytest.approx((23.5 + 26) / 2)
    assert s["mean_current"] == pytest.approx((38 + 21 + 6) / 3)
    assert (s["best_previous"], s["worst_previous"]) == pytest.approx((26, 23.5))
    assert (s["best_current"], s["worst_current"]) == pytest.approx((38, 6))
    assert not s["comparable"]


def test_explain_order_and_sentence(merged: Comparison) -> None:
    ex = merged.explain
    assert set(ex["unit_id"]) == {"m", "d"}  # e has no previous year to explain from
    # m: y +11, x +2, z −1, w +1 ('new' has no previous points); ties keep the tree order
    m = ex[ex["unit_id"] == "m"]
    assert list(m["node_id"]) == ["y", "x", "z", "w"]
    assert list(m["order"]) == [1, 2, 3, 4]
    assert list(m["points_change"]) == pytest.approx([11, 2, -1, 1])
    assert list(m["total_change"]) == pytest.approx([14.5] * 4)
    assert set(m["explanation"]) == {"+11.00 from Y, +2.00 from X, -1.00 from Z, +1.00 from W"}
    assert list(m["comparable"]) == [False, True, True, True]
    # d: y −3, x −2, w +2, z 0
    d = ex[ex["unit_id"] == "d"]
    assert list(d["node_id"]) == ["y", "x", "w", "z"]
    assert set(d["explanation"]) == {"-3.00 from Y, -2.00 from X, +2.00 from W, +0.00 from Z"}


@pytest.mark.parametrize("walk", [
    CROSSWALK,
    CROSSWALK[CROSSWALK["previous_unit_id"] != "d"],  # d keeps its id without being listed
    CROSSWALK.drop(columns="weight").assign(weight=[3.0, 1.0, 7.0]),  # d's own weight is moot
])
def test_same_result_however_the_unchanged_unit_is_mapped(years: tuple[Results, Results],
                                                          walk: pd.DataFrame) -> None:
    comparison = par_index.compare(*years, walk)
    d = cell(comparison, "d", "par-b")
    assert d["score_previous"] == pytest.approx(26.0)
    assert d["unit_status"] == "both"
    assert cell(comparison, "m", "par-b")["score_previous"] == pytest.approx(23.5)
    assert list(comparison.units.sort_values("unit_id")["present_in"]) == \
        ["previous only", "current only"]


def test_crosswalk_file_and_unweighted_mean(tmp_path: Path, years: tuple[Results, Results]) -> None:
    path = tmp_path / "walk.csv"
    path.write_text("previous_unit_id,current_unit_id\na,m\nb,m\n", encoding="utf-8")
    comparison = par_index.compare(*years, path)
    # without weights: (25 + 19)/2 = 22
    assert cell(comparison, "m", "par-b")["score_previous"] == pytest.approx(22.0)
    assert cell(comparison, "m", "par-b")["derived_from"] == "a+b"


def test_crosswalk_that_does_not_fit_is_a_data_error(years: tuple[Results, Results]) -> None:
    bad = pd.DataFrame({"previous_unit_id": ["a", "zz"], "current_unit_id": ["m", "m"]})
    with pytest.raises(DataError, match="zz"):
        par_index.compare(*years, bad)
    split = pd.DataFrame({"previous_unit_id": ["a", "a"], "current_unit_id": ["m", "d"]})
    with pytest.raises(DataError, match="more than once"):
        par_index.compare(*years, split)


def test_without_crosswalk_previous_ranks_are_the_published_ones() -> None:
    spec = make_spec("idx", [leaf("x", 10), leaf("y", 10)])
    before = par_index.score(spec, {"t": frame({"a": {"x": 9, "y": 9}, "b": {"x": 5, "y": 5},
                                                "c": {"x": 1, "y": 2}})})
    now = par_index.score(spec, {"t": frame({"b": {"x": 10, "y": 10}, "c": {"x": 1, "y": 1},
                                             "n": {"x": 4, "y": 4}})})
    comparison = par_index.compare(now, before)
    b = cell(comparison, "b", "idx")
    # b was 2nd of a, b, c (18, 10, 3); now 1st of b, n, c (20, 8, 2)
    assert (b["rank_previous"], b["rank_current"], b["rank_change"]) == (2, 1, 1)
    assert b["score_change"] == pytest.approx(10.0)
    c = cell(comparison, "c", "idx")
    assert (c["rank_previous"], c["rank_current"], c["rank_change"]) == (3, 3, 0)
    assert c["direction"] == "down"  # 3 → 2 points
    present = dict(zip(comparison.units["unit_id"], comparison.units["present_in"], strict=True))
    assert present == {"a": "previous only", "n": "current only"}
    assert all(comparison.changes["comparable"])
    assert list(comparison.nodes["status"]) == ["same", "same"]


def test_two_years_without_a_shared_unit() -> None:
    """Nothing to explain: every unit is listed as of one year only, and nothing crashes."""
    spec = make_spec("idx", [leaf("x", 10)])
    before = par_index.score(spec, {"t": frame({"a": {"x": 1}, "b": {"x": 2}})})
    now = par_index.score(spec, {"t": frame({"c": {"x": 3}, "d": {"x": 4}})})
    comparison = par_index.compare(now, before)
    present = dict(zip(comparison.units["unit_id"], comparison.units["present_in"], strict=True))
    assert present == {"a": "previous only", "b": "previous only",
                       "c": "current only", "d": "current only"}
    assert len(comparison.explain) == 0
    s = comparison.summary.iloc[0]
    assert (s["units"], s["rose"], s["fell"], s["new"]) == (2, 0, 0, 2)


@pytest.mark.parametrize(("before", "after"), [
    (leaf("x", 10), leaf("x", 10, {"kind": "linear", "worst": 0, "best": 10})),  # rule
    (leaf("x", 10), leaf("x", 20)),  # maximum
])
def test_a_changed_leaf_flags_itself_and_its_ancestors_only(before: dict[str, Any],
                                                            after: dict[str, Any]) -> None:
    rows = {"a": {"x": 4, "y": 6, "z": 1}, "b": {"x": 8, "y": 2, "z": 3}}
    old = make_spec("idx", [area("A", [before, leaf("y", 10)]), area("Z", [leaf("z", 5)])])
    new = make_spec("idx", [area("A", [after, leaf("y", 10)]), area("Z", [leaf("z", 5)])])
    comparison = par_index.compare(par_index.score(new, {"t": frame(rows)}),
                                   par_index.score(old, {"t": frame(rows)}))
    assert flags(comparison, "a") == {"idx": False, "A": False, "x": False, "y": True,
                                      "Z": True, "z": True}
    # A on its comparable subset (y only): a 6/10 in both years
    row = cell(comparison, "a", "A")
    assert (row["share_comparable_previous"], row["share_comparable_current"]) == \
        pytest.approx((0.6, 0.6))


def test_renaming_a_node_keeps_it_comparable() -> None:
    rows = {"a": {"x": 4}, "b": {"x": 8}}
    old = make_spec("idx", [leaf("x", 10)])
    new = make_spec("idx", [leaf("x", 10, name="Tên mới")])
    comparison = par_index.compare(par_index.score(new, {"t": frame(rows)}),
                                   par_index.score(old, {"t": frame(rows)}))
    assert all(comparison.changes["comparable"])


def test_comparable_share_of_an_unchanged_weighted_mean_is_its_share() -> None:
    """Nothing changed, so the 'share on the comparable subset' is simply the share.

    idx = weighted mean of p (weight 3) and q (weight 1): a = (3·1 + 1·0)/4 = 0.75,
    b = (3·0 + 1·1)/4 = 0.25. A plain Σ score / Σ maximum (which ignores the weights) gives
    0.5 for both.
    """
    spec = make_spec("idx", [leaf("p", 10, weight=3), leaf("q", 10, weight=1)],
                     max=10, aggregation="weighted_mean")
    results = par_index.score(spec, {"t": frame({"a": {"p": 10, "q": 0},
                                                 "b": {"p": 0, "q": 10}})})
    comparison = par_index.compare(results, results)
    assert cell(comparison, "a", "idx")["share_current"] == pytest.approx(0.75)
    for unit, share in (("a", 0.75), ("b", 0.25)):
        row = cell(comparison, unit, "idx")
        assert row["share_comparable_current"] == pytest.approx(share), unit
        assert row["share_comparable_previous"] == pytest.approx(share), unit


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

PROP_SPEC = make_spec("idx", [
    area("A", [leaf("p", 10, weight=2), leaf("q", 10, weight=1)],
         max=10, aggregation="weighted_mean"),
    leaf("r", 5),
], units={"name_column": "name", "level_column": "level"})
POOL = [f"u{i}" for i in range(8)]
LEVEL_OF = {u: ("x" if i % 3 else "y") for i, u in enumerate(POOL)}
VALUES = st.sampled_from([0.0, 2.5, 5.0, 7.5, 10.0])  # few values → many ties


def table(draw: st.DrawFn, chosen: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "unit": chosen,
        "name": [f"Đơn vị {u}" for u in chosen],
        "level": [LEVEL_OF[u] for u in chosen],
        "p": [draw(VALUES) for _ in chosen],
        "q": [draw(VALUES) for _ in chosen],
        "r": [float(draw(st.integers(0, 5))) for _ in chosen],
    })


@st.composite
def year(draw: st.DrawFn) -> pd.DataFrame:
    return table(draw, draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=8, unique=True)))


@st.composite
def two_years(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two years over the same pool: at least one unit in both, others in one year only."""
    order = draw(st.permutations(POOL))
    shared = draw(st.integers(1, 6))
    only_a = draw(st.integers(0, len(POOL) - shared))
    only_b = draw(st.integers(0, len(POOL) - shared - only_a))
    a_units = order[:shared + only_a]
    b_units = order[:shared] + order[shared + only_a:shared + only_a + only_b]
    return table(draw, list(a_units)), table(draw, list(b_units))


@settings(max_examples=8, deadline=None)  # ≈ 0.5 s an example (score + compare)
@given(year())
def test_comparing_a_result_with_itself_changes_nothing(data: pd.DataFrame) -> None:
    results = par_index.score(PROP_SPEC, {"t": data})
    ch = par_index.compare(results, results).changes
    for column in ("score_change", "share_change", "points_change", "share_comparable_change"):
        assert (ch[column].abs() <= 1e-12).all(), column
    assert (ch["rank_change"] == 0).all()
    assert set(ch["direction"]) == {"unchanged"}
    assert set(ch["unit_status"]) == {"both"}
    assert ch["comparable"].all()


@settings(max_examples=8, deadline=None)  # ≈ 1 s an example (2 scores + 2 compares)
@given(two_years())
def test_comparison_is_antisymmetric(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    a, b = data
    ra = par_index.score(PROP_SPEC, {"t": a})
    rb = par_index.score(PROP_SPEC, {"t": b})
    ab = par_index.compare(ra, rb).changes
    ba = par_index.compare(rb, ra).changes
    shared = set(a["unit"]) & set(b["unit"])
    key = ["unit_id", "node_id"]
    both = ab[ab["unit_id"].isin(shared) & ab["comparable"]].merge(
        ba[ba["unit_id"].isin(shared)], on=key, suffixes=("_ab", "_ba"), validate="1:1")
    assert len(both) == len(shared) * 5  # idx, A, p, q, r
    assert both["comparable_ba"].all()
    for column in ("score_change", "share_change", "points_change", "share_comparable_change"):
        assert (both[f"{column}_ab"] + both[f"{column}_ba"]).abs().max() <= 1e-9, column
    assert (both["rank_change_ab"] == -both["rank_change_ba"]).all()
    assert (both["score_previous_ab"] == both["score_current_ba"]).all()
    flip = {"up": "down", "down": "up", "unchanged": "unchanged"}
    assert list(both["direction_ab"].map(flip)) == list(both["direction_ba"])
    # units of one year are listed as such from both sides
    only_a = set(a["unit"]) - shared
    assert set(ab.loc[ab["unit_status"] == "new", "unit_id"]) == only_a
    assert set(ba["unit_id"]) == set(b["unit"])


# --------------------------------------------------------------------------------------------
# the command line on the bundled samples
# --------------------------------------------------------------------------------------------

SAMPLES = ROOT / "data" / "samples"
INDEX_2025 = "par-2025"
NOT_COMPARABLE = {"thanh_toan", "chinh_quyen_so", "do_thi_thong_minh", "tthc"}


def score_sample(year_: int, out: Path) -> Path:
    folder = SAMPLES / str(year_)
    result = CliRunner().invoke(app, [
        "score", "-c", str(ROOT / "criteria" / f"par-{year_}.yaml"),
        "--input", f"registry={folder / 'registry.csv'}",
        "--input", f"survey={folder / 'survey_citizens.csv'}",
        "--input", f"processing={folder / 'processing.csv'}",
        "--input", f"appraisal={folder / 'appraisal.xlsx'}",
        "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert out.exists()
    return out


def test_cli_compare_on_the_samples(tmp_path: Path) -> None:
    current = score_sample(2025, tmp_path / "par-2025.xlsx")
    previous = score_sample(2024, tmp_path / "par-2024.csv")
    out = tmp_path / "changes.json"
    result = CliRunner().invoke(app, [
        "compare", str(current), str(previous), "--out", str(out),
        "--crosswalk", str(SAMPLES / "crosswalk-2024-2025.csv"),
    ])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert "not comparable" in result.output

    doc = json.loads(out.read_text(encoding="utf-8"))
    changes = pd.DataFrame(doc["changes"])
    registry = pd.read_csv(SAMPLES / "2025" / "registry.csv", dtype={"unit_id": str})
    total = changes[changes["node_id"] == INDEX_2025].set_index("unit_id")
    assert sorted(total.index) == sorted(registry["unit_id"])  # every 2025 unit, once

    units = pd.DataFrame(doc["units"])
    previous_only = set(units.loc[units["present_in"] == "previous only", "unit_id"])
    assert previous_only == {f"H{i:02d}" for i in range(1, 13)}  # the 12 districts
    assert set(units["present_in"]) == {"previous only"}

    nodes = pd.DataFrame(doc["nodes"]).set_index("node_id")
    assert {n for n in nodes.index if not nodes.loc[n, "comparable"]} == NOT_COMPARABLE
    flagged = changes.groupby("node_id")["comparable"].agg(lambda s: not s.any())
    assert set(flagged[flagged].index) >= NOT_COMPARABLE
    assert not changes.loc[changes["node_id"] == INDEX_2025, "comparable"].any()

    # a merged commune's previous score, by hand from the 2024 ranking and the crosswalk
    walk = pd.read_csv(SAMPLES / "crosswalk-2024-2025.csv",
                       dtype={"previous_unit_id": str, "current_unit_id": str})
    ranking_2024 = pd.read_csv(previous, dtype={"unit_id": str}, encoding="utf-8-sig")
    totals = ranking_2024.set_index("unit_id")["score"]
    sizes = walk.groupby("current_unit_id").size()
    for commune in (sizes.idxmax(), sizes[sizes == 2].index[0]):
        part = walk[walk["current_unit_id"] == commune]
        by_hand = (totals[part["previous_unit_id"]].to_numpy() * part["weight"]).sum() / \
            part["weight"].sum()
        row = total.loc[commune]
        assert row["score_previous"] == pytest.approx(by_hand, rel=1e-12)
        assert row["unit_status"] == "merged"
        assert row["derived_from"] == "+".join(part["previous_unit_id"])
    assert sizes.max() == 5
    # S02 took over S21 (weighted by S21's and S02's 2024 files)
    s02 = walk[walk["current_unit_id"] == "S02"]
    assert total.loc["S02", "score_previous"] == pytest.approx(
        (totals[s02["previous_unit_id"]].to_numpy() * s02["weight"]).sum() / s02["weight"].sum(),
        rel=1e-12)


def test_repr_is_a_one_line_summary(merged: Comparison) -> None:
    text = repr(merged)
    changed = int((~merged.nodes["comparable"]).sum())
    assert text.startswith(f"<Comparison {merged.current.spec.id} vs {merged.previous.spec.id}:")
    assert f"{changed} nodes not comparable" in text and "\n" not in text
