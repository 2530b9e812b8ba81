"""Rank uncertainty (``par_index.uncertainty``): draws of the whole scoring with survey
respondents resampled, weights perturbed and method alternatives picked.

Small cases are worked out by hand in the comments; the sample province checks the
properties a reader relies on (no variation → the nominal ranking; a seed → the same output;
the nominal rank inside its interval).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import par_index as pi
from par_index import DataError, SpecError
from par_index.cli import app
from par_index.compute.engine import Batch, score_batch, score_nominal
from par_index.compute.rank import competition_rank, competition_rank_rows
from par_index.compute.uncertainty import weight_factors
from par_index.spec import spec_from_data

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples" / "2025"
PAR = ROOT / "criteria" / "par-2025.yaml"
runner = CliRunner()


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def par_spec(block: dict[str, Any] | None = None, **changes: Any) -> Any:
    """par-2025 with an ``uncertainty`` block (and top-level keys changed)."""
    data = yaml.safe_load(PAR.read_text(encoding="utf-8"))
    if block is not None:
        data["uncertainty"] = block
    data.update(changes)
    return spec_from_data(data)


def survey_case(
    answers: dict[str, list[float]],
    block: dict[str, Any] | None = None,
    statistic: str = "share_at_least",
    weights: dict[str, list[float]] | None = None,
    missing: str = "error",
    rule: dict[str, Any] | None = None,
    silent: tuple[str, ...] = (),
) -> tuple[Any, dict[str, pd.DataFrame]]:
    """One survey indicator ``s`` (question q1, 1–5) per unit; the index is that indicator.

    share_at_least 4 is scored 0–1 as it is (or by ``rule``); a mean is scored
    (mean − 1) / 4 × 100. The ``silent`` units are registered but have no respondent.
    """
    if statistic == "mean":
        measure = {"kind": "survey", "table": "sv", "questions": ["q1"], "statistic": "mean"}
        node = {"id": "s", "name": "S", "max": 100, "measure": measure,
                "rule": {"kind": "linear", "worst": 1, "best": 5}}
    else:
        measure = {"kind": "survey", "table": "sv", "questions": ["q1"],
                   "statistic": "share_at_least", "threshold": 4}
        node = {"id": "s", "name": "S", "max": 1, "measure": measure}
        if rule is not None:
            node["rule"] = rule
    survey: dict[str, Any] = {"kind": "survey", "unit_column": "unit",
                              "scale": {"min": 1, "max": 5}, "dont_know": [9]}
    if weights is not None:
        survey["weight_column"] = "w"
    spec = spec_from_data({
        "id": "idx", "name": "Survey index", "missing": missing,
        "inputs": {"reg": {"kind": "table", "unit_column": "unit"}, "sv": survey},
        "units": {"table": "reg"},
        "criteria": [node],
        **({"uncertainty": block} if block is not None else {}),
    })
    rows = [(unit, a) for unit, values in answers.items() for a in values]
    frame = pd.DataFrame({"unit": [u for u, _ in rows], "q1": [a for _, a in rows]})
    if weights is not None:
        frame["w"] = [w for unit in answers for w in weights[unit]]
    return spec, {"reg": pd.DataFrame({"unit": [*answers, *silent]}), "sv": frame}


def by_unit(result: pi.Uncertainty) -> pd.DataFrame:
    return result.units.set_index("unit_id")


def nominal_vectors(spec: Any, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """The nominal total and rank of every unit, in the units' order."""
    data = pi.read_inputs(spec, inputs)
    nodes, _, _, _ = score_nominal(spec, data)
    assert nodes[0].rank is not None
    return nodes[0].score, nodes[0].rank


# --------------------------------------------------------------------------------------------
# done when: no variation → the nominal ranking in every draw
# --------------------------------------------------------------------------------------------


