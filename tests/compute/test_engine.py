"""The engine end to end: ``par_index.score(spec, {name: DataFrame})`` on small specs.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import par_index
from par_index import DataError, ParIndexError, SpecError
from par_index.results import Results
from par_index.spec import spec_from_data

NAN = math.nan
TABLE = {"kind": "table", "unit_column": "unit"}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def make_spec(criteria: list[dict[str, Any]], inputs: dict[str, Any] | None = None,
              **extra: Any) -> Any:
    data: dict[str, Any] = {"id": "idx", "name": "Test index",
                            "inputs": inputs or {"t": dict(TABLE)}, "criteria": criteria}
    data.update(extra)
    return spec_from_data(data)


def col(column: str, table: str = "t", reduce: str = "one") -> dict[str, Any]:
    return {"kind": "column", "table": table, "column": column, "reduce": reduce}


def leaf(node_id: str, maximum: float, measure: dict[str, Any], rule: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "name": node_id.upper(), "max": maximum,
                            "measure": measure}
    if rule is not None:
        node["rule"] = rule
    node.update(extra)
    return node


def area(node_id: str, children: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "name": node_id.upper(), "children": children, **extra}


def rows(results: Results, node: str) -> pd.DataFrame:
    """The detail rows of one node, indexed by unit."""
    d = results.detail
    return d[d["node_id"] == node].set_index("unit_id")


def scores(results: Results, node: str = "idx") -> dict[str, float]:
    return {u: float(v) for u, v in rows(results, node)["score"].items()}


def approx(expected: dict[str, float]) -> Any:
    return pytest.approx(expected, abs=1e-9, nan_ok=True)


def total(results: Results) -> dict[str, float]:
    r = results.ranking.set_index("unit_id")
    return {u: float(v) for u, v in r["score"].items()}


def rank_of(results: Results, column: str = "rank", node: str = "idx") -> dict[str, Any]:
    return {u: (None if pd.isna(v) else int(v)) for u, v in rows(results, node)[column].items()}


# --------------------------------------------------------------------------------------------
# measures
# --------------------------------------------------------------------------------------------

def test_column_measure_one_value_per_unit() -> None:
    spec = make_spec([leaf("x", 10, col("v"))])
    res = par_index.score(spec, {"t": pd.DataFrame({"unit": ["a", "b"], "v": [3.0, 7.5]})})
    # identity: the value is the score; the total of a one-leaf sum is that score
    assert scores(res, "x") == approx({"a": 3.0, "b": 7.5})
    assert total(res) == approx({"a": 3.0, "b": 7.5})
    assert rows(res, "x")["raw_value"].to_dict() == approx({"a": 3.0, "b": 7.5})


REGISTRY = {"kind": "table", "unit_column": "unit"}
MONTHLY = pd.DataFrame({"unit": ["a", "a", "b", "c", "c"],
                        "v": [2.0, 3.0, 4.0, NAN, 6.0]})
UNITS3 = pd.DataFrame({"unit": ["a", "b", "c"]})


@pytest.mark.parametrize(("reduce", "expected"), [
    # a: 2 + 3 = 5; b: 4; c: the blank row counts for nothing → 6
    ("sum", {"a": 5.0, "b": 4.0, "c": 6.0}),
    # a: (2 + 3) / 2 = 2.5; b: 4; c: mean over the one present value → 6
    ("mean", {"a": 2.5, "b": 4.0, "c": 6.0}),
])
def test_column_measure_reduces_several_rows(reduce: str, expected: dict[str, float]) -> None:
    spec = make_spec([leaf("x", 10, col("v", "m", reduce))],
                     inputs={"reg": REGISTRY, "m": dict(TABLE)}, units={"table": "reg"})
    res = par_index.score(spec, {"reg": UNITS3, "m": MONTHLY})
    assert scores(res, "x") == approx(expected)


def test_column_measure_one_refuses_several_rows() -> None:
    spec = make_spec([leaf("x", 10, col("v", "m"))],
                     inputs={"reg": REGISTRY, "m": dict(TABLE)}, units={"table": "reg"})
    with pytest.raises(DataError, match=r"duplicate_unit|one row"):
        par_index.score(spec, {"reg": UNITS3, "m": MONTHLY})


PROCESSING = pd.DataFrame({
    # a: (4 + 5) / (5 + 5) = 0.9; b: 0 / 0 (nothing processed); c: 3 / 4 = 0.75
    "unit": ["a", "a", "b", "c"],
    "on_time": [4, 5, 0, 3],
    "processed": [5, 5, 0, 4],
})


def ratio(when_zero: str = "missing", percent: bool = False) -> dict[str, Any]:
    return {"kind": "ratio", "table": "p", "numerator": ["on_time"], "denominator": ["processed"],
            "when_zero": when_zero, "percent": percent}


def ratio_spec(when_zero: str, **extra: Any) -> Any:
    return make_spec([leaf("r", 10, ratio(when_zero), {"kind": "linear", "worst": 0, "best": 1})],
                     inputs={"reg": REGISTRY, "p": dict(TABLE)}, units={"table": "reg"}, **extra)


def test_ratio_when_zero_missing_is_missing_data() -> None:
    # b processed nothing: its ratio is no data; under the default policy that is an error
    with pytest.raises(DataError) as info:
        par_index.score(ratio_spec("missing"), {"reg": UNITS3, "p": PROCESSING})
    assert "'b'" in str(info.value) and "'r'" in str(info.value)
    # under reweight it is reported as missing and scored on nothing (no total)
    res = par_index.score(ratio_spec("missing", missing="reweight"),
                          {"reg": UNITS3, "p": PROCESSING})
    # linear 0 → 1 onto max 10: a 0.9 → 9, c 0.75 → 7.5
    assert scores(res, "r") == approx({"a": 9.0, "b": NAN, "c": 7.5})
    assert rows(res, "r").loc["b", "status"] == "missing"
    assert list(res.missing["unit_id"]) == ["b", "b"]  # the leaf and the total


def test_ratio_when_zero_full_gives_full_credit() -> None:
    res = par_index.score(ratio_spec("full"), {"reg": UNITS3, "p": PROCESSING})
    # b: nothing arose → full 10 points; the action says why
    assert scores(res, "r") == approx({"a": 9.0, "b": 10.0, "c": 7.5})
    assert rows(res, "r").loc["b", "action"] == "full_credit_no_cases"
    assert rows(res, "r").loc["b", "status"] == "ok"


def test_ratio_when_zero_zero_gives_no_points() -> None:
    res = par_index.score(ratio_spec("zero"), {"reg": UNITS3, "p": PROCESSING})
    assert scores(res, "r") == approx({"a": 9.0, "b": 0.0, "c": 7.5})
    assert rows(res, "r").loc["b", "action"] == "zero_no_cases"


def test_ratio_percent() -> None:
    spec = make_spec([leaf("r", 100, ratio("full", percent=True))],
                     inputs={"reg": REGISTRY, "p": dict(TABLE)}, units={"table": "reg"})
    res = par_index.score(spec, {"reg": UNITS3, "p": PROCESSING})
    # a: 9/10 = 90%; c: 3/4 = 75%; identity onto max 100; b: full credit → 100
    assert rows(res, "r")["raw_value"].to_dict() == approx({"a": 90.0, "b": NAN, "c": 75.0})
    assert scores(res, "r") == approx({"a": 90.0, "b": 100.0, "c": 75.0})


def test_ratio_percent_meets_a_band_edge_exactly() -> None:
    # 29 of 100 on time is exactly 29 %: the band "at least 29 %" must award its 4 points.
    # (29 / 100 × 100 in floating point is 28.999999999999996; 29 × 100 / 100 is 29.0.)
    data = pd.DataFrame({"unit": ["a", "b"], "on_time": [29, 28], "processed": [100, 100]})
    spec = make_spec([leaf("r", 4, ratio(percent=True),
                           {"kind": "bands", "bands": [{"at_least": 29, "points": 4}]})],
                     inputs={"p": dict(TABLE)})
    res = par_index.score(spec, {"p": data})
    assert scores(res, "r") == approx({"a": 4.0, "b": 0.0})


def survey_spec(measure: dict[str, Any], maximum: float, rule: dict[str, Any] | None = None
                ) -> Any:
    return make_spec(
        [leaf("s", maximum, {"kind": "survey", "table": "sv", **measure}, rule)],
        inputs={"reg": REGISTRY,
                "sv": {"kind": "survey", "unit_column": "unit", "scale": {"min": 1, "max": 5},
                       "dont_know": [9], "weight_column": "w"}},
        units={"table": "reg"})


SURVEY = pd.DataFrame({
    "unit": ["a", "a", "a", "b", "b"],
    "w": [1.0, 3.0, 5.0, 2.0, 1.0],
    "q1": [5, 1, 9, 4, None],
    "q2": [9, 4, 9, 2, 5],
})


def test_survey_weighted_mean_excludes_dont_know() -> None:
    res = par_index.score(survey_spec({"questions": ["q1"], "statistic": "mean"}, 5),
                          {"reg": pd.DataFrame({"unit": ["a", "b"]}), "sv": SURVEY})
    # a: q1 = 5 (w 1), 1 (w 3), 9 = don't know (w 5, excluded) → (5·1 + 1·3) / (1 + 3) = 2
    #    (had the 9 counted: (5 + 3 + 45) / 9 ≈ 5.9, beyond the scale)
    # b: q1 = 4 (w 2), blank (excluded) → 4
    assert scores(res, "s") == approx({"a": 2.0, "b": 4.0})
    # respondents with a valid answer: a 2 (the third said "don't know"), b 1
    assert rows(res, "s")["n_valid"].to_dict() == approx({"a": 2.0, "b": 1.0})


def test_survey_weighted_share_at_least_over_several_questions() -> None:
    res = par_index.score(
        survey_spec({"questions": ["q1", "q2"], "statistic": "share_at_least", "threshold": 4},
                    7, {"kind": "linear", "worst": 0, "best": 1}),
        {"reg": pd.DataFrame({"unit": ["a", "b"]}), "sv": SURVEY})
    # a: valid answers (weight): q1 5 (1) ✓, q1 1 (3) ✗, q2 4 (3) ✓; the 9s are excluded
    #    share = (1 + 3) / (1 + 3 + 3) = 4/7 → linear onto max 7 → 4
    #    (had the 9s counted as answers ≥ 4: (1+1+3+5+5) / (1+1+3+3+5+5) = 15/18)
    # b: q1 4 (2) ✓, q2 2 (2) ✗, q2 5 (1) ✓ → (2 + 1) / (2 + 2 + 1) = 3/5 → 4.2
    assert rows(res, "s")["raw_value"].to_dict() == approx({"a": 4 / 7, "b": 0.6})
    assert scores(res, "s") == approx({"a": 4.0, "b": 4.2})


def test_survey_weighted_share_at_most() -> None:
    res = par_index.score(
        survey_spec({"questions": ["q1"], "statistic": "share_at_most", "threshold": 2}, 1),
        {"reg": pd.DataFrame({"unit": ["a", "b"]}), "sv": SURVEY})
    # a: q1 5 (w 1) ✗, 1 (w 3) ✓, 9 excluded → 3 / 4; b: q1 4 (w 2) ✗ → 0
    assert scores(res, "s") == approx({"a": 0.75, "b": 0.0})


def test_appraisal_scores_appraised_points_and_keeps_self_assessed() -> None:
    spec = make_spec([leaf("k", 4, {"kind": "appraisal", "table": "t", "appraised": "pts",
                                    "self_assessed": "pts_self"})])
    data = pd.DataFrame({"unit": ["a", "b"], "pts": [3.0, 2.5], "pts_self": [4.0, 2.5]})
    res = par_index.score(spec, {"t": data})
    # the appraisers' points count (a 3, not its own 4); the self-assessment is kept
    assert scores(res, "k") == approx({"a": 3.0, "b": 2.5})
    assert rows(res, "k")["self_assessed"].to_dict() == approx({"a": 4.0, "b": 2.5})


def test_appraisal_points_above_the_maximum_are_refused() -> None:
    spec = make_spec([leaf("k", 4, {"kind": "appraisal", "table": "t", "appraised": "pts"})])
    with pytest.raises(DataError, match=r"out of range|must lie within"):
        par_index.score(spec, {"t": pd.DataFrame({"unit": ["a"], "pts": [4.5]})})


def test_yes_no_measure_reads_vietnamese_words() -> None:
    spec = make_spec([leaf("y", 2, {"kind": "yes_no", "table": "t", "column": "ok"},
                           {"kind": "yes_no"})])
    data = pd.DataFrame({"unit": ["a", "b", "c", "d"], "ok": ["Có", "Không", "có", "KHÔNG"]})
    res = par_index.score(spec, {"t": data})
    # yes → max 2, no → 0
    assert scores(res, "y") == approx({"a": 2.0, "b": 0.0, "c": 2.0, "d": 0.0})
    assert rows(res, "y")["raw_value"].to_dict() == approx({"a": 1.0, "b": 0.0, "c": 1.0,
                                                             "d": 0.0})


def test_yes_no_measure_refuses_other_text() -> None:
    spec = make_spec([leaf("y", 2, {"kind": "yes_no", "table": "t", "column": "ok"},
                           {"kind": "yes_no"})])
    with pytest.raises(DataError, match="yes or no"):
        par_index.score(spec, {"t": pd.DataFrame({"unit": ["a"], "ok": ["maybe"]})})


# --------------------------------------------------------------------------------------------
# aggregations
# --------------------------------------------------------------------------------------------

TWO = pd.DataFrame({"unit": ["a", "b"], "x": [2.0, 4.0], "y": [5.0, 0.0]})


def test_sum_adds_points() -> None:
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 6, col("y"))])
    res = par_index.score(spec, {"t": TWO})
    # a: 2 + 5 = 7 of 10; b: 4 + 0 = 4 of 10
    assert total(res) == approx({"a": 7.0, "b": 4.0})
    assert rows(res, "idx")["maximum"].to_dict() == approx({"a": 10.0, "b": 10.0})


def test_weighted_mean_of_shares() -> None:
    spec = make_spec([leaf("x", 4, col("x"), weight=1), leaf("y", 10, col("y"), weight=3)],
                     aggregation="weighted_mean", max=100)
    res = par_index.score(spec, {"t": TWO})
    # a: shares 2/4 = 0.5 and 5/10 = 0.5 → (1·0.5 + 3·0.5) / 4 × 100 = 50
    # b: shares 4/4 = 1 and 0 → (1·1 + 3·0) / 4 × 100 = 25
    assert total(res) == approx({"a": 50.0, "b": 25.0})


def test_weighted_mean_defaults_to_equal_weights() -> None:
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 10, col("y"))],
                     aggregation="weighted_mean", max=10)
    res = par_index.score(spec, {"t": TWO})
    # a: (0.5 + 0.5) / 2 × 10 = 5; b: (1 + 0) / 2 × 10 = 5
    assert total(res) == approx({"a": 5.0, "b": 5.0})


def test_geometric_mean_of_shares() -> None:
    data = pd.DataFrame({"unit": ["a", "b"], "x": [1.0, 4.0], "y": [10.0, 2.5]})
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 10, col("y"), weight=3)],
                     aggregation="geometric_mean", max=100)
    res = par_index.score(spec, {"t": data})
    # a: shares 0.25 (w 1) and 1 (w 3) → exp((ln 0.25 + 3 ln 1) / 4) = 0.25^(1/4) = 0.7071…
    # b: shares 1 and 0.25 (w 3) → 0.25^(3/4) = 0.35355…
    assert total(res) == approx({"a": 100 * 0.25 ** 0.25, "b": 100 * 0.25 ** 0.75})


def test_geometric_mean_of_a_zero_share_is_an_error() -> None:
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 10, col("y"))],
                     aggregation="geometric_mean", max=100)
    with pytest.raises(DataError, match="zero_floor") as info:
        par_index.score(spec, {"t": TWO})  # b scores 0 on y
    assert "b" in str(info.value) and "'y'" in str(info.value)


def test_geometric_mean_zero_floor() -> None:
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 10, col("y"))],
                     aggregation="geometric_mean", max=100, zero_floor=0.01)
    res = par_index.score(spec, {"t": TWO})
    # a: sqrt(0.5 × 0.5) = 0.5 → 50; b: shares 1 and 0 → floor 0.01 → sqrt(0.01) = 0.1 → 10
    assert total(res) == approx({"a": 50.0, "b": 10.0})


def test_geometric_mean_zero_floor_never_rewards_a_zero_over_a_small_share() -> None:
    # zero_floor 0.1: "a child share below this is raised to it". a scores 0 on y (share 0),
    # b scores 0.1 of 10 (share 0.01, better than a). b must not end below a:
    # both shares are below the floor → both raised to 0.1 → sqrt(1 × 0.1) × 100 ≈ 31.6.
    data = pd.DataFrame({"unit": ["a", "b"], "x": [4.0, 4.0], "y": [0.0, 0.1]})
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 10, col("y"))],
                     aggregation="geometric_mean", max=100, zero_floor=0.1)
    res = par_index.score(spec, {"t": data})
    t = total(res)
    assert t["b"] >= t["a"] - 1e-9, t


def test_share_of_max_is_achieved_over_applicable_maximum() -> None:
    data = pd.DataFrame({"unit": ["a", "b"], "level": ["dept", "commune"],
                         "x": [3.0, 3.0], "y": [3.0, 3.0]})
    spec = make_spec([leaf("x", 4, col("x"), applies_to={"levels": ["dept"]}),
                      leaf("y", 6, col("y"))],
                     aggregation="share_of_max", max=100, levels=["dept", "commune"],
                     units={"level_column": "level"})
    res = par_index.score(spec, {"t": data})
    # a (x and y apply): (3 + 3) / (4 + 6) × 100 = 60; b (only y): 3 / 6 × 100 = 50
    assert total(res) == approx({"a": 60.0, "b": 50.0})
    assert rows(res, "idx")["maximum"].to_dict() == approx({"a": 100.0, "b": 100.0})


def test_share_of_max_meets_a_tier_edge_exactly() -> None:
    # 29 + 29 of 50 + 50 is exactly 58 %: the tier "at_least 58" must be reached.
    # (58 / 100 × 100 in floating point is 57.99999999999999.)
    data = pd.DataFrame({"unit": ["a"], "x": [29.0], "y": [29.0]})
    spec = make_spec([leaf("x", 50, col("x")), leaf("y", 50, col("y"))],
                     aggregation="share_of_max", max=100,
                     tiers=[{"name": "good", "at_least": 58}, {"name": "rest"}])
    res = par_index.score(spec, {"t": data})
    assert res.ranking["tier"].tolist() == ["good"]


def test_nested_aggregations() -> None:
    # A sum of two areas: a weighted mean (max 10) and a sum (max 6).
    data = pd.DataFrame({"unit": ["a"], "x": [2.0], "y": [10.0], "z": [1.0], "w": [2.0]})
    spec = make_spec([
        area("m", [leaf("x", 4, col("x"), weight=1), leaf("y", 10, col("y"), weight=1)],
             aggregation="weighted_mean", max=10),
        area("s", [leaf("z", 2, col("z")), leaf("w", 4, col("w"))]),
    ])
    res = par_index.score(spec, {"t": data})
    # m: (0.5 + 1) / 2 × 10 = 7.5; s: 1 + 2 = 3; total 10.5 of 16
    assert scores(res, "m") == approx({"a": 7.5})
    assert scores(res, "s") == approx({"a": 3.0})
    assert total(res) == approx({"a": 10.5})
    assert rows(res, "idx")["maximum"].to_dict() == approx({"a": 16.0})


def test_index_max_under_sum_is_not_silently_ignored() -> None:
    # The index declares max 100 but its areas add up to 10. An inner node with this mismatch
    # is refused ("max must equal the sum of the children's maxima"); the index must be too,
    # or else score on the declared scale, never silently report a maximum of 10.
    try:
        spec = make_spec([leaf("x", 4, col("x")), leaf("y", 6, col("y"))], max=100)
    except SpecError:
        return
    res = par_index.score(spec, {"t": TWO})
    assert rows(res, "idx")["maximum"].tolist() == [100.0, 100.0]


@pytest.mark.parametrize("aggregation", ["weighted_mean", "geometric_mean", "share_of_max"])
def test_index_without_max_under_a_mean_is_refused_or_scored(aggregation: str) -> None:
    # An inner node with a mean and no max is refused ("needs a max (the scale of the
    # result)"). An index without one must be refused too: scoring it turns every total into
    # NaN, which missing: reweight then passes off as "no data" for every unit.
    data = pd.DataFrame({"unit": ["a", "b"], "x": [2.0, 4.0], "y": [5.0, 1.0]})
    try:
        spec = make_spec([leaf("x", 4, col("x")), leaf("y", 6, col("y"))],
                         aggregation=aggregation, missing="reweight")
    except SpecError:
        return
    res = par_index.score(spec, {"t": data})
    assert res.ranking["score"].notna().all(), res.ranking[["unit_id", "score"]]


@pytest.mark.parametrize(("across", "expected"), [
    # per level: L1 best 4 → a 2/4 × 10 = 5, b 10; L2: c alone → 10
    ("level", {"a": 5.0, "b": 10.0, "c": 10.0}),
    # over all units: best 8 → a 2.5, b 5, c 10
    ("all", {"a": 2.5, "b": 5.0, "c": 10.0}),
])
def test_relative_rules_compare_within_the_level_or_across_all(
        across: str, expected: dict[str, float]) -> None:
    data = pd.DataFrame({"unit": ["a", "b", "c"], "level": ["L1", "L1", "L2"],
                         "v": [2.0, 4.0, 8.0]})
    spec = make_spec([leaf("x", 10, col("v"), {"kind": "relative_to_best", "across": across})],
                     levels=["L1", "L2"], units={"level_column": "level"})
    assert scores(par_index.score(spec, {"t": data}), "x") == approx(expected)


def test_units_where_a_node_does_not_apply_take_no_part_in_minmax() -> None:
    # e does not take part (group g1 only); its 100 must not stretch the bounds:
    # over a, b, c: 0, 5, 10 → 0, 5, 10 (with e's 100 in the bounds they would be 0, 0.5, 1)
    data = pd.DataFrame({"unit": ["a", "b", "c", "e"], "group": ["g1", "g1", "g1", "g2"],
                         "v": [0.0, 5.0, 10.0, 100.0]})
    spec = make_spec([leaf("x", 10, col("v"), {"kind": "minmax"},
                           applies_to={"groups": ["g1"]}),
                      leaf("y", 1, col("v"), {"kind": "count", "per_item": 1})],
                     units={"group_column": "group"})
    res = par_index.score(spec, {"t": data})
    assert scores(res, "x") == approx({"a": 0.0, "b": 5.0, "c": 10.0, "e": NAN})


# --------------------------------------------------------------------------------------------
# missing data
# --------------------------------------------------------------------------------------------

GAP = pd.DataFrame({"unit": ["a", "b", "c"], "x": [3.0, 4.0, 2.0], "y": [5.0, NAN, 6.0]})


def gap_spec(**extra: Any) -> Any:
    return make_spec([leaf("x", 4, col("x")), leaf("y", 6, col("y"))], **extra)


def test_missing_error_names_the_unit_and_the_node() -> None:
    with pytest.raises(DataError) as info:
        par_index.score(gap_spec(), {"t": GAP})
    assert isinstance(info.value, ParIndexError)
    locations = [issue.location for issue in info.value.issues]
    assert any("'b'" in loc and "'y'" in loc for loc in locations), locations
    # only b is missing, and only on y
    assert not any("'a'" in loc or "'c'" in loc for loc in locations), locations


def test_missing_zero() -> None:
    res = par_index.score(gap_spec(missing="zero"), {"t": GAP})
    # b: 4 + 0 = 4 of 10
    assert total(res) == approx({"a": 8.0, "b": 4.0, "c": 8.0})
    y = rows(res, "y")
    assert y.loc["b", "score"] == 0.0
    assert (y.loc["b", "status"], y.loc["b", "action"]) == ("missing", "zero")
    assert rows(res, "idx").loc["b", "maximum"] == 10.0


def test_missing_reweight_under_sum() -> None:
    res = par_index.score(gap_spec(missing="reweight"), {"t": GAP})
    # b: y dropped; x 4 of 4 scaled to the applicable maximum: 4 × 10 / 4 = 10 of 10
    assert total(res) == approx({"a": 8.0, "b": 10.0, "c": 8.0})
    assert rows(res, "idx").loc["b", "maximum"] == 10.0
    assert (rows(res, "y").loc["b", "status"], rows(res, "y").loc["b", "action"]) == (
        "missing", "reweight")
    assert math.isnan(rows(res, "y").loc["b", "score"])


def test_missing_reweight_under_weighted_mean() -> None:
    spec = make_spec([leaf("x", 4, col("x"), weight=1), leaf("y", 6, col("y"), weight=3)],
                     aggregation="weighted_mean", max=100, missing="reweight")
    res = par_index.score(spec, {"t": GAP})
    # a: (1 · 3/4 + 3 · 5/6) / 4 × 100 = (0.75 + 2.5) / 4 × 100 = 81.25
    # b: y dropped, x alone: 4/4 → 100
    assert total(res) == approx({"a": 81.25, "b": 100.0, "c": (0.5 + 3.0) / 4 * 100})


def test_missing_policy_set_on_a_node_is_inherited_by_its_descendants() -> None:
    spec = make_spec([leaf("x", 4, col("x")), area("ar", [leaf("y", 6, col("y"))],
                                                     missing="zero")])
    res = par_index.score(spec, {"t": GAP})  # the index says error; the area says zero
    assert total(res) == approx({"a": 8.0, "b": 4.0, "c": 8.0})
    assert rows(res, "y").loc["b", "action"] == "zero"


LEVELS = pd.DataFrame({
    "unit": ["a", "b", "c", "d", "e"],
    "level": ["L1", "L1", "L1", "L1", "L2"],
    "group": ["g1", "g1", "g2", "g2", "g1"],
    "x": [1.0, 1.0, 1.0, 1.0, 1.0],
    # L1: a 2, b 4 (group g1), c missing, d 6 (group g2); L2: e 1
    "y": [2.0, 4.0, NAN, 6.0, 1.0],
})


def level_spec(**extra: Any) -> Any:
    return make_spec([leaf("x", 4, col("x")), leaf("y", 6, col("y"))], levels=["L1", "L2"],
                     units={"level_column": "level", "group_column": "group"}, **extra)


def test_missing_impute_level_mean() -> None:
    res = par_index.score(level_spec(missing="impute_level_mean"), {"t": LEVELS})
    # c's y: mean over its level L1 of the units with data: (2 + 4 + 6) / 3 = 4 (e, in L2,
    # does not count); total 1 + 4 = 5
    assert rows(res, "y").loc["c", "score"] == pytest.approx(4.0)
    assert rows(res, "y").loc["c", "action"] == "imputed_level_mean"
    assert rows(res, "y").loc["c", "status"] == "missing"
    assert total(res)["c"] == pytest.approx(5.0)


def test_missing_impute_group_mean() -> None:
    res = par_index.score(level_spec(missing="impute_group_mean"), {"t": LEVELS})
    # c is in L1/g2, where only d has data: 6 (the level mean would be 4)
    assert rows(res, "y").loc["c", "score"] == pytest.approx(6.0)
    assert rows(res, "y").loc["c", "action"] == "imputed_group_mean"
    assert total(res)["c"] == pytest.approx(7.0)


def test_missing_impute_without_donors_is_an_error() -> None:
    data = LEVELS.assign(y=[NAN, NAN, NAN, NAN, 1.0])
    with pytest.raises(DataError, match="impute"):
        par_index.score(level_spec(missing="impute_level_mean"), {"t": data})


def test_a_unit_absent_from_a_table_is_missing() -> None:
    spec = make_spec([leaf("x", 10, col("v", "m"))],
                     inputs={"reg": REGISTRY, "m": dict(TABLE)}, units={"table": "reg"},
                     missing="zero")
    res = par_index.score(spec, {"reg": UNITS3,
                                 "m": pd.DataFrame({"unit": ["a", "c"], "v": [1.0, 2.0]})})
    assert scores(res, "x") == approx({"a": 1.0, "b": 0.0, "c": 2.0})
    assert rows(res, "x").loc["b", "status"] == "missing"


# --------------------------------------------------------------------------------------------
# applicability
# --------------------------------------------------------------------------------------------

def test_not_applicable_by_level_shrinks_the_maximum() -> None:
    spec = make_spec([leaf("x", 4, col("x"), applies_to={"levels": ["L2"]}),
                      leaf("y", 6, col("y"))], levels=["L1", "L2"],
                     units={"level_column": "level", "group_column": "group"})
    data = LEVELS.assign(y=[2.0, 4.0, 3.0, 6.0, 1.0], x=[NAN, NAN, NAN, NAN, 3.0])
    # x applies to L2 only: L1 units have no x and that is not missing (policy error: no raise)
    res = par_index.score(spec, {"t": data})
    top = rows(res, "idx")
    assert top["maximum"].to_dict() == approx({"a": 6.0, "b": 6.0, "c": 6.0, "d": 6.0,
                                               "e": 10.0})
    # a: y 2 of 6; e: 3 + 1 = 4 of 10
    assert total(res) == approx({"a": 2.0, "b": 4.0, "c": 3.0, "d": 6.0, "e": 4.0})
    x = rows(res, "x")
    assert x.loc["a", "status"] == "not_applicable"
    assert math.isnan(x.loc["a", "maximum"]) and math.isnan(x.loc["a", "score"])
    assert res.missing.empty


def test_not_applicable_by_group() -> None:
    spec = make_spec([leaf("x", 4, col("x"), applies_to={"groups": ["g2"]}),
                      leaf("y", 6, col("y"))], levels=["L1", "L2"],
                     units={"level_column": "level", "group_column": "group"})
    data = LEVELS.assign(y=[2.0, 4.0, 3.0, 6.0, 1.0], x=[NAN, NAN, 2.0, 1.0, NAN])
    res = par_index.score(spec, {"t": data})
    # g2 (c, d) are scored out of 10, the others out of 6
    assert rows(res, "idx")["maximum"].to_dict() == approx({"a": 6.0, "b": 6.0, "c": 10.0,
                                                            "d": 10.0, "e": 6.0})
    assert total(res) == approx({"a": 2.0, "b": 4.0, "c": 5.0, "d": 7.0, "e": 1.0})


def test_a_not_applicable_area_drops_all_its_children() -> None:
    spec = make_spec([area("ar", [leaf("x", 4, col("x")), leaf("z", 2, col("x"))],
                           applies_to={"levels": ["L2"]}),
                      leaf("y", 6, col("y"))], levels=["L1", "L2"],
                     units={"level_column": "level", "group_column": "group"})
    data = LEVELS.assign(y=[2.0, 4.0, 3.0, 6.0, 1.0], x=[NAN, NAN, NAN, NAN, 2.0])
    res = par_index.score(spec, {"t": data})
    # e: x 2 + z 2 + y 1 = 5 of 12; L1 units: y alone of 6
    assert total(res)["e"] == pytest.approx(5.0)
    assert rows(res, "idx").loc["e", "maximum"] == 12.0
    assert rows(res, "idx").loc["a", "maximum"] == 6.0
    assert set(rows(res, "z").loc[["a", "b", "c", "d"], "status"]) == {"not_applicable"}


# --------------------------------------------------------------------------------------------
# tiers and ranks
# --------------------------------------------------------------------------------------------

def tier_of(res: Results) -> dict[str, Any]:
    """Each unit's tier; None for no tier (however the frame stores it)."""
    return {u: (None if pd.isna(v) else v)
            for u, v in res.ranking.set_index("unit_id")["tier"].items()}


