"""Edge cases of ranking, tiers and applicability found in review."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import par_index as pi
from par_index.errors import SpecError
from par_index.spec import spec_from_data


def _spec(criteria: list[dict[str, Any]], **extra: Any) -> pi.IndexSpec:
    return spec_from_data({"id": "t", "name": "T", "inputs": {"t": {"kind": "table",
                                                                  "unit_column": "u"}},
                           "units": {"level": "x"}, "criteria": criteria, **extra})


def _leaf(node_id: str, maximum: float, column: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "name": node_id, "max": maximum,
            "measure": {"kind": "column", "table": "t", "column": column}, **extra}


def test_floating_point_noise_never_splits_a_tie() -> None:
    spec = _spec([_leaf("a", 1, "a"), _leaf("b", 1, "b")])
    frame = pd.DataFrame({"u": ["p", "q"], "a": [0.1, 0.3], "b": [0.2, 0.0]})
    ranking = pi.score(spec, {"t": frame}).ranking
    assert ranking["score"].iloc[0] != ranking["score"].iloc[1]  # 0.30000000000000004 vs 0.3
    assert list(ranking["rank"]) == [1, 1]


def test_tiers_use_the_declared_rounding() -> None:
    spec = _spec([_leaf("a", 100, "a")], ranking={"round_to": 2},
                 tiers=[{"name": "A", "at_least": 90}, {"name": "B"}])
    frame = pd.DataFrame({"u": ["p", "q"], "a": [89.996, 89.994]})
    ranking = pi.score(spec, {"t": frame}).ranking.set_index("unit_id")
    assert ranking.loc["p", "tier"] == "A"  # shown as 90.00: it is in tier A
    assert ranking.loc["q", "tier"] == "B"


def test_a_yes_no_measure_scores_full_points_by_default() -> None:
    spec = _spec([{"id": "a", "name": "a", "max": 3,
                   "measure": {"kind": "yes_no", "table": "t", "column": "a"}}])
    frame = pd.DataFrame({"u": ["p", "q"], "a": ["Có", "Không"]})
    assert list(pi.score(spec, {"t": frame}).ranking["score"]) == [3.0, 0.0]


def test_applies_to_naming_no_unit_is_reported() -> None:
    spec = _spec([_leaf("a", 1, "a"), _leaf("b", 1, "b", applies_to={"groups": ["Phuong"]})])
    frame = pd.DataFrame({"u": ["p"], "a": [1.0], "b": [1.0]})
    results = pi.score(spec, {"t": frame})
    assert any("match no unit" in w for w in results.run["warnings"])


@pytest.mark.parametrize(("change", "expected"), [
    ({"criteria": [_leaf("rank", 1, "a")]}, "reserved_id"),
    # the ranking table holds area a's rank as 'a_rank': no area may be called that
    ({"criteria": [_leaf("a", 1, "a"), _leaf("a_rank", 1, "b")]}, "reserved_id"),
    ({"inputs": {"t": {"kind": "survey", "unit_column": "u", "scale": {"min": 0, "max": 9},
                       "dont_know": [9]}}}, "outside the answer scale"),
])
def test_spec_refuses(change: dict[str, Any], expected: str) -> None:
    data = {"id": "t", "name": "T", "inputs": {"t": {"kind": "table", "unit_column": "u"}},
            "units": {"level": "x"}, "criteria": [_leaf("a", 1, "a")], **change}
    with pytest.raises(SpecError) as info:
        spec_from_data(data)
    assert any(expected in (i.code + i.message) for i in info.value.issues)


def test_survey_threshold_must_be_on_the_scale() -> None:
    data = {"id": "t", "name": "T",
            "inputs": {"t": {"kind": "survey", "unit_column": "u", "scale": {"min": 1, "max": 5}}},
            "units": {"level": "x"},
            "criteria": [{"id": "a", "name": "a", "max": 1,
                          "measure": {"kind": "survey", "table": "t", "questions": ["q"],
                                      "threshold": 6}}]}
    with pytest.raises(SpecError) as info:
        spec_from_data(data)
    assert [i.code for i in info.value.issues] == ["threshold_off_scale"]


def test_the_ranking_table_has_each_areas_rank() -> None:
    # hand-worked: a = 1, 3, 3 → ranks 3, 1, 1; b = 2, 1, NaN → ranks 1, 2, none
    spec = _spec([_leaf("a", 5, "a"), _leaf("b", 5, "b"), _leaf("q_rank", 5, "c")],
                 missing="reweight")
    frame = pd.DataFrame({"u": ["p", "q", "r"], "a": [1.0, 3.0, 3.0], "b": [2.0, 1.0, None],
                          "c": [0.5, 1.5, 2.5]})
    ranking = pi.score(spec, {"t": frame}).ranking.set_index("unit_id")
    columns = list(ranking.columns)
    assert columns[-3:] == ["a_rank", "b_rank", "q_rank_rank"]
    assert columns.index("q_rank") < columns.index("a_rank")  # scores first, then ranks
    assert ranking["a_rank"].to_dict() == {"p": 3, "q": 1, "r": 1}
    assert ranking.loc["p", "b_rank"] == 1 and ranking.loc["q", "b_rank"] == 2
    assert ranking.loc["r", "b_rank"] is pd.NA
    assert str(ranking["a_rank"].dtype) == "Int64"
    # an area whose id ends in _rank (with no area of the prefix) keeps its score as a number
    assert ranking["q_rank"].to_dict() == {"p": 0.5, "q": 1.5, "r": 2.5}