def test_with_no_variation_every_draw_is_the_nominal_ranking() -> None:
    spec = par_spec({"survey": False})
    inputs = pi.sample_inputs(2025)
    result = pi.uncertainty(spec, inputs, draws=40, seed=5)
    score, rank = nominal_vectors(spec, inputs)
    assert result.rank_draws.shape == (40, len(rank))
    for d in range(40):
        np.testing.assert_array_equal(result.score_draws[d], score)
        np.testing.assert_array_equal(result.rank_draws[d], rank)
    units = result.units
    assert (units["rank_p05"] == units["rank_nominal"]).all()
    assert (units["rank_p95"] == units["rank_nominal"]).all()
    assert (units["rank_median"] == units["rank_nominal"]).all()
    # ranks within the group too (every sample unit has a group: Sở, Xã, Phường, …)
    ranking = pi.score(spec, inputs).ranking.set_index("unit_id")["rank_in_group"]
    grouped = units.set_index("unit_id")
    assert (grouped["rank_in_group_nominal"] == ranking.loc[grouped.index]).all()
    for column in ("rank_in_group_p05", "rank_in_group_p95", "rank_in_group_median"):
        assert (grouped[column] == grouped["rank_in_group_nominal"]).all()
    assert set(units["p_top_k"]) <= {0.0, 1.0}
    # the probability of the nominal tier is 1
    for _, row in units.iterrows():
        assert row[f"p_tier_{row['tier_nominal']}"] == 1.0


def test_no_group_ranks_when_the_file_ranks_levels_only() -> None:
    spec = par_spec({"survey": True})
    spec = spec.model_copy(
        update={"ranking": spec.ranking.model_copy(update={"within_group": False})}
    )
    units = pi.uncertainty(spec, pi.sample_inputs(2025), draws=20, seed=1).units
    for column in ("nominal", "median", "p05", "p95"):
        assert units[f"rank_in_group_{column}"].isna().all()
    assert units["rank_p05"].notna().all()


def test_a_batch_with_a_draw_axis_scores_exactly_as_the_nominal_run() -> None:
    # every leaf given its nominal raw values in 3 identical draws: the engine takes the
    # (draws, units) path through every rule, aggregation and policy and must not move
    spec = par_spec()
    data = pi.read_inputs(spec, pi.sample_inputs(2025))
    nodes, _, _, measured = score_nominal(spec, data)
    n = len(data.units)
    raw = {leaf.id: np.tile(measured[leaf.id].raw, (3, 1)) for leaf in spec.leaves()}
    batch = Batch(draws=3, measured=measured, nominal={r.node.id: r for r in nodes}, raw=raw)
    totals = score_batch(spec, data, batch)
    assert totals.shape == (3, n)
    for d in range(3):
        np.testing.assert_array_equal(totals[d], nodes[0].score)
    ranks = competition_rank_rows(totals, data.units["level"].to_numpy(dtype=object))
    assert nodes[0].rank is not None
    np.testing.assert_array_equal(ranks[1], nodes[0].rank)


# --------------------------------------------------------------------------------------------
# done when: a fixed seed reproduces the output exactly
# --------------------------------------------------------------------------------------------


BLOCK = {
    "min_n": 100,
    "max_margin": 0.06,
    "top_k": 5,
    "weights": [{"node": "tthc", "range": [0.8, 1.2]}, {"node": "tac_dong", "range": [0.8, 1.2]}],
    "alternatives": [{"node": "giai_ngan", "rule": {"kind": "minmax"}},
                     {"node": "par-2025", "aggregation": "geometric_mean", "zero_floor": 0.01}],
}


def test_a_fixed_seed_reproduces_the_output_exactly() -> None:
    spec = par_spec(BLOCK)
    inputs = pi.sample_inputs(2025)
    first = pi.uncertainty(spec, inputs, draws=150, seed=11)
    again = pi.uncertainty(spec, inputs, draws=150, seed=11)
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, again.tables()[name], check_exact=True)
    np.testing.assert_array_equal(first.score_draws, again.score_draws)
    np.testing.assert_array_equal(first.rank_draws, again.rank_draws)
    other = pi.uncertainty(spec, inputs, draws=150, seed=12)
    assert not np.array_equal(first.score_draws, other.score_draws)


# --------------------------------------------------------------------------------------------
# done when: the nominal rank lies inside its interval
# --------------------------------------------------------------------------------------------