def test_tiers() -> None:
    data = pd.DataFrame({"unit": list("abcdef"), "v": [80.0, 79.99, 50.5, 50.0, 10.0, NAN]})
    spec = make_spec([leaf("x", 100, col("v"))], missing="reweight",
                     tiers=[{"name": "A", "at_least": 80}, {"name": "B", "above": 50},
                            {"name": "C"}])
    res = par_index.score(spec, {"t": data})
    tiers = tier_of(res)
    # 80 reaches A (at least); 79.99 and 50.5 are B; 50 is not above 50 → C; no score → no tier
    assert tiers == {"a": "A", "b": "B", "c": "B", "d": "C", "e": "C", "f": None}


def test_tiers_without_a_catch_all() -> None:
    data = pd.DataFrame({"unit": ["a", "b"], "v": [90.0, 10.0]})
    spec = make_spec([leaf("x", 100, col("v"))], tiers=[{"name": "A", "at_least": 80}])
    res = par_index.score(spec, {"t": data})
    assert tier_of(res) == {"a": "A", "b": None}


RANKS = pd.DataFrame({
    "unit": ["a", "b", "c", "d", "e", "f"],
    "level": ["L1", "L1", "L1", "L1", "L2", "L2"],
    "group": ["g1", "g1", "g2", "g2", "g1", "g1"],
    "v": [8.0, 6.0, 8.0, 9.0, 2.0, NAN],
})


