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