def test_the_nominal_rank_lies_inside_its_interval() -> None:
    result = pi.uncertainty(par_spec(BLOCK), pi.sample_inputs(2025), draws=300, seed=2)
    units = result.units
    assert units["rank_nominal"].notna().all()
    assert (units["rank_p05"] <= units["rank_nominal"]).all()
    assert (units["rank_nominal"] <= units["rank_p95"]).all()
    assert (units["rank_p05"] <= units["rank_median"]).all()
    assert (units["rank_median"] <= units["rank_p95"]).all()
    assert (units["score_p05"] <= units["score_p95"]).all()
    assert (units["rank_in_group_p05"] <= units["rank_in_group_nominal"]).all()
    assert (units["rank_in_group_nominal"] <= units["rank_in_group_p95"]).all()
    # something does move: the survey, the weights and the alternatives all vary
    assert (units["rank_p95"] > units["rank_p05"]).any()
    tiers = [c for c in units.columns if c.startswith("p_tier_")]
    assert np.allclose(units[tiers].sum(axis=1), 1.0)


# --------------------------------------------------------------------------------------------
# done when: intervals narrow as a unit's sample grows
# --------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=12).filter(lambda a: len(set(a)) > 1))
def test_intervals_narrow_as_a_units_sample_grows(answers: list[int]) -> None:
    # unit x's mean answer, scored among three units whose every respondent answers alike
    # (so they do not move); the same answers copied 16 times keep x's nominal mean and
    # must narrow its score interval, its margin of error and never widen its rank interval
    widths = {}
    for copies in (1, 16):
        spec, inputs = survey_case(
            {"x": [float(a) for a in answers] * copies,
             "lo": [2.0] * 20, "mid": [3.0] * 20, "hi": [4.0] * 20},
            statistic="mean",
        )
        result = pi.uncertainty(spec, inputs, draws=300, seed=1)
        x = by_unit(result).loc["x"]
        margin = result.survey.set_index("unit_id").loc["x", "margin_95"]
        widths[copies] = (x["score_p95"] - x["score_p05"], x["rank_p95"] - x["rank_p05"], margin)
    assert widths[16][0] < widths[1][0]
    assert widths[16][1] <= widths[1][1]
    assert widths[16][2] < widths[1][2]


# --------------------------------------------------------------------------------------------
# done when: the n / margin flags fire on a unit with a tiny sample
# --------------------------------------------------------------------------------------------


def test_flags_fire_on_a_unit_with_a_tiny_sample() -> None:
    spec, inputs = survey_case(
        {"big": [5, 4, 1, 2, 5] * 40, "tiny": [5, 1, 4]},
        block={"min_n": 30, "max_margin": 0.1},
    )
    result = pi.uncertainty(spec, inputs, draws=100, seed=0)
    survey = result.survey.set_index("unit_id")
    # big: 200 respondents, p = 0.6 → margin 1.96 √(0.24 / 199) ≈ 0.068 ≤ 0.1: no flag
    assert survey.loc["big", "n_valid"] == 200
    assert survey.loc["big", "margin_95"] == pytest.approx(1.959964 * math.sqrt(0.24 / 199))
    assert not survey.loc["big", "flag_n"] and not survey.loc["big", "flag_margin"]
    # tiny: 3 respondents < 30; p = 2/3 → margin 1.96 √((2/9) / 2) ≈ 0.65 > 0.1
    assert survey.loc["tiny", "n_valid"] == 3
    assert survey.loc["tiny", "margin_95"] == pytest.approx(1.959964 * math.sqrt(1 / 9))
    assert survey.loc["tiny", "flag_n"] and survey.loc["tiny", "flag_margin"]
    units = by_unit(result)
    assert units.loc["tiny", "flagged"] and not units.loc["big", "flagged"]
    assert units.loc["tiny", "flags"] == "n < 30: s; margin > 0.1: s"
    assert units.loc["big", "flags"] is None


def test_no_flags_without_thresholds() -> None:
    spec, inputs = survey_case({"a": [5, 1, 4], "b": [1]})
    result = pi.uncertainty(spec, inputs, draws=20, seed=0)
    assert not result.survey["flag_n"].any() and not result.survey["flag_margin"].any()
    # b: one respondent has no margin at all (n − 1 = 0)
    assert math.isnan(result.survey.set_index("unit_id").loc["b", "margin_95"])


# --------------------------------------------------------------------------------------------
# the bootstrap and the margin, by hand
# --------------------------------------------------------------------------------------------


