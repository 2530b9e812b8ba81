"""Published indices reproduced end to end through the CLI, as a user would run them.

The data are read from ../shared/validation (never copied into the project). Tolerances are
the ones each case's README states.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from par_index.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _score_csv(data: Path, criteria: str, out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(app, ["score", str(data), "--criteria",
                                      str(ROOT / "criteria" / criteria), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, dtype={"unit_id": str, "group": str}, encoding="utf-8-sig")


def test_pci_2016_totals_ranks_and_tiers(validation_dir: Path, tmp_path: Path) -> None:
    source = validation_dir / "vcci_pci_2016" / "pci_2016.csv"
    ranking = _score_csv(source, "pci-2016.yaml", tmp_path / "r.csv")
    published = pd.read_csv(source, dtype={"pci_id": str})
    merged = ranking.merge(published, left_on="unit_id", right_on="pci_id", validate="1:1")
    assert len(merged) == 63
    assert (merged["score"] - merged["pci_published"]).abs().max() <= 1e-4
    assert (merged["score"].round(2) == merged["pci_published"].round(2)).all()
    assert (merged["rank"] == merged["rank_published"]).all()
    assert (merged["tier"] == merged["tier_published"]).all()


def test_papi_2016_totals_and_rank_order(validation_dir: Path, tmp_path: Path) -> None:
    source = validation_dir / "undp_papi_2016" / "papi_2016.csv"
    ranking = _score_csv(source, "papi-2016.yaml", tmp_path / "r.csv")
    published = pd.read_csv(source, dtype={"province_id": str})
    merged = ranking.merge(published, left_on="unit_id", right_on="province_id",
                           validate="1:1")
    assert len(merged) == 63
    assert (merged["score"] - merged["papi_published"]).abs().max() <= 1e-6
    published_rank = merged["papi_published"].rank(method="min", ascending=False)
    assert (merged["rank"] == published_rank).all()


def test_pci_json_output_equals_library(validation_dir: Path, tmp_path: Path) -> None:
    import par_index as pi

    source = validation_dir / "vcci_pci_2016" / "pci_2016.csv"
    criteria = ROOT / "criteria" / "pci-2016.yaml"
    result = CliRunner().invoke(app, ["score", str(source), "-c", str(criteria), "--json"])
    assert result.exit_code == 0, result.output
    printed = pd.DataFrame(json.loads(result.stdout))
    library = pi.score(criteria, {"pci": source}).ranking
    assert list(printed["unit_id"]) == list(library["unit_id"])
    np.testing.assert_array_equal(printed["score"].to_numpy(), library["score"].to_numpy())
    assert list(printed["rank"]) == [int(r) for r in library["rank"]]
