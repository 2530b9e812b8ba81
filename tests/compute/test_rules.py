"""Scoring rules (compute/rules.py): hand-worked examples for every rule kind, and properties.

Every expected number below is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from par_index.compute.rules import apply_rule
from par_index.spec.rules import Rule

_RULE = TypeAdapter(Rule)
NAN = math.nan


def rule(**data: Any) -> Any:
    return _RULE.validate_python(data)


def run(spec: dict[str, Any], raw: list[float], maximum: float = 10.0,
        groups: list[int] | None = None) -> np.ndarray:
    x = np.array(raw, dtype="float64")
    g = np.zeros(len(x), dtype=np.int64) if groups is None else np.array(groups, dtype=np.int64)
    return apply_rule(rule(**spec), x, maximum, g)


def check(got: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(got, np.array(expected, dtype="float64"), rtol=0, atol=1e-12,
                               equal_nan=True)


# --------------------------------------------------------------------------------------------
# identity
# --------------------------------------------------------------------------------------------

def test_identity_keeps_the_raw_value() -> None:
    # The raw value is the score: 0 → 0, 2.5 → 2.5, 10 → 10, NaN (no data) → NaN.
    check(run({"kind": "identity"}, [0, 2.5, 10, NAN]), [0, 2.5, 10, NAN])


def test_identity_returns_a_copy() -> None:
    x = np.array([1.0, 2.0])
    out = apply_rule(rule(kind="identity"), x, 10.0, np.zeros(2, dtype=np.int64))
    out[0] = 99.0
    assert x[0] == 1.0


# --------------------------------------------------------------------------------------------
# linear
# --------------------------------------------------------------------------------------------

def test_linear_higher_is_better_with_clipping() -> None:
    # worst 20 → 0, best 80 → 10 (max 10); (50 − 20) / (80 − 20) = 0.5 → 5;
    # (35 − 20) / 60 = 0.25 → 2.5; 10 < worst clips to 0; 95 > best clips to 10.
    check(run({"kind": "linear", "worst": 20, "best": 80}, [10, 20, 35, 50, 80, 95, NAN]),
          [0, 0, 2.5, 5, 10, 10, NAN])


def test_linear_lower_is_better_is_worst_above_best() -> None:
    # Days to resolve, max 4: worst 10 days → 0, best 2 days → 4.
    # 6 days: (6 − 10) / (2 − 10) = 0.5 → 2; 8 days: (8 − 10) / −8 = 0.25 → 1;
    # 1 day is better than best → 4; 12 days is worse than worst → 0.
    check(run({"kind": "linear", "worst": 10, "best": 2}, [1, 2, 6, 8, 10, 12], maximum=4),
          [4, 4, 2, 1, 0, 0])


def test_linear_log_interpolates_on_log_values() -> None:
    # worst 1, best 100, max 10: ln 10 / ln 100 = 0.5 → 5; ln 1 → 0; ln 100 → 10;
    # 1000 is past best → 10; 0.5 is below worst → 0.
    check(run({"kind": "linear", "worst": 1, "best": 100, "log": True},
              [1, 10, 100, 1000, 0.5, NAN]),
          [0, 5, 10, 10, 0, NAN])


def test_linear_log_lower_is_better() -> None:
    # worst 100, best 1: 10 is half way on the log scale → 5; 1 → 10; 100 → 0.
    check(run({"kind": "linear", "worst": 100, "best": 1, "log": True}, [10, 1, 100]),
          [5, 10, 0])


def test_linear_log_nonpositive_raw_is_clipped_not_missing() -> None:
    # A raw value of 0 (or below) is a real value worse than the worst goalpost 1 under
    # higher-is-better, so it scores 0 like any other value below worst; it must not turn into
    # NaN (no data), which the missing policy would then reweight or impute.
    check(run({"kind": "linear", "worst": 1, "best": 100, "log": True}, [0, -3]), [0, 0])
    # Lower-is-better (worst 100, best 1): 0 is better than best → full 10 points.
    check(run({"kind": "linear", "worst": 100, "best": 1, "log": True}, [0]), [10])


# --------------------------------------------------------------------------------------------
# bands
# --------------------------------------------------------------------------------------------

PLAN_BANDS = {"kind": "bands", "bands": [{"at_least": 100, "points": 3},
                                         {"at_least": 80, "points": 2},
                                         {"at_least": 70, "points": 1}], "otherwise": 0}


def test_bands_higher_is_better_first_match_wins() -> None:
    # ≥100 → 3; [80, 100) → 2; [70, 80) → 1; below 70 → otherwise 0; NaN → NaN.
    check(run(PLAN_BANDS, [120, 100, 99.9, 80, 79.99, 70, 69.99, 0, NAN], maximum=3),
          [3, 3, 2, 2, 1, 1, 0, 0, NAN])


def test_bands_lower_is_better() -> None:
    # Late share: ≤ 1% → 4; ≤ 3% → 2; otherwise 0 (max 4).
    spec = {"kind": "bands", "bands": [{"at_most": 0.01, "points": 4},
                                       {"at_most": 0.03, "points": 2}]}
    # 0 → 4; 0.01 (on the edge, inclusive) → 4; 0.0101 → 2; 0.03 → 2; 0.031 → 0.
    check(run(spec, [0, 0.01, 0.0101, 0.03, 0.031, NAN], maximum=4), [4, 4, 2, 2, 0, NAN])


def test_bands_inclusive_and_exclusive_edges_exactly_at_the_boundary() -> None:
    at_least = {"kind": "bands", "bands": [{"at_least": 80, "points": 2}]}
    above = {"kind": "bands", "bands": [{"above": 80, "points": 2}]}
    at_most = {"kind": "bands", "bands": [{"at_most": 5, "points": 2}]}
    below = {"kind": "bands", "bands": [{"below": 5, "points": 2}]}
    # Exactly 80: at_least owns the boundary (2 points), above does not (otherwise 0).
    check(run(at_least, [80, 79.999], maximum=2), [2, 0])
    check(run(above, [80, 80.001], maximum=2), [0, 2])
    # Exactly 5: at_most owns it, below does not.
    check(run(at_most, [5, 5.001], maximum=2), [2, 0])
    check(run(below, [5, 4.999], maximum=2), [0, 2])


def test_bands_above_then_at_least_on_the_same_value() -> None:
    # "above 80 → 3, exactly 80 → 2, otherwise 1": 80.5 → 3, 80 → 2, 79 → 1.
    spec = {"kind": "bands", "bands": [{"above": 80, "points": 3}, {"at_least": 80, "points": 2}],
            "otherwise": 1}
    check(run(spec, [80.5, 80, 79], maximum=3), [3, 2, 1])


def test_bands_otherwise_points() -> None:
    # A value past no band gets otherwise (0.5), not 0.
    spec = {"kind": "bands", "bands": [{"at_least": 50, "points": 2}], "otherwise": 0.5}
    check(run(spec, [60, 10, NAN], maximum=2), [2, 0.5, NAN])


# --------------------------------------------------------------------------------------------
# minmax
# --------------------------------------------------------------------------------------------

def test_minmax_observed_bounds_per_group() -> None:
    # Group 0: 2, 4, 6 → min 2, max 6: (4 − 2) / 4 = 0.5 → 5 (max 10).
    # Group 1: 10, 20 → 0 and 10, independently of group 0's bounds.
    check(run({"kind": "minmax"}, [2, 4, 6, 10, 20], groups=[0, 0, 0, 1, 1]),
          [0, 5, 10, 0, 10])


def test_minmax_ignores_missing_values_for_the_bounds() -> None:
    # NaN takes no part: bounds are 2 and 6, so 3 → (3 − 2) / 4 = 0.25 → 2.5.
    check(run({"kind": "minmax"}, [2, NAN, 3, 6]), [0, NAN, 2.5, 10])


def test_minmax_fixed_bounds_clip() -> None:
    # bounds [0, 50], max 10: 25 → 5; −10 clips to 0; 60 clips to 10.
    check(run({"kind": "minmax", "bounds": [0, 50]}, [-10, 0, 25, 50, 60, NAN]),
          [0, 0, 5, 10, 10, NAN])


def test_minmax_fixed_bounds_do_not_depend_on_the_other_units() -> None:
    # With bounds fixed, 25 is 5 points whatever the other units score.
    spec = {"kind": "minmax", "bounds": [0, 50]}
    check(run(spec, [25]), [5])
    check(run(spec, [25, 30, 40]), [5, 6, 8])


def test_minmax_lower_is_better() -> None:
    # Observed 2, 4, 6: lowest is best → 2 → 10, 4 → 5, 6 → 0.
    check(run({"kind": "minmax", "direction": "lower_is_better"}, [2, 4, 6]), [10, 5, 0])
    # Fixed bounds [0, 50]: 10 → 1 − 10/50 = 0.8 → 8; 60 clips → 0; −5 clips → 10.
    check(run({"kind": "minmax", "direction": "lower_is_better", "bounds": [0, 50]},
              [10, 60, -5]), [8, 0, 10])


def test_minmax_onto_a_range() -> None:
    # range [1, 10] (as PCI sub-indices): 2 → 1, 4 → 1 + 0.5 × 9 = 5.5, 6 → 10.
    check(run({"kind": "minmax", "range": [1, 10]}, [2, 4, 6]), [1, 5.5, 10])
    # Lower is better onto [1, 10]: 2 → 10, 4 → 5.5, 6 → 1.
    check(run({"kind": "minmax", "range": [1, 10], "direction": "lower_is_better"}, [2, 4, 6]),
          [10, 5.5, 1])


def test_minmax_all_equal_gets_the_top_of_the_range() -> None:
    # Nobody is worse than anybody: every unit scores the top (10), in both directions.
    check(run({"kind": "minmax"}, [7, 7, 7]), [10, 10, 10])
    check(run({"kind": "minmax", "direction": "lower_is_better"}, [7, 7]), [10, 10])
    check(run({"kind": "minmax", "range": [1, 10]}, [3, 3]), [10, 10])
    # A group of one unit is all-equal too, while the other group is spread out.
    check(run({"kind": "minmax"}, [5, 0, 10], groups=[0, 1, 1]), [10, 0, 10])


# --------------------------------------------------------------------------------------------
# relative_to_best
# --------------------------------------------------------------------------------------------

def test_relative_to_best_higher_is_better() -> None:
    # Best 0.8, max 4: 0.5 / 0.8 × 4 = 2.5; 0.8 → 4; 0.4 → 2.
    check(run({"kind": "relative_to_best"}, [0.5, 0.8, 0.4, NAN], maximum=4), [2.5, 4, 2, NAN])


def test_relative_to_best_lower_is_better() -> None:
    # Days: best (lowest) 2, max 10: 2 → 10; 4 → 2/4 × 10 = 5; 8 → 2.5.
    check(run({"kind": "relative_to_best", "direction": "lower_is_better"}, [2, 4, 8]),
          [10, 5, 2.5])


def test_relative_to_best_per_group() -> None:
    # Group 0 best 10: 5 → 5; group 1 best 2: 1 → 5, 2 → 10.
    check(run({"kind": "relative_to_best"}, [5, 10, 1, 2], groups=[0, 0, 1, 1]), [5, 10, 5, 10])


# --------------------------------------------------------------------------------------------
# target
# --------------------------------------------------------------------------------------------

def test_target_with_zero_otherwise() -> None:
    # Target 0.5, max 4: 0.6 and 0.5 meet it → 4; 0.49 misses → 0 (the default otherwise).
    check(run({"kind": "target", "target": 0.5}, [0.6, 0.5, 0.49, NAN], maximum=4),
          [4, 4, 0, NAN])


def test_target_with_fixed_otherwise() -> None:
    # Missing the target earns the fixed 1.5 points.
    check(run({"kind": "target", "target": 0.5, "otherwise": 1.5}, [0.5, 0.1], maximum=4),
          [4, 1.5])


def test_target_proportional_higher_is_better() -> None:
    # 0.25 / 0.5 × 4 = 2; 0.5 → 4; 1.0 (above target) → 4; 0 → 0.
    check(run({"kind": "target", "target": 0.5, "otherwise": "proportional"},
              [0.25, 0.5, 1.0, 0.0], maximum=4), [2, 4, 4, 0])


def test_target_lower_is_better() -> None:
    # Target at most 5 days, max 4: 3 and 5 meet it → 4; 6 misses → 0.
    check(run({"kind": "target", "target": 5, "direction": "lower_is_better"}, [3, 5, 6],
              maximum=4), [4, 4, 0])
    # Proportional: 10 days → 5 / 10 × 4 = 2; 8 → 5/8 × 4 = 2.5; 4 → 4.
    check(run({"kind": "target", "target": 5, "direction": "lower_is_better",
               "otherwise": "proportional"}, [10, 8, 4, NAN], maximum=4), [2, 2.5, 4, NAN])


# --------------------------------------------------------------------------------------------
# count, deduction, yes_no
# --------------------------------------------------------------------------------------------

def test_count_with_cap() -> None:
    # 1 point per platform, cap 3 (max 3): 0 → 0, 2 → 2, 3 → 3, 5 → 3 (capped).
    check(run({"kind": "count", "per_item": 1, "cap": 3}, [0, 2, 3, 5, NAN], maximum=3),
          [0, 2, 3, 3, NAN])


def test_count_cap_defaults_to_the_maximum() -> None:
    # 1.5 per item, max 4: 2 → 3; 3 → 4.5 capped to 4; a negative count → 0.
    check(run({"kind": "count", "per_item": 1.5}, [2, 3, -1], maximum=4), [3, 4, 0])


def test_deduction_from_the_maximum() -> None:
    # Start at max 6, −2 per violation, floor 0: 0 → 6, 1 → 4, 2 → 2, 3 → 0, 5 → 0 (floor).
    check(run({"kind": "deduction", "per_item": 2}, [0, 1, 2, 3, 5, NAN], maximum=6),
          [6, 4, 2, 0, 0, NAN])


def test_deduction_with_start_and_floor() -> None:
    # Start 5, −2 per item, floor 1: 0 → 5, 1 → 3, 2 → 1, 4 → 1 (never below the floor).
    check(run({"kind": "deduction", "per_item": 2, "start": 5, "floor": 1}, [0, 1, 2, 4],
              maximum=6), [5, 3, 1, 1])


def test_yes_no_default_points() -> None:
    # Yes (1) → max 2; no (0) → 0; NaN → NaN.
    check(run({"kind": "yes_no"}, [1, 0, NAN], maximum=2), [2, 0, NAN])


def test_yes_no_declared_points() -> None:
    rule = {"kind": "yes_no", "yes_points": 1.5, "no_points": 0.5}
    check(run(rule, [1, 0], maximum=2), [1.5, 0.5])


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

MAX = 10.0


class Case:
    """A monotone rule, its score range, which way is better, and the raw values it takes."""

    def __init__(self, name: str, spec: dict[str, Any], low: float = 0.0, high: float = MAX,
                 higher: bool = True, relative: bool = False, lo_raw: float = -50.0,
                 hi_raw: float = 150.0) -> None:
        self.name, self.spec, self.low, self.high = name, spec, low, high
        self.higher, self.relative, self.lo_raw, self.hi_raw = higher, relative, lo_raw, hi_raw

    def __repr__(self) -> str:
        return self.name


CASES = [
    Case("identity", {"kind": "identity"}, lo_raw=0.0, hi_raw=MAX),
    Case("identity-range", {"kind": "identity", "range": [1, 10]}, low=1, lo_raw=1.0,
         hi_raw=MAX),
    Case("linear", {"kind": "linear", "worst": 0, "best": 100}),
    Case("linear-lower", {"kind": "linear", "worst": 30, "best": 1}, higher=False),
    # log goalposts take positive raw values (0 and below: see the log test above)
    Case("linear-log", {"kind": "linear", "worst": 1, "best": 1000, "log": True}, lo_raw=1e-3,
         hi_raw=1e4),
    Case("bands", {"kind": "bands", "bands": [{"at_least": 90, "points": 10},
                                              {"above": 50, "points": 6},
                                              {"at_least": 50, "points": 5}], "otherwise": 1}),
    Case("bands-lower", {"kind": "bands", "bands": [{"below": 1, "points": 10},
                                                    {"at_most": 3, "points": 4}]},
         higher=False),
    Case("minmax", {"kind": "minmax"}, relative=True),
    Case("minmax-lower", {"kind": "minmax", "direction": "lower_is_better"}, higher=False,
         relative=True),
    Case("minmax-range", {"kind": "minmax", "range": [1, 10]}, low=1, relative=True),
    Case("minmax-bounds", {"kind": "minmax", "bounds": [0, 100]}),
    Case("minmax-bounds-lower", {"kind": "minmax", "bounds": [0, 100],
                                 "direction": "lower_is_better"}, higher=False),
    Case("relative", {"kind": "relative_to_best"}, relative=True, lo_raw=0.0),
    Case("relative-lower", {"kind": "relative_to_best", "direction": "lower_is_better"},
         higher=False, relative=True, lo_raw=0.0),
    Case("target", {"kind": "target", "target": 50, "otherwise": 2}),
    Case("target-proportional", {"kind": "target", "target": 50, "otherwise": "proportional"}),
    Case("target-lower", {"kind": "target", "target": 5, "direction": "lower_is_better",
                          "otherwise": "proportional"}, higher=False),
    Case("target-zero-lower", {"kind": "target", "target": 0, "direction": "lower_is_better",
                               "otherwise": "proportional"}, higher=False),
    Case("count", {"kind": "count", "per_item": 2, "cap": 8}, high=8),
    Case("yes_no", {"kind": "yes_no", "yes_points": 7, "no_points": 1}, low=1, high=7, lo_raw=0.0,
         hi_raw=1.0),
    # deduction: the raw value is a failure count, so fewer is better
    Case("deduction", {"kind": "deduction", "per_item": 1.5, "start": 9, "floor": 2}, low=2,
         high=9, higher=False),
]


def real(low: float, high: float) -> st.SearchStrategy[float]:
    """Values as data holds them: at most 6 decimals (no 1e-308 that overflows a division)."""
    return st.floats(low, high, allow_nan=False).map(lambda v: min(max(round(v, 6), low), high))


@st.composite
def raws(draw: st.DrawFn, case: Case, min_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(raw values with some NaN, group codes) for ``case``."""
    values = real(case.lo_raw, case.hi_raw)
    if case.name == "yes_no":
        values = st.sampled_from([0.0, 1.0])
    items = draw(st.lists(st.one_of(values, st.just(NAN)), min_size=min_size, max_size=8))
    groups = draw(st.lists(st.integers(0, 2), min_size=len(items), max_size=len(items)))
    return np.array(items, dtype="float64"), np.array(groups, dtype=np.int64)