def test_ranks_within_level_and_group() -> None:
    spec = make_spec([leaf("x", 10, col("v"))], levels=["L1", "L2"], missing="reweight",
                     units={"level_column": "level", "group_column": "group"})
    res = par_index.score(spec, {"t": RANKS})
    # L1: d 9 → 1, a and c 8 → 2, 2; b 6 → 4. L2: e → 1 (L1 scores do not count); f unranked.
    assert rank_of(res) == {"a": 2, "b": 4, "c": 2, "d": 1, "e": 1, "f": None}
    # groups within L1: g1 a 8 → 1, b → 2; g2 d → 1, c → 2. L2/g1: e → 1.
    assert rank_of(res, "rank_in_group") == {"a": 1, "b": 2, "c": 2, "d": 1, "e": 1, "f": None}
    # the ranking table lists each level best first, the unranked last
    assert res.ranking["unit_id"].tolist() == ["d", "a", "c", "b", "e", "f"]
    # every node is ranked too
    assert rank_of(res, node="x") == rank_of(res)


def test_no_group_ranks_without_groups() -> None:
    spec = make_spec([leaf("x", 10, col("v"))])
    res = par_index.score(spec, {"t": pd.DataFrame({"unit": ["a", "b"], "v": [1.0, 2.0]})})
    assert rank_of(res, "rank_in_group") == {"a": None, "b": None}
    assert rank_of(res) == {"a": 2, "b": 1}