def test_bootstrap_of_two_respondents_by_hand() -> None:
    # one respondent agrees (5 ≥ 4), one does not (1): nominal share 1/2. A resample of 2
    # draws each respondent with probability 1/2 twice: both agree (1/4) → 1, one each
    # (1/2) → 0.5, neither (1/4) → 0. Nothing else is possible.
    spec, inputs = survey_case({"u": [5, 1], "v": [4, 4, 1, 1]})
    result = pi.uncertainty(spec, inputs, draws=4000, seed=7)
    u = result.unit_ids.index("u")
    shares = result.score_draws[:, u]
    assert set(np.unique(shares)) == {0.0, 0.5, 1.0}
    frequency = {v: float(np.mean(shares == v)) for v in (0.0, 0.5, 1.0)}
    # 4000 draws: the standard error of a frequency near 1/4 is under 0.007
    assert frequency[0.0] == pytest.approx(0.25, abs=0.03)
    assert frequency[0.5] == pytest.approx(0.50, abs=0.03)
    assert frequency[1.0] == pytest.approx(0.25, abs=0.03)
    assert by_unit(result).loc["u", "score_nominal"] == 0.5


def test_bootstrap_keeps_respondent_weights() -> None:
    # u: agrees with weight 3, disagrees with weight 1 → nominal 3/4. Resamples: both the
    # agreeing one (1/4) → 1; one each (1/2) → 3/4; both the other one (1/4) → 0
    spec, inputs = survey_case({"u": [5, 1]}, weights={"u": [3.0, 1.0]})
    result = pi.uncertainty(spec, inputs, draws=400, seed=3)
    assert set(np.unique(result.score_draws[:, 0])) == {0.0, 0.75, 1.0}
    # Kish's effective n: (3 + 1)² / (9 + 1) = 1.6; the margin: p = 3/4,
    # z = (3·1 − 3/4·3) / 4 = 3/16 and (0 − 3/4·1) / 4 = −3/16 → var = 2/1 · 2 · 9/256
    survey = result.survey.iloc[0]
    assert survey["n_effective"] == pytest.approx(1.6)
    assert survey["margin_95"] == pytest.approx(1.959964 * math.sqrt(2 * 2 * 9 / 256))


def test_analytic_margin_is_the_textbook_one_and_the_bootstrap_agrees() -> None:
    # 4 respondents, 2 agree: p = 1/2, margin = 1.96 √(p (1 − p) / (n − 1)) = 1.96 √(1/12)
    spec, inputs = survey_case({"u": [5, 5, 1, 1], "big": [5, 1, 1, 4, 2] * 100})
    result = pi.uncertainty(spec, inputs, draws=2000, seed=4)
    survey = result.survey.set_index("unit_id")
    assert survey.loc["u", "margin_95"] == pytest.approx(1.959964 * math.sqrt(1 / 12))
    # with 500 respondents the bootstrap's 1.96 × standard deviation matches the formula
    assert survey.loc["big", "margin_95_bootstrap"] == pytest.approx(
        survey.loc["big", "margin_95"], rel=0.1
    )


def test_a_resample_without_an_answer_keeps_the_nominal_value_under_policy_error() -> None:
    # c: one answer and one "don't know". A resample of the don't-know twice (1/4 of draws)
    # has no answer: policy error cannot stop a draw, so it keeps c's nominal share (1)
    spec, inputs = survey_case({"a": [5, 1] * 10, "c": [5, 9]})
    result = pi.uncertainty(spec, inputs, draws=400, seed=0)
    c = result.unit_ids.index("c")
    assert (result.score_draws[:, c] == 1.0).all()
    fallbacks = result.run["uncertainty"]["fallbacks"]["s"]
    assert 60 < fallbacks < 140  # about 400 / 4


def test_a_resample_without_an_answer_is_reweighted_under_reweight() -> None:
    spec, inputs = survey_case({"a": [5, 1] * 10, "c": [5, 9]}, missing="reweight")
    result = pi.uncertainty(spec, inputs, draws=200, seed=0)
    c = result.unit_ids.index("c")
    assert np.isnan(result.score_draws[:, c]).any()  # the index has nothing else to go on
    assert result.run["uncertainty"]["fallbacks"] == {}