def score(case: Case, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return apply_rule(rule(**case.spec), x, MAX, g)


SETTINGS = settings(max_examples=20, deadline=None)


@pytest.mark.parametrize("case", CASES, ids=repr)
@SETTINGS
@given(data=st.data())
def test_scores_stay_within_the_range_and_nan_stays_nan(case: Case, data: st.DataObject) -> None:
    x, g = data.draw(raws(case))
    s = score(case, x, g)
    assert s.shape == x.shape
    assert np.array_equal(np.isnan(s), np.isnan(x))
    present = s[~np.isnan(s)]
    assert np.all(present >= case.low - 1e-9)
    assert np.all(present <= case.high + 1e-9)


@pytest.mark.parametrize("case", CASES, ids=repr)
@SETTINGS
@given(data=st.data())
def test_a_better_raw_value_never_lowers_the_score(case: Case, data: st.DataObject) -> None:
    x, g = data.draw(raws(case))
    present = np.flatnonzero(~np.isnan(x))
    if present.size == 0:
        return
    i = data.draw(st.sampled_from(list(present)))
    if case.higher:
        better = data.draw(real(x[i], case.hi_raw))
    else:
        better = data.draw(real(case.lo_raw, x[i]))
    if case.name == "yes_no":
        better = 1.0 if x[i] == 1.0 else data.draw(st.sampled_from([0.0, 1.0]))
    y = x.copy()
    y[i] = better
    before, after = score(case, x, g)[i], score(case, y, g)[i]
    assert after >= before - 1e-9, (x[i], better, before, after)


@pytest.mark.parametrize("case", CASES, ids=repr)
@SETTINGS
@given(data=st.data())
def test_permuting_units_permutes_scores(case: Case, data: st.DataObject) -> None:
    x, g = data.draw(raws(case))
    order = np.array(data.draw(st.permutations(range(len(x)))), dtype=np.int64)
    s = score(case, x, g)
    np.testing.assert_allclose(score(case, x[order], g[order]), s[order], rtol=0, atol=1e-12,
                               equal_nan=True)


@pytest.mark.parametrize("case", [c for c in CASES if not c.relative], ids=repr)
@SETTINGS
@given(data=st.data())
def test_adding_a_unit_does_not_change_the_others(case: Case, data: st.DataObject) -> None:
    x, g = data.draw(raws(case))
    extra, extra_g = data.draw(raws(case))
    s = score(case, x, g)
    together = score(case, np.concatenate([x, extra[:1]]), np.concatenate([g, extra_g[:1]]))
    np.testing.assert_array_equal(together[: len(x)], s)


@pytest.mark.parametrize("case", [c for c in CASES if c.relative], ids=repr)
@SETTINGS
@given(data=st.data())
def test_relative_rules_compare_only_within_a_group(case: Case, data: st.DataObject) -> None:
    # Adding a unit in a group of its own (code 9) leaves every other unit's score unchanged.
    x, g = data.draw(raws(case))
    extra = data.draw(real(case.lo_raw, case.hi_raw))
    s = score(case, x, g)
    together = score(case, np.append(x, extra), np.append(g, 9))
    np.testing.assert_array_equal(together[: len(x)], s)