def test_ranking_on_rounded_scores() -> None:
    data = pd.DataFrame({"unit": ["a", "b", "c"], "v": [7.96, 8.04, 7.94]})
    unrounded = par_index.score(make_spec([leaf("x", 10, col("v"))]), {"t": data})
    # unrounded: b 8.04 → 1, a 7.96 → 2, c 7.94 → 3
    assert rank_of(unrounded) == {"a": 2, "b": 1, "c": 3}
    rounded = par_index.score(make_spec([leaf("x", 10, col("v"))], ranking={"round_to": 1}),
                              {"t": data})
    # to one decimal: a 8.0, b 8.0 (tie, both first), c 7.9 → third; scores stay unrounded
    assert rank_of(rounded) == {"a": 1, "b": 1, "c": 3}
    assert total(rounded) == approx({"a": 7.96, "b": 8.04, "c": 7.94})


def test_rounding_for_ranks_is_half_up() -> None:
    # 2.675 and 2.68 both round (half up) to 2.68 → tie; numpy's round would give 2.67 / 2.68
    data = pd.DataFrame({"unit": ["a", "b"], "v": [2.675, 2.68]})
    res = par_index.score(make_spec([leaf("x", 10, col("v"))], ranking={"round_to": 2}),
                          {"t": data})
    assert rank_of(res) == {"a": 1, "b": 1}