def test_imputation_happens_in_every_draw() -> None:
    # c has no respondent: impute_level_mean gives it, in each draw, the mean of a and b
    spec, inputs = survey_case(
        {"a": [5, 1, 4, 2], "b": [5, 5, 1]}, missing="impute_level_mean", silent=("c",)
    )
    result = pi.uncertainty(spec, inputs, draws=200, seed=0)
    a, b, c = (result.unit_ids.index(u) for u in "abc")
    draws = result.score_draws
    np.testing.assert_allclose(draws[:, c], (draws[:, a] + draws[:, b]) / 2, rtol=0, atol=1e-12)
    assert draws[:, c].std() > 0
    assert by_unit(result).loc["c", "score_nominal"] == pytest.approx((0.5 + 2 / 3) / 2)


def test_relative_rules_compare_the_units_of_each_draw() -> None:
    # min-max over the level in every draw: its best unit scores 1, its worst 0
    spec, inputs = survey_case(
        {"a": [5, 1, 4, 2], "b": [5, 5, 1], "c": [1, 2, 4, 5, 5]}, rule={"kind": "minmax"}
    )
    result = pi.uncertainty(spec, inputs, draws=200, seed=0)
    draws = result.score_draws
    spread = draws.max(axis=1) > draws.min(axis=1)
    assert spread.any()
    assert (draws.max(axis=1)[spread] == 1.0).all()
    assert (draws.min(axis=1)[spread] == 0.0).all()


# --------------------------------------------------------------------------------------------
# weights and alternatives
# --------------------------------------------------------------------------------------------


def column_case(block: dict[str, Any], **root: Any) -> tuple[Any, dict[str, pd.DataFrame]]:
    """Two indicators, a (max 8) and b (max 6), summed; three units."""
    spec = spec_from_data({
        "id": "idx", "name": "Two", "inputs": {"t": {"kind": "table", "unit_column": "unit"}},
        "criteria": [
            {"id": "a", "name": "A", "max": 8, "measure": {"kind": "column", "table": "t",
                                                         "column": "a"}},
            {"id": "b", "name": "B", "max": 6, "measure": {"kind": "column", "table": "t",
                                                         "column": "b"}},
        ],
        "uncertainty": block, **root,
    })
    frame = pd.DataFrame({"unit": ["x", "y", "z"], "a": [8.0, 0.0, 4.0], "b": [0.0, 6.0, 3.0]})
    return spec, {"t": frame}


def test_weight_range_rescales_the_siblings_to_keep_the_sum() -> None:
    # a's maximum doubled (range [2, 2]), then both rescaled so that 8 + 6 stays 14:
    # a × 2 · 14/22, b × 14/22. x (8, 0) → 8 · 28/22 = 10.18…; y (0, 6) → 6 · 14/22 = 3.81…
    spec, inputs = column_case({"survey": False, "weights": [{"node": "a", "range": [2, 2]}]})
    result = pi.uncertainty(spec, inputs, draws=5, seed=0)
    units = by_unit(result)
    assert units.loc["x", "score_median"] == pytest.approx(8 * 28 / 22)
    assert units.loc["y", "score_median"] == pytest.approx(6 * 14 / 22)
    assert units.loc["z", "score_median"] == pytest.approx(4 * 28 / 22 + 3 * 14 / 22)


def test_weight_factors_keep_each_parents_total_weight() -> None:
    spec = par_spec({"weights": [{"node": "tthc", "range": [0.5, 1.5]},
                                 {"node": "chi_dao", "range": [0.9, 1.1]},
                                 {"node": "dung_han", "range": [0.7, 1.3]}]})
    factors = weight_factors(spec, draws=50, seed=9)
    areas = spec.criteria
    maxima = np.array([a.declared_max() for a in areas])
    root = factors["par-2025"]
    assert root.shape == (len(areas), 50)
    np.testing.assert_allclose((root * maxima[:, None]).sum(axis=0), maxima.sum())
    # tthc over an untouched area: the drawn factor itself, within its range
    ratio = root[2] / root[1]
    assert ((ratio >= 0.5) & (ratio <= 1.5)).all() and ratio.std() > 0
    tthc = next(a for a in areas if a.id == "tthc")
    inner = np.array([c.declared_max() for c in tthc.children or []])
    np.testing.assert_allclose((factors["tthc"] * inner[:, None]).sum(axis=0), inner.sum())


