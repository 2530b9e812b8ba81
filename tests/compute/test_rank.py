"""Competition ranking and half-up rounding (compute/rank.py)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from par_index.compute.rank import competition_rank, round_half_up

NAN = math.nan


def ranks(scores: list[float], groups: list[object] | None = None) -> list[float]:
    g = None if groups is None else np.array(groups, dtype=object)
    return competition_rank(np.array(scores, dtype="float64"), g).tolist()


def same(got: list[float], expected: list[float]) -> None:
    np.testing.assert_array_equal(np.array(got), np.array(expected, dtype="float64"))


def test_competition_ranking_shares_the_best_place_and_skips() -> None:
    # 5 first; the two 3s share second; 1 is fourth (third place is skipped).
    same(ranks([5, 3, 3, 1]), [1, 2, 2, 4])


def test_ranking_is_descending_whatever_the_input_order() -> None:
    same(ranks([1, 3, 5, 3]), [4, 2, 1, 2])


def test_all_tied() -> None:
    same(ranks([7, 7, 7]), [1, 1, 1])


def test_nan_stays_unranked_and_takes_no_place() -> None:
    # NaN is not last: it has no rank, and 3 is second (not third).
    same(ranks([5, NAN, 3]), [1, NAN, 2])
    same(ranks([NAN, 4, 4, 2]), [NAN, 1, 1, 3])
    same(ranks([NAN, NAN]), [NAN, NAN])


def test_ranks_within_groups() -> None:
    # Group a: 5 → 1, 3 → 2; group b: 4 → 1, 1 → 2 (4 is not behind a's 5).
    same(ranks([5, 3, 4, 1], ["a", "a", "b", "b"]), [1, 2, 1, 2])
    # Ties within a group; a NaN in a group takes no place.
    same(ranks([2, 2, NAN, 1, 9], ["x", "x", "x", "x", "y"]), [1, 1, NAN, 3, 1])


def test_units_without_a_group_rank_together() -> None:
    # None is a group of its own: 6 and 2 rank 1 and 2 among themselves.
    same(ranks([6, 9, 2], [None, "g", None]), [1, 1, 2])


def test_round_half_up() -> None:
    # 2.675 is stored as 2.67499999…; publishers round it to 2.68, numpy's round gives 2.67.
    assert round_half_up(np.array([2.675]), 2)[0] == 2.68
    # 0.125 is exact in binary: half goes up to 0.13 (round-half-even would give 0.12).
    assert round_half_up(np.array([0.125]), 2)[0] == 0.13
    assert round_half_up(np.array([1.005]), 2)[0] == 1.01
    assert round_half_up(np.array([2.5]), 0)[0] == 3.0
    assert round_half_up(np.array([2.4999]), 0)[0] == 2.0
    assert round_half_up(np.array([87.125]), 2)[0] == 87.13
    assert round_half_up(np.array([2.665]), 2)[0] == 2.67


def test_round_half_up_keeps_nan() -> None:
    out = round_half_up(np.array([NAN, 1.25]), 1)
    assert math.isnan(out[0])
    assert out[1] == 1.3


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

SCORES = st.lists(st.one_of(st.sampled_from([0.0, 1.5, 2.0, 7.25, 10.0]),
                            st.floats(-100, 100), st.just(NAN)), min_size=1, max_size=12)


def expected_ranks(scores: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """rank = 1 + the number of units in the same group with a strictly better score."""
    out = np.full(len(scores), NAN)
    for i, s in enumerate(scores):
        if math.isnan(s):
            continue
        same_group = np.ones(len(scores), bool) if groups is None else groups == groups[i]
        out[i] = 1 + np.sum(same_group & ~np.isnan(scores) & (scores > s))
    return out


@settings(max_examples=50, deadline=None)
@given(SCORES)
def test_rank_is_one_plus_the_number_of_strictly_better(scores: list[float]) -> None:
    x = np.array(scores, dtype="float64")
    r = competition_rank(x)
    np.testing.assert_array_equal(r, expected_ranks(x))
    present = r[~np.isnan(r)]
    n_valid = int(np.sum(~np.isnan(x)))
    assert np.all((present >= 1) & (present <= n_valid))
    assert np.all(present == np.round(present))
    if n_valid:
        assert present.min() == 1


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_ranks_within_groups_match_the_definition(data: st.DataObject) -> None:
    x = np.array(data.draw(SCORES), dtype="float64")
    groups = np.array(data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=len(x),
                                         max_size=len(x))), dtype=object)
    np.testing.assert_array_equal(competition_rank(x, groups), expected_ranks(x, groups))


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_ranking_is_permutation_invariant(data: st.DataObject) -> None:
    x = np.array(data.draw(SCORES), dtype="float64")
    groups = np.array(data.draw(st.lists(st.sampled_from(["a", "b"]), min_size=len(x),
                                         max_size=len(x))), dtype=object)
    order = np.array(data.draw(st.permutations(range(len(x)))), dtype=np.int64)
    np.testing.assert_array_equal(competition_rank(x[order]), competition_rank(x)[order])
    np.testing.assert_array_equal(competition_rank(x[order], groups[order]),
                                  competition_rank(x, groups)[order])


@settings(max_examples=50, deadline=None)
@given(st.integers(-10**6, 10**6), st.integers(0, 4))
def test_round_half_up_of_an_exact_half(whole: int, decimals: int) -> None:
    # whole + 0.5 units of the last decimal always rounds away from zero.
    value = (abs(whole) + 0.5) / 10**decimals
    expected = (abs(whole) + 1) / 10**decimals
    assert round_half_up(np.array([value]), decimals)[0] == expected
    assert round_half_up(np.array([-value]), decimals)[0] == -expected