def test_ranking_within_group_can_be_switched_off() -> None:
    spec = make_spec([leaf("x", 10, col("v"))], levels=["L1", "L2"], missing="reweight",
                     units={"level_column": "level", "group_column": "group"},
                     ranking={"within_group": False})
    res = par_index.score(spec, {"t": RANKS})
    assert set(rank_of(res, "rank_in_group").values()) == {None}


# --------------------------------------------------------------------------------------------
# points (contributions)
# --------------------------------------------------------------------------------------------

def check_points_add_up(res: Results) -> int:
    """For every unit and inner node, the children's points add up to the node's points."""
    d = res.detail
    checked = 0
    for (unit, parent), children in d[d["parent_id"].notna()].groupby(["unit_id",
                                                                         "parent_id"]):
        own = d[(d["unit_id"] == unit) & (d["node_id"] == parent)]["points"].iloc[0]
        parts = children["points"].dropna()
        if math.isnan(own):
            assert parts.empty, (unit, parent)
            continue
        assert parts.sum() == pytest.approx(own, abs=1e-9), (unit, parent)
        checked += 1
    return checked


def test_points_of_children_add_up_to_the_parent() -> None:
    data = pd.DataFrame({"unit": ["a", "b", "c"], "level": ["L1", "L1", "L2"],
                         "x": [2.0, 4.0, 1.0], "y": [10.0, NAN, 5.0],
                         "z": [1.0, 2.0, 0.0], "w": [2.0, 0.0, 4.0]})
    spec = make_spec([
        area("m", [leaf("x", 4, col("x"), weight=1), leaf("y", 10, col("y"), weight=3)],
             aggregation="weighted_mean", max=10),
        area("s", [leaf("z", 2, col("z")),
                   leaf("w", 4, col("w"), applies_to={"levels": ["L1"]})]),
    ], aggregation="share_of_max", max=100, missing="reweight", levels=["L1", "L2"],
        units={"level_column": "level"})
    res = par_index.score(spec, {"t": data})
    assert check_points_add_up(res) == 9  # 3 units × (index, m, s)
    # the index's points are its score
    top = rows(res, "idx")
    assert top["points"].to_dict() == approx(top["score"].to_dict())
    # a: m = (1·0.5 + 3·1) / 4 × 10 = 8.75, s = 1 + 2 = 3 → (8.75 + 3) / 16 × 100 = 73.4375;
    #    under share_of_max the points split as the scores: m 8.75/11.75, s 3/11.75
    assert total(res)["a"] == pytest.approx(73.4375)
    assert rows(res, "m").loc["a", "points"] == pytest.approx(73.4375 * 8.75 / 11.75)
    # not applicable (w for c) and missing-reweighted (y for b) earn no points
    assert math.isnan(rows(res, "w").loc["c", "points"])
    assert math.isnan(rows(res, "y").loc["b", "points"])