def test_each_draw_uses_the_declared_rule_or_its_alternative() -> None:
    block = {"survey": False, "alternatives": [{"node": "giai_ngan", "rule": {"kind": "minmax"}}]}
    spec = par_spec(block)
    inputs = pi.sample_inputs(2025)
    result = pi.uncertainty(spec, inputs, draws=60, seed=0)
    declared, _ = nominal_vectors(spec, inputs)
    data = yaml.safe_load(PAR.read_text(encoding="utf-8"))
    for area in data["criteria"]:
        for child in area.get("children", []):
            if child["id"] == "giai_ngan":
                child["rule"] = {"kind": "minmax"}
    alternative, _ = nominal_vectors(spec_from_data(data), inputs)
    used = []
    for d in range(60):
        if np.array_equal(result.score_draws[d], declared):
            used.append(0)
        else:
            np.testing.assert_allclose(result.score_draws[d], alternative, rtol=0, atol=1e-9)
            used.append(1)
    assert 0 < sum(used) < 60  # both were drawn


def test_an_aggregation_alternative_scores_as_that_aggregation() -> None:
    # the index as a weighted geometric mean of a and b, weighted by their maxima:
    # x (1, 0 → floor 0.01): 14 · exp((8 ln 1 + 6 ln 0.01) / 14)
    block = {"survey": False,
             "alternatives": [{"node": "idx", "aggregation": "geometric_mean", "zero_floor": 0.01}]}
    spec, inputs = column_case(block, max=14)
    result = pi.uncertainty(spec, inputs, draws=40, seed=0)
    x = result.unit_ids.index("x")
    values = set(np.round(result.score_draws[:, x], 9))
    assert values == {8.0, round(14 * math.exp(6 * math.log(0.01) / 14), 9)}


def test_a_geometric_alternative_of_a_zero_without_floor_is_an_error() -> None:
    block = {"survey": False, "alternatives": [{"node": "idx", "aggregation": "geometric_mean"}]}
    spec, inputs = column_case(block, max=14)
    with pytest.raises(DataError, match="zero_floor"):
        pi.uncertainty(spec, inputs, draws=40, seed=0)


# --------------------------------------------------------------------------------------------
# removal: the rank shift when a node's weight is zero
# --------------------------------------------------------------------------------------------


def test_rank_shift_when_an_indicator_is_removed() -> None:
    # totals x 8, y 6, z 7 → ranks 1, 3, 2
    # without a: x 0, y 6, z 3 → ranks 3, 1, 2: shifts 2, 2, 0 → mean 4/3, max 2, 2/3 moved
    # without b: x 8, y 0, z 4 → ranks 1, 3, 2: no shift
    spec, inputs = column_case({"survey": False})
    removal = pi.uncertainty(spec, inputs, draws=3, seed=0).removal.set_index("node_id")
    assert removal.loc["a", "mean_abs_rank_shift"] == pytest.approx(4 / 3)
    assert removal.loc["a", "max_abs_rank_shift"] == 2
    assert removal.loc["a", "share_units_moved"] == pytest.approx(2 / 3)
    assert removal.loc["b", "mean_abs_rank_shift"] == 0
    assert removal.loc["a", "applies_to_units"] == 3


def test_removal_covers_every_node_of_the_samples() -> None:
    spec = par_spec({"survey": False})
    result = pi.uncertainty(spec, pi.sample_inputs(2025), draws=2, seed=0)
    ids = {node.id for node, _, _ in spec.iter_nodes()}
    assert set(result.removal["node_id"]) == ids
    # sap_xep applies to departments only: no commune row
    rows = result.removal[result.removal["node_id"] == "sap_xep"]
    assert list(rows["level"]) == ["department"]


# --------------------------------------------------------------------------------------------
# ranking draws, criteria language, outputs, command line
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda d: st.integers(1, 12).flatmap(
            lambda u: st.tuples(
                st.lists(st.lists(st.sampled_from([0.0, 1.0, 2.5, 3.0, math.nan]),
                                  min_size=u, max_size=u), min_size=d, max_size=d),
                st.lists(st.sampled_from(["a", "b", None]), min_size=u, max_size=u),
            )
        )
    )
)
def test_ranking_every_draw_at_once_matches_ranking_each(
    case: tuple[list[list[float]], list[str | None]],
) -> None:
    scores, groups = np.array(case[0]), np.array(case[1], dtype=object)
    ranks = competition_rank_rows(scores, groups)
    for d in range(len(scores)):
        np.testing.assert_array_equal(ranks[d], competition_rank(scores[d], groups))


