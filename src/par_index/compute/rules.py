"""Scoring rules: raw values → scores, as pure functions over numpy arrays.

Every rule maps NaN (no data) to NaN and keeps scores within [0, maximum]. Relative rules
(min-max, relative to best) compare units within their ``groups`` (the level, or all units).
Values may carry a leading axis of draws, (D, U): rules work elementwise and relative rules
compare the units of each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..spec.rules import (
    BandsRule,
    CountRule,
    DeductionRule,
    IdentityRule,
    LinearRule,
    MinMaxRule,
    RelativeToBestRule,
    Rule,
    TargetRule,
    Threshold,
    YesNoRule,
)


def passes(values: np.ndarray, edge: Threshold) -> np.ndarray:
    """Which values pass a threshold edge (NaN passes none)."""
    kind, t = edge.edge
    with np.errstate(invalid="ignore"):
        if kind == "at_least":
            return values >= t
        if kind == "above":
            return values > t
        if kind == "at_most":
            return values <= t
        return values < t


def first_match(values: np.ndarray, edges: Sequence[Threshold]) -> np.ndarray:
    """Index of the first edge each value passes; len(edges) when none; -1 for NaN."""
    out = np.full(values.shape, len(edges), dtype=np.int64)
    unset = np.ones(values.shape, dtype=bool)
    for i, edge in enumerate(edges):
        hit = unset & passes(values, edge)
        out[hit] = i
        unset &= ~hit
    out[np.isnan(values)] = -1
    return out


def _group_reduce(values: np.ndarray, groups: np.ndarray, fold: np.ufunc) -> np.ndarray:
    """Per-unit ``fold`` (``np.fmin`` or ``np.fmax``) over the non-NaN values of the unit's
    group, along the last axis (units): a leading axis of draws is reduced row by row."""
    out = np.full(values.shape, np.nan)
    for g in np.unique(groups):
        members = groups == g
        if values.ndim == 1:
            present = values[members]
            present = present[~np.isnan(present)]
            if present.size:
                out[members] = fold.reduce(present)
        else:  # fmin/fmax skip NaN; a row with no value stays NaN
            out[..., members] = fold.reduce(values[..., members], axis=-1, keepdims=True)
    return out


def apply_rule(rule: Rule, raw: np.ndarray, maximum: float, groups: np.ndarray) -> np.ndarray:
    """Scores for ``raw`` under ``rule`` on a leaf whose maximum is ``maximum``.

    ``groups`` holds, per unit, the code of the set of units that relative rules compare within
    (the level for ``across: level``; one code for all units otherwise). Units where the node does
    not apply must already be NaN in ``raw`` so they take no part in the comparison.
    """
    x = np.asarray(raw, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if isinstance(rule, IdentityRule):
            return x.copy()
        if isinstance(rule, LinearRule):
            worst, best = rule.worst, rule.best
            if rule.log:
                # log(x ≤ 0) is -inf: past the low end, so 0 points when higher is better and
                # full points when lower is better, never "no data".
                x = np.where(
                    x > 0, np.log(np.where(x > 0, x, 1.0)), np.where(np.isnan(x), x, -np.inf)
                )
                worst, best = float(np.log(worst)), float(np.log(best))
            fraction = np.clip((x - worst) / (best - worst), 0.0, 1.0)
            return fraction * maximum
        if isinstance(rule, BandsRule):
            points = np.array([b.points for b in rule.bands] + [rule.otherwise], dtype="float64")
            index = first_match(x, rule.bands)
            return np.where(index >= 0, points[np.clip(index, 0, None)], np.nan)
        if isinstance(rule, MinMaxRule):
            return _minmax(rule, x, maximum, groups)
        if isinstance(rule, RelativeToBestRule):
            return _relative_to_best(rule, x, maximum, groups)
        if isinstance(rule, TargetRule):
            return _target(rule, x, maximum)
        if isinstance(rule, CountRule):
            cap = maximum if rule.cap is None else rule.cap
            return np.clip(x * rule.per_item, 0.0, cap)
        if isinstance(rule, DeductionRule):
            start = maximum if rule.start is None else rule.start
            return np.asarray(np.maximum(rule.floor, start - rule.per_item * np.clip(x, 0.0, None)))
        if isinstance(rule, YesNoRule):
            yes = maximum if rule.yes_points is None else rule.yes_points
            return np.where(np.isnan(x), np.nan, np.where(x >= 0.5, yes, rule.no_points))
    raise TypeError(f"unknown rule {rule!r}")  # pragma: no cover - the spec union is closed


def _minmax(rule: MinMaxRule, x: np.ndarray, maximum: float, groups: np.ndarray) -> np.ndarray:
    low_score, high_score = rule.range if rule.range is not None else (0.0, maximum)
    if rule.bounds is not None:
        low = np.full(x.shape, rule.bounds[0])
        high = np.full(x.shape, rule.bounds[1])
    else:
        low = _group_reduce(x, groups, np.fmin)
        high = _group_reduce(x, groups, np.fmax)
    span = high - low
    # All units equal: nobody is worse than anybody, so every unit gets the top of the range.
    fraction = np.where(span > 0, np.clip((x - low) / np.where(span > 0, span, 1.0), 0, 1), 1.0)
    if rule.direction == "lower_is_better":
        fraction = (
            1.0 - fraction if rule.bounds is not None else np.where(span > 0, 1.0 - fraction, 1.0)
        )
    return np.where(np.isnan(x), np.nan, low_score + fraction * (high_score - low_score))


def _relative_to_best(
    rule: RelativeToBestRule, x: np.ndarray, maximum: float, groups: np.ndarray
) -> np.ndarray:
    if rule.direction == "higher_is_better":
        best = _group_reduce(x, groups, np.fmax)
        score = np.where(best > 0, x / np.where(best > 0, best, 1.0), 1.0)
    else:
        best = _group_reduce(x, groups, np.fmin)
        score = np.where(x > 0, best / np.where(x > 0, x, 1.0), 1.0)
    return np.where(np.isnan(x), np.nan, np.clip(score, 0.0, 1.0) * maximum)


def _target(rule: TargetRule, x: np.ndarray, maximum: float) -> np.ndarray:
    higher = rule.direction == "higher_is_better"
    met = x >= rule.target if higher else x <= rule.target
    if rule.otherwise == "proportional":
        if higher:
            partial = np.clip(x / rule.target, 0.0, 1.0) * maximum if rule.target > 0 else 0.0 * x
        else:
            partial = (
                np.clip(np.where(x > 0, rule.target / np.where(x > 0, x, 1.0), 1.0), 0.0, 1.0)
                * maximum
            )
    else:
        partial = np.full(x.shape, float(rule.otherwise))
    return np.where(np.isnan(x), np.nan, np.where(met, maximum, partial))