def test_points_of_a_plain_sum_are_the_scores() -> None:
    res = par_index.score(make_spec([leaf("x", 4, col("x")), leaf("y", 6, col("y"))]),
                          {"t": TWO})
    # a: x 2, y 5 → points 2 and 5 (their scores), adding up to the total 7
    assert rows(res, "x")["points"].to_dict() == approx({"a": 2.0, "b": 4.0})
    assert rows(res, "y")["points"].to_dict() == approx({"a": 5.0, "b": 0.0})


def test_points_add_up_under_geometric_mean() -> None:
    data = pd.DataFrame({"unit": ["a", "b"], "x": [1.0, 4.0], "y": [10.0, 2.5]})
    spec = make_spec([leaf("x", 4, col("x")), leaf("y", 10, col("y"), weight=3)],
                     aggregation="geometric_mean", max=100)
    assert check_points_add_up(par_index.score(spec, {"t": data})) == 2


# --------------------------------------------------------------------------------------------
# properties on a small fixed spec
# --------------------------------------------------------------------------------------------

def fixed_spec(weights: tuple[float, float] = (2.0, 1.0)) -> Any:
    """Registry (x, level, group) + monthly rows (on_time, processed, count)."""
    return make_spec(
        [
            area("q", [
                leaf("x", 10, col("x", "reg"), {"kind": "linear", "worst": 0, "best": 100},
                     weight=weights[0]),
                leaf("r", 4, {"kind": "ratio", "table": "m", "numerator": ["on_time"],
                              "denominator": ["processed"], "when_zero": "full"},
                     {"kind": "bands", "bands": [{"at_least": 0.9, "points": 4},
                                                 {"at_least": 0.5, "points": 2}]},
                     weight=weights[1]),
            ], aggregation="weighted_mean", max=10),
            area("c", [
                leaf("n", 6, col("count", "m", "sum"), {"kind": "minmax"}),
                leaf("b", 4, col("x", "reg"), {"kind": "relative_to_best"}),
                leaf("k", 3, col("count", "m", "sum"), {"kind": "count", "per_item": 1},
                     applies_to={"levels": ["L1"]}),
            ]),
        ],
        inputs={"reg": REGISTRY, "m": dict(TABLE)}, missing="reweight", levels=["L1", "L2"],
        units={"table": "reg", "level_column": "level", "group_column": "group"},
        tiers=[{"name": "top", "at_least": 15}, {"name": "rest"}])


