"""Rank uncertainty: replicate the whole scoring many times and report how far every unit's
score and rank move.

Three sources of variation, declared in the criteria file's ``uncertainty`` block (see
:mod:`par_index.spec.uncertainty`), each with its own random stream so that switching one
on or off leaves the others' draws as they were:

1. survey sampling: each unit's respondents resampled (:mod:`.bootstrap`);
2. weights: a factor drawn uniformly from the declared range for a node's weight (its
   maximum under a sum parent), the parent's weights rescaled to keep their sum;
3. method alternatives: each draw picks, per node, the declared rule or aggregation or one
   of the alternatives, uniformly.

Draws are scored in chunks through the engine's :class:`~.engine.Batch` (every per-node array
(draws, units)), so memory stays bounded by the chunk, and ranked per draw without a loop
over draws. Separately, every node is left out in turn (its weight set to zero: it counts as
applying to nobody) to see how far the nominal ranking moves without it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from .. import progress
from ..results import UNCERTAINTY_RANK_COLUMNS, Uncertainty
from ..spec.index import IndexSpec
from ..spec.measures import SurveyMeasure
from ..spec.nodes import Aggregation, Node
from ..spec.rules import Rule, Threshold
from ..spec.uncertainty import RuleAlternative, UncertaintySpec
from ..tables import InputData
from .bootstrap import Z95, SurveyBootstrap
from .engine import Batch, NodeScores, Nominal, ranking_basis, score_batch, score_nominal
from .measures import MeasureValues
from .rank import competition_rank_rows, group_keys
from .rules import first_match
from .score import unit_fields

SURVEY, WEIGHTS, ALTERNATIVES = 1, 2, 3
"""Spawn keys of the random streams (with the seed): one per source of variation."""

CHUNK_CELLS = 1 << 19
"""Draws × units scored at once: about 500 000, so that a chunk's node arrays take a few MB
each (the widest node stacks its children: ~ children × 4 MB)."""
MAX_CHUNK = 1000
QUANTILE_CELLS = 1 << 20
"""Draws × units sorted at once for the percentiles."""

SURVEY_METHOD = (
    "each unit's respondents resampled with replacement, n out of n, weights kept "
    "(classical bootstrap, units as strata); all indicators of a survey share the resample"
)
MARGIN_METHOD = (
    "analytic: 1.96 × √(n/(n−1) Σ z²), z = (hits − p·valid)/Σ valid per respondent "
    "(Taylor linearisation of the weighted ratio; p(1−p)/n_eff for one question)"
)


def chunk_size(units: int) -> int:
    """How many draws are scored at once for ``units`` units (fixed by the data alone, so a
    seed reproduces the same draws on any machine)."""
    return max(1, min(MAX_CHUNK, CHUNK_CELLS // max(1, units)))


def _stream(seed: int, key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


# ----------------------------------------------------------------------------- variations


def _parents(root: Node) -> dict[str, tuple[Node, int]]:
    """Child id → (parent node, position among the parent's children)."""
    out: dict[str, tuple[Node, int]] = {}

    def walk(node: Node) -> None:
        for i, child in enumerate(node.children or []):
            out[child.id] = (node, i)
            walk(child)

    walk(root)
    return out


def _base_weight(parent: Node, child: Node) -> float:
    """A child's weight in its parent: its maximum under sum/share_of_max, else its weight."""
    if parent.effective_aggregation in ("sum", "share_of_max"):
        return child.declared_max() or 1.0
    return child.weight or 1.0


def weight_factors(spec: IndexSpec, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Parent id → (children, draws) multipliers of each child's weight: the declared nodes'
    factors, drawn uniformly from their ranges, then all of the parent's children rescaled
    so that the weights keep their sum."""
    entries = spec.uncertainty.weights
    if not entries:
        return {}
    rng = _stream(seed, WEIGHTS)
    low = np.array([e.range[0] for e in entries])
    high = np.array([e.range[1] for e in entries])
    drawn = rng.uniform(low, high, size=(draws, len(entries)))
    parents = _parents(spec.as_root())
    grouped: dict[str, tuple[Node, list[tuple[int, int]]]] = {}
    for column, entry in enumerate(entries):
        parent, position = parents[entry.node]
        grouped.setdefault(parent.id, (parent, []))[1].append((position, column))
    out: dict[str, np.ndarray] = {}
    for parent_id, (parent, members) in grouped.items():
        children = parent.children or []
        base = np.array([_base_weight(parent, c) for c in children])
        factor = np.ones((len(children), draws))
        for position, column in members:
            factor[position] = drawn[:, column]
        scaled = factor * base[:, None]
        out[parent_id] = factor * base.sum() / scaled.sum(axis=0)
    return out


def method_choices(
    spec: IndexSpec, draws: int, seed: int
) -> tuple[
    dict[str, tuple[list[Rule], np.ndarray]],
    dict[str, tuple[list[tuple[Aggregation, float | None]], np.ndarray]],
]:
    """Per node with alternatives: its candidates (the declared method first) and, per draw,
    the index of the candidate used — uniform over the candidates."""
    rules: dict[str, list[Rule]] = {}
    aggregations: dict[str, list[tuple[Aggregation, float | None]]] = {}
    order: list[str] = []
    for alternative in spec.uncertainty.alternatives:
        node = spec.find(alternative.node)
        assert node is not None  # checked when the file was read
        if node.id not in order:
            order.append(node.id)
        if isinstance(alternative, RuleAlternative):
            rules.setdefault(node.id, [node.effective_rule]).append(alternative.rule)
        else:
            declared = (node.effective_aggregation, node.zero_floor)
            aggregations.setdefault(node.id, [declared]).append(
                (alternative.aggregation, alternative.zero_floor)
            )
    rng = _stream(seed, ALTERNATIVES)
    rule_choices: dict[str, tuple[list[Rule], np.ndarray]] = {}
    aggregation_choices: dict[str, tuple[list[tuple[Aggregation, float | None]], np.ndarray]] = {}
    for node_id in order:
        if node_id in rules:
            candidates = rules[node_id]
            rule_choices[node_id] = (candidates, rng.integers(0, len(candidates), size=draws))
        if node_id in aggregations:
            options = aggregations[node_id]
            aggregation_choices[node_id] = (options, rng.integers(0, len(options), size=draws))
    return rule_choices, aggregation_choices


# ----------------------------------------------------------------------------- the run


class _Draws:
    """Scores, ranks (in the level and, where units have groups, in the group) and tier
    counts of every draw, filled chunk by chunk."""

    def __init__(
        self, spec: IndexSpec, draws: int, n: int, level: np.ndarray, group: np.ndarray
    ) -> None:
        self.spec = spec
        self.level = level
        self.scores = np.empty((draws, n))
        self.ranks = np.empty((draws, n), dtype=np.float32)
        self.group_keys = group_keys(level, group) if spec.ranking.within_group else None
        self.has_group = pd.Series(group).notna().to_numpy()
        self.group_ranks = (
            np.full((draws, n), np.nan, dtype=np.float32) if self.group_keys is not None else None
        )
        tiers = spec.tiers or []
        self.edged = [t for t in tiers if t.at_least is not None or t.above is not None]
        self.edges = [Threshold(at_least=t.at_least, above=t.above) for t in self.edged]
        self.tier_names = [t.name for t in self.edged]
        if len(self.edged) < len(tiers):
            self.tier_names.append(tiers[-1].name)
        self.tier_counts = np.zeros((n, len(self.tier_names)))

    def add(self, rows: slice, totals: np.ndarray) -> None:
        basis = ranking_basis(self.spec, totals)
        self.scores[rows] = totals
        self.ranks[rows] = competition_rank_rows(basis, self.level)
        if self.group_ranks is not None and self.group_keys is not None:
            ranks = competition_rank_rows(basis, self.group_keys)
            self.group_ranks[rows] = np.where(self.has_group, ranks, np.nan)
        if self.tier_names:
            index = first_match(basis, self.edges)
            for i in range(len(self.tier_names)):
                self.tier_counts[:, i] += (index == i).sum(axis=0)


def uncertainty(
    spec: IndexSpec,
    data: InputData,
    draws: int = 1000,
    seed: int = 0,
    run: dict[str, Any] | None = None,
    nominal: Nominal | None = None,
) -> Uncertainty:
    """Score ``draws`` replications of the index varied as ``spec.uncertainty`` declares and
    summarise every unit's score and rank; ``seed`` fixes every random draw. ``nominal``: the
    tree already scored by :func:`~.engine.score_nominal` (by ``score``), reused."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1. Got {draws} instead.")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Got {seed} instead.")
    started = time.perf_counter()
    settings = spec.uncertainty
    nodes, tiers, warnings, measured = nominal or score_nominal(spec, data)
    by_id = {r.node.id: r for r in nodes}
    units = data.units
    n = len(units)
    level = units["level"].to_numpy(dtype=object)
    chunk = chunk_size(n)

    survey_leaves = [
        r.node
        for r in nodes
        if r.node.is_leaf and isinstance(r.node.measure, SurveyMeasure) and r.applicable.any()
    ]
    boot = SurveyBootstrap(spec, data, survey_leaves, chunk) if survey_leaves else None
    resample = settings.survey and boot is not None
    factors = weight_factors(spec, draws, seed)
    rules, aggregations = method_choices(spec, draws, seed)

    out = _Draws(spec, draws, n, level, units["group"].to_numpy(dtype=object))
    spread = {leaf.id: _Moments(n) for leaf in survey_leaves} if resample else {}
    fallbacks: dict[str, int] = {}
    survey_rng = _stream(seed, SURVEY)
    for first in range(0, draws, chunk):
        rows = slice(first, min(draws, first + chunk))
        count = rows.stop - rows.start
        progress.advance(f"drawing {draws} replications", first, draws)
        raw: dict[str, np.ndarray] = {}
        if resample:
            assert boot is not None
            raw = boot.draw(survey_rng, count)
            for leaf_id, values in raw.items():
                spread[leaf_id].add(values)
        batch = Batch(
            draws=count,
            measured=measured,
            nominal=by_id,
            raw=raw,
            rules={k: (c, pick[rows]) for k, (c, pick) in rules.items()},
            aggregations={k: (c, pick[rows]) for k, (c, pick) in aggregations.items()},
            factors={k: f[:, rows] for k, f in factors.items()},
            fallbacks=fallbacks,
        )
        out.add(rows, score_batch(spec, data, batch))
        del batch, raw

    progress.stage("leaving out each node in turn (sensitivity)")
    removal = removal_frame(spec, data, nodes, measured, chunk)
    survey = survey_frame(units, by_id, boot, spread, settings)
    unit_frame = units_frame(spec, units, nodes[0], tiers, out, survey, settings)
    record = dict(run or {})
    record["warnings"] = [str(w) for w in warnings]
    record["uncertainty"] = {
        "draws": draws,
        "seed": seed,
        "chunk": chunk,
        "top_k": settings.top_k,
        "survey": bool(resample),
        "survey_method": SURVEY_METHOD if resample else None,
        "margin_method": MARGIN_METHOD,
        "min_n": settings.min_n,
        "max_margin": settings.max_margin,
        "weights": [w.model_dump(mode="json") for w in settings.weights],
        "alternatives": [a.model_dump(mode="json") for a in settings.alternatives],
        "rank_percentiles": "inverted CDF (each is a rank some draw gave)",
        "fallbacks": fallbacks,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Uncertainty(
        spec=spec,
        units=unit_frame,
        survey=survey,
        removal=removal,
        score_draws=out.scores,
        rank_draws=out.ranks,
        unit_ids=[str(u) for u in units["unit_id"]],
        run=record,
    )


# ----------------------------------------------------------------------------- removal


def removal_frame(
    spec: IndexSpec,
    data: InputData,
    nodes: list[NodeScores],
    measured: dict[str, MeasureValues],
    chunk: int,
) -> pd.DataFrame:
    """Per node and level where it applies: how far the level's ranks move from the nominal
    ranking when the node is left out (weight zero), every node in turn, in batches of
    ``chunk`` nodes. The shift is over all ranked units of the level (leaving a node out
    moves the units it does not apply to as well)."""
    by_id = {r.node.id: r for r in nodes}
    level = data.units["level"].to_numpy(dtype=object)
    nominal = nodes[0].rank
    assert nominal is not None
    targets = nodes[1:]
    levels = list(dict.fromkeys(level))
    rows: list[dict[str, Any]] = []
    for first in range(0, len(targets), chunk):
        part = targets[first : first + chunk]
        dropped = {
            r.node.id: np.arange(len(part)) == i for i, r in enumerate(part)
        }  # draw i leaves node i out
        batch = Batch(draws=len(part), measured=measured, nominal=by_id, dropped=dropped)
        totals = score_batch(spec, data, batch)
        ranks = competition_rank_rows(ranking_basis(spec, totals), level)
        shift = np.abs(ranks - nominal)
        for i, result in enumerate(part):
            for name in levels:
                members = level == name
                applies = int((members & result.applicable).sum())
                if not applies:
                    continue
                moved = shift[i][members & ~np.isnan(shift[i])]
                rows.append(
                    {
                        "node_id": result.node.id,
                        "node_name": result.node.name,
                        "parent_id": result.parent,
                        "depth": result.depth,
                        "is_leaf": result.node.is_leaf,
                        "level": name,
                        "applies_to_units": applies,
                        "mean_abs_rank_shift": float(moved.mean()) if moved.size else np.nan,
                        "max_abs_rank_shift": float(moved.max()) if moved.size else np.nan,
                        "share_units_moved": float((moved > 0).mean()) if moved.size else np.nan,
                    }
                )
    columns = [
        "node_id",
        "node_name",
        "parent_id",
        "depth",
        "is_leaf",
        "level",
        "applies_to_units",
        "mean_abs_rank_shift",
        "max_abs_rank_shift",
        "share_units_moved",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["parent_id"] = frame["parent_id"].astype(object)
    return frame


# ----------------------------------------------------------------------------- tables


def _quantiles(values: np.ndarray, q: list[float], method: str) -> np.ndarray:
    """Quantiles over draws (axis 0) per unit, NaN draws left out; a unit with no value in
    any draw gets NaN (without numpy's all-NaN warning). Units are taken in blocks, so the
    sorting copies stay small whatever the number of units."""
    out = np.full((len(q), values.shape[1]), np.nan)
    step = max(1, QUANTILE_CELLS // max(1, values.shape[0]))
    for first in range(0, values.shape[1], step):
        block = slice(first, first + step)
        part = values[:, block].astype("float64")
        present = ~np.isnan(part)
        full = present.all(axis=0)
        some = present.any(axis=0) & ~full
        target = out[:, block]
        if full.any():
            target[:, full] = np.quantile(part[:, full], q, axis=0, method=method)  # type: ignore[call-overload]
        if some.any():
            target[:, some] = np.nanquantile(part[:, some], q, axis=0, method=method)  # type: ignore[call-overload]
    return out


class _Moments:
    """Running count, mean and sum of squared deviations per unit over draws (NaN skipped):
    the resampled values' standard deviation without keeping every draw."""

    def __init__(self, n: int) -> None:
        self.count = np.zeros(n)
        self.mean = np.zeros(n)
        self.squares = np.zeros(n)

    def add(self, values: np.ndarray) -> None:
        """Merge a chunk of draws (draws × units) — Chan et al.'s pairwise update."""
        present = ~np.isnan(values)
        count = present.sum(axis=0).astype("float64")
        filled = np.where(present, values, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, filled.sum(axis=0) / count, 0.0)
            squares = (np.where(present, values - mean, 0.0) ** 2).sum(axis=0)
            total = self.count + count
            delta = mean - self.mean
            share = np.where(total > 0, count / total, 0.0)
            self.squares += squares + delta * delta * self.count * share
            self.mean += delta * share
        self.count = total

    def sd(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 1, np.sqrt(self.squares / (self.count - 1)), np.nan)


def survey_frame(
    units: pd.DataFrame,
    by_id: dict[str, NodeScores],
    boot: SurveyBootstrap | None,
    spread: dict[str, _Moments],
    settings: UncertaintySpec,
) -> pd.DataFrame:
    """Per unit × survey indicator (where it applies): valid n, effective n, margins, flags."""
    columns = [
        "unit_id",
        "unit_name",
        "level",
        "node_id",
        "node_name",
        "raw_nominal",
        "n_valid",
        "n_effective",
        "margin_95",
        "margin_95_bootstrap",
        "flag_n",
        "flag_margin",
    ]
    blocks = []
    for leaf_id, precision in (boot.precision if boot is not None else {}).items():
        result = by_id[leaf_id]
        mask = result.applicable
        moments = spread.get(leaf_id)
        bootstrap = (
            Z95 * moments.sd()[mask] if moments is not None else np.full(int(mask.sum()), np.nan)
        )
        n_valid = precision.n_valid[mask]
        margin = precision.margin_95[mask]
        flag_n = (
            n_valid < settings.min_n
            if settings.min_n is not None
            else np.zeros(len(n_valid), dtype=bool)
        )
        flag_margin = (
            ~(margin <= settings.max_margin)  # no margin (n < 2) cannot pass
            if settings.max_margin is not None
            else np.zeros(len(margin), dtype=bool)
        )
        assert result.raw is not None
        blocks.append(
            pd.DataFrame(
                {
                    "unit_id": units["unit_id"].to_numpy(dtype=object)[mask],
                    "unit_name": units["unit_name"].to_numpy(dtype=object)[mask],
                    "level": units["level"].to_numpy(dtype=object)[mask],
                    "node_id": leaf_id,
                    "node_name": result.node.name,
                    "raw_nominal": result.raw[mask],
                    "n_valid": n_valid.astype(np.int64),
                    "n_effective": precision.n_effective[mask],
                    "margin_95": margin,
                    "margin_95_bootstrap": bootstrap,
                    "flag_n": flag_n,
                    "flag_margin": flag_margin,
                }
            )
        )
    if not blocks:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(blocks, ignore_index=True)[columns]


def _flags(survey: pd.DataFrame, settings: UncertaintySpec) -> dict[str, str]:
    """Unit id → which survey indicators are flagged and why (e.g. "n < 30: q1, q2")."""
    out: dict[str, list[str]] = {}
    for flag, label in (
        ("flag_n", f"n < {settings.min_n}"),
        ("flag_margin", f"margin > {settings.max_margin:g}" if settings.max_margin else ""),
    ):
        hit = survey[survey[flag].astype(bool)]
        for unit_id, group in hit.groupby("unit_id", sort=False):
            out.setdefault(str(unit_id), []).append(f"{label}: {', '.join(group['node_id'])}")
    return {unit: "; ".join(parts) for unit, parts in out.items()}


def units_frame(
    spec: IndexSpec,
    units: pd.DataFrame,
    root: NodeScores,
    tiers: np.ndarray,
    out: _Draws,
    survey: pd.DataFrame,
    settings: UncertaintySpec,
) -> pd.DataFrame:
    draws = len(out.scores)
    score_q = _quantiles(out.scores, [0.5, 0.05, 0.95], "linear")
    rank_q = _quantiles(out.ranks, [0.5, 0.05, 0.95], "inverted_cdf")
    frame = pd.DataFrame(
        {
            **unit_fields(units),
            "score_nominal": root.score,
            "rank_nominal": root.rank,
            "tier_nominal": tiers,
            "score_median": score_q[0],
            "score_p05": score_q[1],
            "score_p95": score_q[2],
            "rank_median": rank_q[0],
            "rank_p05": rank_q[1],
            "rank_p95": rank_q[2],
            "p_top_k": (out.ranks <= settings.top_k).sum(axis=0) / draws,
        }
    )
    group_q = (
        _quantiles(out.group_ranks, [0.5, 0.05, 0.95], "inverted_cdf")
        if out.group_ranks is not None
        else np.full((3, len(frame)), np.nan)
    )
    frame["rank_in_group_nominal"] = root.rank_in_group
    frame["rank_in_group_median"] = group_q[0]
    frame["rank_in_group_p05"] = group_q[1]
    frame["rank_in_group_p95"] = group_q[2]
    for i, name in enumerate(out.tier_names):
        frame[f"p_tier_{name}"] = out.tier_counts[:, i] / draws
    flags = _flags(survey, settings) if len(survey) else {}
    frame["flagged"] = frame["unit_id"].map(lambda u: str(u) in flags).astype(bool)
    frame["flags"] = frame["unit_id"].map(lambda u: flags.get(str(u))).astype(object)
    for column in UNCERTAINTY_RANK_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in ("group", "tier_nominal", "flags"):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    order = {lv: i for i, lv in enumerate(dict.fromkeys(units["level"]))}
    frame["_level"] = frame["level"].map(order)
    frame = frame.sort_values(
        ["_level", "rank_nominal", "unit_id"], na_position="last", kind="stable"
    )
    return frame.drop(columns="_level").reset_index(drop=True)