def test_uncertainty_block_is_validated_with_did_you_mean() -> None:
    with pytest.raises(SpecError) as error:
        par_spec({
            "weights": [{"node": "tthcc", "range": [0.8, 1.2]}, {"node": "tthc", "range": [2, 1]}],
            "alternatives": [{"node": "tthc", "rule": {"kind": "minmax"}},
                             {"node": "dung_han", "aggregation": "geometric_mean"},
                             {"node": "giai_ngan", "rule": {"kind": "relative_to_best"}}],
        })
    text = str(error.value)
    assert "Did you mean 'tthc'?" in text
    assert "0 < low <= high" in text
    assert "'tthc' has children" in text
    assert "'dung_han' is an indicator" in text
    assert "must differ from the rule" in text


def test_the_uncertainty_block_round_trips_and_defaults() -> None:
    spec = par_spec(BLOCK)
    again = spec_from_data(yaml.safe_load(pi.dump_spec(spec)))
    assert again.uncertainty == spec.uncertainty
    plain = pi.load_spec(pi.bundled_path("criteria/par-2024.yaml"))  # declares no block
    assert plain.uncertainty.survey and plain.uncertainty.top_k == 10
    assert "uncertainty" not in pi.dump_spec(plain)  # the default is not written out


def test_outputs_hold_every_table(tmp_path: Path) -> None:
    spec, inputs = survey_case({"a": [5, 1, 4] * 5, "b": [2, 5]}, block={"min_n": 5})
    result = pi.uncertainty(spec, inputs, draws=30, seed=0)
    path = result.to_excel(tmp_path / "u.xlsx")
    with pd.ExcelFile(path, engine="calamine") as workbook:
        sheets = workbook.sheet_names
    assert sheets == ["units", "survey", "removal", "run", "criteria"]
    assert "rank uncertainty over 30 draws" in result._repr_html_()
    assert repr(result).startswith("<Uncertainty idx: 2 units, 30 draws, 1 flagged")


def test_cli_uncertainty_writes_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "u.json"
    args = ["uncertainty", str(SAMPLES / "registry.csv"), str(SAMPLES / "processing.csv"),
            str(SAMPLES / "appraisal.xlsx"), "--input", f"survey={SAMPLES / 'survey_citizens.csv'}",
            "--criteria", str(PAR), "--out", str(out), "--draws", "30", "--seed", "4"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "department: 20 units" in done.output and "wrote" in done.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["run"]["uncertainty"]["draws"] == 30
    assert document["run"]["uncertainty"]["seed"] == 4
    library = pi.uncertainty(PAR, {
        "registry": SAMPLES / "registry.csv", "processing": SAMPLES / "processing.csv",
        "appraisal": SAMPLES / "appraisal.xlsx", "survey": SAMPLES / "survey_citizens.csv",
    }, draws=30, seed=4)
    units = pd.DataFrame(document["units"])
    assert list(units["rank_p95"]) == [int(v) for v in library.units["rank_p95"]]


def test_cli_uncertainty_needs_out_and_positive_draws(tmp_path: Path) -> None:
    args = ["uncertainty", str(SAMPLES / "registry.csv"), "--criteria", str(PAR)]
    assert runner.invoke(app, args).exit_code != 0
    done = runner.invoke(app, [*args, "--out", str(tmp_path / "u.xlsx"), "--draws", "0"])
    assert done.exit_code != 0


def test_score_with_draws_carries_the_same_uncertainty_as_uncertainty() -> None:
    inputs = pi.sample_inputs(2025)
    results = pi.score(PAR, inputs, draws=60, seed=9)
    alone = pi.uncertainty(PAR, inputs, draws=60, seed=9)
    assert results.uncertainty is not None
    pd.testing.assert_frame_equal(results.uncertainty.units, alone.units, check_exact=True)
    pd.testing.assert_frame_equal(results.uncertainty.removal, alone.removal, check_exact=True)
    assert "rank 90 %" in results._repr_html_()
    plain = pi.score(PAR, inputs)
    assert plain.uncertainty is None  # pi.score draws only when asked
    # one nominal scoring serves both: the tables are those of a run without draws
    pd.testing.assert_frame_equal(results.ranking, plain.ranking, check_exact=True)
    pd.testing.assert_frame_equal(results.detail, plain.detail, check_exact=True)