FIXED = fixed_spec()


@st.composite
def datasets(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(2, 6))
    units = [f"u{i}" for i in range(n)]
    reg = pd.DataFrame({
        "unit": units,
        "level": draw(st.lists(st.sampled_from(["L1", "L2"]), min_size=n, max_size=n)),
        "group": draw(st.lists(st.sampled_from(["g1", "g2"]), min_size=n, max_size=n)),
        "x": draw(st.lists(st.one_of(st.integers(0, 120).map(float), st.just(NAN)),
                           min_size=n, max_size=n)),
    })
    records = []
    for unit in units:
        for _ in range(draw(st.integers(0, 3))):
            processed = draw(st.integers(0, 20))
            records.append({"unit": unit, "processed": processed,
                            "on_time": draw(st.integers(0, processed)),
                            "count": draw(st.integers(0, 5))})
    m = pd.DataFrame(records, columns=["unit", "processed", "on_time", "count"])
    return reg, m


def run(spec: Any, reg: pd.DataFrame, m: pd.DataFrame) -> Results:
    return par_index.score(spec, {"reg": reg, "m": m})


def by_unit(res: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    ranking = res.ranking.sort_values("unit_id").reset_index(drop=True)
    detail = res.detail.sort_values(["unit_id", "node_id"]).reset_index(drop=True)
    return ranking, detail


PROPERTY = settings(max_examples=10, deadline=None)


@PROPERTY
@given(datasets(), st.randoms(use_true_random=False))
def test_shuffling_input_rows_changes_nothing(data: tuple[pd.DataFrame, pd.DataFrame],
                                               rnd: Any) -> None:
    reg, m = data
    seed = rnd.randrange(2**32)
    shuffled = run(FIXED, reg.sample(frac=1, random_state=seed),
                   m.sample(frac=1, random_state=seed + 1))
    ranking0, detail0 = by_unit(run(FIXED, reg, m))
    ranking1, detail1 = by_unit(shuffled)
    pd.testing.assert_frame_equal(ranking1, ranking0, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(detail1, detail0, check_exact=False, rtol=0, atol=1e-12)


@PROPERTY
@given(datasets(), st.floats(0.01, 100))
def test_scaling_the_weights_of_a_weighted_mean_changes_nothing(
        data: tuple[pd.DataFrame, pd.DataFrame], c: float) -> None:
    reg, m = data
    base = run(FIXED, reg, m).detail["score"].to_numpy()
    scaled = run(fixed_spec((2.0 * c, 1.0 * c)), reg, m).detail["score"].to_numpy()
    np.testing.assert_allclose(scaled, base, rtol=0, atol=1e-9, equal_nan=True)


@PROPERTY
@given(datasets())
def test_every_score_lies_within_its_maximum(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    res = run(FIXED, *data)
    d = res.detail
    scored = d[d["score"].notna()]
    assert (scored["score"] >= -1e-9).all()
    assert (scored["score"] <= scored["maximum"] + 1e-9).all()
    # a score has a maximum; not applicable has neither
    assert scored["maximum"].notna().all()
    na = d[d["status"] == "not_applicable"]
    assert na["score"].isna().all() and na["maximum"].isna().all()
    check_points_add_up(res)


@PROPERTY
@given(datasets(), st.data())
def test_a_better_raw_value_never_lowers_the_total(data: tuple[pd.DataFrame, pd.DataFrame],
                                                    more: st.DataObject) -> None:
    reg, m = data
    present = [i for i, v in enumerate(reg["x"]) if not math.isnan(v)]
    if not present:
        return
    i = more.draw(st.sampled_from(present))
    better = reg.copy()
    better.loc[i, "x"] = reg.loc[i, "x"] + more.draw(st.integers(0, 50))
    unit = reg.loc[i, "unit"]
    before = total(run(FIXED, reg, m))[unit]
    after = total(run(FIXED, better, m))[unit]
    assert after >= before - 1e-9, (before, after)


# --------------------------------------------------------------------------------------------
# ratio with its denominator in another table, and "per N"
# --------------------------------------------------------------------------------------------

POPULATION = pd.DataFrame({"unit": ["A", "B", "C", "D"],
                           "population": [8400, 0, 5000, NAN]})
ONLINE = pd.DataFrame({
    # A: (30 + 12) × 1000 / 8400 = 42000 / 8400 = 5 exactly; B: 0 over a population of 0;
    # C: no row at all → missing; D: 7 over a blank population → missing (not refused)
    "unit": ["A", "A", "B", "D"],
    "online": [30, 12, 0, 7],
})


def per_capita(when_zero: str = "missing", **extra: Any) -> dict[str, Any]:
    return {"kind": "ratio", "table": "p", "numerator": ["online"],
            "denominator": ["population"], "denominator_table": "reg", "per": 1000,
            "when_zero": when_zero, **extra}


def per_capita_spec(measure: dict[str, Any], rule: dict[str, Any] | None = None) -> Any:
    return make_spec([leaf("r", 10, measure, rule)], inputs={"reg": REGISTRY, "p": dict(TABLE)},
                     units={"table": "reg"}, missing="reweight")


@pytest.mark.parametrize(("when_zero", "b_score", "b_status", "b_action"), [
    ("missing", NAN, "missing", "reweight"),
    ("full", 10.0, "ok", "full_credit_no_cases"),
    ("zero", 0.0, "ok", "zero_no_cases"),
])
def test_ratio_per_1000_with_the_denominator_in_the_registry(
        when_zero: str, b_score: float, b_status: str, b_action: str) -> None:
    res = par_index.score(per_capita_spec(per_capita(when_zero)),
                          {"reg": POPULATION, "p": ONLINE})
    r = rows(res, "r")
    assert r.loc["A", "raw_value"] == 5.0  # exactly: multiplied before dividing
    assert r["raw_value"].drop("A").isna().all()
    assert scores(res, "r") == approx({"A": 5.0, "B": b_score, "C": NAN, "D": NAN})
    assert r.loc["B", "status"] == b_status and r.loc["B", "action"] == b_action
    assert list(r.loc[["C", "D"], "status"]) == ["missing", "missing"]


def test_ratio_in_another_table_unbounded_with_a_zero_denominator_follows_when_zero() -> None:
    # B: 3 applications, population 0: not refused under bounded: false, and full credit
    online = ONLINE.assign(online=[30, 12, 3, 7])
    res = par_index.score(per_capita_spec(per_capita("full", bounded=False)),
                          {"reg": POPULATION, "p": online})
    assert rows(res, "r").loc["B", "action"] == "full_credit_no_cases"
    assert scores(res, "r")["B"] == 10.0


def test_ratio_per_multiplies_before_dividing() -> None:
    # 29 of 100 per 100 is exactly 29 (29 / 100 × 100 would be 28.999999999999996), as percent
    data = pd.DataFrame({"unit": ["a", "b"], "on_time": [29, 28], "processed": [100, 100]})
    bands = {"kind": "bands", "bands": [{"at_least": 29, "points": 4}]}
    per = {"kind": "ratio", "table": "p", "numerator": ["on_time"], "denominator": ["processed"],
           "per": 100}
    res = par_index.score(make_spec([leaf("r", 4, per, bands)], inputs={"p": dict(TABLE)}),
                          {"p": data})
    assert scores(res, "r") == approx({"a": 4.0, "b": 0.0})
    assert rows(res, "r").loc["a", "raw_value"] == 29.0
    # per 1000: 29 × 1000 / 100 = 290, 28 × 1000 / 100 = 280
    per_mille = make_spec([leaf("r", 4, {**per, "per": 1000}, {"kind": "minmax"})],
                          inputs={"p": dict(TABLE)})
    raw = rows(par_index.score(per_mille, {"p": data}), "r")["raw_value"].to_dict()
    assert raw == {"a": 290.0, "b": 280.0}


def test_ratio_percent_is_per_100() -> None:
    def raw(**scale: Any) -> dict[str, float]:
        measure = {**ratio("full"), "percent": False, **scale}
        spec = make_spec([leaf("r", 100, measure)], inputs={"reg": REGISTRY, "p": dict(TABLE)},
                         units={"table": "reg"})
        result = rows(par_index.score(spec, {"reg": UNITS3, "p": PROCESSING}), "r")
        return {u: float(v) for u, v in result["raw_value"].items()}

    percent, per = raw(percent=True), raw(per=100)
    # a: 9 × 100 / 10 = 90; b: 0 of 0 (no raw value); c: 3 × 100 / 4 = 75
    assert percent == approx({"a": 90.0, "b": NAN, "c": 75.0})
    assert list(per) == list(percent)
    np.testing.assert_array_equal(list(per.values()), list(percent.values()))  # NaN included


@st.composite
def one_row_ratios(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A registry and one row per unit (or none) of on_time / processed counts."""
    n = draw(st.integers(1, 6))
    records = []
    for i in range(n):
        if draw(st.integers(0, 3)) == 0:
            continue  # the unit has no row at all
        processed = draw(st.integers(0, 50))
        on_time: float = draw(st.integers(0, processed))
        if draw(st.integers(0, 4)) == 0:
            on_time = NAN  # a blank numerator; its denominator is still given
        records.append({"unit": f"u{i}", "on_time": on_time, "processed": float(processed)})
    registry = pd.DataFrame({"unit": [f"u{i}" for i in range(n)]})
    return registry, pd.DataFrame(records, columns=["unit", "on_time", "processed"])


@PROPERTY
@given(one_row_ratios(), st.sampled_from(["missing", "full", "zero"]),
       st.sampled_from([{}, {"percent": True}, {"per": 1000}, {"per": 0.5}]),
       st.floats(0, 50, allow_nan=False))
def test_a_denominator_table_agrees_with_the_same_table_ratio(
        data: tuple[pd.DataFrame, pd.DataFrame], when_zero: str, scale: dict[str, Any],
        filler: float) -> None:
    """With one row per unit, moving the denominator column into the registry changes nothing."""
    registry, p = data
    measure = {"kind": "ratio", "table": "p", "numerator": ["on_time"],
               "denominator": ["processed"], "when_zero": when_zero, **scale}
    inputs = {"reg": REGISTRY, "p": dict(TABLE)}

    def spec(m: dict[str, Any]) -> Any:
        return make_spec([leaf("r", 10, m, {"kind": "minmax"})], inputs=inputs,
                         units={"table": "reg"}, missing="zero")

    same = par_index.score(spec(measure), {"reg": registry, "p": p})
    # the registry takes the denominator; a unit without a row gets some population anyway
    copied = registry.merge(p[["unit", "processed"]], on="unit", how="left")
    copied["processed"] = copied["processed"].fillna(filler)
    other = par_index.score(spec({**measure, "denominator_table": "reg"}),
                            {"reg": copied, "p": p[["unit", "on_time"]]})
    a, b = by_unit(same)[1], by_unit(other)[1]
    for column in ("raw_value", "score", "status", "action"):
        np.testing.assert_array_equal(b[column].to_numpy(), a[column].to_numpy(), err_msg=column)


def test_missing_under_error_names_both_tables_of_a_ratio() -> None:
    # D's gap is its blank population (registry), not its applications: say both places
    spec = make_spec([leaf("r", 10, per_capita())], inputs={"reg": REGISTRY, "p": dict(TABLE)},
                     units={"table": "reg"}, missing="error")
    with pytest.raises(par_index.DataError) as caught:
        par_index.score(spec, {"reg": POPULATION, "p": ONLINE})
    text = str(caught.value)
    assert "in '<DataFrame p>' or '<DataFrame reg>'" in text and "unit 'D'" in text
