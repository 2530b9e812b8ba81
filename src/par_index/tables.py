"""The typed input tables that the engine scores: what io produces and compute consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

UNIT = "unit_id"
"""Canonical unit-id column added to every prepared table."""

UNIT_COLUMNS = ["unit_id", "unit_name", "level", "group"]


@dataclass(frozen=True)
class InputData:
    """Prepared inputs for one criteria file.

    ``units`` has one row per unit (``unit_id``, ``unit_name``, ``level``, ``group``);
    ``tables`` maps each input name to a frame with ``unit_id``, ``__row__`` and the columns the
    criteria read, already typed as float64 (blank → NaN; yes/no → 1/0; survey "don't know" →
    NaN, counted in ``accounting``). ``sources`` describes each file (path, sheet, SHA-256).
    """

    units: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounting: list[dict[str, Any]] = field(default_factory=list)
