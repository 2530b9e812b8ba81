"""Competition ranking (1, 2, 2, 4), best first, within groups; missing scores stay unranked."""

from __future__ import annotations

import numpy as np
import pandas as pd


def round_half_up(values: np.ndarray, decimals: int) -> np.ndarray:
    """Round half away from zero, as publishers round by hand (numpy rounds half to even).

    The value is first brought to 9 significant decimals past the target so that binary noise
    (2.675 stored as 2.67499999…) does not decide the direction.
    """
    scale = 10.0**decimals
    scaled = np.round(np.asarray(values, dtype="float64") * scale, 9)
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / scale


def group_keys(level: np.ndarray, group: np.ndarray) -> np.ndarray | None:
    """One key per unit for ranking within the groups of each level (``None`` when no unit
    has a group); a unit without a group gets a key of its own level's blank group, and the
    caller leaves its group rank out."""
    present = pd.Series(group).notna().to_numpy()
    if not present.any():
        return None
    return np.array([f"{lv}\0{g}" for lv, g in zip(level, group, strict=True)], dtype=object)


def competition_rank(scores: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Rank ``scores`` descending within each group: ties share the best rank ("min").

    NaN scores get NaN ranks and do not take a place.
    """
    series = pd.Series(np.asarray(scores, dtype="float64"))
    if groups is None:
        ranks = series.rank(method="min", ascending=False, na_option="keep")
    else:
        keys = pd.Series(groups).astype(object).where(pd.Series(groups).notna(), "\0none")
        ranks = series.groupby(keys.to_numpy(), sort=False).rank(
            method="min", ascending=False, na_option="keep"
        )
    return np.array(ranks, dtype="float64")


def competition_rank_rows(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """:func:`competition_rank` of every row of ``scores`` (draws × units) at once, within the
    groups of ``groups`` (one per unit): per group, one sort of every row, no loop over rows.

    Returns float64 ranks of the same shape (NaN where the score is NaN).
    """
    scores = np.asarray(scores, dtype="float64")
    out = np.full(scores.shape, np.nan)
    keys = pd.Series(groups).astype(object).where(pd.Series(groups).notna(), "\0none")
    codes = pd.factorize(keys)[0]
    for code in range(codes.max() + 1 if len(codes) else 0):
        columns = np.flatnonzero(codes == code)
        block = scores[:, columns]
        missing = np.isnan(block)
        key = np.where(missing, np.inf, -block)  # best first; no score last
        order = np.argsort(key, axis=1, kind="stable")
        ordered = np.take_along_axis(key, order, axis=1)
        places = np.arange(1, len(columns) + 1, dtype="float64")
        first = np.ones(ordered.shape, dtype=bool)
        first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        ranked = np.maximum.accumulate(np.where(first, places, 0.0), axis=1)
        ranks = np.empty_like(ranked)
        np.put_along_axis(ranks, order, ranked, axis=1)
        out[:, columns] = np.where(missing, np.nan, ranks)
    return out
